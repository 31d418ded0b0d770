import { describe, expect, it } from 'vitest';
import { fieldDomId, fieldErrorText, isValidEmail, normalizePhone, parseWholeNumber, placeFieldErrors } from '../shared/fields.js';
import { adminFields } from '../admin-page/logic.js';
import { adminRules } from '../../src/console.js';

// The page's fields as the core lists them.
const ADMIN_FIELDS = adminFields(adminRules());

const err = (field, message = 'm', extra = {}) => ({ field, code: 'c', message, ...extra });

describe('placeFieldErrors', () => {
  it('puts an error on the field with the same path', () => {
    const r = placeFieldErrors([err('templates.passed'), err('linkExpiryMinutes'), err('webhookAuth.header')], ADMIN_FIELDS);
    expect(Object.keys(r.byField)).toEqual(['templates.passed', 'linkExpiryMinutes', 'webhookAuth.header']);
    expect(r.unplaced).toEqual([]);
    expect(r.count).toBe(3);
  });

  it('keeps several errors of one field together, in order', () => {
    const r = placeFieldErrors([err('apiKey', 'a'), err('apiKey', 'b')], ADMIN_FIELDS);
    expect(r.byField.apiKey.map((e) => e.message)).toEqual(['a', 'b']);
  });

  it('puts an error inside a field on the closest enclosing field', () => {
    const r = placeFieldErrors([err('agentGroups.2'), err('limits.perTicketPerHour.max')], ADMIN_FIELDS);
    expect(r.byField.agentGroups).toHaveLength(1);
    expect(r.byField['limits.perTicketPerHour']).toHaveLength(1);
  });

  it('puts an error about a group on its first field', () => {
    const r = placeFieldErrors([err('limits'), err('webhookAuth'), err('templates')], ADMIN_FIELDS);
    expect(r.byField['limits.perTicketPerHour']).toHaveLength(1);
    expect(r.byField['webhookAuth.mode']).toHaveLength(1);
    expect(r.byField['templates.passed']).toHaveLength(1);
  });

  it('leaves what fits nowhere for the summary', () => {
    const r = placeFieldErrors([err('revision'), err(''), err('limitsX')], ADMIN_FIELDS);
    expect(r.unplaced.map((e) => e.field)).toEqual(['revision', '', 'limitsX']);
    expect(r.byField).toEqual({});
  });

  it('accepts no errors at all', () => {
    expect(placeFieldErrors(undefined, ADMIN_FIELDS)).toEqual({ byField: {}, unplaced: [], count: 0 });
  });
});

describe('fieldErrorText', () => {
  it('prefixes the position inside a template', () => {
    expect(fieldErrorText(err('templates.passed', 'Unknown variable “x”.', { line: 2, column: 11 }))).toBe('Line 2, column 11: Unknown variable “x”.');
    expect(fieldErrorText(err('t', 'Unclosed', { line: 4 }))).toBe('Line 4: Unclosed');
    expect(fieldErrorText(err('t', 'Plain'))).toBe('Plain');
  });
});

describe('fieldDomId', () => {
  it('makes a valid, stable id from a dotted path', () => {
    expect(fieldDomId('templates.passed')).toBe('field-templates-passed');
    expect(fieldDomId('webhookAuth.header')).toBe('field-webhookAuth-header');
  });
});

describe('isValidEmail', () => {
  it.each(['jane.doe@acme.example', 'a+tag@sub.corp.co', ' spaced@acme.example '])('accepts %s', (v) => {
    expect(isValidEmail(v)).toBe(true);
  });
  it.each(['', 'jane', 'jane@', '@acme.example', 'jane@acme', 'jane doe@acme.example', 'a@b@c.d', 'jane@acme..example', `${'a'.repeat(250)}@b.co`])(
    'rejects %s',
    (v) => {
      expect(isValidEmail(v)).toBe(false);
    },
  );
});

describe('normalizePhone', () => {
  it.each([
    ['+1 (555) 010-1234', '+15550101234'],
    ['+44 20 7946 0958', '+442079460958'],
    ['+49.30.1234567', '+49301234567'],
    ['', ''],
    ['   ', ''],
  ])('%s → %s', (input, out) => {
    expect(normalizePhone(input)).toBe(out);
  });
  it.each(['555 0101', '0044 20 7946 0958', '+0 555 0101', '+1 555', '+1 555 010 1234 5678 90', '+1 555-CALL-NOW', '+1 555 010 1234 ext 5'])(
    'rejects %s',
    (input) => {
      expect(normalizePhone(input)).toBeNull();
    },
  );
});

describe('parseWholeNumber', () => {
  it('accepts whole numbers within range, as numbers or text', () => {
    expect(parseWholeNumber('10', 5, 60)).toBe(10);
    expect(parseWholeNumber(' 60 ', 5, 60)).toBe(60);
    expect(parseWholeNumber(5, 5, 60)).toBe(5);
  });
  it.each(['4', '61', '10.5', '1e1', '', 'ten', '-5', null, undefined, 7.2])('rejects %s', (v) => {
    expect(parseWholeNumber(v, 5, 60)).toBeNull();
  });
});
