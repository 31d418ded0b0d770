// The local Jira site: seeded data, permissions per caller, comments, transitions, issue
// properties, users, workflows, JQL search and the JSM request endpoint. Every answer is also
// checked against the OpenAPI document by `call`.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ACCOUNTS, AFFECTED_EMPLOYEE_FIELD, createJiraSite } from '../../dev/host/jira/index.mjs';
import { seedState } from '../../dev/host/jira/seed.mjs';
import { AS_APP, adf, as, call } from './helpers.mjs';

const PROPERTY = 'incode-verification';
const INDEXED = [
  {
    propertyKey: PROPERTY,
    values: [
      { path: 'status', type: 'string', searchAlias: 'incodeVerificationStatus' },
      { path: 'updatedAt', type: 'date' },
    ],
  },
];

/** A site with every scope granted, so these tests exercise Jira's own rules. */
const openSite = (options = {}) => createJiraSite({ scopes: null, entityProperties: INDEXED, ...options });

describe('seed', () => {
  it('has the admin, two agents and two portal customers with stable ids and emails', () => {
    const site = openSite();
    const users = site.users.list();
    const byName = Object.fromEntries(users.map((u) => [u.displayName, u]));
    assert.deepEqual(Object.keys(byName).sort(), ['Alex Admin', 'Avery Agent', 'Blake Agent', 'Casey Customer', 'Drew Customer']);
    assert.equal(byName['Alex Admin'].accountId, ACCOUNTS.alex);
    assert.deepEqual(byName['Alex Admin'].groups.sort(), ['jira-admins-local', 'site-admins']);
    for (const agent of ['Avery Agent', 'Blake Agent']) {
      assert.deepEqual(byName[agent].groups.sort(), ['helpdesk-agents', 'jira-servicemanagement-users-local']);
    }
    assert.equal(byName['Casey Customer'].accountType, 'customer');
    assert.ok(users.every((u) => /@example\.test$/.test(u.emailAddress)));
  });

  it('has HELP requests with customer reporters and the affected-employee field on some', () => {
    const site = openSite();
    const help = site.issues.list().filter((i) => i.project === 'HELP');
    assert.ok(help.length >= 4 && help.length <= 5);
    assert.equal(site.issues.get('HELP-1').summary, 'Password reset — locked out');
    const customers = [ACCOUNTS.casey, ACCOUNTS.drew];
    assert.ok(help.every((i) => customers.includes(i.reporter)));
    assert.ok(help.some((i) => i.affectedEmployee === ACCOUNTS.casey));
    assert.ok(help.some((i) => i.affectedEmployee === null));
    assert.ok(site.issues.get('FIN-1'), 'a second project exists');
  });
});

