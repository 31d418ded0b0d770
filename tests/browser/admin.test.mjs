// The admin's story in the browser (the JSM guide, steps 3 and 4): on a fresh site the panel says
// "Setup required"; the admin opens the settings page from the shell, is stopped by an inline
// validation error, enters the sandbox credentials, tests them (✓ Connected), sees a failing test
// with its reason, chooses transitions, a webhook secret and the portal, saves; then registers the
// webhook on the Incode sandbox's dashboard page, sends a test verification, and the checklist and
// the deliveries table show Incode reaching the app.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACCOUNTS, SANDBOX_CREDENTIALS, actAsEmployee, adminFrame, launchBrowser, openShell, panelFrame, shoot, startSite } from './helpers.mjs';

const SECRET = 'whsec-browser-7c2e4a9f1b3d5e6f8a0b';
let host;
let browser;
let page;
let frame;

before(async () => {
  host = await startSite();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await host?.stop();
});

/** Sets a text input of the settings form (by its field id), replacing what it held. */
async function fill(id, value) {
  await frame.locator(`#field-${id}`).fill(value);
}

/** Chooses an option of an Atlaskit select by typing it and pressing Enter. */
async function choose(id, value) {
  const input = frame.locator(`#field-${id}`);
  await input.click();
  await input.pressSequentially(value);
  await frame.locator('[class*="-option"]', { hasText: value }).first().waitFor();
  await input.press('Enter');
}

async function save() {
  await frame.getByTestId('save-button').click();
}

