// The send flow with the keyboard only (Tab, Shift+Tab, Space, Enter, Escape; no clicks): from the
// shell into the panel's iframe, the confirmation (the platform's modal, over the whole page) takes
// focus, keeps it, and gives it back when dismissed; a confirmed action leaves focus on the result.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { configureSite, launchBrowser, latestSession, modalClosed, modalFrame, newRequest, openIssue, shoot, startSite, waitForStatus } from './helpers.mjs';

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

/** What has focus, through the shell's iframes: `{ inFrame, tag, testId, text, inDialog, inStatus }`. */
function focused(page) {
  return page.evaluate(() => {
    let doc = document;
    let el = doc.activeElement;
    let inFrame = false;
    while (el && el.tagName === 'IFRAME') {
      inFrame = true;
      doc = el.contentDocument;
      el = doc.activeElement;
    }
    if (!el) return null;
    return {
      inFrame,
      tag: el.tagName.toLowerCase(),
      id: el.id,
      testId: el.getAttribute('data-testid'),
      label: el.getAttribute('aria-label') ?? '',
      text: (el.innerText ?? '').trim(),
      inDialog: Boolean(el.closest('[role="dialog"]')),
      inStatus: Boolean(el.closest('[data-testid="verification-status"]')),
    };
  });
}

/** Presses `key` until `wanted(focus)` holds; fails after `max` presses. */
async function pressUntil(page, key, wanted, max = 40) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const now = await focused(page);
    if (now && wanted(now)) return now;
  }
  assert.fail(`${key} never reached the wanted element (last: ${JSON.stringify(await focused(page))})`);
}

test('Tab into the panel; the dialog takes focus and gives it back; Space and Enter send; Enter cancels the same way', async () => {
  const key = newRequest(host, 'Keyboard-only agent');
  const { page, frame } = await openIssue(browser, host, key);

  // From the shell, Tab walks into the iframe: first the email field, then on to the button.
  const email = await pressUntil(page, 'Tab', (f) => f.inFrame && f.id === 'field-email');
  assert.equal(email.tag, 'input');
  assert.equal(await frame.locator('#field-email').inputValue(), 'casey@example.test');
  await pressUntil(page, 'Tab', (f) => f.testId === 'send-button', 6);

  await page.keyboard.press('Enter');
  let modal = await modalFrame(page);
  await modal.getByTestId('send-dialog').waitFor();
  await modal.waitForFunction(() => document.activeElement?.closest('[role="dialog"]'));
  const inside = await focused(page);
  assert.equal(inside.inDialog, true, 'focus moved into the dialog');
  assert.equal(inside.testId, 'send-dialog-confirm', 'on the Send button');
  await page.waitForTimeout(100);
  await shoot(page, 'shell--keyboard--dialog-focus--light');

  // Shift+Tab to Cancel, Enter: the dialog closes and focus is back on the button that opened it.
  const cancel = await pressUntil(page, 'Shift+Tab', (f) => f.testId === 'send-dialog-cancel', 4);
  assert.equal(cancel.inDialog, true, 'focus stays in the dialog');
  await page.keyboard.press('Enter');
  await modalClosed(page);
  await frame.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'send-button');
  assert.equal((await focused(page)).testId, 'send-button', 'focus returned to Send verification link');
  assert.equal(host.incode.outbox.length, 0, 'nothing sent');

  // Escape dismisses it the same way.
  await page.keyboard.press('Enter');
  modal = await modalFrame(page);
  await modal.waitForFunction(() => document.activeElement?.closest('[role="dialog"]'));
  await page.keyboard.press('Escape');
  await modalClosed(page);
  await frame.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'send-button');
  assert.equal(host.incode.outbox.length, 0, 'nothing sent');

  // Tab cycles inside the open dialog (it is modal), Space opens it, Enter on Send sends.
  await page.keyboard.press('Space');
  modal = await modalFrame(page);
  await modal.waitForFunction(() => document.activeElement?.closest('[role="dialog"]'));
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).inDialog, true, `Tab ${i + 1} stays in the dialog`);
  }
  await pressUntil(page, 'Tab', (f) => f.testId === 'send-dialog-confirm', 4);
  await page.keyboard.press('Enter');
  await modalClosed(page);
  await waitForStatus(frame, 'requested');
  assert.equal(latestSession(host, key).loginHint, 'casey@example.test');

  // The form is gone; focus lands on the heading of the result the agent now has to read.
  await frame.waitForFunction(() => document.activeElement?.id === 'current-verification-heading');
  const after = await focused(page);
  assert.equal(after.inStatus, true);
  assert.match(after.text, /Waiting for the employee/);
  // The keyboard reaches the actions of the new verification. Cancelling starts on the safe
  // choice ("Keep it"), which gives focus back; confirming leaves focus on the changed status.
  await pressUntil(page, 'Tab', (f) => f.testId === 'cancel-button', 8);
  await page.keyboard.press('Enter');
  modal = await modalFrame(page);
  await modal.getByTestId('cancel-dialog').waitFor();
  await modal.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'cancel-dialog-cancel');
  await page.keyboard.press('Space');
  await modalClosed(page);
  await frame.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'cancel-button');
  await page.keyboard.press('Enter');
  modal = await modalFrame(page);
  await modal.getByTestId('cancel-dialog').waitFor();
  await pressUntil(page, 'Tab', (f) => f.testId === 'cancel-dialog-confirm', 4);
  await page.keyboard.press('Enter');
  await waitForStatus(frame, 'cancelled');
  await frame.waitForFunction(() => document.activeElement?.id === 'current-verification-heading');
  assert.match((await focused(page)).text, /Verification cancelled/);
  await page.context().close();
});
