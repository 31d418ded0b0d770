// The Forge function handlers named in manifest.yml as `index.*`, and nothing else. The webhook's
// handlers are `webhook.*`: a separate bundle, so a webhook never loads the console module.
export { panelResolver } from './panel.js';
export { adminResolver } from './admin.js';
export { portalResolver } from './portal.js';
export { privacyReport } from './privacy.js';
