// The Forge function handlers named in manifest.yml, and nothing else.
export { panelResolver } from './panel.js';
export { adminResolver } from './admin.js';
export { portalResolver } from './portal.js';
export { webhook, webhookToken } from './webhook.js';
export { privacyReport } from './privacy.js';
