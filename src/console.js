// The console module of the Rust core: all of the core module (the webhook's planner and the
// effects adapter) and, added on top, what every other function plans with: the panel's, the
// portal's and the admin page's actions, the token webtrigger, the weekly personal-data report,
// settings validation and the comment templates' parser. Instantiated once per function instance.
// Embedded as base64 for the reason given in `core.js`.
import { initSync } from './generated/console.js';
import bytes from './generated/console-bytes.js';

initSync({ module: bytes });

export * from './generated/console.js';
