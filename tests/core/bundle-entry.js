// What the Forge functions import of the core's two modules, bundled by the tests the way Forge
// bundles it: the core module (src/core.js) and the console module (src/console.js).
export * from '../../src/core.js';
export * from '../../src/console.js';
