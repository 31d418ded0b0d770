// The weekly personal-data report (scheduled trigger): the app reports the Atlassian accounts it
// stores; for closed accounts it erases a verified person's records and contact details, and the
// name and id of an agent on the records they sent. Accounts still open are left alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ACCOUNTS, admin, configure, ok, panel, sendLink, startApp } from './helpers.mjs';

let host;

before(async () => {
  host = await startApp();
  await configure(host);
});

after(async () => {
  await host?.stop();
});

const runReport = () => host.invokeScheduledTrigger('incode-privacy-report');

test('closed accounts are erased, open ones are kept', async () => {
  const robin = host.jira.users.add({ displayName: 'Robin Leaver', emailAddress: 'robin@example.test', accountType: 'customer' });
  const pat = host.jira.users.add({
    displayName: 'Pat Temp',
    emailAddress: 'pat@example.test',
    groups: ['jira-servicemanagement-users-local', 'helpdesk-agents'],
  });
  host.incode.directory.push({ name: 'Robin Leaver', email: 'robin@example.test', phone: '+12025550188' });

  const robinsKey = host.jira.issues.add({ project: 'HELP', summary: 'Robin locked out', reporter: robin });
  const robinsIssue = host.jira.issues.get(robinsKey);
  const { verification: robins, session: robinsSession } = await sendLink(host, ACCOUNTS.avery, robinsKey, {
    email: 'robin@example.test',
    delivery: 'SMS',
    phone: '+12025550188',
  });
  await host.incode.complete(robinsSession.id, 'pass');
  await host.incode.idle();
  const property = () => host.jira.issues.get(robinsKey).properties['incode-verification'];
  assert.ok(property().identityId && property().sessionId, 'the issue property names the Incode ids');
  const caseysKey = host.jira.issues.add({ project: 'HELP', summary: 'Casey, sent by a temp', reporter: ACCOUNTS.casey });
  const { verification: byPat } = await sendLink(host, pat, caseysKey, { email: 'casey@example.test', delivery: 'EMAIL' });
  assert.ok(host.kvs.keys(`account:${robin}:`).length === 1, 'the verified person is indexed by account');
  assert.ok(host.kvs.keys(`account:${pat}:`).length === 1, 'the sending agent is indexed by account');

  // Nobody has left yet: the report changes nothing.
  const untouched = await runReport();
  assert.equal(untouched.statusCode, 200);
  assert.ok(host.kvs.get(`v:${robins.sessionId}`));

  host.jira.users.setActive(robin, false);
  host.jira.users.setActive(pat, false);
  const answer = await runReport();
  assert.equal(answer.statusCode, 200);
  assert.deepEqual(JSON.parse(answer.body), { closed: 2 });

  // The person: record, contact details and index entries are gone.
  assert.equal(host.kvs.get(`v:${robins.sessionId}`), undefined);
  assert.deepEqual(host.kvs.keys(`account:${robin}:`), []);
  assert.ok(!host.kvs.keys('person:').some((k) => k.endsWith(`:${robins.sessionId}`)));
  assert.ok(!host.kvs.get(`issue:${robinsIssue.id}`).sessions.includes(robins.sessionId));
  const state = ok(await panel(host, ACCOUNTS.avery, robinsKey, 'panel.getState'));
  assert.equal(state.current, null);
  assert.deepEqual(state.history, []);
  assert.ok(!JSON.stringify(host.kvs.keys('').map((k) => host.kvs.get(k))).includes('+12025550188'), 'no stored value keeps the phone');
  assert.deepEqual(
    [property().status, property().identityId, property().sessionId],
    ['passed', '', ''],
    'the issue property keeps the status for searches, not the Incode ids',
  );

  // The agent: their verification stays (it is Casey's), without their name or id.
  const kept = host.kvs.get(`v:${byPat.sessionId}`);
  assert.equal(kept.requestedBy, '');
  assert.equal(kept.requestedByName, 'Former user');
  assert.equal(kept.email, 'casey@example.test');
  assert.deepEqual(host.kvs.keys(`account:${pat}:`), []);

  // Agents who are still here keep their data.
  assert.ok(host.kvs.keys(`account:${ACCOUNTS.avery}:`).length >= 1);
  assert.deepEqual(host.stats.lateCalls, []);
});

