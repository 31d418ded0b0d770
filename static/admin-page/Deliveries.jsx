import React, { useCallback, useEffect, useRef, useState } from 'react';
import Button from '@atlaskit/button/default/button';
import DynamicTable from '@atlaskit/dynamic-table';
import Lozenge from '@atlaskit/lozenge';
import { call } from '../shared/bridge.js';
import { ErrorNotice, StatusLozenge } from '../shared/components.jsx';
import { formatPreciseTime } from '../shared/format.js';
import { describeDelivery } from './deliveries.js';

const HEAD = {
  cells: [
    { key: 'when', content: 'Received' },
    { key: 'verdict', content: 'Verdict' },
    { key: 'event', content: 'Event' },
    { key: 'ticket', content: 'Ticket' },
    { key: 'session', content: 'Session ID' },
    { key: 'result', content: 'Result / reason' },
  ],
};

/** @typedef {import('../shared/types.js').DeliveryEntry} DeliveryEntry */

/**
 * The last webhook deliveries (newest first), to see whether Incode reaches the app.
 * @param {{ env: import('../shared/types.js').PageEnv, onLoaded?: (deliveries: DeliveryEntry[]) => void }} props
 */
export function Deliveries({ env, onLoaded }) {
  const [state, setState] = useState(
    /** @type {{ state: 'loading' | 'ready' | 'error', list: DeliveryEntry[], at?: number, error?: import('../shared/types.js').ResolverError }} */ ({
      state: 'loading',
      list: [],
    }),
  );
  const loaded = useRef(onLoaded);
  loaded.current = onLoaded;

  const load = useCallback(async () => {
    setState((s) => ({ ...s, state: 'loading' }));
    const answer = await call('admin.getDeliveries');
    if (answer.ok && Array.isArray(answer.data?.deliveries)) {
      setState({ state: 'ready', list: answer.data.deliveries, at: Date.now() });
      loaded.current?.(answer.data.deliveries);
    } else setState((s) => ({ ...s, state: 'error', error: answer.ok ? { code: 'unexpected_answer', message: '' } : answer.error }));
  }, []);

  useEffect(() => {
    load();
  }, [load]);

  const rows = state.list.map((d, i) => {
    const described = describeDelivery(d);
    return {
      key: `${d.atMs}-${i}`,
      cells: [
        { key: 'when', content: <span className="nowrap">{formatPreciseTime(d.atMs, env)}</span> },
        { key: 'verdict', content: <Lozenge appearance={described.appearance}>{described.verdict}</Lozenge> },
        { key: 'event', content: d.eventType ? <code>{d.eventType}</code> : '—' },
        { key: 'ticket', content: d.issueKey || '—' },
        { key: 'session', content: d.sessionId ? <code>{d.sessionId}</code> : '—' },
        {
          key: 'result',
          content: (
            <span className="cell-stack">
              {d.status ? <StatusLozenge verification={{ status: d.status, stateName: d.stateName }} /> : null}
              {described.reason ? <span className="small muted">{described.reason}</span> : null}
            </span>
          ),
        },
      ],
    };
  });

  return (
    <section className="card stack" aria-labelledby="deliveries-heading" data-testid="deliveries">
      <div className="row spread">
        <div>
          <h2 id="deliveries-heading" className="section-heading">
            Recent webhook deliveries
          </h2>
          <p className="muted">The last 50 calls to the webhook, newest first, with what the app made of each.</p>
        </div>
        <Button onClick={load} isLoading={state.state === 'loading'} testId="refresh-deliveries">
          Refresh
        </Button>
      </div>
      {state.state === 'error' ? <ErrorNotice audience="admin" error={state.error} title="Could not load the deliveries" onRetry={load} /> : null}
      <div className="table-scroll">
        <DynamicTable
          head={HEAD}
          rows={rows}
          rowsPerPage={10}
          isLoading={state.state === 'loading' && state.list.length === 0}
          label="Recent webhook deliveries"
          emptyView={<p className="muted">No webhook delivery received yet. Register the webhook URL in the Incode dashboard.</p>}
        />
      </div>
    </section>
  );
}
