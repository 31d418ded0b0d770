// The benchmark's two measured functions (bench/entries/), bundled as the benchmark bundles them:
// the core's runs the webhook's planner over in-memory steps, and both must come to the same
// outcome on every delivery of the corpus, or the comparison means nothing.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { bundleForge } from '../../dev/forge-bundle.mjs';
import { buildCorpus } from '../../bench/corpus.mjs';

const require = createRequire(import.meta.url);
const { verdictOf, postedComment } = require('../../bench/verdict.cjs');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let bundles;
before(async () => {
  const files = await bundleForge({
    appDir: root,
    entries: { core: 'bench/entries/core.js', baseline: 'bench/entries/baseline.js', console: 'bench/entries/console.js' },
    outDir: path.join(root, 'build/test-bundles/bench-entries'),
  });
  bundles = Object.fromEntries(Object.entries(files).map(([name, file]) => [name, require(file)]));
});

/** A fresh corpus: new settings objects, so new installations for the core's entry. */
function corpus() {
  const built = buildCorpus({ seed: 7, compileTemplates: bundles.console.compileTemplates });
  const settings = Object.fromEntries(built.settings.map((s) => [s.id, s.value]));
  return { ...built, args: (c) => [settings[c.settings], built.secret, c.input, c.verification, c.input.nowMs] };
}

test('on the whole corpus the planner comes to the baseline’s outcome, and posts the same comment', () => {
  const { cases, args } = corpus();
  const types = new Set(cases.map((c) => c.label.split('/')[1]));
  for (const type of ['started', 'progress', 'succeeded', 'failed', 'pendingReview', 'identityEnrolled', 'reviewApproved', 'reviewRejected']) {
    assert.ok(types.has(type), `the corpus has ${type} events`);
  }
  const verdicts = new Set();
  for (const c of cases) {
    const planned = bundles.core.decide(...args(c));
    const decided = bundles.baseline.decide(...args(c));
    const verdict = verdictOf(planned);
    assert.equal(verdict, verdictOf(decided), c.label);
    verdicts.add(verdict);
    const comment = postedComment(planned.effects);
    if (comment) {
      const expected = decided.decision.actions.comment;
      assert.equal(comment.path, expected.path, c.label);
      assert.deepStrictEqual(JSON.parse(comment.body), JSON.parse(expected.body), c.label);
    }
  }
  for (const verdict of [
    '200 accepted comment:passed',
    '200 accepted comment:failed',
    '200 accepted comment:manualReview',
    '200 accepted',
    '200 duplicate',
    '401 rejected',
  ]) {
    assert.ok(verdicts.has(verdict), `the corpus comes to ${verdict} (${[...verdicts].join(', ')})`);
  }
});

test('an installation’s first delivery reads the settings (W1, three steps); the next, within 10 s, uses them kept (two)', () => {
  const { cases, args } = corpus();
  const [first, second] = cases.filter((c) => c.settings === 'hmac-hex-timestamp' && !c.forged);
  assert.ok(second.input.nowMs - first.input.nowMs < 10_000);
  const a = bundles.core.decide(...args(first));
  assert.deepEqual([a.steps, a.readSettings, a.response.statusCode], [3, true, 200]);
  const b = bundles.core.decide(...args(second));
  assert.deepEqual([b.steps, b.readSettings, b.response.statusCode], [2, false, 200]);
});

test('what crossed is collected for the crossing’s floor: each input handed in, each step handed out', () => {
  const { cases, args } = corpus();
  const c = cases.find((x) => x.settings === 'hmac-hex-timestamp' && !x.forged);
  const crossed = { inputs: [], steps: [] };
  const answer = bundles.core.decide(...args(c), crossed);
  // The start's input and each step's results went in; the start and each next step came out.
  assert.equal(crossed.inputs.length, answer.steps + 1);
  assert.equal(crossed.steps.length, answer.steps + 1);
  assert.equal(crossed.inputs[0].headers, c.input.headers);
  assert.ok(crossed.steps.slice(0, -1).every((step) => typeof step.state === 'number'));
  const last = crossed.steps.at(-1);
  assert.equal(last.state ?? null, null);
  assert.deepEqual(last.reply, answer.response);
  // Each step's results answer its reads: W1's hold the stored settings, W2's the record.
  const [w1, w2] = crossed.inputs.slice(1);
  assert.equal(w1.reads.length, crossed.steps[0].reads.length);
  assert.equal(w2.reads[0].value, c.verification);
});

test('a forged delivery refused with kept settings reads them again before it is refused', () => {
  const { cases, args } = corpus();
  const forged = cases.find((c) => c.forged);
  const before = cases.find(
    (c) => c.settings === forged.settings && !c.forged && forged.input.nowMs - c.input.nowMs < 10_000 && c.input.nowMs < forged.input.nowMs,
  );
  assert.equal(bundles.core.decide(...args(before)).response.statusCode, 200);
  const refused = bundles.core.decide(...args(forged));
  assert.deepEqual([refused.response.statusCode, refused.readSettings], [401, true]);
});

test('rounds over the corpus, each as a new instance, come to the same outcomes every time', () => {
  // The corpus's clock starts again each round; a memory kept across would count the same forged
  // deliveries again each round until the throttle answered everything 429.
  const { cases, args } = corpus();
  const round = () => {
    bundles.core.newInstance();
    return cases.map((c) => verdictOf(bundles.core.decide(...args(c))));
  };
  const first = round();
  for (let r = 1; r < 12; r += 1) assert.deepEqual(round(), first, `round ${r}`);
});

test('the core’s entry calls only the planner and the effects adapter of the core module', () => {
  const source = fs.readFileSync(path.join(root, 'bench/entries/core.js'), 'utf8');
  const imports = [...source.matchAll(/^import .*$/gm)].map((m) => m[0]);
  assert.deepEqual(imports, ["import { deliveryNext, deliveryStart, effectBegin } from '../../src/core.js';"]);
});
