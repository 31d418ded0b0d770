// Contract checks: every request to the local Jira site is checked against Atlassian's OpenAPI
// document; non-conforming requests are refused and recorded in `violations`.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJiraSite, validateAdf } from '../../dev/host/jira/index.mjs';
import { AS_APP, adf, as, call } from './helpers.mjs';

const site = () => createJiraSite({ scopes: null, entityProperties: [] });
const NOT_CONFORMING = /^Request does not conform to the Jira REST API: /;

function refused(s, request, status = 400) {
  const before = s.violations.length;
  const response = s.handle({ as: AS_APP, ...request });
  assert.equal(response.status, status, `${request.method ?? 'GET'} ${request.path}: ${response.body}`);
  assert.equal(s.violations.length, before + 1, 'the request is recorded');
  return { json: JSON.parse(response.body), violation: s.violations.at(-1) };
}

describe('request contract', () => {
  it('refuses a transition body of the wrong shape and records why', () => {
    const s = site();
    const { json, violation } = refused(s, {
      method: 'POST',
      path: '/rest/api/3/issue/HELP-1/transitions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transition: '11' }),
    });
    assert.match(json.errorMessages[0], NOT_CONFORMING);
    assert.equal(violation.kind, 'spec');
    assert.equal(violation.method, 'POST');
    assert.equal(violation.path, '/rest/api/3/issue/HELP-1/transitions');
    assert.deepEqual(violation.problems, ['body /transition must be object']);
    assert.equal(s.issues.get('HELP-1').status, 'Open', 'nothing happened');
  });

  it('refuses a transition id sent as a number (the spec says string)', () => {
    const s = site();
    const { violation } = refused(s, {
      method: 'POST',
      path: '/rest/api/3/issue/HELP-1/transitions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transition: { id: 11 } }),
    });
    assert.match(violation.problems[0], /\/transition\/id must be string/);
  });

  it('refuses comment properties given as an object instead of a list', () => {
    const s = site();
    const { violation } = refused(s, {
      method: 'POST',
      path: '/rest/api/3/issue/HELP-1/comment',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: adf('x'), properties: { key: 'sd.public.comment', value: { internal: true } } }),
    });
    assert.match(violation.problems[0], /\/properties must be array/);
  });

  it('refuses an entity property with unknown members', () => {
    const s = site();
    const { violation } = refused(s, {
      method: 'POST',
      path: '/rest/api/3/issue/HELP-1/comment',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: adf('x'), properties: [{ key: 'sd.public.comment', internal: true }] }),
    });
    assert.match(violation.problems[0], /must NOT have additional properties \(internal\)/);
  });

  it('refuses a JSON body without a JSON content type with 415', () => {
    const s = site();
    const { violation } = refused(s, { method: 'POST', path: '/rest/api/3/issue/HELP-1/comment', body: JSON.stringify({ body: adf('x') }) }, 415);
    assert.match(violation.problems[0], /Content-Type must be application\/json/);
  });

  it('refuses a body that is not JSON, and a body on an operation that takes none', () => {
    const s = site();
    refused(s, { method: 'PUT', path: '/rest/api/3/issue/HELP-1/properties/p', headers: { 'content-type': 'application/json' }, body: '{not json' });
    const { violation } = refused(s, { method: 'GET', path: '/rest/api/3/issue/HELP-1', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.match(violation.problems[0], /takes no request body/);
  });

  it('refuses missing required, mistyped and undeclared query parameters', () => {
    const s = site();
    assert.match(refused(s, { path: '/rest/api/3/user/groups' }).violation.problems[0], /query parameter accountId is required/);
    assert.match(
      refused(s, { path: '/rest/api/3/issue/HELP-1/comment', query: { maxResults: 'ten' } }).violation.problems[0],
      /query parameter maxResults must be integer/,
    );
    assert.match(
      refused(s, { path: '/rest/api/3/issue/HELP-1/comment', query: { orderBy: 'author' } }).violation.problems[0],
      /orderBy must be equal to one of the allowed values/,
    );
    assert.match(refused(s, { path: '/rest/api/3/issue/HELP-1', query: { fieldz: 'summary' } }).violation.problems[0], /query parameter fieldz is not defined/);
    assert.match(
      refused(s, { path: '/rest/api/3/mypermissions?issueKey=HELP-1&permissions=BROWSE_PROJECTS&permissions=ADD_COMMENTS' }).violation.problems[0],
      /given 2 times/,
    );
  });

  it('refuses a method the path does not have', () => {
    const s = site();
    const { violation } = refused(s, { method: 'PATCH', path: '/rest/api/3/issue/HELP-1' });
    assert.match(violation.problems[0], /PATCH is not an operation of \/rest\/api\/3\/issue\/\{issueIdOrKey\}/);
  });

  it("answers routes outside the API with Jira's 404 and records them", () => {
    const s = site();
    const { json, violation } = refused(s, { path: '/rest/api/2/issue/HELP-1' }, 404);
    assert.match(json.errorMessages[0], /null for uri/);
    assert.equal(violation.kind, 'route');
    refused(s, { path: '/rest/api/3/issue/HELP-1/comments' }, 404);
  });

  it('records operations of the API this site does not serve', () => {
    const s = site();
    const { violation } = refused(s, { path: '/rest/api/3/project/HELP' }, 404);
    assert.equal(violation.kind, 'unimplemented');
  });

  it('prefers literal path segments over parameters when matching', () => {
    const s = site();
    assert.equal(s.contract.match('/rest/api/3/issue/createmeta').template, '/rest/api/3/issue/createmeta');
    assert.equal(s.contract.match('/rest/api/3/issue/HELP-1').template, '/rest/api/3/issue/{issueIdOrKey}');
    assert.deepEqual(s.contract.match('/rest/api/3/issue/HELP-1/properties/a%2Fb').params, { issueIdOrKey: 'HELP-1', propertyKey: 'a/b' });
    assert.equal(s.contract.match('/rest/api/3/nowhere'), null);
  });

  it('leaves violations empty for the calls the app makes', () => {
    const s = createJiraSite({
      entityProperties: [],
      scopes: ['read:jira-work', 'write:jira-work', 'read:jira-user', 'manage:jira-configuration', 'read:servicedesk-request'],
    });
    call(s, as('avery'), 'GET', '/rest/api/3/mypermissions', {
      query: { issueKey: 'HELP-1', permissions: 'BROWSE_PROJECTS,ADD_COMMENTS,TRANSITION_ISSUES,ADMINISTER' },
    });
    call(s, as('avery'), 'GET', '/rest/api/3/myself', { query: { expand: 'groups' } });
    call(s, AS_APP, 'GET', '/rest/api/3/issue/HELP-2', { query: { fields: 'summary,reporter,customfield_10050' } });
    call(s, AS_APP, 'GET', '/rest/api/3/user', { query: { accountId: s.users.list()[3].accountId } });
    call(s, AS_APP, 'GET', '/rest/api/3/user/groups', { query: { accountId: s.users.list()[1].accountId } });
    call(s, AS_APP, 'POST', '/rest/api/3/issue/HELP-2/comment', {
      body: { body: adf('Verified.'), properties: [{ key: 'sd.public.comment', value: { internal: true } }] },
    });
    const transitions = call(s, AS_APP, 'GET', '/rest/api/3/issue/HELP-2/transitions').json.transitions;
    call(s, AS_APP, 'POST', '/rest/api/3/issue/HELP-2/transitions', { body: { transition: { id: transitions[0].id } } });
    call(s, AS_APP, 'PUT', '/rest/api/3/issue/HELP-2/properties/incode-verification', { body: { status: 'passed' } });
    call(s, AS_APP, 'GET', '/rest/api/3/workflows/search', { query: { expand: 'values.transitions' } });
    call(s, AS_APP, 'GET', '/rest/servicedeskapi/request/HELP-2');
    call(s, as('alex'), 'GET', '/rest/api/3/groups/picker', { query: { query: 'help', maxResults: '20', caseInsensitive: 'true' } });
    call(s, as('alex'), 'GET', '/rest/api/3/field');
    call(s, as('alex'), 'GET', '/rest/api/3/project/search', { query: { typeKey: 'service_desk', maxResults: '20' } });
    call(s, as('alex'), 'GET', '/rest/api/3/project/HELP/statuses');
    assert.deepEqual(s.violations, []);
    assert.ok(
      s.requests.every((r) => r.status < 300),
      JSON.stringify(s.requests),
    );
  });
});

