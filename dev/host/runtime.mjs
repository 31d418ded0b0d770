// The Forge runtime host interface, installed once per process:
//   globalThis.__forge_fetch__(descriptor, path, init)  every platform call of @forge/api, kvs, realtime
//   globalThis.__forge_runtime__                        the invocation's runtime (appContext, ...)
//   globalThis.fetch                                    egress: checked against the manifest
//   console.log/info/warn/error/debug                   inside an invocation: the function's log
// Each invocation runs in an AsyncLocalStorage context, so concurrent invocations never see each
// other's user, module or counters, and a call made after an invocation returned (a promise the
// function forgot to await) fails and is recorded, as the platform would not serve it.
//
// A platform call is routed by its descriptor:
//   fpp  remote jira      -> the local Jira site, as the app or as the invoking user
//   fpp  remote stargate  -> the platform GraphQL the SDK uses (web trigger URLs)
//   kvs                   -> the local KVS;  realtime -> the realtime hub
//   tpp / global fetch    -> egress: allowed hosts go to the Incode sandbox (or the network when
//                            the host runs with incode: "live"); others fail with the SDK's
//                            ExternalEndpointNotAllowedError (REQUEST_EGRESS_ALLOWLIST_ERR).
// Every call can be delayed (latencyMs), is counted per invocation with the number of sequential
// "waves" (calls that overlap count once), and can be failed on purpose (faults).
import { AsyncLocalStorage } from 'node:async_hooks';
import crypto from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import util from 'node:util';
import { installFunctionClock, realNow } from './clock.mjs';

const require = createRequire(import.meta.url);
const { ExternalEndpointNotAllowedError, FetchError } = require('@forge/api/out/api/errors.js');
const { EgressFilteringService } = require('@forge/egress');

const als = new AsyncLocalStorage();
let originalFetch = null;

const LOGS_KEPT = 2000;

export const FAULT_TARGETS = ['jira', 'kvs', 'incode', 'realtime', 'platform'];

const CONSOLE_LEVELS = ['log', 'info', 'warn', 'error', 'debug'];
const ROUTED = Symbol('forge-host console');

/**
 * What a function writes to the console goes to its platform's log (as Forge collects function
 * logs), not to the host's terminal; outside an invocation the console is untouched. Checked per
 * method on every install, because a test may have swapped the console in between.
 */
function routeConsole() {
  for (const level of CONSOLE_LEVELS) {
    if (console[level]?.[ROUTED]) continue;
    const outside = console[level];
    const routed = function (...args) {
      const store = als.getStore();
      if (!store) return outside.apply(this, args);
      store.platform.functionLog(store.invocation, level, args);
    };
    routed[ROUTED] = true;
    console[level] = routed;
  }
}

/** Installs the runtime globals (idempotent). Outside an invocation `fetch` is the plain one. */
export function installForgeGlobals() {
  routeConsole();
  // Functions of a host on a controlled clock see its time (clock.mjs); others the system's.
  installFunctionClock(() => als.getStore()?.platform.clock?.());
  if (originalFetch) return;
  originalFetch = globalThis.fetch;
  globalThis.__forge_fetch__ = async function __forge_fetch__(descriptor, path, init) {
    const store = als.getStore();
    if (!store) throw new Error('Forge platform call outside a function invocation: __forge_fetch__ has no invocation context');
    return store.platform.forgeFetch(store, descriptor, path, init);
  };
  Object.defineProperty(globalThis, '__forge_runtime__', {
    configurable: true,
    get: () => als.getStore()?.runtime,
  });
  globalThis.fetch = function fetch(input, init) {
    const store = als.getStore();
    if (!store) return originalFetch(input, init);
    return store.platform.egressFetch(store, input, init);
  };
}

/** The process's own fetch, untouched by egress rules (for the host itself and live Incode). */
export function plainFetch(input, init) {
  return (originalFetch ?? globalThis.fetch)(input, init);
}

