import { describe, expect, it } from 'vitest';
import {
  openedPastExpiry,
  adoptVerification,
  cancelConfirmation,
  initialSendForm,
  lateResultNotice,
  mergeVerification,
  confirmationOf,
  newVerificationForm,
  otherPersonWarning,
  resendConfirmation,
  sendConfirmation,
  sendErrorPlacement,
  trapTab,
  validateSendForm,
  verificationFromMessage,
} from '../issue-panel/logic.js';

const base = { email: 'jane.doe@acme.example', delivery: 'SMS', phone: '', emailTarget: 'corporate', alternateEmail: '' };

describe('initialSendForm', () => {
  it('prefills the person’s email and the admin’s default delivery', () => {
    expect(initialSendForm({ person: { email: 'jane@acme.example', name: 'Jane' }, defaults: { delivery: 'EMAIL', linkExpiryMinutes: 10 } })).toEqual({
      email: 'jane@acme.example',
      delivery: 'EMAIL',
      phone: '',
      emailTarget: 'corporate',
      alternateEmail: '',
    });
  });

  it('starts empty with SMS when nothing is known', () => {
    expect(initialSendForm({ person: null, defaults: {} })).toMatchObject({ email: '', delivery: 'SMS' });
    expect(initialSendForm(null)).toMatchObject({ email: '', delivery: 'SMS' });
  });
});

describe('validateSendForm', () => {
  it('sends SMS to the directory phone when no phone is typed', () => {
    expect(validateSendForm(base)).toEqual({ errors: {}, payload: { email: 'jane.doe@acme.example', delivery: 'SMS', phone: '', alternateEmail: '' } });
  });

  it('normalises a typed phone to E.164', () => {
    expect(validateSendForm({ ...base, phone: '+1 (555) 010-1234' }).payload.phone).toBe('+15550101234');
  });

  it('trims the email', () => {
    expect(validateSendForm({ ...base, email: '  jane.doe@acme.example ' }).payload.email).toBe('jane.doe@acme.example');
  });

  it('refuses a missing or malformed email', () => {
    expect(validateSendForm({ ...base, email: '' })).toEqual({ errors: { email: 'Enter the employee’s corporate email address.' }, payload: null });
    expect(validateSendForm({ ...base, email: 'jane@' }).errors.email).toMatch(/valid email/);
  });

  it('refuses a phone that is not international', () => {
    const r = validateSendForm({ ...base, phone: '555 0101' });
    expect(r.payload).toBeNull();
    expect(r.errors.phone).toMatch(/international format/);
  });

  it('sends email to the corporate address and ignores SMS fields', () => {
    expect(validateSendForm({ ...base, delivery: 'EMAIL', phone: 'garbage' }).payload).toEqual({
      email: 'jane.doe@acme.example',
      delivery: 'EMAIL',
      phone: '',
      alternateEmail: '',
    });
  });

  it('requires a valid alternate address when chosen', () => {
    const alt = { ...base, delivery: 'EMAIL', emailTarget: 'alternate' };
    expect(validateSendForm({ ...alt, alternateEmail: '' }).errors.alternateEmail).toMatch(/alternate email/);
    expect(validateSendForm({ ...alt, alternateEmail: 'nope' }).errors.alternateEmail).toMatch(/valid email/);
    expect(validateSendForm({ ...alt, alternateEmail: ' jane@home.example ' }).payload.alternateEmail).toBe('jane@home.example');
  });

  it('reports every problem at once', () => {
    expect(Object.keys(validateSendForm({ ...base, email: '', phone: '12' }).errors)).toEqual(['email', 'phone']);
  });
});

