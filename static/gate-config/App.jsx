import React, { useCallback, useEffect, useRef, useState } from 'react';
import SectionMessage from '@atlaskit/section-message';
import Textfield from '@atlaskit/textfield';
import Toggle from '@atlaskit/toggle';
import { workflowRules } from '@forge/jira-bridge';
import { call } from '../shared/bridge.js';
import { ErrorNotice, FieldShell, Loading } from '../shared/components.jsx';
import { fieldDomId } from '../shared/fields.js';
import { useReadyMarker } from '../shared/hooks.js';
import { configFromForm, entryOf, formErrors, formFromConfig, savedConfiguration } from './logic.js';

/** @typedef {import('../../src/generated/console.js').GateRuleAnswer} GateRuleAnswer */
/** @typedef {import('./logic.js').GateForm} GateForm */

/** @param {{ env: import('../shared/types.js').PageEnv }} props */
export function App({ env }) {
  const entry = entryOf(env.context, document.documentElement.dataset.entry);
  const saved = savedConfiguration(env.context);
  const [answer, setAnswer] = useState(/** @type {{ ok: boolean, data?: GateRuleAnswer, error?: any } | null} */ (null));
  const load = useCallback(() => {
    setAnswer(null);
    call('admin.gateRule', { configuration: saved }).then(setAnswer);
  }, [saved]);
  useEffect(load, [load]);
  useReadyMarker(answer !== null);
  if (answer === null) return <Loading label="Loading the rule" />;
  if (!answer.ok || !answer.data) {
    return (
      <div className="page gate-config">
        <ErrorNotice error={answer.error} onRetry={load} audience="admin" title="The rule's settings could not be loaded" />
      </div>
    );
  }
  return entry === 'view' ? <Summary data={answer.data} /> : <RuleForm data={answer.data} entry={entry} />;
}

/** The line on the transition. @param {{ data: GateRuleAnswer }} props */
function Summary({ data }) {
  if (!data.summary) {
    return (
      <p className="gate-summary invalid" data-testid="gate-summary" role="alert">
        Misconfigured: {data.check.errors.map((e) => e.message).join(' ')} Edit the rule to fix it; until then it refuses every transition.
      </p>
    );
  }
  return (
    <p className="gate-summary" data-testid="gate-summary">
      {data.summary}
    </p>
  );
}

/**
 * The create and edit form. Jira's own Add / Update button saves: it calls the callback given to
 * `workflowRules.onConfigure`, which answers the configuration, or undefined to keep the form
 * open while a field is wrong.
 * @param {{ data: GateRuleAnswer, entry: 'create' | 'edit' }} props
 */
function RuleForm({ data, entry }) {
  const { rules, check } = data;
  const [form, setForm] = useState(() => formFromConfig(check.config ?? rules.defaults));
  const [shown, setShown] = useState(/** @type {Record<string, boolean>} */ ({}));
  const [bridgeError, setBridgeError] = useState(/** @type {string | null} */ (null));
  const formRef = useRef(form);
  formRef.current = form;
  const errors = formErrors(rules, form);

  useEffect(() => {
    workflowRules
      .onConfigure(() => {
        const { config, errors: found } = configFromForm(rules, formRef.current);
        if (config) return JSON.stringify(config);
        setShown(Object.fromEntries(Object.keys(found).map((k) => [k, true])));
        document.getElementById(fieldDomId(Object.keys(found)[0]))?.focus();
        return undefined;
      })
      .catch(() => setBridgeError('Jira did not take this page as the rule’s configuration page: saving from here will not work. Reload the workflow editor.'));
  }, [rules]);

  /** @param {Partial<GateForm>} change */
  const update = (change) => setForm((f) => ({ ...f, ...change }));

  return (
    <form className="page gate-config stack" data-entry={entry} onSubmit={(e) => e.preventDefault()} noValidate>
      {check.errors.length ? (
        <SectionMessage appearance="warning" title="The saved configuration was not valid">
          <p>{check.errors.map((e) => e.message).join(' ')} The form shows the defaults; save to replace the configuration.</p>
        </SectionMessage>
      ) : null}
      {bridgeError ? (
        <SectionMessage appearance="error">
          <p>{bridgeError}</p>
        </SectionMessage>
      ) : null}
      {rules.fields.map((field) => {
        if (field.kind === 'minutes') {
          const key = /** @type {'withinMinutes'} */ (field.field);
          const error = shown[key] ? errors[key] : undefined;
          return (
            <FieldShell key={key} path={key} label={field.label} helper={field.help} errors={error ? [error] : []} required>
              {(p) => (
                <Textfield
                  {...p}
                  name={key}
                  inputMode="numeric"
                  width="small"
                  value={form[key]}
                  isRequired
                  autoComplete="off"
                  onChange={(e) => {
                    update({ [key]: /** @type {HTMLInputElement} */ (e.target).value });
                    setShown((s) => ({ ...s, [key]: true }));
                  }}
                />
              )}
            </FieldShell>
          );
        }
        const key = /** @type {'samePerson' | 'once'} */ (field.field);
        const id = fieldDomId(key);
        return (
          <div key={key} className="field" data-field={key}>
            <div className="row toggle-row">
              <Toggle id={id} isChecked={form[key]} onChange={() => update({ [key]: !form[key] })} aria-describedby={`${id}-helper`} />
              <label htmlFor={id}>{field.label}</label>
            </div>
            <p id={`${id}-helper`} className="muted small">
              {field.help}
            </p>
          </div>
        );
      })}
    </form>
  );
}
