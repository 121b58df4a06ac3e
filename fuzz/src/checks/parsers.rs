//! The stateless targets: response parsers, errors, dates, validation, pricing.

use super::input::{self, Cursor};
use serde_json::Value;
use usvideo_core::Json;
use usvideo_core::date::{parse_http_date, parse_rfc3339};
use usvideo_core::pricing::{format_decimal_nanos, parse_decimal_nanos, MAX_SAFE_CENTS};
use usvideo_core::response::{self, MAX_RETRY_AFTER_MS};
use usvideo_core::retry::{decide, Decision};
use usvideo_core::validate::{self, Issue};
use usvideo_core::{ApiKey, ClientConfig, Endpoint, Error, ErrorKind, HttpResponse, IdempotencyKey, Jwt, ListParams, Millis, PricingTable, RateLimiter, Resolution, RetryPolicy, Rng};

fn is_2xx(status: u16) -> bool {
    (200..300).contains(&status)
}

fn ok_response(body: &Value) -> HttpResponse {
    HttpResponse::json(200, body)
}

/// What every error made from a response must keep: its status, a message, bounded fields, a
/// capped `Retry-After`, and no credential in the message.
pub fn check_response_error(e: &Error, resp: &HttpResponse) {
    assert_eq!(e.status, Some(resp.status), "the error lost the status: {e:?}");
    if is_2xx(resp.status) {
        assert_eq!(e.kind, ErrorKind::Decode, "a 2xx that does not parse is a decode error: {e:?}");
    } else {
        assert_eq!(e.kind, ErrorKind::from_status(resp.status), "{e:?}");
    }
    check_error(e);
}

/// Invariants of any error.
pub fn check_error(e: &Error) {
    assert!(!e.message.is_empty(), "an error without a message: {e:?}");
    assert!(e.code.chars().count() <= 100, "code too long: {}", e.code.len());
    assert!(!e.code.is_empty(), "an error without a code: {e:?}");
    if let Some(id) = &e.request_id {
        assert!(id.chars().count() <= 200, "request id too long");
    }
    if let Some(ms) = e.retry_after_ms {
        assert!(ms <= MAX_RETRY_AFTER_MS, "retry_after_ms {ms} beyond the cap");
    }
    assert_no_secret(&e.message);
    let _ = e.to_string();
}

/// No API key (`sd_` + at least 5 token characters) and no JWT (`eyJ` + …) shows in `text`.
pub fn assert_no_secret(text: &str) {
    for prefix in ["sd_", "eyJ"] {
        for (i, _) in text.match_indices(prefix) {
            let tail = &text[i + prefix.len()..];
            let run = tail.chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')).count();
            assert!(run <= 4, "a credential-like token survived redaction in {text:?}");
        }
    }
}

fn check_parse<T, F>(resp: &HttpResponse, parsed: Result<T, Error>, on_ok: F)
where
    F: FnOnce(T),
{
    match parsed {
        Ok(v) => {
            assert!(is_2xx(resp.status), "a non-2xx ({}) parsed as a success", resp.status);
            on_ok(v);
        }
        Err(e) => check_response_error(&e, resp),
    }
}

/// `parse_job`: a parsed job has an id and survives its own wire form unchanged.
pub fn parse_job(data: &[u8]) {
    let resp = input::response(&mut Cursor::new(data));
    check_parse(&resp, response::parse_job(&resp), |job| {
        assert!(!job.id.is_empty());
        let wire = serde_json::to_value(&job).expect("a job serializes");
        let again = response::parse_job(&ok_response(&wire)).expect("a job's wire form parses");
        assert_eq!(again, job, "a job changed through its wire form");
        assert_eq!(job.status.is_terminal(), matches!(job.status.as_str(), "completed" | "failed"));
    });
}

/// `parse_job_page`: a page survives its wire form; `has_more` never comes from an overflow.
pub fn parse_job_page(data: &[u8]) {
    let resp = input::response(&mut Cursor::new(data));
    check_parse(&resp, response::parse_job_page(&resp, &ListParams::default()), |page| {
        let wire = serde_json::to_value(&page).expect("a page serializes");
        let again = response::parse_job_page(&ok_response(&wire), &ListParams::default()).expect("a page's wire form parses");
        assert_eq!(again, page, "a page changed through its wire form");
    });
}

