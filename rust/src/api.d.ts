// The JavaScript-facing types of the core. This file is the contract between the Rust core and
// the Forge shims: `binding.rs` emits it into the package's `.d.ts`, the Rust boundary types
// (serde, camelCase) serialise to exactly these shapes, and the shims are type-checked against it.

/** The three outcomes an admin maps to transitions and comment templates. */
export type Outcome = "passed" | "failed" | "manualReview";
export type Delivery = "SMS" | "EMAIL";
export type Environment = "demo" | "production";
export type CommentVisibility = "internal" | "public";

/** HMAC-SHA256 over the raw body (or `${timestamp}.${body}` when a timestamp header is set). */
export interface WebhookAuthHmac {
  mode: "hmac";
  /** Header carrying the signature; looked up case-insensitively. */
  header: string;
  /** How the digest is written; a `sha256=` prefix is always accepted. */
  encoding: "hex" | "base64";
  /** "" = no timestamp; otherwise the header carrying Unix seconds (or milliseconds). */
  timestampHeader: string;
  /** Accepted clock difference for the timestamp, 30..3600 seconds. */
  toleranceSeconds: number;
}
/** A secret value sent verbatim in a header. */
export interface WebhookAuthSharedSecret {
  mode: "sharedSecret";
  header: string;
}
/** Incode obtains a bearer token from the app's token webtrigger (client credentials). */
export interface WebhookAuthOAuth {
  mode: "oauth";
  /** The client id Incode presents; the client secret is the webhook secret. */
  clientId: string;
  /** Lifetime of an issued token, 60..86400 seconds. */
  tokenTtlSeconds: number;
}
export type WebhookAuth = WebhookAuthHmac | WebhookAuthSharedSecret | WebhookAuthOAuth;

/** The admin settings without secrets (stored as one KVS value). */
export interface Settings {
  environment: Environment;
  /** "" = the environment's API host; otherwise an https URL on an Incode host. */
  baseUrlOverride: string;
  clientId: string;
  integrationReference: string;
  /** "" = none. */
  configurationId: string;
  /** 5..60, default 10. */
  linkExpiryMinutes: number;
  defaultDelivery: Delivery;
  /** Transition name per outcome; "" = leave the status alone. */
  transitions: Record<Outcome, string>;
  /** Handlebars comment template per outcome. */
  templates: Record<Outcome, string>;
  commentVisibility: CommentVisibility;
  webhookAuth: WebhookAuth;
  /** Jira group names whose members may send verifications; [] = anyone who may work the issue. */
  agentGroups: string[];
  /** Where the person to verify comes from: "reporter" or a user-picker field id (customfield_NNNNN). */
  personField: string;
  /** Links per ticket per hour and per agent per hour, 1..100. */
  limits: { perTicketPerHour: number; perAgentPerHour: number };
  /** Show the requester a pending verification on the customer portal. */
  portalEnabled: boolean;
  /**
   * The custom templates compiled when the settings were saved (`validateSettings`,
   * `compileTemplates`): the core module has no template parser. Absent when every template is
   * the default; never in `PublicSettings`.
   */
  templateCode?: Partial<Record<Outcome, StoredTemplate | null>>;
}

/** One custom template compiled: `of` fingerprints the source it came from. */
export interface StoredTemplate {
  of: string;
  nodes: TemplateNode[];
}

/** Literal text, a variable, or an `{{#if}}` / `{{#unless}}` block. */
export type TemplateNode =
  | string
  | { var: string }
  | { if: string; then: TemplateNode[]; else: TemplateNode[] }
  | { unless: string; then: TemplateNode[]; else: TemplateNode[] };

/** The secrets, each stored with `setSecret`; "" = not set. */
export interface Secrets {
  apiKey: string;
  clientSecret: string;
  webhookSecret: string;
}
/** Which secrets are stored; `weakWebhookSecret`: the stored webhook secret fails the strength rule. */
export type SecretFlags = Record<keyof Secrets, boolean> & { weakWebhookSecret: boolean };

