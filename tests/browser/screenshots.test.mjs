// Every state of the app's pages on the local host, in the light and the dark theme, written to
// tests/artifacts/screenshots/browser/ (<page>--<state>--<theme>.png): the issue panel from
// "Setup required" through form, dialog, countdown, in progress, passed, failed, manual review,
// expired, cancelled, errors and history; the settings page's sections with validation errors,
// a failed test and the Connected badge; the portal panel; the shell. Each shot first checks what
// a person would see in it, and that the page is in the theme asked for.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCOUNTS,
  MODULES,
  SANDBOX_CREDENTIALS,
  actAsEmployee,
  adminFrame,
  configureSite,
  contrast,
  launchBrowser,
  gotoIssue,
  latestSession,
  luminance,
  modalClosed,
  modalFrame,
  newRequest,
  openShell,
  panelFrame,
  panelSection,
  portalFrame,
  sendFromPanel,
  settled,
  shoot,
  startSite,
  waitForStatus,
} from './helpers.mjs';

const THEMES = ['light', 'dark'];
let host;
let browser;

before(async () => {
  host = await startSite();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await host?.stop();
});

/** Summaries of the requests each theme works on, as a help desk would see them in the queue. */
const SUMMARIES = {
  light: {
    main: 'Locked out after a phone change',
    failed: 'MFA reset for a new phone',
    manualReview: 'New starter cannot sign in',
    never: 'Password reset for a shared mailbox',
    unknown: 'Admin account locked',
    limits: 'VPN token reset',
    portal: 'Cannot reach email on the road',
  },
  dark: {
    main: 'Password expired while travelling',
    failed: 'Authenticator app moved to a new phone',
    manualReview: 'Contractor cannot sign in',
    never: 'Reset for a locked laptop',
    unknown: 'Service account locked',
    limits: 'Badge and VPN reset',
    portal: 'Laptop stolen, need access',
  },
};

/** Checks the frame is in `theme` with readable text, then shoots `target` as `name--theme`. */
async function capture(page, frame, target, name, theme) {
  await settled(page, frame);
  const colours = await frame.evaluate(() => ({
    mode: document.documentElement.dataset.colorMode,
    bg: getComputedStyle(document.body).backgroundColor,
    text: getComputedStyle(document.body).color,
  }));
  assert.equal(colours.mode, theme, `${name}: the page is in the ${theme} theme`);
  assert.ok(theme === 'dark' ? luminance(colours.bg) < 0.05 : luminance(colours.bg) > 0.8, `${name}: ${theme} background ${colours.bg}`);
  assert.ok(contrast(colours.bg, colours.text) >= 4.5, `${name}: readable text ${JSON.stringify(colours)}`);
  await shoot(target, `${name}--${theme}`);
}

/** The issue panel of `key` as `user`. */
async function openPanel(key, theme, user = ACCOUNTS.avery) {
  const page = await openShell(browser, host, { user, theme, hash: `#/issue/${key}` });
  return { page, frame: await panelFrame(page) };
}

let configured = false;
/** The tests after the first run on a configured site (also when run on their own). */
async function ensureConfigured() {
  if (configured) return;
  // The product's own comment templates (not the tests' shorter ones), as an admin first sees them.
  await configureSite(host, { portalEnabled: true, templates: undefined });
  configured = true;
}

const admin = (fn, payload = {}) => host.invokeResolver({ moduleKey: MODULES.admin, account: ACCOUNTS.alex, extension: {}, functionName: fn, payload });

