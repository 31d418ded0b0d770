//! `admin.report`: the verification report over the audit trail (`audit.rs`), for Jira admins.
//! The trail may hold 100,000 entries and a resolver has 25 s, so no call reads it all: each
//! call reads pages of the trail's index from a cursor for at most `CALL_BUDGET_MS`, and answers
//! what it found with the cursor to go on from. The page calls again until no cursor is left:
//! for the list (one page of rows), the totals (an accumulator the page hands back, which this
//! module checks and folds into) and the CSV export (a chunk of lines each call). Every rule of
//! what counts, matches and how a cell is written lives here; the page only renders.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::answer::{Refusal, Reply};
use super::words;
use crate::audit::{self, Action, Entry};
use crate::jira::iso_utc;
use crate::plan::{EntityPage, EntityQuery, Equals, Results, Step};

/// Rows in one page of the list.
pub const PAGE_SIZE: u32 = 50;
/// Entries in one page of the index (the platform's maximum).
const SCAN_PAGE: u32 = 100;
/// A call stops reading after this long (a resolver has 25 s) and answers with its cursor.
const CALL_BUDGET_MS: i64 = 8_000;
/// ...or after this many pages, whichever comes first.
const CALL_PAGES: u32 = 60;
/// Durations are counted to the second up to an hour, to the minute beyond.
const EXACT_SECONDS: u64 = 3_600;
/// The accumulator keeps at most this many agents and projects (for the filter's choices).
const CHOICES_MAX: usize = 500;
/// Bounds on an accumulator handed back by the page.
const BUCKETS_MAX: usize = 100_000;
/// The longest period a report covers.
const PERIOD_MAX_MS: f64 = 800.0 * 86_400_000.0;

/// What the report shows: a period (epoch ms, both included), and optionally one project, one
/// agent (the account that acted) and one outcome.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct ReportFilter {
    pub from_ms: f64,
    pub to_ms: f64,
    pub project_key: String,
    pub actor_account_id: String,
    pub outcome: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum ReportPart {
    /// One page of the list.
    #[default]
    Rows,
    /// The totals, folded into the accumulator.
    Totals,
    /// A chunk of the CSV export (with the header when it starts).
    Csv,
}

/// What the page asks for.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct ReportRequest {
    pub filter: ReportFilter,
    pub part: ReportPart,
    /// Where the last call stopped (none: from the start).
    #[cfg_attr(test, ts(optional))]
    pub cursor: Option<String>,
    /// The totals so far (`part: totals`, after the first call).
    #[cfg_attr(test, ts(optional))]
    pub totals: Option<Totals>,
}

/// The totals so far: plain counts and the durations' histogram, folded call after call.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct Totals {
    /// Entries the filter matched.
    pub entries: u64,
    /// Links sent (and sent again).
    pub verifications: u64,
    /// Results applied: passed, failed, sent to manual review.
    pub results: u64,
    pub passed: u64,
    pub failed: u64,
    pub manual_reviews: u64,
    pub gate_refused: u64,
    /// Time from send to result: `[bucket (bucket_of), count]`, by bucket.
    pub durations: Vec<[u64; 2]>,
    /// The agents and projects seen (the filter's choices): account id to name, keys.
    pub agents: BTreeMap<String, String>,
    pub projects: Vec<String>,
}

/// The totals as the page shows them (numbers and their text).
#[derive(Serialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub verifications: u64,
    pub results: u64,
    pub passed: u64,
    pub failures: u64,
    pub manual_reviews: u64,
    pub gate_refused: u64,
    /// Passed of passed and failed, in tenths of a percent (none: no such result).
    pub pass_rate_permille: Option<u64>,
    pub pass_rate: String,
    /// The median time from send to result, in seconds (none: no result).
    pub median_seconds: Option<u64>,
    pub median: String,
}

/// One row of the list.
#[derive(Serialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ReportRow {
    pub key: String,
    /// The time, ISO 8601 UTC.
    pub at: String,
    /// What happened and the status after it, in the words the app uses everywhere.
    pub action_name: &'static str,
    pub outcome_name: String,
    /// The entry's detail in words (an outcome's event, why a result was not applied).
    pub detail_text: String,
    pub entry: Entry,
}