/// `parse_account`: survives its wire form.
pub fn parse_account(data: &[u8]) {
    let resp = input::response(&mut Cursor::new(data));
    check_parse(&resp, response::parse_account(&resp), |account| {
        let wire = serde_json::to_value(&account).expect("an account serializes");
        assert_eq!(response::parse_account(&ok_response(&wire)).expect("parses"), account);
    });
}

/// `parse_pricing`: a table has every resolution, survives its wire form, and prices safely.
pub fn parse_pricing(data: &[u8]) {
    let resp = input::response(&mut Cursor::new(data));
    check_parse(&resp, response::parse_pricing(&resp), |table| check_table(&table));
}

fn check_table(table: &PricingTable) {
    for r in Resolution::ALL {
        assert!(table.per_second(r).is_some(), "a parsed table lacks {r}");
    }
    // The wire form is a JSON number (an f64 here): exact up to 15 significant digits, so up to
    // $999 999.999999999 a second; beyond, the round trip is not expected to be exact.
    if table.prices.iter().all(|p| p.per_second_nanodollars < 1_000_000_000_000_000) {
        let again = PricingTable::from_json(&table.to_json()).expect("a table's wire form parses");
        assert_eq!(&again, table, "a table changed through its wire form");
    }
    for r in Resolution::ALL {
        let mut last = 0;
        for d in 0..=11 {
            match table.estimate(r, d) {
                Ok(cents) => {
                    assert!((1..=10).contains(&d), "duration {d} was priced");
                    assert!(cents <= MAX_SAFE_CENTS);
                    assert!(cents >= last, "pricing is not monotonic in duration");
                    last = cents;
                }
                Err(issue) => assert!(!(1..=10).contains(&d) || issue.field == "cost", "{issue:?}"),
            }
        }
    }
}

/// `parse_created_api_key`: the key starts with `sd_` and `Debug` never shows it.
pub fn parse_created_api_key(data: &[u8]) {
    let resp = input::response(&mut Cursor::new(data));
    check_parse(&resp, response::parse_created_api_key(&resp), |k| {
        assert!(k.key.starts_with("sd_"));
        let others = [k.id.as_str(), k.name.as_deref().unwrap_or(""), k.created_at.as_deref().unwrap_or("")];
        if k.key.chars().count() >= 11 && !others.iter().any(|o| o.contains(&k.key)) {
            assert!(!format!("{k:?}").contains(&k.key), "Debug shows the key");
        }
    });
}

/// `parse_delete`: an id (length byte + bytes) then the response.
pub fn parse_delete(data: &[u8]) {
    let mut c = Cursor::new(data);
    let id = c.short_str();
    let resp = input::response(&mut c);
    check_parse(&resp, response::parse_delete(&resp, &id), |d| {
        if resp.body.iter().all(u8::is_ascii_whitespace) {
            assert_eq!(d.id, id);
            assert!(d.deleted);
        }
    });
}

/// `error_from_response` on any status, headers and body, and what every endpoint's retry rule
/// makes of it.
pub fn error_from_response(data: &[u8]) {
    let mut c = Cursor::new(data);
    let attempt = u32::from(c.u8() % 8);
    let remaining = if c.bool() { Some(u64::from(c.u32())) } else { None };
    let seed = u64::from(c.u16());
    let resp = input::response(&mut c);
    let e = response::error_from_response(&resp);
    assert_eq!(e.status, Some(resp.status));
    assert_eq!(e.kind, ErrorKind::from_status(resp.status));
    check_error(&e);
    assert_eq!(e.retry_after_ms, response::retry_after_ms(&resp));
    assert_eq!(response::check_status(&resp).is_ok(), is_2xx(resp.status));
    check_decisions(&e, attempt, remaining, seed);
}

const ENDPOINTS: [Endpoint; 7] = [Endpoint::CreateVideo, Endpoint::RetrieveVideo, Endpoint::ListVideos, Endpoint::DeleteVideo, Endpoint::Account, Endpoint::Pricing, Endpoint::CreateApiKey];

fn check_decisions(e: &Error, attempt: u32, remaining: Option<u64>, seed: u64) {
    let policy = RetryPolicy::default();
    for endpoint in ENDPOINTS {
        match decide(endpoint, e, attempt, &policy, remaining, &mut Rng::new(seed)) {
            Decision::Retry { after_ms } => {
                assert!(attempt < policy.max_retries, "retried past max_retries");
                assert!(after_ms <= policy.max_delay_ms.max(policy.max_retry_after_ms), "waits {after_ms} ms");
                assert!(remaining.is_none_or(|r| after_ms < r), "a retry past the deadline");
                assert!(e.kind != ErrorKind::InsufficientBalance, "a 402 was retried");
            }
            Decision::Reconcile => assert_eq!(endpoint, Endpoint::CreateVideo, "only creates reconcile"),
            Decision::Fail => {}
        }
    }
}

