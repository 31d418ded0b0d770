// The functions are type-checked against the core's generated `.d.ts` (the boundary contract)
// and the @forge packages' own types: `tsc --noEmit` over src/ with strict JSDoc checking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('src/ type-checks against the core contract (tsc --noEmit, strict)', async () => {
  const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  let output = '';
  try {
    await promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', path.join(REPO, 'tsconfig.json')], { cwd: REPO, maxBuffer: 8 * 1024 * 1024 });
  } catch (error) {
    output = `${error.stdout ?? ''}${error.stderr ?? ''}` || String(error);
  }
  assert.equal(output, '', output);
});
