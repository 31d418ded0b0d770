// The settings page end to end: a fresh install, validation per field, credentials tested (good
// and bad), the token cache, transitions offered, comment previews, test links, the setup
// checklist and the delivery log, each through the admin resolvers on the local host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sign } from '../../dev/host/incode/webhooks.mjs';
import { ACCOUNTS, SANDBOX_CREDENTIALS, WEBHOOK_SECRET, admin, appComments, fails, ok, panel, sandboxSettings, sendLink, startApp } from './helpers.mjs';

let host;

before(async () => {
  host = await startApp();
});

after(async () => {
  await host?.stop();
});

const checklistOf = async () => Object.fromEntries(ok(await admin(host, ACCOUNTS.alex, 'admin.getSettings')).checklist.map((i) => [i.id, i.done]));

test('a fresh install: defaults, nothing secret set, setup required on the panel', async () => {
  const data = ok(await admin(host, ACCOUNTS.alex, 'admin.getSettings'));
  assert.equal(data.settings.ready, false);
  assert.deepEqual(data.settings.secrets, { apiKey: 'not set', clientSecret: 'not set', webhookSecret: 'not set' });
  assert.deepEqual(
    data.settings.warnings.map((w) => [w.field, w.code]),
    [['webhookSecret', 'webhook_secret_missing']],
    'no webhook secret is a warning',
  );
  assert.ok(data.settings.missing.length >= 3, JSON.stringify(data.settings.missing));
  assert.equal(data.settings.settings.linkExpiryMinutes, 10);
  assert.equal(data.settings.apiBaseUrl, 'https://demo-api.incodesmile.com');
  assert.equal(data.settings.authBaseUrl, 'https://auth.demo.incode.com');
  assert.equal(data.webhook.url, host.webtriggerUrl('incode-webhook'));
  assert.equal(data.webhook.tokenUrl, null);
  assert.equal(data.webhook.mode, 'hmac');
  assert.equal(data.webhook.header, 'x-incode-signature');
  const events = ['SESSION_STARTED', 'SESSION_SUCCEEDED', 'SESSION_FAILED', 'SESSION_PENDING_REVIEW', 'MANUAL_REVIEW_APPROVED', 'MANUAL_REVIEW_REJECTED'];
  assert.deepEqual(data.webhook.events, events);
  assert.deepEqual(data.rules.webhookEvents, events);
  assert.ok(data.webhook.instructions.includes(data.webhook.url));
  assert.deepEqual(
    data.checklist.map((i) => [i.id, i.done]),
    [
      ['credentials', false],
      ['webhook', false],
      ['transitions', false],
      ['firstVerification', false],
    ],
  );
  for (const item of data.checklist) assert.ok(item.label && item.detail, 'each item says what to do');

  const state = ok(await panel(host, ACCOUNTS.avery, 'HELP-1', 'panel.getState'));
  assert.equal(state.setupRequired, true);
  assert.equal(state.canSend, false);
  assert.match(state.cannotSendReason, /Setup required/);
  fails(await panel(host, ACCOUNTS.avery, 'HELP-1', 'panel.send', { email: 'casey@example.test', delivery: 'EMAIL' }), 'setup_required');
  const early = fails(await admin(host, ACCOUNTS.alex, 'admin.sendTest', { email: 'casey@example.test', delivery: 'EMAIL' }), 'setup_required');
  assert.match(early.message, /the client ID, the integration reference, the API key and the client secret/, 'named in words');
  assert.doesNotMatch(early.message, /clientId|integrationReference/);

  // Without a webhook secret nothing can authenticate: even an "unsigned" delivery is refused.
  const body = JSON.stringify({ eventType: 'SESSION_SUCCEEDED', interviewId: 'aaaaaaaaaaaaaaaaaaaaaaaa' });
  for (const headers of [{}, { 'x-incode-signature': '' }]) {
    const answer = await fetch(host.webtriggerUrl('incode-webhook'), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    assert.equal(answer.status, 401);
  }
});

test('validation: one error per bad field, with its path; nothing is saved', async () => {
  const before = host.kvs.get('settings');
  const error = fails(
    await admin(host, ACCOUNTS.alex, 'admin.saveSettings', {
      environment: 'staging',
      baseUrlOverride: 'https://incode.example.com',
      linkExpiryMinutes: 3,
      defaultDelivery: 'sms',
      limits: { perTicketPerHour: 0, perAgentPerHour: 500 },
      templates: { passed: 'Hello {{nmae}}', failed: '{{#if name}}unclosed', manualReview: 'fine {{name}}' },
      webhookAuth: { mode: 'hmac', header: 'x-incode-signature', encoding: 'hex', timestampHeader: '', toleranceSeconds: 5 },
      apiKey: SANDBOX_CREDENTIALS.apiKey,
    }),
    'validation',
  );
  const fields = error.fields.map((f) => f.field).sort();
  for (const field of [
    'environment',
    'baseUrlOverride',
    'linkExpiryMinutes',
    'defaultDelivery',
    'limits.perTicketPerHour',
    'limits.perAgentPerHour',
    'templates.passed',
    'templates.failed',
    'webhookAuth.toleranceSeconds',
  ]) {
    assert.ok(fields.includes(field), `an error for ${field}: ${JSON.stringify(fields)}`);
  }
  assert.ok(!fields.includes('templates.manualReview'));
  const unknown = error.fields.find((f) => f.field === 'templates.passed');
  assert.equal(unknown.line, 1);
  assert.equal(typeof unknown.column, 'number');
  assert.deepEqual(host.kvs.get('settings'), before, 'nothing saved');
  assert.equal(host.kvs.getSecret('secrets'), undefined, 'not even the valid secret');
});

test('saving: secrets are stored once, shown only as "set", and kept when left blank', async () => {
  const saved = ok(
    await admin(host, ACCOUNTS.alex, 'admin.saveSettings', sandboxSettings({ transitions: { passed: '', failed: '', manualReview: '' } })),
  ).settings;
  assert.equal(saved.ready, true);
  assert.deepEqual(saved.secrets, { apiKey: 'set', clientSecret: 'set', webhookSecret: 'set' });
  assert.deepEqual(saved.warnings, []);
  // Both stamped with the schema version this release writes (rust/src/stored.rs).
  assert.deepEqual(host.kvs.getSecret('secrets'), {
    schemaVersion: 3,
    apiKey: SANDBOX_CREDENTIALS.apiKey,
    clientSecret: SANDBOX_CREDENTIALS.clientSecret,
    webhookSecret: WEBHOOK_SECRET,
  });
  assert.equal(host.kvs.get('settings').schemaVersion, 3);
  const revision = host.kvs.get('settings').revision;
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { linkExpiryMinutes: 15, apiKey: '', clientSecret: '' }));
  assert.equal(host.kvs.get('settings').revision, revision + 1);
  assert.equal(host.kvs.get('settings').settings.linkExpiryMinutes, 15);
  assert.deepEqual(host.kvs.getSecret('secrets').apiKey, SANDBOX_CREDENTIALS.apiKey, 'a blank secret keeps the stored one');
});

