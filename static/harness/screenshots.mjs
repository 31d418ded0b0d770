// Renders every harness scenario of the BUILT pages in headless Chromium, light and dark, into
// tests/artifacts/screenshots/harness/, and checks along the way what a person would notice
// (the status shown, the dialog taking and giving back focus, errors next to their fields).
// Exits non-zero when a check fails. Usage: node harness/screenshots.mjs [filter...]
// (a filter matches "page/scenario" names by substring).
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { SCENARIOS } from './scenarios.mjs';
import { startHarnessServer } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(here, '../../tests/artifacts/screenshots/harness');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WIDTH = { 'issue-panel': 560, 'admin-page': 1100, 'portal-panel': 720 };

const failures = [];
function check(condition, message) {
  if (!condition) failures.push(message);
}

const expectStatus = (status) => async (page, name) => {
  const el = page.getByTestId('verification-status');
  await el.waitFor();
  check((await el.getAttribute('data-status')) === status, `${name}: data-status should be ${status}`);
};

/** Settles a page: its first answer is in (no spinner), fonts and theme applied. */
async function settle(page) {
  await page.waitForFunction(() => document.getElementById('root')?.dataset.ready === 'true', null, { timeout: 10_000 });
  await page.waitForTimeout(150);
}

/** Per scenario: extra checks, and extra interaction shots `[suffix, async (page) => {}]`. */
const PLAN = {
  'issue-panel/loading': {
    ready: false,
    check: async (page, name) => {
      await page.getByText('Loading identity verification').first().waitFor();
      check(true, name);
    },
  },
  'issue-panel/load-error': {
    check: async (page, name) => {
      await page.getByTestId('error-notice').waitFor();
      check((await page.getByTestId('error-notice').getAttribute('data-error-code')) === 'unreachable', `${name}: error code`);
    },
    shots: [
      [
        'retried',
        async (page, name) => {
          await page.getByRole('button', { name: 'Try again' }).click();
          await page.getByTestId('send-form').waitFor();
          check(true, name);
        },
      ],
    ],
  },
  'issue-panel/setup-admin': {
    check: async (page, name) => {
      await page.getByRole('button', { name: 'Open Incode Verification Settings' }).click();
      const nav = await page.evaluate(() => window.__harness.navigations);
      check(nav.length === 1 && nav[0].moduleKey === 'incode-settings' && nav[0].type === 'new-tab', `${name}: router.open to the settings page`);
    },
  },
  'issue-panel/setup-agent': {
    check: async (page, name) => {
      check((await page.getByRole('button', { name: 'Open Incode Verification Settings' }).count()) === 0, `${name}: no settings link for agents`);
    },
  },
  'issue-panel/form': {
    check: async (page, name) => {
      check((await page.getByRole('textbox', { name: /^Corporate email/ }).inputValue()) === 'jane.doe@acme.example', `${name}: email prefilled`);
      check(await page.getByRole('radio', { name: 'SMS', exact: true }).isChecked(), `${name}: SMS by default`);
      const subs = await page.evaluate(() => window.__harness.subscriptions);
      check(subs.length === 1 && subs[0].isGlobal && subs[0].token === 'signed-realtime-token', `${name}: subscribed to the global channel with its token`);
    },
    shots: [
      [
        'invalid',
        async (page, name) => {
          await page.getByRole('textbox', { name: /^Corporate email/ }).fill('jane.doe@');
          await page.getByLabel('Mobile phone (optional)').fill('555 0101');
          await page.getByTestId('send-button').click();
          await page.getByText('Enter a valid email address').waitFor();
          check(
            await page.getByRole('textbox', { name: /^Corporate email/ }).evaluate((el) => el === document.activeElement),
            `${name}: focus on the first invalid field`,
          );
          check((await page.evaluate(() => window.__harness.calls.filter((c) => c.functionKey === 'panel.send').length)) === 0, `${name}: nothing sent`);
        },
      ],
      [
        'dialog',
        async (page, name) => {
          await page.getByRole('textbox', { name: /^Corporate email/ }).fill('jane.doe@acme.example');
          await page.getByLabel('Mobile phone (optional)').fill('+1 (555) 010-1234');
          await page.getByTestId('send-button').click();
          const dialog = modal(page).getByTestId('send-dialog');
          await dialog.waitFor();
          await page.waitForTimeout(400);
          const text = await dialog.innerText();
          check(
            text.includes('Send an Incode verification link to jane.doe@acme.example by SMS to +15550101234? The link expires in 10 minutes.'),
            `${name}: dialog wording, got ${JSON.stringify(text)}`,
          );
          check(await dialog.evaluate((el) => el.contains(document.activeElement)), `${name}: focus moved into the dialog`);
        },
      ],
      [
        'sent',
        async (page, name) => {
          await modal(page).getByTestId('send-dialog-confirm').click();
          await modalClosed(page);
          await expectStatus('requested')(page, name);
          const calls = await page.evaluate(() => window.__harness.calls.filter((c) => c.functionKey === 'panel.send'));
          check(
            calls.length === 1 && calls[0].payload.phone === '+15550101234' && calls[0].payload.delivery === 'SMS',
            `${name}: send payload ${JSON.stringify(calls)}`,
          );
          const countdown = await page.getByTestId('verification-countdown').innerText();
          check(/expires in (10:00|9:5\d)$/.test(countdown), `${name}: countdown shown, got ${JSON.stringify(countdown)}`);
          await page.waitForFunction(() => document.querySelector('[data-testid="live-region"]').textContent.includes('Verification status: Link sent'));
        },
      ],
    ],
  },
  'issue-panel/form-email': {
    shots: [
      [
        'alternate',
        async (page, name) => {
          check((await page.getByRole('textbox', { name: /^Corporate email/ }).inputValue()) === '', `${name}: no person, empty email`);
          check(await page.getByRole('radio', { name: 'Email', exact: true }).isChecked(), `${name}: email default`);
          await page.getByRole('textbox', { name: /^Corporate email/ }).fill('sam.lee@acme.example');
          await page.getByRole('radio', { name: 'An alternate address' }).check();
          await page.getByLabel('Alternate email').fill('sam.lee@home.example');
          await page.getByTestId('send-button').click();
          await modal(page).getByTestId('send-dialog').waitFor();
          await page.waitForTimeout(400);
          check(
            (await modal(page).getByTestId('send-dialog').innerText()).includes(
              'to sam.lee@acme.example by email to sam.lee@home.example? The link expires in 15 minutes.',
            ),
            `${name}: alternate wording`,
          );
        },
      ],
    ],
  },
  'issue-panel/sent': {
    check: expectStatus('requested'),
    shots: [
      [
        'cancel-dialog',
        async (page, name) => {
          const opener = page.getByTestId('cancel-button');
          await opener.click();
          await modal(page).getByTestId('cancel-dialog').waitFor();
          await page.waitForTimeout(400);
          check(
            await modal(page)
              .getByTestId('cancel-dialog-cancel')
              .evaluate((el) => el === document.activeElement),
            `${name}: focus on "Keep it"`,
          );
        },
      ],
      [
        'cancel-kept',
        async (page, name) => {
          await page.keyboard.press('Escape');
          await modalClosed(page);
          await page.waitForTimeout(200);
          check(await page.getByTestId('cancel-button').evaluate((el) => el === document.activeElement), `${name}: focus back on the Cancel button`);
          check((await page.evaluate(() => window.__harness.calls.filter((c) => c.functionKey === 'panel.cancel').length)) === 0, `${name}: nothing cancelled`);
        },
      ],
      [
        'cancelled',
        async (page, name) => {
          await page.getByTestId('cancel-button').click();
          await modal(page).getByTestId('cancel-dialog-confirm').click();
          await modalClosed(page);
          await page.waitForSelector('[data-testid="verification-status"][data-status="cancelled"]', { timeout: 5_000 }).catch(() => {});
          await expectStatus('cancelled')(page, name);
        },
      ],
    ],
  },
  'issue-panel/in-progress': { check: expectStatus('inProgress') },
  'issue-panel/passed': {
    check: async (page, name) => {
      await expectStatus('passed')(page, name);
      check((await page.getByTestId('verification-status').innerText()).includes('Identity confirmed — you may proceed'), `${name}: passed wording`);
      check((await page.getByTestId('identity-id').innerText()) === '65a1f0c2e4b0a1d2c3f4e5a6', `${name}: identity id`);
    },
    shots: [
      [
        'new-form',
        async (page) => {
          await page.getByTestId('new-verification-button').click();
          await page.getByTestId('send-form').waitFor();
        },
      ],
    ],
  },
  'issue-panel/failed': {
    check: async (page, name) => {
      await expectStatus('failed')(page, name);
      check((await page.getByTestId('verification-status').innerText()).includes('Do not proceed — escalate for review'), `${name}: failed wording`);
    },
  },
  'issue-panel/manual-review': {
    check: async (page, name) => {
      await expectStatus('manualReview')(page, name);
      check((await page.getByTestId('verification-status').innerText()).includes('Do not proceed until a reviewer decides'), `${name}: review wording`);
    },
  },
  'issue-panel/expired': { check: expectStatus('expired') },
  'issue-panel/cancelled': { check: expectStatus('cancelled') },
  'issue-panel/live': {
    check: async (page, name) => {
      await expectStatus('requested')(page, name);
      await page.waitForSelector('[data-testid="verification-status"][data-status="passed"]', { timeout: 8_000 });
      const said = await page.getByTestId('live-region').innerText();
      check(said.includes('Verification status: Passed'), `${name}: status change announced, got ${JSON.stringify(said)}`);
    },
  },
  'admin-page/loading': { ready: false, check: async (page) => page.getByText('Loading settings').first().waitFor() },
  'admin-page/fresh': {
    check: async (page, name) => {
      check((await page.getByTestId('secret-apiKey').innerText()).includes('Not set'), `${name}: API key not set`);
    },
    shots: [
      [
        'saved',
        async (page, name) => {
          await page.getByLabel('API key').fill('ak_live_123');
          await page.getByLabel('Client ID', { exact: true }).fill('acme-client');
          await page.getByLabel('Client secret').fill('cs_456');
          await page.getByLabel('Integration reference').fill('b2b-acme');
          await page.getByTestId('save-button').click();
          await page.getByTestId('save-success').waitFor();
          check((await page.getByTestId('secret-apiKey').innerText()).includes('Set'), `${name}: API key now set`);
          check((await page.getByLabel('API key').inputValue()) === '', `${name}: secret field emptied after save`);
          const saves = await page.evaluate(() => window.__harness.calls.filter((c) => c.functionKey === 'admin.saveSettings'));
          check(saves.length === 1 && saves[0].payload.apiKey === 'ak_live_123' && !('webhookSecret' in saves[0].payload), `${name}: only typed secrets sent`);
        },
      ],
    ],
  },
  'admin-page/configured': {
    shots: [
      [
        'tested',
        async (page, name) => {
          await page.getByTestId('test-credentials').click();
          await page.getByTestId('connected').waitFor();
          check((await page.getByTestId('connected').innerText()).includes('Connected'), `${name}: connected badge`);
        },
        'section-credentials',
      ],
      [
        'preview-error',
        async (page, name) => {
          const area = page.getByLabel('Comment when verification passes');
          await area.fill('Hello {{employeeName}}\nSession {{sessionId');
          await page.getByTestId('preview-errors-passed').waitFor({ timeout: 5_000 });
          const text = await page.getByTestId('preview-errors-passed').innerText();
          check(text.includes('Line 1, column 7') && text.includes('Line 2, column 9'), `${name}: template errors with positions, got ${JSON.stringify(text)}`);
        },
        'section-templates',
      ],
      [
        'chip',
        async (page, name) => {
          const area = page.getByLabel('Comment when verification fails');
          await area.click();
          await area.press('End');
          await area.press('Control+End');
          await page
            .getByRole('button', { name: /^Insert agent:/ })
            .nth(1)
            .click();
          const value = await area.inputValue();
          check(value.endsWith('{{agent}}'), `${name}: variable inserted at the caret, got ${JSON.stringify(value.slice(-30))}`);
          await page.waitForFunction(() => document.querySelector('[data-testid="preview-failed"]').textContent.includes('Alex Agent'), null, {
            timeout: 5_000,
          });
        },
        'template-failed',
      ],
      [
        'send-test',
        async (page, name) => {
          await page.getByRole('textbox', { name: 'Employee email' }).fill('jane.doe@acme.example');
          await page.getByTestId('send-test').click();
          await page.getByTestId('send-test-result').waitFor();
          check((await page.getByTestId('send-test-result').innerText()).includes('6742be10c1e5d90012ff0001'), `${name}: session id shown`);
          await page.getByTestId('clear-token-cache').click();
          await page.getByTestId('section-credentials').getByText('Token cache cleared.', { exact: true }).waitFor();
        },
        'section-credentials',
      ],
    ],
  },
  'admin-page/oauth': {
    check: async (page, name) => {
      check((await page.getByTestId('webhook-token-url').innerText()).endsWith('/token'), `${name}: token URL shown`);
    },
    shots: [
      [
        'switch-mode',
        async (page, name) => {
          await page.getByRole('radio', { name: /Shared secret in a header/ }).check();
          check((await page.getByRole('textbox', { name: 'Secret header' }).inputValue()) === 'x-incode-secret', `${name}: shared secret default header`);
          check((await page.getByTestId('webhook-token-url').count()) === 0, `${name}: no token URL outside OAuth`);
          await page.getByRole('radio', { name: /OAuth 2.0/ }).check();
          check((await page.getByRole('textbox', { name: 'Client ID Incode presents' }).inputValue()) === 'incode-webhooks', `${name}: OAuth values kept`);
          await page.getByRole('radio', { name: /Shared secret in a header/ }).check();
        },
        'section-webhook',
      ],
    ],
  },
  'admin-page/transitions-error': {
    check: async (page, name) => {
      check((await page.getByTestId('section-transitions').innerText()).includes('Could not list the workflow transitions'), `${name}: warning shown`);
    },
    shots: [['section', async () => {}, 'section-transitions']],
  },
  'admin-page/save-errors': {
    shots: [
      [
        'errors',
        async (page, name) => {
          await page.getByTestId('save-button').click();
          await page.getByTestId('save-errors').waitFor();
          const summary = await page.getByTestId('save-errors').innerText();
          check(summary.includes('Someone else saved the settings meanwhile'), `${name}: unplaced error in summary`);
          const expiry = page.locator('[data-field="linkExpiryMinutes"]');
          check((await expiry.innerText()).includes('between 5 and 60'), `${name}: expiry error inline`);
          check(
            (await page.locator('[data-field="templates.passed"]').innerText()).includes('Line 2, column 11'),
            `${name}: template error inline with position`,
          );
          check(
            (await page.locator('[data-field="webhookAuth.header"]').innerText()).includes('letters, digits and dashes'),
            `${name}: webhook header error inline`,
          );
        },
      ],
    ],
  },
  'admin-page/test-fails': {
    shots: [
      [
        'test-failed',
        async (page, name) => {
          await page.getByTestId('test-credentials').click();
          await page.getByTestId('test-error').waitFor();
          check((await page.getByTestId('test-error').innerText()).includes('Test credentials'), `${name}: advice shown`);
        },
        'section-credentials',
      ],
    ],
  },
  'portal-panel/pending-sms': {
    check: async (page, name) => {
      const text = await page.getByTestId('portal-pending').innerText();
      check(
        text.includes('A help-desk agent sent you an identity verification link by SMS. Open it on your phone to complete the check; it expires at'),
        `${name}: wording`,
      );
    },
  },
  'portal-panel/none': { check: emptyPortal },
  'portal-panel/disabled': { check: emptyPortal },
  'portal-panel/error': { check: emptyPortal },
};