describe('issues and permissions', () => {
  it('serves an issue to an agent with the requested fields only', () => {
    const site = openSite();
    const { status, json } = call(site, as('avery'), 'GET', '/rest/api/3/issue/HELP-2', {
      query: { fields: `summary,status,reporter,${AFFECTED_EMPLOYEE_FIELD}` },
    });
    assert.equal(status, 200);
    assert.equal(json.key, 'HELP-2');
    assert.deepEqual(Object.keys(json.fields).sort(), [AFFECTED_EMPLOYEE_FIELD, 'reporter', 'status', 'summary'].sort());
    assert.equal(json.fields.status.name, 'Open');
    assert.equal(json.fields[AFFECTED_EMPLOYEE_FIELD].accountId, ACCOUNTS.casey);
    assert.equal(json.fields.reporter.accountId, ACCOUNTS.drew);
    assert.equal(json.fields.reporter.emailAddress, undefined, "an agent does not see a customer's email");
  });

  it('shows emails to the app, finds issues by id and lower-case key, and includes requested properties', () => {
    const site = openSite();
    site.issues.setProperty('HELP-1', PROPERTY, { status: 'passed' });
    const byKey = call(site, AS_APP, 'GET', '/rest/api/3/issue/help-1', { query: { fields: 'reporter', properties: PROPERTY } });
    assert.equal(byKey.status, 200);
    assert.equal(byKey.json.fields.reporter.emailAddress, 'casey@example.test');
    assert.deepEqual(byKey.json.properties, { [PROPERTY]: { status: 'passed' } });
    const byId = call(site, AS_APP, 'GET', `/rest/api/3/issue/${byKey.json.id}`, { query: { fields: '-comment,*navigable' } });
    assert.equal(byId.json.key, 'HELP-1');
    assert.equal(byId.json.fields.comment, undefined);
    assert.equal(byId.json.fields.summary, 'Password reset — locked out');
  });

  it("hides issues from customers and from agents outside the project, with Jira's 404", () => {
    const site = openSite();
    for (const [who, key] of [
      ['casey', 'HELP-1'],
      ['avery', 'FIN-1'],
      ['avery', 'HELP-99'],
    ]) {
      const { status, json } = call(site, as(who), 'GET', `/rest/api/3/issue/${key}`);
      assert.equal(status, 404, `${who} on ${key}`);
      assert.deepEqual(json.errorMessages, ['Issue does not exist or you do not have permission to see it.']);
    }
    assert.equal(call(site, as('alex'), 'GET', '/rest/api/3/issue/FIN-1').status, 200);
  });

  it('refuses unknown and deactivated callers with 401', () => {
    const site = openSite();
    assert.equal(call(site, undefined, 'GET', '/rest/api/3/myself').status, 401);
    assert.equal(call(site, { kind: 'user', accountId: '712020:nobody' }, 'GET', '/rest/api/3/myself').status, 401);
    site.users.setActive(ACCOUNTS.blake, false);
    assert.equal(call(site, as('blake'), 'GET', '/rest/api/3/issue/HELP-1').status, 401);
  });

  it("reports the caller's permissions on an issue", () => {
    const site = openSite();
    const keys = 'BROWSE_PROJECTS,ADD_COMMENTS,TRANSITION_ISSUES,ADMINISTER';
    const have = (who) => {
      const { status, json } = call(site, who, 'GET', '/rest/api/3/mypermissions', { query: { issueKey: 'HELP-1', permissions: keys } });
      assert.equal(status, 200);
      return Object.fromEntries(Object.entries(json.permissions).map(([k, v]) => [k, v.havePermission]));
    };
    assert.deepEqual(have(as('avery')), { BROWSE_PROJECTS: true, ADD_COMMENTS: true, TRANSITION_ISSUES: true, ADMINISTER: false });
    assert.deepEqual(have(as('alex')), { BROWSE_PROJECTS: true, ADD_COMMENTS: true, TRANSITION_ISSUES: true, ADMINISTER: true });
    // A portal customer cannot even see the issue through the platform API.
    assert.equal(call(site, as('casey'), 'GET', '/rest/api/3/mypermissions', { query: { issueKey: 'HELP-1', permissions: keys } }).status, 404);
    assert.equal(call(site, as('avery'), 'GET', '/rest/api/3/mypermissions', { query: { issueKey: 'FIN-1', permissions: keys } }).status, 404);
    const global = call(site, as('casey'), 'GET', '/rest/api/3/mypermissions', { query: { permissions: 'BROWSE_PROJECTS,ADMINISTER' } });
    assert.equal(global.json.permissions.BROWSE_PROJECTS.havePermission, false);
  });

  it('rejects a missing or unknown permission key', () => {
    const site = openSite();
    const missing = call(site, as('avery'), 'GET', '/rest/api/3/mypermissions', { query: { issueKey: 'HELP-1' } });
    assert.equal(missing.status, 400);
    const unknown = call(site, as('avery'), 'GET', '/rest/api/3/mypermissions', { query: { issueKey: 'HELP-1', permissions: 'BROWSE_PROJECTS,FLY' } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.errorMessages[0], /FLY/);
  });
});

describe('users', () => {
  it('answers /myself with groups when expanded', () => {
    const site = openSite();
    const plain = call(site, as('avery'), 'GET', '/rest/api/3/myself');
    assert.equal(plain.json.accountId, ACCOUNTS.avery);
    assert.equal(plain.json.emailAddress, 'avery@example.test');
    assert.equal(plain.json.groups.size, 2);
    assert.deepEqual(plain.json.groups.items, []);
    const expanded = call(site, as('alex'), 'GET', '/rest/api/3/myself', { query: { expand: 'groups' } });
    assert.deepEqual(expanded.json.groups.items.map((g) => g.name).sort(), ['jira-admins-local', 'site-admins']);
    assert.equal(call(site, AS_APP, 'GET', '/rest/api/3/myself').json.accountType, 'app');
    assert.equal(call(site, as('drew'), 'GET', '/rest/api/3/myself').json.accountType, 'customer');
  });

  it("shows a user's email to the app only, and refuses customers", () => {
    const site = openSite();
    const query = { accountId: ACCOUNTS.casey };
    assert.equal(call(site, AS_APP, 'GET', '/rest/api/3/user', { query }).json.emailAddress, 'casey@example.test');
    const agentView = call(site, as('avery'), 'GET', '/rest/api/3/user', { query });
    assert.equal(agentView.status, 200);
    assert.equal(agentView.json.emailAddress, undefined);
    assert.equal(agentView.json.displayName, 'Casey Customer');
    assert.equal(call(site, as('drew'), 'GET', '/rest/api/3/user', { query }).status, 403);
    assert.equal(call(site, AS_APP, 'GET', '/rest/api/3/user', { query: { accountId: '712020:nobody' } }).status, 404);
  });

  it("lists a user's groups", () => {
    const site = openSite();
    const { status, json } = call(site, AS_APP, 'GET', '/rest/api/3/user/groups', { query: { accountId: ACCOUNTS.blake } });
    assert.equal(status, 200);
    assert.deepEqual(json.map((g) => g.name).sort(), ['helpdesk-agents', 'jira-servicemanagement-users-local']);
    assert.ok(json.every((g) => g.groupId));
  });
});

describe('comments', () => {
  it('adds a public comment as an agent and an internal one as the app', () => {
    const site = openSite();
    const pub = call(site, as('avery'), 'POST', '/rest/api/3/issue/HELP-1/comment', { body: { body: adf('Looking into it.') } });
    assert.equal(pub.status, 201);
    assert.equal(pub.json.author.accountId, ACCOUNTS.avery);
    assert.equal(pub.json.jsdPublic, true);
    const internal = call(site, AS_APP, 'POST', '/rest/api/3/issue/HELP-1/comment', {
      body: { body: adf('Identity verified.'), properties: [{ key: 'sd.public.comment', value: { internal: true } }] },
    });
    assert.equal(internal.status, 201);
    assert.equal(internal.json.jsdPublic, false);
    assert.equal(internal.json.author.accountType, 'app');

    const listed = call(site, as('blake'), 'GET', '/rest/api/3/issue/HELP-1/comment', { query: { orderBy: '-created', expand: 'properties' } });
    assert.equal(listed.json.total, 3);
    assert.equal(listed.json.comments[0].id, internal.json.id);
    assert.deepEqual(listed.json.comments[0].properties, [{ key: 'sd.public.comment', value: { internal: true } }]);
    const view = site.issues.get('HELP-1').comments.at(-1);
    assert.equal(view.internal, true);
    assert.equal(view.text, 'Identity verified.');
    assert.equal(site.violations.length, 0);
  });

  it('pages comments', () => {
    const site = openSite();
    for (const n of [1, 2, 3]) call(site, AS_APP, 'POST', '/rest/api/3/issue/HELP-3/comment', { body: { body: adf(`note ${n}`) } });
    const page = call(site, AS_APP, 'GET', '/rest/api/3/issue/HELP-3/comment', { query: { startAt: 1, maxResults: 1 } });
    assert.equal(page.json.total, 3);
    assert.equal(page.json.comments.length, 1);
    assert.equal(page.json.comments[0].body.content[0].content[0].text, 'note 2');
  });

  it('rejects ADF Jira would reject, with INVALID_INPUT, and records it', () => {
    const site = openSite();
    const bad = [
      { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: '' }] }] },
      { type: 'doc', version: 1, content: [{ type: 'blink', content: [] }] },
      { type: 'doc', version: 2, content: [] },
      { type: 'doc', version: 1, content: [{ type: 'text', text: 'text outside a paragraph' }] },
      { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'x', marks: [{ type: 'link' }] }] }] },
    ];
    for (const body of bad) {
      const { status, json } = call(site, AS_APP, 'POST', '/rest/api/3/issue/HELP-1/comment', { body: { body } });
      assert.equal(status, 400, JSON.stringify(body));
      assert.deepEqual(json.errorMessages, ['INVALID_INPUT']);
    }
    assert.equal(site.violations.filter((v) => v.kind === 'adf').length, bad.length);
    assert.match(site.violations[0].problems[0], /non-empty text/);
    assert.equal(site.issues.get('HELP-1').comments.length, 1, 'nothing was added');
  });

  it('rejects a plain-text or empty body the way v3 does', () => {
    const site = openSite();
    const text = call(site, AS_APP, 'POST', '/rest/api/3/issue/HELP-1/comment', { body: { body: 'plain text' } });
    assert.equal(text.status, 400);
    assert.match(text.json.errors.comment, /Atlassian Document/);
    const empty = call(site, AS_APP, 'POST', '/rest/api/3/issue/HELP-1/comment', { body: {} });
    assert.equal(empty.status, 400);
    assert.equal(empty.json.errors.comment, 'Comment body can not be empty!');
  });

  it('accepts the richer ADF the app may render', () => {
    const site = openSite();
    const body = {
      type: 'doc',
      version: 1,
      content: [
        { type: 'heading', attrs: { level: 3 }, content: [{ type: 'text', text: 'Verification passed' }] },
        {
          type: 'paragraph',
          content: [
            { type: 'text', text: 'Session ', marks: [{ type: 'strong' }] },
            { type: 'text', text: 'abc', marks: [{ type: 'code' }] },
            { type: 'hardBreak' },
            { type: 'text', text: 'docs', marks: [{ type: 'link', attrs: { href: 'https://example.test' } }] },
          ],
        },
        { type: 'bulletList', content: [{ type: 'listItem', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'item' }] }] }] },
        { type: 'panel', attrs: { panelType: 'success' }, content: [{ type: 'paragraph' }] },
      ],
    };
    assert.equal(call(site, AS_APP, 'POST', '/rest/api/3/issue/HELP-1/comment', { body: { body } }).status, 201);
    assert.deepEqual(site.violations, []);
  });

  it('restricts a comment to a group the author belongs to', () => {
    const site = openSite();
    const ok = call(site, as('avery'), 'POST', '/rest/api/3/issue/HELP-1/comment', {
      body: { body: adf('agents only'), visibility: { type: 'group', value: 'helpdesk-agents' } },
    });
    assert.equal(ok.status, 201);
    assert.equal(ok.json.visibility.value, 'helpdesk-agents');
    const notMember = call(site, as('avery'), 'POST', '/rest/api/3/issue/HELP-1/comment', {
      body: { body: adf('x'), visibility: { type: 'group', value: 'site-admins' } },
    });
    assert.equal(notMember.status, 400);
    const listedToAdmin = call(site, as('alex'), 'GET', '/rest/api/3/issue/HELP-1/comment');
    assert.ok(!listedToAdmin.json.comments.some((c) => c.id === ok.json.id), 'hidden from a non-member');
  });

  it('does not let customers or outsiders comment through the platform API', () => {
    const site = openSite();
    assert.equal(call(site, as('casey'), 'POST', '/rest/api/3/issue/HELP-1/comment', { body: { body: adf('hi') } }).status, 404);
    assert.equal(call(site, as('avery'), 'POST', '/rest/api/3/issue/FIN-1/comment', { body: { body: adf('hi') } }).status, 404);
  });
});

