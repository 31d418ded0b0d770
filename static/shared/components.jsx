// Building blocks shared by the three pages.
import React, { useEffect, useState } from 'react';
import Button from '@atlaskit/button/default/button';
import { ErrorMessage, HelperMessage, Label } from '@atlaskit/form';
import ClockIcon from '@atlaskit/icon/core/clock';
import CrossCircleIcon from '@atlaskit/icon/core/cross-circle';
import QuestionCircleIcon from '@atlaskit/icon/core/question-circle';
import SendIcon from '@atlaskit/icon/core/send';
import StatusErrorIcon from '@atlaskit/icon/core/status-error';
import StatusSuccessIcon from '@atlaskit/icon/core/status-success';
import StatusWarningIcon from '@atlaskit/icon/core/status-warning';
import StopwatchIcon from '@atlaskit/icon/core/stopwatch';
import Lozenge from '@atlaskit/lozenge';
import SectionMessage, { SectionMessageAction } from '@atlaskit/section-message';
import Spinner from '@atlaskit/spinner';
import { adviceFor } from './errors.js';
import { fieldDomId, fieldErrorText } from './fields.js';
import { stateDisplay } from './status.js';

/** @typedef {{ id: string, 'aria-describedby'?: string, 'aria-invalid'?: boolean, isInvalid: boolean }} FieldInputProps */

/**
 * Label, input, helper text and error messages for one field. `children` is called with the
 * props the input needs (`id`, `aria-describedby`, `aria-invalid`, `isInvalid`).
 * @param {{ path: string, label: React.ReactNode, helper?: React.ReactNode, errors?: (string | import('./types.js').FieldError)[],
 *   required?: boolean, children: (input: FieldInputProps) => React.ReactNode }} props
 */
export function FieldShell({ path, label, helper, errors, required = false, children }) {
  const id = fieldDomId(path);
  const list = (errors ?? []).map((e) => (typeof e === 'string' ? e : fieldErrorText(e)));
  const describedBy = [helper ? `${id}-helper` : null, list.length ? `${id}-error` : null].filter(Boolean).join(' ');
  return (
    <div className="field" data-field={path}>
      <Label htmlFor={id} id={`${id}-label`}>
        {label}
        {required ? (
          <span className="required" aria-hidden="true">
            {' '}
            *
          </span>
        ) : null}
      </Label>
      {children({
        id,
        'aria-describedby': describedBy || undefined,
        'aria-invalid': list.length > 0 || undefined,
        isInvalid: list.length > 0,
      })}
      {helper ? (
        <div id={`${id}-helper`}>
          <HelperMessage>{helper}</HelperMessage>
        </div>
      ) : null}
      {list.length ? (
        <div id={`${id}-error`} className="field-errors">
          {list.map((text, i) => (
            <ErrorMessage key={i}>{text}</ErrorMessage>
          ))}
        </div>
      ) : null}
    </div>
  );
}

/**
 * A polite live region. Each new `message` is announced, also the same text twice in a row
 * (the `serial` changes the node so screen readers notice).
 * @param {{ message: string, serial: number }} props
 */
export function LiveRegion({ message, serial }) {
  return (
    <div className="visually-hidden" role="status" aria-live="polite" aria-atomic="true" data-testid="live-region">
      <span key={serial}>{message}</span>
    </div>
  );
}

/** @returns {[{ message: string, serial: number }, (message: string) => void]} */
export function useAnnouncer() {
  const [state, setState] = useState({ message: '', serial: 0 });
  const announce = (message) => setState((s) => ({ message, serial: s.serial + 1 }));
  return [state, announce];
}

async function copyText(text) {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // The page may run in an iframe without clipboard permission: fall back below.
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  let ok;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/**
 * A value in monospace with a copy button.
 * @param {{ label: string, value: string | null | undefined, testId?: string, onCopied?: (message: string) => void }} props
 */
export function CopyValue({ label, value, testId, onCopied }) {
  const [copied, setCopied] = useState(/** @type {boolean | null} */ (null));
  useEffect(() => {
    if (copied === null) return undefined;
    const id = setTimeout(() => setCopied(null), 2000);
    return () => clearTimeout(id);
  }, [copied]);
  if (!value) return <span className="muted">—</span>;
  return (
    <span className="copy-value">
      <code data-testid={testId}>{value}</code>
      <Button
        spacing="compact"
        appearance="subtle"
        aria-label={`Copy ${label}`}
        onClick={async () => {
          const ok = await copyText(value);
          setCopied(ok);
          onCopied?.(ok ? `${label} copied` : `Could not copy the ${label}; select it and copy by hand`);
        }}
      >
        {copied === true ? 'Copied' : copied === false ? 'Copy failed' : 'Copy'}
      </Button>
    </span>
  );
}

const STATUS_ICONS = {
  send: [SendIcon, 'var(--ds-icon-information, #1d7afc)'],
  clock: [ClockIcon, 'var(--ds-icon-information, #1d7afc)'],
  success: [StatusSuccessIcon, 'var(--ds-icon-success, #22a06b)'],
  error: [StatusErrorIcon, 'var(--ds-icon-danger, #c9372c)'],
  warning: [StatusWarningIcon, 'var(--ds-icon-warning, #e56910)'],
  stopwatch: [StopwatchIcon, 'var(--ds-icon-subtle, #626f86)'],
  crossCircle: [CrossCircleIcon, 'var(--ds-icon-subtle, #626f86)'],
  question: [QuestionCircleIcon, 'var(--ds-icon-subtle, #626f86)'],
};

/** The state's icon; decorative (the headline next to it says the same in words). @param {{ verification: StateOf }} props */
export function StatusIcon({ verification }) {
  const [Icon, color] = STATUS_ICONS[stateDisplay(verification).icon] ?? STATUS_ICONS.question;
  // NOTE: the icon's type lists the token variables without a fallback colour; these keep theirs
  // for a host that has not loaded the theme yet.
  return <Icon label="" color={/** @type {any} */ (color)} />;
}

/** @typedef {{ state?: string, status?: string, stateName?: string }} StateOf */

/**
 * The state's one name in a lozenge: `verification` is a view, or `status` a bare status.
 * @param {{ verification?: StateOf, status?: string }} props
 */
export function StatusLozenge({ verification, status }) {
  const d = stateDisplay(verification ?? { status });
  return <Lozenge appearance={d.lozenge}>{d.label}</Lozenge>;
}

/** @param {{ label: string }} props */
export function Loading({ label }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <Spinner size="medium" label={label} />
      <span>{label}</span>
    </div>
  );
}

/**
 * An error with what to do next; `onRetry` adds a "Try again" action. `audience="admin"` words
 * the advice for the Jira admin (the settings page).
 * @param {{ error: any, onRetry?: () => void, title?: string, testId?: string, audience?: 'agent' | 'admin',
 *   children?: import('react').ReactNode }} props
 */
export function ErrorNotice({ error, onRetry, title, testId = 'error-notice', audience = 'agent', children }) {
  const advice = adviceFor(error, { audience });
  const actions = onRetry
    ? [
        <SectionMessageAction key="retry" onClick={onRetry}>
          Try again
        </SectionMessageAction>,
      ]
    : [];
  return (
    <div role="alert" data-testid={testId} data-error-code={error.code}>
      <SectionMessage appearance={advice.next === 'wait' ? 'warning' : 'error'} title={title ?? advice.title} actions={actions}>
        <p>{advice.message}</p>
        {advice.detail ? <p className="muted">{advice.detail}</p> : null}
        {children}
      </SectionMessage>
    </div>
  );
}
