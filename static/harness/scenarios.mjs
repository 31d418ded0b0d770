// Every state the pages can be in, as canned resolver answers. Each scenario has a `setup(now)`
// that builds its mutable world, and resolvers `(payload, world, harness)` answering from it, so
// flows (send, cancel, save) behave like the backend would for that state.
import {
  checklist,
  configuredSettings,
  deliveries,
  fail,
  freshSettings,
  ok,
  olderHistory,
  panelState,
  previewAdf,
  publicSettings,
  SAMPLE_VARS,
  shown,
  statusText,
  templateErrors,
  TRANSITIONS,
  verification,
  webhookInfo,
} from './fixtures.mjs';

export const PENDING = Symbol('pending');

// ---------------------------------------------------------------------------------------------
// Issue panel

function panelResolvers(extra = {}) {
  return {
    'panel.getState': (_p, w) => ok(structuredClone(w.state)),
    'panel.send': (p, w) => {
      if (w.sendError) return w.sendError;
      const now = Date.now();
      const v = verification(now, {
        id: `ver-${(w.sent = (w.sent ?? 0) + 1)}`,
        sessionId: `6741aa00c1e5d900${String(w.sent).padStart(8, '0')}`,
        email: p.email,
        delivery: p.delivery,
        destination: p.delivery === 'SMS' ? (p.phone ? `${p.phone.slice(0, 2)} •••• ${p.phone.slice(-4)}` : '+1 •••• 1234') : p.alternateEmail || p.email,
        requestedAtMs: now,
        expiresAtMs: now + w.state.defaults.linkExpiryMinutes * 60_000,
        requestedByName: 'Alex Agent',
      });
      if (w.state.current) w.state.history = [w.state.current, ...w.state.history.filter((h) => h.id !== w.state.current.id)];
      w.state.current = v;
      return ok({ verification: v });
    },
    'panel.resend': (p, w) => {
      if (!w.state.current || w.state.current.id !== p.verificationId) return fail('not_found', 'No such verification.');
      const now = Date.now();
      const old = w.state.current;
      const v = shown({
        ...old,
        id: `${old.id}-r`,
        sessionId: `${old.sessionId.slice(0, 16)}deadbeef`,
        status: 'requested',
        statusText: statusText('requested', now),
        requestedAtMs: now,
        updatedAtMs: now,
        expiresAtMs: now + w.state.defaults.linkExpiryMinutes * 60_000,
        identityId: '',
        history: [{ status: 'requested', atMs: now, cause: 'sent' }],
      });
      const replaced = shown({
        ...old,
        status: 'cancelled',
        statusText: statusText('cancelled', now),
        updatedAtMs: now,
        history: [...old.history, { status: 'cancelled', atMs: now, cause: 'replaced by a new link' }],
      });
      w.state.history = [replaced, ...w.state.history];
      w.state.current = v;
      return ok({ verification: v });
    },
    'panel.cancel': (p, w) => {
      if (!w.state.current || w.state.current.id !== p.verificationId) return fail('not_found', 'No such verification.');
      const now = Date.now();
      const v = shown({
        ...w.state.current,
        status: 'cancelled',
        statusText: statusText('cancelled', now),
        updatedAtMs: now,
        history: [...w.state.current.history, { status: 'cancelled', atMs: now, cause: 'cancelled by agent' }],
      });
      w.state.current = v;
      return ok({ verification: v });
    },
    ...extra,
  };
}

const panel = (id, title, makeState, more = {}) => ({
  page: 'issue-panel',
  id,
  title,
  setup: (now) => ({ state: makeState(now), ...(more.world ? more.world(now) : {}) }),
  resolvers: panelResolvers(more.resolvers),
  onSubscribe: more.onSubscribe,
});

const withCurrent =
  (status, over = {}) =>
  (now) =>
    panelState(now, { current: verification(now, { status, ...over }), history: [verification(now, { status, ...over }), ...olderHistory(now)] });

const SEND_ERRORS = {
  'employee-not-found': fail(
    'employee_not_found',
    'This email is not in your Incode employee directory. Check the address, or ask an Incode administrator to add the employee to the directory.',
  ),
  'bad-credentials': fail('bad_credentials', 'Incode answered 401 Unauthorized.'),
  'incode-unavailable': fail('incode_unavailable', 'Incode answered 503.'),
  'rate-limited': fail('rate_limited', 'Incode answered 429.'),
  'limit-reached': fail('limit_reached', 'The limit of 5 links per ticket per hour has been reached.'),
  validation: fail('validation', 'Some fields are not valid.', [
    { field: 'phone', code: 'invalid_phone', message: 'Incode does not accept this phone number for SMS.' },
    { field: 'notification', code: 'unsupported', message: 'SMS is not enabled for this Incode integration.' },
  ]),
  other: fail('internal', 'Jira did not accept the issue property update (HTTP 500).'),
};

