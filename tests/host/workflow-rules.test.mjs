// Workflow rules that the app declares (jira:workflowValidator with a function,
// jira:workflowCondition with a Jira expression), configured by a Jira admin on a transition of
// the seeded workflow: every transition runs the validators, conditions hide transitions.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readManifest } from '../../dev/host/manifest.mjs';
import { ACCOUNTS, startFixtureHost, tempDir } from './helpers.mjs';

const WORKFLOW = 'IT Help Desk workflow';

async function rest(host, accountId, method, requestPath, body) {
  const answer = await host.jira.handle({
    method,
    path: requestPath,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    as: accountId ? { kind: 'user', accountId } : { kind: 'app' },
  });
  return { status: answer.status, json: answer.body ? JSON.parse(answer.body) : undefined };
}

const transitionNames = async (host, accountId, key) =>
  (await rest(host, accountId, 'GET', `/rest/api/3/issue/${key}/transitions`)).json.transitions.map((t) => t.name);

describe('a function validator on a transition', () => {
  let host;
  let field;
  before(async () => {
    host = await startFixtureHost();
    field = (await rest(host, null, 'GET', '/rest/api/3/field')).json.find((f) => f.name === 'Identity verification').id;
  });
  after(() => host.stop());

  it('is configured only by a Jira admin, with its configuration stored as the platform stores it', async () => {
    assert.throws(
      () =>
        host.jira.workflows.addRule({
          workflow: WORKFLOW,
          transition: 'Resolve',
          type: 'validator',
          moduleKey: 'identity-verified',
          configuration: {},
          by: ACCOUNTS.avery,
        }),
      /Administer Jira/,
    );
    assert.throws(
      () =>
        host.jira.workflows.addRule({
          workflow: WORKFLOW,
          transition: 'Resolve',
          type: 'validator',
          moduleKey: 'no-such-module',
          configuration: {},
          by: ACCOUNTS.alex,
        }),
      /no-such-module/,
    );
    const rule = host.jira.workflows.addRule({
      workflow: WORKFLOW,
      transition: 'Resolve',
      type: 'validator',
      moduleKey: 'identity-verified',
      configuration: { field, required: 'Success' },
      by: ACCOUNTS.alex,
    });
    assert.match(rule.id, /^[0-9a-f-]{36}$/);
    assert.match(rule.key, /^ari:cloud:ecosystem::extension\/.+\/static\/identity-verified$/);
    assert.deepEqual(rule.configuration, { value: JSON.stringify({ field, required: 'Success' }), disabled: false });
    assert.deepEqual(host.jira.workflows.rules(WORKFLOW, 'Resolve').validators, [rule]);
  });

  it("refuses the transition with the function's message, as Jira answers, and leaves the issue where it was", async () => {
    const refused = await rest(host, ACCOUNTS.avery, 'POST', '/rest/api/3/issue/HELP-1/transitions', { transition: { id: '41' } });
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.json, { errorMessages: ['Identity not verified (no verification).'], errors: {} });
    assert.equal(host.jira.issues.get('HELP-1').status, 'Open');
  });

  it("calls the function with the platform's event: issue, configuration, transition; and a context", async () => {
    const { event, context } = host.kvs.get('gate:last');
    assert.deepEqual(event.issue, { key: 'HELP-1' });
    assert.deepEqual(event.configuration, { field, required: 'Success' });
    assert.deepEqual(event.transition.from, { id: '1' });
    assert.deepEqual(event.transition.to, { id: '5' });
    // The fixture holds read:jira-work, without which Jira leaves modifiedFields out.
    assert.deepEqual(event.transition.modifiedFields, {});
    assert.equal(context.installContext, `ari:cloud:jira::site/${host.ids.cloudId}`);
    assert.equal(context.principal.accountId, ACCOUNTS.avery);
  });

  it('lets the transition through once the function answers { result: true }', async () => {
    const issueId = Number(host.jira.issues.get('HELP-1').id);
    const written = await rest(host, null, 'PUT', `/rest/api/3/app/field/${field}/value`, { updates: [{ issueIds: [issueId], value: 'Success' }] });
    assert.equal(written.status, 204);
    const allowed = await rest(host, ACCOUNTS.avery, 'POST', '/rest/api/3/issue/HELP-1/transitions', { transition: { id: '41' } });
    assert.equal(allowed.status, 204);
    assert.equal(host.jira.issues.get('HELP-1').status, 'Resolved');
  });

  it("runs for the local shell's buttons too, which show Jira's message", async () => {
    const response = await fetch(`${host.url}/__host/issues/HELP-2/transitions?as=${encodeURIComponent(ACCOUNTS.avery)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Resolve' }),
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { ok: false, status: 400, errorMessages: ['Identity not verified (no verification).'], errors: {} });
    assert.equal(host.jira.issues.get('HELP-2').status, 'Open');
    // Transitions without the validator are not affected.
    assert.equal((await rest(host, ACCOUNTS.avery, 'POST', '/rest/api/3/issue/HELP-2/transitions', { transition: { id: '11' } })).status, 204);
  });

  it('fails closed when the function throws or answers something else', async () => {
    for (const mode of ['throw', 'malformed']) {
      const rules = host.jira.workflows.rules(WORKFLOW, 'Escalate');
      for (const rule of rules.validators) host.jira.workflows.removeRule({ workflow: WORKFLOW, transition: 'Escalate', id: rule.id, by: ACCOUNTS.alex });
      host.jira.workflows.addRule({
        workflow: WORKFLOW,
        transition: 'Escalate',
        type: 'validator',
        moduleKey: 'identity-verified',
        configuration: { mode },
        by: ACCOUNTS.alex,
      });
      const refused = await rest(host, ACCOUNTS.avery, 'POST', '/rest/api/3/issue/HELP-3/transitions', { transition: { id: '21' } });
      assert.equal(refused.status, 400, mode);
      assert.equal(refused.json.errorMessages.length, 1);
      assert.match(refused.json.errorMessages[0], /Identity verified/, 'the default message names the validator');
      assert.equal(host.jira.issues.get('HELP-3').status, 'In Progress');
    }
  });

  it('runs through the host helper that transitions as a user, and the plain helper refuses to skip it', async () => {
    const error = await host.jira.issues.transitionAsUser('HELP-4', 'Resolve', { by: ACCOUNTS.blake }).catch((e) => e);
    assert.equal(error.status, 400);
    assert.equal(error.message, 'Identity not verified (no verification).');
    assert.throws(() => host.jira.issues.transition('HELP-4', 'Resolve'), /workflow validators.*transitionAsUser/);
    assert.equal((await host.jira.issues.transitionAsUser('HELP-4', 'Start progress', { by: ACCOUNTS.blake })).status, 'In Progress');
  });

  it('runs the function without a user token: asUser() is refused, as in other product events', async () => {
    host.jira.workflows.addRule({
      workflow: WORKFLOW,
      transition: 'Pending',
      type: 'validator',
      moduleKey: 'identity-verified',
      configuration: { mode: 'asUser' },
      by: ACCOUNTS.alex,
    });
    const refused = await rest(host, ACCOUNTS.avery, 'POST', '/rest/api/3/issue/HELP-5/transitions', { transition: { id: '51' } });
    assert.equal(refused.status, 204, 'Reopen has no validator');
    const pending = await rest(host, ACCOUNTS.avery, 'POST', '/rest/api/3/issue/HELP-5/transitions', { transition: { id: '31' } });
    assert.equal(pending.status, 400);
    assert.deepEqual(pending.json.errorMessages, ['asUser: NEEDS_AUTHENTICATION_ERR']);
  });

  it('keeps the rules in the saved site', async () => {
    const saved = host.jira.snapshot();
    const transition = saved.workflows.find((w) => w.name === WORKFLOW).transitions.find((t) => t.name === 'Resolve');
    assert.equal(transition.rules.validators.length, 1);
  });
});

describe('an expression condition on a transition', () => {
  let host;
  before(async () => {
    host = await startFixtureHost();
  });
  after(() => host.stop());

  it('hides the transition where the expression is false and refuses it if asked anyway', async () => {
    host.jira.workflows.addRule({
      workflow: WORKFLOW,
      transition: 'Escalate',
      type: 'condition',
      moduleKey: 'assigned-only',
      configuration: {},
      by: ACCOUNTS.alex,
    });
    // HELP-1 has no assignee; HELP-3 is assigned to Avery.
    assert.ok(!(await transitionNames(host, ACCOUNTS.avery, 'HELP-1')).includes('Escalate'));
    assert.ok((await transitionNames(host, ACCOUNTS.avery, 'HELP-3')).includes('Escalate'));
    assert.ok(!host.jira.issues.get('HELP-1').transitions.includes('Escalate'));
    const refused = await rest(host, ACCOUNTS.avery, 'POST', '/rest/api/3/issue/HELP-1/transitions', { transition: { id: '21' } });
    assert.equal(refused.status, 400);
    assert.equal(host.jira.issues.get('HELP-1').status, 'Open');
    assert.equal((await rest(host, ACCOUNTS.avery, 'POST', '/rest/api/3/issue/HELP-3/transitions', { transition: { id: '21' } })).status, 204);
  });

  it('evaluates the configuration as `config` and fails closed on an expression error', async () => {
    const site = host.jira;
    site.workflows.addRule({
      workflow: WORKFLOW,
      transition: 'Pending',
      type: 'condition',
      moduleKey: 'assigned-only',
      configuration: { expression: "issue.summary.includes(config['word'])", word: 'VPN' },
      by: ACCOUNTS.alex,
    });
    assert.ok((await transitionNames(host, ACCOUNTS.avery, 'HELP-3')).includes('Pending') === false, 'HELP-3 is not about VPN');
    site.workflows.addRule({
      workflow: WORKFLOW,
      transition: 'Start progress',
      type: 'condition',
      moduleKey: 'assigned-only',
      configuration: { expression: 'issue.noSuchThing.deeper == 1' },
      by: ACCOUNTS.alex,
    });
    assert.ok(!(await transitionNames(host, ACCOUNTS.avery, 'HELP-2')).includes('Start progress'));
  });
});

describe('an expression validator on a transition', () => {
  let host;
  before(async () => {
    host = await startFixtureHost();
  });
  after(() => host.stop());

  it('refuses with the message its errorMessage expression builds, and allows when the expression holds', async () => {
    host.jira.workflows.addRule({
      workflow: WORKFLOW,
      transition: 'Escalate',
      type: 'validator',
      moduleKey: 'summary-mentions',
      configuration: { word: 'VPN' },
      by: ACCOUNTS.alex,
    });
    const refused = await rest(host, ACCOUNTS.avery, 'POST', '/rest/api/3/issue/HELP-1/transitions', { transition: { id: '21' } });
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.json.errorMessages, ['The summary must mention VPN.']);
    // HELP-4 is "VPN access for a contractor".
    assert.equal((await rest(host, ACCOUNTS.avery, 'POST', '/rest/api/3/issue/HELP-4/transitions', { transition: { id: '21' } })).status, 204);
  });
});

describe("the shell's workflow rules page (host API)", () => {
  let host;
  before(async () => {
    host = await startFixtureHost();
  });
  after(() => host.stop());

  const hostApi = async (accountId, method, route, body) => {
    const response = await fetch(`${host.url}${route}?as=${encodeURIComponent(accountId)}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  };

  it('lists the app rule modules and the transitions, and lets only an admin add and remove rules', async () => {
    assert.equal((await hostApi(ACCOUNTS.avery, 'GET', '/__host/workflow-rules')).status, 403);
    const listed = await hostApi(ACCOUNTS.alex, 'GET', '/__host/workflow-rules');
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.json.modules.map((m) => [m.key, m.type]),
      [
        ['identity-verified', 'validator'],
        ['summary-mentions', 'validator'],
        ['assigned-only', 'condition'],
      ],
    );
    const workflow = listed.json.workflows.find((w) => w.name === WORKFLOW);
    assert.ok(workflow.transitions.some((t) => t.name === 'Resolve'));
    const rule = { workflow: WORKFLOW, transition: 'Resolve', type: 'validator', moduleKey: 'identity-verified', configuration: { required: 'Success' } };
    assert.equal((await hostApi(ACCOUNTS.avery, 'POST', '/__host/workflow-rules', rule)).status, 403);
    const added = await hostApi(ACCOUNTS.alex, 'POST', '/__host/workflow-rules', rule);
    assert.equal(added.status, 201);
    assert.equal((await hostApi(ACCOUNTS.alex, 'POST', '/__host/workflow-rules', { ...rule, moduleKey: 'nope' })).status, 400);
    const after = (await hostApi(ACCOUNTS.alex, 'GET', '/__host/workflow-rules')).json.workflows.find((w) => w.name === WORKFLOW);
    const resolve = after.transitions.find((t) => t.name === 'Resolve');
    assert.deepEqual(
      resolve.rules.validators.map((r) => [r.id, r.moduleKey, r.configuration]),
      [[added.json.id, 'identity-verified', { required: 'Success' }]],
    );
    const removed = await hostApi(ACCOUNTS.alex, 'POST', '/__host/workflow-rules/remove', { workflow: WORKFLOW, transition: 'Resolve', id: added.json.id });
    assert.equal(removed.status, 200);
    assert.deepEqual(host.jira.workflows.rules(WORKFLOW, 'Resolve').validators, []);
  });
});

