// Bundles an app's functions the way `forge deploy` does for the Node runtime (through
// dev/forge-bundle.mjs, i.e. @forge/bundler's own webpack configuration), loads the `.cjs`
// bundles and maps the manifest's function keys to their handlers.
//
// A bundle is rebuilt only when its inputs changed (the contents of src/, the manifest, the
// lockfile and the bundler configuration; see dev/build-stamp.mjs); concurrent processes share
// one build through a lock directory.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { isFresh, writeStamp } from '../build-stamp.mjs';
import { bundleForge } from '../forge-bundle.mjs';

const require = createRequire(import.meta.url);
const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const SOURCE_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.tsx', '.jsx'];
const LOCK_STALE_MS = 5 * 60_000;

function entryFile(appDir, moduleName) {
  for (const ext of SOURCE_EXTENSIONS) {
    const candidate = path.join(appDir, 'src', `${moduleName}${ext}`);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`The manifest names handler module "${moduleName}" but src/${moduleName}.js (or .ts) does not exist in ${appDir}`);
}

async function withLock(lockDir, fn) {
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      try {
        if (Date.now() - fs.statSync(lockDir).mtimeMs > LOCK_STALE_MS) fs.rmSync(lockDir, { recursive: true, force: true });
      } catch {
        // the holder released it meanwhile
      }
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

const loaded = new Map();

/**
 * Bundles (when needed) and loads the handlers of every function in the manifest.
 * @param {{ appDir: string, manifest: ReturnType<import('./manifest.mjs').readManifest>, outDir?: string }} options
 * @returns {Promise<{ handlers: Map<string, Function>, bundles: Record<string, string>, rebuilt: boolean, recycle: () => void }>}
 */
export async function loadFunctions({ appDir, manifest, outDir = path.join(appDir, 'build', 'forge') }) {
  const moduleNames = [...new Set([...manifest.functions.values()].map((f) => f.moduleName))];
  const entries = Object.fromEntries(moduleNames.map((name) => [name, path.relative(appDir, entryFile(appDir, name))]));
  const stampFile = path.join(outDir, '.build-stamp.json');
  let rebuilt = false;

  const bundles = await withLock(`${outDir}.lock`, async () => {
    const expected = Object.fromEntries(moduleNames.map((name) => [name, path.join(outDir, `${name}.cjs`)]));
    const spec = {
      inputs: [
        path.join(appDir, 'src'),
        path.join(appDir, 'manifest.yml'),
        path.join(REPO_ROOT, 'package-lock.json'),
        path.join(REPO_ROOT, 'dev', 'forge-bundle.mjs'),
      ],
      outputs: Object.values(expected),
    };
    if (isFresh(appDir, stampFile, spec)) return expected;
    fs.rmSync(outDir, { recursive: true, force: true });
    const built = await bundleForge({ appDir, entries, outDir });
    writeStamp(appDir, stampFile, spec);
    rebuilt = true;
    return built;
  });

  const handlers = new Map();
  mapHandlers({ manifest, bundles, handlers });
  /** New function instances: every bundle loaded again, so no module state of the old ones is left. */
  const recycle = () => mapHandlers({ manifest, bundles, handlers, fresh: true });
  return { handlers, bundles, rebuilt, recycle };
}

/**
 * Maps each function key to its handler in `handlers`, loading each bundle once per build (or
 * again when `fresh`, as a cold start of a new instance would).
 */
function mapHandlers({ manifest, bundles, handlers, fresh = false }) {
  const reloaded = new Set();
  for (const fn of manifest.functions.values()) {
    const file = bundles[fn.moduleName];
    const stat = fs.statSync(file);
    const cacheKey = `${file}\0${stat.mtimeMs}`;
    if (fresh && !reloaded.has(file)) loaded.delete(cacheKey);
    if (!loaded.has(cacheKey)) {
      // A rebuilt bundle replaces the old module, as a new deployment replaces a function.
      delete require.cache[require.resolve(file)];
      loaded.set(cacheKey, require(file));
    }
    reloaded.add(file);
    const exported = loaded.get(cacheKey)[fn.exportName];
    if (typeof exported !== 'function') {
      throw new Error(`Function ${fn.key}: src/${fn.moduleName} does not export a function "${fn.exportName}" after bundling`);
    }
    handlers.set(fn.key, exported);
  }
}

// ---------------------------------------------------------------------------------------------
// invocations: the event and context the platform passes to each kind of function

export const RESOLVER_TIMEOUT_MS = 25_000;
export const WEBTRIGGER_TIMEOUT_MS = 55_000;
export const SCHEDULED_TRIGGER_TIMEOUT_MS = 55_000;

/** The `{ statusCode, headers?, body? }` contract of a dynamic webtrigger; a reason if broken. */
export function webtriggerAnswerProblem(answer) {
  if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) return 'the handler did not return an object';
  if (!Number.isInteger(answer.statusCode) || answer.statusCode < 100 || answer.statusCode > 599) {
    return 'statusCode must be an integer HTTP status (100-599)';
  }
  if (answer.headers !== undefined) {
    if (answer.headers === null || typeof answer.headers !== 'object' || Array.isArray(answer.headers)) return 'headers must be an object';
    for (const [name, values] of Object.entries(answer.headers)) {
      if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) return `header ${name} must be a list of strings`;
    }
  }
  if (answer.body !== undefined && typeof answer.body !== 'string') return 'body must be a string';
  return null;
}

