//! Jira REST requests: the comment an outcome posts, the transitions lookup and move, and the
//! issue property that records the verification status.
//!
//! Each function returns an [`HttpRequest`] with a `path` (the shim calls
//! `requestJira(assumeTrustedRoute(path), …)`), so every path segment that comes from data is
//! percent-encoded here: an issue key can never add, remove or climb a path segment.

use crate::model::{CommentVisibility, HttpRequest, Method, Shown};
use crate::template::AdfDoc;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use std::collections::BTreeMap;

/// The issue property that holds the verification status (indexed for JQL by the manifest's
/// `jira:entityProperty` module).
pub const PROPERTY_KEY: &str = "incode-verification";

/// The `jira:customField` module (manifest.yml) that shows the verification status: read-only
/// for people, written only by the app, searchable in JQL, a possible queue column.
pub const STATUS_FIELD: &str = "incode-verification-status";

/// The body of `PUT /rest/api/3/app/field/{field}/value` that sets the status field of one
/// issue to `text` (`state::status_text`). Jira takes issue ids as numbers. Written by hand: the
/// webhook's module carries it, and a derived serializer would cost more than the text.
pub fn field_value_body(issue_id: &str, text: &str) -> String {
    let numeric = !issue_id.is_empty() && issue_id.bytes().all(|b| b.is_ascii_digit());
    let id = if numeric {
        issue_id.to_owned()
    } else {
        json_string(issue_id)
    };
    format!(
        r#"{{"updates":[{{"issueIds":[{id}],"value":{}}}]}}"#,
        json_string(text)
    )
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The JSM comment property that decides whether a comment is internal (agents only).
const JSM_COMMENT_PROPERTY: &str = "sd.public.comment";

/// `POST /rest/api/3/issue/{key}/comment` with the ADF body. `Internal` comments carry the JSM
/// property that hides them from the customer; `Public` ones set it to false explicitly so the
/// choice never depends on a project default.
pub fn comment_request(
    issue_key: &str,
    adf: &AdfDoc,
    visibility: CommentVisibility,
) -> HttpRequest {
    #[derive(Serialize)]
    struct InternalFlag {
        internal: bool,
    }
    #[derive(Serialize)]
    struct CommentProperty<'a> {
        key: &'a str,
        value: InternalFlag,
    }
    #[derive(Serialize)]
    struct CommentBody<'a> {
        body: &'a AdfDoc,
        properties: [CommentProperty<'a>; 1],
    }
    let body = CommentBody {
        body: adf,
        properties: [CommentProperty {
            key: JSM_COMMENT_PROPERTY,
            value: InternalFlag {
                internal: visibility == CommentVisibility::Internal,
            },
        }],
    };
    request(
        Method::Post,
        issue_path(issue_key, &["comment"]),
        Some(to_json(&body)),
    )
}

/// `GET /rest/api/3/issue/{key}/transitions`: the transitions available from the issue's
/// current status, answered as `TransitionsAnswer`.
pub fn transitions_request(issue_key: &str) -> HttpRequest {
    request(Method::Get, issue_path(issue_key, &["transitions"]), None)
}

/// `GET /rest/api/3/issue/{key}/comment`: a page of the newest comments with their properties
/// (where an event's comment carries its idempotency key).
pub fn comments_request(issue_key: &str, start_at: u32, max_results: u32) -> HttpRequest {
    let mut path = issue_path(issue_key, &["comment"]);
    path.push_str(&format!(
        "?expand=properties&orderBy=-created&startAt={start_at}&maxResults={max_results}"
    ));
    request(Method::Get, path, None)
}

/// `POST /rest/api/3/issue/{key}/transitions` with `{ transition: { id } }`.
pub fn transition_request(issue_key: &str, transition_id: &str) -> HttpRequest {
    #[derive(Serialize)]
    struct TransitionId<'a> {
        id: &'a str,
    }
    #[derive(Serialize)]
    struct TransitionBody<'a> {
        transition: TransitionId<'a>,
    }
    let body = TransitionBody {
        transition: TransitionId { id: transition_id },
    };
    request(
        Method::Post,
        issue_path(issue_key, &["transitions"]),
        Some(to_json(&body)),
    )
}

/// `PUT /rest/api/3/issue/{key}/properties/incode-verification` with the status record.
///
/// Issue properties are readable by anyone who can see the issue (including through JQL), so the
/// record holds no email address and no name: only the status, when it changed, and the Incode
/// ids an agent needs to look the session up.
pub fn property_request(issue_key: &str, verification: &Shown) -> HttpRequest {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct PropertyBody<'a> {
        status: crate::model::VerificationStatus,
        /// The status's one name, as the panel shows it.
        status_name: &'a str,
        status_text: &'a str,
        updated_at: String,
        session_id: &'a str,
        identity_id: &'a str,
        delivery: crate::model::Delivery,
    }
    let body = PropertyBody {
        status: verification.status,
        status_name: crate::panel::status_name(verification.status),
        status_text: verification.status_text,
        updated_at: iso_utc(verification.updated_at_ms),
        session_id: verification.session_id,
        identity_id: verification.identity_id,
        delivery: verification.delivery,
    };
    request(
        Method::Put,
        issue_path(issue_key, &["properties", PROPERTY_KEY]),
        Some(to_json(&body)),
    )
}

