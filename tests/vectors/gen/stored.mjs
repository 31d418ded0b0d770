#!/usr/bin/env node
// Writes tests/vectors/stored/<release>/: what the app stores, captured from a run of the real
// functions on the local host that goes through every state a store can hold. Each store is
// the host's own data directory (kvs.json, jira.json, incode.json, host.json), so a test can start
// the host on a copy of it and the app finds the site, the sandbox and its stored values as an
// installation upgraded in place would.
//
//   node tests/vectors/gen/stored.mjs <release>        (e.g. v1; refuses to overwrite)
//
// Run once per release that changes a stored shape; fixtures are never regenerated or edited.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { sign } from '../../../dev/host/incode/webhooks.mjs';
import { ACCOUNTS, WEBHOOK_SECRET, admin, appComments, configure, ok, panel, sandboxSettings, sendLink, startApp } from '../../app/helpers.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const release = process.argv[2];
if (!/^v\d+$/.test(release ?? '')) throw new Error('usage: node tests/vectors/gen/stored.mjs v<N>');
const outDir = path.resolve(HERE, '../stored', release);
if (fs.existsSync(outDir)) throw new Error(`${outDir} exists: fixtures are never regenerated`);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'incode-stored-'));
const host = await startApp({ memory: false, dataDir });
/** What each store holds, for the README. */
const notes = {};
/** Sessions by the state their verification is left in. */
const sessions = {};

const newRequest = (summary, reporter = ACCOUNTS.casey) => host.jira.issues.add({ project: 'HELP', summary, reporter });
const send = async (summary, payload = { email: 'casey@example.test', delivery: 'EMAIL' }, reporter) => {
  const key = newRequest(summary, reporter);
  return { key, ...(await sendLink(host, ACCOUNTS.avery, key, payload)) };
};
const deliver = async (body, headers) => {
  const answer = await fetch(host.webtriggerUrl('incode-webhook'), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: answer.status, json: await answer.json() };
};
const status = (sessionId) => host.kvs.get(`v:${sessionId}`)?.status;
const lockOf = (sessionId) => host.kvs.getEntity('lock', `lock:${sessionId}`);

/** Copies the data directory as it is now (the host writes kvs.json on every write). */
function snapshot(name, what) {
  const target = path.join(outDir, name);
  fs.mkdirSync(target, { recursive: true });
  for (const file of ['kvs.json', 'host.json']) fs.copyFileSync(path.join(dataDir, file), path.join(target, file));
  // The Jira site and the sandbox are saved on stop; their state now is taken from memory.
  fs.writeFileSync(path.join(target, 'jira.json'), JSON.stringify(host.jira.snapshot()));
  fs.writeFileSync(path.join(target, 'incode.json'), JSON.stringify(host.incode.snapshot()));
  notes[name] = what;
}

