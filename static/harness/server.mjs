// Dev-only harness server (never deployed): serves the BUILT pages (static/*/dist) exactly as
// Forge would, with the harness bridge injected ahead of the page's own script, and an index of
// every scenario. Run `npm run build` first, then `npm run harness` and open the printed URL.
import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCENARIOS } from './scenarios.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const staticDir = path.resolve(here, '..');
export const PAGES = ['issue-panel', 'admin-page', 'portal-panel'];

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

const escapeHtml = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function indexPage() {
  const sections = PAGES.map((page) => {
    const items = SCENARIOS.filter((s) => s.page === page)
      .map((s) => {
        const href = (theme) => `/${page}/?scenario=${encodeURIComponent(s.id)}&theme=${theme}`;
        return `<li>${escapeHtml(s.title)} <code>${escapeHtml(s.id)}</code> — <a href="${href('light')}">light</a> · <a href="${href('dark')}">dark</a></li>`;
      })
      .join('\n');
    return `<h2>${page}</h2><ul>${items}</ul>`;
  }).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>UI harness</title>
<style>body{font:14px/1.5 system-ui,sans-serif;margin:24px;max-width:900px}code{color:#555}</style></head>
<body><h1>Incode Identity Verification — UI harness</h1>
<p>The built pages (<code>npm run build</code>) with canned resolver answers. Add <code>&amp;delay=1500</code> to slow every call.</p>
${sections}</body></html>`;
}

/** Resolves a URL path inside `root`, or null when it would leave it. */
function inside(root, urlPath) {
  const target = path.resolve(root, `.${path.posix.normalize(`/${urlPath}`)}`);
  return target === root || target.startsWith(`${root}${path.sep}`) ? target : null;
}

async function sendFile(res, file, transform) {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a file');
    let body = await readFile(file);
    if (transform) body = Buffer.from(transform(body.toString('utf8')));
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }
}

const injectBridge = (html) => html.replace(/<head>/i, '<head>\n    <script type="module" src="/harness/bridge.mjs"></script>');

async function handle(req, res) {
  const url = new URL(req.url, 'http://harness');
  const parts = url.pathname.split('/').filter(Boolean);
  if (parts.length === 0) {
    res.writeHead(200, { 'content-type': TYPES['.html'] });
    res.end(indexPage());
    return;
  }
  const [first, ...rest] = parts;
  if (first === 'favicon.ico') {
    res.writeHead(204);
    res.end();
    return;
  }
  if (first === 'harness') {
    const file = inside(here, rest.join('/'));
    if (file && /\.(mjs|js)$/.test(file)) return sendFile(res, file);
  } else if (PAGES.includes(first)) {
    if (url.pathname === `/${first}`) {
      res.writeHead(301, { location: `/${first}/${url.search}` });
      res.end();
      return;
    }
    const dist = path.join(staticDir, first, 'dist');
    const rel = rest.join('/') || 'index.html';
    const file = inside(dist, rel);
    if (file) return sendFile(res, file, rel === 'index.html' ? injectBridge : undefined);
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found');
}

/** Starts the server on 127.0.0.1; `port` 0 picks a free one. */
export function startHarnessServer({ port = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      handle(req, res).catch((e) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(e));
      });
    });
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolve({ url: `http://127.0.0.1:${actual}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.HARNESS_PORT ?? 5179);
  const { url } = await startHarnessServer({ port });
  console.log(`UI harness on ${url}/ (Ctrl-C to stop)`);
}
