// The product end to end: an admin configures the app with the Incode sandbox's credentials, an
// agent sends email and SMS links from the issue panel, the sandbox employee passes, fails or goes
// to manual review (then approval), and Incode's signed webhooks update the ticket: exactly one
// comment per outcome with the configured template, the configured transition, the
// `incode-verification` property, the panel's state and a live message on the issue's channel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ACCOUNTS, appComments, captureConsole, configure, fails, ok, panel, portal, admin, publishedOn, sendLink, startApp } from './helpers.mjs';

const STATUS_TEXT = (word) => new RegExp(`^${word} - \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} UTC$`);
let host;
let logs;

before(async () => {
  logs = captureConsole();
  host = await startApp();
  await configure(host, { portalEnabled: true });
});

after(async () => {
  await host?.stop();
  logs?.restore();
});

/** A fresh request reported by `reporter`, so each scenario starts from an untouched ticket. */
function newRequest(summary, reporter = ACCOUNTS.casey) {
  return host.jira.issues.add({ project: 'HELP', summary, reporter });
}

test('the panel of a configured site offers to verify the reporter', async () => {
  const issue = host.jira.issues.get('HELP-1');
  const state = ok(await panel(host, ACCOUNTS.avery, 'HELP-1', 'panel.getState'));
  assert.equal(state.setupRequired, false);
  assert.equal(state.canSend, true);
  assert.equal(state.cannotSendReason, null);
  assert.equal(state.isAdmin, false);
  assert.deepEqual(state.person, { email: 'casey@example.test', name: 'Casey Customer' });
  assert.deepEqual(state.defaults, { delivery: 'EMAIL', linkExpiryMinutes: 10 });
  assert.equal(state.current, null);
  assert.deepEqual(state.history, []);
  assert.equal(state.realtime.channel, `incode-verification:${issue.id}`);
  assert.equal(typeof state.realtime.token, 'string');
  // An admin working the ticket is told so (the panel links to the settings).
  assert.equal(ok(await panel(host, ACCOUNTS.alex, 'HELP-1', 'panel.getState')).isAdmin, true);
});