describe("the settings page's reads of the site", () => {
  it('answer as the spec declares: groups picker, fields, service projects and their statuses', () => {
    const s = createJiraSite({ entityProperties: [], scopes: null });
    const check = (template, path, query) => {
      const answer = call(s, as('alex'), 'GET', path, { query });
      assert.deepEqual(s.contract.checkResponse(template, 'GET', 200, JSON.stringify(answer.json)), [], path);
      return answer.json;
    };
    const groups = check('/rest/api/3/groups/picker', '/rest/api/3/groups/picker', { query: 'HELP', caseInsensitive: 'true' });
    assert.deepEqual(
      groups.groups.map((g) => [g.name, g.html]),
      [['helpdesk-agents', '<b>help</b>desk-agents']],
    );
    assert.equal(groups.total, 1);
    assert.deepEqual(check('/rest/api/3/groups/picker', '/rest/api/3/groups/picker', { query: 'HELP' }).groups, [], 'case-sensitive unless asked');
    const fields = check('/rest/api/3/field', '/rest/api/3/field');
    const custom = fields.filter((f) => f.custom).map((f) => [f.name, f.schema.type]);
    // The site's own custom fields, and the app's (manifest `jira:customField`), as Jira lists them.
    assert.deepEqual(custom, [
      ['Affected employee', 'user'],
      ['Cost centre', 'string'],
      ['Identity verification', 'string'],
    ]);
    const projects = check('/rest/api/3/project/search', '/rest/api/3/project/search', { typeKey: 'service_desk' });
    assert.deepEqual(
      projects.values.map((p) => p.key),
      ['HELP'],
    );
    const statuses = check('/rest/api/3/project/{projectIdOrKey}/statuses', '/rest/api/3/project/HELP/statuses');
    assert.deepEqual(
      statuses[0].statuses.map((x) => x.name),
      ['Open', 'In Progress', 'Escalated', 'Pending', 'Resolved'],
    );
  });
});

