// The "Identity verified" rule's configuration pages (create, edit, view in Jira's workflow
// editor): which page this is, the form from a saved configuration, the checks before saving and
// what `workflowRules.onConfigure` hands Jira. The fields, ranges, defaults and words come from
// the core (`admin.gateRule` answers `GateRules`); nothing of them is written here.
import { parseWholeNumber } from '../shared/fields.js';

/** @typedef {import('../../src/generated/console.js').GateRules} GateRules */
/** @typedef {import('../../src/generated/console.js').GateConfig} GateConfig */
/** @typedef {'create' | 'edit' | 'view'} Entry */
/** @typedef {{ withinMinutes: string, samePerson: boolean, once: boolean }} GateForm */

const ENTRIES = ['create', 'edit', 'view'];

/**
 * Which page this is: the build marks each resource folder's page (`<html data-entry>`); the
 * context's `extension.entryPoint`, when Jira names one, wins.
 * @param {any} context @param {string | undefined} marked @returns {Entry}
 */
export function entryOf(context, marked) {
  const named = context?.extension?.entryPoint;
  if (ENTRIES.includes(named)) return named;
  return ENTRIES.includes(marked ?? '') ? /** @type {Entry} */ (marked) : 'view';
}

/**
 * The configuration Jira saved for this rule (`extension.validatorConfig`, the JSON text the page
 * handed `onConfigure`), or null on the create page.
 * @param {any} context
 */
export function savedConfiguration(context) {
  const saved = context?.extension?.validatorConfig;
  return saved === undefined || saved === null || saved === '' ? null : saved;
}

/** @param {GateConfig} config @returns {GateForm} */
export function formFromConfig(config) {
  return { withinMinutes: String(config.withinMinutes), samePerson: config.samePerson, once: config.once };
}

/**
 * The form's errors by field, checked against the core's ranges and messages.
 * @param {GateRules} rules @param {GateForm} form @returns {Record<string, string>}
 */
export function formErrors(rules, form) {
  const errors = /** @type {Record<string, string>} */ ({});
  for (const field of rules.fields) {
    if (field.kind !== 'minutes') continue;
    const value = form[/** @type {keyof GateForm} */ (field.field)];
    if (parseWholeNumber(value, field.min ?? 0, field.max ?? Number.MAX_SAFE_INTEGER) === null) {
      errors[field.field] = field.message ?? 'Enter a whole number of minutes.';
    }
  }
  return errors;
}

/**
 * The configuration to save, or the errors that keep it from saving.
 * @param {GateRules} rules @param {GateForm} form
 * @returns {{ config: GateConfig, errors: null } | { config: null, errors: Record<string, string> }}
 */
export function configFromForm(rules, form) {
  const errors = formErrors(rules, form);
  if (Object.keys(errors).length) return { config: null, errors };
  return {
    config: { withinMinutes: Number(String(form.withinMinutes).trim()), samePerson: form.samePerson === true, once: form.once === true },
    errors: null,
  };
}

/**
 * What the page's `onConfigure` callback answers Jira: the configuration as JSON text, or
 * undefined, which tells Jira not to save (the documented way to keep the form open).
 * @param {GateRules} rules @param {GateForm} form
 */
export function onConfigureAnswer(rules, form) {
  const { config } = configFromForm(rules, form);
  return config ? JSON.stringify(config) : undefined;
}
