// The OAuth 2.0 token endpoint Incode calls before delivering webhooks (client credentials),
// planned by the core (rust/src/delivery/token.rs). A separate function from the webhook, so the
// webhook's bundle does not carry the console module this one loads.
import * as wasm from './console.js';
import { run } from './run.js';
import { installation, parts } from './webtrigger.js';

/**
 * @param {import('./webtrigger.js').WebtriggerRequest} request
 * @returns {Promise<import('./generated/console.js').WebtriggerResponse>}
 */
export async function webhookToken(request) {
  const { body, method, headers } = parts(request);
  const first = wasm.tokenStart(body, installation(), { method, headers, nowMs: Date.now() });
  return run(wasm, first, wasm.tokenNext);
}
