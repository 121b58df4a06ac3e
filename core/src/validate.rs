//! Validation: every rule of the contract, checked before anything is sent.
//!
//! Every check reports *all* violations, each with the field, a stable rule code (the same in every
//! language, see `tests/vectors/validation.json`) and a message that says the rule. The loose path
//! ([`create_request_from_json`]) is what bindings use for a JS object or a Python dict: it refuses
//! unknown fields (a typo like `resolutoin` must not be billed silently at 720p) and values of the
//! wrong JSON type (`"5"`, `5.5`, `true` for `duration`).

use crate::model::{CreateVideoRequest, ListParams, Mode, Resolution, DEFAULT_DURATION, MAX_DURATION, MAX_PAGE_LIMIT, MAX_SEED, MIN_DURATION};
use serde::{Deserialize, Serialize};
use crate::json::Json;
use std::borrow::Cow;
use std::fmt;

/// A stable, machine-readable rule code.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum IssueCode {
    /// A required field is missing (or `null`).
    Required,
    /// A string is empty after trimming.
    Blank,
    /// The JSON type is wrong (a string where a number belongs, …).
    InvalidType,
    /// A number with a fraction where an integer belongs (`5.5`, `5.0`).
    NotInteger,
    /// A number outside its range.
    OutOfRange,
    /// Not one of the allowed values (`2K`, `video`).
    InvalidChoice,
    /// A field that this mode does not allow (`image_url` with `text_to_video`).
    NotAllowed,
    /// Not an absolute `http`/`https` URL.
    InvalidUrl,
    /// A field the API does not have.
    UnknownField,
    /// A credential or id with whitespace, control, non-ASCII or path characters.
    InvalidCharacters,
    /// An API key without the `sd_` prefix.
    InvalidPrefix,
    /// A credential not in its format (a JWT without three parts).
    InvalidFormat,
}

impl IssueCode {
    /// Every rule, in declaration order.
    pub const ALL: [IssueCode; 12] = [
        IssueCode::Required,
        IssueCode::Blank,
        IssueCode::InvalidType,
        IssueCode::NotInteger,
        IssueCode::OutOfRange,
        IssueCode::InvalidChoice,
        IssueCode::NotAllowed,
        IssueCode::InvalidUrl,
        IssueCode::UnknownField,
        IssueCode::InvalidCharacters,
        IssueCode::InvalidPrefix,
        IssueCode::InvalidFormat,
    ];

    /// Parses the exact wire string (`out_of_range`).
    #[must_use]
    pub fn parse(s: &str) -> Option<IssueCode> {
        IssueCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The wire form (`required`, `out_of_range`, …).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            IssueCode::Required => "required",
            IssueCode::Blank => "blank",
            IssueCode::InvalidType => "invalid_type",
            IssueCode::NotInteger => "not_integer",
            IssueCode::OutOfRange => "out_of_range",
            IssueCode::InvalidChoice => "invalid_choice",
            IssueCode::NotAllowed => "not_allowed",
            IssueCode::InvalidUrl => "invalid_url",
            IssueCode::UnknownField => "unknown_field",
            IssueCode::InvalidCharacters => "invalid_characters",
            IssueCode::InvalidPrefix => "invalid_prefix",
            IssueCode::InvalidFormat => "invalid_format",
        }
    }
}

/// One violated rule: which field, which rule, and a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
// `Deserialize` reads a tree and calls the hand-written reader (crate::readers).
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Issue {
    /// The field (wire name), e.g. `duration`.
    pub field: String,
    /// The rule it broke.
    pub code: IssueCode,
    /// What the rule is, for people.
    pub message: String,
}

impl Issue {
    /// Makes an issue.
    pub fn new(field: impl Into<String>, code: IssueCode, message: impl Into<String>) -> Self {
        Issue { field: field.into(), code, message: message.into() }
    }

    /// The same issue on request `i` of a list (a batch, an estimate's total): its field becomes
    /// `requests[i].field`.
    #[must_use]
    pub fn of_request(mut self, i: usize) -> Self {
        self.field = format!("requests[{i}].{}", self.field);
        self
    }
}

impl std::error::Error for Issue {}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.code.as_str())
    }
}