/** Runs `fn` outside any invocation (services must not inherit the caller's context). */
export function outsideInvocation(fn) {
  return als.exit(fn);
}

export function currentInvocation() {
  return als.getStore()?.invocation;
}

// ---------------------------------------------------------------------------------------------
// helpers

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export function toResponse({ status, headers = {}, body = '' }) {
  const h = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) h.append(name, String(v));
  }
  return new Response(NULL_BODY_STATUSES.has(status) ? null : body, { status, statusText: http.STATUS_CODES[status] ?? '', headers: h });
}

/** Header names lower-cased, values joined (what a service sees on the wire). */
export function plainHeaders(headers) {
  const out = {};
  if (!headers) return out;
  const entries = headers instanceof Headers ? [...headers.entries()] : Array.isArray(headers) ? headers : Object.entries(headers);
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    const key = String(name).toLowerCase();
    out[key] = out[key] === undefined ? String(value) : `${out[key]}, ${value}`;
  }
  return out;
}

function bodyText(body) {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  if (body instanceof ArrayBuffer) return Buffer.from(body).toString('utf8');
  throw new Error(`The local Forge host cannot forward a ${body?.constructor?.name ?? typeof body} request body`);
}

function proxyError(status, reason) {
  return toResponse({ status, headers: { 'forge-proxy-error': reason, 'content-type': 'application/json' }, body: JSON.stringify({ message: reason }) });
}

