import React, { useEffect, useState } from 'react';
import Button from '@atlaskit/button/default/button';
import StatusSuccessIcon from '@atlaskit/icon/core/status-success';
import CheckCircleUncheckedIcon from '@atlaskit/icon/core/check-circle-unchecked';
import Lozenge from '@atlaskit/lozenge';
import { RadioGroup } from '@atlaskit/radio';
import Select, { AsyncSelect, CreatableSelect } from '@atlaskit/select';
import SectionMessage from '@atlaskit/section-message';
import Textfield from '@atlaskit/textfield';
import Toggle from '@atlaskit/toggle';
import { call } from '../shared/bridge.js';
import { CopyValue, ErrorNotice, FieldShell } from '../shared/components.jsx';
import { fieldDomId, fieldErrorText, isValidEmail, normalizePhone } from '../shared/fields.js';
import { formatDateTime } from '../shared/format.js';
import { TemplateEditor } from './TemplateEditor.jsx';
import { missingText, OUTCOMES, OUTCOME_LABELS, rangeText, resolvedHosts, switchAuthMode } from './logic.js';

/** @typedef {import('../shared/types.js').FieldError} FieldError */
/** @typedef {import('../shared/types.js').ResolverError} ResolverError */
/** @typedef {import('./logic.js').AdminForm} AdminForm */
/**
 * What every section gets from the page: the form and how to change it, the field errors, the
 * saved settings and the core's rules.
 * @typedef {{ form: AdminForm, update: (patch: Partial<AdminForm> | ((form: AdminForm) => Partial<AdminForm>), clearPaths?: string[]) => void,
 *   errs: (path: string) => FieldError[], publicSettings: import('../shared/types.js').PublicSettings, announce: (message: string) => void,
 *   env: import('../shared/types.js').PageEnv, rules: import('../shared/types.js').AdminRules, checkOnBlur: (path: string, value: string) => void }} SectionProps
 */
/** @typedef {{ value: string, label: string }} Choice */

/** @param {{ id: string, title: string, description?: string, children: React.ReactNode }} props */
function Section({ id, title, description, children }) {
  return (
    <section className="card stack" aria-labelledby={`${id}-heading`} data-testid={`section-${id}`}>
      <div>
        <h2 id={`${id}-heading`} className="section-heading">
          {title}
        </h2>
        {description ? <p className="muted">{description}</p> : null}
      </div>
      {children}
    </section>
  );
}

/** @param {{ path: string, errors: FieldError[] }} props */
function ErrorLines({ path, errors }) {
  if (!errors.length) return null;
  return (
    <div id={`${fieldDomId(path)}-error`} className="field-errors">
      {errors.map((e, i) => (
        <p key={i} className="error-text">
          {fieldErrorText(e)}
        </p>
      ))}
    </div>
  );
}

/**
 * A radio group in a fieldset whose legend names it (focusable as the field for error links).
 * @template {string} T
 * @param {{ path: string, legend: string, options: { value: T, label: string }[], value: T, onChange: (value: T) => void,
 *   errors?: FieldError[], helper?: string }} props
 */
function RadioFieldset({ path, legend, options, value, onChange, errors = [], helper }) {
  const id = fieldDomId(path);
  return (
    <fieldset className="fieldset" id={id} tabIndex={-1} data-field={path} aria-describedby={errors.length ? `${id}-error` : undefined}>
      <legend>{legend}</legend>
      <RadioGroup
        name={path}
        options={options.map((o) => ({ ...o, name: path }))}
        value={value}
        onChange={(e) => onChange(/** @type {T} */ (/** @type {HTMLInputElement} */ (e.target).value))}
      />
      {helper ? <p className="muted small">{helper}</p> : null}
      <ErrorLines path={path} errors={errors} />
    </fieldset>
  );
}

/**
 * @param {{ path: string, label: string, value: string, onChange: (value: string) => void, onBlur?: (value: string) => void,
 *   errors: FieldError[], helper?: string, required?: boolean, type?: string, placeholder?: string, width?: string }} props
 */
