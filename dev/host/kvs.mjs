// The local Forge Key-Value Store: the REST protocol that @forge/kvs speaks through
// `__forge_fetch__({ type: 'kvs' }, path, init)` (see node_modules/@forge/kvs/out/storage-api.js),
// with the semantics of the hosted service as far as the package and Atlassian's documentation
// reveal them: key rules, value limits, TTL, secrets, key-prefix queries with cursors, batches,
// all-or-nothing transactions, `keyPolicy` and `returnValue`.
//
// Error bodies are `{ code, message }` with the codes of "Error handling for the Key-Value Store"
// (KEY_TOO_SHORT, KEY_TOO_LONG, INVALID_KEY, MAX_SIZE, MAX_DEPTH, INVALID_FILTER_CONDITION, ...)
// plus KEY_NOT_FOUND, which @forge/kvs itself turns into `undefined` for get and delete.
//
// Persistence: one JSON file written atomically (temp file, fsync, rename) after every write, so
// stopping the host at any moment loses nothing; `memory: true` keeps everything in memory.
import fs from 'node:fs';
import path from 'node:path';
import { createEntityStore, entityDeclarations } from './kvs-entities.mjs';

export const KEY_PATTERN = /^(?!\s+$)[a-zA-Z0-9:._\s-#]+$/;
export const MAX_KEY_LENGTH = 500;
export const MAX_VALUE_BYTES = 240 * 1024;
export const MAX_VALUE_DEPTH = 32;
export const QUERY_DEFAULT_LIMIT = 10;
export const QUERY_PAGE_MAX = 20;
export const QUERY_LIMIT_MAX = 100;
export const BATCH_MAX_ITEMS = 25;
export const TRANSACTION_MAX_OPERATIONS = 25;
export const TRANSACTION_MAX_BYTES = 4 * 1024 * 1024;

const TTL_UNIT_MS = { SECONDS: 1000, MINUTES: 60_000, HOURS: 3_600_000, DAYS: 86_400_000 };
const METADATA_FIELDS = new Set(['CREATED_AT', 'UPDATED_AT', 'EXPIRE_TIME']);
const FILE_VERSION = 1;

/** An expected failure of one operation: becomes a `{ code, message }` body with `status`. */
class KvsFailure extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
const badRequest = (code, message) => new KvsFailure(400, code, message);
const notFound = () => new KvsFailure(404, 'KEY_NOT_FOUND', 'Provided key does not exist');

function validateKey(key) {
  if (typeof key !== 'string') throw badRequest('BAD_REQUEST', 'The key must be a string');
  if (key.length < 1) throw badRequest('KEY_TOO_SHORT', 'The provided key needs to be at least one character long');
  if (key.length > MAX_KEY_LENGTH) {
    throw badRequest('KEY_TOO_LONG', `The provided key has exceeded the maximum ${MAX_KEY_LENGTH} characters`);
  }
  if (!KEY_PATTERN.test(key)) {
    throw badRequest('INVALID_KEY', `The provided key does not match the regex: ${KEY_PATTERN}`);
  }
}

function depthOf(value) {
  if (value === null || typeof value !== 'object') return 0;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child));
  return deepest + 1;
}

/** Validates a value and returns its stored (JSON round-tripped) copy. */
function validateValue(value) {
  if (value === undefined) throw badRequest('BAD_REQUEST', 'A value is required');
  const text = JSON.stringify(value);
  if (text === undefined) throw badRequest('BAD_REQUEST', 'The value is not JSON');
  if (Buffer.byteLength(text, 'utf8') > MAX_VALUE_BYTES) {
    throw badRequest('MAX_SIZE', `The provided value has exceeded the maximum size limit (${MAX_VALUE_BYTES} bytes)`);
  }
  // Depth counts nesting levels, as the service's "maximum object depth (32)".
  if (depthOf(value) > MAX_VALUE_DEPTH) {
    throw badRequest('MAX_DEPTH', `The provided value has exceeded the maximum object depth (${MAX_VALUE_DEPTH}) limit`);
  }
  return JSON.parse(text);
}

