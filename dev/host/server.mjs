// The local Forge host: one HTTP server that runs the whole app offline as deployed code.
//   /                  the shell: a small Jira-like page (user switcher, requests, issue view with
//                      the issue panel, the admin settings page, the customer portal view)
//   /x/<inst>/<key>    webtriggers
//   /app/<resource>/   Custom UI resources, with the bridge injected (bridge.mjs)
//   /__bridge/...      what @forge/bridge calls from those pages
//   /__host/...        JSON for the shell (users, issues, comments, frames, stats)
//   /incode/...        the Incode sandbox's pages (inbox, employee session page)
//
// startHost() is the programmatic API (tests, benchmarks); main.mjs is the command line.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBridge, HttpProblem, readBody, readJson, sendJson } from './bridge.mjs';
import { createInvoker, loadFunctions } from './functions.mjs';
import { createKvsStore } from './kvs.mjs';
import { readManifest } from './manifest.mjs';
import { createRealtimeHub } from './realtime.mjs';
import { realNow } from './clock.mjs';
import { createPlatform, installForgeGlobals, plainFetch } from './runtime.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '../..');
const SHELL_DIR = path.join(HERE, 'shell');
const SHELL_FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/shell.js': ['shell.js', 'text/javascript; charset=utf-8'],
  '/shell.css': ['shell.css', 'text/css; charset=utf-8'],
};
const SAVE_DEBOUNCE_MS = 300;
const DEVTOOLS_WORKSPACE = '/.well-known/appspecific/com.chrome.devtools.json';

