// The admin form: from `PublicSettings` to an editable form, and from the form to the
// `SettingsInput` that `admin.saveSettings` takes. Kept apart from React so it can be tested.
import { parseWholeNumber } from '../shared/fields.js';

/** @typedef {import('../../src/generated/core.js').Settings} Settings */
/** The admin page's editable form (`formFromSettings`). @typedef {ReturnType<typeof formFromSettings>} AdminForm */

/** @type {import('../../src/generated/core.js').Outcome[]} */
export const OUTCOMES = ['passed', 'failed', 'manualReview'];

export const OUTCOME_LABELS = {
  passed: 'Verification passes',
  failed: 'Verification fails',
  manualReview: 'Manual review required',
};

/** What each template variable holds, for its chip (the list itself is the core's `templateVariables`). */
export const VARIABLE_DESCRIPTIONS = {
  name: 'Employee’s display name',
  email: 'Employee’s corporate email',
  identityId: 'Incode identity ID',
  sessionId: 'Incode session ID',
  outcome: 'passed, failed or manual review',
  agent: 'Agent who sent the link',
  issueKey: 'Ticket key',
  time: 'Time of the result (UTC)',
  delivery: 'SMS or email',
  status: 'Timestamped status text',
};

// The Incode hosts, webhook events, authentication defaults and number ranges are the core's
// (`rules` in the `admin.getSettings` answer, `AdminRules` in rust/src/api.d.ts): never copied here.

/** The form's values of each webhook authentication mode's defaults (numbers as typed text). */
export function authDefaults(rules) {
  const d = rules.webhookAuthDefaults;
  return { hmac: toFormAuth(d.hmac), sharedSecret: toFormAuth(d.sharedSecret), oauth: toFormAuth(d.oauth) };
}

function toFormAuth(auth) {
  return Object.fromEntries(Object.entries(auth).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v]));
}

/** The range rule of a whole-number field, or null. */
export function numberRule(rules, path) {
  return rules.numbers.find((r) => r.field === path) ?? null;
}

/** "5 to 60": a number field's range, for its helper text. */
export function rangeText(rules, path) {
  const rule = numberRule(rules, path);
  return rule ? `${rule.min} to ${rule.max}` : '';
}

/**
 * The error for one whole-number field, or null: what leaving the field shows (Atlaskit forms
 * validate on blur), with the core's range and message.
 */
export function checkNumberField(rules, path, value) {
  const rule = numberRule(rules, path);
  if (!rule) return null;
  return parseWholeNumber(value, rule.min, rule.max) === null ? { field: path, code: 'out_of_range', message: rule.message } : null;
}

/** A field's label on the page (the core's `rules.fields`), or its path. */
export function fieldLabel(rules, path) {
  return rules.fields.find((f) => f.field === path)?.label ?? path;
}

/** "Client ID, API key": what is missing, in the page's words. */
export function missingText(rules, missing) {
  return missing.map((path) => fieldLabel(rules, path)).join(', ');
}

/** Every field path of the form, in page order (server field errors are placed on these). */
export function adminFields(rules) {
  return rules.fields.map((f) => f.field);
}

function authToForm(auth, defaults) {
  const mode = auth && defaults[auth.mode] ? auth.mode : 'hmac';
  const out = { ...defaults[mode] };
  for (const [k, v] of Object.entries(auth || {})) {
    if (k in out) out[k] = typeof v === 'number' ? String(v) : v;
  }
  return out;
}

/**
 * The editable form for saved settings. Secrets start empty ("leave blank to keep").
 * @param {Settings} settings `admin.getSettings`'s `PublicSettings.settings`
 * @param {any} rules `admin.getSettings`'s `rules`, built by the core
 */
export function formFromSettings(settings, rules) {
  const defaults = authDefaults(rules);
  const auth = authToForm(settings.webhookAuth, defaults);
  return {
    environment: settings.environment,
    baseUrlOverride: settings.baseUrlOverride ?? '',
    clientId: settings.clientId ?? '',
    integrationReference: settings.integrationReference ?? '',
    configurationId: settings.configurationId ?? '',
    linkExpiryMinutes: String(settings.linkExpiryMinutes ?? ''),
    auditRetentionDays: String(settings.auditRetentionDays ?? ''),
    defaultDelivery: settings.defaultDelivery,
    transitions: { passed: '', failed: '', manualReview: '', ...settings.transitions },
    templates: { passed: '', failed: '', manualReview: '', ...settings.templates },
    commentVisibility: settings.commentVisibility,
    webhookAuth: auth,
    // What was typed for each mode, so switching back and forth loses nothing.
    authMemory: { ...defaults, [auth.mode]: auth },
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
export function switchAuthMode(form, mode, rules) {
  const defaults = authDefaults(rules);
  if (!defaults[mode] || form.webhookAuth.mode === mode) return form;
  const authMemory = { ...form.authMemory, [form.webhookAuth.mode]: form.webhookAuth };
  return { ...form, authMemory, webhookAuth: { ...(authMemory[mode] ?? defaults[mode]) } };
}

/** The hosts calls will go to, for what the form currently says. */
export function resolvedHosts(form, rules) {
  const hosts = rules.hosts[form.environment] ?? rules.hosts.demo;
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
export function buildSettingsInput(form, rules) {
  const errors = [];
  const number = (path, value) => {
    const error = checkNumberField(rules, path, value);
    if (error) errors.push(error);
    const rule = numberRule(rules, path);
    return error || !rule ? null : parseWholeNumber(value, rule.min, rule.max);
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
    auditRetentionDays: number('auditRetentionDays', form.auditRetentionDays),
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