test('before setup: the panel asks for setup, the settings page starts empty, errors show inline', async () => {
  // The two themes are independent here: both at once.
  await Promise.all(
    THEMES.map(async (theme) => {
      let { page, frame } = await openPanel('HELP-1', theme);
      await frame.getByTestId('setup-required').waitFor();
      await capture(page, frame, panelSection(page), 'panel--setup-required-agent', theme);
      await capture(page, frame, page, 'shell--issue-setup-required', theme);

      await page.locator('#user-switcher').selectOption(ACCOUNTS.alex);
      frame = await panelFrame(page);
      await frame.getByRole('button', { name: 'Open Incode Verification Settings' }).waitFor();
      await capture(page, frame, panelSection(page), 'panel--setup-required-admin', theme);

      await page.locator('#settings-link').click();
      frame = await adminFrame(page);
      await frame.getByTestId('checklist').waitFor();
      await capture(page, frame, page.locator('main#view'), 'admin--fresh', theme);
      await capture(page, frame, frame.getByTestId('checklist'), 'admin--checklist-fresh', theme);

      await frame.getByTestId('test-credentials').click();
      await frame.getByTestId('test-error').waitFor();
      assert.equal(await frame.getByTestId('test-error').getAttribute('data-error-code'), 'setup_required');
      await capture(page, frame, frame.getByTestId('section-credentials'), 'admin--test-before-saving', theme);

      await frame.locator('#field-linkExpiryMinutes').fill('99');
      await frame.locator('#field-limits-perTicketPerHour').fill('0');
      await frame.getByTestId('save-button').click();
      await frame.getByTestId('save-errors').waitFor();
      assert.match(await frame.getByTestId('save-errors').innerText(), /2 problems/);
      await capture(page, frame, frame.getByTestId('save-errors'), 'admin--validation-summary', theme);
      await capture(page, frame, frame.getByTestId('section-verification'), 'admin--validation-inline', theme);
      await capture(page, frame, frame.getByTestId('section-who'), 'admin--validation-inline-limits', theme);

      await page.locator('nav a[data-route="start"]').click();
      await page.getByTestId('guide-steps').waitFor();
      await page.waitForTimeout(200);
      await shoot(page, `shell--getting-started--${theme}`, { fullPage: true });
      await page.context().close();
    }),
  );
});

test('the settings page: a failing test with its reason, ✓ Connected, and every section', async () => {
  await ensureConfigured();
  for (const theme of THEMES) {
    const page = await openShell(browser, host, { user: ACCOUNTS.alex, theme, hash: `#/module/${MODULES.admin}` });
    const frame = await adminFrame(page);
    // Credentials that Incode refuses (saved as a secret the page never sees).
    assert.equal((await admin('admin.saveSettings', { clientSecret: 'not-the-secret' })).ok, true);
    await frame.getByTestId('test-credentials').click();
    await frame.getByTestId('test-error').waitFor();
    assert.equal(await frame.getByTestId('test-error').getAttribute('data-error-code'), 'bad_credentials');
    await capture(page, frame, frame.getByTestId('section-credentials'), 'admin--test-failed', theme);

    assert.equal((await admin('admin.saveSettings', { clientSecret: SANDBOX_CREDENTIALS.clientSecret })).ok, true);
    await frame.getByTestId('test-credentials').click();
    await frame.getByTestId('connected').waitFor();
    assert.match(await frame.getByTestId('connected').innerText(), /✓ Connected/);
    assert.equal(await frame.getByTestId('test-error').count(), 0);
    await capture(page, frame, frame.getByTestId('section-credentials'), 'admin--connected', theme);
    await frame.getByLabel('Employee email').fill('casey@');
    await frame.getByTestId('send-test').click();
    await frame.getByText('Enter the corporate email of an enrolled employee.').waitFor();
    await capture(page, frame, frame.getByTestId('section-credentials'), 'admin--send-test-invalid', theme);
    for (const section of ['verification', 'who', 'transitions', 'templates', 'webhook', 'portal']) {
      await capture(page, frame, frame.getByTestId(`section-${section}`), `admin--section-${section}`, theme);
    }
    await frame.getByTestId('preview-passed').getByText('Verification passed').waitFor();
    await capture(page, frame, frame.getByTestId('template-passed'), 'admin--template-passed', theme);
    const template = frame.locator('#field-templates-failed');
    await template.fill('Verification {{#if name}}failed for {{name}}');
    await frame.getByTestId('preview-errors-failed').waitFor();
    await capture(page, frame, frame.getByTestId('template-failed'), 'admin--template-error', theme);
    await template.press('Tab');
    // Unsaved changes: the save bar floats at the bottom of what is in view.
    await page.evaluate(() => window.scrollTo(0, 0));
    await frame.locator('.save-bar.floating').waitFor();
    await capture(page, frame, page, 'admin--save-bar-floating', theme);
    await frame.locator('#field-transitions-passed').scrollIntoViewIfNeeded();
    await frame.locator('#field-transitions-passed').click();
    await frame.getByText('IT Help Desk workflow (service project)').waitFor();
    // The whole view: the open menu reaches past the section.
    await capture(page, frame, page, 'admin--transitions-menu', theme);
    await frame.locator('#field-transitions-passed').press('Escape');
    await page.context().close();
  }
});

