// Custom UI hosting: each manifest resource folder is served at /app/<resourceKey>/ with the
// Content-Security-Policy Forge's CDN sends (built by @forge/csp from the manifest), and
// index.html gets /__bridge/client.js injected before the page's own scripts. That script
// defines `globalThis.__bridge.callBridge(name, payload)`, so the real @forge/bridge runs unchanged
// and its calls arrive here under /__bridge/.
//
// Identity: the shell asks for a frame (POST /__host/frames) for a user, a module and an issue or
// request; the host answers an opaque, unguessable frame token that the iframe URL carries. Every
// bridge request presents that token and the host maps it back to (account, module, extension):
// a page can never choose its user or its issue.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { RealtimeError } from './realtime.mjs';

const require = createRequire(import.meta.url);
const { CSPInjectionService, CSPProcessingService } = require('@forge/csp');
const cheerio = require('cheerio');

const CLIENT_FILE = path.join(path.dirname(new URL(import.meta.url).pathname), 'bridge-client.js');
const MAX_FRAMES = 2000;
const SSE_ATTACH_TIMEOUT_MS = 30_000;
const SSE_KEEPALIVE_MS = 15_000;
const MAX_BODY_BYTES = 1024 * 1024;

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export class HttpProblem extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function sendJson(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(body);
}

export async function readBody(req, limit = MAX_BODY_BYTES) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new HttpProblem(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function readJson(req) {
  const text = await readBody(req);
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpProblem(400, 'BAD_REQUEST', 'The request body is not JSON');
  }
}

/**
 * @param {object} options
 * @param {ReturnType<import('./manifest.mjs').readManifest>} options.manifest
 * @param {{ installationId: string, cloudId: string, environmentId: string }} options.ids
 * @param {() => string} options.baseUrl
 * @param {Function} options.invokeResolver host.invokeResolver
 * @param {ReturnType<import('./realtime.mjs').createRealtimeHub>} options.realtime
 * @param {{ handle: Function }} options.jira
 * @param {(accountId: string) => object | undefined} options.lookupUser
 * @param {(line: string) => void} [options.log]
 */