describe('transitions', () => {
  const names = (site, key, who = as('avery')) => call(site, who, 'GET', `/rest/api/3/issue/${key}/transitions`).json.transitions.map((t) => t.name);

  it('offers only the transitions that leave the current status', () => {
    const site = openSite();
    assert.deepEqual(names(site, 'HELP-1'), ['Start progress', 'Escalate', 'Pending', 'Resolve']);
    assert.deepEqual(names(site, 'HELP-3'), ['Escalate', 'Pending', 'Resolve']);
    assert.deepEqual(names(site, 'HELP-4'), ['Start progress', 'Escalate', 'Resolve']);
    assert.deepEqual(names(site, 'HELP-5'), ['Reopen']);
    const one = call(site, as('avery'), 'GET', '/rest/api/3/issue/HELP-1/transitions').json.transitions[0];
    assert.equal(one.to.name, 'In Progress');
    assert.equal(one.isAvailable, true);
  });

  it('performs an available transition with 204 and moves the issue', () => {
    const site = openSite();
    const id = call(site, as('avery'), 'GET', '/rest/api/3/issue/HELP-1/transitions').json.transitions.find((t) => t.name === 'Escalate').id;
    const done = call(site, as('avery'), 'POST', '/rest/api/3/issue/HELP-1/transitions', { body: { transition: { id } } });
    assert.equal(done.status, 204);
    assert.equal(done.raw, '');
    assert.equal(site.issues.get('HELP-1').status, 'Escalated');
    assert.deepEqual(names(site, 'HELP-1'), ['Start progress', 'Pending', 'Resolve']);
    assert.equal(site.issues.get('HELP-1').history.at(-1).by, ACCOUNTS.avery);
  });

  it("refuses a transition not available from the current status with Jira's message", () => {
    const site = openSite();
    const reopen = call(site, AS_APP, 'POST', '/rest/api/3/issue/HELP-1/transitions', { body: { transition: { id: '51' } } });
    assert.equal(reopen.status, 400);
    assert.match(reopen.json.errorMessages[0], /workflow operation \(Reopen\) that is not valid for the current state of this issue \(HELP-1\)/);
    const unknown = call(site, AS_APP, 'POST', '/rest/api/3/issue/HELP-1/transitions', { body: { transition: { id: '999' } } });
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.json.errorMessages, ["Transition id '999' is not valid for this issue."]);
    const missing = call(site, AS_APP, 'POST', '/rest/api/3/issue/HELP-1/transitions', { body: {} });
    assert.equal(missing.status, 400);
    const screen = call(site, AS_APP, 'POST', '/rest/api/3/issue/HELP-1/transitions', {
      body: { transition: { id: '41' }, fields: { resolution: { name: 'Done' } } },
    });
    assert.equal(screen.status, 400);
    assert.equal(site.issues.get('HELP-1').status, 'Open');
  });

  it('gives an agent without the transition permission no transitions', () => {
    const state = seedState();
    state.projects.find((p) => p.key === 'HELP').permissions.TRANSITION_ISSUES = ['jira-admins-local'];
    const site = openSite({ state });
    assert.deepEqual(names(site, 'HELP-1'), []);
    assert.equal(call(site, as('avery'), 'POST', '/rest/api/3/issue/HELP-1/transitions', { body: { transition: { id: '11' } } }).status, 400);
    assert.deepEqual(names(site, 'HELP-1', as('alex')), ['Start progress', 'Escalate', 'Pending', 'Resolve']);
  });

  it('moves issues from the host by transition name and refuses unavailable ones', () => {
    const site = openSite();
    assert.equal(site.transitionIssue('HELP-1', 'Resolve').status, 'Resolved');
    assert.throws(() => site.transitionIssue('HELP-1', 'Escalate'), /not valid for the current state/);
    assert.equal(site.transitionIssue('HELP-1', 'Reopen').status, 'Open');
  });
});

