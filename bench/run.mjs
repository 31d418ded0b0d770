// The benchmark: the Rust core against the plain-JavaScript baseline (bench/baseline/), on the
// same webhook corpus (bench/corpus.mjs), measured side by side in one run.
//
//   node bench/run.mjs
//
// 1. cold start: fresh Node processes loading each bundled function and deciding one webhook
//    (the core: the webhook function's whole plan, W1 to W3, its steps answered in memory); and
//    the console module's, which every other function loads: loading it and planning the first
//    step of opening the agent's panel
// 2. warm cost per webhook delivery (the core: the plan with the memory a warm instance keeps;
//    the baseline: authenticate, parse, state, render, actions): median, p99
// 3. the wasm package's size, raw and gzipped: the core module, which the webhook loads, and the
//    console module, which only the panel's and admin page's functions load
// 4. on the local host with 50 ms injected into every platform call: wall time and sequential
//    platform round trips of a webhook and of a send
// 5. 10,000 webhooks over 1,000 verifications through the local host: every outcome recorded
//    exactly once, throughput, memory
// 6. one verification's whole life (panel, send, four webhook events, panel) in Forge's billed
//    units: function time, KVS reads and writes, log bytes (bench/cost.mjs)
// It runs on the Node.js release the functions run on (the manifest's runtime, see
// dev/runtime-node.mjs), fetched once when this machine's Node is another major version; 1 and 2
// are then measured again on this machine's Node, and printed beside.
// The last line is one machine-readable summary. Environment: BENCH_COLD_RUNS (default 25),
// BENCH_ROUNDS (warm rounds over the corpus, default 30), BENCH_SKIP_HOST=1 (only 1-3, not 4-6),
// BENCH_WEBHOOKS / BENCH_VERIFICATIONS (measurement 5, default 10000 / 1000), BENCH_NODE (the
// runtime's node binary to use), BENCH_MACHINE_NODE=0 (no second pass on this machine's Node).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { bundleForge } from '../dev/forge-bundle.mjs';
import { runtimeNode, versionOf } from '../dev/runtime-node.mjs';
import { buildCorpus } from './corpus.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const OUT = path.join(ROOT, 'build/bench');
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS) || 25;
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 30;
const SKIP_HOST = process.env.BENCH_SKIP_HOST === '1';

const log = (line = '') => process.stdout.write(`${line}\n`);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (n, digits = 2) => n.toFixed(digits);

