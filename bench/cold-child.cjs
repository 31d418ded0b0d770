// One cold start, in a fresh Node process: load the bundled function, decide the first webhook.
// Usage: node bench/cold-child.cjs <bundle.cjs> <case.json>. Prints one JSON line.
'use strict';
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');

const [bundle, caseFile] = process.argv.slice(2);
const c = JSON.parse(fs.readFileSync(caseFile, 'utf8'));
const started = performance.now();
const fn = require(bundle);
const loaded = performance.now();
const result = fn.decide(c.settings, c.secret, c.request, c.verification, c.nowMs);
const decided = performance.now();
process.stdout.write(`${JSON.stringify({
  loadMs: loaded - started,
  firstDecisionMs: decided - loaded,
  coldMs: decided - started,
  sinceProcessStartMs: decided,
  verdict: result.decision ? `${result.decision.kind}:${result.decision.actions?.outcome ?? ''}` : result.receipt.kind,
})}\n`);
