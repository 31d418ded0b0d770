// Comment templates in the baseline: handlebars.js, each template checked and compiled once per
// settings revision, values cleaned and fenced so they stay literal, the rendered text turned
// into the same ADF as rust/src/template.rs (paragraphs, hard breaks, `**bold**`).
import Handlebars from 'handlebars';
import { charCount, equalsIgnoreAsciiCase, isControl, isPrintableAscii, isWhitespace, trim } from './text.mjs';

export const VARIABLES = ['name', 'email', 'identityId', 'sessionId', 'outcome', 'agent', 'issueKey', 'time', 'delivery', 'status'];
const MAX_TEMPLATE_CHARS = 4000;
const MAX_VALUE_CHARS = 1000;
const MAX_COMMENT_CHARS = 30_000;
const MAX_BLOCK_DEPTH = 8;
const VALUE_START = '\ue000';
const VALUE_END = '\ue001';
const OUTCOMES = ['passed', 'failed', 'manualReview'];
const WORDS = { passed: 'passed', failed: 'failed', manualReview: 'manual review' };

const DEFAULTS = {
  passed:
    '✅ **Verification passed** — identity confirmed, you may proceed.\n\n' +
    'Employee: {{#if name}}{{name}}{{#if email}} ({{email}}){{/if}}{{else}}{{email}}{{/if}}\n' +
    '{{#if identityId}}Identity ID: {{identityId}}\n{{/if}}Session ID: {{sessionId}}\n' +
    'Verified by Incode at {{time}}{{#if agent}}, requested by {{agent}}{{/if}}.',
  failed:
    '❌ **Verification failed** — do not proceed; escalate the request.\n\n' +
    'Employee: {{#if name}}{{name}}{{#if email}} ({{email}}){{/if}}{{else}}{{email}}{{/if}}\n' +
    '{{#if identityId}}Identity ID: {{identityId}}\n{{/if}}Session ID: {{sessionId}}\n' +
    'Result from Incode at {{time}}{{#if agent}}, requested by {{agent}}{{/if}}.',
  manualReview:
    '⚠️ **Manual review required** — do not proceed until review is complete.\n\n' +
    'Employee: {{#if name}}{{name}}{{#if email}} ({{email}}){{/if}}{{else}}{{email}}{{/if}}\n' +
    '{{#if identityId}}Identity ID: {{identityId}}\n{{/if}}Session ID: {{sessionId}}\n' +
    'Sent to review by Incode at {{time}}{{#if agent}}, requested by {{agent}}{{/if}}.',
};

const FALLBACK_LINES = {
  passed: 'Incode verification passed.',
  failed: 'Incode verification failed.',
  manualReview: 'Incode verification needs manual review.',
};

const handlebars = Handlebars.create();
const COMPILE_OPTIONS = {
  noEscape: true,
  strict: true,
  data: false,
  knownHelpers: { if: true, unless: true },
  knownHelpersOnly: true,
};

const templateInvalid = (message) => ({ code: 'template_invalid', message, retryable: false });

/** The template that applies: the outcome's default when `source` is blank. */
function effective(source, outcome) {
  return trim(source) === '' ? DEFAULTS[outcome] : source;
}

/**
 * Checks and compiles one template.
 * @param {string} source
 * @returns {{ render: (vars: object) => string } | { error: { message: string } }}
 */
function compile(source) {
  const problem = firstProblem(source);
  if (problem) return { error: problem };
  return { render: handlebars.compile(source, COMPILE_OPTIONS) };
}

/** The three outcome templates of one settings revision. */
export class CompiledTemplates {
  /** @param {Record<string, string>} templates */
  constructor(templates) {
    this.compiled = {};
    for (const outcome of OUTCOMES) {
      const result = compile(effective(templates[outcome] ?? '', outcome));
      this.compiled[outcome] = result.error ? { error: templateInvalid(`templates.${outcome}: ${result.error.message}`) } : result;
    }
  }

  /** @returns {{ ok: true, value: object } | { ok: false, error: object }} */
  render(outcome, vars) {
    const entry = this.compiled[outcome];
    if (entry.error) return { ok: false, error: entry.error };
    return renderWith(entry.render, vars, FALLBACK_LINES[outcome]);
  }
}

