//! Comment templates: validation with positions, and rendering to Atlassian Document Format.
//!
//! Templates are a small, safe subset of Handlebars: `{{var}}`, `{{{var}}}` and
//! `{{#if var}}…{{else}}…{{/if}}` / `{{#unless var}}…{{/unless}}` over [`VARIABLES`]. The
//! rendered text becomes ADF: blank lines separate paragraphs, single newlines become
//! `hardBreak`s and `**bold**` written in the template becomes a `strong` mark.
//!
//! Variable values come from the employee, the agent and Incode, so they are always literal
//! text. Before rendering, every value is cleaned (control and bidi characters become spaces,
//! at most [`MAX_VALUE_CHARS`] characters) and wrapped in two private-use sentinel characters;
//! the ADF step copies everything between sentinels verbatim, so a value can never open a
//! paragraph, a line break or a mark, whatever it contains. Nothing is HTML-escaped: ADF is JSON.

use std::borrow::Cow;

use crate::model::{CoreError, FieldError, Outcome, PerOutcome};
mod compiled;

pub use compiled::Node;
use handlebars::template::{HelperTemplate, Parameter, Template, TemplateElement};
use handlebars::{Path, PathSeg, TemplateError, TemplateErrorReason};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// The variables a template may use, in the order the admin page lists them.
pub const VARIABLES: [&str; 10] = [
    "name",
    "email",
    "identityId",
    "sessionId",
    "outcome",
    "agent",
    "issueKey",
    "time",
    "delivery",
    "status",
];

/// Longest template accepted, in characters.
pub const MAX_TEMPLATE_CHARS: usize = 4000;
/// Longest variable value rendered, in characters (longer ones end with an ellipsis).
pub const MAX_VALUE_CHARS: usize = 1000;
/// Longest comment text produced, in characters: Jira rejects comments over 32,767 characters.
pub const MAX_COMMENT_CHARS: usize = 30_000;
/// Deepest `{{#if}}` nesting accepted; real templates use one or two levels.
const MAX_BLOCK_DEPTH: usize = 8;
/// At most this many problems are reported for one template.
const MAX_ERRORS: usize = 20;

/// Marks the start of a variable value in rendered text (Unicode private use).
const VALUE_START: char = '\u{E000}';
/// Marks the end of a variable value in rendered text (Unicode private use).
const VALUE_END: char = '\u{E001}';

/// Values a comment template may use.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct TemplateVars {
    pub name: String,
    pub email: String,
    pub identity_id: String,
    pub session_id: String,
    /// "passed" | "failed" | "manual review".
    pub outcome: String,
    pub agent: String,
    pub issue_key: String,
    /// "YYYY-MM-DD HH:MM:SS UTC".
    pub time: String,
    /// "SMS" | "email".
    pub delivery: String,
    /// The timestamped status text.
    pub status: String,
}

impl TemplateVars {
    /// A variable by its template name ("" for a name that is not one of [`VARIABLES`]).
    pub fn get(&self, name: &str) -> &str {
        match name {
            "name" => &self.name,
            "email" => &self.email,
            "identityId" => &self.identity_id,
            "sessionId" => &self.session_id,
            "outcome" => &self.outcome,
            "agent" => &self.agent,
            "issueKey" => &self.issue_key,
            "time" => &self.time,
            "delivery" => &self.delivery,
            "status" => &self.status,
            _ => "",
        }
    }

    /// Every value cleaned and, when not empty, wrapped in the value sentinels. Empty values stay
    /// empty so that `{{#if var}}` still sees them as false.
    fn prepared(&self) -> TemplateVars {
        let wrap = |value: &str| {
            let clean = clean_value(value);
            if clean.is_empty() {
                clean
            } else {
                let mut wrapped = String::with_capacity(clean.len() + 6);
                wrapped.push(VALUE_START);
                wrapped.push_str(&clean);
                wrapped.push(VALUE_END);
                wrapped
            }
        };
        TemplateVars {
            name: wrap(&self.name),
            email: wrap(&self.email),
            identity_id: wrap(&self.identity_id),
            session_id: wrap(&self.session_id),
            outcome: wrap(&self.outcome),
            agent: wrap(&self.agent),
            issue_key: wrap(&self.issue_key),
            time: wrap(&self.time),
            delivery: wrap(&self.delivery),
            status: wrap(&self.status),
        }
    }
}

/// A value as it may appear in a comment: sentinels removed, control, line-separator and bidi
/// override characters turned into spaces (a bidi override in a name could visually reorder
/// the verdict that follows it), and at most [`MAX_VALUE_CHARS`] characters, the last one an
/// ellipsis when the value was longer.
pub fn clean_value(value: &str) -> String {
    // Most values are short printable ASCII, which is kept as it is.
    if value.len() <= MAX_VALUE_CHARS && value.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len().min(4 * MAX_VALUE_CHARS));
    let mut kept = 0usize;
    let mut cut = 0usize;
    for ch in value.chars() {
        if ch == VALUE_START || ch == VALUE_END {
            continue;
        }
        if kept == MAX_VALUE_CHARS {
            out.truncate(cut);
            out.push('…');
            return out;
        }
        if kept == MAX_VALUE_CHARS - 1 {
            cut = out.len();
        }
        out.push(if is_unsafe_char(ch) { ' ' } else { ch });
        kept += 1;
    }
    out
}

/// Characters that must not reach a comment: C0/C1 controls (newlines included), the Unicode
/// line and paragraph separators, and the bidirectional formatting characters.
fn is_unsafe_char(ch: char) -> bool {
    ch.is_control()
        || matches!(
            ch,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

// ---------------------------------------------------------------------------------------------
// Default templates

const DEFAULT_PASSED: &str = include_str!("template/default-passed.hbs");

const DEFAULT_FAILED: &str = include_str!("template/default-failed.hbs");

const DEFAULT_MANUAL_REVIEW: &str = include_str!("template/default-manual-review.hbs");

/// The comment template used when an admin leaves an outcome's template blank.
pub fn default_template(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => DEFAULT_PASSED,
        Outcome::Failed => DEFAULT_FAILED,
        Outcome::ManualReview => DEFAULT_MANUAL_REVIEW,
    }
}

/// The template that applies: the default when `source` is blank.
pub fn effective_template(source: &str, outcome: Outcome) -> &str {
    if source.trim().is_empty() {
        default_template(outcome)
    } else {
        source
    }
}

// ---------------------------------------------------------------------------------------------
// Atlassian Document Format

/// An ADF document (`{ type: "doc", version: 1, content }`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AdfDoc {
    #[serde(rename = "type")]
    pub kind: AdfDocKind,
    pub version: AdfVersion,
    pub content: Vec<AdfNode>,
}

impl AdfDoc {
    pub fn new(content: Vec<AdfNode>) -> Self {
        AdfDoc {
            kind: AdfDocKind::Doc,
            version: AdfVersion,
            content,
        }
    }
}

/// The document node's type, always `"doc"`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum AdfDocKind {
    #[serde(rename = "doc")]
    Doc,
}

/// The ADF version, always `1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdfVersion;

impl Serialize for AdfVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(1)
    }
}

// In TypeScript, the literal type `1`.
#[cfg(test)]
impl ts_rs::TS for AdfVersion {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "1".to_owned()
    }
    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }
}

impl<'de> Deserialize<'de> for AdfVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let version = f64::deserialize(d)?;
        if version == 1.0 {
            Ok(AdfVersion)
        } else {
            Err(serde::de::Error::custom("ADF version must be 1"))
        }
    }
}

