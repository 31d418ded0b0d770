// The app reads the configuration of its own workflow rules as Jira stores them
// (GET /rest/api/3/workflow/rule/config); other callers may not.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ACCOUNTS, createJiraSite } from '../../dev/host/jira/index.mjs';
import { AS_APP, as, call } from './helpers.mjs';

const FIXTURE_MANIFEST = fileURLToPath(new URL('../host/fixture/manifest.yml', import.meta.url));
const WORKFLOW = 'IT Help Desk workflow';

/** The fixture's rules; every scope granted unless `scopes` says otherwise. */
function siteWithRules({ scopes = null } = {}) {
  const site = createJiraSite({ manifestPath: FIXTURE_MANIFEST, scopes });
  const validator = site.workflows.addRule({
    workflow: WORKFLOW,
    transition: 'Resolve',
    type: 'validator',
    moduleKey: 'identity-verified',
    configuration: { required: 'Success' },
    by: ACCOUNTS.alex,
  });
  const condition = site.workflows.addRule({
    workflow: WORKFLOW,
    transition: 'Escalate',
    type: 'condition',
    moduleKey: 'assigned-only',
    configuration: {},
    by: ACCOUNTS.alex,
  });
  return { site, validator, condition };
}

describe('GET /rest/api/3/workflow/rule/config', () => {
  it("answers the app with its rules per workflow, of the types asked, with Jira's shapes", () => {
    const { site, validator } = siteWithRules();
    const answer = call(site, AS_APP, 'GET', '/rest/api/3/workflow/rule/config', { query: { types: 'validator', expand: 'transition' } });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.total, 1);
    const [workflow] = answer.json.values;
    assert.deepEqual(workflow.workflowId, { name: WORKFLOW, draft: false });
    assert.deepEqual(workflow.validators, [{ ...validator, transition: { id: 41, name: 'Resolve' } }]);
    assert.deepEqual(workflow.conditions, []);
    const both = call(site, AS_APP, 'GET', '/rest/api/3/workflow/rule/config', { query: { types: ['validator', 'condition'] } });
    assert.equal(both.json.values[0].conditions.length, 1);
    assert.equal(both.json.values[0].validators[0].transition, undefined, 'the transition only with expand=transition');
    const byKey = call(site, AS_APP, 'GET', '/rest/api/3/workflow/rule/config', { query: { types: ['validator', 'condition'], keys: 'assigned-only' } });
    assert.deepEqual(byKey.json.values[0].validators.length + byKey.json.values[0].conditions.length, 1);
  });

  it('refuses users and a request without types', () => {
    const { site } = siteWithRules();
    assert.equal(call(site, as('alex'), 'GET', '/rest/api/3/workflow/rule/config', { query: { types: 'validator' } }).status, 403);
    assert.equal(call(site, AS_APP, 'GET', '/rest/api/3/workflow/rule/config', { conform: false }).status, 400);
  });

  it('needs the manage:jira-configuration scope, which the fixture app does not hold', () => {
    const { site } = siteWithRules({ scopes: 'manifest' });
    // Forge's gateway answers, not the operation: its 401 is not in the operation's spec.
    assert.equal(call(site, AS_APP, 'GET', '/rest/api/3/workflow/rule/config', { query: { types: 'validator' }, conform: false }).status, 401);
  });

  it('leaves modifiedFields out of the validator event without the read:jira-work scope', async () => {
    const site = createJiraSite({ manifestPath: FIXTURE_MANIFEST, scopes: ['write:jira-work'] });
    site.workflows.addRule({
      workflow: WORKFLOW,
      transition: 'Resolve',
      type: 'validator',
      moduleKey: 'identity-verified',
      configuration: {},
      by: ACCOUNTS.alex,
    });
    const events = [];
    site.workflows.attachRunner(async ({ event }) => {
      events.push(event);
      return { result: true };
    });
    const answer = await site.handle({
      method: 'POST',
      path: '/rest/api/3/issue/HELP-1/transitions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transition: { id: '41' } }),
      as: as('avery'),
    });
    assert.equal(answer.status, 204);
    assert.deepEqual(events[0].transition, { from: { id: '1' }, to: { id: '5' } });
  });
});
