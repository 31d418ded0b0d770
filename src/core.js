// The Rust core, compiled to WebAssembly and instantiated once per function instance.
// NOTE: the module bytes are embedded as base64 JS (not a `.wasm` file beside the script)
// because the Forge bundler rewrites `__dirname` and turns `.wasm` imports into async modules.
import { initSync } from './generated/core.js';
import bytes from './generated/core-bytes.js';

initSync({ module: bytes });

export * from './generated/core.js';
