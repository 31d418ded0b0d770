import { describe, expect, it } from 'vitest';
import { ALL_STATUSES, announcement, availableActions, isActive, statusDisplay } from '../shared/status.js';

describe('statusDisplay', () => {
  it('covers every VerificationStatus of the contract', () => {
    expect(ALL_STATUSES).toEqual(['requested', 'inProgress', 'passed', 'failed', 'manualReview', 'expired', 'cancelled']);
  });

  it('tells the agent to proceed only when passed', () => {
    for (const status of ALL_STATUSES) {
      const d = statusDisplay(status);
      const text = `${d.headline} ${d.guidance}`;
      if (status === 'passed') expect(text).toMatch(/you may proceed/);
      else expect(text).toMatch(/Do not proceed|do not proceed/);
    }
  });

  it('uses the guide’s wording and tones for the outcomes', () => {
    expect(statusDisplay('passed')).toMatchObject({ tone: 'success', lozenge: 'success', headline: 'Verification passed — identity confirmed, you may proceed' });
    expect(statusDisplay('failed')).toMatchObject({ tone: 'error', lozenge: 'removed', guidance: 'Do not proceed — escalate for review.' });
    expect(statusDisplay('manualReview')).toMatchObject({ tone: 'warning', guidance: 'Do not proceed until review is complete.' });
  });

  it('shows an unknown status as unknown, never as a success', () => {
    const d = statusDisplay('approved');
    expect(d.label).toBe('Unknown');
    expect(d.tone).toBe('neutral');
    expect(d.active).toBe(false);
  });

  it('knows which statuses are still live', () => {
    expect(ALL_STATUSES.filter(isActive)).toEqual(['requested', 'inProgress']);
  });
});

describe('announcement', () => {
  it('names the status and what it means', () => {
    expect(announcement({ status: 'failed' })).toBe('Verification status: Failed. Verification failed — do not proceed.');
  });
});

describe('availableActions', () => {
  const v = (status) => ({ status });
  it('offers resend and cancel while the link is live', () => {
    expect(availableActions(v('requested'), { canSend: true })).toEqual({ resend: true, cancel: true, newVerification: false });
    expect(availableActions(v('inProgress'), { canSend: true })).toEqual({ resend: true, cancel: true, newVerification: false });
  });

  it('offers a fresh link after expiry or cancellation', () => {
    expect(availableActions(v('expired'), { canSend: true })).toEqual({ resend: true, cancel: false, newVerification: true });
    expect(availableActions(v('cancelled'), { canSend: true })).toEqual({ resend: true, cancel: false, newVerification: true });
  });

  it('never resends a final result, and only starts anew from the form', () => {
    for (const s of ['passed', 'failed', 'manualReview']) {
      expect(availableActions(v(s), { canSend: true })).toEqual({ resend: false, cancel: false, newVerification: true });
    }
  });

  it('offers nothing that sends when the agent may not send', () => {
    expect(availableActions(v('requested'), { canSend: false })).toEqual({ resend: false, cancel: true, newVerification: false });
    expect(availableActions(null, { canSend: false })).toEqual({ resend: false, cancel: false, newVerification: false });
  });
});