function TextField({ path, label, value, onChange, onBlur, errors, helper, required, type = 'text', placeholder, width }) {
  return (
    <FieldShell path={path} label={label} helper={helper} errors={errors} required={required}>
      {(p) => (
        <Textfield
          {...p}
          name={path}
          type={type}
          value={value}
          isRequired={required}
          placeholder={placeholder}
          width={width}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => onChange(/** @type {HTMLInputElement} */ (e.target).value)}
          onBlur={onBlur ? (e) => onBlur(/** @type {HTMLInputElement} */ (e.target).value) : undefined}
        />
      )}
    </FieldShell>
  );
}

/**
 * A write-only secret: never shown, only whether one is stored; blank keeps it.
 * @param {{ path: string, label: string, flag: import('../../src/generated/core.js').SecretState, value: string,
 *   onChange: (value: string) => void, errors: FieldError[], helper?: string }} props
 */
function SecretField({ path, label, flag, value, onChange, errors, helper }) {
  const isSet = flag === 'set';
  return (
    <FieldShell
      path={path}
      label={
        <span className="label-with-lozenge">
          {label}{' '}
          <span data-testid={`secret-${path}`}>
            <Lozenge appearance={isSet ? 'success' : 'default'}>{isSet ? 'Set' : 'Not set'}</Lozenge>
          </span>
        </span>
      }
      helper={helper ?? (isSet ? 'Stored. Leave blank to keep it; type a new value to replace it.' : 'Not stored yet.')}
      errors={errors}
    >
      {(p) => (
        <Textfield
          {...p}
          name={path}
          type="password"
          value={value}
          placeholder={isSet ? 'Leave blank to keep' : ''}
          autoComplete="new-password"
          spellCheck={false}
          onChange={(e) => onChange(/** @type {HTMLInputElement} */ (e.target).value)}
        />
      )}
    </FieldShell>
  );
}

// ---------------------------------------------------------------------------------------------

/**
 * @param {{ items: import('../shared/types.js').ChecklistItem[], ready: boolean, missing: string[], warnings?: FieldError[],
 *   env: import('../shared/types.js').PageEnv, rules: import('../shared/types.js').AdminRules }} props
 */
export function Checklist({ items, ready, missing, warnings = [], env, rules }) {
  const list = Array.isArray(items) ? items : [];
  const done = list.filter((i) => i.done).length;
  return (
    <section className="card stack" aria-labelledby="checklist-heading" data-testid="checklist">
      <div className="row spread">
        <h2 id="checklist-heading" className="section-heading">
          Guided setup
        </h2>
        <span className="muted small">
          {done} of {list.length} done
        </span>
      </div>
      <ol className="checklist">
        {list.map((item) => (
          // NOTE: the icons' type lists the token variables without a fallback colour; these keep theirs.
          <li key={item.id} data-done={item.done ? 'true' : 'false'} data-testid={`checklist-${item.id}`}>
            <span className="checklist-icon">
              {item.done ? (
                <StatusSuccessIcon label="Done" color={/** @type {any} */ ('var(--ds-icon-success, #22a06b)')} />
              ) : (
                <CheckCircleUncheckedIcon label="Not done" color={/** @type {any} */ ('var(--ds-icon-subtle, #626f86)')} />
              )}
            </span>
            <span>
              <span className={item.done ? 'checklist-label done' : 'checklist-label'}>{item.label}</span>
              {item.detail ? (
                <span className="muted small checklist-detail">
                  {item.detail}
                  {item.atMs ? (
                    <>
                      {' '}
                      <span className="nowrap">{formatDateTime(item.atMs, env)}</span>
                    </>
                  ) : null}
                </span>
              ) : null}
            </span>
          </li>
        ))}
      </ol>
      {!ready && Array.isArray(missing) && missing.length ? (
        <p className="muted small" data-testid="setup-missing">
          Verifications cannot be sent until these are set: {missingText(rules, missing)}.
        </p>
      ) : null}
      {warnings.length ? (
        <div data-testid="setup-warnings">
          <SectionMessage appearance="warning" title="Results from Incode cannot be received yet">
            {warnings.map((w) => (
              <p key={w.code}>{w.message}</p>
            ))}
          </SectionMessage>
        </div>
      ) : null}
    </section>
  );
}