/// A call's answer: what it read, and where to go on from (none: the end).
#[derive(Serialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ReportAnswer {
    #[cfg_attr(test, ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    pub rows: Vec<ReportRow>,
    #[cfg_attr(test, ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
    /// With the last call of the totals.
    #[cfg_attr(test, ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// The CSV lines of this call (RFC 4180, CRLF).
    pub csv: String,
    /// Entries read by this call (for the page's progress).
    pub read: u32,
}

/// Between two pages of one call.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReportState {
    request: ReportRequest,
    started_ms: i64,
    pages: u32,
    rows: Vec<(String, Entry)>,
    totals: Totals,
    read: u32,
}

pub type ReportStep = Step<ReportState, Reply>;

/// The first page of a call.
pub fn start(payload: &Value, now_ms: i64) -> ReportStep {
    let request = match request_of(payload) {
        Ok(request) => request,
        Err(refusal) => return Step::reply(Reply::refused(refusal)),
    };
    let totals = request.totals.clone().unwrap_or_default();
    let cursor = request.cursor.clone();
    let state = ReportState {
        request,
        started_ms: now_ms,
        pages: 0,
        rows: Vec::new(),
        totals,
        read: 0,
    };
    ask(state, cursor)
}

/// The request, checked: a period in order and not too long, names of a safe shape, and an
/// accumulator of a sane size.
pub fn request_of(payload: &Value) -> Result<ReportRequest, Refusal> {
    let request: ReportRequest = serde_json::from_value(payload.clone())
        .map_err(|_| bad("The report's request could not be read."))?;
    let f = &request.filter;
    if !(f.from_ms.is_finite() && f.to_ms.is_finite() && f.from_ms >= 0.0) {
        return Err(bad("Choose the report's period."));
    }
    if f.from_ms > f.to_ms {
        return Err(bad("The period's start is after its end."));
    }
    if f.to_ms - f.from_ms > PERIOD_MAX_MS {
        return Err(bad("A report covers at most 800 days."));
    }
    let names = [&f.project_key, &f.actor_account_id, &f.outcome];
    if names
        .iter()
        .any(|n| n.len() > 128 || n.chars().any(char::is_control))
    {
        return Err(bad("A filter value is not valid."));
    }
    if let Some(totals) = &request.totals {
        let sorted = totals
            .durations
            .windows(2)
            .all(|w| matches!(w, [a, b] if a[0] < b[0]));
        if !sorted
            || totals.durations.len() > BUCKETS_MAX
            || totals.agents.len() > CHOICES_MAX
            || totals.projects.len() > CHOICES_MAX
        {
            return Err(bad(
                "The report's totals so far are not valid: start again.",
            ));
        }
    }
    Ok(request)
}

fn bad(message: &str) -> Refusal {
    Refusal::new("validation", message)
}

/// The index page to read next: the narrowest index the filter allows, newest first.
pub fn query_of(filter: &ReportFilter, cursor: Option<String>, limit: u32) -> EntityQuery {
    let equals = |property: &str, value: &str| Equals {
        property: property.to_owned(),
        value: Value::from(value),
    };
    let mut filters = Vec::new();
    let (index, partition) = if !filter.project_key.is_empty() {
        if !filter.actor_account_id.is_empty() {
            filters.push(equals("actorAccountId", &filter.actor_account_id));
        }
        ("by-project", vec![filter.project_key.clone()])
    } else if !filter.actor_account_id.is_empty() {
        ("by-actor", vec![filter.actor_account_id.clone()])
    } else {
        ("atMs", Vec::new())
    };
    if !filter.outcome.is_empty() {
        filters.push(equals("outcome", &filter.outcome));
    }
    EntityQuery {
        entity: audit::ENTITY.to_owned(),
        index: index.to_owned(),
        partition,
        range: [filter.from_ms, filter.to_ms],
        filters,
        descending: true,
        cursor,
        limit,
    }
}

