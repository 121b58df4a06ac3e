//! Typed values read from a [`Json`] tree by hand: the service's bodies (a job, a page, an account,
//! a delete, a new key), the option records every binding passes (`WaitOptions`,
//! `BatchOptions` and what they hold) and a batch's snapshot (`BatchSnapshot` and what it holds:
//! requests, idempotency keys, results, errors).
//!
//! Why by hand: these readers are the types' only ones (their serde `Deserialize` reads a tree and
//! calls them), and in the npm package the derived readers over the tree's `Deserializer` were
//! ~15 % of the WebAssembly module. A record here is a loop over its members.
//!
//! Rules (the serde derives' rules, kept so that no binding's behaviour changed):
//! - A record is an object; members it does not know are skipped; a known member given twice is
//!   an error; a required one missing is an error.
//! - A member present must have its type: `null` is `None` for an `Option`, an error for anything
//!   else (`{"retry": null}` is not a policy). An option record's absent member keeps its default.
//! - An integer is read only from a number written as one (`5`, not `5.0`) that fits its type;
//!   a float from any number.
//! - An enum is read from its exact wire name (`rate_limit`, `1080p`).
//! - A snapshot's idempotency key must be one a create may send (`IdempotencyKey::from_string`):
//!   a snapshot is text a user stores, and the key goes into a header.
//! - A job's optional members are *lenient*: a value of the wrong shape is `None` and the rest of
//!   the job is read (a server that changes one field must not break every client). Only `id`
//!   (a string) and `status` (any string) are required, and `prompt`, when present, is text.

use crate::batch::{BatchOptions, BatchSnapshot, ItemResult, SnapshotItem};
use crate::error::{Error, ErrorKind};
use crate::http::TransportKind;
use crate::job::WaitOptions;
use crate::json::{self, Json};
use crate::model::{Account, CreateVideoRequest, CreatedApiKey, DeleteResult, Job, JobError, JobStatus, Mode, Resolution};
use crate::request::IdempotencyKey;
use crate::validate::{Issue, IssueCode};
use crate::ratelimit::Limits;
use crate::retry::RetryPolicy;
use crate::schedule::PollPolicy;
use std::borrow::Cow;

/// A value read from a [`Json`] tree.
pub trait FromJson: Sized {
    /// Reads `v`.
    ///
    /// # Errors
    /// When `v` is not this type (see the module's rules).
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error>;
}

type MemberList<'j, 'a> = &'j [(Cow<'a, str>, Json<'a>)];

/// The members of a record named `what`.
fn record<'j, 'a>(v: &'j Json<'a>, what: &str) -> Result<MemberList<'j, 'a>, json::Error> {
    if let Json::Object(m) = v { Ok(m) } else { Err(json::Error::new(format!("invalid type: {}, expected {what}", v.kind()))) }
}

/// Member `key`, if given once; given twice is an error.
fn member<'j, 'a>(m: MemberList<'j, 'a>, key: &str) -> Result<Option<&'j Json<'a>>, json::Error> {
    let mut found = m.iter().filter(|(k, _)| k == key).map(|(_, v)| v);
    let first = found.next();
    if found.next().is_some() {
        return Err(json::Error::new(format!("duplicate field `{key}`")));
    }
    Ok(first)
}

/// The members named in `names`, by position, in one pass over the record (the job reader's, on
/// every poll's path): each at most once.
fn fields<'j, 'a, const N: usize>(m: MemberList<'j, 'a>, names: &[&str; N]) -> Result<[Option<&'j Json<'a>>; N], json::Error> {
    let mut found = [None; N];
    for (key, value) in m {
        let key: &str = key;
        if let Some((name, slot)) = names.iter().zip(found.iter_mut()).find(|(n, _)| n.len() == key.len() && **n == key)
            && slot.replace(value).is_some()
        {
            return Err(json::Error::new(format!("duplicate field `{name}`")));
        }
    }
    Ok(found)
}

#[inline(never)]
fn wrong(key: &str, v: &Json<'_>, expected: &str) -> json::Error {
    json::Error::new(format!("`{key}`: invalid type: {}, expected {expected}", v.kind()))
}

