// The verification report over 100,000 audit entries on the local host: the totals and the CSV
// export page through the admin resolver, each call ending within its budget (8 s of reading, a
// resolver has 25 s). Prints the figures: calls, time per call, total time. The local host's
// entity index sorts the whole entity for every page, so the total here is the host's cost.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ACCOUNTS, configure, ok, admin, startApp } from './helpers.mjs';

let host;

before(async () => {
  host = await startApp();
  await configure(host);
});

after(async () => {
  await host?.stop();
});

const DAY = 86_400_000;
const year = () => ({ fromMs: Date.now() - 365 * DAY, toMs: Date.now() + DAY, projectKey: '', actorAccountId: '', outcome: '' });

/** Every call of a report part, cursor to cursor. */
async function collect(as, filter, part) {
  const answers = [];
  let cursor;
  let totals;
  for (;;) {
    const started = performance.now();
    const data = ok(await admin(host, as, 'admin.report', { filter, part, cursor, totals }), `admin.report ${part}`);
    data.ms = performance.now() - started;
    answers.push(data);
    cursor = data.cursor;
    totals = data.totals;
    if (!cursor) return answers;
  }
}

test('100,000 entries: the totals and the export page through the resolver, each call within its budget', async () => {
  const base = Date.now() - 200 * DAY;
  const projects = ['HELP', 'IT', 'OPS'];
  const outcomes = ['passed', 'passed', 'passed', 'failed', 'manualReview'];
  const seeded = [];
  for (let i = 0; i < 50_000; i++) {
    const at = base + i * 300_000;
    const common = {
      schemaVersion: 2,
      issueKey: `${projects[i % 3]}-${i}`,
      projectKey: projects[i % 3],
      actorAccountId: `agent-${i % 9}`,
      actorName: `Agent ${i % 9}`,
      issueId: `${i}`,
      personAccountId: `p-${i % 700}`,
      personEmail: `p${i % 700}@example.test`,
      personName: `Person ${i % 700}`,
      channel: 'EMAIL',
      sessionId: `bulk-${i}`,
      identityId: '',
      detail: '',
      erased: false,
    };
    seeded.push([`sent:bulk-${i}`, { ...common, action: 'sent', atMs: at, outcome: 'requested', durationMs: 0 }]);
    seeded.push([
      `outcome:bulk-${i}:x`,
      { ...common, action: 'outcome', atMs: at + 120_000 + (i % 600) * 1000, outcome: outcomes[i % 5], durationMs: 120_000 + (i % 600) * 1000 },
    ]);
  }
  host.kvs.seedEntity('audit', seeded);
  const filter = { ...year(), toMs: base + 50_000 * 300_000 + DAY };
  const timed = async (part) => {
    const started = performance.now();
    const answers = await collect(ACCOUNTS.alex, filter, part);
    return { answers, ms: performance.now() - started };
  };
  const totals = await timed('totals');
  const summary = totals.answers.at(-1).summary;
  assert.equal(summary.verifications, 50_000);
  assert.equal(summary.passed, 30_000);
  assert.equal(summary.failures, 10_000);
  assert.equal(summary.manualReviews, 10_000);
  const csv = await timed('csv');
  const lines = csv.answers
    .map((a) => a.csv)
    .join('')
    .split('\r\n')
    .filter(Boolean);
  assert.ok(lines.length >= 100_001, `the header and every seeded entry (${lines.length})`);
  const calls = totals.answers.length;
  const slowest = Math.max(...totals.answers.map((a) => a.ms), ...csv.answers.map((a) => a.ms));
  assert.ok(slowest < 25_000, `every call within a resolver's 25 s (slowest ${slowest.toFixed(0)} ms)`);
  const read = totals.answers.reduce((n, a) => n + a.read, 0);
  console.log(
    `report over ${read} entries: totals ${calls} calls, ${(totals.ms / 1000).toFixed(1)} s (${(totals.ms / calls).toFixed(0)} ms a call, ` +
      `${Math.round(read / calls)} entries a call); csv ${csv.answers.length} calls, ${(csv.ms / 1000).toFixed(1)} s; slowest call ${slowest.toFixed(0)} ms`,
  );
});
