import React, { useCallback, useEffect, useRef, useState } from 'react';
import Button from '@atlaskit/button/default/button';
import Heading from '@atlaskit/heading';
import SectionMessage from '@atlaskit/section-message';
import { call } from '../shared/bridge.js';
import { ErrorNotice, Loading, LiveRegion, useAnnouncer } from '../shared/components.jsx';
import { fieldDomId, fieldErrorText, placeFieldErrors } from '../shared/fields.js';
import { useReadyMarker } from '../shared/hooks.js';
import { Deliveries } from './Deliveries.jsx';
import { Report } from './Report.jsx';
import {
  Checklist,
  CredentialsSection,
  PortalSection,
  TemplatesSection,
  TransitionsSection,
  VerificationSection,
  WebhookSection,
  WhoSection,
} from './sections.jsx';
import { adminFields, buildSettingsInput, checkNumberField, fieldLabel, formFromSettings, isDirty } from './logic.js';
import { useVisibleBottom } from './useVisibleBottom.js';

/** @typedef {import('../shared/types.js').ResolverError} ResolverError */
/** @typedef {import('../shared/types.js').FieldError} FieldError */
/** @typedef {import('./logic.js').AdminForm} AdminForm */
/**
 * `admin.listTransitions`' workflows, as the transitions section reads them.
 * @typedef {{ state: 'loading' | 'ready' | 'error', workflows: { name: string, service?: boolean, transitions: string[] }[],
 *   error?: ResolverError }} TransitionsLoad
 */

