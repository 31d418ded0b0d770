// Renders the ADF documents the core produces (paragraphs, hard breaks, bold text) to a small,
// safe HTML string for the comment preview. Every text is escaped; unknown nodes keep their text
// and lose their markup, so nothing a template author writes can become live HTML.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const MARK_TAGS = { strong: 'strong', em: 'em', code: 'code', underline: 'u', strike: 's' };

function renderText(node) {
  let html = escapeHtml(typeof node.text === 'string' ? node.text : '');
  const marks = Array.isArray(node.marks) ? node.marks : [];
  for (const mark of marks) {
    const tag = mark && MARK_TAGS[mark.type];
    if (tag) html = `<${tag}>${html}</${tag}>`;
  }
  return html;
}

function renderChildren(node, depth) {
  if (!Array.isArray(node.content)) return '';
  return node.content.map((child) => renderNode(child, depth + 1)).join('');
}

function renderNode(node, depth) {
  if (!node || typeof node !== 'object' || depth > 50) return '';
  switch (node.type) {
    case 'text':
      return renderText(node);
    case 'hardBreak':
      return '<br>';
    case 'paragraph':
      return `<p>${renderChildren(node, depth)}</p>`;
    case 'doc':
      return renderChildren(node, depth);
    default:
      return renderChildren(node, depth) || (typeof node.text === 'string' ? escapeHtml(node.text) : '');
  }
}

/** HTML for an `AdfDoc`; "" for anything that is not a document. */
export function adfToHtml(doc) {
  if (!doc || typeof doc !== 'object' || doc.type !== 'doc') return '';
  return renderNode(doc, 0);
}

/** The plain text of an ADF document, lines separated by "\n" (for accessible names and tests). */
export function adfToText(doc) {
  if (!doc || typeof doc !== 'object' || doc.type !== 'doc') return '';
  const paragraphs = [];
  const walk = (node, out) => {
    if (!node || typeof node !== 'object') return;
    if (node.type === 'text' && typeof node.text === 'string') out.push(node.text);
    else if (node.type === 'hardBreak') out.push('\n');
    if (Array.isArray(node.content)) node.content.forEach((c) => walk(c, out));
  };
  for (const block of Array.isArray(doc.content) ? doc.content : []) {
    const out = [];
    walk(block, out);
    paragraphs.push(out.join(''));
  }
  return paragraphs.join('\n');
}
