// One definition of each constant: the Custom UI reads the core's (the `rules` of the admin
// page's settings answer, the state names with each view and delivery) and keeps no copy. This
// compares what the UI does keep per value (its own words and looks) with the core's lists, and
// fails when a value of the core is written into the UI's sources again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminRules, gateRules } from '../../src/console.js';
import { ALL_STATES, isActive } from '../../static/shared/status.js';
import { OUTCOMES, VARIABLE_DESCRIPTIONS } from '../../static/admin-page/logic.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const rules = adminRules();

test('the UI draws exactly the states the core shows, live the ones the core says are', () => {
  assert.deepEqual(
    ALL_STATES,
    rules.states.map((s) => s.state),
  );
  assert.deepEqual(
    ALL_STATES.filter(isActive),
    rules.states.filter((s) => s.active).map((s) => s.state),
  );
});

test('the UI describes exactly the core template variables and outcomes', () => {
  assert.deepEqual(Object.keys(VARIABLE_DESCRIPTIONS), rules.templateVariables);
  assert.deepEqual(OUTCOMES, Object.keys(rules.defaults.transitions));
});

/**
 * The core's values that only the core may spell out. Of the state names, those of more than one
 * word: "Failed" or "Expired" alone are also the page's own words (a delivery that failed), and
 * a copy of the names would hold the others too.
 */
function coreValues() {
  const auth = rules.webhookAuthDefaults;
  return [
    ...rules.states.map((s) => s.name).filter((name) => name.includes(' ')),
    ...rules.webhookEvents,
    rules.hosts.demo.api,
    rules.hosts.demo.auth,
    rules.hosts.production.api,
    rules.hosts.production.auth,
    /** @type {any} */ (auth.hmac).header,
    /** @type {any} */ (auth.sharedSecret).header,
    /** @type {any} */ (auth.oauth).clientId,
    // The workflow rule's page: its labels, help and range message come from the gate's rules.
    ...gateRules().fields.flatMap((f) => [f.label, f.help, f.message].filter(Boolean)),
  ];
}

/** Where `source` writes one of `values` as a string literal: `file:line value` each. */
function copiesIn(file, source, values) {
  const found = [];
  source.split('\n').forEach((line, index) => {
    for (const value of values) {
      for (const quote of ["'", '"', '`']) {
        if (line.includes(`${quote}${value}${quote}`)) found.push(`${file}:${index + 1} ${value}`);
      }
    }
  });
  return found;
}

/** The Custom UI's own sources (its tests aside). */
function uiSources() {
  const files = [];
  for (const dir of ['shared', 'admin-page', 'issue-panel', 'portal-panel', 'gate-config']) {
    const walk = (at) => {
      for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
        const full = path.join(at, entry.name);
        if (entry.isDirectory() && entry.name !== 'dist' && entry.name !== 'node_modules') walk(full);
        else if (/\.(js|jsx|mjs)$/.test(entry.name)) files.push(full);
      }
    };
    walk(path.join(root, 'static', dir));
  }
  return files;
}

test('no value of the core is copied into the UI', () => {
  const values = coreValues();
  assert.ok(values.includes('Pending review') && values.includes('MANUAL_REVIEW_APPROVED'), 'the core names them');
  assert.ok(values.includes('One transition per verification'), 'the gate names its fields');
  const copies = uiSources().flatMap((file) => copiesIn(path.relative(root, file), fs.readFileSync(file, 'utf8'), values));
  assert.deepEqual(copies, [], 'read these from the core instead');
});

test('the copy check finds a copy', () => {
  const planted = "const NAMES = { manualReview: 'Pending review' };\nconst HOST = `https://auth.demo.incode.com`;";
  assert.deepEqual(copiesIn('planted.js', planted, coreValues()), ['planted.js:1 Pending review', 'planted.js:2 https://auth.demo.incode.com']);
});
