// The console module of the Rust core: what the agent's panel and the admin page call besides the
// core module (settings validation, comment templates, the Incode client), compiled to
// WebAssembly and instantiated once per function instance. Only those two functions import it:
// the webhooks, the portal panel and the privacy report never load this code. Embedded as base64
// for the reason given in `core.js`.
import { initSync } from './generated/console.js';
import bytes from './generated/console-bytes.js';

initSync({ module: bytes });

export {
  cancelVerification,
  commentRequest,
  compileTemplates,
  newVerification,
  parseStart,
  parseToken,
  publicSettings,
  renderTemplate,
  startRequest,
  statusText,
  tokenRequest,
  validateSettings,
  validateTemplate,
} from './generated/console.js';
