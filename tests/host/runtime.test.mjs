// The runtime host interface: egress enforcement, per-invocation identity under concurrency,
// latency and round-trip counting, fault injection, and what happens outside an invocation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { installForgeGlobals } from '../../dev/host/runtime.mjs';
import { ACCOUNTS, barePlatform, eventually, rejection, startFixtureHost } from './helpers.mjs';

// As in the Forge runtime, the globals exist before the SDK loads (@forge/api binds `fetch` then).
installForgeGlobals();
const require = createRequire(import.meta.url);
const { kvs, ForgeKvsAPIError } = require('@forge/kvs');
const api = require('@forge/api');

const panel = (account, extension = {}) => ({ moduleKey: 'fixture-panel', account, extension });

describe('runtime through the bundled fixture app', () => {
  let host;
  before(async () => {
    host = await startFixtureHost();
  });
  after(() => host.stop());

  it('lets egress reach allowed hosts and blocks the rest as Forge does', async () => {
    const allowed = await host.invokeResolver({
      ...panel(ACCOUNTS.alex),
      functionName: 'egress',
      payload: {
        url: 'https://demo-api.incodesmile.com/omni/b2b/onboarding/request-new',
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"loginHint":"casey@example.test"}',
      },
    });
    assert.equal(allowed.ok, true);
    assert.equal(allowed.value.status, 200);
    const seen = host.incode.requests.at(-1);
    assert.equal(seen.url, 'https://demo-api.incodesmile.com/omni/b2b/onboarding/request-new');
    assert.equal(seen.method, 'POST');
    assert.equal(seen.body, '{"loginHint":"casey@example.test"}');
    assert.equal(seen.headers['content-type'], 'application/json');

    const exact = await host.invokeResolver({ ...panel(ACCOUNTS.alex), functionName: 'egress', payload: { url: 'https://auth.demo.incode.com/oauth2/token' } });
    assert.equal(exact.ok, true);

    const blocked = [
      'https://example.com/',
      'https://auth.incode.com/oauth2/token', // only the demo auth host is listed in the fixture
      'http://demo-api.incodesmile.com/', // https only
      'https://demo-api.incodesmile.com.evil.test/',
      'https://demo-api.incodesmile.com@evil.test/',
      `${host.url}/__host/info`, // not even the host itself
    ];
    const before = host.incode.requests.length;
    for (const url of blocked) {
      const result = await host.invokeResolver({ ...panel(ACCOUNTS.alex), functionName: 'egress', payload: { url } });
      assert.equal(result.ok, false, url);
      assert.equal(result.error.name, 'REQUEST_EGRESS_ALLOWLIST_ERR', url);
      assert.equal(result.error.status, 403);
      assert.match(result.error.message, /^URL not included in the external fetch backend permissions: /);
    }
    assert.equal(host.incode.requests.length, before, 'nothing blocked reached the sandbox');
  });

  it('keeps every concurrent invocation on its own user and issue', async () => {
    const users = [ACCOUNTS.alex, ACCOUNTS.avery, ACCOUNTS.blake];
    const calls = Array.from({ length: 30 }, (_, i) => {
      const account = users[i % users.length];
      const extension = { issue: { key: `HELP-${(i % 5) + 1}`, id: String(10101 + (i % 5)) } };
      return host
        .invokeResolver({ ...panel(account, extension), functionName: 'whoami', payload: { pauseMs: (i * 7) % 13 } })
        .then((answer) => ({ account, extension, answer }));
    });
    const results = await Promise.all(calls);
    const invocationIds = new Set();
    for (const { account, extension, answer } of results) {
      assert.equal(answer.contextAccountId, account);
      assert.equal(answer.jiraAccountId, account, 'asUser() is the invoking user');
      assert.equal(answer.runtimeAccountId, account);
      assert.equal(answer.extension.issue.key, extension.issue.key);
      assert.equal(answer.moduleKey, 'fixture-panel');
      assert.equal(answer.appModuleKey, 'fixture-panel');
      assert.ok(answer.remainingMs > 20_000 && answer.remainingMs <= 25_000);
      invocationIds.add(answer.invocationId);
    }
    assert.equal(invocationIds.size, 30);
  });

  it('refuses asUser in a webtrigger with the SDK error', async () => {
    const answer = await host.invokeWebtrigger('fixture-hook', { method: 'POST', query: { mode: 'asUser' } });
    assert.equal(answer.status, 200);
    const result = JSON.parse(answer.body);
    assert.equal(result.ok, false);
    assert.equal(result.error.name, 'NEEDS_AUTHENTICATION_ERR');
    assert.equal(result.error.status, 401);
  });

  it('records and refuses platform calls made after an invocation returned', async () => {
    const lateBefore = host.stats.lateCalls.length;
    assert.equal(await host.invokeResolver({ ...panel(ACCOUNTS.alex), functionName: 'forgetToAwait' }), 'returned');
    await eventually(() => host.stats.lateCalls.length > lateBefore, 2000, 'the late call');
    const late = host.stats.lateCalls.at(-1);
    assert.equal(late.target, 'kvs');
    assert.equal(late.name, 'fixture-resolver:forgetToAwait');
    assert.equal(host.kvs.get('late'), undefined);
  });

  it('fails a resolver that runs past its time limit', async () => {
    const quick = await startFixtureHost({ timeouts: { resolver: 80 } });
    try {
      const error = await rejection(() => quick.invokeResolver({ ...panel(ACCOUNTS.alex), functionName: 'slow', payload: { ms: 400 } }));
      assert.equal(error.code, 'FUNCTION_TIMEOUT');
      assert.equal(await quick.invokeResolver({ ...panel(ACCOUNTS.alex), functionName: 'slow', payload: { ms: 5 } }), 'finished');
    } finally {
      await quick.stop();
    }
  });
});

