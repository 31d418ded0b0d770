// How the webhook decision's values cross the boundary of the bundled core (`receiveWebhook`,
// `new Core`, `Core#receiveWebhook` with `receiveDelivery`, `Core#decideEvent` with `applyEvent`): arguments as JSON text written by the engine, answers as JSON
// text parsed by the engine (rust/src/binding.rs). The JS-facing values must be exactly what they
// would be object by object: every character kept, an unpaired surrogate read as U+FFFD (as any
// JS string passed to wasm), and values of the wrong shape refused with `bad_input`.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bundledCore } from '../support/bundled-core.mjs';

let core;

before(async () => {
  core = await bundledCore('transport');
});

const T0 = 1_795_341_600_000;
const verification = (overrides = {}) => ({
  id: 'ver-1',
  sessionId: 'sess-1',
  issueKey: 'HD-1',
  issueId: '10001',
  email: 'ann@example.com',
  name: 'Ann',
  delivery: 'EMAIL',
  destination: 'ann@example.com',
  requestedBy: 'acc-1',
  requestedByName: 'Sam',
  requestedAtMs: T0,
  expiresAtMs: T0 + 600_000,
  status: 'inProgress',
  statusText: 'In Progress - 2026-11-22 10:00:00',
  updatedAtMs: T0,
  identityId: '',
  history: [{ status: 'requested', atMs: T0, cause: 'sent' }],
  appliedEvents: [],
  ...overrides,
});
const event = (type, overrides = {}) => ({
  type,
  sessionId: 'sess-1',
  identityId: '',
  loginHint: '',
  rawType: type,
  occurredAtMs: 0,
  ...overrides,
});

test('every character of a value comes back as it went in, through a rendered comment too', () => {
  const name = 'Zoë 李 👩‍💻 ✅ — “quotes” \\ back\\slash "double" \u2028 tab\tend';
  const settings = { ...core.defaultSettings(), templates: { passed: 'Verified {{name}}', failed: '', manualReview: '' } };
  const instance = new core.Core(core.compileTemplates(settings));
  const decision = core.applyEvent(instance, verification({ name }), event('succeeded'), T0 + 1000);
  instance.free();
  assert.equal(decision.kind, 'applied');
  assert.equal(decision.verification.name, name);
  const comment = JSON.parse(decision.actions.comment.body);
  const text = comment.body.content[0].content.map((n) => n.text).join('');
  // The renderer turns control characters and line separators into spaces, and keeps the rest.
  assert.equal(text, `Verified ${name.replace('\u2028', ' ').replace('\t', ' ')}`);
});

test('an unpaired surrogate reads as U+FFFD, as in any string passed to wasm, and never fails a call', () => {
  const instance = new core.Core(core.defaultSettings());
  const decision = core.applyEvent(instance, verification({ name: 'Ann \ud800 X', requestedByName: '\udfff' }), event('succeeded'), T0 + 1000);
  instance.free();
  assert.equal(decision.kind, 'applied');
  const comment = JSON.parse(decision.actions.comment.body);
  const text = comment.body.content.flatMap((p) => p.content.map((n) => n.text ?? '\n')).join('');
  assert.match(text, /Employee: Ann \ufffd X \(ann@example\.com\)/);
  assert.match(text, /requested by \ufffd\./);
  // The record's fields are carried over as they were given (the core reads them, it does not
  // write them back).
  assert.equal(decision.verification.name, 'Ann \ud800 X');
  // A body with one is authenticated over the same bytes node:crypto hashes (U+FFFD's UTF-8).
  const secret = 'whsec-transport-0a1b2c';
  const body = '{"eventType":"SESSION_STARTED","interviewId":"sess-1","note":"\ud800"}';
  const signature = createHmac('sha256', secret).update(body).digest('hex');
  const receipt = core.receiveWebhook({
    auth: { mode: 'hmac', header: 'x-sig', encoding: 'hex', timestampHeader: '', toleranceSeconds: 300 },
    secret,
    headers: { 'x-sig': [signature] },
    body,
    nowMs: T0,
  });
  assert.equal(receipt.kind, 'event');
});