describe('confirmation wording', () => {
  it('names the employee, channel, destination and expiry', () => {
    expect(sendConfirmation({ email: 'jane@acme.example', delivery: 'SMS', phone: '', alternateEmail: '' }, 10)).toBe(
      'Send an Incode verification link to jane@acme.example by SMS (to the phone in the Incode directory)? The link expires in 10 minutes.',
    );
    expect(sendConfirmation({ email: 'jane@acme.example', delivery: 'SMS', phone: '+15550101234', alternateEmail: '' }, 1)).toBe(
      'Send an Incode verification link to jane@acme.example by SMS to +15550101234? The link expires in 1 minute.',
    );
    expect(sendConfirmation({ email: 'jane@acme.example', delivery: 'EMAIL', phone: '', alternateEmail: '' }, 15)).toBe(
      'Send an Incode verification link to jane@acme.example by email? The link expires in 15 minutes.',
    );
    expect(sendConfirmation({ email: 'jane@acme.example', delivery: 'EMAIL', phone: '', alternateEmail: 'j@home.example' }, 15)).toBe(
      'Send an Incode verification link to jane@acme.example by email to j@home.example? The link expires in 15 minutes.',
    );
  });

  it('leaves the expiry out when it is unknown', () => {
    expect(sendConfirmation({ email: 'a@b.co', delivery: 'EMAIL', phone: '', alternateEmail: '' }, undefined)).toBe(
      'Send an Incode verification link to a@b.co by email?',
    );
  });

  it('words resend and cancel', () => {
    const v = { email: 'jane@acme.example', delivery: 'SMS', destination: '+1 •••• 1234' };
    expect(resendConfirmation(v, 10)).toBe('Send a new Incode verification link to jane@acme.example by SMS to +1 •••• 1234? The link expires in 10 minutes.');
    expect(resendConfirmation({ ...v, delivery: 'EMAIL', destination: 'jane@acme.example' }, 10)).toBe(
      'Send a new Incode verification link to jane@acme.example by email? The link expires in 10 minutes.',
    );
    expect(cancelConfirmation(v)).toMatch(/^Cancel the verification of jane@acme.example\?/);
  });
});

const ver = (over = {}) => ({
  id: 'v1',
  sessionId: 's1',
  status: 'requested',
  statusText: 'Link sent - 2026-11-22 10:00:00',
  updatedAtMs: 1000,
  ...over,
});

describe('verificationFromMessage', () => {
  it('reads a verification from a JSON string, bare or wrapped', () => {
    expect(verificationFromMessage(JSON.stringify(ver()))).toEqual(ver());
    expect(verificationFromMessage(JSON.stringify({ verification: ver({ status: 'passed' }) }))).toEqual(ver({ status: 'passed' }));
    expect(verificationFromMessage({ verification: ver() })).toEqual(ver());
  });

  it('ignores anything that is not a whole verification', () => {
    expect(verificationFromMessage('not json')).toBeNull();
    expect(verificationFromMessage('"changed"')).toBeNull();
    expect(verificationFromMessage(JSON.stringify({ verification: { id: 'v1' } }))).toBeNull();
    expect(verificationFromMessage(JSON.stringify(ver({ status: 'approved' })))).toBeNull();
    expect(verificationFromMessage(JSON.stringify(ver({ updatedAtMs: 'soon' })))).toBeNull();
    expect(verificationFromMessage(null)).toBeNull();
  });
});

describe('mergeVerification', () => {
  const state = { current: ver(), history: [ver(), ver({ id: 'v0', status: 'expired' })], canSend: true };

  it('replaces the current verification and its history row with a newer copy', () => {
    const next = mergeVerification(state, ver({ status: 'passed', updatedAtMs: 2000 }));
    expect(next.current.status).toBe('passed');
    expect(next.history.map((h) => h.status)).toEqual(['passed', 'expired']);
    expect(next.canSend).toBe(true);
  });

  it('never goes back to an older copy', () => {
    const now = mergeVerification(state, ver({ status: 'passed', updatedAtMs: 2000 }));
    const stale = mergeVerification(now, ver({ status: 'inProgress', updatedAtMs: 1500 }));
    expect(stale.current.status).toBe('passed');
    expect(stale.history[0].status).toBe('passed');
  });

  it('does not make an unknown verification current', () => {
    const next = mergeVerification(state, ver({ id: 'other', updatedAtMs: 9000 }));
    expect(next.current.id).toBe('v1');
    expect(next.history.map((h) => h.id)).toEqual(['v1', 'v0']);
  });

  it('updates an older history row that is not current', () => {
    const next = mergeVerification(state, ver({ id: 'v0', status: 'cancelled', updatedAtMs: 5000 }));
    expect(next.history[1].status).toBe('cancelled');
    expect(next.current.id).toBe('v1');
  });

  it('copes with a state that has no current or history yet', () => {
    expect(mergeVerification({ current: null }, ver())).toEqual({ current: null, history: [] });
    expect(mergeVerification(null, ver())).toBeNull();
  });
});

