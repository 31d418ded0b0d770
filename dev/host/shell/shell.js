// The local host's shell: who is looking (user switcher), the request queue, the issue view with
// the app's issue panel, the admin page and the customer portal view. Frames are opened through
// /__host/frames, so the host, not the page, decides which user and issue a frame belongs to.
'use strict';

const state = {
  info: null,
  users: [],
  user: null,
  theme: localStorage.getItem('forge-host-theme') === 'dark' ? 'dark' : 'light',
  route: null,
  issue: null,
  frames: new Set(),
  pollTimer: null,
};

// ---------------------------------------------------------------------------------------------
// small DOM helpers (text only: nothing from the site is parsed as HTML)

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, '');
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { 'content-type': 'application/json', ...(options.headers ?? {}) },
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(json?.message ?? json?.errorMessages?.join(' ') ?? `HTTP ${response.status}`);
  return json;
}

/** A time as Jira shows it to the signed-in user: their locale and time zone, with the zone. */
function formatTime(ms) {
  if (!ms) return '';
  const options = { day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' };
  const locale = typeof state.user?.locale === 'string' ? state.user.locale.replace('_', '-') : undefined;
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone: state.user?.timeZone }).format(new Date(ms));
  } catch {
    return new Intl.DateTimeFormat(undefined, options).format(new Date(ms));
  }
}

/** The app's verification property as the issue view shows it: the state's name and when it changed. */
function verificationSummary(property) {
  if (!property || typeof property !== 'object') return '—';
  const name = typeof property.statusName === 'string' && property.statusName ? property.statusName : property.statusText;
  if (typeof name !== 'string' || name === '') return '—';
  const at = Date.parse(property.updatedAt);
  return Number.isFinite(at) && property.statusName ? `${name} · ${formatTime(at)}` : name;
}

function statusClass(status) {
  if (/resolved|done/i.test(status)) return 'lozenge done';
  if (/progress|escalated|pending/i.test(status)) return 'lozenge progress';
  return 'lozenge';
}

// ---------------------------------------------------------------------------------------------
// flags (showFlag from the app)

function showFlag(options) {
  const flags = document.getElementById('flags');
  const existing = flags.querySelector(`[data-flag-id="${CSS.escape(String(options.id))}"]`);
  existing?.remove();
  const type = ['success', 'warning', 'error', 'info'].includes(options.type) ? options.type : 'info';
  const close = el('button', { type: 'button', 'aria-label': 'Dismiss', onclick: () => flag.remove() }, '×');
  const flag = el(
    'div',
    { class: `flag ${type}`, 'data-flag-id': options.id },
    close,
    el('strong', {}, options.title ?? ''),
    options.description ? el('span', {}, options.description) : null,
  );
  flags.append(flag);
  if (options.isAutoDismiss !== false) setTimeout(() => flag.remove(), 8000);
}

// ---------------------------------------------------------------------------------------------
// frames

async function mountFrame(container, { moduleKey, issueKey, title }) {
  const frame = await api('/__host/frames', {
    method: 'POST',
    body: JSON.stringify({ accountId: state.user.accountId, moduleKey, issueKey, theme: state.theme }),
  });
  const iframe = el('iframe', { src: frame.src, title, loading: 'eager' });
  container.append(iframe);
  state.frames.add(iframe);
  return iframe;
}

function sizeFrames() {
  for (const iframe of state.frames) {
    if (!iframe.isConnected) {
      state.frames.delete(iframe);
      continue;
    }
    let height = null;
    try {
      const doc = iframe.contentDocument;
      // The height of the page's content (not the document's, which is never smaller than the
      // frame), so a frame also shrinks when its content does, as Forge's resizer does.
      const root = doc?.getElementById('root');
      if (root?.dataset.ready) height = Math.ceil(root.getBoundingClientRect().height);
    } catch {
      // not loaded yet
    }
    if (height === null) continue;
    iframe.classList.add('sized');
    if (Math.abs(height - iframe.offsetHeight) > 2) iframe.style.height = `${height}px`;
    // A portal panel that renders nothing takes no room, as on the customer portal. (Collapsed,
    // not display:none, so the page inside keeps its layout and is measured when it grows.)
    const section = iframe.closest('.app-panel');
    if (section) section.classList.toggle('empty', height === 0 && section.dataset.collapsible === 'true');
  }
}

// ---------------------------------------------------------------------------------------------
// modals (@forge/bridge Modal): drawn over the whole page, as the product draws its dialogs

const MODAL_WIDTHS = { small: '400px', medium: '600px', large: '800px', xlarge: '968px', max: 'calc(100vw - 120px)', fullscreen: '100vw' };

