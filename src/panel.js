// The agent's issue panel: state, send, resend, cancel. The core plans each action
// (rust/src/actions/: the caller check first, from the invocation context) and `run` performs
// it; this module hands in the context, the payload and the random values the plan needs.
import { randomUUID } from 'node:crypto';
import Resolver from '@forge/resolver';
import * as wasm from './console.js';
import { callerContext } from './access.js';
import { answered, guarded } from './envelope.js';
import { run } from './run.js';

/** @param {{ context: any }} request */
async function getState({ context }) {
  const input = { owner: randomUUID(), nowMs: Date.now(), context: callerContext(context) };
  return answered(await run(wasm, wasm.openStart(input), wasm.openNext));
}

/** @param {{ payload: any, context: any }} request @param {boolean} resend */
async function sendLink({ payload, context }, resend) {
  const input = { owner: randomUUID(), verificationId: randomUUID(), nowMs: Date.now(), context: callerContext(context), payload, resend };
  return answered(await run(wasm, wasm.sendStart(input), wasm.sendNext));
}

/** @param {{ payload: any, context: any }} request */
async function cancel({ payload, context }) {
  const input = { owner: randomUUID(), nowMs: Date.now(), context: callerContext(context), payload };
  return answered(await run(wasm, wasm.cancelStart(input), wasm.cancelNext));
}

export const panelResolver = new Resolver()
  .define('panel.getState', guarded('panel.getState', getState))
  .define(
    'panel.send',
    guarded('panel.send', (request) => sendLink(request, false)),
  )
  .define(
    'panel.resend',
    guarded('panel.resend', (request) => sendLink(request, true)),
  )
  .define('panel.cancel', guarded('panel.cancel', cancel))
  .getDefinitions();