/** @param {SectionProps & { dirty: boolean, onTested?: () => void }} props */
export function CredentialsSection({ form, update, errs, publicSettings, announce, dirty, env, onTested, rules }) {
  const hosts = resolvedHosts(form, rules);
  // A failed test speaks of the credentials as they were: typing new ones clears it.
  const credentialsKey = [form.environment, form.baseUrlOverride, form.apiKey, form.clientId, form.clientSecret, form.integrationReference].join('\u0000');
  const flags = publicSettings.secrets;
  return (
    <Section
      id="credentials"
      title="Incode API credentials"
      description="From your Incode dashboard: Integrations → Default client credentials integration, and your B2B integration."
    >
      <RadioFieldset
        path="environment"
        legend="Environment"
        value={form.environment}
        onChange={(v) => update({ environment: v }, ['environment'])}
        errors={errs('environment')}
        options={[
          { value: 'demo', label: 'Demo (for testing)' },
          { value: 'production', label: 'Production (live use)' },
        ]}
      />
      <dl className="kv small" data-testid="resolved-hosts">
        <dt>API host</dt>
        <dd>
          <code>{hosts.api}</code>
          {hosts.overridden ? <span className="muted"> (override)</span> : null}
        </dd>
        <dt>Auth host</dt>
        <dd>
          <code>{hosts.auth}</code>
        </dd>
      </dl>
      <TextField
        path="baseUrlOverride"
        label="Base URL override (optional)"
        value={form.baseUrlOverride}
        onChange={(v) => update({ baseUrlOverride: v }, ['baseUrlOverride'])}
        errors={errs('baseUrlOverride')}
        helper="Leave blank to use the environment’s API host. Only https URLs on Incode hosts are accepted."
        placeholder="https://"
      />
      <div className="grid-2">
        <SecretField
          path="apiKey"
          label="API key"
          flag={flags.apiKey}
          value={form.apiKey}
          onChange={(v) => update({ apiKey: v }, ['apiKey'])}
          errors={errs('apiKey')}
        />
        <TextField path="clientId" label="Client ID" value={form.clientId} onChange={(v) => update({ clientId: v }, ['clientId'])} errors={errs('clientId')} />
        <SecretField
          path="clientSecret"
          label="Client secret"
          flag={flags.clientSecret}
          value={form.clientSecret}
          onChange={(v) => update({ clientSecret: v }, ['clientSecret'])}
          errors={errs('clientSecret')}
        />
        <TextField
          path="integrationReference"
          label="Integration reference"
          value={form.integrationReference}
          onChange={(v) => update({ integrationReference: v }, ['integrationReference'])}
          errors={errs('integrationReference')}
        />
        <TextField
          path="configurationId"
          label="Configuration ID (optional)"
          value={form.configurationId}
          onChange={(v) => update({ configurationId: v }, ['configurationId'])}
          errors={errs('configurationId')}
        />
      </div>
      <CredentialTools dirty={dirty} announce={announce} env={env} onTested={onTested} credentialsKey={credentialsKey} />
    </Section>
  );
}

/**
 * @param {{ dirty: boolean, announce: (message: string) => void, env: import('../shared/types.js').PageEnv, onTested?: () => void,
 *   credentialsKey: string }} props
 */