fn required<'j, 'a>(m: MemberList<'j, 'a>, key: &str) -> Result<&'j Json<'a>, json::Error> {
    present(member(m, key)?, key)
}

/// A required member's value, or the error of its absence.
fn present<'j, 'a>(v: Option<&'j Json<'a>>, key: &str) -> Result<&'j Json<'a>, json::Error> {
    v.ok_or_else(|| json::Error::new(format!("missing field `{key}`")))
}

/// An integer member's value (see the module's rules); `max` is its type's largest value.
fn uint_of(key: &str, v: &Json<'_>, max: u64) -> Result<u64, json::Error> {
    let Json::Number(t) = v else { return Err(wrong(key, v, "an integer")) };
    match json::integer(t) {
        Some(n) if n <= max => Ok(n),
        Some(_) => Err(json::Error::new(format!("`{key}`: number {t} is out of range"))),
        // Negative, a fraction or an exponent: say what it got (the serde wording named none).
        None => Err(json::Error::new(format!("`{key}`: {t} is not a whole number of 0 or more"))),
    }
}

fn text_of(key: &str, v: &Json<'_>) -> Result<String, json::Error> {
    v.as_str().map(str::to_owned).ok_or_else(|| wrong(key, v, "a string"))
}

fn bool_of(key: &str, v: &Json<'_>) -> Result<bool, json::Error> {
    if let Json::Bool(b) = v { Ok(*b) } else { Err(wrong(key, v, "a boolean")) }
}

fn float_of(key: &str, v: &Json<'_>) -> Result<f64, json::Error> {
    match v {
        Json::Number(t) => crate::decimal::parse_f64(t).ok_or_else(|| wrong(key, v, "a number")),
        _ => Err(wrong(key, v, "a number")),
    }
}

/// Lays each member of a record over `slot`'s default: the option records' one reader.
struct Over<'j, 'a>(MemberList<'j, 'a>);

impl Over<'_, '_> {
    /// Refuses a member not in `names`, with the name it probably meant: a misspelt option of a
    /// record the caller writes by hand (`poll`, `retry`) would otherwise be dropped unread.
    fn only(&self, names: &[&str]) -> Result<(), json::Error> {
        match self.0.iter().find(|(k, _)| !names.contains(&k.as_ref())) {
            None => Ok(()),
            Some((k, _)) => Err(json::Error::new(match crate::validate::suggest(k, names) {
                Some(near) => format!("`{k}`: unknown option (did you mean {near}?)"),
                None => {
                    // No `join`: it is not otherwise in the wasm module.
                    let mut known = String::new();
                    for n in names {
                        known.push_str(if known.is_empty() { "" } else { ", " });
                        known.push_str(n);
                    }
                    format!("`{k}`: unknown option (known: {known})")
                }
            })),
        }
    }
    fn get(&self, key: &str) -> Result<Option<&Json<'_>>, json::Error> {
        member(self.0, key)
    }
    fn uint<T: TryFrom<u64> + Into<u64> + Copy>(&self, key: &str, slot: &mut T, max: T) -> Result<(), json::Error> {
        if let Some(v) = self.get(key)? {
            *slot = uint_as(key, v, max)?;
        }
        Ok(())
    }
    fn opt_uint(&self, key: &str, slot: &mut Option<u64>) -> Result<(), json::Error> {
        match self.get(key)? {
            None => {}
            Some(Json::Null) => *slot = None,
            Some(v) => *slot = Some(uint_of(key, v, u64::MAX)?),
        }
        Ok(())
    }
    fn float(&self, key: &str, slot: &mut f64) -> Result<(), json::Error> {
        if let Some(v) = self.get(key)? {
            *slot = float_of(key, v)?;
        }
        Ok(())
    }
    fn bool(&self, key: &str, slot: &mut bool) -> Result<(), json::Error> {
        if let Some(v) = self.get(key)? {
            *slot = bool_of(key, v)?;
        }
        Ok(())
    }
    fn record<T: FromJson>(&self, key: &str, slot: &mut T) -> Result<(), json::Error> {
        if let Some(v) = self.get(key)? {
            *slot = T::from_json(v).map_err(|e| json::Error::new(format!("`{key}`: {e}")))?;
        }
        Ok(())
    }
}

