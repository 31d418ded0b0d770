// The executor of the core's plans (rust/src/plan.rs). A planner answers a step: what to read,
// swap, write and do. This module performs all of it concurrently, hands the results back to
// the planner, and repeats until a step has no state left; that step's reply is the answer.
// It makes no decision of its own: it only knows how to perform each named operation.
import api, { assumeTrustedRoute, fetch, getAppContext, privacy, route } from '@forge/api';
import kvs, { Filter, FilterConditions, Sort, WhereConditions } from '@forge/kvs';
import { publishGlobal, signRealtimeToken } from '@forge/realtime';
import { errorCode } from './envelope.js';
import { logEvent } from './log.js';

/** @typedef {import('./generated/core.js').Read} Read */
/** @typedef {import('./generated/core.js').Write} Write */
/** @typedef {import('./generated/core.js').Found} Found */
/** @typedef {import('./generated/core.js').Query} Query */
/** @typedef {import('./generated/core.js').Listed} Listed */
/** @typedef {import('./generated/core.js').EntityQuery} EntityQuery */
/** @typedef {import('./generated/core.js').EntityPage} EntityPage */
/** @typedef {import('./generated/core.js').EntityKey} EntityKey */
/** @typedef {import('./generated/core.js').Results} Results */
/** @typedef {import('./generated/core.js').EffectResult} EffectResult */
/** @typedef {import('./generated/core.js').HttpAnswer} HttpAnswer */
/** @typedef {import('./generated/core.js').EffectProgress} EffectProgress */
/** @template S, R @typedef {import('./generated/core.js').Step<S, R>} Step */

/** The KVS answers a query at most this many values a page. */
const QUERY_PAGE = 20;

/** A call that gets no answer within this long counts as failed (status 0). */
const CALL_TIMEOUT_MS = 10_000;

/**
 * The effects adapter of the wasm module the function loaded (the core module, or the console
 * module, which holds it too). A step's effects stay in the module: the step names one handle
 * per effect (`running`), by which each is begun.
 * @typedef {{ effectBegin: (effect: number, nowMs: number) => EffectProgress, effectAdvance: (running: number, answer: HttpAnswer) => EffectProgress }} Adapter
 */

/**
 * Runs a plan to its reply: performs `step`, then asks `next(state, results)` for the next one.
 * @template S, R
 * @param {Adapter} adapter
 * @param {Step<S, R>} step the planner's first step
 * @param {(state: S, results: Results) => Step<S, R>} next
 * @returns {Promise<R>}
 */
export async function run(adapter, step, next) {
  for (;;) {
    const results = await perform(adapter, step);
    if (step.state === undefined || step.state === null) return /** @type {R} */ (step.reply);
    step = next(step.state, results);
  }
}

/**
 * Performs one step: reads, swaps, the transaction, puts, deletes, queries and effects, all at once.
 * @param {Adapter} adapter @param {Step<unknown, unknown>} step @returns {Promise<Results>}
 */
export async function perform(adapter, step) {
  for (const line of step.logs ?? []) logEvent(line.event, line.fields);
  // The custom entity operations: left out of the generated `Step` (the core module never plans
  // them, rust/src/plan.rs), planned by the console module's planners.
  const { entityQueries = [], entityDeletes = [] } = /** @type {{ entityQueries?: EntityQuery[], entityDeletes?: EntityKey[] }} */ (step);
  const [reads, swaps, writeFailed, effects, queries, entityPages] = await Promise.all([
    Promise.all((step.reads ?? []).map(read)),
    Promise.all((step.swaps ?? []).map(swap)),
    transact(step.writes ?? [], step.deletes ?? [], step.claims ?? [], entityDeletes),
    Promise.all((step.running ?? []).map((handle) => effect(adapter, handle))),
    Promise.all((step.queries ?? []).map(query)),
    Promise.all(entityQueries.map(entityQuery)),
    Promise.all((step.puts ?? []).map(put)),
  ]);
  /** @type {Results} */
  const results = { nowMs: Date.now(), reads, swaps, effects, queries };
  if (entityPages.length > 0) results.entityPages = entityPages;
  if (writeFailed !== null) results.writeFailed = writeFailed;
  return results;
}

/** @param {unknown} error @returns {Found} */
const failedWith = (error) => ({ value: null, failed: errorCode(error) || 'storage_error' });

/** @param {Read} r @returns {Promise<Found>} */
async function read(r) {
  try {
    const value = r.secret ? await kvs.getSecret(r.key) : await kvs.get(r.key);
    return { value: value ?? null };
  } catch (error) {
    return failedWith(error);
  }
}

