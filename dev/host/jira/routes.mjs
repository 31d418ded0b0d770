// The REST operations the local site implements, keyed by the spec's path template. Each handler
// gets `{ site, principal, params, query, body, now }` and returns `{ status, body? }` where
// `body` is a value to serialise as JSON. Permission rules follow each operation's documentation
// in the OpenAPI document (which status a missing permission yields differs per operation).

import { validateAdf } from './adf.mjs';
import { compileJql, JqlError, parseJqlDate } from './jql.mjs';
import { PERMISSIONS, jiraTime } from './model.mjs';

const MAX_PROPERTY_CHARS = 32_768;
const MAX_COMMENT_CHARS = 32_767;
const MAX_COMMENTS_PER_ISSUE = 5_000;

export const ok = (body, status = 200) => ({ status, body });
export const noContent = (status = 204) => ({ status, body: undefined });
export const jiraError = (status, errorMessages = [], errors = {}) => ({ status, body: { errorMessages, errors } });

const ISSUE_NOT_FOUND = ['Issue does not exist or you do not have permission to see it.'];

function list(query, name) {
  return query
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

function intParam(query, name, fallback, max = Infinity) {
  const raw = query.get(name);
  if (raw === null) return fallback;
  return Math.min(Math.max(Number(raw), 0), max);
}

/** Finds the issue the caller may browse, or the 404 Jira gives for both "missing" and "hidden". */
function browsableIssue(site, principal, keyOrId) {
  const issue = site.issue(keyOrId);
  if (!issue || !site.canBrowse(principal, issue)) return { error: jiraError(404, ISSUE_NOT_FOUND) };
  return { issue };
}

function touch(issue, now) {
  issue.updated = Math.max(now, issue.updated + 1);
}

// ---- issues ------------------------------------------------------------------------------------

function getIssue({ site, principal, params, query }) {
  const { issue, error } = browsableIssue(site, principal, params.issueIdOrKey);
  if (error) return error;
  return ok(site.issueJson(issue, principal, { fields: query.getAll('fields'), properties: query.getAll('properties') }));
}

function getComments({ site, principal, params, query }) {
  const { issue, error } = browsableIssue(site, principal, params.issueIdOrKey);
  if (error) return error;
  const startAt = intParam(query, 'startAt', 0);
  const maxResults = intParam(query, 'maxResults', 100, 5000);
  const orderBy = query.get('orderBy') ?? 'created';
  const expand = list(query, 'expand');
  const visible = issue.comments.filter((c) => site.commentVisible(c, principal));
  const sorted = [...visible].sort((a, b) =>
    orderBy.startsWith('-') ? b.created - a.created || Number(b.id) - Number(a.id) : a.created - b.created || Number(a.id) - Number(b.id),
  );
  return ok({
    startAt,
    maxResults,
    total: sorted.length,
    comments: sorted.slice(startAt, startAt + maxResults).map((c) => site.commentJson(issue, c, principal, expand)),
  });
}

function addComment({ site, principal, params, query, body, now, recordAdf }) {
  const { issue, error } = browsableIssue(site, principal, params.issueIdOrKey);
  if (error) return error;
  if (!site.can(principal, 'ADD_COMMENTS', site.projectOf(issue))) {
    return jiraError(400, [], { comment: 'You do not have the permission to comment on this issue.' });
  }
  if (body.body === undefined || body.body === null || body.body === '') {
    return jiraError(400, [], { comment: 'Comment body can not be empty!' });
  }
  if (typeof body.body !== 'object' || Array.isArray(body.body)) {
    recordAdf(['the comment body is not an ADF document']);
    return jiraError(400, [], { comment: 'Operation value must be an Atlassian Document (see the Atlassian Document Format)' });
  }
  const problems = validateAdf(body.body);
  if (problems.length) {
    recordAdf(problems);
    return jiraError(400, ['INVALID_INPUT']);
  }
  if (JSON.stringify(body.body).length > MAX_COMMENT_CHARS) {
    return jiraError(400, [], { comment: 'The entered text is too long. It exceeds the allowed limit of 32,767 characters.' });
  }
  if (issue.comments.length >= MAX_COMMENTS_PER_ISSUE) {
    return jiraError(413, ['The issue has reached the maximum number of comments.']);
  }
  const properties = body.properties ?? [];
  for (const property of properties) {
    if (typeof property.key !== 'string' || property.key === '' || property.key.length > 255) {
      return jiraError(400, [], { properties: 'Property keys must be 1 to 255 characters.' });
    }
    if (property.value === undefined) return jiraError(400, [], { properties: `The property '${property.key}' has no value.` });
  }
  let visibility = null;
  if (body.visibility) {
    const { type, value, identifier } = body.visibility;
    const name = value ?? identifier;
    if (type === 'group') {
      const group = site.group(name ?? '');
      if (!group) return jiraError(400, [], { commentLevel: `Group: ${name} does not exist.` });
      if (principal.kind === 'user' && !principal.user.groups.includes(group.name)) {
        return jiraError(400, [], { commentLevel: `You are currently not a member of the group: ${group.name}.` });
      }
      visibility = { type: 'group', value: group.name, identifier: group.groupId };
    } else {
      visibility = { type: 'role', value: name, identifier: name };
    }
  }
  // JSM marks a comment internal (agents only) through this comment property.
  const internal = properties.find((p) => p.key === 'sd.public.comment')?.value?.internal === true;
  const isServiceDesk = site.projectOf(issue).projectTypeKey === 'service_desk';
  const comment = {
    id: String(site.db.counters.comment++),
    authorId: principal.accountId,
    body: body.body,
    created: now,
    updated: now,
    jsdPublic: isServiceDesk ? !internal : true,
    properties: properties.map((p) => ({ key: p.key, value: p.value })),
    visibility,
  };
  issue.comments.push(comment);
  touch(issue, now);
  return ok(site.commentJson(issue, comment, principal, list(query, 'expand')), 201);
}

// ---- transitions -------------------------------------------------------------------------------

function transitionJson(site, transition, available) {
  return {
    id: transition.id,
    name: transition.name,
    to: site.statusJson(transition.to),
    hasScreen: false,
    isGlobal: transition.from.length === 0 && transition.type !== 'initial',
    isInitial: false,
    isAvailable: available,
    isConditional: (transition.rules?.conditions ?? []).length > 0,
    isLooped: false,
  };
}

/**
 * The transitions of the issue's workflow that leave its current status and whose conditions
 * hold for `principal` (null: no user, as for a view that is not anyone's).
 */
export function availableTransitions(site, issue, principal = null) {
  const workflow = site.workflowOf(site.projectOf(issue));
  return workflow.transitions.filter(
    (t) =>
      t.type !== 'initial' &&
      t.to !== issue.statusId &&
      (t.from.length === 0 || t.from.includes(issue.statusId)) &&
      (!site.rules || site.rules.conditionsHold(site, issue, t, principal ?? { kind: 'none' })),
  );
}

function getTransitions({ site, principal, params, query }) {
  const { issue, error } = browsableIssue(site, principal, params.issueIdOrKey);
  if (error) return error;
  let transitions = [];
  if (site.can(principal, 'TRANSITION_ISSUES', site.projectOf(issue))) {
    const available = availableTransitions(site, issue, principal);
    const all =
      query.get('includeUnavailableTransitions') === 'true'
        ? site.workflowOf(site.projectOf(issue)).transitions.filter((t) => t.type !== 'initial')
        : available;
    transitions = all.map((t) => transitionJson(site, t, available.includes(t)));
    const only = query.get('transitionId');
    if (only) transitions = transitions.filter((t) => t.id === only);
  }
  const expand = list(query, 'expand');
  if (expand.includes('transitions.fields')) transitions.forEach((t) => (t.fields = {}));
  return ok({ expand: 'transitions', transitions });
}

/** The transition `transitionId` of the issue's workflow, or null. */
export function transitionOf(site, issue, transitionId) {
  const workflow = site.workflowOf(site.projectOf(issue));
  return workflow.transitions.find((t) => t.id === String(transitionId) && t.type !== 'initial') ?? null;
}

/** Moves an issue; shared by the REST operation and the host helper. Returns an error or null. */
export function performTransition(site, issue, transitionId, principal, now) {
  const transition = transitionOf(site, issue, transitionId);
  const actorId = principal.accountId;
  if (!transition) return jiraError(400, [`Transition id '${transitionId}' is not valid for this issue.`]);
  if (!availableTransitions(site, issue, principal).includes(transition)) {
    return jiraError(400, [
      `It seems that you have tried to perform a workflow operation (${transition.name}) that is not valid for the current state of this issue (${issue.key}). The likely cause is that somebody has changed the issue recently, please look at the issue history for details.`,
    ]);
  }
  issue.history.push({ atMs: now, by: actorId, transitionId: transition.id, transition: transition.name, from: issue.statusId, to: transition.to });
  issue.statusId = transition.to;
  touch(issue, now);
  return null;
}

function doTransition({ site, principal, params, body, now }) {
  const { issue, error } = browsableIssue(site, principal, params.issueIdOrKey);
  if (error) return error;
  if (!site.can(principal, 'TRANSITION_ISSUES', site.projectOf(issue))) {
    return jiraError(400, ['You do not have permission to transition this issue.']);
  }
  const id = body.transition?.id;
  if (id === undefined || id === null || id === '') return jiraError(400, ["Missing 'transition' identifier"]);
  // Only the fields of the transition's screen may be set on the way (the seeded workflows have
  // none; `workflows.setScreen` gives one). They reach the validators as `modifiedFields`, and
  // are saved with the move (this site saves the reporter; other fields it only accepts).
  const transition = transitionOf(site, issue, id);
  const screen = new Set(transition?.screen ?? []);
  const onScreen = { ...(body.fields ?? {}), ...(body.update ?? {}) };
  const fieldErrors = Object.fromEntries(
    Object.keys(onScreen)
      .filter((f) => !screen.has(f) || (body.update ?? {})[f] !== undefined)
      .map((f) => [f, `Field '${f}' cannot be set. It is not on the appropriate screen, or unknown.`]),
  );
  if (Object.keys(fieldErrors).length) return jiraError(400, [], fieldErrors);
  const modifiedFields = body.fields ?? {};
  const finish = () => {
    const failed = performTransition(site, issue, id, principal, now);
    if (failed) return failed;
    if (modifiedFields.reporter?.accountId) issue.reporter = modifiedFields.reporter.accountId;
    for (const property of body.properties ?? []) {
      if (property.key && property.value !== undefined) issue.properties[property.key] = property.value;
    }
    return noContent();
  };
  const validators = (transition?.rules?.validators ?? []).filter((r) => !r.configuration.disabled);
  if (!validators.length || !availableTransitions(site, issue, principal).includes(transition)) return finish();
  // The app's validators run before the move, each may refuse it with its message; the answer
  // is then asynchronous (see `handle` in index.mjs).
  return site.rules.validate(site, issue, transition, principal, modifiedFields).then((message) => (message ? jiraError(400, [message]) : finish()));
}

// ---- issue properties --------------------------------------------------------------------------

function propertyKeys({ site, principal, params }) {
  const { issue, error } = browsableIssue(site, principal, params.issueIdOrKey);
  if (error) return error;
  return ok({
    keys: Object.keys(issue.properties).map((key) => ({
      self: `${site.base}/rest/api/3/issue/${issue.id}/properties/${encodeURIComponent(key)}`,
      key,
    })),
  });
}

function getProperty({ site, principal, params }) {
  const { issue, error } = browsableIssue(site, principal, params.issueIdOrKey);
  if (error) return error;
  if (!Object.hasOwn(issue.properties, params.propertyKey)) {
    return jiraError(404, [`The property with key '${params.propertyKey}' does not exist.`]);
  }
  return ok({ key: params.propertyKey, value: issue.properties[params.propertyKey] });
}

function setProperty({ site, principal, params, raw, body, now }) {
  const { issue, error } = browsableIssue(site, principal, params.issueIdOrKey);
  if (error) return error;
  if (!site.can(principal, 'EDIT_ISSUES', site.projectOf(issue))) {
    return jiraError(403, ['You do not have permission to edit this issue.']);
  }
  const key = params.propertyKey;
  if (key.length > 255) return jiraError(400, ['The property key is too long. It must not exceed 255 characters.']);
  if (raw === undefined || raw === '') return jiraError(400, ['The property value must be a non-empty JSON blob.']);
  if (raw.length > MAX_PROPERTY_CHARS) {
    return jiraError(400, [`The property value is too long. It must not exceed ${MAX_PROPERTY_CHARS} characters.`]);
  }
  const existed = Object.hasOwn(issue.properties, key);
  issue.properties[key] = body;
  touch(issue, now);
  return noContent(existed ? 200 : 201);
}

function deleteProperty({ site, principal, params, now }) {
  const { issue, error } = browsableIssue(site, principal, params.issueIdOrKey);
  if (error) return error;
  // The spec documents 404 (not 403) for a caller who may not edit the issue.
  if (!site.can(principal, 'EDIT_ISSUES', site.projectOf(issue))) return jiraError(404, ISSUE_NOT_FOUND);
  if (!Object.hasOwn(issue.properties, params.propertyKey)) {
    return jiraError(404, [`The property with key '${params.propertyKey}' does not exist.`]);
  }
  delete issue.properties[params.propertyKey];
  touch(issue, now);
  return noContent();
}

// ---- permissions and users ---------------------------------------------------------------------

function myPermissions({ site, principal, query }) {
  const keys = list(query, 'permissions');
  if (!keys.length) return jiraError(400, ["The 'permissions' query parameter is required. Specify the permission keys to check."]);
  const invalid = keys.filter((k) => !PERMISSIONS[k]);
  if (invalid.length) return jiraError(400, [`Invalid permission key(s): ${invalid.join(', ')}.`]);
  let project = null;
  const issueRef = query.get('issueKey') ?? query.get('issueId');
  if (issueRef) {
    const { issue, error } = browsableIssue(site, principal, issueRef);
    if (error) return error;
    project = site.projectOf(issue);
  } else {
    const projectRef = query.get('projectKey') ?? query.get('projectId');
    if (projectRef) {
      project = site.project(projectRef);
      if (!project || !site.can(principal, 'BROWSE_PROJECTS', project)) {
        return jiraError(404, [`No project could be found with key '${projectRef}'.`]);
      }
    }
  }
  const permissions = {};
  for (const key of keys) {
    const definition = PERMISSIONS[key];
    permissions[key] = {
      id: definition.id,
      key,
      name: definition.name,
      type: definition.type,
      description: definition.description,
      havePermission: site.can(principal, key, definition.type === 'PROJECT' ? project : null),
    };
  }
  return ok({ permissions });
}

function myself({ site, principal, query }) {
  return ok(site.userJson(principal.accountId, principal, { full: true, expand: list(query, 'expand') }));
}

function getUser({ site, principal, query }) {
  if (!site.can(principal, 'USER_PICKER')) {
    return jiraError(403, ['You do not have the permission to see the specified user.']);
  }
  const accountId = query.get('accountId');
  if (!accountId) return jiraError(404, ['Specified user does not exist or you do not have required permissions']);
  const user = site.userJson(accountId, principal, { full: true, expand: list(query, 'expand') });
  if (!user) return jiraError(404, [`Specified user does not exist or you do not have required permissions`]);
  return ok(user);
}

function getUserGroups({ site, principal, query }) {
  if (!site.can(principal, 'USER_PICKER')) {
    return jiraError(403, ['You do not have the permission to see the specified user.']);
  }
  const user = site.user(query.get('accountId'));
  if (!user) return jiraError(404, ['Specified user does not exist or you do not have required permissions']);
  return ok(user.groups.map((g) => site.groupJson(g)));
}

// ---- groups and fields --------------------------------------------------------------------------

const escapeHtml = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** `GET /rest/api/3/groups/picker`: groups whose names contain `query`, sorted, at most `maxResults`. */
function pickGroups({ site, principal, query }) {
  const browses = site.db.projects.some((p) => site.can(principal, 'BROWSE_PROJECTS', p));
  const text = (query.get('query') ?? '').trim();
  const caseInsensitive = query.get('caseInsensitive') === 'true';
  const fold = (v) => (caseInsensitive ? v.toLowerCase() : v);
  const excluded = new Set([...list(query, 'exclude'), ...list(query, 'excludeId')]);
  // Without "Browse users and groups" only an exact name is found.
  const exactOnly = !site.can(principal, 'USER_PICKER');
  const matching = !browses
    ? []
    : site.db.groups
        .filter((g) => !excluded.has(g.name) && !excluded.has(g.groupId))
        .filter((g) => (exactOnly ? fold(g.name) === fold(text) : fold(g.name).includes(fold(text))))
        .sort((a, b) => a.name.localeCompare(b.name));
  const shown = matching.slice(0, intParam(query, 'maxResults', 20, 1000));
  const highlight = (name) => {
    const at = text === '' ? -1 : fold(name).indexOf(fold(text));
    if (at < 0) return escapeHtml(name);
    return `${escapeHtml(name.slice(0, at))}<b>${escapeHtml(name.slice(at, at + text.length))}</b>${escapeHtml(name.slice(at + text.length))}`;
  };
  return ok({
    header: `Showing ${shown.length} of ${matching.length} matching groups`,
    total: matching.length,
    groups: shown.map((g) => ({ name: g.name, html: highlight(g.name), labels: [], groupId: g.groupId })),
  });
}

/**
 * `GET /rest/api/3/group/bulk`: the groups of exactly these names (`groupName`) or ids (`groupId`),
 * a page of them, sorted. Needs "Browse users and groups".
 */
function bulkGroups({ site, principal, query }) {
  if (!site.can(principal, 'USER_PICKER')) return jiraError(403, ['You do not have permission to browse users and groups.']);
  const names = new Set(query.getAll('groupName'));
  const ids = new Set(query.getAll('groupId'));
  const matching = site.db.groups.filter((g) => names.has(g.name) || ids.has(g.groupId)).sort((a, b) => a.name.localeCompare(b.name));
  const startAt = intParam(query, 'startAt', 0);
  const maxResults = intParam(query, 'maxResults', 50, 1000);
  const values = matching.slice(startAt, startAt + maxResults).map((g) => ({ name: g.name, groupId: g.groupId }));
  return ok({ maxResults, startAt, total: matching.length, isLast: startAt + values.length >= matching.length, values });
}

const SYSTEM_FIELDS = [
  { id: 'summary', name: 'Summary', schema: { type: 'string', system: 'summary' } },
  { id: 'reporter', name: 'Reporter', schema: { type: 'user', system: 'reporter' } },
  { id: 'assignee', name: 'Assignee', schema: { type: 'user', system: 'assignee' } },
  { id: 'status', name: 'Status', schema: { type: 'status', system: 'status' } },
  { id: 'description', name: 'Description', schema: { type: 'string', system: 'description' } },
];

const CUSTOM_TYPES = {
  user: { schema: { type: 'user' }, custom: 'com.atlassian.jira.plugin.system.customfieldtypes:userpicker', searcher: 'userpickergroupsearcher' },
  string: { schema: { type: 'string' }, custom: 'com.atlassian.jira.plugin.system.customfieldtypes:textfield', searcher: 'textsearcher' },
};

/** `GET /rest/api/3/field`: the system fields and the site's custom fields. */
function listFields({ site }) {
  const system = SYSTEM_FIELDS.map((f) => ({
    id: f.id,
    key: f.id,
    name: f.name,
    custom: false,
    orderable: true,
    navigable: true,
    searchable: true,
    clauseNames: [f.id],
    schema: f.schema,
  }));
  const custom = site.db.fields.map((f) => {
    const type = CUSTOM_TYPES[f.type] ?? CUSTOM_TYPES.string;
    const customId = Number(f.id.replace('customfield_', ''));
    if (f.app) {
      return {
        id: f.id,
        key: f.app.key,
        name: f.name,
        custom: true,
        orderable: true,
        navigable: true,
        searchable: true,
        clauseNames: [`cf[${customId}]`, f.name],
        schema: { type: f.type, custom: f.app.custom, customId },
      };
    }
    return {
      id: f.id,
      key: f.id,
      name: f.name,
      custom: true,
      orderable: true,
      navigable: true,
      searchable: true,
      clauseNames: [`cf[${customId}]`, f.name],
      schema: { ...type.schema, custom: type.custom, customId },
    };
  });
  return ok([...system, ...custom]);
}

// ---- projects ----------------------------------------------------------------------------------

/** `GET /rest/api/3/project/search`: the projects the caller may browse, by type. */
function searchProjects({ site, principal, query }) {
  const types = list(query, 'typeKey');
  const startAt = intParam(query, 'startAt', 0);
  const maxResults = intParam(query, 'maxResults', 50, 100);
  const visible = site.db.projects
    .filter((p) => site.can(principal, 'BROWSE_PROJECTS', p) || site.can(principal, 'ADMINISTER'))
    .filter((p) => !types.length || types.includes(p.projectTypeKey))
    .map((p) => site.projectJson(p));
  return ok({ self: `${site.base}/rest/api/3/project/search`, ...page(visible, startAt, maxResults) });
}

/** `GET /rest/api/3/project/{projectIdOrKey}/statuses`: each issue type with its workflow's statuses. */
function projectStatuses({ site, principal, params }) {
  const project = site.project(params.projectIdOrKey);
  if (!project || !(site.can(principal, 'BROWSE_PROJECTS', project) || site.can(principal, 'ADMINISTER'))) {
    return jiraError(404, [`No project could be found with key '${params.projectIdOrKey}'.`]);
  }
  const workflow = site.workflowOf(project);
  return ok([
    {
      self: `${site.base}/rest/api/3/issueType/${project.issueType.id}`,
      id: project.issueType.id,
      name: project.issueType.name,
      subtask: false,
      statuses: (workflow?.statuses ?? []).map((id) => site.statusJson(id)),
    },
  ]);
}

// ---- workflows ---------------------------------------------------------------------------------

function page(items, startAt, maxResults) {
  const values = items.slice(startAt, startAt + maxResults);
  return { maxResults, startAt, total: items.length, isLast: startAt + values.length >= items.length, values };
}

function workflowsMatching(site, query) {
  const text = (query.get('queryString') ?? '').toLowerCase();
  const names = list(query, 'workflowName');
  const active = query.get('isActive');
  const inUse = new Set(site.db.projects.map((p) => p.workflow));
  return site.db.workflows.filter(
    (w) =>
      (!text || w.name.toLowerCase().includes(text)) &&
      (!names.length || names.includes(w.name)) &&
      (active === null || (active === 'true') === inUse.has(w.name)),
  );
}

/** The classic `GET /rest/api/3/workflow/search` (deprecated, still served). */
function searchClassicWorkflows({ site, principal, query }) {
  if (!site.can(principal, 'ADMINISTER')) {
    return jiraError(403, ['You are not authorized to perform this action. Administrator privileges are required.']);
  }
  const expand = list(query, 'expand');
  const startAt = intParam(query, 'startAt', 0);
  const maxResults = intParam(query, 'maxResults', 50, 50);
  const workflows = workflowsMatching(site, query).map((w) => {
    const out = { id: { name: w.name, entityId: w.entityId }, description: w.description, created: jiraTime(w.created), updated: jiraTime(w.updated) };
    if (expand.includes('transitions')) {
      out.transitions = w.transitions.map((t) => ({ id: t.id, name: t.name, description: '', from: t.from, to: t.to, type: t.type }));
    }
    if (expand.includes('statuses')) {
      out.statuses = w.statuses.map((id) => ({ id, name: site.status(id).name, properties: {} }));
    }
    if (expand.includes('default')) out.isDefault = false;
    return out;
  });
  return ok({ self: `${site.base}/rest/api/3/workflow/search`, ...page(workflows, startAt, maxResults) });
}

const CATEGORY_CODE = { new: 'TODO', indeterminate: 'IN_PROGRESS', done: 'DONE' };

/** The current `GET /rest/api/3/workflows/search`. */
function searchWorkflows({ site, principal, query }) {
  const administers = site.can(principal, 'ADMINISTER');
  if (!administers && !site.can(principal, 'ADMINISTER_PROJECTS')) {
    return jiraError(401, ["You don't have permission to view workflows."]);
  }
  const expand = list(query, 'expand');
  const startAt = intParam(query, 'startAt', 0);
  const maxResults = intParam(query, 'maxResults', 50, 50);
  const ref = (statusId) => `status-${statusId}`;
  const matching = workflowsMatching(site, query);
  const values = matching.map((w) => {
    const out = {
      id: w.entityId,
      name: w.name,
      description: w.description,
      version: { id: `${w.entityId}-v1`, versionNumber: 1 },
      scope: { type: 'GLOBAL' },
      statuses: w.statuses.map((id) => ({ statusReference: ref(id), properties: {}, deprecated: false })),
      isEditable: administers,
      created: jiraTime(w.created),
      updated: jiraTime(w.updated),
    };
    if (expand.includes('values.transitions')) {
      out.transitions = w.transitions.map((t) => ({
        id: t.id,
        name: t.name,
        description: '',
        type: t.type === 'initial' ? 'INITIAL' : t.from.length ? 'DIRECTED' : 'GLOBAL',
        toStatusReference: ref(t.to),
        links: t.from.map((from) => ({ fromStatusReference: ref(from), fromPort: 0, toPort: 1 })),
        properties: {},
        actions: [],
        validators: [],
        triggers: [],
      }));
    }
    return out;
  });
  const statusIds = [...new Set(matching.flatMap((w) => w.statuses))];
  return ok({
    ...page(values, startAt, maxResults),
    statuses: statusIds.map((id) => {
      const s = site.status(id);
      return { id, name: s.name, description: s.description, statusCategory: CATEGORY_CODE[s.category], statusReference: ref(id), scope: { type: 'GLOBAL' } };
    }),
  });
}

// ---- search ------------------------------------------------------------------------------------

function search({ site, principal, query, body, now, jqlSite: fieldsOfSite }) {
  const input =
    body && typeof body === 'object' && Object.keys(body).length
      ? {
          jql: body.jql ?? '',
          nextPageToken: body.nextPageToken ?? null,
          maxResults: body.maxResults ?? 50,
          fields: body.fields ?? [],
          properties: body.properties ?? [],
        }
      : {
          jql: query.get('jql') ?? '',
          nextPageToken: query.get('nextPageToken'),
          maxResults: intParam(query, 'maxResults', 50),
          fields: query.getAll('fields'),
          properties: query.getAll('properties'),
        };
  let compiled;
  try {
    compiled = compileJql(input.jql, fieldsOfSite());
  } catch (error) {
    if (error instanceof JqlError) return jiraError(400, [error.message]);
    throw error;
  }
  if (!compiled.bounded) {
    return jiraError(400, ['Unbounded JQL queries are not allowed here. Please add a search restriction to your query.']);
  }
  let offset = 0;
  if (input.nextPageToken) {
    const decoded = decodeToken(input.nextPageToken, input.jql);
    if (decoded === null) return jiraError(400, ['The provided next page token is invalid or expired.']);
    offset = decoded;
  }
  const maxResults = Math.min(Math.max(input.maxResults, 1), 100);
  const ctx = { accountId: principal.kind === 'user' ? principal.accountId : null, nowMs: now };
  const hits = site.db.issues.filter((i) => site.canBrowse(principal, i) && compiled.matches(i, ctx)).sort(compiled.compare);
  const slice = hits.slice(offset, offset + maxResults);
  const isLast = offset + slice.length >= hits.length;
  return ok({
    issues: slice.map((i) => site.issueJson(i, principal, { fields: input.fields, fallback: 'id', properties: input.properties })),
    isLast,
    ...(isLast ? {} : { nextPageToken: encodeToken(offset + slice.length, input.jql) }),
  });
}

function encodeToken(offset, jql) {
  return Buffer.from(JSON.stringify({ offset, jql })).toString('base64url');
}

function decodeToken(token, jql) {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    return value.jql === jql && Number.isInteger(value.offset) && value.offset >= 0 ? value.offset : null;
  } catch {
    return null;
  }
}

