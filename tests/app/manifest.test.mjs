// The manifest as Forge checks it: @forge/manifest's FULL validation (schema, handlers, resource
// folders), @forge/lint's client-side linters offline against Atlassian's Jira REST spec (every
// fixed Jira route the code calls is covered by a scope), egress to Incode hosts only, and the
// narrowest scopes the app needs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { readManifest } from '../../dev/host/manifest.mjs';
import { loadFunctions } from '../../dev/host/functions.mjs';

const require = createRequire(import.meta.url);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const JIRA_SPEC = path.resolve(REPO, 'dev/host/jira/jira-platform.v3.json');
const YAML = require('yaml');

/** The scopes the app needs, and why (each is exercised by the end-to-end tests). */
const EXPECTED_SCOPES = [
  'read:jira-work', // mypermissions, issue fields, comments, transitions (GET)
  'write:jira-work', // comments, transitions (POST), the issue property
  'read:jira-user', // emails and names, agent group membership, myself
  'read:workflow:jira', // workflow transition names for the settings page
  'storage:app', // Forge KVS
  'report:personal-data', // the weekly personal-data report
];

let appDir;
let manifestText;

before(() => {
  // A copy of the app whose Custom UI folders exist even when the UI has not been built here
  // (FULL validation requires them); everything else is the repository's own files.
  appDir = fs.mkdtempSync(path.join(os.tmpdir(), 'incode-manifest-'));
  manifestText = fs.readFileSync(path.join(REPO, 'manifest.yml'), 'utf8');
  fs.writeFileSync(path.join(appDir, 'manifest.yml'), manifestText);
  fs.symlinkSync(path.join(REPO, 'src'), path.join(appDir, 'src'));
  fs.mkdirSync(path.join(appDir, 'probe'));
  fs.copyFileSync(path.join(REPO, 'tests/app/fixtures/lint-probe.js'), path.join(appDir, 'probe/lint-probe.js'));
  fs.writeFileSync(path.join(appDir, 'package.json'), fs.readFileSync(path.join(REPO, 'package.json')));
  for (const resource of YAML.parse(manifestText).resources) {
    const target = path.join(appDir, resource.path);
    fs.mkdirSync(target, { recursive: true });
    const built = path.join(REPO, resource.path);
    if (fs.existsSync(path.join(built, 'index.html'))) {
      for (const file of fs.readdirSync(built)) fs.cpSync(path.join(built, file), path.join(target, file), { recursive: true });
    } else {
      fs.writeFileSync(path.join(target, 'index.html'), '<!doctype html><title>placeholder</title>');
      fs.writeFileSync(path.join(target, 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    }
  }
});

after(() => {
  if (appDir) fs.rmSync(appDir, { recursive: true, force: true });
});

test('@forge/manifest FULL validation passes', async () => {
  const { ProcessorBuilder, ValidationTypes } = require('@forge/manifest');
  const cwd = process.cwd();
  process.chdir(appDir);
  try {
    const result = await ProcessorBuilder.instance().withValidation(ValidationTypes.FULL).build().process(path.join(appDir, 'manifest.yml'));
    assert.deepEqual(result.errors ?? [], [], JSON.stringify(result.errors, null, 2));
    assert.equal(result.success, true);
  } finally {
    process.chdir(cwd);
  }
});

test('every function handler is exported by the bundled entry (as Forge bundles it)', async () => {
  const manifest = readManifest(REPO);
  const { handlers, bundles } = await loadFunctions({ appDir: REPO, manifest });
  assert.deepEqual([...handlers.keys()].sort(), [
    'admin-resolver',
    'audit-retention',
    'expiry-sweep',
    'gate',
    'gate-rule-resolver',
    'panel-resolver',
    'portal-resolver',
    'privacy-report',
    'webhook',
    'webhook-token',
  ]);
  // Each handler's file is its own bundle, carrying only the wasm module its code imports: the
  // webhook loads the core module alone (its size budget); every other function the console
  // module, which holds all of the core module too.
  const modulesIn = (/** @type {string} */ file) => ['core', 'console'].filter((m) => fs.readFileSync(file, 'utf8').includes(`the ${m} wasm module`));
  const loads = Object.fromEntries([...manifest.functions.values()].map((f) => [f.key, modulesIn(bundles[f.moduleName])]));
  assert.deepEqual(loads, {
    'panel-resolver': ['console'],
    'admin-resolver': ['console'],
    'portal-resolver': ['console'],
    webhook: ['core'],
    'webhook-token': ['console'],
    'privacy-report': ['console'],
    gate: ['console'],
    'gate-rule-resolver': ['console'],
    'audit-retention': ['console'],
    'expiry-sweep': ['console'],
  });
  const raw = YAML.parse(manifestText);
  assert.deepEqual(raw.modules.scheduledTrigger, [
    { key: 'incode-privacy-report', function: 'privacy-report', interval: 'week' },
    { key: 'incode-audit-retention', function: 'audit-retention', interval: 'day' },
    { key: 'incode-expiry-sweep', function: 'expiry-sweep', interval: 'hour' },
  ]);
  assert.ok(
    raw.modules.webtrigger.every((w) => w.response?.type === 'dynamic'),
    'webtriggers choose their status codes',
  );
});

test('the app asks for the narrowest scopes and reaches only Incode hosts', () => {
  const raw = YAML.parse(manifestText);
  assert.deepEqual([...raw.permissions.scopes].sort(), [...EXPECTED_SCOPES].sort());
  for (const broad of ['manage:jira-configuration', 'manage:jira-project', 'write:jira-user', 'read:me']) {
    assert.ok(!raw.permissions.scopes.includes(broad), `no ${broad}`);
  }
  const backend = raw.permissions.external.fetch.backend;
  assert.ok(
    backend.every((b) => typeof b === 'object' && typeof b.address === 'string'),
    'egress entries are objects',
  );
  assert.deepEqual(backend.map((b) => b.address).sort(), ['https://*.incode.com', 'https://*.incodesmile.com']);
  assert.equal(raw.permissions.external.fetch.client, undefined, 'the browser fetches nothing itself');

  const { EgressFilteringService } = require('@forge/egress');
  const egress = new EgressFilteringService(backend.map((b) => b.address));
  for (const url of [
    'https://demo-api.incodesmile.com/omni/b2b/onboarding/request-new',
    'https://saas-api.incodesmile.com/x',
    'https://auth.demo.incode.com/oauth2/token',
    'https://auth.incode.com/oauth2/token',
  ]) {
    assert.equal(egress.isValidUrl(url), true, url);
  }
  for (const url of ['https://evil.example.com/', 'https://incodesmile.com.evil.example/', 'http://demo-api.incodesmile.com/']) {
    assert.equal(egress.isValidUrl(url), false, url);
  }
});

/**
 * Runs @forge/lint's client-side linters offline over the app's sources (and `extra` files);
 * returns the problems as "file:line message".
 */
async function lintOffline(manifest, extra = []) {
  const empty = path.join(appDir, 'empty-spec.json');
  fs.writeFileSync(empty, JSON.stringify({ paths: {} }));
  Object.assign(process.env, {
    USE_LOCAL_SWAGGER: '1',
    LOCAL_JIRA_SWAGGER: JIRA_SPEC,
    // This app calls no Confluence, Bitbucket, JSM or Software REST API; empty specs stand in.
    LOCAL_JSM_SWAGGER: empty,
    LOCAL_JSW_SWAGGER: empty,
    LOCAL_CONF_SWAGGER: empty,
    LOCAL_CONF_V2_SWAGGER: empty,
    LOCAL_BB_SWAGGER: empty,
  });
  const { lint, getClientSideLintersOnly } = require('@forge/lint');
  const { StatsigReader } = require('@forge/cli-shared');
  // NOTE: the CLI reads feature flags from Atlassian's flag service; offline, every flag takes
  // its built-in default, which is what a reader that knows no flags answers.
  class OfflineFlags extends StatsigReader {
    async checkGate() {
      return undefined;
    }
    async getDynamicConfig() {
      return undefined;
    }
  }
  const logger = { info() {}, warn() {}, debug() {}, error() {}, trace() {} };
  const cwd = process.cwd();
  process.chdir(appDir);
  try {
    const files = fs
      .readdirSync(path.join(appDir, 'src'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => `src/${f}`)
      .concat(extra);
    // The manifest linters re-run the schema validation of the FULL test above (minutes of CPU
    // for the same verdict); every linter of the source code runs.
    const linters = (await getClientSideLintersOnly(manifest, 'development', logger, new OfflineFlags())).filter(
      (linter) => !/ManifestLinter$/.test(linter.constructor.name),
    );
    assert.ok(linters.some((l) => l.constructor.name === 'PermissionLinter'));
    const results = await lint(files, manifest, 'development', logger, new OfflineFlags(), { linter: { mode: 'client-side' }, linters });
    return results.flatMap((r) => r.errors.map((e) => `${r.file}:${e.line} ${e.message} (${e.reference})`));
  } finally {
    process.chdir(cwd);
  }
}

test('forge lint (client-side source linters, offline) finds no problem', async () => {
  assert.ok(fs.existsSync(JIRA_SPEC), `the Jira REST spec is at ${JIRA_SPEC}`);
  assert.deepEqual(await lintOffline(YAML.parse(manifestText)), []);
});

// The calls the core plans are built in Rust, out of forge lint's sight: rust/tests/core_vectors.rs
// checks each against the manifest's scopes. This shows the linter does check the routes it sees.
test('forge lint really checks the routes: without a scope, the calls that need it are reported', async () => {
  for (const [scope, route] of [['read:jira-work', '/rest/api/3/mypermissions']]) {
    const manifest = YAML.parse(manifestText);
    manifest.permissions.scopes = manifest.permissions.scopes.filter((s) => s !== scope);
    const problems = await lintOffline(manifest, ['probe/lint-probe.js']);
    assert.ok(
      problems.some((p) => p.includes(route) && p.includes('permission-scope-required')),
      `${scope}: ${JSON.stringify(problems)}`,
    );
  }
});
