// The shared vectors (tests/vectors/*.json), run against the built wasm package after bundling
// it with the Forge bundler's own webpack configuration: the same cases `cargo test` runs natively.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledCore } from '../support/bundled-core.mjs';
import { subsetMismatch } from '../support/match.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const vectorDir = path.join(root, 'tests/vectors');
let core;

before(async () => {
  core = await bundledCore('core');
});

/** Each case its own installation, so no memory carries over from another case. */
let installations = 0;

/** The planners' names in the vectors, and their exported start and next. */
const PLANS = { delivery: ['deliveryStart', 'deliveryNext'], token: ['tokenStart', 'tokenNext'] };

/**
 * A planner on its vectors: the first step from `args[0]` (its body crossing on its own, as the
 * executor passes it), then each next step from the one before and the results that follow.
 */
function plan([start, next], [input, ...results]) {
  const { body = '', memory: _kept, ...rest } = input;
  let step = core[start](body, `vectors-${++installations}`, rest);
  const steps = [step];
  for (const found of results) {
    assert.ok(step.state !== undefined, 'the plan goes on while results follow');
    step = core[next](step.state, found);
    steps.push(step);
  }
  return steps;
}

/** A vector group's function, run as the functions call it: a planner, or an admin action's step. */
function call(name, args) {
  if (PLANS[name]) return plan(PLANS[name], args);
  return core[name](...args);
}

const files = fs
  .readdirSync(vectorDir)
  .filter((f) => f.endsWith('.json'))
  .sort();

test('there are vectors for every module', () => {
  for (const f of ['settings', 'templates', 'transitions', 'jira', 'webhook', 'state', 'incode', 'delivery']) {
    assert.ok(files.includes(`${f}.json`), `tests/vectors/${f}.json exists`);
  }
});

// What no Forge function calls is not exported: the planners' parts (parsing, requests, the
// event decision, templates, settings validation) are held to their vectors natively only
// (`cargo test`: rust/tests/core_vectors.rs and webhook_vectors.rs), and through the planners
// here. A group runs in the bundle when the functions call its function.
const EXPORTED = new Set([...Object.keys(PLANS), 'adminStart', 'adminNext', 'privacyStart']);
const nativeOnly = (/** @type {string} */ name) => !EXPORTED.has(name);

test('the functions whose vectors run natively only are not in the bundle', () => {
  const names = new Set(
    files.flatMap((file) => JSON.parse(fs.readFileSync(path.join(vectorDir, file), 'utf8')).groups.map((g) => g.function)).filter(nativeOnly),
  );
  assert.ok(names.size >= 20, `the vectors name the core's parts (${[...names].join(', ')})`);
  for (const name of names) {
    const exported = name.startsWith('Core#') ? core.Core : core[name];
    assert.equal(exported, undefined, name);
  }
  for (const name of EXPORTED) {
    if (!PLANS[name]) assert.equal(typeof core[name], 'function', name);
  }
  for (const [start, next] of Object.values(PLANS)) assert.deepEqual([typeof core[start], typeof core[next]], ['function', 'function']);
});

// A webtrigger's memory stays in the module between invocations (rust/src/binding/core_api.rs):
// the cases that start from a kept memory run natively only, and the module answers a step's
// reply as the response alone.
const keepsMemory = (/** @type {string} */ name, /** @type {any} */ c) => Boolean(PLANS[name] && c.args[0]?.memory);
const responsesOf = (/** @type {any} */ steps) =>
  Array.isArray(steps) ? steps.map((step) => (step?.reply?.response ? { ...step, reply: step.reply.response } : step)) : steps;

for (const file of files) {
  const { groups } = JSON.parse(fs.readFileSync(path.join(vectorDir, file), 'utf8'));
  for (const group of groups.filter((g) => !nativeOnly(g.function))) {
    test(`${file}: ${group.function}`, () => {
      assert.ok(group.cases.length > 0);
      for (const c of group.cases.filter((c) => !keepsMemory(group.function, c))) {
        const actual = call(group.function, c.args);
        const mismatch = subsetMismatch(actual, PLANS[group.function] ? responsesOf(c.expect) : c.expect);
        assert.equal(mismatch, null, `${file} ${group.function} "${c.name}": ${mismatch}`);
      }
    });
  }
}
