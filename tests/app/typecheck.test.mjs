// The functions and the Custom UI are type-checked against the core's generated `.d.ts` (the
// boundary contract, declared from the Rust types) and their libraries' own types:
// `tsc --noEmit` over src/ with strict JSDoc checking, and over static/ in checkJs mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

/** tsc's complaints, or '' when it has none. */
async function tsc(args) {
  try {
    await promisify(execFile)(process.execPath, [TSC, '--noEmit', ...args], { cwd: REPO, maxBuffer: 8 * 1024 * 1024 });
    return '';
  } catch (error) {
    return `${error.stdout ?? ''}${error.stderr ?? ''}` || String(error);
  }
}

test('src/ type-checks against the core contract (tsc --noEmit, strict)', async () => {
  const output = await tsc(['-p', path.join(REPO, 'tsconfig.json')]);
  assert.equal(output, '', output);
});

// The projects skip declaration files (skipLibCheck), where a signature naming a type that no
// Rust type declares would silently read as `any`: the modules' own `.d.ts` are checked here.
test("the core modules' .d.ts declare every type their signatures name", async () => {
  const files = ['core.d.ts', 'console.d.ts'].map((name) => path.join(REPO, 'src', 'generated', name));
  const output = await tsc(['--strict', '--target', 'ES2022', '--module', 'ESNext', '--moduleResolution', 'Bundler', ...files]);
  assert.equal(output, '', output);
});

test('static/ type-checks against the core contract and its libraries (tsc --noEmit, checkJs)', async () => {
  const output = await tsc(['-p', path.join(REPO, 'static', 'tsconfig.json')]);
  assert.equal(output, '', output);
});