function openModal(opener, data) {
  if (state.modal) return;
  const custom = data.size && typeof data.size === 'object' ? data.size : null;
  const width = custom?.width ?? MODAL_WIDTHS[data.size] ?? MODAL_WIDTHS.medium;
  const iframe = el('iframe', { src: data.src, title: data.title || 'Dialog', class: 'modal-frame' });
  const container = el('div', { class: 'forge-modal', 'data-testid': 'forge-modal' }, iframe);
  // Set through the CSSOM: the shell's CSP allows no style attributes.
  container.style.width = `min(${width}, calc(100vw - 32px))`;
  const blanket = el('div', { class: 'forge-modal-blanket', 'data-testid': 'forge-modal-blanket' }, container);
  blanket.addEventListener('click', (event) => {
    if (event.target === blanket && data.closeOnOverlayClick) closeModal(undefined);
  });
  // Everything else on the page is out of reach while the modal is open (focus stays in it).
  const inerted = [...document.body.children].filter((node) => !node.inert);
  for (const node of inerted) node.inert = true;
  document.body.append(blanket);
  state.modal = { opener, iframe, blanket, inerted, modalId: data.modalId, closeOnEscape: data.closeOnEscape };
  state.frames.add(iframe);
  iframe.addEventListener('load', () => iframe.focus());
}

/** Closes the open modal and hands `payload` to its opener's onClose; focus goes back to the opener. */
function closeModal(payload) {
  const modal = state.modal;
  if (!modal) return;
  state.modal = null;
  modal.blanket.remove();
  state.frames.delete(modal.iframe);
  for (const node of modal.inerted) node.inert = false;
  if (modal.opener.isConnected) {
    modal.opener.focus();
    modal.opener.contentWindow?.postMessage({ source: 'forge-host-shell', type: 'modalClosed', modalId: modal.modalId, payload }, location.origin);
  }
}

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && state.modal?.closeOnEscape) closeModal(undefined);
});

window.addEventListener('message', (event) => {
  if (event.origin !== location.origin) return;
  const message = event.data;
  if (!message || message.source !== 'forge-host-bridge') return;
  const from = [...state.frames].find((f) => f.contentWindow === event.source);
  if (!from) return;
  const fromModal = state.modal?.iframe === from;
  switch (message.type) {
    case 'openModal':
      if (!fromModal) openModal(from, message.data);
      break;
    case 'closeModal':
      if (fromModal) closeModal(message.data?.payload);
      break;
    case 'modalEscape':
      if (fromModal && state.modal.closeOnEscape) closeModal(undefined);
      break;
    case 'navigate': {
      const url = new URL(message.data.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return;
      if (message.data.newTab) window.open(url.href, '_blank', 'noopener');
      else if (url.origin === location.origin) location.href = url.href;
      else location.assign(url.href);
      break;
    }
    case 'workflowRuleConfigurable':
      if (fromModal && state.modal.rule) state.modal.rule.save.disabled = false;
      break;
    case 'workflowRuleConfiguration': {
      const pending = fromModal ? state.modal.rule?.pending : null;
      if (pending && message.data?.requestId === pending.requestId) pending.resolve(message.data);
      break;
    }
    case 'showFlag':
      showFlag(message.data);
      break;
    case 'closeFlag':
      document.querySelector(`[data-flag-id="${CSS.escape(String(message.data.id))}"]`)?.remove();
      break;
    case 'refresh':
      refreshIssue();
      break;
    case 'reload':
      from.contentWindow.location.reload();
      break;
    case 'title':
      document.title = `${message.data.title} - Jira (local Forge host)`;
      break;
    default:
      break;
  }
});

// ---------------------------------------------------------------------------------------------
// views

const modulesOf = (type) => state.info.modules.filter((m) => m.type === type);
const isCustomer = () => state.user?.role === 'customer';

async function loadQueue() {
  try {
    return { issues: (await api(`/__host/issues?as=${encodeURIComponent(state.user.accountId)}`)).issues };
  } catch (error) {
    return { issues: [], error };
  }
}

function drawQueue({ issues, error }) {
  const list = document.getElementById('issue-list');
  document.getElementById('queue-title').textContent = isCustomer() ? 'My requests' : 'IT Help Desk queue';
  if (error) {
    list.replaceChildren(el('li', { class: 'muted' }, error.message));
    return;
  }
  const current = state.route?.name === 'issue' ? state.route.key : null;
  list.replaceChildren(
    ...issues.map((issue) =>
      el(
        'li',
        {},
        el(
          'a',
          { href: `#/issue/${issue.key}`, 'aria-current': issue.key === current ? 'page' : null },
          el('span', { class: 'key' }, issue.key, ' · ', issue.status),
          el('span', { class: 'summary' }, issue.summary),
        ),
      ),
    ),
  );
  if (!issues.length) list.append(el('li', { class: 'muted' }, 'No requests.'));
}

async function renderQueue() {
  const queue = await loadQueue();
  drawQueue(queue);
  return queue.issues;
}

// The marks Jira renders in a comment, as the app's comment preview does (static/shared/adf.js).
const MARK_TAGS = { strong: 'strong', em: 'em', code: 'code', underline: 'u', strike: 's' };

/** A comment's ADF as DOM nodes: paragraphs, line breaks and marked text (nothing parsed as HTML). */
function adfNodes(node) {
  if (!node || typeof node !== 'object') return [];
  if (node.type === 'text') {
    const marks = Array.isArray(node.marks) ? node.marks : [];
    return [
      marks.reduce((inner, mark) => (MARK_TAGS[mark?.type] ? el(MARK_TAGS[mark.type], {}, inner) : inner), document.createTextNode(String(node.text ?? ''))),
    ];
  }
  if (node.type === 'hardBreak') return [el('br')];
  const children = (Array.isArray(node.content) ? node.content : []).flatMap(adfNodes);
  return node.type === 'paragraph' ? [el('p', {}, children)] : children;
}

function commentList(issue) {
  if (!issue.comments.length) return el('p', { class: 'muted' }, 'No comments yet.');
  return el(
    'ul',
    { class: 'comments' },
    issue.comments.map((c) =>
      el(
        'li',
        { class: c.internal ? 'comment internal' : 'comment' },
        el(
          'header',
          {},
          el('strong', {}, c.author ?? 'Unknown'),
          el('time', {}, formatTime(c.created)),
          c.internal ? el('span', { class: 'lozenge' }, 'Internal note') : null,
        ),
        el('div', { class: 'comment-body' }, c.body ? adfNodes(c.body) : el('p', {}, c.text)),
      ),
    ),
  );
}

function commentForm(issue) {
  const text = el('textarea', { id: 'comment-text', required: true });
  const internal = el('input', { type: 'checkbox', id: 'comment-internal', checked: !isCustomer() });
  const status = el('span', { class: 'muted', role: 'status' });
  const form = el(
    'form',
    { class: 'comment-form' },
    el('label', { for: 'comment-text' }, isCustomer() ? 'Reply to the help desk' : 'Add a comment'),
    text,
    el(
      'div',
      { class: 'row' },
      isCustomer() ? null : el('label', {}, internal, ' Internal note (not visible to the customer)'),
      el('button', { type: 'submit', class: 'primary' }, isCustomer() ? 'Reply' : 'Add comment'),
      status,
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!text.value.trim()) return;
    try {
      await api(`/__host/issues/${issue.key}/comments?as=${encodeURIComponent(state.user.accountId)}`, {
        method: 'POST',
        body: JSON.stringify({ text: text.value, internal: !isCustomer() && internal.checked }),
      });
      text.value = '';
      status.textContent = 'Comment added.';
      await refreshIssue();
    } catch (error) {
      status.textContent = error.message;
    }
  });
  return form;
}

