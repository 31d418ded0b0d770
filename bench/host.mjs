// Measurements 4 and 5: the real app (its Forge functions bundled as Forge does) on the local host
// (dev/host), driven as in production: an admin configures it, agents send links from the issue
// panel, the Incode sandbox delivers signed webhooks over HTTP to the webtrigger.
//
// 4. With 50 ms injected into every platform call (Jira, KVS, Incode, realtime), the wall time of
//    a send (token cached) and of each webhook, and how many platform round trips wait on each
//    other ("waves": calls that overlap count once), as the host counts them per invocation.
// 5. 10,000 webhooks over 1,000 verifications (no injected latency): every delivery answered
//    2xx, every verification in its expected final status with exactly one comment per outcome,
//    throughput, and the heap after a full GC every 1,000 webhooks.
//
// 6. The cost of one verification's whole life in Forge's billed units (bench/cost.mjs): the agent
//    opens the panel, sends a link, the employee opens it, resumes it and passes (four webhook
//    events: started, progress, succeeded, identity enrolled), the agent opens the panel again.
//    Function wall time at 50 ms per platform call, KVS reads and writes (keys and bytes), log
//    bytes; per verification and per 1,000.
//
// Run by bench/run.mjs in a child process (`node --expose-gc bench/host.mjs child`), which prints
// one JSON line.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { currentInvocation, installForgeGlobals } from '../dev/host/runtime.mjs';
import { startHost } from '../dev/host/server.mjs';
import { ACCOUNTS, GROUPS } from '../dev/host/jira/index.mjs';
import { sandboxAdminSettings } from '../dev/host/incode/seed.mjs';
import { addKvs, emptyUsage, kvsUsage, lifeCost } from './cost.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const OUT_DIR = path.join(ROOT, 'build/bench/forge');
const WEBHOOK_SECRET = 'whsec-bench-7d2e9c41a0b35f68';
const PANEL = 'incode-verification-panel';
const ADMIN = 'incode-settings';
const FAST_RETRY = { attempts: 6, baseDelayMs: 20, factor: 2, maxDelayMs: 200, timeoutMs: 30_000 };

function ok(answer, what) {
  if (answer?.ok !== true) throw new Error(`${what} failed: ${JSON.stringify(answer)}`);
  return answer.data;
}

function issueExtension(host, issueKey) {
  const issue = host.jira.issues.get(issueKey);
  return { issue: { id: issue.id, key: issue.key }, project: { key: issue.project } };
}

const panel = (host, account, issueKey, fn, payload = {}) =>
  host.invokeResolver({
    moduleKey: PANEL,
    account,
    extension: issueExtension(host, issueKey),
    functionName: fn,
    payload,
  });
const admin = (host, fn, payload = {}) =>
  host.invokeResolver({
    moduleKey: ADMIN,
    account: ACCOUNTS.alex,
    extension: {},
    functionName: fn,
    payload,
  });

/** Configures the app as an admin does, and the sandbox's webhook to reach it (HMAC). */
async function configure(host, overrides = {}) {
  ok(await admin(host, 'admin.saveSettings', sandboxAdminSettings(WEBHOOK_SECRET, overrides)), 'saving the settings');
  ok(await admin(host, 'admin.testCredentials'), 'testing the credentials');
  const info = ok(await admin(host, 'admin.getSettings'), 'reading the settings');
  host.incode.configureWebhook({ url: info.webhook.url, mode: 'hmac', secret: WEBHOOK_SECRET, header: 'x-incode-signature', encoding: 'hex' });
}

const newRequest = (host, summary) => host.jira.issues.add({ project: 'HELP', summary, reporter: ACCOUNTS.casey });

async function send(host, agent, issueKey) {
  const data = ok(await panel(host, agent, issueKey, 'panel.send', { email: 'casey@example.test', delivery: 'EMAIL' }), `sending a link on ${issueKey}`);
  return data.verification;
}