/** Rebuilds the core package when it is missing or older than the Rust sources. */
function ensureCorePackage() {
  const bytesFile = path.join(ROOT, 'src/generated/console-bytes.js');
  const sources = [
    path.join(ROOT, 'Cargo.toml'),
    path.join(ROOT, 'dev/build-core.sh'),
    path.join(ROOT, 'rust/build.rs'),
    ...fs.readdirSync(path.join(ROOT, 'rust/src'), { recursive: true }).map((f) => path.join(ROOT, 'rust/src', String(f))),
  ];
  const newest = Math.max(...sources.map((f) => fs.statSync(f).mtimeMs));
  if (fs.existsSync(bytesFile) && fs.statSync(bytesFile).mtimeMs >= newest) return;
  log('building the core package (dev/build-core.sh) ...');
  const built = spawnSync('bash', [path.join(ROOT, 'dev/build-core.sh')], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('dev/build-core.sh failed');
}

/** A wasm module (`core` or `console`) exactly as the Forge bundle carries it (base64, in a comment). */
function wasmSize(name) {
  const file = `src/generated/${name}-bytes.js`;
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const base64 = /\/\*([A-Za-z0-9+/=]+)\*\//.exec(text)?.[1];
  if (!base64) throw new Error(`${file} holds no embedded module`);
  const bytes = Buffer.from(base64, 'base64');
  return { raw: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length };
}

function runChild(node, args) {
  const started = performance.now();
  const child = spawnSync(node, args, { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  const wallMs = performance.now() - started;
  if (child.status !== 0) throw new Error(`${args.join(' ')} failed:\n${child.stderr}`);
  const lines = child.stdout.trim().split('\n');
  return { ...JSON.parse(lines[lines.length - 1]), wallMs };
}

/** The first webhook of measurement 1, written for `cold-child.cjs`. */
function coldCase(bundles) {
  const { compileTemplates } = createRequire(import.meta.url)(bundles.console);
  const corpus = buildCorpus({ seed: 7, compileTemplates });
  const c = corpus.cases.find((x) => x.settings === 'hmac-hex-timestamp' && x.type === 'succeeded' && !x.forged);
  const settings = corpus.settings.find((s) => s.id === c.settings).value;
  const file = path.join(OUT, 'cold-case.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      settings,
      secret: corpus.secret,
      request: c.input,
      verification: c.verification,
      nowMs: c.input.nowMs,
    }),
  );
  return { file, label: c.label };
}

/** Measurement 1 on `node`: alternating fresh processes, the first pair discarded (file cache). */
function coldStart(node, bundles, coldCaseFile) {
  const runs = { core: [], baseline: [] };
  for (let i = 0; i <= COLD_RUNS; i += 1) {
    const order = i % 2 === 0 ? ['core', 'baseline'] : ['baseline', 'core'];
    for (const name of order) {
      const result = runChild(node, [path.join(HERE, 'cold-child.cjs'), bundles[name], coldCaseFile]);
      if (i > 0) runs[name].push(result);
    }
  }
  const verdicts = new Set([...runs.core, ...runs.baseline].map((r) => r.verdict));
  if (verdicts.size !== 1) throw new Error(`cold runs disagree: ${[...verdicts].join(', ')}`);
  const stat = (name) => ({
    coldMs: median(runs[name].map((r) => r.coldMs)),
    cpuMs: median(runs[name].map((r) => r.cpuMs)),
    loadMs: median(runs[name].map((r) => r.loadMs)),
    firstDecisionMs: median(runs[name].map((r) => r.firstDecisionMs)),
    processWallMs: median(runs[name].map((r) => r.wallMs)),
  });
  const cold = { core: stat('core'), baseline: stat('baseline'), verdict: [...verdicts][0] };
  return { ...cold, ratio: cold.core.coldMs / cold.baseline.coldMs, cpuRatio: cold.core.cpuMs / cold.baseline.cpuMs };
}

/** The console module's cold start on `node`: fresh processes, the first discarded (file cache). */
function consoleCold(node, bundle) {
  const runs = [];
  for (let i = 0; i <= COLD_RUNS; i += 1) {
    const result = runChild(node, [path.join(HERE, 'console-cold-child.cjs'), bundle]);
    if (i > 0) runs.push(result);
  }
  const of = (key) => median(runs.map((r) => r[key]));
  return { coldMs: of('coldMs'), loadMs: of('loadMs'), firstStepMs: of('firstStepMs') };
}

function printCold(cold, label) {
  for (const name of ['core', 'baseline']) {
    const s = cold[name];
    log(
      `   ${name.padEnd(8)} load+first decision ${fmt(s.coldMs)} ms (load ${fmt(s.loadMs)}, decision ${fmt(s.firstDecisionMs)}; CPU ${fmt(s.cpuMs)} ms); whole process ${fmt(s.processWallMs, 1)} ms`,
    );
  }
  log(`   ratio core/baseline ${fmt(cold.ratio)} (CPU time ${fmt(cold.cpuRatio)}; first webhook: ${label}, ${cold.verdict})`);
}

/** Measurement 2 on `node`, in one fresh process. */
function warmCost(node, bundles) {
  const warm = runChild(node, [path.join(HERE, 'warm-child.mjs'), bundles.core, bundles.baseline, String(ROUNDS), bundles.console]);
  return {
    ...warm,
    ratio: warm.core.medianUs / warm.baseline.medianUs,
    p99Ratio: warm.core.p99Us / warm.baseline.p99Us,
    floorRatio: warm.floor.medianUs / warm.baseline.medianUs,
  };
}

function printWarm(warm, bySize) {
  log(`   ${warm.cases} deliveries x ${warm.rounds} rounds; all event types, 0.5-16 KB, hmac/shared secret/oauth`);
  if (bySize) {
    log(`   ${'size'.padEnd(8)} ${'core median'.padStart(12)} ${'baseline'.padStart(10)} ${'ratio'.padStart(6)}`);
    for (const sizeKey of Object.keys(warm.core.bySize).sort((a, b) => a - b)) {
      const a = warm.core.bySize[sizeKey].medianUs;
      const b = warm.baseline.bySize[sizeKey].medianUs;
      log(`   ${`${sizeKey} B`.padEnd(8)} ${`${fmt(a, 1)} us`.padStart(12)} ${`${fmt(b, 1)} us`.padStart(10)} ${fmt(a / b).padStart(6)}`);
    }
  }
  for (const name of ['core', 'baseline']) {
    const s = warm[name];
    log(`   ${name.padEnd(8)} median ${fmt(s.medianUs, 1)} us, p99 ${fmt(s.p99Us, 1)} us, mean ${fmt(s.meanUs, 1)} us`);
  }
  log(`   ratio core/baseline: median ${fmt(warm.ratio)}, p99 ${fmt(warm.p99Ratio)}`);
  log(`   the core's deliveries that read the settings (W1, kept settings stale): ${fmt(100 * warm.core.settingsReadShare, 1)}%`);
  const { floor } = warm;
  log(
    `   the crossing's floor (the engine's JSON work on what crosses the boundary, no wasm run; ${floor.bytesIn} B in, ${floor.bytesOut} B out): ` +
      `median ${fmt(floor.medianUs, 1)} us, ${fmt(warm.floorRatio)} of the baseline's median`,
  );
}

function machine() {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'} x${cpus.length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` + `${os.type()} ${os.release()}`;
}

async function main() {
  const startedAt = performance.now();
  // The whole suite runs on the runtime's Node: when this is another one, it starts again on it,
  // handing over this machine's Node for the second pass of 1 and 2.
  const runtime = runtimeNode({ log });
  if (fs.realpathSync(runtime.path) !== fs.realpathSync(process.execPath)) {
    if (process.env.BENCH_MACHINE_NODE_PATH) throw new Error(`started again on ${runtime.path}, but runs on ${process.execPath}`);
    const again = spawnSync(runtime.path, [fileURLToPath(import.meta.url)], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_NODE: runtime.path, BENCH_NODE_SOURCE: runtime.source, BENCH_MACHINE_NODE_PATH: process.execPath },
    });
    process.exit(again.status ?? 1);
  }
  const machineNode = process.env.BENCH_MACHINE_NODE === '0' ? undefined : process.env.BENCH_MACHINE_NODE_PATH;
  log(`machine: ${machine()}`);
  log(`Node ${process.versions.node}, the functions' runtime (manifest.yml; from ${process.env.BENCH_NODE_SOURCE ?? runtime.source})`);
  ensureCorePackage();
  fs.mkdirSync(OUT, { recursive: true });
  const bundles = await bundleForge({
    appDir: ROOT,
    entries: { core: 'bench/entries/core.js', baseline: 'bench/entries/baseline.js', console: 'bench/entries/console.js' },
    outDir: OUT,
  });
  const bundleKb = Object.fromEntries(Object.entries(bundles).map(([k, f]) => [k, fs.statSync(f).size / 1024]));

  const size = wasmSize('core');
  const consoleSize = wasmSize('console');
  log('');
  log('3. wasm package size');
  log(`   core module (the webhook's): ${fmt(size.raw / 1024, 1)} KiB raw, ${fmt(size.gzip / 1024, 1)} KiB gzipped`);
  log(`   console module (panel and admin page only): ${fmt(consoleSize.raw / 1024, 1)} KiB raw, ${fmt(consoleSize.gzip / 1024, 1)} KiB gzipped`);
  log(`   bundled functions: core ${fmt(bundleKb.core, 0)} KiB (wasm embedded as base64), baseline ${fmt(bundleKb.baseline, 0)} KiB`);

  const firstWebhook = coldCase(bundles);
  log('');
  log(`1. cold start (median of ${COLD_RUNS} fresh processes each, alternating)`);
  const cold = coldStart(process.execPath, bundles, firstWebhook.file);
  printCold(cold, firstWebhook.label);
  const consoleStart = consoleCold(process.execPath, bundles.console);
  log(
    `   console module (every other function): load+first panel step ${fmt(consoleStart.coldMs)} ms (load ${fmt(consoleStart.loadMs)}, first step ${fmt(consoleStart.firstStepMs)})`,
  );

  log('');
  log(`2. warm cost per webhook decision (${ROUNDS} rounds over the corpus, same answers checked first)`);
  const warm = warmCost(process.execPath, bundles);
  printWarm(warm, true);

  const summary = {
    node: process.versions.node,
    cold_ratio: fmt(cold.ratio),
    cold_cpu_ratio: fmt(cold.cpuRatio),
    warm_ratio: fmt(warm.ratio),
    warm_p99_ratio: fmt(warm.p99Ratio),
    warm_floor_ratio: fmt(warm.floorRatio),
    wasm_gzip_kb: fmt(size.gzip / 1024, 1),
    wasm_raw_kb: fmt(size.raw / 1024, 1),
    console_wasm_gzip_kb: fmt(consoleSize.gzip / 1024, 1),
    console_cold_ms: fmt(consoleStart.coldMs, 1),
  };

  if (machineNode) {
    const version = versionOf(machineNode);
    log('');
    log(`1 and 2 again on Node ${version}, this machine's (not the runtime the manifest names)`);
    const otherCold = coldStart(machineNode, bundles, firstWebhook.file);
    printCold(otherCold, firstWebhook.label);
    const otherWarm = warmCost(machineNode, bundles);
    printWarm(otherWarm, false);
    Object.assign(summary, {
      machine_node: version,
      machine_cold_ratio: fmt(otherCold.ratio),
      machine_warm_ratio: fmt(otherWarm.ratio),
    });
  }

  if (!SKIP_HOST) {
    const { hostMeasurements } = await import('./host.mjs');
    Object.assign(summary, await hostMeasurements(log));
  }

  log('');
  log(`total benchmark time ${fmt((performance.now() - startedAt) / 1000, 1)} s`);
  log(
    Object.entries(summary)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
  );
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
