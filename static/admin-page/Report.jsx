import React, { useCallback, useEffect, useState } from 'react';
import Button from '@atlaskit/button/default/button';
import DynamicTable from '@atlaskit/dynamic-table';
import Lozenge from '@atlaskit/lozenge';
import Select from '@atlaskit/select';
import Textfield from '@atlaskit/textfield';
import { call } from '../shared/bridge.js';
import { ErrorNotice } from '../shared/components.jsx';
import { collect, csvFileName, defaultForm, filterOf, outcomeChoices } from './report.js';

/** @typedef {import('./report.js').ReportForm} ReportForm */
/** @typedef {import('../../src/generated/core.js').ReportAnswer} ReportAnswer */
/** @typedef {import('../../src/generated/core.js').ReportRow} ReportRow */
/** @typedef {import('../../src/generated/core.js').Summary} Summary */
/** @typedef {import('../shared/types.js').ResolverError} ResolverError */

const HEAD = {
  cells: [
    { key: 'at', content: 'Time (UTC)' },
    { key: 'action', content: 'Action' },
    { key: 'outcome', content: 'Outcome' },
    { key: 'ticket', content: 'Ticket' },
    { key: 'agent', content: 'Agent' },
    { key: 'person', content: 'Person' },
    { key: 'channel', content: 'Channel' },
    { key: 'detail', content: 'Detail' },
  ],
};

/** @param {any} payload */
const ask = (payload) => call('admin.report', payload);

/** @param {{ label: string, value: string | number, testId: string }} props */
function Figure({ label, value, testId }) {
  return (
    <div className="report-figure" data-testid={testId}>
      <span className="small muted">{label}</span>
      <strong className="report-figure-value">{value}</strong>
    </div>
  );
}

/** @param {{ summary: Summary }} props */
function Totals({ summary }) {
  return (
    <div className="report-figures" role="group" aria-label="Totals">
      <Figure label="Verifications sent" value={summary.verifications} testId="report-verifications" />
      <Figure label="Pass rate" value={summary.passRate} testId="report-pass-rate" />
      <Figure label="Failures" value={summary.failures} testId="report-failures" />
      <Figure label="Manual reviews" value={summary.manualReviews} testId="report-manual-reviews" />
      <Figure label="Median time to result" value={summary.median} testId="report-median" />
      <Figure label="Gated transitions refused" value={summary.gateRefused} testId="report-gate-refused" />
    </div>
  );
}

/** @param {ReportRow} row */
function cellsOf(row) {
  const e = row.entry;
  return {
    key: row.key,
    cells: [
      { key: 'at', content: <span className="nowrap">{row.at.replace('T', ' ').replace('Z', '')}</span> },
      { key: 'action', content: row.actionName },
      { key: 'outcome', content: e.outcome ? <Lozenge>{row.outcomeName}</Lozenge> : '—' },
      { key: 'ticket', content: e.issueKey || '—' },
      { key: 'agent', content: e.actorName || e.actorAccountId || '—' },
      { key: 'person', content: e.erased ? <em className="muted">erased</em> : e.personName || e.personEmail || '—' },
      { key: 'channel', content: e.channel || '—' },
      { key: 'detail', content: <span className="small">{row.detailText || '—'}</span> },
    ],
  };
}

/**
 * The verification report over the audit trail: filter, totals, the list page by page, and a
 * CSV export of what the filter shows. Every figure and cell comes from the core.
 * @param {{ env: import('../shared/types.js').PageEnv, rules: import('../shared/types.js').AdminRules }} props
 */
