// The agent's story in the browser ("How it works for agents"): send a link by email and by SMS
// from the issue panel, confirming each time; the employee completes, fails or goes to manual
// review on the Incode sandbox's page; the panel follows WITHOUT a reload (realtime), and the
// ticket gets its comment and its transition, in the shell's issue view and in Jira's REST API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCOUNTS,
  actAsEmployee,
  adfText,
  configureSite,
  jiraComments,
  jiraStatus,
  launchBrowser,
  latestSession,
  newRequest,
  openIssue,
  sendFromPanel,
  startSite,
  waitForStatus,
} from './helpers.mjs';

// The panel polls every 10 s; a result shown sooner came through realtime.
const LIVE_MS = 6_000;
let host;
let browser;

before(async () => {
  host = await startSite();
  await configureSite(host);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await host?.stop();
});

/**
 * Counts navigations of the shell and of every frame from now on, and marks the panel's document,
 * so a test can prove that what it saw next came without any reload.
 */
async function watchNavigations(page, frame) {
  const navigations = [];
  page.on('framenavigated', (f) => navigations.push(f.url()));
  await frame.evaluate(() => {
    window.__sameDocument = 'yes';
  });
  return {
    async assertNone() {
      assert.deepEqual(navigations, [], 'no page or frame navigated');
      assert.equal(await frame.evaluate(() => window.__sameDocument), 'yes', 'the panel is the same document');
    },
  };
}

/** The app's comments on the issue (Jira REST API), as plain text. */
async function appCommentTexts(key) {
  const comments = await jiraComments(host, key);
  return comments.filter((c) => c.author?.accountId === ACCOUNTS.app).map((c) => adfText(c.body).trim());
}

/** Waits until the shell's issue view (it polls every 3 s) shows `status` and a comment with `text`. */
async function shellShows(page, status, text) {
  await page.locator(`#status-row [aria-label="Status: ${status}"]`).waitFor({ timeout: 8_000 });
  await page.locator('#comment-list .comment', { hasText: text }).first().waitFor({ timeout: 8_000 });
  const author = await page.locator('#comment-list .comment', { hasText: text }).first().locator('header strong').innerText();
  assert.equal(author, 'Incode Identity Verification');
}