/// The fields `POST /v1/videos` takes.
pub const CREATE_FIELDS: [&str; 7] = ["prompt", "mode", "resolution", "duration", "image_url", "reference_url", "seed"];

/// Checks a typed create request against every rule of the contract.
///
/// # Errors
/// Every violated rule, in field order.
pub fn validate_create(req: &CreateVideoRequest) -> Result<(), Vec<Issue>> {
    let mut issues = Vec::new();
    check_prompt(&req.prompt, &mut issues);
    if let Some(d) = req.duration {
        check_duration(u64::from(d), &mut issues);
    }
    if let Some(seed) = req.seed {
        check_seed(seed, &mut issues);
    }
    check_urls(req.mode, req.image_url.as_deref(), req.reference_url.as_deref(), &mut issues);
    if issues.is_empty() { Ok(()) } else { Err(issues) }
}

fn check_prompt(prompt: &str, issues: &mut Vec<Issue>) {
    if prompt.trim().is_empty() {
        issues.push(Issue::new("prompt", IssueCode::Blank, "prompt must not be empty"));
    }
}

fn check_duration(d: u64, issues: &mut Vec<Issue>) {
    if !(u64::from(MIN_DURATION)..=u64::from(MAX_DURATION)).contains(&d) {
        out_of_range("duration", "", issues);
    }
}

fn check_seed(seed: u64, issues: &mut Vec<Issue>) {
    if seed > MAX_SEED {
        out_of_range("seed", "", issues);
    }
}

/// `field` is out of its range: its rule ([`range_rule`]), or `field` and `what` for a field
/// without one.
fn out_of_range(field: &str, what: &str, issues: &mut Vec<Issue>) {
    let message = range_rule(field).unwrap_or_else(|| format!("{field} {what}"));
    issues.push(Issue::new(field, IssueCode::OutOfRange, message));
}

/// `image_url` belongs to `image_to_video` and `reference_url` to `reference`: each is required
/// with its mode and refused with the others.
fn check_urls(mode: Mode, image_url: Option<&str>, reference_url: Option<&str>, issues: &mut Vec<Issue>) {
    for (field, value, owner) in [("image_url", image_url, Mode::ImageToVideo), ("reference_url", reference_url, Mode::Reference)] {
        match (value, mode == owner) {
            (None, true) => issues.push(Issue::new(field, IssueCode::Required, format!("{field} is required for mode {}", owner.as_str()))),
            (Some(_), false) => issues.push(Issue::new(field, IssueCode::NotAllowed, format!("{field} is only allowed with mode {}", owner.as_str()))),
            (Some(url), true) if !is_http_url(url) => issues.push(Issue::new(field, IssueCode::InvalidUrl, format!("{field} must be an absolute http or https URL"))),
            _ => {}
        }
    }
}

/// An absolute `http`/`https` URL with a host and no whitespace or control characters.
#[must_use]
pub fn is_http_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        url.get(8..)
    } else if lower.starts_with("http://") {
        url.get(7..)
    } else {
        None
    };
    let Some(rest) = rest else { return false };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = rest.get(..host_end).unwrap_or("");
    !host.is_empty() && !host.starts_with(':') && !host.starts_with('@') && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// [`create_request_from_json`] over each item of a list (a batch's requests): every rule of
/// every item, fields named `requests[3].duration`.
///
/// # Errors
/// Every violated rule of every item.
pub fn create_requests_from_json(items: &[Json]) -> Result<Vec<CreateVideoRequest>, Vec<Issue>> {
    let mut reqs = Vec::with_capacity(items.len());
    let mut issues = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match create_request_from_json(item) {
            Ok(r) => reqs.push(r),
            Err(found) => issues.extend(found.into_iter().map(|issue| issue.of_request(i))),
        }
    }
    if issues.is_empty() { Ok(reqs) } else { Err(issues) }
}

