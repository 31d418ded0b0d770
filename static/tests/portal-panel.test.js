import { describe, expect, it } from 'vitest';
import { portalMessage, visiblePending } from '../portal-panel/logic.js';

const now = Date.UTC(2026, 10, 22, 10, 0, 0);

describe('visiblePending', () => {
  it('shows a pending verification while it is live', () => {
    expect(visiblePending({ enabled: true, pending: { expiresAtMs: now + 60_000, delivery: 'SMS' } }, now)).toEqual({
      expiresAtMs: now + 60_000,
      delivery: 'SMS',
    });
  });

  it.each([
    ['disabled', { enabled: false, pending: { expiresAtMs: now + 60_000, delivery: 'SMS' } }],
    ['nothing pending', { enabled: true, pending: null }],
    ['expired', { enabled: true, pending: { expiresAtMs: now, delivery: 'SMS' } }],
    ['no expiry', { enabled: true, pending: { delivery: 'SMS' } }],
    ['unknown delivery', { enabled: true, pending: { expiresAtMs: now + 1, delivery: 'PIGEON' } }],
    ['no state', null],
    ['enabled not true', { enabled: 'yes', pending: { expiresAtMs: now + 60_000, delivery: 'SMS' } }],
  ])('shows nothing when %s', (_name, state) => {
    expect(visiblePending(state, now)).toBeNull();
  });
});

describe('portalMessage', () => {
  it('tells the requester how the link came and when it expires', () => {
    expect(portalMessage({ expiresAtMs: now + 9 * 60_000, delivery: 'SMS' }, { locale: 'en-GB', timeZone: 'UTC', nowMs: now })).toBe(
      'A help-desk agent sent you an identity verification link by SMS. Open it on your phone to complete the check; it expires at 10:09 UTC.',
    );
    expect(portalMessage({ expiresAtMs: now + 60_000, delivery: 'EMAIL' }, { locale: 'en-GB', timeZone: 'Europe/Berlin', nowMs: now })).toBe(
      'A help-desk agent sent you an identity verification link by email. Open it on your phone to complete the check; it expires at 11:01 CET.',
    );
  });
});