fn request(method: Method, path: String, body: Option<String>) -> HttpRequest {
    let mut headers = BTreeMap::new();
    headers.insert("Accept".to_owned(), "application/json".to_owned());
    if body.is_some() {
        headers.insert("Content-Type".to_owned(), "application/json".to_owned());
    }
    HttpRequest {
        method,
        url: None,
        path: Some(path),
        headers,
        body,
    }
}

/// `/rest/api/3/issue/{key}/{rest…}` with the key percent-encoded; `rest` are constant segments.
fn issue_path(issue_key: &str, rest: &[&str]) -> String {
    let mut path = String::from("/rest/api/3/issue/");
    path.push_str(&encode_segment(issue_key));
    for segment in rest {
        path.push('/');
        path.push_str(&encode_segment(segment));
    }
    path
}

/// Percent-encodes one path segment. Only ASCII letters, digits, `-`, `_` and `~` stay as they
/// are; everything else (including `/`, `.`, `?`, `#`, `%` and non-ASCII) is written as `%XX` of
/// its UTF-8 bytes, so a segment can never be `..` or split into two. An empty segment would
/// collapse the route (`issue//comment`), so it is sent as `%20`, which no issue key matches.
pub fn encode_segment(segment: &str) -> String {
    if segment.is_empty() {
        return "%20".to_owned();
    }
    utf8_percent_encode(segment, SEGMENT_ESCAPED).to_string()
}

/// What `encode_segment` escapes: everything but ASCII letters, digits, `-`, `_` and `~`.
const SEGMENT_ESCAPED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');

fn to_json<T: Serialize>(value: &T) -> String {
    // Serialising these plain structs (strings, bools, enums, no maps with non-string keys)
    // cannot fail; an empty object is the harmless answer should it ever happen.
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned())
}

/// The latest instant both formats can write with a four-digit year: 9999-12-31 23:59:59.999.
const MAX_MS: i64 = 253_402_300_799_999;

