// The settings page: every resolver runs the action's plan (rust/src/admin/), which first
// refuses anyone who is not a Jira admin. Secrets go in, never out: the page sees only whether
// each one is set.
import { randomUUID } from 'node:crypto';
import { webTrigger } from '@forge/api';
import Resolver from '@forge/resolver';
import * as wasm from './console.js';
import { callerContext } from './access.js';
import { AppError, guarded } from './envelope.js';
import { run } from './run.js';

/** @typedef {import('./generated/console.js').AdminAction} AdminAction */
/** @typedef {import('./generated/console.js').WebhookUrls} WebhookUrls */

/** The webtriggers' URLs, which only the platform knows. @returns {Promise<WebhookUrls>} */
async function webhookUrls() {
  const [webhookUrl, tokenUrl] = await Promise.all([webTrigger.getUrl('incode-webhook'), webTrigger.getUrl('incode-webhook-token')]);
  return { webhookUrl, tokenUrl };
}

/**
 * A resolver running the admin action `action` (`urls` only asks the platform).
 * @param {AdminAction} action @param {() => Promise<WebhookUrls>} [urls]
 */
function adminAction(action, urls) {
  return guarded(`admin.${action}`, async ({ payload, context }) => {
    const input = { action, caller: callerContext(context), payload, nowMs: Date.now(), urls: await urls?.(), invocation: randomUUID() };
    const reply = await run(wasm, wasm.adminStart(input), wasm.adminNext);
    if (!reply.ok) {
      const error = reply.error ?? { code: 'internal', message: 'The action ended without an answer.' };
      throw new AppError(error.code, error.message, { fields: error.fields, retryable: error.retryable });
    }
    return reply.data;
  });
}

export const adminResolver = new Resolver()
  .define('admin.getSettings', adminAction('getSettings', webhookUrls))
  .define('admin.saveSettings', adminAction('saveSettings'))
  .define('admin.testCredentials', adminAction('testCredentials'))
  .define('admin.sendTest', adminAction('sendTest'))
  .define('admin.clearTokenCache', adminAction('clearTokenCache'))
  .define('admin.listTransitions', adminAction('listTransitions'))
  .define('admin.searchGroups', adminAction('searchGroups'))
  .define('admin.listPersonFields', adminAction('listPersonFields'))
  .define('admin.previewComment', adminAction('previewComment'))
  .define('admin.getDeliveries', adminAction('getDeliveries'))
  .define('admin.report', adminAction('report'))
  .getDefinitions();

// The "Identity verified" rule's configuration pages (create, edit, view in the workflow
// editor): Jira admins only, like the settings page.
export const gateRuleResolver = new Resolver().define('admin.gateRule', adminAction('gateRule')).getDefinitions();
