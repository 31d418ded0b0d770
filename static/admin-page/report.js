// The verification report's page logic: the request for a filter, and the loop that calls the
// report resolver from cursor to cursor (the core reads a bounded part of the trail per call and
// folds the totals; the page only hands back what the last call answered).

/** @typedef {import('../../src/generated/core.js').ReportRequest} ReportRequest */
/** @typedef {import('../../src/generated/core.js').ReportAnswer} ReportAnswer */
/** @typedef {import('../../src/generated/core.js').ReportFilter} ReportFilter */
/** @typedef {import('../../src/generated/core.js').ReportPart} ReportPart */
/** @typedef {{ from: string, to: string, projectKey: string, actorAccountId: string, outcome: string }} ReportForm */

const DAY_MS = 86_400_000;

/**
 * The outcomes the filter offers: the verification states an entry ends with, named as the core
 * names them everywhere (`rules.states`).
 * @param {import('../shared/types.js').AdminRules} rules
 */
export function outcomeChoices(rules) {
  return [{ value: '', label: 'Any outcome' }, ...rules.states.filter((s) => s.state !== 'replaced').map((s) => ({ value: s.state, label: s.name }))];
}

/** `YYYY-MM-DD` of an epoch ms, in UTC. @param {number} ms */
export const dayOf = (ms) => new Date(ms).toISOString().slice(0, 10);

/** The last 30 days, up to today (UTC). @param {number} nowMs @returns {ReportForm} */
export function defaultForm(nowMs) {
  return { from: dayOf(nowMs - 29 * DAY_MS), to: dayOf(nowMs), projectKey: '', actorAccountId: '', outcome: '' };
}

/**
 * The filter for the core: whole UTC days, the start's first and the end's last millisecond.
 * A day that is not a date answers null (the core checks the rest and says what is wrong).
 * @param {ReportForm} form @returns {ReportFilter | null}
 */
export function filterOf(form) {
  const from = Date.parse(`${form.from}T00:00:00.000Z`);
  const to = Date.parse(`${form.to}T00:00:00.000Z`);
  if (!Number.isFinite(from) || !Number.isFinite(to)) return null;
  return { fromMs: from, toMs: to + DAY_MS - 1, projectKey: form.projectKey, actorAccountId: form.actorAccountId, outcome: form.outcome };
}

/**
 * Calls the report resolver from the start to the last cursor for `part` (totals or csv),
 * handing back the totals it answered; `onCall` sees each answer (progress).
 * @param {(payload: ReportRequest) => Promise<{ ok: boolean, data?: any, error?: any }>} ask
 * @param {ReportFilter} filter @param {'totals' | 'csv'} part
 * @param {(answer: ReportAnswer, calls: number) => void} [onCall]
 * @returns {Promise<{ ok: true, answers: ReportAnswer[], error?: undefined } | { ok: false, error: any }>}
 */
export async function collect(ask, filter, part, onCall) {
  /** @type {ReportAnswer[]} */
  const answers = [];
  /** @type {string | undefined} */
  let cursor;
  /** @type {ReportAnswer['totals']} */
  let totals;
  for (;;) {
    /** @type {ReportRequest} */
    const request = { filter, part, cursor, totals };
    const answer = await ask(request);
    if (!answer.ok) return { ok: false, error: answer.error };
    /** @type {ReportAnswer} */
    const data = answer.data;
    answers.push(data);
    onCall?.(data, answers.length);
    cursor = data.cursor ?? undefined;
    totals = data.totals ?? undefined;
    if (!cursor) return { ok: true, answers };
  }
}

/** The export's file name: the period it covers. @param {ReportForm} form */
export const csvFileName = (form) => `incode-verifications-${form.from}-to-${form.to}.csv`;
