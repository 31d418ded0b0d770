// The verification report in the browser, as an auditor uses it: a month of verifications on
// the trail, filtered to one project and outcome, paged, and exported to CSV; the screenshot is
// the README's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ACCOUNTS, adminFrame, configureSite, launchBrowser, openShell, settled, shoot, startSite } from './helpers.mjs';

let host;
let browser;

before(async () => {
  host = await startSite();
  browser = await launchBrowser();
  await configureSite(host);
  // 120 verifications over the last 20 days, by three agents on two projects.
  const now = Date.now();
  const agents = [
    ['acc-avery', 'Avery Agent'],
    ['acc-blake', 'Blake Agent'],
    ['acc-jordan', 'Jordan Lead'],
  ];
  const outcomes = ['passed', 'passed', 'passed', 'failed', 'manualReview', 'passed'];
  /** The Incode event each outcome came from (what a delivery records as the detail). */
  const EVENTS = { passed: 'succeeded', failed: 'failed', manualReview: 'pendingReview' };
  /** The gate's message when no passed verification of the person is recent enough. */
  const refusal = (person) => `No passed identity verification of Employee ${person} in the last 30 minutes: send one from the Identity verification panel.`;
  const seeded = [];
  for (let i = 0; i < 120; i++) {
    const at = now - (i + 1) * 4 * 3_600_000;
    const project = i % 4 === 0 ? 'IT' : 'HELP';
    const [actor, actorName] = agents[i % 3];
    const common = {
      schemaVersion: 2,
      actorAccountId: actor,
      actorName,
      issueId: `${20_000 + i}`,
      issueKey: `${project}-${100 + i}`,
      projectKey: project,
      personAccountId: `person-${i % 17}`,
      personEmail: `employee${i % 17}@example.test`,
      personName: `Employee ${i % 17}`,
      channel: i % 3 === 0 ? 'SMS' : 'EMAIL',
      sessionId: `sess-${i}`,
      identityId: '',
      detail: '',
      erased: false,
    };
    const took = 60_000 + (i % 10) * 45_000;
    seeded.push([`sent:sess-${i}`, { ...common, action: 'sent', atMs: at, outcome: 'requested', durationMs: 0 }]);
    seeded.push([
      `outcome:sess-${i}:x`,
      { ...common, action: 'outcome', atMs: at + took, outcome: outcomes[i % 6], identityId: `idt-${i}`, durationMs: took, detail: EVENTS[outcomes[i % 6]] },
    ]);
    if (i % 25 === 0) {
      seeded.push([
        `gate:sess-${i}`,
        // As the gate writes a refusal: no outcome, and the message Jira showed the agent.
        { ...common, action: 'gateRefused', atMs: at + 1_000, outcome: '', durationMs: 0, detail: refusal(i % 17) },
      ]);
    }
  }
  host.kvs.seedEntity('audit', seeded);
});

after(async () => {
  await browser?.close();
  await host?.stop();
});

/** Chooses an option of one of the report's Atlaskit selects. */
async function choose(frame, id, label) {
  const input = frame.locator(`#${id}`);
  await input.click();
  await input.pressSequentially(label);
  await frame.locator('[class*="-option"]', { hasText: label }).first().waitFor();
  await input.press('Enter');
}

test('an admin filters the report, pages through it and exports exactly what it shows', async () => {
  const page = await openShell(browser, host, { user: ACCOUNTS.alex, hash: '#/module/incode-settings', height: 1400 });
  const frame = await adminFrame(page);
  const report = frame.getByTestId('report');
  await report.scrollIntoViewIfNeeded();
  await frame.getByTestId('report-verifications').waitFor();
  await frame.locator('[data-testid="report-verifications"]', { hasText: '120' }).waitFor();
  assert.match(await frame.getByTestId('report-pass-rate').innerText(), /80\.0%/, 'passed of passed and failed: 80 of 100');
  assert.match(await frame.getByTestId('report-gate-refused').innerText(), /5/);
  // A refusal reads as the agent was told, with no verification outcome of its own.
  const refused = report.locator('tbody tr', { hasText: 'Gated transition refused' }).first();
  assert.match(await refused.innerText(), /No passed identity verification of Employee 0 in the last 30 minutes/);
  assert.doesNotMatch(await refused.innerText(), /Link sent|Passed/);

  // Paging: 50 rows, the next page, back.
  const rows = () => report.locator('tbody tr').count();
  assert.equal(await rows(), 50);
  await frame.getByTestId('report-next').click();
  await frame.locator('[data-testid="report-page"]', { hasText: 'Page 2' }).waitFor();
  assert.equal(await rows(), 50);
  await frame.getByTestId('report-previous').click();
  await frame.locator('[data-testid="report-page"]', { hasText: 'Page 1' }).waitFor();

  // One project, manual reviews only.
  await choose(frame, 'report-project', 'IT');
  await choose(frame, 'report-outcome', 'Pending review');
  await frame.getByTestId('report-apply').click();
  await frame.locator('[data-testid="report-manual-reviews"]', { hasText: '10' }).waitFor();
  await settled(page, frame, 300);
  const shown = await report.locator('tbody tr').allInnerTexts();
  assert.ok(shown.length > 0 && shown.every((r) => r.includes('IT-') && r.includes('Pending review')), shown.join('\n'));
  // The detail in words (the entries store Incode's event, `pendingReview`).
  assert.ok(
    shown.every((r) => r.includes('Sent to manual review') && !r.includes('pendingReview')),
    shown.join('\n'),
  );

  // An edit not yet applied changes neither the list nor the export.
  await choose(frame, 'report-outcome', 'Any outcome');
  const [download] = await Promise.all([frame.page().waitForEvent('download'), frame.getByTestId('report-export').click()]);
  const file = await download.path();
  const csv = fs.readFileSync(file, 'utf8');
  assert.ok(csv.startsWith('\uFEFFTime (UTC),'), 'a byte order mark, so spreadsheets read UTF-8');
  const lines = csv.split('\r\n').filter(Boolean);
  assert.equal(lines.length - 1, shown.length, 'the export holds exactly the rows the filter shows');
  assert.ok(
    lines.slice(1).every((l) => l.includes(',manualReview,IT-') && l.includes(',Sent to manual review,')),
    csv,
  );

  // Back to everything, for the picture an auditor sees first.
  await choose(frame, 'report-project', 'Any project');
  await choose(frame, 'report-outcome', 'Any outcome');
  await frame.getByTestId('report-apply').click();
  await frame.locator('[data-testid="report-verifications"]', { hasText: '120' }).waitFor();
  await settled(page, frame, 300);
  await shoot(report, 'admin--report');
  await page.context().close();
});