test('a save from a page loaded before another save landed is refused, not silently undoing it', async () => {
  const page = ok(await admin(host, ACCOUNTS.alex, 'admin.getSettings'));
  assert.equal(page.revision, host.kvs.get('settings').revision, 'the page names the revision it shows');
  // Two tabs loaded at the same revision: the first save lands and names the next revision.
  const first = ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { linkExpiryMinutes: 20, expectedRevision: page.revision }));
  assert.equal(first.revision, page.revision + 1);
  const second = await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { linkExpiryMinutes: 25, expectedRevision: page.revision });
  fails(second, 'conflict', 'the second tab');
  assert.match(second.error.message, /saved by someone else after this page was loaded/);
  assert.equal(host.kvs.get('settings').settings.linkExpiryMinutes, 20, "the first save's change stays");
  assert.equal(host.kvs.get('settings').revision, page.revision + 1);
  // Reloaded, it saves.
  const reloaded = ok(await admin(host, ACCOUNTS.alex, 'admin.getSettings'));
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { linkExpiryMinutes: 15, expectedRevision: reloaded.revision }));
  assert.equal(host.kvs.get('settings').settings.linkExpiryMinutes, 15);
});

test('a save whose settings do not land puts back the secrets it replaced: nothing changed, as it says', async () => {
  const before = host.kvs.getSecret('secrets');
  const revision = host.kvs.get('settings').revision;
  const settingsTransaction = (r) => r.path === '/api/v1/transaction' && r.body.includes('"settings:revision"');
  host.faults.add({ target: 'kvs', match: settingsTransaction, status: 500, times: 1 });
  const failed = await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { webhookSecret: 'whsec-rotated-5d2c8e1f7a9b3c4d' });
  fails(failed, 'storage_unavailable', 'the settings did not land');
  assert.match(failed.error.message, /Nothing was lost/);
  assert.deepEqual(host.kvs.getSecret('secrets'), before, 'the secrets it wrote first are put back');
  assert.equal(host.kvs.get('settings').revision, revision);

  // When the old secrets cannot be put back either, the answer says the new ones are in use.
  let secretWrites = 0;
  host.faults.add({ target: 'kvs', match: settingsTransaction, status: 500, times: 1 });
  host.faults.add({ target: 'kvs', match: (r) => r.path === '/api/v1/secret/set' && (secretWrites += 1) === 2, status: 500, times: 1 });
  const stuck = await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { webhookSecret: 'whsec-rotated-5d2c8e1f7a9b3c4d' });
  fails(stuck, 'saved_in_part');
  assert.match(stuck.error.message, /The new secrets you entered are already in use, but the other settings were not saved: save again to finish\./);
  assert.equal(host.kvs.getSecret('secrets').webhookSecret, 'whsec-rotated-5d2c8e1f7a9b3c4d');
  assert.deepEqual(host.faults.pending(), []);

  // Saving again finishes it; the test's secret is restored for the tests after.
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { webhookSecret: before.webhookSecret }));
  assert.deepEqual(host.kvs.getSecret('secrets'), before);
  assert.equal(host.kvs.get('settings').revision, revision + 1);
});