test('an agent who only cancelled and an admin who only saved are reported and erased: neither the trail nor the history names them', async () => {
  const kim = host.jira.users.add({
    displayName: 'Kim Canceller',
    emailAddress: 'kim@example.test',
    groups: ['jira-servicemanagement-users-local', 'helpdesk-agents'],
  });
  const quinn = host.jira.users.add({ displayName: 'Quinn Admin', emailAddress: 'quinn@example.test', groups: ['jira-admins-local'] });
  const key = host.jira.issues.add({ project: 'HELP', summary: 'Cancelled by a temp', reporter: ACCOUNTS.casey });
  const { verification } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  ok(await panel(host, kim, key, 'panel.cancel', { verificationId: verification.id }));
  ok(await admin(host, quinn, 'admin.saveSettings', { linkExpiryMinutes: 12 }));
  assert.deepEqual(host.kvs.keys(`account:${kim}:`), [`account:${kim}:${verification.sessionId}`], 'the canceller is indexed');
  assert.deepEqual(host.kvs.keys(`account:${quinn}:`), [`account:${quinn}:actor`], 'the admin is indexed');
  const trail = () => JSON.stringify(host.kvs.entityKeys('audit').map((k) => host.kvs.getEntity('audit', k)));
  assert.ok(trail().includes('Kim Canceller') && trail().includes('Quinn Admin'));

  host.jira.users.setActive(kim, false);
  host.jira.users.setActive(quinn, false);
  const answer = await runReport();
  assert.equal(answer.statusCode, 200);
  assert.deepEqual(JSON.parse(answer.body), { closed: 2 });
  for (const [name, id] of [
    ['Kim Canceller', kim],
    ['Quinn Admin', quinn],
  ]) {
    assert.ok(!trail().includes(name) && !trail().includes(id), `the trail no longer names ${name}, not even in a detail`);
    assert.deepEqual(host.kvs.keys(`account:${id}:`), []);
  }
  const record = host.kvs.get(`v:${verification.sessionId}`);
  assert.deepEqual(
    record.history.map((h) => h.cause),
    ['sent', 'cancelled by Former user'],
    'the history the panel shows no longer names the canceller',
  );
  assert.equal(record.requestedByName, 'Avery Agent', "the sender's name stays: their account is open");
  assert.deepEqual(host.stats.lateCalls, []);
});

test('a result that lands while a person is erased leaves no entry naming them: the trail is rewritten after their verifications', async () => {
  const robin = host.jira.users.add({ displayName: 'Rene Racer', emailAddress: 'rene@example.test', accountType: 'customer' });
  host.incode.directory.push({ name: 'Rene Racer', email: 'rene@example.test', phone: '+12025550199' });
  const links = [];
  for (const summary of ['first', 'second']) {
    const key = host.jira.issues.add({ project: 'HELP', summary: `Rene ${summary}`, reporter: robin });
    links.push(await sendLink(host, ACCOUNTS.avery, key, { email: 'rene@example.test', delivery: 'EMAIL' }));
  }
  links.sort((a, b) => (a.verification.sessionId < b.verification.sessionId ? -1 : 1));
  // The run's swap of the first record's lock is slow; Rene finishes the second link meanwhile.
  host.faults.add({ target: 'kvs', match: (r) => (r.body ?? '').includes(`lock:${links[0].verification.sessionId}`), delayMs: 1500, times: 1 });
  host.jira.users.setActive(robin, false);
  const run = runReport();
  await new Promise((resolve) => setTimeout(resolve, 500));
  await host.incode.complete(links[1].session.id, 'pass');
  await host.incode.idle();
  const answer = await run;
  assert.equal(answer.statusCode, 200, answer.body);
  const naming = host.kvs
    .entityKeys('audit')
    .map((k) => host.kvs.getEntity('audit', k))
    .filter((e) => /rene/i.test(JSON.stringify(e)));
  assert.deepEqual(naming, [], 'no audit entry names the person');
  assert.deepEqual(host.kvs.keys(`account:${robin}:`), [], 'and their index entries went last');
  assert.deepEqual(host.faults.pending(), []);
});
