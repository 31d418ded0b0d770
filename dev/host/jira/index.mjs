// The local Jira site of the development host: a seeded Jira Service Management site that
// answers the REST calls the app makes (as the app or as a user), enforces permissions and the
// app's OAuth scopes, and checks every request against Atlassian's OpenAPI document. Requests
// that do not conform are answered the way Jira would and recorded in `violations`.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ACCOUNTS, AFFECTED_EMPLOYEE_FIELD, emptyState, seedState } from './seed.mjs';
import { SiteModel } from './model.mjs';
import { loadContract } from './spec.mjs';
import { PLATFORM_ROUTES, SERVICE_DESK_ROUTES, availableTransitions, jqlSite, performTransition } from './routes.mjs';
import { FIELD_ROUTES, appFieldDeclarations, installAppFields } from './fields.mjs';
import { createWorkflowRules, workflowModuleDeclarations } from './workflow-rules.mjs';

export { ACCOUNTS, AFFECTED_EMPLOYEE_FIELD, GROUPS } from './seed.mjs';
export { loadContract } from './spec.mjs';
export { validateAdf } from './adf.mjs';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
// Atlassian's Jira platform REST specification (OpenAPI 3), kept beside the site it checks.
export const DEFAULT_SPEC_PATH = process.env.JIRA_SPEC_PATH ?? path.join(REPO, 'dev', 'host', 'jira', 'jira-platform.v3.json');
export const DEFAULT_MANIFEST_PATH = path.join(REPO, 'manifest.yml');

const JSON_HEADERS = { 'content-type': 'application/json;charset=UTF-8' };
const NOT_CONFORMING = 'Request does not conform to the Jira REST API: ';

/**
 * Creates a site.
 * - `seed`: start from the seeded site (true) or from projects and workflows only (false).
 * - `state`: a `snapshot()` to restore instead of a seed.
 * - `clock`: `() => ms` or `{ now() }`; defaults to the system clock.
 * - `scopes`: the OAuth scopes the app holds; "manifest" (default) reads them from manifest.yml,
 *   null disables the check. Forge refuses a call outside the app's scopes with 401.
 * - `entityProperties`: the `jira:entityProperty` modules that index issue properties for JQL;
 *   "manifest" (default) reads them from manifest.yml.
 * - `customFields`: the app's `jira:customField` modules, created as fields the app owns;
 *   "manifest" (default) reads them from manifest.yml. `appId` names their owner (default: the
 *   manifest's app id).
 * - `workflowModules`: the app's `jira:workflowValidator` / `jira:workflowCondition` modules,
 *   which an admin adds to transitions with `workflows.addRule`; "manifest" (default) reads them.
 *   Function validators run through the runner the host attaches (`workflows.attachRunner`).
 */
