// Shared setup for the local host tests: the fixture app, a bare platform for driving the real
// @forge/* packages directly inside an invocation, and a Node stand-in for the browser pieces
// the bridge client needs (document.currentScript, EventSource).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { createKvsStore } from '../../dev/host/kvs.mjs';
import { readManifest } from '../../dev/host/manifest.mjs';
import { createRealtimeHub } from '../../dev/host/realtime.mjs';
import { createPlatform } from '../../dev/host/runtime.mjs';
import { startHost } from '../../dev/host/server.mjs';
import { ACCOUNTS, createJiraSite } from '../../dev/host/jira/index.mjs';

export { ACCOUNTS };
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURE_DIR = path.join(REPO, 'tests', 'host', 'fixture');
export const FIXTURE_OUT = path.join(REPO, 'build', 'forge-fixture');

/** A clock the tests move by hand. */
export function manualClock(start = Date.UTC(2026, 10, 22, 10, 0, 0)) {
  let t = start;
  const now = () => t;
  now.advance = (ms) => {
    t += ms;
  };
  return now;
}

/**
 * A stand-in for the Incode sandbox (dev/host/incode is tested on its own): answers every API
 * call with 200 and records what it received.
 */
export function incodeStandIn() {
  const requests = [];
  const factory = ({ baseUrl }) => ({
    baseUrl,
    requests,
    async handleApi(request) {
      requests.push(request);
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ interviewId: 'int-1', url: `${baseUrl}/incode/session/int-1`, seen: request.url }),
      };
    },
    handlePage(req, res) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<h1>Incode sandbox stand-in</h1>');
    },
  });
  factory.requests = requests;
  return factory;
}

