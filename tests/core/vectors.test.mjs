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

function call(name, args) {
  if (PLANS[name]) return plan(PLANS[name], args);
  if (name.startsWith('Core#')) {
    // A Core reads settings as saving them leaves them: custom templates compiled (the core
    // module has no template parser).
    const [settings, ...rest] = args;
    const instance = new core.Core(core.compileTemplates(settings));
    const method = name.slice(5);
    try {
      // `applyEvent` is the Core's method as the shims call it: `src/core.js` puts it together
      // from `Core#decideEvent`.
      return method === 'applyEvent' ? core.applyEvent(instance, ...rest) : instance[method](...rest);
    } finally {
      instance.free();
    }
  }
  assert.equal(typeof core[name], 'function', `the package exports ${name}`);
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

// What no Forge function calls is not exported (the webhook's core module keeps within its size
// budget): its vectors run natively only (`cargo test`, rust/tests/core_vectors.rs and
// webhook_vectors.rs). The token webtrigger runs in its planner (`token` in delivery.json).
const NATIVE_ONLY = new Set(['Core#renderComment', 'issueWebhookToken']);

test('the functions whose vectors run natively only are not in the bundle', () => {
  for (const name of NATIVE_ONLY) {
    const exported = name.startsWith('Core#') ? core.Core.prototype[name.slice('Core#'.length)] : core[name];
    assert.equal(exported, undefined, name);
  }
});

// A webtrigger's memory stays in the module between invocations (rust/src/binding/core_api.rs):
// the cases that start from a kept memory run natively only, and the module answers a step's
// reply as the response alone.
const keepsMemory = (/** @type {string} */ name, /** @type {any} */ c) => Boolean(PLANS[name] && c.args[0]?.memory);
const responsesOf = (/** @type {any} */ steps) =>
  Array.isArray(steps) ? steps.map((step) => (step?.reply?.response ? { ...step, reply: step.reply.response } : step)) : steps;

for (const file of files) {
  const { groups } = JSON.parse(fs.readFileSync(path.join(vectorDir, file), 'utf8'));
  for (const group of groups.filter((g) => !NATIVE_ONLY.has(g.function))) {
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
