// The pages' only way to the backend: @forge/bridge (invoke, view context, realtime, router).
import { invoke, Modal, realtime, router, view } from '@forge/bridge';
import { callResolver } from './envelope.js';
import { applyTheme } from './theme.js';

/** Calls a resolver; always resolves to an envelope (see envelope.js). */
export function call(name, payload = {}) {
  return callResolver(invoke, name, payload);
}

/**
 * Reads the view context and applies the theme. Never rejects: a page without context still
 * works, in the light theme and the browser's locale.
 */
export async function startPage() {
  let context = null;
  try {
    context = await view.getContext();
  } catch (e) {
    console.warn('No view context', e);
  }
  try {
    await view.theme.enable();
  } catch {
    // Older hosts have no theming call; the context's colour mode still applies below.
  }
  await applyTheme(context);
  return {
    locale: typeof context?.locale === 'string' ? context.locale.replace('_', '-') : undefined,
    timeZone: typeof context?.timezone === 'string' ? context.timezone : undefined,
    context,
  };
}

/**
 * Subscribes to a per-issue global channel with its token. Returns an unsubscribe function, or
 * null when the host offers no realtime (polling then carries the updates alone).
 */
export async function subscribeChannel(channel, token, onMessage) {
  try {
    const subscription = await realtime.subscribeGlobal(
      channel,
      (payload, error) => {
        if (error) {
          console.warn('Realtime error', error);
          return;
        }
        onMessage(payload);
      },
      { token },
    );
    return () => {
      Promise.resolve(subscription?.unsubscribe?.()).catch(() => {});
    };
  } catch (e) {
    console.warn('Realtime is not available; polling only', e);
    return null;
  }
}

/** Opens another module of the app (e.g. the settings page) through the host. */
export function openModule(moduleKey) {
  return router.open({ target: 'module', moduleKey });
}

/**
 * Opens the platform's modal over the whole page (`@forge/bridge` Modal, this page's own resource
 * with `context` in `extension.modal`). Resolves with what the modal submitted, or undefined when
 * it was closed; rejects when the host offers no modal.
 * @param {any} context @param {{ size?: ConstructorParameters<typeof Modal>[0]['size'] }} [options]
 */
export function openPlatformModal(context, { size = 'small' } = {}) {
  return new Promise((resolve, reject) => {
    const modal = new Modal({ context, size, closeOnEscape: true, closeOnOverlayClick: true, onClose: (payload) => resolve(payload) });
    modal.open().catch(reject);
  });
}

/** Answers the modal this page is drawn in: closes it, handing `payload` to the opener's `onClose`. */
export const modalAnswer = {
  confirm: (payload) => view.close(payload),
  close: () => view.close(),
};