/** A one-off preview (the admin page); a blank template previews the outcome's default. */
export function renderTemplate(source, vars) {
  const words = trim(vars.outcome ?? '');
  const outcome = OUTCOMES.find((o) => equalsIgnoreAsciiCase(WORDS[o], words) || equalsIgnoreAsciiCase(o, words)) ?? null;
  const result = compile(outcome ? effective(source, outcome) : source);
  if (result.error) return { ok: false, error: templateInvalid(result.error.message) };
  return renderWith(result.render, vars, outcome ? FALLBACK_LINES[outcome] : 'Incode verification result.');
}

function renderWith(render, vars, fallback) {
  let text;
  try {
    text = render(prepared(vars));
  } catch (error) {
    return {
      ok: false,
      error: { code: 'template_render_failed', message: `The comment template could not be rendered: ${error.message}`, retryable: false },
    };
  }
  return { ok: true, value: toAdf(text, fallback) };
}

// ---------------------------------------------------------------------------------------------
// Values

const SAFE_VALUE = /^[\x20-\x7e]{0,999}$/;

/** Every value cleaned and, when not empty, fenced by the sentinels. */
function prepared(vars) {
  const out = {};
  for (const name of VARIABLES) {
    const value = cleanValue(vars[name] ?? '');
    out[name] = value === '' ? '' : VALUE_START + value + VALUE_END;
  }
  return out;
}

function isUnsafe(c) {
  return (
    isControl(c) || c === 0x2028 || c === 0x2029 || c === 0x061c || c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)
  );
}

/** Sentinels dropped, unsafe characters as spaces, at most 1000 code points (then "…"). */
export function cleanValue(value) {
  if (SAFE_VALUE.test(value)) return value;
  let out = '';
  let kept = 0;
  let cut = 0;
  for (const ch of value) {
    const c = ch.codePointAt(0);
    if (c === 0xe000 || c === 0xe001) continue;
    if (kept === MAX_VALUE_CHARS) return `${out.slice(0, cut)}…`;
    if (kept === MAX_VALUE_CHARS - 1) cut = out.length;
    out += isUnsafe(c) ? ' ' : ch;
    kept += 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rendered text to ADF

const BOLD = 1;
const BREAK = 2;

/** Lines of pieces: strings, BOLD and BREAK markers; literal text between the sentinels. */
function splitLines(rendered) {
  const lines = [];
  let pieces = [];
  let hasContent = false;
  let text = '';
  const flush = () => {
    if (text !== '') {
      pieces.push(text);
      text = '';
    }
  };
  const endLine = () => {
    flush();
    lines.push({ pieces, hasContent });
    pieces = [];
    hasContent = false;
  };
  let inValue = false;
  const n = rendered.length;
  for (let i = 0; i < n; i += 1) {
    const c = rendered.charCodeAt(i);
    if (inValue) {
      if (c === 0xe001) {
        inValue = false;
      } else {
        // A whole run of value text at once.
        let end = rendered.indexOf(VALUE_END, i);
        if (end < 0) end = n;
        text += rendered.slice(i, end);
        hasContent = true;
        i = end - 1;
      }
      continue;
    }
    if (c === 0xe000) {
      inValue = true;
    } else if (c === 0xe001) {
      // a stray end marker is dropped
    } else if (c === 13) {
      if (rendered.charCodeAt(i + 1) === 10) i += 1;
      endLine();
    } else if (c === 10) {
      endLine();
    } else if (c === 42 && rendered.charCodeAt(i + 1) === 42) {
      i += 1;
      flush();
      pieces.push(BOLD);
      hasContent = true;
    } else {
      let code = c;
      let ch = rendered[i];
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const low = rendered.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          code = rendered.codePointAt(i);
          ch = rendered.slice(i, i + 2);
          i += 1;
        }
      }
      if (isUnsafe(code)) {
        code = 32;
        ch = ' ';
      }
      if (!isWhitespace(code)) hasContent = true;
      text += ch;
    }
  }
  endLine();
  return lines;
}

const textNode = (text, strong) => (strong ? { type: 'text', text, marks: [{ type: 'strong' }] } : { type: 'text', text });

