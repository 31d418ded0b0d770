// One cold start, in a fresh Node process: load the bundled function, decide the first webhook
// (the core: the whole plan of a new instance, W1 to W3, in memory).
// Usage: node bench/cold-child.cjs <bundle.cjs> <case.json>. Prints one JSON line.
'use strict';
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const { verdictOf } = require('./verdict.cjs');

const [bundle, caseFile] = process.argv.slice(2);
const c = JSON.parse(fs.readFileSync(caseFile, 'utf8'));
const cpu = process.cpuUsage();
const started = performance.now();
const fn = require(bundle);
const loaded = performance.now();
const result = fn.decide(c.settings, c.secret, c.request, c.verification, c.nowMs);
const decided = performance.now();
const used = process.cpuUsage(cpu);
process.stdout.write(
  `${JSON.stringify({
    loadMs: loaded - started,
    firstDecisionMs: decided - loaded,
    coldMs: decided - started,
    // CPU time of the process (all threads) over the same span: less sensitive to other load.
    cpuMs: (used.user + used.system) / 1000,
    sinceProcessStartMs: decided,
    verdict: verdictOf(result),
  })}\n`,
);