test('an email link that passes: one comment, the transition, the property, the panel, a live message', async () => {
  const key = newRequest('Locked out after a phone change');
  const issueId = host.jira.issues.get(key).id;
  const state = ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState'));
  // The browser subscribes with the token getState gave it; the webhook's publish must reach it.
  const received = [];
  const subscription = host.realtime.subscribe({ channel: state.realtime.channel, isGlobal: true, token: state.realtime.token, send: (m) => received.push(m) });

  const { verification, session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  assert.equal(verification.status, 'requested');
  assert.equal(verification.issueKey, key);
  assert.equal(verification.issueId, issueId);
  assert.equal(verification.email, 'casey@example.test');
  assert.equal(verification.name, 'Casey Customer');
  assert.equal(verification.requestedBy, ACCOUNTS.avery);
  assert.equal(verification.requestedByName, 'Avery Agent');
  assert.equal(verification.expiresAtMs - verification.requestedAtMs, 10 * 60_000);
  assert.ok(!('appliedEvents' in verification), 'the browser never sees applied-event keys');
  const mail = host.incode.outbox.filter((m) => m.sessionId === session.id);
  assert.deepEqual(
    mail.map((m) => [m.channel, m.to]),
    [['EMAIL', 'casey@example.test']],
  );
  assert.equal(host.jira.issues.get(key).properties['incode-verification'].status, 'requested');

  await host.incode.complete(session.id, 'pass');

  const comments = appComments(host, key);
  assert.equal(comments.length, 1, 'exactly one comment');
  const text = comments[0].text;
  assert.match(text, /^Identity verified for Casey Customer \(casey@example\.test\)\./);
  assert.ok(text.includes(`Identity ID: ${session.identityId}.`), text);
  assert.ok(text.includes(`Session: ${session.id}.`), text);
  assert.match(text, /Success - \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
  assert.equal(comments[0].internal, true, 'an internal (agent-only) comment by default');

  const issue = host.jira.issues.get(key);
  assert.equal(issue.status, 'In Progress', 'the configured "passed" transition');
  const property = issue.properties['incode-verification'];
  assert.equal(property.status, 'passed');
  assert.match(property.statusText, STATUS_TEXT('Success'));
  assert.equal(property.sessionId, session.id);
  assert.equal(property.identityId, session.identityId);

  const after = ok(await panel(host, ACCOUNTS.blake, key, 'panel.getState'));
  assert.equal(after.current.id, verification.id);
  assert.equal(after.current.status, 'passed');
  assert.match(after.current.statusText, STATUS_TEXT('Success'));
  assert.equal(after.current.identityId, session.identityId);
  assert.deepEqual(
    after.current.history.map((h) => h.status),
    ['requested', 'inProgress', 'passed'],
  );

  const live = publishedOn(host, `incode-verification:${issueId}`);
  assert.ok(
    live.every((e) => e.isGlobal && e.withToken),
    'published globally with the issue token',
  );
  // The app publishes a JSON text; subscribers receive that text.
  const heard = received.map((m) => JSON.parse(m.payload));
  assert.ok(
    heard.some((p) => p.status === 'passed' && p.verificationId === verification.id),
    'the subscribed panel heard the result',
  );
  subscription.close();

  // Every delivery was accepted first time; Jira saw only requests its spec and the app's scopes allow.
  const attempts = host.incode.deliveries.filter((d) => d.sessionId === session.id);
  assert.ok(
    attempts.every((d) => d.ok && d.attempt === 1),
    JSON.stringify(attempts.map((d) => [d.eventType, d.status])),
  );
  assert.deepEqual(host.jira.violations, []);
});

test('an SMS link to a given phone that fails: the failure comment and the "failed" transition', async () => {
  const key = newRequest('MFA reset request', ACCOUNTS.drew);
  const state = ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState'));
  assert.deepEqual(state.person, { email: 'drew@example.test', name: 'Drew Customer' });
  const { verification, session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'drew@example.test', delivery: 'SMS', phone: '+12025550199' });
  assert.equal(verification.delivery, 'SMS');
  assert.notEqual(verification.destination, '+12025550199', 'the panel sees a masked phone number');
  assert.ok(verification.destination.endsWith('99'), verification.destination);
  const sms = host.incode.outbox.filter((m) => m.sessionId === session.id);
  assert.deepEqual(
    sms.map((m) => [m.channel, m.to]),
    [['SMS', '+12025550199']],
  );

  await host.incode.complete(session.id, 'fail');

  const comments = appComments(host, key);
  assert.equal(comments.length, 1);
  assert.match(comments[0].text, /^Verification FAILED for Drew Customer \(drew@example\.test\)\. Do not proceed\./);
  assert.match(comments[0].text, /Failed - \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
  const issue = host.jira.issues.get(key);
  assert.equal(issue.status, 'Escalated');
  assert.equal(issue.properties['incode-verification'].status, 'failed');
  const current = ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState')).current;
  assert.equal(current.status, 'failed');
  assert.equal(current.identityId, '');
});

test('manual review, then approval: one comment per outcome and both transitions', async () => {
  const key = newRequest('Contractor account unlock');
  const { session } = await sendLink(host, ACCOUNTS.blake, key, { email: 'casey@example.test', delivery: 'EMAIL' });

  await host.incode.complete(session.id, 'review');
  let comments = appComments(host, key);
  assert.equal(comments.length, 1);
  assert.match(comments[0].text, /^Manual review required for Casey Customer/);
  assert.equal(host.jira.issues.get(key).status, 'Pending');
  assert.equal(ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState')).current.status, 'manualReview');

  await host.incode.complete(session.id, 'approve');
  comments = appComments(host, key);
  assert.equal(comments.length, 2, 'the approval adds exactly one comment');
  assert.match(comments[1].text, /^A reviewer approved this verification in Incode's manual review\.\nIdentity verified for Casey Customer/);
  assert.ok(comments[1].text.includes(session.identityId));
  const issue = host.jira.issues.get(key);
  assert.equal(issue.status, 'In Progress');
  assert.equal(issue.properties['incode-verification'].status, 'passed');
  const current = ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState')).current;
  assert.equal(current.status, 'passed');
  assert.deepEqual(
    current.history.map((h) => h.status),
    ['requested', 'inProgress', 'manualReview', 'passed'],
  );
});

test('a new link supersedes the open one; resend reuses the channel; cancel ends a link', async () => {
  const key = newRequest('Password reset for a traveller');
  const first = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'SMS', phone: '+12025550177' });
  const second = ok(await panel(host, ACCOUNTS.avery, key, 'panel.resend', { verificationId: first.verification.id })).verification;
  assert.notEqual(second.sessionId, first.verification.sessionId);
  assert.equal(second.delivery, 'SMS');
  const resent = host.incode.outbox.filter((m) => m.sessionId === second.sessionId);
  assert.deepEqual(
    resent.map((m) => [m.channel, m.to]),
    [['SMS', '+12025550177']],
    'the resend goes to the same phone',
  );

  let state = ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState'));
  assert.equal(state.current.id, second.id);
  assert.equal(state.history.length, 1);
  assert.equal(state.history[0].id, first.verification.id);
  assert.equal(state.history[0].status, 'cancelled', 'the superseded link is cancelled');
  assert.equal(state.history[0].state, 'replaced', 'and shown as replaced, not as cancelled by an agent');
  assert.equal(state.history[0].stateName, 'Replaced by a new link');
  assert.deepEqual(state.current.actions, { resend: true, cancel: true, newVerification: false });

  // An event for the superseded session changes nothing on the ticket.
  await host.incode.complete(first.verification.sessionId, 'pass');
  assert.equal(appComments(host, key).length, 0);

  const cancelled = ok(await panel(host, ACCOUNTS.blake, key, 'panel.cancel', { verificationId: second.id })).verification;
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.history.at(-1).cause, 'cancelled by Blake Agent');
  assert.equal(host.jira.issues.get(key).properties['incode-verification'].status, 'cancelled');
  fails(await panel(host, ACCOUNTS.blake, key, 'panel.cancel', { verificationId: second.id }), 'already_final', 'cancelling twice');
  fails(await panel(host, ACCOUNTS.blake, key, 'panel.cancel', { verificationId: 'no-such-id' }), 'not_found');
  state = ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState'));
  assert.equal(state.current.status, 'cancelled');
  assert.equal(state.current.stateName, 'Cancelled');
  assert.deepEqual(state.current.actions, { resend: false, cancel: false, newVerification: true }, 'one way to verify again');
});

test('limits: the per-ticket and per-agent hourly limits stop sending and say when they reset', async () => {
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { limits: { perTicketPerHour: 2, perAgentPerHour: 50 } }));
  const key = newRequest('Repeated lockouts');
  await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  await sendLink(host, ACCOUNTS.blake, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  const sessionsBefore = host.incode.sessions.size;
  const error = fails(await panel(host, ACCOUNTS.avery, key, 'panel.send', { email: 'casey@example.test', delivery: 'EMAIL' }), 'limit_reached');
  assert.equal(error.resetsAtMs % 3_600_000, 0, 'the limit resets at the top of the hour');
  assert.ok(error.resetsAtMs > Date.now());
  assert.equal(host.incode.sessions.size, sessionsBefore, 'no link was requested from Incode');
  const state = ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState'));
  assert.equal(state.canSend, false);
  assert.match(state.cannotSendReason, /limit of 2/);

  // The per-agent limit counts one agent's links across tickets.
  const newAgent = (name) =>
    host.jira.users.add({
      displayName: name,
      emailAddress: `${name.split(' ')[0].toLowerCase()}@example.test`,
      groups: ['jira-servicemanagement-users-local', 'helpdesk-agents'],
    });
  const quinn = newAgent('Quinn Agent');
  const riley = newAgent('Riley Agent');
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { limits: { perTicketPerHour: 5, perAgentPerHour: 1 } }));
  try {
    await sendLink(host, quinn, newRequest('First of the hour'), { email: 'casey@example.test', delivery: 'EMAIL' });
    const other = newRequest('Second of the hour');
    const agentLimit = fails(await panel(host, quinn, other, 'panel.send', { email: 'casey@example.test', delivery: 'EMAIL' }), 'limit_reached');
    assert.match(agentLimit.message, /You have reached your limit of 1/);
    ok(await panel(host, riley, other, 'panel.send', { email: 'casey@example.test', delivery: 'EMAIL' }), 'another agent may still send');
  } finally {
    ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { limits: { perTicketPerHour: 5, perAgentPerHour: 50 } }));
  }
});

