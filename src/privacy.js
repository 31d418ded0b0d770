// The weekly personal-data report (scheduled trigger): the plan (rust/src/admin/privacy.rs)
// reports the accounts the app stores data about and erases what it holds about closed ones.
import { randomUUID } from 'node:crypto';
import * as wasm from './console.js';
import { errorCode } from './envelope.js';
import { logEvent } from './log.js';
import { run } from './run.js';

/**
 * The scheduled trigger's handler. Answers as the platform expects (`{ statusCode }`); a failure
 * is logged by code and reported as 500, and the next weekly run reports again.
 */
export async function privacyReport() {
  try {
    // The run's lock owner: random values are drawn here, never in the core.
    const reply = await run(wasm, wasm.privacyStart({ owner: randomUUID() }), wasm.privacyNext);
    if (!reply.ok) return { statusCode: 500 };
    return { statusCode: 200, body: JSON.stringify(reply.data) };
  } catch (error) {
    logEvent('privacy.failed', { code: errorCode(error) });
    return { statusCode: 500 };
  }
}

/**
 * The daily retention run of the audit trail: removes entries older than the admin's setting,
 * a bounded amount per run (the plan stops in time and the next run goes on).
 */
export async function auditRetention() {
  try {
    const reply = await run(wasm, wasm.retentionStart({ nowMs: Date.now() }), wasm.retentionNext);
    if (!reply.ok) return { statusCode: 500 };
    return { statusCode: 200, body: JSON.stringify(reply.data) };
  } catch (error) {
    logEvent('audit.retention_failed', { code: errorCode(error) });
    return { statusCode: 500 };
  }
}
