// The binding's own promises: values of the wrong shape cross as JS Errors with a stable `code`
// and the path of the problem; the Core keeps compiled settings; the package's types are real.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { bundleForge } from '../../dev/forge-bundle.mjs';
import { bundledCore } from '../support/bundled-core.mjs';
import { buildCorpus } from '../../bench/corpus.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let core;

before(async () => {
  core = await bundledCore('binding');
});

test('a value of the wrong shape throws an Error with code bad_input', () => {
  assert.throws(
    () => core.publicSettings({ environment: 'moon' }, {}),
    (error) => error instanceof Error && error.code === 'bad_input' && /settings/.test(error.message),
  );
  assert.throws(
    () => core.receiveWebhook(42),
    (error) => error.code === 'bad_input',
  );
});

test("a plan's state stays in the module: the executor holds a handle, good for one next step", () => {
  const step = core.tokenStart('grant_type=client_credentials', 'installation-1', { method: 'POST', headers: {}, nowMs: 1_000 });
  assert.equal(typeof step.state, 'number');
  assert.deepEqual(
    step.reads.map((r) => r.key),
    ['settings', 'secrets', 'throttle:auth'],
  );
  const results = { nowMs: 1_010, reads: [{ value: null }, { value: null }, { value: null }], swaps: [], effects: [] };
  const last = core.tokenNext(step.state, results);
  assert.equal(last.state, undefined);
  assert.equal(last.reply.statusCode, 400, 'no OAuth settings: token issuance is off (the memory stays in the module)');
  assert.throws(
    () => core.tokenNext(step.state, results),
    (error) => error.code === 'bad_input',
    'a handle is used once',
  );
  assert.throws(
    () => core.deliveryNext(step.state, results),
    (error) => error.code === 'bad_input',
    "a token plan's handle is no delivery's",
  );
});

/**
 * A passed session delivered through `module`'s planner as the webhook function would (the
 * benchmark's corpus: settings, signed request and stored record), up to the step that commits
 * with the event's effects.
 */
function commitStep(module, installation) {
  const corpus = buildCorpus({ seed: 3, perType: 1, compileTemplates: core.compileTemplates });
  const c = corpus.cases.find((x) => x.type === 'succeeded' && !x.forged);
  const stored = {
    settings: { revision: 1, settings: corpus.settings.find((s) => s.id === c.settings).value, secretsSet: {} },
    secrets: { webhookSecret: corpus.secret },
    [`v:${c.verification.sessionId}`]: c.verification,
  };
  let step = module.deliveryStart(c.input.body, installation, { method: 'POST', headers: c.input.headers, nowMs: c.input.nowMs, owner: 'o-1', nonce: 'n-1' });
  while (step.state !== undefined && step.running.length === 0) {
    const reads = step.reads.map((r) => ({ value: stored[r.key] ?? null }));
    step = module.deliveryNext(step.state, { nowMs: c.input.nowMs, reads, swaps: step.swaps.map(() => ({ value: null })), effects: [], queries: [] });
  }
  return { c, step };
}

/**
 * The first step after the settings are read, for a corpus delivery whose body has non-ASCII text
 * added and is signed over `signed(body)` (hmac, hex, with a timestamp).
 */
function afterSettings(installation, signed) {
  const corpus = buildCorpus({ seed: 5, perType: 1, compileTemplates: core.compileTemplates });
  const c = corpus.cases.find((x) => x.settings === 'hmac-hex-timestamp' && x.type === 'succeeded' && !x.forged);
  const settings = corpus.settings.find((s) => s.id === c.settings).value;
  const body = JSON.stringify({ ...JSON.parse(c.input.body), note: 'Zoë Ørsted – 東京 🚀' });
  const [ts] = c.input.headers['x-incode-timestamp'];
  const signature = createHmac('sha256', corpus.secret)
    .update(signed(`${ts}.${body}`))
    .digest('hex');
  const headers = { ...c.input.headers, 'x-incode-signature': [`sha256=${signature}`] };
  const first = core.deliveryStart(body, installation, { method: 'POST', headers, nowMs: c.input.nowMs, owner: 'o-1', nonce: 'n-1' });
  const stored = { settings: { revision: 1, settings, secretsSet: {} }, secrets: { webhookSecret: corpus.secret } };
  const reads = first.reads.map((r) => ({ value: stored[r.key] ?? null }));
  return core.deliveryNext(first.state, { nowMs: c.input.nowMs, reads, swaps: [], effects: [], queries: [] });
}

