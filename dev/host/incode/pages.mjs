// HTML of the sandbox's pages: the inbox of sent links and the employee's verification page.
// Plain server-rendered HTML with real forms and buttons, so a keyboard or a browser test can
// drive them.

const STYLE = `
  :root { color-scheme: light; --ink: #172b4d; --muted: #5e6c84; --line: #dfe1e6; --brand: #0052cc; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f4f5f7; }
  main { max-width: 420px; margin: 0 auto; padding: 24px 16px 48px; }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 20px; margin-bottom: 16px; }
  h1 { font-size: 1.4rem; margin: 0 0 8px; }
  h2 { font-size: 1.05rem; margin: 0 0 8px; }
  p { margin: 0 0 12px; }
  .muted { color: var(--muted); font-size: 0.9rem; }
  .brand { font-weight: 700; letter-spacing: 0.02em; color: var(--brand); margin-bottom: 12px; }
  form { display: grid; gap: 10px; margin: 0; }
  label { font-weight: 600; font-size: 0.9rem; }
  input, select { font: inherit; padding: 10px; border: 1px solid var(--line); border-radius: 8px; width: 100%; }
  button { font: inherit; padding: 12px 14px; border-radius: 8px; border: 1px solid var(--line); background: #fff; color: var(--ink); cursor: pointer; text-align: center; }
  button.primary { background: var(--brand); border-color: var(--brand); color: #fff; font-weight: 600; }
  button.danger { border-color: #de350b; color: #bf2600; }
  button:focus-visible { outline: 3px solid #4c9aff; outline-offset: 2px; }
  .badge { display: inline-block; padding: 2px 8px; border-radius: 999px; font-size: 0.8rem; background: #ebecf0; }
  .ok { background: #e3fcef; color: #006644; } .bad { background: #ffebe6; color: #bf2600; } .wait { background: #fffae6; color: #974f0c; }
  ul.inbox { list-style: none; margin: 0; padding: 0; }
  ul.inbox li { border-top: 1px solid var(--line); padding: 12px 0; }
  ul.inbox li:first-child { border-top: 0; }
  a { color: var(--brand); }
`;

export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function layout(title, inner) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<div class="brand" aria-hidden="true">incode</div>
${inner}
</main>
</body>
</html>`;
}

const STATE_LABEL = {
  created: ['Link sent', ''],
  started: ['In progress', 'wait'],
  succeeded: ['Verified', 'ok'],
  failed: ['Failed', 'bad'],
  pendingReview: ['Under manual review', 'wait'],
  approved: ['Review approved', 'ok'],
  rejected: ['Review rejected', 'bad'],
  expired: ['Link expired', 'bad'],
};

function badge(state) {
  const [label, tone] = STATE_LABEL[state] ?? [state, ''];
  return `<span class="badge ${tone}">${escapeHtml(label)}</span>`;
}

function time(ms) {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

export function inboxPage({ outbox, stateOf }) {
  const items = [...outbox].reverse().map(
    (m) => `
    <li>
      <div><strong>${escapeHtml(m.channel)}</strong> to ${escapeHtml(m.to)} ${badge(stateOf(m.sessionId))}</div>
      <div class="muted">${escapeHtml(m.name)} · ${escapeHtml(time(m.atMs))}</div>
      <div><a href="${escapeHtml(m.path)}">Open verification link</a></div>
    </li>`,
  );
  return layout(
    'Incode sandbox inbox',
    `<section class="card" aria-labelledby="inbox-title">
  <h1 id="inbox-title">Sent verification links</h1>
  <p class="muted">Messages the Incode sandbox would have sent by SMS or email. <a href="/incode/webhook">Webhook settings</a></p>
  ${items.length ? `<ul class="inbox">${items.join('')}</ul>` : `<p>No links have been sent yet.</p>`}
</section>`,
  );
}

export function sessionPage({ session, state, notice }) {
  const who = escapeHtml(session.employee.name);
  const action = escapeHtml(`/incode/session/${encodeURIComponent(session.id)}`);
  const status = notice ? `<p role="status">${escapeHtml(notice)}</p>` : '';
  let body;
  switch (state) {
    case 'created':
    case 'started':
      body = `<section class="card" aria-labelledby="title">
  <h1 id="title">Verify your identity</h1>
  <p>Hi ${who}, your IT help desk asked you to confirm it is really you. This takes a selfie and a quick liveness check.</p>
  <p class="muted">Link valid until ${escapeHtml(time(session.expiresAtMs))}.</p>
  ${status}
  <form method="post" action="${action}" aria-label="Verification result">
    <button type="submit" name="action" value="pass" class="primary">Complete verification (pass)</button>
    <button type="submit" name="action" value="fail" class="danger">Fail the face match</button>
    <button type="submit" name="action" value="review">Send to manual review</button>
  </form>
</section>`;
      break;
    case 'pendingReview':
      body = `<section class="card" aria-labelledby="title">
  <h1 id="title">Verification under review</h1>
  <p>Thanks ${who}. Your verification needs a manual check; your help desk will hear the outcome.</p>
  ${status}
