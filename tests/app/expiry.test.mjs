// The hourly expiry run (scheduled trigger incode-expiry-sweep): a link nobody looked at after its
// expiry is saved as expired by the panel's own planner (the field, one audit entry), a second run
// does nothing, a result after it is a late result; and the records of earlier releases, which
// have no open-verification entry, are found from the issue index and expired too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createManualClock } from '../../dev/host/clock.mjs';
import { sign } from '../../dev/host/incode/webhooks.mjs';
import { ACCOUNTS, WEBHOOK_SECRET, captureConsole, configure, fixtureStore, sendLink, startApp } from './helpers.mjs';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../vectors/stored');
const clock = createManualClock(Date.UTC(2026, 11, 6, 10, 0, 0));
const dirs = [];
let host;
let logs;

before(async () => {
  logs = captureConsole();
  host = await startApp({ now: clock });
  await configure(host);
});

after(async () => {
  await host?.stop();
  logs?.restore();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const field = (h, key) => h.jira.issues.get(key).appFields.find((f) => f.name === 'Identity verification');
const expiredEntries = (h, sid) =>
  h.kvs
    .entityKeys('audit')
    .map((k) => h.kvs.getEntity('audit', k))
    .filter((e) => e.action === 'expired' && e.sessionId === sid);
const sweep = async (h) => {
  const answer = await h.invokeScheduledTrigger('incode-expiry-sweep');
  assert.equal(answer.statusCode, 200, JSON.stringify(answer));
  return JSON.parse(answer.body);
};

test('a link nobody looked at is recorded as expired within the hour, once; a result after it is late', async () => {
  const key = host.jira.issues.add({ project: 'HELP', summary: 'Password reset: nobody looked', reporter: ACCOUNTS.casey });
  const { verification, session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  const sid = verification.sessionId;
  assert.match(field(host, key).value, /^Requested - /);
  assert.ok(host.kvs.getEntity('open-verification', sid), 'the send indexes the open link');

  // An installation's first run also indexes, once, what earlier releases sent (here: this link again).
  const early = await sweep(host);
  assert.deepEqual({ ...early, indexed: 0 }, { expired: 0, removed: 0, indexed: 0, done: true }, 'not due yet');
  assert.match(field(host, key).value, /^Requested - /);

  clock.advance(11 * 60_000);
  const first = await sweep(host);
  assert.equal(first.expired, 1, JSON.stringify(first));
  assert.equal(host.kvs.get(`v:${sid}`).status, 'expired');
  // The status names the link's expiry time, not the run's.
  assert.equal(field(host, key).value, 'Expired - 2026-12-06 10:10:00 UTC');
  const entries = expiredEntries(host, sid);
  assert.equal(entries.length, 1, 'audited once');
  assert.equal(entries[0].actorAccountId, ACCOUNTS.avery, "the link's agent, as when the panel notices it");
  assert.equal(entries[0].atMs, verification.expiresAtMs, "at the link's expiry, as the field says, not the run's time");
  assert.equal(host.kvs.get(`v:${sid}`).updatedAtMs, verification.expiresAtMs, 'what the panel shows beside "Expired"');
  assert.equal(host.kvs.getEntity('open-verification', sid), undefined, 'the entry goes with the expiry');

  clock.advance(60 * 60_000);
  assert.deepEqual(await sweep(host), { expired: 0, removed: 0, indexed: 0, done: true }, 'a second run does nothing');
  assert.equal(expiredEntries(host, sid).length, 1);

  // Incode's clock let the employee in after all: the result arrives after the run.
  const event = {
    eventType: 'SESSION_SUCCEEDED',
    interviewId: session.id,
    loginHint: 'casey@example.test',
    identityId: 'late-identity',
    timestamp: new Date(clock()).toISOString(),
  };
  const body = JSON.stringify(event);
  const delivered = await fetch(host.webtriggerUrl('incode-webhook'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-incode-signature': sign(WEBHOOK_SECRET, body, 'hex') },
    body,
  });
  assert.equal(delivered.status, 200);
  const record = host.kvs.get(`v:${sid}`);
  assert.equal(record.status, 'expired', 'a result after the expiry is not applied');
  assert.equal(record.lateResults.at(-1)?.reason, 'afterExpiry');
  assert.equal(host.kvs.getEntity('audit', `late:${sid}:succeeded`)?.action, 'lateResult');
  assert.match(field(host, key).value, /^Expired - /);
});

test('a link that ended before its expiry leaves nothing to do: its entry is removed', async () => {
  const key = host.jira.issues.add({ project: 'HELP', summary: 'Password reset: passed in time', reporter: ACCOUNTS.casey });
  const { verification, session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  await host.incode.complete(session.id, 'pass');
  await host.incode.idle();
  clock.advance(11 * 60_000);
  const run = await sweep(host);
  assert.deepEqual(run, { expired: 0, removed: 1, indexed: 0, done: true });
  assert.equal(host.kvs.get(`v:${verification.sessionId}`).status, 'passed');
  assert.equal(host.kvs.getEntity('open-verification', verification.sessionId), undefined);
  assert.equal(expiredEntries(host, verification.sessionId).length, 0);
});

test('a save of the expiry that failed is made by a later run: the lock it left without a rev is kept and the record read again', async () => {
  const key = host.jira.issues.add({ project: 'HELP', summary: 'Password reset: the expiry save failed', reporter: ACCOUNTS.casey });
  const { verification } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  const sid = verification.sessionId;
  clock.advance(11 * 60_000);
  host.faults.add({ target: 'kvs', match: (r) => r.path === '/api/v1/transaction' && r.body.includes(`"expired:${sid}"`), status: 500, times: 1 });
  const failed = await sweep(host);
  assert.equal(failed.expired, 0, JSON.stringify(failed));
  assert.equal(host.kvs.get(`v:${sid}`).status, 'requested', 'not saved');
  assert.equal(host.kvs.getEntity('lock', `lock:${sid}`).rev, undefined, 'the lock was given back without a rev');
  assert.ok(host.kvs.getEntity('open-verification', sid), 'the entry stays for the next run');

  clock.advance(60 * 60_000);
  const next = await sweep(host);
  assert.equal(next.expired, 1, JSON.stringify(next));
  assert.equal(host.kvs.get(`v:${sid}`).status, 'expired');
  const expiry = new Date(verification.expiresAtMs).toISOString().replace('T', ' ').slice(0, 19);
  assert.equal(field(host, key).value, `Expired - ${expiry} UTC`, 'the field says so');
  assert.equal(expiredEntries(host, sid).length, 1, 'audited once');
  assert.equal(host.kvs.getEntity('open-verification', sid), undefined, 'the entry goes with the expiry');
  assert.equal(host.kvs.getEntity('lock', `lock:${sid}`).rev, host.kvs.get(`v:${sid}`).rev, 'released at the rev saved');
  assert.deepEqual(host.faults.pending(), []);
});

/** A fixture store as a host's data directory (`fixtureStore`), removed after the tests. */
function copyStore(dir) {
  const { dataDir } = fixtureStore(dir);
  dirs.push(dataDir);
  return dataDir;
}

for (const release of ['v1', 'v2']) {
  test(`${release}: a link an earlier release sent, never looked at again, is found from the issue index and expired`, async () => {
    const sessions = JSON.parse(fs.readFileSync(path.join(FIXTURES, release, 'sessions.json'), 'utf8'));
    const old = await startApp({ memory: false, dataDir: copyStore(path.join(FIXTURES, release, 'hmac')) });
    try {
      const sid = sessions.requested;
      assert.equal(old.kvs.get(`v:${sid}`).status, 'requested');
      assert.equal(old.kvs.getEntity('open-verification', sid), undefined, 'that release wrote no entry');
      const first = await sweep(old);
      assert.ok(first.indexed >= 1, JSON.stringify(first));
      assert.ok(first.expired >= 1, JSON.stringify(first));
      assert.equal(first.done, true);
      assert.equal(old.kvs.get(`v:${sid}`).status, 'expired');
      assert.equal(expiredEntries(old, sid).length, 1);
      for (const other of ['passed', 'failed', 'cancelled', 'expired']) {
        assert.equal(old.kvs.getEntity('open-verification', sessions[other]), undefined, `${other}: not indexed`);
      }
      assert.equal(old.kvs.get('sweep:backfill')?.done, true);
      const second = await sweep(old);
      assert.deepEqual(second, { expired: 0, removed: 0, indexed: 0, done: true }, 'indexed once');
    } finally {
      await old.stop();
    }
  });
}
