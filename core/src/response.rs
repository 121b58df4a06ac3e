//! Response parsing: each endpoint's body to a typed value, and any non-2xx to a typed [`Error`].
//!
//! Servers and proxies send anything: an empty body, plain text, an HTML error page, a truncated
//! or foreign JSON shape. None of it may panic or hide the status: every error keeps the HTTP
//! status, the `x-request-id`, and the server's `code`, `message` and `field` when they are there.

use crate::date;
use crate::error::{Error, ErrorKind};
use crate::http::HttpResponse;
use crate::model::{Account, CreatedApiKey, DeleteResult, Job, JobPage, ListParams, DEFAULT_PAGE_LIMIT};
use crate::pricing::PricingTable;
use crate::json::{self, Json};
use crate::readers::{FromJson, PageWire};

/// How much of a non-JSON error body is quoted in the message.
const QUOTE_CHARS: usize = 200;

/// The request id the service sent (`x-request-id`), if any.
#[must_use]
pub fn request_id(resp: &HttpResponse) -> Option<String> {
    // Scrubbed like messages: a proxy that echoes the request back must not put a key in an error.
    resp.header("x-request-id").filter(|v| !v.is_empty()).map(|v| crate::secret::redact_text(v).chars().take(200).collect())
}

/// The largest `Retry-After` reported, in ms (2^53 − 1, about 285 000 years): an absurd value is
/// capped here, so it stays an exact JS number and adding it to a [`crate::Millis`] cannot overflow.
/// (Waits are capped far lower, by [`crate::RetryPolicy::max_retry_after_ms`].)
pub const MAX_RETRY_AFTER_MS: u64 = crate::time::Millis::MAX.0;

/// `Retry-After` in milliseconds: delta-seconds (`3`, also `2.5`) or an HTTP date, which is read
/// against the response's own `Date` header so that neither clock needs to be right. Capped at
/// [`MAX_RETRY_AFTER_MS`].
#[must_use]
pub fn retry_after_ms(resp: &HttpResponse) -> Option<u64> {
    let v = resp.header("retry-after")?.trim();
    let ms = if let Some(secs) = json::parse_u64(v) {
        secs.saturating_mul(1000)
    } else if let Some(nanos) = crate::pricing::parse_decimal_nanos(v) {
        nanos / 1_000_000
    } else if let Some(secs) = Some(v).filter(|v| v.bytes().all(|b| b.is_ascii_digit() || b == b'.')).and_then(crate::decimal::parse_f64) {
        // Plain seconds too long (or too precise) to read exactly: near enough, saturating.
        f64_ms_saturating(secs * 1000.0)
    } else {
        let at = date::parse_http_date(v)?;
        let now = date::parse_http_date(resp.header("date")?)?;
        u64::try_from(at.saturating_sub(now)).unwrap_or(0)
    };
    Some(ms.min(MAX_RETRY_AFTER_MS))
}

/// A non-negative float of ms as an integer, saturating (`as` saturates; NaN becomes 0).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn f64_ms_saturating(ms: f64) -> u64 {
    ms as u64
}

