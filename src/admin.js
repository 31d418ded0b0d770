// The settings page: every resolver refuses anyone who is not a Jira admin. Secrets go in, never
// out: the page sees only whether each one is set.
import api, { route, webTrigger } from '@forge/api';
import Resolver from '@forge/resolver';
import {
  adminRules,
  foundGroups,
  missingWords,
  personFieldOptions,
  publicSettings,
  renderTemplate,
  statusText,
  validateSettings,
  validateTemplate,
} from './console.js';
import { jiraJson, requireAdmin } from './access.js';
import { AppError, guarded } from './envelope.js';
import { fetchToken, startSession } from './incode.js';
import { logEvent } from './log.js';
import {
  dropToken,
  flagsOf,
  getChecklist,
  listDeliveries,
  loadConfig,
  loadSecrets,
  loadSettings,
  markTestSession,
  saveSecrets,
  saveSettingsRecord,
  updateChecklist,
} from './store.js';

/** @typedef {import('./generated/core.js').Settings} Settings */
/** @typedef {import('./generated/core.js').Outcome} Outcome */

const OUTCOMES = /** @type {const} */ (['passed', 'failed', 'manualReview']);
const OUTCOME_WORDS = { passed: 'passed', failed: 'failed', manualReview: 'manual review' };
const OUTCOME_STATUS = /** @type {const} */ ({ passed: 'passed', failed: 'failed', manualReview: 'manualReview' });
const DELIVERY_PAGE = 50;
// The core refuses more agent groups than this, so no more are looked up.
const MAX_GROUP_LOOKUPS = 51;
const GROUP_PAGE = 20;

/**
 * The admin check, with what the resolver needs loading meanwhile (nothing of it is returned to
 * a caller who is refused).
 * @template T
 * @param {any} context @param {Promise<T>} loading @returns {Promise<T>}
 */
async function asAdmin(context, loading) {
  loading.catch(() => {});
  await requireAdmin(context);
  return loading;
}

/** @param {Settings} settings */
async function webhookInfo(settings) {
  const auth = settings.webhookAuth;
  const [url, tokenUrl] = await Promise.all([
    webTrigger.getUrl('incode-webhook'),
    auth.mode === 'oauth' ? webTrigger.getUrl('incode-webhook-token') : Promise.resolve(null),
  ]);
  const header = auth.mode === 'oauth' ? 'Authorization' : auth.header;
  const events = adminRules().webhookEvents;
  const steps = ['In the Incode dashboard, open Configuration → Webhooks and add a webhook.', `URL: ${url}`, `Events: ${events.join(', ')}.`];
  if (auth.mode === 'hmac') {
    steps.push(`Signing: HMAC-SHA256 of the raw body with the webhook secret saved here, sent in the ${auth.header} header (${auth.encoding}).`);
    if (auth.timestampHeader !== '') steps.push(`Timestamp: Unix time in the ${auth.timestampHeader} header, signed as "timestamp.body".`);
  } else if (auth.mode === 'sharedSecret') {
    steps.push(`Authentication: a custom header ${auth.header} whose value is the webhook secret saved here.`);
  } else {
    steps.push(
      `Authentication: OAuth 2.0 client credentials. Token URL: ${tokenUrl}; client ID: ${auth.clientId}; client secret: the webhook secret saved here.`,
    );
  }
  return { url, tokenUrl, mode: auth.mode, header, events, instructions: steps.join('\n') };
}

/**
 * The setup checklist, from what really happened.
 * @param {Settings} settings @param {import('./store.js').Checklist} checklist @param {import('./store.js').SecretFlags} flags
 */