describe('issue properties', () => {
  const url = `/rest/api/3/issue/HELP-1/properties/${PROPERTY}`;

  it('round-trips a property: 201 created, 200 updated, listed, deleted', () => {
    const site = openSite();
    const first = { status: 'requested', sessionId: 's1' };
    assert.equal(call(site, AS_APP, 'PUT', url, { body: first }).status, 201);
    assert.deepEqual(call(site, as('avery'), 'GET', url).json, { key: PROPERTY, value: first });
    assert.equal(call(site, AS_APP, 'PUT', url, { body: { status: 'passed' } }).status, 200);
    assert.deepEqual(site.issues.get('HELP-1').properties[PROPERTY], { status: 'passed' });
    const keys = call(site, AS_APP, 'GET', '/rest/api/3/issue/HELP-1/properties').json.keys.map((k) => k.key);
    assert.deepEqual(keys, [PROPERTY]);
    assert.equal(call(site, AS_APP, 'DELETE', url).status, 204);
    const gone = call(site, AS_APP, 'GET', url);
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.json.errorMessages, [`The property with key '${PROPERTY}' does not exist.`]);
    assert.equal(call(site, AS_APP, 'DELETE', url).status, 404);
  });

  it('accepts any JSON value but not one over 32768 characters', () => {
    const site = openSite();
    assert.equal(call(site, AS_APP, 'PUT', url, { body: '42', headers: { 'content-type': 'application/json' } }).status, 201);
    assert.equal(call(site, AS_APP, 'GET', url).json.value, 42);
    const big = call(site, AS_APP, 'PUT', url, { body: { blob: 'x'.repeat(33_000) } });
    assert.equal(big.status, 400);
    assert.equal(call(site, AS_APP, 'GET', url).json.value, 42);
  });

  it('applies Browse and Edit permissions', () => {
    const state = seedState();
    state.projects.find((p) => p.key === 'HELP').permissions.EDIT_ISSUES = ['jira-admins-local'];
    const site = openSite({ state });
    assert.equal(call(site, as('casey'), 'PUT', url, { body: { a: 1 } }).status, 404);
    assert.equal(call(site, as('avery'), 'PUT', url, { body: { a: 1 } }).status, 403);
    assert.equal(call(site, as('alex'), 'PUT', url, { body: { a: 1 } }).status, 201);
    assert.equal(call(site, as('avery'), 'DELETE', url).status, 404);
    assert.equal(call(site, as('avery'), 'GET', url).status, 200);
  });
});

