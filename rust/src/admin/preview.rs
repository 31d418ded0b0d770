//! `admin.previewComment`: a template rendered with sample values, or what is wrong with it.

use serde::Serialize;
use serde_json::Value;

use super::answer::{Refusal, Reply};
use crate::jira::format_utc;
use crate::model::{FieldError, Outcome, VerificationStatus};
use crate::plan::Step;
use crate::state::status_text;
use crate::template::{render_template, validate_template, AdfDoc, TemplateVars};

#[derive(Serialize, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Preview {
    adf: Option<AdfDoc>,
    errors: Vec<FieldError>,
}

fn outcome_of(payload: &Value) -> Option<Outcome> {
    match payload.get("outcome").and_then(Value::as_str)? {
        "passed" => Some(Outcome::Passed),
        "failed" => Some(Outcome::Failed),
        "manualReview" => Some(Outcome::ManualReview),
        _ => None,
    }
}

/// The sample a preview shows: a made-up employee and ticket, the time now.
fn sample(outcome: Outcome, now_ms: i64) -> TemplateVars {
    let status = match outcome {
        Outcome::Passed => VerificationStatus::Passed,
        Outcome::Failed => VerificationStatus::Failed,
        Outcome::ManualReview => VerificationStatus::ManualReview,
    };
    TemplateVars {
        name: "Jane Doe".into(),
        email: "jane.doe@example.com".into(),
        identity_id: "6634d2e3a1b2c3d4e5f60718".into(),
        session_id: "6634d2e3a1b2c3d4e5f60719".into(),
        outcome: outcome.words().into(),
        agent: "Alex Agent".into(),
        issue_key: "HELP-123".into(),
        time: format!("{} UTC", format_utc(now_ms)),
        delivery: "SMS".into(),
        status: status_text(status, now_ms),
    }
}

pub fn preview_comment(payload: &Value, now_ms: i64) -> Step<(), Reply> {
    let Some(outcome) = outcome_of(payload) else {
        let refusal =
            Refusal::new("validation", "Choose an outcome to preview.").with_fields(vec![
                FieldError::new(
                    "outcome",
                    "invalid_outcome",
                    "Choose passed, failed or manual review.",
                ),
            ]);
        return Step::reply(Reply::refused(refusal));
    };
    let template = payload
        .get("template")
        .and_then(Value::as_str)
        .unwrap_or("");
    let field = format!("templates.{}", outcome.key());
    let errors: Vec<FieldError> = validate_template(template)
        .into_iter()
        .map(|e| FieldError {
            field: field.clone(),
            ..e
        })
        .collect();
    let preview = if !errors.is_empty() {
        Preview { adf: None, errors }
    } else {
        match render_template(template, &sample(outcome, now_ms)) {
            Ok(adf) => Preview {
                adf: Some(adf),
                errors: Vec::new(),
            },
            Err(error) => Preview {
                adf: None,
                errors: vec![FieldError::new(field, &error.code, error.message)],
            },
        }
    };
    Step::reply(Reply::data(&preview))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn previews_render_or_say_where_the_template_is_wrong() {
        let ok = preview_comment(
            &json!({ "outcome": "passed", "template": "Hi {{name}} at {{time}}" }),
            0,
        );
        let data = ok.reply.and_then(|r| r.data).unwrap_or_default();
        assert!(
            data["adf"]
                .to_string()
                .contains("Hi Jane Doe at 1970-01-01 00:00:00 UTC"),
            "{data}"
        );
        let bad = preview_comment(
            &json!({ "outcome": "manualReview", "template": "{{nmae}}" }),
            0,
        );
        let data = bad.reply.and_then(|r| r.data).unwrap_or_default();
        assert_eq!(data["adf"], Value::Null);
        assert_eq!(data["errors"][0]["field"], "templates.manualReview");
        let refused = preview_comment(&json!({ "outcome": "maybe" }), 0);
        let error = refused.reply.and_then(|r| r.error).map(|e| e.code);
        assert_eq!(error.as_deref(), Some("validation"));
    }
}