export function createJiraSite({
  seed = true,
  specPath = DEFAULT_SPEC_PATH,
  state,
  clock,
  scopes = 'manifest',
  entityProperties = 'manifest',
  customFields = 'manifest',
  workflowModules = 'manifest',
  appId,
  manifestPath = DEFAULT_MANIFEST_PATH,
} = {}) {
  const now = typeof clock === 'function' ? clock : clock?.now ? () => clock.now() : () => Date.now();
  const manifest = [scopes, entityProperties, customFields, workflowModules].includes('manifest') ? readManifest(manifestPath) : null;
  const owner =
    appId ??
    (String(manifest?.app?.id ?? '')
      .split('/')
      .pop() ||
      'local-app');
  const appFields = customFields === 'manifest' ? appFieldDeclarations(manifest) : (customFields ?? []);
  const initial = () => installAppFields(structuredClone(state ?? (seed ? seedState() : emptyState())), appFields, owner);
  const grantedScopes = scopes === 'manifest' ? (manifest?.permissions?.scopes ?? []) : scopes;
  const indexed =
    entityProperties === 'manifest'
      ? (manifest?.modules?.['jira:entityProperty'] ?? []).filter((m) => (m.entityType ?? 'issue') === 'issue')
      : (entityProperties ?? []);

  const rules = createWorkflowRules({
    model: () => model,
    modules: workflowModules === 'manifest' ? workflowModuleDeclarations(manifest) : workflowModuleDeclarations({ modules: workflowModules ?? {} }),
    appId: owner,
    attachesModifiedFields: () => grantedScopes === null || grantedScopes.includes('read:jira-work'),
  });
  const newModel = () => Object.assign(new SiteModel(initial()), { rules });
  let model = newModel();
  const violations = [];
  const requests = [];
  const contract = loadContract(specPath);

  function record(kind, request, problems) {
    violations.push({
      atMs: now(),
      kind,
      method: request.method,
      path: request.path,
      query: request.query.toString(),
      as: request.as ?? null,
      problems,
    });
  }

  function respond(status, value, extraHeaders = {}) {
    return {
      status,
      headers: { ...(value === undefined ? {} : JSON_HEADERS), 'x-arequestid': randomUUID(), ...extraHeaders },
      body: value === undefined ? '' : JSON.stringify(value),
    };
  }

  function scopeProblem(required, method, template) {
    if (grantedScopes === null) return null;
    if (!required.length || required.some((set) => set.every((s) => grantedScopes.includes(s)))) return null;
    return `${method} ${template} needs the scope ${required.map((set) => set.join(' + ')).join(' or ')}; the app holds ${grantedScopes.join(', ') || 'no scopes'}`;
  }

  function dispatch(request) {
    const { method } = request;
    let handler;
    let params;
    let template;
    let requiredScopes;
    let body;
    if (request.path.startsWith('/rest/servicedeskapi/')) {
      // The JSM REST API is not part of the platform OpenAPI document: these requests are served
      // without contract validation.
      const route = SERVICE_DESK_ROUTES.find((r) => r.method === method && r.pattern.test(request.path));
      if (!route) {
        record('unimplemented', request, [`the local site does not serve ${method} ${request.path}`]);
        return respond(404, { errorMessage: 'null for uri: ' + request.path, i18nErrorMessage: { i18nKey: 'sd.error.not.found', parameters: [] } });
      }
      const match = route.pattern.exec(request.path);
      params = Object.fromEntries(route.params.map((name, i) => [name, safeDecode(match[i + 1])]));
      handler = route.handler;
      template = route.template;
      requiredScopes = [route.scopes];
      if (request.body) {
        try {
          body = JSON.parse(request.body);
        } catch {
          return respond(400, { errorMessage: 'The request body is not valid JSON.', i18nErrorMessage: { i18nKey: 'sd.error.invalid.json', parameters: [] } });
        }
      }
    } else {
      const checked = contract.check(request);
      if (!checked) {
        record('route', request, [`no operation of the Jira REST API matches ${method} ${request.path}`]);
        return respond(404, { errorMessages: [`null for uri: ${model.base}${request.path}`], errors: {} });
      }
      template = checked.template;
      if (checked.problems.length) {
        record('spec', request, checked.problems);
        const unsupportedMedia = checked.problems.some((p) => p.startsWith('Content-Type'));
        return respond(unsupportedMedia ? 415 : 400, { errorMessages: [NOT_CONFORMING + checked.problems.join('; ')], errors: {} });
      }
      handler = PLATFORM_ROUTES[`${method} ${template}`] ?? FIELD_ROUTES[`${method} ${template}`] ?? rules.routes[`${method} ${template}`];
      if (!handler) {
        record('unimplemented', request, [`the local site does not implement ${method} ${template}`]);
        return respond(404, { errorMessages: [`The local Jira site does not implement ${method} ${template}.`], errors: {} });
      }
      params = checked.pathParams;
      requiredScopes = (checked.operation['x-atlassian-oauth2-scopes'] ?? []).map((s) => s.scopes);
      body = request.body ? JSON.parse(request.body) : undefined;
    }

    const principal = model.principal(request.as);
    if (!principal) return respond(401, { errorMessages: ['Client must be authenticated to access this resource.'], errors: {} });
    const missingScope = scopeProblem(requiredScopes, method, template);
    if (missingScope) {
      record('scope', request, [missingScope]);
      return respond(401, { code: 401, message: 'Unauthorized; scope does not match' });
    }

    const answer = handler({
      site: model,
      principal,
      params,
      query: request.query,
      body,
      raw: request.body,
      now: now(),
      jqlSite: () => jqlSite(model, indexed, now),
      recordAdf: (problems) => record('adf', request, problems),
    });
    // Only a transition that runs the app's validator functions answers asynchronously.
    if (typeof answer?.then === 'function') return answer.then((result) => respond(result.status, result.body));
    return respond(answer.status, answer.body);
  }

  /**
   * Answers one REST request: `{ method, path, query, headers, body, as }` → `{ status, headers,
   * body }`, or a promise of it when a transition runs the app's validator functions.
   */
  function handle({ method = 'GET', path: rawPath, query, headers, body, as } = {}) {
    const text = String(rawPath ?? '');
    const cut = text.indexOf('?');
    const pathname = cut < 0 ? text : text.slice(0, cut);
    const inlineQuery = cut < 0 ? '' : text.slice(cut + 1);
    const request = {
      method: String(method).toUpperCase(),
      path: pathname,
      query: mergeQuery(inlineQuery, query),
      headers: headerLookup(headers),
      body: bodyText(body),
      as,
    };
    const logged = (response) => {
      requests.push({ atMs: now(), method: request.method, path: request.path, query: request.query.toString(), as: as ?? null, status: response.status });
      if (requests.length > 1000) requests.splice(0, requests.length - 1000);
      return response;
    };
    const response = dispatch(request);
    return typeof response.then === 'function' ? response.then(logged) : logged(response);
  }

  // ---- host-only helpers (not HTTP) ----------------------------------------------------------

  const db = () => model.db;
  const mustIssue = (keyOrId) => {
    const issue = model.issue(keyOrId);
    if (!issue) throw new Error(`No issue ${keyOrId} on the local Jira site`);
    return issue;
  };

  function issueView(issue) {
    const status = model.status(issue.statusId);
    return structuredClone({
      id: issue.id,
      key: issue.key,
      project: issue.projectKey,
      summary: issue.summary,
      status: status.name,
      statusId: status.id,
      reporter: issue.reporter,
      assignee: issue.assignee,
      affectedEmployee: issue.customFields[AFFECTED_EMPLOYEE_FIELD] ?? null,
      appFields: db()
        .fields.filter((f) => f.app)
        .map((f) => ({ id: f.id, name: f.name, value: issue.customFields[f.id] ?? null })),
      participants: issue.participants,
      created: issue.created,
      updated: issue.updated,
      comments: issue.comments.map((c) => ({
        id: c.id,
        author: c.authorId,
        body: c.body,
        text: adfText(c.body),
        internal: !c.jsdPublic,
        jsdPublic: c.jsdPublic,
        properties: c.properties,
        visibility: c.visibility,
        created: c.created,
      })),
      properties: issue.properties,
      history: issue.history,
      changelog: issue.changelog ?? [],
      transitions: availableTransitions(model, issue).map((t) => t.name),
    });
  }

  function addUser({ displayName, emailAddress, accountType = 'atlassian', groups = [], accountId, active = true, timeZone = 'Europe/London' }) {
    if (!displayName || !emailAddress) throw new Error('addUser needs displayName and emailAddress');
    const id = accountId ?? (accountType === 'customer' ? `qm:${randomUUID()}:${randomUUID()}` : `712020:${randomUUID()}`);
    if (model.user(id)) throw new Error(`User ${id} already exists`);
    for (const g of groups) if (!model.group(g)) db().groups.push({ name: g, groupId: randomUUID() });
    db().users.push({ accountId: id, accountType, displayName, emailAddress, active, timeZone, locale: 'en_GB', groups: [...groups] });
    return id;
  }

  function addIssue({
    project = 'HELP',
    summary,
    reporter,
    status,
    description = '',
    affectedEmployee = null,
    assignee = null,
    participants = [],
    requestTypeId = null,
  }) {
    const p = model.project(project);
    if (!p) throw new Error(`No project ${project}`);
    if (!summary) throw new Error('addIssue needs a summary');
    const workflow = model.workflowOf(p);
    const initial = workflow.transitions.find((t) => t.type === 'initial').to;
    const statusId = status ? db().statuses.find((s) => s.name === status || s.id === status)?.id : initial;
    if (!statusId || !workflow.statuses.includes(statusId)) throw new Error(`Status ${status} is not in ${workflow.name}`);
    const counters = db().counters;
    counters.projectIssue[p.key] = (counters.projectIssue[p.key] ?? 0) + 1;
    const t = now();
    const issue = {
      id: String(counters.issue++),
      key: `${p.key}-${counters.projectIssue[p.key]}`,
      projectKey: p.key,
      summary,
      description: { type: 'doc', version: 1, content: description ? [{ type: 'paragraph', content: [{ type: 'text', text: description }] }] : [] },
      statusId,
      reporter: reporter ?? null,
      assignee,
      participants,
      requestTypeId: requestTypeId ?? (p.serviceDeskId ? Object.keys(p.requestTypes)[0] : null),
      created: t,
      updated: t,
      customFields: { [AFFECTED_EMPLOYEE_FIELD]: affectedEmployee },
      comments: [],
      properties: {},
      history: [],
    };
    db().issues.push(issue);
    return issue.key;
  }

  /** Moves an issue by transition name or id, as an agent would; throws when not available. */
  function transitionIssue(keyOrId, transition, { by = ACCOUNTS.alex } = {}) {
    const issue = mustIssue(keyOrId);
    const workflow = model.workflowOf(model.projectOf(issue));
    const found = workflow.transitions.find(
      (t) => t.type !== 'initial' && (t.id === String(transition) || t.name.toLowerCase() === String(transition).toLowerCase()),
    );
    if (found?.rules?.validators?.length) {
      throw new Error(`${found.name} has workflow validators: use issues.transitionAsUser so they run`);
    }
    const failed = performTransition(
      model,
      issue,
      found ? found.id : transition,
      model.principal({ kind: 'user', accountId: by }) ?? { kind: 'user', accountId: by, user: null },
      now(),
    );
    if (failed) throw new Error(failed.body.errorMessages.join(' '));
    return issueView(issue);
  }

  /**
   * Moves an issue as `by` through the REST API, so conditions and the app's validators run
   * (`fields`: what the transition's screen changes, handed to them); resolves with the issue,
   * or rejects with Jira's messages.
   */
  async function transitionAsUser(keyOrId, transition, { by = ACCOUNTS.alex, fields } = {}) {
    const issue = mustIssue(keyOrId);
    const workflow = model.workflowOf(model.projectOf(issue));
    const found = workflow.transitions.find(
      (t) => t.type !== 'initial' && (t.id === String(transition) || t.name.toLowerCase() === String(transition).toLowerCase()),
    );
    const answer = await handle({
      method: 'POST',
      path: `/rest/api/3/issue/${issue.key}/transitions`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transition: { id: found ? found.id : String(transition) }, ...(fields ? { fields } : {}) }),
      as: { kind: 'user', accountId: by },
    });
    if (answer.status !== 204) {
      const json = answer.body ? JSON.parse(answer.body) : {};
      throw Object.assign(new Error([...(json.errorMessages ?? []), ...Object.values(json.errors ?? {})].join(' ') || `HTTP ${answer.status}`), {
        status: answer.status,
      });
    }
    return issueView(issue);
  }

  return {
    handle,
    violations,
    requests,
    contract,
    get baseUrl() {
      return model.base;
    },
    users: {
      get: (accountId) => structuredClone(model.user(accountId)),
      byEmail: (email) => structuredClone(db().users.find((u) => u.emailAddress.toLowerCase() === String(email).toLowerCase()) ?? null),
      list: () => structuredClone(db().users),
      add: addUser,
      setActive(accountId, active) {
        const user = model.user(accountId);
        if (!user) throw new Error(`No user ${accountId}`);
        user.active = active;
      },
    },
    groups: {
      list: () =>
        db().groups.map((g) => ({
          ...g,
          members: db()
            .users.filter((u) => u.groups.includes(g.name))
            .map((u) => u.accountId),
        })),
      addMember(name, accountId) {
        const user = model.user(accountId);
        if (!user) throw new Error(`No user ${accountId}`);
        if (!model.group(name)) db().groups.push({ name, groupId: randomUUID() });
        if (!user.groups.includes(name)) user.groups.push(name);
      },
      removeMember(name, accountId) {
        const user = model.user(accountId);
        if (user) user.groups = user.groups.filter((g) => g !== name);
      },
    },
    issues: {
      get: (keyOrId) => {
        const issue = model.issue(keyOrId);
        return issue ? issueView(issue) : null;
      },
      list: () => db().issues.map(issueView),
      add: addIssue,
      transition: transitionIssue,
      transitionAsUser,
      setProperty(keyOrId, key, value) {
        mustIssue(keyOrId).properties[key] = structuredClone(value);
      },
    },
    workflows: {
      addRule: rules.addRule,
      updateRule: rules.updateRule,
      removeRule: rules.removeRule,
      setScreen: rules.setScreen,
      rules: rules.rules,
      attachRunner: rules.attachRunner,
      modules: () => [...rules.modules.values()].map((m) => ({ ...m })),
    },
    addUser,
    addIssue,
    transitionIssue,
    /** Restores the initial site (seed or `state`) and forgets violations and the request log. */
    reset() {
      model = newModel();
      violations.length = 0;
      requests.length = 0;
    },
    /** The whole site as JSON, for `createJiraSite({ state })`. */
    snapshot: () => structuredClone(db()),
  };
}

