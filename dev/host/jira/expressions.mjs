// A small subset of Jira expressions, enough for the workflow conditions and expression
// validators an app declares: literals, context variables, member and index access, the string
// and list methods `includes`, `startsWith`, `endsWith`, `toLowerCase`, `toUpperCase`, `trim`,
// `length`, comparison, `!`, `&&`, `||`, `+` and `?:`. Anything outside it, or an unknown
// property, is an evaluation error, and the rule then evaluates to false as on Jira.

export class ExpressionError extends Error {}

/** Objects whose unknown properties are errors (Jira's typed objects); other objects are maps. */
const TYPED = new WeakSet();
export const typed = (object) => {
  TYPED.add(object);
  return object;
};

function tokenize(text) {
  const tokens = [];
  const re = /\s*(?:(\d+(?:\.\d+)?)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|&&|\|\||[<>!+\-?:.,()[\]]))/y;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new ExpressionError(`Unexpected character at ${at} in the expression`);
    at = re.lastIndex;
    if (m[1] !== undefined) tokens.push({ kind: 'literal', value: Number(m[1]) });
    else if (m[2] !== undefined) tokens.push({ kind: 'literal', value: m[2].slice(1, -1).replace(/\\(.)/g, '$1') });
    else if (m[3] !== undefined) tokens.push({ kind: 'name', value: m[3] });
    else tokens.push({ kind: 'op', value: m[4] });
  }
  return tokens;
}

const METHODS = {
  includes: (target, [x]) => (typeof target === 'string' ? target.includes(String(x)) : Array.isArray(target) ? target.includes(x) : undefined),
  startsWith: (target, [x]) => (typeof target === 'string' ? target.startsWith(String(x)) : undefined),
  endsWith: (target, [x]) => (typeof target === 'string' ? target.endsWith(String(x)) : undefined),
  toLowerCase: (target) => (typeof target === 'string' ? target.toLowerCase() : undefined),
  toUpperCase: (target) => (typeof target === 'string' ? target.toUpperCase() : undefined),
  trim: (target) => (typeof target === 'string' ? target.trim() : undefined),
};

/** Evaluates `text` with `variables`; throws ExpressionError on any problem. */
export function evaluateExpression(text, variables) {
  const tokens = tokenize(String(text));
  let pos = 0;
  const peek = (value) => tokens[pos]?.kind === 'op' && tokens[pos].value === value;
  const take = (value) => {
    if (!peek(value)) throw new ExpressionError(`Expected '${value}' in the expression`);
    pos++;
  };

  function member(target, name) {
    if (target === null || target === undefined) throw new ExpressionError(`Cannot read '${name}' of null`);
    if (name === 'length' && (typeof target === 'string' || Array.isArray(target))) return target.length;
    if (typeof target !== 'object') throw new ExpressionError(`Unrecognized property '${name}'`);
    if (Object.hasOwn(target, name)) return target[name];
    if (TYPED.has(target)) throw new ExpressionError(`Unrecognized property of the object: '${name}'`);
    return null;
  }

  function primary() {
    const t = tokens[pos++];
    if (!t) throw new ExpressionError('The expression ends too early');
    if (t.kind === 'literal') return t.value;
    if (t.kind === 'name') {
      if (t.value === 'true') return true;
      if (t.value === 'false') return false;
      if (t.value === 'null') return null;
      if (!Object.hasOwn(variables, t.value)) throw new ExpressionError(`Unknown variable '${t.value}'`);
      return variables[t.value];
    }
    if (t.value === '(') {
      const value = ternary();
      take(')');
      return value;
    }
    if (t.value === '!') return !truthy(postfix(primary()));
    if (t.value === '-') return -postfix(primary());
    throw new ExpressionError(`Unexpected '${t.value}' in the expression`);
  }

  function postfix(value) {
    for (;;) {
      if (peek('.')) {
        pos++;
        const name = tokens[pos++];
        if (name?.kind !== 'name') throw new ExpressionError('Expected a property name after "."');
        if (peek('(')) {
          pos++;
          const args = [];
          while (!peek(')')) {
            args.push(ternary());
            if (peek(',')) pos++;
          }
          take(')');
          const method = METHODS[name.value];
          const result = method ? method(value, args) : undefined;
          if (result === undefined) throw new ExpressionError(`Unknown method '${name.value}'`);
          value = result;
        } else value = member(value, name.value);
      } else if (peek('[')) {
        pos++;
        const key = ternary();
        take(']');
        value = Array.isArray(value) ? (value[key] ?? null) : member(value, String(key));
      } else return value;
    }
  }

  const unary = () => postfix(primary());
  function additive() {
    let value = unary();
    while (peek('+') || peek('-')) {
      const op = tokens[pos++].value;
      const right = unary();
      value = op === '+' ? value + right : value - right;
    }
    return value;
  }
  function comparison() {
    let value = additive();
    while (['==', '!=', '<', '>', '<=', '>='].some(peek)) {
      const op = tokens[pos++].value;
      const right = additive();
      if (op === '==') value = equal(value, right);
      else if (op === '!=') value = !equal(value, right);
      else value = op === '<' ? value < right : op === '>' ? value > right : op === '<=' ? value <= right : value >= right;
    }
    return value;
  }
  function and() {
    let value = comparison();
    while (peek('&&')) {
      pos++;
      const right = comparison();
      value = truthy(value) && truthy(right);
    }
    return value;
  }
  function or() {
    let value = and();
    while (peek('||')) {
      pos++;
      const right = and();
      value = truthy(value) || truthy(right);
    }
    return value;
  }
  function ternary() {
    const test = or();
    if (!peek('?')) return test;
    pos++;
    const yes = ternary();
    take(':');
    const no = ternary();
    return truthy(test) ? yes : no;
  }

  const value = ternary();
  if (pos < tokens.length) throw new ExpressionError(`Unexpected '${tokens[pos].value}' in the expression`);
  return value;
}

function truthy(value) {
  if (typeof value !== 'boolean') throw new ExpressionError('A boolean was expected');
  return value;
}

function equal(a, b) {
  if (a && b && typeof a === 'object' && typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}
