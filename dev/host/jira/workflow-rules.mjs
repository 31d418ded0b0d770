// Workflow rules the app declares: `jira:workflowValidator` (a function or a Jira expression)
// and `jira:workflowCondition` (a Jira expression; Forge has no function conditions), added to a
// transition by a Jira admin with a configuration that is stored, as Jira stores it, as a JSON
// string (`AppWorkflowTransitionRule`). Conditions hide transitions and refuse them; validators
// run on every transition and refuse it with their message. Both fail closed: an expression
// error, a function that throws or answers anything but `{ result: boolean }`, or a host with no
// functions attached refuses the transition, as Jira does when the app cannot answer.

import { randomUUID } from 'node:crypto';
import { evaluateExpression, typed } from './expressions.mjs';
import { jiraError } from './routes.mjs';

const ENVIRONMENT = 'development';

/** The workflow modules of a manifest (parsed YAML). */
export function workflowModuleDeclarations(manifest) {
  const modules = new Map();
  for (const m of manifest?.modules?.['jira:workflowValidator'] ?? []) {
    modules.set(m.key, {
      type: 'validator',
      key: m.key,
      name: plain(m.name, m.key),
      functionKey: m.function ?? null,
      expression: m.expression ?? null,
      errorMessage: plain(m.errorMessage, null),
      errorMessageExpression: typeof m.errorMessage?.expression === 'string' ? m.errorMessage.expression : null,
    });
  }
  for (const m of manifest?.modules?.['jira:workflowCondition'] ?? []) {
    modules.set(m.key, { type: 'condition', key: m.key, name: plain(m.name, m.key), functionKey: null, expression: m.expression ?? null, errorMessage: null });
  }
  return modules;
}

const plain = (value, fallback) => (typeof value === 'string' ? value : fallback);

/**
 * @param {object} options
 * @param {() => import('./model.mjs').SiteModel} options.model the current site model
 * @param {Map} options.modules from workflowModuleDeclarations()
 * @param {string} options.appId
 * @param {() => boolean} [options.attachesModifiedFields] whether the app holds read:jira-work
 */