test('a fresh site asks for setup: the agent is told to ask an admin, the admin gets a link to the settings', async () => {
  const agent = await openShell(browser, host, { user: ACCOUNTS.avery, hash: '#/issue/HELP-1' });
  const agentPanel = await panelFrame(agent);
  await agentPanel.getByTestId('setup-required').waitFor();
  assert.match(await agentPanel.getByTestId('setup-required').innerText(), /Ask a Jira admin to complete the setup/);
  assert.equal(await agentPanel.getByRole('button', { name: 'Open Incode Verification Settings' }).count(), 0);
  assert.equal(await agentPanel.getByTestId('send-form').count(), 0, 'no form before setup');
  await agent.context().close();

  page = await openShell(browser, host, { user: ACCOUNTS.alex, hash: '#/issue/HELP-1' });
  const adminPanel = await panelFrame(page);
  await adminPanel.getByTestId('setup-required').waitFor();
  // The panel's link goes through the bridge (router.open), which Jira opens in a new tab.
  const [settingsTab] = await Promise.all([
    page.context().waitForEvent('page'),
    adminPanel.getByRole('button', { name: 'Open Incode Verification Settings' }).click(),
  ]);
  await settingsTab.waitForURL(/#\/module\/incode-settings$/);
  await settingsTab.close();
  // The shell's own navigation leads there as well.
  await page.getByRole('link', { name: 'Incode Verification Settings' }).click();
  frame = await adminFrame(page);
  await frame.getByRole('heading', { name: 'Incode Verification Settings', level: 1 }).waitFor();
  // The sandbox's credentials are shown where the admin needs them.
  const credentials = await page.getByTestId('sandbox-credentials').innerText();
  for (const value of Object.values(SANDBOX_CREDENTIALS)) assert.ok(credentials.includes(value), `${value} is on the page`);
  assert.equal(await frame.getByTestId('checklist-credentials').getAttribute('data-done'), 'false');
});

test('the guided setup names what is missing by its labels, and warns that no webhook secret is saved', async () => {
  const missing = await frame.getByTestId('setup-missing').innerText();
  assert.match(missing, /Client ID, Integration reference, API key, Client secret/);
  assert.doesNotMatch(missing, /clientId|integrationReference|apiKey|clientSecret/);
  assert.match(await frame.getByTestId('setup-warnings').innerText(), /No webhook secret is saved/);
});

test('Test credentials before saving says what to do once, and clears when the fields are filled', async () => {
  await frame.getByTestId('test-credentials').click();
  const failed = frame.getByTestId('test-error');
  await failed.waitFor();
  const text = await failed.innerText();
  assert.match(text, /Save the client ID and client secret first/);
  assert.doesNotMatch(text, /Enter and save the Incode credentials first/, 'the problem is told once');
  await fill('clientId', SANDBOX_CREDENTIALS.clientId);
  await failed.waitFor({ state: 'detached' });
  await fill('clientId', '');
});

test('numbers are checked on leaving the field, with the ranges the core applies', async () => {
  await fill('linkExpiryMinutes', '4');
  assert.equal(await frame.locator('#field-linkExpiryMinutes-error').count(), 0, 'not while typing');
  await frame.locator('#field-linkExpiryMinutes').press('Tab');
  const expiry = frame.locator('#field-linkExpiryMinutes-error');
  await expiry.waitFor();
  assert.match(await expiry.innerText(), /link expiry must be a whole number of minutes from 5 to 60/i);
  await fill('limits-perAgentPerHour', '101');
  await frame.locator('#field-limits-perAgentPerHour').blur();
  assert.match(await frame.locator('#field-limits-perAgentPerHour-error').innerText(), /from 1 to 100/);
  assert.equal(await frame.getByTestId('save-errors').count(), 0, 'nothing was saved or summarised');
  await fill('linkExpiryMinutes', '10');
  await fill('limits-perAgentPerHour', '20');
  await frame.locator('#field-limits-perAgentPerHour').blur();
  await expiry.waitFor({ state: 'detached' });
  assert.equal(await frame.locator('#field-limits-perAgentPerHour-error').count(), 0);
});

test('with unsaved changes the save bar stays in view while the admin scrolls', async () => {
  const bar = frame.getByTestId('save-bar');
  const inView = async () => {
    const box = await bar.boundingBox(); // in the top page's coordinates
    const height = page.viewportSize().height;
    return box !== null && box.y >= 0 && box.y + box.height <= height;
  };
  await page.evaluate(() => window.scrollTo(0, 0));
  assert.equal(await inView(), false, 'no changes: the bar stays at the end of the form');
  await fill('configurationId', 'cfg-1');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForFunction(() => true);
  await frame.locator('.save-bar.floating').waitFor();
  assert.equal(await inView(), true, 'at the top of the page');
  assert.match(await bar.innerText(), /You have unsaved changes/);
  await shoot(page, 'admin--flow--save-bar-floating--light');
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight / 2));
  await page.waitForTimeout(150);
  assert.equal(await inView(), true, 'halfway down');
  await fill('configurationId', '');
  await frame.locator('.save-bar.floating').waitFor({ state: 'detached' });
});

test('an invalid link expiry is shown next to its field and nothing is saved', async () => {
  await fill('linkExpiryMinutes', '99');
  await save();
  const inline = frame.locator('#field-linkExpiryMinutes-error');
  await inline.waitFor();
  assert.match(await inline.innerText(), /link expiry must be a whole number of minutes from 5 to 60/i);
  assert.equal(await frame.locator('#field-linkExpiryMinutes').getAttribute('aria-invalid'), 'true');
  const summary = frame.getByTestId('save-errors');
  assert.match(await summary.innerText(), /The configuration was not saved: 1 problem/);
  // The summary takes focus and links to the field.
  assert.equal(await summary.evaluate((el) => el.contains(document.activeElement)), true);
  await summary.getByRole('link', { name: 'Link expiry' }).click();
  assert.equal(await frame.locator('#field-linkExpiryMinutes').evaluate((el) => el === document.activeElement), true);
  await shoot(page.locator('main#view'), 'admin--flow--validation-error--light');
  const stored = await host.invokeResolver({
    moduleKey: 'incode-settings',
    account: ACCOUNTS.alex,
    extension: {},
    functionName: 'admin.getSettings',
    payload: {},
  });
  assert.equal(stored.data.settings.settings.linkExpiryMinutes, 10, 'the stored expiry is untouched');
  await fill('linkExpiryMinutes', '15');
  await inline.waitFor({ state: 'detached' });
});

