// The resolvers' answers as the pages read them, written with the core's generated types
// (src/generated/*.d.ts) so a change to a Rust boundary type shows up in the type check.
// Declarations only: no page imports this module at runtime.

/** @typedef {import('../../src/generated/core.js').Verification} Verification */
/** @typedef {import('../../src/generated/core.js').PanelShown} PanelShown */
/** @typedef {import('../../src/generated/core.js').Delivery} Delivery */
/** @typedef {import('../../src/generated/core.js').FieldError} FieldError */
/** @typedef {import('../../src/generated/core.js').PublicSettings} PublicSettings */
/** @typedef {import('../../src/generated/core.js').AdminRules} AdminRules */
/** @typedef {import('../../src/generated/core.js').Settings} Settings */

/** A verification as the browser sees it (no applied-event keys), with how it is shown. @typedef {Omit<Verification, 'appliedEvents'> & PanelShown} VerificationView */

/** The error half of a resolver envelope (shared/envelope.js). @typedef {{ code: string, message: string, fields?: FieldError[], [more: string]: any }} ResolverError */

/**
 * `panel.getState`'s answer (src/panel.js).
 * @typedef {{ setupRequired: boolean, isAdmin: boolean, canSend: boolean, cannotSendReason: string | null,
 *   defaults: { delivery: Delivery, linkExpiryMinutes: number }, person: { email: string, name: string } | null,
 *   current: VerificationView | null, history: VerificationView[], realtime: { channel: string, token: string } | null }} PanelState
 */

/** `portal.getState`'s answer (src/portal.js). @typedef {{ enabled: boolean, pending: { expiresAtMs: number, delivery: Delivery } | null }} PortalState */

/** One step of the admin page's setup checklist (src/admin.js). @typedef {{ id: string, done: boolean, label: string, detail: string, atMs: number | null }} ChecklistItem */

/**
 * Where Incode must send its webhooks, as the admin page shows it (src/admin.js).
 * @typedef {{ url: string, tokenUrl: string | null, mode: import('../../src/generated/core.js').WebhookAuth['mode'], header: string,
 *   events: string[], instructions: string }} WebhookInfo
 */

/**
 * `admin.getSettings`'s answer (src/admin.js).
 * @typedef {{ settings: PublicSettings, revision: number, settingsUnreadable: boolean, webhook: WebhookInfo, checklist: ChecklistItem[], rules: AdminRules }} AdminSettings
 */

/**
 * One webhook delivery as the admin page lists it (rust/src/admin/deliveries.rs), with the core's
 * name of its status (`stateName`, "" without one), its verdict as shown (`shownVerdict`: "test"
 * for a test verification) and in a word (`verdictText`), and its reason in words (`reasonText`).
 * @typedef {{ atMs: number, verdict: string, reason: string, eventType: string, sessionId: string, issueKey: string, status: string,
 *   stateName: string, shownVerdict: string, verdictText: string, reasonText: string, httpStatus: number }} DeliveryEntry
 */

/** What a page knows of where it runs (shared/bridge.js `startPage`). @typedef {{ locale?: string, timeZone?: string, context?: any }} PageEnv */

/** A page's first load. @typedef {{ name: 'loading' } | { name: 'ready' } | { name: 'error', error: ResolverError }} LoadPhase */

export {};