function checklistItems(settings, checklist, flags) {
  const chosen = OUTCOMES.filter((o) => settings.transitions[o] !== '');
  // `atMs` is shown after `detail` in the viewer's time zone, by the page.
  return [
    {
      id: 'credentials',
      done: checklist.credentialsTestedAtMs !== null,
      label: 'Test the Incode credentials',
      detail: checklist.credentialsTestedAtMs !== null ? 'Connected on' : 'Save your credentials, then use Test credentials.',
      atMs: checklist.credentialsTestedAtMs,
    },
    flags.weakWebhookSecret
      ? {
          id: 'webhook',
          done: false,
          label: 'Receive a webhook from Incode',
          detail:
            'The stored webhook secret is too weak, so every delivery is refused: enter a new one of at least 16 characters, here and in the Incode dashboard.',
          atMs: null,
        }
      : {
          id: 'webhook',
          done: checklist.webhookReceivedAtMs !== null,
          label: 'Receive a webhook from Incode',
          detail:
            checklist.webhookReceivedAtMs !== null
              ? 'First authenticated delivery received'
              : 'Register the webhook URL in the Incode dashboard, then send a test verification.',
          atMs: checklist.webhookReceivedAtMs,
        },
    {
      id: 'transitions',
      done: chosen.length > 0,
      label: 'Choose status transitions',
      detail: chosen.length > 0 ? `Set for ${chosen.map((o) => OUTCOME_WORDS[o]).join(', ')}` : 'Optional: map outcomes to transitions of your workflow.',
      atMs: null,
    },
    {
      id: 'firstVerification',
      done: checklist.firstVerificationAtMs !== null,
      label: 'Send the first verification',
      detail: checklist.firstVerificationAtMs !== null ? 'First sent' : 'Open a request and send a verification link from the issue panel.',
      atMs: checklist.firstVerificationAtMs,
    },
  ];
}

/** @param {{ context: any }} request */
async function getSettings({ context }) {
  // Stored settings no release wrote show as the defaults, so that the admin can save over them.
  const [record, secrets, checklist] = await asAdmin(context, Promise.all([loadSettings({ orDefaults: true }), loadSecrets(), getChecklist()]));
  const config = { ...record, secrets };
  const webhook = await webhookInfo(config.settings);
  // The flags from the secrets themselves: records saved by earlier versions lack the strength.
  const flags = flagsOf(config.secrets);
  return {
    settings: publicSettings(config.settings, flags),
    settingsUnreadable: record.unreadable === true,
    webhook,
    checklist: checklistItems(config.settings, checklist, flags),
    rules: adminRules(),
  };
}

const CREDENTIAL_FIELDS = /** @type {const} */ (['environment', 'baseUrlOverride', 'clientId']);

/** @param {string} query @param {number} maxResults */
async function pickGroups(query, maxResults) {
  const answer = await jiraJson((signal) =>
    api.asUser().requestJira(route`/rest/api/3/groups/picker?query=${query}&maxResults=${maxResults}&caseInsensitive=true`, { signal }),
  );
  return foundGroups(answer);
}

/**
 * The site's groups matching the names being saved (the core decides which exist). One look-up
 * per name: the picker matches substrings and answers a limited page.
 * @param {unknown[]} names
 */
async function groupsNamed(names) {
  const typed = names.filter((n) => typeof n === 'string').map((n) => /** @type {string} */ (n).trim());
  const wanted = [...new Set(typed.filter((n) => n !== ''))].slice(0, MAX_GROUP_LOOKUPS);
  const found = await Promise.all(wanted.map((name) => pickGroups(name, 50)));
  return found.flat();
}

/** The site's fields, as Jira answers them. */
function siteFields() {
  return jiraJson((signal) => api.asUser().requestJira(route`/rest/api/3/field`, { signal }));
}

/** @param {{ payload: any, context: any }} request */
async function saveSettings({ payload, context }) {
  // Over settings no release wrote, the defaults: saving is how the admin repairs them.
  const [record, stored] = await asAdmin(context, Promise.all([loadSettings({ orDefaults: true }), loadSecrets()]));
  const config = { ...record, secrets: stored };
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new AppError('validation', 'Nothing to save.', { fields: [] });
  }
  const flags = flagsOf(config.secrets);
  const groupNames = Array.isArray(payload.agentGroups) ? payload.agentGroups : config.settings.agentGroups;
  const [groups, fields] = await Promise.all([groupsNamed(groupNames), siteFields()]);
  const decision = validateSettings(config.settings, payload, flags, { groups, fields });
  if (!decision.ok) {
    throw new AppError('validation', 'Some settings need your attention.', { fields: decision.errors });
  }
  const updates = decision.secretUpdates;
  const secrets = { ...config.secrets, ...updates };
  const credentialsChanged =
    updates.apiKey !== undefined || updates.clientSecret !== undefined || CREDENTIAL_FIELDS.some((f) => decision.settings[f] !== config.settings[f]);
  // Secrets first: settings that claim a secret is set are never saved before the secret is.
  if (Object.keys(updates).length > 0) await saveSecrets(secrets);
  const secretsSet = flagsOf(secrets);
  await saveSettingsRecord({ revision: config.revision + 1, settings: decision.settings, secretsSet });
  // Then the token of the old credentials goes, with the mark that they were tested.
  if (credentialsChanged) await Promise.all([dropToken(), updateChecklist({ credentialsTestedAtMs: null })]);
  logEvent('admin.settings_saved', { count: config.revision + 1 });
  return { settings: publicSettings(decision.settings, secretsSet) };
}