/** What one platform call is, in a few words ("kvs get v:…", "jira POST …/comment"). */
function describe(descriptor, path, init) {
  const type = descriptor?.type === 'fpp' ? descriptor.remote : descriptor?.type;
  if (type === 'kvs') {
    let key;
    try {
      const body = JSON.parse(typeof init?.body === 'string' ? init.body : '{}');
      key = body.key ?? (Array.isArray(body.keys) ? `${body.keys.length} keys` : '') ?? '';
      if (Array.isArray(body.operations)) key = `${body.operations.length} writes`;
    } catch {
      key = '';
    }
    return `kvs ${String(path).replace(/^\/api\/v\d+\//, '')} ${String(key).replace(/:[0-9a-f-]{20,}.*$/i, ':…')}`.trim();
  }
  const method = init?.method ?? 'GET';
  const where = String(path)
    .split('?')[0]
    .replace(/\/issue\/[^/]+/, '/issue/…');
  return `${type} ${method} ${where}`;
}

/**
 * Records every platform call the app makes (start and end), by invocation, so the benchmark can
 * show which calls wait on each other. Wraps the globals the real @forge packages call.
 */
function traceCalls() {
  const calls = [];
  const wrap = (name, label) => {
    const original = globalThis[name];
    globalThis[name] = async function traced(...args) {
      const entry = { invocation: currentInvocation()?.id, what: label(...args), start: performance.now(), end: null };
      if (entry.invocation) calls.push(entry);
      try {
        return await original.apply(this, args);
      } finally {
        entry.end = performance.now();
      }
    };
  };
  wrap('__forge_fetch__', describe);
  wrap('fetch', (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    return `incode ${init?.method ?? input?.method ?? 'GET'} ${url.pathname}`;
  });
  return calls;
}

/** The calls of one invocation grouped into waves (a call joins the wave it overlaps). */
function wavesOf(calls, invocationId) {
  const mine = calls.filter((c) => c.invocation === invocationId).sort((a, b) => a.start - b.start);
  const waves = [];
  let current = null;
  for (const call of mine) {
    if (current && call.start < current.end) {
      current.calls.push(call.what);
      current.end = Math.max(current.end, call.end);
    } else {
      current = { calls: [call.what], end: call.end };
      waves.push(current);
    }
  }
  return waves.map((w) => w.calls.join(' + '));
}

const summarise = (invocation) => ({
  wallMs: invocation.durationMs,
  roundTrips: invocation.waves,
  calls: Object.fromEntries(Object.entries(invocation.calls).filter(([, n]) => n > 0)),
});

/** Measurement 4. */
async function roundTrips() {
  // The trace wraps the Forge globals before the functions load, so it sees every call.
  installForgeGlobals();
  const calls = traceCalls();
  const host = await startHost({ memory: true, latencyMs: 50, outDir: OUT_DIR, incodeOptions: { retry: FAST_RETRY } });
  try {
    await configure(host);
    const first = newRequest(host, 'Locked out (first link of the day)');
    const second = newRequest(host, 'Password reset after a phone change');
    const mark = () => host.stats.invocations.length;

    await send(host, ACCOUNTS.avery, first);
    const sendCold = summarise(host.stats.last());
    const started = performance.now();
    const verification = await send(host, ACCOUNTS.avery, second);
    const sendWallMs = performance.now() - started;
    const sendCached = { ...summarise(host.stats.last()), waves: wavesOf(calls, host.stats.last().id) };

    const before = mark();
    await host.incode.complete(verification.sessionId, 'pass');
    const hooks = host.stats.invocations.slice(before).filter((i) => i.kind === 'webtrigger');
    const attempts = host.incode.deliveries.filter((d) => d.sessionId === verification.sessionId);
    const webhooks = hooks.map((invocation, i) => ({
      event: attempts[i]?.eventType,
      status: attempts[i]?.status,
      ...summarise(invocation),
      waves: wavesOf(calls, invocation.id),
    }));
    return { latencyMs: 50, sendFirst: sendCold, send: { ...sendCached, callerWallMs: sendWallMs }, webhooks };
  } finally {
    await host.stop();
  }
}

