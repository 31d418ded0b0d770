// The local Forge Realtime service.
//
// Backend side: @forge/realtime sends GraphQL mutations through
// `__forge_fetch__({ type: 'realtime' }, '/', ...)` — `publishRealtimeChannel` (with the invocation's
// `x-forge-context-token` header) and `signRealtimeToken` (see node_modules/@forge/realtime/out).
// Browser side: @forge/bridge's `realtime.subscribe/subscribeGlobal/publish/publishGlobal` reach
// this hub through the host's bridge (subscriptions are Server-Sent Events streams).
//
// Channel scoping, as Forge documents it ("Authorizing Realtime channels"):
// - `publish`/`subscribe` are scoped to the Atlassian app context of the module: same module on
//   the same issue/project (or, with `contextOverrides: ['issue']`, only the listed parts of the
//   context). A publish needs a UI context: a webtrigger has none.
// - `publishGlobal`/`subscribeGlobal` reach every subscriber of the channel in the installation.
// - A token from `signRealtimeToken(channel, claims, permissions?)` narrows a channel further: an
//   event published with a token reaches only subscribers that presented a valid token for the
//   same channel with the same claims, and an event published without a token never reaches
//   token-holding subscribers. Tokens are HS256 JWTs signed with a per-host secret, so a browser
//   cannot mint one; they expire after an hour.
import crypto from 'node:crypto';

export const TOKEN_LIFETIME_SECONDS = 3600;
const REPLAY_WINDOW_MS = 5 * 60_000;
const PERMISSIONS = new Set(['publish', 'subscribe']);
const CONTEXT_PARTS = new Set(['issue', 'project', 'board', 'content', 'space', 'repository', 'pullRequest']);
const SPECIFICITY = ['issue', 'pullRequest', 'content', 'board', 'repository', 'project', 'space'];

/** Canonical JSON (sorted object keys) so equal claims compare equal whatever their key order. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const b64url = (input) => Buffer.from(input).toString('base64url');

export class RealtimeError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * @param {{ installationId: string, now?: () => number, secret?: Buffer }} options
 */
