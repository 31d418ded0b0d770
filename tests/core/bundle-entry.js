// What a Forge function imports of the core, bundled by the tests the way Forge bundles it.
export * from '../../src/core.js';