const ISSUE_PANEL = [
  panel('loading', 'Loading', (now) => panelState(now), { resolvers: { 'panel.getState': () => PENDING } }),
  panel('load-error', 'Error loading, then retry succeeds', (now) => panelState(now), {
    resolvers: {
      'panel.getState': (_p, w) => ((w.loads = (w.loads ?? 0) + 1) === 1 ? fail('unreachable', 'Network error') : ok(w.state)),
    },
  }),
  panel('setup-admin', 'Setup required (admin)', (now) => panelState(now, { setupRequired: true, isAdmin: true, canSend: false, realtime: null })),
  panel('setup-agent', 'Setup required (agent)', (now) => panelState(now, { setupRequired: true, canSend: false, realtime: null })),
  panel('cannot-send', 'Cannot send: not in an agent group', (now) =>
    panelState(now, { canSend: false, cannotSendReason: 'Only members of help-desk-tier-1 may send verification links.', history: olderHistory(now) }),
  ),
  panel('limit-reached', 'Cannot send: limit reached', (now) =>
    panelState(now, {
      canSend: false,
      cannotSendReason: 'The limit of 5 verification links per ticket per hour has been reached. Try again later.',
      current: verification(now, { status: 'expired', expiresAtMs: now - 60_000 }),
    }),
  ),
  panel('form', 'Ready to send (SMS default)', (now) => panelState(now)),
  panel('form-email', 'Ready to send (email default, no person)', (now) =>
    panelState(now, { defaults: { delivery: 'EMAIL', linkExpiryMinutes: 15 }, person: null }),
  ),
  panel('sent', 'Link sent, countdown running', withCurrent('requested')),
  panel('in-progress', 'Employee is verifying', withCurrent('inProgress')),
  panel('passed', 'Verification passed', withCurrent('passed')),
  panel('failed', 'Verification failed', withCurrent('failed')),
  panel('manual-review', 'Manual review required', withCurrent('manualReview')),
  panel('expired', 'Link expired', withCurrent('expired', { expiresAtMs: Date.now() - 30_000 })),
  panel('cancelled', 'Cancelled by agent', withCurrent('cancelled')),
  ...Object.entries(SEND_ERRORS).map(([key, error]) =>
    panel(`send-error-${key}`, `Send fails: ${error.error.code}`, (now) => panelState(now), { world: () => ({ sendError: error }) }),
  ),
  panel('live', 'Live: sent → in progress → passed (realtime)', withCurrent('requested'), {
    onSubscribe: (w, harness) => {
      const step = (status, afterMs) =>
        setTimeout(() => {
          const now = Date.now();
          const v = shown({
            ...w.state.current,
            status,
            statusText: statusText(status, now),
            updatedAtMs: now,
            identityId: status === 'passed' ? '65a1f0c2e4b0a1d2c3f4e5a6' : '',
          });
          w.state.current = v;
          w.state.history = [v, ...w.state.history.slice(1)];
          harness.publish(JSON.stringify({ verification: v }));
        }, afterMs);
      if (w.started) return;
      w.started = true;
      step('inProgress', harness.liveStepMs);
      step('passed', harness.liveStepMs * 2);
    },
  }),
];

// ---------------------------------------------------------------------------------------------
// Admin page

function adminResolvers(extra = {}) {
  return {
    'admin.getSettings': (_p, w) =>
      ok({ settings: publicSettings(structuredClone(w.settings), w.secrets), webhook: webhookInfo(w.settings), checklist: checklist(w.done) }),
    'admin.saveSettings': (input, w) => {
      if (w.saveError) return w.saveError;
      const fields = [];
      for (const o of ['passed', 'failed', 'manualReview']) {
        if (input.templates?.[o] !== undefined) fields.push(...templateErrors(`templates.${o}`, input.templates[o]));
      }
      if (fields.length) return fail('validation', 'Some settings are not valid.', fields);
      const { apiKey, clientSecret, webhookSecret, ...settings } = input;
      w.settings = { ...w.settings, ...settings };
      if (apiKey) w.secrets.apiKey = true;
      if (clientSecret) w.secrets.clientSecret = true;
      if (webhookSecret) w.secrets.webhookSecret = true;
      w.done.transitions = Object.values(w.settings.transitions).some(Boolean);
      return ok({ settings: publicSettings(structuredClone(w.settings), w.secrets) });
    },
    'admin.testCredentials': (_p, w) => {
      if (w.testError) return w.testError;
      if (!w.secrets.apiKey || !w.secrets.clientSecret) return fail('bad_credentials', 'The API key or client secret is not set.');
      w.done.credentials = true;
      return ok({ connected: true, checkedAt: Date.now() });
    },
    'admin.sendTest': (p) =>
      p.email.endsWith('@acme.example') ? ok({ sessionId: '6742be10c1e5d90012ff0001' }) : fail('employee_not_found', 'Incode answered 4301.'),
    'admin.clearTokenCache': () => ok({ cleared: true }),
    'admin.listTransitions': (_p, w) => (w.transitionsError ? w.transitionsError : ok({ transitions: TRANSITIONS })),
    'admin.previewComment': (p) => {
      const errors = templateErrors(`templates.${p.outcome}`, p.template);
      return ok({ adf: errors.length ? null : previewAdf(p.template, { ...SAMPLE_VARS, outcome: p.outcome }), errors });
    },
    'admin.getDeliveries': (_p, w) => ok({ deliveries: w.deliveries }),
    ...extra,
  };
}