/** Rendered text to an ADF document; `fallback` when nothing visible was rendered. */
export function toAdf(rendered, fallback) {
  const paragraphs = [];
  let current = [];
  for (const line of splitLines(rendered)) {
    if (line.hasContent) {
      if (current.length > 0) current.push(BREAK);
      for (const piece of line.pieces) current.push(piece);
    } else if (current.length > 0) {
      paragraphs.push(current);
      current = [];
    }
  }
  if (current.length > 0) paragraphs.push(current);
  const budget = { left: MAX_COMMENT_CHARS };
  const content = [];
  for (const pieces of paragraphs) {
    const paragraph = buildParagraph(pieces, budget);
    if (paragraph) content.push(paragraph);
  }
  if (content.length === 0) content.push({ type: 'paragraph', content: [textNode(fallback, false)] });
  return { type: 'doc', version: 1, content };
}

function buildParagraph(pieces, budget) {
  let markers = 0;
  for (const piece of pieces) if (piece === BOLD) markers += 1;
  if (markers % 2 === 1) pieces[pieces.lastIndexOf(BOLD)] = '**';
  const nodes = [];
  let strong = false;
  for (const piece of pieces) {
    if (piece === BOLD) {
      strong = !strong;
    } else if (piece === BREAK) {
      nodes.push({ type: 'hardBreak' });
    } else {
      const text = takeBudget(piece, budget);
      if (text === '') continue;
      const last = nodes[nodes.length - 1];
      if (last && last.type === 'text' && (last.marks !== undefined) === strong) last.text += text;
      else nodes.push(textNode(text, strong));
    }
  }
  while (nodes.length > 0 && nodes[nodes.length - 1].type !== 'text') nodes.pop();
  const first = nodes.findIndex((node) => node.type === 'text');
  if (first < 0) return null;
  return { type: 'paragraph', content: first === 0 ? nodes : nodes.slice(first) };
}

function takeBudget(text, budget) {
  if (budget.left === 0) return '';
  const length = isPrintableAscii(text) ? text.length : charCount(text);
  if (length <= budget.left) {
    budget.left -= length;
    return text;
  }
  let out = '';
  let n = 0;
  for (const ch of text) {
    if (n === budget.left - 1) break;
    out += ch;
    n += 1;
  }
  budget.left = 0;
  return `${out}…`;
}

// ---------------------------------------------------------------------------------------------
// Checks before compiling (the admin page runs the same ones on save)

/** The first problem of a template, or null. @param {string} source */
function firstProblem(source) {
  const length = charCount(source);
  if (length > MAX_TEMPLATE_CHARS) {
    return { message: `The template is ${length} characters long; the limit is ${MAX_TEMPLATE_CHARS}.` };
  }
  if (trim(source) === '') return null;
  for (let i = 0; i < source.length; i += 1) {
    const c = source.charCodeAt(i);
    if (c === 0xe000 || c === 0xe001 || (isControl(c) && c !== 10 && c !== 13 && c !== 9)) {
      const { line, column } = lineCol(source, i);
      return {
        message: `The template contains the invisible character U+${c.toString(16).toUpperCase().padStart(4, '0')} at line ${line}, column ${column}; remove it.`,
      };
    }
  }
  const nesting = nestingProblem(source);
  if (nesting) return nesting;
  let ast;
  try {
    ast = handlebars.parse(source);
  } catch (error) {
    const line = error.lineNumber ?? 1;
    const column = (error.column ?? 0) + 1;
    return { message: `Syntax error at line ${line}, column ${column}: The template is not valid Handlebars.` };
  }
  return walk(ast.body);
}

function lineCol(source, offset) {
  const head = source.slice(0, offset);
  const line = head.split('\n').length;
  const column = charCount(head.slice(head.lastIndexOf('\n') + 1)) + 1;
  return { line, column };
}

