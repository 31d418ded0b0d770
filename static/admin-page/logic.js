// The admin form: from `PublicSettings` to an editable form, and from the form to the
// `SettingsInput` that `admin.saveSettings` takes. Kept apart from React so it can be tested.
import { parseWholeNumber } from '../shared/fields.js';

/** @typedef {import('../../src/generated/core.js').Settings} Settings */

export const OUTCOMES = ['passed', 'failed', 'manualReview'];

export const OUTCOME_LABELS = {
  passed: 'Verification passes',
  failed: 'Verification fails',
  manualReview: 'Manual review required',
};

/** The template variables (`TemplateVars`), in the order the chips show them. */
export const TEMPLATE_VARIABLES = [
  ['name', 'Employee’s display name'],
  ['email', 'Employee’s corporate email'],
  ['identityId', 'Incode identity ID'],
  ['sessionId', 'Incode session ID'],
  ['outcome', 'passed, failed or manual review'],
  ['agent', 'Agent who sent the link'],
  ['issueKey', 'Ticket key'],
  ['time', 'Time of the result (UTC)'],
  ['delivery', 'SMS or email'],
  ['status', 'Timestamped status text'],
];

/** The Incode hosts per environment (a base URL override replaces the API host). */
export const ENVIRONMENT_HOSTS = {
  demo: { api: 'https://demo-api.incodesmile.com', auth: 'https://auth.demo.incode.com' },
  production: { api: 'https://saas-api.incodesmile.com', auth: 'https://auth.incode.com' },
};

/** The events to enable in the Incode dashboard. */
export const WEBHOOK_EVENTS = ['SESSION_STARTED', 'SESSION_SUCCEEDED', 'SESSION_FAILED', 'SESSION_PENDING_REVIEW'];

/** A fresh configuration of each webhook authentication mode (values as the form holds them). */
export const AUTH_DEFAULTS = {
  hmac: { mode: 'hmac', header: 'x-incode-signature', encoding: 'hex', timestampHeader: '', toleranceSeconds: '300' },
  sharedSecret: { mode: 'sharedSecret', header: 'x-incode-secret' },
  oauth: { mode: 'oauth', clientId: 'incode', tokenTtlSeconds: '3600' },
};

export const NUMBER_RULES = {
  linkExpiryMinutes: [5, 60, 'Link expiry must be a whole number of minutes from 5 to 60.'],
  'limits.perTicketPerHour': [1, 100, 'Enter a whole number from 1 to 100.'],
  'limits.perAgentPerHour': [1, 100, 'Enter a whole number from 1 to 100.'],
  'webhookAuth.toleranceSeconds': [30, 3600, 'Enter a whole number of seconds from 30 to 3600.'],
  'webhookAuth.tokenTtlSeconds': [60, 86400, 'Enter a whole number of seconds from 60 to 86400.'],
};

/** Every field path of the form, in display order (server field errors are placed on these). */
export const ADMIN_FIELDS = [
  'environment',
  'baseUrlOverride',
  'apiKey',
  'clientId',
  'clientSecret',
  'integrationReference',
  'configurationId',
  'linkExpiryMinutes',
  'defaultDelivery',
  'agentGroups',
  'personField',
  'limits.perTicketPerHour',
  'limits.perAgentPerHour',
  'transitions.passed',
  'transitions.failed',
  'transitions.manualReview',
  'templates.passed',
  'templates.failed',
  'templates.manualReview',
  'commentVisibility',
  'webhookAuth.mode',
  'webhookAuth.header',
  'webhookAuth.encoding',
  'webhookAuth.timestampHeader',
  'webhookAuth.toleranceSeconds',
  'webhookAuth.clientId',
  'webhookAuth.tokenTtlSeconds',
  'webhookSecret',
  'portalEnabled',
];

function authToForm(auth) {
  const mode = auth && AUTH_DEFAULTS[auth.mode] ? auth.mode : 'hmac';
  const out = { ...AUTH_DEFAULTS[mode] };
  for (const [k, v] of Object.entries(auth || {})) {
    if (k in out) out[k] = typeof v === 'number' ? String(v) : v;
  }
  return out;
}

/**
 * The editable form for saved settings. Secrets start empty ("leave blank to keep").
 * @param {Settings} settings `admin.getSettings`'s `PublicSettings.settings`
 */
