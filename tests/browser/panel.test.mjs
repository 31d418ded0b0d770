// The issue panel as a new help-desk agent meets it: the confirmation in the platform's modal over
// the whole page, the verification shown read-only to an agent outside the agent groups, one name
// per state (panel, history, the issue view), times in the viewer's zone, replaced links named so,
// one way to verify again, a reviewer's rejection said in the comment, a directory miss said once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCOUNTS,
  MODULES,
  actAsEmployee,
  adfText,
  configureSite,
  jiraComments,
  launchBrowser,
  latestSession,
  modalClosed,
  modalFrame,
  newRequest,
  openIssue,
  panelFrame,
  sendFromPanel,
  settled,
  shoot,
  startSite,
  waitForStatus,
} from './helpers.mjs';

let host;
let browser;

before(async () => {
  host = await startSite();
  await configureSite(host, { templates: undefined });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await host?.stop();
});

const admin = (fn, payload = {}) => host.invokeResolver({ moduleKey: MODULES.admin, account: ACCOUNTS.alex, extension: {}, functionName: fn, payload });

/** Confirms the dialog the panel opened (Send or Cancel verification). */
async function confirm(page, testId) {
  const modal = await modalFrame(page);
  await modal.getByTestId(`${testId}-confirm`).click();
  await modalClosed(page);
}

test('the confirmation is the platform modal over the whole page; the panel keeps its size', async () => {
  const key = newRequest(host, 'Confirmation over the page');
  const { page, frame } = await openIssue(browser, host, key);
  await frame.getByTestId('send-form').waitFor();
  await settled(page, frame);
  const panelBefore = await (await frame.frameElement()).boundingBox();

  await frame.getByTestId('send-button').click();
  const modal = await modalFrame(page);
  await modal.getByTestId('send-dialog').waitFor();
  const blanket = await page.getByTestId('forge-modal-blanket').boundingBox();
  assert.deepEqual([blanket.x, blanket.y, blanket.width, blanket.height], [0, 0, 1280, 900], 'the blanket covers the whole page');
  assert.equal(await frame.locator('[role="dialog"]').count(), 0, 'nothing is drawn inside the panel');
  assert.equal((await page.getByTestId('forge-modal').boundingBox()).width, 400, 'a small modal');
  assert.equal(await modal.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'the dialog fits its frame');
  await page.waitForTimeout(300);
  const panelOpen = await (await frame.frameElement()).boundingBox();
  assert.equal(panelOpen.height, panelBefore.height, 'the panel does not grow while the dialog is open');
  assert.match(await modal.getByTestId('send-dialog').innerText(), /Send an Incode verification link to casey@example\.test by/);
  // The rest of the page is out of reach.
  assert.equal(await page.evaluate(() => document.getElementById('view').closest('[inert]') !== null), true);
  await shoot(page, 'shell--send-dialog--light');

  // Escape dismisses it: nothing sent, focus back on the button that opened it.
  await page.keyboard.press('Escape');
  await modalClosed(page);
  await frame.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'send-button');
  assert.equal(host.incode.outbox.length, 0);

  await frame.getByTestId('send-button').click();
  await confirm(page, 'send-dialog');
  await waitForStatus(frame, 'requested');
  await page.context().close();
});

test('a link to another address than the person on the ticket’s is confirmed with a warning, Cancel focused', async () => {
  const key = newRequest(host, 'The caller gives another address');
  const { page, frame } = await openIssue(browser, host, key);
  await frame.getByTestId('send-form').waitFor();
  await frame.getByRole('textbox', { name: /^Corporate email/ }).fill('drew@example.test');
  await frame.getByTestId('send-button').click();
  const modal = await modalFrame(page);
  const warning = modal.getByTestId('send-dialog-warning');
  await warning.waitFor();
  assert.equal(
    await warning.innerText(),
    'Casey Customer, the person on this ticket, has the email casey@example.test. A pass of this link verifies whoever uses drew@example.test, not them, and a transition gated on the person’s verification will not count it.',
  );
  await modal.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'send-dialog-cancel');
  assert.equal(await modal.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'the warning fits the dialog');
  await page.waitForTimeout(300);
  await shoot(page, 'shell--send-dialog-other-person--light');
  // Enter on the focused Cancel sends nothing.
  await page.keyboard.press('Enter');
  await modalClosed(page);
  assert.equal(host.incode.outbox.filter((m) => m.to === 'drew@example.test').length, 0);
  // The person's own address, in another case: no warning.
  await frame.getByRole('textbox', { name: /^Corporate email/ }).fill('Casey@Example.test');
  await frame.getByTestId('send-button').click();
  await (await modalFrame(page)).getByTestId('send-dialog').waitFor();
  assert.equal(await (await modalFrame(page)).getByTestId('send-dialog-warning').count(), 0);
  await page.keyboard.press('Escape');
  await modalClosed(page);
  await page.context().close();
});

