// The sandbox's default credentials and employee directory. Emails match the local Jira site's
// users where a person exists in both (so a verification can be sent from a seeded request);
// Alex Admin is deliberately absent, so sending to alex@example.test yields Incode's 4301.

export const SANDBOX_CREDENTIALS = Object.freeze({
  clientId: 'sandbox-client',
  clientSecret: 'sandbox-secret',
  apiKey: 'sandbox-api-key',
  integrationReference: 'sandbox-integration',
});

/**
 * The settings an admin saves to use this sandbox from the local Jira site: its credentials,
 * HMAC-signed webhooks with `webhookSecret`, and a transition of the local workflow per outcome.
 * @param {string} webhookSecret @param {Record<string, unknown>} [overrides]
 */
export function sandboxAdminSettings(webhookSecret, overrides = {}) {
  return {
    environment: 'demo',
    apiKey: SANDBOX_CREDENTIALS.apiKey,
    clientId: SANDBOX_CREDENTIALS.clientId,
    clientSecret: SANDBOX_CREDENTIALS.clientSecret,
    integrationReference: SANDBOX_CREDENTIALS.integrationReference,
    webhookSecret,
    webhookAuth: { mode: 'hmac', header: 'x-incode-signature', encoding: 'hex', timestampHeader: '', toleranceSeconds: 300 },
    transitions: { passed: 'Start progress', failed: 'Escalate', manualReview: 'Pending' },
    ...overrides,
  };
}

/** Phone numbers are in the 555-01xx range reserved for fiction. */
export function seedDirectory() {
  return [
    { name: 'Casey Customer', email: 'casey@example.test', phone: '+12025550141' },
    { name: 'Drew Customer', email: 'drew@example.test', phone: '+12025550142' },
    { name: 'Avery Agent', email: 'avery@example.test', phone: '+12025550143' },
    { name: 'Blake Agent', email: 'blake@example.test', phone: '+12025550144' },
    { name: 'Morgan Field', email: 'morgan.field@example.test', phone: '+442079460155' },
  ];
}

/** Hosts the sandbox answers for, and what each one is. */
export const INCODE_HOSTS = Object.freeze({
  'auth.demo.incode.com': { kind: 'auth', environment: 'demo' },
  'auth.incode.com': { kind: 'auth', environment: 'production' },
  'demo-api.incodesmile.com': { kind: 'api', environment: 'demo' },
  'saas-api.incodesmile.com': { kind: 'api', environment: 'production' },
});
