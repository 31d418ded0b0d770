import { describe, expect, it } from 'vitest';
import { configFromForm, entryOf, formErrors, formFromConfig, onConfigureAnswer, savedConfiguration } from '../gate-config/logic.js';
// The rules as the core builds them for `admin.gateRule`: the page keeps no copy.
import { gateConfigCheck, gateRules } from '../../src/console.js';

const rules = gateRules();
const minutes = rules.fields.find((f) => f.field === 'withinMinutes');
const defaults = formFromConfig(rules.defaults);

describe('which page this is', () => {
  it('follows the entry Jira names, else the mark of the resource folder', () => {
    expect(entryOf({ extension: { entryPoint: 'edit' } }, 'create')).toBe('edit');
    expect(entryOf({ extension: {} }, 'view')).toBe('view');
    expect(entryOf(null, 'create')).toBe('create');
    // Neither says: the read-only summary, never a form that could save.
    expect(entryOf({ extension: { entryPoint: 'delete' } }, 'other')).toBe('view');
  });

  it('reads the saved configuration from the context, none on the create page', () => {
    expect(savedConfiguration({ extension: { validatorConfig: '{"withinMinutes":10}' } })).toBe('{"withinMinutes":10}');
    expect(savedConfiguration({ extension: {} })).toBeNull();
    expect(savedConfiguration({ extension: { validatorConfig: '' } })).toBeNull();
  });
});

describe('the form', () => {
  it('starts from the core defaults', () => {
    expect(defaults).toEqual({ withinMinutes: String(rules.defaults.withinMinutes), samePerson: true, once: false });
  });

  it('refuses minutes outside the core range with the core message, at the field', () => {
    for (const bad of [String(minutes.min - 1), String(minutes.max + 1), '100000', '', '2.5', 'ten', '-5']) {
      expect(formErrors(rules, { ...defaults, withinMinutes: bad })).toEqual({ withinMinutes: minutes.message });
      expect(configFromForm(rules, { ...defaults, withinMinutes: bad }).config).toBeNull();
    }
    expect(formErrors(rules, { ...defaults, withinMinutes: String(minutes.min) })).toEqual({});
    expect(formErrors(rules, { ...defaults, withinMinutes: ` ${minutes.max} ` })).toEqual({});
  });

  it('saves what the gate reads back as the same configuration', () => {
    const form = { withinMinutes: '10', samePerson: false, once: true };
    const text = onConfigureAnswer(rules, form);
    expect(typeof text).toBe('string');
    expect(JSON.parse(text)).toEqual({ withinMinutes: 10, samePerson: false, once: true });
    // The gate's own reading of the saved text (as Jira stores it): the same values, no errors.
    expect(gateConfigCheck(text)).toEqual({ config: { withinMinutes: 10, samePerson: false, once: true }, errors: [] });
  });

  it('answers undefined to onConfigure while a field is wrong, so Jira does not save', () => {
    expect(onConfigureAnswer(rules, { ...defaults, withinMinutes: '0' })).toBeUndefined();
    expect(onConfigureAnswer(rules, { ...defaults, withinMinutes: '100000' })).toBeUndefined();
  });
});