/** What the admin page submits: any settings field, plus secrets ("" or absent = keep). */
export type SettingsInput = Partial<Settings> & Partial<Secrets>;

/** One problem with one field; `field` is a dotted path such as "templates.passed". */
export interface FieldError {
  field: string;
  code: string;
  message: string;
  /** 1-based position inside a template, when the problem has one. */
  line?: number;
  column?: number;
}

export type SettingsDecision =
  | { ok: true; settings: Settings; secretUpdates: Partial<Secrets> }
  | { ok: false; errors: FieldError[] };

/** Settings as the browser may see them: no secret, not even masked. */
export interface PublicSettings {
  settings: Settings;
  secrets: Record<keyof Secrets, "set" | "not set">;
  /** True when a verification can be sent (credentials and integration reference present). */
  ready: boolean;
  /** Dotted names of what is missing before `ready`. */
  missing: string[];
  /** The resolved Incode hosts. */
  apiBaseUrl: string;
  authBaseUrl: string;
  /** What is saved but cannot work yet (no webhook secret). */
  warnings: FieldError[];
}

/** The constants and number rules the admin page shows and checks, from the core. */
export interface AdminRules {
  numbers: { field: string; min: number; max: number; message: string }[];
  hosts: Record<Environment, { api: string; auth: string }>;
  webhookAuthDefaults: { hmac: WebhookAuth; sharedSecret: WebhookAuth; oauth: WebhookAuth };
  /** The Incode events to enable on the webhook. */
  webhookEvents: string[];
  /** The variables a comment template may use, in display order. */
  templateVariables: string[];
  defaults: Settings;
}

/** A Jira group, as the groups picker answers it. */
export interface SiteGroup {
  name: string;
  groupId: string;
}

/** A choice for the person to verify: the reporter or a user-picker field. */
export interface PersonFieldOption {
  id: string;
  name: string;
}

/** What the resolver read from the site for a save; what is left out is not checked. */
export interface SiteFacts {
  groups?: SiteGroup[];
  /** The site's fields, as `GET /rest/api/3/field` answers them. */
  fields?: unknown;
}

/** Values a comment template may use. */
export interface TemplateVars {
  name: string;
  email: string;
  identityId: string;
  sessionId: string;
  /** "passed" | "failed" | "manual review" in words. */
  outcome: string;
  /** Display name of the agent who sent the link. */
  agent: string;
  issueKey: string;
  /** "YYYY-MM-DD HH:MM:SS UTC" */
  time: string;
  /** "SMS" | "email" */
  delivery: string;
  /** The timestamped status text, e.g. "Success - 2026-11-22 10:00:00". */
  status: string;
}

/** Atlassian Document Format, version 1 (only the node kinds the core produces). */
export interface AdfDoc {
  type: "doc";
  version: 1;
  content: AdfNode[];
}
export interface AdfNode {
  type: string;
  text?: string;
  marks?: { type: string }[];
  content?: AdfNode[];
  attrs?: Record<string, unknown>;
}

/** A request the shim performs. Jira requests carry `path` (for `assumeTrustedRoute`),
 * Incode requests carry an absolute `url`. `body` is already serialised. */
export interface HttpRequest {
  method: "GET" | "POST" | "PUT" | "DELETE";
  url?: string;
  path?: string;
  headers: Record<string, string>;
  body?: string;
}

/** An expected failure with a stable code the UI can branch on. */
export interface CoreError {
  code: string;
  message: string;
  /** True when trying again later may succeed (outage, rate limit). */
  retryable: boolean;
}

/** A raw HTTP answer handed back to the core for parsing. */
export interface HttpAnswer {
  status: number;
  body: string;
}

export interface IncodeToken {
  accessToken: string;
  /** Epoch ms after which the shim must fetch a new token (already shortened by a margin). */
  refreshAtMs: number;
}

export interface StartVerificationInput {
  email: string;
  delivery: Delivery;
  /** E.164 phone for SMS; "" = the phone in the Incode directory. */
  phone: string;
  /** Alternate address for EMAIL; "" = the corporate email. */
  alternateEmail: string;
}

