// Forge custom entities in the local KVS, driven through the real @forge/kvs client: the
// entities and indexes the manifest declares, typed attributes, index queries with range
// conditions, filters, sort order, limits and cursors, persisted like the rest of the store.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { createKvsStore } from '../../dev/host/kvs.mjs';
import { barePlatform, rejection, tempDir } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { kvs, WhereConditions, FilterConditions, Filter, Sort } = require('@forge/kvs');

const EVENTS = 'verification-event';
const event = (issueKey, at, outcome, extra = {}) => ({ issueKey, at, outcome, ...extra });

async function seed(run) {
  await run(async () => {
    await kvs.entity(EVENTS).set('e1', event('HELP-1', 100, 'started'));
    await kvs.entity(EVENTS).set('e2', event('HELP-1', 300, 'Success', { score: 0.97, final: true }));
    await kvs.entity(EVENTS).set('e3', event('HELP-1', 200, 'failed', { score: 0.2 }));
    await kvs.entity(EVENTS).set('e4', event('HELP-2', 150, 'Success', { final: true, detail: { by: 'webhook' } }));
  });
}

describe('custom entities: set, get, delete', () => {
  it('stores declared entities apart from plain keys', async () => {
    const { run } = barePlatform();
    await seed(run);
    assert.deepEqual(await run(() => kvs.entity(EVENTS).get('e4')), event('HELP-2', 150, 'Success', { final: true, detail: { by: 'webhook' } }));
    assert.equal(await run(() => kvs.get('e4')), undefined, 'an entity is not a plain key');
    await run(() => kvs.entity(EVENTS).delete('e4'));
    assert.equal(await run(() => kvs.entity(EVENTS).get('e4')), undefined);
    await run(() => kvs.entity(EVENTS).delete('never'));
  });

  it('refuses entities the manifest does not declare', async () => {
    const { run } = barePlatform();
    const error = await rejection(() => run(() => kvs.entity('audit-trail').set('a', { x: 1 })));
    assert.match(error.message, /audit-trail.*not declared/);
    const read = await rejection(() => run(() => kvs.entity('audit-trail').get('a')));
    assert.match(read.message, /not declared/);
  });

  it('refuses attributes that are undeclared or of the wrong type, and values that are not objects', async () => {
    const { run } = barePlatform();
    const cases = [
      [{ issueKey: 'HELP-1', at: 1, outcome: 'x', verdict: 'ok' }, /verdict.*not declared/],
      [{ issueKey: 7 }, /issueKey.*string/],
      [{ at: 1.5 }, /at.*integer/],
      [{ at: Date.UTC(2026, 11, 6) }, /at.*integer \(32-bit signed\)/],
      [{ score: 1e200 }, /score.*float/],
      [{ score: '0.9' }, /score.*float/],
      [{ final: 'yes' }, /final.*boolean/],
      ['just text', /object/],
    ];
    for (const [value, pattern] of cases) {
      const error = await rejection(() => run(() => kvs.entity(EVENTS).set('bad', value)));
      assert.match(error.message, pattern, JSON.stringify(value));
    }
    assert.equal(await run(() => kvs.entity(EVENTS).get('bad')), undefined, 'nothing was written');
  });
});