test('an employee missing from the Incode directory is reported, nothing is recorded', async () => {
  const key = newRequest('Unknown employee');
  const error = fails(await panel(host, ACCOUNTS.avery, key, 'panel.send', { email: 'nobody@example.test', delivery: 'EMAIL' }), 'employee_not_found');
  assert.equal(error.retryable, undefined, 'not an outage: retrying will not help');
  assert.equal(ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState')).current, null);
  fails(await panel(host, ACCOUNTS.avery, key, 'panel.send', { email: 'casey@example.test', delivery: 'FAX' }), 'validation');
  fails(await panel(host, ACCOUNTS.avery, key, 'panel.send', { email: '', delivery: 'EMAIL' }), 'validation');
});

test('a link past its expiry is shown, and saved, as expired; a result Incode reports later is kept, not applied', async () => {
  const key = newRequest('Never opened');
  const { verification, session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  // Ten minutes pass without the employee opening the link (the stored deadline moves back).
  const stored = host.kvs.get(`v:${session.id}`);
  host.kvs.set(`v:${session.id}`, { ...stored, expiresAtMs: Date.now() - 1000 }, { ttlMs: 86_400_000 });
  const state = ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState'));
  assert.equal(state.current.id, verification.id);
  assert.equal(state.current.status, 'expired');
  assert.match(state.current.statusText, /^Expired - /);
  assert.equal(state.current.history.at(-1).cause, 'link expired');
  assert.equal(host.kvs.get(`v:${session.id}`).status, 'expired', 'the expiry is saved');
  assert.deepEqual(ok(await portal(host, ACCOUNTS.casey, key, 'portal.getState')).pending, null);
  // Incode's clock let the employee in after all: nothing opens after the expiry (the agent
  // sends a new link), and the result is kept for the agent to see.
  await host.incode.complete(session.id, 'pass');
  assert.equal(appComments(host, key).length, 0);
  const after = ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState')).current;
  assert.equal(after.status, 'expired');
  assert.deepEqual(
    after.history.map((h) => h.status),
    ['requested', 'expired'],
  );
  assert.deepEqual(
    after.lateResults.map((l) => [l.outcome, l.reason]),
    [['passed', 'afterExpiry']],
  );
});

test('the portal shows the requester a pending link, and nothing to anyone else', async () => {
  const key = newRequest('Portal visibility check');
  const { verification, session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'SMS' });
  const mine = ok(await portal(host, ACCOUNTS.casey, key, 'portal.getState'));
  assert.deepEqual(mine, { enabled: true, pending: { expiresAtMs: verification.expiresAtMs, delivery: 'SMS' } });
  fails(await portal(host, ACCOUNTS.drew, key, 'portal.getState'), 'forbidden', "another customer's request");
  await host.incode.complete(session.id, 'pass');
  assert.deepEqual(ok(await portal(host, ACCOUNTS.casey, key, 'portal.getState')), { enabled: true, pending: null });
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { portalEnabled: false }));
  assert.deepEqual(ok(await portal(host, ACCOUNTS.casey, key, 'portal.getState')), { enabled: false, pending: null });
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { portalEnabled: true }));

  // A link the agent sent to another address than the requester's is not theirs to hear about.
  const other = newRequest('Portal: a link to someone else');
  await sendLink(host, ACCOUNTS.avery, other, { email: 'drew@example.test', delivery: 'SMS' });
  assert.deepEqual(ok(await portal(host, ACCOUNTS.casey, other, 'portal.getState')), { enabled: true, pending: null });
});

test('no secret reached a log line, and every platform call was awaited', () => {
  const secrets = ['sandbox-secret', 'sandbox-api-key', 'whsec-test-4f1c2a7e8d3b4c5e9a106b7d'];
  // The functions' console lines are kept by the host, as the platform collects them.
  const appLog = [...logs.lines, ...host.logs.map((entry) => entry.message)];
  const all = [...appLog, ...host.hostLog].join('\n');
  for (const secret of secrets) assert.ok(!all.includes(secret), `no log line carries ${secret}`);
  assert.ok(
    appLog.some((l) => l.includes('webhook.delivery')),
    'the app logged its deliveries (by code)',
  );
  assert.ok(!/@example\.test/.test(appLog.join('\n')), 'no email address in the app log');
  assert.deepEqual(host.stats.lateCalls, []);
});
