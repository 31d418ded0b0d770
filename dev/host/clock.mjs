// Time in the local host. Tests start a host on a manual clock (`createManualClock`) to move time
// forward: the KVS (TTLs), the Jira site, realtime tokens, the Incode sandbox and, inside an
// invocation, the functions' own `Date.now()` / `new Date()` all follow it. Outside invocations
// (the host itself, the test runner) time stays real.

const RealDate = Date;

/** The system clock, whatever `Date` has been replaced with. */
export const realNow = () => RealDate.now();

/** A clock that moves only when told: `now()`, `now.advance(ms)`. */
export function createManualClock(startMs = RealDate.now()) {
  let t = startMs;
  const now = () => t;
  now.advance = (ms) => {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('The clock moves forward only: advance(ms) takes a non-negative number');
    t += ms;
    return t;
  };
  return now;
}

let installed = false;

/**
 * Replaces the global `Date` (once) with one whose current time is `current()` when that answers
 * a number (inside an invocation of a host on a controlled clock), and the system time otherwise.
 * Dates stay Dates: same prototype, same statics, `instanceof Date` holds either way.
 */
export function installFunctionClock(current) {
  if (installed) return;
  installed = true;
  let reading = false;
  const clockNow = () => {
    // A clock that itself reads Date.now() gets the system time instead of recursing.
    if (reading) return RealDate.now();
    reading = true;
    try {
      const t = current();
      return typeof t === 'number' && Number.isFinite(t) ? t : RealDate.now();
    } finally {
      reading = false;
    }
  };
  function HostDate(...args) {
    if (!new.target) return new RealDate(clockNow()).toString();
    return Reflect.construct(RealDate, args.length ? args : [clockNow()], new.target);
  }
  Object.setPrototypeOf(HostDate, RealDate);
  Object.defineProperties(HostDate, {
    prototype: { value: RealDate.prototype },
    name: { value: 'Date' },
    length: { value: 7 },
    now: { value: clockNow, writable: true, configurable: true },
  });
  globalThis.Date = HostDate;
}
