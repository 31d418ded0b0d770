// Forge custom entities in the local KVS: the entities `app.storage.entities` declares, with
// typed attributes and indexes, served at `/api/v1/entity/{get,set,delete,query}` as
// @forge/kvs's `kvs.entity(name)` calls them (node_modules/@forge/kvs/out/entity-query.js).
// Strict where the service is: undeclared entities, attributes and indexes are refused, values
// must match their attribute types, a partitioned index needs its partition values.

const ATTRIBUTE_TYPES = new Set(['string', 'boolean', 'float', 'integer', 'any']);
const RANGE_CONDITIONS = new Set(['BEGINS_WITH', 'BETWEEN', 'EQUAL_TO', 'GREATER_THAN', 'GREATER_THAN_EQUAL_TO', 'LESS_THAN', 'LESS_THAN_EQUAL_TO']);
const FILTER_CONDITIONS = new Set([...RANGE_CONDITIONS, 'CONTAINS', 'NOT_CONTAINS', 'EQUAL_TO', 'NOT_EQUAL_TO', 'EXISTS', 'NOT_EXISTS']);
export const ENTITY_QUERY_DEFAULT_LIMIT = 10;
export const ENTITY_QUERY_LIMIT_MAX = 100;

/**
 * Reads the manifest's `app.storage.entities` into `Map<name, { attributes, indexes }>`; throws
 * on a declaration the platform would refuse at deploy time.
 */
export function entityDeclarations(list = []) {
  const out = new Map();
  for (const entity of list ?? []) {
    if (out.has(entity.name)) throw new Error(`entity ${entity.name} is declared twice`);
    const attributes = new Map();
    for (const [name, spec] of Object.entries(entity.attributes ?? {})) {
      if (!ATTRIBUTE_TYPES.has(spec?.type)) throw new Error(`entity ${entity.name}: attribute ${name} has an unknown type ${spec?.type}`);
      attributes.set(name, spec.type);
    }
    const indexes = new Map();
    for (const index of entity.indexes ?? []) {
      const shape = typeof index === 'string' ? { name: index, range: [index], partition: [] } : { partition: [], ...index };
      for (const attr of [...shape.range, ...shape.partition]) {
        if (!attributes.has(attr)) throw new Error(`entity ${entity.name}: index ${shape.name} names undeclared attribute ${attr}`);
      }
      if (shape.range.length !== 1) throw new Error(`entity ${entity.name}: index ${shape.name} needs exactly one range attribute`);
      indexes.set(shape.name, { name: shape.name, range: shape.range[0], partition: shape.partition });
    }
    out.set(entity.name, { name: entity.name, attributes, indexes });
  }
  return out;
}

// Forge documents integers as 32-bit signed and floats as 0 or within a magnitude range (a
// millisecond timestamp is not an `integer`).
const INT32 = [-2_147_483_648, 2_147_483_647];
const FLOAT_MAGNITUDE = [1e-130, 1e126];
const TYPE_CHECKS = {
  string: (v) => typeof v === 'string',
  boolean: (v) => typeof v === 'boolean',
  integer: (v) => Number.isInteger(v) && v >= INT32[0] && v <= INT32[1],
  float: (v) => typeof v === 'number' && (v === 0 || (Math.abs(v) >= FLOAT_MAGNITUDE[0] && Math.abs(v) < FLOAT_MAGNITUDE[1])),
  any: () => true,
};
const TYPE_NAMES = { integer: 'integer (32-bit signed)', float: 'float (0 or 1e-130 <= |x| < 1e126)' };

/**
 * @param {object} options
 * @param {Map} options.declarations from entityDeclarations()
 * @param {object} options.kit the KVS store's shared pieces: badRequest, notFound, validateKey,
 *   validateValue, validateMetadataFields, describe, live, write, persist, ttlToMs
 */
