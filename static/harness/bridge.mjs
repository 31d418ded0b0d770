// Installs `globalThis.__bridge` before a page's own module runs, so the real @forge/bridge
// talks to canned resolver answers. URL parameters: scenario, theme (light|dark), delay (ms),
// liveStep (ms between live events). `window.__harness` exposes the calls made and lets a test
// publish realtime messages.
import { PAGE_CONTEXT, PENDING, SCENARIOS } from './scenarios.mjs';

const params = new URLSearchParams(location.search);
const page = location.pathname.split('/').filter(Boolean)[0];
const forPage = SCENARIOS.filter((s) => s.page === page);
const scenario = forPage.find((s) => s.id === params.get('scenario')) ?? forPage[0];
if (!scenario) throw new Error(`No harness scenario for page ${page}`);

const theme = params.get('theme') === 'dark' ? 'dark' : 'light';
const delayMs = Number(params.get('delay') ?? 120);
const world = scenario.setup(Date.now());
const subscribers = new Set();

const harness = {
  page,
  scenario: scenario.id,
  theme,
  calls: [],
  navigations: [],
  liveStepMs: Number(params.get('liveStep') ?? 3000),
  /** Delivers a realtime message to every subscriber (as a global channel publish would). */
  publish(payload) {
    for (const s of subscribers) s.onEvent(payload);
    return subscribers.size;
  },
  get subscriptions() {
    return [...subscribers].map((s) => ({ channel: s.channel, token: s.token, isGlobal: s.isGlobal }));
  },
  world,
};
globalThis.__harness = harness;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Modals (@forge/bridge Modal): the same page in a frame over this one, with the modal's context
// in `extension.modal` (the `modalContext` URL parameter); closing it hands the payload back.
const modalContext = params.has('modalContext') ? JSON.parse(params.get('modalContext')) : undefined;
let openModal = null;
globalThis.__harnessCloseModal = (payload) => {
  const modal = openModal;
  if (!modal) return;
  openModal = null;
  modal.overlay.remove();
  modal.onClose?.(payload);
};
function showModal(arg) {
  if (openModal || modalContext !== undefined) return false;
  const url = new URL(location.href);
  url.searchParams.set('modalContext', JSON.stringify(arg.context ?? {}));
  const overlay = document.createElement('div');
  overlay.dataset.testid = 'harness-modal';
  overlay.style.cssText =
    'position:fixed;inset:0;z-index:1000;display:flex;justify-content:center;align-items:flex-start;padding-top:60px;background:rgba(9,30,66,0.54)';
  const frame = document.createElement('iframe');
  frame.src = url.href;
  frame.title = arg.title || 'Dialog';
  frame.style.cssText = 'width:400px;height:240px;border:0;border-radius:12px;background:var(--ds-surface-overlay, #fff)';
  overlay.append(frame);
  document.body.append(overlay);
  openModal = { overlay, onClose: arg.onClose };
  return true;
}
const closeModal = (payload) => {
  if (modalContext === undefined) return false;
  window.parent.__harnessCloseModal(payload);
  return true;
};

async function invoke({ functionKey, payload }) {
  harness.calls.push({ functionKey, payload: structuredClone(payload ?? {}) });
  const resolver = scenario.resolvers[functionKey];
  await sleep(delayMs);
  if (!resolver) {
    console.error(`[harness] no canned answer for ${functionKey} in ${scenario.id}`);
    throw new Error(`There was an error invoking the function - ${functionKey}`);
  }
  const answer = await resolver(payload ?? {}, world, harness);
  if (answer === PENDING) return new Promise(() => {});
  return structuredClone(answer);
}

globalThis.__bridge = {
  async callBridge(name, arg) {
    switch (name) {
      case 'invoke':
        return invoke(arg);
      case 'getContext':
        return {
          accountId: '5b10ac8d82e05b22cc7d4ef5',
          cloudId: 'c0ffee00-1111-2222-3333-444455556666',
          localId: `ari:cloud:ecosystem::extension/harness/${page}`,
          environmentType: 'DEVELOPMENT',
          environmentId: 'harness',
          locale: 'en_US',
          timezone: 'Europe/London',
          siteUrl: 'https://acme.atlassian.net',
          theme: { colorMode: theme },
          ...PAGE_CONTEXT[page],
          ...(modalContext === undefined ? {} : { extension: { ...PAGE_CONTEXT[page].extension, modal: modalContext } }),
        };
      case 'openModal':
        return showModal(arg);
      case 'close':
      case 'submit':
        return closeModal(arg);
      case 'enableTheming':
        document.documentElement.setAttribute('data-color-mode', theme);
        return undefined;
      case 'subscribeRealtimeChannel': {
        const sub = { channel: arg.channelName, token: arg.options?.token, isGlobal: Boolean(arg.isGlobal), onEvent: arg.onEvent };
        subscribers.add(sub);
        scenario.onSubscribe?.(world, harness);
        return { unsubscribe: async () => subscribers.delete(sub) };
      }
      case 'navigate':
        harness.navigations.push(structuredClone(arg));
        console.info('[harness] navigate', arg);
        return undefined;
      default:
        console.warn(`[harness] bridge call ${name} is not simulated`);
        return undefined;
    }
  },
};