/** @param {{ context: any }} request */
async function testCredentials({ context }) {
  const config = await asAdmin(context, loadConfig());
  if (config.secrets.clientSecret === '' || config.settings.clientId === '') {
    throw new AppError('setup_required', 'Save the client ID and client secret first.');
  }
  // Always a fresh token request: the cache would hide credentials that stopped working.
  await fetchToken(config.settings, config.secrets);
  const checkedAt = Date.now();
  await updateChecklist({ credentialsTestedAtMs: checkedAt });
  return { connected: true, checkedAt };
}

/** @param {{ payload: any, context: any }} request */
async function sendTest({ payload, context }) {
  const config = await asAdmin(context, loadConfig());
  const pub = publicSettings(config.settings, flagsOf(config.secrets));
  if (!pub.ready) throw new AppError('setup_required', `Finish the settings first: save ${missingWords(pub.missing)}.`);
  const delivery = payload?.delivery === undefined || payload?.delivery === '' ? config.settings.defaultDelivery : payload.delivery;
  if (delivery !== 'SMS' && delivery !== 'EMAIL') {
    throw new AppError('validation', 'Choose SMS or email delivery.', {
      fields: [{ field: 'delivery', code: 'invalid_delivery', message: 'Choose SMS or email delivery.' }],
    });
  }
  const email = typeof payload?.email === 'string' ? payload.email.trim() : '';
  const phone = typeof payload?.phone === 'string' ? payload.phone.trim() : '';
  const session = await startSession(config.settings, config.secrets, { email, delivery, phone, alternateEmail: '' });
  await markTestSession(session.sessionId, Date.now());
  logEvent('admin.test_sent', { sessionId: session.sessionId });
  return { sessionId: session.sessionId };
}

/** @param {{ context: any }} request */
async function clearTokenCache({ context }) {
  await requireAdmin(context);
  await dropToken();
  return { cleared: true };
}

/** The site's groups whose names contain `query`, for the agent groups picker. @param {{ payload: any, context: any }} request */
async function searchGroups({ payload, context }) {
  await requireAdmin(context);
  const query = typeof payload?.query === 'string' ? payload.query.trim().slice(0, 255) : '';
  return { groups: await pickGroups(query, GROUP_PAGE) };
}

/** The reporter and the site's user-picker fields, for "Person to verify". @param {{ context: any }} request */
async function listPersonFields({ context }) {
  await requireAdmin(context);
  return { fields: personFieldOptions(await siteFields()) };
}

/** @param {{ context: any }} request */
async function listTransitions({ context }) {
  await requireAdmin(context);
  const [workflows, serviceStatuses] = await Promise.all([workflowTransitions(), serviceProjectStatuses()]);
  // A workflow whose statuses all belong to a service project's is (most likely) that project's:
  // Jira names a project's workflow only to the workflow-scheme API, which needs a wider scope.
  const forService = (/** @type {{ statusIds: string[] }} */ w) =>
    w.statusIds.length > 0 && serviceStatuses.some((ids) => w.statusIds.every((id) => ids.has(id)));
  const ranked = workflows
    .map((w) => ({ name: w.name, service: forService(w), transitions: w.transitions }))
    .sort((a, b) => Number(b.service) - Number(a.service) || a.name.localeCompare(b.name));
  return { workflows: ranked };
}

/** Every workflow with its transition names (sorted, no create transition) and status ids. */
async function workflowTransitions() {
  /** @type {Map<string, { names: Set<string>, statusIds: string[] }>} */
  const byWorkflow = new Map();
  for (let startAt = 0, pages = 0; pages < 20; pages += 1) {
    const from = startAt;
    const page = await jiraJson((signal) =>
      api.asUser().requestJira(route`/rest/api/3/workflows/search?expand=values.transitions&startAt=${from}&maxResults=50`, { signal }),
    );
    const values = Array.isArray(page?.values) ? page.values : [];
    const statusIdOf = new Map(
      (Array.isArray(page?.statuses) ? page.statuses : []).map((/** @type {any} */ st) => [st?.statusReference, String(st?.id ?? '')]),
    );
    for (const workflow of values) {
      if (typeof workflow?.name !== 'string') continue;
      const names = new Set();
      for (const t of Array.isArray(workflow?.transitions) ? workflow.transitions : []) {
        if (typeof t?.name === 'string' && t.name !== '' && t.type !== 'INITIAL') names.add(t.name);
      }
      const statusIds = (Array.isArray(workflow?.statuses) ? workflow.statuses : [])
        .map((/** @type {any} */ st) => statusIdOf.get(st?.statusReference) ?? '')
        .filter((/** @type {string} */ id) => id !== '');
      if (names.size > 0) byWorkflow.set(workflow.name, { names, statusIds });
    }
    if (page?.isLast !== false || values.length === 0) break;
    startAt += values.length;
  }
  return [...byWorkflow].map(([name, w]) => ({ name, statusIds: w.statusIds, transitions: [...w.names].sort((a, b) => a.localeCompare(b)) }));
}

