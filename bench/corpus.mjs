// The benchmark's webhook corpus: deterministic (seeded), every event type in the spellings the
// core accepts (plain names, dotted and camelCase names, nested `data`, completions resolved by
// their result, legacy `onboardingStatus` callbacks), bodies from 0.5 KB to 16 KB, all three
// authentication modes, each delivery with the stored verification it applies to. About one
// delivery in twenty is forged (a wrong signature, secret or token) and some are retries
// (duplicates) or out of order, as Incode's real traffic has them.
import { createHmac } from 'node:crypto';

export const SIZES = [512, 1024, 2048, 4096, 8192, 16384];
const SECRET = 'whsec_bench_8c1f0e7a5d2b4936a1';
const CLIENT_ID = 'incode-webhooks';
const T0 = 1_795_341_600_000; // 2026-11-22 10:00:00 UTC

/** A small deterministic PRNG (mulberry32). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const CUSTOM_TEMPLATES = {
  passed:
    '**Identity verified** for {{name}} ({{email}}).\n{{#if identityId}}Incode identity {{identityId}}\n{{/if}}Session {{sessionId}}, {{status}}.\n\nRequested by {{agent}} by {{delivery}} on {{issueKey}} at {{time}}.',
  failed:
    '**Identity NOT verified** for {{#if name}}{{name}}{{else}}{{email}}{{/if}}: do not proceed.\nSession {{sessionId}} ({{outcome}}) at {{time}}.\n{{#unless identityId}}No identity was enrolled.{{/unless}}',
  manualReview: 'Incode sent {{{name}}} to **manual review** at {{time}}; wait for the reviewer.\nSession {{sessionId}}',
};

function settingsWith(webhookAuth, overrides = {}) {
  return {
    environment: 'demo',
    baseUrlOverride: '',
    clientId: 'bench-client',
    integrationReference: 'bench-integration',
    configurationId: '',
    linkExpiryMinutes: 10,
    defaultDelivery: 'EMAIL',
    transitions: { passed: 'Verified', failed: 'Escalate', manualReview: '' },
    templates: { passed: '', failed: '', manualReview: '' },
    commentVisibility: 'internal',
    webhookAuth,
    agentGroups: [],
    personField: 'reporter',
    limits: { perTicketPerHour: 5, perAgentPerHour: 20 },
    portalEnabled: false,
    ...overrides,
  };
}

/** The configurations the corpus is spread over. */
export const SETTINGS = [
  {
    id: 'hmac-hex-timestamp',
    value: settingsWith({ mode: 'hmac', header: 'x-incode-signature', encoding: 'hex', timestampHeader: 'x-incode-timestamp', toleranceSeconds: 300 }),
  },
  {
    id: 'hmac-base64-custom-templates',
    value: settingsWith(
      { mode: 'hmac', header: 'X-Signature', encoding: 'base64', timestampHeader: '', toleranceSeconds: 300 },
      { templates: CUSTOM_TEMPLATES, commentVisibility: 'public', transitions: { passed: ' Resolve ', failed: '', manualReview: 'Waiting for review' } },
    ),
  },
  {
    id: 'shared-secret',
    value: settingsWith({ mode: 'sharedSecret', header: 'x-webhook-secret' }),
  },
  {
    id: 'oauth',
    value: settingsWith({ mode: 'oauth', clientId: CLIENT_ID, tokenTtlSeconds: 3600 }),
  },
];

/** Event spellings per normalised type: (base fields) => body fields. */
const SPELLINGS = {
  started: [() => ({ eventType: 'SESSION_STARTED' }), () => ({ event: 'session.started' }), () => ({ type: 'sessionStarted' })],
  progress: [() => ({ eventType: 'SESSION_PROGRESS', data: { step: 'FACE_CAPTURE' } }), () => ({ eventName: 'Session Progress' })],
  succeeded: [
    () => ({ eventType: 'SESSION_SUCCEEDED' }),
    () => ({ eventType: 'SESSION_COMPLETED', onboardingResult: 'OK' }),
    () => ({ onboardingStatus: 'ONBOARDING_FINISHED', data: { overallStatus: { status: 'OK' } } }),
    () => ({ data: { eventType: 'session-succeeded' } }),
  ],
  failed: [
    () => ({ eventType: 'SESSION_FAILED' }),
    () => ({ eventName: 'Session Completed', result: 'FAIL' }),
    () => ({ event_type: 'SESSION_COMPLETED', success: false }),
  ],
  pendingReview: [() => ({ eventType: 'SESSION_PENDING_REVIEW' }), () => ({ payload: { event: 'MANUAL_REVIEW_REQUIRED' } })],
  identityEnrolled: [() => ({ eventType: 'IDENTITY_ENROLLED' })],
  reviewApproved: [() => ({ eventType: 'MANUAL_REVIEW_APPROVED' }), () => ({ onboardingStatus: 'MANUAL_REVIEW_APPROVED' })],
  reviewRejected: [() => ({ eventType: 'MANUAL_REVIEW_REJECTED' })],
};