impl FromJson for RetryPolicy {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let o = Over(record(v, "a retry policy")?);
        o.only(&["max_retries", "base_delay_ms", "max_delay_ms", "max_retry_after_ms"])?;
        let mut p = RetryPolicy::default();
        o.uint("max_retries", &mut p.max_retries, u32::MAX)?;
        o.uint("base_delay_ms", &mut p.base_delay_ms, u64::MAX)?;
        o.uint("max_delay_ms", &mut p.max_delay_ms, u64::MAX)?;
        o.uint("max_retry_after_ms", &mut p.max_retry_after_ms, u64::MAX)?;
        Ok(p)
    }
}

impl FromJson for PollPolicy {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let o = Over(record(v, "a poll policy")?);
        o.only(&["first_poll_ms", "min_interval_ms", "max_interval_ms", "expected_scale"])?;
        let mut p = PollPolicy::default();
        o.uint("first_poll_ms", &mut p.first_poll_ms, u64::MAX)?;
        o.float("expected_scale", &mut p.expected_scale)?;
        // The gaps given in part lay over the defaults by `with_gaps`'s rules (Kotlin's
        // `WaitConfig` goes through the same function).
        let gap = |key| o.get(key)?.map(|v| uint_of(key, v, u64::MAX)).transpose();
        Ok(p.with_gaps(gap("min_interval_ms")?, gap("max_interval_ms")?))
    }
}

impl FromJson for WaitOptions {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let o = Over(record(v, "wait options")?);
        let mut w = WaitOptions::default();
        o.opt_uint("timeout_ms", &mut w.timeout_ms)?;
        o.bool("cancel_on_timeout", &mut w.cancel_on_timeout)?;
        o.record("poll", &mut w.poll)?;
        o.record("retry", &mut w.retry)?;
        Ok(w)
    }
}

impl FromJson for Limits {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let o = Over(record(v, "limits")?);
        let mut l = Limits::default();
        o.uint("requests_per_minute", &mut l.requests_per_minute, u32::MAX)?;
        o.uint("concurrent_jobs", &mut l.concurrent_jobs, u32::MAX)?;
        Ok(l)
    }
}

impl FromJson for BatchOptions {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let o = Over(record(v, "batch options")?);
        let mut b = BatchOptions::default();
        o.opt_uint("max_spend_cents", &mut b.max_spend_cents)?;
        o.record("limits", &mut b.limits)?;
        o.bool("longest_first", &mut b.longest_first)?;
        o.bool("poll_by_list", &mut b.poll_by_list)?;
        o.uint("poll_interval_ms", &mut b.poll_interval_ms, u64::MAX)?;
        o.float("likely_from", &mut b.likely_from)?;
        o.bool("check_balance", &mut b.check_balance)?;
        o.float("expected_scale", &mut b.expected_scale)?;
        o.record("retry", &mut b.retry)?;
        Ok(b)
    }
}

/// A lenient member: `None` when absent, `null` or of another shape (see the module's rules).
fn loose_text(v: Option<&Json<'_>>) -> Option<String> {
    v.and_then(Json::as_str).map(str::to_owned)
}

fn loose_uint(v: Option<&Json<'_>>) -> Option<u64> {
    if let Some(Json::Number(t)) = v { json::integer(t) } else { None }
}

fn loose_bool(v: Option<&Json<'_>>) -> Option<bool> {
    if let Some(Json::Bool(b)) = v { Some(*b) } else { None }
}

/// A job's `error`: an object whose `code` and `message` are each text given at most once (absent
/// is empty; other members skipped); anything else is unreadable (`None`).
fn loose_job_error(v: Option<&Json<'_>>) -> Option<JobError> {
    let Some(Json::Object(m)) = v else { return None };
    let text = |key| match member(m, key) {
        Ok(None) => Some(String::new()),
        Ok(Some(Json::String(s))) => Some(s.to_string()),
        _ => None,
    };
    Some(JobError { code: text("code")?, message: text("message")? })
}

