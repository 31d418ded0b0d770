// The customer portal panel: when the admin turned it on, the requester of a request sees that a
// verification link is on its way and until when it works. Nothing else, and only their own.
import Resolver from '@forge/resolver';
import { requireRequester, callerOf } from './access.js';
import { guarded } from './envelope.js';
import { loadSettings } from './store.js';
import { loadIssueVerifications } from './verifications.js';

const OPEN = new Set(['requested', 'inProgress']);

/** @param {{ context: any }} request */
async function getState({ context }) {
  callerOf(context);
  const record = await loadSettings();
  if (!record.settings.portalEnabled) return { enabled: false, pending: null };
  const requester = await requireRequester(context);
  const nowMs = Date.now();
  const { current } = await loadIssueVerifications(requester.issue.id, nowMs);
  const pending = current && OPEN.has(current.status) && current.expiresAtMs > nowMs ? { expiresAtMs: current.expiresAtMs, delivery: current.delivery } : null;
  return { enabled: true, pending };
}

export const portalResolver = new Resolver().define('portal.getState', guarded('portal.getState', getState)).getDefinitions();
