// The customer portal panel: when the admin turned it on, the requester of a request sees that a
// verification link is on its way and until when it works. Nothing else, and only their own. The
// core module plans it (rust/src/actions/portal.rs); `run` performs it.
import { randomUUID } from 'node:crypto';
import Resolver from '@forge/resolver';
import { callerContext } from './access.js';
import * as wasm from './console.js';
import { answered, guarded } from './envelope.js';
import { run } from './run.js';

/** @param {{ context: any }} request */
async function getState({ context }) {
  const input = { owner: randomUUID(), nowMs: Date.now(), context: callerContext(context) };
  return answered(await run(wasm, wasm.portalStart(input), wasm.portalNext));
}

export const portalResolver = new Resolver().define('portal.getState', guarded('portal.getState', getState)).getDefinitions();