test('an agent outside the agent groups sees the verification and its history, read-only', async () => {
  const key = newRequest(host, 'Outside the agent groups');
  const { page, frame } = await openIssue(browser, host, key);
  await sendFromPanel(frame, { delivery: 'EMAIL' });
  await waitForStatus(frame, 'requested');
  await frame.getByTestId('resend-button').click();
  await confirm(page, 'send-dialog');
  await frame.getByTestId('verification-history').waitFor();
  await actAsEmployee(page.context(), host, latestSession(host, key), 'Complete verification (pass)');
  await waitForStatus(frame, 'passed');

  assert.equal((await admin('admin.saveSettings', { agentGroups: ['helpdesk-agents'] })).ok, true);
  try {
    await page.locator('#user-switcher').selectOption(ACCOUNTS.alex);
    const seen = await panelFrame(page);
    await waitForStatus(seen, 'passed');
    assert.equal(await seen.getByTestId('error-notice').count(), 0, 'no error');
    assert.match(await seen.getByTestId('cannot-send').innerText(), /Only members of helpdesk-agents can send verification links/);
    assert.equal(await seen.getByTestId('verification-history').locator('tbody tr').count(), 1, 'the history too');
    for (const id of ['send-form', 'resend-button', 'cancel-button', 'new-verification-button']) {
      assert.equal(await seen.getByTestId(id).count(), 0, `no ${id}`);
    }
    await settled(page, seen);
    await shoot(page.locator(`section.app-panel[data-module="${MODULES.panel}"]`), 'panel--outside-agent-groups--light');
  } finally {
    assert.equal((await admin('admin.saveSettings', { agentGroups: [] })).ok, true);
  }
  await page.context().close();
});

test('replaced links say so, an ended link offers one way to verify again', async () => {
  const key = newRequest(host, 'Resent twice');
  const { page, frame } = await openIssue(browser, host, key);
  await sendFromPanel(frame, { delivery: 'EMAIL' });
  await waitForStatus(frame, 'requested');
  const rows = frame.getByTestId('verification-history').locator('tbody tr');
  for (let i = 0; i < 2; i++) {
    await frame.getByTestId('resend-button').click();
    await confirm(page, 'send-dialog');
    await rows.nth(i).waitFor();
  }
  assert.equal(await rows.count(), 2);
  for (const row of await rows.all()) {
    const text = await row.innerText();
    assert.match(text, /Replaced by a new link/);
    assert.doesNotMatch(text, /Cancelled/);
  }

  await frame.getByTestId('cancel-button').click();
  await confirm(page, 'cancel-dialog');
  await waitForStatus(frame, 'cancelled');
  assert.equal(await frame.getByTestId('resend-button').count(), 0, 'no second action for the same intent');
  await frame.getByTestId('new-verification-button').click();
  assert.equal(await frame.getByRole('textbox', { name: /^Corporate email/ }).inputValue(), 'casey@example.test');
  assert.equal(await frame.getByRole('radio', { name: 'Email', exact: true }).isChecked(), true, 'the same channel');
  await page.context().close();
});

