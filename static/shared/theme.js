// Light and dark theme through Atlassian design tokens. The colour mode comes from the Forge view
// context (`theme.colorMode`), else from the `data-color-mode` attribute the host sets on <html>.
import { setGlobalTheme } from '@atlaskit/tokens/set-global-theme';

/** "light" | "dark" | "auto" from a view context and the document's attribute. */
export function resolveColorMode(context, doc = globalThis.document) {
  const fromContext = context?.theme?.colorMode;
  if (fromContext === 'light' || fromContext === 'dark') return fromContext;
  const attr = doc?.documentElement?.getAttribute('data-color-mode');
  if (attr === 'light' || attr === 'dark') return attr;
  return 'auto';
}

/**
 * Applies the theme now, and again whenever the host changes `data-color-mode` on <html>
 * (Jira switching between light and dark while the page is open).
 */
export async function applyTheme(context) {
  const root = document.documentElement;
  let settled = null; // the attribute value our last setGlobalTheme call left behind
  const apply = async (colorMode) => {
    try {
      await setGlobalTheme({ colorMode, light: 'light', dark: 'dark', spacing: 'spacing', typography: 'typography' });
    } catch (e) {
      console.warn('Could not apply the theme', e);
    }
    settled = root.getAttribute('data-color-mode');
  };
  await apply(resolveColorMode(context));
  new MutationObserver(() => {
    const mode = root.getAttribute('data-color-mode');
    if ((mode === 'light' || mode === 'dark') && mode !== settled) apply(mode);
  }).observe(root, { attributes: true, attributeFilter: ['data-color-mode'] });
}