test('the issue panel through a verification: form, dialog, sent, in progress, passed, failed, manual review', async () => {
  await ensureConfigured();
  // The two themes are independent here: both at once.
  await Promise.all(
    THEMES.map(async (theme) => {
      const key = newRequest(host, SUMMARIES[theme].main);
      const { page, frame } = await openPanel(key, theme);
      await frame.getByTestId('send-form').waitFor();
      await capture(page, frame, panelSection(page), 'panel--form', theme);

      await frame.getByRole('radio', { name: 'SMS', exact: true }).check();
      await frame.getByLabel('Mobile phone (optional)').fill('555 0101');
      await frame.getByRole('textbox', { name: /^Corporate email/ }).fill('casey@');
      await frame.getByTestId('send-button').click();
      await frame.locator('#field-email-error').waitFor();
      await frame.locator('#field-phone-error').waitFor();
      await capture(page, frame, panelSection(page), 'panel--form-invalid', theme);

      await frame.getByRole('textbox', { name: /^Corporate email/ }).fill('casey@example.test');
      await frame.getByRole('radio', { name: 'Email', exact: true }).check();
      await frame.getByRole('radio', { name: 'An alternate address' }).check();
      await frame.getByLabel('Alternate email').fill('casey.home@example.test');
      await capture(page, frame, panelSection(page), 'panel--form-alternate', theme);
      await frame.getByRole('radio', { name: /^Corporate email/ }).check();

      // The confirmation is the platform's modal, over the whole page.
      await frame.getByTestId('send-button').click();
      let modal = await modalFrame(page);
      await modal.getByTestId('send-dialog').waitFor();
      await capture(page, modal, page, 'panel--dialog', theme);
      await modal.getByTestId('send-dialog-confirm').click();
      await modalClosed(page);
      await waitForStatus(frame, 'requested');
      assert.match(await frame.getByTestId('verification-countdown').innerText(), /expires in (10:00|9:\d\d)/);
      await capture(page, frame, panelSection(page), 'panel--sent', theme);

      const session = latestSession(host, key);
      const employee = await page.context().newPage();
      await employee.goto(`${host.url}/incode/session/${session.id}`);
      await waitForStatus(frame, 'inProgress');
      await capture(page, frame, panelSection(page), 'panel--in-progress', theme);
      if (theme === 'light') await shoot(employee, 'sandbox--employee-page--light');
      await employee.getByRole('button', { name: 'Complete verification (pass)' }).click();
      await employee.getByRole('heading', { name: 'Identity verified' }).waitFor();
      if (theme === 'light') await shoot(employee, 'sandbox--employee-done--light');
      await employee.close();
      await waitForStatus(frame, 'passed');
      await capture(page, frame, panelSection(page), 'panel--passed', theme);
      const comment = page.locator('#comment-list .comment', { hasText: 'Verification passed' });
      await comment.waitFor({ timeout: 8_000 });
      assert.match(await comment.innerText(), /Employee: Casey Customer \(casey@example\.test\)/);
      await capture(page, frame, page, 'shell--issue-passed', theme);

      for (const [button, status, name] of [
        ['Fail the face match', 'failed', 'panel--failed'],
        ['Send to manual review', 'manualReview', 'panel--manual-review'],
      ]) {
        const other = newRequest(host, SUMMARIES[theme][status]);
        const next = await gotoIssue(page, other);
        await sendFromPanel(next, { delivery: 'SMS' });
        await waitForStatus(next, 'requested');
        await actAsEmployee(page.context(), host, latestSession(host, other), button);
        await waitForStatus(next, status);
        await capture(page, next, panelSection(page), name, theme);
      }
      await page.context().close();
    }),
  );
});

/** Per theme, the page and the ticket with a full history, for the site-wide error states after. */
const historyPages = {};

