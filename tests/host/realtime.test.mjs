// Realtime: the app publishes through the real @forge/realtime (from a resolver or a webtrigger)
// and pages subscribe through the real @forge/bridge over the host's Server-Sent Events.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRealtimeHub } from '../../dev/host/realtime.mjs';
import { ACCOUNTS, eventually, manualClock, openPage, startFixtureHost } from './helpers.mjs';

const CHANNEL = 'incode-verification:10101';

function collector() {
  const events = [];
  const errors = [];
  const callback = (payload, error) => (error ? errors.push(error) : events.push(payload));
  return { events, errors, callback };
}

async function sign(host, claims, channel = CHANNEL, permissions) {
  const answer = await host.invokeResolver({
    moduleKey: 'fixture-panel',
    account: ACCOUNTS.avery,
    extension: { issue: { key: 'HELP-1', id: '10101' } },
    functionName: 'sign',
    payload: { channel, claims, permissions },
  });
  assert.ok(answer.token, JSON.stringify(answer));
  return answer.token;
}

async function publishFromWebtrigger(host, body) {
  const answer = await host.invokeWebtrigger('fixture-hook', { method: 'POST', query: { mode: 'publishGlobal' }, body: JSON.stringify(body) });
  assert.equal(answer.status, 202);
  return JSON.parse(answer.body);
}

describe('realtime from the app to pages', () => {
  let host;
  let now;
  before(async () => {
    now = manualClock(Date.now());
    host = await startFixtureHost({ now });
  });
  after(() => host.stop());

  it('delivers a token-scoped global event only to subscribers holding the same claims', async () => {
    const agent = await openPage(host, { accountId: ACCOUNTS.avery, issueKey: 'HELP-1' });
    const other = await openPage(host, { accountId: ACCOUNTS.blake, issueKey: 'HELP-2' });
    const bare = await openPage(host, { accountId: ACCOUNTS.blake, issueKey: 'HELP-1' });
    const mine = collector();
    const theirs = collector();
    const none = collector();
    const subs = [
      await agent.forge.realtime.subscribeGlobal(CHANNEL, mine.callback, { token: await sign(host, { issueId: '10101' }) }),
      await other.forge.realtime.subscribeGlobal(CHANNEL, theirs.callback, { token: await sign(host, { issueId: '10102' }) }),
      await bare.forge.realtime.subscribeGlobal(CHANNEL, none.callback),
    ];
    await eventually(() => host.bridge.openStreams === 3, 2000, 'three open streams');

    const event = JSON.stringify({ verificationId: 'v1', status: 'passed', statusText: 'Success - 2026-11-22 10:00:00' });
    const published = await publishFromWebtrigger(host, { channel: CHANNEL, claims: { issueId: '10101' }, event });
    assert.equal(published.ok, true);
    assert.match(published.value.eventId, /^[0-9a-f-]{36}$/);
    await eventually(() => mine.events.length === 1, 2000, 'the event');
    assert.deepEqual(mine.events, [event], 'the subscriber receives what the app published');
    await sleep(50);
    assert.deepEqual(theirs.events, [], 'claims for another issue receive nothing');
    assert.deepEqual(none.events, [], 'a subscriber without a token receives nothing');
    assert.deepEqual([...mine.errors, ...theirs.errors, ...none.errors], []);

    await Promise.all(subs.map((s) => s.unsubscribe()));
    await eventually(() => host.bridge.openStreams === 0, 2000, 'streams closed');
    const unheard = await publishFromWebtrigger(host, { channel: CHANNEL, claims: { issueId: '10101' }, event: 'later' });
    assert.deepEqual(unheard.value, { eventId: null, eventTimestamp: null }, 'no subscriber, no event id');
  });

  it('refuses tokens for another channel, forged tokens and expired tokens', async () => {
    const page = await openPage(host, { accountId: ACCOUNTS.avery, issueKey: 'HELP-1' });
    const valid = await sign(host, { issueId: '10101' });
    const [head, body, mac] = valid.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    claims.claims.issueId = '10102';
    const forged = `${head}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${mac}`;
    const cases = [
      [await sign(host, { issueId: '10101' }, 'another-channel'), 'CHANNEL_NAME_MISMATCH'],
      [forged, 'INVALID_TOKEN'],
      [await sign(host, { issueId: '10101' }, CHANNEL, ['publish']), 'MISSING_PERMISSION'],
    ];
    for (const [token, code] of cases) {
      const seen = collector();
      await page.forge.realtime.subscribeGlobal(CHANNEL, seen.callback, { token });
      assert.equal(seen.errors.length, 1, code);
      assert.equal(seen.errors[0].code, code);
    }
    now.advance(3601 * 1000);
    const late = collector();
    await page.forge.realtime.subscribeGlobal(CHANNEL, late.callback, { token: valid });
    assert.equal(late.errors[0]?.code, 'TOKEN_EXPIRED');
    now.advance(-3601 * 1000);
    assert.equal(host.bridge.openStreams, 0);
  });

  it('scopes context channels to the module and issue, and refuses them without a UI context', async () => {
    const sameIssue = await openPage(host, { accountId: ACCOUNTS.blake, issueKey: 'HELP-1' });
    const otherIssue = await openPage(host, { accountId: ACCOUNTS.blake, issueKey: 'HELP-2' });
    const a = collector();
    const b = collector();
    const subs = [
      await sameIssue.forge.realtime.subscribe('panel-updates', a.callback),
      await otherIssue.forge.realtime.subscribe('panel-updates', b.callback),
    ];
    await eventually(() => host.bridge.openStreams === 2, 2000, 'streams');
    const result = await host.invokeResolver({
      moduleKey: 'fixture-panel',
      account: ACCOUNTS.avery,
      extension: { issue: { key: 'HELP-1', id: '10101' } },
      functionName: 'realtime',
      payload: { channel: 'panel-updates', event: { n: 1 } },
    });
    assert.equal(result.ok, true);
    assert.ok(result.value.result.eventId);
    await eventually(() => a.events.length === 1, 2000, 'the context event');
    assert.deepEqual(a.events, [{ n: 1 }]);
    await sleep(50);
    assert.deepEqual(b.events, []);
    await Promise.all(subs.map((s) => s.unsubscribe()));

    const webtrigger = await host.invokeWebtrigger('fixture-hook', { query: { mode: 'publishInContext' } });
    const answer = JSON.parse(webtrigger.body);
    assert.equal(answer.ok, true);
    assert.equal(answer.value.eventId, null);
    assert.match(answer.value.errors[0].message, /UI context/);
  });

  it('lets a page publish to other pages and replays recent events', async () => {
    const sender = await openPage(host, { accountId: ACCOUNTS.avery, issueKey: 'HELP-4' });
    const receiver = await openPage(host, { accountId: ACCOUNTS.blake, issueKey: 'HELP-4' });
    const got = collector();
    const sub = await receiver.forge.realtime.subscribeGlobal('page-to-page', got.callback);
    await eventually(() => host.bridge.openStreams === 1, 2000, 'stream');
    const sent = await sender.forge.realtime.publishGlobal('page-to-page', { hello: 'there' });
    assert.ok(sent.eventId);
    await eventually(() => got.events.length === 1, 2000, 'page event');
    assert.deepEqual(got.events, [{ hello: 'there' }]);
    await sub.unsubscribe();

    const replayed = collector();
    const again = await receiver.forge.realtime.subscribeGlobal('page-to-page', replayed.callback, { replaySeconds: 60 });
    await eventually(() => replayed.events.length === 1, 2000, 'replay');
    assert.deepEqual(replayed.events, [{ hello: 'there' }]);
    await again.unsubscribe();
  });
});