test('an email link: confirmed, sent with a countdown, opened, passed live; comment and transition on the ticket', async () => {
  const key = newRequest(host, 'Locked out after a phone change');
  const { page, frame } = await openIssue(browser, host, key);
  assert.equal(await frame.getByRole('textbox', { name: /^Corporate email/ }).inputValue(), 'casey@example.test', "the reporter's email is filled in");

  const question = await sendFromPanel(frame, { delivery: 'EMAIL' });
  assert.match(question, /Send an Incode verification link to casey@example\.test by email\? The link expires in 10 minutes\./);
  await waitForStatus(frame, 'requested');
  assert.match(await frame.getByTestId('verification-countdown').innerText(), /expires in (10:00|9:\d\d)/);
  const session = latestSession(host, key);
  assert.deepEqual(
    host.incode.outbox.filter((m) => m.sessionId === session.id).map((m) => [m.channel, m.to]),
    [['EMAIL', 'casey@example.test']],
  );
  assert.ok(host.bridge.openStreams > 0, 'the panel listens on its realtime channel');

  const watch = await watchNavigations(page, frame);
  // The employee opens the link from the email: the panel shows the check is under way.
  const employee = await page.context().newPage();
  await employee.goto(`${host.url}/incode/`);
  await employee.locator(`a[href="/incode/session/${session.id}"]`).first().click();
  await employee.getByRole('heading', { name: 'Verify your identity' }).waitFor();
  await waitForStatus(frame, 'inProgress', LIVE_MS);
  await employee.getByRole('button', { name: 'Complete verification (pass)' }).click();
  await employee.getByRole('heading', { name: 'Identity verified' }).waitFor();
  await waitForStatus(frame, 'passed', LIVE_MS);
  await watch.assertNone();

  const card = frame.getByTestId('verification-status');
  assert.match(await card.innerText(), /Identity confirmed — you may proceed/);
  // When it passed, in the agent's locale and zone (the shell's user is in Europe/London).
  assert.match(await frame.getByTestId('verification-updated').innerText(), /^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} GMT$/);
  assert.equal((await frame.getByTestId('identity-id').innerText()).trim(), session.identityId);
  // Announced to screen readers.
  await frame.waitForFunction(() => document.querySelector('[data-testid="live-region"]')?.textContent.includes('Verification status: Passed'));

  const texts = await appCommentTexts(key);
  assert.equal(texts.length, 1, 'exactly one comment');
  assert.match(texts[0], /^Identity verified for Casey Customer \(casey@example\.test\)\./);
  assert.ok(texts[0].includes(`Identity ID: ${session.identityId}`));
  assert.equal(await jiraStatus(host, key), 'In Progress');
  await shellShows(page, 'In Progress', 'Identity verified for Casey Customer');
  assert.match(await page.locator('#issue-details').innerText(), /Verification\s+Passed · /);
  // The queue follows the new status too.
  await page.locator(`#issue-list a[href="#/issue/${key}"]`, { hasText: 'In Progress' }).waitFor({ timeout: 8_000 });
  await employee.close();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('an SMS link to a typed phone, failed by the employee: failed live, escalated', async () => {
  const key = newRequest(host, 'MFA reset for a new phone');
  const { page, frame } = await openIssue(browser, host, key);
  const question = await sendFromPanel(frame, { delivery: 'SMS', phone: '+1 (202) 555-0141' });
  assert.match(question, /by SMS to \+12025550141\?/);
  await waitForStatus(frame, 'requested');
  const session = latestSession(host, key);
  assert.deepEqual(
    host.incode.outbox.filter((m) => m.sessionId === session.id).map((m) => [m.channel, m.to]),
    [['SMS', '+12025550141']],
  );

  const watch = await watchNavigations(page, frame);
  await actAsEmployee(page.context(), host, session, 'Fail the face match');
  await waitForStatus(frame, 'failed', LIVE_MS);
  await watch.assertNone();
  assert.match(await frame.getByTestId('verification-status').innerText(), /Do not proceed — escalate for review/);
  const texts = await appCommentTexts(key);
  assert.equal(texts.length, 1);
  assert.match(texts[0], /^Verification FAILED for Casey Customer/);
  assert.equal(await jiraStatus(host, key), 'Escalated');
  await shellShows(page, 'Escalated', 'Verification FAILED');
  await page.context().close();
});

test('manual review, then approved by a reviewer: each step live, one comment per outcome', async () => {
  const key = newRequest(host, 'New starter cannot sign in');
  const { page, frame } = await openIssue(browser, host, key);
  await sendFromPanel(frame, { delivery: 'EMAIL' });
  await waitForStatus(frame, 'requested');
  const session = latestSession(host, key);

  const watch = await watchNavigations(page, frame);
  await actAsEmployee(page.context(), host, session, 'Send to manual review');
  await waitForStatus(frame, 'manualReview', LIVE_MS);
  assert.match(await frame.getByTestId('verification-status').innerText(), /Pending review/);
  assert.equal(await jiraStatus(host, key), 'Pending');
  await shellShows(page, 'Pending', 'Manual review required for Casey Customer');

  await actAsEmployee(page.context(), host, session, 'Approve review');
  await waitForStatus(frame, 'passed', LIVE_MS);
  await watch.assertNone();
  const texts = await appCommentTexts(key);
  assert.equal(texts.length, 2, 'one comment for the review, one for the approval');
  assert.match(texts[0], /^Manual review required/);
  assert.match(texts[1], /^A reviewer approved this verification in Incode's manual review\.\nIdentity verified for Casey Customer/);
  assert.equal(await jiraStatus(host, key), 'In Progress');
  await shellShows(page, 'In Progress', 'Identity verified for Casey Customer');

  // A final result stays; another check starts from the form, and the history keeps both.
  await frame.getByTestId('new-verification-button').click();
  await sendFromPanel(frame, { delivery: 'EMAIL' });
  await waitForStatus(frame, 'requested');
  const history = frame.getByTestId('verification-history');
  await history.waitFor();
  assert.match(await history.innerText(), /Passed/);
  await page.context().close();
});

test('an employee missing from the Incode directory: the error is shown on the email field, nothing is sent', async () => {
  const key = newRequest(host, 'Admin account locked', ACCOUNTS.alex);
  const { page, frame } = await openIssue(browser, host, key);
  const sent = host.incode.outbox.length;
  await sendFromPanel(frame, { email: 'alex@example.test', delivery: 'EMAIL' });
  const onField = (await frame.locator('#field-email-error').innerText()).trim();
  assert.match(onField, /not in your Incode employee directory/);
  assert.equal(await frame.getByTestId('send-error').count(), 0, 'said once, under the field');
  assert.equal(host.incode.outbox.length, sent);
  assert.equal(await frame.getByTestId('verification-status').count(), 0);
  assert.deepEqual(await appCommentTexts(key), []);
  await page.context().close();
});