test("the raw body crosses as the sender's UTF-8: a signature over it is accepted, one over other bytes refused", () => {
  const accepted = afterSettings('installation-utf8', (text) => Buffer.from(text, 'utf8'));
  assert.equal(accepted.reply, undefined, 'authenticated: the delivery goes on');
  assert.deepEqual(
    accepted.swaps.map((s) => s.key.split(':')[0]),
    ['lock'],
    'it takes the session lock',
  );
  const refused = afterSettings('installation-latin1', (text) => Buffer.from(text, 'latin1'));
  assert.equal(refused.reply?.statusCode, 401, 'signed over other bytes of the same text: refused');
  assert.throws(
    () => core.deliveryStart(undefined, 'installation-nobody', { method: 'POST', headers: {}, nowMs: 1, owner: 'o', nonce: 'n' }),
    (error) => error.code === 'bad_input' && /body/.test(error.message),
  );
});

test("a step's effects stay in the module: the executor runs each by its handle, once", () => {
  const { c, step } = commitStep(core, 'installation-effects');
  assert.ok(
    step.effects.some((e) => e.postOutcomeComment),
    'the outcome comment is among the effects',
  );
  assert.equal(step.running.length, step.effects.length, 'one handle per effect');
  assert.equal(new Set(step.running).size, step.running.length);
  const comment = step.effects.findIndex((e) => e.postOutcomeComment);
  const first = core.effectBegin(step.running[comment], c.input.nowMs);
  assert.equal(first.next, 'call');
  assert.equal(first.call.via, 'jiraAsApp');
  assert.match(first.call.request.path, new RegExp(`/issue/${step.effects[comment].postOutcomeComment.issueKey}/comment`));
  assert.throws(
    () => core.effectBegin(step.running[comment], c.input.nowMs),
    (error) => error.code === 'bad_input',
    'an effect is begun once',
  );
  assert.throws(
    () => core.effectBegin(first.running, c.input.nowMs),
    (error) => error.code === 'bad_input',
    'a running effect goes on with effectAdvance only',
  );
  const posted = core.effectAdvance(first.running, { status: 201, body: '{}' });
  assert.equal(posted.next, 'ended');
  assert.equal(posted.result.ended, 'done');
  assert.throws(
    () => core.effectAdvance(first.running, { status: 201, body: '{}' }),
    (error) => error.code === 'bad_input',
    'an answer is handed back once',
  );
});

test("the core module's delivery steps name their effects by handle only", async () => {
  // The webhook's module: its executor begins each effect by handle, so a step carries no
  // description of them (bench/README.md: a third of a commit step's text).
  const out = await bundleForge({ appDir: root, entries: { webhookCore: 'src/core.js' }, outDir: path.join(root, 'build/test-bundles/binding-core') });
  const webhookCore = createRequire(import.meta.url)(out.webhookCore);
  const { c, step } = commitStep(webhookCore, 'installation-handles');
  assert.ok(step.running.length > 0, 'the commit step has effects');
  assert.equal(step.effects, undefined);
  const calls = step.running.map((handle) => webhookCore.effectBegin(handle, c.input.nowMs));
  assert.ok(
    calls.some((p) => p.next === 'call' && p.call.request?.method === 'POST' && p.call.request.path.endsWith('/comment')),
    'the outcome comment is among them, begun by its handle',
  );
});

test('expected failures are values, not exceptions', () => {
  const answer = core.parseStart({ status: 503, body: 'upstream down' });
  assert.equal(answer.ok, false);
  assert.equal(answer.error.retryable, true);
  assert.equal(typeof answer.error.code, 'string');
});

