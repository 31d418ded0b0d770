// Custom fields that the app declares with `jira:customField`: created on the site when it
// starts (stable ids across restarts), shown on issues, searchable with JQL, and written only by
// the owning app through `PUT /rest/api/3/app/field/{fieldIdOrKey}/value` and
// `POST /rest/api/3/app/field/value`. `PUT /rest/api/3/issue/{key}` (editIssue) lives here too,
// because which fields an edit may set is the custom fields' business.

import { validateAdf } from './adf.mjs';
import { jiraError, noContent } from './routes.mjs';

/** Forge stores at most 255 characters in a `string` custom field. */
export const FORGE_STRING_MAX = 255;
const FIRST_APP_FIELD = 10100;
const ENVIRONMENT = 'DEVELOPMENT';
const VALUE_CHECKS = {
  string: (v) => (typeof v !== 'string' ? 'must be a string' : v.length > FORGE_STRING_MAX ? `must be at most ${FORGE_STRING_MAX} characters` : null),
  number: (v) => (typeof v === 'number' && Number.isFinite(v) ? null : 'must be a number'),
};
const NOT_SETTABLE = (id) => `Field '${id}' cannot be set. It is not on the appropriate screen, or unknown.`;
const ISSUE_NOT_FOUND = ['Issue does not exist or you do not have permission to see it.'];

/** The `jira:customField` modules of a manifest (parsed YAML) as field declarations. */
export function appFieldDeclarations(manifest) {
  return (manifest?.modules?.['jira:customField'] ?? []).map((m) => {
    if (!VALUE_CHECKS[m.type]) {
      throw new Error(`jira:customField ${m.key}: the local Jira site models custom fields of type string and number, not ${m.type}`);
    }
    if (m.collection && m.collection !== 'none') throw new Error(`jira:customField ${m.key}: collections are not modelled by the local Jira site`);
    return { moduleKey: m.key, name: typeof m.name === 'string' ? m.name : m.key, type: m.type, readOnly: m.readOnly === true };
  });
}

/** Creates (or refreshes, keeping their ids) the app's fields in a site state. */
export function installAppFields(db, declarations, appId) {
  db.counters.field ??= FIRST_APP_FIELD;
  for (const decl of declarations) {
    const app = {
      moduleKey: decl.moduleKey,
      key: `${appId}__${ENVIRONMENT}__${decl.moduleKey}`,
      custom: `ari:cloud:ecosystem::extension/${appId}/${ENVIRONMENT.toLowerCase()}/static/${decl.moduleKey}`,
      readOnly: decl.readOnly,
    };
    const existing = db.fields.find((f) => f.app?.moduleKey === decl.moduleKey);
    if (existing) Object.assign(existing, { name: decl.name, type: decl.type, app });
    else db.fields.push({ id: `customfield_${db.counters.field++}`, name: decl.name, type: decl.type, app });
  }
  return db;
}

export function fieldByIdOrKey(site, ref) {
  const wanted = String(ref);
  return site.db.fields.find((f) => f.id === wanted || f.app?.key === wanted) ?? null;
}

/** Validates app-field updates as a whole (nothing is written when one is wrong). */
function planAppWrites(site, principal, updates) {
  if (principal.kind !== 'app') {
    return { error: jiraError(403, ['Only the app that provides the custom field can update its values with this operation.']) };
  }
  const plan = [];
  const seen = new Set();
  for (const { fieldRef, issueIds, value } of updates) {
    const field = fieldByIdOrKey(site, fieldRef);
    if (!field) return { error: jiraError(404, [`The custom field ${fieldRef} was not found.`]) };
    if (!field.app) return { error: jiraError(403, [`The custom field ${fieldRef} is not provided by this app.`]) };
    if (!Array.isArray(issueIds) || issueIds.length === 0) return { error: jiraError(400, ['Provide at least one issue id.']) };
    const problem = value === null ? null : VALUE_CHECKS[field.type](value);
    if (problem) return { error: jiraError(400, [], { [field.id]: `The value of ${field.name} ${problem}.` }) };
    const missing = issueIds.filter((id) => !site.issue(String(id)));
    if (missing.length) return { error: jiraError(400, [`Issues with these ids were not found: ${missing.join(', ')}.`]) };
    for (const id of issueIds) {
      const pair = `${field.id}/${id}`;
      if (seen.has(pair)) return { error: jiraError(400, [`The issue ${id} is updated twice for ${field.id} in one request.`]) };
      seen.add(pair);
      plan.push({ field, issue: site.issue(String(id)), value });
    }
  }
  return { plan };
}

