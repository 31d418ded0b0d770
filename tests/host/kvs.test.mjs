// Forge KVS semantics of the local host, driven through the real @forge/kvs package.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { createKvsStore } from '../../dev/host/kvs.mjs';
import { barePlatform, manualClock, rejection, tempDir } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { kvs, WhereConditions, ForgeKvsAPIError, MetadataField } = require('@forge/kvs');

async function allPages(run, prefix, limit) {
  const keys = [];
  let cursor;
  let pages = 0;
  do {
    const page = await run(() => {
      let q = kvs.query().where('key', WhereConditions.beginsWith(prefix)).limit(limit);
      if (cursor) q = q.cursor(cursor);
      return q.getMany();
    });
    pages += 1;
    keys.push(...page.results.map((r) => r.key));
    cursor = page.nextCursor;
  } while (cursor);
  return { keys, pages };
}

describe('KVS basic operations', () => {
  it('sets, gets and deletes JSON values of every kind', async () => {
    const { run } = barePlatform();
    const values = { 'v:string': 'text', 'v:number': 42.5, 'v:bool': false, 'v:array': [1, 'two', { three: 3 }], 'v:object': { a: { b: [null, true] } } };
    await run(async () => {
      for (const [key, value] of Object.entries(values)) await kvs.set(key, value);
    });
    for (const [key, value] of Object.entries(values)) {
      assert.deepEqual(await run(() => kvs.get(key)), value);
    }
    await run(() => kvs.delete('v:string'));
    assert.equal(await run(() => kvs.get('v:string')), undefined);
    // Missing keys read as undefined and delete quietly, as the SDK maps KEY_NOT_FOUND.
    assert.equal(await run(() => kvs.get('never-set')), undefined);
    await run(() => kvs.delete('never-set'));
  });

  it('returns metadata fields when asked', async () => {
    const now = manualClock();
    const { run } = barePlatform({ now });
    await run(() => kvs.set('meta', 1, { ttl: { value: 2, unit: 'HOURS' } }));
    now.advance(60_000);
    await run(() => kvs.set('meta', 2, { ttl: { value: 2, unit: 'HOURS' } }));
    const got = await run(() => kvs.get('meta', { metadataFields: [MetadataField.CREATED_AT, MetadataField.UPDATED_AT, MetadataField.EXPIRE_TIME] }));
    assert.equal(got.value, 2);
    assert.equal(got.updatedAt - got.createdAt, 60, 'createdAt stays, updatedAt moves (epoch seconds)');
    assert.equal(got.expireTime, new Date(now() + 2 * 3_600_000).toISOString());
    const plain = await run(() => kvs.get('meta', { metadataFields: [MetadataField.CREATED_AT] }));
    assert.deepEqual(Object.keys(plain).sort(), ['createdAt', 'key', 'value']);
  });

  it('rejects invalid keys with the service codes', async () => {
    const { run } = barePlatform();
    const cases = [
      ['x'.repeat(501), 'KEY_TOO_LONG'],
      ['slash/not/allowed', 'INVALID_KEY'],
      ['   ', 'INVALID_KEY'],
      ['', 'KEY_TOO_SHORT'],
    ];
    for (const [key, code] of cases) {
      const error = await rejection(() => run(() => kvs.set(key, 1)));
      assert.ok(error instanceof ForgeKvsAPIError, `${code}: ${error}`);
      assert.equal(error.code, code);
      assert.equal(error.responseDetails.status, 400);
    }
    // The documented alphabet, including spaces, '#', ':' '.', '_' and '-'.
    await run(() => kvs.set('ok key:#._-1', 'fine'));
    await run(() => kvs.set('k'.repeat(500), 'fine'));
    assert.equal(await run(() => kvs.get('ok key:#._-1')), 'fine');
  });

  it('enforces the value size and depth limits', async () => {
    const { run } = barePlatform();
    const big = 'x'.repeat(240 * 1024);
    const error = await rejection(() => run(() => kvs.set('big', big)));
    assert.equal(error.code, 'MAX_SIZE');
    await run(() => kvs.set('almost', 'x'.repeat(240 * 1024 - 2))); // the JSON quotes count
    let deep = 'leaf';
    for (let i = 0; i < 33; i += 1) deep = { d: deep };
    assert.equal((await rejection(() => run(() => kvs.set('deep', deep)))).code, 'MAX_DEPTH');
    assert.equal(await run(() => kvs.get('big')), undefined);
  });
});