/**
 * Tallies, per invocation, the KVS keys and bytes each call reads and writes. Wraps the global the
 * real @forge packages call. (What each function logs the host keeps with its invocation.)
 */
function meterUsage() {
  const usage = new Map();
  const tally = () => {
    const id = currentInvocation()?.id;
    if (id === undefined) return null;
    if (!usage.has(id)) usage.set(id, emptyUsage());
    return usage.get(id);
  };
  const original = globalThis.__forge_fetch__;
  globalThis.__forge_fetch__ = async function metered(descriptor, path, init) {
    const response = await original.call(this, descriptor, path, init);
    const mine = descriptor?.type === 'kvs' ? tally() : null;
    if (mine && response?.ok) {
      const body = typeof init?.body === 'string' ? init.body : '';
      addKvs(mine, kvsUsage(String(path), body, await response.clone().text()));
    }
    return response;
  };
  return usage;
}

/** Measurement 6. */
async function verificationCost() {
  installForgeGlobals();
  const usage = meterUsage();
  const host = await startHost({ memory: true, latencyMs: 50, outDir: OUT_DIR, incodeOptions: { retry: FAST_RETRY } });
  try {
    await configure(host);
    const issueKey = newRequest(host, 'Locked out: verify before the reset');
    const before = host.stats.invocations.length;
    ok(await panel(host, ACCOUNTS.avery, issueKey, 'panel.getState'), 'opening the panel');
    const verification = await send(host, ACCOUNTS.avery, issueKey);
    for (const action of ['open', 'open', 'pass']) await host.incode.complete(verification.sessionId, action);
    const state = ok(await panel(host, ACCOUNTS.avery, issueKey, 'panel.getState'), 'opening the panel again');
    if (state.current?.status !== 'passed') throw new Error(`the verification ended ${state.current?.status}, expected passed`);
    // Log bytes as Forge bills them: each line a function writes (the host keeps them).
    const logBytes = (id) => host.logs.filter((l) => l.invocationId === id).reduce((sum, l) => sum + Buffer.byteLength(`${l.message}\n`, 'utf8'), 0);
    const invocations = host.stats.invocations.slice(before).map((i) => ({
      name:
        i.kind === 'webtrigger'
          ? 'webhook'
          : String(i.name ?? i.kind)
              .split(':')
              .pop(),
      ...emptyUsage(),
      ...usage.get(i.id),
      wallMs: i.durationMs,
      logBytes: logBytes(i.id),
    }));
    const webhooks = invocations.filter((i) => i.name === 'webhook').length;
    if (webhooks !== 4) throw new Error(`expected four webhook deliveries, got ${webhooks}`);
    return { latencyMs: 50, invocations, ...lifeCost(invocations) };
  } finally {
    await host.stop();
  }
}

/** The events one verification receives, ten in all, by the way it ends. */
const SCRIPTS = [
  { end: 'passed', actions: ['open', ...Array(7).fill('open'), 'pass'], outcomes: ['passed'] }, // 1 + 7 + 2
  { end: 'failed', actions: ['open', ...Array(8).fill('open'), 'fail'], outcomes: ['failed'] }, // 1 + 8 + 1
  { end: 'passed', actions: ['open', ...Array(6).fill('open'), 'review', 'approve'], outcomes: ['manualReview', 'passed'] }, // 1 + 6 + 1 + 2
  { end: 'failed', actions: ['open', ...Array(7).fill('open'), 'review', 'reject'], outcomes: ['manualReview', 'failed'] }, // 1 + 7 + 1 + 1
];

async function pool(items, width, work) {
  let next = 0;
  const runners = Array.from({ length: width }, async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      await work(items[index], index);
    }
  });
  await Promise.all(runners);
}