const admin = (id, title, world, extra) => ({ page: 'admin-page', id, title, setup: world, resolvers: adminResolvers(extra) });

const freshWorld = () => ({
  settings: freshSettings(),
  secrets: { apiKey: false, clientSecret: false, webhookSecret: false },
  done: { credentials: false, webhook: false, transitions: false, firstVerification: false },
  deliveries: [],
});
const configuredWorld = (now) => ({
  settings: configuredSettings(),
  secrets: { apiKey: true, clientSecret: true, webhookSecret: true },
  done: { credentials: true, webhook: true, transitions: true, firstVerification: true },
  deliveries: deliveries(now),
});

const ADMIN_PAGE = [
  admin('loading', 'Loading', freshWorld, { 'admin.getSettings': () => PENDING }),
  admin('load-error', 'Cannot load (not an admin)', freshWorld, {
    'admin.getSettings': () => fail('forbidden', 'Only Jira admins may change these settings.'),
  }),
  admin('fresh', 'Fresh install', freshWorld),
  admin('configured', 'Configured, with deliveries', configuredWorld),
  admin('oauth', 'Webhook OAuth mode', (now) => {
    const w = configuredWorld(now);
    w.settings.webhookAuth = { mode: 'oauth', clientId: 'incode-webhooks', tokenTtlSeconds: 3600 };
    return w;
  }),
  admin('save-errors', 'Save rejected with field errors', configuredWorld, {
    'admin.saveSettings': () =>
      fail('validation', 'Some settings are not valid.', [
        { field: 'linkExpiryMinutes', code: 'out_of_range', message: 'Link expiry must be between 5 and 60 minutes.' },
        { field: 'baseUrlOverride', code: 'not_incode_host', message: 'The base URL must be an https URL on an Incode host.' },
        { field: 'templates.passed', code: 'unknown_variable', message: 'Unknown variable “employeeName”.', line: 2, column: 11 },
        { field: 'webhookAuth.header', code: 'invalid_header', message: 'A header name may use letters, digits and dashes only.' },
        { field: 'personField', code: 'invalid', message: 'Use “reporter” or a user-picker field id like customfield_10042.' },
        { field: 'revision', code: 'stale', message: 'Someone else saved the settings meanwhile; reload before saving.' },
      ]),
  }),
  admin('test-fails', 'Test credentials fails', configuredWorld, {
    'admin.testCredentials': () => fail('bad_credentials', 'Incode answered 401 Unauthorized for the client credentials.'),
  }),
  admin('transitions-error', 'Transitions cannot be listed', configuredWorld, {
    'admin.listTransitions': () => fail('forbidden', 'The app may not read workflows.'),
  }),
];

// ---------------------------------------------------------------------------------------------
// Portal panel

const portal = (id, title, answer) => ({
  page: 'portal-panel',
  id,
  title,
  setup: () => ({}),
  resolvers: { 'portal.getState': () => (typeof answer === 'function' ? answer(Date.now()) : answer) },
});

const PORTAL_PANEL = [
  portal('pending-sms', 'Pending, sent by SMS', (now) => ok({ enabled: true, pending: { expiresAtMs: now + 9 * 60_000, delivery: 'SMS' } })),
  portal('pending-email', 'Pending, sent by email', (now) => ok({ enabled: true, pending: { expiresAtMs: now + 14 * 60_000, delivery: 'EMAIL' } })),
  portal('none', 'Nothing pending (empty panel)', ok({ enabled: true, pending: null })),
  portal('disabled', 'Portal display turned off (empty panel)', (now) => ok({ enabled: false, pending: { expiresAtMs: now + 60_000, delivery: 'SMS' } })),
  portal('error', 'Resolver error (empty panel)', fail('unreachable', 'Network error')),
];

export const SCENARIOS = [...ISSUE_PANEL, ...ADMIN_PAGE, ...PORTAL_PANEL];

export const PAGE_CONTEXT = {
  'issue-panel': {
    moduleKey: 'incode-verification-panel',
    extension: {
      type: 'jira:issuePanel',
      issue: { id: '10042', key: 'HD-42', type: 'Service Request' },
      project: { id: '10001', key: 'HD', type: 'service_desk' },
    },
  },
  'admin-page': { moduleKey: 'incode-settings', extension: { type: 'jira:adminPage' } },
  'portal-panel': {
    moduleKey: 'incode-portal-panel',
    extension: { type: 'jiraServiceManagement:portalRequestDetailPanel', request: { key: 'HD-42', typeId: '12' }, portal: { id: 3 } },
  },
};
