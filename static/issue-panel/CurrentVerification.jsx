import React from 'react';
import Button from '@atlaskit/button/default/button';
import { CopyValue, ErrorNotice, StatusIcon, StatusLozenge } from '../shared/components.jsx';
import { describeDuration, describeSent, formatCountdown, formatDateTime } from '../shared/format.js';
import { stateDisplay } from '../shared/status.js';
import { lateResultNotice, openedPastExpiry } from './logic.js';

/**
 * The verification the ticket is about now: status, what it means, ids, and the actions.
 * @param {{ verification: import('../shared/types.js').VerificationView, now: number, env: import('../shared/types.js').PageEnv,
 *   actions: import('../../src/generated/core.js').PanelActions, actionError: import('../shared/types.js').ResolverError | null,
 *   formShown: boolean, onResend: () => void, onCancel: () => void, onNew: () => void, onCopied: (message: string) => void }} props
 */
export function CurrentVerification({ verification: v, now, env, actions, actionError, formShown, onResend, onCancel, onNew, onCopied }) {
  const d = stateDisplay(v);
  const remaining = v.expiresAtMs - now;
  const opened = d.active ? openedPastExpiry(v, now) : null;
  const fmt = { locale: env.locale, timeZone: env.timeZone };
  return (
    <section
      className={`card status-card tone-${d.tone}`}
      data-testid="verification-status"
      data-status={v.status}
      data-state={d.state}
      aria-labelledby="current-verification-heading"
    >
      <div className="status-head">
        <span className="status-icon" aria-hidden="true">
          <StatusIcon verification={v} />
        </span>
        <div className="status-titles">
          <h2 id="current-verification-heading" className="status-headline" tabIndex={-1}>
            {d.headline}
          </h2>
          <p className="status-guidance">{d.guidance}</p>
        </div>
        <StatusLozenge verification={v} />
      </div>

      {opened ? (
        <p className="status-sent" data-testid="verification-countdown">
          {opened}
        </p>
      ) : d.active ? (
        <p className="status-sent" data-testid="verification-countdown">
          {d.state === 'inProgress' ? 'The employee opened the link. ' : ''}
          {describeSent(v)}, expires in{' '}
          <time dateTime={new Date(v.expiresAtMs).toISOString()} aria-label={describeDuration(remaining)}>
            {formatCountdown(remaining)}
          </time>
        </p>
      ) : (
        <p className="status-sent">{describeSent(v)}.</p>
      )}

      {lateResultNotice(v) ? (
        <p className="status-late" data-testid="late-result">
          {lateResultNotice(v)}
        </p>
      ) : null}

      <dl className="kv">
        <dt>Employee</dt>
        <dd>
          {v.name ? `${v.name} · ` : ''}
          {v.email}
        </dd>
        <dt>{d.label}</dt>
        <dd data-testid="verification-updated">{formatDateTime(v.updatedAtMs, fmt)}</dd>
        <dt>Requested</dt>
        <dd>
          {v.requestedByName || 'Unknown agent'}, {formatDateTime(v.requestedAtMs, fmt)}
        </dd>
        <dt>Identity ID</dt>
        <dd>
          <CopyValue label="identity ID" value={v.identityId} testId="identity-id" onCopied={onCopied} />
        </dd>
        <dt>Session ID</dt>
        <dd>
          <CopyValue label="session ID" value={v.sessionId} testId="session-id" onCopied={onCopied} />
        </dd>
      </dl>

      {actionError ? <ErrorNotice error={actionError} testId="action-error" /> : null}

      {actions.resend || actions.cancel || (actions.newVerification && !formShown) ? (
        <div className="row">
          {actions.resend ? (
            <Button onClick={onResend} testId="resend-button">
              Resend (new link)
            </Button>
          ) : null}
          {actions.cancel ? (
            <Button appearance="subtle" onClick={onCancel} testId="cancel-button">
              Cancel verification
            </Button>
          ) : null}
          {actions.newVerification && !formShown ? (
            <Button onClick={onNew} testId="new-verification-button">
              Start a new verification
            </Button>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