test('an error only the core finds (a base URL off Incode) is placed on its field too', async () => {
  await fill('baseUrlOverride', 'https://attacker.example.com');
  await save();
  const inline = frame.locator('#field-baseUrlOverride-error');
  await inline.waitFor();
  assert.notEqual((await inline.innerText()).trim(), '');
  await fill('baseUrlOverride', '');
});

test('the sandbox credentials connect: ✓ Connected, and the checklist ticks', async () => {
  await fill('apiKey', SANDBOX_CREDENTIALS.apiKey);
  await fill('clientId', SANDBOX_CREDENTIALS.clientId);
  await fill('clientSecret', SANDBOX_CREDENTIALS.clientSecret);
  await fill('integrationReference', SANDBOX_CREDENTIALS.integrationReference);
  await save();
  await frame.getByTestId('save-success').waitFor();
  // Saved without a webhook secret: nothing Incode sends could be authenticated, and the page says so.
  assert.match(await frame.getByTestId('save-warning').innerText(), /No webhook secret is saved/);
  await frame.getByTestId('setup-warnings').waitFor();
  await shoot(frame.getByTestId('save-bar'), 'admin--flow--saved-without-webhook-secret--light');
  // Secrets are never sent back: the fields are empty, with a "Set" mark.
  assert.equal(await frame.locator('#field-clientSecret').inputValue(), '');
  assert.match(await frame.getByTestId('secret-clientSecret').innerText(), /^\s*set\s*$/i);
  await frame.getByTestId('test-credentials').click();
  const connected = frame.getByTestId('connected');
  await connected.waitFor();
  assert.match(await connected.innerText(), /✓ Connected/);
  await frame.locator('[data-testid="checklist-credentials"][data-done="true"]').waitFor();
  await shoot(frame.getByTestId('section-credentials'), 'admin--flow--connected--light');
});

test('a wrong client secret fails the test with the reason', async () => {
  await fill('clientSecret', 'not-the-secret');
  await save();
  await frame.getByTestId('save-success').waitFor();
  await frame.getByTestId('test-credentials').click();
  const failed = frame.getByTestId('test-error');
  await failed.waitFor();
  assert.equal(await failed.getAttribute('data-error-code'), 'bad_credentials');
  const text = await failed.innerText();
  assert.match(text, /Test credentials failed/);
  assert.match(text, /Incode did not accept these credentials/);
  assert.match(text, /invalid_client/, 'what Incode answered');
  assert.doesNotMatch(text, /Jira admin/, 'the admin is not sent to ask themselves');
  assert.equal(await frame.getByTestId('connected').count(), 0, 'no stale Connected badge');
  await shoot(frame.getByTestId('section-credentials'), 'admin--flow--test-failed--light');

  await fill('clientSecret', SANDBOX_CREDENTIALS.clientSecret);
  await save();
  await frame.getByTestId('save-success').waitFor();
  await frame.getByTestId('test-credentials').click();
  await frame.getByTestId('connected').waitFor();
});

test("agent groups are picked from the site's groups, the person to verify from its user fields", async () => {
  const input = frame.locator('#field-agentGroups');
  await input.click();
  await input.pressSequentially('helpdesk-agentz');
  await frame.getByText('No group on this site matches “helpdesk-agentz”').waitFor();
  await input.fill('');
  await input.pressSequentially('help');
  await frame.locator('[class*="-option"]', { hasText: 'helpdesk-agents' }).first().waitFor();
  await input.press('Enter');
  const person = frame.locator('#field-personField');
  await person.click();
  const options = frame.locator('[class*="-option"]');
  await options.first().waitFor();
  assert.deepEqual(await options.allInnerTexts(), ['Reporter', 'Affected employee'], 'by name, no text field');
  await options.filter({ hasText: 'Affected employee' }).click();
  await save();
  await frame.getByTestId('save-success').waitFor();
  const stored = (
    await host.invokeResolver({ moduleKey: 'incode-settings', account: ACCOUNTS.alex, extension: {}, functionName: 'admin.getSettings', payload: {} })
  ).data;
  assert.deepEqual(stored.settings.settings.agentGroups, ['helpdesk-agents']);
  assert.equal(stored.settings.settings.personField, 'customfield_10050');
  await shoot(frame.getByTestId('section-who'), 'admin--flow--who--light');
  // Back to the reporter and everyone, as the rest of the story expects.
  await person.click();
  await options.filter({ hasText: 'Reporter' }).click();
  await frame
    .getByTestId('section-who')
    .getByRole('button', { name: /Remove helpdesk-agents/ })
    .click();
  await save();
  await frame.getByTestId('save-success').waitFor();
});

