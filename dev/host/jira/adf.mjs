// Structural validation of Atlassian Document Format (version 1), as Jira applies it to comment
// bodies: the root is `{ type: "doc", version: 1, content }`, every node has a known type in an
// allowed place, text nodes carry non-empty text, and marks are known. Jira answers any
// violation with 400 and `errorMessages: ["INVALID_INPUT"]`.

const INLINE = new Set(['text', 'hardBreak', 'mention', 'emoji', 'date', 'status', 'inlineCard']);
const LIST_ITEM_CHILDREN = ['paragraph', 'bulletList', 'orderedList', 'codeBlock', 'mediaSingle', 'taskList'];
const NESTED_BLOCKS = [
  'paragraph',
  'heading',
  'bulletList',
  'orderedList',
  'codeBlock',
  'blockquote',
  'rule',
  'panel',
  'mediaSingle',
  'mediaGroup',
  'decisionList',
  'taskList',
  'blockCard',
];
const TOP_BLOCKS = [...NESTED_BLOCKS, 'table', 'expand'];

/** Per node type: allowed child types (null = leaf), required attributes, whether content may be empty. */
const NODES = {
  doc: { children: TOP_BLOCKS },
  paragraph: { children: [...INLINE], allowEmpty: true },
  heading: { children: [...INLINE], allowEmpty: true, attrs: { level: (v) => Number.isInteger(v) && v >= 1 && v <= 6 } },
  bulletList: { children: ['listItem'] },
  orderedList: { children: ['listItem'], optionalAttrs: { order: (v) => Number.isInteger(v) && v >= 0 } },
  listItem: { children: LIST_ITEM_CHILDREN },
  blockquote: { children: ['paragraph', 'bulletList', 'orderedList', 'codeBlock', 'mediaSingle', 'mediaGroup'] },
  codeBlock: { children: ['text'], allowEmpty: true, noMarks: true, optionalAttrs: { language: (v) => typeof v === 'string' } },
  rule: { children: null },
  panel: {
    children: ['paragraph', 'heading', 'bulletList', 'orderedList', 'blockCard', 'codeBlock', 'mediaGroup', 'mediaSingle', 'decisionList', 'taskList', 'rule'],
    attrs: { panelType: (v) => ['info', 'note', 'tip', 'warning', 'error', 'success', 'custom'].includes(v) },
  },
  table: { children: ['tableRow'] },
  tableRow: { children: ['tableHeader', 'tableCell'] },
  tableHeader: { children: NESTED_BLOCKS },
  tableCell: { children: NESTED_BLOCKS },
  expand: { children: NESTED_BLOCKS, optionalAttrs: { title: (v) => typeof v === 'string' } },
  mediaSingle: { children: ['media'] },
  mediaGroup: { children: ['media'] },
  media: { children: null, attrs: { type: (v) => ['file', 'link', 'external'].includes(v) } },
  decisionList: { children: ['decisionItem'] },
  decisionItem: { children: [...INLINE], allowEmpty: true },
  taskList: { children: ['taskItem', 'taskList'] },
  taskItem: { children: [...INLINE], allowEmpty: true, attrs: { state: (v) => v === 'TODO' || v === 'DONE' } },
  blockCard: { children: null, attrs: { url: (v) => typeof v === 'string' && v !== '' } },
  text: { children: null },
  hardBreak: { children: null },
  mention: { children: null, attrs: { id: (v) => typeof v === 'string' && v !== '' } },
  emoji: { children: null, attrs: { shortName: (v) => typeof v === 'string' && v !== '' } },
  date: { children: null, attrs: { timestamp: (v) => typeof v === 'string' && /^\d+$/.test(v) } },
  status: { children: null, attrs: { text: (v) => typeof v === 'string', color: (v) => ['neutral', 'purple', 'blue', 'red', 'yellow', 'green'].includes(v) } },
  inlineCard: { children: null, attrs: { url: (v) => typeof v === 'string' && v !== '' } },
};