describe('live Incode', () => {
  it('sends allowed egress to the network and runs no sandbox', async () => {
    const host = await startFixtureHost({ incode: 'live' });
    try {
      assert.equal(host.incode, null);
      assert.equal((await fetch(`${host.url}/incode/`)).status, 404);
      const blocked = await host.invokeResolver({ ...panel(ACCOUNTS.alex), functionName: 'egress', payload: { url: 'https://example.com/' } });
      assert.equal(blocked.error.name, 'REQUEST_EGRESS_ALLOWLIST_ERR');
      // Whether the network answers depends on the machine; the call must simply leave the host.
      const allowed = await host.invokeResolver({
        ...panel(ACCOUNTS.alex),
        functionName: 'egress',
        payload: { url: 'https://demo-api.incodesmile.com/', timeoutMs: 3000 },
      });
      if (!allowed.ok) assert.notEqual(allowed.error.name, 'REQUEST_EGRESS_ALLOWLIST_ERR');
      assert.equal(host.stats.last().calls.incode, 1);
    } finally {
      await host.stop();
    }
  });
});

describe('latency and round trips', () => {
  it('delays each platform call and counts sequential waves', async () => {
    const host = await startFixtureHost({ latencyMs: 100 });
    try {
      const started = Date.now();
      assert.equal(await host.invokeResolver({ ...panel(ACCOUNTS.alex), functionName: 'rounds', payload: { parallel: 4, sequential: 2 } }), 'done');
      const elapsed = Date.now() - started;
      const stats = host.stats.last();
      assert.equal(stats.name, 'fixture-resolver:rounds');
      assert.equal(stats.calls.kvs, 6);
      assert.equal(stats.calls.total, 6);
      assert.equal(stats.waves, 3, 'four overlapping reads count once, then two sequential ones');
      assert.ok(elapsed >= 3 * 100, `three waves of 100 ms took ${elapsed} ms`);
      assert.ok(elapsed < 6 * 100 - 50, `overlapping calls overlap (${elapsed} ms; one after the other would take 600)`);
    } finally {
      await host.stop();
    }
  });

  it('counts Jira, KVS, realtime and egress separately', async () => {
    const { run, platform } = barePlatform();
    await run(async () => {
      await Promise.all([kvs.get('a'), api.asApp().requestJira(api.route`/rest/api/3/myself`)]);
      await api.fetch('https://demo-api.incodesmile.com/');
    });
    const stats = platform.stats.last();
    assert.deepEqual({ ...stats.calls }, { jira: 1, kvs: 1, incode: 1, realtime: 0, platform: 0, total: 3 });
    assert.equal(stats.waves, 2);
  });
});

