// The audit trail end to end on the local host: what the real actions write (one entry per
// change, in the change's transaction, under a key naming it), a redelivered webhook writing no
// second entry, and the report resolver (Jira admins only) against what the trail holds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sign } from '../../dev/host/incode/webhooks.mjs';
import { ACCOUNTS, WEBHOOK_SECRET, admin, configure, fails, ok, panel, sendLink, startApp } from './helpers.mjs';

let host;

before(async () => {
  host = await startApp();
  await configure(host);
});

after(async () => {
  await host?.stop();
});

const entries = () => host.kvs.entityKeys('audit').map((key) => ({ key, ...host.kvs.getEntity('audit', key) }));
const DAY = 86_400_000;
const year = () => ({ fromMs: Date.now() - 365 * DAY, toMs: Date.now() + DAY, projectKey: '', actorAccountId: '', outcome: '' });

/** Every call of a report part, cursor to cursor; answers [calls, the answers]. */
async function collect(as, filter, part) {
  const answers = [];
  let cursor;
  let totals;
  for (;;) {
    const data = ok(await admin(host, as, 'admin.report', { filter, part, cursor, totals }), `admin.report ${part}`);
    answers.push(data);
    cursor = data.cursor;
    totals = data.totals;
    if (!cursor) return answers;
  }
}

test('sends, results, cancels, settings changes and credential tests each write one entry; a redelivered result writes none', async () => {
  const before = entries().length;
  const { verification, session } = await sendLink(host, ACCOUNTS.avery, 'HELP-1', { email: 'casey@example.test', delivery: 'EMAIL' });
  await host.incode.complete(session.id, 'pass');
  await host.incode.idle();
  const sid = verification.sessionId;
  const sent = host.kvs.getEntity('audit', `sent:${sid}`);
  assert.equal(sent.action, 'sent');
  assert.equal(sent.issueKey, 'HELP-1');
  assert.equal(sent.projectKey, 'HELP');
  assert.equal(sent.actorAccountId, ACCOUNTS.avery);
  assert.equal(sent.personEmail, 'casey@example.test');
  assert.equal(sent.channel, 'EMAIL');
  const outcome = host.kvs.getEntity('audit', `outcome:${sid}:succeeded`);
  assert.equal(outcome.action, 'outcome');
  assert.equal(outcome.outcome, 'passed');
  assert.ok(outcome.durationMs > 0, 'the time from send to result');
  assert.equal(outcome.actorAccountId, ACCOUNTS.avery, 'counted against the agent who sent the link');
  const afterFlow = entries().length;

  // Incode delivers the same result again (its retry): the same key, no second entry.
  const event = host.incode.deliveries.find((d) => d.sessionId === sid && d.eventType === 'SESSION_SUCCEEDED').event;
  const text = JSON.stringify(event);
  const again = await fetch(host.webtriggerUrl('incode-webhook'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-incode-signature': sign(WEBHOOK_SECRET, text, 'hex') },
    body: text,
  });
  assert.equal(again.status, 200);
  assert.equal(entries().length, afterFlow, 'a redelivery writes no entry');
  assert.equal(entries().filter((e) => e.sessionId === sid && e.action === 'outcome').length, 1);

  // A cancel, then a result after it: a cancel entry and a late-result entry.
  const second = await sendLink(host, ACCOUNTS.avery, 'HELP-1', { email: 'casey@example.test', delivery: 'EMAIL' });
  ok(await panel(host, ACCOUNTS.avery, 'HELP-1', 'panel.cancel', { verificationId: second.verification.id }), 'cancelling');
  await host.incode.complete(second.session.id, 'pass');
  await host.incode.idle();
  const sid2 = second.verification.sessionId;
  assert.equal(host.kvs.getEntity('audit', `cancelled:${sid2}`)?.action, 'cancelled');
  assert.equal(host.kvs.getEntity('audit', `late:${sid2}:succeeded`)?.action, 'lateResult');

  // The admin's actions: who did what, never a secret's value.
  ok(await admin(host, ACCOUNTS.alex, 'admin.testCredentials'));
  const tests = entries().filter((e) => e.action === 'credentialsTested');
  assert.ok(tests.length >= 2 && tests.every((e) => e.actorAccountId === ACCOUNTS.alex && e.outcome === 'connected'));
  const saves = entries().filter((e) => e.action === 'settingsChanged');
  assert.ok(saves.length >= 1 && saves[0].detail.includes('webhookSecret'), saves[0]?.detail);
  // Named as the admin page names people (Jira's `myself`, asked with the permission check).
  assert.ok(
    [...tests, ...saves].every((e) => e.actorName === 'Alex Admin'),
    JSON.stringify([...tests, ...saves].map((e) => e.actorName)),
  );
  // A test link from the settings page: who sent it, how and to whom.
  const test = ok(await admin(host, ACCOUNTS.alex, 'admin.sendTest', { email: 'casey@example.test', delivery: 'EMAIL' }));
  const sentTest = host.kvs.getEntity('audit', `testSent:${test.sessionId}`);
  assert.deepEqual(
    [sentTest?.action, sentTest?.actorAccountId, sentTest?.actorName, sentTest?.channel, sentTest?.personEmail, sentTest?.detail],
    ['testSent', ACCOUNTS.alex, 'Alex Admin', 'EMAIL', '', 'test link from the settings page for c•••@example.test'],
    'no address in full: no account stands behind it for an erasure to find',
  );
  const csv = (await collect(ACCOUNTS.alex, { ...year(), actorAccountId: ACCOUNTS.alex }, 'csv')).map((a) => a.csv).join('');
  assert.match(csv, /\r\n[^\r\n]*,testSent,[^\r\n]*,Alex Admin,/, 'the export lists the test link');
  assert.match(csv, /\r\n[^\r\n]*,settingsChanged,[^\r\n]*,Alex Admin,/, 'the export names the admin');
  assert.ok(!JSON.stringify(entries()).includes(WEBHOOK_SECRET), 'no secret in the trail');
  assert.ok(entries().length > before);
});