const MARKS = {
  strong: {},
  em: {},
  underline: {},
  strike: {},
  code: {},
  link: { href: (v) => typeof v === 'string' && v !== '' },
  subsup: { type: (v) => v === 'sub' || v === 'sup' },
  textColor: { color: (v) => typeof v === 'string' && /^#[0-9a-fA-F]{6}$/.test(v) },
};

const NODE_KEYS = new Set(['type', 'content', 'attrs', 'marks', 'text', 'version']);

/** Returns a list of problems (empty when `doc` is a valid ADF document). */
export function validateAdf(doc) {
  const problems = [];
  if (!isObject(doc)) return ['the document is not an object'];
  if (doc.type !== 'doc') problems.push(`root type is ${JSON.stringify(doc.type)}, not "doc"`);
  if (doc.version !== 1) problems.push(`version is ${JSON.stringify(doc.version)}, not 1`);
  if (!Array.isArray(doc.content)) problems.push('root content is not an array');
  if (problems.length) return problems;
  checkNode(doc, 'doc', problems, true);
  return problems;
}

function checkNode(node, at, problems, root = false) {
  if (!isObject(node)) {
    problems.push(`${at}: a node must be an object`);
    return;
  }
  const spec = NODES[node.type];
  if (!spec || (node.type === 'doc' && !root)) {
    problems.push(`${at}: unknown node type ${JSON.stringify(node.type)}`);
    return;
  }
  for (const key of Object.keys(node)) {
    if (!NODE_KEYS.has(key) || (key === 'version' && !root)) problems.push(`${at}: unexpected key "${key}"`);
  }
  checkAttrs(node, spec, at, problems);
  if (node.type === 'text') {
    if (typeof node.text !== 'string' || node.text.length === 0) {
      problems.push(`${at}: a text node must have non-empty text`);
    }
    if (node.marks !== undefined) checkMarks(node.marks, at, problems);
    return;
  }
  if (node.text !== undefined) problems.push(`${at}: only text nodes carry text`);
  if (node.marks !== undefined) problems.push(`${at}: ${node.type} nodes carry no marks`);
  if (spec.children === null) {
    if (node.content !== undefined) problems.push(`${at}: ${node.type} has no content`);
    return;
  }
  if (node.content === undefined && spec.allowEmpty) return;
  if (!Array.isArray(node.content)) {
    problems.push(`${at}: content must be an array`);
    return;
  }
  if (node.content.length === 0 && !spec.allowEmpty && !root) {
    problems.push(`${at}: ${node.type} must not be empty`);
  }
  node.content.forEach((child, i) => {
    const where = `${at}.content[${i}]`;
    if (isObject(child) && NODES[child.type] && !spec.children.includes(child.type)) {
      problems.push(`${where}: ${child.type} is not allowed inside ${node.type}`);
      return;
    }
    if (spec.noMarks && isObject(child) && child.marks !== undefined) {
      problems.push(`${where}: text inside ${node.type} carries no marks`);
    }
    checkNode(child, where, problems);
  });
}

function checkAttrs(node, spec, at, problems) {
  const required = spec.attrs ?? {};
  const optional = spec.optionalAttrs ?? {};
  if (node.attrs === undefined) {
    if (Object.keys(required).length) problems.push(`${at}: ${node.type} needs attrs`);
    return;
  }
  if (!isObject(node.attrs)) {
    problems.push(`${at}: attrs must be an object`);
    return;
  }
  for (const [name, ok] of Object.entries(required)) {
    if (!ok(node.attrs[name])) problems.push(`${at}: attrs.${name} is invalid`);
  }
  for (const [name, ok] of Object.entries(optional)) {
    if (node.attrs[name] !== undefined && node.attrs[name] !== null && !ok(node.attrs[name])) {
      problems.push(`${at}: attrs.${name} is invalid`);
    }
  }
}

function checkMarks(marks, at, problems) {
  if (!Array.isArray(marks)) {
    problems.push(`${at}: marks must be an array`);
    return;
  }
  const seen = new Set();
  for (const [i, mark] of marks.entries()) {
    const where = `${at}.marks[${i}]`;
    const spec = isObject(mark) ? MARKS[mark.type] : undefined;
    if (!spec) {
      problems.push(`${where}: unknown mark ${JSON.stringify(mark?.type)}`);
      continue;
    }
    if (seen.has(mark.type)) problems.push(`${where}: duplicate ${mark.type} mark`);
    seen.add(mark.type);
    for (const [name, ok] of Object.entries(spec)) {
      if (!ok(mark.attrs?.[name])) problems.push(`${where}: attrs.${name} is invalid`);
    }
  }
  if (seen.has('code') && [...seen].some((t) => t !== 'code' && t !== 'link')) {
    problems.push(`${at}: the code mark combines only with link`);
  }
}

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