/** The comment a Core posts for an outcome event on a fresh verification, as ADF text. */
function commentFor(instance, type) {
  const nowMs = Date.UTC(2026, 10, 22, 10, 0, 0);
  const record = {
    id: 'v-1',
    sessionId: 's-1',
    issueKey: 'HELP-1',
    issueId: '10001',
    email: 'casey@example.test',
    name: 'Casey',
    delivery: 'EMAIL',
    requestedByName: 'Avery',
    status: 'requested',
    statusText: 'Requested - 2026-11-22 09:59:00 UTC',
    identityId: '',
    appliedEvents: [],
    expiresAtMs: nowMs + 600_000,
    lateResults: [],
  };
  const event = { type, sessionId: 's-1', identityId: 'id-1', loginHint: 'casey@example.test', rawType: type, occurredAtMs: 0 };
  const [decided, commentBody] = instance.decideEvent(record, event, nowMs);
  assert.equal(decided.kind, 'applied', type);
  return JSON.parse(commentBody).body;
}

test('a Core built from settings renders every outcome to ADF', () => {
  const instance = new core.Core(core.defaultSettings());
  for (const type of ['succeeded', 'failed', 'pendingReview']) {
    const adf = commentFor(instance, type);
    assert.equal(adf.type, 'doc');
    assert.match(JSON.stringify(adf), /s-1/);
  }
  instance.free();
});

test('a Core renders a custom template from its compiled form, and without it still posts the verdict', () => {
  const custom = { ...core.defaultSettings(), templates: { passed: 'Checked {{name}}', failed: '', manualReview: '' } };
  const compiled = core.compileTemplates(custom);
  assert.equal(typeof compiled.templateCode.passed.of, 'string');
  assert.equal(compiled.templateCode.failed, null);
  const saved = new core.Core(compiled);
  assert.match(JSON.stringify(commentFor(saved, 'succeeded')), /"text":"Checked Casey"/);
  saved.free();
  // Settings that carry a custom template without its compiled form (the core module has no
  // parser) cannot render it: a webhook falls back to the plain verdict.
  const bare = new core.Core(custom);
  const fallback = JSON.stringify(commentFor(bare, 'succeeded'));
  assert.doesNotMatch(fallback, /Checked Casey/);
  assert.match(fallback, /verification passed.*Session ID: s-1/);
  assert.match(JSON.stringify(commentFor(bare, 'failed')), /s-1/);
  bare.free();
  // The browser never sees the compiled form.
  assert.equal('templateCode' in core.publicSettings(compiled, {}).settings, false);
});

test("the core module holds the webhook's planner and the effects adapter only; the console module adds everything else", async () => {
  const generated = path.join(root, 'src/generated');
  const coreApi = await import(path.join(generated, 'core.js'));
  const consoleApi = await import(path.join(generated, 'console.js'));
  const exported = (api) => Object.keys(api).filter((name) => typeof api[name] === 'function' && !['initSync', 'default'].includes(name));
  assert.deepEqual(exported(coreApi).sort(), ['deliveryNext', 'deliveryStart', 'effectAdvance', 'effectBegin']);
  for (const name of exported(coreApi)) assert.equal(typeof consoleApi[name], 'function', `the console module adds to the core module: ${name}`);
  for (const name of [
    'Core',
    'receiveWebhook',
    'tokenStart',
    'portalStart',
    'openStart',
    'sendStart',
    'adminStart',
    'privacyStart',
    'validateTemplate',
    'compileTemplates',
  ]) {
    assert.equal(coreApi[name], undefined, `core module: ${name}`);
    assert.equal(typeof consoleApi[name], 'function', `console module: ${name}`);
  }
});

test('the generated .d.ts carries the contract types and precise signatures', () => {
  const dts = fs.readFileSync(path.join(root, 'src/generated/core.d.ts'), 'utf8');
  for (const name of ['WebhookReceipt', 'EventDecision', 'Settings', 'PublicSettings', 'Verification', 'Effect', 'Results']) {
    assert.match(dts, new RegExp(`export (type|interface) ${name}\\b`), name);
  }
  assert.match(dts, /export function deliveryNext\(handle: number, results: Results\): Step<number, WebtriggerResponse>;/);
  const consoleDts = fs.readFileSync(path.join(root, 'src/generated/console.d.ts'), 'utf8');
  assert.match(consoleDts, /export function receiveWebhook\(input: WebhookInput\): WebhookReceipt;/);
  assert.match(consoleDts, /decideEvent\(record: EventRecord, event: IncodeEvent, now_ms: number\): DecidedEvent;/);
});