/** Groups headers into Forge's `Record<string, string[]>`, keeping the sender's spelling. */
export function webtriggerHeaders(headers) {
  const out = {};
  const byLower = new Map();
  const add = (name, value) => {
    const lower = name.toLowerCase();
    if (!byLower.has(lower)) {
      byLower.set(lower, name);
      out[name] = [];
    }
    out[byLower.get(lower)].push(String(value));
  };
  if (Array.isArray(headers)) {
    // node's rawHeaders: [name, value, name, value, ...]
    for (let i = 0; i + 1 < headers.length; i += 2) add(headers[i], headers[i + 1]);
  } else {
    for (const [name, value] of Object.entries(headers ?? {})) {
      for (const v of Array.isArray(value) ? value : [value]) add(name, v);
    }
  }
  return out;
}

function queryParameters(query) {
  const out = {};
  const params = query instanceof URLSearchParams ? query : typeof query === 'string' ? new URLSearchParams(query) : null;
  if (params) {
    for (const [name, value] of params) (out[name] ??= []).push(value);
    return out;
  }
  for (const [name, value] of Object.entries(query ?? {})) out[name] = (Array.isArray(value) ? value : [value]).map(String);
  return out;
}

/**
 * @param {object} options
 * @param {ReturnType<import('./manifest.mjs').readManifest>} options.manifest
 * @param {Map<string, Function>} options.handlers
 * @param {ReturnType<import('./runtime.mjs').createPlatform>} options.platform
 * @param {{ installationId: string, cloudId: string, environmentId: string }} options.ids
 * @param {() => string} options.siteUrl
 * @param {(accountId: string) => ({ accountType?: string, locale?: string, timeZone?: string } | undefined)} options.lookupUser
 * @param {{ resolver?: number, webtrigger?: number }} [options.timeouts]
 * @param {(line: string) => void} [options.log]
 */