test('the issue panel: expired, a new link, cancelled, history, an unknown employee', async () => {
  await ensureConfigured();
  // The two themes are independent here: both at once.
  await Promise.all(
    THEMES.map(async (theme) => {
      // A link the employee never opened, past its expiry.
      const key = newRequest(host, SUMMARIES[theme].never);
      let { page, frame } = await openPanel(key, theme);
      await sendFromPanel(frame, { delivery: 'EMAIL' });
      await waitForStatus(frame, 'requested');
      const session = latestSession(host, key);
      const stored = host.kvs.get(`v:${session.id}`);
      host.kvs.set(`v:${session.id}`, { ...stored, expiresAtMs: Date.now() - 1000 }, { ttlMs: 86_400_000 });
      await page.reload();
      frame = await panelFrame(page);
      await waitForStatus(frame, 'expired');
      await capture(page, frame, panelSection(page), 'panel--expired', theme);

      // A new link for the same person; then it is cancelled: the history keeps all of them.
      // A new link for the same person: the expired one stays in the history, replaced (a result
      // Incode still reports for it no longer counts).
      await frame.getByTestId('new-verification-button').click();
      await frame.getByTestId('send-button').click();
      let modal = await modalFrame(page);
      await modal.getByTestId('send-dialog').waitFor();
      await modal.getByTestId('send-dialog-confirm').click();
      await modalClosed(page);
      await waitForStatus(frame, 'requested');
      // Resent: the link it replaces is listed as replaced.
      await frame.getByTestId('resend-button').click();
      modal = await modalFrame(page);
      await modal.getByTestId('send-dialog').waitFor();
      await capture(page, modal, page, 'panel--resend-dialog', theme);
      await modal.getByTestId('send-dialog-confirm').click();
      await modalClosed(page);
      await frame.getByTestId('verification-history').getByText('Replaced by a new link').nth(1).waitFor();
      await waitForStatus(frame, 'requested');
      await frame.getByTestId('cancel-button').click();
      modal = await modalFrame(page);
      await modal.getByTestId('cancel-dialog').waitFor();
      await capture(page, modal, page, 'panel--cancel-dialog', theme);
      await modal.getByTestId('cancel-dialog-confirm').click();
      await modalClosed(page);
      await waitForStatus(frame, 'cancelled');
      await capture(page, frame, panelSection(page), 'panel--cancelled', theme);
      await frame.getByTestId('new-verification-button').click();
      await sendFromPanel(frame, { delivery: 'SMS', phone: '+44 20 7946 0155' });
      await waitForStatus(frame, 'requested');
      await actAsEmployee(page.context(), host, latestSession(host, key), 'Complete verification (pass)');
      await waitForStatus(frame, 'passed');
      const rows = frame.getByTestId('verification-history').locator('tbody tr');
      await rows.nth(1).waitFor();
      assert.equal(await rows.count(), 3, 'the history lists the earlier links (the expired one and the resent one replaced, the cancelled one)');
      await capture(page, frame, panelSection(page), 'panel--history', theme);

      // Incode does not know the employee.
      const unknown = newRequest(host, SUMMARIES[theme].unknown, ACCOUNTS.alex);
      const other = await openPanel(unknown, theme);
      await sendFromPanel(other.frame, { email: 'alex@example.test', delivery: 'EMAIL' });
      await other.frame.locator('#field-email-error').waitFor();
      await capture(other.page, other.frame, panelSection(other.page), 'panel--employee-not-found', theme);
      await other.page.context().close();
      historyPages[theme] = { page, key };
    }),
  );
});

