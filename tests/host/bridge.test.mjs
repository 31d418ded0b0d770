// Custom UI hosting and the bridge: resources with Forge's CSP, the injected client, identity from
// the frame token only, and the real @forge/bridge running against the host over HTTP.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ACCOUNTS, FIXTURE_DIR, openModalPage, openPage, rejection, startFixtureHost } from './helpers.mjs';

async function frameFor(host, body) {
  const response = await fetch(`${host.url}/__host/frames`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

describe('Custom UI resources', () => {
  let host;
  before(async () => {
    host = await startFixtureHost();
  });
  after(() => host.stop());

  it("serves index.html with the bridge first, the theme and Forge's CSP", async () => {
    const { json: frame } = await frameFor(host, { accountId: ACCOUNTS.avery, moduleKey: 'fixture-panel', issueKey: 'HELP-1', theme: 'dark' });
    assert.match(frame.src, /^\/app\/panel\/\?frame=[\w-]{32}$/);
    const response = await fetch(`${host.url}${frame.src}`);
    assert.equal(response.status, 200);
    const html = await response.text();
    const client = html.indexOf('<script src="/__bridge/client.js?frame=');
    assert.ok(client > 0 && client < html.indexOf('window.fixtureInline'), "the bridge loads before the page's own scripts");
    assert.match(html, /<html data-color-mode="dark" lang="en">/);

    const csp = response.headers.get('content-security-policy');
    const directive = (name) => csp.split('; ').find((d) => d.startsWith(`${name} `));
    const source = fs.readFileSync(path.join(FIXTURE_DIR, 'static/panel/index.html'), 'utf8');
    const inline = /<script>(.*?)<\/script>/s.exec(source)[1];
    const hash = crypto.createHash('sha256').update(inline).digest('base64');
    assert.ok(directive('script-src').includes(`'sha256-${hash}'`), 'inline scripts are allowed by hash, as Forge does');
    assert.ok(directive('script-src').startsWith("script-src 'self'"));
    assert.ok(!directive('script-src').includes("'unsafe-inline'"));
    assert.ok(!directive('style-src').includes("'unsafe-inline'"), 'the fixture manifest grants no inline styles');
    assert.ok(directive('frame-ancestors').includes(host.url));
    assert.equal(directive('report-uri'), 'report-uri /__host/csp-report');
  });

  it("serves the resource's other files and nothing outside it", async () => {
    const asset = await fetch(`${host.url}/app/panel/app.js`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type'), /^text\/javascript/);
    for (const escape of ['/app/panel/%2e%2e/%2e%2e/manifest.yml', '/app/panel/..%2f..%2fmanifest.yml']) {
      const response = await fetch(`${host.url}${escape}`);
      assert.notEqual(response.status, 200, escape);
      assert.doesNotMatch(await response.text(), /modules:/);
    }
    assert.equal((await fetch(`${host.url}/app/unknown/`)).status, 404);
  });

  it('refuses pages without a frame issued for them', async () => {
    assert.equal((await fetch(`${host.url}/app/panel/`)).status, 401);
    assert.equal((await fetch(`${host.url}/app/panel/?frame=forged-token`)).status, 401);
    const noIssue = await frameFor(host, { accountId: ACCOUNTS.avery, moduleKey: 'fixture-panel' });
    assert.equal(noIssue.status, 400);
    assert.equal((await frameFor(host, { accountId: 'not-a-user', moduleKey: 'fixture-admin' })).status, 404);
    assert.equal((await frameFor(host, { accountId: ACCOUNTS.avery, moduleKey: 'nope' })).status, 404);
  });

  it('records CSP violation reports', async () => {
    const report = { 'csp-report': { 'violated-directive': 'style-src', 'blocked-uri': 'inline' } };
    const sent = await fetch(`${host.url}/__host/csp-report`, {
      method: 'POST',
      headers: { 'content-type': 'application/csp-report' },
      body: JSON.stringify(report),
    });
    assert.equal(sent.status, 204);
    const { violations } = await (await fetch(`${host.url}/__host/csp-violations`)).json();
    assert.deepEqual(violations.at(-1), report['csp-report']);
  });
});

describe('the bridge', () => {
  let host;
  before(async () => {
    host = await startFixtureHost();
  });
  after(() => host.stop());

  it("gives @forge/bridge the frame's context", async () => {
    const page = await openPage(host, { accountId: ACCOUNTS.blake, issueKey: 'HELP-3', theme: 'dark' });
    const context = await page.forge.view.getContext();
    assert.equal(context.accountId, ACCOUNTS.blake);
    assert.equal(context.moduleKey, 'fixture-panel');
    assert.equal(context.extension.type, 'jira:issuePanel');
    assert.equal(context.extension.issue.key, 'HELP-3');
    assert.equal(context.extension.issue.id, '10103');
    assert.equal(context.extension.project.key, 'HELP');
    assert.deepEqual(context.theme, { colorMode: 'dark' });
    assert.equal(context.siteUrl, host.url);
    assert.equal(context.locale, 'en-GB', "@forge/bridge normalises the user's locale");
  });

  it("invokes the module's resolver as the frame's user, whatever the payload says", async () => {
    const page = await openPage(host, { accountId: ACCOUNTS.avery, issueKey: 'HELP-1' });
    const answer = await page.forge.invoke('echo', { accountId: ACCOUNTS.alex, issueKey: 'HELP-9', extension: { issue: { key: 'HELP-9' } } });
    assert.equal(answer.context.accountId, ACCOUNTS.avery);
    assert.equal(answer.context.extension.issue.key, 'HELP-1');
    assert.deepEqual(answer.payload, { accountId: ACCOUNTS.alex, issueKey: 'HELP-9', extension: { issue: { key: 'HELP-9' } } });
    const who = await page.forge.invoke('whoami', {});
    assert.equal(who.jiraAccountId, ACCOUNTS.avery);
  });

  it('reports a failing resolver as a rejected invoke', async () => {
    const page = await openPage(host, { accountId: ACCOUNTS.avery, issueKey: 'HELP-1' });
    const error = await rejection(() => page.forge.invoke('fail'));
    assert.equal(error.message, 'There was an error invoking the function - the resolver failed on purpose');
  });

  it('answers the admin page and portal modules with their own extensions', async () => {
    const admin = await openPage(host, { accountId: ACCOUNTS.alex, moduleKey: 'fixture-admin' });
    assert.deepEqual((await admin.forge.view.getContext()).extension, { type: 'jira:adminPage' });
    const portal = await openPage(host, { accountId: ACCOUNTS.casey, moduleKey: 'fixture-portal', issueKey: 'HELP-1' });
    const context = await portal.forge.view.getContext();
    assert.equal(context.accountType, 'customer');
    assert.equal(context.extension.request.key, 'HELP-1');
  });

  it("calls Jira as the frame's user through requestJira", async () => {
    const page = await openPage(host, { accountId: ACCOUNTS.blake, issueKey: 'HELP-1' });
    // The payload @forge/bridge's requestJira sends (it builds it with a relative `new Request`,
    // which only a browser can construct, so the test sends the same shape itself).
    const answer = await page.bridge.callBridge('fetchProduct', {
      product: 'jira',
      restPath: '/rest/api/3/myself?expand=groups',
      fetchRequestInit: { method: 'GET', body: null, headers: [['x-atlassian-token', 'no-check']] },
      isMultipartFormData: false,
    });
    assert.equal(answer.status, 200);
    const me = JSON.parse(answer.body);
    assert.equal(me.accountId, ACCOUNTS.blake);
    assert.ok(me.groups.items.some((g) => g.name === 'helpdesk-agents'));
  });

  it('sends navigation and flags to the shell and refuses what a panel cannot do', async () => {
    const page = await openPage(host, { accountId: ACCOUNTS.avery, issueKey: 'HELP-1' });
    await page.forge.router.navigate({ target: 'module', moduleKey: 'fixture-admin' });
    await page.forge.router.open({ target: 'issue', issueKey: 'HELP-2' });
    await page.forge.showFlag({ id: 'sent', title: 'Link sent', type: 'success' }).close();
    const messages = page.shellMessages.map((m) => m.message);
    assert.deepEqual(
      messages.map((m) => m.type),
      ['navigate', 'navigate', 'showFlag', 'closeFlag'],
    );
    assert.equal(messages[0].data.url, `${host.url}/#/module/fixture-admin`);
    assert.equal(messages[1].data.url, `${host.url}/#/issue/HELP-2`);
    assert.equal(messages[1].data.newTab, true);
    assert.equal(messages[2].data.title, 'Link sent');
    assert.ok(page.shellMessages.every((m) => m.origin === new URL(host.url).origin));
    await assert.rejects(() => page.forge.router.navigate({ target: 'module', moduleKey: 'not-a-module' }));
    await assert.rejects(() => page.forge.router.navigate('javascript:alert(1)'));
    await assert.rejects(() => page.forge.view.close(), /not closable/);
    await assert.rejects(() => page.forge.view.submit({}), /not submittable/);
    await assert.rejects(() => new page.forge.Modal({ resource: 'no-such-resource' }).open(), /Unable to open modal/);
    await assert.rejects(() => page.bridge.callBridge('noSuchCall', {}), /does not implement the bridge call "noSuchCall"/);
    assert.equal(await page.forge.view.refresh(), undefined);
  });

  it("opens a modal of a resource over the page, with the opener's context and its own, and hands its close payload to onClose", async () => {
    const page = await openPage(host, { accountId: ACCOUNTS.avery, issueKey: 'HELP-1' });
    const closed = [];
    await new page.forge.Modal({ context: { ask: 'Send?' }, size: 'small', onClose: (payload) => closed.push(payload) }).open();
    const opened = page.shellMessages.map((m) => m.message).find((m) => m.type === 'openModal');
    assert.ok(opened, 'the shell is asked to draw the modal');
    assert.match(opened.data.src, /^\/app\/panel\/\?frame=/, "the opener's own resource");
    assert.equal(opened.data.size, 'small');
    assert.equal(opened.data.closeOnEscape, true);

    const modal = await openModalPage(host, opened.data.src);
    const context = await modal.forge.view.getContext();
    assert.deepEqual(context.extension.modal, { ask: 'Send?' });
    assert.equal(context.extension.issue.key, 'HELP-1');
    assert.equal(context.accountId, ACCOUNTS.avery);
    await assert.rejects(() => new modal.forge.Modal({}).open(), /Unable to open modal/, 'a modal opens no other');
    await modal.forge.view.close({ confirmed: true });
    const closing = modal.shellMessages.map((m) => m.message).find((m) => m.type === 'closeModal');
    assert.deepEqual(closing.data.payload, { confirmed: true });

    // The shell hands the payload to the opener; a message from anyone else is ignored.
    page.deliver({ source: 'forge-host-shell', type: 'modalClosed', modalId: opened.data.modalId, payload: { confirmed: true } }, { from: {} });
    assert.deepEqual(closed, []);
    page.deliver({ source: 'forge-host-shell', type: 'modalClosed', modalId: opened.data.modalId, payload: closing.data.payload });
    assert.deepEqual(closed, [{ confirmed: true }]);
  });

  it('takes nothing from requests that do not carry an issued frame', async () => {
    const post = (headers) =>
      fetch(`${host.url}/__bridge/invoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ functionKey: 'whoami', payload: {} }),
      });
    assert.equal((await post({})).status, 401);
    assert.equal((await post({ 'x-forge-frame': 'guess' })).status, 401);
    const context = await fetch(`${host.url}/__bridge/context`, { method: 'POST' });
    assert.equal(context.status, 401);
    assert.equal((await context.json()).code, 'UNKNOWN_FRAME');
  });
});