export function createInvoker({ manifest, handlers, platform, ids, siteUrl, lookupUser, timeouts = {}, log = () => {} }) {
  const installContext = `ari:cloud:jira::site/${ids.cloudId}`;

  function resolverTarget(functionKey, moduleKey) {
    const mod = moduleKey ? manifest.uiModules.get(moduleKey) : [...manifest.uiModules.values()].find((m) => m.resolverFunction === functionKey);
    if (!mod) throw new Error(`No Custom UI module ${moduleKey ?? `with resolver ${functionKey}`} in the manifest`);
    const key = functionKey ?? mod.resolverFunction;
    if (!key) throw new Error(`Module ${mod.key} has no resolver`);
    if (mod.resolverFunction !== key) throw new Error(`Module ${mod.key} does not use function ${key} as its resolver`);
    const handler = handlers.get(key);
    if (!handler) throw new Error(`No handler for function ${key}`);
    return { mod, key, handler };
  }

  /**
   * Invokes a resolver as a Custom UI `invoke(functionName, payload)` from module `moduleKey`
   * would, and returns what the browser would receive.
   */
  async function invokeResolver({ functionKey, moduleKey, account, extension = {}, functionName, payload, locale, timezone }) {
    const { mod, key, handler } = resolverTarget(functionKey, moduleKey);
    const accountId = typeof account === 'string' ? account : account?.accountId;
    const user = accountId ? lookupUser(accountId) : undefined;
    const fullExtension = { ...extension, type: mod.type };
    const event = {
      call: { functionKey: functionName, payload: payload ?? {} },
      context: {
        accountId,
        accountType: user?.accountType ?? (accountId ? 'licensed' : 'anonymous'),
        cloudId: ids.cloudId,
        environmentId: ids.environmentId,
        environmentType: 'DEVELOPMENT',
        extension: fullExtension,
        localId: `ari:cloud:ecosystem::extension/${manifest.appId}/${ids.environmentId}/static/${mod.key}`,
        locale: locale ?? user?.locale ?? 'en_US',
        moduleKey: mod.key,
        siteUrl: siteUrl(),
        timezone: timezone ?? user?.timeZone ?? 'UTC',
      },
    };
    const backendContext = { principal: accountId ? { accountId } : undefined, installContext, license: undefined, installation: undefined };
    const result = await platform
      .run(
        {
          kind: 'resolver',
          functionKey: key,
          name: `${key}:${functionName}`,
          moduleKey: mod.key,
          accountId,
          uiContext: { moduleKey: mod.key, extension: fullExtension },
          timeoutMs: timeouts.resolver ?? RESOLVER_TIMEOUT_MS,
        },
        () => handler(event, backendContext),
      )
      .catch((error) => {
        log(`resolver ${key}:${functionName} failed: ${error?.stack ?? error}`);
        throw error;
      });
    // What crosses to the browser is JSON.
    return result === undefined ? undefined : JSON.parse(JSON.stringify(result));
  }

  /**
   * Invokes a webtrigger with an HTTP request and returns the HTTP answer Forge would send.
   * `headers` may be an object (values string or string[]) or node's rawHeaders list.
   */
  async function invokeWebtrigger(webtriggerKey, { method = 'POST', headers = {}, body = '', query = {} } = {}) {
    const trigger = manifest.webtriggers.get(webtriggerKey);
    if (!trigger) return { status: 404, headers: {}, body: '' };
    const handler = handlers.get(trigger.functionKey);
    const params = queryParameters(query);
    const search = new URLSearchParams(Object.entries(params).flatMap(([k, vs]) => vs.map((v) => [k, v]))).toString();
    const request = {
      method: method.toUpperCase(),
      path: `/x/${ids.installationId}/${webtriggerKey}${search ? `?${search}` : ''}`,
      body: typeof body === 'string' ? body : Buffer.from(body).toString('utf8'),
      headers: webtriggerHeaders(headers),
      queryParameters: params,
    };
    const context = { installContext, principal: undefined, license: undefined, installation: undefined };
    let answer;
    try {
      answer = await platform.run(
        {
          kind: 'webtrigger',
          functionKey: trigger.functionKey,
          name: webtriggerKey,
          moduleKey: webtriggerKey,
          timeoutMs: timeouts.webtrigger ?? WEBTRIGGER_TIMEOUT_MS,
        },
        () => handler(request, context),
      );
    } catch (error) {
      log(`webtrigger ${webtriggerKey} failed: ${error?.stack ?? error}`);
      return { status: 500, headers: {}, body: '', error: error?.message ?? String(error) };
    }
    if (!trigger.dynamic) return { status: 204, headers: {}, body: '' };
    const problem = webtriggerAnswerProblem(answer);
    if (problem) {
      log(`webtrigger ${webtriggerKey} returned an invalid response: ${problem}`);
      return { status: 500, headers: {}, body: '', error: `invalid webtrigger response: ${problem}` };
    }
    return { status: answer.statusCode, headers: answer.headers ?? {}, body: answer.body ?? '' };
  }

  /**
   * Runs a scheduled trigger now, as the platform does on its interval: the event carries the
   * site and module, there is no user. Resolves with what the handler returned.
   */
  async function invokeScheduledTrigger(triggerKey) {
    const trigger = manifest.scheduledTriggers.get(triggerKey);
    if (!trigger) throw new Error(`No scheduled trigger ${triggerKey} in the manifest`);
    const handler = handlers.get(trigger.functionKey);
    const event = { context: { cloudId: ids.cloudId, moduleKey: triggerKey } };
    const context = { installContext, principal: undefined, license: undefined, installation: undefined };
    return platform
      .run(
        {
          kind: 'scheduledTrigger',
          functionKey: trigger.functionKey,
          name: triggerKey,
          moduleKey: triggerKey,
          timeoutMs: timeouts.scheduledTrigger ?? SCHEDULED_TRIGGER_TIMEOUT_MS,
        },
        () => handler(event, context),
      )
      .catch((error) => {
        log(`scheduled trigger ${triggerKey} failed: ${error?.stack ?? error}`);
        throw error;
      });
  }

  /**
   * Runs a `jira:workflowValidator` function as Jira does on a transition: the event carries the
   * issue, the rule's configuration and the transition; the context the installation and the
   * user who transitions, whose token the function does not get. Resolves with its answer.
   */
  async function invokeWorkflowValidator({ moduleKey, event, accountId }) {
    const validator = manifest.workflowValidators.get(moduleKey);
    if (!validator?.functionKey) throw new Error(`No function-backed jira:workflowValidator ${moduleKey} in the manifest`);
    const handler = handlers.get(validator.functionKey);
    const context = { installContext, principal: accountId ? { accountId } : undefined, license: undefined, installation: undefined };
    return platform
      .run(
        {
          kind: 'workflowValidator',
          functionKey: validator.functionKey,
          name: moduleKey,
          moduleKey,
          // Jira calls the function, not the user's browser: no user token, so asUser() is
          // refused as in other product events (the context still names the user).
          accountId: undefined,
          timeoutMs: timeouts.resolver ?? RESOLVER_TIMEOUT_MS,
        },
        () => handler(event, context),
      )
      .catch((error) => {
        log(`workflow validator ${moduleKey} failed: ${error?.stack ?? error}`);
        throw error;
      });
  }

  return { invokeResolver, invokeWebtrigger, invokeScheduledTrigger, invokeWorkflowValidator };
}