function statusRow(issue) {
  const buttons = issue.transitions.map((name) =>
    el(
      'button',
      {
        type: 'button',
        onclick: async (event) => {
          event.target.disabled = true;
          try {
            const answer = await api(`/__host/issues/${issue.key}/transitions?as=${encodeURIComponent(state.user.accountId)}`, {
              method: 'POST',
              body: JSON.stringify({ name }),
            });
            // Jira's refusal (a workflow validator's message, an unavailable transition).
            if (answer?.ok === false) {
              const reasons = [...answer.errorMessages, ...Object.values(answer.errors ?? {})];
              throw new Error(reasons.join(' ') || `Jira answered ${answer.status}`);
            }
            await refreshIssue();
            await renderQueue();
          } catch (error) {
            showFlag({ id: 'transition', title: 'Transition failed', description: error.message, type: 'error' });
            event.target.disabled = false;
          }
        },
      },
      name,
    ),
  );
  return el(
    'div',
    { class: 'status-row', id: 'status-row' },
    el('span', { class: statusClass(issue.status), 'aria-label': `Status: ${issue.status}` }, issue.status),
    ...buttons,
  );
}

/** The issue's status and fields (the right-hand column, as in Jira's issue view). */
function issueDetails(issue) {
  return el(
    'div',
    { id: 'issue-details' },
    el('h2', { class: 'visually-hidden' }, 'Details'),
    statusRow(issue),
    el(
      'dl',
      { class: 'details' },
      el('dt', {}, 'Reporter'),
      el('dd', {}, issue.reporter ?? '—'),
      el('dt', {}, 'Assignee'),
      el('dd', {}, issue.assignee ?? 'Unassigned'),
      el('dt', {}, 'Affected employee'),
      el('dd', {}, issue.affectedEmployee ?? '—'),
      // The app's own custom fields (jira:customField), as Jira lists them among the details.
      (issue.appFields ?? []).flatMap((field) => [el('dt', {}, field.name), el('dd', { 'data-field': field.id }, field.value ?? '—')]),
      isCustomer()
        ? null
        : [el('dt', {}, 'Verification'), el('dd', { id: 'verification-field' }, verificationSummary(issue.properties?.['incode-verification']))],
    ),
  );
}

function issueActivity(issue) {
  return el('div', { id: 'issue-activity' }, el('h2', {}, 'Activity'), el('div', { id: 'comment-list' }, commentList(issue)));
}

