#!/usr/bin/env node
// Runs the local Forge host:
//   node dev/host/main.mjs [--port 8080] [--data dev/.data | --memory] [--latency 0]
//                          [--incode sandbox|live] [--no-seed] [--app <dir>] [--brief]
//                          [--log-format readable|json] [--log-file <file>]
// --brief prints only the one URL to open (dev/run.sh): the shell shows the rest.
// What the functions log is printed one readable line per entry (JSON lines with
// --log-format json); --log-file also appends it as JSON lines to a file.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogPrinter } from './logs.mjs';
import { readManifest } from './manifest.mjs';
import { startHost, REPO_ROOT } from './server.mjs';

const USAGE = `usage: node dev/host/main.mjs [--port N] [--data DIR | --memory] [--latency MS] [--incode sandbox|live] [--no-seed] [--app DIR] [--brief] [--log-format readable|json] [--log-file FILE]`;

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
      brief: { type: 'boolean', default: false },
      'log-format': { type: 'string', default: 'readable' },
      'log-file': { type: 'string' },
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
if (!['readable', 'json'].includes(parsed['log-format'])) fail('--log-format must be readable or json');

const appDir = parsed.app ? path.resolve(parsed.app) : REPO_ROOT;
const dataDir = parsed.memory ? undefined : path.resolve(parsed.data ?? path.join(appDir, 'dev', '.data'));

const log = (line) => process.stderr.write(`[host] ${line}\n`);
let host;
let printLog;
try {
  printLog = createLogPrinter({
    format: parsed['log-format'],
    file: parsed['log-file'] ? path.resolve(parsed['log-file']) : undefined,
    functionKeys: readManifest(appDir).functions.keys(),
    write: (line) => process.stdout.write(`${line}\n`),
  });
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
    onFunctionLog: printLog,
  });
} catch (error) {
  if (error?.code === 'EADDRINUSE') {
    process.stderr.write(`Port ${port} is already in use: stop what is listening there, or choose another port (PORT=${port + 1} dev/run.sh, or --port).\n`);
  } else {
    process.stderr.write(`The local Forge host could not start: ${error?.stack ?? error}\n`);
  }
  process.exit(1);
}

const credentials = host.incode?.credentials;
const lines = parsed.brief
  ? [
      '',
      'Incode Identity Verification is running on a local Jira site. Open:',
      '',
      `    ${host.url}/`,
      '',
      `Switch users at the top right; "Getting started" there walks through the whole story.`,
      `Data: ${dataDir ?? '(in memory)'}${dataDir ? ' (stop, delete it and start again for a fresh site)' : ''}. Ctrl+C stops.`,
    ]
  : [
      `Local Forge host: ${host.url}/`,
      `  data:        ${dataDir ?? '(in memory)'}`,
      `  incode:      ${parsed.incode === 'sandbox' ? `sandbox, inbox at ${host.url}/incode/` : 'live (real Incode hosts)'}`,
      ...[...host.manifest.webtriggers.keys()].map((key) => `  webtrigger:  ${key} ${host.webtriggerUrl(key)}`),
    ];
if (credentials && !parsed.brief)
  lines.push(
    `  sandbox credentials: ${Object.entries(credentials)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
if (latencyMs && !parsed.brief) lines.push(`  latency:     ${latencyMs} ms per platform call`);
process.stdout.write(`${lines.join('\n')}\n`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await host.stop();
    printLog.close();
    process.exit(0);
  });
}