/// The error a non-2xx response stands for. Reads `{"error": {"code", "message", "field"}}`, and
/// also `{"error": "text"}`, `{"message": …}`, `{"detail": …}`, plain text and HTML.
#[must_use]
pub fn error_from_response(resp: &HttpResponse) -> Error {
    let kind = ErrorKind::from_status(resp.status);
    let mut code = None;
    let mut message = None;
    let mut field = None;
    if let Ok(v) = json::parse(&resp.body) {
        let obj = v.get("error").filter(|e| e.is_object()).unwrap_or(&v);
        // Blank texts count as absent: an error must say something (`{"message": ""}` fell through
        // to an empty message).
        let text = |k: &str| obj.get(k).and_then(Json::as_str).filter(|t| !t.trim().is_empty()).map(str::to_owned);
        code = text("code").or_else(|| text("type"));
        message = text("message").or_else(|| text("detail")).or_else(|| v.get("error").and_then(Json::as_str).filter(|t| !t.trim().is_empty()).map(str::to_owned));
        field = text("field").or_else(|| text("param"));
    }
    let message = message.unwrap_or_else(|| {
        let body = String::from_utf8_lossy(&resp.body);
        let looks_html = body.trim_start().starts_with('<');
        let quoted: String = body.trim().chars().take(QUOTE_CHARS).collect();
        if quoted.is_empty() || looks_html {
            format!("HTTP {} {}", resp.status, reason(resp.status))
        } else {
            format!("HTTP {}: {quoted}", resp.status)
        }
    });
    let mut e = Error::new(kind, message);
    if let Some(c) = code.filter(|c| !c.is_empty()) {
        // Redacted before it is cut: a cut could leave a key too short to be recognised.
        e.code = crate::secret::redact_text(&c).chars().take(100).collect();
    }
    e.status = Some(resp.status);
    e.field = field.map(|f| crate::secret::redact_text(&f));
    e.request_id = request_id(resp);
    e.retry_after_ms = retry_after_ms(resp);
    e
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// `Ok(resp)` for a 2xx, else the error it stands for.
///
/// # Errors
/// The typed error of a non-2xx status.
pub fn check_status(resp: &HttpResponse) -> Result<&HttpResponse, Error> {
    if (200..300).contains(&resp.status) { Ok(resp) } else { Err(error_from_response(resp)) }
}

fn decode_error(resp: &HttpResponse, what: &str, detail: &str) -> Error {
    let mut e = Error::new(ErrorKind::Decode, format!("the server's answer is not a valid {what}: {detail}"));
    e.status = Some(resp.status);
    e.request_id = request_id(resp);
    e
}

fn parse_json<T: FromJson>(resp: &HttpResponse, what: &str) -> Result<T, Error> {
    check_status(resp)?;
    json::parse(&resp.body).and_then(|v| T::from_json(&v)).map_err(|e| decode_error(resp, what, &e.to_string()))
}

/// A job (`POST /v1/videos`, `GET /v1/videos/{id}`).
///
/// # Errors
/// The status's error, or `decode` when the body is not a job (it needs at least `id` and
/// `status`).
pub fn parse_job(resp: &HttpResponse) -> Result<Job, Error> {
    let job: Job = parse_json(resp, "job")?;
    if job.id.is_empty() {
        return Err(decode_error(resp, "job", "empty id"));
    }
    Ok(job)
}

/// The answer to a request for job `id` (a retrieve, a wait's poll): that job, or a `Decode`
/// error naming `id` when the answer is no job or another job (helper-46: a misrouting proxy or
/// a cache handed its caller someone else's video as theirs).
///
/// # Errors
/// As [`parse_job`], with `job_id` set; `Decode` for another job's answer.
pub fn parse_job_of(resp: &HttpResponse, id: &str) -> Result<Job, Error> {
    let named = |mut e: Error| {
        e.job_id.get_or_insert_with(|| id.to_owned());
        e
    };
    let job = parse_job(resp).map_err(named)?;
    if job.id != id {
        return Err(named(Error::new(ErrorKind::Decode, format!("the service answered a request for job {id} with another job ({})", job.id))));
    }
    Ok(job)
}

/// The answer to a read of a job: [`parse_job_of`] when the job's id is known, else [`parse_job`]
/// (a wait's first poll of a job it was handed by name always knows it; a batch item's get does
/// once its create was answered).
///
/// # Errors
/// As [`parse_job_of`] or [`parse_job`].
pub fn parse_job_for(resp: &HttpResponse, id: Option<&str>) -> Result<Job, Error> {
    match id {
        Some(id) => parse_job_of(resp, id),
        None => parse_job(resp),
    }
}

/// A page of jobs (`GET /v1/videos`): `{data, limit, offset, total, has_more}` or a bare array.
///
/// `asked` is the page the request asked for. It fills what the answer leaves out
/// (*assumption*; the reference shows no page shape): a bare array, or an object with neither
/// `has_more` nor `total`, is taken to be the asked page, and one of exactly the asked `limit`
/// (default 20) to have more after it. One longer than asked comes from a server that does not
/// page by `limit`, so nothing is taken to follow it. (Against a server that pages but ignores
/// `offset`, the walkers over every page stop when a page starts with the job the one before
/// started with.)
///
/// # Errors
/// The status's error, or `decode`.
pub fn parse_job_page(resp: &HttpResponse, asked: &ListParams) -> Result<JobPage, Error> {
    let asked_limit = asked.limit.unwrap_or(DEFAULT_PAGE_LIMIT);
    let full = |len: usize, limit: u32| limit > 0 && u64::try_from(len).ok() == Some(u64::from(limit));
    // The bare-array form is told by its first byte.
    if resp.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        let data: Vec<Job> = parse_json(resp, "page of jobs")?;
        let has_more = full(data.len(), asked_limit);
        return Ok(JobPage { data, limit: asked_limit, offset: asked.offset.unwrap_or(0), total: None, has_more });
    }
    let page: PageWire = parse_json(resp, "page of jobs")?;
    let data = page.data.ok_or_else(|| decode_error(resp, "page of jobs", "no `data` array"))?;
    let limit = page.limit.and_then(|l| u32::try_from(l).ok()).unwrap_or(asked_limit);
    let offset = page.offset.or(asked.offset).unwrap_or(0);
    let total = page.total;
    let has_more = match (page.has_more, total) {
        (Some(more), _) => more,
        (None, Some(t)) => offset.saturating_add(u64::try_from(data.len()).unwrap_or(u64::MAX)) < t,
        (None, None) => full(data.len(), limit),
    };
    Ok(JobPage { data, limit, offset, total, has_more })
}

