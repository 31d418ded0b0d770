// The benchmark's plain-JavaScript baseline (bench/baseline/) must make the same decisions as the
// core, or the comparison means nothing. It is held to the shared vectors of every function a
// webhook decision uses, and to the core itself on the benchmark's whole corpus.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledCore } from '../support/bundled-core.mjs';
import { subsetMismatch } from '../support/match.mjs';
import * as baseline from '../../bench/baseline/index.mjs';
import { buildCorpus } from '../../bench/corpus.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const vectorDir = path.join(root, 'tests/vectors');

// Functions a webhook decision does not use are not part of the baseline: the token endpoint
// (issueWebhookToken), the send path (newVerification) and save-time validation, whose messages
// quote the Rust Handlebars parser (validateTemplate). A Core's rendering of the comment is held
// to the baseline's through the decisions on the whole corpus (below), which carry the comments.
const COVERED = {
  'webhook.json': ['receiveWebhook'],
  'state.json': ['statusText', 'Core#applyEvent', 'expireIfDue', 'cancelVerification'],
  'templates.json': ['renderTemplate'],
};

function call(impl, name, args) {
  if (name.startsWith('Core#')) {
    const [settings, ...rest] = args;
    // Settings as saving them stores them: the core module reads custom templates compiled.
    const instance = new impl.Core(impl === core ? core.compileTemplates(settings) : settings);
    try {
      return instance[name.slice(5)](...rest);
    } finally {
      instance.free();
    }
  }
  return impl[name](...args);
}

for (const [file, functions] of Object.entries(COVERED)) {
  const { groups } = JSON.parse(fs.readFileSync(path.join(vectorDir, file), 'utf8'));
  for (const name of functions) {
    test(`baseline ${file}: ${name}`, () => {
      const group = groups.find((g) => g.function === name);
      assert.ok(group && group.cases.length > 0, `${file} has cases for ${name}`);
      for (const c of group.cases) {
        const mismatch = subsetMismatch(call(baseline, name, c.args), c.expect);
        assert.equal(mismatch, null, `${file} ${name} "${c.name}": ${mismatch}`);
      }
    });
  }
}

let core;
before(async () => {
  core = await bundledCore('bench-baseline');
});

test('on the whole benchmark corpus the baseline decides exactly as the core', () => {
  const corpus = buildCorpus({ seed: 7, compileTemplates: core.compileTemplates });
  assert.ok(corpus.cases.length >= 200);
  const kinds = new Set();
  const outcomes = new Set();
  for (const settings of corpus.settings) {
    const fromCore = new core.Core(settings.value);
    const fromBaseline = new baseline.Core(settings.value);
    for (const c of corpus.cases.filter((x) => x.settings === settings.id)) {
      const input = { ...c.input, auth: settings.value.webhookAuth, secret: corpus.secret };
      const expected = core.receiveWebhook(input);
      assert.deepStrictEqual(baseline.receiveWebhook(input), expected, `receipt of ${c.label}`);
      kinds.add(expected.kind === 'event' ? expected.event.type : `${expected.kind}:${expected.reason}`);
      if (expected.kind !== 'event') continue;
      const decision = core.applyEvent(fromCore, c.verification, expected.event, c.input.nowMs);
      assert.deepStrictEqual(fromBaseline.applyEvent(c.verification, expected.event, c.input.nowMs), decision, `decision on ${c.label}`);
      if (decision.kind === 'applied' && decision.actions.outcome) outcomes.add(decision.actions.outcome);
    }
    fromCore.free();
  }
  // The corpus exercises every event type, rejections and every outcome's comment.
  for (const kind of ['started', 'progress', 'succeeded', 'failed', 'pendingReview', 'identityEnrolled', 'reviewApproved', 'reviewRejected']) {
    assert.ok(kinds.has(kind), `the corpus has a ${kind} event`);
  }
  assert.ok(
    [...kinds].some((k) => k.startsWith('rejected:')),
    'the corpus has rejected deliveries',
  );
  assert.deepEqual([...outcomes].sort(), ['failed', 'manualReview', 'passed']);
});

test('the baseline is not the core: it renders with handlebars.js and hashes with node:crypto', () => {
  const sources = fs
    .readdirSync(path.join(root, 'bench/baseline'))
    .map((f) => fs.readFileSync(path.join(root, 'bench/baseline', f), 'utf8'))
    .join('\n');
  assert.match(sources, /from 'handlebars'/);
  assert.match(sources, /timingSafeEqual/);
  assert.doesNotMatch(sources, /generated\/core|src\/core/);
});