/// `Retry-After` in every form: capped, and no limiter or decision waits beyond its cap for it.
pub fn retry_after(data: &[u8]) {
    let mut c = Cursor::new(data);
    let now = Millis(u64::from(c.u32()));
    let policy = RetryPolicy { max_retries: u32::from(c.u8() % 6), base_delay_ms: u64::from(c.u16()), max_delay_ms: u64::from(c.u16()), max_retry_after_ms: u64::from(c.u32()) };
    let mut resp = input::response(&mut c);
    let ms = response::retry_after_ms(&resp);
    if let Some(ms) = ms {
        assert!(ms <= MAX_RETRY_AFTER_MS);
    }
    // Every shape a limiter sees: it never blocks beyond the default cap (60 s) for one 429.
    resp.status = 429;
    let mut limiter = RateLimiter::new(60);
    limiter.observe(&resp, now);
    assert!(limiter.next_free(now) <= now.plus(RetryPolicy::default().max_retry_after_ms), "a Retry-After blocked the limiter too long");
    let mut e = response::error_from_response(&resp);
    e.retry_after_ms = ms;
    for endpoint in ENDPOINTS {
        if let Decision::Retry { after_ms } = decide(endpoint, &e, 0, &policy, None, &mut Rng::new(1)) {
            assert!(after_ms <= policy.max_delay_ms.max(policy.max_retry_after_ms));
            if let Some(ms) = ms {
                assert_eq!(after_ms, ms, "a Retry-After that was honoured must be waited exactly");
            }
        }
    }
}

/// Beyond any date the parsers accept (year 200 000), in ms either side of 1970.
const DATE_BOUND_MS: i64 = 6_400_000_000_000_000;

/// The two date parsers: raw text (first byte even), or a date written in both formats, which
/// must read back the same instant (first byte odd).
pub fn http_date(data: &[u8]) {
    let mut c = Cursor::new(data);
    if c.u8() & 1 == 0 {
        let text = String::from_utf8_lossy(c.rest());
        for v in [parse_http_date(&text), parse_rfc3339(&text)].into_iter().flatten() {
            assert!(v.abs() < DATE_BOUND_MS, "{text:?} read as {v}");
        }
        return;
    }
    let y = i64::from(c.u16() % 10_000);
    let mo = 1 + c.below(12);
    let d = 1 + c.below(28);
    let (h, mi, s) = (c.below(24), c.below(60), c.below(60));
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let http = format!("Mon, {d:02} {} {y:04} {h:02}:{mi:02}:{s:02} GMT", months[mo - 1]);
    let rfc = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z");
    let a = parse_http_date(&http).unwrap_or_else(|| panic!("{http} did not parse"));
    let b = parse_rfc3339(&rfc).unwrap_or_else(|| panic!("{rfc} did not parse"));
    assert_eq!(a, b, "{http} and {rfc} differ");
    let (oh, om) = (c.below(24), c.below(60));
    let shifted = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.5+{oh:02}:{om:02}");
    let offset_ms = i64::try_from((oh * 60 + om) * 60_000).expect("small");
    assert_eq!(parse_rfc3339(&shifted), Some(b + 500 - offset_ms), "{shifted}");
    if s < 59 {
        let next = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{:02}Z", s + 1);
        assert_eq!(parse_rfc3339(&next), Some(b + 1000));
    }
}

const CREATE_KEYS: &[&str] = &["prompt", "mode", "resolution", "duration", "image_url", "reference_url", "seed", "resolutoin", "promt"];

/// A serde_json value as the core's [`Json`] (numbers as serde_json writes them).
fn j(v: &Value) -> Json<'static> {
    usvideo_core::json::parse(v.to_string().as_bytes()).map(Json::into_owned).unwrap_or_default()
}

fn loose_json(c: &mut Cursor<'_>, keys: &[&str]) -> Option<Value> {
    if c.u8() & 1 == 0 {
        serde_json::from_slice(c.rest()).ok()
    } else {
        // Mostly an object: that is where the rules are.
        let v = input::json_value(c, keys, 3);
        Some(if v.is_object() || c.u8() < 32 { v } else { Value::Object(serde_json::Map::new()) })
    }
}