try {
  // ---- HMAC settings, and a verification in every status --------------------------------------
  await configure(host, { portalEnabled: true });

  let run = await send('Passes');
  await host.incode.complete(run.session.id, 'pass');
  sessions.passed = run.session.id;

  run = await send('Fails', { email: 'drew@example.test', delivery: 'SMS', phone: '+12025550199' }, ACCOUNTS.drew);
  await host.incode.complete(run.session.id, 'fail');
  sessions.failed = run.session.id;

  run = await send('Manual review');
  await host.incode.complete(run.session.id, 'review');
  sessions.manualReview = run.session.id;

  run = await send('Review approved');
  await host.incode.complete(run.session.id, 'review');
  await host.incode.complete(run.session.id, 'approve');
  sessions.reviewApproved = run.session.id;

  run = await send('Review rejected');
  await host.incode.complete(run.session.id, 'review');
  await host.incode.complete(run.session.id, 'reject');
  sessions.reviewRejected = run.session.id;

  run = await send('Requested');
  sessions.requested = run.session.id;

  run = await send('In progress');
  await host.incode.complete(run.session.id, 'open');
  sessions.inProgress = run.session.id;

  // Expired: the link's time runs out (moved into the past here), then the panel marks it.
  run = await send('Expired');
  const expiring = host.kvs.get(`v:${run.session.id}`);
  const meta = host.kvs.inspect(`v:${run.session.id}`);
  host.kvs.set(`v:${run.session.id}`, { ...expiring, expiresAtMs: expiring.requestedAtMs - 1 }, { ttlMs: meta.expiresAt - Date.now() });
  assert.equal(ok(await panel(host, ACCOUNTS.avery, run.key, 'panel.getState')).current.status, 'expired');
  sessions.expired = run.session.id;

  // Replaced by a resend (cancelled as superseded), then the new link cancelled by an agent.
  run = await send('Resent then cancelled', { email: 'casey@example.test', delivery: 'SMS', phone: '+12025550177' });
  const second = ok(await panel(host, ACCOUNTS.avery, run.key, 'panel.resend', { verificationId: run.verification.id })).verification;
  ok(await panel(host, ACCOUNTS.blake, run.key, 'panel.cancel', { verificationId: second.id }));
  sessions.replacedByResend = run.session.id;
  sessions.cancelled = second.sessionId;

  // A careful marker: the webhook's transaction fails after its comment landed; the retry finishes.
  run = await send('Careful after a lost transaction');
  await host.incode.complete(run.session.id, 'open');
  host.faults.add({
    target: 'kvs',
    match: (r) => r.path === '/api/v1/transaction' && r.body.includes(`"v:${run.session.id}"`) && r.body.includes('"status":"passed"'),
    status: 500,
  });
  await host.incode.complete(run.session.id, 'pass');
  assert.equal(appComments(host, run.key).length, 1);
  assert.equal(lockOf(run.session.id).careful, true);
  sessions.careful = run.session.id;

  // A live lease: a holder whose transaction and whose last word both fail (as a holder that
  // died mid-delivery); Incode's retries meanwhile find the lock busy.
  run = await send('Holder died');
  await host.incode.complete(run.session.id, 'open');
  // Every transaction naming the session fails: the record's, and the lock's conditional sets
  // (the holder's last word, a busy taker's put-back).
  const died = host.faults.add({
    target: 'kvs',
    times: Infinity,
    match: (r) => r.path === '/api/v1/transaction' && r.body.includes(`:${run.session.id}"`),
    status: 500,
  });
  await host.incode.complete(run.session.id, 'fail');
  const lease = lockOf(run.session.id);
  assert.ok(lease.owner !== '' && lease.untilMs > Date.now(), `a live lease: ${JSON.stringify(lease)}`);
  died.remove();
  sessions.liveLease = run.session.id;

  // A gated transition: "Identity verified" on Resolve with one transition per verification,
  // passed once by the passed verification (its claim and the gate's audit entries).
  host.jira.workflows.addRule({
    workflow: 'IT Help Desk workflow',
    transition: 'Resolve',
    type: 'validator',
    moduleKey: 'identity-verified',
    configuration: { withinMinutes: 1440, samePerson: true, once: true },
    by: ACCOUNTS.alex,
  });
  run = await send('Gated resolve');
  await host.incode.complete(run.session.id, 'pass');
  await host.jira.issues.transitionAsUser(run.key, 'Resolve', { by: ACCOUNTS.avery });
  assert.ok(
    host.kvs.entityKeys('audit').some((k) => k.startsWith('gate:')),
    'the gate audited its pass',
  );
  sessions.gated = run.session.id;

  // Delivery log verdicts besides accepted and error: duplicate, ignored, rejected, invalid.
  const replay = host.incode.deliveries.find((d) => d.sessionId === sessions.passed && d.eventType === 'SESSION_SUCCEEDED');
  const replayBody = JSON.stringify({
    eventType: 'SESSION_SUCCEEDED',
    interviewId: sessions.passed,
    loginHint: 'casey@example.test',
    identityId: host.incode.sessions.get(sessions.passed).identityId,
  });
  assert.ok(replay);
  assert.equal((await deliver(replayBody, { 'x-incode-signature': sign(WEBHOOK_SECRET, replayBody, 'hex') })).json.result, 'duplicate');
  const unknown = JSON.stringify({ eventType: 'SESSION_SUCCEEDED', interviewId: 'aaaaaaaaaaaaaaaaaaaaaaaa', loginHint: 'casey@example.test' });
  assert.equal((await deliver(unknown, { 'x-incode-signature': sign(WEBHOOK_SECRET, unknown, 'hex') })).json.result, 'ignored');
  assert.equal((await deliver(unknown, { 'x-incode-signature': sign('not-the-secret', unknown, 'hex') })).status, 401);
  const invalid = '{"eventType":';
  assert.equal((await deliver(invalid, { 'x-incode-signature': sign(WEBHOOK_SECRET, invalid, 'hex') })).status, 400);

  // A test session started from the admin page (its marker), and an event for it.
  const test = ok(await admin(host, ACCOUNTS.alex, 'admin.sendTest', { email: 'casey@example.test', delivery: 'EMAIL' }));
  await host.incode.complete(test.sessionId, 'pass');
  sessions.testSession = test.sessionId;
  await host.incode.idle();

  for (const [state, sessionId] of Object.entries(sessions)) {
    const expected = {
      requested: 'requested',
      inProgress: 'inProgress',
      passed: 'passed',
      failed: 'failed',
      manualReview: 'manualReview',
      reviewApproved: 'passed',
      reviewRejected: 'failed',
      expired: 'expired',
      replacedByResend: 'cancelled',
      cancelled: 'cancelled',
      careful: 'passed',
      liveLease: 'inProgress',
      gated: 'passed',
      testSession: undefined,
    }[state];
    assert.equal(status(sessionId), expected, `${state}: ${sessionId}`);
  }
  assert.ok(host.kvs.getSecret('token:incode'), 'the Incode token is cached');
  snapshot(
    'hmac',
    'HMAC webhooks (hex, no timestamp header), custom templates (compiled), portal enabled; ' +
      'verifications in every status (the expired link: its expiry moved into the past, then marked by the panel); a live lease, released and careful lock markers, issue locks (custom entity `lock`); ' +
      'the audit trail (entity `audit`), open links (entity `open-verification`), a gated transition with its claim; ' +
      'delivery log entries of every verdict; checklist, rate counters, issue/person/account indexes, ' +
      'a test-session marker, the cached Incode token; secrets set.',
  );

  // ---- Shared-secret webhooks -----------------------------------------------------------------
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { ...sandboxSettings(), webhookAuth: { mode: 'sharedSecret', header: 'x-incode-secret' } }));
  const info = ok(await admin(host, ACCOUNTS.alex, 'admin.getSettings'));
  host.incode.configureWebhook({ url: info.webhook.url, mode: 'sharedSecret', secret: WEBHOOK_SECRET, header: 'x-incode-secret' });
  run = await send('Shared secret passes');
  await host.incode.complete(run.session.id, 'pass');
  assert.equal(status(run.session.id), 'passed');
  run = await send('Shared secret in progress');
  await host.incode.complete(run.session.id, 'open');
  assert.equal(status(run.session.id), 'inProgress');
  await host.incode.idle();
  snapshot(
    'shared-secret',
    'the HMAC store after the admin switched to shared-secret webhooks (default templates ' +
      'again), with one more passed and one more in-progress verification.',
  );

  // ---- OAuth webhooks ---------------------------------------------------------------------------
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { webhookAuth: { mode: 'oauth', clientId: 'incode-webhooks', tokenTtlSeconds: 600 } }));
  const oauth = ok(await admin(host, ACCOUNTS.alex, 'admin.getSettings')).webhook;
  host.incode.configureWebhook({ url: oauth.url, mode: 'oauth', secret: WEBHOOK_SECRET, tokenUrl: oauth.tokenUrl, clientId: 'incode-webhooks' });
  run = await send('OAuth fails');
  await host.incode.complete(run.session.id, 'fail');
  assert.equal(status(run.session.id), 'failed');
  run = await send('OAuth in progress');
  await host.incode.complete(run.session.id, 'open');
  assert.equal(status(run.session.id), 'inProgress');
  await host.incode.idle();
  snapshot(
    'oauth',
    'the shared-secret store after the admin switched to OAuth webhooks (only webhookAuth ' +
      'saved), with one more failed and one more in-progress verification.',
  );
} finally {
  await host.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

const commit = process.env.STORED_RELEASE_COMMIT ?? 'unknown';
const readme = [
  `# Stored values of release ${release}`,
  '',
  `Captured by \`node tests/vectors/gen/stored.mjs ${release}\` from the app at commit \`${commit}\`, on the local`,
  "host: each directory is the host's data directory (`kvs.json`: the KVS in the host's persisted",
  'format `{ version: 1, data: [[key, { value, createdAt, updatedAt, expiresAt }]], secrets: [...], entities: [[name, [[key, {...}]]]] }`,',
  'times in ms; `jira.json`, `incode.json`, `host.json`: the site, the sandbox and the installation).',
  'Secrets are the sandbox\'s (README "Sandbox credentials"). Never edited: a later release adds its own.',
  '',
  ...Object.entries(notes).map(([name, what]) => `- \`${name}/\`: ${what}`),
  '',
  'Sessions by the state the `hmac` store leaves them in:',
  '',
  ...Object.entries(sessions).map(([state, id]) => `- ${state}: \`${id}\``),
  '',
];
fs.writeFileSync(path.join(outDir, 'README.md'), readme.join('\n'));
fs.writeFileSync(path.join(outDir, 'sessions.json'), `${JSON.stringify(sessions, null, 2)}\n`);
console.log(`wrote ${outDir}`);
