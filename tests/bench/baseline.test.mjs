// The benchmark's plain-JavaScript baseline (bench/baseline/) must make the same decisions as the
// core, or the comparison means nothing. It is held here to the shared vectors of every function a
// webhook decision uses, and to the core's planner on the benchmark's whole corpus in
// entries.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { subsetMismatch } from '../support/match.mjs';
import * as baseline from '../../bench/baseline/index.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const vectorDir = path.join(root, 'tests/vectors');

// Functions a webhook decision does not use are not part of the baseline: the token endpoint
// (issueWebhookToken), the send path (newVerification) and save-time validation, whose messages
// quote the Rust Handlebars parser (validateTemplate). Its comments are held to the planner's on
// the whole corpus (entries.test.mjs).
const COVERED = {
  'webhook.json': ['receiveWebhook'],
  'state.json': ['statusText', 'Core#applyEvent', 'expireIfDue', 'cancelVerification'],
  'templates.json': ['renderTemplate'],
};

function call(name, args) {
  if (name.startsWith('Core#')) {
    const [settings, ...rest] = args;
    return new baseline.Core(settings)[name.slice(5)](...rest);
  }
  return baseline[name](...args);
}

for (const [file, functions] of Object.entries(COVERED)) {
  const { groups } = JSON.parse(fs.readFileSync(path.join(vectorDir, file), 'utf8'));
  for (const name of functions) {
    test(`baseline ${file}: ${name}`, () => {
      const group = groups.find((g) => g.function === name);
      assert.ok(group && group.cases.length > 0, `${file} has cases for ${name}`);
      for (const c of group.cases) {
        const mismatch = subsetMismatch(call(name, c.args), c.expect);
        assert.equal(mismatch, null, `${file} ${name} "${c.name}": ${mismatch}`);
      }
    });
  }
}

test('the baseline is not the core: it renders with handlebars.js and hashes with node:crypto', () => {
  const sources = fs
    .readdirSync(path.join(root, 'bench/baseline'))
    .map((f) => fs.readFileSync(path.join(root, 'bench/baseline', f), 'utf8'))
    .join('\n');
  assert.match(sources, /from 'handlebars'/);
  assert.match(sources, /timingSafeEqual/);
  assert.doesNotMatch(sources, /generated\/core|src\/core/);
});
