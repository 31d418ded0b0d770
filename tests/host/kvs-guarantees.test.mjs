// The guarantees of Forge KVS that the model check of the exactly-once webhook protocol assumes,
// held against the local host's KVS through the real @forge/kvs client. Where each comes from:
// 1. Read-your-writes on one key (a get after a set or delete that returned sees it): inferred.
//    Atlassian documents last-write-wins for set and delete, not read consistency
//    (https://developer.atlassian.com/platform/forge/rest/v1/api-group-key-value-store/).
// 2. A transaction's sets and deletes land together or not at all: documented by Atlassian
//    ("either committed or rolled back together",
//    https://developer.atlassian.com/platform/forge/storage-reference/transactions/).
// 3. set with keyPolicy OVERRIDE and returnValue PREVIOUS swaps atomically (no lost update):
//    inferred. The option is documented by Atlassian
//    (https://developer.atlassian.com/platform/forge/rest/v1/api-group-key-value-store/), its
//    atomicity under concurrent swaps is not.
// 4. A value read after its TTL has passed is absent: documented by Atlassian (a TTL "applies an
//    expiry to a value, starting from the time it is written",
//    https://developer.atlassian.com/platform/forge/runtime-reference/storage-api-basic-api);
//    that reads stop seeing it at once rather than some time later is inferred.
// 5. A call that times out may or may not have landed: inferred (no Atlassian page says either).
// 6. A custom entity's set in a transaction (`set(key, value, { entityName })`) lands with the
//    transaction's other sets or not at all, in the entity's own key space (the same key as a
//    plain value is another value): documented by Atlassian (transactions take entity sets,
//    https://developer.atlassian.com/platform/forge/storage-reference/transactions/; custom
//    entities are stored apart from key-value pairs,
//    https://developer.atlassian.com/platform/forge/storage-reference/storage-api-custom-entities/).
// 7. An entity set under a condition that does not hold (a claim: nothing may be stored under the
//    key yet) cancels the whole transaction, its entity deletes included; when it holds they all
//    land: documented by Atlassian (conditional operations in transactions,
//    https://developer.atlassian.com/platform/forge/storage-reference/transactions/).
// 8. A custom entity's set with keyPolicy OVERRIDE and returnValue PREVIOUS swaps atomically, as
//    a plain key's (3): inferred. @forge/kvs's entity API takes the same options
//    (KvsEntity.set with OverrideAndReturnSetOptions, node_modules/@forge/kvs/out/interfaces);
//    no Atlassian page says more.
// 9. A transaction's entity set under conditions (`Filter().and(attr, equalTo(x))`) lands only
//    while the stored value meets them; otherwise nothing lands and the newer value stays:
//    documented by Atlassian (conditional operations,
//    https://developer.atlassian.com/platform/forge/storage-reference/transactions-entities).
//    That equalTo fails on a key holding no value, and on a value without the attribute, is
//    inferred (not documented; a condition expression over a missing item or attribute is false
//    in the DynamoDB store behind it): the local host does so and the lock relies on no more.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { createManualClock } from '../../dev/host/clock.mjs';
import { barePlatform, rejection } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { kvs, Filter, FilterConditions, ForgeKvsAPIError, WhereConditions } = require('@forge/kvs');

const EVENTS = 'verification-event';
const SECOND = 1000;

/** The live values of `keys` as the store holds them (read around the client). */
const snapshot = (store, keys) => Object.fromEntries(keys.map((k) => [k, store.get(k)]));