/**
 * The values under a prefix, page by page, up to the limit (from the cursor an earlier query
 * answered); the cursor to go on from when it stopped at the limit. @param {Query} q @returns {Promise<Listed>}
 */
async function query(q) {
  /** @type {{ key: string, value: unknown }[]} */
  const entries = [];
  const limit = q.limit ?? Infinity;
  try {
    /** @type {string | undefined} */
    let cursor = /** @type {{ cursor?: string }} */ (q).cursor;
    do {
      let page = kvs
        .query()
        .where('key', WhereConditions.beginsWith(q.prefix))
        .limit(Math.min(QUERY_PAGE, limit - entries.length));
      if (cursor) page = page.cursor(cursor);
      const answer = await page.getMany();
      for (const r of answer.results) entries.push({ key: r.key, value: r.value });
      cursor = answer.nextCursor;
    } while (cursor && entries.length < limit);
    return cursor ? { entries, cursor } : { entries };
  } catch (error) {
    return { entries: [], failed: errorCode(error) || 'storage_error' };
  }
}

/** One page of a custom entity's index. @param {EntityQuery} q @returns {Promise<EntityPage>} */
async function entityQuery(q) {
  try {
    let page = kvs
      .entity(q.entity)
      .query()
      .index(q.index, q.partition.length > 0 ? { partition: q.partition } : undefined)
      .where(WhereConditions.between(q.range[0], q.range[1]))
      .sort(q.descending ? Sort.DESC : Sort.ASC)
      .limit(q.limit);
    if (q.filters.length > 0) {
      /** @type {any} */
      let filters = new Filter();
      for (const f of q.filters) filters = filters.and(f.property, FilterConditions.equalTo(f.value));
      page = page.filters(filters);
    }
    if (q.cursor) page = page.cursor(q.cursor);
    const answer = await page.getMany();
    /** @type {EntityPage} */
    const found = { entries: answer.results.map((r) => ({ key: r.key, value: r.value })) };
    if (answer.nextCursor) found.cursor = answer.nextCursor;
    return found;
  } catch (error) {
    return { entries: [], failed: errorCode(error) || 'storage_error' };
  }
}

/** A set that returns the value it replaced (how a lock is taken). @param {Write} w @returns {Promise<Found>} */
async function swap(w) {
  try {
    const ttl = w.ttl ? { ttl: w.ttl } : {};
    /** @type {{ value?: unknown } | undefined} */
    const result = w.entity
      ? await kvs.entity(w.entity).set(w.key, w.value, { keyPolicy: 'OVERRIDE', returnValue: 'PREVIOUS', ...ttl })
      : await kvs.set(w.key, w.value, { keyPolicy: 'OVERRIDE', returnValue: 'PREVIOUS', ...ttl });
    return { value: result?.value ?? null };
  } catch (error) {
    return failedWith(error);
  }
}

/** The condition a write names, as the KVS takes it (custom entities only). @param {Write} w */
function conditionOf(w) {
  /** @type {any} */
  const filter = new Filter();
  return w.onlyIf ? filter.and(w.onlyIf.property, FilterConditions.equalTo(w.onlyIf.value)) : undefined;
}

/** A best-effort set on its own; under a condition, a transaction of that one set. @param {Write} w */
async function put(w) {
  try {
    if (w.onlyIf)
      await kvs
        .transact()
        .set(w.key, w.value, { entityName: w.entity ?? '', conditions: conditionOf(w) }, w.ttl ? { ttl: w.ttl } : undefined)
        .execute();
    else if (w.entity) await kvs.entity(w.entity).set(w.key, w.value, w.ttl ? { ttl: w.ttl } : undefined);
    else if (w.secret) await kvs.setSecret(w.key, w.value, w.ttl ? { ttl: w.ttl } : undefined);
    else await kvs.set(w.key, w.value, w.ttl ? { ttl: w.ttl } : undefined);
  } catch (error) {
    logEvent('store.put_failed', { code: errorCode(error) });
  }
}

/**
 * One transaction (secrets cannot join one: each is set on its own after it lands). A claimed
 * entity key is set only while nothing is stored under it (every stored value has a schemaVersion).
 * @param {Write[]} writes @param {Read[]} deletes @param {string[]} claims @param {EntityKey[]} entityDeletes
 * @returns {Promise<string | null>} the failure's code
 */