test('only Jira admins read the report; its totals count what the trail holds', async () => {
  fails(await admin(host, ACCOUNTS.avery, 'admin.report', { filter: year(), part: 'rows' }), 'forbidden', 'an agent');
  fails(await admin(host, ACCOUNTS.alex, 'admin.report', { filter: { ...year(), fromMs: Date.now() + 2 * DAY } }), 'validation', 'a period backwards');
  const answers = await collect(ACCOUNTS.alex, year(), 'totals');
  const summary = answers.at(-1).summary;
  const all = entries();
  assert.equal(summary.verifications, all.filter((e) => e.action === 'sent' || e.action === 'resent').length);
  assert.equal(summary.passed, all.filter((e) => e.action === 'outcome' && e.outcome === 'passed').length);
  const rows = (await collect(ACCOUNTS.alex, year(), 'rows')).flatMap((a) => a.rows);
  assert.equal(rows.length, all.length);
});

test('the daily retention run removes entries older than the setting, and only those', async () => {
  const now = Date.now();
  const old = { schemaVersion: 2, action: 'sent', atMs: now - 401 * DAY, projectKey: 'HELP', actorAccountId: 'a', personAccountId: 'p', outcome: 'requested' };
  host.kvs.seedEntity('audit', [
    ['sent:old-1', old],
    ['sent:old-2', { ...old, atMs: now - 500 * DAY }],
    ['sent:young', { ...old, atMs: now - 399 * DAY }],
  ]);
  const kept = entries().length - 2;
  const answer = await host.invokeScheduledTrigger('incode-audit-retention');
  assert.equal(answer.statusCode, 200);
  assert.deepEqual(JSON.parse(answer.body), { removed: 2, done: true });
  assert.equal(host.kvs.getEntity('audit', 'sent:old-1'), undefined);
  assert.equal(host.kvs.getEntity('audit', 'sent:old-2'), undefined);
  assert.ok(host.kvs.getEntity('audit', 'sent:young'));
  assert.equal(entries().length, kept);
});

test("a closed account's entries keep the fact and lose the person, and the totals stay", async () => {
  const casey = ACCOUNTS.casey;
  const naming = () => entries().filter((e) => e.personAccountId === casey);
  const before = naming();
  assert.ok(before.length >= 2, 'the verifications above name the person');
  const filter = year();
  const totals = async () => {
    let cursor;
    let acc;
    for (;;) {
      const data = ok(await admin(host, ACCOUNTS.alex, 'admin.report', { filter, part: 'totals', cursor, totals: acc }));
      if (!data.cursor) return data.summary;
      cursor = data.cursor;
      acc = data.totals;
    }
  };
  const summaryBefore = await totals();
  host.jira.users.setActive(casey, false);
  const answer = await host.invokeScheduledTrigger('incode-privacy-report');
  assert.equal(answer.statusCode, 200);
  assert.deepEqual(naming(), []);
  for (const { key } of before) {
    const e = host.kvs.getEntity('audit', key);
    assert.equal(e.erased, true, key);
    assert.equal(e.personEmail, '');
    assert.equal(e.personName, '');
    assert.ok(e.issueKey && e.action, 'the fact stays');
  }
  assert.ok(!JSON.stringify(entries()).includes('casey@example.test'), 'the email is nowhere in the trail');
  assert.deepEqual(await totals(), summaryBefore);
});