fn check_issues(issues: &[Issue]) {
    assert!(!issues.is_empty(), "an error without issues");
    let mut fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
    fields.sort_unstable();
    let n = fields.len();
    fields.dedup();
    assert_eq!(fields.len(), n, "a field was reported twice: {issues:?}");
    for i in issues {
        assert!(!i.message.is_empty());
    }
}

/// `create_request_from_json` on any JSON: an accepted request passes the typed validator,
/// survives its wire form, is priced and builds a request; a refused one names each field once.
pub fn validate_create(data: &[u8]) {
    let mut c = Cursor::new(data);
    let Some(value) = loose_json(&mut c, CREATE_KEYS) else { return };
    match validate::create_request_from_json(&j(&value)) {
        Ok(req) => {
            assert!(validate::validate_create(&req).is_ok(), "accepted but invalid: {req:?}");
            let wire = serde_json::to_value(&req).expect("serializes");
            assert_eq!(validate::create_request_from_json(&j(&wire)).as_ref(), Ok(&req), "changed through its wire form");
            let cents = PricingTable::builtin().estimate_request(&req).expect("an accepted request is priced");
            assert!(cents > 0);
            let config = ClientConfig::new("http://h/v1").expect("config");
            let key = ApiKey::new("sd_fuzz_key_000000").expect("key");
            let idem = IdempotencyKey::from_string("usv-fuzz").expect("idem");
            let built = config.create_video(Some(&key), &req, &idem).expect("an accepted request builds");
            let body: Value = serde_json::from_slice(built.body.as_deref().unwrap_or(b"")).expect("the body is JSON");
            assert_eq!(validate::create_request_from_json(&j(&body)).as_ref(), Ok(&req), "the sent body reads back differently");
        }
        Err(issues) => {
            check_issues(&issues);
            if !value.is_object() {
                assert_eq!(issues.len(), 1);
                assert_eq!(issues[0].field, "body");
            }
        }
    }
}