async function renderIssue(key) {
  const view = document.getElementById('view');
  let issue;
  try {
    issue = (await api(`/__host/issues/${encodeURIComponent(key)}?as=${encodeURIComponent(state.user.accountId)}`)).issue;
  } catch (error) {
    view.replaceChildren(el('div', { class: 'notice error', role: 'alert' }, error.message));
    return;
  }
  state.issue = issue;
  state.issueSeen = JSON.stringify(issue);
  // As in Jira: the app's issue panel sits in the main column under the summary, above the
  // activity; status and fields are on the right. The portal shows its panel under the request.
  const panels = el('div', { class: 'panels' });
  const main = el(
    'section',
    { class: 'issue-main', 'aria-label': issue.summary },
    el('div', { class: 'breadcrumb' }, isCustomer() ? 'Help Center / My requests' : `Projects / IT Help Desk / ${issue.key}`),
    el('h1', {}, issue.summary),
    panels,
    issueActivity(issue),
    commentForm(issue),
  );
  const layout = el('div', { class: 'issue' }, main, el('aside', { class: 'issue-side', 'aria-label': 'Details' }, issueDetails(issue)));
  const page = isCustomer() ? el('div', {}, el('div', { class: 'portal-banner' }, el('h1', {}, 'Help Center')), layout) : layout;
  view.replaceChildren(guideBanner() ?? '', page);
  const type = isCustomer() ? 'jiraServiceManagement:portalRequestDetailPanel' : 'jira:issuePanel';
  for (const mod of modulesOf(type)) {
    const section = el(
      'section',
      { class: 'app-panel', 'aria-label': mod.title, 'data-module': mod.key, 'data-collapsible': isCustomer() ? 'true' : null },
      el('h2', {}, mod.title),
    );
    panels.append(section);
    try {
      await mountFrame(section, { moduleKey: mod.key, issueKey: issue.key, title: mod.title });
    } catch (error) {
      section.append(el('div', { class: 'notice error' }, error.message));
    }
  }
}

/** Polls the open issue; redraws its details (and the queue, when the status moved) only on change. */
async function refreshIssue() {
  if (state.route?.name !== 'issue' || !state.issue) return;
  try {
    const { issue } = await api(`/__host/issues/${encodeURIComponent(state.issue.key)}?as=${encodeURIComponent(state.user.accountId)}`);
    if (state.route?.name !== 'issue' || state.issue?.key !== issue.key) return;
    const seen = JSON.stringify(issue);
    if (seen === state.issueSeen) return;
    const moved = issue.status !== state.issue.status;
    state.issue = issue;
    state.issueSeen = seen;
    document.getElementById('issue-details')?.replaceWith(issueDetails(issue));
    document.getElementById('issue-activity')?.replaceWith(issueActivity(issue));
    if (moved) await renderQueue();
  } catch {
    // the next poll tries again
  }
}

/** The Incode sandbox's credentials, where an admin types them (only with the sandbox). */
function sandboxCredentialsNotice() {
  const credentials = state.info.sandbox?.credentials;
  if (!credentials) return null;
  const rows = [
    ['Environment', 'Demo'],
    ['API key', credentials.apiKey],
    ['Client ID', credentials.clientId],
    ['Client secret', credentials.clientSecret],
    ['Integration reference', credentials.integrationReference],
  ];
  return el(
    'aside',
    { class: 'notice sandbox-credentials', 'aria-labelledby': 'sandbox-credentials-title', 'data-testid': 'sandbox-credentials' },
    el('h2', { id: 'sandbox-credentials-title' }, 'Incode sandbox credentials'),
    el(
      'p',
      {},
      'This local site talks to the Incode sandbox, not to Incode. Enter these values below, then ',
      el('strong', {}, 'Test credentials'),
      '. Any webhook secret will do: register the same one on the sandbox\u2019s ',
      el('a', { href: '/incode/webhook', target: '_blank', rel: 'noopener' }, 'webhook settings \u2197'),
      '.',
    ),
    el(
      'dl',
      { class: 'details' },
      rows.flatMap(([name, value]) => [el('dt', {}, name), el('dd', {}, el('code', {}, value))]),
    ),
  );
}

async function renderModule(moduleKey) {
  const view = document.getElementById('view');
  const mod = state.info.modules.find((m) => m.key === moduleKey);
  if (!mod) {
    view.replaceChildren(el('div', { class: 'notice error', role: 'alert' }, `No app page ${moduleKey}.`));
    return;
  }
  if (mod.type === 'jira:adminPage' && state.user.role !== 'admin') {
    view.replaceChildren(
      el('h1', {}, mod.title),
      el(
        'div',
        { class: 'notice', role: 'alert' },
        "You don't have permission to view this page. Ask a Jira administrator.",
        ' ',
        adminSwitchButton(`#/module/${encodeURIComponent(moduleKey)}`),
      ),
    );
    return;
  }
  const container = el('section', { class: 'full-page' });
  view.replaceChildren(
    el('div', { class: 'breadcrumb' }, 'Apps / Manage apps'),
    el('h1', {}, mod.title),
    mod.type === 'jira:adminPage' ? (sandboxCredentialsNotice() ?? '') : '',
    container,
  );
  await mountFrame(container, { moduleKey, title: mod.title });
}

/** A button that switches to the first admin and goes to `hash`. */
function adminSwitchButton(hash) {
  const admin = state.users.find((u) => u.role === 'admin');
  if (!admin) return '';
  return el('button', { type: 'button', onclick: () => switchUser(admin.accountId, hash) }, `View as ${admin.displayName}`);
}

// ---------------------------------------------------------------------------------------------
// getting started: the story of the JSM guide on this local site

function guideDismissed() {
  return localStorage.getItem('forge-host-guide') === 'dismissed';
}

