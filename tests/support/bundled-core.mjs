// The core package as the Forge functions load it: bundled with `@forge/bundler`'s own webpack
// configuration (dev/forge-bundle.mjs) from tests/core/bundle-entry.js, then required.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { bundleForge } from '../../dev/forge-bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** @param {string} name the bundle's own folder under build/test-bundles/ (tests run in parallel) */
export async function bundledCore(name) {
  const out = await bundleForge({
    appDir: root,
    entries: { core: 'tests/core/bundle-entry.js' },
    outDir: path.join(root, 'build/test-bundles', name),
  });
  return createRequire(import.meta.url)(out.core);
}
