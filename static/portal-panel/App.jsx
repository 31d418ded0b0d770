import React, { useCallback, useEffect, useState } from 'react';
import SectionMessage from '@atlaskit/section-message';
import { call } from '../shared/bridge.js';
import { useNow, useOnFocus, useReadyMarker, useVisibleInterval } from '../shared/hooks.js';
import { portalMessage, visiblePending } from './logic.js';

const POLL_MS = 30_000;

/**
 * The requester's view: a note while a verification link is pending, otherwise nothing at all
 * (an empty, zero-height panel). Errors stay out of the customer's sight; the console has them.
 * @param {{ env: import('../shared/types.js').PageEnv }} props
 */
export function App({ env }) {
  const [state, setState] = useState(/** @type {import('../shared/types.js').PortalState | null} */ (null));
  const [loaded, setLoaded] = useState(false);
  useReadyMarker(loaded);

  const load = useCallback(async () => {
    const answer = await call('portal.getState');
    if (answer.ok) setState(answer.data);
    else console.warn('Identity verification state unavailable', answer.error);
    setLoaded(true);
  }, []);

  useEffect(() => {
    load();
  }, [load]);

  const now = useNow(Boolean(state?.pending), 5000);
  const pending = visiblePending(state, now);
  useVisibleInterval(load, POLL_MS, Boolean(pending));
  useOnFocus(load);

  if (!pending) return null;
  return (
    <div className="portal" data-testid="portal-pending">
      <SectionMessage appearance="information" title="Identity verification pending">
        <p>{portalMessage(pending, { locale: env.locale, timeZone: env.timeZone, nowMs: now })}</p>
      </SectionMessage>
    </div>
  );
}