function nestingProblem(source) {
  let depth = 0;
  let from = 0;
  for (;;) {
    const start = source.indexOf('{{', from);
    if (start < 0) return null;
    let end = source.indexOf('}}', start + 2);
    if (end < 0) end = source.length;
    const inner = source.slice(start + 2, end).replace(/^[{~ \t\r\n]+/, '');
    let brackets = 0;
    let deepest = 0;
    for (const ch of inner) {
      if (ch === '(' || ch === '[' || ch === '{') deepest = Math.max(deepest, (brackets += 1));
      else if (ch === ')' || ch === ']' || ch === '}') brackets = Math.max(0, brackets - 1);
    }
    if (deepest > 2) {
      const { line, column } = lineCol(source, start);
      return { message: `The tag at line ${line}, column ${column} nests brackets; only {{variable}} and {{#if variable}} tags are supported.` };
    }
    if (inner.startsWith('#')) {
      depth += 1;
      if (depth > MAX_BLOCK_DEPTH) {
        const { line, column } = lineCol(source, start);
        return { message: `Blocks are nested more than ${MAX_BLOCK_DEPTH} levels deep at line ${line}, column ${column}.` };
      }
    } else if (inner.startsWith('/')) {
      depth = Math.max(0, depth - 1);
    }
    from = end;
  }
}

/** Only known variables, as `{{var}}`, `{{{var}}}`, `{{#if var}}` and `{{#unless var}}`. */
function walk(statements) {
  for (const statement of statements) {
    const problem = check(statement);
    if (problem) return problem;
  }
  return null;
}

function at(node, message) {
  const line = node.loc?.start.line ?? 1;
  const column = (node.loc?.start.column ?? 0) + 1;
  // The position goes with the error, not into its text (the page shows it once).
  return { message, line, column };
}

function check(node) {
  switch (node.type) {
    case 'ContentStatement':
    case 'CommentStatement':
      return null;
    case 'MustacheStatement':
      if (node.params.length > 0 || node.hash) {
        const name = node.path.original ?? '';
        return at(node, `{{${name} …}} calls a helper; only plain variables such as {{name}} and {{#if name}} blocks are supported.`);
      }
      return variable(node, node.path);
    case 'BlockStatement': {
      const name = node.path.type === 'PathExpression' ? node.path.original : '';
      if (name !== 'if' && name !== 'unless') {
        return at(
          node,
          VARIABLES.includes(name)
            ? `{{#${name}}} blocks are not supported; write {{#if ${name}}} … {{/if}}.`
            : `{{#${name}}} blocks are not supported; only {{#if variable}} and {{#unless variable}} are.`,
        );
      }
      if (node.params.length !== 1 || node.hash || (node.program?.blockParams?.length ?? 0) > 0) {
        return at(node, `{{#${name}}} takes exactly one variable, as in {{#${name} identityId}}.`);
      }
      return variable(node, node.params[0]) ?? (node.program ? walk(node.program.body) : null) ?? (node.inverse ? walk(node.inverse.body) : null);
    }
    case 'PartialStatement':
    case 'PartialBlockStatement':
      return at(node, 'Partials ({{> name}}) are not supported in comment templates.');
    case 'Decorator':
    case 'DecoratorBlock':
      return at(node, 'Decorators ({{* name}}) are not supported in comment templates.');
    default:
      return at(node, 'This tag is not supported in comment templates.');
  }
}

function variable(node, path) {
  if (path.type !== 'PathExpression') {
    return at(node, 'Only plain variables such as {{name}} are available.');
  }
  const raw = path.original;
  if (path.data) return at(node, `{{${raw}}} is a data variable; only the listed variables are available.`);
  if (path.parts.length === 0) return at(node, `{{${raw}}} is not available; use a variable such as {{name}}.`);
  if (path.parts.length !== 1 || path.depth !== 0 || path.parts[0] !== raw) {
    return at(node, `{{${raw}}} is a path; only plain variables such as {{name}} are available (no dots, slashes, ../ or @root).`);
  }
  if (VARIABLES.includes(raw)) return null;
  return at(node, unknownVariableMessage(raw));
}

function unknownVariableMessage(name) {
  const list = VARIABLES.join(', ');
  const lower = name.toLowerCase();
  const sameLetters = VARIABLES.find((known) => known.toLowerCase() === lower && /^[\x00-\x7f]*$/.test(name));
  if (sameLetters) {
    return `Unknown variable {{${name}}}: variable names are case-sensitive, did you mean {{${sameLetters}}}?`;
  }
  let best = null;
  for (const known of VARIABLES) {
    const distance = editDistance(known, name);
    if (distance <= 2 && (best === null || distance < best.distance)) best = { known, distance };
  }
  if (best) return `Unknown variable {{${name}}}: did you mean {{${best.known}}}? Available: ${list}.`;
  return `Unknown variable {{${name}}}. Available: ${list}.`;
}

function editDistance(a, b) {
  const bs = [...b];
  let previous = Array.from({ length: bs.length + 1 }, (_, i) => i);
  let i = 0;
  for (const ca of a) {
    const current = [i + 1];
    for (let j = 0; j < bs.length; j += 1) {
      current.push(Math.min(previous[j] + (ca === bs[j] ? 0 : 1), previous[j + 1] + 1, current[j] + 1));
    }
    previous = current;
    i += 1;
  }
  return previous[bs.length];
}
