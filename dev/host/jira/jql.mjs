// A small JQL: enough for the searches an app makes on this site. Clauses on project, key,
// status, statusCategory, reporter, assignee, summary/text, created/updated, the "Affected
// employee" field and indexed issue properties (`issue.property[key].path` or the property's
// search alias), joined with AND / OR / NOT and parentheses, with ORDER BY. Anything else is
// rejected with Jira's wording rather than silently matching everything.

export class JqlError extends Error {}

const OPERATORS = ['!=', '!~', '>=', '<=', '=', '~', '>', '<'];

function tokenize(text) {
  const tokens = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, value: c });
      i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        value += text[j];
        j++;
      }
      if (j >= text.length) throw new JqlError(`Error in the JQL Query: The quoted string '${value}' has not been completed.`);
      tokens.push({ kind: 'string', value });
      i = j + 1;
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (op) {
        tokens.push({ kind: 'op', value: op });
        i += op.length;
        continue;
      }
      let j = i;
      while (j < text.length && !/[\s(),"'=!~<>]/.test(text[j])) j++;
      if (j === i) throw new JqlError(`Error in the JQL Query: The character '${c}' is a reserved JQL character.`);
      tokens.push({ kind: 'word', value: text.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

/** Parses JQL into `{ where, orderBy }`; `where` is null for an empty restriction. */
export function parseJql(text) {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const isWord = (t, w) => t && t.kind === 'word' && t.value.toLowerCase() === w;
  const expect = (what) => {
    const t = tokens[pos];
    if (!t) throw new JqlError(`Error in the JQL Query: Expecting ${what} but reached the end of the query.`);
    return t;
  };

  function parseOr() {
    let left = parseAnd();
    while (isWord(peek(), 'or')) {
      pos++;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  }
  function parseAnd() {
    let left = parseNot();
    while (isWord(peek(), 'and')) {
      pos++;
      left = { kind: 'and', left, right: parseNot() };
    }
    return left;
  }
  function parseNot() {
    if (isWord(peek(), 'not')) {
      pos++;
      return { kind: 'not', clause: parseNot() };
    }
    if (peek()?.kind === '(') {
      pos++;
      const inner = parseOr();
      if (expect("')'").kind !== ')') throw new JqlError(`Error in the JQL Query: Expecting ')' before '${peek().value}'.`);
      pos++;
      return inner;
    }
    return parseTerm();
  }
  function parseValue() {
    const t = expect('a value');
    if (t.kind === 'string') {
      pos++;
      return { kind: 'literal', value: t.value, quoted: true };
    }
    if (t.kind !== 'word') throw new JqlError(`Error in the JQL Query: Expecting either a value, list or function but got '${t.value}'.`);
    pos++;
    if (peek()?.kind === '(') {
      pos++;
      if (expect("')'").kind !== ')') throw new JqlError(`Error in the JQL Query: Function '${t.value}' takes no arguments here.`);
      pos++;
      return { kind: 'function', name: t.value.toLowerCase() };
    }
    const lower = t.value.toLowerCase();
    if (lower === 'empty' || lower === 'null') return { kind: 'empty' };
    return { kind: 'literal', value: t.value, quoted: false };
  }
  function parseTerm() {
    const fieldToken = expect('a field name');
    if (fieldToken.kind !== 'word' && fieldToken.kind !== 'string') {
      throw new JqlError(`Error in the JQL Query: Expecting a field name but got '${fieldToken.value}'.`);
    }
    pos++;
    let op;
    const t = expect('an operator');
    if (t.kind === 'op') {
      op = t.value;
      pos++;
    } else if (isWord(t, 'in')) {
      op = 'in';
      pos++;
    } else if (isWord(t, 'not') && isWord(tokens[pos + 1], 'in')) {
      op = 'not in';
      pos += 2;
    } else if (isWord(t, 'is')) {
      pos++;
      if (isWord(peek(), 'not')) {
        pos++;
        op = 'is not';
      } else op = 'is';
    } else {
      throw new JqlError(
        `Error in the JQL Query: Expecting operator but got '${t.value}'. The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'.`,
      );
    }
    let value;
    if (op === 'in' || op === 'not in') {
      if (expect("'('").kind !== '(') throw new JqlError("Error in the JQL Query: Expecting '(' after IN.");
      pos++;
      const items = [parseValue()];
      while (peek()?.kind === ',') {
        pos++;
        items.push(parseValue());
      }
      if (expect("')'").kind !== ')') throw new JqlError("Error in the JQL Query: Expecting ')' to close the list.");
      pos++;
      value = { kind: 'list', items };
    } else {
      value = parseValue();
      if ((op === 'is' || op === 'is not') && value.kind !== 'empty') {
        throw new JqlError("Error in the JQL Query: The operators 'IS' and 'IS NOT' take EMPTY or NULL.");
      }
    }
    return { kind: 'clause', field: fieldToken.value, op, value };
  }

  let where = null;
  if (tokens.length && !isWord(tokens[0], 'order')) where = parseOr();
  const orderBy = [];
  if (isWord(peek(), 'order')) {
    pos++;
    if (!isWord(peek(), 'by')) throw new JqlError("Error in the JQL Query: Expecting 'BY' after 'ORDER'.");
    pos++;
    do {
      if (peek()?.kind === ',') pos++;
      const f = expect('a field to order by');
      pos++;
      let direction = 'asc';
      if (isWord(peek(), 'asc') || isWord(peek(), 'desc')) {
        direction = peek().value.toLowerCase();
        pos++;
      }
      orderBy.push({ field: f.value.toLowerCase(), direction });
    } while (peek()?.kind === ',');
  }
  if (pos < tokens.length) {
    throw new JqlError(`Error in the JQL Query: Expecting either 'OR' or 'AND' but got '${tokens[pos].value}'.`);
  }
  return { where, orderBy };
}

/**
 * Compiles a parsed query against a site: `site` provides `fieldOf(issue, name)` resolution
 * helpers. Returns `{ matches(issue), compare(a, b) }`.
 */
export function compileJql(text, site) {
  const { where, orderBy } = parseJql(text);
  const check = (node) => {
    if (!node) return;
    if (node.kind === 'and' || node.kind === 'or') {
      check(node.left);
      check(node.right);
    } else if (node.kind === 'not') check(node.clause);
    else {
      node.accessor = site.accessor(node.field);
      const values = node.value.kind === 'list' ? node.value.items : [node.value];
      for (const v of values) {
        if (v.kind === 'literal') site.checkValue(node.accessor, v.value);
        if (v.kind === 'function' && v.name !== 'currentuser' && v.name !== 'now') {
          throw new JqlError(`Error in the JQL Query: Unable to find JQL function '${v.name}()'.`);
        }
      }
      if ((node.op === '~' || node.op === '!~') && node.accessor.type !== 'text') {
        throw new JqlError(`The operator '${node.op}' is not supported by the '${node.field}' field.`);
      }
    }
  };
  check(where);
  const sorters = orderBy.map(({ field, direction }) => ({ accessor: site.accessor(field), sign: direction === 'desc' ? -1 : 1 }));

  const evaluate = (node, issue, ctx) => {
    if (!node) return true;
    switch (node.kind) {
      case 'and':
        return evaluate(node.left, issue, ctx) && evaluate(node.right, issue, ctx);
      case 'or':
        return evaluate(node.left, issue, ctx) || evaluate(node.right, issue, ctx);
      case 'not':
        return !evaluate(node.clause, issue, ctx);
      default:
        return clauseMatches(node, issue, ctx);
    }
  };
  return {
    /** False for a query with no restriction at all (only ORDER BY, or empty). */
    bounded: where !== null,
    matches: (issue, ctx) => evaluate(where, issue, ctx),
    compare: (a, b) => {
      for (const { accessor, sign } of sorters) {
        const x = accessor.sortKey(a);
        const y = accessor.sortKey(b);
        if (x < y) return -sign;
        if (x > y) return sign;
      }
      return sorters.length ? 0 : b.created - a.created;
    },
  };
}

function clauseMatches(node, issue, ctx) {
  const { accessor, op, value } = node;
  const actual = accessor.values(issue);
  const resolve = (v) => {
    if (v.kind === 'function') return v.name === 'currentuser' ? (ctx.accountId ?? '') : ctx.nowMs;
    return accessor.normalise(v.value);
  };
  switch (op) {
    case 'is':
      return actual.length === 0;
    case 'is not':
      return actual.length > 0;
    case '=':
      return value.kind === 'empty' ? actual.length === 0 : actual.some((a) => accessor.equals(a, resolve(value)));
    case '!=':
      return value.kind === 'empty' ? actual.length > 0 : actual.length > 0 && !actual.some((a) => accessor.equals(a, resolve(value)));
    case 'in':
      return value.items.some((v) => (v.kind === 'empty' ? actual.length === 0 : actual.some((a) => accessor.equals(a, resolve(v)))));
    case 'not in':
      return actual.length > 0 && !value.items.some((v) => v.kind !== 'empty' && actual.some((a) => accessor.equals(a, resolve(v))));
    case '~':
      return actual.some((a) => String(a).toLowerCase().includes(String(value.value).toLowerCase().replace(/\*$/, '')));
    case '!~':
      return !actual.some((a) => String(a).toLowerCase().includes(String(value.value).toLowerCase().replace(/\*$/, '')));
    default: {
      const want = resolve(value);
      return actual.some((a) => {
        const x = accessor.order(a);
        const y = accessor.order(want);
        if (x === null || y === null) return false;
        return op === '>' ? x > y : op === '>=' ? x >= y : op === '<' ? x < y : x <= y;
      });
    }
  }
}

/** Parses a JQL date: "2026-11-22", "2026-11-22 10:00", an ISO string, or relative "-1d", "2h". */
export function parseJqlDate(raw, nowMs) {
  if (typeof raw === 'number') return raw;
  const text = String(raw).trim();
  const relative = /^([+-]?)(\d+)([wdhm])$/i.exec(text);
  if (relative) {
    const unit = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[3].toLowerCase()];
    return nowMs + (relative[1] === '-' ? -1 : 1) * Number(relative[2]) * unit;
  }
  const simple = /^(\d{4})[-/](\d{2})[-/](\d{2})(?:[ T](\d{2}):(\d{2}))?$/.exec(text);
  if (simple) {
    const [, y, mo, d, h = '0', mi = '0'] = simple;
    return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi));
  }
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? null : parsed;
}
