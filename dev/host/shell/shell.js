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

const formatTime = (ms) => (ms ? new Date(ms).toLocaleString() : '');

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
  const flag = el('div', { class: `flag ${type}`, 'data-flag-id': options.id },
    close, el('strong', {}, options.title ?? ''), options.description ? el('span', {}, options.description) : null);
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
    try {
      const doc = iframe.contentDocument;
      const height = doc ? Math.max(doc.documentElement.scrollHeight, doc.body?.scrollHeight ?? 0) : 0;
      if (height && Math.abs(height - iframe.offsetHeight) > 2) iframe.style.height = `${height}px`;
    } catch {
      // not loaded yet
    }
  }
}

window.addEventListener('message', (event) => {
  if (event.origin !== location.origin) return;
  const message = event.data;
  if (!message || message.source !== 'forge-host-bridge') return;
  const from = [...state.frames].find((f) => f.contentWindow === event.source);
  if (!from) return;
  switch (message.type) {
    case 'navigate': {
      const url = new URL(message.data.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return;
      if (message.data.newTab) window.open(url.href, '_blank', 'noopener');
      else if (url.origin === location.origin) location.href = url.href;
      else location.assign(url.href);
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

async function renderQueue() {
  const list = document.getElementById('issue-list');
  document.getElementById('queue-title').textContent = isCustomer() ? 'My requests' : 'IT Help Desk queue';
  let issues = [];
  try {
    issues = (await api(`/__host/issues?as=${encodeURIComponent(state.user.accountId)}`)).issues;
  } catch (error) {
    list.replaceChildren(el('li', { class: 'muted' }, error.message));
    return;
  }
  const current = state.route?.name === 'issue' ? state.route.key : null;
  list.replaceChildren(...issues.map((issue) => el('li', {},
    el('a', { href: `#/issue/${issue.key}`, 'aria-current': issue.key === current ? 'page' : null },
      el('span', { class: 'key' }, issue.key, ' · ', issue.status),
      el('span', { class: 'summary' }, issue.summary)))));
  if (!issues.length) list.append(el('li', { class: 'muted' }, 'No requests.'));
}

function commentList(issue) {
  if (!issue.comments.length) return el('p', { class: 'muted' }, 'No comments yet.');
  return el('ul', { class: 'comments' }, issue.comments.map((c) => el('li', { class: c.internal ? 'comment internal' : 'comment' },
    el('header', {}, el('strong', {}, c.author ?? 'Unknown'), el('time', {}, formatTime(c.created)), c.internal ? el('span', { class: 'lozenge' }, 'Internal note') : null),
    el('p', {}, c.text))));
}

function commentForm(issue) {
  const text = el('textarea', { id: 'comment-text', required: true });
  const internal = el('input', { type: 'checkbox', id: 'comment-internal', checked: !isCustomer() });
  const status = el('span', { class: 'muted', role: 'status' });
  const form = el('form', { class: 'comment-form' },
    el('label', { for: 'comment-text' }, isCustomer() ? 'Reply to the help desk' : 'Add a comment'),
    text,
    el('div', { class: 'row' },
      isCustomer() ? null : el('label', {}, internal, ' Internal note (not visible to the customer)'),
      el('button', { type: 'submit', class: 'primary' }, isCustomer() ? 'Reply' : 'Add comment'),
      status));
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
  const buttons = issue.transitions.map((name) => el('button', {
    type: 'button',
    onclick: async (event) => {
      event.target.disabled = true;
      try {
        await api(`/__host/issues/${issue.key}/transitions?as=${encodeURIComponent(state.user.accountId)}`, { method: 'POST', body: JSON.stringify({ name }) });
        await refreshIssue();
        await renderQueue();
      } catch (error) {
        showFlag({ id: 'transition', title: 'Transition failed', description: error.message, type: 'error' });
        event.target.disabled = false;
      }
    },
  }, name));
  return el('div', { class: 'status-row', id: 'status-row' }, el('span', { class: statusClass(issue.status), 'aria-label': `Status: ${issue.status}` }, issue.status), ...buttons);
}

function issueDetails(issue) {
  return el('div', { id: 'issue-details' },
    statusRow(issue),
    el('dl', { class: 'details' },
      el('dt', {}, 'Reporter'), el('dd', {}, issue.reporter ?? '—'),
      el('dt', {}, 'Assignee'), el('dd', {}, issue.assignee ?? 'Unassigned'),
      el('dt', {}, 'Affected employee'), el('dd', {}, issue.affectedEmployee ?? '—'),
      isCustomer() ? null : [el('dt', {}, 'Verification'), el('dd', {}, issue.properties?.['incode-verification']?.status ?? '—')]),
    el('h2', {}, 'Activity'),
    el('div', { id: 'comment-list' }, commentList(issue)));
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
  const panels = el('div', { class: 'panels' });
  const left = el('section', {},
    el('div', { class: 'breadcrumb' }, isCustomer() ? 'Help Center / My requests' : `Projects / IT Help Desk / ${issue.key}`),
    el('h1', {}, issue.summary),
    issueDetails(issue),
    commentForm(issue));
  const page = isCustomer()
    ? el('div', {}, el('div', { class: 'portal-banner' }, el('h1', {}, 'Help Center')), el('div', { class: 'issue' }, left, panels))
    : el('div', { class: 'issue' }, left, panels);
  view.replaceChildren(page);
  const type = isCustomer() ? 'jiraServiceManagement:portalRequestDetailPanel' : 'jira:issuePanel';
  for (const mod of modulesOf(type)) {
    const section = el('section', { class: 'app-panel', 'aria-label': mod.title }, el('h2', {}, mod.title));
    panels.append(section);
    try {
      await mountFrame(section, { moduleKey: mod.key, issueKey: issue.key, title: mod.title });
    } catch (error) {
      section.append(el('div', { class: 'notice error' }, error.message));
    }
  }
}

async function refreshIssue() {
  if (state.route?.name !== 'issue' || !state.issue) return;
  try {
    const { issue } = await api(`/__host/issues/${encodeURIComponent(state.issue.key)}?as=${encodeURIComponent(state.user.accountId)}`);
    state.issue = issue;
    document.getElementById('issue-details')?.replaceWith(issueDetails(issue));
  } catch {
    // the next poll tries again
  }
}

async function renderModule(moduleKey) {
  const view = document.getElementById('view');
  const mod = state.info.modules.find((m) => m.key === moduleKey);
  if (!mod) {
    view.replaceChildren(el('div', { class: 'notice error', role: 'alert' }, `No app page ${moduleKey}.`));
    return;
  }
  if (mod.type === 'jira:adminPage' && state.user.role !== 'admin') {
    view.replaceChildren(el('h1', {}, mod.title), el('div', { class: 'notice', role: 'alert' }, "You don't have permission to view this page. Ask a Jira administrator."));
    return;
  }
  const container = el('section', { class: 'full-page' });
  view.replaceChildren(el('div', { class: 'breadcrumb' }, 'Apps / Manage apps'), el('h1', {}, mod.title), container);
  await mountFrame(container, { moduleKey, title: mod.title });
}

function renderHome() {
  const view = document.getElementById('view');
  view.replaceChildren(
    el('h1', {}, isCustomer() ? 'Help Center' : 'IT Help Desk'),
    el('p', {}, isCustomer() ? 'Pick one of your requests on the left.' : 'Pick a request on the left to open it with the Identity verification panel.'),
    el('div', { class: 'notice' },
      el('p', {}, 'Web trigger URLs of this installation (for the Incode dashboard):'),
      el('ul', {}, Object.entries(state.info.webtriggers).map(([key, url]) => el('li', {}, el('code', {}, key), ': ', el('code', {}, url))))),
    state.info.scheduledTriggers.length ? el('div', { class: 'notice' },
      el('p', {}, 'Scheduled triggers (the platform runs them on their interval; run one now):'),
      el('ul', {}, state.info.scheduledTriggers.map(({ key, interval }) => el('li', {},
        el('code', {}, key), ` (every ${interval ?? '?'}) `,
        el('button', { type: 'button', onclick: () => runScheduled(key) }, 'Run now'))))) : null,
  );
}

async function runScheduled(key) {
  try {
    const answer = await api(`/__host/scheduled/${encodeURIComponent(key)}`, { method: 'POST' });
    const calls = answer.invocation?.calls?.total ?? 0;
    showFlag(answer.ok
      ? { id: `scheduled-${key}`, title: `${key} ran`, description: `${calls} platform calls in ${answer.invocation?.durationMs ?? '?'} ms`, type: 'success' }
      : { id: `scheduled-${key}`, title: `${key} failed`, description: answer.error, type: 'error' });
  } catch (error) {
    showFlag({ id: `scheduled-${key}`, title: `${key} failed`, description: error.message, type: 'error' });
  }
}

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'issue' && parts[1]) return { name: 'issue', key: parts[1].toUpperCase() };
  if (parts[0] === 'module' && parts[1]) return { name: 'module', key: parts[1] };
  return { name: 'home' };
}

function updateNavigation() {
  const admin = modulesOf('jira:adminPage')[0];
  document.getElementById('settings-link').hidden = !admin || state.user.role !== 'admin';
}

async function render() {
  updateNavigation();
  state.route = parseRoute();
  state.issue = null;
  for (const iframe of state.frames) iframe.remove();
  state.frames.clear();
  document.title = 'Jira (local Forge host)';
  await renderQueue();
  if (state.route.name === 'issue') await renderIssue(state.route.key);
  else if (state.route.name === 'module') await renderModule(state.route.key);
  else renderHome();
  document.getElementById('view').focus({ preventScroll: true });
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
  switcher.replaceChildren(...state.users.map((u) => el('option', { value: u.accountId, selected: u.accountId === state.user.accountId }, `${u.displayName} (${u.role})`)));
  switcher.addEventListener('change', () => {
    state.user = state.users.find((u) => u.accountId === switcher.value);
    localStorage.setItem('forge-host-user', state.user.accountId);
    render();
  });

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
  setInterval(sizeFrames, 400);
  state.pollTimer = setInterval(() => {
    refreshIssue();
  }, 3000);
  await render();
}

start().catch((error) => {
  document.getElementById('view').replaceChildren(el('div', { class: 'notice error', role: 'alert' }, `The shell could not start: ${error.message}`));
});