function ttlToMs(ttl) {
  if (ttl === undefined || ttl === null) return null;
  const unitMs = TTL_UNIT_MS[ttl?.unit];
  if (!unitMs || !Number.isInteger(ttl.value) || ttl.value <= 0) {
    throw badRequest('BAD_REQUEST', 'ttl must be { value: positive integer, unit: SECONDS|MINUTES|HOURS|DAYS }');
  }
  return ttl.value * unitMs;
}

function validateMetadataFields(fields, name = 'metadataFields') {
  if (fields === undefined) return [];
  if (!Array.isArray(fields) || fields.some((f) => !METADATA_FIELDS.has(f))) {
    throw badRequest('BAD_REQUEST', `${name} must be a list of CREATED_AT, UPDATED_AT, EXPIRE_TIME`);
  }
  return fields;
}

function requireObject(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('BAD_REQUEST', 'Provided request body is invalid');
  }
  return body;
}

function rejectEntity(item) {
  if (item && (item.entityName !== undefined || item.conditions !== undefined)) {
    throw badRequest('BAD_REQUEST', 'Conditions apply to custom entities only (pass entityName)');
  }
}

// Records: { value, createdAt (ms), updatedAt (ms), expiresAt (ms) | null }.
// On the wire createdAt/updatedAt are epoch seconds and expireTime an ISO string, as in the
// fixtures of @forge/kvs's own tests.
function describe(key, record, fields, { always = false } = {}) {
  const out = { key, value: record.value };
  const want = (f) => always || fields.includes(f);
  if (want('CREATED_AT')) out.createdAt = Math.floor(record.createdAt / 1000);
  if (want('UPDATED_AT')) out.updatedAt = Math.floor(record.updatedAt / 1000);
  if (want('EXPIRE_TIME') && record.expiresAt !== null) out.expireTime = new Date(record.expiresAt).toISOString();
  return out;
}

function encodeCursor(key, prefix) {
  return Buffer.from(JSON.stringify({ after: key, prefix }), 'utf8').toString('base64url');
}

function decodeCursor(cursor, prefix) {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof parsed.after === 'string' && parsed.prefix === prefix) return parsed.after;
  } catch {
    // fall through
  }
  throw badRequest('BAD_REQUEST', 'The cursor is invalid or belongs to another query');
}

/**
 * @param {{ file?: string, memory?: boolean, now?: () => number, entities?: object[] }} [options]
 *   file: where to persist (created if missing); memory: true for a store that is never written.
 *   now: the clock used for TTL and metadata (tests pass a controllable one).
 *   entities: the manifest's `app.storage.entities` (custom entities, kvs-entities.mjs).
 */
