// The "Identity verified" rule's configuration pages call `admin.gateRule` (the gate-rule
// resolver): Jira admins only; the answer is the core's fields and defaults, the saved
// configuration as the gate reads it and its summary, or what is wrong with it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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
