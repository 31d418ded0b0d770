// The local run as a newcomer meets it: the command prints one URL; there is a Jira-like issue
// view with the app's real panel in its iframe; users can be switched (admin, agent, customer);
// the settings page, the portal view, the Incode sandbox and a getting-started guide (with the
// sandbox credentials) are a click away; the shell and the app's pages follow the light or dark
// theme together.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import {
  ACCOUNTS,
  REPO,
  SANDBOX_CREDENTIALS,
  adminFrame,
  contrast,
  ensureUiBuilt,
  launchBrowser,
  luminance,
  openShell,
  panelFrame,
  portalFrame,
  shoot,
  startSite,
} from './helpers.mjs';

let browser;
let host;

before(async () => {
  await ensureUiBuilt();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await host?.stop();
});

/** Starts `node dev/host/main.mjs ...args` (what dev/run.sh execs) and resolves once it is listening. */
function startCommandLine(args) {
  const child = spawn(process.execPath, [path.join(REPO, 'dev/host/main.mjs'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr.on('data', (chunk) => {
    err += chunk;
  });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the host did not start: ${out} ${err}`)), 60_000);
    child.stdout.on('data', () => {
      if (/Ctrl\+C stops\.\n/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the host exited ${code}: ${err}`));
    });
  });
  return {
    ready,
    output: () => ({ out, err }),
    async stop() {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      return exited;
    },
  };
}