/** A UUID that stays the same for one app folder, as DevTools wants for a workspace. */
function workspaceUuid(appDir) {
  const h = crypto.createHash('sha256').update(appDir).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${(8 + (parseInt(h[16], 16) % 4)).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Ids that identify the installation; kept in the data directory so URLs survive restarts. */
function loadIds(dataDir) {
  const file = dataDir ? path.join(dataDir, 'host.json') : null;
  if (file && fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
  const ids = {
    installationId: crypto.randomUUID(),
    cloudId: crypto.randomUUID(),
    environmentId: crypto.randomUUID(),
    appVersion: '1.0.0',
  };
  if (file) {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(ids, null, 2)}\n`);
  }
  return ids;
}

function atomicWrite(file, text) {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, text, { mode: 0o600 });
  fs.renameSync(temp, file);
}

function userRole(user) {
  if (!user) return null;
  if (user.accountType === 'customer') return 'customer';
  const groups = user.groups ?? [];
  if (groups.includes('jira-admins-local') || groups.includes('site-admins')) return 'admin';
  return 'agent';
}

/**
 * Starts the host.
 * @param {object} [options]
 * @param {number} [options.port] 0 = any free port
 * @param {string} [options.hostname] interface to listen on (default 127.0.0.1)
 * @param {string} [options.dataDir] persist KVS, the Jira site and the installation ids here
 * @param {boolean} [options.memory] keep everything in memory (default when no dataDir)
 * @param {number} [options.latencyMs] delay every platform call by this much
 * @param {'sandbox'|'live'} [options.incode] where egress to Incode hosts goes
 * @param {boolean} [options.seed] seed the Jira site (users, projects, requests)
 * @param {string} [options.appDir] the app (manifest.yml, src/, static/)
 * @param {string} [options.outDir] where the function bundles go (default <appDir>/build/forge)
 * @param {() => number} [options.now] clock for KVS TTLs, realtime tokens, the Jira site and the
 *   functions' own Date (clock.mjs `createManualClock()` gives one that tests move forward)
 * @param {{ resolver?: number, webtrigger?: number }} [options.timeouts] invocation limits (ms)
 * @param {object} [options.jira] a Jira site to use instead of dev/host/jira (tests)
 * @param {(opts: object) => object} [options.createIncode] Incode sandbox factory (tests)
 * @param {object} [options.incodeOptions] extra options for the sandbox (retry, clock, ...)
 * @param {(line: string) => void} [options.log]
 * @param {(entry: object) => void} [options.onFunctionLog] every console line of a function (the
 *   host also keeps the newest in `host.logs`; nothing is printed unless this prints it)
 */
export async function startHost({
  port = 0,
  hostname = '127.0.0.1',
  dataDir,
  memory = !dataDir,
  latencyMs = 0,
  incode: incodeMode = 'sandbox',
  seed = true,
  appDir = REPO_ROOT,
  outDir,
  now = Date.now,
  timeouts,
  jira: jiraOverride,
  createIncode,
  incodeOptions = {},
  log = () => {},
  onFunctionLog,
} = {}) {
  if (incodeMode !== 'sandbox' && incodeMode !== 'live') throw new Error('incode must be "sandbox" or "live"');
  installForgeGlobals();
  const manifest = readManifest(appDir);
  const persistDir = memory ? null : dataDir;
  if (!memory && !dataDir) throw new Error('startHost: pass dataDir, or memory: true');
  const ids = loadIds(persistDir);
  let url = null;
  const baseUrl = () => {
    if (!url) throw new Error('the host is not listening yet');
    return url;
  };

  const kvs = createKvsStore({ ...(persistDir ? { file: path.join(persistDir, 'kvs.json') } : { memory: true }), now, entities: manifest.entities });

  const jiraFile = persistDir ? path.join(persistDir, 'jira.json') : null;
  let jira = jiraOverride;
  if (!jira) {
    const { createJiraSite } = await import('./jira/index.mjs');
    const state = jiraFile && fs.existsSync(jiraFile) ? JSON.parse(fs.readFileSync(jiraFile, 'utf8')) : undefined;
    jira = createJiraSite({ seed, state, clock: now, manifestPath: manifest.file });
  }
  let saveTimer = null;
  /** Saves the Jira site and the Incode sandbox (KVS persists on every write by itself). */
  function saveState() {
    clearTimeout(saveTimer);
    saveTimer = null;
    if (jiraFile && typeof jira.snapshot === 'function') atomicWrite(jiraFile, JSON.stringify(jira.snapshot()));
    if (persistDir && typeof sandbox?.snapshot === 'function') atomicWrite(path.join(persistDir, 'incode.json'), JSON.stringify(sandbox.snapshot()));
  }
  function scheduleSave() {
    if (!jiraFile || saveTimer) return;
    saveTimer = setTimeout(saveState, SAVE_DEBOUNCE_MS);
    saveTimer.unref?.();
  }

  const lookupUser = (accountId) => {
    const user = jira.users?.get?.(accountId);
    if (!user) return undefined;
    return { ...user, accountType: user.accountType === 'customer' ? 'customer' : user.accountType === 'app' ? 'app' : 'licensed' };
  };

  const realtime = createRealtimeHub({ installationId: ids.installationId, now });
  let sandbox = null;
  const platform = createPlatform({
    manifest,
    ids,
    baseUrl,
    jira,
    kvs,
    realtime,
    incode: () => sandbox,
    incodeMode,
    latencyMs,
    log,
    onFunctionLog,
    // The system clock stays the functions' own; any other clock becomes theirs too.
    now: now === Date.now || now === realNow ? null : now,
  });
  const { handlers, recycle } = await loadFunctions({ appDir, manifest, outDir });
  const invoker = createInvoker({ manifest, handlers, platform, ids, siteUrl: baseUrl, lookupUser, timeouts, log });
  const invokeResolver = async (args) => {
    try {
      return await invoker.invokeResolver(args);
    } finally {
      scheduleSave();
    }
  };
  const invokeWebtrigger = async (key, request) => {
    try {
      return await invoker.invokeWebtrigger(key, request);
    } finally {
      scheduleSave();
    }
  };
  const invokeScheduledTrigger = async (key) => {
    try {
      return await invoker.invokeScheduledTrigger(key);
    } finally {
      scheduleSave();
    }
  };
  // Jira runs the app's validator functions on transitions; the result crosses as JSON.
  jira.workflows?.attachRunner?.(async (args) => {
    try {
      const answer = await invoker.invokeWorkflowValidator(args);
      return answer === undefined ? undefined : JSON.parse(JSON.stringify(answer));
    } finally {
      scheduleSave();
    }
  });
  const bridge = createBridge({ manifest, ids, baseUrl, invokeResolver, realtime, jira, lookupUser, log });

  // --- HTTP ---

  // Projects and the app's own account do not change while the host runs.
  let siteStatic = null;
  const site = () => (siteStatic ??= jira.snapshot ? (({ projects, app }) => ({ projects, app }))(jira.snapshot()) : { projects: [], app: null });

  function issueExtension(issueKey, moduleType) {
    const issue = jira.issues?.get?.(issueKey);
    if (!issue) throw new HttpProblem(404, 'UNKNOWN_ISSUE', `No issue ${issueKey}`);
    const project = site().projects.find((p) => p.key === issue.project) ?? null;
    if (moduleType.startsWith('jiraServiceManagement:')) {
      return {
        request: { key: issue.key, typeId: project?.requestTypes ? Object.keys(project.requestTypes)[0] : undefined },
        portal: { id: project?.serviceDeskId ?? undefined },
      };
    }
    return {
      issue: { id: issue.id, key: issue.key, type: project?.issueType?.name, typeId: project?.issueType?.id },
      project: { id: project?.id, key: issue.project, type: project?.projectTypeKey },
    };
  }

  /** Whether the shell may show `issue` to `user`: Jira's Browse permission, or for a portal
   *  customer, their own requests (reporter, participant or affected employee). */
  async function visibleTo(issue, user) {
    if (!user) return false;
    if (user.accountType === 'customer') {
      return issue.reporter === user.accountId || (issue.participants ?? []).includes(user.accountId) || issue.affectedEmployee === user.accountId;
    }
    const answer = await jira.handle({
      method: 'GET',
      path: '/rest/api/3/mypermissions',
      query: { issueKey: issue.key, permissions: 'BROWSE_PROJECTS' },
      as: { kind: 'user', accountId: user.accountId },
    });
    if (answer.status !== 200) return false;
    return JSON.parse(answer.body).permissions?.BROWSE_PROJECTS?.havePermission === true;
  }

  function issueSummary(issue) {
    const name = (id) => (id ? (jira.users.get(id)?.displayName ?? id) : null);
    return {
      key: issue.key,
      id: issue.id,
      project: issue.project,
      summary: issue.summary,
      status: issue.status,
      reporter: name(issue.reporter),
      assignee: name(issue.assignee),
      updated: issue.updated,
    };
  }

  async function jiraAs(accountId, method, requestPath, body) {
    const answer = await jira.handle({
      method,
      path: requestPath,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      as: { kind: 'user', accountId },
    });
    let json;
    try {
      json = answer.body ? JSON.parse(answer.body) : null;
    } catch {
      json = null;
    }
    return { status: answer.status, json };
  }

  /** The workflow editor of the shell: the app's rule modules on the site's transitions (admins only). */
  async function workflowRules(req, res, url, as) {
    const user = jira.users.get(as);
    if (!user) throw new HttpProblem(400, 'UNKNOWN_USER', 'Pass ?as=<accountId> of a site user');
    if (userRole(user) !== 'admin') throw new HttpProblem(403, 'NOT_ADMIN', 'Configuring workflows needs the Administer Jira global permission');
    const workflows = jira.workflows;
    if (req.method === 'GET' && url.pathname === '/__host/workflow-rules') {
      const moduleKeyOf = (rule) => rule.key.split('/').pop();
      const shown = (rule) => ({
        id: rule.id,
        moduleKey: moduleKeyOf(rule),
        configuration: JSON.parse(rule.configuration.value),
        disabled: rule.configuration.disabled,
      });
      return sendJson(res, 200, {
        // The entries of a module's Custom UI (create, edit, view) the editor opens.
        modules: workflows.modules().map(({ key, type, name }) => ({ key, type, name, pages: Object.keys(manifest.uiModules.get(key)?.pages ?? {}) })),
        workflows: jira.snapshot().workflows.map((w) => ({
          name: w.name,
          transitions: w.transitions
            .filter((t) => t.type !== 'initial')
            .map((t) => ({
              id: t.id,
              name: t.name,
              rules: { conditions: (t.rules?.conditions ?? []).map(shown), validators: (t.rules?.validators ?? []).map(shown) },
            })),
        })),
      });
    }
    if (req.method !== 'POST') throw new HttpProblem(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here`);
    const body = await readJson(req);
    if (url.pathname === '/__host/workflow-rules/frame') return sendJson(res, 200, ruleFrameFor(body, user));
    try {
      if (url.pathname.endsWith('/configure')) {
        // The configuration the page's onConfigure answered, for the rule its frame was opened on.
        const target = bridge.ruleTarget(body.frame, user.accountId);
        if (!target) throw new HttpProblem(403, 'NOT_A_RULE_FRAME', 'Save from a create or edit page the workflow editor opened for you');
        const type = target.moduleType === 'jira:workflowCondition' ? 'condition' : 'validator';
        const common = { workflow: target.workflow, transition: target.transition, configurationText: body.configuration, by: user.accountId };
        const rule =
          target.entryPoint === 'create'
            ? workflows.addRule({ ...common, type, moduleKey: target.moduleKey })
            : workflows.updateRule({ ...common, id: target.id });
        bridge.closeRuleFrame(body.frame);
        scheduleSave();
        return sendJson(res, target.entryPoint === 'create' ? 201 : 200, rule);
      }
      if (url.pathname.endsWith('/remove')) {
        workflows.removeRule({ workflow: body.workflow, transition: body.transition, id: body.id, by: user.accountId });
        scheduleSave();
        return sendJson(res, 200, { ok: true });
      }
      const rule = workflows.addRule({ ...body, by: user.accountId });
      scheduleSave();
      return sendJson(res, 201, rule);
    } catch (error) {
      if (error instanceof HttpProblem) throw error;
      throw new HttpProblem(400, 'BAD_RULE', error.message);
    }
  }

  /** A rule page frame: create on a transition, or edit / view of one of its rules. */
  function ruleFrameFor(body, user) {
    const entryPoint = body.entryPoint;
    if (!['create', 'edit', 'view'].includes(entryPoint)) throw new HttpProblem(400, 'BAD_ENTRY', 'entryPoint is create, edit or view');
    let rules;
    try {
      rules = jira.workflows.rules(body.workflow, body.transition);
    } catch (error) {
      throw new HttpProblem(404, 'UNKNOWN_TRANSITION', error.message);
    }
    let moduleKey = body.moduleKey;
    let validatorConfig;
    if (entryPoint !== 'create') {
      const rule = [...rules.conditions, ...rules.validators].find((r) => r.id === body.id);
      if (!rule) throw new HttpProblem(404, 'UNKNOWN_RULE', `No rule ${body.id} on this transition`);
      moduleKey = rule.key.split('/').pop();
      validatorConfig = rule.configuration.value;
    }
    return bridge.ruleFrame({
      accountId: user.accountId,
      moduleKey,
      entryPoint,
      validatorConfig,
      target: { workflow: body.workflow, transition: body.transition, id: body.id },
      theme: body.theme ?? 'light',
    });
  }

  async function hostApi(req, res, url) {
    const route = `${req.method} ${url.pathname}`;
    const as = url.searchParams.get('as');
    if (route === 'GET /__host/info') {
      return sendJson(res, 200, {
        url: baseUrl(),
        installationId: ids.installationId,
        cloudId: ids.cloudId,
        incode: incodeMode,
        latencyMs,
        webtriggers: Object.fromEntries([...manifest.webtriggers.keys()].map((k) => [k, platform.webtriggerUrl(k)])),
        modules: [...manifest.uiModules.values()].map(({ key, type, title, resource }) => ({ key, type, title, resource })),
        scheduledTriggers: [...manifest.scheduledTriggers.values()].map(({ key, interval }) => ({ key, interval })),
        workflowRuleModules: jira.workflows?.modules?.().length ?? 0,
        sandbox: sandbox ? { credentials: sandbox.credentials ?? null } : null,
      });
    }
    if (route === 'GET /__host/users') {
      return sendJson(res, 200, {
        users: jira.users
          .list()
          .filter((u) => u.active !== false)
          .map((u) => ({
            accountId: u.accountId,
            displayName: u.displayName,
            emailAddress: u.emailAddress,
            role: userRole(u),
            locale: u.locale,
            timeZone: u.timeZone,
          })),
      });
    }
    if (route === 'GET /__host/issues') {
      const user = jira.users.get(as);
      if (!user) throw new HttpProblem(400, 'UNKNOWN_USER', 'Pass ?as=<accountId> of a site user');
      const issues = [];
      for (const issue of jira.issues.list()) if (await visibleTo(issue, user)) issues.push(issueSummary(issue));
      return sendJson(res, 200, { issues });
    }
    const issueRoute = /^\/__host\/issues\/([A-Z][A-Z0-9]*-\d+)(\/comments|\/transitions)?$/.exec(url.pathname);
    if (issueRoute) {
      const user = jira.users.get(as);
      if (!user) throw new HttpProblem(400, 'UNKNOWN_USER', 'Pass ?as=<accountId> of a site user');
      const issue = jira.issues.get(issueRoute[1]);
      if (!issue || !(await visibleTo(issue, user))) throw new HttpProblem(404, 'UNKNOWN_ISSUE', `No issue ${issueRoute[1]} for this user`);
      const sub = issueRoute[2];
      if (!sub && req.method === 'GET') {
        const app = site().app;
        const name = (id) => (id ? (jira.users.get(id)?.displayName ?? (id === app?.accountId ? app.displayName : id)) : null);
        const comments = issue.comments
          .filter((c) => user.accountType !== 'customer' || !c.internal)
          .map((c) => ({ id: c.id, author: name(c.author), body: c.body, text: c.text, internal: c.internal, created: c.created }));
        // The transitions this user is offered: workflow conditions are evaluated per user.
        const offered = user.accountType === 'customer' ? null : await jiraAs(user.accountId, 'GET', `/rest/api/3/issue/${issue.key}/transitions`);
        const transitions = offered?.status === 200 ? offered.json.transitions.map((t) => t.name) : [];
        return sendJson(res, 200, {
          issue: {
            ...issueSummary(issue),
            affectedEmployee: jira.users.get(issue.affectedEmployee)?.displayName ?? null,
            appFields: user.accountType === 'customer' ? [] : (issue.appFields ?? []),
            comments,
            transitions,
            properties: user.accountType === 'customer' ? {} : issue.properties,
          },
        });
      }
      if (sub === '/comments' && req.method === 'POST') {
        const body = await readJson(req);
        const text = String(body.text ?? '').trim();
        if (!text) throw new HttpProblem(400, 'EMPTY', 'A comment needs text');
        const comment = { body: { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] } };
        if (body.internal) comment.properties = [{ key: 'sd.public.comment', value: { internal: true } }];
        const answer = await jiraAs(user.accountId, 'POST', `/rest/api/3/issue/${issue.key}/comment`, comment);
        scheduleSave();
        return sendJson(res, answer.status < 300 ? 201 : answer.status, answer.json ?? {});
      }
      if (sub === '/transitions' && req.method === 'POST') {
        const body = await readJson(req);
        const available = await jiraAs(user.accountId, 'GET', `/rest/api/3/issue/${issue.key}/transitions`);
        const transition = available.json?.transitions?.find((t) => t.name === body.name);
        if (!transition) throw new HttpProblem(409, 'NOT_AVAILABLE', `Transition ${body.name} is not available`);
        const answer = await jiraAs(user.accountId, 'POST', `/rest/api/3/issue/${issue.key}/transitions`, { transition: { id: transition.id } });
        scheduleSave();
        if (answer.status < 300) return sendJson(res, 200, { ok: true });
        // Jira refused (a workflow validator, a condition): the shell shows Jira's answer. Sent
        // as 200 so the browser does not log a failed request for an answer the page expects.
        return sendJson(res, 200, { ok: false, status: answer.status, errorMessages: answer.json?.errorMessages ?? [], errors: answer.json?.errors ?? {} });
      }
      throw new HttpProblem(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here`);
    }
    if (url.pathname === '/__host/workflow-rules' || url.pathname.startsWith('/__host/workflow-rules/')) {
      return workflowRules(req, res, url, as);
    }
    if (route === 'POST /__host/frames') {
      const body = await readJson(req);
      const mod = manifest.uiModules.get(body.moduleKey);
      if (!mod) throw new HttpProblem(404, 'UNKNOWN_MODULE', `No module ${body.moduleKey}`);
      if (mod.pages) throw new HttpProblem(400, 'RULE_PAGE', `Module ${mod.key} is a workflow rule: its pages open in the workflow editor only`);
      const needsIssue = mod.type !== 'jira:adminPage' && mod.type !== 'jira:globalPage';
      if (needsIssue && !body.issueKey) throw new HttpProblem(400, 'ISSUE_REQUIRED', `Module ${mod.key} renders on an issue: pass issueKey`);
      const extension = needsIssue ? issueExtension(body.issueKey, mod.type) : {};
      return sendJson(
        res,
        200,
        bridge.issueFrame({
          accountId: body.accountId,
          moduleKey: mod.key,
          extension,
          theme: body.theme ?? 'light',
          locale: body.locale,
          timezone: body.timezone,
        }),
      );
    }
    const scheduled = /^\/__host\/scheduled\/([^/]+)$/.exec(url.pathname);
    if (scheduled && req.method === 'POST') {
      const key = decodeURIComponent(scheduled[1]);
      if (!manifest.scheduledTriggers.has(key)) throw new HttpProblem(404, 'UNKNOWN_TRIGGER', `No scheduled trigger ${key}`);
      try {
        const result = await invokeScheduledTrigger(key);
        return sendJson(res, 200, { ok: true, result: result ?? null, invocation: platform.stats.last() });
      } catch (error) {
        return sendJson(res, 200, { ok: false, error: error?.message ?? String(error), invocation: platform.stats.last() });
      }
    }
    if (route === 'POST /__host/csp-report') {
      const text = await readBody(req, 64 * 1024);
      try {
        const report = JSON.parse(text);
        bridge.recordCspReport(report['csp-report'] ?? report);
        log(`CSP violation: ${JSON.stringify(report['csp-report'] ?? report)}`);
      } catch {
        // not JSON: ignore
      }
      res.writeHead(204);
      return res.end();
    }
    if (route === 'POST /__host/clock') {
      if (typeof now.advance !== 'function')
        throw new HttpProblem(409, 'SYSTEM_CLOCK', 'The host runs on the system clock; start it with a manual clock to move time');
      const body = await readJson(req);
      try {
        return sendJson(res, 200, { now: now.advance(body.advanceMs) });
      } catch (error) {
        throw new HttpProblem(400, 'BAD_ADVANCE', error.message);
      }
    }
    if (route === 'GET /__host/csp-violations') return sendJson(res, 200, { violations: bridge.cspViolations });
    if (route === 'GET /__host/stats') {
      return sendJson(res, 200, {
        invocations: platform.stats.invocations.slice(-50),
        lateCalls: platform.stats.lateCalls,
        jiraViolations: jira.violations ?? [],
      });
    }
    throw new HttpProblem(404, 'NOT_FOUND', `No host endpoint ${route}`);
  }

  async function webtrigger(req, res, url) {
    const match = /^\/x\/([^/]+)\/([^/]+)\/?$/.exec(url.pathname);
    if (!match || match[1] !== ids.installationId) return sendJson(res, 404, { message: 'No such web trigger' });
    const key = decodeURIComponent(match[2]);
    if (!manifest.webtriggers.has(key)) return sendJson(res, 404, { message: 'No such web trigger' });
    const body = await readBody(req, 5 * 1024 * 1024);
    const answer = await invokeWebtrigger(key, { method: req.method, headers: req.rawHeaders, body, query: url.searchParams });
    const headers = {};
    for (const [name, values] of Object.entries(answer.headers)) {
      // Hop-by-hop and framing headers are the platform's, not the function's.
      if (['content-length', 'transfer-encoding', 'connection'].includes(name.toLowerCase())) continue;
      headers[name] = values;
    }
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  }

  function serveShell(res, file, type) {
    const text = fs.readFileSync(path.join(SHELL_DIR, file));
    res.writeHead(200, {
      'content-type': type,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-src 'self'; connect-src 'self'",
    });
    res.end(text);
  }

  async function handleRequest(req, res) {
    const url = new URL(req.url, 'http://host.invalid');
    try {
      if (url.pathname.startsWith('/x/')) return await webtrigger(req, res, url);
      if (url.pathname.startsWith('/app/') || url.pathname.startsWith('/__bridge/')) return await bridge.handle(req, res, url);
      if (url.pathname.startsWith('/__host/')) return await hostApi(req, res, url);
      if (url.pathname === '/incode' || url.pathname.startsWith('/incode/')) {
        if (!sandbox) return sendJson(res, 404, { message: 'The Incode sandbox is not running (the host uses live Incode)' });
        res.on('finish', scheduleSave);
        return await sandbox.handlePage(req, res);
      }
      const shell = SHELL_FILES[url.pathname];
      if (shell && req.method === 'GET') return serveShell(res, ...shell);
      if (url.pathname === DEVTOOLS_WORKSPACE && req.method === 'GET') {
        // Chrome's DevTools asks a local site for its source folder each time a page loads with
        // DevTools open; the answer maps the app's sources in DevTools instead of logging a 404.
        return sendJson(res, 200, { workspace: { root: appDir, uuid: workspaceUuid(appDir) } });
      }
      if (url.pathname === '/favicon.ico') {
        res.writeHead(204);
        return res.end();
      }
      return sendJson(res, 404, { message: `Nothing at ${url.pathname}` });
    } catch (error) {
      if (error instanceof HttpProblem) return sendJson(res, error.status, { code: error.code, message: error.message });
      log(`host error on ${req.method} ${url.pathname}: ${error?.stack ?? error}`);
      if (!res.headersSent) return sendJson(res, 500, { code: 'HOST_ERROR', message: error?.message ?? String(error) });
      return res.end();
    }
  }

  const server = http.createServer((req, res) => {
    handleRequest(req, res);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${address.port}`;

  const incodeFile = persistDir ? path.join(persistDir, 'incode.json') : null;
  if (incodeMode === 'sandbox') {
    let factory = createIncode;
    let serves = null;
    if (!factory) {
      const module = await import('./incode/index.mjs');
      factory = module.createIncodeSandbox;
      serves = module.isIncodeUrl;
    }
    const state = incodeFile && fs.existsSync(incodeFile) ? JSON.parse(fs.readFileSync(incodeFile, 'utf8')) : undefined;
    sandbox = factory({
      baseUrl: url,
      clock: now,
      ...(state ? { state } : {}),
      // Incode is outside Forge: it reaches the webtrigger over HTTP like any sender.
      deliverWebhook: async ({ url: target, method = 'POST', headers = {}, body = '' }) => {
        const answer = await plainFetch(target, { method, headers, body, redirect: 'manual' });
        return { status: answer.status, headers: Object.fromEntries(answer.headers), body: await answer.text() };
      },
      ...incodeOptions,
    });
    if (serves) sandbox.serves = serves;
  }

  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    bridge.close();
    realtime.close();
    await sandbox?.close?.();
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(() => resolve()));
    saveState();
  }

  return {
    url,
    stop,
    manifest,
    ids,
    kvs,
    jira,
    /** The host's clock (`now.advance(ms)` when it is a manual one). */
    clock: now,
    get incode() {
      return sandbox;
    },
    realtime,
    bridge,
    faults: platform.faults,
    stats: platform.stats,
    /** What the functions wrote to the console, newest last: `{ at, level, functionKey, invocationId, message }`. */
    logs: platform.logs,
    invokeResolver,
    invokeWebtrigger,
    invokeScheduledTrigger,
    webtriggerUrl: (key) => platform.webtriggerUrl(key),
    /**
     * Replaces every function instance with a new one (each bundle loaded again), as Forge does
     * when it scales or recycles: whatever the app kept in module scope is gone.
     */
    recycleInstances: recycle,
    /** Opens a Custom UI frame as the shell would: `{ token, src }`. */
    openFrame: ({ accountId, moduleKey, issueKey, theme = 'light' }) => {
      const mod = manifest.uiModules.get(moduleKey);
      if (!mod) throw new Error(`No module ${moduleKey}`);
      const extension = issueKey ? issueExtension(issueKey, mod.type) : {};
      return bridge.issueFrame({ accountId, moduleKey, extension, theme });
    },
  };
}