export function createBridge({ manifest, ids, baseUrl, invokeResolver, realtime, jira, lookupUser, log = () => {} }) {
  /** frame token -> { accountId, moduleKey, moduleType, resource, extension, theme, locale, timezone } */
  const frames = new Map();
  /** subscription id -> { frame, hub, stream, queue, timer } */
  const streams = new Map();
  const cspViolations = [];
  const cspProcessor = new CSPProcessingService({ info: (m) => log(`csp: ${m}`), warn: (m) => log(`csp: ${m}`) }, cheerio.load);
  const cspInjector = new CSPInjectionService();

  function issueFrame({ accountId, moduleKey, extension = {}, theme = 'light', locale, timezone }) {
    const mod = manifest.uiModules.get(moduleKey);
    if (!mod) throw new HttpProblem(404, 'UNKNOWN_MODULE', `No Custom UI module ${moduleKey} in the manifest`);
    if (mod.pages) throw new HttpProblem(400, 'RULE_PAGE', `Module ${moduleKey} is a workflow rule: its pages open in the workflow editor only`);
    if (accountId !== undefined && accountId !== null && !lookupUser(accountId)) {
      throw new HttpProblem(404, 'UNKNOWN_USER', `No user ${accountId} on the site`);
    }
    if (theme !== 'light' && theme !== 'dark') throw new HttpProblem(400, 'BAD_THEME', 'theme must be light or dark');
    const token = crypto.randomBytes(24).toString('base64url');
    const user = accountId ? lookupUser(accountId) : undefined;
    frames.set(token, {
      accountId: accountId ?? undefined,
      moduleKey,
      moduleType: mod.type,
      resource: mod.resource,
      extension: { ...extension, type: mod.type },
      theme,
      locale: locale ?? user?.locale ?? 'en_US',
      timezone: timezone ?? user?.timeZone ?? 'UTC',
    });
    while (frames.size > MAX_FRAMES) frames.delete(frames.keys().next().value);
    return { token, src: `/app/${encodeURIComponent(mod.resource)}/?frame=${encodeURIComponent(token)}` };
  }

  /**
   * A workflow rule's create, edit or view page as Jira's workflow editor draws it, for an admin:
   * the saved configuration (edit, view) in `extension.validatorConfig`, as Forge gives it. The
   * frame remembers the rule it configures (`target`), which only the host reads back.
   */
  function ruleFrame({ accountId, moduleKey, entryPoint, validatorConfig, target, theme = 'light' }) {
    const mod = manifest.uiModules.get(moduleKey);
    const resource = mod?.pages?.[entryPoint];
    if (!resource) throw new HttpProblem(404, 'UNKNOWN_PAGE', `Workflow rule ${moduleKey} has no ${entryPoint} page`);
    if (!lookupUser(accountId)) throw new HttpProblem(404, 'UNKNOWN_USER', `No user ${accountId} on the site`);
    if (theme !== 'light' && theme !== 'dark') throw new HttpProblem(400, 'BAD_THEME', 'theme must be light or dark');
    const token = crypto.randomBytes(24).toString('base64url');
    const user = lookupUser(accountId);
    const configKey = mod.type === 'jira:workflowCondition' ? 'conditionConfig' : 'validatorConfig';
    frames.set(token, {
      accountId,
      moduleKey,
      moduleType: mod.type,
      resource,
      extension: { type: mod.type, ...(entryPoint === 'create' ? {} : { [configKey]: validatorConfig }) },
      theme,
      locale: user?.locale ?? 'en_US',
      timezone: user?.timeZone ?? 'UTC',
      rule: { entryPoint, target },
    });
    while (frames.size > MAX_FRAMES) frames.delete(frames.keys().next().value);
    return { token, src: `/app/${encodeURIComponent(resource)}/?frame=${encodeURIComponent(token)}` };
  }

  /**
   * The frame of a modal opened by the page in `opener` (`@forge/bridge` Modal): the opener's user,
   * module, issue and theme, with the modal's `context` in `extension.modal`, as Forge gives it.
   * `resource` defaults to the opener's own; it must be a resource of the manifest.
   */
  function modalFrame(opener, { resource, context }) {
    const key = resource ?? opener.resource;
    if (typeof key !== 'string' || !manifest.resources.has(key)) {
      throw new HttpProblem(400, 'UNKNOWN_RESOURCE', `No resource ${key} in the manifest for the modal`);
    }
    const token = crypto.randomBytes(24).toString('base64url');
    frames.set(token, {
      ...opener,
      resource: key,
      extension: { ...opener.extension, modal: context === undefined ? {} : context },
      modal: true,
      rule: undefined,
    });
    while (frames.size > MAX_FRAMES) frames.delete(frames.keys().next().value);
    return { token, src: `/app/${encodeURIComponent(key)}/?frame=${encodeURIComponent(token)}` };
  }

  function frameOf(req) {
    const token = req.headers['x-forge-frame'];
    const frame = typeof token === 'string' ? frames.get(token) : undefined;
    if (!frame) throw new HttpProblem(401, 'UNKNOWN_FRAME', 'This page is not a frame issued by the host (reload it from the shell)');
    return { token, frame };
  }

  function contextOf(frame) {
    const user = frame.accountId ? lookupUser(frame.accountId) : undefined;
    return {
      accountId: frame.accountId,
      accountType: user?.accountType ?? (frame.accountId ? 'licensed' : 'anonymous'),
      cloudId: ids.cloudId,
      environmentId: ids.environmentId,
      environmentType: 'DEVELOPMENT',
      extension: frame.extension,
      license: undefined,
      localId: `ari:cloud:ecosystem::extension/${manifest.appId}/${ids.environmentId}/static/${frame.moduleKey}`,
      locale: frame.locale,
      moduleKey: frame.moduleKey,
      siteUrl: baseUrl(),
      timezone: frame.timezone,
      theme: { colorMode: frame.theme },
    };
  }

  function locationUrl(location) {
    if (typeof location === 'string') {
      const url = new URL(location, baseUrl());
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HttpProblem(400, 'BAD_URL', 'Only http(s) URLs can be opened');
      return url.href;
    }
    switch (location?.target) {
      case 'issue':
        return `${baseUrl()}/#/issue/${encodeURIComponent(location.issueKey)}`;
      case 'module': {
        if (!manifest.uiModules.has(location.moduleKey)) throw new HttpProblem(404, 'UNKNOWN_MODULE', `No module ${location.moduleKey}`);
        return `${baseUrl()}/#/module/${encodeURIComponent(location.moduleKey)}${location.path ? `/${location.path.replace(/^\/+/, '')}` : ''}`;
      }
      case 'userProfile':
        return `${baseUrl()}/#/user/${encodeURIComponent(location.accountId)}`;
      case 'projectSettingsDetails':
        return `${baseUrl()}/#/project/${encodeURIComponent(location.projectKey)}/settings`;
      case 'dashboard':
        return `${baseUrl()}/#/dashboard/${encodeURIComponent(location.dashboardId)}`;
      default:
        throw new HttpProblem(400, 'BAD_TARGET', `Navigation target ${location?.target} is not available in Jira`);
    }
  }

  // --- /app/<resourceKey>/... ---

  function contentSecurityPolicy(html) {
    const details = cspProcessor.getCspDetails(html, manifest.permissions);
    const directives = cspInjector.getInjectableCSP({ existingCSPDetails: details, microsEnv: 'prod', hostname: baseUrl() });
    // Reports go to the host (GET /__host/csp-violations lists them), not to Atlassian.
    return directives.map((d) => (d.startsWith('report-uri ') ? 'report-uri /__host/csp-report' : d)).join('; ');
  }

  function injectBridge(html, frame, token) {
    // A rule's create and edit pages may register the onConfigure callback; no other page may.
    const configures = frame.rule && frame.rule.entryPoint !== 'view' ? '&configure=1' : '';
    const client = `<script src="/__bridge/client.js?frame=${encodeURIComponent(token)}${frame.modal ? '&modal=1' : ''}${configures}"></script>`;
    let out = html;
    const firstScript = out.search(/<script\b/i);
    if (firstScript >= 0) out = `${out.slice(0, firstScript)}${client}${out.slice(firstScript)}`;
    else if (/<\/head>/i.test(out)) out = out.replace(/<\/head>/i, `${client}</head>`);
    else out = `${client}${out}`;
    // The theme of the shell, as the product sets it on the frame's root element.
    if (/<html\b[^>]*\bdata-color-mode=/i.test(out)) {
      out = out.replace(/(<html\b[^>]*\bdata-color-mode=)(["'])[^"']*\2/i, `$1"${frame.theme}"`);
    } else if (/<html\b/i.test(out)) {
      out = out.replace(/<html\b/i, `<html data-color-mode="${frame.theme}"`);
    } else {
      out = `<html data-color-mode="${frame.theme}">${out}</html>`;
    }
    return out;
  }

  function serveResource(req, res, url) {
    const match = /^\/app\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!match) return sendJson(res, 404, { code: 'NOT_FOUND', message: 'No such resource' });
    const resourceKey = decodeURIComponent(match[1]);
    const root = manifest.resources.get(resourceKey);
    if (!root) return sendJson(res, 404, { code: 'NOT_FOUND', message: `No resource ${resourceKey} in the manifest` });
    if (match[2] === undefined) {
      res.writeHead(301, { location: `/app/${match[1]}/${url.search}` });
      return res.end();
    }
    let relative;
    try {
      relative = decodeURIComponent(match[2]);
    } catch {
      return sendJson(res, 400, { code: 'BAD_PATH', message: 'Malformed path' });
    }
    if (relative.endsWith('/')) relative += 'index.html';
    const file = path.resolve(root, `.${relative}`);
    if (file !== root && !file.startsWith(`${root}${path.sep}`)) return sendJson(res, 403, { code: 'FORBIDDEN', message: 'Outside the resource' });
    let stat;
    try {
      stat = fs.statSync(file);
    } catch {
      if (!fs.existsSync(root)) {
        return sendJson(res, 404, {
          code: 'RESOURCE_NOT_BUILT',
          message: `Resource ${resourceKey} has not been built (${path.relative(process.cwd(), root)} is missing)`,
        });
      }
      return sendJson(res, 404, { code: 'NOT_FOUND', message: `No file ${relative} in resource ${resourceKey}` });
    }
    if (!stat.isFile()) return sendJson(res, 404, { code: 'NOT_FOUND', message: 'Not a file' });
    const ext = path.extname(file).toLowerCase();
    if (ext === '.html') {
      const token = url.searchParams.get('frame');
      const frame = token ? frames.get(token) : undefined;
      if (!frame || frame.resource !== resourceKey) {
        return sendJson(res, 401, { code: 'UNKNOWN_FRAME', message: 'Open this page from the host shell: it needs a frame issued for this resource' });
      }
      const html = fs.readFileSync(file, 'utf8');
      const body = injectBridge(html, frame, token);
      res.writeHead(200, {
        'content-type': CONTENT_TYPES['.html'],
        'cache-control': 'no-store',
        'content-security-policy': contentSecurityPolicy(html),
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'same-origin',
      });
      return res.end(body);
    }
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
      'content-length': stat.size,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') return res.end();
    return fs.createReadStream(file).pipe(res);
  }

  // --- /__bridge/... ---

  async function invoke(req, res) {
    const { frame } = frameOf(req);
    const body = await readJson(req);
    if (typeof body.functionKey !== 'string') throw new HttpProblem(400, 'BAD_REQUEST', 'functionKey must be a string');
    const mod = manifest.uiModules.get(frame.moduleKey);
    if (!mod.resolverFunction) throw new HttpProblem(400, 'NO_RESOLVER', `Module ${mod.key} has no resolver`);
    try {
      const result = await invokeResolver({
        moduleKey: frame.moduleKey,
        account: frame.accountId,
        extension: stripType(frame.extension),
        functionName: body.functionKey,
        payload: body.payload,
        locale: frame.locale,
        timezone: frame.timezone,
      });
      const answer = body.metadata === undefined ? { result } : { result: { body: result, metadata: { ...body.metadata } } };
      return sendJson(res, 200, answer);
    } catch (error) {
      // The product reports a failed invocation without the function's stack.
      return sendJson(res, 500, { code: 'INVOCATION_FAILED', message: `There was an error invoking the function - ${error?.message ?? error}` });
    }
  }

  function subscribe(req, res, body, frame) {
    const stream = { id: null, res: null, queue: [], timer: null, hub: null };
    const send = (message) => {
      if (stream.res) stream.res.write(`data: ${JSON.stringify(message)}\n\n`);
      else stream.queue.push(message);
    };
    try {
      const options = body.options ?? {};
      stream.hub = realtime.subscribe({
        channel: body.channelName,
        isGlobal: !!body.isGlobal,
        token: options.token,
        contextOverrides: options.contextOverrides,
        replaySeconds: options.replaySeconds,
        context: { moduleKey: frame.moduleKey, extension: frame.extension },
        send,
      });
    } catch (error) {
      if (error instanceof RealtimeError) throw new HttpProblem(403, error.code, error.message);
      throw error;
    }
    stream.id = stream.hub.id;
    stream.frame = frame;
    stream.timer = setTimeout(() => closeStream(stream.id), SSE_ATTACH_TIMEOUT_MS);
    stream.timer.unref?.();
    streams.set(stream.id, stream);
    return sendJson(res, 200, { subscriptionId: stream.id });
  }

  function closeStream(id) {
    const stream = streams.get(id);
    if (!stream) return false;
    streams.delete(id);
    clearTimeout(stream.timer);
    clearInterval(stream.keepalive);
    stream.hub.close();
    if (stream.res && !stream.res.writableEnded) stream.res.end();
    return true;
  }

  function attachStream(req, res, id) {
    const stream = streams.get(id);
    if (!stream || stream.res) return sendJson(res, 404, { code: 'UNKNOWN_SUBSCRIPTION', message: 'No such subscription' });
    clearTimeout(stream.timer);
    stream.res = res;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': subscribed\n\n');
    for (const message of stream.queue.splice(0)) res.write(`data: ${JSON.stringify(message)}\n\n`);
    stream.keepalive = setInterval(() => res.write(': keepalive\n\n'), SSE_KEEPALIVE_MS);
    stream.keepalive.unref?.();
    req.on('close', () => closeStream(id));
  }

  async function publishFromFrame(req, res) {
    const { frame } = frameOf(req);
    const body = await readJson(req);
    const options = body.options ?? {};
    try {
      const result = realtime.publish({
        channel: body.channelName,
        payloadText: JSON.stringify(body.eventPayload),
        isGlobal: !!body.isGlobal,
        token: options.token,
        contextOverrides: options.contextOverrides,
        context: { moduleKey: frame.moduleKey, extension: frame.extension },
      });
      return sendJson(res, 200, result);
    } catch (error) {
      if (error instanceof RealtimeError) return sendJson(res, 200, { eventId: null, eventTimestamp: null, errors: [error.message] });
      throw error;
    }
  }

  async function fetchProduct(req, res) {
    const { frame } = frameOf(req);
    const body = await readJson(req);
    if (body.product !== 'jira') throw new HttpProblem(400, 'BAD_PRODUCT', `Only Jira is installed on this site, not ${body.product}`);
    if (!frame.accountId) throw new HttpProblem(401, 'NOT_LOGGED_IN', 'An anonymous user cannot call the product API');
    const init = body.fetchRequestInit ?? {};
    const headers = Object.fromEntries((init.headers ?? []).map(([k, v]) => [String(k).toLowerCase(), String(v)]));
    const [pathname, query = ''] = String(body.restPath ?? '').split(/\?(.*)/s);
    if (!pathname.startsWith('/')) throw new HttpProblem(400, 'BAD_PATH', 'restPath must start with /');
    const answer = await jira.handle({
      method: String(init.method ?? 'GET').toUpperCase(),
      path: pathname,
      query,
      headers,
      body: init.body ?? undefined,
      as: { kind: 'user', accountId: frame.accountId },
    });
    return sendJson(res, 200, {
      status: answer.status,
      statusText: '',
      headers: Object.fromEntries(Object.entries(answer.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)])),
      body: answer.body ?? '',
      isAttachment: false,
    });
  }

  async function handle(req, res, url) {
    try {
      if (url.pathname.startsWith('/app/')) {
        if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { code: 'METHOD_NOT_ALLOWED', message: 'GET only' });
        return serveResource(req, res, url);
      }
      const route = `${req.method} ${url.pathname}`;
      if (route === 'GET /__bridge/client.js') {
        res.writeHead(200, { 'content-type': CONTENT_TYPES['.js'], 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
        return res.end(fs.readFileSync(CLIENT_FILE));
      }
      if (route === 'POST /__bridge/context') return sendJson(res, 200, { context: contextOf(frameOf(req).frame) });
      if (route === 'POST /__bridge/invoke') return await invoke(req, res);
      if (route === 'POST /__bridge/modal') {
        const { frame } = frameOf(req);
        const body = await readJson(req);
        if (body.resource !== undefined && body.resource !== null && typeof body.resource !== 'string') {
          throw new HttpProblem(400, 'BAD_REQUEST', 'resource must be a string');
        }
        return sendJson(res, 200, modalFrame(frame, { resource: body.resource ?? undefined, context: body.context }));
      }
      if (route === 'POST /__bridge/realtime/subscribe') {
        const { frame } = frameOf(req);
        return subscribe(req, res, await readJson(req), frame);
      }
      if (route === 'POST /__bridge/realtime/unsubscribe') {
        const { frame } = frameOf(req);
        const body = await readJson(req);
        const stream = streams.get(body.subscriptionId);
        if (!stream || stream.frame !== frame) return sendJson(res, 404, { code: 'UNKNOWN_SUBSCRIPTION', message: 'No such subscription' });
        closeStream(body.subscriptionId);
        return sendJson(res, 200, { unsubscribed: true });
      }
      const events = /^\/__bridge\/realtime\/events\/([0-9a-f]{32})$/.exec(url.pathname);
      if (req.method === 'GET' && events) return attachStream(req, res, events[1]);
      if (route === 'POST /__bridge/realtime/publish') return await publishFromFrame(req, res);
      if (route === 'POST /__bridge/fetch-product') return await fetchProduct(req, res);
      if (route === 'POST /__bridge/url') {
        frameOf(req);
        const body = await readJson(req);
        return sendJson(res, 200, { url: locationUrl(body.location) });
      }
      return sendJson(res, 404, { code: 'NOT_FOUND', message: `No bridge endpoint ${route}` });
    } catch (error) {
      if (error instanceof HttpProblem) return sendJson(res, error.status, { code: error.code, message: error.message });
      throw error;
    }
  }

  return {
    handle,
    issueFrame,
    ruleFrame,
    /** The rule a create or edit frame configures, for `accountId` only; null otherwise. */
    ruleTarget(token, accountId) {
      const frame = typeof token === 'string' ? frames.get(token) : undefined;
      if (!frame?.rule || frame.rule.entryPoint === 'view' || frame.accountId !== accountId) return null;
      return { entryPoint: frame.rule.entryPoint, moduleKey: frame.moduleKey, moduleType: frame.moduleType, ...frame.rule.target };
    },
    /** A create or edit frame saves once, as Jira closes its dialog when it saved. */
    closeRuleFrame(token) {
      frames.delete(token);
    },
    frameContext: (token) => (frames.has(token) ? contextOf(frames.get(token)) : undefined),
    cspViolations,
    recordCspReport(report) {
      cspViolations.push(report);
      if (cspViolations.length > 200) cspViolations.shift();
    },
    get openStreams() {
      return streams.size;
    },
    close() {
      for (const id of [...streams.keys()]) closeStream(id);
      frames.clear();
    },
  };
}

function stripType(extension) {
  const { type, ...rest } = extension;
  return rest;
}
