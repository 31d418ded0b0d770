// The webhook webtrigger Incode posts events to: a delivery, planned by the core
// (rust/src/delivery/): authenticate the exact raw body, then, under the session's lock, apply the
// event to its verification and carry out what the core decided (comment, transition, issue
// property, live update), exactly once. ARCHITECTURE.md "Webhook processing" tells the protocol.
//
// This file only executes: it draws the lock owner and the log key's suffix, runs the plan
// (src/run.js); the core keeps what an instance remembers per installation. It
// loads the core module alone (src/core.js), which holds nothing but this.
import { randomBytes } from 'node:crypto';
import * as wasm from './core.js';
import { run } from './run.js';
import { installation, parts } from './webtrigger.js';

/** @typedef {import('./generated/core.js').WebtriggerResponse} WebtriggerResponse */

/**
 * @param {import('./webtrigger.js').WebtriggerRequest} request
 * @returns {Promise<WebtriggerResponse>}
 */
export async function webhook(request) {
  const { body, method, headers } = parts(request);
  const first = wasm.deliveryStart(body, installation(), {
    method,
    headers,
    nowMs: Date.now(),
    owner: randomBytes(9).toString('hex'),
    nonce: randomBytes(5).toString('hex'),
  });
  return run(wasm, first, wasm.deliveryNext);
}
