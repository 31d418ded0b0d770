// The "Identity verified" rule configured in the workflow editor, as a Jira admin does it on the
// local site: "Add rule" opens the rule's create page in the editor's dialog, a number of minutes
// out of range shows the error at the field and nothing is saved, 10 minutes with "one
// transition per verification" is saved through the page's onConfigure callback, the transition
// shows the summary (the view page), the edit page opens with the saved values, and the saved
// configuration governs the gate: a pass 11 minutes old is refused naming 10 minutes, and a
// verification opens one transition only.
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
  openShell,
  sendFromPanel,
  shoot,
  startSite,
  waitForStatus,
} from './helpers.mjs';

const WORKFLOW = 'IT Help Desk workflow';
const SUMMARY = 'Passed verification of the person on the ticket within the last 10 minutes; one transition per verification';
const clock = createManualClock(Math.floor(Date.now() / 1000) * 1000);
const utc = (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
let host;
let browser;

before(async () => {
  host = await startSite({ now: clock });
  await configureSite(host, { transitions: { passed: '', failed: '', manualReview: '' } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await host?.stop();
});

const validators = () => host.jira.workflows.rules(WORKFLOW, 'Resolve').validators;

/** The rule page in the editor's dialog, once drawn. */
async function dialogFrame(page, resource) {
  const handle = await page.waitForSelector(`[data-testid="rule-dialog"] iframe[src^="/app/${resource}/"]`);
  const frame = await handle.contentFrame();
  await frame.waitForSelector('#root[data-ready="true"]', { state: 'attached' });
  // Jira's button works once the page registered its onConfigure callback.
  await page.locator('[data-testid="rule-dialog-save"]:not([disabled])').waitFor();
  return frame;
}

/** Presses a transition button in the issue view; resolves with Jira's refusal, or null once the status changed. */
async function pressTransition(page, name, to) {
  await page.evaluate(() => document.querySelector('[data-flag-id="transition"]')?.remove());
  await page.locator('#status-row button', { hasText: name }).click();
  const flag = page.locator('[data-flag-id="transition"]');
  const moved = page.locator(`#status-row [aria-label="Status: ${to}"]`);
  await Promise.race([flag.waitFor({ timeout: 15_000 }), moved.waitFor({ timeout: 15_000 })]);
  if (await flag.count()) return (await flag.locator('span').innerText()).trim();
  return null;
}

/** A passed verification of the person on `key`, through the panel and the Incode sandbox. */
async function passVerification(page, frame, key) {
  const again = frame.getByTestId('new-verification-button');
  if (await again.count()) await again.click();
  await sendFromPanel(frame, { delivery: 'EMAIL' });
  await waitForStatus(frame, 'requested');
  await actAsEmployee(page.context(), host, latestSession(host, key), 'Complete verification (pass)');
  await waitForStatus(frame, 'passed', 12_000);
}

test('an admin adds "Identity verified" to Resolve through its create page; a bad value is not saved', async () => {
  const page = await openShell(browser, host, { user: ACCOUNTS.alex, hash: '#/workflow' });
  await page.locator('#rule-transition').waitFor();
  await page.selectOption('#rule-transition', { label: `${WORKFLOW} — Resolve` });
  await page.selectOption('#rule-module', 'identity-verified');
  assert.equal(await page.locator('#rule-configuration').isVisible(), false, 'a rule with a create page takes no JSON');
  await page.locator('button', { hasText: 'Add rule' }).click();
  const frame = await dialogFrame(page, 'gate-create');

  const minutes = frame.locator('#field-withinMinutes');
  assert.equal(await minutes.inputValue(), '30', 'the default');
  for (const bad of ['0', '100000']) {
    await minutes.fill(bad);
    const error = frame.locator('#field-withinMinutes-error');
    await error.waitFor();
    assert.equal((await error.innerText()).trim(), 'Enter a whole number of minutes from 1 to 1440.');
    await page.locator('[data-testid="rule-dialog-save"]').click();
    await page.locator('[data-testid="rule-dialog-save"]:not([disabled])').waitFor();
    assert.equal(await page.locator('[data-testid="rule-dialog"]').count(), 1, 'the dialog stays open');
    assert.deepEqual(validators(), [], `${bad} minutes is not saved`);
  }
  await shoot(page, 'gate-config--create-invalid--light');

  await minutes.fill('10');
  await frame.locator('#field-withinMinutes-error').waitFor({ state: 'detached' });
  await frame.locator('label[for="field-once"]').click();
  assert.equal(await frame.locator('#field-once').isChecked(), true);
  assert.equal(await frame.locator('#field-samePerson').isChecked(), true, 'the default');
  await shoot(page.locator('[data-testid="rule-dialog"]'), 'gate-config--create--light');
  await page.locator('[data-testid="rule-dialog-save"]').click();
  await page.locator('[data-testid="rule-dialog"]').waitFor({ state: 'detached' });

  const saved = validators();
  assert.equal(saved.length, 1);
  assert.deepEqual(JSON.parse(saved[0].configuration.value), { withinMinutes: 10, samePerson: true, once: true });

  // The transition shows the rule's view page: its summary.
  const view = await (await page.waitForSelector('[data-testid="rule-view-frame"]')).contentFrame();
  await view.waitForSelector('#root[data-ready="true"]', { state: 'attached' });
  assert.equal((await view.locator('[data-testid="gate-summary"]').innerText()).trim(), SUMMARY);
  const row = page.locator('.rules-table tr', { hasText: 'Resolve' }).first();
  await page.waitForFunction(() => document.querySelector('[data-testid="rule-view-frame"]')?.classList.contains('sized'));
  await shoot(row, 'gate-config--view--light');

  // Edit opens with the saved values.
  await row.locator('button', { hasText: 'Edit' }).click();
  const edit = await dialogFrame(page, 'gate-edit');
  assert.equal(await edit.locator('#field-withinMinutes').inputValue(), '10');
  assert.equal(await edit.locator('#field-once').isChecked(), true);
  assert.equal(await edit.locator('#field-samePerson').isChecked(), true);
  await shoot(page.locator('[data-testid="rule-dialog"]'), 'gate-config--edit--light');
  await page.locator('[data-testid="rule-dialog-cancel"]').click();
  await page.locator('[data-testid="rule-dialog"]').waitFor({ state: 'detached' });
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the rule pages follow the dark theme', async () => {
  const page = await openShell(browser, host, { user: ACCOUNTS.alex, hash: '#/workflow', theme: 'dark' });
  const row = page.locator('.rules-table tr', { hasText: 'Resolve' }).first();
  await row.locator('button', { hasText: 'Edit' }).click();
  const edit = await dialogFrame(page, 'gate-edit');
  assert.equal(await edit.evaluate(() => document.documentElement.dataset.colorMode), 'dark');
  await edit.locator('#field-withinMinutes').fill('0');
  await edit.locator('#field-withinMinutes-error').waitFor();
  await shoot(page.locator('[data-testid="rule-dialog"]'), 'gate-config--edit-invalid--dark');
  await page.locator('[data-testid="rule-dialog-cancel"]').click();
  assert.equal(JSON.parse(validators()[0].configuration.value).withinMinutes, 10, 'cancel keeps the saved value');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('only a Jira admin opens the workflow editor and its rule pages', async () => {
  const page = await openShell(browser, host, { user: ACCOUNTS.avery, hash: '#/workflow' });
  await page.locator('[role="alert"]', { hasText: "You don't have permission" }).waitFor();
  const answer = await page.evaluate(async (as) => {
    const response = await fetch(`/__host/workflow-rules/frame?as=${encodeURIComponent(as)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workflow: 'IT Help Desk workflow', transition: 'Resolve', entryPoint: 'create', moduleKey: 'identity-verified' }),
    });
    return response.status;
  }, ACCOUNTS.avery);
  assert.equal(answer, 403);
  await page.context().close();
});

test('the saved configuration governs the gate: 10 minutes, one transition per verification', async () => {
  const key = newRequest(host, 'Password reset: locked out after travel');
  const { page, frame } = await openIssue(browser, host, key);
  await passVerification(page, frame, key);
  const passedAt = clock();
  clock.advance(11 * 60_000);
  assert.equal(
    await pressTransition(page, 'Resolve', 'Resolved'),
    `No passed identity verification of Casey Customer in the last 10 minutes (the last check was completed at ${utc(passedAt)} UTC): send one from the Identity verification panel.`,
  );
  assert.equal(await jiraStatus(host, key), 'Open');

  // A fresh pass opens Resolve once; after a reopen the same verification opens nothing.
  await passVerification(page, frame, key);
  assert.equal(await pressTransition(page, 'Resolve', 'Resolved'), null);
  host.jira.issues.transition(key, 'Reopen', { by: ACCOUNTS.alex });
  await page.reload();
  await page.locator('#status-row [aria-label="Status: Open"]').waitFor();
  assert.equal(
    await pressTransition(page, 'Resolve', 'Resolved'),
    'The passed identity verification of Casey Customer was already used for another transition: send one from the Identity verification panel.',
  );
  assert.equal(await jiraStatus(host, key), 'Open');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