function CredentialTools({ dirty, announce, env, onTested, credentialsKey }) {
  const [test, setTest] = useState(
    /** @type {{ state: 'idle' | 'running' | 'ok' | 'error', checkedAt?: number, error?: ResolverError }} */ ({ state: 'idle' }),
  );
  useEffect(() => {
    setTest((t) => (t.state === 'error' ? { state: 'idle' } : t));
  }, [credentialsKey]);
  const [cache, setCache] = useState(/** @type {{ state: 'idle' | 'running' | 'ok' | 'error', error?: ResolverError }} */ ({ state: 'idle' }));
  const [trial, setTrial] = useState(
    /**
     * @type {{ email: string, delivery: string, phone: string, errors: { email?: string, phone?: string },
     *   state: 'idle' | 'running' | 'ok' | 'error', sessionId?: string, error?: ResolverError }}
     */ ({ email: '', delivery: 'EMAIL', phone: '', errors: {}, state: 'idle' }),
  );

  const runTest = async () => {
    setTest({ state: 'running' });
    const answer = await call('admin.testCredentials');
    if (answer.ok && answer.data?.connected) {
      setTest({ state: 'ok', checkedAt: answer.data.checkedAt });
      announce('Connected to Incode.');
      onTested?.(); // the checklist shows the tested credentials
    } else {
      const error = answer.ok ? { code: 'unexpected_answer', message: '' } : answer.error;
      setTest({ state: 'error', error });
      announce('The credentials test failed.');
    }
  };

  const clearCache = async () => {
    setCache({ state: 'running' });
    const answer = await call('admin.clearTokenCache');
    setCache(answer.ok ? { state: 'ok' } : { state: 'error', error: answer.error });
    announce(answer.ok ? 'Token cache cleared.' : 'Could not clear the token cache.');
  };

  const sendTest = async (e) => {
    e.preventDefault();
    const errors = {};
    if (!isValidEmail(trial.email)) errors.email = 'Enter the corporate email of an enrolled employee.';
    const phone = trial.delivery === 'SMS' ? normalizePhone(trial.phone) : '';
    if (phone === null) errors.phone = 'Enter the phone in international format, or leave it empty.';
    if (Object.keys(errors).length) {
      setTrial((t) => ({ ...t, errors, state: 'idle' }));
      return;
    }
    setTrial((t) => ({ ...t, errors: {}, state: 'running' }));
    const answer = await call('admin.sendTest', { email: trial.email.trim(), delivery: trial.delivery, phone });
    if (answer.ok && answer.data?.sessionId) {
      setTrial((t) => ({ ...t, state: 'ok', sessionId: answer.data.sessionId }));
      announce('Test verification sent.');
    } else {
      setTrial((t) => ({ ...t, state: 'error', error: answer.ok ? { code: 'unexpected_answer', message: '' } : answer.error }));
      announce('The test verification was not sent.');
    }
  };

  return (
    <div className="stack tools">
      {dirty ? <p className="muted small">These tools use the saved credentials: save your changes first.</p> : null}
      <div className="row">
        <Button onClick={runTest} isLoading={test.state === 'running'} testId="test-credentials">
          Test credentials
        </Button>
        {test.state === 'ok' ? (
          <span data-testid="connected" className="row">
            <Lozenge appearance="success" isBold>
              ✓ Connected
            </Lozenge>
            {test.checkedAt ? <span className="muted small">checked {formatDateTime(test.checkedAt, env)}</span> : null}
          </span>
        ) : null}
        <Button appearance="subtle" onClick={clearCache} isLoading={cache.state === 'running'} testId="clear-token-cache">
          Clear token cache
        </Button>
        {cache.state === 'ok' ? <span className="muted small">Token cache cleared.</span> : null}
      </div>
      {test.state === 'error' ? <ErrorNotice audience="admin" error={test.error} title="Test credentials failed" testId="test-error" /> : null}
      {cache.state === 'error' ? <ErrorNotice audience="admin" error={cache.error} title="Could not clear the token cache" /> : null}

      <div className="subsection stack" role="group" aria-labelledby="send-test-heading">
        <h3 id="send-test-heading" className="subsection-heading">
          Send test verification
        </h3>
        <p className="muted small">Sends a real verification link to an enrolled employee, outside any ticket.</p>
        <div className="grid-2">
          <FieldShell path="test.email" label="Employee email" errors={trial.errors.email ? [trial.errors.email] : []}>
            {(p) => (
              <Textfield
                {...p}
                type="email"
                value={trial.email}
                autoComplete="off"
                onChange={(e) =>
                  setTrial((t) => ({ ...t, email: /** @type {HTMLInputElement} */ (e.target).value, errors: { ...t.errors, email: undefined } }))
                }
              />
            )}
          </FieldShell>
          <RadioFieldset
            path="test.delivery"
            legend="Delivery"
            value={trial.delivery}
            onChange={(v) => setTrial((t) => ({ ...t, delivery: v }))}
            options={[
              { value: 'SMS', label: 'SMS' },
              { value: 'EMAIL', label: 'Email' },
            ]}
          />
          {trial.delivery === 'SMS' ? (
            <FieldShell
              path="test.phone"
              label="Phone (optional)"
              helper="Leave empty to use the phone in the Incode directory."
              errors={trial.errors.phone ? [trial.errors.phone] : []}
            >
              {(p) => (
                <Textfield
                  {...p}
                  type="tel"
                  value={trial.phone}
                  autoComplete="off"
                  onChange={(e) => setTrial((t) => ({ ...t, phone: /** @type {HTMLInputElement} */ (e.target).value }))}
                />
              )}
            </FieldShell>
          ) : null}
        </div>
        <div className="row">
          <Button onClick={sendTest} isLoading={trial.state === 'running'} testId="send-test">
            Send test verification
          </Button>
          {trial.state === 'ok' ? (
            <span className="row" data-testid="send-test-result">
              <Lozenge appearance="success">Link sent</Lozenge>
              <span className="small">session</span>
              <CopyValue label="session ID" value={trial.sessionId} onCopied={announce} />
            </span>
          ) : null}
        </div>
        {trial.state === 'error' ? (
          <ErrorNotice audience="admin" error={trial.error} title="Test verification not sent" testId="send-test-error">
            {trial.error.fields?.length ? (
              <ul>
                {trial.error.fields.map((f, i) => (
                  <li key={i}>{fieldErrorText(f)}</li>
                ))}
              </ul>
            ) : null}
          </ErrorNotice>
        ) : null}
      </div>
    </div>
  );
}