describe('adoptVerification', () => {
  it('makes an action’s verification current', () => {
    const next = adoptVerification({ current: ver({ status: 'expired' }), history: [] }, ver({ id: 'v2', updatedAtMs: 3000 }));
    expect(next.current.id).toBe('v2');
  });

  it('applies a cancellation of the current one', () => {
    const next = adoptVerification({ current: ver(), history: [ver()] }, ver({ status: 'cancelled', updatedAtMs: 4000 }));
    expect(next.current.status).toBe('cancelled');
    expect(next.history[0].status).toBe('cancelled');
  });
});

describe('sendErrorPlacement', () => {
  it('says an error about one field once, under the field, in the resolver’s words', () => {
    const error = { code: 'employee_not_found', message: 'This email is not in your Incode employee directory. Check the address.' };
    expect(sendErrorPlacement(error)).toEqual({ notice: null, fields: { email: [error.message] } });
  });

  it('keeps field errors of a validation under their fields and the summary above', () => {
    const error = { code: 'validation', message: 'Check the fields.', fields: [{ field: 'phone', code: 'invalid_phone', message: 'Bad phone.' }] };
    const placed = sendErrorPlacement(error);
    expect(placed.notice).toBe(error);
    expect(placed.fields).toEqual({ phone: [error.fields[0]] });
  });

  it('shows any other error above the form', () => {
    const error = { code: 'incode_unavailable', message: 'Incode did not answer.' };
    expect(sendErrorPlacement(error)).toEqual({ notice: error, fields: {} });
  });
});

describe('newVerificationForm', () => {
  const state = { person: { email: 'casey@acme.example' }, defaults: { delivery: 'SMS' } };
  it('starts again from the ended verification: its person and channel', () => {
    expect(newVerificationForm(state, { email: 'jane@acme.example', delivery: 'EMAIL', destination: 'jane@acme.example' })).toEqual({
      email: 'jane@acme.example',
      delivery: 'EMAIL',
      phone: '',
      emailTarget: 'corporate',
      alternateEmail: '',
    });
    expect(newVerificationForm(state, { email: 'jane@acme.example', delivery: 'EMAIL', destination: 'jane.home@mail.example' })).toMatchObject({
      emailTarget: 'alternate',
      alternateEmail: 'jane.home@mail.example',
    });
    // A masked phone is not a phone: the agent enters it again, or leaves it to the directory.
    expect(newVerificationForm(state, { email: 'jane@acme.example', delivery: 'SMS', destination: '+1 •••• •• 1234' })).toMatchObject({
      delivery: 'SMS',
      phone: '',
    });
  });

  it('without a verification, is the first form', () => {
    expect(newVerificationForm(state, null)).toEqual(initialSendForm(state));
  });
});

describe('verificationFromMessage and actions', () => {
  it('drops the actions of whoever published the update (they are the publisher’s, not the viewer’s)', () => {
    const v = {
      id: 'v1',
      sessionId: 's1',
      status: 'requested',
      statusText: 'Requested - x',
      updatedAtMs: 5,
      state: 'requested',
      stateName: 'Link sent',
      actions: { resend: true, cancel: true, newVerification: false },
    };
    const got = verificationFromMessage({ verification: v });
    expect(got.actions).toBeUndefined();
    expect(got.stateName).toBe('Link sent');
  });
});

