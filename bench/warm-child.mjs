// Warm cost per webhook decision, both implementations in one fresh process, fed the same corpus.
// Usage: node bench/warm-child.mjs <core.cjs> <baseline.cjs> <rounds> <console.cjs>. Prints one
// JSON line. The console bundle only saves the corpus's settings (compiling custom templates).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { buildCorpus } from './corpus.mjs';
import verdicts from './verdict.cjs';

const [coreBundle, baselineBundle, roundsArg, consoleBundle] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const { verdictOf, postedComment } = verdicts;
/** A comment request's path and body (the document and its visibility). */
const commentOf = (request) => ({ method: request.method, path: request.path, body: JSON.parse(request.body) });
const impls = { core: require(coreBundle), baseline: require(baselineBundle) };
const corpus = buildCorpus({ seed: 7, compileTemplates: require(consoleBundle).compileTemplates });
const settingsById = Object.fromEntries(corpus.settings.map((s) => [s.id, s.value]));
const calls = corpus.cases.map((c) => [settingsById[c.settings], corpus.secret, c.input, c.verification, c.input.nowMs]);

// Same outcomes, or the comparison means nothing: the status and result of the reply, and the
// outcome comment posted (its text rendered alike). This first pass is also each installation's
// first delivery, so the core's warm rounds run with the settings kept.
/** Each core delivery's HTTP status, which every timed round must answer again. */
const statuses = [];
for (const [i, args] of calls.entries()) {
  const core = impls.core.decide(...args);
  statuses.push(core.response.statusCode);
  const baseline = impls.baseline.decide(...args);
  const label = corpus.cases[i].label;
  assert.equal(verdictOf(core), verdictOf(baseline), label);
  const posted = postedComment(core.effects);
  if (posted) assert.deepStrictEqual(commentOf(posted), commentOf(baseline.decision.actions.comment), label);
}

// The corpus's clock starts again each round: the core's instance too (see `newInstance`).
const WARMUP_ROUNDS = 5;
for (let r = 0; r < WARMUP_ROUNDS; r += 1) {
  impls.core.newInstance();
  for (const args of calls) {
    impls.core.decide(...args);
    impls.baseline.decide(...args);
  }
}

const rounds = Number(roundsArg) || 30;
const samples = { core: [], baseline: [] };
const bySize = { core: {}, baseline: {} };
// The core's deliveries that read the settings (W1): kept settings last 10 s of the deliveries'
// clock, an installation's deliveries in the corpus are a second apart, and a forged one reads
// them again.
let settingsReads = 0;
const now = process.hrtime.bigint;
// Each round runs the whole corpus through one implementation, then through the other (the order
// alternating), so each runs with its own code and data warm, as a function instance does.
for (let r = 0; r < rounds; r += 1) {
  const order = r % 2 === 0 ? ['core', 'baseline'] : ['baseline', 'core'];
  for (const name of order) {
    const decide = impls[name].decide;
    const core = name === 'core';
    if (core) impls.core.newInstance();
    for (const [i, args] of calls.entries()) {
      const t0 = now();
      const answer = decide(...args);
      const ns = Number(now() - t0);
      if (core) {
        if (answer.response.statusCode !== statuses[i])
          throw new Error(`round ${r}: ${corpus.cases[i].label} answered ${answer.response.statusCode}, first ${statuses[i]}`);
        if (answer.readSettings) settingsReads += 1;
      }
      samples[name].push(ns);
      (bySize[name][corpus.cases[i].size] ??= []).push(ns);
    }
  }
}

/**
 * The crossing's floor: the engine's own work on what crosses the core module's boundary in each
 * delivery, with no WebAssembly run: the body and each input handed in (the start's input, each
 * step's results) written as JSON and copied as UTF-8, as the glue copies them into the module's
 * memory; each step handed out decoded from UTF-8 and parsed, as the glue reads it back. Any build
 * of this planner pays at least this. What crosses is collected from a fresh instance's pass over
 * the corpus, as each timed round begins; then timed, per delivery, as many rounds.
 */
function crossingFloor(rounds) {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const memory = new Uint8Array(1 << 16);
  impls.core.newInstance();
  const crossings = calls.map((args) => {
    const crossed = { inputs: [], steps: [] };
    impls.core.decide(...args, crossed);
    return { body: args[2].body, inputs: crossed.inputs, out: crossed.steps.map((step) => encoder.encode(JSON.stringify(step))) };
  });
  const cross = ({ body, inputs, out }) => {
    encoder.encodeInto(body, memory);
    for (const input of inputs) encoder.encodeInto(JSON.stringify(input), memory);
    for (const bytes of out) JSON.parse(decoder.decode(bytes));
  };
  for (let r = 0; r < WARMUP_ROUNDS; r += 1) crossings.forEach(cross);
  const times = [];
  for (let r = 0; r < rounds; r += 1) {
    for (const crossing of crossings) {
      const t0 = now();
      cross(crossing);
      times.push(Number(now() - t0));
    }
  }
  const bytes = (values) => values.reduce((sum, text) => sum + text.length, 0);
  return {
    ...summary(times),
    bytesIn: quantile(
      crossings.map((c) => c.body.length + bytes(c.inputs.map((input) => JSON.stringify(input)))),
      0.5,
    ),
    bytesOut: quantile(
      crossings.map((c) => bytes(c.out)),
      0.5,
    ),
  };
}

const quantile = (values, q) => {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const summary = (values) => ({
  n: values.length,
  medianUs: quantile(values, 0.5) / 1000,
  p99Us: quantile(values, 0.99) / 1000,
  meanUs: values.reduce((a, b) => a + b, 0) / values.length / 1000,
});
const out = {};
for (const name of ['core', 'baseline']) {
  out[name] = {
    ...summary(samples[name]),
    bySize: Object.fromEntries(Object.entries(bySize[name]).map(([size, v]) => [size, summary(v)])),
  };
}
out.core.settingsReadShare = settingsReads / samples.core.length;
out.floor = crossingFloor(rounds);
out.cases = calls.length;
out.rounds = rounds;
process.stdout.write(`${JSON.stringify(out)}\n`);
