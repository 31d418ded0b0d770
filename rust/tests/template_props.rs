//! Properties of comment rendering and template validation over arbitrary input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use incode_verify_core::model::{Outcome, PerOutcome};
use incode_verify_core::template::{
    clean_value, render_template, validate_template, AdfDoc, AdfNode, CompiledTemplates,
    TemplateVars, MAX_VALUE_CHARS,
};
use proptest::prelude::*;
use std::sync::OnceLock;

/// Values built to provoke: markup, template syntax, line breaks, controls, the renderer's own
/// sentinels, bidi overrides, emoji, and arbitrary Unicode.
fn hostile_value() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("**".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("\n\n".to_owned()),
        Just("{{name}}".to_owned()),
        Just("{{#if email}}x{{/if}}".to_owned()),
        Just("<b>".to_owned()),
        Just("<script>alert(1)</script>".to_owned()),
        Just("\"'&".to_owned()),
        Just("\u{E000}".to_owned()),
        Just("\u{E001}".to_owned()),
        Just("\u{202E}".to_owned()),
        Just("\u{0}\u{7}\u{1b}".to_owned()),
        Just("👩‍💻✅".to_owned()),
        Just(" ".to_owned()),
        "[a-zA-Z0-9 ]{1,12}",
        any::<String>(),
    ];
    prop_oneof![
        4 => prop::collection::vec(piece, 0..12).prop_map(|parts| parts.concat()),
        1 => any::<String>(),
        1 => (1usize..3000).prop_map(|n| "w".repeat(n)),
    ]
}

fn vars() -> impl Strategy<Value = TemplateVars> {
    prop::collection::vec(hostile_value(), 10).prop_map(|v| TemplateVars {
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

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::Passed),
        Just(Outcome::Failed),
        Just(Outcome::ManualReview)
    ]
}

fn defaults() -> &'static CompiledTemplates {
    static COMPILED: OnceLock<CompiledTemplates> = OnceLock::new();
    COMPILED.get_or_init(|| CompiledTemplates::new(&PerOutcome::default()))
}

/// The only text the default templates write in bold.
fn template_bold(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "Verification passed",
        Outcome::Failed => "Verification failed",
        Outcome::ManualReview => "Manual review required",
    }
}

/// Structural validity: paragraphs of text and hardBreak nodes, no empty text, no sentinel or
/// control character, no break at either end of a paragraph. Returns the paragraphs' text with
/// breaks as `\n` and the texts that carry marks.
fn check_doc(doc: &AdfDoc) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let value = serde_json::to_value(doc).unwrap();
    assert_eq!(value["type"], "doc");
    assert_eq!(value["version"], 1);
    assert!(!doc.content.is_empty(), "empty document");
    let mut paragraphs = Vec::new();
    let mut marked = Vec::new();
    for paragraph in &doc.content {
        assert_eq!(paragraph.kind, "paragraph");
        assert!(paragraph.text.is_none() && paragraph.marks.is_none());
        let content: &Vec<AdfNode> = paragraph.content.as_ref().expect("paragraph content");
        assert!(!content.is_empty(), "empty paragraph");
        assert_eq!(content.first().unwrap().kind, "text");
        assert_eq!(content.last().unwrap().kind, "text");
        let mut text = String::new();
        for node in content {
            match node.kind.as_ref() {
                "text" => {
                    let t = node.text.as_deref().expect("text");
                    assert!(!t.is_empty(), "empty text node");
                    assert!(node.content.is_none());
                    assert!(
                        !t.chars().any(|c| c.is_control()
                            || c == '\u{E000}'
                            || c == '\u{E001}'
                            || c == '\u{202E}'),
                        "unsafe character in {t:?}"
                    );
                    if let Some(marks) = &node.marks {
                        assert!(!marks.is_empty());
                        marked.push((
                            t.to_owned(),
                            marks.iter().map(|m| m.kind.to_string()).collect(),
                        ));
                    }
                    text.push_str(t);
                }
                "hardBreak" => {
                    assert!(node.text.is_none() && node.content.is_none());
                    text.push('\n');
                }
                other => panic!("unexpected node {other}"),
            }
        }
        paragraphs.push(text);
    }
    (paragraphs, marked)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn default_comments_always_render_safely(outcome in outcome(), vars in vars()) {
        let doc = defaults().render(outcome, &vars).unwrap();
        let (paragraphs, marked) = check_doc(&doc);
        // Marks come from the template only: the verdict, never anything a value wrote.
        prop_assert_eq!(
            marked,
            vec![(template_bold(outcome).to_owned(), vec!["strong".to_owned()])]
        );
        // The verdict paragraph comes first and values cannot add paragraphs.
        prop_assert_eq!(paragraphs.len(), 2);
        prop_assert!(paragraphs[0].contains(template_bold(outcome)));
        // Each value appears literally (cleaned) and never spans a line.
        let session = clean_value(&vars.session_id);
        prop_assert!(!session.contains('\n'));
        let line = format!("Session ID: {session}");
        prop_assert!(paragraphs[1].contains(&line), "{:?} lacks {:?}", paragraphs[1], line);
        let time = clean_value(&vars.time);
        prop_assert!(paragraphs[1].contains(&time));
    }

    #[test]
    fn values_never_create_structure(vars in vars()) {
        let doc = render_template("A {{name}} B {{{email}}} C", &vars).unwrap();
        let (paragraphs, marked) = check_doc(&doc);
        prop_assert!(marked.is_empty());
        prop_assert_eq!(paragraphs.len(), 1);
        let expected = format!("A {} B {} C", clean_value(&vars.name), clean_value(&vars.email));
        prop_assert_eq!(&paragraphs[0], &expected);
    }

    #[test]
    fn cleaned_values_are_bounded(value in hostile_value()) {
        let clean = clean_value(&value);
        prop_assert!(clean.chars().count() <= MAX_VALUE_CHARS);
        let unsafe_char = clean
            .chars()
            .any(|c| c.is_control() || c == '\u{E000}' || c == '\u{E001}');
        prop_assert!(!unsafe_char, "{:?}", clean);
    }

    #[test]
    fn validation_never_panics_on_arbitrary_text(source in any::<String>()) {
        let _ = validate_template(&source);
    }

    #[test]
    fn validation_and_rendering_agree_on_template_like_text(
        source in "([{}#/~!>*^&@.()\\[\\]\"' =|\\\\\n-]|if|else|unless|each|name|email|nope|this|\\.\\.|[a-z]){0,80}",
        vars in vars(),
    ) {
        let errors = validate_template(&source);
        for error in &errors {
            prop_assert!(!error.message.is_empty());
            prop_assert_eq!(error.line.is_some(), error.column.is_some());
        }
        match render_template(&source, &vars) {
            Ok(doc) => {
                prop_assert!(errors.is_empty(), "rendered although invalid: {errors:?}");
                check_doc(&doc);
            }
            Err(error) => {
                prop_assert!(!errors.is_empty(), "valid but failed: {error:?}");
                prop_assert_eq!(error.code, "template_invalid");
            }
        }
    }
}

#[test]
fn a_hundred_kilobyte_value_is_capped() {
    let vars = TemplateVars {
        name: "é".repeat(100_000),
        session_id: "s".into(),
        ..TemplateVars::default()
    };
    let doc = defaults().render(Outcome::Passed, &vars).unwrap();
    let (paragraphs, _) = check_doc(&doc);
    let line = paragraphs[1].lines().next().unwrap();
    assert_eq!(
        line,
        format!("Employee: {}…", "é".repeat(MAX_VALUE_CHARS - 1))
    );
}
