// The webtriggers Incode calls. `webhook`: a delivery, planned by the core
// (rust/src/delivery/): authenticate the exact raw body, then, under the session's lock, apply the
// event to its verification and carry out what the core decided (comment, transition, issue
// property, live update), exactly once. `webhookToken`: the OAuth client-credentials endpoint for
// Incode (rust/src/delivery/token.rs). ARCHITECTURE.md "Webhook processing" tells the protocol.
//
// This file only executes: it draws the lock owner and the log key's suffix, runs the plan
// (src/run.js), and keeps for each installation what the core answers it should remember (the
// kept settings, the count of failed authentications, the budget for logging forged deliveries).
import { randomBytes } from 'node:crypto';
import { __getRuntime } from '@forge/api';
import { deliveryNext, deliveryStart, tokenNext, tokenStart } from './core.js';
import { run } from './run.js';

/** @typedef {import('./generated/core.js').Memory} Memory */
/** @typedef {import('./generated/core.js').WebtriggerResponse} WebtriggerResponse */
/** @typedef {{ method?: string, body?: string, headers?: Record<string, string[] | string> }} WebtriggerRequest */

/** An instance serving many installations keeps the most recent ones only. */
const KEPT = 32;
/** What this instance remembers, per installation (opaque here: the core reads and answers it). @type {Map<string, Memory>} */
const memories = new Map();

/** The installation this invocation serves (a warm instance may serve several). */
function installationId() {
  const id = __getRuntime()?.appContext?.installationId;
  if (typeof id !== 'string' || id === '') throw new Error('the invocation names no installation');
  return id;
}

/** @param {string} installation @param {Memory} memory */
function remember(installation, memory) {
  memories.delete(installation);
  memories.set(installation, memory);
  if (memories.size > KEPT) memories.delete(/** @type {string} */ (memories.keys().next().value));
}

/** @param {WebtriggerRequest} request */
function parts(request) {
  return {
    body: typeof request?.body === 'string' ? request.body : '',
    method: typeof request?.method === 'string' ? request.method : '',
    headers: request?.headers ?? {},
  };
}

/**
 * @param {WebtriggerRequest} request
 * @returns {Promise<WebtriggerResponse>}
 */
export async function webhook(request) {
  const installation = installationId();
  const { body, method, headers } = parts(request);
  const first = deliveryStart(body, {
    method,
    headers,
    nowMs: Date.now(),
    owner: randomBytes(9).toString('hex'),
    nonce: randomBytes(5).toString('hex'),
    memory: memories.get(installation),
  });
  const { response, memory } = await run(first, deliveryNext);
  remember(installation, memory);
  return response;
}

/**
 * The OAuth 2.0 token endpoint Incode calls before delivering webhooks (client credentials).
 * @param {WebtriggerRequest} request
 * @returns {Promise<WebtriggerResponse>}
 */
export async function webhookToken(request) {
  const installation = installationId();
  const { body, method, headers } = parts(request);
  const first = tokenStart(body, { method, headers, nowMs: Date.now(), memory: memories.get(installation) });
  const { response, memory } = await run(first, tokenNext);
  remember(installation, memory);
  return response;
}
