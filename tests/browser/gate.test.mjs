// The workflow gate "Identity verified" in the browser, as an agent meets it on the local site: a
// password reset cannot be resolved before the employee passed a verification (Jira shows the
// gate's message), goes through once they passed on the Incode sandbox, and is refused again 31
// minutes later (the host's manual clock); a verification of someone else, or a person with Edit
// Issues writing the old property or the field, opens nothing. The app's read-only field
// "Identity verification" shows on the issue and JQL finds it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createManualClock } from '../../dev/host/clock.mjs';
import {
  ACCOUNTS,
  actAsEmployee,
  configureSite,
  jiraStatus,
  launchBrowser,
  latestSession,
  newRequest,
  openIssue,
  sendFromPanel,
  shoot,
  startSite,
  waitForStatus,
} from './helpers.mjs';

const WORKFLOW = 'IT Help Desk workflow';
const NO_PASS = 'No passed identity verification of Casey Customer in the last 30 minutes: send one from the Identity verification panel.';
// The site's clock starts now (the panel in the browser counts down in real time) and jumps forward when told.
const clock = createManualClock(Math.floor(Date.now() / 1000) * 1000);
/** `2026-12-06 10:04:31`: an instant as the app's status text writes it (UTC). */
const utc = (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
let host;
let browser;
let passed;

before(async () => {
  host = await startSite({ now: clock });
  // No automatic transition on a pass: the agent resolves the request by hand, through the gate.
  await configureSite(host, { transitions: { passed: '', failed: '', manualReview: '' } });
  host.jira.workflows.addRule({
    workflow: WORKFLOW,
    transition: 'Resolve',
    type: 'validator',
    moduleKey: 'identity-verified',
    configuration: {},
    by: ACCOUNTS.alex,
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await host?.stop();
});

/** Presses a transition button in the issue view; resolves with the refusal Jira showed, or null once the status changed. */
async function pressTransition(page, name, to) {
  // A flag of an earlier refusal stays a few seconds: only a new one answers this press.
  await page.evaluate(() => document.querySelector('[data-flag-id="transition"]')?.remove());
  await page.locator('#status-row button', { hasText: name }).click();
  const flag = page.locator('[data-flag-id="transition"]');
  const moved = page.locator(`#status-row [aria-label="Status: ${to}"]`);
  await Promise.race([flag.waitFor({ timeout: 15_000 }), moved.waitFor({ timeout: 15_000 })]);
  if (await flag.count()) return (await flag.locator('span').innerText()).trim();
  return null;
}

const fieldOf = (page) => page.locator('#issue-details dt', { hasText: /^Identity verification$/ }).locator('xpath=following-sibling::dd[1]');

async function restAs(as, method, path, body, query = '') {
  const answer = await host.jira.handle({
    method,
    path,
    query,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    as: { kind: 'user', accountId: as },
  });
  return { status: answer.status, json: answer.body ? JSON.parse(answer.body) : null };
}

test('resolving a password reset: refused without a pass, allowed after one, refused again 31 minutes later', async () => {
  const key = newRequest(host, 'Password reset after a lockout');
  const { page, frame } = await openIssue(browser, host, key);
  assert.equal(await fieldOf(page).innerText(), '—', 'no verification yet');

  assert.equal(await pressTransition(page, 'Resolve', 'Resolved'), NO_PASS);
  await page.locator('#issue-details').scrollIntoViewIfNeeded();
  await shoot(page, 'gate--refused--light');
  assert.equal(await jiraStatus(host, key), 'Open');

  await sendFromPanel(frame, { delivery: 'EMAIL' });
  await waitForStatus(frame, 'requested');
  const session = latestSession(host, key);
  await actAsEmployee(page.context(), host, session, 'Complete verification (pass)');
  await waitForStatus(frame, 'passed', 12_000);
  // The issue view (it polls every 3 s) shows the app's field with the status and its time.
  passed = { key, text: `Success - ${utc(clock())} UTC` };
  await page.locator('#issue-details dd', { hasText: passed.text }).waitFor({ timeout: 8_000 });
  assert.equal(await fieldOf(page).innerText(), passed.text);
  const box = await page.locator('#issue-details').boundingBox();
  await shoot(page, 'gate--field-on-issue--light', { clip: { x: box.x - 16, y: box.y - 16, width: box.width + 32, height: box.height + 32 } });

  assert.equal(await pressTransition(page, 'Resolve', 'Resolved'), null);
  assert.equal(await jiraStatus(host, key), 'Resolved');

  // Reopened 31 minutes later: the pass is too old now.
  host.jira.issues.transition(key, 'Reopen', { by: ACCOUNTS.alex });
  clock.advance(31 * 60_000);
  await page.reload();
  await page.locator('#status-row [aria-label="Status: Open"]').waitFor();
  const stale = await pressTransition(page, 'Resolve', 'Resolved');
  assert.equal(
    stale,
    `No passed identity verification of Casey Customer in the last 30 minutes (the last check was completed at ${utc(clock() - 31 * 60_000)} UTC): send one from the Identity verification panel.`,
  );
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a verification of someone else, or a written property or field, does not open the gate', async () => {
  clock.advance(60_000);
  const key = newRequest(host, 'Password reset: the caller gave another address');
  const { page, frame } = await openIssue(browser, host, key);
  await sendFromPanel(frame, { email: 'drew@example.test', delivery: 'EMAIL' });
  await waitForStatus(frame, 'requested');
  await actAsEmployee(page.context(), host, latestSession(host, key), 'Complete verification (pass)');
  await waitForStatus(frame, 'passed', 12_000);
  assert.match(
    await pressTransition(page, 'Resolve', 'Resolved'),
    /^No passed identity verification of Casey Customer in the last 30 minutes \(the verification that passed on this request was of someone else\)/,
  );

  // An agent with Edit Issues writes the old issue property: Jira takes it, the gate ignores it.
  const property = await restAs(ACCOUNTS.avery, 'PUT', `/rest/api/3/issue/${key}/properties/incode-verification`, {
    status: 'passed',
    statusText: `Success - ${utc(clock())} UTC`,
  });
  assert.ok([200, 201].includes(property.status), JSON.stringify(property));
  // ... and tries the field through the issue edit: Jira refuses it (read-only, on no screen).
  const fieldId = host.jira.issues.get(key).appFields.find((f) => f.name === 'Identity verification').id;
  const edit = await restAs(ACCOUNTS.avery, 'PUT', `/rest/api/3/issue/${key}`, { fields: { [fieldId]: `Success - ${utc(clock())} UTC` } });
  assert.equal(edit.status, 400);
  assert.match(JSON.stringify(edit.json.errors), /cannot be set/);
  assert.match(await pressTransition(page, 'Resolve', 'Resolved'), /^No passed identity verification of Casey Customer/);
  assert.equal(await jiraStatus(host, key), 'Open');

  // JQL on the field finds the requests by the app's text, and the ones without a verification.
  const found = await restAs(
    ACCOUNTS.avery,
    'GET',
    '/rest/api/3/search/jql',
    undefined,
    `jql=${encodeURIComponent(`"Identity verification" = "${passed.text}"`)}&fields=summary`,
  );
  assert.equal(found.status, 200, JSON.stringify(found.json));
  assert.deepEqual(
    found.json.issues.map((i) => i.key),
    [passed.key],
  );
  const any = await restAs(
    ACCOUNTS.avery,
    'GET',
    '/rest/api/3/search/jql',
    undefined,
    `jql=${encodeURIComponent('project = HELP AND "Identity verification" IS NOT EMPTY')}&fields=summary`,
  );
  assert.ok(any.json.issues.some((i) => i.key === key));
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