const SEND_ERROR_PLAN = {
  shots: [
    [
      'error',
      async (page, name) => {
        await page.getByTestId('send-button').click();
        await modal(page).getByTestId('send-dialog-confirm').click();
        await modalClosed(page);
        // An error about one field is said under it alone; any other above the form.
        await page.locator('[data-testid="send-error"], .field-errors').first().waitFor();
        await page.waitForTimeout(100);
        const notice = await page.getByTestId('send-error').count();
        const code = notice ? await page.getByTestId('send-error').getAttribute('data-error-code') : 'employee_not_found';
        const text = notice ? await page.getByTestId('send-error').innerText() : await page.locator('[data-field="email"]').innerText();
        const expected = {
          employee_not_found: 'This email is not in your Incode employee directory',
          bad_credentials: 'Ask a Jira admin to check the Incode credentials (Test credentials',
          incode_unavailable: 'Try again in a minute',
          rate_limited: 'Try again in a minute',
          limit_reached: 'hourly limit',
          validation: 'SMS is not enabled for this Incode integration',
          internal: 'Jira did not accept the issue property update',
        }[code];
        check(expected && text.includes(expected), `${name}: advice for ${code}, got ${JSON.stringify(text)}`);
        if (code === 'employee_not_found') {
          check(!(await page.locator('main').innerText()).includes('Error sending verification'), `${name}: said once, under the field`);
        }
        if (code === 'validation') {
          check((await page.locator('[data-field="phone"]').innerText()).includes('Incode does not accept this phone number'), `${name}: phone error inline`);
        }
        const focusOn = code === 'employee_not_found' ? page.getByRole('textbox', { name: /^Corporate email/ }) : page.getByTestId('send-button');
        check(await focusOn.evaluate((el) => el === document.activeElement), `${name}: focus back where the agent acts next`);
      },
    ],
  ],
};