/// Whether an entry is one the filter shows (the query already selects them: checked again, so
/// that a store that filters loosely never widens the report).
pub fn matches(filter: &ReportFilter, entry: &Entry) -> bool {
    let is = |wanted: &str, actual: &str| wanted.is_empty() || wanted == actual;
    entry.at_ms >= filter.from_ms
        && entry.at_ms <= filter.to_ms
        && is(&filter.project_key, &entry.project_key)
        && is(&filter.actor_account_id, &entry.actor_account_id)
        && is(&filter.outcome, &entry.outcome)
}

fn ask(mut state: ReportState, cursor: Option<String>) -> ReportStep {
    let limit = match state.request.part {
        ReportPart::Rows => PAGE_SIZE.saturating_sub(state.rows.len() as u32).max(1),
        ReportPart::Totals | ReportPart::Csv => SCAN_PAGE,
    };
    state.pages += 1;
    Step {
        entity_queries: vec![query_of(&state.request.filter, cursor, limit)],
        ..Step::then(state)
    }
}

/// The page read: fold it in, then read on or answer.
pub fn next(mut state: ReportState, results: &Results) -> ReportStep {
    let page = results.entity_pages.first().cloned().unwrap_or(EntityPage {
        failed: Some("no_answer".to_owned()),
        ..EntityPage::default()
    });
    if page.failed.is_some() {
        return Step::reply(Reply::refused(Refusal::storage()));
    }
    for found in page.entries {
        state.read += 1;
        let Ok(entry) = serde_json::from_value::<Entry>(found.value) else {
            continue;
        };
        if !matches(&state.request.filter, &entry) {
            continue;
        }
        match state.request.part {
            ReportPart::Totals => fold(&mut state.totals, &entry),
            ReportPart::Rows | ReportPart::Csv => state.rows.push((found.key, entry)),
        }
    }
    let full = state.request.part == ReportPart::Rows && state.rows.len() >= PAGE_SIZE as usize;
    let spent = results.now_ms - state.started_ms >= CALL_BUDGET_MS || state.pages >= CALL_PAGES;
    match page.cursor {
        Some(cursor) if !full && !spent => ask(state, Some(cursor)),
        cursor => Step::reply(Reply::data(&answer(state, cursor))),
    }
}

fn answer(state: ReportState, cursor: Option<String>) -> ReportAnswer {
    let ReportState {
        request,
        rows,
        totals,
        read,
        ..
    } = state;
    let mut out = ReportAnswer {
        read,
        ..ReportAnswer::default()
    };
    match request.part {
        ReportPart::Rows => {
            out.rows = rows
                .into_iter()
                .map(|(key, entry)| ReportRow {
                    key,
                    at: iso_utc(entry.at_ms as i64),
                    action_name: entry.action.name(),
                    outcome_name: outcome_name(&entry.outcome),
                    detail_text: words::audit_detail(entry.action, &entry.detail),
                    entry,
                })
                .collect();
        }
        ReportPart::Csv => {
            if request.cursor.is_none() {
                out.csv = csv_header();
            }
            for (_, entry) in &rows {
                out.csv.push_str(&csv_line(entry));
            }
        }
        ReportPart::Totals => {
            if cursor.is_none() {
                out.summary = Some(summary(&totals));
            }
            out.totals = Some(totals);
        }
    }
    out.cursor = cursor;
    out
}