/// The answer to a delete. An empty 2xx body (204) is accepted as `{id, deleted: true}`.
///
/// # Errors
/// The status's error, or `decode`.
pub fn parse_delete(resp: &HttpResponse, id: &str) -> Result<DeleteResult, Error> {
    check_status(resp)?;
    if resp.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DeleteResult { id: id.to_owned(), deleted: true, refunded_cents: 0 });
    }
    parse_json(resp, "delete result")
}

/// The `refunded_cents` a delete's answer names, if it names one (`None` for an empty or
/// unreadable body, or one without it): a clean-up tells a pending job's delete from a finished
/// one's by it.
pub(crate) fn delete_refund(resp: &HttpResponse) -> Option<u64> {
    json::parse(&resp.body).ok()?.get("refunded_cents")?.as_u64()
}

/// `GET /v1/account`.
///
/// # Errors
/// The status's error, or `decode`.
pub fn parse_account(resp: &HttpResponse) -> Result<Account, Error> {
    parse_json(resp, "account")
}

/// `GET /v1/pricing`, read exactly (0.24 is 24 cents per second, not 23.999…).
///
/// # Errors
/// The status's error, or `decode`.
pub fn parse_pricing(resp: &HttpResponse) -> Result<PricingTable, Error> {
    check_status(resp)?;
    let v = json::parse(&resp.body).map_err(|e| decode_error(resp, "pricing table", &e.to_string()))?;
    PricingTable::from_json(&v).map_err(|e| decode_error(resp, "pricing table", &e))
}

