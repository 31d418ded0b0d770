// Canned data in the shapes of rust/src/api.d.ts and the resolver table of ARCHITECTURE.md.
// Times are relative to when the harness page loads, so countdowns read as they would live.

export const ok = (data) => ({ ok: true, data });
export const fail = (code, message, fields) => ({ ok: false, error: { code, message, ...(fields ? { fields } : {}) } });

const pad = (n) => String(n).padStart(2, '0');
/** "YYYY-MM-DD HH:MM:SS" in UTC, as the core writes status texts. */
export function utc(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

// The words of the status text (the ServiceNow integration's IDV Status field), in UTC.
const STATUS_WORDS = {
  requested: 'Requested',
  inProgress: 'In Progress',
  passed: 'Success',
  failed: 'Failed',
  manualReview: 'Pending Review',
  expired: 'Expired',
  cancelled: 'Cancelled',
};

export const statusText = (status, atMs) => `${STATUS_WORDS[status]} - ${utc(atMs)} UTC`;

// The core's one name per state (rust/src/panel.rs), as the panel's resolver answers it.
const STATE_NAMES = {
  requested: 'Link sent',
  inProgress: 'In progress',
  passed: 'Passed',
  failed: 'Failed',
  manualReview: 'Pending review',
  expired: 'Expired',
  cancelled: 'Cancelled',
  replaced: 'Replaced by a new link',
};

/** A view with what the core adds for the caller: state, its name, the actions they may take. */
export function shown(v, { canSend = true, mayChange = true } = {}) {
  const last = v.history?.[v.history.length - 1];
  const state = v.status === 'cancelled' && last?.cause === 'replaced by a new link' ? 'replaced' : v.status;
  const active = state === 'requested' || state === 'inProgress';
  return {
    ...v,
    state,
    stateName: STATE_NAMES[state],
    actions: { resend: active && canSend, cancel: active && mayChange, newVerification: !active && canSend },
  };
}

const CAUSES = {
  inProgress: 'SESSION_STARTED',
  passed: 'SESSION_SUCCEEDED',
  failed: 'SESSION_FAILED',
  manualReview: 'SESSION_PENDING_REVIEW',
  expired: 'link expired',
  cancelled: 'cancelled by agent',
};

/** A `VerificationView` (a Verification without appliedEvents). */
export function verification(now, over = {}) {
  const requestedAtMs = over.requestedAtMs ?? now - 19_000;
  const status = over.status ?? 'requested';
  const updatedAtMs = over.updatedAtMs ?? (status === 'requested' ? requestedAtMs : now - 4_000);
  const history = [{ status: 'requested', atMs: requestedAtMs, cause: 'sent' }];
  if (status !== 'requested') history.push({ status, atMs: updatedAtMs, cause: CAUSES[status] });
  return shown({
    id: 'ver-7c1e',
    sessionId: '6740f3a2c1e5d90012ab34cd',
    issueKey: 'HD-42',
    issueId: '10042',
    email: 'jane.doe@acme.example',
    name: 'Jane Doe',
    delivery: 'SMS',
    destination: '+1 •••• 1234',
    requestedBy: '5b10ac8d82e05b22cc7d4ef5',
    requestedByName: 'Alex Agent',
    requestedAtMs,
    // 9:41 left when the page opens.
    expiresAtMs: requestedAtMs + 19_000 + 581_000 - 1,
    status,
    statusText: statusText(status, updatedAtMs),
    updatedAtMs,
    identityId: ['passed', 'manualReview'].includes(status) ? '65a1f0c2e4b0a1d2c3f4e5a6' : '',
    history,
    ...over,
  });
}

/** Older verifications of the ticket, newest first. */
export function olderHistory(now) {
  return [
    verification(now, {
      id: 'ver-51aa',
      sessionId: '6731b9e07d4c2a0011fe8812',
      status: 'expired',
      requestedAtMs: now - 3 * 3600_000,
      updatedAtMs: now - 3 * 3600_000 + 600_000,
      expiresAtMs: now - 3 * 3600_000 + 600_000,
      requestedByName: 'Sam Support',
    }),
    verification(now, {
      id: 'ver-40b2',
      sessionId: '672f0aa1b3c4d50010cd7710',
      status: 'passed',
      delivery: 'EMAIL',
      destination: 'jane.doe@acme.example',
      requestedAtMs: now - 26 * 3600_000,
      updatedAtMs: now - 26 * 3600_000 + 95_000,
      expiresAtMs: now - 26 * 3600_000 + 600_000,
      requestedByName: 'Alex Agent',
    }),
  ];
}

/** A `PanelState`. */
export function panelState(now, over = {}) {
  const access = { canSend: over.canSend ?? true, mayChange: !/Only members/.test(over.cannotSendReason ?? '') };
  const state = {
    setupRequired: false,
    isAdmin: false,
    canSend: true,
    cannotSendReason: null,
    defaults: { delivery: 'SMS', linkExpiryMinutes: 10 },
    person: { email: 'jane.doe@acme.example', name: 'Jane Doe' },
    current: null,
    history: [],
    realtime: { channel: 'incode-verification:10042', token: 'signed-realtime-token' },
    ...over,
  };
  return {
    ...state,
    current: state.current ? shown(state.current, access) : null,
    history: state.history.map((v) => shown(v, access)),
  };
}

export const DEFAULT_TEMPLATES = {
  passed:
    '✅ **Verification passed** — identity confirmed, you may proceed.\nEmployee: {{name}} ({{email}})\nIdentity ID: {{identityId}}\nSession ID: {{sessionId}}',
  failed: '❌ **Verification failed** — do not proceed, escalate for review.\nEmployee: {{name}} ({{email}})\nSession ID: {{sessionId}}',
  manualReview: '⚠️ **Manual review required** — do not proceed until review is complete.\nEmployee: {{name}} ({{email}})\nSession ID: {{sessionId}}',
};

/** `Settings` of a fresh install. */
export function freshSettings() {
  return {
    environment: 'demo',
    baseUrlOverride: '',
    clientId: '',
    integrationReference: '',
    configurationId: '',
    linkExpiryMinutes: 10,
    defaultDelivery: 'SMS',
    transitions: { passed: '', failed: '', manualReview: '' },
    templates: { ...DEFAULT_TEMPLATES },
    commentVisibility: 'internal',
    webhookAuth: { mode: 'hmac', header: 'x-incode-signature', encoding: 'hex', timestampHeader: '', toleranceSeconds: 300 },
    agentGroups: [],
    personField: 'reporter',
    limits: { perTicketPerHour: 5, perAgentPerHour: 30 },
    portalEnabled: false,
  };
}

export function configuredSettings() {
  return {
    ...freshSettings(),
    environment: 'production',
    clientId: 'acme-workforce-client',
    integrationReference: 'b2b-acme-helpdesk',
    transitions: { passed: 'In Progress', failed: 'Escalate', manualReview: 'Pending' },
    agentGroups: ['jira-servicemanagement-users', 'help-desk-tier-1'],
    portalEnabled: true,
  };
}

const HOSTS = {
  demo: ['https://demo-api.incodesmile.com', 'https://auth.demo.incode.com'],
  production: ['https://saas-api.incodesmile.com', 'https://auth.incode.com'],
};

/** `PublicSettings` for settings and which secrets are stored. */
export function publicSettings(settings, secrets) {
  const missing = [];
  if (!secrets.apiKey) missing.push('apiKey');
  if (!settings.clientId) missing.push('clientId');
  if (!secrets.clientSecret) missing.push('clientSecret');
  if (!settings.integrationReference) missing.push('integrationReference');
  const [api, auth] = HOSTS[settings.environment];
  return {
    settings,
    secrets: {
      apiKey: secrets.apiKey ? 'set' : 'not set',
      clientSecret: secrets.clientSecret ? 'set' : 'not set',
      webhookSecret: secrets.webhookSecret ? 'set' : 'not set',
    },
    ready: missing.length === 0,
    missing,
    apiBaseUrl: settings.baseUrlOverride || api,
    authBaseUrl: auth,
  };
}

const WEBHOOK_URL = 'https://4f1c2a7e-8d3b-4c5e-9a10-6b7d2e9f0c31.hello.atlassian-dev.net/x1/Zq8rVt3kLm0PdXw7';

export function webhookInfo(settings) {
  const auth = settings.webhookAuth;
  const lines = [
    'In the Incode dashboard, open Configuration → Webhooks and add a webhook:',
    `URL: ${WEBHOOK_URL}`,
    'Events: SESSION_STARTED, SESSION_SUCCEEDED, SESSION_FAILED, SESSION_PENDING_REVIEW',
  ];
  if (auth.mode === 'hmac') {
    lines.push(`Signing: HMAC-SHA256 of the raw body with the webhook secret, ${auth.encoding}, in the header ${auth.header}.`);
  } else if (auth.mode === 'sharedSecret') {
    lines.push(`Custom header: ${auth.header} = the webhook secret.`);
  } else {
    lines.push(`OAuth2: token URL ${WEBHOOK_URL}/token, client id ${auth.clientId}, client secret = the webhook secret.`);
  }
  return {
    url: WEBHOOK_URL,
    tokenUrl: auth.mode === 'oauth' ? `${WEBHOOK_URL}/token` : null,
    mode: auth.mode,
    header: auth.mode === 'oauth' ? 'Authorization' : auth.header,
    instructions: lines.join('\n'),
  };
}

export function checklist(done) {
  return [
    {
      id: 'credentials',
      done: done.credentials,
      label: 'Enter and test the Incode credentials',
      detail: done.credentials ? 'Connected to Incode production.' : 'API key, client ID, client secret and integration reference.',
    },
    {
      id: 'webhook',
      done: done.webhook,
      label: 'Register the webhook in the Incode dashboard',
      detail: done.webhook ? 'Last delivery received 12 minutes ago.' : 'No webhook delivery received yet.',
    },
    {
      id: 'transitions',
      done: done.transitions,
      label: 'Map verification outcomes to status transitions (optional)',
      detail: done.transitions ? 'All three outcomes mapped.' : 'Leave blank to manage ticket status by hand.',
    },
    {
      id: 'firstVerification',
      done: done.firstVerification,
      label: 'Send a first verification',
      detail: done.firstVerification ? 'First verification on HD-12.' : 'Use "Send test verification" below or a ticket’s panel.',
    },
  ];
}

export function deliveries(now) {
  const d = (minsAgo, verdict, reason, eventType, sessionId, issueKey, status) => ({
    atMs: now - minsAgo * 60_000,
    verdict,
    reason,
    eventType,
    sessionId,
    issueKey,
    status,
    stateName: STATE_NAMES[status] ?? '',
  });
  return [
    d(12, 'accepted', 'applied', 'SESSION_SUCCEEDED', '672f0aa1b3c4d50010cd7710', 'HD-12', 'passed'),
    d(13, 'duplicate', 'already applied', 'SESSION_SUCCEEDED', '672f0aa1b3c4d50010cd7710', 'HD-12', 'passed'),
    d(14, 'accepted', 'applied', 'SESSION_STARTED', '672f0aa1b3c4d50010cd7710', 'HD-12', 'inProgress'),
    d(40, 'rejected', 'bad_signature', '', '', '', ''),
    d(95, 'ignored', 'not an event this app acts on', 'IDENTITY_ENROLLED', '6731b9e07d4c2a0011fe8812', 'HD-9', ''),
    d(180, 'invalid', 'body is not JSON', '', '', '', ''),
  ];
}

export const TRANSITIONS = ['In Progress', 'Escalate', 'Pending', 'Waiting for customer', 'Resolve this issue'];

/** A minimal ADF rendering of a template for previews (paragraphs, hard breaks, bold). */
export function previewAdf(template, vars) {
  const filled = template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k) => vars[k] ?? '');
  const paragraphs = filled.split(/\n{2,}/);
  return {
    type: 'doc',
    version: 1,
    content: paragraphs.map((p) => {
      const content = [];
      p.split('\n').forEach((line, i) => {
        if (i > 0) content.push({ type: 'hardBreak' });
        line.split(/(\*\*[^*]+\*\*)/).forEach((part) => {
          if (!part) return;
          if (part.startsWith('**') && part.endsWith('**')) {
            content.push({ type: 'text', text: part.slice(2, -2), marks: [{ type: 'strong' }] });
          } else content.push({ type: 'text', text: part });
        });
      });
      return { type: 'paragraph', content };
    }),
  };
}

export const SAMPLE_VARS = {
  name: 'Jane Doe',
  email: 'jane.doe@acme.example',
  identityId: '65a1f0c2e4b0a1d2c3f4e5a6',
  sessionId: '6740f3a2c1e5d90012ab34cd',
  outcome: 'passed',
  agent: 'Alex Agent',
  issueKey: 'HD-42',
  time: '2026-11-22 10:00:00 UTC',
  delivery: 'SMS',
  status: 'Success - 2026-11-22 10:00:00',
};

/** Template errors like the core's: unknown variables and unclosed tags, with positions. */
export function templateErrors(field, template) {
  const errors = [];
  const lines = template.split('\n');
  lines.forEach((line, i) => {
    const re = /\{\{\s*([^}\s]*)\s*(\}\})?/g;
    let m;
    while ((m = re.exec(line))) {
      if (!m[2]) {
        errors.push({ field, code: 'unclosed_tag', message: 'This {{ is never closed with }}.', line: i + 1, column: m.index + 1 });
      } else if (!(m[1] in SAMPLE_VARS)) {
        errors.push({ field, code: 'unknown_variable', message: `Unknown variable “${m[1]}”.`, line: i + 1, column: m.index + 1 });
      }
    }
  });
  return errors;
}
