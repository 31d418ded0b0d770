// What the two webtriggers' executors share: the installation the invocation serves (the core
// keeps what an instance remembers per installation: the kept settings, the count of failed
// authentications, the budget for logging forged deliveries) and the request's parts.
import { __getRuntime } from '@forge/api';

/** @typedef {{ method?: string, body?: string, headers?: Record<string, string[] | string> }} WebtriggerRequest */

/** The installation this invocation serves (a warm instance may serve several). */
export function installation() {
  const id = __getRuntime()?.appContext?.installationId;
  if (typeof id !== 'string' || id === '') throw new Error('the invocation names no installation');
  return id;
}

/** @param {WebtriggerRequest} request */
export function parts(request) {
  return {
    body: typeof request?.body === 'string' ? request.body : '',
    method: typeof request?.method === 'string' ? request.method : '',
    headers: request?.headers ?? {},
  };
}
