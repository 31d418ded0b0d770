//! A validated comment template in the form the renderer walks: raw text, plain variables and
//! `{{#if}}` / `{{#unless}}` blocks, taken from the handlebars crate's own parse tree.
//!
//! NOTE: this file is also compiled into the build script (`rust/build.rs`), which turns the
//! default templates into this form at build time, so a cold function never parses them: it
//! must not use anything from the crate (`crate::`).

use handlebars::template::{Parameter, Template, TemplateElement};
use handlebars::{Path, PathSeg};

/// One piece of a compiled template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// Literal text.
    Text { text: String },
    /// `{{name}}` or `{{{name}}}`.
    Var { name: String },
    /// `{{#if name}}then{{else}}otherwise{{/if}}`; `unless` swaps the branches.
    Block {
        name: String,
        unless: bool,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

/// The compiled form of a parsed template. A template reaches this point only after validation,
/// which admits raw text, comments, known variables and `{{#if var}}` / `{{#unless var}}` blocks
/// (with `{{else}}` and `{{else if var}}`) and nothing else; whitespace control and standalone
/// lines are already applied by the crate's parser. Anything else would compile to nothing.
pub fn from_template(template: &Template) -> Vec<Node> {
    from_elements(&template.elements)
}

fn from_elements(elements: &[TemplateElement]) -> Vec<Node> {
    let mut nodes = Vec::with_capacity(elements.len());
    for element in elements {
        match element {
            TemplateElement::RawString(text) => nodes.push(Node::Text { text: text.clone() }),
            TemplateElement::Expression(tag) | TemplateElement::HtmlExpression(tag) => {
                nodes.push(Node::Var {
                    name: variable_name(&tag.name).to_owned(),
                });
            }
            TemplateElement::HelperBlock(block) => {
                let unless = match block.name.as_name() {
                    Some("if") => false,
                    Some("unless") => true,
                    _ => continue,
                };
                let branch = |template: &Option<Template>| {
                    template
                        .as_ref()
                        .map(|t| from_elements(&t.elements))
                        .unwrap_or_default()
                };
                nodes.push(Node::Block {
                    name: block
                        .params
                        .first()
                        .map(variable_name)
                        .unwrap_or_default()
                        .to_owned(),
                    unless,
                    then: branch(&block.template),
                    otherwise: branch(&block.inverse),
                });
            }
            _ => {}
        }
    }
    nodes
}

/// The name of a plain variable (`{{name}}`); "" for any other parameter.
fn variable_name(parameter: &Parameter) -> &str {
    match parameter {
        Parameter::Path(Path::Relative((segments, _))) => match segments.as_slice() {
            [PathSeg::Named(name)] => name,
            _ => "",
        },
        _ => "",
    }
}

/// Appends the text of `nodes` to `out`, each variable's value given by `value` (a name it does
/// not know reads as ""). A block's variable counts as set when its value is not empty, as a
/// string's truthiness is in Handlebars.
pub fn render<'a>(nodes: &[Node], value: &dyn Fn(&str) -> &'a str, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text { text } => out.push_str(text),
            Node::Var { name } => out.push_str(value(name)),
            Node::Block {
                name,
                unless,
                then,
                otherwise,
            } => {
                let set = !value(name).is_empty();
                render(if set != *unless { then } else { otherwise }, value, out);
            }
        }
    }
}