/// A job's members, in the order [`Job::from_json`] takes them.
const JOB_FIELDS: [&str; 15] = [
    "id", "status", "prompt", "mode", "resolution", "duration", "seed", "image_url", "reference_url", "estimated_cost_cents", "cost_cents", "video_url", "error",
    "created_at", "progress",
];

impl FromJson for Job {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let [id, status, prompt, mode, resolution, duration, seed, image_url, reference_url, estimated_cost_cents, cost_cents, video_url, error, created_at, progress] =
            fields(record(v, "a job")?, &JOB_FIELDS)?;
        let id = present(id, "id")?;
        let status = present(status, "status")?;
        let job = Job {
            id: text_of("id", id)?,
            status: JobStatus::parse(status.as_str().ok_or_else(|| wrong("status", status, "a string"))?),
            prompt: match prompt {
                None | Some(Json::Null) => None,
                Some(p) => Some(text_of("prompt", p)?),
            },
            mode: mode.and_then(Json::as_str).and_then(Mode::parse),
            resolution: resolution.and_then(Json::as_str).and_then(Resolution::parse),
            duration: loose_uint(duration).and_then(|d| u32::try_from(d).ok()),
            seed: loose_uint(seed),
            image_url: loose_text(image_url),
            reference_url: loose_text(reference_url),
            estimated_cost_cents: loose_uint(estimated_cost_cents),
            cost_cents: loose_uint(cost_cents),
            video_url: loose_text(video_url),
            error: loose_job_error(error),
            created_at: loose_text(created_at),
            // Out of 0–100 (a server's bug) is dropped, as a non-number is: the type promises a percentage.
            progress: loose_uint(progress).and_then(|p| u8::try_from(p).ok()).filter(|p| *p <= 100),
        };
        // A completed job carries its video (CONTRACT.md, "Job status"), and the bindings' types
        // promise it (npm's `CompletedJob`): one without it is not a job to hand on as completed,
        // to fail later in the caller's download. (Its `cost_cents`, also promised, is not
        // required: the video is still the caller's.)
        if job.status == JobStatus::Completed && job.video_url.is_none() {
            return Err(json::Error::new(format!("job {} is completed but has no `video_url` (a string)", job.id)));
        }
        Ok(job)
    }
}

impl FromJson for Vec<Job> {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let Json::Array(items) = v else { return Err(json::Error::new(format!("invalid type: {}, expected an array of jobs", v.kind()))) };
        items.iter().map(Job::from_json).collect()
    }
}

/// `GET /v1/videos` as sent: every member optional, `data` an array of jobs when present, the
/// counts lenient; [`crate::response::parse_job_page`] fills the gaps.
pub(crate) struct PageWire {
    pub(crate) data: Option<Vec<Job>>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    pub(crate) total: Option<u64>,
    pub(crate) has_more: Option<bool>,
}

impl FromJson for PageWire {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let m = record(v, "a page of jobs")?;
        Ok(PageWire {
            data: match member(m, "data")? {
                None | Some(Json::Null) => None,
                Some(d) => Some(Vec::<Job>::from_json(d)?),
            },
            limit: loose_uint(member(m, "limit")?),
            offset: loose_uint(member(m, "offset")?),
            total: loose_uint(member(m, "total")?),
            has_more: loose_bool(member(m, "has_more")?),
        })
    }
}

impl FromJson for DeleteResult {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let m = record(v, "a delete result")?;
        Ok(DeleteResult {
            id: text_of("id", required(m, "id")?)?,
            deleted: member(m, "deleted")?.map_or(Ok(true), |d| bool_of("deleted", d))?,
            refunded_cents: member(m, "refunded_cents")?.map_or(Ok(0), |c| uint_of("refunded_cents", c, u64::MAX))?,
        })
    }
}

/// An optional member: absent or `null` is `None`, anything else is read by `read`.
fn opt<'j, 'a, T>(m: MemberList<'j, 'a>, key: &str, read: impl FnOnce(&'j Json<'a>) -> Result<T, json::Error>) -> Result<Option<T>, json::Error> {
    match member(m, key)? {
        None | Some(Json::Null) => Ok(None),
        Some(v) => read(v).map(Some),
    }
}

/// An optional text member: absent or `null` is `None`.
fn opt_text(m: MemberList<'_, '_>, key: &str) -> Result<Option<String>, json::Error> {
    opt(m, key, |v| text_of(key, v))
}

