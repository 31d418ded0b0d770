// Formatting of times, countdowns and deliveries for display.

/**
 * Time left as a countdown: "9:41", "0:05", "1:02:03"; "0:00" once the moment has passed.
 * Seconds round up, so the countdown reads 0:00 exactly when the link expires.
 */
export function formatCountdown(remainingMs) {
  if (!Number.isFinite(remainingMs) || remainingMs <= 0) return '0:00';
  const total = Math.ceil(remainingMs / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const ss = String(seconds).padStart(2, '0');
  if (hours > 0) return `${hours}:${String(minutes).padStart(2, '0')}:${ss}`;
  return `${minutes}:${ss}`;
}

/** The countdown in words for screen readers: "9 minutes 41 seconds". */
export function describeDuration(remainingMs) {
  if (!Number.isFinite(remainingMs) || remainingMs <= 0) return '0 seconds';
  const total = Math.ceil(remainingMs / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const parts = [];
  if (h) parts.push(`${h} ${h === 1 ? 'hour' : 'hours'}`);
  if (m) parts.push(`${m} ${m === 1 ? 'minute' : 'minutes'}`);
  if (s || parts.length === 0) parts.push(`${s} ${s === 1 ? 'second' : 'seconds'}`);
  return parts.join(' ');
}

function validTimeZone(timeZone) {
  if (!timeZone) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return timeZone;
  } catch {
    return undefined;
  }
}

/**
 * "22 Nov 2026, 10:00 GMT" in the viewer's locale and time zone (from the Forge view context),
 * with the zone: an absolute time means nothing without it.
 * @param {number} ms @param {{ locale?: string, timeZone?: string }} [viewer]
 */
export function formatDateTime(ms, { locale, timeZone } = {}) {
  if (!Number.isFinite(ms) || ms <= 0) return '—';
  const tz = validTimeZone(timeZone);
  try {
    return new Intl.DateTimeFormat(locale || undefined, {
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      timeZoneName: 'short',
      ...(tz ? { timeZone: tz } : {}),
    }).format(new Date(ms));
  } catch {
    return new Date(ms).toISOString();
  }
}

/**
 * "6 Dec 2026, 05:27:14 GMT" to the second, with the time zone named: for logs, where
 * several entries share a minute and the reader must know which clock is meant.
 * @param {number} ms @param {{ locale?: string, timeZone?: string }} [viewer]
 */
export function formatPreciseTime(ms, { locale, timeZone } = {}) {
  if (!Number.isFinite(ms) || ms <= 0) return '—';
  const tz = validTimeZone(timeZone);
  try {
    return new Intl.DateTimeFormat(locale || undefined, {
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'short',
      ...(tz ? { timeZone: tz } : {}),
    }).format(new Date(ms));
  } catch {
    return new Date(ms).toISOString();
  }
}

/**
 * "10:45 GMT" (today) or "22 Nov 2026, 10:45 GMT" (another day), in the viewer's time zone and
 * naming it: the reader may be in another zone than whoever acts on the time.
 * @param {number} ms @param {{ locale?: string, timeZone?: string, nowMs?: number }} [viewer]
 */
export function formatClockTime(ms, { locale, timeZone, nowMs = Date.now() } = {}) {
  if (!Number.isFinite(ms) || ms <= 0) return '—';
  const tz = validTimeZone(timeZone);
  const zone = tz ? { timeZone: tz } : {};
  try {
    const day = new Intl.DateTimeFormat('en-CA', { ...zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    /** @type {Intl.DateTimeFormatOptions} */
    const time = { hour: 'numeric', minute: '2-digit', timeZoneName: 'short' };
    if (day.format(new Date(ms)) === day.format(new Date(nowMs))) {
      return new Intl.DateTimeFormat(locale || undefined, { ...zone, ...time }).format(new Date(ms));
    }
    return new Intl.DateTimeFormat(locale || undefined, { ...zone, day: 'numeric', month: 'short', year: 'numeric', ...time }).format(new Date(ms));
  } catch {
    return new Date(ms).toISOString();
  }
}

/** "SMS" / "email", as used inside sentences. */
export function deliveryWord(delivery) {
  if (delivery === 'SMS') return 'SMS';
  if (delivery === 'EMAIL') return 'email';
  return 'an unknown channel';
}

/** "Link sent by SMS to +1 •••• 1234" */
export function describeSent(verification) {
  const via = deliveryWord(verification.delivery);
  const to = verification.destination ? ` to ${verification.destination}` : '';
  return `Link sent by ${via}${to}`;
}
