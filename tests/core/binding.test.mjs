// The binding's own promises: values of the wrong shape cross as JS Errors with a stable `code`
// and the path of the problem; a plan's state and effects stay in the module; comments render
// from the templates as saved; the package's types are real.
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
    () => core.openStart(42),
    (error) => error instanceof Error && error.code === 'bad_input' && /open input/.test(error.message),
  );
  assert.throws(
    () => core.deliveryStart('{}', 'installation-shape', 42),
    (error) => error instanceof Error && error.code === 'bad_input' && /delivery input/.test(error.message),
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
  // No OAuth settings: token issuance is off, told as a failed client authentication.
  assert.equal(last.reply.statusCode, 401, 'the memory stays in the module');
  assert.equal(JSON.parse(last.reply.body).error, 'invalid_client');
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
 * A session's event (`type`, passed by default) delivered through `module`'s planner as the
 * webhook function would (the benchmark's corpus: settings, signed request and stored record),
 * up to the step that commits with the event's effects. `settingsOf` changes the stored settings.
 */
function commitStep(module, installation, { type = 'succeeded', settingsOf = (settings) => settings } = {}) {
  const corpus = buildCorpus({ seed: 3, perType: 1, compileTemplates: core.compileTemplates });
  const c = corpus.cases.find((x) => x.type === type && !x.forged);
  const stored = {
    settings: { revision: 1, settings: settingsOf(corpus.settings.find((s) => s.id === c.settings).value), secretsSet: {} },
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

test('expected failures are values, not exceptions: a storage outage is answered 503 with Retry-After', () => {
  const step = core.deliveryStart('{}', 'installation-outage', { method: 'POST', headers: {}, nowMs: 1_000, owner: 'o-1', nonce: 'n-1' });
  const results = { nowMs: 1_010, reads: step.reads.map(() => ({ value: null, failed: 'STORAGE_TIMEOUT' })), swaps: [], effects: [] };
  const last = core.deliveryNext(step.state, results);
  assert.equal(last.reply.statusCode, 503);
  assert.ok(Number(last.reply.headers['Retry-After']?.[0]) > 0, JSON.stringify(last.reply.headers));
});

/** The outcome comment a commit step posts, as ADF: its effects begun by handle, as the executor does. */
function postedComment(module, c, step) {
  for (const handle of step.running) {
    const first = module.effectBegin(handle, c.input.nowMs);
    if (first.next === 'call' && first.call.request.method === 'POST' && first.call.request.path.endsWith('/comment')) {
      return JSON.parse(first.call.request.body).body;
    }
  }
  return undefined;
}

test('the planner renders every outcome comment to ADF', () => {
  for (const type of ['succeeded', 'failed', 'pendingReview']) {
    const { c, step } = commitStep(core, `installation-render-${type}`, { type });
    const adf = postedComment(core, c, step);
    assert.equal(adf?.type, 'doc', type);
    assert.ok(JSON.stringify(adf).includes(c.verification.sessionId), type);
  }
});

test('a custom template renders from its compiled form, and without it the comment still gives the verdict', () => {
  const custom = ({ templateCode: _compiled, ...settings }) => ({ ...settings, templates: { passed: 'Checked {{name}}', failed: '', manualReview: '' } });
  const compiled = core.compileTemplates(custom({}));
  assert.equal(typeof compiled.templateCode.passed.of, 'string');
  assert.equal(compiled.templateCode.failed, null);
  const saved = commitStep(core, 'installation-custom', { settingsOf: (settings) => core.compileTemplates(custom(settings)) });
  assert.ok(JSON.stringify(postedComment(core, saved.c, saved.step)).includes(`"text":"Checked ${saved.c.verification.name}"`));
  // Settings that carry a custom template without its compiled form (the core module has no
  // parser) cannot render it: the webhook falls back to the plain verdict.
  const bare = commitStep(core, 'installation-bare', { settingsOf: custom });
  const fallback = JSON.stringify(postedComment(core, bare.c, bare.step));
  assert.doesNotMatch(fallback, /Checked/);
  assert.match(fallback, /verification passed/i);
  assert.ok(fallback.includes(`Session ID: ${bare.c.verification.sessionId}`));
});

test("the core module holds the webhook's planner and the effects adapter only; the console module adds everything else", async () => {
  const generated = path.join(root, 'src/generated');
  const coreApi = await import(path.join(generated, 'core.js'));
  const consoleApi = await import(path.join(generated, 'console.js'));
  const exported = (api) => Object.keys(api).filter((name) => typeof api[name] === 'function' && !['initSync', 'default'].includes(name));
  assert.deepEqual(exported(coreApi).sort(), ['deliveryNext', 'deliveryStart', 'effectAdvance', 'effectBegin']);
  for (const name of exported(coreApi)) assert.equal(typeof consoleApi[name], 'function', `the console module adds to the core module: ${name}`);
  for (const name of [
    'tokenStart',
    'portalStart',
    'openStart',
    'sendStart',
    'cancelStart',
    'adminStart',
    'privacyStart',
    'gateStart',
    'sweepStart',
    'compileTemplates',
  ]) {
    assert.equal(coreApi[name], undefined, `core module: ${name}`);
    assert.equal(typeof consoleApi[name], 'function', `console module: ${name}`);
  }
  // The event decision on its own and the planners' parts are not exported: no function calls them.
  for (const name of ['Core', 'receiveWebhook', 'validateTemplate', 'renderTemplate', 'publicSettings', 'parseStart', 'tokenRequest']) {
    assert.equal(consoleApi[name], undefined, `console module: ${name}`);
  }
});

test('the generated .d.ts carries the contract types and precise signatures', () => {
  const dts = fs.readFileSync(path.join(root, 'src/generated/core.d.ts'), 'utf8');
  for (const name of ['WebhookReceipt', 'EventDecision', 'Settings', 'PublicSettings', 'Verification', 'Effect', 'Results']) {
    assert.match(dts, new RegExp(`export (type|interface) ${name}\\b`), name);
  }
  assert.match(dts, /export function deliveryNext\(handle: number, results: Results\): Step<number, WebtriggerResponse>;/);
  const consoleDts = fs.readFileSync(path.join(root, 'src/generated/console.d.ts'), 'utf8');
  assert.match(consoleDts, /export function openStart\(input: OpenInput\): Step<unknown, Answer<PanelState>>;/);
  assert.match(consoleDts, /export function tokenNext\(handle: number, results: Results\): Step<number, WebtriggerResponse>;/);
});
