import { describe, expect, it } from 'vitest';
import {
  adminFields,
  authDefaults,
  buildSettingsInput as buildWith,
  checkNumberField,
  formFromSettings as formWith,
  isDirty,
  fieldLabel,
  missingText,
  rangeText,
  VARIABLE_DESCRIPTIONS,
  resolvedHosts as hostsWith,
  switchAuthMode as switchWith,
} from '../admin-page/logic.js';
import { describeDelivery } from '../admin-page/deliveries.js';
// The rules as the core builds them for `admin.getSettings`: the page keeps no copy.
import { adminRules } from '../../src/console.js';

const rules = adminRules();
const formFromSettings = (s) => formWith(s, rules);
const buildSettingsInput = (f) => buildWith(f, rules);
const switchAuthMode = (f, mode) => switchWith(f, mode, rules);
const resolvedHosts = (f) => hostsWith(f, rules);

/** A `Settings` value in the shape of rust/src/api.d.ts. */
const settings = () => ({
  environment: 'production',
  baseUrlOverride: '',
  clientId: 'acme-client',
  integrationReference: 'b2b-acme',
  configurationId: '',
  linkExpiryMinutes: 10,
  defaultDelivery: 'SMS',
  transitions: { passed: 'In Progress', failed: 'Escalate', manualReview: '' },
  templates: { passed: 'ok {{name}}', failed: 'no {{name}}', manualReview: 'wait' },
  commentVisibility: 'internal',
  webhookAuth: { mode: 'hmac', header: 'x-incode-signature', encoding: 'hex', timestampHeader: '', toleranceSeconds: 300 },
  agentGroups: ['help-desk'],
  personField: 'reporter',
  limits: { perTicketPerHour: 5, perAgentPerHour: 30 },
  portalEnabled: false,
  auditRetentionDays: 400,
});

describe('formFromSettings / buildSettingsInput', () => {
  it('round-trips unchanged settings exactly, without any secret', () => {
    const s = settings();
    const { input, errors } = buildSettingsInput(formFromSettings(s));
    expect(errors).toEqual([]);
    expect(input).toEqual(s);
  });

  it('round-trips each webhook authentication mode', () => {
    for (const auth of [
      { mode: 'sharedSecret', header: 'x-incode-secret' },
      { mode: 'oauth', clientId: 'incode', tokenTtlSeconds: 3600 },
      { mode: 'hmac', header: 'x-sig', encoding: 'base64', timestampHeader: 'x-ts', toleranceSeconds: 30 },
    ]) {
      const s = { ...settings(), webhookAuth: auth };
      expect(buildSettingsInput(formFromSettings(s)).input.webhookAuth).toEqual(auth);
    }
  });

  it('starts secrets empty and sends only the ones typed, trimmed', () => {
    const form = formFromSettings(settings());
    expect([form.apiKey, form.clientSecret, form.webhookSecret]).toEqual(['', '', '']);
    const { input } = buildSettingsInput({ ...form, apiKey: '  ak_123 ', webhookSecret: '   ' });
    expect(input.apiKey).toBe('ak_123');
    expect('clientSecret' in input).toBe(false);
    expect('webhookSecret' in input).toBe(false);
  });

  it('trims names but leaves templates exactly as written', () => {
    const form = formFromSettings(settings());
    const { input } = buildSettingsInput({
      ...form,
      clientId: ' acme-client ',
      baseUrlOverride: ' https://x.incodesmile.com ',
      transitions: { ...form.transitions, failed: ' Escalate ' },
      templates: { ...form.templates, passed: '  spaced\n' },
    });
    expect(input.clientId).toBe('acme-client');
    expect(input.baseUrlOverride).toBe('https://x.incodesmile.com');
    expect(input.transitions.failed).toBe('Escalate');
    expect(input.templates.passed).toBe('  spaced\n');
  });

  it('sends numbers as numbers', () => {
    const form = formFromSettings(settings());
    const { input } = buildSettingsInput({ ...form, linkExpiryMinutes: '15', limits: { perTicketPerHour: '3', perAgentPerHour: '100' } });
    expect(input.linkExpiryMinutes).toBe(15);
    expect(input.limits).toEqual({ perTicketPerHour: 3, perAgentPerHour: 100 });
  });

  it('refuses numbers out of range with field errors on their paths', () => {
    const form = formFromSettings(settings());
    const { input, errors } = buildSettingsInput({
      ...form,
      linkExpiryMinutes: '61',
      limits: { perTicketPerHour: '0', perAgentPerHour: 'lots' },
      webhookAuth: { ...form.webhookAuth, toleranceSeconds: '10' },
    });
    expect(input).toBeNull();
    expect(errors.map((e) => e.field)).toEqual(['webhookAuth.toleranceSeconds', 'linkExpiryMinutes', 'limits.perTicketPerHour', 'limits.perAgentPerHour']);
    for (const e of errors) expect(adminFields(rules)).toContain(e.field);
  });

  it('checks the OAuth token lifetime', () => {
    const form = switchAuthMode(formFromSettings(settings()), 'oauth');
    const { errors } = buildSettingsInput({ ...form, webhookAuth: { ...form.webhookAuth, tokenTtlSeconds: '59' } });
    expect(errors.map((e) => e.field)).toEqual(['webhookAuth.tokenTtlSeconds']);
  });

  it('cleans the agent groups: trimmed, no blanks, no duplicates (case-insensitive)', () => {
    const form = formFromSettings(settings());
    const { input } = buildSettingsInput({ ...form, agentGroups: [' help-desk ', '', 'Help-Desk', 'tier-2'] });
    expect(input.agentGroups).toEqual(['help-desk', 'tier-2']);
  });

  it('fills a missing webhook mode with the HMAC defaults', () => {
    const form = formFromSettings({ ...settings(), webhookAuth: undefined });
    expect(form.webhookAuth).toEqual(authDefaults(rules).hmac);
  });
});