/// One ADF node; only the kinds the core produces are built here (paragraph, text, hardBreak).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
pub struct AdfNode {
    #[serde(rename = "type")]
    pub kind: Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub marks: Option<Vec<AdfMark>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub content: Option<Vec<AdfNode>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(test, ts(type = "Record<string, unknown>"))]
    pub attrs: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A text mark (`{ type: "strong" }`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AdfMark {
    #[serde(rename = "type")]
    pub kind: Cow<'static, str>,
}

impl AdfNode {
    pub fn paragraph(content: Vec<AdfNode>) -> Self {
        AdfNode {
            kind: Cow::Borrowed("paragraph"),
            text: None,
            marks: None,
            content: Some(content),
            attrs: None,
        }
    }

    pub fn text(text: impl Into<String>, strong: bool) -> Self {
        AdfNode {
            kind: Cow::Borrowed("text"),
            text: Some(text.into()),
            marks: strong.then(|| {
                vec![AdfMark {
                    kind: Cow::Borrowed("strong"),
                }]
            }),
            content: None,
            attrs: None,
        }
    }

    pub fn hard_break() -> Self {
        AdfNode {
            kind: Cow::Borrowed("hardBreak"),
            text: None,
            marks: None,
            content: None,
            attrs: None,
        }
    }

    fn is_text(&self) -> bool {
        self.kind == "text"
    }

    fn is_strong(&self) -> bool {
        self.marks.as_ref().is_some_and(|m| !m.is_empty())
    }
}

/// Pieces of one rendered line, before marks are paired.
enum Piece {
    Text(String),
    Bold,
    Break,
}

struct Line {
    pieces: Vec<Piece>,
    /// Holds a variable value, a `**`, or non-blank template text.
    has_content: bool,
}

impl Line {
    fn new() -> Self {
        Line {
            pieces: Vec::new(),
            has_content: false,
        }
    }

    fn push_text(&mut self, text: &str) {
        if let Some(Piece::Text(last)) = self.pieces.last_mut() {
            last.push_str(text);
        } else {
            self.pieces.push(Piece::Text(text.to_owned()));
        }
    }
}

/// Characters outside a variable's value that are not plain text.
fn is_special(ch: char) -> bool {
    matches!(ch, VALUE_START | VALUE_END | '\r' | '\n' | '*') || is_unsafe_char(ch)
}

/// Splits rendered text into lines of pieces. Between sentinels everything is literal text;
/// outside them `\n` (or `\r\n`, or a lone `\r`) ends a line and `**` is a bold marker.
fn split_lines(rendered: &str) -> Vec<Line> {
    let mut lines = vec![Line::new()];
    let mut rest = rendered;
    while let Some(ch) = rest.chars().next() {
        let Some(line) = lines.last_mut() else {
            break;
        };
        let after = rest.get(ch.len_utf8()..).unwrap_or("");
        rest = match ch {
            VALUE_START => {
                let (value, tail) = after.split_at(after.find(VALUE_END).unwrap_or(after.len()));
                if !value.is_empty() {
                    line.push_text(value);
                    line.has_content = true;
                }
                tail.strip_prefix(VALUE_END).unwrap_or(tail)
            }
            VALUE_END => after,
            '\r' => {
                lines.push(Line::new());
                after.strip_prefix('\n').unwrap_or(after)
            }
            '\n' => {
                lines.push(Line::new());
                after
            }
            '*' if after.starts_with('*') => {
                line.pieces.push(Piece::Bold);
                line.has_content = true;
                after.get(1..).unwrap_or("")
            }
            c if is_unsafe_char(c) => {
                line.push_text(" ");
                after
            }
            _ => {
                // Plain text (a lone `*` included) up to the next character that is not.
                let end = ch.len_utf8() + after.find(is_special).unwrap_or(after.len());
                let (text, tail) = rest.split_at(end);
                if !text.chars().all(char::is_whitespace) {
                    line.has_content = true;
                }
                line.push_text(text);
                tail
            }
        };
    }
    lines
}

/// Turns rendered template text into an ADF document; `fallback` is the one line used when the
/// template produced no text at all (Jira rejects an empty comment).
fn to_adf(rendered: &str, fallback: &str) -> AdfDoc {
    let mut paragraphs: Vec<Vec<Piece>> = Vec::new();
    let mut current: Vec<Piece> = Vec::new();
    for line in split_lines(rendered) {
        if line.has_content {
            if !current.is_empty() {
                current.push(Piece::Break);
            }
            current.extend(line.pieces);
        } else if !current.is_empty() {
            paragraphs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }

    let mut budget = MAX_COMMENT_CHARS;
    let mut content: Vec<AdfNode> = paragraphs
        .into_iter()
        .filter_map(|pieces| build_paragraph(pieces, &mut budget))
        .collect();
    if content.is_empty() {
        content.push(AdfNode::paragraph(vec![AdfNode::text(fallback, false)]));
    }
    AdfDoc::new(content)
}

/// One paragraph's nodes: `**` markers are paired (an odd last one stays literal text), text
/// runs with the same marks are merged, empty text never appears, breaks at either end are
/// dropped. `None` when nothing visible is left.
fn build_paragraph(mut pieces: Vec<Piece>, budget: &mut usize) -> Option<AdfNode> {
    let markers = pieces.iter().filter(|p| matches!(p, Piece::Bold)).count();
    if markers % 2 == 1 {
        if let Some(last) = pieces.iter_mut().rev().find(|p| matches!(p, Piece::Bold)) {
            *last = Piece::Text("**".to_owned());
        }
    }

    let mut nodes: Vec<AdfNode> = Vec::new();
    let mut strong = false;
    for piece in pieces {
        match piece {
            Piece::Bold => strong = !strong,
            Piece::Break => nodes.push(AdfNode::hard_break()),
            Piece::Text(text) => {
                let text = take_budget(&text, budget);
                if text.is_empty() {
                    continue;
                }
                match nodes.last_mut() {
                    Some(last) if last.is_text() && last.is_strong() == strong => {
                        if let Some(existing) = last.text.as_mut() {
                            existing.push_str(&text);
                        }
                    }
                    _ => nodes.push(AdfNode::text(text, strong)),
                }
            }
        }
    }
    while nodes.last().is_some_and(|n| !n.is_text()) {
        nodes.pop();
    }
    let first_text = nodes.iter().position(AdfNode::is_text)?;
    nodes.drain(..first_text);
    Some(AdfNode::paragraph(nodes))
}

/// Takes as much of `text` as the remaining comment budget allows; the text that exhausts the
/// budget ends with an ellipsis.
fn take_budget(text: &str, budget: &mut usize) -> String {
    if *budget == 0 {
        return String::new();
    }
    let len = text.chars().count();
    if len <= *budget {
        *budget -= len;
        return text.to_owned();
    }
    let mut out: String = text.chars().take(budget.saturating_sub(1)).collect();
    out.push('…');
    *budget = 0;
    out
}

// ---------------------------------------------------------------------------------------------
// Validation

/// Checks a template: length, characters, Handlebars syntax (with line and column), and that it
/// only uses known variables in the supported forms. Errors carry field `""`; callers re-path
/// them. An empty template is valid (it means the default).
pub fn validate_template(source: &str) -> Vec<FieldError> {
    let length = source.chars().count();
    if length > MAX_TEMPLATE_CHARS {
        return vec![FieldError::new(
            "",
            "too_long",
            format!("The template is {length} characters long; the limit is {MAX_TEMPLATE_CHARS}."),
        )];
    }
    if source.trim().is_empty() {
        return Vec::new();
    }
    let mut errors = character_errors(source);
    if !errors.is_empty() {
        return errors;
    }
    if let Some(error) = nesting_error(source) {
        return vec![error];
    }
    match Template::compile(source) {
        Err(error) => vec![syntax_error(source, &error)],
        Ok(template) => {
            let mut walker = Walker {
                source,
                errors: &mut errors,
            };
            walker.template(&template);
            errors.truncate(MAX_ERRORS);
            errors
        }
    }
}

/// Control characters (other than tab and newlines) and the private-use characters the
/// renderer reserves for values.
fn character_errors(source: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (offset, ch) in source.char_indices() {
        let bad = ch == VALUE_START
            || ch == VALUE_END
            || (ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'));
        if bad {
            let (line, column) = line_col(source, offset);
            errors.push(positioned(
                "invalid_character",
                format!(
                    "The template contains the invisible character U+{:04X}; remove it.",
                    u32::from(ch)
                ),
                line,
                column,
            ));
            if errors.len() == MAX_ERRORS {
                break;
            }
        }
    }
    errors
}

/// Rejects deep nesting before the recursive-descent parser sees it: brackets inside a tag
/// (subexpressions, literals) are never valid in these templates, and block nesting is bounded.
fn nesting_error(source: &str) -> Option<FieldError> {
    let mut depth = 0usize;
    let mut rest = source;
    let mut consumed = 0usize;
    while let Some(start) = rest.find("{{") {
        let tag_offset = consumed + start;
        let after = &rest[start + 2..];
        let end = after.find("}}").unwrap_or(after.len());
        let inner = &after[..end];
        let inner_trimmed = inner.trim_start_matches(['{', '~', ' ', '\t', '\r', '\n']);
        if bracket_depth(inner_trimmed) > 2 {
            let (line, column) = line_col(source, tag_offset);
            return Some(positioned(
                "unsupported_expression",
                "This tag nests brackets; only {{variable}} and {{#if variable}} tags are supported."
                    .to_owned(),
                line,
                column,
            ));
        }
        if inner_trimmed.starts_with('#') {
            depth += 1;
            if depth > MAX_BLOCK_DEPTH {
                let (line, column) = line_col(source, tag_offset);
                return Some(positioned(
                    "too_deep",
                    format!("Blocks are nested more than {MAX_BLOCK_DEPTH} levels deep here."),
                    line,
                    column,
                ));
            }
        } else if inner_trimmed.starts_with('/') {
            depth = depth.saturating_sub(1);
        }
        let skip = start + 2 + end;
        consumed += skip;
        rest = &rest[skip..];
    }
    None
}

/// The deepest nesting of `(`, `[` and `{` in a tag's inside.
fn bracket_depth(inner: &str) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for ch in inner.chars() {
        match ch {
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn syntax_error(source: &str, error: &TemplateError) -> FieldError {
    let (hint, position) = match error.reason() {
        TemplateErrorReason::MismatchingClosedHelper(open, close)
        | TemplateErrorReason::MismatchingClosedDecorator(open, close) => (
            format!(
                "{{{{#{}}}}} is closed by {{{{/{}}}}}; close each block with its own name.",
                unquote(open),
                unquote(close)
            ),
            error.pos(),
        ),
        // The parser stops where it noticed the problem, often at a valid tag after an unclosed
        // block: the block itself is the one to name.
        TemplateErrorReason::InvalidSyntax(_) => match (unbalanced_block(source), error.pos()) {
            (Some((offset, hint)), _) => {
                let (line, column) = line_col(source, offset);
                (hint, Some((line as usize, column as usize)))
            }
            (None, Some((line, column))) => {
                let (hint, tag_start) = describe_syntax_problem(source, line, column);
                let position = tag_start.map_or((line, column), |offset| {
                    let (line, column) = line_col(source, offset);
                    (line as usize, column as usize)
                });
                (hint, Some(position))
            }
            (None, None) => ("The template is not valid Handlebars.".to_owned(), None),
        },
        _ => (
            "This tag is not supported; use {{variable}}, {{{variable}}}, {{#if variable}} … {{/if}} or {{#unless variable}} … {{/unless}}.".to_owned(),
            error.pos(),
        ),
    };
    match position {
        Some((line, column)) => {
            let (line, column) = (to_u32(line), to_u32(column));
            // The position travels in `line` and `column`; the page prints it once.
            positioned("template_syntax", hint, line, column)
        }
        None => FieldError::new("", "template_syntax", hint),
    }
}

/// The tag at fault when blocks do not pair up: a closing tag with no block open, or else the
/// innermost block never closed. Byte offset of the tag, and what to do.
fn unbalanced_block(source: &str) -> Option<(usize, String)> {
    let mut open: Vec<(usize, String)> = Vec::new();
    let mut from = 0usize;
    while let Some(found) = source.get(from..).and_then(|rest| rest.find("{{")) {
        let start = from + found;
        let after = source.get(start + 2..).unwrap_or("");
        let end = after.find("}}").unwrap_or(after.len());
        let body = after
            .get(..end)
            .unwrap_or("")
            .trim_start_matches(['{', '~'])
            .trim_start();
        let name = |rest: &str| -> String {
            rest.trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        };
        if let Some(block) = body.strip_prefix('#') {
            open.push((start, name(block)));
        } else if body.starts_with('/') && open.pop().is_none() {
            return Some((
                start,
                "This closing tag has no matching opening block.".to_owned(),
            ));
        }
        from = start + 2 + end;
    }
    open.pop().map(|(offset, name)| {
        (
            offset,
            format!("This {{{{#{name}}}}} block is never closed; add {{{{/{name}}}}} where it should end."),
        )
    })
}

fn unquote(name: &str) -> &str {
    name.trim_matches('"')
}

/// A readable explanation of a parse failure at a position (the parser's own message lists
/// grammar rules, which means nothing to an admin), and the byte offset of the tag at fault.
fn describe_syntax_problem(source: &str, line: usize, column: usize) -> (String, Option<usize>) {
    let offset = offset_of(source, line, column);
    let head = source
        .get(..offset.saturating_add(2).min(source.len()))
        .unwrap_or(source);
    let Some(tag_start) = head.rfind("{{") else {
        return (
            "The template is not valid Handlebars here.".to_owned(),
            None,
        );
    };
    let tag = source.get(tag_start..).unwrap_or("");
    let body = tag
        .trim_start_matches('{')
        .trim_start_matches('~')
        .trim_start();
    let hint = if !tag.contains("}}") {
        "This {{ is never closed with }}.".to_owned()
    } else if let Some(block) = body.strip_prefix('#') {
        let name: String = block
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            "A block needs a name and a variable, as in {{#if name}}.".to_owned()
        } else {
            format!(
                "This {{{{#{name}}}}} block is not valid or is never closed; write {{{{#{name} variable}}}} … {{{{/{name}}}}}."
            )
        }
    } else if body.starts_with('/') {
        "This closing tag has no matching opening block.".to_owned()
    } else if body.starts_with("else") || body.starts_with('^') {
        "{{else}} may only appear inside an {{#if}} or {{#unless}} block.".to_owned()
    } else {
        "This tag is not valid; write a variable as {{name}}.".to_owned()
    };
    (hint, Some(tag_start))
}

struct Walker<'a> {
    source: &'a str,
    errors: &'a mut Vec<FieldError>,
}

impl Walker<'_> {
    fn template(&mut self, template: &Template) {
        for (index, element) in template.elements.iter().enumerate() {
            if self.errors.len() >= MAX_ERRORS {
                return;
            }
            let mapped = template
                .mapping
                .get(index)
                .map(|m| (to_u32(m.0), to_u32(m.1)));
            self.element(element, mapped);
        }
    }

    fn element(&mut self, element: &TemplateElement, mapped: Option<(u32, u32)>) {
        match element {
            TemplateElement::RawString(_) | TemplateElement::Comment(_) => {}
            TemplateElement::Expression(helper) | TemplateElement::HtmlExpression(helper) => {
                self.expression(helper, mapped);
            }
            TemplateElement::HelperBlock(helper) => self.block(helper, mapped),
            TemplateElement::PartialExpression(_) | TemplateElement::PartialBlock(_) => self
                .problem(
                    "unsupported_expression",
                    "Partials ({{> name}}) are not supported in comment templates.".to_owned(),
                    mapped,
                    "{{>",
                ),
            TemplateElement::DecoratorExpression(_) | TemplateElement::DecoratorBlock(_) => self
                .problem(
                    "unsupported_expression",
                    "Decorators ({{* name}}) are not supported in comment templates.".to_owned(),
                    mapped,
                    "{{*",
                ),
            _ => self.problem(
                "unsupported_expression",
                "This tag is not supported in comment templates.".to_owned(),
                mapped,
                "{{",
            ),
        }
    }

    /// `{{var}}` or `{{{var}}}`: a known variable and nothing else.
    fn expression(&mut self, helper: &HelperTemplate, mapped: Option<(u32, u32)>) {
        if helper.params.is_empty() && helper.hash.is_empty() {
            self.variable(&helper.name, mapped);
            return;
        }
        let name = helper.name.as_name().unwrap_or("");
        self.problem(
            "unsupported_helper",
            format!(
                "{{{{{name} …}}}} calls a helper; only plain variables such as {{{{name}}}} and {{{{#if name}}}} blocks are supported."
            ),
            mapped,
            name,
        );
    }

    /// `{{#if var}}` / `{{#unless var}}` with an optional `{{else}}` (or `{{else if var}}`).
    fn block(&mut self, helper: &HelperTemplate, mapped: Option<(u32, u32)>) {
        let name = helper.name.as_name().unwrap_or("");
        if name != "if" && name != "unless" {
            let message = if VARIABLES.contains(&name) {
                format!("{{{{#{name}}}}} blocks are not supported; write {{{{#if {name}}}}} … {{{{/if}}}}.")
            } else {
                format!(
                    "{{{{#{name}}}}} blocks are not supported; only {{{{#if variable}}}} and {{{{#unless variable}}}} are."
                )
            };
            self.problem("unsupported_helper", message, mapped, name);
        } else if helper.params.len() != 1
            || !helper.hash.is_empty()
            || helper.block_param.is_some()
        {
            self.problem(
                "unsupported_expression",
                format!(
                    "{{{{#{name}}}}} takes exactly one variable, as in {{{{#{name} identityId}}}}."
                ),
                mapped,
                name,
            );
        } else if let Some(param) = helper.params.first() {
            self.variable(param, mapped);
        }
        if let Some(inner) = &helper.template {
            self.template(inner);
        }
        if let Some(inverse) = &helper.inverse {
            self.template(inverse);
        }
    }

    /// A plain, known variable name.
    fn variable(&mut self, parameter: &Parameter, mapped: Option<(u32, u32)>) {
        let (code, message, needle) = match parameter {
            Parameter::Path(Path::Relative((segments, raw))) => match segments.as_slice() {
                [PathSeg::Named(name)] if name == raw => {
                    if VARIABLES.contains(&name.as_str()) {
                        return;
                    }
                    ("unknown_variable", unknown_variable_message(name), raw.clone())
                }
                [] => (
                    "unsupported_expression",
                    format!("{{{{{raw}}}}} is not available; use a variable such as {{{{name}}}}."),
                    raw.clone(),
                ),
                _ => (
                    "unsupported_expression",
                    format!(
                        "{{{{{raw}}}}} is a path; only plain variables such as {{{{name}}}} are available (no dots, slashes, ../ or @root)."
                    ),
                    raw.clone(),
                ),
            },
            Parameter::Path(Path::Local((_, _, raw))) => (
                "unsupported_expression",
                format!("{{{{{raw}}}}} is a data variable; only the listed variables are available."),
                raw.clone(),
            ),
            Parameter::Literal(value) => (
                "unsupported_expression",
                format!("{value} is a literal; use a variable such as {{{{name}}}}."),
                value.to_string(),
            ),
            Parameter::Name(name) => (
                "unsupported_expression",
                format!("{{{{{name}}}}} is not a supported variable form."),
                name.clone(),
            ),
            _ => (
                "unsupported_expression",
                "Subexpressions ( … ) are not supported; use a plain variable.".to_owned(),
                "(".to_owned(),
            ),
        };
        self.problem(code, message, mapped, &needle);
    }

    fn problem(&mut self, code: &str, message: String, mapped: Option<(u32, u32)>, needle: &str) {
        let position = mapped.or_else(|| locate_tag(self.source, needle));
        let error = match position {
            Some((line, column)) => positioned(code, message, line, column),
            None => FieldError::new("", code, message),
        };
        self.errors.push(error);
    }
}

fn unknown_variable_message(name: &str) -> String {
    let list = VARIABLES.join(", ");
    let suggestion = VARIABLES
        .iter()
        .find(|known| known.eq_ignore_ascii_case(name))
        .map(|known| (*known, true))
        .or_else(|| {
            VARIABLES
                .iter()
                .map(|known| (*known, edit_distance(known, name)))
                .filter(|(_, distance)| *distance <= 2)
                .min_by_key(|(_, distance)| *distance)
                .map(|(known, _)| (known, false))
        });
    match suggestion {
        Some((known, true)) => format!(
            "Unknown variable {{{{{name}}}}}: variable names are case-sensitive, did you mean {{{{{known}}}}}?"
        ),
        Some((known, false)) => {
            format!("Unknown variable {{{{{name}}}}}: did you mean {{{{{known}}}}}? Available: {list}.")
        }
        None => format!("Unknown variable {{{{{name}}}}}. Available: {list}."),
    }
}

/// Levenshtein distance over characters, for "did you mean" suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let delete = previous.get(j + 1).copied().unwrap_or(0) + 1;
            let insert = current.last().copied().unwrap_or(0) + 1;
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

/// Where a tag mentioning `needle` starts, for elements the parser gave no position: the first
/// `{{ … }}` whose inside contains it.
fn locate_tag(source: &str, needle: &str) -> Option<(u32, u32)> {
    let mut from = 0usize;
    while let Some(found) = source.get(from..).and_then(|rest| rest.find("{{")) {
        let start = from + found;
        let inner_start = start + 2;
        let rest = source.get(inner_start..).unwrap_or("");
        let inner_end = rest.find("}}").unwrap_or(rest.len());
        let inner = rest.get(..inner_end).unwrap_or("");
        if needle.is_empty() || inner.contains(needle) {
            return Some(line_col(source, start));
        }
        from = inner_start + inner_end;
    }
    None
}

/// 1-based line and column (in characters) of a byte offset, counting lines as the parser does.
fn line_col(source: &str, offset: usize) -> (u32, u32) {
    let head = source.get(..offset).unwrap_or(source);
    let line = head.matches('\n').count() + 1;
    let line_start = head.rfind('\n').map_or(0, |i| i + 1);
    let column = head.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (to_u32(line), to_u32(column))
}

/// The byte offset of a 1-based line and column (in characters).
fn offset_of(source: &str, line: usize, column: usize) -> usize {
    let mut offset = 0usize;
    for _ in 1..line {
        match source.get(offset..).and_then(|rest| rest.find('\n')) {
            Some(i) => offset += i + 1,
            None => return source.len(),
        }
    }
    let rest = source.get(offset..).unwrap_or("");
    offset
        + rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i)
}

fn positioned(code: &str, message: String, line: u32, column: u32) -> FieldError {
    FieldError {
        line: Some(line),
        column: Some(column),
        ..FieldError::new("", code, message)
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// The three outcome templates of a settings revision, ready to render.
#[derive(Clone, Debug)]
pub struct CompiledTemplates {
    /// A template that is not usable (it does not compile, or it was saved without its compiled
    /// form) is kept as its error, so the caller can fall back to a plain comment instead of
    /// losing the event; the other outcomes still render.
    nodes: PerOutcome<Result<Usable, CoreError>>,
}

/// An outcome's template, ready to render. A default one is built when it renders: a delivery
/// renders one outcome at most, and building all three defaults cost every delivery.
#[derive(Clone, Debug)]
enum Usable {
    Default,
    Custom(Vec<Node>),
}

impl CompiledTemplates {
    /// Compiles the templates of a revision now, with the template parser (a blank one means the
    /// default). For previews and tests: the webhook renders [`CompiledTemplates::saved`].
    pub fn new(templates: &PerOutcome<String>) -> Self {
        let compile_one = |outcome: Outcome| {
            let source = templates.get(outcome);
            if is_default(source, outcome) {
                return Ok(Usable::Default);
            }
            compile(source)
                .map(|template| Usable::Custom(compiled::from_template(&template)))
                .map_err(|error| {
                    CoreError::new(
                        "template_invalid",
                        format!("templates.{}: {}", outcome.key(), error.message),
                        false,
                    )
                })
        };
        CompiledTemplates {
            nodes: PerOutcome::from_fn(compile_one),
        }
    }

    /// The templates as saved, without the template parser: a default one is built in (compiled
    /// at build time), a custom one is taken from `code`, which saving the settings filled in
    /// ([`template_code`]). A custom template without matching code (saved by an earlier version,
    /// or edited in storage) is a `template_invalid` error for its outcome.
    pub fn saved(templates: &PerOutcome<String>, code: &TemplateCode) -> Self {
        let take = |outcome: Outcome| {
            let source = templates.get(outcome);
            if is_default(source, outcome) {
                return Ok(Usable::Default);
            }
            match code.get(outcome) {
                Some(stored) if stored.of == fingerprint(source) => {
                    Ok(Usable::Custom(stored.nodes.clone()))
                }
                _ => Err(CoreError::new(
                    "template_invalid",
                    format!(
                        "templates.{}: the template has no compiled form; save the settings again",
                        outcome.key()
                    ),
                    false,
                )),
            }
        };
        CompiledTemplates {
            nodes: PerOutcome::from_fn(take),
        }
    }

    /// The comment for an outcome, as ADF; a `template_invalid` error naming the outcome and the
    /// problem when its template is not usable.
    pub fn render(&self, outcome: Outcome, vars: &TemplateVars) -> Result<AdfDoc, CoreError> {
        let text = match self.nodes.get(outcome).as_ref().map_err(Clone::clone)? {
            Usable::Default => render_text(&default_compiled(outcome), &vars.prepared()),
            Usable::Custom(nodes) => render_text(nodes, &vars.prepared()),
        };
        Ok(to_adf(&text, fallback_line(Some(outcome))))
    }
}

/// Whether `source` is an outcome's default template: blank, or the default's own text (saving
/// the settings stores the default's text so the admin page shows what is used).
fn is_default(source: &str, outcome: Outcome) -> bool {
    source.trim().is_empty() || source == default_template(outcome)
}

/// The custom comment templates of a settings revision in compiled form, stored with the
/// settings: the webhook's module has no template parser, so templates are compiled when the
/// settings are saved. `None` for an outcome whose template is the default (built in).
pub type TemplateCode = PerOutcome<Option<StoredTemplate>>;

/// Whether no outcome has stored code (nothing to store).
pub fn no_template_code(code: &TemplateCode) -> bool {
    Outcome::ALL
        .into_iter()
        .all(|outcome| code.get(outcome).is_none())
}

/// One custom template in compiled form, with the fingerprint of the source it came from.
// Stored with the settings: no `deny_unknown_fields`, so a form a later release extends still
// reads (`stored.rs`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct StoredTemplate {
    /// [`fingerprint`] of the template's source.
    pub of: String,
    pub nodes: Vec<Node>,
}

// A node is stored as JSON: a text as a string, a variable as `{"var": name}`, a block as
// `{"if": name, "then": [...], "else": [...]}` (or `"unless"`). Written by hand: `Node` is also
// compiled into the build script, which has no serde.
impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Node::Text { text } => serializer.serialize_str(text),
            Node::Var { name } => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("var", name)?;
                map.end()
            }
            Node::Block {
                name,
                unless,
                then,
                otherwise,
            } => {
                let mut map = serializer.serialize_map(Some(3))?;
                map.serialize_entry(if *unless { "unless" } else { "if" }, name)?;
                map.serialize_entry("then", then)?;
                map.serialize_entry("else", otherwise)?;
                map.end()
            }
        }
    }
}