test('test credentials: connected with good ones, bad_credentials with a wrong secret', async () => {
  const result = ok(await admin(host, ACCOUNTS.alex, 'admin.testCredentials'));
  assert.equal(result.connected, true);
  assert.ok(Math.abs(result.checkedAt - Date.now()) < 60_000);
  assert.equal((await checklistOf()).credentials, true);
  assert.equal(typeof host.kvs.getSecret('token:incode')?.accessToken, 'string', 'the fresh token is cached');

  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { clientSecret: 'wrong-secret' }));
  assert.equal(host.kvs.getSecret('token:incode'), undefined, 'changing credentials drops the cached token');
  assert.equal((await checklistOf()).credentials, false, 'and the "tested" mark');
  fails(await admin(host, ACCOUNTS.alex, 'admin.testCredentials'), 'bad_credentials');
  assert.equal((await checklistOf()).credentials, false);

  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { clientSecret: SANDBOX_CREDENTIALS.clientSecret }));
  ok(await admin(host, ACCOUNTS.alex, 'admin.testCredentials'));
  assert.equal((await checklistOf()).credentials, true);
});

test('clear cache: the next link fetches a new token', async () => {
  ok(await admin(host, ACCOUNTS.alex, 'admin.testCredentials'));
  await sendLink(host, ACCOUNTS.avery, 'HELP-3', { email: 'drew@example.test', delivery: 'EMAIL' });
  const sends = () => host.stats.find((i) => i.name === 'panel-resolver:panel.send');
  assert.equal(sends().at(-1).calls.incode, 1, 'the cached token is used');
  assert.deepEqual(ok(await admin(host, ACCOUNTS.alex, 'admin.clearTokenCache')), { cleared: true });
  assert.equal(host.kvs.getSecret('token:incode'), undefined);
  await sendLink(host, ACCOUNTS.avery, 'HELP-3', { email: 'drew@example.test', delivery: 'EMAIL' });
  assert.equal(sends().at(-1).calls.incode, 2, 'a token request, then the start');
});

