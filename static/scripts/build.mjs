// Builds the three Custom UI pages, each into its own dist/ with relative asset paths (Forge
// serves every resource folder on its own). `node scripts/build.mjs [page...]` builds a subset.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { build } from 'vite';
import react from '@vitejs/plugin-react';

export const PAGES = ['issue-panel', 'admin-page', 'portal-panel'];

const here = path.dirname(fileURLToPath(import.meta.url));
const staticDir = path.resolve(here, '..');

export function pageConfig(page) {
  const root = path.join(staticDir, page);
  return {
    configFile: false,
    root,
    // NOTE: explicit, because Vite otherwise follows an inherited NODE_ENV (Vitest sets "test")
    // and bundles React's development build.
    mode: 'production',
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    base: './',
    logLevel: 'warn',
    plugins: [react()],
    build: {
      outDir: path.join(root, 'dist'),
      emptyOutDir: true,
      // Atlaskit and React together are large; one page is one chunk plus theme chunks.
      chunkSizeWarningLimit: 2000,
      sourcemap: false,
    },
  };
}

process.env.NODE_ENV = 'production';
const requested = process.argv.slice(2);
const unknown = requested.filter((p) => !PAGES.includes(p));
if (unknown.length) {
  console.error(`Unknown page(s): ${unknown.join(', ')}; pages are ${PAGES.join(', ')}`);
  process.exit(2);
}
for (const page of requested.length ? requested : PAGES) {
  const started = Date.now();
  await build(pageConfig(page));
  console.log(`built ${page}/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
