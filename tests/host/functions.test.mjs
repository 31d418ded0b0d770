// Functions as Forge runs them: bundled by @forge/bundler's configuration, resolvers dispatched by
// the real @forge/resolver, webtriggers called with Forge's request object and held to its
// response contract.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadFunctions, webtriggerAnswerProblem, webtriggerHeaders } from '../../dev/host/functions.mjs';
import { readManifest } from '../../dev/host/manifest.mjs';
import { ACCOUNTS, FIXTURE_DIR, FIXTURE_OUT, rejection, startFixtureHost } from './helpers.mjs';

describe('resolvers', () => {
  let host;
  before(async () => {
    host = await startFixtureHost();
  });
  after(() => host.stop());

  it('passes the platform event and context through @forge/resolver', async () => {
    const extension = { issue: { key: 'HELP-2', id: '10102', type: 'Service Request' }, project: { id: '10000', key: 'HELP', type: 'service_desk' } };
    const answer = await host.invokeResolver({
      moduleKey: 'fixture-panel',
      account: ACCOUNTS.avery,
      extension,
      functionName: 'echo',
      payload: { email: 'casey@example.test', nested: [1, { two: 2 }] },
    });
    assert.deepEqual(answer.payload, { email: 'casey@example.test', nested: [1, { two: 2 }] });
    const { context } = answer;
    assert.equal(context.accountId, ACCOUNTS.avery);
    assert.equal(context.accountType, 'licensed');
    assert.deepEqual(context.extension, { ...extension, type: 'jira:issuePanel' });
    assert.equal(context.moduleKey, 'fixture-panel');
    assert.equal(context.cloudId, host.ids.cloudId);
    assert.equal(context.siteUrl, host.url);
    assert.equal(context.installContext, `ari:cloud:jira::site/${host.ids.cloudId}`);
    assert.equal(context.localId, `ari:cloud:ecosystem::extension/00000000-0000-4000-8000-00000000f1c7/${host.ids.environmentId}/static/fixture-panel`);
    assert.equal(context.timezone, 'Europe/London');
  });

  it('marks portal customers and resolves the resolver from the module', async () => {
    const answer = await host.invokeResolver({
      moduleKey: 'fixture-portal',
      account: ACCOUNTS.casey,
      extension: { request: { key: 'HELP-1' } },
      functionName: 'echo',
    });
    assert.equal(answer.context.accountType, 'customer');
    assert.equal(answer.context.extension.type, 'jiraServiceManagement:portalRequestDetailPanel');
    assert.deepEqual(answer.payload, {}, 'no payload reads as {} as the platform sends it');
  });

  it('rejects unknown definitions, failing resolvers and mismatched modules', async () => {
    const unknown = await rejection(() => host.invokeResolver({ moduleKey: 'fixture-panel', account: ACCOUNTS.alex, functionName: 'nope' }));
    assert.match(unknown.message, /Resolver has no definition for 'nope'/);
    const failing = await rejection(() => host.invokeResolver({ moduleKey: 'fixture-panel', account: ACCOUNTS.alex, functionName: 'fail' }));
    assert.equal(failing.message, 'the resolver failed on purpose');
    assert.equal(host.stats.last().error, 'the resolver failed on purpose');
    const wrong = await rejection(() => host.invokeResolver({ functionKey: 'hook', moduleKey: 'fixture-panel', account: ACCOUNTS.alex, functionName: 'echo' }));
    assert.match(wrong.message, /does not use function hook as its resolver/);
    const noModule = await rejection(() => host.invokeResolver({ moduleKey: 'missing', account: ACCOUNTS.alex, functionName: 'echo' }));
    assert.match(noModule.message, /No Custom UI module missing/);
  });

  it('hands webTrigger.getUrl a URL that the host serves', async () => {
    const result = await host.invokeResolver({
      moduleKey: 'fixture-admin',
      account: ACCOUNTS.alex,
      functionName: 'webtriggerUrl',
      payload: { key: 'fixture-hook' },
    });
    assert.equal(result.value, host.webtriggerUrl('fixture-hook'));
    assert.equal(result.value, `${host.url}/x/${host.ids.installationId}/fixture-hook`);
    const served = await fetch(`${result.value}?mode=status&code=202`, { method: 'POST', body: '' });
    assert.equal(served.status, 202);
    const unknown = await host.invokeResolver({
      moduleKey: 'fixture-admin',
      account: ACCOUNTS.alex,
      functionName: 'webtriggerUrl',
      payload: { key: 'no-such-trigger' },
    });
    assert.equal(unknown.ok, false);
    assert.match(unknown.error.message, /Failed to get web trigger URL/);
  });
});