/// Counts one entry into the totals.
pub fn fold(totals: &mut Totals, entry: &Entry) {
    totals.entries += 1;
    match entry.action {
        Action::Sent | Action::Resent => totals.verifications += 1,
        Action::Outcome => {
            totals.results += 1;
            match entry.outcome.as_str() {
                "passed" => totals.passed += 1,
                "failed" => totals.failed += 1,
                "manualReview" => totals.manual_reviews += 1,
                _ => {}
            }
            if entry.duration_ms > 0.0 {
                let bucket = bucket_of(entry.duration_ms);
                match totals.durations.binary_search_by_key(&bucket, |b| b[0]) {
                    Ok(at) => {
                        if let Some(b) = totals.durations.get_mut(at) {
                            b[1] += 1;
                        }
                    }
                    Err(at) => totals.durations.insert(at, [bucket, 1]),
                }
            }
        }
        Action::GateRefused => totals.gate_refused += 1,
        _ => {}
    }
    if !entry.actor_account_id.is_empty()
        && (totals.agents.len() < CHOICES_MAX
            || totals.agents.contains_key(&entry.actor_account_id))
    {
        let name = totals
            .agents
            .entry(entry.actor_account_id.clone())
            .or_default();
        if name.is_empty() {
            name.clone_from(&entry.actor_name);
        }
    }
    if !entry.project_key.is_empty()
        && totals.projects.len() < CHOICES_MAX
        && !totals.projects.contains(&entry.project_key)
    {
        totals.projects.push(entry.project_key.clone());
        totals.projects.sort();
    }
}

/// A duration's bucket: whole seconds up to an hour, then whole minutes (as seconds).
pub fn bucket_of(duration_ms: f64) -> u64 {
    let seconds = (duration_ms / 1000.0).floor().max(0.0) as u64;
    if seconds < EXACT_SECONDS {
        seconds
    } else {
        seconds / 60 * 60
    }
}

/// The median of the histogram: the middle bucket (the lower one of two for an even count).
pub fn median_of(durations: &[[u64; 2]]) -> Option<u64> {
    let count: u64 = durations.iter().map(|b| b[1]).sum();
    if count == 0 {
        return None;
    }
    let wanted = (count - 1) / 2;
    let mut seen = 0;
    for [bucket, n] in durations {
        seen += n;
        if seen > wanted {
            return Some(*bucket);
        }
    }
    None
}

pub fn summary(totals: &Totals) -> Summary {
    let decided = totals.passed + totals.failed;
    let permille = (decided > 0).then(|| (totals.passed * 1000 + decided / 2) / decided);
    let median = median_of(&totals.durations);
    Summary {
        verifications: totals.verifications,
        results: totals.results,
        passed: totals.passed,
        failures: totals.failed,
        manual_reviews: totals.manual_reviews,
        gate_refused: totals.gate_refused,
        pass_rate_permille: permille,
        pass_rate: permille.map_or("—".to_owned(), |p| format!("{}.{}%", p / 10, p % 10)),
        median_seconds: median,
        median: median.map_or("—".to_owned(), duration_text),
    }
}

/// `42 s`, `3 min 5 s`, `2 h 10 min`.
pub fn duration_text(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3_600 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min", s / 3_600, s % 3_600 / 60),
    }
}

/// The export's columns, in order.
pub const CSV_COLUMNS: [&str; 16] = [
    "Time (UTC)",
    "Action",
    "Outcome",
    "Issue",
    "Project",
    "Agent",
    "Agent account ID",
    "Person",
    "Person email",
    "Person account ID",
    "Channel",
    "Incode session ID",
    "Incode identity ID",
    "Seconds to result",
    "Detail",
    "Erased",
];

/// The export's first line, after a UTF-8 byte order mark: without it, Excel reads the file in
/// the machine's legacy code page and garbles every accented name.
fn csv_header() -> String {
    let cells: Vec<String> = CSV_COLUMNS.iter().map(|c| csv_cell(c)).collect();
    format!("\u{feff}{}\r\n", cells.join(","))
}

/// A verification status by the name of its state (`panel::ShownState`), or as it is stored.
pub fn outcome_name(outcome: &str) -> String {
    crate::panel::ShownState::ALL
        .into_iter()
        .find(|state| {
            serde_json::to_value(state)
                .ok()
                .as_ref()
                .and_then(Value::as_str)
                == Some(outcome)
        })
        .map_or_else(|| outcome.to_owned(), |state| state.name().to_owned())
}

