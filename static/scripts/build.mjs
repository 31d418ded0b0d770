// Builds the Custom UI pages, each into its own dist/ with relative asset paths (Forge
// serves every resource folder on its own). `node scripts/build.mjs [page...]` builds a subset.
// A page whose sources did not change since its last build is skipped (stamps in build/ui/).
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';
import { isFresh, writeStamp } from '../../dev/build-stamp.mjs';

export const PAGES = ['issue-panel', 'admin-page', 'portal-panel', 'gate-config'];

// A page drawn by several resources of its module (the workflow rule's create, edit and view):
// one folder each under dist/, the same page marked `<html data-entry="...">` so it knows which.
export const ENTRIES = { 'gate-config': ['create', 'edit', 'view'] };

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
      outDir: ENTRIES[page] ? path.join(root, 'dist', ENTRIES[page][0]) : path.join(root, 'dist'),
      emptyOutDir: true,
      // Atlaskit and React together are large; one page is one chunk plus theme chunks.
      chunkSizeWarningLimit: 2000,
      sourcemap: false,
    },
  };
}

/** The other entries' folders: copies of the first, each marked with its entry. */
function copyEntries(page) {
  const [first, ...others] = ENTRIES[page] ?? [];
  const dist = path.join(staticDir, page, 'dist');
  for (const entry of others) {
    fs.cpSync(path.join(dist, first), path.join(dist, entry), { recursive: true });
    const html = path.join(dist, entry, 'index.html');
    const text = fs.readFileSync(html, 'utf8');
    const marked = text.replace(`data-entry="${first}"`, `data-entry="${entry}"`);
    if (marked === text) throw new Error(`${page}/index.html carries no data-entry="${first}"`);
    fs.writeFileSync(html, marked);
  }
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
    if (ENTRIES[page]) fs.rmSync(path.join(staticDir, page, 'dist'), { recursive: true, force: true });
    await build(await pageConfig(page));
    copyEntries(page);
    writeStamp(staticDir, stampOf(page), pageSpec(page));
    console.log(`built ${page}/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