export function createRealtimeHub({ installationId, now = Date.now, secret = crypto.randomBytes(32) }) {
  /** @type {Map<string, { id, channel, isGlobal, scope, tokenKey, send, close }>} */
  const subscriptions = new Map();
  /** Recent events per channel for `replaySeconds`. */
  const history = new Map();
  /** UI contexts of invocations and frames: opaque context token -> { moduleKey, extension }. */
  const contexts = new Map();
  const published = [];

  function sign(payload) {
    const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const body = b64url(JSON.stringify(payload));
    const mac = crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
    return `${head}.${body}.${mac}`;
  }

  /** Verifies a token for `channel` and `permission`; returns its claims key or throws. */
  function verify(token, channel, permission) {
    if (typeof token !== 'string') throw new RealtimeError('INVALID_TOKEN', 'The realtime token must be a string');
    const parts = token.split('.');
    if (parts.length !== 3) throw new RealtimeError('INVALID_TOKEN', 'Malformed realtime token');
    const expected = crypto.createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
    const given = Buffer.from(parts[2], 'base64url');
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
      throw new RealtimeError('INVALID_TOKEN', 'The realtime token signature is not valid');
    }
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (payload.installationId !== installationId) throw new RealtimeError('INVALID_TOKEN', 'The realtime token belongs to another installation');
    if (typeof payload.exp !== 'number' || now() / 1000 >= payload.exp) throw new RealtimeError('TOKEN_EXPIRED', 'The realtime token has expired');
    if (payload.channel?.name !== channel) throw new RealtimeError('CHANNEL_NAME_MISMATCH', 'The realtime token was signed for another channel');
    if (payload.permissions && !payload.permissions.includes(permission)) {
      throw new RealtimeError('MISSING_PERMISSION', `The realtime token does not grant ${permission}`);
    }
    return canonical(payload.claims);
  }

  function contextScope(context, overrides) {
    if (!context) throw new RealtimeError('NO_CONTEXT', 'This channel is scoped to a UI context and the caller has none: use the global variant');
    const extension = context.extension ?? {};
    const idOf = (part) => {
      const value = extension[part];
      if (value === undefined || value === null) return null;
      return typeof value === 'object' ? String(value.id ?? value.key ?? canonical(value)) : String(value);
    };
    if (overrides) {
      if (!Array.isArray(overrides) || overrides.some((p) => !CONTEXT_PARTS.has(p))) {
        throw new RealtimeError('INVALID_CONTEXT_OVERRIDES', 'contextOverrides must list product context properties such as "issue"');
      }
      return `ctx:${[...new Set(overrides)]
        .sort()
        .map((p) => `${p}=${idOf(p)}`)
        .join('|')}`;
    }
    // The module's own context is its most specific entity: an issue panel's issue (its project
    // follows from it), a project page's project.
    const entity = SPECIFICITY.find((p) => idOf(p) !== null);
    return `ctx:module=${context.moduleKey}|${entity ? `${entity}=${idOf(entity)}` : ''}`;
  }

  function deliver(event) {
    let delivered = 0;
    for (const sub of subscriptions.values()) {
      if (sub.channel === event.channel && sub.isGlobal === event.isGlobal && sub.scope === event.scope && sub.tokenKey === event.tokenKey) {
        sub.send({ payload: event.payload, eventId: event.eventId, eventTimestamp: event.eventTimestamp });
        delivered += 1;
      }
    }
    return delivered;
  }

  /**
   * Publishes one event. `payloadText` is the JSON text @forge/realtime sends (`JSON.stringify`
   * of what the app passed); subscribers receive the value the app published.
   */
  function publish({ channel, payloadText, isGlobal, token, context, contextOverrides }) {
    if (typeof channel !== 'string' || channel.length === 0) throw new RealtimeError('INVALID_CHANNEL', 'A channel name is required');
    const tokenKey = token ? verify(token, channel, 'publish') : null;
    const scope = isGlobal ? 'global' : contextScope(context, contextOverrides);
    let payload;
    try {
      payload = JSON.parse(payloadText);
    } catch {
      throw new RealtimeError('INVALID_PAYLOAD', 'The event payload is not JSON');
    }
    const event = {
      channel,
      isGlobal: !!isGlobal,
      scope,
      tokenKey,
      payload,
      eventId: crypto.randomUUID(),
      eventTimestamp: new Date(now()).toISOString(),
      at: now(),
    };
    const list = history.get(channel) ?? [];
    list.push(event);
    while (list.length && list[0].at < now() - REPLAY_WINDOW_MS) list.shift();
    history.set(channel, list);
    published.push({ channel, isGlobal: event.isGlobal, payload, withToken: !!token, at: event.at });
    if (published.length > 500) published.shift();
    const delivered = deliver(event);
    // Forge: "eventId and eventTimestamp will be null if there are no existing subscribers".
    return delivered > 0 ? { eventId: event.eventId, eventTimestamp: event.eventTimestamp } : { eventId: null, eventTimestamp: null };
  }

  /**
   * Subscribes a browser frame. `send(message)` gets `{ payload, eventId, eventTimestamp }`.
   * Throws a RealtimeError when the token or context does not allow it.
   */
  function subscribe({ channel, isGlobal, token, contextOverrides, replaySeconds, context, send }) {
    if (typeof channel !== 'string' || channel.length === 0) throw new RealtimeError('INVALID_CHANNEL', 'A channel name is required');
    const tokenKey = token ? verify(token, channel, 'subscribe') : null;
    const scope = isGlobal ? 'global' : contextScope(context, contextOverrides);
    const sub = { id: crypto.randomBytes(16).toString('hex'), channel, isGlobal: !!isGlobal, scope, tokenKey, send };
    subscriptions.set(sub.id, sub);
    if (Number.isFinite(replaySeconds) && replaySeconds > 0) {
      const since = now() - replaySeconds * 1000;
      for (const event of history.get(channel) ?? []) {
        if (event.at >= since && event.isGlobal === sub.isGlobal && event.scope === scope && event.tokenKey === tokenKey) {
          send({ payload: event.payload, eventId: event.eventId, eventTimestamp: event.eventTimestamp });
        }
      }
    }
    return { id: sub.id, close: () => subscriptions.delete(sub.id) };
  }

  function signToken(channel, claims, permissions) {
    if (typeof channel !== 'string' || channel.length === 0) throw new RealtimeError('INVALID_CHANNEL', 'A channel name is required');
    if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new RealtimeError('INVALID_CLAIMS', 'claims must be an object');
    if (permissions !== undefined && permissions !== null && (!Array.isArray(permissions) || permissions.some((p) => !PERMISSIONS.has(p)))) {
      throw new RealtimeError('INVALID_PERMISSIONS', 'permissions must list "publish" and/or "subscribe"');
    }
    const iat = Math.floor(now() / 1000);
    const exp = iat + TOKEN_LIFETIME_SECONDS;
    const jwt = sign({ iss: 'forge-realtime-local', installationId, channel: { name: channel }, claims, ...(permissions ? { permissions } : {}), iat, exp });
    return { jwt, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /**
   * Serves the GraphQL request @forge/realtime sends through `__forge_fetch__`.
   * @returns {{ status: number, json: object }}
   */
  function handleGraphql(bodyText, contextToken) {
    let request;
    try {
      request = JSON.parse(bodyText);
    } catch {
      return { status: 400, json: { errors: [{ message: 'Request body is not JSON' }] } };
    }
    const query = String(request.query ?? '');
    const vars = request.variables ?? {};
    const fail = (error) => ({
      status: 200,
      json: { errors: [{ message: error.message, extensions: { errorType: error.code ?? 'INTERNAL_ERROR', statusCode: 400 } }] },
    });
    if (/\bsignRealtimeToken\s*\(/.test(query)) {
      try {
        const { jwt, expiresAt } = signToken(vars.channelName, vars.claims, vars.permissions ?? undefined);
        return { status: 200, json: { data: { ecosystem: { signRealtimeToken: { errors: [], forgeRealtimeToken: { jwt, expiresAt }, success: true } } } } };
      } catch (error) {
        if (error instanceof RealtimeError) return fail(error);
        throw error;
      }
    }
    if (/\bpublishRealtimeChannel\s*\(/.test(query)) {
      try {
        if (vars.installationId !== installationId) throw new RealtimeError('INVALID_INSTALLATION', 'Unknown installation');
        const overrides = vars.context ? JSON.parse(vars.context).contextOverrides : undefined;
        const result = publish({
          channel: vars.name,
          payloadText: vars.payload,
          isGlobal: !!vars.isGlobal,
          token: vars.token ?? undefined,
          context: contextToken ? contexts.get(contextToken) : undefined,
          contextOverrides: overrides,
        });
        return { status: 200, json: { data: { ecosystem: { publishRealtimeChannel: result } } } };
      } catch (error) {
        if (error instanceof RealtimeError) return fail(error);
        throw error;
      }
    }
    return { status: 400, json: { errors: [{ message: 'Unsupported realtime operation' }] } };
  }

  return {
    handleGraphql,
    publish,
    subscribe,
    signToken,
    verify,
    /** Registers a UI context (an invocation from a module, or a frame) under an opaque token. */
    registerContext(context) {
      const token = crypto.randomBytes(16).toString('hex');
      contexts.set(token, context);
      return { token, release: () => contexts.delete(token) };
    },
    get subscriberCount() {
      return subscriptions.size;
    },
    /** Recently published events (newest last), for tests and the shell. */
    published,
    close() {
      subscriptions.clear();
      history.clear();
      contexts.clear();
    },
  };
}