/// Builds a create request from loose data (a JSON object: what a JS object or a Python dict
/// becomes), checking every rule and refusing unknown fields with a suggestion.
///
/// `null` on an optional field means absent. `duration` and `seed` must be JSON integers.
///
/// # Errors
/// Every violated rule. A body that is not an object is one issue on field `body`.
pub fn create_request_from_json(value: &Json) -> Result<CreateVideoRequest, Vec<Issue>> {
    let Json::Object(obj) = value else {
        return Err(vec![Issue::new("body", IssueCode::InvalidType, "the request must be an object")]);
    };
    let mut issues = Vec::new();
    unknown_fields(obj, &CREATE_FIELDS, &mut issues);
    let prompt = string_field(obj, "prompt", true, &mut issues);
    if let Some(p) = &prompt {
        check_prompt(p, &mut issues);
    }
    let mode = mode_field(obj, true, &mut issues);
    let resolution = string_field(obj, "resolution", false, &mut issues).and_then(|r| {
        let parsed = Resolution::parse(&r);
        if parsed.is_none() {
            issues.push(Issue::new("resolution", IssueCode::InvalidChoice, "resolution must be one of 720p, 1080p, 2k (exact case)"));
        }
        parsed
    });
    let duration = integer_field(obj, "duration", &mut issues).and_then(|d| {
        let before = issues.len();
        check_duration(d, &mut issues);
        if issues.len() == before { u32::try_from(d).ok() } else { None }
    });
    let seed = integer_field(obj, "seed", &mut issues).and_then(|s| {
        let before = issues.len();
        check_seed(s, &mut issues);
        (issues.len() == before).then_some(s)
    });
    let image_url = string_field(obj, "image_url", false, &mut issues);
    let reference_url = string_field(obj, "reference_url", false, &mut issues);
    if let Some(mode) = mode {
        let mut url_issues = Vec::new();
        check_urls(mode, image_url.as_deref(), reference_url.as_deref(), &mut url_issues);
        // A URL of the wrong JSON type was reported `invalid_type` above: it is not also missing.
        url_issues.retain(|i| !(i.code == IssueCode::Required && present(obj, &i.field).is_some()));
        issues.extend(url_issues);
    }
    match (prompt, mode) {
        (Some(prompt), Some(mode)) if issues.is_empty() => Ok(CreateVideoRequest { prompt, mode, resolution, duration, image_url, reference_url, seed }),
        _ => Err(issues),
    }
}

/// Resolution and duration of a loose estimate input: `{resolution?, duration?}`, or a whole
/// create request (its other fields are allowed and not checked, an estimate needing no prompt,
/// but for a `mode` that is none).
/// Absent or `null`: 720p, 5 s. An unknown field is refused with a suggestion, as in a create.
///
/// # Errors
/// Every violated rule. An input that is not an object is one issue on field `input`.
pub fn estimate_input_from_json(value: &Json) -> Result<(Resolution, u32), Vec<Issue>> {
    let Json::Object(obj) = value else {
        return Err(vec![Issue::new("input", IssueCode::InvalidType, "the estimate input must be an object")]);
    };
    let mut issues = Vec::new();
    unknown_fields(obj, &CREATE_FIELDS, &mut issues);
    // A mode that is none is a mistake worth saying even where the price does not depend on it.
    let _ = mode_field(obj, false, &mut issues);
    let resolution = match string_field(obj, "resolution", false, &mut issues) {
        None => present(obj, "resolution").is_none().then(Resolution::default),
        Some(r) => {
            let parsed = Resolution::parse(&r);
            if parsed.is_none() {
                issues.push(Issue::new("resolution", IssueCode::InvalidChoice, "resolution must be one of 720p, 1080p, 2k (exact case)"));
            }
            parsed
        }
    };
    let duration = match present(obj, "duration") {
        None => Some(DEFAULT_DURATION),
        Some(_) => integer_field(obj, "duration", &mut issues).and_then(|d| {
            let before = issues.len();
            check_duration(d, &mut issues);
            if issues.len() == before { u32::try_from(d).ok() } else { None }
        }),
    };
    match (resolution, duration) {
        (Some(r), Some(d)) if issues.is_empty() => Ok((r, d)),
        _ => Err(issues),
    }
}

