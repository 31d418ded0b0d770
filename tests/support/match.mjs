// The vector matcher shared by the Node tests (the Rust tests hold an equivalent): `expected` is
// a subset of `actual` (objects: every expected key matches; arrays: same length, element-wise;
// scalars: equal). Returns null on a match, or the path and reason of the first difference.
export function subsetMismatch(actual, expected, path = '$') {
  if (expected === null || typeof expected !== 'object') {
    return Object.is(actual, expected) || actual === expected ? null : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, got ${JSON.stringify(actual)}`;
    if (actual.length !== expected.length) {
      return `${path}: expected ${expected.length} elements, got ${actual.length}: ${JSON.stringify(actual)}`;
    }
    for (let i = 0; i < expected.length; i += 1) {
      const m = subsetMismatch(actual[i], expected[i], `${path}[${i}]`);
      if (m) return m;
    }
    return null;
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
    return `${path}: expected an object, got ${JSON.stringify(actual)}`;
  }
  for (const key of Object.keys(expected)) {
    if (!(key in actual)) return `${path}.${key}: missing`;
    const m = subsetMismatch(actual[key], expected[key], `${path}.${key}`);
    if (m) return m;
  }
  return null;
}