test("transitions offered are the site's workflow transition names, by workflow", async () => {
  const { workflows } = ok(await admin(host, ACCOUNTS.alex, 'admin.listTransitions'));
  assert.deepEqual(
    workflows.map((w) => [w.name, w.service]),
    [
      ['IT Help Desk workflow', true],
      ['Finance workflow', false],
    ],
    "the service project's workflow first",
  );
  const [helpDesk, finance] = workflows.map((w) => w.transitions);
  assert.deepEqual(helpDesk, ['Escalate', 'Pending', 'Reopen', 'Resolve', 'Start progress'], 'sorted, without the create transition');
  assert.deepEqual(finance, ['Back to to do', 'Mark done']);
  assert.equal((await checklistOf()).transitions, false);
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { transitions: { passed: 'Start progress', failed: 'Escalate', manualReview: 'Pending' } }));
  assert.equal((await checklistOf()).transitions, true);
});

test('comment preview: rendered ADF with sample values, or positioned errors', async () => {
  const good = ok(
    await admin(host, ACCOUNTS.alex, 'admin.previewComment', { outcome: 'failed', template: 'Do **not** proceed: {{name}} ({{outcome}}). {{status}}' }),
  );
  assert.deepEqual(good.errors, []);
  assert.equal(good.adf.type, 'doc');
  const text = JSON.stringify(good.adf);
  assert.ok(text.includes('Jane Doe') && text.includes('failed') && text.includes('Failed - '), text);
  assert.ok(text.includes('"strong"'), 'markdown emphasis becomes an ADF mark');
  const bad = ok(await admin(host, ACCOUNTS.alex, 'admin.previewComment', { outcome: 'passed', template: 'Line one\nHello {{nmae}}' }));
  assert.equal(bad.adf, null);
  assert.equal(bad.errors.length, 1);
  assert.equal(bad.errors[0].field, 'templates.passed');
  assert.equal(bad.errors[0].line, 2);
  fails(await admin(host, ACCOUNTS.alex, 'admin.previewComment', { outcome: 'maybe', template: 'x' }), 'validation');
});

test('a test link: its webhooks are logged as a test and touch no ticket', async () => {
  host.incode.configureWebhook({
    url: host.webtriggerUrl('incode-webhook'),
    mode: 'hmac',
    secret: WEBHOOK_SECRET,
    header: 'x-incode-signature',
    encoding: 'hex',
  });
  const commentsBefore = host.jira.issues.list().reduce((n, i) => n + i.comments.length, 0);
  const { sessionId } = ok(await admin(host, ACCOUNTS.alex, 'admin.sendTest', { email: 'avery@example.test', delivery: 'SMS', phone: '' }));
  const sms = host.incode.outbox.filter((m) => m.sessionId === sessionId);
  assert.deepEqual(
    sms.map((m) => [m.channel, m.to]),
    [['SMS', '+12025550143']],
    "the directory's phone",
  );
  await host.incode.complete(sessionId, 'pass');
  assert.equal(
    host.jira.issues.list().reduce((n, i) => n + i.comments.length, 0),
    commentsBefore,
  );
  const { deliveries } = ok(await admin(host, ACCOUNTS.alex, 'admin.getDeliveries'));
  const mine = deliveries.filter((d) => d.sessionId === sessionId);
  assert.ok(mine.length >= 2);
  assert.ok(
    mine.every((d) => d.verdict === 'ignored' && d.reason === 'test_session' && d.httpStatus === 202),
    JSON.stringify(mine),
  );
  assert.equal((await checklistOf()).webhook, true, 'an authenticated delivery arrived');
  fails(await admin(host, ACCOUNTS.alex, 'admin.sendTest', { email: 'nobody@example.test', delivery: 'EMAIL' }), 'employee_not_found');
});

