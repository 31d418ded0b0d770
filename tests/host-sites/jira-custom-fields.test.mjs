// Custom fields that an app declares with `jira:customField`: the local site creates them, shows
// them on issues, lets only the owning app write them (PUT /rest/api/3/app/field/{field}/value)
// and searches them with JQL.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { createJiraSite } from '../../dev/host/jira/index.mjs';
import { AS_APP, as, call } from './helpers.mjs';

const FIXTURE_MANIFEST = fileURLToPath(new URL('../host/fixture/manifest.yml', import.meta.url));
const APP_ID = '00000000-0000-4000-8000-00000000f1c7';
const NAME = 'Identity verification';

const fixtureSite = (options = {}) => createJiraSite({ manifestPath: FIXTURE_MANIFEST, ...options });

function fieldOf(site) {
  const { json } = call(site, AS_APP, 'GET', '/rest/api/3/field');
  return json.find((f) => f.name === NAME);
}

const issueId = (site, key) => Number(site.issues.get(key).id);
const write = (site, who, field, updates) => call(site, who, 'PUT', `/rest/api/3/app/field/${field}/value`, { body: { updates } });

describe('custom fields from jira:customField', () => {
  it('creates the field with an id, the Forge key, its name and a string schema', () => {
    const site = fixtureSite();
    const field = fieldOf(site);
    assert.ok(field, 'the field is listed');
    assert.match(field.id, /^customfield_\d{5}$/);
    assert.equal(field.key, `${APP_ID}__DEVELOPMENT__identity-verification`);
    assert.equal(field.custom, true);
    assert.equal(field.schema.type, 'string');
    assert.equal(field.schema.customId, Number(field.id.slice('customfield_'.length)));
    assert.ok(field.clauseNames.includes(`cf[${field.schema.customId}]`) && field.clauseNames.includes(NAME));
    // A restored site keeps the same id for the same module.
    const again = createJiraSite({ manifestPath: FIXTURE_MANIFEST, state: site.snapshot() });
    assert.equal(fieldOf(again).id, field.id);
  });

  it('shows the value on the issue with fields=<id> and *all, null until written', () => {
    const site = fixtureSite();
    const { id } = fieldOf(site);
    const before = call(site, as('avery'), 'GET', '/rest/api/3/issue/HELP-1', { query: { fields: id } });
    assert.deepEqual(before.json.fields, { [id]: null });
    assert.equal(write(site, AS_APP, id, [{ issueIds: [issueId(site, 'HELP-1')], value: 'Success' }]).status, 204);
    const picked = call(site, as('avery'), 'GET', '/rest/api/3/issue/HELP-1', { query: { fields: id } });
    assert.deepEqual(picked.json.fields, { [id]: 'Success' });
    const all = call(site, as('avery'), 'GET', '/rest/api/3/issue/HELP-1', { query: { fields: '*all' } });
    assert.equal(all.json.fields[id], 'Success');
    assert.equal(all.json.fields.summary, 'Password reset — locked out');
  });

  it('lets only the owning app write it, by id or key, with the type the field declares', () => {
    const site = fixtureSite();
    const { id, key } = fieldOf(site);
    const help1 = issueId(site, 'HELP-1');
    const help2 = issueId(site, 'HELP-2');
    assert.equal(write(site, AS_APP, key, [{ issueIds: [help1, help2], value: 'Pending' }]).status, 204);
    assert.equal(fieldValue(site, 'HELP-2', id), 'Pending');

    const byUser = write(site, as('alex'), id, [{ issueIds: [help1], value: 'Success' }]);
    assert.equal(byUser.status, 403, 'not even a Jira admin may write an app-owned field');
    const notTheApps = write(site, AS_APP, 'customfield_10051', [{ issueIds: [help1], value: 'CC-1' }]);
    assert.equal(notTheApps.status, 403, 'the app may write only the fields it declares');
    assert.equal(write(site, AS_APP, 'customfield_99999', [{ issueIds: [help1], value: 'x' }]).status, 404);
    const wrongType = write(site, AS_APP, id, [{ issueIds: [help1], value: 42 }]);
    assert.equal(wrongType.status, 400);
    const tooLong = write(site, AS_APP, id, [{ issueIds: [help1], value: 'x'.repeat(256) }]);
    assert.equal(tooLong.status, 400);
    const noIssue = write(site, AS_APP, id, [{ issueIds: [help1, 999999], value: 'Success' }]);
    assert.equal(noIssue.status, 400);
    assert.equal(fieldValue(site, 'HELP-1', id), 'Pending', 'a refused request changes nothing');
    assert.equal(write(site, AS_APP, id, [{ issueIds: [help1], value: null }]).status, 204);
    assert.equal(fieldValue(site, 'HELP-1', id), null, 'null clears the value');
    const notConforming = call(site, AS_APP, 'PUT', `/rest/api/3/app/field/${id}/value`, { body: { updates: [{ issueIds: ['HELP-1'], value: 'x' }] } });
    assert.equal(notConforming.status, 400, 'issue ids are numbers in the spec');
  });

  it('writes several issues and fields in one request, with a changelog unless told otherwise', () => {
    const site = fixtureSite();
    const { id } = fieldOf(site);
    const help1 = issueId(site, 'HELP-1');
    const help3 = issueId(site, 'HELP-3');
    const many = call(site, AS_APP, 'POST', '/rest/api/3/app/field/value', {
      body: { updates: [{ customField: id, issueIds: [help1, help3], value: 'Pending' }] },
    });
    assert.equal(many.status, 204);
    assert.equal(fieldValue(site, 'HELP-3', id), 'Pending');
    assert.deepEqual(
      site.issues.get('HELP-1').changelog.map((c) => [c.field, c.from, c.to, c.by]),
      [[id, null, 'Pending', site.snapshot().app.accountId]],
    );
    const quiet = call(site, AS_APP, 'PUT', `/rest/api/3/app/field/${id}/value`, {
      query: { generateChangelog: 'false' },
      body: { updates: [{ issueIds: [help1], value: 'Success' }] },
    });
    assert.equal(quiet.status, 204);
    assert.equal(site.issues.get('HELP-1').changelog.length, 1);
    const twice = call(site, AS_APP, 'POST', '/rest/api/3/app/field/value', {
      body: {
        updates: [
          { customField: id, issueIds: [help1], value: 'A' },
          { customField: id, issueIds: [help1], value: 'B' },
        ],
      },
    });
    assert.equal(twice.status, 400, 'a field and issue pair appears once per request');
    const byUser = call(site, as('alex'), 'POST', '/rest/api/3/app/field/value', { body: { updates: [{ customField: id, issueIds: [help1], value: 'x' }] } });
    assert.equal(byUser.status, 403);
    assert.equal(fieldValue(site, 'HELP-1', id), 'Success');
  });

  it('refuses an edit of the read-only field through PUT /rest/api/3/issue/{key}, by a user or the app', () => {
    const site = fixtureSite();
    const { id } = fieldOf(site);
    for (const who of [as('avery'), as('alex'), AS_APP]) {
      const edit = call(site, who, 'PUT', '/rest/api/3/issue/HELP-1', { body: { fields: { [id]: 'Success' } } });
      assert.equal(edit.status, 400);
      assert.match(edit.json.errors[id], /cannot be set/);
      const update = call(site, who, 'PUT', '/rest/api/3/issue/HELP-1', { body: { update: { [id]: [{ set: 'Success' }] } } });
      assert.equal(update.status, 400);
    }
    assert.equal(fieldValue(site, 'HELP-1', id), null);
    // The edit operation itself works for fields that may be edited.
    const summary = call(site, as('avery'), 'PUT', '/rest/api/3/issue/HELP-1', { body: { fields: { summary: 'Locked out (edited)' } } });
    assert.equal(summary.status, 204);
    assert.equal(site.issues.get('HELP-1').summary, 'Locked out (edited)');
    const customer = call(site, as('casey'), 'PUT', '/rest/api/3/issue/HELP-1', { body: { fields: { summary: 'mine' } } });
    assert.equal(customer.status, 404, 'a portal customer cannot browse the issue through the platform API');
  });

  it('is searchable with JQL by name, id and cf[id] with exact comparison and IS EMPTY, with the field returned', () => {
    const site = fixtureSite();
    const { id } = fieldOf(site);
    const cf = `cf[${id.slice('customfield_'.length)}]`;
    write(site, AS_APP, id, [{ issueIds: [issueId(site, 'HELP-1')], value: 'Success' }]);
    write(site, AS_APP, id, [{ issueIds: [issueId(site, 'HELP-2')], value: 'Failed: document expired' }]);
    const search = (jql) => {
      const answer = call(site, AS_APP, 'GET', '/rest/api/3/search/jql', { query: { jql, fields: `${id},summary` } });
      assert.equal(answer.status, 200, `${jql}: ${answer.raw}`);
      return answer.json.issues;
    };
    const keys = (issues) => issues.map((i) => site.issues.get(i.id).key).sort();
    assert.deepEqual(keys(search(`"${NAME}" = "Success"`)), ['HELP-1']);
    assert.deepEqual(keys(search(`${cf} = "Failed: document expired"`)), ['HELP-2']);
    assert.deepEqual(keys(search(`${id} != "Success"`)), ['HELP-2']);
    assert.deepEqual(keys(search(`"${NAME}" IN ("Success", "Pending")`)), ['HELP-1']);
    assert.deepEqual(keys(search(`project = HELP AND "${NAME}" IS EMPTY`)), ['HELP-3', 'HELP-4', 'HELP-5']);
    assert.deepEqual(keys(search(`"${NAME}" IS NOT EMPTY`)), ['HELP-1', 'HELP-2']);
    const [hit] = search(`"${NAME}" = "Success"`);
    assert.deepEqual(hit.fields, { [id]: 'Success', summary: 'Password reset — locked out' });
    // Forge string fields offer exact comparison, not text search.
    const text = call(site, AS_APP, 'GET', '/rest/api/3/search/jql', { query: { jql: `"${NAME}" ~ "Success"` } });
    assert.equal(text.status, 400);
    assert.match(text.json.errorMessages[0], /operator '~' is not supported/);
  });
});

function fieldValue(site, key, id) {
  const { json } = call(site, AS_APP, 'GET', `/rest/api/3/issue/${key}`, { query: { fields: id } });
  return json.fields[id];
}