async function transact(writes, deletes, claims, entityDeletes) {
  const plain = writes.filter((w) => !w.secret);
  const plainDeletes = deletes.filter((d) => !d.secret);
  try {
    if (plain.length + plainDeletes.length + entityDeletes.length > 0) {
      const tx = kvs.transact();
      for (const w of plain) {
        // Typed loosely: the filter is over the entity's attributes, the value stays `unknown` here.
        /** @type {any} */
        const conditions = claims.includes(w.key) ? new Filter().and('schemaVersion', FilterConditions.notExists()) : conditionOf(w);
        tx.set(w.key, w.value, w.entity ? { entityName: w.entity, conditions } : undefined, w.ttl ? { ttl: w.ttl } : undefined);
      }
      for (const d of plainDeletes) tx.delete(d.key);
      for (const d of entityDeletes) tx.delete(d.key, { entityName: d.entity });
      await tx.execute();
    }
    await Promise.all([
      ...writes.filter((w) => w.secret).map((w) => kvs.setSecret(w.key, w.value, w.ttl ? { ttl: w.ttl } : undefined)),
      ...deletes.filter((d) => d.secret).map((d) => kvs.deleteSecret(d.key)),
    ]);
    return null;
  } catch (error) {
    logEvent('store.write_failed', { code: errorCode(error) });
    return errorCode(error) || 'storage_error';
  }
}

/** Runs one effect's calls (rust/src/effects.rs names each next one). @param {Adapter} adapter @param {number} handle @returns {Promise<EffectResult>} */
async function effect(adapter, handle) {
  /** @type {EffectProgress} */
  let progress = adapter.effectBegin(handle, Date.now());
  while (progress.next === 'call') {
    const answer = await call(progress.call);
    progress = adapter.effectAdvance(progress.running, answer);
  }
  return progress.result;
}

/** @param {Extract<EffectProgress, { next: 'call' }>['call']} c @returns {Promise<HttpAnswer>} */
async function call(c) {
  try {
    switch (c.via) {
      case 'jiraAsApp':
        return await answered((signal) =>
          api
            .asApp()
            .requestJira(assumeTrustedRoute(c.request.path ?? ''), { method: c.request.method, headers: c.request.headers, body: c.request.body, signal }),
        );
      case 'jiraAsUser':
        return await answered((signal) =>
          api
            .asUser()
            .requestJira(assumeTrustedRoute(c.request.path ?? ''), { method: c.request.method, headers: c.request.headers, body: c.request.body, signal }),
        );
      case 'setAppField': {
        // Forge keys an app's field by the app, the environment and the module.
        const { appAri, environmentType } = getAppContext();
        const field = `${appAri.appId}__${environmentType}__${c.moduleKey}`;
        const headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
        return await answered((signal) =>
          api.asApp().requestJira(route`/rest/api/3/app/field/${field}/value`, { method: 'PUT', headers, body: c.body, signal }),
        );
      }
      case 'incode':
        return await answered((signal) => fetch(c.request.url ?? '', { method: c.request.method, headers: c.request.headers, body: c.request.body, signal }));
      case 'signPublishToken':
      case 'signSubscribeToken': {
        const signed = await signRealtimeToken(c.channel, { issueId: c.issueId }, [c.via === 'signPublishToken' ? 'publish' : 'subscribe']);
        return { status: signed.token ? 200 : 500, body: JSON.stringify({ token: signed.token ?? null, expiresAt: signed.expiresAt ?? null }) };
      }
      case 'reportPersonalData': {
        const updates = await privacy.reportPersonalData(c.accounts);
        return { status: 200, body: JSON.stringify(updates ?? []) };
      }
      case 'wait':
        await new Promise((resolve) => setTimeout(resolve, c.ms));
        return { status: 200, body: '' };
      case 'publish': {
        const published = await publishGlobal(c.channel, c.payload, { token: c.token });
        return { status: published.errors ? 500 : 200, body: '' };
      }
    }
  } catch (error) {
    logEvent('run.call_failed', { effect: c.via, code: errorCode(error) });
  }
  return { status: 0, body: '' };
}

/**
 * An HTTP call with a deadline: its status and body, or status 0 when it did not answer in time.
 * @param {(signal: AbortSignal) => Promise<{ status: number, text(): Promise<string> }>} send
 * @returns {Promise<HttpAnswer>}
 */
async function answered(send) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), CALL_TIMEOUT_MS);
  try {
    const response = await send(controller.signal);
    return { status: response.status, body: await response.text() };
  } finally {
    clearTimeout(timer);
  }
}