test('a resend that could not cancel the earlier link, held by an Incode event, says so above the new link', async () => {
  const key = newRequest(host, 'Resent while Incode reports');
  const { page, frame } = await openIssue(browser, host, key);
  await sendFromPanel(frame, { delivery: 'EMAIL' });
  await waitForStatus(frame, 'requested');
  const earlier = latestSession(host, key);
  // A webhook of the earlier link holds its lock for longer than a send waits (4 s).
  host.kvs.seedEntity('lock', [
    [`lock:${earlier.id}`, { owner: 'a-webhook', untilMs: Date.now() + 60_000, eventKey: 'started', careful: false, inflight: [] }],
  ]);
  await frame.getByTestId('resend-button').click();
  await confirm(page, 'send-dialog');
  const notice = frame.getByTestId('send-notice');
  await notice.waitFor({ timeout: 15_000 });
  assert.match(
    await notice.innerText(),
    /^The earlier link is still open\s+The link sent before this one could not be cancelled: Incode was reporting on it at that moment\. It stays open until \d{1,2}:\d{2} UTC, and a result from it is still recorded on this ticket\.$/,
  );
  await waitForStatus(frame, 'requested');
  assert.notEqual(latestSession(host, key).id, earlier.id, 'the new link is the current one');
  const row = frame.getByTestId('verification-history').locator('tbody tr').first();
  assert.doesNotMatch(await row.innerText(), /Replaced by a new link/, 'the earlier link is not shown as replaced');
  await settled(page, frame);
  await shoot(page, 'shell--send-notice--light');

  // The next action clears it.
  await frame.getByTestId('cancel-button').click();
  await confirm(page, 'cancel-dialog');
  await waitForStatus(frame, 'cancelled');
  assert.equal(await frame.getByTestId('send-notice').count(), 0);
  await page.context().close();
});

test('one name per state in the panel and the issue view, times in the viewer’s zone; a reviewer’s rejection is said', async () => {
  const key = newRequest(host, 'Pending a reviewer');
  const { page, frame } = await openIssue(browser, host, key);
  await sendFromPanel(frame, { delivery: 'EMAIL' });
  await waitForStatus(frame, 'requested');
  await actAsEmployee(page.context(), host, latestSession(host, key), 'Send to manual review');
  await waitForStatus(frame, 'manualReview');

  const card = await frame.getByTestId('verification-status').innerText();
  assert.match(card, /Pending review/);
  assert.doesNotMatch(card, /Manual review|Pending Review -|manualReview/);
  // The shell's user is in Europe/London: absolute times carry the zone.
  assert.match(card, /\d{4}, \d{2}:\d{2} GMT/);
  const sidebar = page.locator('#verification-field');
  await sidebar.filter({ hasText: 'Pending review' }).waitFor();
  assert.doesNotMatch(await sidebar.innerText(), /manualReview/);
  assert.match(await sidebar.innerText(), /GMT/);
  const commentTime = page.locator('#comment-list .comment time').first();
  await commentTime.waitFor();
  assert.match(await commentTime.innerText(), /GMT$/);

  await actAsEmployee(page.context(), host, latestSession(host, key), 'Reject review');
  await waitForStatus(frame, 'failed');
  const rejected = (await jiraComments(host, key)).map((c) => adfText(c.body)).find((t) => /Verification failed/.test(t));
  assert.ok(rejected, 'a failure comment');
  assert.match(rejected, /^A reviewer rejected this verification in Incode's manual review\./);
  assert.equal(rejected.match(/do not proceed/gi).length, 1, 'says it once');
  await page.context().close();
});

test('an employee Incode does not know is said once, under the email, with what to do', async () => {
  const key = newRequest(host, 'Not in the directory', ACCOUNTS.alex);
  const { page, frame } = await openIssue(browser, host, key);
  await sendFromPanel(frame, { email: 'alex@example.test', delivery: 'EMAIL' });
  await frame.locator('#field-email-error').waitFor();
  const text = await frame.locator('main').innerText();
  assert.equal(text.match(/not in your Incode employee directory/g)?.length, 1, text);
  assert.match(await frame.locator('#field-email-error').innerText(), /not in your Incode employee directory\. Check the address/);
  assert.equal(await frame.getByTestId('send-error').count(), 0, 'no banner saying it again');
  await page.context().close();
});