</section>
<section class="card" aria-labelledby="review-title">
  <h2 id="review-title">Incode dashboard: manual review</h2>
  <p class="muted">A reviewer's decision on session ${escapeHtml(session.id)}.</p>
  <form method="post" action="${action}" aria-label="Manual review decision">
    <button type="submit" name="action" value="approve" class="primary">Approve review</button>
    <button type="submit" name="action" value="reject" class="danger">Reject review</button>
  </form>
</section>`;
      break;
    case 'expired':
      body = `<section class="card" aria-labelledby="title">
  <h1 id="title">This verification link has expired</h1>
  <p>The link was valid until ${escapeHtml(time(session.expiresAtMs))}. Ask your help desk to send a new one.</p>
</section>`;
      break;
    default: {
      const passed = state === 'succeeded' || state === 'approved';
      body = `<section class="card" aria-labelledby="title">
  <h1 id="title">${passed ? 'Identity verified' : 'Verification not successful'}</h1>
  <p role="status">${badge(state)}</p>
  <p>${passed ? "You're done. You can close this page and return to your help desk." : 'Your identity could not be confirmed. Your help desk will follow up with you.'}</p>
</section>`;
    }
  }
  return layout(state === 'expired' ? 'Link expired' : 'Verify your identity', body);
}

/** The dashboard's webhook registration, with the latest delivery attempts. */
export function webhookPage({ config, deliveries, error, saved }) {
  const value = (name, fallback = '') => escapeHtml(config?.[name] ?? fallback);
  const option = (name, current, choices) =>
    choices.map(([v, label]) => `<option value="${v}"${current === v ? ' selected' : ''}>${escapeHtml(label)}</option>`).join('');
  const field = (id, label, input, hint = '') =>
    `<label for="${id}">${escapeHtml(label)}</label>${input}${hint ? `<span class="muted">${escapeHtml(hint)}</span>` : ''}`;
  const rows = [...deliveries]
    .slice(-20)
    .reverse()
    .map(
      (d) => `
    <li>
      <div><strong>${escapeHtml(d.eventType)}</strong> · attempt ${escapeHtml(d.attempt)} · ${d.ok ? '<span class="badge ok">delivered</span>' : `<span class="badge bad">${escapeHtml(d.status ?? 'no answer')}</span>`}</div>
      <div class="muted">${escapeHtml(time(d.atMs))}${d.error ? ` · ${escapeHtml(d.error)}` : ''}</div>
    </li>`,
    );
  return layout(
    'Incode sandbox webhook',
    `<section class="card" aria-labelledby="webhook-title">
  <h1 id="webhook-title">Webhook</h1>
  <p class="muted">Where the sandbox posts session events, as registered in the Incode dashboard.</p>
  ${error ? `<p role="alert" class="badge bad">${escapeHtml(error)}</p>` : ''}
  ${saved ? `<p role="status" class="badge ok">Saved</p>` : ''}
  <form method="post" action="/incode/webhook" aria-label="Webhook registration">
    ${field('url', 'URL', `<input id="url" name="url" type="url" required value="${value('url')}">`)}
    ${field(
      'mode',
      'Authentication',
      `<select id="mode" name="mode">${option('mode', config?.mode ?? 'hmac', [
        ['hmac', 'HMAC signature'],
        ['sharedSecret', 'Shared secret header'],
        ['oauth', 'OAuth2 bearer token'],
      ])}</select>`,
    )}
    ${field('secret', 'Secret', `<input id="secret" name="secret" type="password" autocomplete="off" value="">`, config ? 'Leave empty to keep the current secret.' : '')}
    ${field('header', 'Header', `<input id="header" name="header" value="${value('header')}">`, 'HMAC: x-incode-signature; shared secret: x-incode-secret.')}
    ${field(
      'encoding',
      'Signature encoding',
      `<select id="encoding" name="encoding">${option('encoding', config?.encoding ?? 'hex', [
        ['hex', 'hex'],
        ['base64', 'base64'],
      ])}</select>`,
    )}
    ${field('timestampHeader', 'Timestamp header (HMAC)', `<input id="timestampHeader" name="timestampHeader" value="${value('timestampHeader')}">`)}
    ${field('tokenUrl', 'Token URL (OAuth2)', `<input id="tokenUrl" name="tokenUrl" type="url" value="${value('tokenUrl')}">`)}
    ${field('clientId', 'Client id (OAuth2)', `<input id="clientId" name="clientId" value="${value('clientId')}">`)}
    <button type="submit" class="primary">Save webhook</button>
  </form>
</section>
<section class="card" aria-labelledby="deliveries-title">
  <h2 id="deliveries-title">Recent deliveries</h2>
  ${rows.length ? `<ul class="inbox">${rows.join('')}</ul>` : '<p>Nothing sent yet.</p>'}
</section>`,
  );
}

export function messagePage(title, text) {
  return layout(title, `<section class="card"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></section>`);
}
