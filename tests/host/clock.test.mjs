// A controlled clock: a host started with a manual clock moves the functions' Date.now() and
// new Date() with it (inside invocations only), together with KVS TTLs and the Jira site.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createManualClock } from '../../dev/host/clock.mjs';
import { ACCOUNTS, startFixtureHost } from './helpers.mjs';

const START = Date.UTC(2026, 10, 22, 10, 0, 0);
const MINUTE = 60_000;

describe('a host on a manual clock', () => {
  let host;
  let clock;
  const ask = (payload = {}) => host.invokeResolver({ moduleKey: 'fixture-panel', account: ACCOUNTS.avery, functionName: 'clock', payload });

  before(async () => {
    clock = createManualClock(START);
    host = await startFixtureHost({ now: clock });
  });
  after(() => host.stop());

  it("sets the functions' Date.now() and new Date() to the clock", async () => {
    const seen = await ask();
    assert.equal(seen.now, START);
    assert.equal(seen.iso, new Date(START).toISOString());
    assert.equal(seen.isDate, true, 'dates made in a function are still Dates');
    assert.match(seen.text, /2026/);
  });

  it('moves forward for the functions and the KVS together (31 minutes past a 30-minute TTL)', async () => {
    assert.equal((await ask({ ttlMinutes: 30 })).ttlKey, 'alive');
    clock.advance(31 * MINUTE);
    const later = await ask();
    assert.equal(later.now, START + 31 * MINUTE);
    assert.equal(later.ttlKey, null, 'the key expired on the same clock');
  });

  it('leaves time outside invocations and the invocation timing alone', async () => {
    assert.ok(Math.abs(Date.now() - new Date().getTime()) < 1000);
    assert.ok(Math.abs(Date.now() - START) > 24 * 3_600_000, 'the test process keeps real time');
    clock.advance(60 * MINUTE);
    await ask();
    assert.ok(host.stats.last().durationMs < 10_000, 'durations are measured on real time');
  });

  it('is moved over HTTP too: POST /__host/clock', async () => {
    const before = (await ask()).now;
    const response = await fetch(`${host.url}/__host/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceMs: 5 * MINUTE }),
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { now: before + 5 * MINUTE });
    assert.equal((await ask()).now, before + 5 * MINUTE);
    const backwards = await fetch(`${host.url}/__host/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceMs: -1 }),
    });
    assert.equal(backwards.status, 400, 'time only moves forward');
  });
});

describe('a host on the system clock', () => {
  it('has real time in functions and no clock to move', async () => {
    const host = await startFixtureHost();
    try {
      const seen = await host.invokeResolver({ moduleKey: 'fixture-panel', account: ACCOUNTS.avery, functionName: 'clock', payload: {} });
      assert.ok(Math.abs(seen.now - Date.now()) < 5_000);
      const response = await fetch(`${host.url}/__host/clock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ advanceMs: 1 }),
      });
      assert.equal(response.status, 409);
    } finally {
      await host.stop();
    }
  });
});
