import { describe, expect, it } from 'vitest';
import { adfToHtml, adfToText, escapeHtml } from '../shared/adf.js';

const doc = (...content) => ({ type: 'doc', version: 1, content });
const p = (...content) => ({ type: 'paragraph', content });
const text = (t, marks) => (marks ? { type: 'text', text: t, marks: marks.map((type) => ({ type })) } : { type: 'text', text: t });

describe('adfToHtml', () => {
  it('renders paragraphs, hard breaks and bold text', () => {
    const adf = doc(
      p(text('✅ '), text('Verification passed', ['strong']), text(' — proceed')),
      p(text('Identity ID: 65a1'), { type: 'hardBreak' }, text('Session ID: 6740')),
    );
    expect(adfToHtml(adf)).toBe('<p>✅ <strong>Verification passed</strong> — proceed</p><p>Identity ID: 65a1<br>Session ID: 6740</p>');
  });

  it('escapes every text, so a template cannot inject markup', () => {
    const adf = doc(p(text('<img src=x onerror="alert(1)"> & \'quotes\'', ['strong'])));
    expect(adfToHtml(adf)).toBe('<p><strong>&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;quotes&#39;</strong></p>');
  });

  it('nests several marks and ignores unknown ones', () => {
    expect(adfToHtml(doc(p(text('x', ['strong', 'em', 'link']))))).toBe('<p><em><strong>x</strong></em></p>');
  });

  it('keeps the text of unknown nodes without their markup', () => {
    const adf = doc({ type: 'panel', attrs: { panelType: 'info' }, content: [p(text('inside'))] }, { type: 'mention', text: '@Jane' });
    expect(adfToHtml(adf)).toBe('<p>inside</p>@Jane');
  });

  it('renders nothing for what is not a document', () => {
    expect(adfToHtml(null)).toBe('');
    expect(adfToHtml({ type: 'paragraph', content: [] })).toBe('');
    expect(adfToHtml('<p>hi</p>')).toBe('');
  });

  it('survives malformed content', () => {
    expect(adfToHtml({ type: 'doc', content: [null, 5, p(null, text(undefined))] })).toBe('<p></p>');
  });

  it('stops at absurd nesting instead of overflowing the stack', () => {
    let node = text('deep');
    for (let i = 0; i < 10_000; i += 1) node = { type: 'paragraph', content: [node] };
    expect(() => adfToHtml(doc(node))).not.toThrow();
  });
});

describe('adfToText', () => {
  it('joins paragraphs and hard breaks with newlines', () => {
    expect(adfToText(doc(p(text('a'), { type: 'hardBreak' }, text('b')), p(text('c'))))).toBe('a\nb\nc');
  });
});

describe('escapeHtml', () => {
  it('escapes the five special characters', () => {
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });
});