/// `mode`, one of the modes (`required`: present and not null).
fn mode_field(obj: &Members, required: bool, issues: &mut Vec<Issue>) -> Option<Mode> {
    string_field(obj, "mode", required, issues).and_then(|m| {
        let parsed = Mode::parse(&m);
        if parsed.is_none() {
            issues.push(Issue::new("mode", IssueCode::InvalidChoice, "mode must be one of text_to_video, image_to_video, reference"));
        }
        parsed
    })
}

/// The rule of an integer field with a range, stated whole when it is broken in any way (too
/// small, negative, far too large), so every message about it names the range.
fn range_rule(field: &str) -> Option<String> {
    match field {
        "duration" => Some(format!("duration must be a whole number of seconds from {MIN_DURATION} to {MAX_DURATION}")),
        "seed" => Some(format!("seed must be an integer from 0 to {MAX_SEED}")),
        "limit" => Some(format!("limit must be from 1 to {MAX_PAGE_LIMIT}")),
        _ => None,
    }
}

/// Every member of `obj` not in `known`, refused with the closest known name as a hint.
fn unknown_fields(obj: &Members, known: &[&str], issues: &mut Vec<Issue>) {
    for (key, _) in obj {
        if !known.contains(&key.as_ref()) {
            let hint = suggest(key, known).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
            issues.push(Issue::new(key.clone(), IssueCode::UnknownField, format!("unknown field `{key}`{hint}")));
        }
    }
}

/// An object's members (JSON text may repeat a key: the last one counts, as in serde_json).
type Members<'a> = [(Cow<'a, str>, Json<'a>)];

fn present<'a, 'j>(obj: &'a Members<'j>, field: &str) -> Option<&'a Json<'j>> {
    obj.iter().rev().find(|(k, _)| k == field).map(|(_, v)| v).filter(|v| !v.is_null())
}

fn string_field(obj: &Members, field: &str, required: bool, issues: &mut Vec<Issue>) -> Option<String> {
    match present(obj, field) {
        None => {
            if required {
                issues.push(Issue::new(field, IssueCode::Required, format!("{field} is required")));
            }
            None
        }
        Some(Json::String(s)) => Some(s.to_string()),
        Some(v) => {
            issues.push(Issue::new(field, IssueCode::InvalidType, format!("{field} must be a string (got {})", v.kind())));
            None
        }
    }
}

/// 2^63: every whole number at least this large in magnitude is beyond 64 bits.
const BEYOND_64_BITS: f64 = 9_223_372_036_854_775_808.0;

/// A JSON integer: `5` yes; `5.0`, `5.5` (not_integer), `"5"`, `true` (invalid_type), `-1`
/// (out_of_range) no. The number's text is read, so `5.0` is told from `5` and an integer beyond
/// 64 bits is out of range, not a float.
fn integer_field(obj: &Members, field: &str, issues: &mut Vec<Issue>) -> Option<u64> {
    let v = present(obj, field)?;
    let Json::Number(n) = v else {
        issues.push(Issue::new(field, IssueCode::InvalidType, format!("{field} must be an integer (got {})", v.kind())));
        return None;
    };
    let integral = !n.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'));
    let negative = n.starts_with('-');
    if integral && !negative {
        if let Some(u) = crate::json::parse_u64(n) {
            return Some(u);
        }
        out_of_range(field, "is far too large", issues);
    } else if integral {
        if n.bytes().skip(1).all(|b| b == b'0') {
            return Some(0); // `-0`
        }
        out_of_range(field, "must not be negative", issues);
    } else if let Some(f) = crate::decimal::parse_f64(n).filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() >= BEYOND_64_BITS) {
        // A whole number written with an exponent (`1e30`): JS and Python read it as one, just far
        // out of range.
        out_of_range(field, if f < 0.0 { "must not be negative" } else { "is far too large" }, issues);
    } else {
        issues.push(Issue::new(field, IssueCode::NotInteger, format!("{field} must be a whole number (got {n})")));
    }
    None
}