test('the delivery log: newest first, at most 50, with verdicts', async () => {
  const key = host.jira.issues.add({ project: 'HELP', summary: 'Delivery log', reporter: ACCOUNTS.casey });
  const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  await host.incode.complete(session.id, 'pass');
  assert.equal(appComments(host, key).length, 1);
  assert.equal((await checklistOf()).firstVerification, true);
  const forged = await fetch(host.webtriggerUrl('incode-webhook'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-incode-signature': '00' },
    body: '{}',
  });
  assert.equal(forged.status, 401);
  const { deliveries } = ok(await admin(host, ACCOUNTS.alex, 'admin.getDeliveries'));
  assert.equal(deliveries[0].verdict, 'rejected');
  const mine = deliveries.filter((d) => d.sessionId === session.id);
  assert.deepEqual(mine.map((d) => [d.eventType, d.verdict, d.status, d.httpStatus]).reverse(), [
    ['SESSION_STARTED', 'accepted', 'inProgress', 200],
    ['SESSION_SUCCEEDED', 'accepted', 'passed', 200],
    ['IDENTITY_ENROLLED', 'ignored', 'passed', 200],
  ]);
  assert.ok(mine.every((d) => d.issueKey === key));
  for (let i = 1; i < deliveries.length; i += 1) assert.ok(deliveries[i - 1].atMs >= deliveries[i].atMs, 'newest first');
  // Authenticated deliveries fill it (forged ones are logged from a small budget: security tests).
  for (let i = 0; i < 55; i += 1) {
    const body = JSON.stringify({ note: `filler ${i}` });
    const answer = await fetch(host.webtriggerUrl('incode-webhook'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-incode-signature': sign(WEBHOOK_SECRET, body, 'hex') },
      body,
    });
    assert.equal(answer.status, 202);
  }
  assert.equal(ok(await admin(host, ACCOUNTS.alex, 'admin.getDeliveries')).deliveries.length, 50);
});

test('OAuth webhooks: the token webtrigger issues bearer tokens Incode uses, the webhook accepts them', async () => {
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { webhookAuth: { mode: 'oauth', clientId: 'incode-webhooks', tokenTtlSeconds: 600 } }));
  const { webhook } = ok(await admin(host, ACCOUNTS.alex, 'admin.getSettings'));
  assert.equal(webhook.mode, 'oauth');
  assert.equal(webhook.tokenUrl, host.webtriggerUrl('incode-webhook-token'));
  assert.equal(webhook.header, 'Authorization');
  const refused = await fetch(webhook.tokenUrl, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('incode-webhooks:wrong').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  assert.equal(refused.status, 401);
  host.incode.configureWebhook({ url: webhook.url, mode: 'oauth', secret: WEBHOOK_SECRET, tokenUrl: webhook.tokenUrl, clientId: 'incode-webhooks' });
  const key = host.jira.issues.add({ project: 'HELP', summary: 'OAuth delivery', reporter: ACCOUNTS.casey });
  const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  await host.incode.complete(session.id, 'fail');
  assert.equal(appComments(host, key).length, 1);
  assert.equal(host.jira.issues.get(key).status, 'Escalated');
  const unsigned = await fetch(webhook.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-incode-signature': 'anything' }, body: '{}' });
  assert.equal(unsigned.status, 401, 'without a bearer token the webhook refuses');
});

