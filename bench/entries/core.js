// The webhook function's path with the Rust core, as src/webhook.js runs it: the delivery planner
// (`deliveryStart`, then `deliveryNext` until a step has no state), its steps performed in memory
// instead of by src/run.js (no I/O): every read and swap answered from the installation's store
// below, the transaction landed and every effect done. The core module keeps what the instance
// remembers per installation (named by the executor), so a warm instance's deliveries skip W1
// while the kept settings are fresh (10 s of the deliveries' own clock); `newInstance` starts
// over with nothing remembered.
// Bundled by the benchmark exactly as Forge bundles the app (dev/forge-bundle.mjs).
import { deliveryNext, deliveryStart, effectBegin } from '../../src/core.js';

const SECRETS_SET = { apiKey: true, clientSecret: true, webhookSecret: true };
/** The setup checklist with a webhook already received: the settings are kept from the first delivery. */
const CHECKLIST = {
  schemaVersion: 2,
  credentialsTestedAtMs: 1_795_300_000_000,
  webhookReceivedAtMs: 1_795_300_100_000,
  firstVerificationAtMs: 1_795_300_050_000,
};
const DONE = { ended: 'done', status: 200 };

/**
 * One installation per settings object: its id and its stored settings record (with its revision
 * key) and secrets.
 * @type {WeakMap<object, { id: string, store: Map<string, unknown> }>}
 */
const installations = new WeakMap();
let sites = 0;
/** The instance's generation: the installations are named anew in each (see `newInstance`). */
let generation = 0;

function installation(settings, secret) {
  let site = installations.get(settings);
  if (!site) {
    // As the admin page's save stores them: the record, and its revision beside it.
    const store = new Map([
      ['settings', { revision: 1, settings, secretsSet: SECRETS_SET }],
      ['settings:revision', { schemaVersion: 3, revision: 1 }],
      ['secrets', { apiKey: 'bench-api-key', clientSecret: 'bench-client-secret', webhookSecret: secret }],
      ['checklist', CHECKLIST],
    ]);
    sites += 1;
    installations.set(settings, (site = { id: `bench-site-${sites}`, store }));
  }
  return site;
}

/**
 * Starts over as a new instance: the installations get new names, for which the core module
 * remembers nothing (no kept settings, no count of failed authentications); the stored data
 * stays. The warm measurement starts each round over the corpus, whose clock then runs again
 * from its start: a memory from later on the clock would count the same forged deliveries again
 * every round until the throttle locked out everything (429).
 */
export function newInstance() {
  generation += 1;
}

/**
 * What the executor would hand back for `step`, performed on `store` (`record` under the
 * session's key): each key's value (none for the throttle's marker, the lock and the test-session
 * marker), the transaction landed, every effect done.
 */
function performed(step, store, recordKey, record, nowMs) {
  const found = (r) => ({ value: r.key === recordKey ? record : (store.get(r.key) ?? null) });
  return {
    nowMs,
    reads: (step.reads ?? []).map(found),
    swaps: (step.swaps ?? []).map(() => ({ value: null })),
    effects: (step.running ?? []).map(() => DONE),
    queries: (step.queries ?? []).map(() => ({ entries: [] })),
  };
}

/**
 * One delivery through the planner. Answers the reply, each effect's first call (`effects`), how
 * many steps it waited on (3 with W1, 2 without) and whether it read the settings (W1).
 * @param {object} settings the stored settings (custom templates compiled, as saving stores them)
 * @param {string} secret the webhook secret
 * @param {{ headers: Record<string, string[]>, body: string }} request
 * @param {object} verification the stored record of the session @param {number} nowMs
 * @param {{ inputs: unknown[], steps: unknown[] }} [crossed] when given, collects what crossed
 *   the module's boundary besides the body: the start's input and each step's results handed in,
 *   each step handed out (for the crossing's floor, `bench/warm-child.mjs`)
 */
export function decide(settings, secret, request, verification, nowMs, crossed) {
  const site = installation(settings, secret);
  const recordKey = `v:${verification.sessionId}`;
  const input = { method: 'POST', headers: request.headers, nowMs, owner: 'bench-owner-0001', nonce: 'n0001' };
  let step = deliveryStart(request.body, `${site.id}/${generation}`, input);
  crossed?.inputs.push(input);
  crossed?.steps.push(step);
  /** The handles of the plan's effects, kept in the module (the steps carry no more of them). */
  const running = [];
  let steps = 0;
  let readSettings = false;
  while (step.state !== undefined && step.state !== null) {
    steps += 1;
    // W1 is the step that reads the secrets (with kept settings, W2 reads only their revision).
    if (!readSettings && step.reads?.some((r) => r.secret)) readSettings = true;
    running.push(...(step.running ?? []));
    const results = performed(step, site.store, recordKey, verification, nowMs);
    step = deliveryNext(step.state, results);
    crossed?.inputs.push(results);
    crossed?.steps.push(step);
  }
  // The last step is performed too (its puts and effects), but no one waits on its results.
  running.push(...(step.running ?? []));
  /** @type {object[] | undefined} */
  let begun;
  return {
    response: step.reply,
    steps,
    readSettings,
    // Each effect's first call, begun by its handle as src/run.js begins it, on first asking (the
    // calls are not made: `performed` answered every effect done). Running the effects is the
    // executor's part, as performing the baseline's actions is: the timed decision only plans.
    get effects() {
      begun ??= running.map((handle) => effectBegin(handle, nowMs));
      return begun;
    },
  };
}
