import React from 'react';
import Button from '@atlaskit/button/default/button';
import { RadioGroup } from '@atlaskit/radio';
import Textfield from '@atlaskit/textfield';
import { ErrorNotice, FieldShell } from '../shared/components.jsx';
import { fieldDomId, fieldErrorText, placeFieldErrors } from '../shared/fields.js';
import { SEND_FIELDS, validateSendForm } from './logic.js';

/** @typedef {{ email: string, delivery: string, phone: string, emailTarget: string, alternateEmail: string }} SendFormValues */

const DELIVERY_OPTIONS = [
  { name: 'delivery', value: 'SMS', label: 'SMS' },
  { name: 'delivery', value: 'EMAIL', label: 'Email' },
];

/** @param {unknown} value @returns {any[]} */
function asList(value) {
  if (!value) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * The form an agent fills to send a verification link.
 * @param {{ form: SendFormValues, person: { email: string, name: string } | null, errors: Record<string, any[]>,
 *   sendError: import('../shared/types.js').ResolverError | null, onChange: (next: SendFormValues) => void,
 *   onClearError: (path: string) => void, onInvalid: (errors: Record<string, any[]>) => void,
 *   onSubmit: (payload: object) => void, onHide: (() => void) | null }} props
 */
export function SendForm({ form, person, errors, sendError, onChange, onClearError, onInvalid, onSubmit, onHide }) {
  const set = (patch, path) => {
    onChange({ ...form, ...patch });
    if (path) onClearError(path);
  };
  const emailTargets = [
    { name: 'emailTarget', value: 'corporate', label: form.email ? `Corporate email (${form.email.trim()})` : 'Corporate email' },
    { name: 'emailTarget', value: 'alternate', label: 'An alternate address' },
  ];

  const submit = (event) => {
    event.preventDefault();
    const checked = validateSendForm(form);
    if (checked.payload) {
      onSubmit(checked.payload);
      return;
    }
    const next = Object.fromEntries(Object.entries(checked.errors).map(([k, v]) => [k, [v]]));
    onInvalid(next);
    const first = SEND_FIELDS.find((f) => next[f]);
    if (first) document.getElementById(fieldDomId(first))?.focus();
  };

  const unplaced = sendError?.fields ? placeFieldErrors(sendError.fields, SEND_FIELDS).unplaced : [];

  return (
    <section className="card" aria-labelledby="send-heading" data-testid="send-form">
      <form className="stack" onSubmit={submit} noValidate>
        <h2 id="send-heading" className="section-heading">
          Send a verification link
        </h2>
        {person?.name ? (
          <p className="muted small">
            Person on this ticket: {person.name}
            {person.email ? ` (${person.email})` : ''}
          </p>
        ) : null}

        {sendError ? (
          <ErrorNotice error={sendError} title="Error sending verification" testId="send-error">
            {unplaced.length ? (
              <ul>
                {unplaced.map((e, i) => (
                  <li key={i}>{fieldErrorText(e)}</li>
                ))}
              </ul>
            ) : null}
          </ErrorNotice>
        ) : null}

        <FieldShell
          path="email"
          label="Corporate email"
          required
          helper="The employee is matched in your Incode directory by this address."
          errors={asList(errors.email)}
        >
          {(p) => (
            <Textfield
              {...p}
              name="email"
              isRequired
              type="email"
              autoComplete="off"
              value={form.email}
              onChange={(e) => set({ email: /** @type {HTMLInputElement} */ (e.target).value }, 'email')}
            />
          )}
        </FieldShell>

        <fieldset className="fieldset" aria-describedby="delivery-hint">
          <legend>Send the link by</legend>
          <RadioGroup
            name="delivery"
            options={DELIVERY_OPTIONS}
            value={form.delivery}
            onChange={(e) => set({ delivery: /** @type {HTMLInputElement} */ (e.target).value }, 'delivery')}
          />
          <p id="delivery-hint" className="muted small">
            SMS is recommended when the employee is locked out and cannot read corporate email.
          </p>
          {asList(errors.delivery).map((m, i) => (
            <p key={i} className="error-text">
              {typeof m === 'string' ? m : fieldErrorText(m)}
            </p>
          ))}
        </fieldset>

        {form.delivery === 'SMS' ? (
          <FieldShell
            path="phone"
            label="Mobile phone (optional)"
            helper="Leave empty to use the phone in the Incode directory. International format, such as +1 555 010 1234."
            errors={asList(errors.phone)}
          >
            {(p) => (
              <Textfield
                {...p}
                name="phone"
                type="tel"
                autoComplete="off"
                value={form.phone}
                onChange={(e) => set({ phone: /** @type {HTMLInputElement} */ (e.target).value }, 'phone')}
              />
            )}
          </FieldShell>
        ) : (
          <>
            <fieldset className="fieldset">
              <legend>Send the email to</legend>
              <RadioGroup
                name="emailTarget"
                options={emailTargets}
                value={form.emailTarget}
                onChange={(e) => set({ emailTarget: /** @type {HTMLInputElement} */ (e.target).value }, 'alternateEmail')}
              />
            </fieldset>
            {form.emailTarget === 'alternate' ? (
              <FieldShell
                path="alternateEmail"
                label="Alternate email"
                required
                helper="A personal address the employee can read now."
                errors={asList(errors.alternateEmail)}
              >
                {(p) => (
                  <Textfield
                    {...p}
                    name="alternateEmail"
                    isRequired
                    type="email"
                    autoComplete="off"
                    value={form.alternateEmail}
                    onChange={(e) => set({ alternateEmail: /** @type {HTMLInputElement} */ (e.target).value }, 'alternateEmail')}
                  />
                )}
              </FieldShell>
            ) : null}
          </>
        )}

        <div className="row">
          <Button type="submit" appearance="primary" testId="send-button">
            Send verification link
          </Button>
          {onHide ? (
            <Button appearance="subtle" onClick={onHide}>
              Close form
            </Button>
          ) : null}
        </div>
      </form>
    </section>
  );
}