describe('webtriggers', () => {
  let host;
  before(async () => {
    host = await startFixtureHost();
  });
  after(() => host.stop());

  it("builds Forge's request object and answers the handler's response", async () => {
    const answer = await host.invokeWebtrigger('fixture-hook', {
      method: 'post',
      headers: { 'X-Incode-Signature': 'sha256=ab', 'content-type': 'application/json', 'x-multi': ['1', '2'] },
      body: '{"eventType":"SESSION_SUCCEEDED"}',
      query: { mode: 'echo', tag: ['a', 'b'] },
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.headers, { 'Content-Type': ['application/json'], 'X-Fixture': ['a', 'b'] });
    const request = JSON.parse(answer.body);
    assert.equal(request.method, 'POST');
    assert.equal(request.body, '{"eventType":"SESSION_SUCCEEDED"}');
    assert.deepEqual(request.headers, { 'X-Incode-Signature': ['sha256=ab'], 'content-type': ['application/json'], 'x-multi': ['1', '2'] });
    assert.deepEqual(request.queryParameters, { mode: ['echo'], tag: ['a', 'b'] });
    assert.equal(request.path, `/x/${host.ids.installationId}/fixture-hook?mode=echo&tag=a&tag=b`);
  });

  it('turns every answer outside the contract into a 500', async () => {
    for (const mode of ['noStatus', 'stringHeaders', 'objectBody', 'string', 'throw']) {
      const answer = await host.invokeWebtrigger('fixture-hook', { query: { mode } });
      assert.equal(answer.status, 500, mode);
      assert.equal(answer.body, '');
      assert.ok(answer.error, mode);
    }
    const teapot = await host.invokeWebtrigger('fixture-hook', { query: { mode: 'status', code: '418' } });
    assert.equal(teapot.status, 418);
  });

  it('answers a static webtrigger without the handler choosing the status', async () => {
    const answer = await host.invokeWebtrigger('fixture-static', { query: { mode: 'status', code: '418' } });
    assert.equal(answer.status, 204);
    assert.equal((await host.invokeWebtrigger('unknown-trigger')).status, 404);
  });

  it("serves webtriggers over HTTP with the sender's header spelling", async () => {
    const url = `${host.webtriggerUrl('fixture-hook')}?mode=echo`;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'X-Incode-Signature': 'sha256=00ff', 'Content-Type': 'application/json' },
      body: '{"a":1}',
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-fixture'), 'a, b');
    const request = await response.json();
    assert.deepEqual(request.headers['X-Incode-Signature'], ['sha256=00ff']);
    assert.equal(request.body, '{"a":1}');
    assert.equal((await fetch(`${host.url}/x/${host.ids.installationId}/nope`, { method: 'POST' })).status, 404);
    assert.equal((await fetch(`${host.url}/x/other-installation/fixture-hook`, { method: 'POST' })).status, 404);
  });
});

describe('scheduled triggers', () => {
  it('runs on demand without a user and reaches the personal data reporting API', async () => {
    const host = await startFixtureHost();
    try {
      const updatedAt = '2026-11-01T00:00:00.000Z';
      host.kvs.set(
        'report:accounts',
        [ACCOUNTS.avery, ACCOUNTS.casey, 'gone-account'].map((accountId) => ({ accountId, updatedAt })),
      );
      host.jira.users.setActive(ACCOUNTS.casey, false);
      const result = await host.invokeScheduledTrigger('fixture-weekly');
      assert.deepEqual(result.event, { context: { cloudId: host.ids.cloudId, moduleKey: 'fixture-weekly' } });
      assert.equal(result.moduleKey, 'fixture-weekly');
      assert.deepEqual(result.updates, [
        { accountId: ACCOUNTS.casey, status: 'closed' },
        { accountId: 'gone-account', status: 'closed' },
      ]);
      assert.equal(host.stats.last().kind, 'scheduledTrigger');
      assert.equal(host.stats.last().accountId, undefined);

      host.kvs.set('report:accounts', [{ accountId: ACCOUNTS.avery, updatedAt }]);
      assert.deepEqual((await host.invokeScheduledTrigger('fixture-weekly')).updates, [], '204: nothing to do');

      const viaShell = await (await fetch(`${host.url}/__host/scheduled/fixture-weekly`, { method: 'POST' })).json();
      assert.equal(viaShell.ok, true);
      assert.equal(viaShell.invocation.name, 'fixture-weekly');
      await assert.rejects(() => host.invokeScheduledTrigger('nope'), /No scheduled trigger nope/);
    } finally {
      await host.stop();
    }
  });
});

describe('contract helpers', () => {
  it('checks the dynamic response shape', () => {
    assert.equal(webtriggerAnswerProblem({ statusCode: 200 }), null);
    assert.equal(webtriggerAnswerProblem({ statusCode: 204, headers: { a: ['b'] }, body: '' }), null);
    assert.match(webtriggerAnswerProblem({ statusCode: 99 }), /statusCode/);
    assert.match(webtriggerAnswerProblem({ statusCode: '200' }), /statusCode/);
    assert.match(webtriggerAnswerProblem({ statusCode: 200, headers: { a: 'b' } }), /header a/);
    assert.match(webtriggerAnswerProblem({ statusCode: 200, body: 3 }), /body/);
    assert.match(webtriggerAnswerProblem(null), /object/);
  });

  it('groups raw headers case-insensitively under the first spelling', () => {
    assert.deepEqual(webtriggerHeaders(['X-Sig', 'a', 'x-sig', 'b', 'Host', 'h']), { 'X-Sig': ['a', 'b'], Host: ['h'] });
  });

  it('reuses the bundle while the sources are unchanged', async () => {
    const manifest = readManifest(FIXTURE_DIR);
    const first = await loadFunctions({ appDir: FIXTURE_DIR, manifest, outDir: FIXTURE_OUT });
    const second = await loadFunctions({ appDir: FIXTURE_DIR, manifest, outDir: FIXTURE_OUT });
    assert.equal(second.rebuilt, false);
    assert.deepEqual([...second.handlers.keys()].sort(), ['fixture-resolver', 'gate', 'hook', 'weekly']);
    assert.equal(first.handlers.get('hook'), second.handlers.get('hook'), 'one loaded module, like one warm function instance');
  });
});
