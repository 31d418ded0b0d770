// The same webhook decision in plain JavaScript (bench/baseline/), bundled the same way.
import { Core, receiveWebhook } from '../baseline/index.mjs';

// One compiled set of templates per settings revision, as for the core.
const cores = new WeakMap();

/**
 * @param {object} settings @param {string} secret
 * @param {{ headers: Record<string, string[]>, body: string }} request
 * @param {object} verification the stored record of the session @param {number} nowMs
 */
export function decide(settings, secret, request, verification, nowMs) {
  const receipt = receiveWebhook({ auth: settings.webhookAuth, secret, headers: request.headers, body: request.body, nowMs });
  if (receipt.kind !== 'event') return { receipt, decision: null };
  let core = cores.get(settings);
  if (!core) cores.set(settings, (core = new Core(settings)));
  return { receipt, decision: core.applyEvent(verification, receipt.event, nowMs) };
}