describe('custom entities: index queries', () => {
  it('queries a partitioned index in range order, both ways, with range conditions', async () => {
    const { run } = barePlatform();
    await seed(run);
    const keys = (page) => page.results.map((r) => r.key);
    const ascending = await run(() =>
      kvs
        .entity(EVENTS)
        .query()
        .index('by-issue', { partition: ['HELP-1'] })
        .getMany(),
    );
    assert.deepEqual(keys(ascending), ['e1', 'e3', 'e2']);
    assert.deepEqual(ascending.results[0], { key: 'e1', value: event('HELP-1', 100, 'started') });
    const descending = await run(() =>
      kvs
        .entity(EVENTS)
        .query()
        .index('by-issue', { partition: ['HELP-1'] })
        .sort(Sort.DESC)
        .getMany(),
    );
    assert.deepEqual(keys(descending), ['e2', 'e3', 'e1']);
    const since = await run(() =>
      kvs
        .entity(EVENTS)
        .query()
        .index('by-issue', { partition: ['HELP-1'] })
        .where(WhereConditions.greaterThan(150))
        .getMany(),
    );
    assert.deepEqual(keys(since), ['e3', 'e2']);
    const between = await run(() =>
      kvs
        .entity(EVENTS)
        .query()
        .index('by-issue', { partition: ['HELP-1'] })
        .where(WhereConditions.between(100, 200))
        .getMany(),
    );
    assert.deepEqual(keys(between), ['e1', 'e3']);
    const newest = await run(() =>
      kvs
        .entity(EVENTS)
        .query()
        .index('by-issue', { partition: ['HELP-1'] })
        .sort(Sort.DESC)
        .getOne(),
    );
    assert.equal(newest.key, 'e2');
  });

  it('queries a plain index by its attribute and filters on others', async () => {
    const { run } = barePlatform();
    await seed(run);
    const successes = await run(() => kvs.entity(EVENTS).query().index('outcome').where(WhereConditions.equalTo('Success')).getMany());
    assert.deepEqual(successes.results.map((r) => r.key).sort(), ['e2', 'e4']);
    const filtered = await run(() =>
      kvs
        .entity(EVENTS)
        .query()
        .index('by-issue', { partition: ['HELP-1'] })
        .filters(new Filter().and('score', FilterConditions.greaterThan(0.5)).and('final', FilterConditions.equalTo(true)))
        .getMany(),
    );
    assert.deepEqual(
      filtered.results.map((r) => r.key),
      ['e2'],
    );
    const either = await run(() =>
      kvs
        .entity(EVENTS)
        .query()
        .index('by-issue', { partition: ['HELP-1'] })
        .filters(new Filter().or('outcome', FilterConditions.equalTo('started')).or('score', FilterConditions.lessThan(0.5)))
        .getMany(),
    );
    assert.deepEqual(
      either.results.map((r) => r.key),
      ['e1', 'e3'],
    );
  });

  it('pages with limit and cursor, and a cursor belongs to its query', async () => {
    const { run } = barePlatform();
    await run(async () => {
      for (let i = 0; i < 7; i++) await kvs.entity(EVENTS).set(`p${i}`, event('HELP-3', 1000 + i, 'started'));
    });
    const seen = [];
    let cursor;
    let pages = 0;
    do {
      const page = await run(() => {
        let q = kvs
          .entity(EVENTS)
          .query()
          .index('by-issue', { partition: ['HELP-3'] })
          .limit(3);
        if (cursor) q = q.cursor(cursor);
        return q.getMany();
      });
      pages += 1;
      seen.push(...page.results.map((r) => r.key));
      cursor = page.nextCursor;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    const first = await run(() =>
      kvs
        .entity(EVENTS)
        .query()
        .index('by-issue', { partition: ['HELP-3'] })
        .limit(3)
        .getMany(),
    );
    const misuse = await rejection(() =>
      run(() =>
        kvs
          .entity(EVENTS)
          .query()
          .index('by-issue', { partition: ['HELP-1'] })
          .cursor(first.nextCursor)
          .getMany(),
      ),
    );
    assert.match(misuse.message, /cursor/i);
  });

  it('is strict about indexes, partitions and conditions', async () => {
    const { run } = barePlatform();
    await seed(run);
    const noIndex = await rejection(() => run(() => kvs.entity(EVENTS).query().index('by-score').getMany()));
    assert.match(noIndex.message, /by-score.*not declared/);
    const noPartition = await rejection(() => run(() => kvs.entity(EVENTS).query().index('by-issue').getMany()));
    assert.match(noPartition.message, /partition/);
    const wrongType = await rejection(() =>
      run(() =>
        kvs
          .entity(EVENTS)
          .query()
          .index('by-issue', { partition: ['HELP-1'] })
          .where(WhereConditions.greaterThan('soon'))
          .getMany(),
      ),
    );
    assert.match(wrongType.message, /at.*integer/);
    const badFilter = await rejection(() =>
      run(() => kvs.entity(EVENTS).query().index('outcome').filters(new Filter().and('verdict', FilterConditions.exists())).getMany()),
    );
    assert.match(badFilter.message, /verdict.*not declared/);
    const tooMany = await rejection(() => run(() => kvs.entity(EVENTS).query().index('outcome').limit(101).getMany()));
    assert.match(tooMany.message, /limit/i);
  });
});

describe('custom entities in transactions', () => {
  it('writes entities and plain keys together, all or nothing, under conditions', async () => {
    const { run } = barePlatform();
    await seed(run);
    await run(() =>
      kvs
        .transact()
        .set('e5', event('HELP-1', 400, 'Success', { final: true }), { entityName: EVENTS })
        .set('status:HELP-1', 'verified')
        .delete('e1', { entityName: EVENTS })
        .check('e2', { entityName: EVENTS, conditions: new Filter().and('outcome', FilterConditions.equalTo('Success')) })
        .execute(),
    );
    assert.equal((await run(() => kvs.entity(EVENTS).get('e5'))).at, 400);
    assert.equal(await run(() => kvs.get('status:HELP-1')), 'verified');
    assert.equal(await run(() => kvs.entity(EVENTS).get('e1')), undefined);

    // A condition that does not hold cancels every operation of the transaction.
    const cancelled = await rejection(() =>
      run(() =>
        kvs
          .transact()
          .set('status:HELP-1', 'overwritten')
          .set('e3', event('HELP-1', 200, 'Success'), { entityName: EVENTS, conditions: new Filter().and('outcome', FilterConditions.equalTo('started')) })
          .execute(),
      ),
    );
    assert.match(cancelled.message, /condition/i);
    assert.equal(await run(() => kvs.get('status:HELP-1')), 'verified');
    assert.equal((await run(() => kvs.entity(EVENTS).get('e3'))).outcome, 'failed');
    const failedCheck = await rejection(() =>
      run(() =>
        kvs
          .transact()
          .set('status:HELP-1', 'overwritten')
          .check('e4', { entityName: EVENTS, conditions: new Filter().and('final', FilterConditions.equalTo(false)) })
          .execute(),
      ),
    );
    assert.match(failedCheck.message, /condition/i);
    assert.equal(await run(() => kvs.get('status:HELP-1')), 'verified');
    const badValue = await rejection(() => run(() => kvs.transact().set('e6', { at: 'soon' }, { entityName: EVENTS }).execute()));
    assert.match(badValue.message, /at.*integer/);
  });
});

describe('custom entities in batches', () => {
  it('sets, gets and deletes entities and plain keys item by item', async () => {
    const { run } = barePlatform();
    const set = await run(() =>
      kvs.batchSet([
        { key: 'b1', value: event('HELP-5', 1, 'started'), entityName: EVENTS },
        { key: 'plain', value: 'x' },
        { key: 'b2', value: { at: 'late' }, entityName: EVENTS },
      ]),
    );
    assert.deepEqual(set.successfulKeys, [{ key: 'b1', entityName: EVENTS }, { key: 'plain' }]);
    assert.equal(set.failedKeys.length, 1);
    assert.equal(set.failedKeys[0].key, 'b2');
    assert.equal(set.failedKeys[0].entityName, EVENTS);
    assert.match(set.failedKeys[0].error.message, /at.*integer/);
    const got = await run(() =>
      kvs.batchGet([
        { key: 'b1', entityName: EVENTS },
        { key: 'plain', entityName: EVENTS },
      ]),
    );
    assert.deepEqual(
      got.successfulKeys.map((r) => [r.key, r.entityName, r.value.issueKey]),
      [['b1', EVENTS, 'HELP-5']],
    );
    assert.equal(got.failedKeys[0].error.code, 'KEY_NOT_FOUND', 'a plain key is not an entity');
    await run(() => kvs.batchDelete([{ key: 'b1', entityName: EVENTS }]));
    assert.equal(await run(() => kvs.entity(EVENTS).get('b1')), undefined);
    assert.equal(await run(() => kvs.get('plain')), 'x');
  });
});

describe('custom entities: persistence', () => {
  it('survives a restart of the store', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'kvs.json');
      const first = barePlatform({ kvsFile: file });
      await seed(first.run);
      const entities = first.manifest.entities;
      const reopened = createKvsStore({ file, entities });
      const answer = reopened.handle('/api/v1/entity/get', JSON.stringify({ entityName: EVENTS, key: 'e2' }));
      assert.equal(answer.status, 200);
      assert.equal(JSON.parse(answer.body).value.outcome, 'Success');
      assert.ok(fs.readFileSync(file, 'utf8').includes('verification-event'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
