// How values cross the boundary of the bundled core on a delivery's way through its planner
// (rust/src/binding/core_api.rs): the executor's results as JSON text written by the engine, each
// step as JSON text parsed by the engine, the raw body as its UTF-8. The JS-facing values must be
// exactly what they would be object by object: every character kept, an unpaired surrogate read
// as U+FFFD (as any JS string passed to wasm), and values of the wrong shape refused with
// `bad_input`.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { bundledCore } from '../support/bundled-core.mjs';
import { buildCorpus } from '../../bench/corpus.mjs';

let core;
let corpus;
let installations = 0;

before(async () => {
  core = await bundledCore('transport');
  corpus = buildCorpus({ seed: 11, perType: 3, compileTemplates: core.compileTemplates });
});

/** The corpus's first genuine passed session under the settings `settingsId`, delivered the first time. */
const passed = (settingsId = 'shared-secret') =>
  corpus.cases.find((c) => c.settings === settingsId && c.type === 'succeeded' && !c.forged && !c.label.includes('retry'));
/** The stored settings of a corpus case (custom templates compiled, as saving leaves them). */
const settingsOf = (c) => corpus.settings.find((s) => s.id === c.settings).value;

/**
 * Case `c` delivered through the planner as the webhook function runs it, each read answered
 * from storage holding `settings`, the corpus's secret and `verification`, each effect begun by
 * its handle and done. Answers the steps, the reply, the record written and the comment posted.
 */
function deliver(c, { body = c.input.body, headers = c.input.headers, verification = c.verification, settings = settingsOf(c) } = {}) {
  const stored = {
    settings: { revision: 1, settings, secretsSet: {} },
    secrets: { webhookSecret: corpus.secret },
    [`v:${verification.sessionId}`]: verification,
  };
  const nowMs = c.input.nowMs;
  const steps = [core.deliveryStart(body, `transport-${++installations}`, { method: 'POST', headers, nowMs, owner: 'o-1', nonce: 'n-1' })];
  const calls = [];
  while (steps.at(-1).state !== undefined) {
    const step = steps.at(-1);
    calls.push(...step.running.map((handle) => core.effectBegin(handle, nowMs).call));
    const results = {
      nowMs,
      reads: step.reads.map((r) => ({ value: stored[r.key] ?? null })),
      swaps: step.swaps.map(() => ({ value: null })),
      effects: step.running.map(() => ({ ended: 'done', status: 200 })),
      queries: [],
    };
    steps.push(core.deliveryNext(step.state, results));
  }
  const record = steps.flatMap((s) => s.writes).find((w) => w.key === `v:${verification.sessionId}`)?.value;
  const posted = calls.find((call) => call?.request.method === 'POST' && call.request.path.endsWith('/comment'));
  return { steps, reply: steps.at(-1).reply, record, comment: posted && JSON.parse(posted.request.body).body };
}

test('every character of a stored value comes back as it went in, through a rendered comment too', () => {
  const c = passed();
  const name = 'Zoë 李 👩‍💻 ✅ — “quotes” \\ back\\slash "double" \u2028 tab\tend';
  const settings = core.compileTemplates({ ...settingsOf(c), templates: { passed: 'Verified {{name}}', failed: '', manualReview: '' } });
  const { reply, record, comment } = deliver(c, { verification: { ...c.verification, name, extra: { kept: [1, 'ü'] } }, settings });
  assert.equal(reply.statusCode, 200);
  assert.equal(record.name, name);
  assert.deepEqual(record.extra, { kept: [1, 'ü'] }, 'a field this release does not know is written back as it was');
  const text = comment.content[0].content.map((n) => n.text).join('');
  // The renderer turns control characters and line separators into spaces, and keeps the rest.
  assert.equal(text, `Verified ${name.replace('\u2028', ' ').replace('\t', ' ')}`);
});

test('an unpaired surrogate reads as U+FFFD, as in any string passed to wasm, and never fails a call', () => {
  const c = passed();
  const { reply, record, comment } = deliver(c, { verification: { ...c.verification, name: 'Ann \ud800 X', requestedByName: '\udfff' } });
  assert.equal(reply.statusCode, 200);
  const text = comment.content.flatMap((p) => p.content.map((n) => n.text ?? '\n')).join('');
  assert.match(text, /Employee: Ann \ufffd X \(/);
  assert.match(text, /requested by \ufffd\./);
  assert.equal(record.name, 'Ann \ufffd X');
  // A body with one is authenticated over the same bytes node:crypto hashes (U+FFFD's UTF-8).
  const hmac = passed('hmac-hex-timestamp');
  const body = hmac.input.body.replace(/}$/, ',"note":"\ud800"}');
  const [timestamp] = hmac.input.headers['x-incode-timestamp'];
  const signature = createHmac('sha256', corpus.secret).update(`${timestamp}.${body}`).digest('hex');
  const headers = { ...hmac.input.headers, 'x-incode-signature': [`sha256=${signature}`] };
  assert.equal(deliver(hmac, { body, headers }).reply.statusCode, 200);
});

test('only the headers the authentication reads matter, and headers of another shape than Forge’s read as none', () => {
  const c = passed();
  const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`x-other-${i}`, [`v${i}`]]));
  assert.equal(deliver(c, { headers: { ...many, ...c.input.headers } }).reply.statusCode, 200);
  for (const bad of [{ host: 5 }, { host: [null] }, { host: { a: 1 } }]) {
    const { steps, reply } = deliver(c, { headers: { ...c.input.headers, ...bad } });
    assert.equal(reply.statusCode, 401, JSON.stringify(bad));
    assert.equal(JSON.parse(reply.body).reason, 'missing_secret_header', JSON.stringify(bad));
    assert.equal(steps.flatMap((s) => s.writes).filter((w) => w.key.startsWith('v:')).length, 0);
  }
});

test('values of the wrong shape are refused with bad_input, never read half-way', () => {
  const c = passed();
  const input = { method: 'POST', headers: c.input.headers, nowMs: c.input.nowMs, owner: 'o-1', nonce: 'n-1' };
  const start = () => core.deliveryStart(c.input.body, `transport-${++installations}`, input).state;
  const cases = [
    () => core.deliveryStart(c.input.body, 'transport-shape', { ...input, nowMs: 1.5 }),
    () => core.deliveryStart(c.input.body, 'transport-shape', { ...input, headers: undefined, owner: 7 }),
    () => core.deliveryStart(42, 'transport-shape', input),
    () => core.deliveryNext(start(), { nowMs: 1, reads: 'none' }),
    () => core.deliveryNext(start(), { nowMs: 1.5, reads: [] }),
    () => core.deliveryNext(start(), { nowMs: 1, reads: [{ value: 10n }] }),
    () => core.deliveryNext(start(), undefined),
  ];
  for (const call of cases) {
    assert.throws(call, (e) => e instanceof Error && e.code === 'bad_input', String(call));
  }
});

test('steps are plain objects and arrays, with 64-bit times as numbers', () => {
  const c = passed();
  const { steps, record } = deliver(c);
  for (const step of steps) assert.equal(Object.getPrototypeOf(step), Object.prototype);
  assert.ok(Array.isArray(record.history));
  assert.equal(record.updatedAtMs, c.input.nowMs);
  assert.equal(typeof record.expiresAtMs, 'number');
});