describe('workflows', () => {
  it("lists the site's transitions through the classic search for admins and the app", () => {
    const site = openSite();
    const { status, json } = call(site, AS_APP, 'GET', '/rest/api/3/workflow/search', { query: { expand: 'transitions,statuses' } });
    assert.equal(status, 200);
    const help = json.values.find((w) => w.id.name === 'IT Help Desk workflow');
    assert.deepEqual(
      help.transitions.filter((t) => t.type !== 'initial').map((t) => t.name),
      ['Start progress', 'Escalate', 'Pending', 'Resolve', 'Reopen'],
    );
    assert.ok(
      help.transitions.some((t) => t.type === 'initial' && t.name === 'Create'),
      'the create transition is listed like Jira does',
    );
    assert.deepEqual(
      help.statuses.map((s) => s.name),
      ['Open', 'In Progress', 'Escalated', 'Pending', 'Resolved'],
    );
    assert.equal(call(site, as('alex'), 'GET', '/rest/api/3/workflow/search').status, 200);
    assert.equal(call(site, as('avery'), 'GET', '/rest/api/3/workflow/search').status, 403);
  });

  it('serves the current workflow search with transitions and status references', () => {
    const site = openSite();
    const { status, json } = call(site, as('alex'), 'GET', '/rest/api/3/workflows/search', {
      query: { expand: 'values.transitions', queryString: 'help desk' },
    });
    assert.equal(status, 200);
    assert.equal(json.values.length, 1);
    const [workflow] = json.values;
    const escalate = workflow.transitions.find((t) => t.name === 'Escalate');
    const target = json.statuses.find((s) => s.statusReference === escalate.toStatusReference);
    assert.equal(target.name, 'Escalated');
    assert.deepEqual(escalate.links.map((l) => json.statuses.find((s) => s.statusReference === l.fromStatusReference).name).sort(), [
      'In Progress',
      'Open',
      'Pending',
    ]);
    assert.equal(call(site, as('avery'), 'GET', '/rest/api/3/workflows/search').status, 401);
  });
});

