import { useEffect, useState } from 'react';

// Forge sizes the page's frame to its content, so the window that scrolls is Jira's, not this
// one: `position: sticky` or `fixed` here never follows it. Intersection observers do see Jira's
// viewport (the implicit root of a frame is the top-level one), so thin slices laid over the
// page tell which part of it the viewer sees, to a couple of pixels.
const SLICE_PX = 200;
const THRESHOLDS = Array.from({ length: 101 }, (_, i) => i / 100);

/**
 * The bottom edge (in `container` coordinates) of the part of `container` in view, or null
 * while unknown or none of it shows. Watches only while `active`.
 * @param {{ current: HTMLElement | null }} containerRef
 * @param {boolean} active
 */
export function useVisibleBottom(containerRef, active) {
  const [bottom, setBottom] = useState(null);
  useEffect(() => {
    const container = containerRef.current;
    if (!active || !container || typeof IntersectionObserver === 'undefined') {
      setBottom(null);
      return undefined;
    }
    const layer = document.createElement('div');
    layer.setAttribute('aria-hidden', 'true');
    layer.className = 'visibility-slices';
    container.append(layer);
    const seen = new Map();
    const observer = new IntersectionObserver(
      (entries) => {
        const top = container.getBoundingClientRect().top;
        for (const entry of entries) {
          if (entry.isIntersecting && entry.intersectionRect.height > 0) seen.set(entry.target, entry.intersectionRect.bottom - top);
          else seen.delete(entry.target);
        }
        setBottom(seen.size ? Math.round(Math.max(...seen.values())) : null);
      },
      { threshold: THRESHOLDS },
    );
    const lay = () => {
      observer.disconnect();
      seen.clear();
      layer.replaceChildren();
      const height = container.scrollHeight;
      for (let top = 0; top < height; top += SLICE_PX) {
        const slice = document.createElement('div');
        slice.style.top = `${top}px`;
        slice.style.height = `${Math.min(SLICE_PX, height - top)}px`;
        layer.append(slice);
        observer.observe(slice);
      }
    };
    lay();
    const resized = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(lay);
    resized?.observe(container);
    return () => {
      resized?.disconnect();
      observer.disconnect();
      layer.remove();
    };
  }, [containerRef, active]);
  return bottom;
}