/** A slim banner pointing newcomers to the guide, until dismissed. */
function guideBanner() {
  if (guideDismissed()) return null;
  const banner = el(
    'div',
    { class: 'guide-banner', role: 'note', 'data-testid': 'guide-banner' },
    // One span: the banner is a flex row, and its gap must not open between the link and its colon.
    el(
      'span',
      {},
      'A local Jira site running the Incode app offline. ',
      el('a', { href: '#/start' }, 'Getting started'),
      ': configure as an admin, send a link as an agent, verify as the employee.',
    ),
    el(
      'button',
      {
        type: 'button',
        class: 'link',
        'aria-label': 'Dismiss the getting started banner',
        onclick: () => {
          localStorage.setItem('forge-host-guide', 'dismissed');
          banner.remove();
        },
      },
      'Dismiss',
    ),
  );
  return banner;
}

function userButton(role, hash, label) {
  const user = state.users.find((u) => u.role === role);
  if (!user) return '';
  return el(
    'button',
    { type: 'button', 'data-testid': `guide-as-${role}`, onclick: () => switchUser(user.accountId, hash) },
    label ?? `View as ${user.displayName}`,
  );
}

function renderStart() {
  const view = document.getElementById('view');
  const admin = modulesOf('jira:adminPage')[0];
  const credentials = state.info.sandbox?.credentials;
  const webhookUrl = state.info.webtriggers['incode-webhook'];
  const userName = (role) => state.users.find((u) => u.role === role)?.displayName ?? role;
  const firstIssue = state.firstIssue ?? 'HELP-1';
  const steps = [
    el(
      'li',
      {},
      el('strong', {}, `As ${userName('admin')}, configure the app. `),
      `Open ${admin?.title ?? 'the settings page'}, enter the sandbox credentials (environment Demo`,
      credentials
        ? [
            ', API key ',
            el('code', {}, credentials.apiKey),
            ', client ID ',
            el('code', {}, credentials.clientId),
            ', client secret ',
            el('code', {}, credentials.clientSecret),
            ', integration reference ',
            el('code', {}, credentials.integrationReference),
          ]
        : '',
      '), press Test credentials (\u2713 Connected), type any webhook secret, optionally pick transitions and turn on the customer portal, and save. ',
      admin ? userButton('admin', `#/module/${encodeURIComponent(admin.key)}`, `Open the settings as ${userName('admin')}`) : '',
    ),
    state.info.incode === 'sandbox'
      ? el(
          'li',
          {},
          el('strong', {}, 'Register the webhook in the Incode sandbox. '),
          'On its ',
          el('a', { href: '/incode/webhook', target: '_blank', rel: 'noopener' }, 'webhook settings \u2197'),
          ', enter the URL ',
          webhookUrl ? el('code', {}, webhookUrl) : 'of the incode-webhook trigger',
          ', HMAC signature, and the same webhook secret; save.',
        )
      : null,
    el(
      'li',
      {},
      el('strong', {}, `As ${userName('agent')}, send a verification link. `),
      `Open ${firstIssue}; in the Identity verification panel check the email, choose SMS or email, press Send verification link and confirm. `,
      userButton('agent', `#/issue/${firstIssue}`, `Open ${firstIssue} as ${userName('agent')}`),
    ),
    state.info.incode === 'sandbox'
      ? el(
          'li',
          {},
          el('strong', {}, 'Verify as the employee. '),
          'The sandbox\u2019s ',
          el('a', { href: '/incode/', target: '_blank', rel: 'noopener' }, 'inbox \u2197'),
          ' holds the link it "sent"; open it and complete, fail, or send the check to manual review (then approve or reject it there).',
        )
      : null,
    el(
      'li',
      {},
      el('strong', {}, 'Watch the ticket. '),
      'The panel turns to the result without a reload; the request gets a comment, the configured transition and the verification status.',
    ),
    el(
      'li',
      {},
      el('strong', {}, `As ${userName('customer')}, see the portal. `),
      'The reporter sees their request in the Help Center; with the customer portal turned on, a pending verification shows there. ',
      userButton('customer', `#/issue/${firstIssue}`, `Open ${firstIssue} as ${userName('customer')}`),
    ),
  ];
  view.replaceChildren(
    el('h1', {}, 'Getting started'),
    el(
      'p',
      {},
      'This is a local Jira Service Management site with the Incode Identity Verification app installed, ',
      state.info.incode === 'sandbox'
        ? 'and an Incode sandbox that plays Incode: it signs in the app, "sends" links to its inbox and reports results to the app\u2019s webhook.'
        : 'talking to the real Incode hosts.',
      ' Switch between users at the top right.',
    ),
    el('ol', { class: 'guide-steps', 'data-testid': 'guide-steps' }, steps),
    el('h2', {}, 'This installation'),
    el(
      'div',
      { class: 'notice' },
      el('p', {}, 'Web trigger URLs (the Incode webhook and its OAuth token endpoint):'),
      el(
        'ul',
        {},
        Object.entries(state.info.webtriggers).map(([key, url]) => el('li', {}, el('code', {}, key), ': ', el('code', {}, url))),
      ),
    ),
    state.info.scheduledTriggers.length
      ? el(
          'div',
          { class: 'notice' },
          el('p', {}, 'Scheduled triggers (the platform runs them on their interval; run one now):'),
          el(
            'ul',
            {},
            state.info.scheduledTriggers.map(({ key, interval }) =>
              el('li', {}, el('code', {}, key), ` (every ${interval ?? '?'}) `, el('button', { type: 'button', onclick: () => runScheduled(key) }, 'Run now')),
            ),
          ),
        )
      : null,
    el('p', { class: 'muted' }, 'To start over, stop the host and delete its data directory (dev/.data for dev/run.sh).'),
  );
}