test('only the headers the authentication reads matter, but every header must be a string or strings', () => {
  const secret = 'shared-secret-1-0a1b2c';
  const input = (headers) => ({
    auth: { mode: 'sharedSecret', header: 'X-Webhook-Secret' },
    secret,
    headers,
    body: '{"eventType":"SESSION_STARTED","interviewId":"s-9"}',
    nowMs: T0,
  });
  const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`x-other-${i}`, [`v${i}`]]));
  assert.equal(core.receiveWebhook(input({ ...many, ' x-webhook-secret ': secret })).kind, 'event');
  assert.equal(core.receiveWebhook(input({ ...many, 'X-WEBHOOK-SECRET': ['wrong', secret] })).kind, 'event');
  assert.equal(core.receiveWebhook(input(many)).reason, 'missing_secret_header');
  for (const bad of [{ host: 5 }, { host: [null] }, { host: { a: 1 } }]) {
    assert.throws(
      () => core.receiveWebhook(input({ ...bad, 'x-webhook-secret': secret })),
      (e) => e.code === 'bad_input',
    );
  }
});

test('a Core authenticates with its own settings, passed only the headers it names, with the same receipts', () => {
  const vectors = JSON.parse(readFileSync(new URL('../vectors/webhook.json', import.meta.url), 'utf8'));
  const cases = vectors.groups.filter((g) => g.function === 'receiveWebhook').flatMap((g) => g.cases);
  assert.ok(cases.length > 50);
  const extra = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`X-Forwarded-${i}`, [`v${i}`]]));
  for (const {
    name,
    args: [input],
  } of cases) {
    const instance = new core.Core({ ...core.defaultSettings(), webhookAuth: input.auth });
    const { auth, ...delivery } = input;
    const expected = core.receiveWebhook(input);
    assert.deepEqual(instance.receiveWebhook(delivery), expected, name);
    assert.deepEqual(core.receiveDelivery(instance, { ...delivery, headers: { ...extra, ...delivery.headers } }), expected, name);
    instance.free();
  }

  const instance = new core.Core({ ...core.defaultSettings(), webhookAuth: { mode: 'sharedSecret', header: ' X-Webhook-Secret ' } });
  assert.deepEqual(instance.webhookHeaders, ['x-webhook-secret']);
  const delivery = (headers) => ({ secret: 's-1-shared-0a1b2c3d', headers, body: '{"eventType":"SESSION_STARTED","interviewId":"s-9"}', nowMs: T0 });
  assert.equal(core.receiveDelivery(instance, delivery({ ...extra, '  X-WEBHOOK-secret ': 's-1-shared-0a1b2c3d' })).kind, 'event');
  assert.equal(core.receiveDelivery(instance, delivery({ ...extra, 'x-webhook-secrets': 's-1-shared-0a1b2c3d' })).reason, 'missing_secret_header');
  assert.equal(core.receiveDelivery(instance, delivery({ 'x-webhook-secret': ['wrong', 's-1-shared-0a1b2c3d'] })).kind, 'event');
  // Names the core trims differently from JS (Unicode whitespace) still reach it: same receipt.
  for (const name of ['\u0085x-webhook-secret', 'x-webhook-secret\u2003', '\ufeffx-webhook-secret']) {
    const headers = { ...extra, [name]: 's-1-shared-0a1b2c3d' };
    assert.deepEqual(core.receiveDelivery(instance, delivery(headers)), instance.receiveWebhook(delivery(headers)), JSON.stringify(name));
  }
  // The Core drops what a caller passes beyond its names, as receiveWebhook does.
  assert.equal(instance.receiveWebhook(delivery({ ...extra, 'x-webhook-secret': 's-1-shared-0a1b2c3d' })).kind, 'event');
  assert.throws(
    () => instance.receiveWebhook({ ...delivery({}), body: 42 }),
    (e) => e.code === 'bad_input',
  );
  instance.free();
});