export interface StartedSession {
  sessionId: string;
  url: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: CoreError };

/** The normalised Incode webhook event. */
export type IncodeEventType =
  | "started"
  | "progress"
  | "succeeded"
  | "failed"
  | "pendingReview"
  | "identityEnrolled"
  | "reviewApproved"
  | "reviewRejected";

export interface IncodeEvent {
  type: IncodeEventType;
  /** The Incode session (interview) id. */
  sessionId: string;
  identityId: string;
  loginHint: string;
  /** The event name as sent, for the delivery log. */
  rawType: string;
  /** Epoch ms when Incode says it happened; 0 = not given. */
  occurredAtMs: number;
}

export interface WebhookInput {
  auth: WebhookAuth;
  secret: string;
  headers: Record<string, string[] | string>;
  body: string;
  nowMs: number;
}

/** A delivery for `Core#receiveWebhook`, which authenticates with its own settings. */
export type DeliveryInput = Omit<WebhookInput, "auth">;

/** The verdict on one delivery: authenticated first, parsed only after. */
export type WebhookReceipt =
  | { kind: "rejected"; status: 401; reason: string; message: string }
  | { kind: "invalid"; status: 400; reason: string; message: string }
  /** Authenticated and well formed, but not an event this app acts on (answered 202). */
  | { kind: "ignored"; status: 202; reason: string; message: string; rawType: string }
  | { kind: "event"; event: IncodeEvent };

/** The token webtrigger's answer (RFC 6749 client credentials). */
export interface TokenAnswer {
  status: number;
  body: string;
}

export type VerificationStatus =
  | "requested"
  | "inProgress"
  | "passed"
  | "failed"
  | "manualReview"
  | "expired"
  | "cancelled";

export interface HistoryEntry {
  status: VerificationStatus;
  atMs: number;
  /** What moved it: an event's raw name, "sent", "cancelled by agent", "link expired". */
  cause: string;
}

/** One verification of one person on one issue. */
export interface Verification {
  id: string;
  sessionId: string;
  issueKey: string;
  issueId: string;
  email: string;
  name: string;
  delivery: Delivery;
  /** Where the link went, as agents may see it: masked phone or the address. */
  destination: string;
  requestedBy: string;
  requestedByName: string;
  requestedAtMs: number;
  expiresAtMs: number;
  status: VerificationStatus;
  /** "Success - YYYY-MM-DD HH:MM:SS UTC" etc. (earlier records: without " UTC"). */
  statusText: string;
  updatedAtMs: number;
  identityId: string;
  history: HistoryEntry[];
  /** Idempotency keys of the events already applied. */
  appliedEvents: string[];
  /** Results reported after a cancel or an expiry, kept and never applied (absent when none). */
  lateResults?: LateResult[];
}

export type LateReason = "afterCancel" | "afterExpiry";

export interface LateResult {
  outcome: Outcome;
  /** The event as Incode named it. */
  event: string;
  reason: LateReason;
  atMs: number;
}

export interface NewVerificationInput {
  id: string;
  session: StartedSession;
  issueKey: string;
  issueId: string;
  email: string;
  name: string;
  delivery: Delivery;
  phone: string;
  alternateEmail: string;
  requestedBy: string;
  requestedByName: string;
  nowMs: number;
  linkExpiryMinutes: number;
}

export interface RealtimeMessage {
  channel: string;
  payload: string;
}

export interface EventActions {
  outcome: Outcome | null;
  comment: HttpRequest | null;
  /** Transition name to look up among the issue's transitions; null = none. */
  transitionName: string | null;
  property: HttpRequest;
  realtime: RealtimeMessage;
}

export type IgnoreReason = "duplicate" | "afterFinal" | "progress" | "notApplicable" | "afterExpiry";
export type RefuseReason = "loginHintMismatch";

export type EventDecision =
  | { kind: "ignored"; reason: IgnoreReason; verification: Verification }
  | { kind: "refused"; reason: RefuseReason; verification: Verification }
  | { kind: "late"; idempotencyKey: string; reason: LateReason; verification: Verification }
  | { kind: "applied"; idempotencyKey: string; verification: Verification; actions: EventActions };

