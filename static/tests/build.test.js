// Builds the three pages as `npm run build` does and checks what Forge will serve: each
// manifest resource folder holds a page whose assets load by relative path.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const staticDir = path.resolve(__dirname, '..');
const repoDir = path.resolve(staticDir, '..');
// The folders Forge serves: one per page, one per entry of the workflow rule's page.
const DISTS = ['issue-panel/dist', 'admin-page/dist', 'portal-panel/dist', 'gate-config/dist/create', 'gate-config/dist/edit', 'gate-config/dist/view'];

beforeAll(() => {
  const run = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: staticDir, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`build failed:\n${run.stdout}\n${run.stderr}`);
}, 120_000);

describe('the built pages', () => {
  it('are the resource folders the manifest names', () => {
    const manifest = readFileSync(path.join(repoDir, 'manifest.yml'), 'utf8');
    const resources = [...manifest.matchAll(/^\s*path:\s*(static\/\S+)\s*$/gm)].map((m) => m[1]);
    expect(resources.sort()).toEqual(DISTS.map((d) => `static/${d}`).sort());
    for (const r of resources) expect(existsSync(path.join(repoDir, r, 'index.html'))).toBe(true);
  });

  it.each(DISTS)('%s loads its scripts and styles by relative path', (folder) => {
    const dist = path.join(staticDir, folder);
    const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThanOrEqual(2);
    for (const ref of refs) {
      expect(ref.startsWith('./')).toBe(true);
      expect(existsSync(path.join(dist, ref))).toBe(true);
    }
    expect(html).toContain('<div id="root"></div>');
  });

  it.each(DISTS)('%s bundles the production build of React', (folder) => {
    const assets = path.join(staticDir, folder, 'assets');
    const main = readdirSync(assets).filter((f) => /^index-.*\.js$/.test(f));
    expect(main).toHaveLength(1);
    const text = readFileSync(path.join(assets, main[0]), 'utf8');
    expect(text).toContain('Minified React error');
    expect(text).not.toContain('in strict mode is not recommended');
  });

  it('marks each entry of the workflow rule page with its entry', () => {
    for (const entry of ['create', 'edit', 'view']) {
      const html = readFileSync(path.join(staticDir, 'gate-config', 'dist', entry, 'index.html'), 'utf8');
      expect(html).toContain(`data-entry="${entry}"`);
    }
  });

  it('ships the issue panel icon the manifest refers to', () => {
    const manifest = readFileSync(path.join(repoDir, 'manifest.yml'), 'utf8');
    expect(manifest).toContain('icon: resource:issue-panel;icon.svg');
    const svg = readFileSync(path.join(staticDir, 'issue-panel', 'dist', 'icon.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  });
});