/// `POST /v1/api-keys`.
///
/// # Errors
/// The status's error, or `decode` (including a `key` that is not an `sd_` key).
pub fn parse_created_api_key(resp: &HttpResponse) -> Result<CreatedApiKey, Error> {
    let read = parse_json::<CreatedApiKey>(resp, "API key").and_then(|k| match k.key.starts_with(crate::secret::ApiKey::PREFIX) {
        true => Ok(k),
        false => Err(decode_error(resp, "API key", "the key does not start with sd_")),
    });
    read.map_err(|mut e| {
        // A 2xx made the key, and it is shown only once: one nobody can read stays valid, as a
        // create with no answer may leave one (helper-76: said only "could not decode").
        if (200..300).contains(&resp.status) && e.kind == ErrorKind::Decode {
            e.code = crate::error::OUTCOME_UNKNOWN.to_owned();
            e.message = format!("{}: the service answered that it created the key, which is shown only once and could not be read. Revoke keys you do not know from your dashboard", e.message);
        }
        e
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Header;
    use crate::model::{JobError, Resolution};

    fn resp(status: u16, body: &str, headers: &[(&str, &str)]) -> HttpResponse {
        HttpResponse { status, headers: headers.iter().map(|(n, v)| Header::new(*n, *v)).collect(), body: body.as_bytes().to_vec() }
    }

    #[test]
    fn survives_any_error_body() {
        for body in ["", "oops", "<html><body>Bad gateway</body></html>", "{\"error\":", "[1,2]", "{\"foo\":1}", "\u{0}\u{1}"] {
            let e = error_from_response(&resp(502, body, &[("X-Request-Id", "req_9")]));
            assert_eq!(e.kind, ErrorKind::Upstream);
            assert_eq!(e.status, Some(502));
            assert_eq!(e.request_id.as_deref(), Some("req_9"));
        }
    }

    #[test]
    fn secrets_echoed_in_code_field_or_request_id_are_scrubbed() {
        let key = "sd_live_0123456789abcdefSECRET";
        let body = format!(r#"{{"error":{{"code":"{key}","message":"m","field":"{key}"}}}}"#);
        let e = error_from_response(&resp(400, &body, &[("x-request-id", key)]));
        let shown = format!("{} {:?} {:?} {:?}", e.code, e.field, e.request_id, e);
        assert!(!shown.contains(key), "{shown}");
    }

    #[test]
    fn reads_the_error_shape() {
        let e = error_from_response(&resp(400, r#"{"error":{"code":"invalid_request","message":"duration must be 1-10","field":"duration"}}"#, &[]));
        assert_eq!((e.kind, e.code.as_str(), e.field.as_deref()), (ErrorKind::BadRequest, "invalid_request", Some("duration")));
    }

    #[test]
    fn a_job_asked_for_by_id_is_that_job_or_an_error_naming_it() {
        let own = resp(200, r#"{"id": "job_1", "status": "pending"}"#, &[]);
        assert_eq!(parse_job_of(&own, "job_1").map(|j| j.id).as_deref(), Ok("job_1"));
        // helper-46: a misrouting proxy's or a cache's answer of another job was returned as it.
        let other = resp(200, r#"{"id": "job_2", "status": "completed", "video_url": "https://cdn/2.mp4"}"#, &[]);
        let e = parse_job_of(&other, "job_1").unwrap_err();
        assert_eq!((e.kind, e.job_id.as_deref()), (ErrorKind::Decode, Some("job_1")), "{e}");
        assert!(e.message.contains("another job (job_2)"), "{e}");
        // An unreadable answer names the job asked for too (it named none in a retrieve).
        let e = parse_job_of(&resp(200, r#"{"id": "job_1", "status": "completed"}"#, &[]), "job_1").unwrap_err();
        assert_eq!((e.kind, e.job_id.as_deref()), (ErrorKind::Decode, Some("job_1")), "{e}");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after_ms(&resp(429, "", &[("Retry-After", "3")])), Some(3000));
        assert_eq!(retry_after_ms(&resp(429, "", &[("Retry-After", "1.5")])), Some(1500));
        assert_eq!(retry_after_ms(&resp(429, "", &[("Retry-After", "Sun, 06 Nov 1994 08:49:40 GMT"), ("Date", "Sun, 06 Nov 1994 08:49:37 GMT")])), Some(3000));
        assert_eq!(retry_after_ms(&resp(429, "", &[("Retry-After", "soon")])), None);
    }

    #[test]
    fn unknown_status_is_kept() {
        let j = parse_job(&resp(200, r#"{"id":"job_1","status":"upscaling","mode":"weird","duration":"x","extra":1}"#, &[])).unwrap();
        assert_eq!(j.status.as_str(), "upscaling");
        assert!(!j.status.is_terminal());
        assert_eq!(j.mode, None);
        assert_eq!(j.duration, None);
    }

    #[test]
    fn a_field_of_the_wrong_shape_is_none_and_the_rest_is_read() {
        let body = r#"{"id":"job_1","status":"failed","duration":-5,"seed":18446744073709551616,"progress":300,
            "estimated_cost_cents":5.0,"cost_cents":[1,{"a":2}],"video_url":{"href":"x"},"prompt":null,
            "resolution":"1080p","mode":{"text_to_video":null},"created_at":true,
            "error":{"code":"generation_failed","message":"refused","extra":[1]}}"#;
        let j = parse_job(&resp(200, body, &[])).unwrap();
        assert_eq!((j.duration, j.seed, j.progress, j.estimated_cost_cents, j.cost_cents), (None, None, None, None, None));
        assert_eq!((j.video_url, j.prompt, j.mode, j.created_at), (None, None, None, None));
        assert_eq!(j.resolution, Some(Resolution::P1080));
        assert_eq!(j.error, Some(JobError { code: "generation_failed".into(), message: "refused".into() }));
        for (error, read) in [
            (r#"{"message":"m"}"#, Some(JobError { code: String::new(), message: "m".into() })),
            (r#"{"code":5,"message":"m"}"#, None),
            (r#"{"code":"a","code":"b"}"#, None),
            (r#""boom""#, None),
            ("null", None),
        ] {
            let j = parse_job(&resp(200, &format!(r#"{{"id":"job_1","status":"failed","error":{error},"duration":7}}"#), &[])).unwrap();
            assert_eq!((j.error, j.duration), (read, Some(7)), "{error}");
        }
    }
}