export function formFromSettings(settings) {
  const auth = authToForm(settings.webhookAuth);
  return {
    environment: settings.environment,
    baseUrlOverride: settings.baseUrlOverride ?? '',
    clientId: settings.clientId ?? '',
    integrationReference: settings.integrationReference ?? '',
    configurationId: settings.configurationId ?? '',
    linkExpiryMinutes: String(settings.linkExpiryMinutes ?? ''),
    defaultDelivery: settings.defaultDelivery,
    transitions: { passed: '', failed: '', manualReview: '', ...settings.transitions },
    templates: { passed: '', failed: '', manualReview: '', ...settings.templates },
    commentVisibility: settings.commentVisibility,
    webhookAuth: auth,
    // What was typed for each mode, so switching back and forth loses nothing.
    authMemory: { ...AUTH_DEFAULTS, [auth.mode]: auth },
    agentGroups: [...(settings.agentGroups ?? [])],
    personField: settings.personField ?? 'reporter',
    limits: {
      perTicketPerHour: String(settings.limits?.perTicketPerHour ?? ''),
      perAgentPerHour: String(settings.limits?.perAgentPerHour ?? ''),
    },
    portalEnabled: Boolean(settings.portalEnabled),
    apiKey: '',
    clientSecret: '',
    webhookSecret: '',
  };
}

/** The form with another webhook authentication mode, remembering what the old one held. */
export function switchAuthMode(form, mode) {
  if (!AUTH_DEFAULTS[mode] || form.webhookAuth.mode === mode) return form;
  const authMemory = { ...form.authMemory, [form.webhookAuth.mode]: form.webhookAuth };
  return { ...form, authMemory, webhookAuth: { ...(authMemory[mode] ?? AUTH_DEFAULTS[mode]) } };
}

/** The hosts calls will go to, for what the form currently says. */
export function resolvedHosts(form) {
  const hosts = ENVIRONMENT_HOSTS[form.environment] ?? ENVIRONMENT_HOSTS.demo;
  const override = form.baseUrlOverride.trim().replace(/\/+$/, '');
  return { api: override || hosts.api, auth: hosts.auth, overridden: override !== '' };
}

function cleanGroups(groups) {
  const seen = new Set();
  const out = [];
  for (const g of groups) {
    const name = String(g).trim();
    const key = name.toLowerCase();
    if (name === '' || seen.has(key)) continue;
    seen.add(key);
    out.push(name);
  }
  return out;
}

/**
 * The `SettingsInput` for the form, or the field errors that stop it from being sent. Numbers
 * are checked here because they must cross as numbers; everything else is the core's to judge.
 * Secrets are sent only when typed (blank = keep the stored one).
 * @returns {{ input: object | null, errors: { field: string, code: string, message: string }[] }}
 */
export function buildSettingsInput(form) {
  const errors = [];
  const number = (path, value) => {
    const [min, max, message] = NUMBER_RULES[path];
    const n = parseWholeNumber(value, min, max);
    if (n === null) errors.push({ field: path, code: 'out_of_range', message });
    return n;
  };

  const auth = form.webhookAuth;
  let webhookAuth;
  if (auth.mode === 'hmac') {
    webhookAuth = {
      mode: 'hmac',
      header: auth.header.trim(),
      encoding: auth.encoding === 'base64' ? 'base64' : 'hex',
      timestampHeader: auth.timestampHeader.trim(),
      toleranceSeconds: number('webhookAuth.toleranceSeconds', auth.toleranceSeconds),
    };
  } else if (auth.mode === 'sharedSecret') {
    webhookAuth = { mode: 'sharedSecret', header: auth.header.trim() };
  } else {
    webhookAuth = {
      mode: 'oauth',
      clientId: auth.clientId.trim(),
      tokenTtlSeconds: number('webhookAuth.tokenTtlSeconds', auth.tokenTtlSeconds),
    };
  }

  const input = {
    environment: form.environment,
    baseUrlOverride: form.baseUrlOverride.trim(),
    clientId: form.clientId.trim(),
    integrationReference: form.integrationReference.trim(),
    configurationId: form.configurationId.trim(),
    linkExpiryMinutes: number('linkExpiryMinutes', form.linkExpiryMinutes),
    defaultDelivery: form.defaultDelivery,
    transitions: {
      passed: form.transitions.passed.trim(),
      failed: form.transitions.failed.trim(),
      manualReview: form.transitions.manualReview.trim(),
    },
    templates: { ...form.templates },
    commentVisibility: form.commentVisibility,
    webhookAuth,
    agentGroups: cleanGroups(form.agentGroups),
    personField: form.personField.trim(),
    limits: {
      perTicketPerHour: number('limits.perTicketPerHour', form.limits.perTicketPerHour),
      perAgentPerHour: number('limits.perAgentPerHour', form.limits.perAgentPerHour),
    },
    portalEnabled: Boolean(form.portalEnabled),
  };
  for (const secret of ['apiKey', 'clientSecret', 'webhookSecret']) {
    const value = form[secret].trim();
    if (value !== '') input[secret] = value;
  }
  if (errors.length > 0) return { input: null, errors };
  return { input, errors };
}

/** True when the form differs from the saved settings (secrets typed count as a change). */
export function isDirty(form, savedForm) {
  const strip = ({ authMemory, ...rest }) => rest;
  return JSON.stringify(strip(form)) !== JSON.stringify(strip(savedForm));
}