/// The closest known name within two edits, for "did you mean" hints.
#[must_use]
pub fn suggest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(unknown, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Damerau–Levenshtein (optimal string alignment) distance, so a swap like `resolutoin` is one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for i in 0..=a.len() {
        if let Some(x) = d.get_mut(at(i, 0)) {
            *x = i;
        }
    }
    for j in 0..=b.len() {
        if let Some(x) = d.get_mut(j) {
            *x = j;
        }
    }
    for (i, ca) in a.iter().enumerate() {
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let get = |i: usize, j: usize| d.get(at(i, j)).copied().unwrap_or(usize::MAX / 2);
            let mut best = (get(i, j + 1) + 1).min(get(i + 1, j) + 1).min(get(i, j) + cost);
            if i > 0 && j > 0 && a.get(i - 1) == Some(cb) && b.get(j - 1) == Some(ca) {
                best = best.min(get(i - 1, j - 1) + 1);
            }
            if let Some(x) = d.get_mut(at(i + 1, j + 1)) {
                *x = best;
            }
        }
    }
    d.get(at(a.len(), b.len())).copied().unwrap_or(usize::MAX)
}

/// Checks a job id before it goes into a URL path: non-empty, at most 128 characters of
/// `A–Z a–z 0–9 _ -`. Refuses `/`, `..`, `?`, `%`, spaces and non-ASCII, which could reach another
/// path or endpoint.
///
/// # Errors
/// One issue on field `id`.
pub fn validate_job_id(id: &str) -> Result<(), Issue> {
    if id.is_empty() {
        return Err(Issue::new("id", IssueCode::Blank, "a job id is required"));
    }
    if id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(Issue::new("id", IssueCode::InvalidCharacters, "a job id holds only letters, digits, `_` and `-` (at most 128)"));
    }
    // An API key passed for an id would go out in the URL, into every server's and proxy's log
    // (helper-37; a JWT's dots are refused above).
    if id.starts_with("sd_") {
        return Err(Issue::new("id", IssueCode::InvalidPrefix, "a job id does not start with `sd_`, as API keys do: was a key passed for the id? It was not sent"));
    }
    Ok(())
}

/// The longest time in ms an option of the poll schedule may ask for (a first poll, a gap): a day.
/// Longer is a mistake (a wait would never poll), not a schedule.
pub const MAX_GAP_MS: u64 = 86_400_000;

/// The largest scale of the model's expected times (a wait's `poll.expected_scale`, a batch's
/// `expected_scale`, and the scale a batch learns from finished jobs): 20 × the model's longest
/// time (163 s) is ~54 minutes, and a batch does not poll a job before `likely_from` of its
/// expected time, so a larger scale would leave a job unpolled for over half an hour.
pub const MAX_SCALE: f64 = 20.0;

/// The smallest scale a batch keeps (a job that finished at once would teach it 0, "poll at
/// once, for ever"). A caller's scale may be smaller (anything above 0); it is raised to this.
pub const MIN_SCALE: f64 = 0.001;

/// The scale a batch keeps of `scale` (an option, a snapshot's, one it learned): within
/// [`MIN_SCALE`] and [`MAX_SCALE`]; `None` for what is no scale (0 or less, infinite, `NaN`).
#[must_use]
pub fn kept_scale(scale: f64) -> Option<f64> {
    (scale > 0.0 && scale.is_finite()).then(|| scale.clamp(MIN_SCALE, MAX_SCALE))
}

/// The rule of a scale a caller gives (both option records): above 0 (0 or less would mean "at
/// once", and was read as the default) and at most [`MAX_SCALE`]; `NaN` breaks it.
#[must_use]
pub fn scale_ok(scale: f64) -> bool {
    scale > 0.0 && scale <= MAX_SCALE
}

/// The broken rules of an option record: each `(broken, field, message)`; messages are fixed
/// text (no formatting: these checks sit in the wasm module of every app). `Ok` when none is.
///
/// # Errors
/// A validation error listing every broken rule.
pub fn option_rules(rules: &[(bool, &str, &str)]) -> Result<(), crate::error::Error> {
    let issues: Vec<Issue> = rules.iter().filter(|r| r.0).map(|&(_, field, message)| Issue::new(field, IssueCode::OutOfRange, message)).collect();
    if issues.is_empty() { Ok(()) } else { Err(crate::error::Error::validation(issues)) }
}