test('the issue panel when the site says no: hourly limit, storage failure, outside the agent groups', async () => {
  await ensureConfigured();
  const pages = await Promise.all(
    THEMES.map(async (theme) => {
      if (historyPages[theme]) return { theme, ...historyPages[theme] };
      const key = newRequest(host, SUMMARIES[theme].limits);
      const opened = await openPanel(key, theme);
      for (let i = 0; i < 3; i++) {
        await sendFromPanel(opened.frame, { delivery: 'EMAIL' });
        await waitForStatus(opened.frame, 'requested');
        await opened.frame.getByTestId('cancel-button').click();
        const modal = await modalFrame(opened.page);
        await modal.getByTestId('cancel-dialog-confirm').click();
        await modalClosed(opened.page);
        await waitForStatus(opened.frame, 'cancelled');
        await opened.frame.getByTestId('new-verification-button').click();
      }
      return { theme, page: opened.page, key };
    }),
  );
  const each = (fn) => Promise.all(pages.map(fn));

  // Three links on these tickets in the hour: with a limit of three, the panel says why it cannot send.
  assert.equal((await admin('admin.saveSettings', { limits: { perTicketPerHour: 3, perAgentPerHour: 50 } })).ok, true);
  await each(async ({ theme, page }) => {
    await page.reload();
    const frame = await panelFrame(page);
    await frame.getByTestId('cannot-send').waitFor();
    assert.match(await frame.getByTestId('cannot-send').innerText(), /reached its limit of 3 verification links per hour/);
    await capture(page, frame, panelSection(page), 'panel--limit-reached', theme);
  });
  assert.equal((await admin('admin.saveSettings', { limits: { perTicketPerHour: 5, perAgentPerHour: 50 } })).ok, true);

  // The app's storage fails: the panel says so and offers to try again.
  const fault = host.faults.add({ target: 'kvs', status: 500, times: Infinity });
  await each(async ({ theme, page }) => {
    const frame = await gotoIssue(page, 'HELP-2');
    await frame.getByTestId('error-notice').waitFor();
    assert.match(await frame.getByTestId('error-notice').innerText(), /Could not load identity verification/);
    await capture(page, frame, panelSection(page), 'panel--load-error', theme);
  });
  fault.remove();
  await each(async ({ page }) => {
    const frame = await panelFrame(page);
    await frame.getByRole('button', { name: 'Try again' }).click();
    await frame.getByTestId('send-form').waitFor();
  });

  // Someone outside the agent groups the admin chose sees the verifications, read-only, and why.
  assert.equal((await admin('admin.saveSettings', { agentGroups: ['helpdesk-agents'] })).ok, true);
  await each(async ({ theme, page }) => {
    await page.locator('#user-switcher').selectOption(ACCOUNTS.alex);
    const frame = await panelFrame(page);
    await frame.getByTestId('cannot-send').waitFor();
    assert.match(await frame.getByTestId('cannot-send').innerText(), /Only members of helpdesk-agents can send verification links/);
    assert.equal(await frame.getByTestId('error-notice').count(), 0);
    await capture(page, frame, panelSection(page), 'panel--outside-agent-groups', theme);
  });
  assert.equal((await admin('admin.saveSettings', { agentGroups: [] })).ok, true);
  await each(({ page }) => page.context().close());
});

test('the portal panel, the deliveries table and the sandbox inbox', async () => {
  await ensureConfigured();
  // The two themes are independent here: both at once.
  await Promise.all(
    THEMES.map(async (theme) => {
      const key = newRequest(host, SUMMARIES[theme].portal);
      const agent = await openPanel(key, theme);
      await sendFromPanel(agent.frame, { delivery: 'SMS' });
      await waitForStatus(agent.frame, 'requested');
      await agent.page.context().close();

      const page = await openShell(browser, host, { user: ACCOUNTS.casey, theme, hash: `#/issue/${key}` });
      const frame = await portalFrame(page);
      await frame.getByTestId('portal-pending').waitFor();
      await capture(page, frame, page.locator(`section.app-panel[data-module="${MODULES.portal}"]`), 'portal--pending', theme);
      await capture(page, frame, page, 'shell--portal', theme);
      await page.context().close();

      const settings = await openShell(browser, host, { user: ACCOUNTS.alex, theme, hash: `#/module/${MODULES.admin}` });
      const adminPage = await adminFrame(settings);
      const deliveries = adminPage.getByTestId('deliveries');
      await deliveries.getByText('SESSION_SUCCEEDED').first().waitFor();
      await capture(settings, adminPage, deliveries, 'admin--deliveries', theme);
      await capture(settings, adminPage, adminPage.getByTestId('checklist'), 'admin--checklist-done', theme);
      assert.equal(await adminPage.locator('[data-testid^="checklist-"][data-done="false"]').count(), 0, 'every setup step done');
      await settings.context().close();
    }),
  );
  const inbox = await (await browser.newContext({ viewport: { width: 480, height: 900 } })).newPage();
  await inbox.goto(`${host.url}/incode/`);
  await inbox.getByRole('heading', { name: 'Sent verification links' }).waitFor();
  assert.ok((await inbox.getByRole('link', { name: 'Open verification link' }).count()) > 0);
  await shoot(inbox, 'sandbox--inbox--light', { fullPage: false });
  await inbox.context().close();
});
