#!/usr/bin/env node
// Runs the local Forge host:
//   node dev/host/main.mjs [--port 8080] [--data dev/.data | --memory] [--latency 0]
//                          [--incode sandbox|live] [--no-seed] [--app <dir>]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startHost, REPO_ROOT } from './server.mjs';

const USAGE = `usage: node dev/host/main.mjs [--port N] [--data DIR | --memory] [--latency MS] [--incode sandbox|live] [--no-seed] [--app DIR]`;

function fail(message) {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      data: { type: 'string' },
      memory: { type: 'boolean', default: false },
      latency: { type: 'string', default: '0' },
      incode: { type: 'string', default: 'sandbox' },
      'no-seed': { type: 'boolean', default: false },
      app: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (error) {
  fail(error.message);
}
if (parsed.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const port = Number(parsed.port);
const latencyMs = Number(parsed.latency);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, not ${parsed.port}`);
if (!Number.isFinite(latencyMs) || latencyMs < 0) fail(`--latency must be a number of milliseconds, not ${parsed.latency}`);
if (!['sandbox', 'live'].includes(parsed.incode)) fail('--incode must be sandbox or live');
if (parsed.memory && parsed.data) fail('--memory and --data exclude each other');

const appDir = parsed.app ? path.resolve(parsed.app) : REPO_ROOT;
const dataDir = parsed.memory ? undefined : path.resolve(parsed.data ?? path.join(appDir, 'dev', '.data'));

const log = (line) => process.stderr.write(`[host] ${line}\n`);
let host;
try {
  host = await startHost({
    port,
    hostname: parsed.host,
    dataDir,
    memory: parsed.memory,
    latencyMs,
    incode: parsed.incode,
    seed: !parsed['no-seed'],
    appDir,
    log,
  });
} catch (error) {
  process.stderr.write(`The local Forge host could not start: ${error?.stack ?? error}\n`);
  process.exit(1);
}

const lines = [
  `Local Forge host: ${host.url}/`,
  `  data:        ${dataDir ?? '(in memory)'}`,
  `  incode:      ${parsed.incode === 'sandbox' ? `sandbox, inbox at ${host.url}/incode/` : 'live (real Incode hosts)'}`,
  ...[...host.manifest.webtriggers.keys()].map((key) => `  webtrigger:  ${key} ${host.webtriggerUrl(key)}`),
];
const credentials = host.incode?.credentials;
if (credentials) lines.push(`  sandbox credentials: ${Object.entries(credentials).map(([k, v]) => `${k}=${v}`).join(' ')}`);
if (latencyMs) lines.push(`  latency:     ${latencyMs} ms per platform call`);
process.stdout.write(`${lines.join('\n')}\n`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await host.stop();
    process.exit(0);
  });
}
