// Reads an app's manifest.yml into what the local host needs: functions and their handlers,
// webtriggers, Custom UI modules with their resources and resolvers, egress permissions.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const YAML = require('yaml');

/** Module types that render a Custom UI resource in the product. */
const UI_MODULE_TYPES = new Set([
  'jira:issuePanel',
  'jira:issueGlance',
  'jira:issueContext',
  'jira:issueActivity',
  'jira:adminPage',
  'jira:projectPage',
  'jira:projectSettingsPage',
  'jira:globalPage',
  'jira:issueAction',
  'jiraServiceManagement:portalRequestDetailPanel',
  'jiraServiceManagement:portalRequestDetail',
  'jiraServiceManagement:portalFooter',
  'jiraServiceManagement:queuePage',
]);

/**
 * @param {string} appDir directory holding manifest.yml
 */
export function readManifest(appDir) {
  const file = path.join(appDir, 'manifest.yml');
  const raw = YAML.parse(fs.readFileSync(file, 'utf8'));
  const modules = raw.modules ?? {};

  const functions = new Map();
  for (const fn of modules.function ?? []) {
    const [moduleName, exportName] = String(fn.handler).split('.');
    if (!moduleName || !exportName) throw new Error(`${file}: function ${fn.key} has an invalid handler "${fn.handler}"`);
    functions.set(fn.key, { key: fn.key, handler: fn.handler, moduleName, exportName });
  }

  const webtriggers = new Map();
  for (const trigger of modules.webtrigger ?? []) {
    if (!functions.has(trigger.function)) throw new Error(`${file}: webtrigger ${trigger.key} names unknown function ${trigger.function}`);
    webtriggers.set(trigger.key, { key: trigger.key, functionKey: trigger.function, dynamic: trigger.response?.type === 'dynamic' });
  }

  const scheduledTriggers = new Map();
  for (const trigger of modules.scheduledTrigger ?? []) {
    if (!functions.has(trigger.function)) throw new Error(`${file}: scheduled trigger ${trigger.key} names unknown function ${trigger.function}`);
    scheduledTriggers.set(trigger.key, { key: trigger.key, functionKey: trigger.function, interval: trigger.interval ?? null });
  }

  // Workflow rules: a validator runs a function or a Jira expression; a condition is a Jira
  // expression only (Forge never calls a function for it, so one named there would gate nothing).
  const workflowValidators = new Map();
  for (const mod of modules['jira:workflowValidator'] ?? []) {
    if (!mod.function === !mod.expression) throw new Error(`${file}: jira:workflowValidator ${mod.key} needs a function or an expression (exactly one)`);
    if (mod.function && !functions.has(mod.function)) throw new Error(`${file}: jira:workflowValidator ${mod.key} names unknown function ${mod.function}`);
    workflowValidators.set(mod.key, { key: mod.key, functionKey: mod.function ?? null, expression: mod.expression ?? null });
  }
  for (const mod of modules['jira:workflowCondition'] ?? []) {
    if (mod.function || typeof mod.expression !== 'string') {
      throw new Error(`${file}: jira:workflowCondition ${mod.key} needs an expression (Forge workflow conditions are Jira expressions, not functions)`);
    }
  }

  const resources = new Map();
  for (const resource of raw.resources ?? []) resources.set(resource.key, path.resolve(appDir, resource.path));

  const uiModules = new Map();
  for (const [type, list] of Object.entries(modules)) {
    if (!UI_MODULE_TYPES.has(type)) continue;
    for (const mod of list ?? []) {
      if (!mod.resource) continue;
      if (!resources.has(mod.resource)) throw new Error(`${file}: module ${mod.key} names unknown resource ${mod.resource}`);
      const resolverFunction = mod.resolver?.function ?? null;
      if (resolverFunction && !functions.has(resolverFunction)) {
        throw new Error(`${file}: module ${mod.key} names unknown resolver function ${resolverFunction}`);
      }
      uiModules.set(mod.key, { key: mod.key, type, resource: mod.resource, resolverFunction, title: mod.title ?? mod.key });
    }
  }
  // A workflow rule's Custom UI: its create, edit and view pages, each a resource, which Jira's
  // workflow editor draws (never a page of its own).
  for (const type of ['jira:workflowValidator', 'jira:workflowCondition']) {
    for (const mod of modules[type] ?? []) {
      const pages = {};
      for (const entry of ['create', 'edit', 'view']) {
        if (mod[entry] === undefined) continue;
        const resource = mod[entry]?.resource;
        if (!resources.has(resource)) throw new Error(`${file}: ${type} ${mod.key} ${entry} names unknown resource ${resource}`);
        pages[entry] = resource;
      }
      if (!Object.keys(pages).length) continue;
      const resolverFunction = mod.resolver?.function ?? null;
      if (resolverFunction && !functions.has(resolverFunction)) {
        throw new Error(`${file}: ${type} ${mod.key} names unknown resolver function ${resolverFunction}`);
      }
      uiModules.set(mod.key, { key: mod.key, type, resource: null, pages, resolverFunction, title: mod.name ?? mod.key });
    }
  }

  const backend = raw.permissions?.external?.fetch?.backend ?? [];
  const egress = backend.map((entry) => (typeof entry === 'string' ? entry : entry.address)).filter(Boolean);
  const appAri = String(raw.app?.id ?? '');
  const appId = appAri.split('/').pop() || 'local-app';

  return {
    file,
    raw,
    appId,
    runtime: raw.app?.runtime?.name ?? null,
    functions,
    webtriggers,
    scheduledTriggers,
    resources,
    uiModules,
    egress,
    entities: raw.app?.storage?.entities ?? [],
    workflowValidators,
    scopes: raw.permissions?.scopes ?? [],
    permissions: raw.permissions ?? {},
  };
}