/** Field access for the JQL evaluator over this site's issues. */
export function jqlSite(site, indexedProperties, now) {
  const text = (values) => ({
    type: 'text',
    values,
    normalise: (v) => String(v),
    equals: (a, b) => String(a).toLowerCase() === String(b).toLowerCase(),
    order: () => null,
    sortKey: (i) => String(values(i)[0] ?? '').toLowerCase(),
  });
  const exact = (values, extra = {}) => ({
    type: 'exact',
    values,
    normalise: (v) => String(v),
    equals: (a, b) => String(a).toLowerCase() === String(b).toLowerCase(),
    order: () => null,
    sortKey: (i) => String(values(i)[0] ?? '').toLowerCase(),
    ...extra,
  });
  const date = (values) => ({
    type: 'date',
    values,
    normalise: (v) => parseJqlDate(v, now()),
    equals: (a, b) => parseJqlDate(a, now()) === b,
    order: (v) => parseJqlDate(v, now()),
    sortKey: (i) => parseJqlDate(values(i)[0] ?? 0, now()) ?? 0,
  });
  const number = (values) => ({
    type: 'number',
    values,
    normalise: (v) => Number(v),
    equals: (a, b) => Number(a) === Number(b),
    order: (v) => (Number.isFinite(Number(v)) ? Number(v) : null),
    sortKey: (i) => Number(values(i)[0] ?? 0),
  });
  const userValues = (pick) => (i) => {
    const id = pick(i);
    if (!id) return [];
    const user = site.user(id);
    return [id, ...(user ? [user.emailAddress, user.displayName] : [])];
  };
  const statusOf = (i) => site.status(i.statusId);
  const keyOrder = (i) => {
    const [projectKey, n] = i.key.split('-');
    return `${projectKey}-${String(n).padStart(10, '0')}`;
  };
  const fields = {
    project: exact((i) => {
      const p = site.projectOf(i);
      return [p.key, p.id, p.name];
    }),
    key: exact((i) => [i.key, i.id], { sortKey: keyOrder }),
    issuekey: exact((i) => [i.key, i.id], { sortKey: keyOrder }),
    id: exact((i) => [i.id, i.key], { sortKey: keyOrder }),
    status: exact((i) => [statusOf(i).name, statusOf(i).id]),
    statuscategory: exact((i) => [statusOf(i).category, { new: 'To Do', indeterminate: 'In Progress', done: 'Done' }[statusOf(i).category]]),
    reporter: exact(userValues((i) => i.reporter)),
    assignee: exact(userValues((i) => i.assignee)),
    summary: text((i) => [i.summary]),
    text: text((i) => [i.summary, ...i.comments.flatMap((c) => collectText(c.body))]),
    created: date((i) => [i.created]),
    updated: date((i) => [i.updated]),
  };
  for (const field of site.db.fields) {
    const stored = (i) => (i.customFields[field.id] == null ? [] : [i.customFields[field.id]]);
    // Forge `string` fields offer exact comparison (=, !=, IN, IS), not text search (~).
    const accessor = field.type === 'user' ? exact(userValues((i) => i.customFields[field.id])) : field.type === 'number' ? number(stored) : exact(stored);
    fields[field.id] = accessor;
    fields[field.name.toLowerCase()] = accessor;
    fields[`cf[${field.id.replace('customfield_', '')}]`] = accessor;
  }
  const typed = { string: exact, text, number, date, user: (values) => exact((i) => values(i).flatMap((id) => userValues(() => id)(i))) };
  for (const property of indexedProperties) {
    for (const value of property.values ?? []) {
      const read = (i) => readPath(i.properties[property.propertyKey], value.path);
      const accessor = (typed[value.type] ?? exact)(read);
      fields[`issue.property[${property.propertyKey}].${value.path}`.toLowerCase()] = accessor;
      if (value.searchAlias) fields[value.searchAlias.toLowerCase()] = accessor;
    }
  }
  return {
    accessor(name) {
      const accessor = fields[String(name).toLowerCase()];
      if (!accessor) throw new JqlError(`Field '${name}' does not exist or you do not have permission to view it.`);
      accessor.field = String(name).toLowerCase();
      return { ...accessor };
    },
    checkValue(accessor, raw) {
      if (accessor.field === 'project' && !site.project(raw) && !site.db.projects.some((p) => p.name.toLowerCase() === String(raw).toLowerCase())) {
        throw new JqlError(`The value '${raw}' does not exist for the field 'project'.`);
      }
      if (accessor.field === 'status' && !site.db.statuses.some((s) => s.name.toLowerCase() === String(raw).toLowerCase() || s.id === String(raw))) {
        throw new JqlError(`The value '${raw}' does not exist for the field 'status'.`);
      }
      if (accessor.type === 'date' && parseJqlDate(raw, now()) === null) {
        throw new JqlError(
          `Date value '${raw}' for field '${accessor.field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.`,
        );
      }
    },
  };
}