/** @param {SectionProps} props */
export function VerificationSection({ form, update, errs, rules, checkOnBlur }) {
  return (
    <Section id="verification" title="Verification settings">
      <TextField
        path="linkExpiryMinutes"
        label="Link expiry (minutes)"
        type="number"
        width="small"
        value={form.linkExpiryMinutes}
        onChange={(v) => update({ linkExpiryMinutes: v }, ['linkExpiryMinutes'])}
        onBlur={(v) => checkOnBlur('linkExpiryMinutes', v)}
        errors={errs('linkExpiryMinutes')}
        helper={`How long the verification link stays valid: ${rangeText(rules, 'linkExpiryMinutes')} minutes (default ${rules.defaults.linkExpiryMinutes}).`}
      />
      <TextField
        path="auditRetentionDays"
        label="Audit retention (days)"
        type="number"
        width="small"
        value={form.auditRetentionDays}
        onChange={(v) => update({ auditRetentionDays: v }, ['auditRetentionDays'])}
        onBlur={(v) => checkOnBlur('auditRetentionDays', v)}
        errors={errs('auditRetentionDays')}
        helper={`How long the verification report keeps each entry: ${rangeText(rules, 'auditRetentionDays')} days (default ${rules.defaults.auditRetentionDays}); older entries are removed daily.`}
      />
      <RadioFieldset
        path="defaultDelivery"
        legend="Default delivery method"
        value={form.defaultDelivery}
        onChange={(v) => update({ defaultDelivery: v }, ['defaultDelivery'])}
        errors={errs('defaultDelivery')}
        helper="What the agent’s panel starts with. SMS suits lockouts, when the employee cannot read corporate email."
        options={[
          { value: 'SMS', label: 'SMS' },
          { value: 'EMAIL', label: 'Email' },
        ]}
      />
    </Section>
  );
}

/** The groups picker: the site's groups whose names contain what was typed. @param {string} query @returns {Promise<Choice[]>} */
async function searchGroups(query) {
  const answer = await call('admin.searchGroups', { query });
  if (!answer.ok || !Array.isArray(answer.data?.groups)) return [];
  return answer.data.groups.map((g) => ({ label: g.name, value: g.name }));
}

