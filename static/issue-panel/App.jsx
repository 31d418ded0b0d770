import React, { useCallback, useEffect, useRef, useState } from 'react';
import SectionMessage, { SectionMessageAction } from '@atlaskit/section-message';
import { call, openModule, openPlatformModal, subscribeChannel } from '../shared/bridge.js';
import { ErrorNotice, Loading, LiveRegion, useAnnouncer } from '../shared/components.jsx';
import { useNow, useOnFocus, useReadyMarker, useVisibleInterval } from '../shared/hooks.js';
import { actionsOf, announcement, isActive, stateDisplay } from '../shared/status.js';
import { CurrentVerification } from './CurrentVerification.jsx';
import { HistoryTable } from './HistoryTable.jsx';
import { SendForm } from './SendForm.jsx';
import {
  adoptVerification,
  confirmationOf,
  initialSendForm,
  mergeVerification,
  newVerificationForm,
  sendErrorPlacement,
  verificationFromMessage,
} from './logic.js';

export const SETTINGS_MODULE_KEY = 'incode-settings';
const POLL_MS = 10_000;

/** @typedef {import('../shared/types.js').PanelState} PanelState */
/** @typedef {import('../shared/types.js').ResolverError} ResolverError */

/** @param {{ env: import('../shared/types.js').PageEnv }} props */
export function App({ env }) {
  const [phase, setPhase] = useState(/** @type {import('../shared/types.js').LoadPhase} */ ({ name: 'loading' }));
  const [state, setState] = useState(/** @type {PanelState | null} */ (null));
  const [refreshFailed, setRefreshFailed] = useState(false);
  const [form, setForm] = useState(/** @type {import('./SendForm.jsx').SendFormValues | null} */ (null));
  const [formErrors, setFormErrors] = useState(/** @type {Record<string, any[]>} */ ({}));
  const [sendError, setSendError] = useState(/** @type {ResolverError | null} */ (null));
  const [actionError, setActionError] = useState(/** @type {ResolverError | null} */ (null));
  // What the last send or resend said beside its link (the earlier link left open), until the next action.
  const [sendNotice, setSendNotice] = useState(/** @type {string | null} */ (null));
  const [showForm, setShowForm] = useState(false);
  // The spinner's words while an action runs, or false.
  const [busy, setBusy] = useState(/** @type {string | false} */ (false));
  const [live, announce] = useAnnouncer();
  const seq = useRef(0);

  // Where focus goes once a confirmation is over: back to the button that opened it, or, once
  // the action went through (that button may be gone), to the heading of the verification it shows.
  const opener = useRef(null);
  const focusAfter = useRef(null);
  const [focusTick, setFocusTick] = useState(0);
  const focusSoon = (target) => {
    focusAfter.current = target;
    setFocusTick((t) => t + 1);
  };
  useEffect(() => {
    const target = focusAfter.current;
    if (!target || busy) return;
    focusAfter.current = null;
    const heading = target === 'status' ? document.getElementById('current-verification-heading') : null;
    (heading ?? (opener.current?.isConnected ? opener.current : null))?.focus();
  }, [focusTick, busy, state]);

  // Every load and every action answer takes a number; an answer is applied only while no later
  // one has been started, so a slow poll never overwrites what an action just returned.
  const refresh = useCallback(async () => {
    const mine = ++seq.current;
    const answer = await call('panel.getState');
    if (mine !== seq.current) return;
    if (answer.ok) {
      setState(answer.data);
      setRefreshFailed(false);
      setPhase({ name: 'ready' });
      setForm((f) => f ?? initialSendForm(answer.data));
    } else {
      setPhase((p) => (p.name === 'ready' ? p : { name: 'error', error: answer.error }));
      setRefreshFailed(true);
    }
  }, []);

  useEffect(() => {
    refresh();
  }, [refresh]);

  const ready = phase.name === 'ready' && state !== null;
  useReadyMarker(phase.name !== 'loading');
  useVisibleInterval(refresh, POLL_MS, ready);
  useOnFocus(() => {
    if (ready) refresh();
  });

  // Live updates: a message may carry the verification; either way the state is reloaded.
  const channel = state?.realtime?.channel ?? null;
  const token = state?.realtime?.token ?? null;
  useEffect(() => {
    if (!channel) return undefined;
    let unsubscribe = null;
    let closed = false;
    subscribeChannel(channel, token, (payload) => {
      const verification = verificationFromMessage(payload);
      if (verification) {
        seq.current += 1;
        setState((s) => mergeVerification(s, verification));
      }
      refresh();
    }).then((off) => {
      if (closed) off?.();
      else unsubscribe = off;
    });
    return () => {
      closed = true;
      unsubscribe?.();
    };
  }, [channel, token, refresh]);

  // Announce status changes of the current verification (not the first load).
  const current = state?.current ?? null;
  const seen = useRef(undefined);
  useEffect(() => {
    if (!ready) return;
    const key = current ? `${current.id}:${stateDisplay(current).state}` : null;
    if (seen.current !== undefined && key !== seen.current && current) announce(announcement(current));
    seen.current = key;
  }, [ready, current?.id, current?.state, current?.status]); // eslint-disable-line react-hooks/exhaustive-deps

  // When the countdown runs out, ask the backend, which marks the link expired.
  const active = Boolean(current && isActive(stateDisplay(current).state));
  const now = useNow(active);
  const expiredAsked = useRef(null);
  useEffect(() => {
    if (active && now >= current.expiresAtMs && expiredAsked.current !== current.id) {
      expiredAsked.current = current.id;
      refresh();
    }
  }, [active, now, current, refresh]);

  // The status announcement below tells screen-reader users what the action led to.
  const applyAction = (verification) => {
    seq.current += 1;
    setState((s) => adoptVerification(s, verification));
    refresh();
  };

  // Asks in the platform's modal (over the whole page, as Jira's own dialogs), then acts.
  const openDialog = async (next) => {
    opener.current = document.activeElement;
    let answer;
    try {
      answer = await openPlatformModal(confirmationOf(next, state?.defaults?.linkExpiryMinutes, state?.person));
    } catch {
      const error = { code: 'modal_unavailable', message: 'Could not open the confirmation. Reload the page and try again.' };
      if (next.kind === 'send') setSendError(error);
      else setActionError(error);
      return;
    }
    if (answer?.confirmed === true) {
      await act(next);
    } else {
      focusSoon('opener');
    }
  };

  const act = async (action) => {
    setBusy(action.kind === 'cancel' ? 'Cancelling the verification' : 'Sending the verification link');
    let answer;
    if (action.kind === 'send') answer = await call('panel.send', action.payload);
    else if (action.kind === 'resend') answer = await call('panel.resend', { verificationId: action.verification.id });
    else answer = await call('panel.cancel', { verificationId: action.verification.id });
    setBusy(false);
    setSendNotice(answer.ok && typeof answer.data?.notice === 'string' ? answer.data.notice : null);
    if (answer.ok && answer.data?.verification) {
      focusSoon('status');
      setSendError(null);
      setActionError(null);
      if (action.kind === 'send') {
        setShowForm(false);
        setFormErrors({});
        setForm(initialSendForm(state));
      }
      applyAction(answer.data.verification);
      return;
    }
    const error = answer.ok ? { code: 'unexpected_answer', message: '' } : answer.error;
    focusSoon('opener');
    if (action.kind === 'send') {
      const placed = sendErrorPlacement(error);
      setSendError(placed.notice);
      setFormErrors(placed.fields);
      const field = Object.keys(placed.fields)[0];
      if (!placed.notice && field) opener.current = document.getElementById(`field-${field}`) ?? opener.current;
    } else {
      setActionError(error);
    }
    refresh();
  };

  if (phase.name === 'loading') {
    return (
      <main className="page">
        <Loading label="Loading identity verification" />
      </main>
    );
  }
  if (phase.name === 'error') {
    return (
      <main className="page">
        <ErrorNotice
          error={phase.error}
          title="Could not load identity verification"
          onRetry={() => {
            setPhase({ name: 'loading' });
            refresh();
          }}
        />
      </main>
    );
  }

  const actions = actionsOf(current);
  const formVisible = state.canSend && !state.setupRequired && (current === null || (showForm && !isActive(stateDisplay(current).state)));

  return (
    <main className="page" aria-label="Identity verification" aria-busy={busy ? true : undefined}>
      <LiveRegion message={live.message} serial={live.serial} />
      {busy ? <Loading label={busy} /> : null}

      {state.setupRequired ? (
        <div data-testid="setup-required">
          <SectionMessage
            appearance="warning"
            title="Setup required"
            actions={
              state.isAdmin
                ? [
                    <SectionMessageAction key="settings" onClick={() => openModule(SETTINGS_MODULE_KEY)}>
                      Open Incode Verification Settings
                    </SectionMessageAction>,
                  ]
                : []
            }
          >
            <p>The app has not been configured yet. Go to Jira Settings → Apps → Incode Verification Settings and enter your Incode credentials.</p>
            {state.isAdmin ? null : <p>Ask a Jira admin to complete the setup.</p>}
          </SectionMessage>
        </div>
      ) : null}

      {!state.setupRequired && !state.canSend ? (
        <div data-testid="cannot-send">
          <SectionMessage appearance="information" title="You can’t send verification links here">
            <p>{state.cannotSendReason || 'You are not allowed to send verification links on this ticket.'}</p>
          </SectionMessage>
        </div>
      ) : null}

      {refreshFailed ? (
        <p className="muted small" role="status">
          Could not refresh just now; showing the last known state. The panel keeps trying.
        </p>
      ) : null}

      {sendNotice ? (
        <div data-testid="send-notice">
          <SectionMessage appearance="warning" title="The earlier link is still open">
            <p>{sendNotice}</p>
          </SectionMessage>
        </div>
      ) : null}

      {current ? (
        <CurrentVerification
          verification={current}
          now={now}
          env={env}
          actions={actions}
          actionError={actionError}
          formShown={formVisible}
          onResend={() => openDialog({ kind: 'resend', verification: current })}
          onCancel={() => openDialog({ kind: 'cancel', verification: current })}
          onNew={() => {
            setForm(newVerificationForm(state, current));
            setFormErrors({});
            setShowForm(true);
            setSendError(null);
          }}
          onCopied={announce}
        />
      ) : null}

      {formVisible && form ? (
        <SendForm
          form={form}
          person={state.person}
          errors={formErrors}
          sendError={sendError}
          onChange={(next) => {
            setForm(next);
          }}
          onClearError={(path) =>
            setFormErrors((e) => {
              if (!e[path]) return e;
              const { [path]: _gone, ...rest } = e;
              return rest;
            })
          }
          onInvalid={(errors) => {
            setFormErrors(errors);
            setSendError(null);
          }}
          onSubmit={(payload) => {
            setFormErrors({});
            setSendError(null);
            openDialog({ kind: 'send', payload });
          }}
          onHide={current ? () => setShowForm(false) : null}
        />
      ) : null}

      {Array.isArray(state.history) && state.history.length > 0 ? <HistoryTable history={state.history} env={env} /> : null}
    </main>
  );
}
