// One cold start of the console module, in a fresh Node process: load the bundle (every function
// but the webhook loads this module) and plan the first step of opening the agent's panel, as
// the panel's resolver does before its first platform call.
// Usage: node bench/console-cold-child.cjs <console.cjs>. Prints one JSON line.
'use strict';
const { performance } = require('node:perf_hooks');

const [bundle] = process.argv.slice(2);
const started = performance.now();
const fn = require(bundle);
const loaded = performance.now();
const step = fn.openStart({
  owner: 'bench-owner-0001',
  nowMs: 1_795_341_600_000,
  context: { accountId: '5b10ac8d82e05b22cc7db290', accountType: 'licensed', issueId: '10104', issueKey: 'HD-104', requestKey: null },
});
const planned = performance.now();
if (step.state === undefined || step.reads.length === 0) throw new Error(`the panel's first step reads nothing: ${JSON.stringify(step)}`);
process.stdout.write(`${JSON.stringify({ loadMs: loaded - started, firstStepMs: planned - loaded, coldMs: planned - started })}\n`);