test("applyEvent: the core reads only the record's EventRecord fields, and the rest of the record is carried over", () => {
  const instance = new core.Core(core.defaultSettings());
  const whole = verification({ destination: '+1 •••• 1234', requestedAtMs: T0 - 5, expiresAtMs: T0 + 1, extra: { kept: [1, 2] } });
  for (const [type, rawType] of [
    ['succeeded', 'SESSION_SUCCEEDED'],
    ['started', 'onboardingStatus'],
    ['pendingReview', ''],
  ]) {
    const decision = core.applyEvent(instance, whole, event(type, { rawType, identityId: 'id-9' }), T0 + 9000);
    // The same decision as from the whole record: the pick leaves out nothing the core reads
    // (a field left out would be refused as bad_input).
    const [change, commentBody, propertyBody, payload] = instance.decideEvent(whole, event(type, { rawType, identityId: 'id-9' }), T0 + 9000);
    assert.equal(decision.kind, change.kind, type);
    if (change.kind !== 'applied') continue;
    assert.deepEqual(decision.actions, {
      ...change.actions,
      ...(change.actions.comment ? { comment: { ...change.actions.comment, body: commentBody } } : {}),
      property: { ...change.actions.property, body: propertyBody },
      realtime: { ...change.actions.realtime, payload },
    });
    assert.deepEqual(decision.verification, {
      ...whole,
      status: change.change.status,
      statusText: change.change.statusText,
      updatedAtMs: T0 + 9000,
      identityId: 'id-9',
      history: [...whole.history, change.change.historyEntry],
      appliedEvents: [decision.idempotencyKey],
    });
  }
  // An ignored event answers the record it was given.
  const done = verification({ status: 'passed' });
  const ignored = core.applyEvent(instance, done, event('failed'), T0);
  assert.deepEqual([ignored.kind, ignored.reason], ['ignored', 'afterFinal']);
  assert.equal(ignored.verification, done);
  // The oldest idempotency keys drop off as the record reaches 50 of them.
  const full = verification({ status: 'requested', appliedEvents: Array.from({ length: 50 }, (_, i) => `sess-1:old-${i}`) });
  const keys = core.applyEvent(instance, full, event('started'), T0).verification.appliedEvents;
  assert.deepEqual([keys.length, keys[0], keys[49]], [50, 'sess-1:old-1', 'sess-1:started']);
  instance.free();
});

test('values of the wrong shape are refused with bad_input, never read half-way', () => {
  const instance = new core.Core(core.defaultSettings());
  const cases = [
    () => core.applyEvent(instance, verification({ history: 'none' }), event('started'), T0),
    () => core.applyEvent(instance, verification(), { ...event('started'), type: 'teleported' }, T0),
    () => core.applyEvent(instance, verification({ status: 'teleported' }), event('started'), T0),
    () => core.applyEvent(instance, verification({ appliedEvents: [1.5] }), event('started'), T0),
    () => core.applyEvent(instance, verification({ identityId: 10n }), event('started'), T0),
    () => instance.decideEvent({ ...verification(), sessionId: undefined }, event('started'), T0),
    () => core.applyEvent(instance, undefined, event('started'), T0),
    () => core.receiveWebhook({ auth: { mode: 'hmac' }, secret: 's', headers: {}, body: '', nowMs: T0 }),
    () => core.receiveWebhook({ auth: { mode: 'sharedSecret', header: 'x' }, secret: 's', headers: {}, body: 42, nowMs: T0 }),
    () => core.receiveWebhook({ auth: { mode: 'sharedSecret', header: 'x' }, secret: 's', headers: {}, body: '', nowMs: 1.5 }),
    () => core.receiveWebhook(null),
  ];
  for (const call of cases) {
    assert.throws(call, (e) => e instanceof Error && e.code === 'bad_input', String(call));
  }
  instance.free();
});

test('answers are plain objects and arrays, with 64-bit times as numbers', () => {
  const instance = new core.Core(core.defaultSettings());
  const decision = core.applyEvent(instance, verification(), event('failed', { identityId: 'id-7' }), T0 + 5000);
  instance.free();
  assert.equal(Object.getPrototypeOf(decision), Object.prototype);
  assert.ok(Array.isArray(decision.verification.history));
  assert.equal(decision.verification.updatedAtMs, T0 + 5000);
  assert.equal(typeof decision.actions.property.body, 'string');
  assert.deepEqual(decision.actions.property.headers, { Accept: 'application/json', 'Content-Type': 'application/json' });
});