describe('KVS TTL and key policies', () => {
  it('expires entries after their TTL and hides them from queries', async () => {
    const now = manualClock();
    const { run } = barePlatform({ now });
    await run(() => kvs.set('ttl:short', 'a', { ttl: { value: 5, unit: 'SECONDS' } }));
    await run(() => kvs.set('ttl:long', 'b', { ttl: { value: 1, unit: 'DAYS' } }));
    await run(() => kvs.set('ttl:none', 'c'));
    now.advance(4_999);
    assert.equal(await run(() => kvs.get('ttl:short')), 'a');
    now.advance(1);
    assert.equal(await run(() => kvs.get('ttl:short')), undefined);
    const page = await run(() => kvs.query().where('key', WhereConditions.beginsWith('ttl:')).getMany());
    assert.deepEqual(
      page.results.map((r) => r.key),
      ['ttl:long', 'ttl:none'],
    );
    now.advance(86_400_000);
    assert.equal(await run(() => kvs.get('ttl:long')), undefined);
    assert.equal(await run(() => kvs.get('ttl:none')), 'c');
  });

  it('overwriting without a TTL removes the old TTL', async () => {
    const now = manualClock();
    const { run } = barePlatform({ now });
    await run(() => kvs.set('k', 1, { ttl: { value: 1, unit: 'MINUTES' } }));
    await run(() => kvs.set('k', 2));
    now.advance(120_000);
    assert.equal(await run(() => kvs.get('k')), 2);
  });

  it('rejects malformed TTLs', async () => {
    const { run } = barePlatform();
    for (const ttl of [
      { value: 0, unit: 'SECONDS' },
      { value: 1.5, unit: 'MINUTES' },
      { value: 1, unit: 'WEEKS' },
    ]) {
      assert.equal((await rejection(() => run(() => kvs.set('k', 1, { ttl })))).code, 'BAD_REQUEST');
    }
  });

  it('FAIL_IF_EXISTS refuses a live key and allows an expired one', async () => {
    const now = manualClock();
    const { run } = barePlatform({ now });
    await run(() => kvs.set('lock', 'first', { keyPolicy: 'FAIL_IF_EXISTS', ttl: { value: 30, unit: 'SECONDS' } }));
    const error = await rejection(() => run(() => kvs.set('lock', 'second', { keyPolicy: 'FAIL_IF_EXISTS' })));
    assert.ok(error instanceof ForgeKvsAPIError);
    assert.equal(error.code, 'KEY_CONFLICT');
    assert.equal(error.responseDetails.status, 409);
    assert.equal(await run(() => kvs.get('lock')), 'first');
    now.advance(30_000);
    await run(() => kvs.set('lock', 'third', { keyPolicy: 'FAIL_IF_EXISTS' }));
    assert.equal(await run(() => kvs.get('lock')), 'third');
  });

  it('FAIL_IF_EXISTS lets exactly one of many concurrent writers win', async () => {
    const { run } = barePlatform({ latencyMs: 5 });
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        run(() => kvs.set('once', i, { keyPolicy: 'FAIL_IF_EXISTS' })).then(
          () => 'won',
          (e) => e.code,
        ),
      ),
    );
    assert.equal(outcomes.filter((o) => o === 'won').length, 1);
    assert.equal(outcomes.filter((o) => o === 'KEY_CONFLICT').length, 11);
  });

  it('returnValue answers the previous or the latest record', async () => {
    const { run } = barePlatform();
    assert.equal(await run(() => kvs.set('rv', 'a', { keyPolicy: 'OVERRIDE', returnValue: 'PREVIOUS' })), undefined, 'nothing before the first write');
    const previous = await run(() => kvs.set('rv', 'b', { keyPolicy: 'OVERRIDE', returnValue: 'PREVIOUS', returnMetadataFields: [MetadataField.CREATED_AT] }));
    assert.equal(previous.key, 'rv');
    assert.equal(previous.value, 'a');
    assert.equal(typeof previous.createdAt, 'number');
    const latest = await run(() => kvs.set('rv', 'c', { keyPolicy: 'OVERRIDE', returnValue: 'LATEST' }));
    assert.deepEqual(latest, { key: 'rv', value: 'c' });
  });
});

