// The plain-JavaScript baseline of the webhook decision: what a careful Forge developer would
// write without the Rust core (node:crypto HMAC with timingSafeEqual, JSON.parse, handlebars.js
// templates compiled once per settings revision), with the core's rules. It exports the same
// names as the core package for the parts a webhook needs, so the two can be fed the same
// vectors and the same corpus (tests/bench/baseline.test.mjs holds it to the core's answers).
import { CompiledTemplates, renderTemplate } from './template.mjs';
import { applyEvent, cancelVerification, expireIfDue, statusText } from './state.mjs';
import { receiveWebhook } from './webhook.mjs';

export { cancelVerification, expireIfDue, receiveWebhook, renderTemplate, statusText };

/** Settings with their templates compiled once, as the core's `Core`. */
export class Core {
  /** @param {object} settings */
  constructor(settings) {
    this.settings = settings;
    this.templates = new CompiledTemplates(settings.templates);
  }

  applyEvent(verification, event, nowMs) {
    return applyEvent(verification, event, this.settings, this.templates, nowMs);
  }

  renderComment(outcome, vars) {
    return this.templates.render(outcome, vars);
  }

  /** Nothing to release; present so callers treat both implementations alike. */
  free() {}
}
