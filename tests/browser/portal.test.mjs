// The customer's view: the portal panel shows the requester a pending verification only when the
// admin turned the customer portal on, never the link itself, and nothing once it is done.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCOUNTS,
  actAsEmployee,
  adminFrame,
  configureSite,
  launchBrowser,
  latestSession,
  newRequest,
  openIssue,
  openShell,
  portalFrame,
  sendFromPanel,
  startSite,
  waitForStatus,
} from './helpers.mjs';

let host;
let browser;
let key;
let session;

before(async () => {
  host = await startSite();
  await configureSite(host, { portalEnabled: false });
  browser = await launchBrowser();
  key = newRequest(host, 'Cannot reach the VPN after a reset');
  const { page, frame } = await openIssue(browser, host, key);
  await sendFromPanel(frame, { delivery: 'SMS' });
  await waitForStatus(frame, 'requested');
  session = latestSession(host, key);
  await page.context().close();
});

after(async () => {
  await browser?.close();
  await host?.stop();
});

/** The customer's request in the Help Center: the page and its portal panel frame. */
async function asCustomer(user = ACCOUNTS.casey) {
  const page = await openShell(browser, host, { user, hash: `#/issue/${key}` });
  await page.getByRole('heading', { name: 'Help Center' }).waitFor();
  const frame = await portalFrame(page);
  // The shell sizes the frame to the page's content; an empty panel takes no room.
  await page.waitForFunction(() => document.querySelector('iframe[src^="/app/portal-panel/"]')?.classList.contains('sized'));
  return { page, frame };
}

test('with the portal turned off the customer sees nothing of a pending link', async () => {
  const { page, frame } = await asCustomer();
  assert.equal(await frame.getByTestId('portal-pending').count(), 0);
  assert.equal(await page.locator('section.app-panel[data-module="incode-portal-panel"]').isHidden(), true, 'the empty panel takes no room');
  await page.context().close();
});

test('the admin turns the portal on; the requester sees the pending link, without the link', async () => {
  const admin = await openShell(browser, host, { user: ACCOUNTS.alex, hash: '#/module/incode-settings' });
  const settings = await adminFrame(admin);
  await settings.getByText('Show the requester a pending verification on the customer portal').click();
  await settings.getByTestId('save-button').click();
  await settings.getByTestId('save-success').waitFor();
  await admin.context().close();

  const { page, frame } = await asCustomer();
  const pending = frame.getByTestId('portal-pending');
  await pending.waitFor();
  const text = await pending.innerText();
  assert.match(text, /Identity verification pending/);
  assert.match(text, /sent you an identity verification link by SMS/);
  assert.match(text, /it expires at \d{1,2}:\d{2}( [AP]M)? \S+\./, 'the time and its zone');
  assert.ok(!text.includes(session.id) && !text.includes('/incode/session/'), 'the link itself is never shown');
  // The shell follows the frame's content a few times a second: the panel opens up for it.
  await page.locator('section.app-panel[data-module="incode-portal-panel"]').waitFor({ state: 'visible', timeout: 2_000 });
  await page.context().close();
});

test('another customer sees neither the request nor the panel', async () => {
  const page = await openShell(browser, host, { user: ACCOUNTS.drew, hash: `#/issue/${key}` });
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /No issue/);
  assert.equal(await page.locator('iframe[src^="/app/portal-panel/"]').count(), 0);
  await page.context().close();
});

test('once the employee is verified the portal panel is empty again', async () => {
  const employee = await browser.newContext();
  await actAsEmployee(employee, host, session, 'Complete verification (pass)');
  await employee.close();
  const { page, frame } = await asCustomer();
  assert.equal(await frame.getByTestId('portal-pending').count(), 0);
  assert.equal(await page.locator('section.app-panel[data-module="incode-portal-panel"]').isHidden(), true);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