// The TypeScript declaration of the JSON form above (`TemplateNode`), which ts-rs cannot derive
// from a hand-written `Serialize`.
#[cfg(test)]
impl ts_rs::TS for Node {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "TemplateNode".to_owned()
    }
    fn inline(_: &ts_rs::Config) -> String {
        ["string", "{ var: string }"]
            .into_iter()
            .map(str::to_owned)
            .chain(["if", "unless"].map(|test| {
                format!(
                    "{{ {test}: string, then: Array<TemplateNode>, else: Array<TemplateNode> }}"
                )
            }))
            .collect::<Vec<_>>()
            .join(" | ")
    }
    fn decl(cfg: &ts_rs::Config) -> String {
        format!("type TemplateNode = {};", Self::inline(cfg))
    }
    fn decl_concrete(cfg: &ts_rs::Config) -> String {
        Self::decl(cfg)
    }
    fn docs() -> Option<String> {
        Some("/** Literal text, a variable, or an `{{#if}}` / `{{#unless}}` block. */\n".to_owned())
    }
    fn output_path() -> Option<std::path::PathBuf> {
        Some("TemplateNode.ts".into())
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{Error, MapAccess, Visitor};
        const FIELDS: &[&str] = &["var", "if", "unless", "then", "else"];

        struct NodeVisitor;

        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a text, or an object with one of var, if or unless")
            }

            fn visit_str<E: Error>(self, text: &str) -> Result<Node, E> {
                Ok(Node::Text {
                    text: text.to_owned(),
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut var = None;
                let mut test: Option<(String, bool)> = None;
                let mut then = None;
                let mut otherwise = None;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "var" if var.is_none() => var = Some(map.next_value::<String>()?),
                        "if" | "unless" if test.is_none() => {
                            test = Some((map.next_value()?, key == "unless"))
                        }
                        "then" if then.is_none() => then = Some(map.next_value::<Vec<Node>>()?),
                        "else" if otherwise.is_none() => {
                            otherwise = Some(map.next_value::<Vec<Node>>()?)
                        }
                        other if FIELDS.contains(&other) => {
                            return Err(Error::custom(format!("{other} given twice")))
                        }
                        other => return Err(Error::unknown_field(other, FIELDS)),
                    }
                }
                match (var, test) {
                    (Some(name), None) if then.is_none() && otherwise.is_none() => {
                        Ok(Node::Var { name })
                    }
                    (None, Some((name, unless))) => Ok(Node::Block {
                        name,
                        unless,
                        then: then.unwrap_or_default(),
                        otherwise: otherwise.unwrap_or_default(),
                    }),
                    _ => Err(Error::custom(
                        "a node has one of var, if or unless, and only a block has branches",
                    )),
                }
            }
        }

        deserializer.deserialize_any(NodeVisitor)
    }
}