export function createKvsStore({ file, memory = !file, now = Date.now, entities = [] } = {}) {
  /** @type {Map<string, {value: any, createdAt: number, updatedAt: number, expiresAt: number|null}>} */
  const data = new Map();
  const secrets = new Map();
  let writes = 0;
  const entityStore = createEntityStore({
    declarations: entityDeclarations(entities),
    kit: {
      badRequest,
      notFound,
      failure: (status, code, message) => new KvsFailure(status, code, message),
      validateKey,
      validateValue,
      validateMetadataFields,
      describe,
      ttlToMs,
      live: (map, key) => live(map, key),
      write: (map, key, value, ttlMs) => write(map, key, value, ttlMs),
      persist: () => persist(),
    },
  });

  if (!memory) {
    if (!file) throw new Error('createKvsStore: `file` is required unless `memory` is true');
    load();
  }

  function load() {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      if (error.code === 'ENOENT') return;
      throw error;
    }
    const parsed = JSON.parse(text);
    if (parsed.version !== FILE_VERSION) throw new Error(`${file}: unsupported KVS file version ${parsed.version}`);
    for (const [key, record] of parsed.data) data.set(key, record);
    for (const [key, record] of parsed.secrets) secrets.set(key, record);
    entityStore.load(parsed.entities);
  }

  function persist() {
    writes += 1;
    if (memory) return;
    const t = now();
    const live = (map) => [...map].filter(([, r]) => r.expiresAt === null || r.expiresAt > t);
    const text = JSON.stringify({
      version: FILE_VERSION,
      data: live(data),
      secrets: live(secrets),
      entities: entityStore.dump((r) => r.expiresAt === null || r.expiresAt > t),
    });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    const fd = fs.openSync(temp, 'w', 0o600);
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  }

  /** The live record of a key, dropping it when its TTL has passed. */
  function live(map, key) {
    const record = map.get(key);
    if (!record) return undefined;
    if (record.expiresAt !== null && record.expiresAt <= now()) {
      map.delete(key);
      return undefined;
    }
    return record;
  }

  function write(map, key, value, ttlMs) {
    const t = now();
    const previous = live(map, key);
    const record = {
      value,
      createdAt: previous ? previous.createdAt : t,
      updatedAt: t,
      expiresAt: ttlMs === null ? null : t + ttlMs,
    };
    map.set(key, record);
    return { previous, record };
  }

  // --- operations (each validates fully before it changes anything) ---

  function get(map, body) {
    requireObject(body);
    validateKey(body.key);
    const fields = validateMetadataFields(body.options?.metadataFields);
    const record = live(map, body.key);
    if (!record) throw notFound();
    return { status: 200, json: describe(body.key, record, fields, { always: fields.length === 0 }) };
  }

  function set(map, body) {
    requireObject(body);
    validateKey(body.key);
    const value = validateValue(body.value);
    const options = body.options ?? {};
    const ttlMs = ttlToMs(options.ttl);
    const keyPolicy = options.keyPolicy ?? 'OVERRIDE';
    if (keyPolicy !== 'OVERRIDE' && keyPolicy !== 'FAIL_IF_EXISTS') {
      throw badRequest('BAD_REQUEST', 'keyPolicy must be OVERRIDE or FAIL_IF_EXISTS');
    }
    const returnValue = options.returnValue;
    if (returnValue !== undefined && (keyPolicy !== 'OVERRIDE' || !['PREVIOUS', 'LATEST'].includes(returnValue))) {
      throw badRequest('BAD_REQUEST', 'returnValue (PREVIOUS or LATEST) is only allowed with keyPolicy OVERRIDE');
    }
    const returnFields = validateMetadataFields(options.returnMetadataFields, 'returnMetadataFields');
    if (keyPolicy === 'FAIL_IF_EXISTS' && live(map, body.key)) {
      throw new KvsFailure(409, 'KEY_CONFLICT', 'The key already exists and keyPolicy is FAIL_IF_EXISTS');
    }
    const { previous, record } = write(map, body.key, value, ttlMs);
    persist();
    if (returnValue === undefined) return { status: 204 };
    const shown = returnValue === 'PREVIOUS' ? previous : record;
    if (!shown) return { status: 204 };
    return { status: 200, json: describe(body.key, shown, returnFields) };
  }

  function remove(map, body) {
    requireObject(body);
    validateKey(body.key);
    if (!live(map, body.key)) throw notFound();
    map.delete(body.key);
    persist();
    return { status: 204 };
  }

  function query(body) {
    requireObject(body);
    const where = body.where ?? [];
    if (!Array.isArray(where) || where.length > 1) {
      throw badRequest('QUERY_WHERE_INVALID', 'KVS queries should contain only a single "where" clause');
    }
    let prefix = '';
    if (where.length === 1) {
      const clause = where[0];
      if (clause?.property !== 'key') throw badRequest('QUERY_WHERE_FIELD_INVALID', 'The specified field is not supported for filters');
      if (clause.condition !== 'BEGINS_WITH') throw badRequest('INVALID_FILTER_CONDITION', 'The specified condition is not supported for filters');
      if (!Array.isArray(clause.values) || clause.values.length !== 1 || !['string', 'number'].includes(typeof clause.values[0])) {
        throw badRequest('INVALID_FILTER_VALUES', 'The specified number of values are not supported by the given condition');
      }
      prefix = String(clause.values[0]);
    }
    let limit = QUERY_DEFAULT_LIMIT;
    if (body.limit !== undefined && body.limit !== null) {
      if (!Number.isInteger(body.limit) || body.limit < 1) throw badRequest('BAD_REQUEST', 'limit must be a positive integer');
      if (body.limit > QUERY_LIMIT_MAX) throw badRequest('LIST_QUERY_LIMIT_EXCEEDED', `Limit for list query should be below ${QUERY_LIMIT_MAX}`);
      limit = body.limit;
    }
    // NOTE: a page holds at most 20 results whatever the limit: Forge documents 20 as the page
    // maximum, and code that assumes larger pages must follow cursors anyway.
    const pageSize = Math.min(limit, QUERY_PAGE_MAX);
    const after = body.after === undefined || body.after === null ? null : decodeCursor(body.after, prefix);
    const fields = validateMetadataFields(body.options?.metadataFields);
    const keys = [...data.keys()].filter((k) => k.startsWith(prefix) && (after === null || k > after) && live(data, k)).sort();
    const page = keys.slice(0, pageSize);
    const out = { data: page.map((k) => describe(k, data.get(k), fields)) };
    if (keys.length > pageSize) out.cursor = encodeCursor(page[page.length - 1], prefix);
    return { status: 200, json: out };
  }

  function batchItems(body) {
    if (!Array.isArray(body)) throw badRequest('BAD_REQUEST', 'A batch request is a list of items');
    if (body.length === 0) throw badRequest('BAD_REQUEST', 'A batch request needs at least one item');
    if (body.length > BATCH_MAX_ITEMS) throw badRequest('BAD_REQUEST', `A batch holds at most ${BATCH_MAX_ITEMS} items`);
    return body;
  }

  function batch(body, kind, perItem) {
    const successfulKeys = [];
    const failedKeys = [];
    let changed = false;
    for (const item of batchItems(body)) {
      try {
        requireObject(item);
        // Items that name an entity go to the custom entity store; the rest are plain keys.
        const result = item.entityName !== undefined ? entityStore.batchItem(kind, item) : (rejectEntity(item), validateKey(item.key), perItem(item));
        changed ||= result.changed;
        successfulKeys.push(result.success);
      } catch (error) {
        if (!(error instanceof KvsFailure)) throw error;
        failedKeys.push({
          key: item?.key,
          ...(item?.entityName !== undefined ? { entityName: item.entityName } : {}),
          error: { code: error.code, message: error.message },
        });
      }
    }
    if (changed) persist();
    return { status: 200, json: { successfulKeys, failedKeys } };
  }

  function batchSet(body) {
    return batch(body, 'set', (item) => {
      const value = validateValue(item.value);
      const ttlMs = ttlToMs(item.options?.ttl);
      write(data, item.key, value, ttlMs);
      return { changed: true, success: { key: item.key } };
    });
  }

  function batchGet(body) {
    return batch(body, 'get', (item) => {
      const fields = validateMetadataFields(item.options?.metadataFields);
      const record = live(data, item.key);
      if (!record) throw new KvsFailure(404, 'KEY_NOT_FOUND', 'Key does not exist');
      return { changed: false, success: describe(item.key, record, fields) };
    });
  }

  function batchDelete(body) {
    return batch(body, 'delete', (item) => {
      if (!live(data, item.key)) throw new KvsFailure(404, 'KEY_NOT_FOUND', 'Key does not exist');
      data.delete(item.key);
      return { changed: true, success: { key: item.key } };
    });
  }

  function transaction(body, rawLength) {
    requireObject(body);
    if (rawLength > TRANSACTION_MAX_BYTES) throw badRequest('BAD_REQUEST', 'A transaction payload is limited to 4MB');
    const sets = body.set ?? [];
    const deletes = body.delete ?? [];
    const checks = body.check ?? [];
    if (![sets, deletes, checks].every(Array.isArray)) throw badRequest('BAD_REQUEST', 'set, delete and check must be lists');
    const total = sets.length + deletes.length + checks.length;
    if (total === 0) throw badRequest('BAD_REQUEST', 'A transaction needs at least one operation');
    if (total > TRANSACTION_MAX_OPERATIONS) {
      throw badRequest('BAD_REQUEST', `A transaction can contain at most ${TRANSACTION_MAX_OPERATIONS} operations`);
    }
    // Validate everything first: a transaction is applied completely or not at all.
    const seen = new Set();
    const planned = [];
    for (const op of [...sets.map((s) => ['set', s]), ...deletes.map((d) => ['delete', d]), ...checks.map((c) => ['check', c])]) {
      const [kind, item] = op;
      requireObject(item);
      if (item.entityName !== undefined || kind === 'check') {
        const entityOp = entityStore.planTransaction(kind, item);
        if (seen.has(entityOp.slot)) throw badRequest('BAD_REQUEST', `Each key can only be used once in a transaction (${item.key})`);
        seen.add(entityOp.slot);
        planned.push({ kind: 'entity', apply: entityOp.apply });
        continue;
      }
      rejectEntity(item);
      validateKey(item.key);
      if (seen.has(item.key)) throw badRequest('BAD_REQUEST', `Each key can only be used once in a transaction (${item.key})`);
      seen.add(item.key);
      if (kind === 'set') planned.push({ kind, key: item.key, value: validateValue(item.value), ttlMs: ttlToMs(item.options?.ttl) });
      else planned.push({ kind, key: item.key });
    }
    for (const op of planned) {
      if (op.kind === 'entity') op.apply();
      else if (op.kind === 'set') write(data, op.key, op.value, op.ttlMs);
      else data.delete(op.key);
    }
    persist();
    return { status: 204 };
  }

  const routes = {
    '/api/v1/get': (b) => get(data, b),
    '/api/v1/set': (b) => set(data, b),
    '/api/v1/delete': (b) => remove(data, b),
    '/api/v1/query': (b) => query(b),
    '/api/v1/secret/get': (b) => get(secrets, b),
    '/api/v1/secret/set': (b) => set(secrets, b),
    '/api/v1/secret/delete': (b) => remove(secrets, b),
    '/api/v1/batch/set': (b) => batchSet(b),
    '/api/v1/batch/get': (b) => batchGet(b),
    '/api/v1/batch/delete': (b) => batchDelete(b),
    '/api/v1/transaction': (b, raw) => transaction(b, raw),
    ...entityStore.routes,
  };

  /**
   * Serves one REST request of the @forge/kvs protocol.
   * @param {string} requestPath e.g. '/api/v1/get'
   * @param {string | undefined} bodyText the JSON body
   * @returns {{ status: number, headers: Record<string,string>, body: string }}
   */
  function handle(requestPath, bodyText) {
    const pathname = String(requestPath).split('?')[0];
    const json = (status, value) => ({
      status,
      headers: value === undefined ? {} : { 'content-type': 'application/json' },
      body: value === undefined ? '' : JSON.stringify(value),
    });
    const route = routes[pathname];
    if (!route) {
      return json(404, { code: 'NOT_FOUND', message: `Unknown Forge KVS operation ${pathname}` });
    }
    let body;
    try {
      body = JSON.parse(bodyText ?? '');
    } catch {
      return json(400, { code: 'BAD_REQUEST', message: 'Provided request body is invalid' });
    }
    try {
      const result = route(body, Buffer.byteLength(bodyText ?? '', 'utf8'));
      return json(result.status, result.json);
    } catch (error) {
      if (error instanceof KvsFailure) return json(error.status, { code: error.code, message: error.message });
      throw error;
    }
  }

  // --- host-side helpers (tests and the shell; not part of the Forge protocol) ---
  const peek = (map) => (key) => live(map, key)?.value;
  return {
    handle,
    get: peek(data),
    getSecret: peek(secrets),
    /** Metadata of a live key: { createdAt, updatedAt, expiresAt } in ms, or undefined. */
    inspect(key, { secret = false } = {}) {
      const record = live(secret ? secrets : data, key);
      return record && { createdAt: record.createdAt, updatedAt: record.updatedAt, expiresAt: record.expiresAt };
    },
    keys(prefix = '') {
      return [...data.keys()].filter((k) => k.startsWith(prefix) && live(data, k)).sort();
    },
    secretKeys() {
      return [...secrets.keys()].filter((k) => live(secrets, k)).sort();
    },
    set(key, value, { ttlMs = null, secret = false } = {}) {
      validateKey(key);
      write(secret ? secrets : data, key, validateValue(value), ttlMs);
      persist();
    },
    /** The live value of a custom entity, or undefined. */
    getEntity: (entityName, key) => entityStore.peek(entityName, key),
    /** The live keys of a custom entity. */
    entityKeys: (entityName) => entityStore.keys(entityName),
    /** Sets many values of a custom entity at once (a test's history), persisted once. */
    seedEntity(entityName, entries) {
      for (const [key, value] of entries) entityStore.seed(entityName, key, value);
      persist();
    },
    clear() {
      data.clear();
      secrets.clear();
      entityStore.clear();
      persist();
    },
    /** How many writes reached the store (each is persisted before the request answers). */
    get writes() {
      return writes;
    },
    file: memory ? null : file,
  };
}
