// The local run rebuilds only what changed: the wasm core, each Custom UI page and the function
// bundles are skipped while their inputs (by content) and outputs are what the last build left,
// and rebuilt after any change, so a stale output is never served.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { digest, isFresh, writeStamp } from '../../dev/build-stamp.mjs';
import { loadFunctions } from '../../dev/host/functions.mjs';
import { readManifest } from '../../dev/host/manifest.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const temps = [];
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(parent = os.tmpdir()) {
  fs.mkdirSync(parent, { recursive: true });
  const dir = fs.mkdtempSync(path.join(parent, 'build-cache-'));
  temps.push(dir);
  return dir;
}

function write(root, file, text) {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), text);
}

// A whole second, so that a time set again later is exactly the same.
const PINNED = new Date(Date.UTC(2026, 0, 1));

/** Rewrites `file` with `text`, its modification time pinned before and after. */
function rewriteKeepingTime(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  fs.utimesSync(file, PINNED, PINNED);
}

describe('build stamps', () => {
  const root = tempDir();
  write(root, 'in/a.txt', 'alpha');
  write(root, 'in/sub/b.txt', 'beta');
  write(root, 'in/node_modules/pkg/x.js', 'installed');
  write(root, 'out/result.txt', 'built');
  rewriteKeepingTime(path.join(root, 'in/a.txt'), 'alpha');
  rewriteKeepingTime(path.join(root, 'out/result.txt'), 'built');
  const spec = { inputs: ['in', 'missing.toml'], outputs: ['out'], extra: ['tool 1.0'] };

  it('is fresh after a build, and stays fresh when only times change', () => {
    assert.equal(isFresh(root, 'stamp.json', spec), false, 'no stamp yet');
    writeStamp(root, 'stamp.json', spec);
    assert.equal(isFresh(root, 'stamp.json', spec), true);
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(root, 'in/a.txt'), later, later);
    write(root, 'in/node_modules/pkg/x.js', 'reinstalled');
    assert.equal(isFresh(root, 'stamp.json', spec), true);
  });

  it('goes stale on a changed, added or removed input, even with the old time', () => {
    const original = digest(root, spec.inputs, spec.extra);
    rewriteKeepingTime(path.join(root, 'in/a.txt'), 'ALPHA');
    assert.equal(isFresh(root, 'stamp.json', spec), false, 'same time and size, other content');
    rewriteKeepingTime(path.join(root, 'in/a.txt'), 'alpha');
    assert.equal(digest(root, spec.inputs, spec.extra), original);
    write(root, 'in/sub/c.txt', 'gamma');
    assert.equal(isFresh(root, 'stamp.json', spec), false, 'a new file');
    fs.rmSync(path.join(root, 'in/sub/c.txt'));
    write(root, 'missing.toml', '');
    assert.equal(isFresh(root, 'stamp.json', spec), false, 'a file that was missing');
    fs.rmSync(path.join(root, 'missing.toml'));
    assert.equal(isFresh(root, 'stamp.json', { ...spec, extra: ['tool 1.1'] }), false, 'another tool version');
    assert.equal(isFresh(root, 'stamp.json', spec), true);
  });

  it('goes stale when an output is edited or deleted', () => {
    rewriteKeepingTime(path.join(root, 'out/result.txt'), 'edited');
    assert.equal(isFresh(root, 'stamp.json', spec), false);
    fs.rmSync(path.join(root, 'out'), { recursive: true });
    assert.equal(isFresh(root, 'stamp.json', spec), false);
  });
});

