// The workflow gate "Identity verified" (jira:workflowValidator): Jira calls it on every
// transition an admin added it to. The core decides from the app's own records
// (rust/src/gate/); this module hands in the event and the clock, and answers Jira's
// `{ result, errorMessage }`. Anything that breaks refuses the transition.
import { randomUUID } from 'node:crypto';
import * as wasm from './console.js';
import { logEvent } from './log.js';
import { errorCode } from './envelope.js';
import { run } from './run.js';

const BROKEN =
  'The identity verification could not be checked: the app failed. Try the transition again; if it keeps failing, ask your Jira admin to check the app logs.';

/** @param {any} event @param {any} context @returns {Promise<import('./generated/console.js').GateVerdict>} */
export async function identityVerified(event, context) {
  const input = {
    nowMs: Date.now(),
    issueKey: String(event?.issue?.key ?? ''),
    accountId: String(context?.principal?.accountId ?? ''),
    configuration: event?.configuration ?? null,
    toStatus: String(event?.transition?.to?.id ?? ''),
    // What the transition's screen changes (Jira hands it to apps with read:jira-work).
    modifiedFields: event?.modifiedFields ?? event?.transition?.modifiedFields ?? null,
    // Names this decision in the audit trail (two attempts in the same millisecond are two).
    invocation: randomUUID(),
  };
  try {
    return await run(wasm, wasm.gateStart(input), wasm.gateNext);
  } catch (error) {
    logEvent('gate.failed', { code: errorCode(error) });
    return { result: false, errorMessage: BROKEN };
  }
}
