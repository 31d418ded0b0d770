import { describe, expect, it } from 'vitest';
import { adviceFor, FIELD_OF_CODE, isRetryable } from '../shared/errors.js';

describe('adviceFor', () => {
  it('tells the agent the employee is not in the directory', () => {
    const a = adviceFor({ code: 'employee_not_found', message: 'Incode answered 4301.' });
    expect(a.message).toMatch(/^This email is not in your Incode employee directory/);
    expect(a.next).toBe('fix');
    expect(a.detail).toBe('Incode answered 4301.');
  });

  it('sends bad credentials to a Jira admin and the Test credentials button', () => {
    const a = adviceFor({ code: 'bad_credentials', message: '401' });
    expect(a.message).toBe('Ask a Jira admin to check the Incode credentials (Test credentials on the settings page).');
    expect(a.next).toBe('admin');
  });

  it.each(['incode_unavailable', 'rate_limited'])('asks to try %s again in a minute', (code) => {
    const a = adviceFor({ code, message: '' });
    expect(a.message).toMatch(/Try again in a minute\.$/);
    expect(a.next).toBe('retry');
    expect(isRetryable({ code })).toBe(true);
  });

  it('explains the sending limit', () => {
    const a = adviceFor({ code: 'limit_reached', message: 'The limit of 5 links per ticket per hour has been reached.' });
    expect(a.message).toMatch(/hourly limit/);
    expect(a.detail).toBe('The limit of 5 links per ticket per hour has been reached.');
    expect(a.next).toBe('wait');
  });

  it('keeps validation generic when fields carry the detail', () => {
    const a = adviceFor({ code: 'validation', message: 'Some fields are not valid.', fields: [{ field: 'phone', code: 'c', message: 'm' }] });
    expect(a.next).toBe('fix');
    expect(a.detail).toBeUndefined();
  });

  it('shows the message of a validation error without fields', () => {
    expect(adviceFor({ code: 'validation', message: 'Nothing to save.' }).detail).toBe('Nothing to save.');
  });

  it('shows the message of an unknown code as it is', () => {
    const a = adviceFor({ code: 'internal', message: 'Jira answered 500 to the comment.' });
    expect(a).toEqual({ title: 'Something went wrong', message: 'Jira answered 500 to the comment.', next: 'retry' });
  });

  it('has words even without a message or code', () => {
    expect(adviceFor({}).message).toBe('Something went wrong. Try again.');
    expect(adviceFor(null).title).toBe('Something went wrong');
  });

  it('does not repeat a resolver message equal to the advice', () => {
    const a = adviceFor({ code: 'rate_limited', message: 'Too many requests in a short time. Try again in a minute.' });
    expect(a.detail).toBeUndefined();
  });

  it('words advice for the Jira admin on the settings page, never "ask a Jira admin"', () => {
    for (const code of ['bad_credentials', 'setup_required', 'not_configured', 'incode_not_found', 'incode_rejected', 'bad_response', 'limit_reached']) {
      const forAgent = adviceFor({ code, message: '' });
      const forAdmin = adviceFor({ code, message: '' }, { audience: 'admin' });
      expect(forAdmin.title).toBe(forAgent.title);
      expect(forAdmin.message).not.toMatch(/Jira admin/);
    }
    expect(adviceFor({ code: 'bad_credentials', message: '' }, { audience: 'admin' }).message).toMatch(/^Incode did not accept these credentials/);
    expect(adviceFor({ code: 'bad_credentials', message: '' }, { audience: 'admin' }).next).toBe('fix');
    // Codes without admin wording keep the shared advice.
    expect(adviceFor({ code: 'incode_unavailable', message: '' }, { audience: 'admin' })).toEqual(adviceFor({ code: 'incode_unavailable', message: '' }));
  });

  it('does not call fixes retryable', () => {
    expect(isRetryable({ code: 'employee_not_found' })).toBe(false);
    expect(isRetryable({ code: 'bad_credentials' })).toBe(false);
  });
});

describe('codes of the backend and the core', () => {
  it.each(['busy', 'jira_unavailable', 'bad_response'])('%s can be tried again', (code) => {
    expect(isRetryable({ code, message: '' })).toBe(true);
  });

  it.each(['not_configured', 'incode_not_found', 'setup_required'])('%s goes to a Jira admin', (code) => {
    expect(adviceFor({ code, message: '' }).next).toBe('admin');
  });

  it('tells a page answer it cannot read apart from an Incode answer the core cannot read', () => {
    expect(adviceFor({ code: 'unexpected_answer' }).message).toMatch(/This page does not understand|does not understand/);
    expect(adviceFor({ code: 'bad_response' }).title).toBe('Incode sent an unexpected answer');
  });

  it('lets the resolver say whether a retry helps', () => {
    expect(isRetryable({ code: 'internal', retryable: false })).toBe(false);
    expect(isRetryable({ code: 'employee_not_found', retryable: true })).toBe(true);
  });

  it('ties the form-field codes to the send form fields', () => {
    expect(FIELD_OF_CODE).toEqual({
      employee_not_found: 'email',
      invalid_email: 'email',
      invalid_phone: 'phone',
      invalid_alternate_email: 'alternateEmail',
    });
  });
});

describe('adviceFor: a resolver that names what to do', () => {
  it('says it once: the admin sees the resolver’s own setup message, not a second generic one', () => {
    const a = adviceFor({ code: 'setup_required', message: 'Save the client ID and client secret first.' }, { audience: 'admin' });
    expect(a.message).toBe('Save the client ID and client secret first.');
    expect(a.detail).toBeUndefined();
    const generic = adviceFor({ code: 'setup_required', message: '' }, { audience: 'admin' });
    expect(generic.message).toMatch(/save the Incode credentials first/);
  });
});