/// Compiles the custom templates among `templates` for storage ([`TemplateCode`]); a template
/// that does not compile gets no code (saving refuses it anyway).
pub fn template_code(templates: &PerOutcome<String>) -> TemplateCode {
    let code = |outcome: Outcome| {
        let source = templates.get(outcome);
        if is_default(source, outcome) {
            return None;
        }
        compile(source).ok().map(|template| StoredTemplate {
            of: fingerprint(source),
            nodes: compiled::from_template(&template),
        })
    };
    PerOutcome::from_fn(code)
}

/// The first 64 bits of the source's SHA-256, in hex: ties stored code to the exact source it
/// was compiled from, so an edited template never renders an older one's text.
fn fingerprint(source: &str) -> String {
    Sha256::digest(source.as_bytes())
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

// The default templates as `rust/build.rs` compiled them with the handlebars crate at build
// time (`default_passed()`, ...): a cold function posting a default comment never loads the
// template parser.
include!(concat!(env!("OUT_DIR"), "/default_templates.rs"));

/// The compiled default template of an outcome.
fn default_compiled(outcome: Outcome) -> Vec<Node> {
    match outcome {
        Outcome::Passed => default_passed(),
        Outcome::Failed => default_failed(),
        Outcome::ManualReview => default_manual_review(),
    }
}

/// Renders one template for a preview. A blank template previews the default for the outcome
/// named in `vars.outcome`; an invalid one is a `template_invalid` error with its first problem.
pub fn render_template(source: &str, vars: &TemplateVars) -> Result<AdfDoc, CoreError> {
    let outcome = outcome_from_words(&vars.outcome);
    let source = match outcome {
        Some(outcome) => effective_template(source, outcome),
        None => source,
    };
    let template = compile(source)
        .map_err(|error| CoreError::new("template_invalid", error.message, false))?;
    Ok(to_adf(
        &render_text(&compiled::from_template(&template), &vars.prepared()),
        fallback_line(outcome),
    ))
}

/// The text of a compiled template.
///
/// NOTE: rendering walks the compiled form of the handlebars crate's own parse tree
/// (`template/compiled.rs`). For the validated subset this gives exactly what the crate's renderer
/// (strict mode, no escaping) gives, which a property test checks, without turning the values
/// into a JSON context and resolving paths and helpers for every tag: a third of a webhook
/// decision's time went there.
fn render_text(nodes: &[Node], vars: &TemplateVars) -> String {
    let mut out = String::with_capacity(512);
    compiled::render(nodes, &|name| vars.get(name), &mut out);
    out
}

/// An outcome from its words ("manual review") or key ("manualReview").
fn outcome_from_words(words: &str) -> Option<Outcome> {
    let words = words.trim();
    Outcome::ALL
        .into_iter()
        .find(|o| o.words().eq_ignore_ascii_case(words) || o.key().eq_ignore_ascii_case(words))
}

fn fallback_line(outcome: Option<Outcome>) -> &'static str {
    match outcome {
        Some(Outcome::Passed) => "Incode verification passed.",
        Some(Outcome::Failed) => "Incode verification failed.",
        Some(Outcome::ManualReview) => "Incode verification needs manual review.",
        None => "Incode verification result.",
    }
}