describe('switchAuthMode', () => {
  it('switches to the defaults of a new mode, and back to what was typed', () => {
    let form = formFromSettings(settings());
    form = { ...form, webhookAuth: { ...form.webhookAuth, header: 'x-custom-sig' } };
    form = switchAuthMode(form, 'sharedSecret');
    expect(form.webhookAuth).toEqual({ mode: 'sharedSecret', header: 'x-incode-secret' });
    form = switchAuthMode(form, 'hmac');
    expect(form.webhookAuth.header).toBe('x-custom-sig');
    expect(buildSettingsInput(form).input.webhookAuth.mode).toBe('hmac');
  });

  it('ignores an unknown or unchanged mode', () => {
    const form = formFromSettings(settings());
    expect(switchAuthMode(form, 'basic')).toBe(form);
    expect(switchAuthMode(form, 'hmac')).toBe(form);
  });
});

describe('resolvedHosts', () => {
  it('follows the environment', () => {
    const form = formFromSettings(settings());
    expect(resolvedHosts(form)).toEqual({ api: 'https://saas-api.incodesmile.com', auth: 'https://auth.incode.com', overridden: false });
    expect(resolvedHosts({ ...form, environment: 'demo' })).toEqual({
      api: 'https://demo-api.incodesmile.com',
      auth: 'https://auth.demo.incode.com',
      overridden: false,
    });
  });

  it('uses an override for the API host only', () => {
    const form = { ...formFromSettings(settings()), baseUrlOverride: ' https://eu-api.incodesmile.com/ ' };
    expect(resolvedHosts(form)).toEqual({ api: 'https://eu-api.incodesmile.com', auth: 'https://auth.incode.com', overridden: true });
  });
});

describe('isDirty', () => {
  it('is false for the saved form and true after any change, secrets included', () => {
    const saved = formFromSettings(settings());
    expect(isDirty(formFromSettings(settings()), saved)).toBe(false);
    expect(isDirty({ ...saved, linkExpiryMinutes: '11' }, saved)).toBe(true);
    expect(isDirty({ ...saved, apiKey: 'x' }, saved)).toBe(true);
  });

  it('does not count remembered values of other webhook modes', () => {
    const saved = formFromSettings(settings());
    const back = switchAuthMode(switchAuthMode(saved, 'oauth'), 'hmac');
    expect(isDirty(back, saved)).toBe(false);
  });
});

describe('the rules come from the core', () => {
  it("a fresh OAuth mode uses the core's default client id", () => {
    const form = switchAuthMode(formFromSettings(settings()), 'oauth');
    expect(form.webhookAuth.clientId).toBe('incode-webhooks');
  });

  it('checks one number field as it is left, with the core range and message', () => {
    expect(checkNumberField(rules, 'linkExpiryMinutes', '4')).toMatchObject({ field: 'linkExpiryMinutes', code: 'out_of_range' });
    expect(checkNumberField(rules, 'linkExpiryMinutes', '4').message).toMatch(/from 5 to 60/);
    expect(checkNumberField(rules, 'linkExpiryMinutes', '60')).toBeNull();
    expect(checkNumberField(rules, 'limits.perAgentPerHour', '101').message).toMatch(/from 1 to 100/);
    expect(checkNumberField(rules, 'limits.perTicketPerHour', '61')).toBeNull();
    expect(checkNumberField(rules, 'limits.perTicketPerHour', '')).not.toBeNull();
    expect(rangeText(rules, 'webhookAuth.toleranceSeconds')).toBe('30 to 3600');
  });

  it('describes every template variable the core allows', () => {
    expect(rules.templateVariables[0]).toBe('name');
    for (const name of rules.templateVariables) expect(VARIABLE_DESCRIPTIONS[name]).toBeTruthy();
  });

  it('names what is missing by its label', () => {
    expect(missingText(rules, ['clientId', 'integrationReference', 'apiKey', 'clientSecret'])).toBe('Client ID, Integration reference, API key, Client secret');
  });

  it('labels every field the core validates, and places every error a save can report', () => {
    expect(adminFields(rules)).toContain('webhookAuth.tokenTtlSeconds');
    expect(fieldLabel(rules, 'personField')).toBe('Person to verify');
    expect(fieldLabel(rules, 'nothing.here')).toBe('nothing.here');
    for (const rule of rules.numbers) expect(adminFields(rules)).toContain(rule.field);
  });
});

describe('describeDelivery', () => {
  it('marks a test verification and shows what the core says of it', () => {
    const reasonText = 'Test verification received ✓ (no ticket is changed)';
    expect(describeDelivery({ shownVerdict: 'test', verdictText: 'Test', reasonText })).toEqual({
      appearance: 'success',
      verdict: 'Test',
      reason: reasonText,
    });
  });

  it("gives each verdict its look and shows the core's words (rust/src/admin/words.rs)", () => {
    const cases = [
      ['accepted', 'success'],
      ['duplicate', 'default'],
      ['ignored', 'default'],
      ['rejected', 'removed'],
      ['invalid', 'moved'],
      ['error', 'removed'],
      ['someNewVerdict', 'default'],
      ['toString', 'default'],
    ];
    for (const [shownVerdict, appearance] of cases) {
      expect(describeDelivery({ shownVerdict, verdictText: 'Word', reasonText: 'In words.' })).toEqual({
        appearance,
        verdict: 'Word',
        reason: 'In words.',
      });
    }
    expect(describeDelivery({ shownVerdict: 'accepted' })).toEqual({ appearance: 'success', verdict: '', reason: '' });
  });
});