describe('dev/build-core.sh', () => {
  // A copy of the script in a small repository whose toolchain only records what it is asked
  // to do: `cargo` writes a module, `wasm-bindgen` writes the glue from it.
  const repo = tempDir();
  const bin = path.join(repo, 'fake-bin');
  const calls = path.join(repo, 'calls.log');
  for (const file of ['dev/build-core.sh', 'dev/build-stamp.mjs']) write(repo, file, fs.readFileSync(path.join(REPO, file), 'utf8'));
  fs.chmodSync(path.join(repo, 'dev/build-core.sh'), 0o755);
  write(repo, 'Cargo.toml', '[package]\nname = "incode-verify-core"\n');
  write(repo, 'Cargo.lock', '# lock\n');
  rewriteKeepingTime(path.join(repo, 'rust/src/lib.rs'), 'pub fn decide() {}\n');
  write(
    repo,
    'fake-bin/cargo',
    `#!/bin/sh
echo "cargo $*" >> "${calls}"
mkdir -p target/wasm32-unknown-unknown/release
printf '\\0asm%s' "$*" > target/wasm32-unknown-unknown/release/incode_verify_core.wasm
`,
  );
  write(repo, 'fake-bin/rustc', '#!/bin/sh\necho "rustc 1.99.0 (fake)"\n');
  write(
    repo,
    'fake-bin/wasm-bindgen',
    `#!/bin/sh
[ "$1" = "--version" ] && { echo "wasm-bindgen 0.2.0"; exit 0; }
echo "wasm-bindgen $*" >> "${calls}"
while [ $# -gt 1 ]; do
  case "$1" in --out-dir) dir=$2; shift ;; --out-name) name=$2; shift ;; esac
  shift
done
mkdir -p "$dir"
echo "export default new URL('\${name}_bg.wasm', import.meta.url);" > "$dir/$name.js"
echo "export {};" > "$dir/$name.d.ts"
cp "$1" "$dir/\${name}_bg.wasm"
`,
  );
  for (const tool of ['cargo', 'rustc', 'wasm-bindgen']) fs.chmodSync(path.join(bin, tool), 0o755);

  function build() {
    fs.rmSync(calls, { force: true });
    const result = spawnSync('bash', ['dev/build-core.sh'], {
      cwd: repo,
      encoding: 'utf8',
      env: { PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: repo },
    });
    assert.equal(result.status, 0, `build-core.sh failed:\n${result.stdout}\n${result.stderr}`);
    return { ...result, calls: fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : [] };
  }

  it('builds both modules the first time, and skips the toolchain while nothing changed', () => {
    const first = build();
    assert.equal(first.calls.filter((c) => c.startsWith('cargo build')).length, 2, first.calls.join('\n'));
    const generated = fs.readFileSync(path.join(repo, 'src/generated/console-bytes.js'), 'utf8');
    const second = build();
    assert.deepEqual(second.calls, [], 'no cargo or wasm-bindgen run');
    assert.match(second.stderr, /up to date/);
    assert.equal(fs.readFileSync(path.join(repo, 'src/generated/console-bytes.js'), 'utf8'), generated);
  });

  it("rebuilds after a change in the Rust sources, even one that keeps the file's time", () => {
    rewriteKeepingTime(path.join(repo, 'rust/src/lib.rs'), 'pub fn decided() {}\n');
    assert.equal(build().calls.filter((c) => c.startsWith('cargo build')).length, 2);
    assert.deepEqual(build().calls, []);
  });

  it('rebuilds when a generated file was removed or edited, and after a change of the cargo configuration', () => {
    fs.rmSync(path.join(repo, 'src/generated/core.d.ts'));
    assert.equal(build().calls.filter((c) => c.startsWith('cargo build')).length, 2);
    fs.appendFileSync(path.join(repo, 'src/generated/core.js'), '// edited\n');
    assert.equal(build().calls.filter((c) => c.startsWith('cargo build')).length, 2);
    write(repo, '.cargo/config.toml', '[build]\n');
    assert.equal(build().calls.filter((c) => c.startsWith('cargo build')).length, 2);
    assert.deepEqual(build().calls, []);
  });
});

describe('static/scripts/build.mjs', () => {
  it("names each page's own sources, the shared code and the lockfile as its inputs, and its dist/ as output", async () => {
    const { pageSpec } = await import('../../static/scripts/build.mjs');
    const spec = pageSpec('portal-panel');
    const staticDir = path.join(REPO, 'static');
    for (const input of ['portal-panel', 'shared', 'package-lock.json', 'scripts/build.mjs']) {
      assert.ok(spec.inputs.includes(path.join(staticDir, input)), `${input} in ${spec.inputs.join(', ')}`);
    }
    assert.ok(!spec.inputs.some((p) => p.includes('issue-panel')), 'another page is not an input');
    assert.deepEqual(spec.outputs, [path.join(staticDir, 'portal-panel', 'dist')]);
  });

  it('skips a page whose sources did not change since its last build', () => {
    const run = () => spawnSync(process.execPath, ['scripts/build.mjs', 'portal-panel'], { cwd: path.join(REPO, 'static'), encoding: 'utf8' });
    const first = run();
    assert.equal(first.status, 0, first.stderr);
    const built = fs.statSync(path.join(REPO, 'static/portal-panel/dist/index.html')).mtimeMs;
    const started = Date.now();
    const second = run();
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /portal-panel\/dist is up to date/);
    assert.ok(Date.now() - started < 5_000, `the check took ${Date.now() - started} ms`);
    assert.equal(fs.statSync(path.join(REPO, 'static/portal-panel/dist/index.html')).mtimeMs, built, 'dist/ untouched');
  });
});

describe('the function bundles', () => {
  it('are rebuilt when a source changes, even when its size and time stay the same', async () => {
    const app = tempDir(path.join(REPO, 'build', 'tests'));
    fs.cpSync(path.join(REPO, 'tests/host/fixture'), app, { recursive: true, filter: (src) => path.basename(src) !== 'build' });
    const manifest = readManifest(app);
    const outDir = path.join(app, 'build', 'forge');
    const entry = path.join(app, 'src', 'index.js');
    const original = fs.readFileSync(entry, 'utf8');
    rewriteKeepingTime(entry, original);
    await loadFunctions({ appDir: app, manifest, outDir });
    assert.equal((await loadFunctions({ appDir: app, manifest, outDir })).rebuilt, false);
    rewriteKeepingTime(entry, original.replace("define('whoami'", "define('whoIam'"));
    const changed = await loadFunctions({ appDir: app, manifest, outDir });
    assert.equal(changed.rebuilt, true, 'the edited source was bundled again');
    assert.match(fs.readFileSync(path.join(outDir, 'index.cjs'), 'utf8'), /whoIam/);
  });
});