describe('response contract check', () => {
  it('detects an answer that does not match the declared response', () => {
    const s = site();
    const template = '/rest/api/3/issue/{issueIdOrKey}/transitions';
    assert.deepEqual(s.contract.checkResponse(template, 'GET', 200, JSON.stringify({ transitions: [] })), []);
    assert.match(s.contract.checkResponse(template, 'GET', 200, JSON.stringify({ transitions: [], extra: 1 }))[0], /additional properties/);
    assert.match(s.contract.checkResponse(template, 'GET', 418, '')[0], /not declared/);
  });
});

describe('ADF validation', () => {
  it('accepts well-formed documents', () => {
    assert.deepEqual(validateAdf(adf('hello')), []);
    assert.deepEqual(validateAdf({ type: 'doc', version: 1, content: [] }), []);
    assert.deepEqual(
      validateAdf({
        type: 'doc',
        version: 1,
        content: [{ type: 'codeBlock', attrs: { language: 'json' }, content: [{ type: 'text', text: '{}' }] }, { type: 'rule' }],
      }),
      [],
    );
  });

  it('names each problem', () => {
    const check = (doc, pattern) => assert.match(validateAdf(doc).join('\n'), pattern);
    check(null, /not an object/);
    check({ type: 'paragraph', version: 1, content: [] }, /root type/);
    check({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text' }] }] }, /non-empty text/);
    check({ type: 'doc', version: 1, content: [{ type: 'heading', content: [] }] }, /needs attrs/);
    check({ type: 'doc', version: 1, content: [{ type: 'bulletList', content: [] }] }, /must not be empty/);
    check({ type: 'doc', version: 1, content: [{ type: 'bulletList', content: [{ type: 'paragraph' }] }] }, /paragraph is not allowed inside bulletList/);
    check(
      { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'a', marks: [{ type: 'code' }, { type: 'strong' }] }] }] },
      /code mark combines only with link/,
    );
    check({ type: 'doc', version: 1, content: [{ type: 'paragraph', colour: 'red' }] }, /unexpected key "colour"/);
    check(
      { type: 'doc', version: 1, content: [{ type: 'codeBlock', content: [{ type: 'text', text: 'a', marks: [{ type: 'strong' }] }] }] },
      /carries no marks/,
    );
  });
});
