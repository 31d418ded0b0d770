import { useEffect, useRef, useState } from 'react';

/** The current time, ticking every `intervalMs` while `active`. */
export function useNow(active, intervalMs = 1000) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return undefined;
    setNow(Date.now());
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [active, intervalMs]);
  return now;
}

/** Calls the latest `callback` every `intervalMs` while `active` and the page is visible. */
export function useVisibleInterval(callback, intervalMs, active = true) {
  const saved = useRef(callback);
  saved.current = callback;
  useEffect(() => {
    if (!active) return undefined;
    const id = setInterval(() => {
      if (document.visibilityState !== 'hidden') saved.current();
    }, intervalMs);
    return () => clearInterval(id);
  }, [intervalMs, active]);
}

/** Calls the latest `callback` when the window regains focus or the page becomes visible. */
export function useOnFocus(callback) {
  const saved = useRef(callback);
  saved.current = callback;
  useEffect(() => {
    const onFocus = () => saved.current();
    const onVisible = () => {
      if (document.visibilityState === 'visible') saved.current();
    };
    window.addEventListener('focus', onFocus);
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      window.removeEventListener('focus', onFocus);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, []);
}

/** `value`, once it has stopped changing for `delayMs`. */
export function useDebounced(value, delayMs) {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(id);
  }, [value, delayMs]);
  return debounced;
}

/**
 * Marks the page's root `data-ready="true"` once its first answer is shown (data, error or
 * nothing), so browser tests and screenshots know when to look.
 */
export function useReadyMarker(isReady) {
  useEffect(() => {
    const root = document.getElementById('root');
    if (root) root.dataset.ready = isReady ? 'true' : 'false';
  }, [isReady]);
}