/** @param {{ env: import('../shared/types.js').PageEnv }} props */
export function App({ env }) {
  const [phase, setPhase] = useState(/** @type {import('../shared/types.js').LoadPhase} */ ({ name: 'loading' }));
  const [data, setData] = useState(/** @type {import('../shared/types.js').AdminSettings | null} */ (null));
  const [form, setForm] = useState(/** @type {AdminForm | null} */ (null));
  const [savedForm, setSavedForm] = useState(/** @type {AdminForm | null} */ (null));
  const [errors, setErrors] = useState(
    /** @type {{ byField: Record<string, FieldError[]>, unplaced: FieldError[], count: number }} */ ({ byField: {}, unplaced: [], count: 0 }),
  );
  const [save, setSave] = useState(/** @type {{ state: 'idle' | 'invalid' | 'saving' | 'saved' | 'error', error?: ResolverError }} */ ({ state: 'idle' }));
  const [transitions, setTransitions] = useState(/** @type {TransitionsLoad} */ ({ state: 'loading', workflows: [] }));
  const [live, announce] = useAnnouncer();
  const summaryRef = useRef(null);
  const pageRef = useRef(null);
  const barRef = useRef(null);
  useReadyMarker(phase.name !== 'loading');
  const slotRef = useRef(null);
  const dirty = form && savedForm ? isDirty(form, savedForm) : false;
  const visibleBottom = useVisibleBottom(pageRef, dirty);

  const loadSettings = useCallback(async () => {
    const answer = await call('admin.getSettings');
    if (!answer.ok) return answer;
    setData(answer.data);
    return answer;
  }, []);

  const loadAll = useCallback(async () => {
    const answer = await loadSettings();
    if (!answer.ok) {
      setPhase({ name: 'error', error: answer.error });
      return;
    }
    const fresh = formFromSettings(answer.data.settings.settings, answer.data.rules);
    setForm(fresh);
    setSavedForm(fresh);
    setPhase({ name: 'ready' });
    const t = await call('admin.listTransitions');
    setTransitions(
      t.ok && Array.isArray(t.data?.workflows)
        ? { state: 'ready', workflows: t.data.workflows }
        : { state: 'error', workflows: [], error: t.ok ? { code: 'unexpected_answer', message: '' } : t.error },
    );
  }, [loadSettings]);

  useEffect(() => {
    loadAll();
  }, [loadAll]);

  const update = (patch, clearPaths = []) => {
    setForm((f) => ({ ...f, ...(typeof patch === 'function' ? patch(f) : patch) }));
    if (save.state === 'saved') setSave({ state: 'idle' });
    if (clearPaths.length) {
      setErrors((e) => {
        if (!clearPaths.some((p) => e.byField[p])) return e;
        const byField = { ...e.byField };
        for (const p of clearPaths) delete byField[p];
        return { ...e, byField };
      });
    }
  };
  const errs = (path) => errors.byField[path] ?? [];

  // A number is checked as its field is left, with the core's range (as Atlaskit forms do).
  const checkOnBlur = (path, value) => {
    const error = checkNumberField(data.rules, path, value);
    setErrors((e) => {
      const byField = { ...e.byField };
      if (error) byField[path] = [error];
      else delete byField[path];
      return { ...e, byField };
    });
  };

  const showErrors = (list) => {
    const placed = placeFieldErrors(list, adminFields(data.rules));
    setErrors(placed);
    setSave({ state: 'invalid' });
    announce(`${list.length} ${list.length === 1 ? 'setting needs' : 'settings need'} attention.`);
    requestAnimationFrame(() => summaryRef.current?.focus());
  };

  // A delivery that got past authentication ticks the checklist on the server: show it now,
  // not at the next reload.
  const onDeliveries = (list) => {
    const waiting = data?.checklist?.some((i) => i.id === 'webhook' && !i.done);
    if (waiting && list.some((d) => d.verdict !== 'rejected')) loadSettings();
  };

  const onSave = async () => {
    const built = buildSettingsInput(form, data.rules);
    if (!built.input) {
      showErrors(built.errors);
      return;
    }
    setSave({ state: 'saving' });
    // The revision this page shows: a save landed since is not silently undone (`conflict`).
    const answer = await call('admin.saveSettings', { ...built.input, expectedRevision: data.revision });
    if (answer.ok && answer.data?.settings?.settings) {
      const fresh = formFromSettings(answer.data.settings.settings, data.rules);
      setForm(fresh);
      setSavedForm(fresh);
      setData((d) => ({ ...d, settings: answer.data.settings, revision: answer.data.revision }));
      setErrors({ byField: {}, unplaced: [], count: 0 });
      setSave({ state: 'saved' });
      announce('Configuration saved.');
      loadSettings(); // the checklist and webhook instructions follow the saved settings
      return;
    }
    if (!answer.ok && answer.error.code === 'validation' && answer.error.fields?.length) {
      showErrors(answer.error.fields);
      return;
    }
    setSave({ state: 'error', error: answer.ok ? { code: 'unexpected_answer', message: '' } : answer.error });
    announce('The configuration was not saved.');
  };

  if (phase.name === 'loading') {
    return (
      <main className="page admin">
        <Loading label="Loading settings" />
      </main>
    );
  }
  if (phase.name === 'error') {
    return (
      <main className="page admin">
        <ErrorNotice
          audience="admin"
          error={phase.error}
          title="Could not load the settings"
          onRetry={() => {
            setPhase({ name: 'loading' });
            loadAll();
          }}
        />
      </main>
    );
  }

  const publicSettings = data.settings;
  const rules = data.rules;
  const common = { form, update, errs, publicSettings, announce, env, rules, checkOnBlur };
  const warnings = Array.isArray(publicSettings.warnings) ? publicSettings.warnings : [];
  // The bar floats at the bottom of what is in view until its own place scrolls into view.
  const barHeight = barRef.current?.offsetHeight ?? 0;
  const floatTop =
    dirty && visibleBottom !== null && slotRef.current && visibleBottom - barHeight - 8 < slotRef.current.offsetTop
      ? Math.max(0, visibleBottom - barHeight - 8)
      : null;

  return (
    <main className="page admin" aria-labelledby="page-title" ref={pageRef}>
      <LiveRegion message={live.message} serial={live.serial} />
      <header className="admin-header">
        <Heading size="large" as="h1" id="page-title">
          Incode Verification Settings
        </Heading>
        <p className="muted">Connect Jira Service Management to Incode so agents can verify a caller’s identity from the ticket.</p>
      </header>

      {data.settingsUnreadable ? (
        <div data-testid="settings-unreadable">
          <SectionMessage appearance="warning" title="The stored settings could not be read">
            <p>
              They were damaged, or saved by a release this one cannot read. The form shows the defaults instead, and saving replaces the stored settings with
              what it shows: check every section first, the agent groups and the credentials above all.
            </p>
          </SectionMessage>
        </div>
      ) : null}

      <Checklist items={data.checklist} ready={publicSettings.ready} missing={publicSettings.missing} warnings={warnings} env={env} rules={rules} />

      <form
        className="stack admin-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          onSave();
        }}
      >
        {save.state === 'invalid' && errors.count > 0 ? (
          <div ref={summaryRef} tabIndex={-1} data-testid="save-errors" className="summary">
            <SectionMessage appearance="error" title={`The configuration was not saved: ${errors.count} ${errors.count === 1 ? 'problem' : 'problems'}`}>
              <ul className="error-summary">
                {[
                  ...Object.entries(errors.byField).flatMap(([path, list]) => list.map((e) => /** @type {[string | null, FieldError]} */ ([path, e]))),
                  ...errors.unplaced.map((e) => /** @type {[null, FieldError]} */ ([null, e])),
                ].map(([path, e], i) => (
                  <li key={i}>
                    {path ? (
                      <a
                        href={`#${fieldDomId(path)}`}
                        onClick={(ev) => {
                          ev.preventDefault();
                          const el = document.getElementById(fieldDomId(path));
                          el?.scrollIntoView({ block: 'center' });
                          el?.focus();
                        }}
                      >
                        {fieldLabel(rules, path)}
                      </a>
                    ) : (
                      <strong>{fieldLabel(rules, e.field)}</strong>
                    )}
                    : {fieldErrorText(e)}
                  </li>
                ))}
              </ul>
            </SectionMessage>
          </div>
        ) : null}

        <CredentialsSection {...common} dirty={dirty} onTested={loadSettings} />
        <VerificationSection {...common} />
        <WhoSection {...common} />
        <TransitionsSection {...common} transitions={transitions} />
        <TemplatesSection {...common} />
        <WebhookSection {...common} webhook={data.webhook} />
        <PortalSection {...common} />

        <div ref={slotRef} style={floatTop !== null ? { minHeight: barHeight } : undefined}>
          <div
            ref={barRef}
            className={floatTop !== null ? 'save-bar floating' : 'save-bar'}
            style={floatTop !== null ? { top: floatTop } : undefined}
            role="region"
            aria-label="Save configuration"
            data-testid="save-bar"
          >
            <div className="save-status" aria-live="polite">
              {save.state === 'saved' ? (
                <span data-testid="save-success" className="success-text">
                  ✓ Configuration saved
                </span>
              ) : dirty ? (
                <span className="muted">You have unsaved changes.</span>
              ) : (
                <span className="muted">All changes saved.</span>
              )}
            </div>
            {save.state === 'error' ? <ErrorNotice audience="admin" error={save.error} title="The configuration was not saved" testId="save-error" /> : null}
            <Button type="submit" appearance="primary" isLoading={save.state === 'saving'} testId="save-button">
              Save configuration
            </Button>
            {save.state === 'saved' && warnings.length ? (
              <div className="save-bar-warning" data-testid="save-warning">
                <SectionMessage appearance="warning" title="Saved, but not ready to receive results">
                  {warnings.map((w) => (
                    <p key={w.code}>{w.message}</p>
                  ))}
                </SectionMessage>
              </div>
            ) : null}
          </div>
        </div>
      </form>

      <Deliveries env={env} onLoaded={onDeliveries} />
      <Report env={env} rules={rules} />
    </main>
  );
}