describe('the confirmation modal', () => {
  it('asks before sending, starting on Send; before cancelling, starting on the safe choice', () => {
    const send = confirmationOf({ kind: 'send', payload: { email: 'a@acme.example', delivery: 'EMAIL', phone: '', alternateEmail: '' } }, 10);
    expect(send).toMatchObject({ title: 'Send verification link?', confirmLabel: 'Send', focus: 'confirm', testId: 'send-dialog' });
    expect(send.text).toBe('Send an Incode verification link to a@acme.example by email? The link expires in 10 minutes.');
    expect(send.warning).toBeUndefined();
    const cancel = confirmationOf({ kind: 'cancel', verification: { email: 'a@acme.example' } }, 10);
    expect(cancel).toMatchObject({ appearance: 'danger', focus: 'cancel', cancelLabel: 'Keep it', testId: 'cancel-dialog' });
  });

  it('warns before a link goes to another address than the person on the ticket’s, and keeps focus off Send', () => {
    const casey = { name: 'Casey Customer', email: 'casey@example.test' };
    const payload = { email: 'drew@example.test', delivery: 'EMAIL', phone: '', alternateEmail: '' };
    const send = confirmationOf({ kind: 'send', payload }, 10, casey);
    expect(send.warning).toBe(
      'Casey Customer, the person on this ticket, has the email casey@example.test. A pass of this link verifies whoever uses drew@example.test, not them, and a transition gated on the person’s verification will not count it.',
    );
    expect(send.focus).toBe('cancel');
    const resend = confirmationOf({ kind: 'resend', verification: { email: 'drew@example.test', delivery: 'EMAIL' } }, 10, casey);
    expect(resend.warning).toMatch(/^Casey Customer, the person on this ticket/);
    // The same address in another case, an unknown person or a hidden email: no warning.
    for (const person of [{ ...casey, email: 'CASEY@Example.test' }, null, { name: 'Casey Customer', email: '' }]) {
      const same = confirmationOf({ kind: 'send', payload: { ...payload, email: 'casey@example.test' } }, 10, person);
      expect(same.warning).toBeUndefined();
      expect(same.focus).toBe('confirm');
    }
    expect(otherPersonWarning('drew@example.test', { email: 'casey@example.test' })).toMatch(/^The person on this ticket has the email/);
  });

  it('keeps Tab inside the dialog', () => {
    const doc = { activeElement: null };
    const focusable = (name) => ({
      name,
      focus() {
        doc.activeElement = this;
      },
    });
    const [a, b] = [focusable('a'), focusable('b')];
    const root = { ownerDocument: doc, querySelectorAll: () => [a, b], contains: (el) => el === a || el === b };
    const press = (shiftKey) => {
      const event = {
        shiftKey,
        prevented: false,
        preventDefault() {
          this.prevented = true;
        },
      };
      trapTab(event, root);
      return event.prevented;
    };
    doc.activeElement = b;
    expect(press(false)).toBe(true);
    expect(doc.activeElement).toBe(a);
    expect(press(true)).toBe(true);
    expect(doc.activeElement).toBe(b);
    doc.activeElement = a;
    expect(press(false)).toBe(false); // the browser moves on to b
  });
});

describe('lateResultNotice', () => {
  it('says in plain words that a late result was kept and not applied', () => {
    expect(lateResultNotice({ lateResults: [{ outcome: 'passed', reason: 'afterCancel', event: 'SESSION_SUCCEEDED', atMs: 1 }] })).toBe(
      'Incode reported that this verification passed after the link was cancelled. It was not applied: send a new link to verify the employee.',
    );
    expect(lateResultNotice({ lateResults: [{ outcome: 'failed', reason: 'afterExpiry', event: 'SESSION_FAILED', atMs: 1 }] })).toMatch(
      /failed after the link expired\. It was not applied/,
    );
  });
  it('is null without late results', () => {
    expect(lateResultNotice({})).toBeNull();
    expect(lateResultNotice({ lateResults: [] })).toBeNull();
  });
});

describe('openedPastExpiry', () => {
  const v = { status: 'inProgress', expiresAtMs: 1_000, delivery: 'EMAIL', destination: 'casey@example.test' };
  it('says Incode decides once an opened link is past its expiry, instead of a countdown at 0:00', () => {
    expect(openedPastExpiry(v, 1_000)).toBe(
      'The employee opened the link before it expired. Link sent by email to casey@example.test; waiting for Incode’s result.',
    );
  });
  it('leaves the countdown while it runs, and an unopened link to expire', () => {
    expect(openedPastExpiry(v, 999)).toBeNull();
    expect(openedPastExpiry({ ...v, status: 'requested' }, 5_000)).toBeNull();
  });
});