function renderHome() {
  const view = document.getElementById('view');
  view.replaceChildren(
    guideBanner() ?? '',
    el('h1', {}, isCustomer() ? 'Help Center' : 'IT Help Desk'),
    el('p', {}, isCustomer() ? 'You have no requests.' : 'No requests to show.'),
  );
}

async function runScheduled(key) {
  try {
    const answer = await api(`/__host/scheduled/${encodeURIComponent(key)}`, { method: 'POST' });
    const calls = answer.invocation?.calls?.total ?? 0;
    showFlag(
      answer.ok
        ? { id: `scheduled-${key}`, title: `${key} ran`, description: `${calls} platform calls in ${answer.invocation?.durationMs ?? '?'} ms`, type: 'success' }
        : { id: `scheduled-${key}`, title: `${key} failed`, description: answer.error, type: 'error' },
    );
  } catch (error) {
    showFlag({ id: `scheduled-${key}`, title: `${key} failed`, description: error.message, type: 'error' });
  }
}

/** A rule page frame (create, edit or view) the host opens for the signed-in admin. */
async function ruleFrame(body) {
  return api(`/__host/workflow-rules/frame?as=${encodeURIComponent(state.user.accountId)}`, {
    method: 'POST',
    body: JSON.stringify({ ...body, theme: state.theme }),
  });
}

/**
 * The workflow editor's dialog around a rule's create or edit page: its Add / Update button asks
 * the page's onConfigure callback for the configuration (through the bridge) and saves the JSON
 * text it answers; undefined keeps the dialog open, as Jira does.
 */