function applyWrites(plan, actorId, now, query) {
  const changelog = query.get('generateChangelog') !== 'false';
  for (const { field, issue, value } of plan) {
    const from = issue.customFields[field.id] ?? null;
    issue.customFields[field.id] = value;
    issue.changelog ??= [];
    if (changelog) issue.changelog.push({ atMs: now, by: actorId, field: field.id, from, to: value });
    issue.updated = Math.max(now, issue.updated + 1);
  }
}

/** `PUT /rest/api/3/app/field/{fieldIdOrKey}/value` */
function updateAppFieldValue({ site, principal, params, query, body, now }) {
  const updates = (body.updates ?? []).map((u) => ({ fieldRef: params.fieldIdOrKey, issueIds: u.issueIds, value: u.value ?? null }));
  const { plan, error } = planAppWrites(site, principal, updates);
  if (error) return error;
  applyWrites(plan, principal.accountId, now, query);
  return noContent();
}

/** `POST /rest/api/3/app/field/value` */
function updateAppFieldValues({ site, principal, query, body, now }) {
  const updates = (body.updates ?? []).map((u) => ({ fieldRef: u.customField, issueIds: u.issueIds, value: u.value ?? null }));
  const { plan, error } = planAppWrites(site, principal, updates);
  if (error) return error;
  applyWrites(plan, principal.accountId, now, query);
  return noContent();
}

/** What an edit may set on this site's issues: `{ error }` or `{ apply(issue) }`. */
function editableValue(site, id, value) {
  if (id === 'summary') {
    if (typeof value !== 'string' || !value.trim()) return { error: 'You must specify a summary of the issue.' };
    if (value.length > 255) return { error: 'Summary must be less than 255 characters.' };
    return { apply: (issue) => (issue.summary = value) };
  }
  if (id === 'description') {
    if (value !== null && (typeof value !== 'object' || validateAdf(value).length))
      return { error: 'Operation value must be an Atlassian Document (see the Atlassian Document Format)' };
    return { apply: (issue) => (issue.description = value ?? { type: 'doc', version: 1, content: [] }) };
  }
  const field = site.db.fields.find((f) => f.id === id);
  // Read-only app fields are on no edit screen: Jira answers as for an unknown field.
  if (!field || field.app?.readOnly) return { error: NOT_SETTABLE(id) };
  if (field.type === 'user') {
    const accountId = value === null ? null : value?.accountId;
    if (accountId !== null && !site.user(accountId)) return { error: `Specify a valid value for ${field.name}` };
    return { apply: (issue) => (issue.customFields[id] = accountId) };
  }
  const problem = value === null ? null : (VALUE_CHECKS[field.type] ?? VALUE_CHECKS.string)(value);
  if (problem) return { error: `${field.name} ${problem}` };
  return { apply: (issue) => (issue.customFields[id] = value) };
}

/** `PUT /rest/api/3/issue/{issueIdOrKey}` */
function editIssue({ site, principal, params, body, now }) {
  const issue = site.issue(params.issueIdOrKey);
  if (!issue || !site.canBrowse(principal, issue)) return jiraError(404, ISSUE_NOT_FOUND);
  if (!site.can(principal, 'EDIT_ISSUES', site.projectOf(issue))) return jiraError(403, ['You do not have permission to edit issues in this project.']);
  const changes = [];
  const errors = {};
  for (const [id, value] of Object.entries(body.fields ?? {})) changes.push([id, value]);
  for (const [id, operations] of Object.entries(body.update ?? {})) {
    if (!Array.isArray(operations) || operations.length !== 1 || !Object.hasOwn(operations[0] ?? {}, 'set')) {
      errors[id] = `The local Jira site supports only a single "set" operation for ${id}.`;
      continue;
    }
    changes.push([id, operations[0].set]);
  }
  const planned = [];
  for (const [id, value] of changes) {
    const { error, apply } = editableValue(site, id, value);
    if (error) errors[id] = error;
    else planned.push(apply);
  }
  if (Object.keys(errors).length) return jiraError(400, [], errors);
  for (const apply of planned) apply(issue);
  for (const property of body.properties ?? []) if (property.key && property.value !== undefined) issue.properties[property.key] = property.value;
  issue.updated = Math.max(now, issue.updated + 1);
  return noContent();
}

export const FIELD_ROUTES = {
  'PUT /rest/api/3/app/field/{fieldIdOrKey}/value': updateAppFieldValue,
  'POST /rest/api/3/app/field/value': updateAppFieldValues,
  'PUT /rest/api/3/issue/{issueIdOrKey}': editIssue,
};
