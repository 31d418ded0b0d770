// The webhook decision as the Forge function makes it with the Rust core: authenticate and parse
// with the `Core` kept for the settings revision (`receiveDelivery`: only the headers its
// authentication reads cross), then apply the event (`applyEvent`: the record's change crosses back).
// Bundled by the benchmark exactly as Forge bundles the app (dev/forge-bundle.mjs).
import { Core, applyEvent, receiveDelivery } from '../../src/core.js';

// One `Core` per settings revision, as the shims keep it (a function instance serves one site).
const cores = new WeakMap();

/**
 * @param {object} settings @param {string} secret
 * @param {{ headers: Record<string, string[]>, body: string }} request
 * @param {object} verification the stored record of the session @param {number} nowMs
 */
export function decide(settings, secret, request, verification, nowMs) {
  let core = cores.get(settings);
  if (!core) cores.set(settings, (core = new Core(settings)));
  const receipt = receiveDelivery(core, { secret, headers: request.headers, body: request.body, nowMs });
  if (receipt.kind !== 'event') return { receipt, decision: null };
  return { receipt, decision: applyEvent(core, verification, receipt.event, nowMs) };
}