describe('KVS queries', () => {
  it('pages by key prefix in key order with cursors, at most 20 per page', async () => {
    const { run } = barePlatform();
    await run(async () => {
      for (let i = 0; i < 45; i += 1) await kvs.set(`item:${String(i).padStart(3, '0')}`, i);
      await kvs.set('itemx', 'prefix without colon');
      await kvs.set('other:1', 'not matched');
    });
    const first = await run(() => kvs.query().where('key', WhereConditions.beginsWith('item:')).getMany());
    assert.equal(first.results.length, 10, 'the default limit');
    assert.equal(first.results[0].key, 'item:000');
    assert.ok(first.nextCursor);
    const capped = await run(() => kvs.query().where('key', WhereConditions.beginsWith('item:')).limit(50).getMany());
    assert.equal(capped.results.length, 20, 'a page never holds more than 20');
    const { keys, pages } = await allPages(run, 'item:', 20);
    assert.equal(pages, 3);
    assert.deepEqual(
      keys,
      Array.from({ length: 45 }, (_, i) => `item:${String(i).padStart(3, '0')}`),
    );
    const single = await run(() => kvs.query().where('key', WhereConditions.beginsWith('item:044')).getOne());
    assert.deepEqual(single, { key: 'item:044', value: 44 });
  });

  it('rejects bad limits and foreign cursors', async () => {
    const { run } = barePlatform();
    await run(() => kvs.set('a:1', 1));
    const tooMany = await rejection(() => run(() => kvs.query().limit(101).getMany()));
    assert.equal(tooMany.code, 'LIST_QUERY_LIMIT_EXCEEDED');
    assert.equal((await rejection(() => run(() => kvs.query().limit(0).getMany()))).code, 'BAD_REQUEST');
    assert.equal((await rejection(() => run(() => kvs.query().cursor('garbage').getMany()))).code, 'BAD_REQUEST');
    await run(async () => {
      for (let i = 0; i < 3; i += 1) await kvs.set(`b:${i}`, i);
    });
    const page = await run(() => kvs.query().where('key', WhereConditions.beginsWith('b:')).limit(1).getMany());
    const misuse = await rejection(() => run(() => kvs.query().where('key', WhereConditions.beginsWith('a:')).cursor(page.nextCursor).getMany()));
    assert.equal(misuse.code, 'BAD_REQUEST', 'a cursor belongs to its query');
  });

  it('keeps secrets in their own namespace, never queryable', async () => {
    const { run, kvs: store } = barePlatform();
    await run(() => kvs.setSecret('secret:apiKey', 'k-123'));
    await run(() => kvs.set('secret:visible', 'plain'));
    assert.equal(await run(() => kvs.getSecret('secret:apiKey')), 'k-123');
    assert.equal(await run(() => kvs.get('secret:apiKey')), undefined, 'get does not read secrets');
    const page = await run(() => kvs.query().where('key', WhereConditions.beginsWith('secret:')).getMany());
    assert.deepEqual(
      page.results.map((r) => r.key),
      ['secret:visible'],
    );
    const everything = await run(() => kvs.query().limit(20).getMany());
    assert.ok(!everything.results.some((r) => r.value === 'k-123'));
    await run(() => kvs.deleteSecret('secret:apiKey'));
    assert.equal(await run(() => kvs.getSecret('secret:apiKey')), undefined);
    assert.deepEqual(store.secretKeys(), []);
  });
});

describe('KVS batches and transactions', () => {
  it('batch set/get/delete report per-key success and failure', async () => {
    const { run } = barePlatform();
    const set = await run(() =>
      kvs.batchSet([
        { key: 'b1', value: 1 },
        { key: 'bad/key', value: 2 },
        { key: 'b3', value: 3, options: { ttl: { value: 1, unit: 'HOURS' } } },
      ]),
    );
    assert.deepEqual(
      set.successfulKeys.map((k) => k.key),
      ['b1', 'b3'],
    );
    assert.equal(set.failedKeys[0].key, 'bad/key');
    assert.equal(set.failedKeys[0].error.code, 'INVALID_KEY');
    const got = await run(() => kvs.batchGet([{ key: 'b1' }, { key: 'missing' }, { key: 'b3' }]));
    assert.deepEqual(
      got.successfulKeys.map((k) => [k.key, k.value]),
      [
        ['b1', 1],
        ['b3', 3],
      ],
    );
    assert.deepEqual(got.failedKeys, [{ key: 'missing', error: { code: 'KEY_NOT_FOUND', message: 'Key does not exist' } }]);
    const deleted = await run(() => kvs.batchDelete([{ key: 'b1' }, { key: 'missing' }]));
    assert.deepEqual(deleted.successfulKeys, [{ key: 'b1' }]);
    assert.equal(deleted.failedKeys[0].error.code, 'KEY_NOT_FOUND');
    assert.equal(await run(() => kvs.get('b1')), undefined);
  });

  it('commits a transaction of sets and deletes', async () => {
    const { run } = barePlatform();
    await run(() => kvs.set('tx:old', 'gone soon'));
    await run(() => kvs.transact().set('tx:a', { n: 1 }).set('tx:b', [2]).delete('tx:old').execute());
    assert.deepEqual(await run(() => kvs.get('tx:a')), { n: 1 });
    assert.deepEqual(await run(() => kvs.get('tx:b')), [2]);
    assert.equal(await run(() => kvs.get('tx:old')), undefined);
  });

  it('applies nothing when any operation of a transaction is invalid', async () => {
    const { run, kvs: store } = barePlatform();
    await run(() => kvs.set('tx:keep', 'original'));
    const writesBefore = store.writes;
    const cases = [
      () =>
        kvs
          .transact()
          .set('tx:keep', 'changed')
          .set('tx:new', 'x'.repeat(250 * 1024))
          .execute(),
      () => kvs.transact().set('tx:keep', 'changed').delete('tx:keep').execute(),
      () => kvs.transact().set('tx:keep', 'changed').set('bad/key', 1).execute(),
      () => {
        let tx = kvs.transact();
        for (let i = 0; i < 26; i += 1) tx = tx.set(`tx:n${i}`, i);
        return tx.execute();
      },
    ];
    for (const attemptTx of cases) {
      const error = await rejection(() => run(attemptTx));
      assert.ok(error instanceof ForgeKvsAPIError);
      assert.equal(error.responseDetails.status, 400);
    }
    assert.equal(await run(() => kvs.get('tx:keep')), 'original');
    assert.equal(await run(() => kvs.get('tx:new')), undefined);
    assert.equal(await run(() => kvs.get('tx:n0')), undefined);
    assert.equal(store.writes, writesBefore, 'no failed transaction reached the store');
  });
});