function readPath(value, path) {
  let current = [value];
  for (const part of path.split('.')) {
    current = current
      .flatMap((v) => (v && typeof v === 'object' ? (Array.isArray(v[part]) ? v[part] : [v[part]]) : []))
      .filter((v) => v !== undefined && v !== null);
  }
  return current.filter((v) => typeof v !== 'object');
}

function collectText(node) {
  if (!node || typeof node !== 'object') return [];
  if (node.type === 'text') return [node.text];
  return (node.content ?? []).flatMap(collectText);
}

// ---- Jira Service Management -------------------------------------------------------------------

const jsmError = (status, message, key) => ({ status, body: { errorMessage: message, i18nErrorMessage: { i18nKey: key, parameters: [] } } });

function dateDto(ms, now) {
  const time = new Date(ms).toISOString().slice(11, 16);
  const sameDay = new Date(ms).toISOString().slice(0, 10) === new Date(now).toISOString().slice(0, 10);
  return {
    iso8601: new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000'),
    jira: jiraTime(ms),
    friendly: sameDay ? `Today ${time}` : new Date(ms).toISOString().slice(0, 10),
    epochMillis: ms,
  };
}

/** `GET /rest/servicedeskapi/request/{issueIdOrKey}`: customers see only requests they raised or take part in. */
function getCustomerRequest({ site, principal, params, now }) {
  const issue = site.issue(params.issueIdOrKey);
  const project = issue && site.projectOf(issue);
  const allowed =
    issue &&
    project.serviceDeskId &&
    (principal.kind === 'app' ||
      site.can(principal, 'SERVICEDESK_AGENT', project) ||
      site.can(principal, 'ADMINISTER_PROJECTS', project) ||
      issue.reporter === principal.accountId ||
      issue.participants.includes(principal.accountId));
  if (!allowed) return jsmError(404, 'The request either does not exist or you do not have permission to view it.', 'sd.request.error.not.found');
  const status = site.status(issue.statusId);
  const reporter = site.user(issue.reporter);
  const seesEmail = principal.kind === 'app' || principal.accountId === issue.reporter || site.can(principal, 'SERVICEDESK_AGENT', project);
  return ok({
    _expands: ['participant', 'status', 'sla', 'requestType', 'serviceDesk', 'attachment', 'action', 'comment'],
    issueId: issue.id,
    issueKey: issue.key,
    summary: issue.summary,
    requestTypeId: issue.requestTypeId,
    serviceDeskId: project.serviceDeskId,
    createdDate: dateDto(issue.created, now),
    reporter: {
      accountId: reporter.accountId,
      ...(seesEmail ? { emailAddress: reporter.emailAddress } : {}),
      displayName: reporter.displayName,
      active: reporter.active,
      timeZone: reporter.timeZone,
      _links: { self: `${site.base}/rest/api/3/user?accountId=${encodeURIComponent(reporter.accountId)}` },
    },
    requestFieldValues: [
      { fieldId: 'summary', label: 'Summary', value: issue.summary },
      { fieldId: 'description', label: 'Description', value: collectText(issue.description).join('\n') },
    ],
    currentStatus: {
      status: status.name,
      statusCategory: CATEGORY_CODE[status.category] === 'TODO' ? 'NEW' : CATEGORY_CODE[status.category] === 'IN_PROGRESS' ? 'INDETERMINATE' : 'DONE',
      statusDate: dateDto(issue.updated, now),
    },
    _links: {
      jiraRest: `${site.base}/rest/api/2/issue/${issue.id}`,
      web: `${site.base}/servicedesk/customer/portal/${project.serviceDeskId}/${issue.key}`,
      agent: `${site.base}/browse/${issue.key}`,
      self: `${site.base}/rest/servicedeskapi/request/${issue.id}`,
    },
  });
}