describe('realtime hub', () => {
  it('matches contextOverrides across modules of one issue', () => {
    const hub = createRealtimeHub({ installationId: 'i' });
    const got = [];
    const panelOnIssue = { moduleKey: 'panel', extension: { issue: { id: '1' }, project: { id: '9' } } };
    const glanceOnIssue = { moduleKey: 'glance', extension: { issue: { id: '1' }, project: { id: '9' } } };
    hub.subscribe({ channel: 'c', isGlobal: false, contextOverrides: ['issue'], context: glanceOnIssue, send: (m) => got.push(['issue-wide', m.payload]) });
    hub.subscribe({ channel: 'c', isGlobal: false, context: glanceOnIssue, send: (m) => got.push(['glance-only', m.payload]) });
    hub.publish({ channel: 'c', payloadText: '"wide"', isGlobal: false, contextOverrides: ['issue'], context: panelOnIssue });
    hub.publish({ channel: 'c', payloadText: '"narrow"', isGlobal: false, context: panelOnIssue });
    assert.deepEqual(got, [['issue-wide', 'wide']]);
    assert.throws(
      () => hub.publish({ channel: 'c', payloadText: '1', isGlobal: false, contextOverrides: ['nonsense'], context: panelOnIssue }),
      /contextOverrides/,
    );
  });

  it('signs tokens another hub cannot verify', () => {
    const a = createRealtimeHub({ installationId: 'i' });
    const b = createRealtimeHub({ installationId: 'i' });
    const { jwt } = a.signToken('c', { x: 1 });
    assert.doesNotThrow(() => a.verify(jwt, 'c', 'subscribe'));
    assert.throws(
      () => b.verify(jwt, 'c', 'subscribe'),
      (e) => e.code === 'INVALID_TOKEN',
    );
    assert.throws(
      () => a.signToken('c', 'not-an-object'),
      (e) => e.code === 'INVALID_CLAIMS',
    );
    assert.throws(
      () => a.signToken('c', {}, ['read']),
      (e) => e.code === 'INVALID_PERMISSIONS',
    );
  });
});
