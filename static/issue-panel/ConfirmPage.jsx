import React, { useEffect, useRef } from 'react';
import Button from '@atlaskit/button/default/button';
import Heading from '@atlaskit/heading';
import StatusWarningIcon from '@atlaskit/icon/core/status-warning';
import { modalAnswer } from '../shared/bridge.js';
import { useReadyMarker } from '../shared/hooks.js';
import { trapTab } from './logic.js';

/**
 * The confirmation the panel asks for, drawn in the platform's modal (the panel's own resource,
 * opened with `Modal`; what to ask comes in `extension.modal`). The platform draws the blanket over
 * the whole page; this page draws the dialog's header, body and footer as Atlaskit's does, keeps
 * focus inside, and answers with `view.close({ confirmed: true })`, or `view.close()` to dismiss.
 * @param {{ env: import('../shared/types.js').PageEnv }} props
 */
export function ConfirmPage({ env }) {
  const ask = env.context?.extension?.modal ?? {};
  const danger = ask.appearance === 'danger';
  const testId = typeof ask.testId === 'string' ? ask.testId : 'confirm-dialog';
  const root = useRef(null);
  const confirmRef = useRef(null);
  const cancelRef = useRef(null);
  useReadyMarker(true);

  useEffect(() => {
    (ask.focus === 'cancel' ? cancelRef : confirmRef).current?.focus();
    const onKey = (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        modalAnswer.close();
      } else if (event.key === 'Tab' && root.current) {
        trapTab(event, root.current);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [ask.focus]);

  return (
    <div ref={root} className="confirm" role="dialog" aria-modal="true" aria-labelledby="confirm-title" data-testid={testId}>
      <header className="confirm-header">
        {/* The icon's type lists the token variables without a fallback colour; this keeps its own. */}
        {danger ? <StatusWarningIcon label="" color={/** @type {any} */ ('var(--ds-icon-danger, #c9372c)')} /> : null}
        <Heading size="medium" as="h1" id="confirm-title">
          {ask.title ?? 'Confirm'}
        </Heading>
      </header>
      <div className="confirm-body">
        <p>{ask.text ?? ''}</p>
        {typeof ask.warning === 'string' ? (
          <p className="confirm-warning" data-testid={`${testId}-warning`}>
            <StatusWarningIcon label="Warning" color={/** @type {any} */ ('var(--ds-icon-warning, #e56910)')} />
            <span>{ask.warning}</span>
          </p>
        ) : null}
      </div>
      <footer className="confirm-footer">
        <Button ref={cancelRef} appearance="subtle" onClick={() => modalAnswer.close()} testId={`${testId}-cancel`}>
          {ask.cancelLabel ?? 'Cancel'}
        </Button>
        <Button
          ref={confirmRef}
          appearance={danger ? 'danger' : 'primary'}
          onClick={() => modalAnswer.confirm({ confirmed: true })}
          testId={`${testId}-confirm`}
        >
          {ask.confirmLabel ?? 'Confirm'}
        </Button>
      </footer>
    </div>
  );
}