/** The status a verification has before each event type, for the event to apply. */
const BEFORE = {
  started: 'requested',
  progress: 'requested',
  succeeded: 'inProgress',
  failed: 'inProgress',
  pendingReview: 'inProgress',
  identityEnrolled: 'passed',
  reviewApproved: 'manualReview',
  reviewRejected: 'manualReview',
};
const LABEL = {
  requested: 'Requested',
  inProgress: 'In Progress',
  passed: 'Success',
  failed: 'Failed',
  manualReview: 'Pending Review',
};
const TYPES = Object.keys(SPELLINGS);

const FIRST = ['Jane', 'Ana', 'Wei', 'Olusegun', 'Zoë', 'Mateo', 'Priya', 'Liam', 'Noor', 'Kenji'];
const LAST = ['Doe', 'García', 'Zhang', 'Adeyemi', 'Müller', 'Rossi', 'Sharma', "O'Brien", 'Haddad', 'Tanaka'];

const hex = (rand, n) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');

function utc(ms) {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** Realistic filler: Incode's score and device details, until the body reaches `size` bytes. */
function padTo(body, size, rand) {
  const details = [];
  body.scores = details;
  let text = JSON.stringify(body);
  const names = ['liveness', 'faceMatch', 'documentMatch', 'idValidation', 'govCheck', 'deviceRisk', 'behaviour'];
  while (Buffer.byteLength(text) < size - 200) {
    details.push({
      check: names[details.length % names.length],
      value: Math.round(rand() * 10000) / 100,
      status: rand() < 0.9 ? 'OK' : 'WARN',
      detail: { provider: 'incode', model: `v${1 + Math.floor(rand() * 5)}.${Math.floor(rand() * 10)}`, latencyMs: Math.floor(rand() * 900) },
      note: `check ${hex(rand, 8)} completed on device ${hex(rand, 12)}`,
    });
    text = JSON.stringify(body);
  }
  // Fill the last bytes exactly with a device string.
  const missing = size - Buffer.byteLength(text) - ',"device":""'.length;
  if (missing > 0) body.device = `Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) ${'x'.repeat(Math.max(0, missing - 60))}`.slice(0, missing);
  return JSON.stringify(body);
}

function verificationFor(rand, sessionId, index, status, atMs) {
  const first = FIRST[index % FIRST.length];
  const last = LAST[Math.floor(index / FIRST.length) % LAST.length];
  const sms = index % 3 === 0;
  const sentAt = atMs - 120_000;
  const history = [{ status: 'requested', atMs: sentAt, cause: 'sent' }];
  const applied = [];
  if (status !== 'requested') {
    history.push({ status: 'inProgress', atMs: sentAt + 30_000, cause: 'SESSION_STARTED' });
    applied.push(`${sessionId}:started`);
  }
  if (status === 'manualReview' || status === 'passed') {
    const kind = status === 'passed' ? 'succeeded' : 'pendingReview';
    history.push({ status, atMs: sentAt + 60_000, cause: status === 'passed' ? 'SESSION_SUCCEEDED' : 'SESSION_PENDING_REVIEW' });
    applied.push(`${sessionId}:${kind}`);
  }
  const changedAt = history[history.length - 1].atMs;
  return {
    id: `ver-${String(index).padStart(5, '0')}`,
    sessionId,
    issueKey: `HD-${100 + index}`,
    issueId: String(10_100 + index),
    email: `${first.toLowerCase().replace(/[^a-z]/g, '')}.${last.toLowerCase().replace(/[^a-z]/g, '')}@example.com`,
    name: `${first} ${last}`,
    delivery: sms ? 'SMS' : 'EMAIL',
    destination: sms ? '+1 •••• •• 1234' : 'employee@example.com',
    requestedBy: `5b10ac8d82e05b22cc7d${hex(rand, 4)}`,
    requestedByName: index % 7 === 0 ? '' : 'Sam Agent',
    requestedAtMs: sentAt,
    expiresAtMs: sentAt + 600_000,
    status,
    statusText: `${LABEL[status]} - ${utc(changedAt)}`,
    updatedAtMs: changedAt,
    // Half the passed records have no identity yet, so a late IDENTITY_ENROLLED still applies.
    identityId: status === 'passed' && index % 2 === 1 ? `65f0${hex(rand, 20)}` : '',
    history,
    appliedEvents: applied,
  };
}

/** Forge's webtrigger headers (arrays of values), plus the delivery's authentication. */
function baseHeaders(size) {
  return {
    accept: ['application/json'],
    'content-type': ['application/json; charset=utf-8'],
    'content-length': [String(size)],
    'user-agent': ['Incode-Webhooks/2.4 (+https://incode.com)'],
    'x-forwarded-for': ['203.0.113.24'],
    'x-forwarded-proto': ['https'],
    'x-b3-traceid': ['5f0c1d2e3a4b5c6d7e8f901aa1b2c3d4'],
    'x-b3-spanid': ['e3a4b5c6d7e8f901'],
    host: ['f6b3c1d2.hello.atlassian-dev.net'],
  };
}

function sign(secret, message, encoding) {
  return createHmac('sha256', secret).update(message).digest(encoding);
}

/** An OAuth bearer token as the app's token webtrigger issues it. */
export function mintToken(secret, clientId, expSeconds) {
  const tag = createHmac('sha256', secret).update(`incode-webhook-token|v1|${clientId}|${expSeconds}`).digest('base64url');
  return `v1.${expSeconds}.${tag}`;
}

function authenticate(settings, headers, body, nowMs, forged, rand) {
  const secret = forged ? `${SECRET}-old` : SECRET;
  const auth = settings.webhookAuth;
  if (auth.mode === 'hmac') {
    if (auth.timestampHeader) {
      const ts = String(Math.floor(nowMs / 1000) - Math.floor(rand() * 20));
      headers[auth.timestampHeader] = [ts];
      headers[auth.header] = [`sha256=${sign(secret, `${ts}.${body}`, auth.encoding)}`];
    } else {
      headers[auth.header] = [sign(secret, body, auth.encoding)];
    }
  } else if (auth.mode === 'sharedSecret') {
    headers[auth.header] = [secret];
  } else {
    headers.authorization = [`Bearer ${mintToken(secret, auth.clientId, Math.floor(nowMs / 1000) + 1800)}`];
  }
}

/**
 * Builds the corpus.
 * @param {{ seed?: number, perType?: number, compileTemplates?: (settings: object) => object }} [options]
 *   perType: deliveries per event type and settings; compileTemplates: the console module's, to give
 *   the settings as saving them stores them (custom templates compiled for the core module)
 * @returns {{ secret: string, settings: { id: string, value: object }[], cases: object[] }}
 */
export function buildCorpus({ seed = 1, perType = 8, compileTemplates = (settings) => settings } = {}) {
  const rand = prng(seed);
  const cases = [];
  let index = 0;
  for (const settings of SETTINGS) {
    for (const type of TYPES) {
      for (let n = 0; n < perType; n += 1) {
        index += 1;
        const size = SIZES[index % SIZES.length];
        const sessionId = `65f0${hex(rand, 20)}`;
        const nowMs = T0 + index * 1000;
        const spelling = SPELLINGS[type][n % SPELLINGS[type].length]();
        const verification = verificationFor(rand, sessionId, index, BEFORE[type], nowMs);
        const duplicate = index % 11 === 0;
        const forged = index % 19 === 0;
        if (duplicate) verification.appliedEvents.push(`${sessionId}:${type}`);
        const fields = {
          interviewId: sessionId,
          ...(type === 'succeeded' || type === 'identityEnrolled' || index % 2 === 0 ? { identityId: `65f0${hex(rand, 20)}` } : {}),
          loginHint: verification.email,
          timestamp: n % 3 === 0 ? new Date(nowMs - 1500).toISOString() : nowMs - 1500,
          clientId: 'bench-client',
          flowId: `flow-${hex(rand, 6)}`,
        };
        // The spelling's own `data` (or `payload`) is merged with the session fields there.
        const body = { ...fields, ...spelling };
        const text = padTo(body, size, rand);
        const headers = baseHeaders(Buffer.byteLength(text));
        authenticate(settings.value, headers, text, nowMs, forged, rand);
        cases.push({
          label: `${settings.id}/${type}/${n} (${size} B${forged ? ', forged' : ''}${duplicate ? ', retry' : ''})`,
          settings: settings.id,
          type,
          size,
          forged,
          input: { headers, body: text, nowMs },
          verification,
        });
      }
    }
  }
  const saved = SETTINGS.map(({ id, value }) => ({ id, value: compileTemplates(value) }));
  return { secret: SECRET, settings: saved, cases };
}
