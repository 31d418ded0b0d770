// The hourly expiry run (scheduled trigger): links past their expiry are saved as expired by the
// panel's own planner (rust/src/actions/sweep.rs finds them, a bounded amount per run).
import { randomUUID } from 'node:crypto';
import * as wasm from './console.js';
import { errorCode } from './envelope.js';
import { logEvent } from './log.js';
import { run } from './run.js';

/** The scheduled trigger's handler (`{ statusCode }`); the next run goes on where this one stopped. */
export async function expirySweep() {
  try {
    // The run's lock owner: random values are drawn here, never in the core.
    const reply = await run(wasm, wasm.sweepStart({ owner: randomUUID(), nowMs: Date.now() }), wasm.sweepNext);
    if (!reply.ok) return { statusCode: 500 };
    return { statusCode: 200, body: JSON.stringify(reply.data) };
  } catch (error) {
    logEvent('expiry.sweep_failed', { code: errorCode(error) });
    return { statusCode: 500 };
  }
}