describe('JQL search', () => {
  const keys = (response) => response.json.issues.map((i) => i.key);

  it('filters on the indexed issue property, by path and by search alias', () => {
    const site = openSite();
    site.issues.setProperty('HELP-2', PROPERTY, { status: 'passed', updatedAt: '2026-11-20T10:00:00Z' });
    site.issues.setProperty('HELP-3', PROPERTY, { status: 'failed', updatedAt: '2026-11-21T10:00:00Z' });
    const passed = call(site, AS_APP, 'GET', '/rest/api/3/search/jql', { query: { jql: `issue.property[${PROPERTY}].status = passed`, fields: 'summary' } });
    assert.equal(passed.status, 200);
    assert.deepEqual(keys(passed), ['HELP-2']);
    assert.equal(passed.json.issues[0].fields.summary, site.issues.get('HELP-2').summary);
    const alias = call(site, AS_APP, 'GET', '/rest/api/3/search/jql', {
      query: { jql: 'project = HELP AND incodeVerificationStatus IN (passed, failed) ORDER BY key DESC' },
    });
    assert.deepEqual(keys(alias), ['HELP-3', 'HELP-2']);
    const recent = call(site, AS_APP, 'GET', '/rest/api/3/search/jql', { query: { jql: `issue.property[${PROPERTY}].updatedAt >= "2026-11-21"` } });
    assert.deepEqual(keys(recent), ['HELP-3']);
    const none = call(site, AS_APP, 'GET', '/rest/api/3/search/jql', {
      query: { jql: `issue.property[${PROPERTY}].status IS EMPTY AND project = HELP ORDER BY key ASC` },
    });
    assert.deepEqual(keys(none), ['HELP-1', 'HELP-4', 'HELP-5']);
  });

  it('combines status, reporter and text clauses and respects Browse permission', () => {
    const site = openSite();
    const open = call(site, as('avery'), 'GET', '/rest/api/3/search/jql', { query: { jql: 'status = "Open" OR project = FIN ORDER BY key ASC' } });
    assert.deepEqual(keys(open), ['HELP-1', 'HELP-2'], 'FIN-1 is invisible to an agent');
    const admin = call(site, as('alex'), 'GET', '/rest/api/3/search/jql', { query: { jql: 'status = "Open" OR project = FIN ORDER BY key ASC' } });
    assert.deepEqual(keys(admin), ['FIN-1', 'HELP-1', 'HELP-2']);
    const mine = call(site, as('avery'), 'GET', '/rest/api/3/search/jql', { query: { jql: 'assignee = currentUser() AND summary ~ "password"' } });
    assert.deepEqual(keys(mine), ['HELP-3']);
    const reporter = call(site, AS_APP, 'GET', '/rest/api/3/search/jql', { query: { jql: 'reporter = "casey@example.test" AND NOT status = Pending' } });
    assert.deepEqual(keys(reporter), ['HELP-1']);
    assert.deepEqual(keys(call(site, as('casey'), 'GET', '/rest/api/3/search/jql', { query: { jql: 'project = HELP' } })), []);
  });

  it('pages with nextPageToken', () => {
    const site = openSite();
    const jql = 'project = HELP ORDER BY key ASC';
    const first = call(site, AS_APP, 'GET', '/rest/api/3/search/jql', { query: { jql, maxResults: 2 } });
    assert.deepEqual(keys(first), ['HELP-1', 'HELP-2']);
    assert.equal(first.json.isLast, false);
    const second = call(site, AS_APP, 'GET', '/rest/api/3/search/jql', { query: { jql, maxResults: 2, nextPageToken: first.json.nextPageToken } });
    assert.deepEqual(keys(second), ['HELP-3', 'HELP-4']);
    const third = call(site, AS_APP, 'GET', '/rest/api/3/search/jql', { query: { jql, maxResults: 2, nextPageToken: second.json.nextPageToken } });
    assert.deepEqual(keys(third), ['HELP-5']);
    assert.equal(third.json.isLast, true);
    assert.equal(call(site, AS_APP, 'GET', '/rest/api/3/search/jql', { query: { jql, nextPageToken: 'garbage' } }).status, 400);
  });

  it('rejects what Jira rejects: unknown fields, unindexed properties, bad values, unbounded queries', () => {
    const site = openSite();
    const cases = [
      ['colour = red', /Field 'colour' does not exist/],
      ['issue.property[other].status = x', /does not exist/],
      ['project = NOPE', /The value 'NOPE' does not exist for the field 'project'/],
      ['status = Flying', /does not exist for the field 'status'/],
      ['project = HELP AND', /Expecting/],
      ['order by created', /Unbounded JQL/],
      ['', /Unbounded JQL/],
      ['summary = "open', /has not been completed/],
    ];
    for (const [jql, message] of cases) {
      const { status, json } = call(site, AS_APP, 'GET', '/rest/api/3/search/jql', { query: { jql } });
      assert.equal(status, 400, jql);
      assert.match(json.errorMessages[0], message, jql);
    }
  });
});

