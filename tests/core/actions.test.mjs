// The planners' vectors (tests/vectors/actions/*.json), run against the built wasm modules as the
// Forge functions load them: the same cases `cargo test` runs natively (rust/tests/action_vectors.rs).
// Each step's state crosses to JS and back, as it does between the executor's round trips.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledCore } from '../support/bundled-core.mjs';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../vectors/actions');
let core;

before(async () => {
  core = await bundledCore('actions');
});

/**
 * `expected` is a subset of `actual`; an expected null also matches an absent key (a step
 * without `state` is the last).
 * @returns {string | null}
 */
function mismatch(actual, expected, at = '$') {
  if (expected === null) return actual === null || actual === undefined ? null : `${at}: expected null, got ${JSON.stringify(actual)}`;
  if (typeof expected !== 'object') return actual === expected ? null : `${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${at}: expected ${expected.length} elements, got ${JSON.stringify(actual)}`;
    for (let i = 0; i < expected.length; i += 1) {
      const m = mismatch(actual[i], expected[i], `${at}[${i}]`);
      if (m) return m;
    }
    return null;
  }
  if (actual === null || typeof actual !== 'object') return `${at}: expected an object, got ${JSON.stringify(actual)}`;
  for (const key of Object.keys(expected)) {
    const m = mismatch(actual[key], expected[key], `${at}.${key}`);
    if (m) return m;
  }
  return null;
}

const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

test('every planner has vectors', () => {
  assert.deepEqual(files, ['cancel.json', 'gate.json', 'open.json', 'portal.json', 'send.json', 'sweep.json']);
});

for (const file of files) {
  const { planner, cases } = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  test(`${file}: ${planner}`, () => {
    const start = core[`${planner}Start`];
    const next = core[`${planner}Next`];
    assert.equal(typeof start, 'function', `${planner}Start is exported`);
    for (const c of cases) {
      let step = start(c.start);
      c.steps.forEach((expected, index) => {
        if (index > 0) step = next(step.state, expected.results);
        const m = mismatch(step, expected.expect);
        assert.equal(m, null, `${planner} "${c.name}" step ${index}: ${m}`);
      });
    }
  });
}
