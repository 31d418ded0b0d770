import React, { useEffect, useRef, useState } from 'react';
import Button from '@atlaskit/button/default/button';
import TextArea from '@atlaskit/textarea';
import { adfToHtml } from '../shared/adf.js';
import { call } from '../shared/bridge.js';
import { FieldShell } from '../shared/components.jsx';
import { fieldErrorText } from '../shared/fields.js';
import { useDebounced } from '../shared/hooks.js';
import { OUTCOME_LABELS, VARIABLE_DESCRIPTIONS } from './logic.js';

const COMMENT_LABELS = {
  passed: 'Comment when verification passes',
  failed: 'Comment when verification fails',
  manualReview: 'Comment when manual review is required',
};

/**
 * One outcome's comment template: the text, variable chips that insert at the caret, and a
 * live preview rendered by the core (`admin.previewComment`) with its validation errors.
 * @param {{ outcome: import('../../src/generated/core.js').Outcome, value: string, errors: import('../shared/types.js').FieldError[],
 *   onChange: (value: string) => void, variables: string[] }} props
 */
export function TemplateEditor({ outcome, value, errors, onChange, variables }) {
  const path = `templates.${outcome}`;
  const area = useRef(/** @type {HTMLTextAreaElement | null} */ (null));
  const caret = useRef(/** @type {number | null} */ (null));
  const debounced = useDebounced(value, 400);
  // The last preview stays shown while the next one loads.
  const [preview, setPreview] = useState(
    /** @type {{ state: 'loading' | 'ready' | 'error', html?: string, errors?: import('../shared/types.js').FieldError[], error?: import('../shared/types.js').ResolverError }} */ ({
      state: 'loading',
    }),
  );
  const latest = useRef(0);

  useEffect(() => {
    const mine = ++latest.current;
    setPreview((p) => ({ ...p, state: 'loading' }));
    call('admin.previewComment', { outcome, template: debounced }).then((answer) => {
      if (mine !== latest.current) return; // a newer text is being previewed
      if (answer.ok) {
        const list = Array.isArray(answer.data?.errors) ? answer.data.errors : [];
        setPreview({ state: 'ready', html: adfToHtml(answer.data?.adf), errors: list });
      } else {
        setPreview({ state: 'error', error: answer.error });
      }
    });
  }, [outcome, debounced]);

  // Put the caret back after an inserted variable once React has re-rendered the text.
  useEffect(() => {
    if (caret.current !== null && area.current) {
      area.current.focus();
      area.current.setSelectionRange(caret.current, caret.current);
      caret.current = null;
    }
  }, [value]);

  const insert = (name) => {
    const el = area.current;
    const token = `{{${name}}}`;
    const start = el ? el.selectionStart : value.length;
    const end = el ? el.selectionEnd : value.length;
    caret.current = start + token.length;
    onChange(value.slice(0, start) + token + value.slice(end));
  };

  const previewErrors = preview.state === 'ready' ? preview.errors : [];
  return (
    <div className="template-editor" data-testid={`template-${outcome}`}>
      <div className="template-columns">
        <div className="stack">
          <FieldShell path={path} label={COMMENT_LABELS[outcome]} errors={errors}>
            {(p) => (
              <TextArea
                {...p}
                ref={area}
                name={path}
                value={value}
                minimumRows={5}
                resize="vertical"
                isMonospaced
                spellCheck={false}
                onChange={(e) => onChange(e.target.value)}
              />
            )}
          </FieldShell>
          <div className="chips" role="group" aria-label={`Insert a variable into the ${OUTCOME_LABELS[outcome].toLowerCase()} comment`}>
            {variables
              .map((name) => [name, VARIABLE_DESCRIPTIONS[name] ?? name])
              .map(([name, description]) => (
                <Button key={name} spacing="compact" onClick={() => insert(name)} title={description} aria-label={`Insert ${name}: ${description}`}>
                  {`{{${name}}}`}
                </Button>
              ))}
          </div>
        </div>
        <div className="stack">
          <span className="preview-label" id={`${path}-preview-label`}>
            Preview
          </span>
          <div
            className="comment-preview"
            role="region"
            aria-labelledby={`${path}-preview-label`}
            aria-busy={preview.state === 'loading'}
            data-testid={`preview-${outcome}`}
          >
            {preview.state === 'error' ? (
              <p className="muted">Preview unavailable: {preview.error.message}</p>
            ) : preview.html ? (
              <div className="adf" dangerouslySetInnerHTML={{ __html: preview.html }} />
            ) : preview.state === 'ready' && previewErrors.length === 0 ? (
              <p className="muted">The comment is empty.</p>
            ) : null}
          </div>
          {previewErrors.length ? (
            <ul className="preview-errors" data-testid={`preview-errors-${outcome}`} aria-live="polite">
              {previewErrors.map((e, i) => (
                <li key={i} className="error-text">
                  {fieldErrorText(e)}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      </div>
    </div>
  );
}