/** @param {SectionProps} props */
export function WhoSection({ form, update, errs, rules, checkOnBlur }) {
  const [people, setPeople] = useState(
    /** @type {{ state: 'loading' | 'ready' | 'error', options: Choice[], error?: ResolverError }} */ ({ state: 'loading', options: [] }),
  );
  useEffect(() => {
    let live = true;
    call('admin.listPersonFields').then((answer) => {
      if (!live) return;
      setPeople(
        answer.ok && Array.isArray(answer.data?.fields)
          ? { state: 'ready', options: answer.data.fields.map((f) => ({ label: f.name, value: f.id })) }
          : { state: 'error', options: [], error: answer.ok ? { code: 'unexpected_answer', message: '' } : answer.error },
      );
    });
    return () => {
      live = false;
    };
  }, []);
  const groupOptions = form.agentGroups.map((g) => ({ label: g, value: g }));
  // A saved field the site no longer lists is still shown, by its id, for the core to refuse.
  const person = people.options.find((o) => o.value === form.personField) ?? { label: form.personField, value: form.personField };
  const limitsHelper = `${rangeText(rules, 'limits.perTicketPerHour')}.`;
  return (
    <Section id="who" title="Who may send" description="Who can send verification links, to whom, and how often.">
      <FieldShell
        path="agentGroups"
        label="Agent groups"
        helper="Jira groups whose members may send links. Type to search the site’s groups. Empty: anyone who may work the ticket."
        errors={errs('agentGroups')}
      >
        {(p) => (
          <AsyncSelect
            inputId={p.id}
            aria-describedby={p['aria-describedby']}
            isInvalid={p.isInvalid}
            isMulti
            isClearable={false}
            cacheOptions
            defaultOptions
            loadOptions={searchGroups}
            value={groupOptions}
            placeholder="Search groups"
            noOptionsMessage={({ inputValue }) => (inputValue ? `No group on this site matches “${inputValue}”` : 'No groups found')}
            onChange={(values) => update({ agentGroups: (values ?? []).map((o) => o.value) }, ['agentGroups'])}
          />
        )}
      </FieldShell>
      <FieldShell
        path="personField"
        label="Person to verify"
        helper="Whose identity is checked: the ticket’s reporter, or the person in one of the site’s user-picker fields."
        errors={errs('personField')}
      >
        {(p) => (
          <Select
            inputId={p.id}
            aria-describedby={p['aria-describedby']}
            isInvalid={p.isInvalid}
            isLoading={people.state === 'loading'}
            options={people.options}
            value={person}
            onChange={(opt) => update({ personField: opt?.value ?? 'reporter' }, ['personField'])}
          />
        )}
      </FieldShell>
      {people.state === 'error' ? (
        <SectionMessage appearance="warning" title="Could not list the site’s fields">
          <p>The saved choice is kept. {people.error?.message}</p>
        </SectionMessage>
      ) : null}
      <div className="grid-2">
        <TextField
          path="limits.perTicketPerHour"
          label="Links per ticket per hour"
          type="number"
          width="small"
          value={form.limits.perTicketPerHour}
          onChange={(v) => update((f) => ({ limits: { ...f.limits, perTicketPerHour: v } }), ['limits.perTicketPerHour'])}
          onBlur={(v) => checkOnBlur('limits.perTicketPerHour', v)}
          errors={errs('limits.perTicketPerHour')}
          helper={limitsHelper}
        />
        <TextField
          path="limits.perAgentPerHour"
          label="Links per agent per hour"
          type="number"
          width="small"
          value={form.limits.perAgentPerHour}
          onChange={(v) => update((f) => ({ limits: { ...f.limits, perAgentPerHour: v } }), ['limits.perAgentPerHour'])}
          onBlur={(v) => checkOnBlur('limits.perAgentPerHour', v)}
          errors={errs('limits.perAgentPerHour')}
          helper={`${rangeText(rules, 'limits.perAgentPerHour')}.`}
        />
      </div>
    </Section>
  );
}

const NONE = { label: 'None (leave the status alone)', value: '' };

/** @param {SectionProps & { transitions: import('./App.jsx').TransitionsLoad }} props */
export function TransitionsSection({ form, update, errs, transitions }) {
  // One group per workflow: a help desk's transitions are not mixed with another team's.
  const groups = transitions.workflows.map((w) => ({
    label: w.service ? `${w.name} (service project)` : w.name,
    options: w.transitions.map((t) => ({ label: t, value: t })),
  }));
  const options = [NONE, ...groups];
  const all = [NONE, ...groups.flatMap((g) => g.options)];
  return (
    <Section
      id="transitions"
      title="Status transitions (optional)"
      description="The workflow transition each outcome takes. The name must match a transition available from the ticket’s current status."
    >
      {transitions.state === 'error' ? (
        <SectionMessage appearance="warning" title="Could not list the workflow transitions">
          <p>Type the transition names instead. {transitions.error?.message}</p>
        </SectionMessage>
      ) : null}
      <div className="grid-3">
        {OUTCOMES.map((o) => {
          const path = `transitions.${o}`;
          const value = form.transitions[o];
          const selected = all.find((opt) => opt.value === value) ?? { label: value, value };
          return (
            <FieldShell key={o} path={path} label={OUTCOME_LABELS[o]} errors={errs(path)}>
              {(p) => (
                <CreatableSelect
                  inputId={p.id}
                  aria-describedby={p['aria-describedby']}
                  isInvalid={p.isInvalid}
                  isLoading={transitions.state === 'loading'}
                  options={options}
                  value={selected}
                  isClearable={value !== ''}
                  formatCreateLabel={(v) => `Use “${v}”`}
                  onChange={(opt) => update((f) => ({ transitions: { ...f.transitions, [o]: opt?.value ?? '' } }), [path])}
                  onCreateOption={(v) => update((f) => ({ transitions: { ...f.transitions, [o]: v.trim() } }), [path])}
                />
              )}
            </FieldShell>
          );
        })}
      </div>
    </Section>
  );
}