function abortable(promise, signal) {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// faults

/**
 * Fault rules: `add({ target, match?(req), nth = 1, times = 1, status?, body?, headers?, error?, delayMs?, landed? })`.
 * A rule fires on its `nth` matching call and on the `times - 1` matching calls after it
 * (`times: Infinity` for every one). It answers `status` (with a body in the target's error
 * shape unless `body` is given), or throws: `error: 'timeout'` (the TimeoutError of an aborted
 * fetch), `'network'` (fetch failed), any other string or an Error. `delayMs` waits first.
 * `landed: true` performs the call first and then answers with the fault: the effect stays and
 * only its answer is lost, as when a call times out after the service applied it.
 */
export function createFaults() {
  const rules = [];
  return {
    add(rule) {
      if (!FAULT_TARGETS.includes(rule?.target)) throw new Error(`fault target must be one of ${FAULT_TARGETS.join(', ')}`);
      if (rule.status === undefined && rule.error === undefined && rule.delayMs === undefined) {
        throw new Error('a fault needs status, error or delayMs');
      }
      if (rule.landed && rule.status === undefined && rule.error === undefined) {
        throw new Error('a landed fault needs status or error: the answer that replaces the real one');
      }
      const entry = { nth: 1, times: 1, ...rule, seen: 0, fired: 0 };
      rules.push(entry);
      return {
        get hits() {
          return entry.fired;
        },
        get exhausted() {
          return entry.fired >= entry.times;
        },
        remove() {
          const i = rules.indexOf(entry);
          if (i >= 0) rules.splice(i, 1);
        },
      };
    },
    /** The rule that fires for this call, if any (consumes it). */
    take(target, request) {
      for (const rule of rules) {
        if (rule.target !== target || rule.fired >= rule.times) continue;
        if (rule.match && !rule.match(request)) continue;
        rule.seen += 1;
        if (rule.seen < rule.nth) continue;
        rule.fired += 1;
        return rule;
      }
      return null;
    },
    /** Rules that have not fired as often as they were meant to. */
    pending() {
      return rules.filter((r) => r.fired < r.times && Number.isFinite(r.times)).map(({ target, nth, times, fired }) => ({ target, nth, times, fired }));
    },
    clear() {
      rules.length = 0;
    },
  };
}

function faultError(error) {
  if (error instanceof Error) return error;
  if (error === 'timeout') return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
  if (error === 'network') return new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
  return new FetchError(String(error === true ? 'injected failure' : error));
}

function faultBody(target, status, request) {
  const text = http.STATUS_CODES[status] ?? 'Error';
  switch (target) {
    case 'jira':
      return { errorMessages: [`${text} (injected fault)`], errors: {} };
    case 'kvs':
      return { code: status === 429 ? 'RATE_LIMIT_EXCEEDED' : status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST', message: `${text} (injected fault)` };
    case 'incode':
      return { timestamp: Date.now(), status, error: text, message: `${text} (injected fault)`, path: request.path ?? '' };
    default:
      return { errors: [{ message: `${text} (injected fault)` }] };
  }
}

// ---------------------------------------------------------------------------------------------
// stats

export function createStats({ keep = 500 } = {}) {
  const invocations = [];
  const lateCalls = [];
  return {
    invocations,
    /** Platform calls attempted after their invocation had returned (missing awaits). */
    lateCalls,
    last() {
      return invocations[invocations.length - 1];
    },
    find(predicate) {
      return invocations.filter(predicate);
    },
    record(invocation) {
      invocations.push(invocation);
      if (invocations.length > keep) invocations.shift();
    },
    reset() {
      invocations.length = 0;
      lateCalls.length = 0;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// the platform of one host

/**
 * @param {object} options
 * @param {ReturnType<import('./manifest.mjs').readManifest>} options.manifest
 * @param {{ installationId: string, cloudId: string, environmentId: string, appVersion?: string }} options.ids
 * @param {() => string} options.baseUrl the host's URL (known once it listens)
 * @param {{ handle: Function }} options.jira
 * @param {{ handle: Function }} options.kvs
 * @param {ReturnType<import('./realtime.mjs').createRealtimeHub>} options.realtime
 * @param {() => ({ handleApi: Function } | null)} options.incode the sandbox (null in live mode)
 * @param {'sandbox'|'live'} options.incodeMode
 * @param {number} [options.latencyMs]
 * @param {(line: string) => void} [options.log]
 * @param {(entry: { at: number, level: string, functionKey: string, invocationId: string, message: string }) => void} [options.onFunctionLog]
 *   called with every console line a function writes (also kept in `logs`)
 * @param {() => number} [options.now] the clock the functions' Date follows (default: system time)
 */
export function createPlatform({
  manifest,
  ids,
  baseUrl,
  jira,
  kvs,
  realtime,
  incode,
  incodeMode = 'sandbox',
  latencyMs = 0,
  log = () => {},
  onFunctionLog = () => {},
  now = null,
}) {
  installForgeGlobals();
  const faults = createFaults();
  const stats = createStats();
  const logs = [];

  /** One console call of a function: kept (the newest LOGS_KEPT) and handed to `onFunctionLog`. */
  function functionLog(invocation, level, args) {
    const entry = { at: realNow(), level, functionKey: invocation.functionKey, invocationId: invocation.id, message: util.format(...args) };
    logs.push(entry);
    if (logs.length > LOGS_KEPT) logs.shift();
    onFunctionLog(entry);
  }
  const egressFilter = new EgressFilteringService(manifest.egress);
  const webtriggerKeys = new Set(manifest.webtriggers.keys());

  function webtriggerUrl(key) {
    return `${baseUrl()}/x/${ids.installationId}/${encodeURIComponent(key)}`;
  }

  function egressAllowed(url) {
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return false;
    // Check the URL as it will be fetched (userinfo, fragments and the like removed).
    return egressFilter.isValidUrl(`${parsed.protocol}//${parsed.host}${parsed.pathname}`);
  }

  /** Counts, delays, applies faults to, and performs one platform call. */
  async function platformCall(store, target, request, perform, signal) {
    const { invocation } = store;
    if (invocation.ended) {
      const late = { invocationId: invocation.id, name: invocation.name, target, method: request.method, path: request.path ?? request.url };
      stats.lateCalls.push(late);
      log(`late platform call after invocation ${invocation.id} (${invocation.name}) returned: ${target} ${late.method} ${late.path}`);
      throw new Error(`Forge platform call after the invocation returned (${target} ${late.method} ${late.path}): await every platform call`);
    }
    invocation.calls[target] += 1;
    invocation.calls.total += 1;
    if (invocation.inFlight === 0) invocation.waves += 1;
    invocation.inFlight += 1;
    try {
      const work = (async () => {
        if (latencyMs > 0) await sleep(latencyMs);
        const fault = faults.take(target, request);
        if (fault?.landed) await outsideInvocation(perform);
        if (fault) {
          if (fault.delayMs) await sleep(fault.delayMs);
          if (fault.error !== undefined) throw faultError(fault.error);
          if (fault.status !== undefined) {
            const body = fault.body ?? faultBody(target, fault.status, request);
            return toResponse({
              status: fault.status,
              headers: { 'content-type': 'application/json', ...(fault.headers ?? {}) },
              body: typeof body === 'string' ? body : JSON.stringify(body),
            });
          }
        }
        // Services run outside the invocation context: what they start is not the app's work.
        return outsideInvocation(perform);
      })();
      return await abortable(work, signal);
    } finally {
      invocation.inFlight -= 1;
    }
  }

  async function jiraCall(store, descriptor, path, init) {
    const { invocation } = store;
    let as;
    if (descriptor.provider === 'user') {
      // asUser needs the invoking user's token; a webtrigger (or any invocation without a
      // user) has none, and the SDK turns this answer into NeedsAuthenticationError.
      if (!invocation.accountId || (descriptor.accountId && descriptor.accountId !== invocation.accountId)) {
        return platformCall(store, 'jira', { method: init?.method ?? 'GET', path, as: 'user' }, async () => proxyError(401, 'NEEDS_AUTHENTICATION_ERR'));
      }
      as = { kind: 'user', accountId: invocation.accountId };
    } else {
      as = { kind: 'app' };
    }
    const [pathname, query = ''] = String(path).split(/\?(.*)/s);
    const request = {
      method: (init?.method ?? 'GET').toUpperCase(),
      path: pathname,
      query,
      headers: plainHeaders(init?.headers),
      body: bodyText(init?.body),
      as,
    };
    return platformCall(store, 'jira', request, async () => toResponse(await jira.handle(request)), init?.signal);
  }

  /**
   * Atlassian's personal data reporting API (what `privacy.reportPersonalData` posts): accounts
   * that are gone from the site, or deactivated, are reported `closed`; 204 when none need action.
   */
  function reportAccounts(request) {
    const json = (status, value) =>
      toResponse({ status, headers: { 'content-type': 'application/json' }, body: value === undefined ? '' : JSON.stringify(value) });
    let accounts;
    try {
      ({ accounts } = JSON.parse(request.body ?? ''));
    } catch {
      return json(400, { message: 'Request body is not JSON' });
    }
    if (
      !Array.isArray(accounts) ||
      accounts.length === 0 ||
      accounts.length > 90 ||
      accounts.some((a) => typeof a?.accountId !== 'string' || Number.isNaN(Date.parse(a?.updatedAt)))
    ) {
      return json(400, { message: 'accounts must list 1 to 90 { accountId, updatedAt (ISO 8601) }' });
    }
    const closed = accounts.filter((a) => {
      const user = jira.users?.get?.(a.accountId);
      return !user || user.active === false;
    });
    if (closed.length === 0) return json(204);
    return json(200, { accounts: closed.map((a) => ({ accountId: a.accountId, status: 'closed' })) });
  }

  async function stargateCall(store, descriptor, path, init) {
    const request = { method: init?.method ?? 'POST', path, body: bodyText(init?.body) };
    return platformCall(
      store,
      'platform',
      request,
      async () => {
        if (path.replace(/\/+$/, '') === '/app/report-accounts') {
          if (descriptor.provider !== 'app') return proxyError(403, 'PROXY_ERR');
          return reportAccounts(request);
        }
        if (path !== '/graphql') return proxyError(404, 'INVALID_REMOTE');
        let parsed;
        try {
          parsed = JSON.parse(request.body ?? '');
        } catch {
          return toResponse({ status: 400, body: JSON.stringify({ errors: [{ message: 'Request body is not JSON' }] }) });
        }
        const json = (value) => toResponse({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
        const query = String(parsed.query ?? '');
        const vars = parsed.variables ?? {};
        if (/createWebTriggerUrl\s*\(/.test(query)) {
          const key = vars.input?.triggerKey;
          if (!webtriggerKeys.has(key)) return json({ data: { createWebTriggerUrl: null }, errors: [{ message: `Unknown web trigger ${key}` }] });
          return json({ data: { createWebTriggerUrl: { url: webtriggerUrl(key) } } });
        }
        if (/webTriggerUrlsByAppContext\s*\(/.test(query)) {
          return json({ data: { webTriggerUrlsByAppContext: [...webtriggerKeys].map((k) => ({ triggerKey: k, url: webtriggerUrl(k) })) } });
        }
        if (/deleteWebTriggerUrl\s*\(/.test(query)) {
          return json({ data: { deleteWebTriggerUrl: { success: false, message: 'Web trigger URLs of the local host are fixed' } } });
        }
        return json({ errors: [{ message: 'This GraphQL operation is not available in the local Forge host' }] });
      },
      init?.signal,
    );
  }

  async function forgeFetch(store, descriptor, path, init) {
    switch (descriptor?.type) {
      case 'fpp':
        if (descriptor.remote === 'jira') return jiraCall(store, descriptor, path, init);
        if (descriptor.remote === 'stargate') return stargateCall(store, descriptor, path, init);
        return platformCall(store, 'platform', { method: init?.method ?? 'GET', path }, async () => proxyError(400, 'INVALID_REMOTE'));
      case 'kvs': {
        const request = { method: 'POST', path, body: bodyText(init?.body) };
        return platformCall(store, 'kvs', request, async () => toResponse(kvs.handle(path, request.body)), init?.signal);
      }
      case 'realtime': {
        const headers = plainHeaders(init?.headers);
        const request = { method: 'POST', path, body: bodyText(init?.body), headers };
        return platformCall(
          store,
          'realtime',
          request,
          async () => {
            const { status, json } = realtime.handleGraphql(request.body, headers['x-forge-context-token']);
            return toResponse({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
          },
          init?.signal,
        );
      }
      case 'tpp':
        if (/^https?:\/\//i.test(String(path))) return egressFetch(store, String(path), init);
        return platformCall(store, 'platform', { method: init?.method ?? 'GET', path }, async () => proxyError(400, 'INVALID_REMOTE'));
      case 'frc':
        return platformCall(store, 'platform', { method: init?.method ?? 'GET', path }, async () => proxyError(400, 'INVALID_REMOTE'));
      case 'fcc':
        return platformCall(store, 'platform', { method: init?.method ?? 'GET', path }, async () => proxyError(400, 'INVALID_SERVICE_KEY'));
      default:
        throw new Error(`The local Forge host does not serve platform calls of type ${descriptor?.type}`);
    }
  }

  async function egressFetch(store, input, init) {
    const target = input instanceof Request ? input.url : input instanceof URL ? input.href : String(input);
    if (!egressAllowed(target)) {
      // What the Forge runtime throws for a host missing from permissions.external.fetch.backend.
      throw new ExternalEndpointNotAllowedError(target);
    }
    const request = new Request(input, init);
    const url = request.url;
    const method = request.method;
    const headers = plainHeaders(request.headers);
    const body = method === 'GET' || method === 'HEAD' ? undefined : await request.text();
    const parsed = new URL(url);
    const described = { method, url, host: parsed.host, path: parsed.pathname, headers, body };
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    return platformCall(
      store,
      'incode',
      described,
      async () => {
        if (incodeMode === 'live') {
          return plainFetch(url, { method, headers, body, signal });
        }
        const sandbox = incode();
        if (!sandbox) throw new TypeError('fetch failed', { cause: new Error('the Incode sandbox is not running') });
        if (sandbox.serves && !sandbox.serves(url)) {
          // An allowed host that nobody answers for: what a DNS failure looks like to fetch.
          throw new TypeError('fetch failed', { cause: Object.assign(new Error(`getaddrinfo ENOTFOUND ${parsed.hostname}`), { code: 'ENOTFOUND' }) });
        }
        return toResponse(await sandbox.handleApi({ url, method, headers, body }));
      },
      signal,
    );
  }

  /**
   * Runs `fn` as one invocation.
   * @param {{ kind: 'resolver'|'webtrigger', functionKey: string, name: string, moduleKey: string,
   *   accountId?: string, uiContext?: { moduleKey: string, extension: object }, timeoutMs: number }} meta
   */
  async function run(meta, fn) {
    const invocation = {
      id: crypto.randomUUID(),
      kind: meta.kind,
      functionKey: meta.functionKey,
      name: meta.name,
      moduleKey: meta.moduleKey,
      accountId: meta.accountId ?? undefined,
      startedAt: realNow(),
      durationMs: null,
      calls: Object.fromEntries([...FAULT_TARGETS, 'total'].map((t) => [t, 0])),
      waves: 0,
      inFlight: 0,
      ended: false,
      error: null,
    };
    const context = meta.uiContext ? realtime.registerContext(meta.uiContext) : null;
    const deadline = invocation.startedAt + meta.timeoutMs;
    const runtime = {
      appContext: {
        appId: manifest.appId,
        appVersion: ids.appVersion ?? '1.0.0',
        environmentId: ids.environmentId,
        environmentType: 'DEVELOPMENT',
        invocationId: invocation.id,
        installationId: ids.installationId,
        moduleKey: meta.moduleKey,
        license: undefined,
        installation: undefined,
        permissions: { scopes: manifest.scopes, external: manifest.permissions.external ?? {} },
      },
      aaid: invocation.accountId,
      contextAri: `ari:cloud:jira::site/${ids.cloudId}`,
      lambdaContext: {
        functionName: meta.functionKey,
        awsRequestId: invocation.id,
        getRemainingTimeInMillis: () => Math.max(0, deadline - realNow()),
      },
      metrics: NOOP_METRICS,
      tracing: { traceId: crypto.randomBytes(8).toString('hex'), spanId: crypto.randomBytes(8).toString('hex') },
      proxy: { token: crypto.randomBytes(16).toString('hex'), url: baseUrl() },
      realtime: context ? { contextToken: context.token } : undefined,
      externalAuth: [],
    };
    const store = { platform: api, runtime, invocation };
    let timer;
    try {
      const work = als.run(store, fn);
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => {
          reject(Object.assign(new Error(`${meta.kind} ${meta.name} timed out after ${meta.timeoutMs} ms (the Forge limit)`), { code: 'FUNCTION_TIMEOUT' }));
        }, meta.timeoutMs);
        timer.unref?.();
      });
      return await Promise.race([work, timeout]);
    } catch (error) {
      invocation.error = error?.message ?? String(error);
      throw error;
    } finally {
      clearTimeout(timer);
      invocation.ended = true;
      invocation.durationMs = realNow() - invocation.startedAt;
      stats.record(invocation);
      context?.release();
    }
  }

  const api = { forgeFetch, egressFetch, egressAllowed, run, faults, stats, webtriggerUrl, functionLog, logs, clock: now };
  return api;
}

const NOOP_TIMER = { stop() {} };
const NOOP_METRICS = {
  counter: () => ({ incr() {}, decr() {} }),
  gauge: () => ({ set() {} }),
  histogram: () => ({ record() {} }),
  timing: () => ({ measure: () => NOOP_TIMER }),
};
