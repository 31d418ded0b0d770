// Shared helpers for the host-site tests: REST calls against a local Jira site whose answers
// are themselves checked against the OpenAPI document (declared status, response schema).

import assert from 'node:assert/strict';
import { ACCOUNTS } from '../../dev/host/jira/index.mjs';

export const AS_APP = { kind: 'app' };
export const as = (name) => ({ kind: 'user', accountId: ACCOUNTS[name] });

export function adf(text) {
  return { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] };
}

/**
 * Performs a request on `site` and returns `{ status, json, headers, raw }`. JSON bodies are
 * serialised with a JSON content type. Unless `conform: false`, answers of platform operations
 * must use a status the spec declares and match that response's schema.
 */
export function call(site, who, method, path, { query, body, headers = {}, conform = true } = {}) {
  const hasBody = body !== undefined;
  const response = site.handle({
    method,
    path,
    query,
    as: who,
    headers: hasBody && typeof body !== 'string' ? { 'Content-Type': 'application/json', ...headers } : headers,
    body: hasBody ? (typeof body === 'string' ? body : JSON.stringify(body)) : undefined,
  });
  assert.equal(typeof response.body, 'string');
  const json = response.body === '' ? undefined : JSON.parse(response.body);
  if (conform && path.startsWith('/rest/api/3/')) {
    const found = site.contract.match(path.split('?')[0]);
    assert.ok(found, `${path} matches a spec path`);
    const problems = site.contract.checkResponse(found.template, method, response.status, response.body);
    assert.deepEqual(problems, [], `${method} ${path} → ${response.status} conforms to the spec: ${response.body.slice(0, 300)}`);
  }
  return { status: response.status, json, headers: response.headers, raw: response.body };
}