async function openRuleDialog({ title, action, frameBody }) {
  if (state.modal) return;
  let frame;
  try {
    frame = await ruleFrame(frameBody);
  } catch (error) {
    showFlag({ id: 'workflow-rule', title: 'Could not open the rule', description: error.message, type: 'error' });
    return;
  }
  const iframe = el('iframe', { src: frame.src, title, class: 'modal-frame' });
  const status = el('span', { role: 'status', class: 'rule-dialog-status' });
  const save = el('button', { type: 'button', class: 'primary', disabled: true, 'data-testid': 'rule-dialog-save' }, action);
  const cancel = el('button', { type: 'button', 'data-testid': 'rule-dialog-cancel', onclick: () => closeModal(undefined) }, 'Cancel');
  const container = el(
    'div',
    { class: 'forge-modal rule-dialog', role: 'dialog', 'aria-label': title, 'data-testid': 'rule-dialog' },
    el('h2', { class: 'rule-dialog-title' }, title),
    iframe,
    el('div', { class: 'row rule-dialog-actions' }, status, save, cancel),
  );
  container.style.width = `min(${MODAL_WIDTHS.medium}, calc(100vw - 32px))`;
  const blanket = el('div', { class: 'forge-modal-blanket' }, container);
  const inerted = [...document.body.children].filter((node) => !node.inert);
  for (const node of inerted) node.inert = true;
  document.body.append(blanket);
  state.modal = { opener: iframe, iframe, blanket, inerted, closeOnEscape: true, rule: { save, status, pending: null } };
  state.frames.add(iframe);
  save.addEventListener('click', async () => {
    const requestId = `configure-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    save.disabled = true;
    status.textContent = '';
    const answer = await new Promise((resolve) => {
      state.modal.rule.pending = { requestId, resolve };
      iframe.contentWindow.postMessage({ source: 'forge-host-shell', type: 'configureWorkflowRule', requestId }, location.origin);
    });
    if (!state.modal?.rule) return;
    state.modal.rule.pending = null;
    save.disabled = false;
    if (answer.blocked) return;
    if (answer.error) {
      status.textContent = answer.error;
      return;
    }
    try {
      await api(`/__host/workflow-rules/configure?as=${encodeURIComponent(state.user.accountId)}`, {
        method: 'POST',
        body: JSON.stringify({ frame: frame.token, configuration: answer.configuration }),
      });
    } catch (error) {
      status.textContent = error.message;
      return;
    }
    closeModal(undefined);
    await renderWorkflow();
  });
}

/** A rule as the editor shows it: its view page when it has one, else its configuration JSON. */
function ruleItem(workflow, transition, rule, module) {
  const item = el('li', { class: 'rule', 'data-rule-id': rule.id }, el('strong', {}, module?.name ?? rule.moduleKey), ' ');
  if (module?.pages.includes('view')) {
    const holder = el('div', { class: 'rule-view' });
    item.append(holder);
    ruleFrame({ workflow: workflow.name, transition: transition.id, entryPoint: 'view', id: rule.id })
      .then((frame) => {
        const iframe = el('iframe', { src: frame.src, title: `${module.name} on ${transition.name}`, 'data-testid': 'rule-view-frame' });
        holder.append(iframe);
        state.frames.add(iframe);
      })
      .catch((error) => holder.append(el('span', { class: 'error' }, error.message)));
  } else {
    item.append(el('code', {}, JSON.stringify(rule.configuration)), ' ');
  }
  if (module?.pages.includes('edit')) {
    item.append(
      el(
        'button',
        {
          type: 'button',
          onclick: () =>
            openRuleDialog({
              title: `Edit ${module.name} on ${transition.name}`,
              action: 'Update',
              frameBody: { workflow: workflow.name, transition: transition.id, entryPoint: 'edit', id: rule.id },
            }),
        },
        'Edit',
      ),
      ' ',
    );
  }
  item.append(
    el(
      'button',
      {
        type: 'button',
        onclick: async () => {
          try {
            await api(`/__host/workflow-rules/remove?as=${encodeURIComponent(state.user.accountId)}`, {
              method: 'POST',
              body: JSON.stringify({ workflow: workflow.name, transition: transition.id, id: rule.id }),
            });
            await renderWorkflow();
          } catch (error) {
            showFlag({ id: 'workflow-rule', title: 'Could not remove the rule', description: error.message, type: 'error' });
          }
        },
      },
      'Remove',
    ),
  );
  return item;
}

/**
 * The form that adds one of the app's rules to a transition: a rule with a create page opens it
 * in the editor's dialog; one without takes its configuration as JSON.
 */
function ruleForm(data) {
  const transition = el(
    'select',
    { id: 'rule-transition' },
    data.workflows.flatMap((w) => w.transitions.map((t) => el('option', { value: JSON.stringify([w.name, t.id, t.name]) }, `${w.name} — ${t.name}`))),
  );
  const module = el(
    'select',
    { id: 'rule-module' },
    data.modules.map((m) => el('option', { value: m.key }, `${m.type === 'condition' ? 'Condition' : 'Validator'}: ${m.name}`)),
  );
  const configuration = el('textarea', { id: 'rule-configuration', spellcheck: 'false' }, '{}');
  const configurationLabel = el('label', { for: 'rule-configuration' }, 'Configuration (JSON, as the rule stores it)');
  const chosen = () => data.modules.find((m) => m.key === module.value);
  const showConfiguration = () => {
    const paged = chosen()?.pages.includes('create');
    configuration.hidden = paged;
    configurationLabel.hidden = paged;
  };
  module.addEventListener('change', showConfiguration);
  showConfiguration();
  const status = el('span', { role: 'status' });
  return el(
    'form',
    {
      class: 'comment-form',
      onsubmit: async (event) => {
        event.preventDefault();
        const [workflow, transitionId, transitionName] = JSON.parse(transition.value);
        const rule = chosen();
        if (rule.pages.includes('create')) {
          await openRuleDialog({
            title: `Add ${rule.name} to ${transitionName}`,
            action: 'Add',
            frameBody: { workflow, transition: transitionId, entryPoint: 'create', moduleKey: rule.key },
          });
          return;
        }
        let parsed;
        try {
          parsed = JSON.parse(configuration.value || '{}');
        } catch {
          status.textContent = 'The configuration must be JSON.';
          return;
        }
        try {
          await api(`/__host/workflow-rules?as=${encodeURIComponent(state.user.accountId)}`, {
            method: 'POST',
            body: JSON.stringify({ workflow, transition: transitionId, type: rule.type, moduleKey: rule.key, configuration: parsed }),
          });
          await renderWorkflow();
        } catch (error) {
          status.textContent = error.message;
        }
      },
    },
    el('label', { for: 'rule-transition' }, 'Transition'),
    transition,
    el('label', { for: 'rule-module' }, 'Rule'),
    module,
    configurationLabel,
    configuration,
    el('div', { class: 'row' }, el('button', { type: 'submit' }, 'Add rule'), status),
  );
}

/** The workflow editor: the app's validators and conditions on each transition (admins only). */
async function renderWorkflow() {
  const view = document.getElementById('view');
  document.title = 'Workflow rules — Jira (local Forge host)';
  if (state.user.role !== 'admin') {
    view.replaceChildren(
      el('h1', {}, 'Workflow rules'),
      el(
        'div',
        { class: 'notice', role: 'alert' },
        "You don't have permission to view this page. Ask a Jira administrator.",
        ' ',
        adminSwitchButton('#/workflow'),
      ),
    );
    return;
  }
  let data;
  try {
    data = await api(`/__host/workflow-rules?as=${encodeURIComponent(state.user.accountId)}`);
  } catch (error) {
    view.replaceChildren(el('div', { class: 'notice error', role: 'alert' }, error.message));
    return;
  }
  const moduleOf = (key) => data.modules.find((m) => m.key === key);
  const list = (workflow, transition, rules) =>
    rules.length
      ? el(
          'ul',
          { class: 'rules' },
          rules.map((rule) => ruleItem(workflow, transition, rule, moduleOf(rule.moduleKey))),
        )
      : '—';
  view.replaceChildren(
    el('div', { class: 'breadcrumb' }, 'Settings / Issues / Workflows'),
    el('h1', {}, 'Workflow rules'),
    data.modules.length ? ruleForm(data) : el('p', {}, 'The app declares no workflow validators or conditions.'),
    ...data.workflows.map((workflow) =>
      el(
        'section',
        {},
        el('h2', {}, workflow.name),
        el(
          'table',
          { class: 'rules-table' },
          el(
            'thead',
            {},
            el('tr', {}, el('th', { scope: 'col' }, 'Transition'), el('th', { scope: 'col' }, 'Conditions'), el('th', { scope: 'col' }, 'Validators')),
          ),
          el(
            'tbody',
            {},
            workflow.transitions.map((t) =>
              el(
                'tr',
                {},
                el('th', { scope: 'row' }, t.name),
                el('td', {}, list(workflow, t, t.rules.conditions)),
                el('td', {}, list(workflow, t, t.rules.validators)),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'issue' && parts[1]) return { name: 'issue', key: parts[1].toUpperCase() };
  if (parts[0] === 'module' && parts[1]) return { name: 'module', key: parts[1] };
  if (parts[0] === 'start') return { name: 'start' };
  if (parts[0] === 'workflow') return { name: 'workflow' };
  return { name: 'home' };
}

function updateNavigation() {
  const admin = modulesOf('jira:adminPage')[0];
  document.getElementById('settings-link').hidden = !admin || state.user.role !== 'admin';
  document.getElementById('workflow-link').hidden = state.user.role !== 'admin' || !state.info.workflowRuleModules;
  const route = parseRoute();
  for (const link of document.querySelectorAll('.topbar nav a[data-route]')) {
    const current = link.dataset.route === route.name || (link.dataset.route === 'module' && route.name === 'module');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

async function render() {
  state.route = parseRoute();
  updateNavigation();
  state.issue = null;
  if (state.modal) closeModal(undefined);
  for (const iframe of state.frames) iframe.remove();
  state.frames.clear();
  document.title = 'Jira (local Forge host)';
  const queue = await loadQueue();
  state.firstIssue = queue.issues[0]?.key ?? null;
  // The site opens on the first request of the queue, with the app's panel beside it.
  if (state.route.name === 'home' && state.firstIssue) {
    history.replaceState(null, '', `#/issue/${encodeURIComponent(state.firstIssue)}`);
    state.route = parseRoute();
    updateNavigation();
  }
  drawQueue(queue);
  // The queue lists every request this user may see: another one is "not found" without asking
  // the site, whose 404 would only add an error to the browser console.
  if (state.route.name === 'issue' && !queue.error && !queue.issues.some((i) => i.key === state.route.key)) {
    document.getElementById('view').replaceChildren(el('div', { class: 'notice error', role: 'alert' }, `No issue ${state.route.key} for this user`));
  } else if (state.route.name === 'issue') await renderIssue(state.route.key);
  else if (state.route.name === 'module') await renderModule(state.route.key);
  else if (state.route.name === 'start') renderStart();
  else if (state.route.name === 'workflow') await renderWorkflow();
  else renderHome();
  document.getElementById('view').focus({ preventScroll: true });
}

/** Views the site as another user, optionally at another place. */
function switchUser(accountId, hash) {
  const user = state.users.find((u) => u.accountId === accountId);
  if (!user) return;
  state.user = user;
  localStorage.setItem('forge-host-user', user.accountId);
  document.getElementById('user-switcher').value = user.accountId;
  if (hash && location.hash !== hash)
    location.hash = hash; // hashchange renders
  else render();
}

// ---------------------------------------------------------------------------------------------
// setup

function applyTheme() {
  document.documentElement.dataset.colorMode = state.theme;
  const toggle = document.getElementById('theme-toggle');
  toggle.setAttribute('aria-pressed', String(state.theme === 'dark'));
  toggle.textContent = state.theme === 'dark' ? 'Light theme' : 'Dark theme';
}

async function start() {
  state.info = await api('/__host/info');
  state.users = (await api('/__host/users')).users;
  const saved = localStorage.getItem('forge-host-user');
  state.user = state.users.find((u) => u.accountId === saved) ?? state.users.find((u) => u.role === 'agent') ?? state.users[0];

  const switcher = document.getElementById('user-switcher');
  switcher.replaceChildren(
    ...state.users.map((u) => el('option', { value: u.accountId, selected: u.accountId === state.user.accountId }, `${u.displayName} (${u.role})`)),
  );
  switcher.addEventListener('change', () => switchUser(switcher.value));

  const admin = modulesOf('jira:adminPage')[0];
  const settings = document.getElementById('settings-link');
  if (admin) {
    settings.href = `#/module/${encodeURIComponent(admin.key)}`;
    settings.textContent = admin.title;
  }
  if (state.info.incode !== 'sandbox') document.getElementById('incode-link').hidden = true;

  document.getElementById('theme-toggle').addEventListener('click', () => {
    state.theme = state.theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem('forge-host-theme', state.theme);
    applyTheme();
    render();
  });
  applyTheme();
  window.addEventListener('hashchange', render);
  setInterval(sizeFrames, 100);
  state.pollTimer = setInterval(() => {
    refreshIssue();
  }, 3000);
  await render();
}

start().catch((error) => {
  document.getElementById('view').replaceChildren(el('div', { class: 'notice error', role: 'alert' }, `The shell could not start: ${error.message}`));
});
