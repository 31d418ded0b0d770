// Shared setup for the end-to-end tests of the app: the real bundled functions on the local
// Forge host (Jira site, KVS, realtime, Incode sandbox), driven the way the Custom UI pages and
// Incode drive them. Nothing of the app is mocked.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startHost } from '../../dev/host/server.mjs';
import { ACCOUNTS } from '../../dev/host/jira/index.mjs';
import { SANDBOX_CREDENTIALS, sandboxAdminSettings } from '../../dev/host/incode/seed.mjs';

export { ACCOUNTS, SANDBOX_CREDENTIALS };

export const MODULES = {
  panel: 'incode-verification-panel',
  admin: 'incode-settings',
  portal: 'incode-portal-panel',
};

/** The webhook secret the tests configure on both sides (app settings and Incode dashboard). */
export const WEBHOOK_SECRET = 'whsec-test-4f1c2a7e8d3b4c5e9a106b7d';

/**
 * Every line the process writes to the console while the tests run (the functions run in this
 * process), so a test can prove that no secret ever reaches a log line.
 */
export function captureConsole() {
  const lines = [];
  const originals = {};
  for (const name of ['log', 'info', 'warn', 'error', 'debug']) {
    originals[name] = console[name];
    console[name] = (...args) => {
      lines.push(args.map((a) => (typeof a === 'string' ? a : safeString(a))).join(' '));
    };
  }
  return {
    lines,
    restore() {
      Object.assign(console, originals);
    },
  };
}

function safeString(value) {
  try {
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  } catch {
    return String(value);
  }
}

/** Starts the host with a fast webhook retry schedule (the sandbox's backoff, shortened). */
export async function startApp(options = {}) {
  const hostLog = [];
  const host = await startHost({
    memory: true,
    log: (line) => hostLog.push(line),
    incodeOptions: { retry: { attempts: 6, baseDelayMs: 20, factor: 2, maxDelayMs: 100, timeoutMs: 15_000 } },
    ...options,
  });
  host.hostLog = hostLog;
  return host;
}

function extensionFor(host, moduleKey, issueKey) {
  if (!issueKey) return {};
  const issue = host.jira.issues.get(issueKey);
  assert.ok(issue, `issue ${issueKey} exists`);
  if (moduleKey === MODULES.portal) return { request: { key: issue.key }, portal: { id: '1' } };
  return { issue: { id: issue.id, key: issue.key }, project: { key: issue.project } };
}

/** Calls a resolver as the Custom UI page of `moduleKey` would. */
export function invoke(host, { as, module, issueKey, fn, payload = {}, extension }) {
  return host.invokeResolver({
    moduleKey: module,
    account: as,
    extension: extension ?? extensionFor(host, module, issueKey),
    functionName: fn,
    payload,
  });
}

export const panel = (host, as, issueKey, fn, payload) => invoke(host, { as, module: MODULES.panel, issueKey, fn, payload });
export const admin = (host, as, fn, payload) => invoke(host, { as, module: MODULES.admin, fn, payload });
export const portal = (host, as, issueKey, fn, payload) => invoke(host, { as, module: MODULES.portal, issueKey, fn, payload });

/** Asserts an ok envelope and returns its data. */
export function ok(answer, what = 'the call') {
  assert.equal(answer?.ok, true, `${what} succeeds: ${JSON.stringify(answer)}`);
  return answer.data;
}

/** Asserts an error envelope with `code` and returns the error. */
export function fails(answer, code, what = 'the call') {
  assert.equal(answer?.ok, false, `${what} is refused: ${JSON.stringify(answer)}`);
  assert.equal(answer.error.code, code, `${what} fails with ${code}: ${JSON.stringify(answer.error)}`);
  assert.equal(typeof answer.error.message, 'string');
  return answer.error;
}

/** The settings a help-desk admin saves for the sandbox (HMAC webhooks, all three transitions). */
export function sandboxSettings(overrides = {}) {
  return sandboxAdminSettings(WEBHOOK_SECRET, {
    templates: {
      passed: 'Identity verified for {{name}} ({{email}}). Identity ID: {{identityId}}. Session: {{sessionId}}. {{status}}',
      failed: 'Verification FAILED for {{name}} ({{email}}). Do not proceed. Session: {{sessionId}}. {{status}}',
      manualReview: 'Manual review required for {{name}} ({{email}}). Session: {{sessionId}}. {{status}}',
    },
    ...overrides,
  });
}

/**
 * Configures the app as an admin would (settings, then "Test credentials") and the Incode
 * dashboard's webhook to point at the app's webtrigger with the same secret.
 */
export async function configure(host, overrides = {}, webhook = {}) {
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', sandboxSettings(overrides)), 'saving the settings');
  ok(await admin(host, ACCOUNTS.alex, 'admin.testCredentials'), 'testing the credentials');
  const info = ok(await admin(host, ACCOUNTS.alex, 'admin.getSettings'), 'reading the settings');
  host.incode.configureWebhook({ url: info.webhook.url, mode: 'hmac', secret: WEBHOOK_SECRET, header: 'x-incode-signature', encoding: 'hex', ...webhook });
  return info;
}

/** Comments the app posted on an issue. */
export function appComments(host, issueKey) {
  const appId = ACCOUNTS.app;
  return host.jira.issues.get(issueKey).comments.filter((c) => c.author === appId);
}

/** The last `n` published realtime events on a channel. */
export function publishedOn(host, channel) {
  return host.realtime.published.filter((e) => e.channel === channel);
}

/** Sends a link from the panel as `as` and returns the verification and the sandbox session. */
export async function sendLink(host, as, issueKey, payload) {
  const data = ok(await panel(host, as, issueKey, 'panel.send', payload), `sending a link on ${issueKey}`);
  const session = host.incode.sessions.get(data.verification.sessionId);
  assert.ok(session, 'the sandbox knows the session the app recorded');
  return { verification: data.verification, session };
}

/**
 * A copy of a stored-values fixture (`tests/vectors/stored/<release>/<store>/`) as the data
 * directory of a host; the caller removes `dataDir`. The KVS keeps each key's expiry as a time:
 * they are moved by the time since the capture, so the store is as that release left it just now
 * (the values themselves keep their times: leases and links have run out).
 * @param {string} dir @returns {{ dataDir: string, store: any }}
 */
export function fixtureStore(dir) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'incode-fixture-'));
  for (const file of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, file), path.join(dataDir, file));
  const file = path.join(dataDir, 'kvs.json');
  const store = JSON.parse(fs.readFileSync(file, 'utf8'));
  // From the third release the store also holds custom entities: [[entity, [[key, record]]]].
  const entities = (store.entities ?? []).flatMap(([, rows]) => rows);
  const records = [...store.data, ...store.secrets, ...entities].map(([, r]) => r);
  const shift = Date.now() - Math.max(...records.map((r) => r.updatedAt));
  for (const r of records) {
    r.createdAt += shift;
    r.updatedAt += shift;
    if (r.expiresAt !== null) r.expiresAt += shift;
  }
  fs.writeFileSync(file, JSON.stringify(store));
  return { dataDir, store };
}