export function createWorkflowRules({ model, modules, appId, attachesModifiedFields = () => true }) {
  let runner = null;

  function transitionOf(workflowName, transitionRef) {
    const workflow = model().db.workflows.find((w) => w.name === workflowName);
    if (!workflow) throw new Error(`No workflow ${workflowName}`);
    const transition = workflow.transitions.find(
      (t) => t.type !== 'initial' && (t.id === String(transitionRef) || t.name.toLowerCase() === String(transitionRef).toLowerCase()),
    );
    if (!transition) throw new Error(`No transition ${transitionRef} in ${workflowName}`);
    return { workflow, transition };
  }

  function mustAdminister(by) {
    const principal = model().principal({ kind: 'user', accountId: by });
    if (!model().can(principal, 'ADMINISTER')) throw new Error('Configuring workflow rules needs the Administer Jira global permission');
  }

  /**
   * The configuration as Jira stores it: JSON text. `text` is what a configuration page's
   * onConfigure callback answered (kept as it is), else `configuration` is written as JSON.
   */
  function storedValue(configuration, text) {
    const value = text === undefined ? JSON.stringify(configuration) : text;
    if (typeof value !== 'string') throw new Error('A rule configuration is JSON text (onConfigure must answer a string)');
    try {
      JSON.parse(value);
    } catch {
      throw new Error('A rule configuration is JSON text: onConfigure answered text that is not JSON');
    }
    if (value.length > 32_768) throw new Error('A rule configuration is JSON of at most 32 KB');
    return value;
  }

  /** Adds a rule as an admin in the workflow editor would; returns the stored rule. */
  function addRule({ workflow: workflowName, transition: transitionRef, type, moduleKey, configuration = {}, configurationText, by }) {
    mustAdminister(by);
    const module = modules.get(moduleKey);
    if (!module || module.type !== type) throw new Error(`The app declares no jira:workflow${type === 'condition' ? 'Condition' : 'Validator'} ${moduleKey}`);
    const value = storedValue(configuration, configurationText);
    const { workflow, transition } = transitionOf(workflowName, transitionRef);
    const rule = {
      id: randomUUID(),
      key: `ari:cloud:ecosystem::extension/${appId}/${ENVIRONMENT}/static/${moduleKey}`,
      configuration: { value, disabled: false },
    };
    transition.rules ??= { conditions: [], validators: [] };
    transition.rules[type === 'condition' ? 'conditions' : 'validators'].push(rule);
    workflow.updated = Date.now();
    return structuredClone(rule);
  }

  /** Gives a transition a screen with these fields (ids), as an admin would in Jira. */
  function setScreen({ workflow: workflowName, transition: transitionRef, fields, by }) {
    mustAdminister(by);
    const { workflow, transition } = transitionOf(workflowName, transitionRef);
    transition.screen = [...fields];
    workflow.updated = Date.now();
  }

  /** Replaces a rule's configuration (the edit page's Update); returns the stored rule. */
  function updateRule({ workflow: workflowName, transition: transitionRef, id, configurationText, by }) {
    mustAdminister(by);
    const { workflow, transition } = transitionOf(workflowName, transitionRef);
    const rule = Object.values(transition.rules ?? {})
      .flat()
      .find((r) => r.id === id);
    if (!rule) throw new Error(`No rule ${id} on ${transition.name}`);
    rule.configuration.value = storedValue(undefined, configurationText);
    workflow.updated = Date.now();
    return structuredClone(rule);
  }

  function removeRule({ workflow: workflowName, transition: transitionRef, id, by }) {
    mustAdminister(by);
    const { transition } = transitionOf(workflowName, transitionRef);
    for (const list of Object.values(transition.rules ?? {})) {
      const at = list.findIndex((r) => r.id === id);
      if (at >= 0) list.splice(at, 1);
    }
  }

  const moduleOf = (rule) => modules.get(rule.key.split('/').pop()) ?? null;

  function context(site, issue, transition, principal, config) {
    const project = site.projectOf(issue);
    const userOf = (accountId) => (accountId ? typed({ accountId, displayName: site.user(accountId)?.displayName ?? null }) : null);
    const status = site.status(issue.statusId);
    const issueObject = typed({
      id: Number(issue.id),
      key: issue.key,
      summary: issue.summary,
      assignee: userOf(issue.assignee),
      reporter: userOf(issue.reporter),
      status: typed({ id: Number(status.id), name: status.name }),
      project: typed({ id: Number(project.id), key: project.key, name: project.name }),
      ...Object.fromEntries(site.db.fields.map((f) => [f.id, issue.customFields[f.id] ?? null])),
    });
    return {
      issue: issueObject,
      originalIssue: issueObject,
      user: principal.kind === 'user' ? userOf(principal.accountId) : null,
      project: issueObject.project,
      transition: typed({ id: Number(transition.id), name: transition.name, to: typed({ id: Number(transition.to) }) }),
      workflow: typed({ name: site.workflowOf(project).name }),
      config,
    };
  }

  function parseConfig(rule) {
    try {
      return JSON.parse(rule.configuration.value);
    } catch {
      return null;
    }
  }

  /** The message an `errorMessage: { expression }` builds, or undefined. */
  function errorMessageOf(site, rule, module, issue, transition, principal, config) {
    if (!module.errorMessageExpression) return undefined;
    try {
      const message = evaluateExpression(module.errorMessageExpression, context(site, issue, transition, principal, config));
      return typeof message === 'string' && message ? message : undefined;
    } catch {
      return undefined;
    }
  }

  /** Evaluates an expression rule; `{ ok, message? }`. */
  function expressionVerdict(site, rule, module, issue, transition, principal) {
    const config = parseConfig(rule);
    const expression = typeof config?.expression === 'string' ? config.expression : module.expression;
    try {
      const value = evaluateExpression(expression, context(site, issue, transition, principal, config));
      if (value === true) return { ok: true };
      // A validator expression may answer with its error message.
      if (typeof value === 'string' && module.type === 'validator') return { ok: false, message: value };
      return { ok: false, message: errorMessageOf(site, rule, module, issue, transition, principal, config) };
    } catch {
      return { ok: false };
    }
  }

  /** Whether every enabled condition of `transition` holds for `principal` on `issue`. */
  function conditionsHold(site, issue, transition, principal) {
    for (const rule of transition.rules?.conditions ?? []) {
      if (rule.configuration.disabled) continue;
      const module = moduleOf(rule);
      if (!module || !expressionVerdict(site, rule, module, issue, transition, principal).ok) return false;
    }
    return true;
  }

  const defaultMessage = (module) => module?.errorMessage ?? `The transition was refused by the workflow validator "${module?.name ?? 'unknown'}".`;

  /** Runs the validators of `transition`; resolves with null (pass) or the message that refuses it. */
  async function validate(site, issue, transition, principal, modifiedFields = {}) {
    for (const rule of transition.rules?.validators ?? []) {
      if (rule.configuration.disabled) continue;
      const module = moduleOf(rule);
      if (!module) return defaultMessage(null);
      if (!module.functionKey) {
        const verdict = expressionVerdict(site, rule, module, issue, transition, principal);
        if (!verdict.ok) return verdict.message ?? defaultMessage(module);
        continue;
      }
      if (!runner) return defaultMessage(module);
      const event = {
        issue: { key: issue.key },
        configuration: parseConfig(rule) ?? {},
        // What the transition's screen changes; Jira attaches modifiedFields only to apps that
        // hold read:jira-work.
        transition: { from: { id: issue.statusId }, to: { id: transition.to }, ...(attachesModifiedFields() ? { modifiedFields } : {}) },
      };
      let answer;
      try {
        answer = await runner({
          moduleKey: module.key,
          functionKey: module.functionKey,
          event,
          accountId: principal.kind === 'user' ? principal.accountId : null,
        });
      } catch {
        return defaultMessage(module);
      }
      if (answer?.result === true) continue;
      if (answer?.result === false) return typeof answer.errorMessage === 'string' && answer.errorMessage ? answer.errorMessage : defaultMessage(module);
      return defaultMessage(module);
    }
    return null;
  }

  /** `GET /rest/api/3/workflow/rule/config`: the calling app's own rules, per workflow. */
  function getRuleConfigs({ site, principal, query }) {
    if (principal.kind !== 'app') return jiraError(403, ['Only Connect and Forge apps can use this operation.']);
    const list = (name) =>
      query
        .getAll(name)
        .flatMap((v) => v.split(','))
        .map((v) => v.trim())
        .filter(Boolean);
    const types = list('types');
    if (!types.length) return jiraError(400, ["The 'types' query parameter is required."]);
    const keys = list('keys');
    const names = list('workflowNames');
    const withTransition = list('expand').includes('transition');
    const wanted = (rule) => !keys.length || keys.includes(rule.key) || keys.includes(rule.key.split('/').pop());
    const values = site.db.workflows
      .filter((w) => !names.length || names.includes(w.name))
      .map((w) => {
        const of = (kind) =>
          w.transitions.flatMap((t) =>
            (t.rules?.[kind] ?? [])
              .filter(wanted)
              .map((rule) => ({ ...structuredClone(rule), ...(withTransition ? { transition: { id: Number(t.id), name: t.name } } : {}) })),
          );
        return {
          workflowId: { name: w.name, draft: false },
          postFunctions: [],
          conditions: types.includes('condition') ? of('conditions') : [],
          validators: types.includes('validator') ? of('validators') : [],
        };
      })
      .filter((w) => w.conditions.length || w.validators.length);
    const startAt = Math.max(Number(query.get('startAt') ?? 0), 0);
    const maxResults = Math.min(Math.max(Number(query.get('maxResults') ?? 10), 1), 50);
    const page = values.slice(startAt, startAt + maxResults);
    return { status: 200, body: { isLast: startAt + page.length >= values.length, maxResults, startAt, total: values.length, values: page } };
  }

  return {
    modules,
    routes: { 'GET /rest/api/3/workflow/rule/config': getRuleConfigs },
    addRule,
    setScreen,
    updateRule,
    removeRule,
    rules(workflowName, transitionRef) {
      const { transition } = transitionOf(workflowName, transitionRef);
      return structuredClone(transition.rules ?? { conditions: [], validators: [] });
    },
    conditionsHold,
    validate,
    /** The host attaches how validator functions run: `({ moduleKey, functionKey, event, accountId }) => answer`. */
    attachRunner(fn) {
      runner = fn;
    },
  };
}