/** A table of one entity that counts its changes (so a sorted index of it knows when it is stale). */
class Table extends Map {
  version = 0;
  set(key, value) {
    this.version += 1;
    return super.set(key, value);
  }
  delete(key) {
    this.version += 1;
    return super.delete(key);
  }
  clear() {
    this.version += 1;
    super.clear();
  }
}

const order = (x, y) => (x < y ? -1 : x > y ? 1 : 0);
const comparePositions = (a, b) => order(a[0], b[0]) || order(a[1], b[1]);

/** Where to go on after the cursor's position: the first entry past it in the walking direction. */
function firstAfter(rows, after, descending) {
  // The first ascending index whose position is greater than `after` (binary search).
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (comparePositions(rows[mid].position, after) <= 0) lo = mid + 1;
    else hi = mid;
  }
  if (!descending) return lo;
  // Descending: the last index whose position is less than `after`.
  let at = lo - 1;
  while (at >= 0 && comparePositions(rows[at].position, after) >= 0) at -= 1;
  return at;
}

export function createEntityStore({ declarations, kit }) {
  /** @type {Map<string, Table>} entity name -> key -> record */
  const tables = new Map([...declarations.keys()].map((name) => [name, new Table()]));
  /** Each index's entries in ascending order, per entity, index and partition, while its table is unchanged. */
  const sortedIndexes = new Map();

  function declared(name) {
    if (typeof name !== 'string') throw kit.badRequest('BAD_REQUEST', 'entityName must be a string');
    const entity = declarations.get(name);
    if (!entity) throw kit.badRequest('BAD_REQUEST', `The entity ${name} is not declared in the manifest (app.storage.entities)`);
    return entity;
  }

  function checkAttribute(entity, attribute, value, what = 'value') {
    const type = entity.attributes.get(attribute);
    if (!type) throw kit.badRequest('BAD_REQUEST', `The attribute ${attribute} is not declared for the entity ${entity.name}`);
    if (!TYPE_CHECKS[type](value)) {
      throw kit.badRequest('BAD_REQUEST', `The ${what} of ${attribute} must be of type ${TYPE_NAMES[type] ?? type} (entity ${entity.name})`);
    }
  }

  function checkValue(entity, value) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw kit.badRequest('BAD_REQUEST', `An entity value must be an object of the attributes of ${entity.name}`);
    }
    for (const [attribute, v] of Object.entries(value)) checkAttribute(entity, attribute, v);
  }

  function get(body) {
    const entity = declared(body?.entityName);
    kit.validateKey(body.key);
    const fields = kit.validateMetadataFields(body.options?.metadataFields);
    const record = kit.live(tables.get(entity.name), body.key);
    if (!record) throw kit.notFound();
    return { status: 200, json: kit.describe(body.key, record, fields, { always: fields.length === 0 }) };
  }

  function set(body) {
    const entity = declared(body?.entityName);
    kit.validateKey(body.key);
    const value = kit.validateValue(body.value);
    checkValue(entity, value);
    const options = body.options ?? {};
    const ttlMs = kit.ttlToMs(options.ttl);
    // The same options as a plain set (@forge/kvs's KvsEntity.set): a swap with returnValue.
    const keyPolicy = options.keyPolicy ?? 'OVERRIDE';
    if (keyPolicy !== 'OVERRIDE' && keyPolicy !== 'FAIL_IF_EXISTS') throw kit.badRequest('BAD_REQUEST', 'keyPolicy must be OVERRIDE or FAIL_IF_EXISTS');
    const returnValue = options.returnValue;
    if (returnValue !== undefined && (keyPolicy !== 'OVERRIDE' || !['PREVIOUS', 'LATEST'].includes(returnValue))) {
      throw kit.badRequest('BAD_REQUEST', 'returnValue (PREVIOUS or LATEST) is only allowed with keyPolicy OVERRIDE');
    }
    const returnFields = kit.validateMetadataFields(options.returnMetadataFields, 'returnMetadataFields');
    const table = tables.get(entity.name);
    if (keyPolicy === 'FAIL_IF_EXISTS' && kit.live(table, body.key)) {
      throw kit.failure(409, 'KEY_CONFLICT', 'The key already exists and keyPolicy is FAIL_IF_EXISTS');
    }
    const { previous, record } = kit.write(table, body.key, value, ttlMs);
    kit.persist();
    const shown = returnValue === 'PREVIOUS' ? previous : returnValue === 'LATEST' ? record : undefined;
    if (!shown) return { status: 204 };
    return { status: 200, json: kit.describe(body.key, shown, returnFields) };
  }

  function remove(body) {
    const entity = declared(body?.entityName);
    kit.validateKey(body.key);
    const table = tables.get(entity.name);
    if (!kit.live(table, body.key)) throw kit.notFound();
    table.delete(body.key);
    kit.persist();
    return { status: 204 };
  }

  function matches(condition, values, actual) {
    const [a, b] = values;
    switch (condition) {
      case 'EXISTS':
        return actual !== undefined;
      case 'NOT_EXISTS':
        return actual === undefined;
      case 'EQUAL_TO':
        return actual === a;
      case 'NOT_EQUAL_TO':
        return actual !== undefined && actual !== a;
      case 'BEGINS_WITH':
        return typeof actual === 'string' && actual.startsWith(String(a));
      case 'CONTAINS':
        return (typeof actual === 'string' || Array.isArray(actual)) && actual.includes(a);
      case 'NOT_CONTAINS':
        return (typeof actual === 'string' || Array.isArray(actual)) && !actual.includes(a);
      case 'BETWEEN':
        return actual !== undefined && actual >= a && actual <= b;
      case 'GREATER_THAN':
        return actual !== undefined && actual > a;
      case 'GREATER_THAN_EQUAL_TO':
        return actual !== undefined && actual >= a;
      case 'LESS_THAN':
        return actual !== undefined && actual < a;
      default:
        return actual !== undefined && actual <= a;
    }
  }

  function checkCondition(entity, attribute, clause, allowed, what) {
    if (!clause || !allowed.has(clause.condition))
      throw kit.badRequest('INVALID_FILTER_CONDITION', `The ${what} condition ${clause?.condition} is not supported`);
    const arity = clause.condition === 'BETWEEN' ? 2 : 1;
    if (!Array.isArray(clause.values) || clause.values.length !== arity) {
      throw kit.badRequest('INVALID_FILTER_VALUES', `The ${what} condition ${clause.condition} takes ${arity} value(s)`);
    }
    if (clause.condition === 'EXISTS' || clause.condition === 'NOT_EXISTS') {
      if (!entity.attributes.has(attribute)) throw kit.badRequest('BAD_REQUEST', `The attribute ${attribute} is not declared for the entity ${entity.name}`);
      return;
    }
    for (const v of clause.values) checkAttribute(entity, attribute, v, `${what} value`);
  }

  function query(body) {
    const entity = declared(body?.entityName);
    const index = entity.indexes.get(body.indexName);
    if (!index) throw kit.badRequest('BAD_REQUEST', `The index ${body.indexName} is not declared for the entity ${entity.name}`);
    const partition = body.partition ?? [];
    if (!Array.isArray(partition) || partition.length !== index.partition.length) {
      throw kit.badRequest(
        'BAD_REQUEST',
        index.partition.length ? `The index ${index.name} needs a partition of ${index.partition.join(', ')}` : `The index ${index.name} has no partition`,
      );
    }
    index.partition.forEach((attr, i) => checkAttribute(entity, attr, partition[i], 'partition value'));
    if (body.range !== undefined) checkCondition(entity, index.range, body.range, RANGE_CONDITIONS, 'range');
    const filterOperator = body.filters ? Object.keys(body.filters) : [];
    if (filterOperator.length > 1 || (filterOperator.length === 1 && !['and', 'or'].includes(filterOperator[0]))) {
      throw kit.badRequest('BAD_REQUEST', 'filters must be { and: [...] } or { or: [...] }');
    }
    const filters = filterOperator.length ? body.filters[filterOperator[0]] : [];
    for (const f of filters) checkCondition(entity, f?.property, f, FILTER_CONDITIONS, 'filter');
    const sort = body.sort ?? 'ASC';
    if (sort !== 'ASC' && sort !== 'DESC') throw kit.badRequest('BAD_REQUEST', 'sort must be ASC or DESC');
    let limit = ENTITY_QUERY_DEFAULT_LIMIT;
    if (body.limit !== undefined && body.limit !== null) {
      if (!Number.isInteger(body.limit) || body.limit < 1) throw kit.badRequest('BAD_REQUEST', 'limit must be a positive integer');
      if (body.limit > ENTITY_QUERY_LIMIT_MAX)
        throw kit.badRequest('LIST_QUERY_LIMIT_EXCEEDED', `Limit for list query should be below ${ENTITY_QUERY_LIMIT_MAX}`);
      limit = body.limit;
    }
    const fields = kit.validateMetadataFields(body.metadataFields ?? body.options?.metadataFields);
    const shape = JSON.stringify([entity.name, index.name, partition, body.range ?? null, body.filters ?? null, sort]);
    const after = body.cursor === undefined || body.cursor === null ? null : decodeCursor(body.cursor, shape, kit);

    const table = tables.get(entity.name);
    const wanted = (record) => {
      if (body.range !== undefined && !matches(body.range.condition, body.range.values, record.value[index.range])) return false;
      if (!filters.length) return true;
      const results = filters.map((f) => matches(f.condition, f.values, record.value[f.property]));
      return filterOperator[0] === 'and' ? results.every(Boolean) : results.some(Boolean);
    };
    // Walk the index from just after the cursor, in the asked order, until one more than a page
    // matches (then there is a next page).
    const rows = indexRows(entity, index, partition);
    const descending = sort === 'DESC';
    let at = after === null ? (descending ? rows.length - 1 : 0) : firstAfter(rows, after, descending);
    const page = [];
    let more = false;
    for (; at >= 0 && at < rows.length; at += descending ? -1 : 1) {
      const record = kit.live(table, rows[at].key);
      if (!record || !wanted(record)) continue;
      if (page.length === limit) {
        more = true;
        break;
      }
      page.push({ ...rows[at], record });
    }
    const out = { data: page.map(({ key, record }) => kit.describe(key, record, fields)) };
    if (more) out.cursor = encodeCursor(page[page.length - 1].position, shape);
    return { status: 200, json: out };
  }

  /** The index's entries `{ key, position: [range value, key] }`, ascending (items without the range attribute are not in it: a sparse index). */
  function indexRows(entity, index, partition) {
    const table = tables.get(entity.name);
    const id = JSON.stringify([entity.name, index.name, partition]);
    const cached = sortedIndexes.get(id);
    if (cached && cached.version === table.version) return cached.rows;
    const rows = [...table.entries()]
      .filter(([, record]) => record.value[index.range] !== undefined && index.partition.every((attr, i) => record.value[attr] === partition[i]))
      .map(([key, record]) => ({ key, position: [record.value[index.range], key] }))
      .sort((x, y) => comparePositions(x.position, y.position));
    sortedIndexes.set(id, { version: table.version, rows });
    return rows;
  }

  /**
   * Plans one transaction operation on an entity (`kind`: set, delete or check): validates it and
   * its conditions against the stored item now, and returns what applies it. A condition that does
   * not hold cancels the whole transaction (409; the code is the host's own).
   */
  function planTransaction(kind, item) {
    const entity = declared(item.entityName);
    kit.validateKey(item.key);
    const table = tables.get(entity.name);
    let value;
    if (kind === 'set') {
      value = kit.validateValue(item.value);
      checkValue(entity, value);
    }
    if (kind === 'check' && !item.conditions) throw kit.badRequest('BAD_REQUEST', 'A transaction check needs conditions');
    if (item.conditions) {
      const operators = Object.keys(item.conditions);
      if (operators.length !== 1 || !['and', 'or'].includes(operators[0]) || !Array.isArray(item.conditions[operators[0]])) {
        throw kit.badRequest('BAD_REQUEST', 'conditions must be { and: [...] } or { or: [...] }');
      }
      const list = item.conditions[operators[0]];
      for (const c of list) checkCondition(entity, c?.property, c, FILTER_CONDITIONS, 'condition');
      // No value under the key reads as a value without attributes: equalTo (and every
      // comparison) fails on it, exists fails and notExists holds (DynamoDB's semantics, inferred).
      const current = kit.live(table, item.key)?.value ?? {};
      const results = list.map((c) => matches(c.condition, c.values, current[c.property]));
      const holds = operators[0] === 'and' ? results.every(Boolean) : results.some(Boolean);
      if (!holds) throw kit.failure(409, 'CONDITIONAL_CHECK_FAILED', `Transaction cancelled: the condition on ${entity.name} ${item.key} does not hold`);
    }
    const ttlMs = kind === 'set' ? kit.ttlToMs(item.options?.ttl) : null;
    return {
      slot: `${entity.name}\0${item.key}`,
      apply() {
        if (kind === 'set') kit.write(table, item.key, value, ttlMs);
        else if (kind === 'delete') table.delete(item.key);
      },
    };
  }

  /** One item of a batch operation (`kind`: set, get or delete) on an entity: its success entry. */
  function batchItem(kind, item) {
    const entity = declared(item.entityName);
    kit.validateKey(item.key);
    const table = tables.get(entity.name);
    if (kind === 'set') {
      const value = kit.validateValue(item.value);
      checkValue(entity, value);
      kit.write(table, item.key, value, kit.ttlToMs(item.options?.ttl));
      return { changed: true, success: { key: item.key, entityName: entity.name } };
    }
    const record = kit.live(table, item.key);
    if (!record) throw kit.failure(404, 'KEY_NOT_FOUND', 'Key does not exist');
    if (kind === 'get') {
      const fields = kit.validateMetadataFields(item.options?.metadataFields);
      return { changed: false, success: { ...kit.describe(item.key, record, fields), entityName: entity.name } };
    }
    table.delete(item.key);
    return { changed: true, success: { key: item.key, entityName: entity.name } };
  }

  return {
    planTransaction,
    batchItem,
    routes: {
      '/api/v1/entity/get': get,
      '/api/v1/entity/set': set,
      '/api/v1/entity/delete': remove,
      '/api/v1/entity/query': query,
    },
    /** For the store file: [[entity, [[key, record]...]]...]. */
    dump: (liveOnly) => [...tables].map(([name, table]) => [name, [...table].filter(([, r]) => liveOnly(r))]),
    load(saved = []) {
      for (const [name, rows] of saved) {
        // Data of an entity the manifest no longer declares stays out of reach, as on Forge.
        if (tables.has(name)) for (const [key, record] of rows) tables.get(name).set(key, record);
      }
    },
    clear: () => tables.forEach((t) => t.clear()),
    /** Host-side peek: the live value of an entity, or undefined. */
    peek: (name, key) => kit.live(tables.get(name) ?? new Map(), key)?.value,
    /** Host-side: the live keys of an entity, sorted. */
    keys: (name) => [...(tables.get(name) ?? new Map()).keys()].filter((k) => kit.live(tables.get(name), k)).sort(),
    /** Host-side seeding (tests): a set checked as the service checks one. */
    seed: (name, key, value) => batchItem('set', { entityName: name, key, value }),
  };
}

function encodeCursor(position, shape) {
  return Buffer.from(JSON.stringify({ after: position, shape }), 'utf8').toString('base64url');
}

function decodeCursor(cursor, shape, kit) {
  try {
    const parsed = JSON.parse(Buffer.from(String(cursor), 'base64url').toString('utf8'));
    if (Array.isArray(parsed.after) && parsed.shape === shape) return parsed.after;
  } catch {
    // fall through
  }
  throw kit.badRequest('BAD_REQUEST', 'The cursor is invalid or belongs to another query');
}