test('the rules the page checks come from the core: ranges with their messages, hosts, auth defaults', async () => {
  const { rules } = ok(await admin(host, ACCOUNTS.alex, 'admin.getSettings'));
  const expiry = rules.numbers.find((r) => r.field === 'linkExpiryMinutes');
  assert.deepEqual([expiry.min, expiry.max], [5, 60]);
  assert.match(expiry.message, /from 5 to 60/);
  const retention = rules.numbers.find((r) => r.field === 'auditRetentionDays');
  assert.deepEqual([retention.min, retention.max], [30, 3650]);
  assert.match(retention.message, /retention must be a whole number of days from 30 to 3650/);
  assert.equal(rules.defaults.auditRetentionDays, 400);
  assert.deepEqual(rules.numbers.map((r) => r.field).sort(), [
    'auditRetentionDays',
    'limits.perAgentPerHour',
    'limits.perTicketPerHour',
    'linkExpiryMinutes',
    'webhookAuth.tokenTtlSeconds',
    'webhookAuth.toleranceSeconds',
  ]);
  assert.equal(rules.webhookAuthDefaults.oauth.clientId, 'incode-webhooks');
  assert.deepEqual(rules.hosts.demo, { api: 'https://demo-api.incodesmile.com', auth: 'https://auth.demo.incode.com' });
  assert.equal(rules.defaults.linkExpiryMinutes, 10);
});

test("agent groups are the site's: picked from the groups picker, a misspelt one refused", async () => {
  const { groups } = ok(await admin(host, ACCOUNTS.alex, 'admin.searchGroups', { query: 'help' }));
  assert.deepEqual(
    groups.map((g) => g.name),
    ['helpdesk-agents'],
  );
  assert.equal(typeof groups[0].groupId, 'string');
  const error = fails(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { agentGroups: ['helpdesk-agentz'] }), 'validation');
  assert.deepEqual(
    error.fields.map((f) => [f.field, f.code]),
    [['agentGroups', 'unknown_group']],
  );
  assert.match(error.fields[0].message, /helpdesk-agentz/);
  const saved = ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { agentGroups: ['HELPDESK-AGENTS'] })).settings;
  assert.deepEqual(saved.settings.agentGroups, ['helpdesk-agents'], "saved with the site's spelling");
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { agentGroups: [] }));
  fails(await admin(host, ACCOUNTS.avery, 'admin.searchGroups', { query: 'help' }), 'forbidden');
});

test('an agent group still saves when more groups contain its name than the picker answers', async () => {
  host.jira.groups.addMember('support', ACCOUNTS.avery);
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { agentGroups: ['support'] }));
  for (let i = 0; i < 50; i += 1) host.jira.groups.addMember(`apac-support-${String(i).padStart(2, '0')}`, ACCOUNTS.blake);
  const picked = ok(await admin(host, ACCOUNTS.alex, 'admin.searchGroups', { query: 'support' }));
  assert.ok(JSON.stringify(picked).includes('apac-support-00'), 'the picker is full of others');
  // An unrelated save checks the stored groups again: it must not be refused.
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { linkExpiryMinutes: 14 }), 'a save that keeps the group');
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { agentGroups: ['support', 'apac-support-49'] }), 'and naming it again');
  assert.deepEqual(host.kvs.get('settings').settings.agentGroups, ['support', 'apac-support-49']);
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { agentGroups: [] }));
});

test("the person to verify is the reporter or one of the site's user-picker fields, by name", async () => {
  const { fields } = ok(await admin(host, ACCOUNTS.alex, 'admin.listPersonFields'));
  assert.deepEqual(fields, [
    { id: 'reporter', name: 'Reporter' },
    { id: 'customfield_10050', name: 'Affected employee' },
  ]);
  const error = fails(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { personField: 'customfield_10042' }), 'validation');
  assert.deepEqual(
    error.fields.map((f) => [f.field, f.code]),
    [['personField', 'unknown_field']],
  );
  const notUser = fails(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { personField: 'customfield_10051' }), 'validation');
  assert.equal(notUser.fields[0].code, 'unknown_field', 'a text field is not a person');
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { personField: 'customfield_10050' }));
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { personField: 'reporter' }));
});
