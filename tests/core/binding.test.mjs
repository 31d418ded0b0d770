// The binding's own promises: values of the wrong shape cross as JS Errors with a stable `code`
// and the path of the problem; the Core keeps compiled settings; the package's types are real.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledCore } from '../support/bundled-core.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let core;

before(async () => {
  core = await bundledCore('binding');
});

test('a value of the wrong shape throws an Error with code bad_input', () => {
  assert.throws(
    () => core.publicSettings({ environment: 'moon' }, {}),
    (error) => error instanceof Error && error.code === 'bad_input' && /settings/.test(error.message),
  );
  assert.throws(
    () => core.receiveWebhook(42),
    (error) => error.code === 'bad_input',
  );
});

test('expected failures are values, not exceptions', () => {
  const answer = core.parseStart({ status: 503, body: 'upstream down' });
  assert.equal(answer.ok, false);
  assert.equal(answer.error.retryable, true);
  assert.equal(typeof answer.error.code, 'string');
});

test('a Core built from settings renders every outcome to ADF', () => {
  const settings = core.defaultSettings();
  const instance = new core.Core(settings);
  const vars = {
    name: 'Casey',
    email: 'casey@example.test',
    identityId: 'id-1',
    sessionId: 's-1',
    outcome: 'passed',
    agent: 'Avery',
    issueKey: 'HELP-1',
    time: '2026-11-22 10:00:00 UTC',
    delivery: 'email',
    status: 'Success - 2026-11-22 10:00:00',
  };
  for (const outcome of ['passed', 'failed', 'manualReview']) {
    const rendered = instance.renderComment(outcome, vars);
    assert.equal(rendered.ok, true, outcome);
    assert.equal(rendered.value.type, 'doc');
    assert.match(JSON.stringify(rendered.value), /s-1/);
  }
  instance.free();
});

test('a Core renders a custom template from its compiled form, and without it still posts the verdict', () => {
  const custom = { ...core.defaultSettings(), templates: { passed: 'Checked {{name}}', failed: '', manualReview: '' } };
  const vars = { name: 'Casey', email: 'casey@example.test', sessionId: 's-1', outcome: 'passed' };
  const compiled = core.compileTemplates(custom);
  assert.equal(typeof compiled.templateCode.passed.of, 'string');
  assert.equal(compiled.templateCode.failed, null);
  const saved = new core.Core(compiled);
  assert.deepEqual(saved.renderComment('passed', vars).value.content[0].content, [{ type: 'text', text: 'Checked Casey' }]);
  saved.free();
  // Settings that carry a custom template without its compiled form (the core module has no
  // parser) render nothing for that outcome, and a webhook falls back to the plain verdict.
  const bare = new core.Core(custom);
  const refused = bare.renderComment('passed', vars);
  assert.equal(refused.ok, false);
  assert.equal(refused.error.code, 'template_invalid');
  assert.match(refused.error.message, /templates\.passed: .*save the settings again/);
  assert.equal(bare.renderComment('failed', vars).ok, true);
  bare.free();
  // The browser never sees the compiled form.
  assert.equal('templateCode' in core.publicSettings(compiled, {}).settings, false);
});

test("the core module carries no template parser or settings validation: those are the console module's", async () => {
  const generated = path.join(root, 'src/generated');
  const coreApi = await import(path.join(generated, 'core.js'));
  const consoleApi = await import(path.join(generated, 'console.js'));
  for (const name of ['validateTemplate', 'renderTemplate', 'validateSettings', 'compileTemplates', 'startRequest']) {
    assert.equal(coreApi[name], undefined, `core module: ${name}`);
    assert.equal(typeof consoleApi[name], 'function', `console module: ${name}`);
  }
  for (const name of ['Core', 'receiveWebhook', 'issueWebhookToken', 'chooseTransition', 'propertyRequest', 'publicSettings']) {
    assert.equal(typeof coreApi[name], 'function', `core module: ${name}`);
    assert.equal(consoleApi[name], undefined, `console module: ${name}`);
  }
});

test('the generated .d.ts carries the contract types and precise signatures', () => {
  const dts = fs.readFileSync(path.join(root, 'src/generated/core.d.ts'), 'utf8');
  for (const name of ['WebhookReceipt', 'EventDecision', 'Settings', 'PublicSettings', 'Verification']) {
    assert.match(dts, new RegExp(`export (type|interface) ${name}\\b`), name);
  }
  assert.match(dts, /export function receiveWebhook\(input: WebhookInput\): WebhookReceipt;/);
  assert.match(dts, /decideEvent\(record: EventRecord, event: IncodeEvent, now_ms: number\): DecidedEvent;/);
});