/** The dialog the page opened in the (harness's) platform modal. */
const modal = (page) => page.frameLocator('[data-testid="harness-modal"] iframe');
const modalClosed = (page) => page.getByTestId('harness-modal').waitFor({ state: 'detached' });

async function emptyPortal(page, name) {
  const height = await page.evaluate(() => document.getElementById('root').getBoundingClientRect().height);
  check(height === 0, `${name}: portal panel should be empty (height ${height})`);
}

async function run() {
  const filters = process.argv.slice(2);
  await mkdir(outDir, { recursive: true });
  if (filters.length === 0) {
    for (const f of await readdir(outDir)) if (f.endsWith('.png')) await rm(path.join(outDir, f));
  }
  const server = await startHarnessServer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  let shots = 0;
  try {
    for (const scenario of SCENARIOS) {
      const key = `${scenario.page}/${scenario.id}`;
      if (filters.length && !filters.some((f) => key.includes(f))) continue;
      const plan = PLAN[key] ?? (key.startsWith('issue-panel/send-error-') ? SEND_ERROR_PLAN : {});
      for (const theme of ['light', 'dark']) {
        const context = await browser.newContext({ viewport: { width: WIDTH[scenario.page], height: 600 }, colorScheme: theme });
        const page = await context.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('console', (m) => {
          if (m.type() === 'error' && !m.text().includes('[harness] no canned answer')) errors.push(m.text());
        });
        const base = `${scenario.page}--${scenario.id}--${theme}`;
        try {
          await page.goto(`${server.url}/${scenario.page}/?scenario=${scenario.id}&theme=${theme}&liveStep=1500`);
          if (plan.ready !== false) await settle(page);
          else await page.waitForTimeout(800);
          check((await page.evaluate(() => document.documentElement.getAttribute('data-color-mode'))) === theme, `${key} ${theme}: colour mode applied`);
          if (plan.check) await plan.check(page, `${key} ${theme}`);
          await page.screenshot({ path: path.join(outDir, `${base}.png`), fullPage: true });
          shots += 1;
          for (const [suffix, act, section] of plan.shots ?? []) {
            await act(page, `${key}+${suffix} ${theme}`);
            await page.waitForTimeout(250);
            const file = path.join(outDir, `${base}--${suffix}.png`);
            // Tall pages: keep the part the interaction is about, readable at full size.
            if (section) await page.getByTestId(section).screenshot({ path: file });
            else await page.screenshot({ path: file, fullPage: true });
            shots += 1;
          }
        } catch (e) {
          failures.push(`${key} ${theme}: ${e.message.split('\n')[0]}`);
          await page.screenshot({ path: path.join(outDir, `${base}--FAILED.png`), fullPage: true }).catch(() => {});
        }
        for (const e of errors) failures.push(`${key} ${theme}: page error: ${e}`);
        await context.close();
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(`${shots} screenshots in ${path.relative(process.cwd(), outDir)}`);
  if (failures.length) {
    console.log(`${failures.length} check(s) failed:`);
    for (const f of failures) console.log(`  ✗ ${f}`);
    process.exitCode = 1;
  } else {
    console.log('all harness checks passed');
  }
}

await run();