describe('Jira Service Management requests', () => {
  const request = (site, who, key) => call(site, who, 'GET', `/rest/servicedeskapi/request/${key}`);

  it('lets a customer see only the requests they raised or take part in', () => {
    const site = openSite();
    const own = request(site, as('casey'), 'HELP-1');
    assert.equal(own.status, 200);
    assert.equal(own.json.issueKey, 'HELP-1');
    assert.equal(own.json.serviceDeskId, '1');
    assert.equal(own.json.reporter.emailAddress, 'casey@example.test');
    assert.equal(own.json.currentStatus.status, 'Open');
    const other = request(site, as('casey'), 'HELP-3');
    assert.equal(other.status, 404);
    assert.ok(other.json.errorMessage);
    // Being the affected employee of HELP-2 does not make Casey a participant.
    assert.equal(request(site, as('casey'), 'HELP-2').status, 404);
    const key = site.addIssue({ project: 'HELP', summary: 'Shared request', reporter: ACCOUNTS.drew, participants: [ACCOUNTS.casey] });
    assert.equal(request(site, as('casey'), key).status, 200);
  });

  it('serves agents and the app, and knows nothing of non-service projects', () => {
    const site = openSite();
    assert.equal(request(site, as('blake'), 'HELP-3').status, 200);
    assert.equal(request(site, AS_APP, 'HELP-4').json.currentStatus.statusCategory, 'INDETERMINATE');
    assert.equal(request(site, AS_APP, 'FIN-1').status, 404);
    assert.equal(call(site, AS_APP, 'GET', '/rest/servicedeskapi/unknown/thing').status, 404);
  });
});