/** Operations under /rest/api/3, by "METHOD template" of the OpenAPI document. */
export const PLATFORM_ROUTES = {
  'GET /rest/api/3/issue/{issueIdOrKey}': getIssue,
  'GET /rest/api/3/issue/{issueIdOrKey}/comment': getComments,
  'POST /rest/api/3/issue/{issueIdOrKey}/comment': addComment,
  'GET /rest/api/3/issue/{issueIdOrKey}/transitions': getTransitions,
  'POST /rest/api/3/issue/{issueIdOrKey}/transitions': doTransition,
  'GET /rest/api/3/issue/{issueIdOrKey}/properties': propertyKeys,
  'GET /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}': getProperty,
  'PUT /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}': setProperty,
  'DELETE /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}': deleteProperty,
  'GET /rest/api/3/mypermissions': myPermissions,
  'GET /rest/api/3/myself': myself,
  'GET /rest/api/3/user': getUser,
  'GET /rest/api/3/user/groups': getUserGroups,
  'GET /rest/api/3/groups/picker': pickGroups,
  'GET /rest/api/3/group/bulk': bulkGroups,
  'GET /rest/api/3/field': listFields,
  'GET /rest/api/3/project/search': searchProjects,
  'GET /rest/api/3/project/{projectIdOrKey}/statuses': projectStatuses,
  'GET /rest/api/3/workflow/search': searchClassicWorkflows,
  'GET /rest/api/3/workflows/search': searchWorkflows,
  'GET /rest/api/3/search/jql': search,
  'POST /rest/api/3/search/jql': search,
};

/**
 * Operations under /rest/servicedeskapi. That API is not in the platform OpenAPI document, so
 * these paths are served without contract validation; each entry lists the OAuth scope Forge
 * requires for it.
 */
export const SERVICE_DESK_ROUTES = [
  {
    method: 'GET',
    template: '/rest/servicedeskapi/request/{issueIdOrKey}',
    pattern: /^\/rest\/servicedeskapi\/request\/([^/]+)$/,
    params: ['issueIdOrKey'],
    scopes: ['read:servicedesk-request'],
    handler: getCustomerRequest,
  },
];