/** @param {SectionProps} props */
export function TemplatesSection({ form, update, errs, rules }) {
  return (
    <Section
      id="templates"
      title="Comment templates"
      description="The comment posted on the ticket when a verification completes. Click a variable to insert it; **bold** is supported."
    >
      {OUTCOMES.map((o) => (
        <TemplateEditor
          key={o}
          variables={rules.templateVariables}
          outcome={o}
          value={form.templates[o]}
          errors={errs(`templates.${o}`)}
          onChange={(v) => update((f) => ({ templates: { ...f.templates, [o]: v } }), [`templates.${o}`])}
        />
      ))}
      <RadioFieldset
        path="commentVisibility"
        legend="Comment visibility"
        value={form.commentVisibility}
        onChange={(v) => update({ commentVisibility: v }, ['commentVisibility'])}
        errors={errs('commentVisibility')}
        options={[
          { value: 'internal', label: 'Internal note (agents only)' },
          { value: 'public', label: 'Reply to customer (visible on the portal)' },
        ]}
      />
    </Section>
  );
}

const MODE_OPTIONS = [
  { value: 'hmac', label: 'HMAC signature (SHA-256 of the raw body)' },
  { value: 'sharedSecret', label: 'Shared secret in a header' },
  { value: 'oauth', label: 'OAuth 2.0 bearer token (client credentials)' },
];