describe('scopes', () => {
  it("refuses a call outside the app's scopes like Forge and records it", () => {
    const site = createJiraSite({ scopes: ['read:jira-work'], entityProperties: [] });
    assert.equal(call(site, AS_APP, 'GET', '/rest/api/3/issue/HELP-1').status, 200);
    const write = site.handle({
      method: 'POST',
      path: '/rest/api/3/issue/HELP-1/comment',
      as: AS_APP,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: adf('x') }),
    });
    assert.equal(write.status, 401);
    assert.deepEqual(JSON.parse(write.body), { code: 401, message: 'Unauthorized; scope does not match' });
    assert.equal(site.violations.length, 1);
    assert.equal(site.violations[0].kind, 'scope');
    assert.match(site.violations[0].problems[0], /write:jira-work/);
    assert.equal(site.issues.get('HELP-1').comments.length, 1);
    const jsm = site.handle({ path: '/rest/servicedeskapi/request/HELP-1', as: AS_APP });
    assert.equal(jsm.status, 401);
    assert.match(site.violations[1].problems[0], /read:servicedesk-request/);
  });

  it('reads scopes and indexed properties from the manifest by default', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jira-site-'));
    const manifestPath = path.join(dir, 'manifest.yml');
    writeFileSync(
      manifestPath,
      [
        'modules:',
        '  jira:entityProperty:',
        '    - key: p',
        '      entityType: issue',
        '      propertyKey: flags',
        '      values:',
        '        - path: colour',
        '          type: string',
        'permissions:',
        '  scopes:',
        '    - read:jira-work',
        '',
      ].join('\n'),
    );
    const site = createJiraSite({ manifestPath });
    site.issues.setProperty('HELP-4', 'flags', { colour: 'green' });
    const found = site.handle({ path: '/rest/api/3/search/jql', query: { jql: 'issue.property[flags].colour = green' }, as: AS_APP });
    assert.deepEqual(
      JSON.parse(found.body).issues.map((i) => i.key),
      ['HELP-4'],
    );
    assert.equal(site.handle({ path: '/rest/api/3/myself', as: AS_APP }).status, 401, 'read:jira-user is not granted');
  });
});

describe('state', () => {
  it('snapshots, restores and resets', () => {
    const clock = {
      t: Date.UTC(2026, 10, 22, 10),
      now() {
        return this.t;
      },
    };
    const site = openSite({ clock });
    site.transitionIssue('HELP-1', 'Start progress');
    call(site, AS_APP, 'POST', '/rest/api/3/issue/HELP-1/comment', { body: { body: adf('saved') } });
    const restored = openSite({ state: site.snapshot() });
    assert.equal(restored.issues.get('HELP-1').status, 'In Progress');
    assert.equal(restored.issues.get('HELP-1').comments.at(-1).text, 'saved');
    // Two changes at the same instant still move `updated` forward, as Jira's versioning does.
    assert.ok(restored.issues.get('HELP-1').updated > clock.t && restored.issues.get('HELP-1').updated < clock.t + 10);
    site.reset();
    assert.equal(site.issues.get('HELP-1').status, 'Open');
    assert.equal(site.requests.length, 0);
  });

  it('starts without users or requests when not seeded, and grows through host helpers', () => {
    const site = openSite({ seed: false });
    assert.deepEqual(site.users.list(), []);
    const id = site.addUser({ displayName: 'Pat Agent', emailAddress: 'pat@example.test', groups: ['jira-servicemanagement-users-local'] });
    const key = site.addIssue({ project: 'HELP', summary: 'Printer on fire', reporter: id });
    assert.equal(key, 'HELP-1');
    assert.equal(site.issues.get(key).status, 'Open');
    assert.equal(call(site, { kind: 'user', accountId: id }, 'GET', `/rest/api/3/issue/${key}`).status, 200);
  });
});
