// What the Forge functions import of the core, bundled by the tests the way Forge bundles it: the
// console module (src/console.js), which holds all of the core module (src/core.js) too.
export * from '../../src/console.js';