/// Job ids, list parameters, API keys, JWTs and idempotency keys from loose input.
pub fn validate_loose(data: &[u8]) {
    let mut c = Cursor::new(data);
    let config = ClientConfig::new("http://h/v1").expect("config");
    let key = ApiKey::new("sd_fuzz_key_000000").expect("key");
    let unsafe_char = |s: &str| s.chars().any(|ch| ch.is_whitespace() || ch.is_control() || !ch.is_ascii());
    match c.u8() % 5 {
        0 => {
            let id = String::from_utf8_lossy(c.rest()).into_owned();
            let valid = validate::validate_job_id(&id).is_ok();
            assert_eq!(valid, !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') && !id.starts_with("sd_"), "{id:?}");
            for built in [config.retrieve_video(Some(&key), &id), config.delete_video(Some(&key), &id)] {
                match built {
                    Ok(req) => {
                        assert!(valid);
                        assert!(req.url.ends_with(&format!("/v1/videos/{id}")), "{}", req.url);
                    }
                    Err(e) => {
                        assert!(!valid);
                        assert_eq!(e.kind, ErrorKind::Validation);
                    }
                }
            }
        }
        1 => {
            let Some(value) = loose_json(&mut c, &["limit", "offset", "limt"]) else { return };
            match validate::list_params_from_json(&j(&value)) {
                Ok(p) => {
                    assert!(validate::validate_list_params(&p).is_ok());
                    let req = config.list_videos(Some(&key), &p).expect("accepted params build");
                    assert!(req.url.starts_with("http://h/v1/videos"));
                    let back = serde_json::to_value(p).expect("serializes");
                    assert_eq!(validate::list_params_from_json(&j(&back)), Ok(p));
                }
                Err(issues) => check_issues(&issues),
            }
            let typed = ListParams { limit: Some(c.u32()), offset: Some(c.u64()) };
            assert_eq!(config.list_videos(Some(&key), &typed).is_ok(), validate::validate_list_params(&typed).is_ok());
        }
        2 => {
            let text = String::from_utf8_lossy(c.rest()).into_owned();
            match ApiKey::new(text.clone()) {
                Ok(k) => {
                    assert!(text.starts_with("sd_") && text.len() > 3 && !unsafe_char(&text));
                    assert_eq!(config.retrieve_account(Some(&k)).expect("a keyed call builds").header("authorization"), Some(format!("Bearer {text}").as_str()));
                    if text.len() >= 12 {
                        assert!(!format!("{k:?}").contains(&text) && !k.to_string().contains(&text), "the key shows");
                    }
                }
                Err(issue) => assert_eq!(issue.field, "api_key"),
            }
        }
        3 => {
            let text = String::from_utf8_lossy(c.rest()).into_owned();
            match Jwt::new(text.clone()) {
                Ok(j) => {
                    assert!(!unsafe_char(&text) && text.split('.').count() == 3);
                    let req = config.create_api_key(&j, Some("n")).expect("builds");
                    assert_eq!(req.header("authorization"), Some(format!("Bearer {text}").as_str()));
                    if text.len() >= 14 {
                        assert!(!format!("{j:?}").contains(&text), "the JWT shows");
                    }
                }
                Err(issue) => assert_eq!(issue.field, "jwt"),
            }
        }
        _ => {
            let text = String::from_utf8_lossy(c.rest()).into_owned();
            if let Ok(k) = IdempotencyKey::from_string(&text) {
                assert!(!text.is_empty() && text.len() <= 255 && text.bytes().all(|b| b.is_ascii_graphic()));
                let req = CreateVideoRequestFixture::text();
                let built = config.create_video(Some(&key), &req, &k).expect("builds");
                assert_eq!(built.header("idempotency-key"), Some(text.as_str()));
            }
        }
    }
}

struct CreateVideoRequestFixture;

impl CreateVideoRequestFixture {
    fn text() -> usvideo_core::CreateVideoRequest {
        usvideo_core::CreateVideoRequest::text("a lake at dawn")
    }
}

/// `PricingTable::from_json` on any JSON (or a table built from the input), and exact decimals.
pub fn pricing_table(data: &[u8]) {
    let mut c = Cursor::new(data);
    let nanos = c.u64();
    assert_eq!(parse_decimal_nanos(&format_decimal_nanos(nanos)), Some(nanos), "{nanos} does not survive its decimal text");
    let value = match c.u8() % 3 {
        0 => {
            let Ok(v) = serde_json::from_slice::<Value>(c.rest()) else { return };
            v
        }
        1 => input::json_value(&mut c, &["720p", "1080p", "2k", "per_second", "4k"], 3),
        _ => {
            let mut m = serde_json::Map::new();
            for r in ["720p", "1080p", "2k", "4k"] {
                if c.u8() < 240 {
                    let text = if c.bool() { format_decimal_nanos(c.u64() >> c.below(64)) } else { c.short_str() };
                    if let Ok(n) = serde_json::from_str::<Value>(&text) {
                        m.insert(r.to_owned(), serde_json::json!({ "per_second": n }));
                    }
                }
            }
            Value::Object(m)
        }
    };
    if let Ok(table) = PricingTable::from_json(&j(&value)) {
        check_table(&table);
    }
    check_float(&format_decimal_nanos(nanos));
    if let Some(text) = value.as_str() {
        if let Some(n) = parse_decimal_nanos(text) {
            assert_eq!(parse_decimal_nanos(&format_decimal_nanos(n)), Some(n));
        }
        check_float(text);
    }
}

/// The core's float reader (`decimal::parse_f64`, which replaces std's in the wasm) reads what
/// std reads, to 1e-14, and nothing std refuses; it refuses only what is not a decimal
/// (`inf`, `NaN`) or has an exponent beyond an `i32`.
fn check_float(text: &str) {
    let ours = usvideo_core::decimal::parse_f64(text);
    match (ours, text.parse::<f64>()) {
        (Some(a), Ok(b)) => {
            let near = a == b || ((a - b) / b).abs() < 1e-14 || (a.abs() < 1e-290 && b.abs() < 1e-290);
            let both_huge = (a.is_infinite() || b.is_infinite()) && a.abs() > 1e307 && b.abs() > 1e307 && a.signum() == b.signum();
            assert!(near || both_huge, "{text:?}: read as {a}, std reads {b}");
        }
        (None, Ok(b)) => {
            let exponent = text.find(['e', 'E']).map_or("", |i| &text[i + 1..]);
            let not_decimal = text.bytes().any(|c| c.is_ascii_alphabetic() && !matches!(c, b'e' | b'E'));
            assert!(not_decimal || exponent.trim_start_matches(['+', '-']).len() > 9, "{text:?}: std reads {b}, the core nothing");
        }
        (Some(a), Err(_)) => panic!("{text:?}: read as {a}, std refuses it"),
        (None, Err(_)) => {}
    }
}
