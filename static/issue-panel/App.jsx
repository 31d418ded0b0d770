import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import SectionMessage, { SectionMessageAction } from '@atlaskit/section-message';
import { call, openModule, subscribeChannel } from '../shared/bridge.js';
import { ConfirmDialog, ErrorNotice, Loading, LiveRegion, useAnnouncer } from '../shared/components.jsx';
import { FIELD_OF_CODE } from '../shared/errors.js';
import { placeFieldErrors } from '../shared/fields.js';
import { useNow, useOnFocus, useReadyMarker, useVisibleInterval } from '../shared/hooks.js';
import { announcement, availableActions, isActive } from '../shared/status.js';
import { CurrentVerification } from './CurrentVerification.jsx';
import { HistoryTable } from './HistoryTable.jsx';
import { SendForm } from './SendForm.jsx';
import {
  adoptVerification,
  cancelConfirmation,
  initialSendForm,
  mergeVerification,
  resendConfirmation,
  SEND_FIELDS,
  sendConfirmation,
  verificationFromMessage,
} from './logic.js';

export const SETTINGS_MODULE_KEY = 'incode-settings';
const POLL_MS = 10_000;

export function App({ env }) {
  const [phase, setPhase] = useState({ name: 'loading' });
  const [state, setState] = useState(null);
  const [refreshFailed, setRefreshFailed] = useState(false);
  const [form, setForm] = useState(null);
  const [formErrors, setFormErrors] = useState({});
  const [sendError, setSendError] = useState(null);
  const [actionError, setActionError] = useState(null);
  const [showForm, setShowForm] = useState(false);
  const [dialog, setDialog] = useState(null);
  const [busy, setBusy] = useState(false);
  const [live, announce] = useAnnouncer();
  const seq = useRef(0);

  // Where focus goes when a dialog closes: back to the button that opened it, or, once the
  // action went through (that button may be gone), to the heading of the verification it shows.
  const opener = useRef(null);
  const focusStatus = useRef(false);
  const returnFocus = useMemo(
    () => ({
      get current() {
        const heading = focusStatus.current ? document.getElementById('current-verification-heading') : null;
        return heading ?? (opener.current?.isConnected ? opener.current : null);
      },
    }),
    [],
  );
  const openDialog = (next) => {
    opener.current = document.activeElement;
    focusStatus.current = false;
    setDialog(next);
  };

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
    const key = current ? `${current.id}:${current.status}` : null;
    if (seen.current !== undefined && key !== seen.current && current) announce(announcement(current));
    seen.current = key;
  }, [ready, current?.id, current?.status]); // eslint-disable-line react-hooks/exhaustive-deps

  // When the countdown runs out, ask the backend, which marks the link expired.
  const active = Boolean(current && isActive(current.status));
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

  const confirm = async () => {
    if (!dialog) return;
    setBusy(true);
    let answer;
    if (dialog.kind === 'send') answer = await call('panel.send', dialog.payload);
    else if (dialog.kind === 'resend') answer = await call('panel.resend', { verificationId: dialog.verification.id });
    else answer = await call('panel.cancel', { verificationId: dialog.verification.id });
    setBusy(false);
    const kind = dialog.kind;
    setDialog(null);
    if (answer.ok && answer.data?.verification) {
      focusStatus.current = true;
      setSendError(null);
      setActionError(null);
      if (kind === 'send') {
        setShowForm(false);
        setFormErrors({});
        setForm(initialSendForm(state));
      }
      applyAction(answer.data.verification);
      return;
    }
    const error = answer.ok ? { code: 'unexpected_answer', message: '' } : answer.error;
    if (kind === 'send') {
      if (error.fields) {
        setSendError(error);
        setFormErrors(placeFieldErrors(error.fields, SEND_FIELDS).byField);
      } else if (FIELD_OF_CODE[error.code]) {
        // The resolver's words go under the field they are about; the notice above the form
        // keeps to the summary instead of saying the same thing twice.
        setSendError({ ...error, message: '' });
        setFormErrors({ [FIELD_OF_CODE[error.code]]: [error.message] });
      } else {
        setSendError(error);
      }
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

  const actions = availableActions(current, { canSend: state.canSend && !state.setupRequired });
  const formVisible = state.canSend && !state.setupRequired && (current === null || (showForm && !isActive(current.status)));
  const expiry = state.defaults?.linkExpiryMinutes;

  return (
    <main className={dialog ? 'page dialog-open' : 'page'} aria-label="Identity verification">
      <LiveRegion message={live.message} serial={live.serial} />

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
            <p>
              The app has not been configured yet. Go to Jira Settings → Apps → Incode Verification Settings and
              enter your Incode credentials.
            </p>
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

      <ConfirmDialog
        isOpen={dialog?.kind === 'send' || dialog?.kind === 'resend'}
        title={dialog?.kind === 'resend' ? 'Send a new verification link?' : 'Send verification link?'}
        confirmLabel="Send"
        isBusy={busy}
        onConfirm={confirm}
        onCancel={() => setDialog(null)}
        testId="send-dialog"
        returnFocusRef={returnFocus}
      >
        <p>
          {dialog?.kind === 'send' ? sendConfirmation(dialog.payload, expiry) : null}
          {dialog?.kind === 'resend' ? resendConfirmation(dialog.verification, expiry) : null}
        </p>
      </ConfirmDialog>

      <ConfirmDialog
        isOpen={dialog?.kind === 'cancel'}
        title="Cancel this verification?"
        confirmLabel="Cancel verification"
        cancelLabel="Keep it"
        appearance="danger"
        focus="cancel"
        isBusy={busy}
        onConfirm={confirm}
        onCancel={() => setDialog(null)}
        testId="cancel-dialog"
        returnFocusRef={returnFocus}
      >
        <p>{dialog?.kind === 'cancel' ? cancelConfirmation(dialog.verification) : null}</p>
      </ConfirmDialog>
    </main>
  );
}