/// Validates, then compiles.
fn compile(source: &str) -> Result<Template, FieldError> {
    if let Some(error) = validate_template(source).into_iter().next() {
        return Err(error);
    }
    Template::compile(source).map_err(|error| syntax_error(source, &error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> TemplateVars {
        TemplateVars {
            name: "Ann Example".into(),
            email: "ann@example.com".into(),
            identity_id: "id-1".into(),
            session_id: "sess-1".into(),
            outcome: "passed".into(),
            agent: "Agent Smith".into(),
            issue_key: "HD-1".into(),
            time: "2026-11-22 10:00:00 UTC".into(),
            delivery: "SMS".into(),
            status: "Success - 2026-11-22 10:00:00".into(),
        }
    }

    fn render(source: &str, vars: &TemplateVars) -> serde_json::Value {
        serde_json::to_value(render_template(source, vars).unwrap()).unwrap()
    }

    fn codes(source: &str) -> Vec<(String, Option<u32>, Option<u32>)> {
        validate_template(source)
            .into_iter()
            .map(|e| (e.code, e.line, e.column))
            .collect()
    }

    #[test]
    fn default_templates_render_with_marks_only_from_the_template() {
        let compiled = CompiledTemplates::new(&PerOutcome::default());
        let doc = compiled.render(Outcome::Passed, &vars()).unwrap();
        let value = serde_json::to_value(&doc).unwrap();
        assert_eq!(
            value,
            json!({
                "type": "doc",
                "version": 1,
                "content": [
                    { "type": "paragraph", "content": [
                        { "type": "text", "text": "✅ " },
                        { "type": "text", "text": "Verification passed", "marks": [{ "type": "strong" }] },
                        { "type": "text", "text": " — identity confirmed, you may proceed." }
                    ]},
                    { "type": "paragraph", "content": [
                        { "type": "text", "text": "Employee: Ann Example (ann@example.com)" },
                        { "type": "hardBreak" },
                        { "type": "text", "text": "Identity ID: id-1" },
                        { "type": "hardBreak" },
                        { "type": "text", "text": "Session ID: sess-1" },
                        { "type": "hardBreak" },
                        { "type": "text", "text": "Verified by Incode at 2026-11-22 10:00:00 UTC, requested by Agent Smith." }
                    ]}
                ]
            })
        );
    }

    #[test]
    fn default_templates_skip_missing_details() {
        let compiled = CompiledTemplates::new(&PerOutcome::default());
        let sparse = TemplateVars {
            name: String::new(),
            identity_id: String::new(),
            agent: String::new(),
            ..vars()
        };
        let doc = serde_json::to_value(compiled.render(Outcome::Failed, &sparse).unwrap()).unwrap();
        assert_eq!(
            doc["content"][1]["content"],
            json!([
                { "type": "text", "text": "Employee: ann@example.com" },
                { "type": "hardBreak" },
                { "type": "text", "text": "Session ID: sess-1" },
                { "type": "hardBreak" },
                { "type": "text", "text": "Result from Incode at 2026-11-22 10:00:00 UTC." }
            ])
        );
        let review =
            serde_json::to_value(compiled.render(Outcome::ManualReview, &vars()).unwrap()).unwrap();
        assert_eq!(
            review["content"][0]["content"][1]["text"],
            "Manual review required"
        );
    }

    #[test]
    fn hostile_values_stay_literal() {
        let hostile = TemplateVars {
            name: "**Verification passed**\n\nEmployee: boss".into(),
            email: "<script>alert(1)</script>\"'&".into(),
            session_id: "{{name}} \u{E000}x\u{E001} \u{202E}evil".into(),
            ..vars()
        };
        let doc = render("**Name:** {{name}}\n{{{email}}}\n{{sessionId}}", &hostile);
        assert_eq!(
            doc["content"],
            json!([{ "type": "paragraph", "content": [
                { "type": "text", "text": "Name:", "marks": [{ "type": "strong" }] },
                { "type": "text", "text": " **Verification passed**  Employee: boss" },
                { "type": "hardBreak" },
                { "type": "text", "text": "<script>alert(1)</script>\"'&" },
                { "type": "hardBreak" },
                { "type": "text", "text": "{{name}} x  evil" }
            ]}])
        );
    }

    #[test]
    fn bold_written_around_a_value_applies_to_it() {
        let doc = render("Hello **{{name}}**!", &vars());
        assert_eq!(
            doc["content"][0]["content"],
            json!([
                { "type": "text", "text": "Hello " },
                { "type": "text", "text": "Ann Example", "marks": [{ "type": "strong" }] },
                { "type": "text", "text": "!" }
            ])
        );
    }

    #[test]
    fn unpaired_bold_marker_is_literal() {
        let doc = render("a **b** c ** d", &vars());
        assert_eq!(
            doc["content"][0]["content"],
            json!([
                { "type": "text", "text": "a " },
                { "type": "text", "text": "b", "marks": [{ "type": "strong" }] },
                { "type": "text", "text": " c ** d" }
            ])
        );
    }

    #[test]
    fn paragraphs_and_breaks() {
        let doc = render("\n\none\r\ntwo\n  \n\nthree\n\n", &vars());
        assert_eq!(
            doc["content"],
            json!([
                { "type": "paragraph", "content": [
                    { "type": "text", "text": "one" }, { "type": "hardBreak" }, { "type": "text", "text": "two" }
                ]},
                { "type": "paragraph", "content": [{ "type": "text", "text": "three" }] }
            ])
        );
    }

    #[test]
    fn empty_output_falls_back_to_one_line() {
        let empty = TemplateVars {
            name: String::new(),
            ..vars()
        };
        let doc = render("{{name}}\n\n****", &empty);
        assert_eq!(
            doc["content"],
            json!([{ "type": "paragraph", "content": [{ "type": "text", "text": "Incode verification passed." }] }])
        );
        let unknown_outcome = TemplateVars {
            outcome: String::new(),
            ..empty
        };
        let doc = render("", &unknown_outcome);
        assert_eq!(
            doc["content"][0]["content"][0]["text"],
            "Incode verification result."
        );
    }

    #[test]
    fn blank_preview_uses_the_outcome_default() {
        let doc = render(
            "  ",
            &TemplateVars {
                outcome: "manual review".into(),
                ..vars()
            },
        );
        assert_eq!(
            doc["content"][0]["content"][1]["text"],
            "Manual review required"
        );
    }

    #[test]
    fn long_values_are_capped() {
        let long = "x".repeat(100_000);
        assert_eq!(clean_value(&long).chars().count(), MAX_VALUE_CHARS);
        assert!(clean_value(&long).ends_with("x…"));
        assert_eq!(
            clean_value(&"y".repeat(MAX_VALUE_CHARS)),
            "y".repeat(MAX_VALUE_CHARS)
        );
        let doc = render(
            "{{name}}",
            &TemplateVars {
                name: long,
                ..vars()
            },
        );
        let text = doc["content"][0]["content"][0]["text"].as_str().unwrap();
        assert_eq!(text.chars().count(), MAX_VALUE_CHARS);
    }

    #[test]
    fn whole_comment_is_capped() {
        let source = "{{name}}".repeat(40);
        let doc = render(
            &source,
            &TemplateVars {
                name: "z".repeat(5000),
                ..vars()
            },
        );
        let text = doc["content"][0]["content"][0]["text"].as_str().unwrap();
        assert_eq!(text.chars().count(), MAX_COMMENT_CHARS);
        assert!(text.ends_with('…'));
    }

    #[test]
    fn valid_templates_pass() {
        for outcome in Outcome::ALL {
            assert_eq!(validate_template(default_template(outcome)), vec![]);
        }
        assert_eq!(validate_template(""), vec![]);
        assert_eq!(
            validate_template(
                "{{#if name}}{{name}}{{else if email}}{{email}}{{else}}?{{/if}} {{#unless agent}}x{{/unless}} {{{time}}} {{~status~}} {{! note }} \\{{literal}}"
            ),
            vec![]
        );
    }

    #[test]
    fn unknown_variables_have_positions() {
        assert_eq!(
            codes("Hi {{name}}\n  {{nmae}} and {{Email}}"),
            vec![
                ("unknown_variable".to_owned(), Some(2), Some(3)),
                ("unknown_variable".to_owned(), Some(2), Some(16)),
            ]
        );
        let errors = validate_template("{{nmae}}");
        assert!(
            errors[0].message.contains("did you mean {{name}}"),
            "{}",
            errors[0].message
        );
        let errors = validate_template("{{Email}}");
        assert!(
            errors[0].message.contains("case-sensitive"),
            "{}",
            errors[0].message
        );
        let errors = validate_template("{{zzzzzz}}");
        assert!(
            errors[0].message.contains("Available: name, email"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        assert_eq!(
            codes("✅ é {{bad}}"),
            vec![("unknown_variable".to_owned(), Some(1), Some(5))]
        );
    }

    #[test]
    fn nested_unknown_variables_are_found() {
        assert_eq!(
            codes("{{#if name}}\nx {{foo}}\n{{else}}{{bar}}{{/if}}"),
            vec![
                ("unknown_variable".to_owned(), Some(2), Some(3)),
                ("unknown_variable".to_owned(), Some(3), Some(9)),
            ]
        );
        assert_eq!(
            codes("{{#if name}}a{{else if nope}}b{{/if}}"),
            vec![("unknown_variable".to_owned(), Some(1), Some(14))]
        );
        assert_eq!(
            codes("{{#if missing}}a{{/if}}"),
            vec![("unknown_variable".to_owned(), Some(1), Some(1))]
        );
    }

    #[test]
    fn unsupported_forms_are_rejected() {
        let cases = [
            ("{{> partial}}", "unsupported_expression"),
            ("{{#each name}}x{{/each}}", "unsupported_helper"),
            ("{{#name}}x{{/name}}", "unsupported_helper"),
            ("{{lookup name 'x'}}", "unsupported_helper"),
            ("{{a.b}}", "unsupported_expression"),
            ("{{@root.name}}", "unsupported_expression"),
            ("{{../name}}", "unsupported_expression"),
            ("{{this}}", "unsupported_expression"),
            ("{{this.name}}", "unsupported_expression"),
            ("{{@index}}", "unsupported_expression"),
            ("{{#if name email}}x{{/if}}", "unsupported_expression"),
            ("{{#if (eq name email)}}x{{/if}}", "unsupported_expression"),
            ("{{#if name as |x|}}x{{/if}}", "unsupported_expression"),
            ("{{{{raw}}}}x{{{{/raw}}}}", "unsupported_helper"),
            ("{{*inline}}", "unsupported_expression"),
        ];
        for (source, code) in cases {
            let errors = validate_template(source);
            assert_eq!(errors.len(), 1, "{source}: {errors:?}");
            assert_eq!(errors[0].code, code, "{source}: {errors:?}");
            assert_eq!(
                (errors[0].line, errors[0].column),
                (Some(1), Some(1)),
                "{source}"
            );
        }
    }

    #[test]
    fn syntax_errors_have_positions() {
        let cases = [
            ("Hello {{name", 1, 7, "never closed"),
            ("ok\n{{#if name}}x", 2, 1, "never closed"),
            ("ok\n  {{/if}}", 2, 3, "no matching opening"),
            ("{{#if name}}x{{/unless}}", 1, 14, "closed by"),
            ("{{else}}", 1, 1, "{{else}} may only"),
            ("{{}}", 1, 1, "not valid"),
            // An unclosed block is named at its opening tag, not at the valid tag after it.
            (
                "{{#if name}}{{name}}",
                1,
                1,
                "{{#if}} block is never closed; add {{/if}}",
            ),
            (
                "Hi {{name}}\n{{#unless email}}{{#if name}}{{/if}} {{sessionId}}",
                2,
                1,
                "{{#unless}} block is never closed",
            ),
        ];
        for (source, line, column, words) in cases {
            let errors = validate_template(source);
            assert_eq!(errors.len(), 1, "{source}: {errors:?}");
            let error = &errors[0];
            assert_eq!(error.code, "template_syntax", "{source}: {error:?}");
            assert_eq!(
                (error.line, error.column),
                (Some(line), Some(column)),
                "{source}: {error:?}"
            );
            assert!(error.message.contains(words), "{source}: {}", error.message);
        }
    }

    #[test]
    fn messages_leave_the_position_to_line_and_column() {
        for source in [
            "{{#if name}}{{name}}",
            "Hello {{nmae}}",
            "{{#if name}}x{{/unless}}",
            "a\u{7}b",
        ] {
            for error in validate_template(source) {
                assert!(error.line.is_some(), "{source}: {error:?}");
                assert!(
                    !error.message.contains("line ") && !error.message.contains("column"),
                    "{source}: {}",
                    error.message
                );
            }
        }
    }

    #[test]
    fn length_characters_and_nesting_limits() {
        assert_eq!(codes(&"a".repeat(MAX_TEMPLATE_CHARS)), vec![]);
        assert_eq!(codes(&"é".repeat(MAX_TEMPLATE_CHARS + 1))[0].0, "too_long");
        assert_eq!(
            codes("ok\nx\u{0}y\u{E000}"),
            vec![
                ("invalid_character".to_owned(), Some(2), Some(2)),
                ("invalid_character".to_owned(), Some(2), Some(4)),
            ]
        );
        let deep = "{{#if name}}".repeat(9) + &"{{/if}}".repeat(9);
        assert_eq!(
            codes(&deep),
            vec![("too_deep".to_owned(), Some(1), Some(97))]
        );
        let ok = "{{#if name}}".repeat(8) + &"{{/if}}".repeat(8);
        assert_eq!(codes(&ok), vec![]);
        let brackets = format!(
            "{{{{#if {}name{}}}}}x{{{{/if}}}}",
            "(a ".repeat(500),
            ")".repeat(500)
        );
        assert_eq!(codes(&brackets)[0].0, "unsupported_expression");
    }

    #[test]
    fn long_else_if_chains_stay_within_the_stack() {
        // About 4000 characters of `{{else if}}`: the longest chain a template can hold.
        let chain = "{{else if name}}x".repeat(230);
        let source = format!("{{{{#if email}}}}a{chain}{{{{/if}}}}");
        assert!(source.chars().count() <= MAX_TEMPLATE_CHARS);
        assert_eq!(validate_template(&source), vec![]);
        let doc = render(
            &source,
            &TemplateVars {
                email: String::new(),
                ..vars()
            },
        );
        assert_eq!(doc["content"][0]["content"][0]["text"], "x");
        let many_tags = "{{name}}".repeat(MAX_TEMPLATE_CHARS / 8);
        assert_eq!(validate_template(&many_tags), vec![]);
    }

    #[test]
    fn invalid_templates_do_not_compile() {
        let templates = PerOutcome {
            passed: String::new(),
            failed: "{{oops}}".to_owned(),
            manual_review: String::new(),
        };
        let compiled = CompiledTemplates::new(&templates);
        assert!(compiled.render(Outcome::Passed, &vars()).is_ok());
        let error = compiled.render(Outcome::Failed, &vars()).unwrap_err();
        assert_eq!(error.code, "template_invalid");
        assert!(
            error
                .message
                .starts_with("templates.failed: Unknown variable {{oops}}"),
            "{}",
            error.message
        );
        let error = render_template("{{#if}}", &vars()).unwrap_err();
        assert_eq!(error.code, "template_invalid");
    }

    fn custom(passed: &str) -> PerOutcome<String> {
        PerOutcome {
            passed: passed.to_owned(),
            failed: default_template(Outcome::Failed).to_owned(),
            manual_review: String::new(),
        }
    }

    #[test]
    fn only_custom_templates_get_stored_code() {
        let templates = custom("Hi {{name}}{{#if email}} <{{email}}>{{/if}}");
        let code = template_code(&templates);
        assert!(code.failed.is_none() && code.manual_review.is_none());
        let stored = code.passed.clone().unwrap();
        assert_eq!(stored.of.len(), 16);
        assert_eq!(stored.of, fingerprint(&templates.passed));
        assert_ne!(stored.of, fingerprint("Hi {{name}}"));
        assert_eq!(
            serde_json::to_value(&code).unwrap(),
            json!({
                "passed": { "of": stored.of, "nodes": [
                    "Hi ", { "var": "name" },
                    { "if": "email", "then": [" <", { "var": "email" }, ">"], "else": [] }
                ]},
                "failed": null,
                "manualReview": null
            })
        );
        assert!(no_template_code(&template_code(&PerOutcome::default())));
        // An invalid template gets no code (saving refuses it).
        assert!(template_code(&custom("{{oops}}")).passed.is_none());
    }

    #[test]
    fn saved_templates_render_from_code_without_the_parser() {
        let templates = custom("Hi {{name}}");
        let saved = CompiledTemplates::saved(&templates, &template_code(&templates));
        for outcome in Outcome::ALL {
            assert_eq!(
                saved.render(outcome, &vars()),
                CompiledTemplates::new(&templates).render(outcome, &vars()),
                "{outcome:?}"
            );
        }
        // Defaults need no code.
        let defaults = CompiledTemplates::saved(&custom(""), &PerOutcome::default());
        assert!(defaults.render(Outcome::Passed, &vars()).is_ok());
    }

    #[test]
    fn a_custom_template_without_matching_code_is_an_error_for_its_outcome() {
        let templates = custom("Hi {{name}}");
        let edited = custom("Bye {{name}}");
        for code in [PerOutcome::default(), template_code(&edited)] {
            let saved = CompiledTemplates::saved(&templates, &code);
            let error = saved.render(Outcome::Passed, &vars()).unwrap_err();
            assert_eq!(error.code, "template_invalid");
            assert_eq!(
                error.message,
                "templates.passed: the template has no compiled form; save the settings again"
            );
            assert!(saved.render(Outcome::Failed, &vars()).is_ok());
        }
    }

    #[test]
    fn stored_nodes_of_the_wrong_shape_are_refused() {
        for bad in [
            r#"[{"var": "name", "if": "email"}]"#,
            r#"[{"var": "name", "then": []}]"#,
            r#"[{"if": "name", "unless": "email"}]"#,
            r#"[{"if": "name", "then": [], "then": []}]"#,
            r#"[{"with": "name"}]"#,
            r#"[{}]"#,
            r#"[42]"#,
            r#"[{"if": 3}]"#,
        ] {
            assert!(serde_json::from_str::<Vec<Node>>(bad).is_err(), "{bad}");
        }
        let good: Vec<Node> = serde_json::from_value(
            json!(["a", { "unless": "name", "then": [{ "var": "email" }] }]),
        )
        .unwrap();
        assert_eq!(
            good,
            vec![
                Node::Text { text: "a".into() },
                Node::Block {
                    name: "name".into(),
                    unless: true,
                    then: vec![Node::Var {
                        name: "email".into()
                    }],
                    otherwise: vec![],
                },
            ]
        );
    }

    #[test]
    fn adf_round_trips_and_rejects_other_versions() {
        let doc = AdfDoc::new(vec![AdfNode::paragraph(vec![AdfNode::text("a", true)])]);
        let value = serde_json::to_value(&doc).unwrap();
        assert_eq!(serde_json::from_value::<AdfDoc>(value).unwrap(), doc);
        assert!(
            serde_json::from_value::<AdfDoc>(json!({"type":"doc","version":2,"content":[]}))
                .is_err()
        );
        assert!(
            serde_json::from_value::<AdfDoc>(json!({"type":"x","version":1,"content":[]})).is_err()
        );
    }

    mod splitting_by_runs {
        //! `split_lines` copies runs of plain text at once; it is held to the splitter as first
        //! written, one character at a time, on text made of every character it treats apart.
        use super::super::*;
        use proptest::prelude::*;

        fn by_char(rendered: &str) -> Vec<Line> {
            let push_char = |line: &mut Line, ch: char| line.push_text(ch.encode_utf8(&mut [0; 4]));
            let mut lines = vec![Line::new()];
            let mut in_value = false;
            let mut chars = rendered.chars().peekable();
            while let Some(ch) = chars.next() {
                let line = lines.last_mut().unwrap();
                if in_value {
                    if ch == VALUE_END {
                        in_value = false;
                    } else {
                        push_char(line, ch);
                        line.has_content = true;
                    }
                    continue;
                }
                match ch {
                    VALUE_START => in_value = true,
                    VALUE_END => {}
                    '\r' => {
                        if chars.peek() == Some(&'\n') {
                            chars.next();
                        }
                        lines.push(Line::new());
                    }
                    '\n' => lines.push(Line::new()),
                    '*' if chars.peek() == Some(&'*') => {
                        chars.next();
                        line.pieces.push(Piece::Bold);
                        line.has_content = true;
                    }
                    c => {
                        let c = if is_unsafe_char(c) { ' ' } else { c };
                        if !c.is_whitespace() {
                            line.has_content = true;
                        }
                        push_char(line, c);
                    }
                }
            }
            lines
        }

        fn shape(lines: Vec<Line>) -> Vec<(Vec<String>, bool)> {
            lines
                .into_iter()
                .map(|line| {
                    let pieces = line.pieces.into_iter().map(|piece| match piece {
                        Piece::Text(text) => format!("text:{text}"),
                        Piece::Bold => "bold".to_owned(),
                        Piece::Break => "break".to_owned(),
                    });
                    (pieces.collect(), line.has_content)
                })
                .collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1024))]
            #[test]
            fn runs_split_as_characters_do(chars in proptest::collection::vec(proptest::sample::select(vec![
                'a', 'Z', ' ', '\t', '*', '\r', '\n', VALUE_START, VALUE_END, '\u{7}', '\u{85}', '\u{2028}',
                '\u{202E}', 'é', '✅', '\u{3000}',
            ]), 0..48)) {
                let rendered: String = chars.into_iter().collect();
                prop_assert_eq!(shape(split_lines(&rendered)), shape(by_char(&rendered)));
            }

            #[test]
            fn printable_ascii_values_are_kept_whole(value in "[ -~]{0,1100}") {
                let expected = if value.len() <= MAX_VALUE_CHARS {
                    value.clone()
                } else {
                    format!("{}…", &value[..MAX_VALUE_CHARS - 1])
                };
                prop_assert_eq!(clean_value(&value), expected);
            }
        }
    }

    mod against_the_crate_renderer {
        //! The compiled form's rendering (`render_text`) against the handlebars crate's own renderer (strict mode, no
        //! escaping), on generated templates of the whole admitted subset.
        use super::super::*;
        use handlebars::{no_escape, Handlebars};
        use proptest::prelude::*;

        fn tag() -> impl Strategy<Value = String> {
            let var = proptest::sample::select(VARIABLES.to_vec());
            prop_oneof![
                var.clone().prop_map(|v| format!("{{{{{v}}}}}")),
                var.clone().prop_map(|v| format!("{{{{{{{v}}}}}}}")),
                var.clone().prop_map(|v| format!("{{{{~{v}~}}}}")),
                var.prop_map(|v| format!("{{{{ {v} }}}}")),
                Just("{{!-- a comment --}}".to_owned()),
                Just("{{! short }}".to_owned()),
            ]
        }

        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-z ]{0,6}",
                Just("\n".to_owned()),
                Just("\n\n".to_owned()),
                Just("  \n".to_owned()),
                Just("**bold**".to_owned()),
                Just("✅ — ".to_owned()),
            ]
        }

        fn body() -> impl Strategy<Value = String> {
            let leaf = prop::collection::vec(prop_oneof![text(), tag()], 0..6)
                .prop_map(|parts| parts.concat());
            leaf.prop_recursive(3, 24, 4, |inner| {
                let var = proptest::sample::select(VARIABLES.to_vec());
                (
                    proptest::sample::select(vec!["if", "unless"]),
                    var.clone(),
                    inner.clone(),
                    prop::option::of(inner.clone()),
                    prop::option::of((var, inner.clone())),
                    any::<bool>(),
                    inner,
                )
                    .prop_map(
                        |(helper, v, then, otherwise, else_if, standalone, after)| {
                            let nl = if standalone { "\n" } else { "" };
                            let mut t = format!("{{{{#{helper} {v}}}}}{nl}{then}");
                            if let Some((w, branch)) = else_if.filter(|_| helper == "if") {
                                t.push_str(&format!("{nl}{{{{else if {w}}}}}{nl}{branch}"));
                            }
                            if let Some(otherwise) = otherwise {
                                t.push_str(&format!("{nl}{{{{else}}}}{nl}{otherwise}"));
                            }
                            t.push_str(&format!("{nl}{{{{/{helper}}}}}{nl}{after}"));
                            t
                        },
                    )
            })
        }

        fn vars() -> impl Strategy<Value = TemplateVars> {
            let value = prop_oneof![Just(String::new()), "[A-Za-z0-9 @.]{1,10}"];
            prop::collection::vec(value, 10).prop_map(|v| TemplateVars {
                name: v[0].clone(),
                email: v[1].clone(),
                identity_id: v[2].clone(),
                session_id: v[3].clone(),
                outcome: v[4].clone(),
                agent: v[5].clone(),
                issue_key: v[6].clone(),
                time: v[7].clone(),
                delivery: v[8].clone(),
                status: v[9].clone(),
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]
            #[test]
            fn the_walk_renders_what_the_crate_renders(source in body(), vars in vars()) {
                prop_assume!(validate_template(&source).is_empty());
                let template = compile(&source).unwrap();
                let prepared = vars.prepared();
                let mut registry = Handlebars::new();
                registry.set_strict_mode(true);
                registry.register_escape_fn(no_escape);
                registry.register_template("t", template.clone());
                let expected = registry.render("t", &prepared).unwrap();
                prop_assert_eq!(
                    render_text(&compiled::from_template(&template), &prepared),
                    expected
                );
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn stored_code_survives_storage_and_renders_what_compiling_renders(
                source in body(),
                vars in vars(),
            ) {
                prop_assume!(validate_template(&source).is_empty());
                prop_assume!(!is_default(&source, Outcome::Failed));
                let templates = PerOutcome {
                    passed: String::new(),
                    failed: source,
                    manual_review: String::new(),
                };
                let text = serde_json::to_string(&template_code(&templates)).unwrap();
                let stored: TemplateCode = serde_json::from_str(&text).unwrap();
                prop_assert_eq!(&stored, &template_code(&templates));
                prop_assert_eq!(
                    CompiledTemplates::saved(&templates, &stored).render(Outcome::Failed, &vars),
                    CompiledTemplates::new(&templates).render(Outcome::Failed, &vars)
                );
            }
        }

        #[test]
        fn the_defaults_render_as_the_crate_renders_them() {
            for outcome in Outcome::ALL {
                let template = compile(default_template(outcome)).unwrap();
                for prepared in [vars_all().prepared(), TemplateVars::default().prepared()] {
                    let mut registry = Handlebars::new();
                    registry.set_strict_mode(true);
                    registry.register_escape_fn(no_escape);
                    registry.register_template("t", template.clone());
                    assert_eq!(
                        render_text(&compiled::from_template(&template), &prepared),
                        registry.render("t", &prepared).unwrap()
                    );
                }
            }
        }

        #[test]
        fn the_defaults_compiled_at_build_time_are_the_defaults_compiled_now() {
            for outcome in Outcome::ALL {
                let now = compiled::from_template(&compile(default_template(outcome)).unwrap());
                assert_eq!(default_compiled(outcome), now, "{outcome:?}");
                assert!(!now.is_empty());
            }
        }

        fn vars_all() -> TemplateVars {
            TemplateVars {
                name: "Ann".into(),
                email: "ann@example.com".into(),
                identity_id: "id-1".into(),
                session_id: "s-1".into(),
                outcome: "passed".into(),
                agent: "Sam".into(),
                issue_key: "HD-1".into(),
                time: "2026-11-22 10:00:00 UTC".into(),
                delivery: "SMS".into(),
                status: "Passed".into(),
            }
        }
    }
}