/// Checks paging: `limit` 1 to 100.
///
/// # Errors
/// One issue on field `limit`.
pub fn validate_list_params(p: &ListParams) -> Result<(), Issue> {
    match p.limit {
        Some(l) if !(1..=MAX_PAGE_LIMIT).contains(&l) => Err(Issue::new("limit", IssueCode::OutOfRange, range_rule("limit").unwrap_or_default())),
        _ => Ok(()),
    }
}

/// The issue of an option record that its reader refused with `message`; `at` is where the
/// record sits in the caller's input (empty for the options themselves, `retry` for a retry
/// policy given on its own). The readers name the member at fault as a backticked path ahead of
/// the rule (`` `poll`: `first_poll_ms`: invalid type: … ``), so the issue's field is `at` and that
/// path, dotted (`poll.first_poll_ms`, `retry.max_retries`), or `options` when the options
/// themselves are at fault; the message starts with the field, like every issue's.
#[must_use]
pub fn option_issue(at: &str, message: &str) -> Issue {
    let mut field = String::from(at);
    let mut rest = message;
    // Char searches only: a substring search would link std's two-way searcher into the wasm.
    while let Some(after) = rest.strip_prefix('`') {
        let Some(end) = after.find('`') else { break };
        let (Some(key), Some(tail)) = (after.get(..end), after.get(end + 1..).and_then(|t| t.strip_prefix(": "))) else { break };
        if !field.is_empty() {
            field.push('.');
        }
        field.push_str(key);
        rest = tail;
    }
    if field.is_empty() {
        field.push_str("options");
    }
    // A number of the right type but outside its rule (negative, a fraction, too large) is out of
    // range, as the bindings' own checks of a number say (npm's `timeoutMs`): the core's readers
    // say "out of range" or "of 0 or more". (Python's options reach here through serde, whose
    // `Deserialize` of these types is the same reader: the same words.)
    let code = if rest.ends_with("out of range") || rest.ends_with("of 0 or more") {
        IssueCode::OutOfRange
    } else if rest.starts_with("unknown option") {
        IssueCode::UnknownField
    } else {
        IssueCode::InvalidType
    };
    let mut message = field.clone();
    message.push_str(": ");
    message.push_str(rest);
    Issue::new(field, code, message)
}