test("the local run prints one URL, and it opens on an issue with the app's panel and a way to get started", async () => {
  const cli = startCommandLine(['--port', '0', '--memory', '--brief']);
  try {
    await cli.ready;
    const { out } = cli.output();
    const urls = out.match(/https?:\/\/\S+/g) ?? [];
    assert.equal(urls.length, 1, `one URL in:\n${out}`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(urls[0]);
    await page.waitForURL(/#\/issue\/HELP-1$/);
    await page.getByRole('heading', { name: 'Password reset — locked out', level: 1 }).waitFor();
    const panel = await panelFrame(page);
    await panel.getByTestId('setup-required').waitFor();
    // A fresh profile sees the pointer to the guide.
    await page.getByTestId('guide-banner').getByRole('link', { name: 'Getting started' }).waitFor();
    await page.waitForTimeout(300);
    await shoot(page, 'shell--first-visit--light');
    await context.close();
  } finally {
    assert.equal(await cli.stop(), 0);
  }
});

test("switching users shows the agent's queue, the admin's settings and the customer's portal", async () => {
  host = await startSite();
  const page = await openShell(browser, host, { user: ACCOUNTS.avery });
  await page.waitForURL(/#\/issue\/HELP-1$/);
  await panelFrame(page);
  assert.equal(await page.locator('#queue-title').textContent(), 'IT Help Desk queue');
  assert.equal(await page.locator('#settings-link').isHidden(), true, 'agents have no settings link');
  assert.equal(await page.locator('#issue-list a').count(), 5);

  await page.locator('#user-switcher').selectOption(ACCOUNTS.alex);
  await page.locator('#settings-link').waitFor();
  await page.locator('#settings-link').click();
  await page.waitForURL(/#\/module\/incode-settings$/);
  const settings = await adminFrame(page);
  await settings.getByRole('heading', { name: 'Incode Verification Settings', level: 1 }).waitFor();
  const notice = await page.getByTestId('sandbox-credentials').innerText();
  for (const value of Object.values(SANDBOX_CREDENTIALS)) assert.ok(notice.includes(value));

  await page.locator('#user-switcher').selectOption(ACCOUNTS.avery);
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /You don't have permission to view this page/);
  await page.getByRole('button', { name: 'View as Alex Admin' }).click();
  await adminFrame(page);

  await page.locator('#user-switcher').selectOption(ACCOUNTS.casey);
  await page.goto(`${host.url}/#/`);
  await page.waitForURL(/#\/issue\/HELP-1$/);
  await page.getByRole('heading', { name: 'Help Center' }).waitFor();
  assert.equal(await page.locator('#queue-title').textContent(), 'My requests');
  assert.deepEqual(await page.locator('#issue-list .key').allInnerTexts(), ['HELP-1 · Open', 'HELP-2 · Open', 'HELP-4 · Pending']);
  await portalFrame(page);
  assert.equal(await page.locator('iframe[src^="/app/issue-panel/"]').count(), 0, 'customers never get the agent panel');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('getting started walks the story: credentials, webhook, agent, employee, customer, one click each', async () => {
  const page = await openShell(browser, host, { user: ACCOUNTS.avery, guide: true });
  await page.getByTestId('guide-banner').getByRole('link', { name: 'Getting started' }).click();
  await page.waitForURL(/#\/start$/);
  const steps = page.getByTestId('guide-steps');
  const text = await steps.innerText();
  for (const value of Object.values(SANDBOX_CREDENTIALS)) assert.ok(text.includes(value), `${value} in the guide`);
  assert.ok(text.includes(host.webtriggerUrl('incode-webhook')), 'the webhook URL to register');
  assert.equal(await steps.getByRole('link', { name: /webhook settings/ }).getAttribute('href'), '/incode/webhook');
  assert.equal(await steps.getByRole('link', { name: /inbox/ }).getAttribute('href'), '/incode/');
  await shoot(page, 'shell--getting-started--light', { fullPage: true });

  await page.getByTestId('guide-as-admin').click();
  await page.waitForURL(/#\/module\/incode-settings$/);
  assert.equal(await page.locator('#user-switcher').inputValue(), ACCOUNTS.alex);
  await adminFrame(page);
  await page.goBack();
  await page.getByTestId('guide-as-customer').click();
  await page.waitForURL(/#\/issue\/HELP-1$/);
  assert.equal(await page.locator('#user-switcher').inputValue(), ACCOUNTS.casey);
  await portalFrame(page);

  // The sandbox's inbox opens in a tab of its own.
  const [inbox] = await Promise.all([page.context().waitForEvent('page'), page.locator('#incode-link').click()]);
  await inbox.getByRole('heading', { name: 'Sent verification links' }).waitFor();
  await inbox.close();

  // Dismissed once, the banner stays away.
  await page.getByRole('button', { name: 'Dismiss the getting started banner' }).click();
  await page.reload();
  await portalFrame(page);
  assert.equal(await page.getByTestId('guide-banner').count(), 0);
  await page.context().close();
});

test('light and dark: the shell and the panel inside it switch together, with readable text', async () => {
  const page = await openShell(browser, host, { user: ACCOUNTS.avery, hash: '#/issue/HELP-1' });
  const colours = async () => {
    const frame = await panelFrame(page);
    const shell = await page.evaluate(() => ({
      mode: document.documentElement.dataset.colorMode,
      bg: getComputedStyle(document.body).backgroundColor,
      text: getComputedStyle(document.body).color,
    }));
    const panel = await frame.evaluate(() => {
      const card = document.querySelector('[data-testid="setup-required"] h2, [data-testid="setup-required"]');
      return {
        mode: document.documentElement.dataset.colorMode,
        theme: document.documentElement.dataset.theme ?? '',
        bg: getComputedStyle(document.body).backgroundColor,
        text: getComputedStyle(document.body).color,
        heading: getComputedStyle(card).color,
      };
    });
    return { shell, panel };
  };
  const light = await colours();
  assert.equal(light.shell.mode, 'light');
  assert.equal(light.panel.mode, 'light');
  assert.ok(luminance(light.shell.bg) > 0.8 && luminance(light.panel.bg) > 0.8, JSON.stringify(light));
  assert.ok(contrast(light.panel.bg, light.panel.text) >= 4.5, JSON.stringify(light));
  await shoot(page, 'shell--issue--light');

  await page.getByRole('button', { name: 'Dark theme' }).click();
  await page.waitForFunction(() => document.documentElement.dataset.colorMode === 'dark');
  const dark = await colours();
  assert.equal(dark.panel.mode, 'dark');
  assert.match(dark.panel.theme, /dark/);
  assert.ok(luminance(dark.shell.bg) < 0.05 && luminance(dark.panel.bg) < 0.05, JSON.stringify(dark));
  assert.ok(contrast(dark.panel.bg, dark.panel.text) >= 4.5, JSON.stringify(dark));
  assert.ok(contrast(dark.panel.bg, dark.panel.heading) >= 4.5, JSON.stringify(dark));
  await page.waitForTimeout(300);
  await shoot(page, 'shell--issue--dark');

  // The choice is remembered, like Jira's appearance setting.
  await page.reload();
  await panelFrame(page);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.colorMode), 'dark');
  await page.getByRole('button', { name: 'Light theme' }).click();
  assert.equal((await colours()).panel.mode, 'light');
  await page.context().close();
});