export function Report({ env: _env, rules }) {
  const outcomes = outcomeChoices(rules);
  const [form, setForm] = useState(/** @type {ReportForm} */ (defaultForm(Date.now())));
  // The filter last applied: what the totals and the list show, so what paging and export use,
  // whatever has been edited in the form since.
  const [shown, setShown] = useState(/** @type {ReportForm} */ (form));
  const [summary, setSummary] = useState(/** @type {Summary | null} */ (null));
  const [choices, setChoices] = useState(/** @type {{ agents: Record<string, string>, projects: string[] }} */ ({ agents: {}, projects: [] }));
  const [rows, setRows] = useState(/** @type {ReportRow[]} */ ([]));
  // The cursors of the pages shown so far: [first page's (none), second's, ...].
  const [pages, setPages] = useState(/** @type {(string | undefined)[]} */ ([undefined]));
  const [next, setNext] = useState(/** @type {string | undefined} */ (undefined));
  const [busy, setBusy] = useState(/** @type {'' | 'loading' | 'exporting'} */ (''));
  const [progress, setProgress] = useState('');
  const [error, setError] = useState(/** @type {ResolverError | null} */ (null));

  /** @param {ReportForm} f @param {string | undefined} cursor */
  const loadPage = useCallback(async (f, cursor) => {
    const filter = filterOf(f);
    if (!filter) return;
    const answer = await ask({ filter, part: 'rows', cursor });
    if (!answer.ok) {
      setError(answer.error);
      return;
    }
    setRows(answer.data.rows);
    setNext(answer.data.cursor ?? undefined);
  }, []);

  const apply = useCallback(
    async (/** @type {ReportForm} */ f) => {
      const filter = filterOf(f);
      if (!filter) {
        setError({ code: 'validation', message: 'Choose the period: a start and an end date.' });
        return;
      }
      setBusy('loading');
      setError(null);
      setShown(f);
      setPages([undefined]);
      await loadPage(f, undefined);
      const totals = await collect(ask, filter, 'totals', (a, calls) => setProgress(`Counting… ${calls} part${calls === 1 ? '' : 's'} read`));
      setProgress('');
      setBusy('');
      if (!totals.ok) {
        setError(totals.error);
        return;
      }
      const last = totals.answers[totals.answers.length - 1];
      setSummary(last.summary ?? null);
      if (last.totals)
        setChoices((c) => ({
          agents: { ...c.agents, ...last.totals?.agents },
          projects: [...new Set([...c.projects, ...(last.totals?.projects ?? [])])].sort(),
        }));
    },
    [loadPage],
  );

  useEffect(() => {
    apply(defaultForm(Date.now()));
  }, [apply]);

  const exportCsv = async () => {
    const filter = filterOf(shown);
    if (!filter) return;
    setBusy('exporting');
    const done = await collect(ask, filter, 'csv', (_a, calls) => setProgress(`Exporting… ${calls} part${calls === 1 ? '' : 's'} written`));
    setBusy('');
    setProgress('');
    if (!done.ok) {
      setError(done.error);
      return;
    }
    const text = done.answers.map((a) => a.csv).join('');
    const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = csvFileName(shown);
    link.dataset.testid = 'report-download';
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };

  /** @param {Partial<ReportForm>} change */
  const edit = (change) => setForm((f) => ({ ...f, ...change }));
  const projectOptions = [{ value: '', label: 'Any project' }, ...choices.projects.map((p) => ({ value: p, label: p }))];
  const agentOptions = [{ value: '', label: 'Any agent' }, ...Object.entries(choices.agents).map(([id, name]) => ({ value: id, label: name || id }))];
  const page = pages.length;

  return (
    <section className="card stack" aria-labelledby="report-heading" data-testid="report">
      <div>
        <h2 id="report-heading" className="section-heading">
          Verification report
        </h2>
        <p className="muted">Every link sent, result, cancel, expiry and gated transition, from the audit trail. Times are UTC.</p>
      </div>
      <form
        className="report-filter"
        onSubmit={(event) => {
          event.preventDefault();
          apply(form);
        }}
      >
        <label className="report-field">
          <span className="small">From</span>
          <Textfield type="date" value={form.from} onChange={(e) => edit({ from: e.currentTarget.value })} testId="report-from" />
        </label>
        <label className="report-field">
          <span className="small">To</span>
          <Textfield type="date" value={form.to} onChange={(e) => edit({ to: e.currentTarget.value })} testId="report-to" />
        </label>
        <div className="report-field">
          <span className="small">Project</span>
          <Select
            inputId="report-project"
            aria-label="Project"
            options={projectOptions}
            value={projectOptions.find((o) => o.value === form.projectKey) ?? projectOptions[0]}
            onChange={(o) => edit({ projectKey: o?.value ?? '' })}
          />
        </div>
        <div className="report-field">
          <span className="small">Agent</span>
          <Select
            inputId="report-agent"
            aria-label="Agent"
            options={agentOptions}
            value={agentOptions.find((o) => o.value === form.actorAccountId) ?? agentOptions[0]}
            onChange={(o) => edit({ actorAccountId: o?.value ?? '' })}
          />
        </div>
        <div className="report-field">
          <span className="small">Outcome</span>
          <Select
            inputId="report-outcome"
            aria-label="Outcome"
            options={outcomes}
            value={outcomes.find((o) => o.value === form.outcome) ?? outcomes[0]}
            onChange={(o) => edit({ outcome: o?.value ?? '' })}
          />
        </div>
        <Button type="submit" appearance="primary" isLoading={busy === 'loading'} testId="report-apply">
          Apply
        </Button>
        <Button onClick={exportCsv} isLoading={busy === 'exporting'} isDisabled={busy !== ''} testId="report-export">
          Export CSV
        </Button>
      </form>
      {progress ? (
        <p className="small muted" role="status">
          {progress}
        </p>
      ) : null}
      {error ? <ErrorNotice audience="admin" error={error} title="Could not load the report" onRetry={() => apply(form)} /> : null}
      {summary ? <Totals summary={summary} /> : null}
      <div className="table-scroll">
        <DynamicTable head={HEAD} rows={rows.map(cellsOf)} label="Audit trail" emptyView={<p className="muted">Nothing in this period for this filter.</p>} />
      </div>
      <div className="row spread">
        <span className="small muted" data-testid="report-page">
          Page {page}
        </span>
        <div className="row">
          <Button
            isDisabled={page <= 1 || busy !== ''}
            onClick={async () => {
              const previous = pages.slice(0, -1);
              setPages(previous);
              await loadPage(shown, previous[previous.length - 1]);
            }}
            testId="report-previous"
          >
            Previous page
          </Button>
          <Button
            isDisabled={!next || busy !== ''}
            onClick={async () => {
              setPages([...pages, next]);
              await loadPage(shown, next);
            }}
            testId="report-next"
          >
            Next page
          </Button>
        </div>
      </div>
    </section>
  );
}