/// A required text member.
fn req_text(m: MemberList<'_, '_>, key: &str) -> Result<String, json::Error> {
    text_of(key, required(m, key)?)
}

/// An enum member, by its wire name.
fn choice<T>(key: &str, v: &Json<'_>, parse: fn(&str) -> Option<T>) -> Result<T, json::Error> {
    let s = v.as_str().ok_or_else(|| wrong(key, v, "a string"))?;
    parse(s).ok_or_else(|| json::Error::new(format!("`{key}`: unknown variant `{s}`")))
}

/// An integer member of a narrower type than `u64`, up to `max` (see the module's rules).
fn uint_as<T: TryFrom<u64> + Into<u64> + Copy>(key: &str, v: &Json<'_>, max: T) -> Result<T, json::Error> {
    let n = uint_of(key, v, max.into())?;
    T::try_from(n).map_err(|_| json::Error::new(format!("`{key}`: number {n} is out of range")))
}

/// A member that is an array of `T`.
fn list_of<T: FromJson>(key: &str, v: &Json<'_>) -> Result<Vec<T>, json::Error> {
    let Json::Array(items) = v else { return Err(wrong(key, v, "an array")) };
    items.iter().map(|i| T::from_json(i).map_err(|e| json::Error::new(format!("`{key}`: {e}")))).collect()
}

impl FromJson for Account {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let m = record(v, "an account")?;
        let count = |key| member(m, key)?.map_or(Ok(0), |c| uint_of(key, c, u64::MAX));
        Ok(Account {
            email: member(m, "email")?.map_or(Ok(String::new()), |e| text_of("email", e))?,
            balance_cents: uint_of("balance_cents", required(m, "balance_cents")?, u64::MAX)?,
            total_jobs: count("total_jobs")?,
            total_spent_cents: count("total_spent_cents")?,
            plan: opt_text(m, "plan")?,
        })
    }
}

impl FromJson for CreatedApiKey {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let m = record(v, "an API key")?;
        Ok(CreatedApiKey {
            id: member(m, "id")?.map_or(Ok(String::new()), |i| text_of("id", i))?,
            name: opt_text(m, "name")?,
            key: text_of("key", required(m, "key")?)?,
            created_at: opt_text(m, "created_at")?,
        })
    }
}

impl FromJson for CreateVideoRequest {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let m = record(v, "a create request")?;
        Ok(CreateVideoRequest {
            prompt: req_text(m, "prompt")?,
            mode: choice("mode", required(m, "mode")?, Mode::parse)?,
            resolution: opt(m, "resolution", |v| choice("resolution", v, Resolution::parse))?,
            duration: opt(m, "duration", |v| uint_as("duration", v, u32::MAX))?,
            image_url: opt_text(m, "image_url")?,
            reference_url: opt_text(m, "reference_url")?,
            seed: opt(m, "seed", |v| uint_of("seed", v, u64::MAX))?,
        })
    }
}

impl FromJson for Issue {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let m = record(v, "an issue")?;
        Ok(Issue { field: req_text(m, "field")?, code: choice("code", required(m, "code")?, IssueCode::parse)?, message: req_text(m, "message")? })
    }
}

impl FromJson for Error {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let m = record(v, "an error")?;
        Ok(Error {
            kind: choice("kind", required(m, "kind")?, ErrorKind::parse)?,
            code: req_text(m, "code")?,
            message: req_text(m, "message")?,
            status: opt(m, "status", |v| uint_as("status", v, u16::MAX))?,
            field: opt_text(m, "field")?,
            request_id: opt_text(m, "request_id")?,
            retry_after_ms: opt(m, "retry_after_ms", |v| uint_of("retry_after_ms", v, u64::MAX))?,
            job_id: opt_text(m, "job_id")?,
            job_status: opt_text(m, "job_status")?,
            idempotency_key: opt_text(m, "idempotency_key")?,
            issues: member(m, "issues")?.map_or(Ok(Vec::new()), |v| list_of("issues", v))?,
            transport: opt(m, "transport", |v| choice("transport", v, TransportKind::parse))?,
        })
    }
}