export function tempDir(prefix = 'forge-host-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Starts a host on the fixture app (bundled once into build/forge-fixture). */
export function startFixtureHost(options = {}) {
  return startHost({
    appDir: FIXTURE_DIR,
    outDir: FIXTURE_OUT,
    memory: !options.dataDir,
    createIncode: incodeStandIn(),
    ...options,
  });
}

/**
 * A platform without an HTTP server or bundled functions: `run(fn, meta)` executes `fn` as one
 * invocation, so a test can call the real SDK packages (@forge/kvs, @forge/api...) directly.
 */
export function barePlatform({ latencyMs = 0, now = Date.now, kvsFile, accountId = ACCOUNTS.alex } = {}) {
  const manifest = readManifest(FIXTURE_DIR);
  const ids = { installationId: 'inst-test', cloudId: 'cloud-test', environmentId: 'env-test' };
  const kvs = createKvsStore({ ...(kvsFile ? { file: kvsFile } : { memory: true }), now, entities: manifest.entities });
  const jira = createJiraSite({ manifestPath: manifest.file, clock: now });
  const realtime = createRealtimeHub({ installationId: ids.installationId, now });
  const incode = incodeStandIn()({ baseUrl: 'http://127.0.0.1:1' });
  const platform = createPlatform({ manifest, ids, baseUrl: () => 'http://127.0.0.1:1', jira, kvs, realtime, incode: () => incode, latencyMs });
  const run = (fn, meta = {}) =>
    platform.run(
      {
        kind: 'resolver',
        functionKey: 'fixture-resolver',
        name: 'test',
        moduleKey: 'fixture-panel',
        accountId,
        timeoutMs: 10_000,
        ...meta,
      },
      fn,
    );
  return { platform, kvs, jira, realtime, incode, run, manifest };
}

/** Runs `fn` and returns the error it throws (fails when it does not throw). */
export async function rejection(fn) {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Minimal EventSource over fetch (Node 20 has none), enough for the bridge client. */
export function eventSourceFor(base) {
  return class EventSource {
    static CLOSED = 2;
    constructor(url) {
      this.readyState = 0;
      this.controller = new AbortController();
      this.onmessage = null;
      this.onerror = null;
      this.opened = fetch(new URL(url, base), { signal: this.controller.signal })
        .then(async (response) => {
          if (!response.ok) throw new Error(`EventSource: ${response.status}`);
          this.readyState = 1;
          const decoder = new TextDecoder();
          let buffer = '';
          for await (const chunk of response.body) {
            buffer += decoder.decode(chunk, { stream: true });
            let split;
            while ((split = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, split);
              buffer = buffer.slice(split + 2);
              const data = block
                .split('\n')
                .filter((l) => l.startsWith('data: '))
                .map((l) => l.slice(6))
                .join('\n');
              if (data && this.onmessage) this.onmessage({ data });
            }
          }
          this.readyState = 2;
        })
        .catch((error) => {
          this.readyState = 2;
          if (error.name !== 'AbortError' && this.onerror) this.onerror(error);
        });
    }
    close() {
      this.readyState = 2;
      this.controller.abort();
    }
  };
}

/**
 * Loads dev/host/bridge-client.js as a page would (a classic script whose URL carries the frame
 * token) and returns the `__bridge` it defines, plus the messages it posted to the shell.
 */
export function loadBridgeClient(hostUrl, frameSrc, clientSrc = undefined) {
  const pageUrl = new URL(frameSrc, hostUrl);
  const token = pageUrl.searchParams.get('frame');
  const shellMessages = [];
  const listeners = [];
  const sandbox = {
    URL,
    // This realm's JSON, so what the host answers compares equal to the tests' own objects.
    JSON,
    TextDecoder,
    // Node keeps the process alive while a BroadcastChannel is open; a page would not.
    BroadcastChannel: class extends BroadcastChannel {
      constructor(name) {
        super(name);
        this.unref();
      }
    },
    Promise,
    console,
    document: {
      currentScript: { src: new URL(clientSrc ?? `/__bridge/client.js?frame=${encodeURIComponent(token)}`, hostUrl).href },
      addEventListener: (type, listener) => listeners.push({ type, listener, on: 'document' }),
    },
    location: { href: pageUrl.href, origin: pageUrl.origin },
    fetch: (input, init) => fetch(new URL(input, hostUrl), init),
    EventSource: eventSourceFor(hostUrl),
  };
  const parent = { postMessage: (message, origin) => shellMessages.push({ message, origin }) };
  sandbox.window = { parent, addEventListener: (type, listener) => listeners.push({ type, listener, on: 'window' }) };
  sandbox.globalThis = sandbox;
  vm.createContext(sandbox);
  vm.runInContext(fs.readFileSync(path.join(REPO, 'dev', 'host', 'bridge-client.js'), 'utf8'), sandbox, { filename: 'bridge-client.js' });
  /** Posts `data` to the page as the shell (or, with `from`, another window) would. */
  const deliver = (data, { from = parent, origin = pageUrl.origin } = {}) => {
    for (const l of listeners) if (l.on === 'window' && l.type === 'message') l.listener({ data, source: from, origin });
  };
  return { bridge: sandbox.__bridge, shellMessages, token, deliver };
}

/**
 * Loads a modal's page from the `src` its opener's `openModal` message carried, with the bridge
 * client the host injects into it (as the shell's modal frame would).
 */
export async function openModalPage(host, src) {
  const html = await (await fetch(new URL(src, host.url))).text();
  const clientSrc = /<script src="(\/__bridge\/client\.js\?[^"]+)"/.exec(html)?.[1].replace(/&amp;/g, '&');
  if (!clientSrc) throw new Error(`no bridge client in the modal page: ${html.slice(0, 200)}`);
  const client = loadBridgeClient(host.url, src, clientSrc);
  return { src, ...client, forge: forgeBridgeFor(client.bridge) };
}

/** Waits until `predicate()` is truthy (polling), or fails after `ms`. */
export async function eventually(predicate, ms = 2000, what = 'condition') {
  const until = Date.now() + ms;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The real @forge/bridge bound to one page's `__bridge` (it reads `globalThis.__bridge` when it
 * loads, so each page gets a fresh copy of the package's modules).
 */
export function forgeBridgeFor(pageBridge) {
  const require = createRequire(import.meta.url);
  const root = path.resolve(path.dirname(require.resolve('@forge/bridge')), '..');
  for (const key of Object.keys(require.cache)) if (key.startsWith(root)) delete require.cache[key];
  const previous = globalThis.__bridge;
  globalThis.__bridge = pageBridge;
  try {
    return require('@forge/bridge');
  } finally {
    globalThis.__bridge = previous;
  }
}

/** Opens a frame the way the shell does and loads the bridge client and @forge/bridge for it. */
export async function openPage(host, { accountId, moduleKey = 'fixture-panel', issueKey, theme = 'light' }) {
  const response = await fetch(`${host.url}/__host/frames`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accountId, moduleKey, issueKey, theme }),
  });
  if (!response.ok) throw new Error(`frame: ${response.status} ${await response.text()}`);
  const frame = await response.json();
  const client = loadBridgeClient(host.url, frame.src);
  return { ...frame, ...client, forge: forgeBridgeFor(client.bridge) };
}
