// The "Identity verified" rule's configuration pages call `admin.gateRule` (the gate-rule
// resolver): Jira admins only; the answer is the core's fields and defaults, the saved
// configuration as the gate reads it and its summary, or what is wrong with it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ensureUiBuilt } from '../browser/helpers.mjs';
import { ACCOUNTS, fails, invoke, ok, startApp } from './helpers.mjs';

let host;
before(async () => {
  host = await startApp();
});
after(() => host?.stop());

const gateRule = (as, payload) => invoke(host, { as, module: 'identity-verified', fn: 'admin.gateRule', payload });

test('an admin gets the fields, the saved configuration as the gate reads it and its summary', async () => {
  const saved = ok(await gateRule(ACCOUNTS.alex, { configuration: '{"withinMinutes":10,"samePerson":true,"once":true}' }));
  assert.deepEqual(
    saved.rules.fields.map((f) => f.field),
    ['withinMinutes', 'samePerson', 'once'],
  );
  assert.deepEqual(saved.check, { config: { withinMinutes: 10, samePerson: true, once: true }, errors: [] });
  assert.equal(saved.summary, 'Passed verification of the person on the ticket within the last 10 minutes; one transition per verification');
  // The create page: no configuration yet, the defaults.
  const fresh = ok(await gateRule(ACCOUNTS.alex, {}));
  assert.deepEqual(fresh.check.config, fresh.rules.defaults);
});

test('a broken saved configuration is named at its field, with no summary', async () => {
  const broken = ok(await gateRule(ACCOUNTS.alex, { configuration: '{"withinMinutes":100000}' }));
  assert.equal(broken.check.config, undefined);
  assert.deepEqual(
    broken.check.errors.map((e) => e.field),
    ['withinMinutes'],
  );
  assert.equal(broken.summary, undefined);
});

test('anyone but a Jira admin is refused', async () => {
  fails(await gateRule(ACCOUNTS.avery, {}), 'forbidden', 'an agent');
  fails(await gateRule(ACCOUNTS.casey, {}), 'forbidden', 'a customer');
});

// The local site's workflow editor, as Jira's: a rule's pages open for an admin on a transition,
// the create and edit pages (only) may register onConfigure, and what they answer is saved once,
// as JSON text, on the rule their frame was opened for.
test('the workflow editor saves what a create or edit page answers, strictly', async () => {
  await ensureUiBuilt();
  const site = await startApp({ port: 0 });
  try {
    const call = async (path, body, as = ACCOUNTS.alex, headers = {}) => {
      const response = await fetch(`${site.url}${path}${as ? `?as=${encodeURIComponent(as)}` : ''}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      return { status: response.status, json: await response.json() };
    };
    const on = { workflow: 'IT Help Desk workflow', transition: 'Resolve' };
    const frame = (body, as) => call('/__host/workflow-rules/frame', { ...on, ...body }, as);
    const save = (token, configuration, as) => call('/__host/workflow-rules/configure', { frame: token, configuration }, as);
    const context = async (token) => (await call('/__bridge/context', {}, null, { 'x-forge-frame': token })).json.context;
    const clientOf = async (src) => /<script src="(\/__bridge\/client\.js[^"]*)"/.exec(await (await fetch(`${site.url}${src}`)).text())[1];

    assert.equal((await frame({ entryPoint: 'create', moduleKey: 'identity-verified' }, ACCOUNTS.avery)).status, 403, 'an agent');
    assert.equal((await call('/__host/frames', { accountId: ACCOUNTS.alex, moduleKey: 'identity-verified' }, null)).json.code, 'RULE_PAGE');
    const create = (await frame({ entryPoint: 'create', moduleKey: 'identity-verified' })).json;
    assert.match(create.src, /^\/app\/gate-create\//);
    assert.match(await clientOf(create.src), /configure=1/);
    assert.deepEqual((await context(create.token)).extension, { type: 'jira:workflowValidator' });

    for (const bad of [42, 'not JSON', null]) {
      const refused = await save(create.token, bad);
      assert.equal(refused.status, 400, JSON.stringify(bad));
      assert.match(refused.json.message, /JSON text/);
    }
    assert.equal((await save(create.token, '{"withinMinutes":10}', ACCOUNTS.avery)).status, 403);
    assert.deepEqual(site.jira.workflows.rules(on.workflow, on.transition).validators, [], 'nothing saved yet');
    const added = await save(create.token, '{"withinMinutes":10}');
    assert.equal(added.status, 201);
    assert.equal((await save(create.token, '{"withinMinutes":11}')).status, 403, 'a create page saves once');
    const [rule] = site.jira.workflows.rules(on.workflow, on.transition).validators;
    assert.equal(rule.configuration.value, '{"withinMinutes":10}', 'kept as the page answered it');

    const view = (await frame({ entryPoint: 'view', id: rule.id })).json;
    assert.doesNotMatch(await clientOf(view.src), /configure=1/, 'a view page cannot register onConfigure');
    assert.equal((await context(view.token)).extension.validatorConfig, '{"withinMinutes":10}');
    assert.equal((await save(view.token, '{"withinMinutes":12}')).status, 403, 'nor save');
    const edit = (await frame({ entryPoint: 'edit', id: rule.id })).json;
    assert.equal((await context(edit.token)).extension.validatorConfig, '{"withinMinutes":10}');
    assert.equal((await save(edit.token, '{"withinMinutes":12,"once":true}')).status, 200);
    assert.equal(site.jira.workflows.rules(on.workflow, on.transition).validators[0].configuration.value, '{"withinMinutes":12,"once":true}');
  } finally {
    await site.stop();
  }
});