/// Builds paging from loose data (`{limit, offset}`), refusing unknown fields and non-integers.
///
/// # Errors
/// Every violated rule.
pub fn list_params_from_json(value: &Json) -> Result<ListParams, Vec<Issue>> {
    let obj: &Members = match value {
        Json::Null => &[],
        Json::Object(o) => o,
        _ => return Err(vec![Issue::new("params", IssueCode::InvalidType, "list parameters must be an object")]),
    };
    let mut issues = Vec::new();
    unknown_fields(obj, &["limit", "offset"], &mut issues);
    let limit = integer_field(obj, "limit", &mut issues);
    let offset = integer_field(obj, "offset", &mut issues);
    let params = ListParams { limit: limit.map(|l| u32::try_from(l).unwrap_or(u32::MAX)), offset };
    if let Err(issue) = validate_list_params(&params) {
        issues.push(issue);
    }
    if issues.is_empty() { Ok(params) } else { Err(issues) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Json<'_> {
        crate::json::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn an_option_issue_names_the_member_at_fault() {
        use crate::readers::FromJson;
        let refused = |text: &str| crate::job::WaitOptions::from_json(&json(text)).map(|_| ()).unwrap_err().to_string();
        let i = option_issue("", &refused(r#"{"poll": {"first_poll_ms": -1}}"#));
        assert_eq!((i.field.as_str(), i.code), ("poll.first_poll_ms", IssueCode::OutOfRange));
        assert_eq!(i.message, "poll.first_poll_ms: -1 is not a whole number of 0 or more");
        let i = option_issue("", &refused(r#"{"poll": {"first_poll_ms": 1.5}}"#));
        assert_eq!(i.code, IssueCode::OutOfRange, "a fraction, as npm's timeoutMs says: {i:?}");
        let i = option_issue("", &refused(r#"{"poll": {"first_poll_ms": "5"}}"#));
        assert_eq!(i.code, IssueCode::InvalidType, "a string is of the wrong type");
        // Python's options go through serde (`serde_json::from_value`), whose `Deserialize` of them
        // is the same reader: the same codes from the same words.
        let through_serde = |v: serde_json::Value| option_issue("", &serde_json::from_value::<crate::batch::BatchOptions>(v).map(|_| ()).unwrap_err().to_string());
        for (v, code) in [
            (serde_json::json!({"max_spend_cents": -1}), IssueCode::OutOfRange),
            (serde_json::json!({"max_spend_cents": 1.5}), IssueCode::OutOfRange),
            (serde_json::json!({"limits": {"concurrent_jobs": 0.5}}), IssueCode::OutOfRange),
            (serde_json::json!({"max_spend_cents": "5"}), IssueCode::InvalidType),
            (serde_json::json!({"longest_first": 1.5}), IssueCode::InvalidType),
        ] {
            assert_eq!(through_serde(v.clone()).code, code, "{v}");
        }
        let i = option_issue("", &refused(r#"{"retry": {"max_retries": 4294967296}}"#));
        assert_eq!((i.field.as_str(), i.code), ("retry.max_retries", IssueCode::OutOfRange));
        // A record given on its own is named where it sits.
        let policy = crate::retry::RetryPolicy::from_json(&json(r#"{"max_retries": -1}"#)).map(|_| ()).unwrap_err().to_string();
        assert_eq!(option_issue("retry", &policy).field, "retry.max_retries");
        let i = option_issue("", &refused("[]"));
        assert_eq!((i.field.as_str(), i.message.as_str()), ("options", "options: invalid type: an array, expected wait options"));
        // A message that is not a path keeps its text whole.
        assert_eq!(option_issue("retry", "`odd").message, "retry: `odd");
    }

    #[test]
    fn an_estimate_input_takes_defaults_and_names_what_is_wrong() {
        assert_eq!(estimate_input_from_json(&json("{}")), Ok((Resolution::P720, 5)));
        assert_eq!(estimate_input_from_json(&json(r#"{"prompt": "x", "mode": "text_to_video", "resolution": "2k", "duration": 10, "seed": null}"#)), Ok((Resolution::K2, 10)));
        let err = estimate_input_from_json(&json(r#"{"resolutoin": "2k", "duration": 5.5, "resolution": 7}"#)).unwrap_err();
        let got: Vec<_> = err.iter().map(|i| (i.field.as_str(), i.code)).collect();
        assert_eq!(got, [("resolutoin", IssueCode::UnknownField), ("resolution", IssueCode::InvalidType), ("duration", IssueCode::NotInteger)]);
        // Negative or far too large, the message states the range, as for 0 or 11.
        for bad in ["-1", "11", "1e30", "99999999999999999999"] {
            let issue = &estimate_input_from_json(&json(&format!(r#"{{"duration": {bad}}}"#))).unwrap_err()[0];
            assert_eq!((issue.field.as_str(), issue.code, issue.message.as_str()), ("duration", IssueCode::OutOfRange, "duration must be a whole number of seconds from 1 to 10"), "{bad}");
        }
        let limit = list_params_from_json(&json(r#"{"limit": -1}"#)).unwrap_err();
        assert_eq!(limit[0].message, "limit must be from 1 to 100");
        assert_eq!(estimate_input_from_json(&json("[]")).unwrap_err()[0].field, "input");
        // A mode that is none is refused; no prompt is needed.
        let mode = estimate_input_from_json(&json(r#"{"mode": "t2v", "resolution": "1080p"}"#)).unwrap_err();
        assert_eq!((mode[0].field.as_str(), mode[0].code), ("mode", IssueCode::InvalidChoice));
        assert_eq!(estimate_input_from_json(&json(r#"{"mode": "image_to_video", "duration": 5}"#)), Ok((Resolution::P720, 5)));
        // A number JSON cannot hold, as the npm package writes it, is named in the message.
        use crate::readers::FromJson;
        let nan = crate::job::WaitOptions::from_json(&json(r#"{"timeout_ms": {"not_json": "NaN"}}"#)).map(|_| ()).unwrap_err().to_string();
        assert!(nan.contains("invalid type: NaN,"), "{nan}");
    }

    #[test]
    fn suggests_the_field_a_typo_meant() {
        assert_eq!(suggest("resolutoin", &CREATE_FIELDS), Some("resolution"));
        assert_eq!(suggest("promt", &CREATE_FIELDS), Some("prompt"));
        assert_eq!(suggest("zzzzzz", &CREATE_FIELDS), None);
    }

    #[test]
    fn reports_every_violation() {
        let err = create_request_from_json(&json(r#"{"prompt": " ", "mode": "image_to_video", "duration": 11, "seed": -1, "resolutoin": "1080p"}"#)).unwrap_err();
        let fields: Vec<_> = err.iter().map(|i| (i.field.as_str(), i.code)).collect();
        assert!(fields.contains(&("resolutoin", IssueCode::UnknownField)));
        assert!(fields.contains(&("prompt", IssueCode::Blank)));
        assert!(fields.contains(&("duration", IssueCode::OutOfRange)));
        assert!(fields.contains(&("seed", IssueCode::OutOfRange)));
        assert!(fields.contains(&("image_url", IssueCode::Required)));
    }

    #[test]
    fn urls() {
        assert!(is_http_url("https://example.com/a.png"));
        assert!(is_http_url("HTTP://x"));
        assert!(!is_http_url("ftp://x"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("https://a b"));
        assert!(!is_http_url("/relative"));
    }

    /// The fields an options check refused, in order.
    fn refused(r: Result<(), crate::error::Error>) -> Vec<String> {
        r.err().map(|e| e.issues.into_iter().map(|i| i.field).collect()).unwrap_or_default()
    }

    #[test]
    fn a_wait_refuses_a_poll_schedule_that_would_burn_the_rate_limit_or_never_poll() {
        use crate::job::WaitOptions;
        let mut o = WaitOptions::default();
        assert!(o.check().is_ok());
        o.poll.min_interval_ms = 10;
        o.poll.max_interval_ms = 5;
        o.poll.first_poll_ms = MAX_GAP_MS + 1;
        o.poll.expected_scale = 0.0;
        assert_eq!(refused(o.check()), ["poll.first_poll_ms", "poll.max_interval_ms", "poll.expected_scale"]);
        let e = o.check().unwrap_err();
        assert!(e.issues.iter().all(|i| i.code == IssueCode::OutOfRange && i.message.starts_with(&i.field)), "{e:?}");
        assert!(e.issues.iter().any(|i| i.message == "poll.max_interval_ms (5) must be from poll.min_interval_ms (10) to 86400000 ms (a day)"), "{e:?}");
        for scale in [-1.0, f64::NAN, f64::INFINITY, 20.5] {
            o.poll = crate::schedule::PollPolicy { expected_scale: scale, ..Default::default() };
            assert_eq!(refused(o.check()), ["poll.expected_scale"], "{scale}");
        }
        o.poll = crate::schedule::PollPolicy { first_poll_ms: 0, min_interval_ms: 0, max_interval_ms: 0, expected_scale: 0.005 };
        assert_eq!(refused(o.check()), ["poll.min_interval_ms"]);
        o.poll = crate::schedule::PollPolicy { first_poll_ms: 0, min_interval_ms: 1, max_interval_ms: 1, expected_scale: 0.005 };
        assert!(o.check().is_ok());
    }

    #[test]
    fn a_batch_refuses_options_that_would_never_start_or_would_loop() {
        use crate::batch::BatchOptions;
        let mut o = BatchOptions::default();
        assert!(o.check().is_ok());
        o.limits.concurrent_jobs = 0;
        o.poll_interval_ms = 0;
        o.likely_from = 1.5;
        o.expected_scale = -1.0;
        assert_eq!(refused(o.check()), ["limits.concurrent_jobs", "poll_interval_ms", "likely_from", "expected_scale"]);
        o = BatchOptions { likely_from: 0.0, poll_interval_ms: 1, expected_scale: 20.0, ..BatchOptions::default() };
        o.limits.concurrent_jobs = 1;
        assert!(o.check().is_ok());
        o.likely_from = f64::NAN;
        assert_eq!(refused(o.check()), ["likely_from"]);
    }
}