/** What `Core#decideEvent` reads of a record (a whole `Verification` also does). */
export type EventRecord = Pick<
  Verification,
  | "id"
  | "sessionId"
  | "issueKey"
  | "issueId"
  | "email"
  | "name"
  | "delivery"
  | "requestedByName"
  | "status"
  | "statusText"
  | "identityId"
  | "appliedEvents"
  | "expiresAtMs"
  | "lateResults"
>;

/** What an applied event changes on its record; every other field stays as it was. */
export interface RecordChange {
  status: VerificationStatus;
  statusText: string;
  updatedAtMs: number;
  identityId: string;
  /** Appended to `history`. */
  historyEntry: HistoryEntry;
  /** How many of the oldest `appliedEvents` drop off before the idempotency key is appended. */
  appliedEventsDropped: number;
}

/** `Core#decideEvent`'s answer: an `EventDecision` with the record's change instead of the record. */
export type EventChange =
  | { kind: "ignored"; reason: IgnoreReason }
  | { kind: "refused"; reason: RefuseReason }
  | {
      kind: "late";
      idempotencyKey: string;
      late: LateResult;
      /** How many of the oldest `lateResults` drop off before `late` is appended. */
      lateResultsDropped: number;
      appliedEventsDropped: number;
    }
  | { kind: "applied"; idempotencyKey: string; change: RecordChange; actions: EventActions };

/**
 * `Core#decideEvent`'s answer: the decision, then the JSON texts taken out of it (the comment's
 * request body, null without a comment; the property's request body; the live update's payload).
 */
export type DecidedEvent = DecidedIgnored | DecidedApplied;
export type DecidedIgnored = [decision: Exclude<EventChange, { kind: "applied" }>, commentBody: null, propertyBody: null, payload: null];
export type DecidedApplied = [
  decision: Extract<EventChange, { kind: "applied" }>,
  commentBody: string | null,
  propertyBody: string,
  payload: string,
];

export interface ApplyEventInput {
  verification: Verification;
  event: IncodeEvent;
  settings: Settings;
  nowMs: number;
}

/** Jira's `GET /rest/api/3/issue/{key}/transitions` answer, as received. */
export interface TransitionsAnswer {
  transitions?: { id: string; name: string; to?: { name?: string } }[];
}

export type TransitionChoice =
  | { kind: "transition"; id: string; name: string; request: HttpRequest }
  | { kind: "none"; reason: "notConfigured" | "notAvailable"; message: string };

/** A verification's state as the panel shows it: its status, a replaced link told apart. */
export type ShownState = VerificationStatus | "replaced";

/** What the caller may do with one verification in the panel. */
export interface PanelActions {
  resend: boolean;
  cancel: boolean;
  newVerification: boolean;
}

/** What the panel reads of a verification to show it (a whole `Verification` also does). */
export interface ShownInput {
  status: VerificationStatus;
  history: HistoryEntry[];
}

/** How the panel shows one verification: its state, the state's one name, the caller's actions. */
export interface PanelShown {
  state: ShownState;
  stateName: string;
  actions: PanelActions;
}

/** What an agent of the issue may do, from the admin's agent groups. */
export interface AgentAccess {
  maySend: boolean;
  mayChange: boolean;
  /** Why not, for the panel's notice; null when allowed. */
  reason: string | null;
}

/** One function instance's count of failed authentications (kept in memory, per installation). */
export interface AuthFailures {
  windowStartMs: number;
  failures: number;
  /** Authentication is locked until then (0 = not locked). */
  lockedUntilMs: number;
}

/** `authFailed`'s answer: the new count, and the lock's end when this failure locked (write the marker). */
export interface FailureNoted {
  failures: AuthFailures;
  markUntilMs: number | null;
}

export type Webtrigger = "webhook" | "token";

/** A webtrigger request refused before any work: 405 (with `allow`) or 413. */
export interface RequestRefusal {
  status: number;
  reason: string;
  allow: string | null;
}