test('transitions are listed by workflow', async () => {
  const input = frame.locator('#field-transitions-passed');
  await input.click();
  const menu = frame.locator('[class*="-menu"]');
  await menu.getByText('IT Help Desk workflow').waitFor();
  const text = await menu.innerText();
  assert.ok(text.indexOf('IT Help Desk workflow (service project)') < text.indexOf('Start progress'));
  assert.ok(text.indexOf('Start progress') < text.indexOf('Finance workflow'), "the service project's workflow first");
  assert.ok(text.indexOf('Finance workflow') < text.indexOf('Mark done'), 'a finance transition sits under its workflow');
  await shoot(page.locator('main#view'), 'admin--flow--transitions-by-workflow--light');
  await input.press('Escape');
});

test('a template with an unclosed block is reported at the block, with its position once', async () => {
  const template = frame.locator('#field-templates-failed');
  const before = await template.inputValue();
  await template.fill('Hello {{#if name}}{{name}}');
  const errors = frame.getByTestId('preview-errors-failed');
  await errors.waitFor();
  const text = await errors.innerText();
  assert.match(text, /Line 1, column 7: This \{\{#if\}\} block is never closed; add \{\{\/if\}\}/);
  assert.doesNotMatch(text, /Syntax error at line|not valid; write a variable/);
  await template.fill(before);
  await errors.waitFor({ state: 'detached' });
});

test('transitions, the webhook secret and the portal are saved', async () => {
  await choose('transitions-passed', 'Start progress');
  await choose('transitions-failed', 'Escalate');
  await choose('transitions-manualReview', 'Pending');
  await fill('webhookSecret', SECRET);
  await frame.getByText('Show the requester a pending verification on the customer portal').click();
  await save();
  await frame.getByTestId('save-success').waitFor();
  const stored = (
    await host.invokeResolver({ moduleKey: 'incode-settings', account: ACCOUNTS.alex, extension: {}, functionName: 'admin.getSettings', payload: {} })
  ).data;
  assert.deepEqual(stored.settings.settings.transitions, { passed: 'Start progress', failed: 'Escalate', manualReview: 'Pending' });
  assert.equal(stored.settings.settings.linkExpiryMinutes, 15);
  assert.equal(stored.settings.settings.portalEnabled, true);
  assert.equal(stored.settings.secrets.webhookSecret, 'set');
  assert.equal(stored.settings.ready, true);
  await frame.locator('[data-testid="checklist-transitions"][data-done="true"]').waitFor();
  assert.equal(await frame.getByTestId('checklist-credentials').getAttribute('data-done'), 'true');
});

test("the webhook registered on the sandbox dashboard brings Incode's events in", async () => {
  const webhookUrl = (await frame.getByTestId('webhook-url').innerText()).trim();
  assert.equal(webhookUrl, host.webtriggerUrl('incode-webhook'));
  assert.match(await frame.getByTestId('webhook-instructions').innerText(), /x-incode-signature/);
  const events = await frame.getByTestId('webhook-events').innerText();
  for (const event of ['MANUAL_REVIEW_APPROVED', 'MANUAL_REVIEW_REJECTED', 'SESSION_PENDING_REVIEW']) assert.ok(events.includes(event), event);

  // The Incode dashboard, as the sandbox plays it (Configuration → Webhooks).
  const dashboard = await page.context().newPage();
  await dashboard.goto(`${host.url}/incode/webhook`);
  await dashboard.getByLabel('URL', { exact: true }).fill(webhookUrl);
  await dashboard.getByLabel('Authentication', { exact: true }).selectOption('hmac');
  await dashboard.getByLabel('Secret', { exact: true }).fill(SECRET);
  await dashboard.getByLabel('Header', { exact: true }).fill('x-incode-signature');
  await dashboard.getByRole('button', { name: 'Save webhook' }).click();
  await dashboard.getByText('Saved').waitFor();
  await dashboard.close();

  // "Send test verification" on the settings page, completed by the employee on the sandbox.
  await frame.getByLabel('Employee email').fill('casey@example.test');
  await frame.getByTestId('send-test').click();
  await frame.getByTestId('send-test-result').waitFor();
  const sessionId = (await frame.getByTestId('send-test-result').locator('code').innerText()).trim();
  const session = host.incode.sessions.get(sessionId);
  assert.ok(session, 'the sandbox started the session');
  assert.equal(await actAsEmployee(page.context(), host, session, 'Complete verification (pass)', { viaInbox: true }), 'Identity verified');

  // Refreshing the deliveries shows the webhook arrived, and the checklist ticks without a reload.
  assert.equal(await frame.getByTestId('checklist-webhook').getAttribute('data-done'), 'false');
  await frame.getByTestId('refresh-deliveries').click();
  const deliveries = frame.getByTestId('deliveries');
  await deliveries.getByText('SESSION_SUCCEEDED').waitFor();
  await frame.locator('[data-testid="checklist-webhook"][data-done="true"]').waitFor();
  const detail = await frame.getByTestId('checklist-webhook').innerText();
  assert.match(detail, /First authenticated delivery received/);
  assert.doesNotMatch(detail, /Last/);
  // The test verification in plain words, to the second, in the viewer's time zone.
  const table = await deliveries.innerText();
  assert.match(table, /Test verification received ✓/);
  assert.doesNotMatch(table, /test_session|\bIgnored\b/);
  assert.match(table, /\d{2}:\d{2}:\d{2}/, 'seconds');
  assert.match(table, /GMT|UTC|BST|CET/, 'the time zone named');
  await shoot(deliveries, 'admin--flow--deliveries--light');
  await shoot(frame.getByTestId('checklist'), 'admin--flow--checklist--light');
  assert.equal(await deliveries.getByText('Rejected').count(), 0, 'every delivery authenticated');
  await shoot(page.locator('main#view'), 'admin--flow--configured--light', { fullPage: true });
  assert.deepEqual(page.problems, []);
});

test("the agent's panel is ready to send", async () => {
  const agent = await openShell(browser, host, { user: ACCOUNTS.avery, hash: '#/issue/HELP-1' });
  const panel = await panelFrame(agent);
  await panel.getByTestId('send-form').waitFor();
  assert.equal(await panel.getByTestId('setup-required').count(), 0);
  assert.equal(await panel.getByRole('textbox', { name: /^Corporate email/ }).inputValue(), 'casey@example.test');
  await agent.context().close();
});

test('stored settings this release cannot read are said before the form, which shows the defaults', async () => {
  const stored = host.kvs.get('settings');
  host.kvs.set('settings', { ...stored, settings: { ...stored.settings, linkExpiryMinutes: 'ten' } });
  try {
    const admin = await openShell(browser, host, { user: ACCOUNTS.alex, hash: '#/module/incode-settings' });
    const frame = await adminFrame(admin);
    const banner = frame.getByTestId('settings-unreadable');
    await banner.waitFor();
    assert.match(await banner.innerText(), /The stored settings could not be read[\s\S]*saving replaces the stored settings with what it shows/);
    await shoot(admin, 'admin--settings-unreadable--light');
    await admin.context().close();
  } finally {
    host.kvs.set('settings', stored);
  }
});
