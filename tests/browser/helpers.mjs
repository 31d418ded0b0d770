// Shared setup of the browser tests: the built Custom UI pages on the local Forge host (the real
// bundled functions, Jira site, KVS, realtime and Incode sandbox), driven in Debian's headless
// Chromium through the host's shell, as a person would use them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startHost } from '../../dev/host/server.mjs';
import { ACCOUNTS, MODULES, SANDBOX_CREDENTIALS, WEBHOOK_SECRET, sandboxSettings } from '../app/helpers.mjs';

export { ACCOUNTS, MODULES, SANDBOX_CREDENTIALS, WEBHOOK_SECRET, sandboxSettings };

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '../..');
export const SCREENSHOT_DIR = path.join(REPO, 'tests/artifacts/screenshots/browser');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PAGES = ['issue-panel', 'admin-page', 'portal-panel', 'gate-config'];
// Where a page's build writes its entry (the workflow rule's page has one folder per entry).
const BUILT = { 'gate-config': 'dist/create/index.html' };

// ---------------------------------------------------------------------------------------------
// what the tests need built

function newestMtime(dir) {
  let newest = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (entry.name === 'dist' || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** The pages whose dist/ is missing or older than their sources (or the shared code). */
export function staleUiPages() {
  const shared = Math.max(newestMtime(path.join(REPO, 'static/shared')), fs.statSync(path.join(REPO, 'static/package-lock.json')).mtimeMs);
  return PAGES.filter((page) => {
    const built = path.join(REPO, 'static', page, BUILT[page] ?? 'dist/index.html');
    if (!fs.existsSync(built)) return true;
    return Math.max(shared, newestMtime(path.join(REPO, 'static', page))) > fs.statSync(built).mtimeMs;
  });
}

/**
 * Builds the Custom UI when a page is missing or stale (dev/test.sh builds it first, so this is
 * for running the browser tests alone); one build at a time across test processes.
 */
export async function ensureUiBuilt() {
  assert.ok(fs.existsSync(path.join(REPO, 'src/generated/core.js')), 'the core package is missing: run dev/build-core.sh');
  if (staleUiPages().length === 0) return;
  const lock = path.join(REPO, 'build', '.ui-build.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      if (Date.now() > deadline || Date.now() - fs.statSync(lock).mtimeMs > 180_000) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      await sleep(250);
    }
  }
  try {
    const stale = staleUiPages();
    if (stale.length) {
      const result = spawnSync('npm', ['run', '--silent', 'build', '--', ...stale], { cwd: path.join(REPO, 'static'), encoding: 'utf8' });
      assert.equal(result.status, 0, `building the Custom UI failed:\n${result.stdout}\n${result.stderr}`);
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// host and browser

/** A fresh site in memory with a fast webhook retry schedule. */
export async function startSite(options = {}) {
  await ensureUiBuilt();
  const hostLog = [];
  const host = await startHost({
    memory: true,
    port: 0,
    log: (line) => hostLog.push(line),
    incodeOptions: { retry: { attempts: 6, baseDelayMs: 20, factor: 2, maxDelayMs: 100, timeoutMs: 15_000 } },
    ...options,
  });
  host.hostLog = hostLog;
  return host;
}

export async function launchBrowser() {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: run dev/setup.sh --browser`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * A browser window on the shell as `user` (an account id), in `theme`. The shell keeps both in
 * localStorage, as a person's browser would. `guide: false` hides the getting-started banner.
 * Page errors and failed requests to the host are collected in `page.problems`.
 */
export async function openShell(browser, host, { user = ACCOUNTS.avery, theme = 'light', hash = '', guide = false, width = 1280, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'Europe/London' });
  await context.addInitScript(
    ({ user, theme, guide }) => {
      // Once per browser profile: later tabs see what the person chose since.
      if (window.top !== window || localStorage.getItem('shell-seeded')) return;
      localStorage.setItem('shell-seeded', '1');
      localStorage.setItem('forge-host-user', user);
      localStorage.setItem('forge-host-theme', theme);
      if (guide) localStorage.removeItem('forge-host-guide');
      else localStorage.setItem('forge-host-guide', 'dismissed');
    },
    { user, theme, guide },
  );
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (error) => page.problems.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 500 && response.url().startsWith(host.url)) page.problems.push(`${response.status()} ${response.url()}`);
  });
  await page.goto(`${host.url}/${hash}`);
  await page.locator('#user-switcher option').first().waitFor({ state: 'attached' });
  return page;
}

/** The frame of an app module in the shell, once its first answer is drawn. */
export async function appFrame(page, resource) {
  const handle = await page.waitForSelector(`iframe[src^="/app/${resource}/"]`);
  const frame = await handle.contentFrame();
  await frame.waitForSelector('#root[data-ready="true"]', { state: 'attached' });
  return frame;
}

export const panelFrame = (page) => appFrame(page, 'issue-panel');
export const adminFrame = (page) => appFrame(page, 'admin-page');
export const portalFrame = (page) => appFrame(page, 'portal-panel');

/** The shell's section around the issue panel (what a screenshot of the panel shows). */
export const panelSection = (page) => page.locator(`section.app-panel[data-module="${MODULES.panel}"]`);

/**
 * Waits until the shell has sized `frame`'s iframe to the page's content (it follows the content
 * a few times a second, as Forge's resizer does), then lets animations end.
 */
export async function settled(page, frame, ms = 40) {
  const element = await frame.frameElement();
  await page.waitForFunction((iframe) => {
    const root = iframe.contentDocument?.getElementById('root');
    return iframe.classList.contains('sized') && root && Math.abs(Math.ceil(root.getBoundingClientRect().height) - iframe.offsetHeight) <= 2;
  }, element);
  await page.waitForTimeout(ms);
}

/** Writes a PNG to tests/artifacts/screenshots/browser/<name>.png. */
export async function shoot(target, name, options = {}) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await target.screenshot({ path: file, animations: 'disabled', ...options });
  return file;
}

// ---------------------------------------------------------------------------------------------
// the app and the sandbox

/**
 * Configures the app as an admin would (settings, then "Test credentials") and registers the
 * webhook in the Incode sandbox with the same secret. For tests whose subject is not the admin.
 * An override of `undefined` keeps the product's default for that setting.
 */
export async function configureSite(host, overrides = {}) {
  const call = (fn, payload = {}) => host.invokeResolver({ moduleKey: MODULES.admin, account: ACCOUNTS.alex, extension: {}, functionName: fn, payload });
  // An override of `undefined` leaves that setting at the product's default.
  const input = Object.fromEntries(Object.entries(sandboxSettings(overrides)).filter(([, value]) => value !== undefined));
  const saved = await call('admin.saveSettings', input);
  assert.equal(saved.ok, true, JSON.stringify(saved));
  assert.equal((await call('admin.testCredentials')).ok, true);
  const info = await call('admin.getSettings');
  host.incode.configureWebhook({ url: info.data.webhook.url, mode: 'hmac', secret: WEBHOOK_SECRET, header: 'x-incode-signature', encoding: 'hex' });
  return info.data;
}

/** A fresh request reported by `reporter`, so a scenario starts from an untouched ticket. */
export function newRequest(host, summary, reporter = ACCOUNTS.casey) {
  return host.jira.issues.add({ project: 'HELP', summary, reporter });
}

/** Opens the shell on an issue (as an agent unless `options.user` says otherwise) and waits for the issue panel. */
export async function openIssue(browser, host, key, options = {}) {
  const page = await openShell(browser, host, { ...options, hash: `#/issue/${key}` });
  return { page, frame: await panelFrame(page) };
}

/** Moves the shell to another issue (as a click in the queue would) and waits for its panel. */
export async function gotoIssue(page, key) {
  await page.evaluate((k) => {
    location.hash = `#/issue/${k}`;
  }, key);
  // The shell drops the old frames before it marks the new issue in the queue.
  await page.locator(`#issue-list a[aria-current="page"][href="#/issue/${key}"]`).waitFor();
  return panelFrame(page);
}

/** The status the panel shows, once it shows `status`. */
export async function waitForStatus(frame, status, timeout = 10_000) {
  await frame.waitForSelector(`[data-testid="verification-status"][data-status="${status}"]`, { timeout });
}

/**
 * The frame of the modal an app opened over the whole page (@forge/bridge Modal), once drawn.
 * The shell keeps one modal at a time.
 */
export async function modalFrame(page) {
  const handle = await page.waitForSelector('[data-testid="forge-modal"] iframe');
  const frame = await handle.contentFrame();
  await frame.waitForSelector('#root[data-ready="true"]', { state: 'attached' });
  return frame;
}

/** Resolves once the page's modal has closed. */
export function modalClosed(page) {
  return page.locator('[data-testid="forge-modal-blanket"]').waitFor({ state: 'detached' });
}

/** Fills and submits the send form, then confirms the dialog; resolves to the dialog's text. */
export async function sendFromPanel(frame, { email, delivery = 'EMAIL', phone, alternateEmail } = {}) {
  if (email !== undefined) await frame.getByRole('textbox', { name: /^Corporate email/ }).fill(email);
  await frame.getByRole('radio', { name: delivery === 'SMS' ? 'SMS' : 'Email', exact: true }).check();
  if (phone !== undefined) await frame.getByLabel('Mobile phone (optional)').fill(phone);
  if (alternateEmail !== undefined) {
    await frame.getByRole('radio', { name: 'An alternate address' }).check();
    await frame.getByLabel('Alternate email').fill(alternateEmail);
  }
  await frame.getByTestId('send-button').click();
  const page = frame.page();
  const modal = await modalFrame(page);
  const dialog = modal.getByTestId('send-dialog');
  await dialog.waitFor();
  const text = await dialog.innerText();
  await modal.getByTestId('send-dialog-confirm').click();
  await modalClosed(page);
  return text;
}

/** The sandbox session of the newest verification on an issue. */
export function latestSession(host, issueKey) {
  const issueId = host.jira.issues.get(issueKey).id;
  const index = host.kvs.get(`issue:${issueId}`);
  assert.ok(index?.current, `${issueKey} has a verification`);
  const session = host.incode.sessions.get(index.current);
  assert.ok(session, 'the sandbox knows the session the app recorded');
  return session;
}

/**
 * The employee's part, in another tab: opens the verification link from the sandbox's inbox (or
 * the session page directly) and presses `button` ('Complete verification (pass)', 'Fail the face
 * match', 'Send to manual review', 'Approve review', 'Reject review'). Resolves once Incode's
 * webhooks for it have been delivered.
 */
export async function actAsEmployee(context, host, session, button, { viaInbox = false } = {}) {
  const page = await context.newPage();
  try {
    if (viaInbox) {
      await page.goto(`${host.url}/incode/`);
      await page.locator(`a[href="/incode/session/${session.id}"]`).first().click();
    } else {
      await page.goto(`${host.url}/incode/session/${session.id}`);
    }
    await page.getByRole('button', { name: button }).click();
    await page.getByRole('heading', { level: 1 }).waitFor();
    await host.incode.idle();
    return await page.getByRole('heading', { level: 1 }).innerText();
  } finally {
    await page.close();
  }
}

/** The app's comments on an issue through the Jira REST API, as `as` reads them. */
export async function jiraComments(host, issueKey, as = ACCOUNTS.avery) {
  const answer = await host.jira.handle({
    method: 'GET',
    path: `/rest/api/3/issue/${issueKey}/comment`,
    query: 'expand=properties',
    headers: {},
    as: { kind: 'user', accountId: as },
  });
  assert.equal(answer.status, 200, answer.body);
  return JSON.parse(answer.body).comments;
}

/** The issue's status name through the Jira REST API. */
export async function jiraStatus(host, issueKey, as = ACCOUNTS.avery) {
  const answer = await host.jira.handle({
    method: 'GET',
    path: `/rest/api/3/issue/${issueKey}`,
    query: 'fields=status',
    headers: {},
    as: { kind: 'user', accountId: as },
  });
  assert.equal(answer.status, 200, answer.body);
  return JSON.parse(answer.body).fields.status.name;
}

/** Plain text of an ADF document. */
export function adfText(node) {
  if (!node) return '';
  if (node.type === 'text') return node.text;
  if (node.type === 'hardBreak') return '\n';
  const inner = (node.content ?? []).map(adfText).join('');
  return node.type === 'paragraph' ? `${inner}\n` : inner;
}

/** Relative luminance (0 black .. 1 white) of a CSS rgb()/rgba() colour. */
export function luminance(color) {
  const match = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)/.exec(color);
  assert.ok(match, `a colour: ${color}`);
  const [r, g, b] = match.slice(1, 4).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The contrast ratio of two CSS colours (WCAG). */
export function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
