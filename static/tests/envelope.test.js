import { describe, expect, it } from 'vitest';
import { callResolver, envelopeFromThrown, normalizeEnvelope, normalizeFieldErrors } from '../shared/envelope.js';

describe('normalizeEnvelope', () => {
  it('passes a success through with its data', () => {
    expect(normalizeEnvelope({ ok: true, data: { a: 1 } })).toEqual({ ok: true, data: { a: 1 } });
  });

  it('keeps data that is falsy', () => {
    expect(normalizeEnvelope({ ok: true, data: null })).toEqual({ ok: true, data: null });
    expect(normalizeEnvelope({ ok: true, data: 0 })).toEqual({ ok: true, data: 0 });
  });

  it('treats a success without data as a bad response', () => {
    expect(normalizeEnvelope({ ok: true })).toMatchObject({ ok: false, error: { code: 'unexpected_answer' } });
  });

  it('passes an error through with code, message and well-formed fields', () => {
    const raw = {
      ok: false,
      error: {
        code: 'validation',
        message: 'Some settings are not valid.',
        fields: [
          { field: 'templates.passed', code: 'unknown_variable', message: 'Unknown variable', line: 2, column: 5 },
          { field: 'linkExpiryMinutes', message: 'Too long' },
          { field: 3, message: 'dropped: field is not a string' },
          'dropped: not an object',
          { field: 'x', code: 'c', message: 'position dropped', line: 0, column: -1 },
        ],
      },
    };
    expect(normalizeEnvelope(raw)).toEqual({
      ok: false,
      error: {
        code: 'validation',
        message: 'Some settings are not valid.',
        fields: [
          { field: 'templates.passed', code: 'unknown_variable', message: 'Unknown variable', line: 2, column: 5 },
          { field: 'linkExpiryMinutes', code: 'invalid', message: 'Too long' },
          { field: 'x', code: 'c', message: 'position dropped' },
        ],
      },
    });
  });

  it('keeps the retry hints a resolver adds', () => {
    expect(normalizeEnvelope({ ok: false, error: { code: 'limit_reached', message: 'm', retryable: false, resetsAtMs: 1_800_000 } }).error).toEqual({
      code: 'limit_reached',
      message: 'm',
      retryable: false,
      resetsAtMs: 1_800_000,
    });
    expect(normalizeEnvelope({ ok: false, error: { code: 'busy', message: 'm', retryable: 'yes', resetsAtMs: 'soon' } }).error).toEqual({
      code: 'busy',
      message: 'm',
    });
  });

  it('leaves out an empty fields list', () => {
    expect(normalizeEnvelope({ ok: false, error: { code: 'x', message: 'y', fields: [] } }).error).toEqual({ code: 'x', message: 'y' });
  });

  it('gives a blank error message a default', () => {
    expect(normalizeEnvelope({ ok: false, error: { code: 'x', message: '  ' } }).error.message).toBe('Something went wrong.');
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'ok'],
    ['an array', [1]],
    ['ok not boolean', { ok: 'true', data: {} }],
    ['error without code', { ok: false, error: { message: 'm' } }],
    ['error with empty code', { ok: false, error: { code: '', message: 'm' } }],
    ['error not an object', { ok: false, error: 'boom' }],
  ])('maps %s to unexpected_answer', (_name, raw) => {
    const env = normalizeEnvelope(raw);
    expect(env.ok).toBe(false);
    expect(env.error.code).toBe('unexpected_answer');
    expect(env.error.message).toMatch(/unexpected|understand/i);
  });
});

describe('normalizeFieldErrors', () => {
  it('returns [] for anything but an array', () => {
    expect(normalizeFieldErrors(undefined)).toEqual([]);
    expect(normalizeFieldErrors({ field: 'a', message: 'b' })).toEqual([]);
  });
});

describe('callResolver', () => {
  it('invokes the named resolver with the payload and normalises the answer', async () => {
    const seen = [];
    const invoke = async (name, payload) => {
      seen.push([name, payload]);
      return { ok: true, data: { verification: { id: 'v1' } } };
    };
    await expect(callResolver(invoke, 'panel.send', { email: 'a@b.co' })).resolves.toEqual({ ok: true, data: { verification: { id: 'v1' } } });
    expect(seen).toEqual([['panel.send', { email: 'a@b.co' }]]);
  });

  it('sends an empty payload when none is given', async () => {
    let got;
    await callResolver(async (_n, p) => {
      got = p;
      return { ok: true, data: 1 };
    }, 'panel.getState');
    expect(got).toEqual({});
  });

  it('turns a throwing invoke into unreachable', async () => {
    const answer = await callResolver(async () => {
      throw new Error('There was an error invoking the function');
    }, 'panel.getState');
    expect(answer).toMatchObject({ ok: false, error: { code: 'unreachable' } });
  });

  it('turns the bridge rate limiter into rate_limited', () => {
    expect(envelopeFromThrown(new Error('Resolver calls are rate limited at 500req/25s')).error.code).toBe('rate_limited');
    expect(envelopeFromThrown('plain string').error.code).toBe('unreachable');
  });

  it('keeps a resolver error as it is', async () => {
    const answer = await callResolver(async () => ({ ok: false, error: { code: 'limit_reached', message: 'Limit' } }), 'panel.send');
    expect(answer).toEqual({ ok: false, error: { code: 'limit_reached', message: 'Limit' } });
  });
});
