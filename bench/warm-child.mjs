// Warm cost per webhook decision, both implementations in one fresh process, fed the same corpus.
// Usage: node bench/warm-child.mjs <core.cjs> <baseline.cjs> <rounds> <console.cjs>. Prints one
// JSON line. The console bundle only saves the corpus's settings (compiling custom templates).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { buildCorpus } from './corpus.mjs';

const [coreBundle, baselineBundle, roundsArg, consoleBundle] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const impls = { core: require(coreBundle), baseline: require(baselineBundle) };
const corpus = buildCorpus({ seed: 7, compileTemplates: require(consoleBundle).compileTemplates });
const settingsById = Object.fromEntries(corpus.settings.map((s) => [s.id, s.value]));
const calls = corpus.cases.map((c) => [settingsById[c.settings], corpus.secret, c.input, c.verification, c.input.nowMs]);

// Same answers, or the comparison means nothing.
for (const [i, args] of calls.entries()) {
  assert.deepStrictEqual(impls.baseline.decide(...args), impls.core.decide(...args), corpus.cases[i].label);
}

const WARMUP_ROUNDS = 5;
for (let r = 0; r < WARMUP_ROUNDS; r += 1) {
  for (const args of calls) {
    impls.core.decide(...args);
    impls.baseline.decide(...args);
  }
}

const rounds = Number(roundsArg) || 30;
const samples = { core: [], baseline: [] };
const bySize = { core: {}, baseline: {} };
const now = process.hrtime.bigint;
// Each round runs the whole corpus through one implementation, then through the other (the order
// alternating), so each runs with its own code and data warm, as a function instance does.
for (let r = 0; r < rounds; r += 1) {
  const order = r % 2 === 0 ? ['core', 'baseline'] : ['baseline', 'core'];
  for (const name of order) {
    const decide = impls[name].decide;
    for (const [i, args] of calls.entries()) {
      const t0 = now();
      decide(...args);
      const ns = Number(now() - t0);
      samples[name].push(ns);
      (bySize[name][corpus.cases[i].size] ??= []).push(ns);
    }
  }
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
out.cases = calls.length;
out.rounds = rounds;
process.stdout.write(`${JSON.stringify(out)}\n`);
