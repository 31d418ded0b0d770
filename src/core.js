// The core module: the webhook delivery's planner and the effects adapter, compiled to
// WebAssembly and instantiated once per function instance. The webhook function loads it and
// nothing else; every other function loads the console module (`console.js`), which holds all of
// this module too.
// NOTE: the module bytes are embedded in JS, as base64 in a comment (`generated/core-bytes.js`
// says why), not a `.wasm` file beside the script, because the Forge bundler rewrites
// `__dirname` and turns `.wasm` imports into async modules.
import { initSync } from './generated/core.js';
import bytes from './generated/core-bytes.js';

initSync({ module: bytes });

export * from './generated/core.js';
