// What one verification costs in Forge's billed units (FORGE.md "Billing"): function time
// (GB-seconds at the 0.5 GB a function invocation is billed for), KVS reads and writes (count and
// value bytes) and log bytes. bench/host.mjs measures them per invocation on the local host; this
// module only counts and adds, so tests/bench/cost.test.mjs can check the arithmetic.

/** Forge bills a function invocation's duration at this much memory. */
export const FUNCTION_GB = 0.5;

const bytesOf = (value) => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value), 'utf8'));
const keyBytes = (item) => Buffer.byteLength(String(item?.key ?? ''), 'utf8');

/** A JSON body, or null. */
function parsed(text) {
  if (typeof text !== 'string' || text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * The KVS usage of one `@forge/kvs` call, from its path and the request and response bodies:
 * reads and writes count keys; bytes count the keys and the values as JSON.
 * @param {string} path e.g. '/api/v1/get'
 * @param {string} requestBody @param {string} responseBody
 * @returns {{ reads: number, readBytes: number, writes: number, writeBytes: number }}
 */
export function kvsUsage(path, requestBody, responseBody) {
  const op = String(path)
    .replace(/^\/api\/v\d+\//, '')
    .replace(/^(secret|entity)\//, '');
  const request = parsed(requestBody) ?? {};
  // A batch request is a list of items.
  const items = Array.isArray(request) ? request : [];
  const response = parsed(responseBody) ?? {};
  const usage = { reads: 0, readBytes: 0, writes: 0, writeBytes: 0 };
  const read = (items) => {
    for (const item of items) usage.readBytes += keyBytes(item) + bytesOf(item?.value);
  };
  const written = (items, withValue) => {
    usage.writes += items.length;
    for (const item of items) usage.writeBytes += keyBytes(item) + (withValue ? bytesOf(item?.value) : 0);
  };
  switch (op) {
    case 'get':
      usage.reads = 1;
      if (response.value !== undefined) read([response]);
      break;
    case 'batch/get':
      usage.reads = items.length;
      read(response.successfulKeys ?? []);
      break;
    case 'query': {
      const found = response.data ?? [];
      usage.reads = Math.max(1, found.length);
      read(found);
      break;
    }
    case 'set':
      written([request], true);
      break;
    case 'batch/set':
      written(items, true);
      break;
    case 'delete':
      written([request], false);
      break;
    case 'batch/delete':
      written(items, false);
      break;
    case 'transaction':
      written(request.set ?? [], true);
      written(request.delete ?? [], false);
      break;
    default:
      throw new Error(`kvsUsage: no accounting for ${path}`);
  }
  return usage;
}

/** An empty tally of one invocation's billed units. */
export const emptyUsage = () => ({ wallMs: 0, kvsReads: 0, kvsReadBytes: 0, kvsWrites: 0, kvsWriteBytes: 0, logBytes: 0 });

/** Adds one KVS call's usage to a tally. */
export function addKvs(tally, usage) {
  tally.kvsReads += usage.reads;
  tally.kvsReadBytes += usage.readBytes;
  tally.kvsWrites += usage.writes;
  tally.kvsWriteBytes += usage.writeBytes;
}

/**
 * The billed units of a list of invocations (one verification's life), and the same for 1,000.
 * @param {{ name: string, wallMs: number, kvsReads: number, kvsReadBytes: number, kvsWrites: number, kvsWriteBytes: number, logBytes: number }[]} invocations
 */
export function lifeCost(invocations) {
  const total = emptyUsage();
  for (const i of invocations) {
    for (const field of Object.keys(total)) total[field] += i[field];
  }
  const gbSeconds = (total.wallMs / 1000) * FUNCTION_GB;
  const perVerification = { invocations: invocations.length, ...total, gbSeconds };
  const perThousand = Object.fromEntries(Object.entries(perVerification).map(([k, v]) => [k, v * 1000]));
  return { perVerification, perThousand };
}