/// Epoch milliseconds as `YYYY-MM-DD HH:MM:SS` (UTC), the form used in status texts and comments.
/// Instants before 1970 or after 9999 are clamped to that range.
pub fn format_utc(ms: i64) -> String {
    let t = civil(ms);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// Epoch milliseconds as ISO-8601 UTC, `YYYY-MM-DDTHH:MM:SSZ`: the date-time form Jira indexes
/// for a `date` entity property. Instants before 1970 or after 9999 are clamped to that range.
pub fn iso_utc(ms: i64) -> String {
    let t = civil(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

struct CivilTime {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
}

fn civil(ms: i64) -> CivilTime {
    let ms = ms.clamp(0, MAX_MS);
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    CivilTime {
        year,
        month,
        day,
        hour: of_day / 3600,
        minute: of_day % 3600 / 60,
        second: of_day % 60,
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), after Howard Hinnant's
/// `civil_from_days`: shift the epoch to 0000-03-01 so leap days end each 400-year era.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from March 1st, 0..=365
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Delivery, HistoryEntry, Verification, VerificationStatus};
    use crate::template::{AdfDoc, AdfNode};

    fn body_json(request: &HttpRequest) -> serde_json::Value {
        let body = request.body.as_deref().unwrap_or("null");
        serde_json::from_str(body).unwrap()
    }

    fn verification() -> Verification {
        Verification {
            id: "v1".into(),
            session_id: "sess-1".into(),
            issue_key: "HD-7".into(),
            issue_id: "10007".into(),
            email: "ann@example.com".into(),
            name: "Ann Example".into(),
            delivery: Delivery::Sms,
            destination: "+1 *** *** 1234".into(),
            requested_by: "acc-1".into(),
            requested_by_name: "Agent Smith".into(),
            requested_at_ms: 1_795_000_000_000,
            expires_at_ms: 1_795_000_600_000,
            status: VerificationStatus::Passed,
            status_text: "Success - 2026-11-22 10:00:00".into(),
            updated_at_ms: 1_795_341_600_000,
            identity_id: "id-9".into(),
            history: vec![HistoryEntry {
                status: VerificationStatus::Requested,
                at_ms: 1_795_000_000_000,
                cause: "sent".into(),
            }],
            applied_events: vec![],
            late_results: Vec::new(),
        }
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00");
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        // 2000-02-29 (a leap day of a century divisible by 400) 12:34:56.789
        assert_eq!(format_utc(951_827_696_789), "2000-02-29 12:34:56");
        assert_eq!(format_utc(1_795_341_600_000), "2026-11-22 10:00:00");
        assert_eq!(iso_utc(1_795_341_600_000), "2026-11-22T10:00:00Z");
        // 2100 is not a leap year: the day after Feb 28th is March 1st.
        assert_eq!(format_utc(4_107_542_400_000), "2100-03-01 00:00:00");
        assert_eq!(format_utc(4_107_542_399_999), "2100-02-28 23:59:59");
    }

    #[test]
    fn clamps_out_of_range_instants() {
        assert_eq!(format_utc(-1), "1970-01-01 00:00:00");
        assert_eq!(iso_utc(i64::MIN), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(i64::MAX), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn day_walk_matches_a_naive_calendar() {
        // Walk day by day from 1970 through 2400 and compare with a simple month-length calendar.
        let (mut y, mut m, mut d) = (1970_i64, 1_i64, 1_i64);
        for days in 0..157_054_i64 {
            let noon = days * 86_400_000 + 43_200_000;
            assert_eq!(
                format_utc(noon),
                format!("{y:04}-{m:02}-{d:02} 12:00:00"),
                "day {days}"
            );
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn encodes_path_segments() {
        assert_eq!(encode_segment("HD-12"), "HD-12");
        assert_eq!(encode_segment("10001"), "10001");
        assert_eq!(encode_segment("../x"), "%2E%2E%2Fx");
        assert_eq!(encode_segment("a b?c#d%"), "a%20b%3Fc%23d%25");
        assert_eq!(encode_segment("é"), "%C3%A9");
        assert_eq!(encode_segment(""), "%20");
    }

    #[test]
    fn comment_request_shapes() {
        let adf = AdfDoc::new(vec![AdfNode::paragraph(vec![AdfNode::text("hi", false)])]);
        let internal = comment_request("HD-1", &adf, CommentVisibility::Internal);
        assert_eq!(internal.method, Method::Post);
        assert_eq!(
            internal.path.as_deref(),
            Some("/rest/api/3/issue/HD-1/comment")
        );
        assert_eq!(internal.url, None);
        assert_eq!(
            internal.headers.get("Content-Type").map(String::as_str),
            Some("application/json")
        );
        let body = body_json(&internal);
        assert_eq!(body["body"]["type"], "doc");
        assert_eq!(body["body"]["content"][0]["content"][0]["text"], "hi");
        assert_eq!(body["properties"][0]["key"], "sd.public.comment");
        assert_eq!(body["properties"][0]["value"]["internal"], true);
        let public = comment_request("HD-1", &adf, CommentVisibility::Public);
        assert_eq!(
            body_json(&public)["properties"][0]["value"]["internal"],
            false
        );
    }

    #[test]
    fn transition_requests() {
        let get = transitions_request("HD-1");
        assert_eq!(get.method, Method::Get);
        assert_eq!(
            get.path.as_deref(),
            Some("/rest/api/3/issue/HD-1/transitions")
        );
        assert_eq!(get.body, None);
        assert!(!get.headers.contains_key("Content-Type"));
        assert_eq!(
            get.headers.get("Accept").map(String::as_str),
            Some("application/json")
        );
        let post = transition_request("HD-1", "31");
        assert_eq!(post.method, Method::Post);
        assert_eq!(post.body.as_deref(), Some(r#"{"transition":{"id":"31"}}"#));
        let hostile = transition_request("HD-1/../../x?y", "31");
        assert_eq!(
            hostile.path.as_deref(),
            Some("/rest/api/3/issue/HD-1%2F%2E%2E%2F%2E%2E%2Fx%3Fy/transitions")
        );
    }

    #[test]
    fn the_field_body_sets_one_issue_by_its_numeric_id() {
        assert_eq!(
            field_value_body("10001", "Success - 2026-12-06 10:04:31 UTC"),
            r#"{"updates":[{"issueIds":[10001],"value":"Success - 2026-12-06 10:04:31 UTC"}]}"#
        );
        // Anything but digits stays a string (Jira refuses it rather than another issue).
        let odd: serde_json::Value =
            serde_json::from_str(&field_value_body("1,2", "a \"b\"")).unwrap_or_default();
        assert_eq!(odd["updates"][0]["issueIds"][0], "1,2");
        assert_eq!(odd["updates"][0]["value"], "a \"b\"");
    }

    #[test]
    fn property_request_holds_no_personal_data() {
        let req = property_request("HD-7", &verification().shown());
        assert_eq!(req.method, Method::Put);
        assert_eq!(
            req.path.as_deref(),
            Some("/rest/api/3/issue/HD-7/properties/incode-verification")
        );
        let body = body_json(&req);
        assert_eq!(
            body,
            serde_json::json!({
                "status": "passed",
                "statusName": "Passed",
                "statusText": "Success - 2026-11-22 10:00:00",
                "updatedAt": "2026-11-22T10:00:00Z",
                "sessionId": "sess-1",
                "identityId": "id-9",
                "delivery": "SMS"
            })
        );
        let raw = req.body.unwrap_or_default();
        assert!(!raw.contains("ann@example.com"));
        assert!(!raw.contains("Ann Example"));
        assert!(!raw.contains("1234"));
    }
}