/** The status ids of each service project (the first 20), to tell which workflows serve them. */
async function serviceProjectStatuses() {
  const page = await jiraJson((signal) => api.asUser().requestJira(route`/rest/api/3/project/search?typeKey=service_desk&maxResults=20`, { signal }));
  const keys = (Array.isArray(page?.values) ? page.values : [])
    .map((/** @type {any} */ p) => p?.key)
    .filter((/** @type {unknown} */ k) => typeof k === 'string');
  return Promise.all(
    keys.map(async (/** @type {string} */ key) => {
      const types = await jiraJson((signal) => api.asUser().requestJira(route`/rest/api/3/project/${key}/statuses`, { signal }));
      return new Set(
        (Array.isArray(types) ? types : []).flatMap((/** @type {any} */ t) =>
          (Array.isArray(t?.statuses) ? t.statuses : []).map((/** @type {any} */ st) => String(st?.id ?? '')),
        ),
      );
    }),
  );
}

/** @param {{ payload: any, context: any }} request */
async function previewComment({ payload, context }) {
  await requireAdmin(context);
  const outcome = payload?.outcome;
  if (!OUTCOMES.includes(outcome)) {
    throw new AppError('validation', 'Choose an outcome to preview.', {
      fields: [{ field: 'outcome', code: 'invalid_outcome', message: 'Choose passed, failed or manual review.' }],
    });
  }
  const template = typeof payload?.template === 'string' ? payload.template : '';
  const field = `templates.${outcome}`;
  const errors = validateTemplate(template).map((e) => ({ ...e, field }));
  if (errors.length > 0) return { adf: null, errors };
  const nowMs = Date.now();
  const rendered = renderTemplate(template, {
    name: 'Jane Doe',
    email: 'jane.doe@example.com',
    identityId: '6634d2e3a1b2c3d4e5f60718',
    sessionId: '6634d2e3a1b2c3d4e5f60719',
    outcome: OUTCOME_WORDS[/** @type {Outcome} */ (outcome)],
    agent: 'Alex Agent',
    issueKey: 'HELP-123',
    time: `${new Date(nowMs).toISOString().slice(0, 19).replace('T', ' ')} UTC`,
    delivery: 'SMS',
    status: statusText(OUTCOME_STATUS[/** @type {Outcome} */ (outcome)], nowMs),
  });
  if (!rendered.ok) return { adf: null, errors: [{ field, code: rendered.error.code, message: rendered.error.message }] };
  return { adf: rendered.value, errors: [] };
}

/** @param {{ context: any }} request */
async function getDeliveries({ context }) {
  await requireAdmin(context);
  return { deliveries: await listDeliveries(DELIVERY_PAGE) };
}

export const adminResolver = new Resolver()
  .define('admin.getSettings', guarded('admin.getSettings', getSettings))
  .define('admin.saveSettings', guarded('admin.saveSettings', saveSettings))
  .define('admin.testCredentials', guarded('admin.testCredentials', testCredentials))
  .define('admin.sendTest', guarded('admin.sendTest', sendTest))
  .define('admin.clearTokenCache', guarded('admin.clearTokenCache', clearTokenCache))
  .define('admin.listTransitions', guarded('admin.listTransitions', listTransitions))
  .define('admin.searchGroups', guarded('admin.searchGroups', searchGroups))
  .define('admin.listPersonFields', guarded('admin.listPersonFields', listPersonFields))
  .define('admin.previewComment', guarded('admin.previewComment', previewComment))
  .define('admin.getDeliveries', guarded('admin.getDeliveries', getDeliveries))
  .getDefinitions();