/// One entry as a CSV line, the columns of `CSV_COLUMNS`.
pub fn csv_line(entry: &Entry) -> String {
    let action = match serde_json::to_value(entry.action) {
        Ok(Value::String(name)) => name,
        _ => String::new(),
    };
    let seconds = if entry.duration_ms > 0.0 {
        ((entry.duration_ms / 1000.0).floor() as u64).to_string()
    } else {
        String::new()
    };
    let cells = [
        iso_utc(entry.at_ms as i64),
        action,
        entry.outcome.clone(),
        entry.issue_key.clone(),
        entry.project_key.clone(),
        entry.actor_name.clone(),
        entry.actor_account_id.clone(),
        entry.person_name.clone(),
        entry.person_email.clone(),
        entry.person_account_id.clone(),
        entry.channel.clone(),
        entry.session_id.clone(),
        entry.identity_id.clone(),
        seconds,
        words::audit_detail(entry.action, &entry.detail),
        if entry.erased { "yes" } else { "" }.to_owned(),
    ];
    let cells: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
    format!("{}\r\n", cells.join(","))
}

/// One cell: a value a spreadsheet would run as a formula (starting with = + - @, a tab or a
/// carriage return) is prefixed with `'`; then quoted as RFC 4180 says when it holds a comma, a
/// quote or a line break (quotes doubled).
pub fn csv_cell(value: &str) -> String {
    let neutral = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    if neutral.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_name_the_action_and_the_state_in_the_app_s_words() {
        assert_eq!(outcome_name("manualReview"), "Pending review");
        assert_eq!(outcome_name("requested"), "Link sent");
        assert_eq!(outcome_name("connected"), "connected");
        assert_eq!(Action::GateRefused.name(), "Gated transition refused");
    }

    #[test]
    fn the_csv_detail_is_in_words_and_the_action_its_code() {
        let entry = Entry {
            action: Action::Outcome,
            outcome: "manualReview".into(),
            detail: "pendingReview".into(),
            ..Entry::default()
        };
        let line = csv_line(&entry);
        assert!(
            line.starts_with("1970-01-01T00:00:00Z,outcome,manualReview,"),
            "{line}"
        );
        assert!(line.ends_with(",Sent to manual review,\r\n"), "{line}");
    }

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(csv_cell("HD-1"), "HD-1");
    }

    #[test]
    fn the_median_is_the_middle_bucket() {
        let mut d = vec![];
        assert_eq!(median_of(&d), None);
        d.extend([[10, 1], [20, 2], [30, 1]]);
        assert_eq!(median_of(&d), Some(20));
        d.push([40, 2]);
        // 10 20 20 30 40 40: the lower middle is 20
        assert_eq!(median_of(&d), Some(20));
        assert_eq!(bucket_of(59_999.0), 59);
        assert_eq!(bucket_of(3_725_000.0), 3_720);
        assert_eq!(duration_text(125), "2 min 5 s");
        assert_eq!(duration_text(7_260), "2 h 1 min");
    }

    #[test]
    fn a_period_backwards_or_a_bad_accumulator_is_refused() {
        let refused = |payload: Value| request_of(&payload).err().map(|r| r.message);
        assert_eq!(
            refused(serde_json::json!({ "filter": { "fromMs": 10.0, "toMs": 5.0 } })).as_deref(),
            Some("The period's start is after its end.")
        );
        assert!(refused(serde_json::json!({ "filter": { "fromMs": 0, "toMs": 5 } })).is_none());
        assert!(refused(serde_json::json!({ "part": "everything" })).is_some());
    }

    #[test]
    fn the_narrowest_index_is_queried() {
        let mut f = ReportFilter {
            to_ms: 10.0,
            ..ReportFilter::default()
        };
        assert_eq!(query_of(&f, None, 5).index, "atMs");
        f.actor_account_id = "a".into();
        assert_eq!(query_of(&f, None, 5).index, "by-actor");
        f.project_key = "HD".into();
        f.outcome = "passed".into();
        let q = query_of(&f, None, 5);
        assert_eq!(q.index, "by-project");
        assert_eq!(q.partition, vec!["HD".to_owned()]);
        assert_eq!(q.filters.len(), 2);
    }
}
