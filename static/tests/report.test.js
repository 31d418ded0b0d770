import { describe, expect, it } from 'vitest';
import { collect, csvFileName, defaultForm, filterOf, outcomeChoices } from '../admin-page/report.js';
import { adminRules } from '../../src/console.js';

describe('the outcome filter', () => {
  it('offers every state by the core name, after "any"', () => {
    const choices = outcomeChoices(adminRules());
    expect(choices[0]).toEqual({ value: '', label: 'Any outcome' });
    expect(choices).toContainEqual({ value: 'manualReview', label: 'Pending review' });
    expect(choices.map((c) => c.value)).not.toContain('replaced');
  });
});

describe('the report filter', () => {
  it('covers whole UTC days, the end day included', () => {
    const f = filterOf({ from: '2026-11-01', to: '2026-11-30', projectKey: 'HD', actorAccountId: '', outcome: 'passed' });
    expect(f).toEqual({ fromMs: Date.UTC(2026, 10, 1), toMs: Date.UTC(2026, 11, 1) - 1, projectKey: 'HD', actorAccountId: '', outcome: 'passed' });
  });
  it('answers null for a day that is not a date', () => {
    expect(filterOf({ from: '', to: '2026-11-30', projectKey: '', actorAccountId: '', outcome: '' })).toBeNull();
  });
  it('starts on the last 30 days', () => {
    const form = defaultForm(Date.UTC(2026, 11, 6, 12));
    expect([form.from, form.to]).toEqual(['2026-11-07', '2026-12-06']);
    expect(csvFileName(form)).toBe('incode-verifications-2026-11-07-to-2026-12-06.csv');
  });
});

describe('collecting a report part', () => {
  const filter = { fromMs: 0, toMs: 1, projectKey: '', actorAccountId: '', outcome: '' };
  it('calls from cursor to cursor, handing back the totals each call answered', async () => {
    const asked = [];
    const answers = [
      { cursor: 'c1', rows: [], csv: 'a\r\n', read: 100, totals: { entries: 1 } },
      { cursor: 'c2', rows: [], csv: 'b\r\n', read: 100, totals: { entries: 2 } },
      { rows: [], csv: 'c\r\n', read: 5, totals: { entries: 3 } },
    ];
    const done = await collect(
      async (request) => {
        asked.push(request);
        return { ok: true, data: answers[asked.length - 1] };
      },
      filter,
      'totals',
    );
    expect(done.ok).toBe(true);
    expect(asked.map((r) => [r.cursor, r.totals?.entries])).toEqual([
      [undefined, undefined],
      ['c1', 1],
      ['c2', 2],
    ]);
    expect(done.answers.map((a) => a.csv).join('')).toBe('a\r\nb\r\nc\r\n');
  });
  it('stops at the first refusal', async () => {
    let calls = 0;
    const done = await collect(
      async () => {
        calls += 1;
        return calls === 1 ? { ok: true, data: { cursor: 'c', rows: [], csv: '', read: 1 } } : { ok: false, error: { code: 'storage_unavailable' } };
      },
      filter,
      'csv',
    );
    expect(done).toEqual({ ok: false, error: { code: 'storage_unavailable' } });
    expect(calls).toBe(2);
  });
});