impl FromJson for ItemResult {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let m = record(v, "an item's result")?;
        Ok(ItemResult { index: uint_as("index", required(m, "index")?, u32::MAX)?, job: opt(m, "job", Job::from_json)?, error: opt(m, "error", Error::from_json)? })
    }
}

impl FromJson for SnapshotItem {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let m = record(v, "a snapshot item")?;
        let key = req_text(m, "idempotency_key")?;
        Ok(SnapshotItem {
            request: CreateVideoRequest::from_json(required(m, "request")?).map_err(|e| json::Error::new(format!("`request`: {e}")))?,
            idempotency_key: IdempotencyKey::from_string(&key).map_err(|i| json::Error::new(format!("`idempotency_key`: {}", i.message)))?,
            state: req_text(m, "state")?,
            job_id: opt_text(m, "job_id")?,
            result: opt(m, "result", ItemResult::from_json)?,
            unreported: opt(m, "unreported", |v| bool_of("unreported", v))?.unwrap_or(false),
        })
    }
}

impl FromJson for BatchSnapshot {
    fn from_json(v: &Json<'_>) -> Result<Self, json::Error> {
        let m = record(v, "a batch snapshot")?;
        Ok(BatchSnapshot {
            version: uint_as("version", required(m, "version")?, u32::MAX)?,
            items: list_of("items", required(m, "items")?)?,
            scale: float_of("scale", required(m, "scale")?)?,
            owner: opt(m, "owner", |v| text_of("owner", v))?,
            // A date in ms since 1970 (the answers' `Date`s are later still), below 2^53 to be exact in JSON.
            service_date_ms: opt(m, "service_date_ms", |v| uint_of("service_date_ms", v, 1 << 53).map(|n| i64::try_from(n).unwrap_or(0)))?,
            cancelled: opt(m, "cancelled", |v| bool_of("cancelled", v))?.unwrap_or(false),
        })
    }
}

/// The serde `Deserialize` of a type read here: the value is read as a [`Json`] tree (from any
/// serde format) and then by its [`FromJson`], so serde users and the bindings read alike.
macro_rules! deserialize_via_from_json {
    ($($t:ty),* $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = <Json<'static> as serde::Deserialize>::deserialize(d)?;
                <$t as FromJson>::from_json(&v).map_err(serde::de::Error::custom)
            }
        }
    )*};
}

deserialize_via_from_json!(
    RetryPolicy,
    PollPolicy,
    WaitOptions,
    Limits,
    BatchOptions,
    Job,
    DeleteResult,
    Account,
    CreatedApiKey,
    CreateVideoRequest,
    Issue,
    Error,
    ItemResult,
    SnapshotItem,
    BatchSnapshot,
);

#[cfg(test)]
mod tests {
    use super::*;

    fn read<T: FromJson>(text: &str) -> Result<T, json::Error> {
        T::from_json(&json::parse(text.as_bytes()).unwrap())
    }

