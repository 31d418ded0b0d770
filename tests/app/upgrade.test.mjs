// Installations upgrade in place: the app starts on what earlier releases stored
// (tests/vectors/stored/<release>/, captured by tests/vectors/gen/stored.mjs) and keeps working
// on it: a full verification, a webhook for a verification that was in progress, the panel of
// every old record, the admin page loading and saving the old settings. And stored settings
// that a newer or an older release wrote (an unknown field, a missing one), or that no release
// wrote, never make a webhook throw nor lock the admin out.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sign } from '../../dev/host/incode/webhooks.mjs';
import {
  ACCOUNTS,
  WEBHOOK_SECRET,
  admin,
  appComments,
  captureConsole,
  configure,
  fixtureStore,
  ok,
  panel,
  sandboxSettings,
  sendLink,
  startApp,
} from './helpers.mjs';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../vectors/stored');
const STATUS_TEXT = (word) => new RegExp(`^${word} - \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} UTC$`);
const logs = captureConsole();
const dirs = [];
after(() => {
  logs.restore();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Every store of every release: [release, store name, directory]. */
function fixtureStores() {
  const out = [];
  for (const release of fs.readdirSync(FIXTURES).sort()) {
    const dir = path.join(FIXTURES, release);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const store of fs.readdirSync(dir).sort()) {
      if (fs.existsSync(path.join(dir, store, 'kvs.json'))) out.push([release, store, path.join(dir, store)]);
    }
  }
  return out;
}

/** A fixture store as a host's data directory (`fixtureStore`), removed after the tests. */
function copyStore(dir) {
  const copy = fixtureStore(dir);
  dirs.push(copy.dataDir);
  return copy;
}

/** The sandbox's dashboard pointed at this host's webtriggers (the port changed). */
function pointSandboxAt(host) {
  const webhook = host.incode.webhook;
  assert.ok(webhook, 'the sandbox kept its webhook configuration');
  host.incode.configureWebhook({
    ...webhook,
    url: host.webtriggerUrl('incode-webhook'),
    ...(webhook.mode === 'oauth' ? { tokenUrl: host.webtriggerUrl('incode-webhook-token') } : {}),
  });
  return webhook.mode;
}

/** POSTs an event as Incode would, authenticated as the store's settings require. */
async function deliver(host, mode, event) {
  const body = JSON.stringify(event);
  /** @type {Record<string, string>} */
  const headers = { 'content-type': 'application/json' };
  if (mode === 'hmac') headers['x-incode-signature'] = sign(WEBHOOK_SECRET, body, 'hex');
  else if (mode === 'sharedSecret') headers['x-incode-secret'] = WEBHOOK_SECRET;
  else {
    const tokenAnswer = await fetch(host.webtriggerUrl('incode-webhook-token'), {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`incode-webhooks:${WEBHOOK_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    assert.equal(tokenAnswer.status, 200);
    headers.authorization = `Bearer ${(await tokenAnswer.json()).access_token}`;
  }
  const answer = await fetch(host.webtriggerUrl('incode-webhook'), { method: 'POST', headers, body });
  return { status: answer.status, json: await answer.json() };
}

const issueOf = (host, record) => host.jira.issues.get(record.issueKey);

/** `value` cut to the keys `like` has (recursively for objects). */
function pick(value, like) {
  if (!like || typeof like !== 'object' || Array.isArray(like) || !value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(like).map((k) => [k, pick(value[k], like[k])]));
}

test('the stores of every release are all here (v2: stamped settings, secrets, checklist, test markers; v3: locks, the audit trail and open links as custom entities)', () => {
  const held = fixtureStores().map(([release, name]) => `${release}/${name}`);
  for (const release of ['v1', 'v2', 'v3']) {
    for (const name of ['hmac', 'oauth', 'shared-secret']) assert.ok(held.includes(`${release}/${name}`), `${release}/${name}: ${held}`);
  }
});

for (const [release, name, dir] of fixtureStores()) {
  test(`the app upgraded over the ${release} "${name}" store keeps working on it`, async () => {
    const { dataDir, store } = copyStore(dir);
    const stored = new Map(store.data.map(([key, r]) => [key, r.value]));
    const host = await startApp({ memory: false, dataDir });
    try {
      const mode = pointSandboxAt(host);
      const oldSettings = stored.get('settings');

      // The admin page loads the old settings as they were, then saves over them.
      const page = ok(await admin(host, ACCOUNTS.alex, 'admin.getSettings'), 'loading the old settings');
      assert.equal(page.settingsUnreadable, false);
      assert.equal(page.settings.settings.clientId, oldSettings.settings.clientId);
      assert.equal(page.settings.settings.webhookAuth.mode, oldSettings.settings.webhookAuth.mode);
      assert.deepEqual(page.settings.settings.templates, oldSettings.settings.templates);
      assert.deepEqual(page.settings.settings.transitions, oldSettings.settings.transitions);
      assert.equal(page.webhook.mode, mode);

      // Every old record shows on its issue's panel, in its status.
      for (const [key, value] of stored) {
        if (!key.startsWith('v:')) continue;
        const issue = issueOf(host, value);
        const state = ok(await panel(host, ACCOUNTS.avery, issue.key, 'panel.getState'), `the panel of ${issue.key}`);
        const shown = [state.current, ...state.history].find((v) => v?.id === value.id);
        assert.ok(shown, `${issue.key} shows ${value.sessionId}`);
        assert.equal(shown.status, value.status === 'requested' && value.expiresAtMs < Date.now() ? 'expired' : value.status);
      }

      // A webhook for a verification that was in progress when the store was written.
      const inProgress = [...stored].filter(([key, v]) => key.startsWith('v:') && v.status === 'inProgress').map(([, v]) => v);
      assert.ok(inProgress.length > 0, 'the store holds a verification in progress');
      // One of them failed while its holder died (its comment landed, its record did not, its lease
      // was live): Incode's retry of that event takes over carefully and finds the comment.
      for (const record of inProgress) {
        const failed = host.incode.sessions.get(record.sessionId)?.state === 'failed';
        const answer = await deliver(
          host,
          mode,
          failed
            ? { eventType: 'SESSION_FAILED', interviewId: record.sessionId, loginHint: record.email }
            : { eventType: 'SESSION_SUCCEEDED', interviewId: record.sessionId, loginHint: record.email, identityId: `upgraded-${record.sessionId}` },
        );
        assert.equal(answer.status, 200, JSON.stringify(answer.json));
        assert.equal(answer.json.result, 'accepted');
        const status = failed ? 'failed' : 'passed';
        const issue = issueOf(host, record);
        assert.equal(appComments(host, issue.key).filter((c) => c.text.includes(record.sessionId)).length, 1, 'exactly one comment');
        assert.equal(issue.properties['incode-verification'].status, status);
        assert.equal(host.kvs.get(`v:${record.sessionId}`).status, status);
      }
      assert.ok(
        inProgress.some((r) => host.incode.sessions.get(r.sessionId)?.state === 'failed'),
        "the dead holder's verification is among them",
      );

      // A full verification: send, the employee passes in the sandbox, the webhook is accepted.
      const key = host.jira.issues.add({ project: 'HELP', summary: `After the upgrade (${name})`, reporter: ACCOUNTS.casey });
      const { verification, session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
      assert.equal(verification.status, 'requested');
      await host.incode.complete(session.id, 'pass');
      const attempts = host.incode.deliveries.filter((d) => d.sessionId === session.id);
      assert.ok(attempts.length >= 2 && attempts.every((d) => d.ok), JSON.stringify(attempts.map((d) => [d.eventType, d.status])));
      const comments = appComments(host, key);
      assert.equal(comments.length, 1, 'exactly one comment');
      assert.ok(comments[0].text.includes(session.identityId), comments[0].text);
      const issue = host.jira.issues.get(key);
      assert.equal(issue.properties['incode-verification'].status, 'passed');
      assert.match(issue.properties['incode-verification'].statusText, STATUS_TEXT('Success'));
      if (oldSettings.settings.transitions.passed !== '') assert.equal(issue.status, 'In Progress');
      const after = ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState')).current;
      assert.equal(after.status, 'passed');

      // The old delivery log still lists, newest first, with the new deliveries on top.
      const log = ok(await admin(host, ACCOUNTS.alex, 'admin.getDeliveries')).deliveries;
      assert.ok(log.length > 0);
      assert.equal(log[0].sessionId, session.id);
      assert.ok(log.every((d) => typeof d.verdict === 'string' && !('schemaVersion' in d)));

      // Saving the old settings again: nothing lost, now in the current version.
      ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { linkExpiryMinutes: 15 }), 'saving over the old settings');
      const saved = host.kvs.get('settings');
      assert.equal(saved.revision, oldSettings.revision + 1);
      // Every old setting kept (this release may add settings with their defaults).
      assert.deepEqual(pick({ ...saved.settings, linkExpiryMinutes: oldSettings.settings.linkExpiryMinutes }, oldSettings.settings), oldSettings.settings);
      assert.deepEqual(pick(saved.secretsSet, oldSettings.secretsSet), oldSettings.secretsSet);
      assert.deepEqual(host.jira.violations, []);
    } finally {
      await host.stop();
    }
  });
}

test('stored settings a newer or an older release wrote break neither webhooks nor the admin page', async () => {
  const host = await startApp();
  try {
    await configure(host);
    const stored = host.kvs.get('settings');
    const { portalEnabled: _dropped, ...older } = stored.settings;
    // An unknown field (as a later release adds) at both levels, a missing one (as an earlier had).
    host.kvs.set('settings', { ...stored, schemaVersion: 7, futureRecordField: { x: 1 }, settings: { ...older, futureSetting: 'on' } });
    host.recycleInstances();

    const key = host.jira.issues.add({ project: 'HELP', summary: 'Mixed releases', reporter: ACCOUNTS.casey });
    const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
    await host.incode.complete(session.id, 'pass');
    assert.ok(host.incode.deliveries.filter((d) => d.sessionId === session.id).every((d) => d.ok && d.attempt === 1));
    assert.equal(appComments(host, key).length, 1);
    assert.equal(host.jira.issues.get(key).properties['incode-verification'].status, 'passed');

    const page = ok(await admin(host, ACCOUNTS.alex, 'admin.getSettings'));
    assert.equal(page.settingsUnreadable, false);
    assert.equal(page.settings.settings.portalEnabled, false, 'the missing setting takes its default');
    assert.equal(page.settings.settings.clientId, stored.settings.clientId);
    ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { portalEnabled: true }));
    const saved = host.kvs.get('settings');
    assert.equal(saved.settings.portalEnabled, true);
    assert.equal(saved.revision, stored.revision + 1);
  } finally {
    await host.stop();
  }
});

test('stored settings no release wrote: webhooks answer 503 settings_unreadable, the admin saves over them', async () => {
  const host = await startApp();
  try {
    await configure(host);
    const stored = host.kvs.get('settings');
    const key = host.jira.issues.add({ project: 'HELP', summary: 'Unreadable settings', reporter: ACCOUNTS.casey });
    const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
    host.kvs.set('settings', { ...stored, settings: { ...stored.settings, linkExpiryMinutes: 'ten' } });
    host.recycleInstances();

    const event = JSON.stringify({ eventType: 'SESSION_STARTED', interviewId: session.id, loginHint: 'casey@example.test' });
    const answer = await fetch(host.webtriggerUrl('incode-webhook'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-incode-signature': sign(WEBHOOK_SECRET, event, 'hex') },
      body: event,
    });
    assert.equal(answer.status, 503);
    assert.equal(answer.headers.get('retry-after'), '10');
    assert.deepEqual(await answer.json(), { result: 'error', reason: 'settings_unreadable' });
    // The functions' console lines are kept by the host, as the platform collects them.
    const appLog = [...logs.lines, ...host.logs.map((entry) => entry.message)];
    assert.ok(
      appLog.some((l) => l.includes('settings_unreadable')),
      'the cause is logged',
    );

    const state = await panel(host, ACCOUNTS.avery, key, 'panel.getState');
    assert.equal(state.ok, false);
    assert.equal(state.error.code, 'settings_unreadable');

    const page = ok(await admin(host, ACCOUNTS.alex, 'admin.getSettings'), 'the admin page still loads');
    assert.equal(page.settingsUnreadable, true);
    assert.equal(page.settings.secrets.webhookSecret, 'set', 'the secrets are still set');
    ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', sandboxSettings()), 'saving over them');
    const saved = host.kvs.get('settings');
    assert.equal(saved.revision, stored.revision + 1);
    assert.equal(saved.settings.linkExpiryMinutes, 10);

    await host.incode.complete(session.id, 'pass');
    assert.equal(appComments(host, key).length, 1, 'the retried delivery went through');
    assert.equal(host.kvs.get(`v:${session.id}`).status, 'passed');
  } finally {
    await host.stop();
  }
});