describe('manifest checks for workflow rules', () => {
  it('refuses a condition backed by a function (Forge conditions are Jira expressions only)', () => {
    const dir = tempDir();
    try {
      const manifest = fs
        .readFileSync(path.join(import.meta.dirname, 'fixture', 'manifest.yml'), 'utf8')
        .replace('      expression: issue.assignee != null\n', '      function: gate\n');
      fs.writeFileSync(path.join(dir, 'manifest.yml'), manifest);
      assert.throws(() => readManifest(dir), /jira:workflowCondition assigned-only.*expression/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a validator that names an unknown function or has neither function nor expression', () => {
    const dir = tempDir();
    try {
      const base = fs.readFileSync(path.join(import.meta.dirname, 'fixture', 'manifest.yml'), 'utf8');
      fs.writeFileSync(
        path.join(dir, 'manifest.yml'),
        base.replace('      function: gate\n    - key: summary-mentions', '      function: nope\n    - key: summary-mentions'),
      );
      assert.throws(() => readManifest(dir), /identity-verified.*unknown function nope/);
      fs.writeFileSync(path.join(dir, 'manifest.yml'), base.replace('      function: gate\n    - key: summary-mentions', '    - key: summary-mentions'));
      assert.throws(() => readManifest(dir), /identity-verified.*function or an expression/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a transition's screen", () => {
  let host;
  before(async () => {
    host = await startFixtureHost();
  });
  after(() => host.stop());

  it('takes only its own fields, saves the reporter with the move, and is given by a Jira admin only', async () => {
    const offScreen = await rest(host, ACCOUNTS.avery, 'POST', '/rest/api/3/issue/HELP-2/transitions', {
      transition: { id: '11' },
      fields: { reporter: { accountId: ACCOUNTS.drew } },
    });
    assert.equal(offScreen.status, 400);
    assert.match(offScreen.json.errors.reporter, /not on the appropriate screen/);
    assert.throws(() => host.jira.workflows.setScreen({ workflow: WORKFLOW, transition: '11', fields: ['reporter'], by: ACCOUNTS.avery }), /Administer Jira/);
    host.jira.workflows.setScreen({ workflow: WORKFLOW, transition: '11', fields: ['reporter'], by: ACCOUNTS.alex });
    const moved = await rest(host, ACCOUNTS.avery, 'POST', '/rest/api/3/issue/HELP-2/transitions', {
      transition: { id: '11' },
      fields: { reporter: { accountId: ACCOUNTS.drew } },
    });
    assert.equal(moved.status, 204);
    assert.equal(host.jira.issues.get('HELP-2').reporter, ACCOUNTS.drew);
  });
});