    #[test]
    fn records_follow_the_derive_rules() {
        // Unknown members skipped; a known one twice, a missing required one, or a wrong type refused.
        assert!(read::<Job>(r#"{"id":"job_1","status":"pending","new_thing":[1]}"#).is_ok());
        assert!(read::<Job>(r#"{"id":"job_1","status":"pending","duration":5,"duration":6}"#).is_err());
        assert!(read::<Job>(r#"{"status":"pending"}"#).is_err());
        assert!(read::<Job>(r#"{"id":"job_1","status":"pending","prompt":5}"#).is_err());
        assert!(read::<Job>(r#"["job_1","pending"]"#).is_err());
        assert_eq!(read::<Job>(r#"{"id":"job_1","status":"pending","prompt":null}"#).unwrap().prompt, None);
        assert!(read::<Account>(r#"{"balance_cents":5.0}"#).is_err());
        assert!(read::<Account>(r#"{"balance_cents":-1}"#).is_err());
        assert_eq!(read::<Account>(r#"{"balance_cents":-0}"#).unwrap().balance_cents, 0);
        assert!(read::<Account>(r#"{"balance_cents":1,"email":null}"#).is_err());
        assert_eq!(read::<DeleteResult>(r#"{"id":"job_1"}"#).unwrap(), DeleteResult { id: "job_1".into(), deleted: true, refunded_cents: 0 });
        assert_eq!(read::<CreatedApiKey>(r#"{"key":"sd_x","name":null}"#).unwrap().name, None);
    }

    #[test]
    fn a_misspelt_poll_or_retry_option_is_refused_with_the_name_meant() {
        let e = read::<WaitOptions>(r#"{"poll":{"first_pol_ms":100}}"#).unwrap_err().to_string();
        assert!(e.contains("`first_pol_ms`: unknown option (did you mean first_poll_ms?)"), "{e}");
        let issue = crate::validate::option_issue("", &e);
        assert_eq!((issue.field.as_str(), issue.code), ("poll.first_pol_ms", crate::validate::IssueCode::UnknownField), "{issue:?}");
        let e = read::<WaitOptions>(r#"{"retry":{"tries":1}}"#).unwrap_err().to_string();
        assert!(e.contains("`tries`: unknown option (known: max_retries, base_delay_ms, max_delay_ms, max_retry_after_ms)"), "{e}");
    }

    #[test]
    fn options_are_laid_over_their_defaults() {
        let w: WaitOptions = read(r#"{"timeout_ms":null,"poll":{"expected_scale":2},"retry":{"max_retries":1}}"#).unwrap();
        assert_eq!(w.timeout_ms, None);
        assert_eq!((w.poll.expected_scale, w.poll.first_poll_ms), (2.0, PollPolicy::default().first_poll_ms));
        assert_eq!((w.retry.max_retries, w.retry.base_delay_ms), (1, RetryPolicy::default().base_delay_ms));
        // A longest gap alone below the default shortest one lowers it; both given are kept.
        let w: WaitOptions = read(r#"{"poll":{"max_interval_ms":1000}}"#).unwrap();
        assert_eq!((w.poll.min_interval_ms, w.poll.max_interval_ms), (1000, 1000));
        assert!(w.check().is_ok());
        let w: WaitOptions = read(r#"{"poll":{"min_interval_ms":30000}}"#).unwrap();
        assert_eq!((w.poll.min_interval_ms, w.poll.max_interval_ms), (30_000, 30_000), "a shortest gap alone raises the longest");
        let w: WaitOptions = read(r#"{"poll":{"max_interval_ms":1000,"min_interval_ms":2000}}"#).unwrap();
        let e = w.check().unwrap_err();
        assert_eq!(e.field.as_deref(), Some("poll.max_interval_ms"));
        assert!(e.message.contains("poll.max_interval_ms (1000) must be from poll.min_interval_ms (2000)"), "{e}");
        assert!(read::<WaitOptions>(r#"{"retry":null}"#).is_err());
        assert!(read::<RetryPolicy>(r#"{"max_retries":4294967296}"#).is_err());
        assert!(read::<Limits>(r#"{"concurrent_jobs":"4"}"#).is_err());
        let b: BatchOptions = read(r#"{"limits":{"concurrent_jobs":2},"likely_from":0.5,"max_spend_cents":null}"#).unwrap();
        assert_eq!((b.limits.concurrent_jobs, b.limits.requests_per_minute, b.likely_from, b.max_spend_cents), (2, 60, 0.5, None));
    }

    #[test]
    fn serde_reads_through_the_same_readers() {
        let j: Job = serde_json::from_str(r#"{"id":"job_1","status":"done?","duration":"x","progress":300}"#).unwrap();
        assert_eq!((j.status.as_str(), j.duration, j.progress), ("done?", None, None));
        let progress = |p: &str| serde_json::from_str::<Job>(&format!(r#"{{"id":"job_1","status":"processing","progress":{p}}}"#)).unwrap().progress;
        assert_eq!((progress("250"), progress("100"), progress("0")), (None, Some(100), Some(0)), "a percentage or nothing");
        let p: PollPolicy = serde_json::from_str(r#"{"expected_scale":0.1}"#).unwrap();
        assert_eq!(p.expected_scale, 0.1);
        assert!(serde_json::from_str::<WaitOptions>(r#"{"retry":null}"#).is_err());
    }
}