/** @param {SectionProps & { webhook: import('../shared/types.js').WebhookInfo }} props */
export function WebhookSection({ form, update, errs, publicSettings, webhook, announce, rules, checkOnBlur }) {
  const auth = form.webhookAuth;
  const setAuth = (patch, path) => update((f) => ({ webhookAuth: { ...f.webhookAuth, ...patch } }), [path]);
  const savedMode = publicSettings.settings.webhookAuth?.mode;
  return (
    <Section
      id="webhook"
      title="Webhook"
      description="Incode reports verification results to this URL. Register it in the Incode dashboard under Configuration → Webhooks."
    >
      <dl className="kv">
        <dt>Webhook URL</dt>
        <dd>
          <CopyValue label="webhook URL" value={webhook?.url} testId="webhook-url" onCopied={announce} />
        </dd>
        {auth.mode === 'oauth' ? (
          <>
            <dt>Token URL</dt>
            <dd>
              {webhook?.tokenUrl ? (
                <CopyValue label="token URL" value={webhook.tokenUrl} testId="webhook-token-url" onCopied={announce} />
              ) : (
                <span className="muted">Shown after saving with OAuth.</span>
              )}
            </dd>
          </>
        ) : null}
      </dl>
      <RadioFieldset
        path="webhookAuth.mode"
        legend="How Incode authenticates"
        value={auth.mode}
        onChange={(mode) => {
          update((f) => switchAuthMode(f, mode, rules), ['webhookAuth.mode']);
        }}
        errors={errs('webhookAuth.mode')}
        options={MODE_OPTIONS}
      />
      <div className="grid-2">
        {auth.mode === 'hmac' ? (
          <>
            <TextField
              path="webhookAuth.header"
              label="Signature header"
              value={auth.header}
              onChange={(v) => setAuth({ header: v }, 'webhookAuth.header')}
              errors={errs('webhookAuth.header')}
              helper="Looked up case-insensitively; a sha256= prefix is accepted."
            />
            <RadioFieldset
              path="webhookAuth.encoding"
              legend="Signature encoding"
              value={auth.encoding}
              onChange={(v) => setAuth({ encoding: v }, 'webhookAuth.encoding')}
              errors={errs('webhookAuth.encoding')}
              options={[
                { value: 'hex', label: 'Hex' },
                { value: 'base64', label: 'Base64' },
              ]}
            />
            <TextField
              path="webhookAuth.timestampHeader"
              label="Timestamp header (optional)"
              value={auth.timestampHeader}
              onChange={(v) => setAuth({ timestampHeader: v }, 'webhookAuth.timestampHeader')}
              errors={errs('webhookAuth.timestampHeader')}
              helper="When set, the signature covers “timestamp.body” and old deliveries are refused."
            />
            <TextField
              path="webhookAuth.toleranceSeconds"
              label="Timestamp tolerance (seconds)"
              type="number"
              width="small"
              value={auth.toleranceSeconds}
              onChange={(v) => setAuth({ toleranceSeconds: v }, 'webhookAuth.toleranceSeconds')}
              onBlur={(v) => checkOnBlur('webhookAuth.toleranceSeconds', v)}
              errors={errs('webhookAuth.toleranceSeconds')}
              helper={`${rangeText(rules, 'webhookAuth.toleranceSeconds')}.`}
            />
          </>
        ) : null}
        {auth.mode === 'sharedSecret' ? (
          <TextField
            path="webhookAuth.header"
            label="Secret header"
            value={auth.header}
            onChange={(v) => setAuth({ header: v }, 'webhookAuth.header')}
            errors={errs('webhookAuth.header')}
            helper="The header Incode sends the webhook secret in."
          />
        ) : null}
        {auth.mode === 'oauth' ? (
          <>
            <TextField
              path="webhookAuth.clientId"
              label="Client ID Incode presents"
              value={auth.clientId}
              onChange={(v) => setAuth({ clientId: v }, 'webhookAuth.clientId')}
              errors={errs('webhookAuth.clientId')}
              helper="Its client secret is the webhook secret."
            />
            <TextField
              path="webhookAuth.tokenTtlSeconds"
              label="Token lifetime (seconds)"
              type="number"
              width="small"
              value={auth.tokenTtlSeconds}
              onChange={(v) => setAuth({ tokenTtlSeconds: v }, 'webhookAuth.tokenTtlSeconds')}
              onBlur={(v) => checkOnBlur('webhookAuth.tokenTtlSeconds', v)}
              errors={errs('webhookAuth.tokenTtlSeconds')}
              helper={`${rangeText(rules, 'webhookAuth.tokenTtlSeconds')}.`}
            />
          </>
        ) : null}
        <SecretField
          path="webhookSecret"
          label="Webhook secret"
          flag={publicSettings.secrets.webhookSecret}
          value={form.webhookSecret}
          onChange={(v) => update({ webhookSecret: v }, ['webhookSecret'])}
          errors={errs('webhookSecret')}
        />
      </div>
      <div className="subsection stack">
        <h3 className="subsection-heading">Set up in the Incode dashboard</h3>
        {savedMode && savedMode !== auth.mode ? (
          <p className="muted small">These instructions are for the saved mode; save to see them for the new one.</p>
        ) : null}
        {webhook?.instructions ? (
          <pre className="instructions" data-testid="webhook-instructions">
            {webhook.instructions}
          </pre>
        ) : null}
        <p className="small">Enable these events:</p>
        <ul className="events" data-testid="webhook-events">
          {rules.webhookEvents.map((e) => (
            <li key={e}>
              <code>{e}</code>
            </li>
          ))}
        </ul>
      </div>
    </Section>
  );
}

/** @param {SectionProps} props */
export function PortalSection({ form, update, errs }) {
  const id = fieldDomId('portalEnabled');
  return (
    <Section id="portal" title="Customer portal">
      <div className="row toggle-row" data-field="portalEnabled">
        <Toggle id={id} isChecked={form.portalEnabled} onChange={() => update((f) => ({ portalEnabled: !f.portalEnabled }), ['portalEnabled'])} />
        <label htmlFor={id}>Show the requester a pending verification on the customer portal</label>
      </div>
      <p className="muted small">The requester sees that a link was sent and when it expires; never the link itself.</p>
      <ErrorLines path="portalEnabled" errors={errs('portalEnabled')} />
    </Section>
  );
}