describe('fault injection', () => {
  it('fails the nth matching KVS call with the status asked for', async () => {
    const { run, platform } = barePlatform();
    const fault = platform.faults.add({ target: 'kvs', nth: 2, status: 503, match: (req) => req.path === '/api/v1/get' });
    await run(() => kvs.set('f', 1));
    assert.equal(await run(() => kvs.get('f')), 1, 'the first matching call passes');
    const error = await rejection(() => run(() => kvs.get('f')));
    assert.ok(error instanceof ForgeKvsAPIError);
    assert.equal(error.responseDetails.status, 503);
    assert.equal(error.code, 'INTERNAL_SERVER_ERROR');
    assert.equal(await run(() => kvs.get('f')), 1, 'times defaults to one');
    assert.equal(fault.hits, 1);
    assert.deepEqual(platform.faults.pending(), []);
  });

  it('answers Jira with 429 and Retry-After as often as asked', async () => {
    const { run, platform } = barePlatform();
    platform.faults.add({ target: 'jira', status: 429, headers: { 'retry-after': '3' }, times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await run(() => api.asApp().requestJira(api.route`/rest/api/3/myself`));
      statuses.push([response.status, response.headers.get('retry-after')]);
      if (response.status === 429) assert.deepEqual(await response.json(), { errorMessages: ['Too Many Requests (injected fault)'], errors: {} });
    }
    assert.deepEqual(statuses, [
      [429, '3'],
      [429, '3'],
      [200, null],
    ]);
  });

  it('throws timeouts and network failures into egress', async () => {
    const { run, platform } = barePlatform();
    platform.faults.add({ target: 'incode', error: 'timeout' });
    platform.faults.add({ target: 'incode', error: 'network' });
    const timeout = await rejection(() => run(() => api.fetch('https://demo-api.incodesmile.com/')));
    assert.equal(timeout.name, 'TimeoutError');
    const network = await rejection(() => run(() => api.fetch('https://demo-api.incodesmile.com/')));
    assert.equal(network.message, 'fetch failed');
    assert.equal(network.cause.code, 'ECONNRESET');
  });

  it("a delayed answer trips the caller's own abort signal", async () => {
    const { run, platform } = barePlatform();
    platform.faults.add({ target: 'incode', delayMs: 500, status: 200 });
    const started = Date.now();
    const error = await rejection(() => run(() => api.fetch('https://demo-api.incodesmile.com/', { signal: AbortSignal.timeout(50) })));
    assert.equal(error.name, 'TimeoutError');
    assert.ok(Date.now() - started < 400);
  });

  it('rejects malformed rules', () => {
    const { platform } = barePlatform();
    assert.throws(() => platform.faults.add({ target: 'mail', status: 500 }), /fault target/);
    assert.throws(() => platform.faults.add({ target: 'kvs' }), /status, error or delayMs/);
  });
});

describe('outside an invocation', () => {
  it('has no Forge runtime and a plain fetch', async () => {
    barePlatform();
    assert.equal(globalThis.__forge_runtime__, undefined);
    assert.throws(() => api.getAppContext(), /Forge runtime not found/);
    await assert.rejects(() => kvs.get('x'), /outside a function invocation/);
    const host = await startFixtureHost();
    try {
      const response = await fetch(`${host.url}/__host/info`);
      assert.equal(response.status, 200, 'the test process itself is not subject to egress rules');
    } finally {
      await host.stop();
    }
  });
});