describe('KVS persistence', () => {
  it('survives a restart: values, secrets and TTLs, written atomically', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'kvs.json');
    const now = manualClock();
    const first = barePlatform({ kvsFile: file, now });
    await first.run(async () => {
      await kvs.set('settings', { revision: 3 });
      await kvs.setSecret('secret:clientSecret', 's3cr3t');
      await kvs.set('rate:1', 1, { ttl: { value: 2, unit: 'HOURS' } });
      await kvs.set('short', 1, { ttl: { value: 1, unit: 'SECONDS' } });
    });
    assert.deepEqual(fs.readdirSync(dir), ['kvs.json'], 'no temp file left behind');
    assert.equal((fs.statSync(file).mode & 0o777).toString(8), '600');

    now.advance(1_000);
    const second = barePlatform({ kvsFile: file, now });
    assert.deepEqual(await second.run(() => kvs.get('settings')), { revision: 3 });
    assert.equal(await second.run(() => kvs.getSecret('secret:clientSecret')), 's3cr3t');
    assert.equal(await second.run(() => kvs.get('short')), undefined);
    const meta = second.kvs.inspect('rate:1');
    assert.equal(meta.expiresAt, Date.UTC(2026, 10, 22, 12, 0, 0));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an in-memory store writes no file', () => {
    const store = createKvsStore({ memory: true });
    store.set('a', 1);
    assert.equal(store.file, null);
    assert.equal(store.get('a'), 1);
  });

  it('answers protocol errors in the service shape', () => {
    const store = createKvsStore({ memory: true });
    const notJson = store.handle('/api/v1/set', '{');
    assert.equal(notJson.status, 400);
    assert.deepEqual(JSON.parse(notJson.body), { code: 'BAD_REQUEST', message: 'Provided request body is invalid' });
    const unknown = store.handle('/api/v1/nope', '{}');
    assert.equal(unknown.status, 404);
    const missing = store.handle('/api/v1/get', JSON.stringify({ key: 'nothing' }));
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.body).code, 'KEY_NOT_FOUND');
    const twoWheres = store.handle(
      '/api/v1/query',
      JSON.stringify({
        where: [
          { property: 'key', condition: 'BEGINS_WITH', values: ['a'] },
          { property: 'key', condition: 'BEGINS_WITH', values: ['b'] },
        ],
      }),
    );
    assert.equal(JSON.parse(twoWheres.body).code, 'QUERY_WHERE_INVALID');
    const otherField = store.handle('/api/v1/query', JSON.stringify({ where: [{ property: 'value', condition: 'BEGINS_WITH', values: ['a'] }] }));
    assert.equal(JSON.parse(otherField.body).code, 'QUERY_WHERE_FIELD_INVALID');
    const otherCondition = store.handle('/api/v1/query', JSON.stringify({ where: [{ property: 'key', condition: 'CONTAINS', values: ['a'] }] }));
    assert.equal(JSON.parse(otherCondition.body).code, 'INVALID_FILTER_CONDITION');
  });
});
