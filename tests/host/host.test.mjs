// The host as a whole: the shell and its JSON endpoints, delegation to the Incode sandbox,
// persistence across a restart, and the command line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ACCOUNTS, FIXTURE_DIR, REPO, startFixtureHost, tempDir } from './helpers.mjs';

const json = async (response) => ({ status: response.status, body: await response.json() });

describe('the shell and its endpoints', () => {
  let host;
  before(async () => {
    host = await startFixtureHost();
  });
  after(() => host.stop());

  it('serves the shell page with a strict policy', async () => {
    const page = await fetch(`${host.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<select id="user-switcher">/);
    assert.match(page.headers.get('content-security-policy'), /script-src 'self'/);
    for (const asset of ['/shell.js', '/shell.css']) assert.equal((await fetch(`${host.url}${asset}`)).status, 200);
    assert.equal((await fetch(`${host.url}/nothing-here`)).status, 404);
  });

  it('describes the installation', async () => {
    const { body } = await json(await fetch(`${host.url}/__host/info`));
    assert.equal(body.url, host.url);
    assert.equal(body.webtriggers['fixture-hook'], host.webtriggerUrl('fixture-hook'));
    assert.deepEqual(body.modules.map((m) => m.key).sort(), ['fixture-admin', 'fixture-panel', 'fixture-portal']);
  });

  it('lists users with their role and the requests each may see', async () => {
    const {
      body: { users },
    } = await json(await fetch(`${host.url}/__host/users`));
    const role = Object.fromEntries(users.map((u) => [u.accountId, u.role]));
    assert.equal(role[ACCOUNTS.alex], 'admin');
    assert.equal(role[ACCOUNTS.avery], 'agent');
    assert.equal(role[ACCOUNTS.casey], 'customer');
    const agentView = await json(await fetch(`${host.url}/__host/issues?as=${ACCOUNTS.avery}`));
    const agentKeys = agentView.body.issues.map((i) => i.key);
    assert.ok(['HELP-1', 'HELP-2', 'HELP-3', 'HELP-4', 'HELP-5'].every((k) => agentKeys.includes(k)));
    assert.ok(!agentKeys.includes('FIN-1'), 'agents cannot browse the finance project');
    const adminKeys = (await json(await fetch(`${host.url}/__host/issues?as=${ACCOUNTS.alex}`))).body.issues.map((i) => i.key);
    assert.ok(adminKeys.includes('FIN-1'));
    assert.equal((await fetch(`${host.url}/__host/issues/FIN-1?as=${ACCOUNTS.avery}`)).status, 404);
    const customerView = await json(await fetch(`${host.url}/__host/issues?as=${ACCOUNTS.casey}`));
    const keys = customerView.body.issues.map((i) => i.key);
    assert.ok(keys.includes('HELP-1'));
    assert.ok(!keys.includes('HELP-3'), 'a customer sees only their own requests');
    assert.equal((await fetch(`${host.url}/__host/issues/HELP-3?as=${ACCOUNTS.casey}`)).status, 404);
    assert.equal((await fetch(`${host.url}/__host/issues`)).status, 400);
  });

  it('shows comments and adds internal notes and public replies', async () => {
    const post = (as, body) =>
      fetch(`${host.url}/__host/issues/HELP-1/comments?as=${as}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await post(ACCOUNTS.avery, { text: 'Checking identity first.', internal: true })).status, 201);
    assert.equal((await post(ACCOUNTS.avery, { text: 'We are on it.' })).status, 201);
    const agent = (await json(await fetch(`${host.url}/__host/issues/HELP-1?as=${ACCOUNTS.avery}`))).body.issue;
    const texts = agent.comments.map((c) => [c.text, c.internal]);
    assert.deepEqual(texts.slice(-2), [
      ['Checking identity first.', true],
      ['We are on it.', false],
    ]);
    assert.ok(agent.transitions.includes('Start progress'));
    const customer = (await json(await fetch(`${host.url}/__host/issues/HELP-1?as=${ACCOUNTS.casey}`))).body.issue;
    assert.ok(!customer.comments.some((c) => c.internal), 'customers never see internal notes');
    assert.ok(customer.comments.some((c) => c.text === 'We are on it.'));
    assert.deepEqual(customer.transitions, []);
    assert.equal((await post(ACCOUNTS.avery, { text: '   ' })).status, 400);
  });

  it('transitions a request as the agent', async () => {
    const move = await fetch(`${host.url}/__host/issues/HELP-2/transitions?as=${ACCOUNTS.avery}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Escalate' }),
    });
    assert.equal(move.status, 200);
    assert.equal(host.jira.issues.get('HELP-2').status, 'Escalated');
    const again = await fetch(`${host.url}/__host/issues/HELP-2/transitions?as=${ACCOUNTS.avery}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Reopen' }),
    });
    assert.equal(again.status, 409);
  });

  it("delegates /incode/ to the sandbox's pages", async () => {
    const page = await fetch(`${host.url}/incode/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Incode sandbox stand-in/);
  });

  it('reports invocations and late calls', async () => {
    await host.invokeResolver({
      moduleKey: 'fixture-panel',
      account: ACCOUNTS.avery,
      extension: { issue: { key: 'HELP-1', id: '10101' } },
      functionName: 'whoami',
      payload: {},
    });
    const { body } = await json(await fetch(`${host.url}/__host/stats`));
    assert.equal(body.invocations.at(-1).name, 'fixture-resolver:whoami');
    assert.equal(body.invocations.at(-1).calls.jira, 1);
    assert.deepEqual(body.jiraViolations, [], 'every Jira request conformed to the REST spec');
  });
});

describe('with the Incode sandbox', () => {
  it("serves the app's Incode calls and brings webhooks to the webtrigger over HTTP", async () => {
    const host = await startFixtureHost({ createIncode: undefined, incodeOptions: { retry: { attempts: 2, baseDelayMs: 5 } } });
    try {
      const egress = (payload) => host.invokeResolver({ moduleKey: 'fixture-panel', account: ACCOUNTS.avery, functionName: 'egress', payload });
      const credentials = host.incode.credentials;
      const token = await egress({
        url: 'https://auth.demo.incode.com/oauth2/token',
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: credentials.clientId,
          client_secret: credentials.clientSecret,
          scope: 'openid',
        }).toString(),
      });
      assert.equal(token.value.status, 200, token.value.body);
      const started = await egress({
        url: 'https://demo-api.incodesmile.com/omni/b2b/onboarding/request-new',
        method: 'POST',
        headers: {
          authorization: `Bearer ${JSON.parse(token.value.body).access_token}`,
          'x-api-key': credentials.apiKey,
          'api-version': '1.0',
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          integrationReference: credentials.integrationReference,
          loginHint: 'casey@example.test',
          linkValidityInMinutes: 10,
          notification: { type: 'EMAIL', email: 'casey@example.test' },
        }),
      });
      assert.equal(started.value.status, 200, started.value.body);
      const { interviewId, url } = JSON.parse(started.value.body);
      assert.ok(url.startsWith(`${host.url}/incode/session/`));
      assert.equal((await fetch(`${host.url}/incode/`)).status, 200);

      host.incode.configureWebhook({ url: `${host.webtriggerUrl('fixture-hook')}?mode=echo`, mode: 'sharedSecret', secret: 'shh', header: 'x-incode-secret' });
      await host.incode.complete(interviewId, 'pass');
      await host.incode.idle();
      const delivered = host.stats.find((i) => i.kind === 'webtrigger' && i.name === 'fixture-hook');
      assert.ok(delivered.length >= 1, 'the webhook reached the webtrigger');
      assert.ok(host.incode.deliveries.length >= 1);
      assert.ok(
        host.incode.deliveries.every((d) => d.status === 200),
        JSON.stringify(host.incode.deliveries),
      );
    } finally {
      await host.stop();
    }
  });
});

describe('persistence', () => {
  it('keeps KVS data, the site and the installation across a restart', async () => {
    const dataDir = tempDir();
    const first = await startFixtureHost({ dataDir });
    const url = first.webtriggerUrl('fixture-hook');
    const installationId = first.ids.installationId;
    await first.invokeResolver({
      moduleKey: 'fixture-panel',
      account: ACCOUNTS.alex,
      functionName: 'kvs',
      payload: { op: 'set', args: ['settings', { revision: 7 }] },
    });
    await first.invokeResolver({
      moduleKey: 'fixture-panel',
      account: ACCOUNTS.alex,
      functionName: 'kvs',
      payload: { op: 'setSecret', args: ['secret:apiKey', 'k-1'] },
    });
    await fetch(`${first.url}/__host/issues/HELP-1/comments?as=${ACCOUNTS.avery}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Persist me', internal: true }),
    });
    await first.stop();
    assert.deepEqual(fs.readdirSync(dataDir).sort(), ['host.json', 'jira.json', 'kvs.json']);

    const second = await startFixtureHost({ dataDir });
    try {
      assert.equal(second.ids.installationId, installationId);
      assert.equal(new URL(second.webtriggerUrl('fixture-hook')).pathname, new URL(url).pathname, 'the webtrigger URL path stays valid');
      const got = await second.invokeResolver({
        moduleKey: 'fixture-panel',
        account: ACCOUNTS.alex,
        functionName: 'kvs',
        payload: { op: 'get', args: ['settings'] },
      });
      assert.deepEqual(got, { ok: true, value: { revision: 7 } });
      const secret = await second.invokeResolver({
        moduleKey: 'fixture-panel',
        account: ACCOUNTS.alex,
        functionName: 'kvs',
        payload: { op: 'getSecret', args: ['secret:apiKey'] },
      });
      assert.equal(secret.value, 'k-1');
      assert.ok(second.jira.issues.get('HELP-1').comments.some((c) => c.text === 'Persist me'));
    } finally {
      await second.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the fixture app', () => {
  it("is a valid Forge app by @forge/manifest's own full validation", async () => {
    // In a child process: the validator reads the manifest from its working directory.
    const script =
      "const m = require('@forge/manifest'); m.ProcessorBuilder.instance().withValidation(m.ValidationTypes.FULL).build().process().then((r) => console.log(JSON.stringify(r.errors ?? [])))";
    const child = spawn(process.execPath, ['-e', script], {
      cwd: FIXTURE_DIR,
      env: { ...process.env, NODE_PATH: path.join(REPO, 'node_modules') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    assert.equal(await new Promise((resolve) => child.on('exit', resolve)), 0);
    assert.deepEqual(JSON.parse(out), []);
  });
});

describe('the command line', () => {
  it('starts the host, prints its URL and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [path.join(REPO, 'dev/host/main.mjs'), '--port', '0', '--memory', '--app', FIXTURE_DIR, '--latency', '5'], {
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    try {
      const url = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${out} ${err}`)), 20_000);
        child.stdout.on('data', () => {
          const match = /Local Forge host: (http:\/\/[^/\s]+)\//.exec(out);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      assert.match(out, /webtrigger: {2}fixture-hook http:\/\/127\.0\.0\.1:\d+\/x\//);
      assert.match(out, /latency: {5}5 ms per platform call/);
      const info = await (await fetch(`${url}/__host/info`)).json();
      assert.equal(info.latencyMs, 5);
    } finally {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  });

  it('refuses bad arguments', async () => {
    const child = spawn(process.execPath, [path.join(REPO, 'dev/host/main.mjs'), '--incode', 'nowhere'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(err, /--incode must be sandbox or live/);
  });
});
