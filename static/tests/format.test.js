import { describe, expect, it } from 'vitest';
import { deliveryWord, describeDuration, describeSent, formatClockTime, formatCountdown, formatDateTime, formatPreciseTime } from '../shared/format.js';

describe('formatCountdown', () => {
  it.each([
    [581_000, '9:41'],
    [580_001, '9:41'],
    [580_000, '9:40'],
    [600_000, '10:00'],
    [59_001, '1:00'],
    [60_000, '1:00'],
    [5_000, '0:05'],
    [1, '0:01'],
    [0, '0:00'],
    [-5_000, '0:00'],
    [3_723_000, '1:02:03'],
    [3_600_000, '1:00:00'],
    [Number.NaN, '0:00'],
    [Number.POSITIVE_INFINITY, '0:00'],
  ])('%d ms reads %s', (ms, text) => {
    expect(formatCountdown(ms)).toBe(text);
  });
});

describe('describeDuration', () => {
  it.each([
    [581_000, '9 minutes 41 seconds'],
    [61_000, '1 minute 1 second'],
    [120_000, '2 minutes'],
    [3_601_000, '1 hour 1 second'],
    [0, '0 seconds'],
  ])('%d ms is %s', (ms, text) => {
    expect(describeDuration(ms)).toBe(text);
  });
});

describe('formatDateTime', () => {
  const at = Date.UTC(2026, 10, 22, 10, 0, 0);
  it('uses the given locale and time zone', () => {
    expect(formatDateTime(at, { locale: 'en-GB', timeZone: 'UTC' })).toBe('22 Nov 2026, 10:00 UTC');
    expect(formatDateTime(at, { locale: 'en-GB', timeZone: 'Asia/Tokyo' })).toBe('22 Nov 2026, 19:00 GMT+9');
    expect(formatDateTime(at, { locale: 'en-US', timeZone: 'America/New_York' })).toBe('Nov 22, 2026, 5:00 AM EST');
  });

  it('ignores an unknown time zone instead of failing', () => {
    expect(formatDateTime(at, { locale: 'en-GB', timeZone: 'Mars/Olympus' })).toMatch(/Nov 2026/);
  });

  it('shows a dash for a missing time', () => {
    expect(formatDateTime(0)).toBe('—');
    expect(formatDateTime(undefined)).toBe('—');
  });
});

describe('formatClockTime', () => {
  const now = Date.UTC(2026, 10, 22, 10, 0, 0);
  it('gives only the time for today', () => {
    expect(formatClockTime(now + 9 * 60_000, { locale: 'en-GB', timeZone: 'UTC', nowMs: now })).toBe('10:09 UTC');
  });

  it('adds the date for another day in the viewer’s zone', () => {
    // 23:55 UTC on the 22nd is already the 23rd in Tokyo.
    const later = Date.UTC(2026, 10, 22, 23, 55);
    expect(formatClockTime(later, { locale: 'en-GB', timeZone: 'UTC', nowMs: now })).toBe('23:55 UTC');
    expect(formatClockTime(later, { locale: 'en-GB', timeZone: 'Asia/Tokyo', nowMs: now })).toBe('23 Nov 2026, 08:55 GMT+9');
  });
});

describe('deliveries', () => {
  it('names the channel in words', () => {
    expect(deliveryWord('SMS')).toBe('SMS');
    expect(deliveryWord('EMAIL')).toBe('email');
    expect(deliveryWord('FAX')).toBe('an unknown channel');
  });

  it('describes where the link went', () => {
    expect(describeSent({ delivery: 'SMS', destination: '+1 •••• 1234' })).toBe('Link sent by SMS to +1 •••• 1234');
    expect(describeSent({ delivery: 'EMAIL', destination: '' })).toBe('Link sent by email');
  });
});

describe('formatPreciseTime', () => {
  it('shows seconds and names the time zone of the viewer', () => {
    const ms = Date.UTC(2026, 11, 6, 5, 27, 14);
    const text = formatPreciseTime(ms, { locale: 'en-GB', timeZone: 'Europe/Paris' });
    expect(text).toContain('06:27:14');
    expect(text).toMatch(/CET|GMT\+1/);
    expect(formatPreciseTime(ms + 1000, { locale: 'en-GB', timeZone: 'UTC' })).toContain('05:27:15');
    expect(formatPreciseTime(0)).toBe('—');
  });
});
