import { describe, expect, it } from 'vitest';
import { ALL_STATES, actionsOf, announcement, isActive, stateDisplay } from '../shared/status.js';

// A view as the panel's resolver answers it: the core names the state and the caller's actions.
const view = (state, stateName, actions = undefined) => ({
  status: state === 'replaced' ? 'cancelled' : state,
  state,
  stateName,
  ...(actions ? { actions } : {}),
});

describe('stateDisplay', () => {
  it('covers every state the core shows', () => {
    expect(ALL_STATES).toEqual(['requested', 'inProgress', 'passed', 'failed', 'manualReview', 'expired', 'cancelled', 'replaced']);
  });

  it('tells the agent to proceed only when passed', () => {
    for (const state of ALL_STATES) {
      const d = stateDisplay(view(state, 'x'));
      const text = `${d.headline} ${d.guidance}`;
      if (state === 'passed') expect(text).toMatch(/you may proceed/);
      else expect(text).toMatch(/Do not proceed|do not proceed/);
    }
  });

  it('names a state with the one name the core gives it, and no other', () => {
    const d = stateDisplay(view('manualReview', 'Pending review'));
    expect(d.label).toBe('Pending review');
    expect(`${d.headline} ${d.guidance}`).not.toMatch(/manual review/i);
    expect(stateDisplay(view('replaced', 'Replaced by a new link')).label).toBe('Replaced by a new link');
  });

  it('says "do not proceed" once for a failure', () => {
    const d = stateDisplay(view('failed', 'Failed'));
    expect(`${d.headline} ${d.guidance}`.match(/do not proceed/gi)).toHaveLength(1);
    expect(d).toMatchObject({ tone: 'error', lozenge: 'removed' });
  });

  it('shows a link replaced by a newer one apart from a cancelled one', () => {
    const replaced = stateDisplay(view('replaced', 'Replaced by a new link'));
    const cancelled = stateDisplay(view('cancelled', 'Cancelled'));
    expect(replaced.headline).not.toBe(cancelled.headline);
    expect(replaced.headline).toMatch(/new link/);
  });

  it('shows an unknown state as unknown, never as a success', () => {
    const d = stateDisplay({ status: 'approved' });
    expect(d.label).toBe('Unknown');
    expect(d.tone).toBe('neutral');
    expect(d.active).toBe(false);
  });

  it('knows which states are still live', () => {
    expect(ALL_STATES.filter(isActive)).toEqual(['requested', 'inProgress']);
  });
});

describe('announcement', () => {
  it('names the state and what it means', () => {
    expect(announcement(view('failed', 'Failed'))).toBe('Verification status: Failed. Do not proceed — escalate for review.');
  });
});

describe('actionsOf', () => {
  it('offers what the core allowed, and nothing for a view without actions', () => {
    const actions = { resend: false, cancel: false, newVerification: true };
    expect(actionsOf(view('cancelled', 'Cancelled', actions))).toEqual(actions);
    expect(actionsOf(view('requested', 'Link sent'))).toEqual({ resend: false, cancel: false, newVerification: false });
    expect(actionsOf(null)).toEqual({ resend: false, cancel: false, newVerification: false });
  });
});
