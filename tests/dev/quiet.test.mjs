// The test output says what failed and nothing else: no function log lines (the host keeps
// them), no warning from Node about the generated glue's module type, no note from babel.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The TAP output of `node --test <file>`, with its exit status. */
function runTests(file) {
  // Without the runner's own marker, the child reports TAP as it would to a person.
  const { NODE_TEST_CONTEXT, ...env } = process.env;
  const result = spawnSync(process.execPath, ['--test', file], { cwd: REPO, env, encoding: 'utf8', timeout: 240_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Lines the runner reports as the file's own output (`# ...`), minus its summary. */
function strayLines(output) {
  const summary = /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms|Subtest:) ?/;
  return output.split('\n').filter((line) => /^\s*# /.test(line) && !summary.test(line.trim()));
}

test('importing the generated glue in Node prints no module-type warning', () => {
  const result = spawnSync(process.execPath, ['-e', "Promise.all([import('./src/generated/core.js'), import('./src/generated/console.js')])"], {
    cwd: REPO,
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /MODULE_TYPELESS_PACKAGE_JSON|Warning/);
});

for (const file of ['tests/core/embedding.test.mjs', 'tests/core/binding.test.mjs', 'tests/app/admin.test.mjs']) {
  test(`${file} passes with nothing but test results in its output`, () => {
    const { status, output } = runTests(file);
    assert.equal(status, 0, output);
    assert.deepEqual(strayLines(output), []);
  });
}
