import React from 'react';
import DynamicTable from '@atlaskit/dynamic-table';
import { StatusLozenge } from '../shared/components.jsx';
import { deliveryWord, formatDateTime } from '../shared/format.js';

const HEAD = {
  cells: [
    { key: 'requested', content: 'Requested' },
    { key: 'to', content: 'Sent to' },
    { key: 'result', content: 'Result and Incode IDs' },
  ],
};

/**
 * Every verification of this ticket, newest first as the backend lists them.
 * @param {{ history: import('../shared/types.js').VerificationView[], env: import('../shared/types.js').PageEnv }} props
 */
export function HistoryTable({ history, env }) {
  const fmt = { locale: env.locale, timeZone: env.timeZone };
  const rows = history.map((v) => ({
    key: v.id,
    testId: `history-row-${v.id}`,
    cells: [
      {
        key: 'requested',
        content: (
          <span className="cell-stack">
            <span>{v.requestedByName || '—'}</span>
            <span className="small muted">{formatDateTime(v.requestedAtMs, fmt)}</span>
          </span>
        ),
      },
      {
        key: 'to',
        content: (
          <span className="cell-stack">
            <span>{deliveryWord(v.delivery) === 'SMS' ? 'SMS' : 'Email'}</span>
            <span className="small muted">{v.destination || v.email}</span>
          </span>
        ),
      },
      {
        key: 'result',
        content: (
          <span className="cell-stack">
            <StatusLozenge verification={v} />
            <span className="small muted">{formatDateTime(v.updatedAtMs, fmt)}</span>
            <span className="small">Identity: {v.identityId ? <code>{v.identityId}</code> : <span className="muted">none</span>}</span>
            <span className="small">Session: {v.sessionId ? <code>{v.sessionId}</code> : <span className="muted">none</span>}</span>
          </span>
        ),
      },
    ],
  }));
  return (
    <section aria-labelledby="history-heading" data-testid="verification-history">
      <h2 id="history-heading" className="section-heading">
        History
      </h2>
      <div className="table-scroll">
        <DynamicTable head={HEAD} rows={rows} rowsPerPage={10} label="Verification history of this ticket" />
      </div>
    </section>
  );
}