/** Every wasm memory instantiated in this process (the core, once per bundled function). */
const wasmMemories = [];
function watchWasmMemories() {
  const Instance = WebAssembly.Instance;
  WebAssembly.Instance = new Proxy(Instance, {
    construct(target, args) {
      const instance = new target(...args);
      if (instance.exports.memory instanceof WebAssembly.Memory) wasmMemories.push(instance.exports.memory);
      return instance;
    },
  });
}
const wasmMb = () => wasmMemories.reduce((sum, m) => sum + m.buffer.byteLength, 0) / 2 ** 20;

function heapMb() {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/**
 * What the local host itself keeps of the run, as JSON MB: the KVS, the Jira site and its request
 * log, the sandbox's outbox and delivery log, the realtime log. It grows with every webhook, so
 * the heap does too; the app's own share is what is left.
 */
function retainedMb(host) {
  let bytes = JSON.stringify(host.jira.snapshot()).length + JSON.stringify(host.jira.requests ?? []).length;
  for (const key of host.kvs.keys()) bytes += key.length + JSON.stringify(host.kvs.get(key) ?? null).length;
  bytes += JSON.stringify(host.incode.deliveries).length + JSON.stringify(host.incode.outbox).length;
  bytes += JSON.stringify(host.realtime.published ?? []).length;
  return bytes / 2 ** 20;
}

/** Measurement 5. */
async function throughput({ verifications, webhooks }) {
  const perVerification = webhooks / verifications;
  if (perVerification !== 10) throw new Error('the scripts deliver ten webhooks per verification');
  const host = await startHost({ memory: true, outDir: OUT_DIR, incodeOptions: { retry: FAST_RETRY } });
  try {
    // Each agent may send 100 links an hour; enough agents for the whole run.
    await configure(host, { limits: { perTicketPerHour: 5, perAgentPerHour: 100 } });
    const agents = Array.from({ length: Math.ceil(verifications / 90) }, (_, i) =>
      host.jira.users.add({
        displayName: `Bench Agent ${i + 1}`,
        emailAddress: `bench.agent.${i + 1}@example.test`,
        groups: [GROUPS.agents, GROUPS.helpdesk],
      }),
    );
    const issues = Array.from({ length: verifications }, (_, i) => newRequest(host, `Benchmark request ${i + 1}`));

    const sendStarted = performance.now();
    const sent = [];
    await pool(issues, 8, async (issueKey, i) => {
      const verification = await send(host, agents[i % agents.length], issueKey);
      sent[i] = { issueKey, sessionId: verification.sessionId, script: SCRIPTS[i % SCRIPTS.length] };
    });
    const sendSeconds = (performance.now() - sendStarted) / 1000;

    const heap = [heapMb()];
    const wasmBefore = wasmMb();
    const retainedBefore = retainedMb(host);
    const deliveriesBefore = host.incode.deliveries.length;
    let delivered = 0;
    let nextSample = 1000;
    const started = performance.now();
    await pool(sent, 32, async ({ sessionId, script }) => {
      for (const action of script.actions) {
        const results = await host.incode.complete(sessionId, action);
        delivered += results.length;
        for (const result of results) {
          if (!result.delivered) throw new Error(`a webhook of ${sessionId} was not delivered: ${JSON.stringify(result)}`);
        }
        if (delivered >= nextSample) {
          nextSample += 1000;
          heap.push(heapMb());
        }
      }
    });
    const seconds = (performance.now() - started) / 1000;
    heap.push(heapMb());
    const retainedGrowth = retainedMb(host) - retainedBefore;

    // Nothing lost: each verification ends where its script leads, with one comment per outcome.
    const attempts = host.incode.deliveries.slice(deliveriesBefore);
    const finals = attempts.filter((d) => d.final);
    const retries = attempts.filter((d) => d.attempt > 1).length;
    const problems = [];
    for (const { issueKey, script } of sent) {
      const issue = host.jira.issues.get(issueKey);
      const comments = issue.comments.filter((c) => c.author === ACCOUNTS.app).length;
      const status = issue.properties['incode-verification']?.status;
      if (status !== script.end) problems.push(`${issueKey}: status ${status}, expected ${script.end}`);
      if (comments !== script.outcomes.length) problems.push(`${issueKey}: ${comments} comments, expected ${script.outcomes.length}`);
    }
    const answered = new Map();
    for (const d of finals) answered.set(d.status, (answered.get(d.status) ?? 0) + 1);
    return {
      verifications,
      webhooks: delivered,
      finalDeliveries: finals.length,
      deliveredOk: finals.filter((d) => d.ok).length,
      retries,
      statuses: Object.fromEntries(answered),
      problems: problems.slice(0, 10),
      problemCount: problems.length,
      sendSeconds,
      seconds,
      perSecond: delivered / seconds,
      heapMb: heap,
      retainedGrowthMb: retainedGrowth,
      wasmMb: [wasmBefore, wasmMb()],
    };
  } finally {
    await host.stop();
  }
}

async function child() {
  // The functions run in this process and log JSON lines to the console, as on Forge; the
  // benchmark's own answer is the one line it writes to stdout.
  for (const name of ['log', 'info', 'warn', 'error', 'debug']) console[name] = () => {};
  watchWasmMemories();
  const out = {
    roundTrips: await roundTrips(),
    cost: await verificationCost(),
    throughput: await throughput({
      verifications: Number(process.env.BENCH_VERIFICATIONS) || 1000,
      webhooks: Number(process.env.BENCH_WEBHOOKS) || 10_000,
    }),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

const fmt = (n, digits = 0) => Number(n).toFixed(digits);

/**
 * Runs measurements 4 and 5 in a fresh process and prints them.
 * @param {(line: string) => void} log
 * @returns {Promise<Record<string, string>>} the summary fields
 */
export async function hostMeasurements(log) {
  const child = spawnSync(process.execPath, ['--expose-gc', path.join(HERE, 'host.mjs'), 'child'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: process.env,
  });
  if (child.status !== 0) throw new Error(`bench/host.mjs failed:\n${child.stderr.slice(-4000)}`);
  const lines = child.stdout.trim().split('\n');
  const { roundTrips: rt, throughput: tp, cost } = JSON.parse(lines[lines.length - 1]);

  log('');
  log(`4. round trips on the local host, ${rt.latencyMs} ms injected into every platform call`);
  log(
    `   send (first of the day, token fetched): ${fmt(rt.sendFirst.wallMs)} ms, ${rt.sendFirst.roundTrips} sequential round trips, calls ${JSON.stringify(rt.sendFirst.calls)}`,
  );
  log(
    `   send (token cached):                    ${fmt(rt.send.wallMs)} ms, ${rt.send.roundTrips} sequential round trips, calls ${JSON.stringify(rt.send.calls)}`,
  );
  rt.send.waves.forEach((wave, i) => log(`      ${i + 1}. ${wave}`));
  for (const w of rt.webhooks) {
    log(
      `   webhook ${String(w.event).padEnd(22)} ${String(w.status).padEnd(4)} ${fmt(w.wallMs).padStart(5)} ms, ${w.roundTrips} sequential round trips, calls ${JSON.stringify(w.calls)}`,
    );
    w.waves.forEach((wave, i) => log(`      ${i + 1}. ${wave}`));
  }
  const webhookRoundTrips = Math.max(...rt.webhooks.map((w) => w.roundTrips));
  // The settings are kept once a webhook has been recorded on the setup checklist, so the last
  // webhook finds them on its warm instance.
  const warmRoundTrips = Math.min(...rt.webhooks.map((w) => w.roundTrips));
  log(`   a webhook on a warm instance that keeps the settings: ${warmRoundTrips} sequential round trips`);

  log('');
  log(`5. ${tp.webhooks} webhooks over ${tp.verifications} verifications through the local host (no injected latency)`);
  log(`   sends: ${tp.verifications} in ${fmt(tp.sendSeconds, 1)} s; webhooks: ${fmt(tp.seconds, 1)} s, ${fmt(tp.perSecond)} per second`);
  log(`   deliveries: ${tp.finalDeliveries} final, ${tp.deliveredOk} answered 2xx, ${tp.retries} retried attempts, statuses ${JSON.stringify(tp.statuses)}`);
  log(
    `   outcomes: ${tp.problemCount === 0 ? 'every verification in its expected status with exactly one comment per outcome' : `${tp.problemCount} problems, e.g. ${tp.problems.join('; ')}`}`,
  );
  log(`   heap after GC, every 1,000 webhooks (MB): ${tp.heapMb.map((h) => fmt(h, 1)).join(' ')}`);
  log(`   meanwhile the host's own stores (KVS, Jira site and request log, sandbox and realtime logs) grew by ${fmt(tp.retainedGrowthMb, 1)} MB of JSON`);
  log(
    `   the core's wasm memories (one per bundled function, all in this process): ${fmt(tp.wasmMb[0], 2)} MB before the webhooks, ${fmt(tp.wasmMb[1], 2)} MB after`,
  );
  log('');
  log(
    `6. one verification's life in Forge's billed units (${cost.latencyMs} ms per platform call): open the panel, send, four webhook events, open the panel again`,
  );
  for (const i of cost.invocations) {
    log(
      `   ${i.name.padEnd(16)} ${fmt(i.wallMs).padStart(5)} ms, KVS ${i.kvsReads} reads (${fmt(i.kvsReadBytes / 1024, 1)} KB) ${i.kvsWrites} writes (${fmt(i.kvsWriteBytes / 1024, 1)} KB), logs ${i.logBytes} B`,
    );
  }
  const one = cost.perVerification;
  const k = cost.perThousand;
  log(
    `   per verification: ${one.invocations} invocations, ${fmt(one.wallMs)} ms of function time (${fmt(one.gbSeconds, 3)} GB-s), KVS ${one.kvsReads} reads / ${fmt(one.kvsReadBytes / 1024, 1)} KB, ${one.kvsWrites} writes / ${fmt(one.kvsWriteBytes / 1024, 1)} KB, logs ${fmt(one.logBytes / 1024, 1)} KB`,
  );
  log(
    `   per 1,000 verifications: ${fmt(k.gbSeconds)} GB-s, KVS ${k.kvsReads} reads / ${fmt(k.kvsReadBytes / 2 ** 20, 1)} MB, ${k.kvsWrites} writes / ${fmt(k.kvsWriteBytes / 2 ** 20, 1)} MB, logs ${fmt(k.logBytes / 2 ** 20, 2)} MB`,
  );

  return {
    webhook_roundtrips: String(webhookRoundTrips),
    webhook_roundtrips_warm: String(warmRoundTrips),
    send_roundtrips: String(rt.send.roundTrips),
    webhook_ms: fmt(Math.max(...rt.webhooks.map((w) => w.wallMs))),
    send_ms: fmt(rt.send.wallMs),
    webhooks_ok: `${tp.deliveredOk}/${tp.webhooks}`,
    outcome_problems: String(tp.problemCount),
    webhooks_per_s: fmt(tp.perSecond),
    heap_growth_mb: fmt(tp.heapMb[tp.heapMb.length - 1] - tp.heapMb[0], 1),
    wasm_memory_growth_mb: fmt(tp.wasmMb[1] - tp.wasmMb[0], 1),
    cost_fn_ms: fmt(one.wallMs),
    cost_gb_s: fmt(one.gbSeconds, 3),
    cost_kvs_reads: String(one.kvsReads),
    cost_kvs_read_kb: fmt(one.kvsReadBytes / 1024, 1),
    cost_kvs_writes: String(one.kvsWrites),
    cost_kvs_write_kb: fmt(one.kvsWriteBytes / 1024, 1),
    cost_log_kb: fmt(one.logBytes / 1024, 1),
  };
}

if (process.argv[2] === 'child') {
  child().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`${error.stack ?? error}\n`);
      process.exit(1);
    },
  );
}
