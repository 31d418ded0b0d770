// The cost benchmark's accounting (bench/cost.mjs): what one @forge/kvs call reads and writes, and
// how a verification's invocations add up to Forge's billed units.
import assert from 'node:assert/strict';
import test from 'node:test';
import { FUNCTION_GB, kvsUsage, lifeCost } from '../../bench/cost.mjs';

const json = (value) => JSON.stringify(value);
const size = (value) => Buffer.byteLength(json(value));

test('a get reads one key and its value; a miss is a read of nothing', () => {
  const value = { status: 'passed', name: 'Casey Ünicode' };
  assert.deepEqual(kvsUsage('/api/v1/get', json({ key: 'v:abc' }), json({ key: 'v:abc', value })), {
    reads: 1,
    readBytes: 'v:abc'.length + size(value),
    writes: 0,
    writeBytes: 0,
  });
  assert.deepEqual(kvsUsage('/api/v1/secret/get', json({ key: 'secrets' }), ''), { reads: 1, readBytes: 0, writes: 0, writeBytes: 0 });
});

test('a batch get reads every key asked for, bytes of those found', () => {
  const found = [{ key: 'a', value: 1 }];
  const usage = kvsUsage('/api/v1/batch/get', json([{ key: 'a' }, { key: 'b' }]), json({ successfulKeys: found, failedKeys: [{ key: 'b' }] }));
  assert.equal(usage.reads, 2);
  assert.equal(usage.readBytes, 1 + size(1));
});

test('a query reads each key it returns, at least one', () => {
  assert.equal(kvsUsage('/api/v1/query', json({ where: [] }), json({ data: [] })).reads, 1);
  const data = [
    { key: 'delivery:1', value: { verdict: 'accepted' } },
    { key: 'delivery:2', value: { verdict: 'rejected' } },
  ];
  const usage = kvsUsage('/api/v1/query', json({ where: [] }), json({ data }));
  assert.equal(usage.reads, 2);
  assert.equal(usage.readBytes, 20 + size(data[0].value) + size(data[1].value));
});

test('writes count each key set or deleted, a transaction each of its operations', () => {
  assert.deepEqual(kvsUsage('/api/v1/set', json({ key: 'k', value: 'vv' }), '{}'), { reads: 0, readBytes: 0, writes: 1, writeBytes: 1 + size('vv') });
  assert.equal(kvsUsage('/api/v1/delete', json({ key: 'lock:s' }), '').writeBytes, 'lock:s'.length);
  const usage = kvsUsage(
    '/api/v1/transaction',
    json({
      set: [
        { key: 'a', value: [1] },
        { key: 'b', value: {} },
      ],
      delete: [{ key: 'c' }],
    }),
    '',
  );
  assert.equal(usage.writes, 3);
  assert.equal(usage.writeBytes, 3 + size([1]) + size({}));
  assert.equal(
    kvsUsage(
      '/api/v1/batch/set',
      json([
        { key: 'x', value: 2 },
        { key: 'y', value: 3 },
      ]),
      '{}',
    ).writes,
    2,
  );
});

test('an unknown KVS call is refused rather than counted as nothing', () => {
  assert.throws(() => kvsUsage('/api/v1/teleport', '{}', '{}'), /no accounting/);
});

test("a verification's life adds its invocations; GB-seconds at the billed memory; per 1,000", () => {
  const one = { wallMs: 200, kvsReads: 3, kvsReadBytes: 1000, kvsWrites: 2, kvsWriteBytes: 500, logBytes: 150 };
  const { perVerification, perThousand } = lifeCost([
    { name: 'panel.send', ...one },
    { name: 'webhook', ...one, wallMs: 100 },
  ]);
  assert.equal(perVerification.invocations, 2);
  assert.equal(perVerification.wallMs, 300);
  assert.equal(perVerification.gbSeconds, 0.3 * FUNCTION_GB);
  assert.equal(perVerification.kvsWrites, 4);
  assert.equal(perThousand.kvsReadBytes, 2_000_000);
  assert.equal(perThousand.gbSeconds, 300 * FUNCTION_GB);
});
