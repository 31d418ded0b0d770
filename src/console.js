// The console module of the Rust core: what the agent's panel and the admin page call besides the
// core module (settings validation, comment templates, the Incode client, who may send and how
// the panel shows each verification, the admin page's actions and the weekly personal-data
// report), compiled to WebAssembly. Only those functions import it: the webhooks and the portal
// panel never load this code. Embedded as base64 for the reason given in `core.js`.
//
// The module is compiled and instantiated on its first call, not at load: the webhook's core
// module stays within its size budget (bench/README.md), and an instance compiles this one only
// for a resolver that needs it (opening the panel does, since it decides who may send).
import * as glue from './generated/console.js';
import bytes from './generated/console-bytes.js';

let ready = false;

/** The instantiated module's exports. */
function api() {
  if (!ready) {
    glue.initSync({ module: bytes });
    ready = true;
  }
  return glue;
}

/**
 * One export of the module, instantiating it on the first call.
 * @template {(...args: any[]) => any} F
 * @param {(exports: typeof glue) => F} pick
 * @returns {F}
 */
const onFirstCall = (pick) => /** @type {F} */ ((...args) => pick(api())(...args));

export const adminNext = onFirstCall((m) => m.adminNext);
export const adminRules = onFirstCall((m) => m.adminRules);
export const adminStart = onFirstCall((m) => m.adminStart);
export const agentAccess = onFirstCall((m) => m.agentAccess);
export const cancelNext = onFirstCall((m) => m.cancelNext);
export const cancelStart = onFirstCall((m) => m.cancelStart);
export const cancelVerification = onFirstCall((m) => m.cancelVerification);
export const replaceVerification = onFirstCall((m) => m.replaceVerification);
export const commentRequest = onFirstCall((m) => m.commentRequest);
export const compileTemplates = onFirstCall((m) => m.compileTemplates);
export const foundGroups = onFirstCall((m) => m.foundGroups);
export const missingWords = onFirstCall((m) => m.missingWords);
export const newVerification = onFirstCall((m) => m.newVerification);
export const openNext = onFirstCall((m) => m.openNext);
export const openStart = onFirstCall((m) => m.openStart);
export const parseStart = onFirstCall((m) => m.parseStart);
export const panelShown = onFirstCall((m) => m.panelShown);
export const parseToken = onFirstCall((m) => m.parseToken);
export const privacyNext = onFirstCall((m) => m.privacyNext);
export const privacyStart = onFirstCall((m) => m.privacyStart);
export const publicSettings = onFirstCall((m) => m.publicSettings);
export const personFieldOptions = onFirstCall((m) => m.personFieldOptions);
export const renderTemplate = onFirstCall((m) => m.renderTemplate);
export const sendNext = onFirstCall((m) => m.sendNext);
export const sendStart = onFirstCall((m) => m.sendStart);
export const startRequest = onFirstCall((m) => m.startRequest);
export const statusText = onFirstCall((m) => m.statusText);
export const tokenRequest = onFirstCall((m) => m.tokenRequest);
export const validateSettings = onFirstCall((m) => m.validateSettings);
export const validateTemplate = onFirstCall((m) => m.validateTemplate);