describe('Forge KVS guarantees the exactly-once protocol relies on', () => {
  it('1. read-your-writes: a get after a set or delete that returned answers it', async () => {
    // Latency makes every call a real await, and other writers keep the store busy meanwhile.
    const { run } = barePlatform({ latencyMs: 1 });
    const noise = run(async () => {
      for (let i = 0; i < 20; i += 1) await kvs.set(`noise:${i % 3}`, i);
    });
    for (let round = 0; round < 10; round += 1) {
      const value = { round, at: `t${round}` };
      await run(async () => {
        await kvs.set('ryw', value);
        assert.deepEqual(await kvs.get('ryw'), value, `round ${round}: the same invocation reads its set`);
      });
      assert.deepEqual(await run(() => kvs.get('ryw')), value, `round ${round}: a later invocation reads the set`);
      if (round % 3 === 2) {
        await run(async () => {
          await kvs.delete('ryw');
          assert.equal(await kvs.get('ryw'), undefined, `round ${round}: the same invocation reads its delete`);
        });
        assert.equal(await run(() => kvs.get('ryw')), undefined, `round ${round}: a later invocation reads the delete`);
      }
    }
    await noise;
  });

  it('2. a transaction lands whole or not at all', async () => {
    const { run, platform, kvs: store } = barePlatform();
    const keys = ['tx:a', 'tx:b', 'tx:gone'];
    await run(async () => {
      await kvs.set('tx:a', 'a0');
      await kvs.set('tx:b', 'b0');
      await kvs.set('tx:gone', 'g0');
      await kvs.entity(EVENTS).set('ev', { issueKey: 'HELP-1', at: 1, outcome: 'started' });
    });
    const before = snapshot(store, keys);
    const transaction = (condition) =>
      kvs
        .transact()
        .set('tx:a', 'a1')
        .set('tx:b', 'b1', undefined, { ttl: { value: 1, unit: 'HOURS' } })
        .delete('tx:gone')
        .check('ev', { entityName: EVENTS, conditions: new Filter().and('outcome', FilterConditions.equalTo(condition)) })
        .execute();

    // A condition that does not hold: nothing of the transaction lands.
    const refused = await rejection(() => run(() => transaction('Success')));
    assert.ok(refused instanceof ForgeKvsAPIError, String(refused));
    assert.equal(refused.responseDetails.status, 409);
    assert.deepEqual(snapshot(store, keys), before, 'a failed condition leaves every key as it was');

    // A failure of the service before the transaction lands: nothing lands either.
    platform.faults.add({ target: 'kvs', status: 500, match: (req) => req.path === '/api/v1/transaction' });
    const failed = await rejection(() => run(() => transaction('started')));
    assert.equal(failed.responseDetails.status, 500);
    assert.deepEqual(snapshot(store, keys), before, 'a failed transaction leaves every key as it was');

    // The same transaction, allowed to commit: every set and delete lands.
    await run(() => transaction('started'));
    assert.deepEqual(snapshot(store, keys), { 'tx:a': 'a1', 'tx:b': 'b1', 'tx:gone': undefined });
    assert.ok(store.inspect('tx:b').expiresAt, "a set's TTL lands with it");
  });

  it('3. set OVERRIDE with returnValue PREVIOUS swaps atomically: no lost update', async () => {
    const { run, kvs: store } = barePlatform({ latencyMs: 3 });
    await run(() => kvs.set('swap', 'original'));
    const swappers = 16;
    const seen = await Promise.all(
      Array.from({ length: swappers }, (_, i) =>
        run(async () => {
          const previous = await kvs.set('swap', `by-${i}`, { keyPolicy: 'OVERRIDE', returnValue: 'PREVIOUS' });
          return [`by-${i}`, previous?.value];
        }),
      ),
    );
    const previousValues = seen.map(([, previous]) => previous);
    assert.equal(new Set(previousValues).size, swappers, `every swap saw a distinct previous value: ${previousValues}`);
    assert.equal(previousValues.filter((v) => v === 'original').length, 1, 'exactly one swap replaced the original');
    // The swaps form one chain from the original to what the store holds: none was overwritten unseen.
    const replacedBy = new Map(seen.map(([mine, previous]) => [previous, mine]));
    let current = 'original';
    for (let step = 0; step < swappers; step += 1) {
      assert.ok(replacedBy.has(current), `${current} was replaced by no swap`);
      current = replacedBy.get(current);
    }
    assert.equal(store.get('swap'), current, 'the last swap of the chain is what the store holds');
  });

  it('4. a value read after its TTL has passed is absent', async () => {
    const clock = createManualClock(Date.UTC(2026, 10, 22, 10, 0, 0));
    const { run } = barePlatform({ now: clock });
    await run(async () => {
      await kvs.set('ttl:lease', 'held', { ttl: { value: 30, unit: 'SECONDS' } });
      await kvs
        .transact()
        .set('ttl:tx', 'held', undefined, { ttl: { value: 30, unit: 'SECONDS' } })
        .execute();
      await kvs.set('ttl:forever', 'kept');
    });
    clock.advance(30 * SECOND - 1);
    assert.equal(await run(() => kvs.get('ttl:lease')), 'held', 'alive until the TTL has passed');
    clock.advance(1);
    assert.equal(await run(() => kvs.get('ttl:lease')), undefined, 'get');
    assert.equal(await run(() => kvs.get('ttl:tx')), undefined, 'a TTL set in a transaction');
    const batch = await run(() => kvs.batchGet([{ key: 'ttl:lease' }, { key: 'ttl:forever' }]));
    assert.deepEqual(
      batch.successfulKeys.map((r) => r.key),
      ['ttl:forever'],
      'batchGet',
    );
    const page = await run(() => kvs.query().where('key', WhereConditions.beginsWith('ttl:')).getMany());
    assert.deepEqual(
      page.results.map((r) => r.key),
      ['ttl:forever'],
      'query',
    );
    const swapped = await run(() => kvs.set('ttl:lease', 'again', { keyPolicy: 'OVERRIDE', returnValue: 'PREVIOUS' }));
    assert.equal(swapped, undefined, 'a swap after expiry replaces nothing');
  });

  it('5. a call that times out may or may not have landed', async () => {
    const { run, platform, kvs: store } = barePlatform();
    const onSet = (req) => req.path === '/api/v1/set';

    // The answer is lost after the set landed: the caller sees a timeout, the value is stored.
    platform.faults.add({ target: 'kvs', match: onSet, error: 'timeout', landed: true });
    const lostAnswer = await rejection(() => run(() => kvs.set('timeout:landed', 'written')));
    assert.equal(lostAnswer.name, 'TimeoutError');
    assert.equal(await run(() => kvs.get('timeout:landed')), 'written', 'the set landed although its caller timed out');
    // A retry that insists on creating the key meets its own earlier write.
    platform.faults.add({ target: 'kvs', match: onSet, status: 503, landed: true });
    const lostError = await rejection(() => run(() => kvs.set('timeout:claim', 'mine', { keyPolicy: 'FAIL_IF_EXISTS' })));
    assert.equal(lostError.responseDetails.status, 503);
    const retry = await rejection(() => run(() => kvs.set('timeout:claim', 'mine', { keyPolicy: 'FAIL_IF_EXISTS' })));
    assert.equal(retry.code, 'KEY_CONFLICT');

    // The call fails before it lands: the caller sees the same timeout, nothing is stored.
    const writesBefore = store.writes;
    platform.faults.add({ target: 'kvs', match: onSet, error: 'timeout' });
    const early = await rejection(() => run(() => kvs.set('timeout:lost', 'never')));
    assert.equal(early.name, 'TimeoutError');
    assert.equal(await run(() => kvs.get('timeout:lost')), undefined, 'the set never landed');
    assert.equal(store.writes, writesBefore);

    // Losing an answer needs an answer to replace it with.
    assert.throws(() => platform.faults.add({ target: 'kvs', landed: true, delayMs: 5 }), /landed.*status or error/);
    assert.deepEqual(platform.faults.pending(), []);
  });

  it('6. an entity set in a transaction lands with it, in its own key space', async () => {
    const { run, platform, kvs: store } = barePlatform();
    await run(() => kvs.set('entry:1', 'plain value'));
    const transaction = () =>
      kvs.transact().set('record:1', { rev: 1 }).set('entry:1', { issueKey: 'HELP-1', at: 1, outcome: 'passed' }, { entityName: EVENTS }).execute();

    platform.faults.add({ target: 'kvs', status: 500, match: (req) => req.path === '/api/v1/transaction' });
    const failed = await rejection(() => run(transaction));
    assert.equal(failed.responseDetails.status, 500);
    assert.equal(store.get('record:1'), undefined, 'no plain set of a failed transaction lands');
    assert.equal(store.getEntity(EVENTS, 'entry:1'), undefined, 'nor its entity set');

    await run(transaction);
    assert.deepEqual(store.get('record:1'), { rev: 1 });
    assert.equal(store.getEntity(EVENTS, 'entry:1')?.outcome, 'passed', 'the entity set landed with it');
    assert.equal(store.get('entry:1'), 'plain value', 'the plain value of the same key is another value');
    assert.equal((await run(() => kvs.entity(EVENTS).get('entry:1')))?.outcome, 'passed');
  });

  it('7. a claim on a taken entity key cancels the transaction, entity deletes included', async () => {
    const { run, kvs: store } = barePlatform();
    const entry = (outcome) => ({ issueKey: 'HELP-1', at: 1, outcome });
    await run(() => kvs.transact().set('claim:1', entry('passed'), { entityName: EVENTS }).set('old:1', entry('failed'), { entityName: EVENTS }).execute());
    const claim = (key) => () =>
      kvs
        .transact()
        .set(key, entry('claimed'), { entityName: EVENTS, conditions: new Filter().and('outcome', FilterConditions.notExists()) })
        .set('record:1', { rev: 2 })
        .delete('old:1', { entityName: EVENTS })
        .execute();

    const refused = await rejection(() => run(claim('claim:1')));
    assert.match(refused.message, /condition/i);
    assert.equal(store.getEntity(EVENTS, 'claim:1')?.outcome, 'passed', 'the claimed key keeps its value');
    assert.equal(store.get('record:1'), undefined, 'no set of the cancelled transaction lands');
    assert.equal(store.getEntity(EVENTS, 'old:1')?.outcome, 'failed', 'nor its entity delete');

    await run(claim('claim:2'));
    assert.equal(store.getEntity(EVENTS, 'claim:2')?.outcome, 'claimed');
    assert.deepEqual(store.get('record:1'), { rev: 2 });
    assert.equal(store.getEntity(EVENTS, 'old:1'), undefined, 'the entity delete landed with it');
  });

  it('8. an entity set OVERRIDE with returnValue PREVIOUS swaps atomically: no lost update', async () => {
    const { run, kvs: store } = barePlatform({ latencyMs: 3 });
    const value = (outcome) => ({ issueKey: 'HELP-1', at: 1, outcome });
    await run(() => kvs.entity(EVENTS).set('swap', value('original')));
    const swappers = 16;
    const seen = await Promise.all(
      Array.from({ length: swappers }, (_, i) =>
        run(async () => {
          const options = { keyPolicy: 'OVERRIDE', returnValue: 'PREVIOUS', ttl: { value: 1, unit: 'HOURS' } };
          const previous = await kvs.entity(EVENTS).set('swap', value(`by-${i}`), options);
          return [`by-${i}`, previous?.value?.outcome];
        }),
      ),
    );
    const previousValues = seen.map(([, previous]) => previous);
    assert.equal(new Set(previousValues).size, swappers, `every swap saw a distinct previous value: ${previousValues}`);
    const replacedBy = new Map(seen.map(([mine, previous]) => [previous, mine]));
    let current = 'original';
    for (let step = 0; step < swappers; step += 1) {
      assert.ok(replacedBy.has(current), `${current} was replaced by no swap`);
      current = replacedBy.get(current);
    }
    assert.equal(store.getEntity(EVENTS, 'swap')?.outcome, current, 'the last swap of the chain is what the store holds');
    const first = await run(() => kvs.entity(EVENTS).set('swap:new', value('x'), { keyPolicy: 'OVERRIDE', returnValue: 'PREVIOUS' }));
    assert.equal(first, undefined, 'a swap onto no value replaces nothing');
  });

  it('9. a conditional entity set lands only while its condition holds, else nothing lands', async () => {
    const { run, kvs: store } = barePlatform();
    const value = (outcome, issueKey = 'HELP-1') => ({ issueKey, at: 1, outcome });
    const giveBack = (key, outcome, whileIs) => () =>
      kvs
        .transact()
        .set(key, value(outcome), { entityName: EVENTS, conditions: new Filter().and('issueKey', FilterConditions.equalTo(whileIs)) })
        .execute();
    await run(() => kvs.entity(EVENTS).set('lease', value('mine', 'me')));

    // Someone else wrote over our value: the give-back lands nothing, their value stays.
    await run(() => kvs.entity(EVENTS).set('lease', value('newer', 'them')));
    const refused = await rejection(() => run(giveBack('lease', 'old', 'me')));
    assert.equal(refused.responseDetails.status, 409);
    assert.equal(store.getEntity(EVENTS, 'lease')?.outcome, 'newer');

    // No value under the key (and a value without the attribute): equalTo fails, nothing lands.
    await rejection(() => run(giveBack('absent', 'old', 'me')));
    assert.equal(store.getEntity(EVENTS, 'absent'), undefined, 'equalTo on an absent value fails');
    await run(() => kvs.entity(EVENTS).set('bare', { at: 2, outcome: 'bare' }));
    await rejection(() => run(giveBack('bare', 'old', 'me')));
    assert.equal(store.getEntity(EVENTS, 'bare')?.outcome, 'bare', 'equalTo on a missing attribute fails');

    // Still ours: it lands.
    await run(() => kvs.entity(EVENTS).set('lease', value('mine', 'me')));
    await run(giveBack('lease', 'old', 'me'));
    assert.equal(store.getEntity(EVENTS, 'lease')?.outcome, 'old');
  });
});