function readManifest(manifestPath) {
  let text;
  try {
    text = readFileSync(manifestPath, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read the app manifest at ${manifestPath} (pass scopes/entityProperties explicitly): ${error.message}`, { cause: error });
  }
  return parseYaml(text);
}

function mergeQuery(inline, query) {
  const out = new URLSearchParams(inline);
  if (query === undefined || query === null) return out;
  if (typeof query === 'string') {
    for (const [k, v] of new URLSearchParams(query.replace(/^\?/, ''))) out.append(k, v);
  } else if (typeof query.entries === 'function' && !(query instanceof Map) && typeof query.getAll === 'function') {
    for (const [k, v] of query.entries()) out.append(k, v);
  } else {
    const entries = query instanceof Map ? query.entries() : Object.entries(query);
    for (const [k, v] of entries) {
      for (const item of Array.isArray(v) ? v : [v]) if (item !== undefined && item !== null) out.append(k, String(item));
    }
  }
  return out;
}

function headerLookup(headers) {
  const map = new Map();
  if (headers) {
    const entries =
      typeof headers.entries === 'function' && !(headers instanceof Map) && typeof headers.get === 'function'
        ? headers.entries()
        : headers instanceof Map
          ? headers.entries()
          : Object.entries(headers);
    for (const [k, v] of entries) map.set(k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v));
  }
  return { get: (name) => map.get(name.toLowerCase()) ?? null };
}

function bodyText(body) {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  if (body instanceof ArrayBuffer) return Buffer.from(body).toString('utf8');
  throw new TypeError('The request body must be a string (serialise JSON before handing it to the site)');
}

function adfText(node) {
  if (!node || typeof node !== 'object') return '';
  if (node.type === 'text') return node.text ?? '';
  if (node.type === 'hardBreak') return '\n';
  const parts = (node.content ?? []).map(adfText);
  const blocky = ['doc', 'bulletList', 'orderedList', 'blockquote', 'panel', 'listItem', 'table', 'tableRow', 'expand'].includes(node.type);
  return parts.join(blocky ? '\n' : '');
}

function safeDecode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
