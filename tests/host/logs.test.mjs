// Function logs as the platform collects them: what a function writes to the console is kept by
// the host per invocation (tests read it, nothing reaches the test runner's output); the command
// line prints it as one readable line per entry, or as JSON lines with --log-format json or into
// --log-file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatReadable } from '../../dev/host/logs.mjs';
import { FIXTURE_DIR, REPO, startFixtureHost, tempDir } from './helpers.mjs';

describe('in the host', () => {
  let host;
  before(async () => {
    host = await startFixtureHost();
  });
  after(() => host.stop());

  it("keeps a function's console output with its invocation and writes none of it to the process", async () => {
    const written = [];
    const writes = { out: process.stdout.write, err: process.stderr.write };
    process.stdout.write = (chunk, ...rest) => (written.push(String(chunk)), writes.out.call(process.stdout, '', ...rest));
    process.stderr.write = (chunk, ...rest) => (written.push(String(chunk)), writes.err.call(process.stderr, '', ...rest));
    let answer;
    try {
      answer = await host.invokeWebtrigger('fixture-hook', { method: 'POST', query: { mode: 'log' } });
    } finally {
      process.stdout.write = writes.out;
      process.stderr.write = writes.err;
    }
    assert.equal(answer.status, 204);
    assert.deepEqual(written, [], 'nothing printed');
    const entries = host.logs.filter((entry) => entry.invocationId === host.stats.last().id);
    assert.deepEqual(
      entries.map(({ functionKey, level, message }) => ({ functionKey, level, message })),
      [
        { functionKey: 'hook', level: 'log', message: '{"event":"fixture.logged","verdict":"accepted","count":2}' },
        { functionKey: 'hook', level: 'warn', message: 'a plain warning' },
      ],
    );
    assert.ok(entries.every((entry) => Number.isFinite(entry.at)));
  });

  it('leaves console output outside an invocation alone', () => {
    const seen = [];
    const original = process.stdout.write;
    process.stdout.write = (chunk) => seen.push(String(chunk));
    try {
      console.log('the host itself');
    } finally {
      process.stdout.write = original;
    }
    assert.deepEqual(seen, ['the host itself\n']);
  });
});

describe('the readable format', () => {
  const at = new Date(2026, 10, 22, 12, 4, 31).getTime();

  it('prints the time, the function, the event and its fields on one line', () => {
    const entry = { at, functionKey: 'webhook', level: 'log', message: '{"event":"webhook.delivery","verdict":"accepted","attempt":1,"issueKey":"HELP-1"}' };
    assert.equal(formatReadable(entry, 14), `12:04:31 ${'webhook'.padEnd(14)} webhook.delivery verdict=accepted attempt=1 issueKey=HELP-1`);
  });

  it('keeps free text, names warnings and errors, and quotes values with spaces', () => {
    assert.equal(formatReadable({ at, functionKey: 'panel-resolver', level: 'error', message: 'boom\nat x' }, 0), '12:04:31 panel-resolver ERROR boom ⏎ at x');
    assert.equal(
      formatReadable({ at, functionKey: 'hook', level: 'warn', message: '{"event":"x.y","reason":"two words"}' }, 0),
      '12:04:31 hook WARN x.y reason="two words"',
    );
  });
});

describe('the command line', () => {
  /** Starts main.mjs on the fixture app with `args`, calls the logging webtrigger, stops it. */
  async function run(args) {
    const child = spawn(process.execPath, [path.join(REPO, 'dev/host/main.mjs'), '--port', '0', '--memory', '--app', FIXTURE_DIR, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      const url = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${out} ${err}`)), 60_000);
        child.stdout.on('data', () => {
          const match = /webtrigger: {2}fixture-hook (http:\S+)/.exec(out);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      const before = out.length;
      assert.equal((await fetch(`${url}?mode=log`, { method: 'POST' })).status, 204);
      for (let i = 0; i < 50 && !out.slice(before).includes('plain warning'); i += 1) await new Promise((r) => setTimeout(r, 20));
      return { logged: out.slice(before), err };
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  }

  it('prints readable one-line logs by default', async () => {
    const { logged } = await run([]);
    const lines = logged.trim().split('\n');
    assert.equal(lines.length, 2, logged);
    assert.match(lines[0], /^\d\d:\d\d:\d\d hook +fixture\.logged verdict=accepted count=2$/);
    assert.match(lines[1], /^\d\d:\d\d:\d\d hook +WARN a plain warning$/);
  });

  it('prints JSON lines with --log-format json, and appends them to --log-file', async () => {
    const json = await run(['--log-format', 'json']);
    const entries = json.logged
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      entries.map(({ function: fn, level, event, verdict, count, message }) => ({ fn, level, event, verdict, count, message })),
      [
        { fn: 'hook', level: 'log', event: 'fixture.logged', verdict: 'accepted', count: 2, message: undefined },
        { fn: 'hook', level: 'warn', event: undefined, verdict: undefined, count: undefined, message: 'a plain warning' },
      ],
    );
    assert.ok(entries.every((entry) => !Number.isNaN(Date.parse(entry.time))));

    const file = path.join(tempDir(), 'functions.log');
    const readable = await run(['--log-file', file]);
    assert.match(readable.logged, /hook +fixture\.logged verdict=accepted/);
    const saved = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      saved.map((e) => e.event ?? e.message),
      ['fixture.logged', 'a plain warning'],
    );
  });

  it('refuses an unknown log format', async () => {
    const child = spawn(process.execPath, [path.join(REPO, 'dev/host/main.mjs'), '--log-format', 'xml'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    assert.equal(await new Promise((resolve) => child.on('exit', resolve)), 2);
    assert.match(err, /--log-format must be readable or json/);
  });
});
