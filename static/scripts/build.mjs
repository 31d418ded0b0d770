// Builds the three Custom UI pages, each into its own dist/ with relative asset paths (Forge
// serves every resource folder on its own). `node scripts/build.mjs [page...]` builds a subset.
// A page whose sources did not change since its last build is skipped (stamps in build/ui/).
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { isFresh, writeStamp } from '../../dev/build-stamp.mjs';

export const PAGES = ['issue-panel', 'admin-page', 'portal-panel'];

const here = path.dirname(fileURLToPath(import.meta.url));
const staticDir = path.resolve(here, '..');

/** What a page's build reads (its folder, the shared code, the packages, this script) and writes. */
export function pageSpec(page) {
  return {
    inputs: [page, 'shared', 'package.json', 'package-lock.json', 'scripts/build.mjs'].map((p) => path.join(staticDir, p)),
    outputs: [path.join(staticDir, page, 'dist')],
  };
}

// Outside dist/, which Forge uploads as it is.
const stampOf = (page) => path.join(staticDir, '..', 'build', 'ui', `${page}.stamp.json`);

export async function pageConfig(page) {
  const { default: react } = await import('@vitejs/plugin-react');
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

async function main() {
  process.env.NODE_ENV = 'production';
  const requested = process.argv.slice(2);
  const unknown = requested.filter((p) => !PAGES.includes(p));
  if (unknown.length) {
    console.error(`Unknown page(s): ${unknown.join(', ')}; pages are ${PAGES.join(', ')}`);
    process.exit(2);
  }
  for (const page of requested.length ? requested : PAGES) {
    if (isFresh(staticDir, stampOf(page), pageSpec(page))) {
      console.log(`${page}/dist is up to date`);
      continue;
    }
    const started = Date.now();
    const { build } = await import('vite');
    await build(await pageConfig(page));
    writeStamp(staticDir, stampOf(page), pageSpec(page));
    console.log(`built ${page}/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
