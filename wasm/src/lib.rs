//! # usvideo-wasm
//!
//! The WebAssembly face of [`usvideo_core`], wrapped by the npm package `usvideo` (see
//! `wasm/README.md`). It exports the core's pure functions and its state machines; the package's
//! TypeScript driver runs the machines with the host's `fetch`, clock and timers.
//!
//! ## How values cross the boundary
//! - Structured values cross as **JSON text** (`JSON.stringify` on the way in, `JSON.parse` on the
//!   way out). Text coming in is read by the core's own small parser ([`usvideo_core::json`]), the
//!   same one that reads wire bodies; text going out is written by serde_json's serializer (its
//!   parser is not in the module).
//! - Milliseconds and cents cross as `f64` (a JS `number`, never a `bigint`); the core keeps them
//!   below 2^53. Instants are the host's `performance.now()`, floored.
//! - Failures are **thrown as a JSON string** of the core's [`Error`] plus `class`
//!   ([`ErrorKind::class_name`]) and `retryable`; the package turns it into its error class.
//! - Response headers cross as one string, names and values separated by `\0` (a header can hold
//!   no NUL), and the body as bytes.
//!
//! Nothing here decides anything: every rule (validation, retries, `Retry-After`, polling,
//! deadlines, reconciliation, rate limiting) is the core's.

//! ## Two modules
//! Built without the `batch` feature (the package's `gen/usvideo_wasm_bg.wasm`, loaded at import)
//! the crate exports everything but the batch scheduler: `estimate`, `validate`, `parseResponse`,
//! `Limiter`, `Client` and `Machine` (calls, creates, waits), and `Client.batchPreflight` (a
//! batch's validation, estimate and first snapshot, through the core's `Batch::new` /
//! `Batch::resume`, without the scheduler). Built with `batch` (`gen/usvideo_batch_bg.wasm`, loaded
//! by the package the first time a batch runs) it exports only `BatchRun`: the core's `Batch`
//! scheduler. One wasm module cannot be tree-shaken, so this split is what keeps the scheduler out
//! of apps that never run a batch.

use serde::Serialize;
use usvideo_core::json::{self, Json};
use usvideo_core::validate;
use usvideo_core::{Batch, BatchOptions, Endpoint, Error, Event, Header, Issue, IssueCode, Millis, Output, TransportKind};
#[cfg(feature = "batch")]
use usvideo_core::{BatchSnapshot, ItemResult, Job};
use wasm_bindgen::prelude::*;

#[cfg(not(feature = "batch"))]
mod api;
#[cfg(not(feature = "batch"))]
pub use api::*;
#[cfg(feature = "batch")]
mod batch;
#[cfg(feature = "batch")]
pub use batch::*;

pub(crate) type R<T> = Result<T, JsValue>;

// Every value handed to JS is a typed `Serialize` written straight to text: building a
// `serde_json::Value` first (`json!`, `to_value`, `from_value`) would link serde_json's value
// serializer and deserializer into the module (~10 KB gzipped) for nothing.

/// The error record the package turns into a `USVideoError` subclass: the core's [`Error`] plus
/// `class` and `retryable`.
#[derive(Serialize)]
pub(crate) struct ErrorRecord<'a> {
    #[serde(flatten)]
    error: &'a Error,
    class: &'static str,
    retryable: bool,
}

impl<'a> ErrorRecord<'a> {
    pub(crate) fn of(error: &'a Error) -> Self {
        ErrorRecord { error, class: error.kind.class_name(), retryable: error.is_retryable() }
    }
}

/// [`ErrorRecord`] as JSON text.
pub(crate) fn error_json(e: &Error) -> String {
    to_json(&ErrorRecord::of(e))
}

pub(crate) fn throw(e: &Error) -> JsValue {
    JsValue::from_str(&error_json(e))
}

pub(crate) fn invalid(issues: Vec<Issue>) -> JsValue {
    throw(&Error::validation(issues))
}

pub(crate) fn one(field: &str, code: IssueCode, message: &str) -> JsValue {
    invalid(vec![Issue::new(field, code, message)])
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// JSON text made by the package's own `JSON.stringify`.
pub(crate) fn parse(text: &str) -> R<Json<'_>> {
    json::parse(text.as_bytes()).map_err(|_| throw(&Error::usage("internal: the package passed text that is not JSON")))
}

/// A host instant (`performance.now()`) as the core's clock. `as` saturates and maps NaN to 0.
pub(crate) fn ms(now: f64) -> Millis {
    Millis((now as u64).min(Millis::MAX.0))
}

/// Options from a spec's JSON: the core's option types default every field, so a partial object
/// is read straight over the defaults (nested objects too); `null` or absent is all defaults.
pub(crate) fn overridden<T: serde::de::DeserializeOwned + Default>(over: Option<&Json<'_>>, field: &str) -> R<T> {
    match over.filter(|o| !o.is_null()) {
        None => Ok(T::default()),
        Some(o) => json::from_json(o.clone()).map_err(|e| one(field, IssueCode::InvalidType, &format!("{field}: {e}"))),
    }
}

pub(crate) fn headers_from(text: &str) -> Vec<Header> {
    let mut out = Vec::new();
    let mut parts = text.split('\0');
    while let (Some(n), Some(v)) = (parts.next(), parts.next()) {
        if !n.is_empty() {
            out.push(Header::new(n, v));
        }
    }
    out
}

pub(crate) fn transport_kind(kind: &str) -> TransportKind {
    match kind {
        "connect" => TransportKind::Connect,
        "timeout" => TransportKind::Timeout,
        "aborted" => TransportKind::Aborted,
        "body_too_large" => TransportKind::BodyTooLarge,
        _ => TransportKind::Other,
    }
}

/// A batch item for JS, its error with `class` and `retryable` like every thrown error; `type` is
/// `item_done` when it is sent as an event.
#[cfg(feature = "batch")]
#[derive(Serialize)]
pub(crate) struct ItemRecord<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    job: Option<&'a Job>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorRecord<'a>>,
}

#[cfg(feature = "batch")]
impl<'a> ItemRecord<'a> {
    pub(crate) fn of(r: &'a ItemResult, kind: Option<&'static str>) -> Self {
        ItemRecord { kind, index: r.index, job: r.job.as_ref(), error: r.error.as_ref().map(ErrorRecord::of) }
    }
}

/// A machine's output as the package's driver reads it (see [`render`]).
#[derive(Serialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Rendered<'a> {
    Send { id: u64, endpoint: Endpoint, method: &'static str, url: &'a str, headers: Vec<[&'a str; 2]>, body: Option<std::borrow::Cow<'a, str>>, timeout_ms: Option<u64> },
    Event { event: &'a Event },
    #[cfg(feature = "batch")]
    #[serde(rename = "event")]
    Item { event: ItemRecord<'a> },
    Wait { until: u64 },
    Pending,
    Done,
}

/// A machine's next output as the JSON the package's driver reads: `{"t":"send",id,endpoint,
/// method,url,headers:[[n,v]…],body,timeout_ms}`, `{"t":"event",event}`, `{"t":"wait",until}`,
/// `{"t":"pending"}`, `{"t":"done"}`.
pub(crate) fn render(out: Output) -> String {
    match &out {
        Output::Send { id, endpoint, request, timeout_ms } => to_json(&Rendered::Send {
            id: id.0,
            endpoint: *endpoint,
            method: request.method.as_str(),
            url: &request.url,
            headers: request.headers.iter().map(|h| [h.name.as_str(), h.value.as_str()]).collect(),
            body: request.body.as_deref().map(String::from_utf8_lossy),
            timeout_ms: *timeout_ms,
        }),
        #[cfg(feature = "batch")]
        Output::Event(Event::ItemDone(r)) => to_json(&Rendered::Item { event: ItemRecord::of(r, Some("item_done")) }),
        Output::Event(e) => to_json(&Rendered::Event { event: e }),
        Output::WaitUntil(t) => to_json(&Rendered::Wait { until: t.0 }),
        Output::Pending => to_json(&Rendered::Pending),
        _ => to_json(&Rendered::Done),
    }
}

/// The requests of a new batch, each validated as a create request (fields prefixed with
/// `requests[i].`).
pub(crate) fn batch_requests(requests: &str) -> R<Vec<usvideo_core::CreateVideoRequest>> {
    let Json::Array(items) = parse(requests)? else {
        return Err(one("requests", IssueCode::InvalidType, "requests must be an array"));
    };
    let mut reqs = Vec::with_capacity(items.len());
    let mut issues = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match validate::create_request_from_json(item) {
            Ok(r) => reqs.push(r),
            Err(found) => issues.extend(found.into_iter().map(|mut x| {
                x.field = format!("requests[{i}].{}", x.field);
                x
            })),
        }
    }
    if issues.is_empty() {
        Ok(reqs)
    } else {
        Err(invalid(issues))
    }
}

/// A batch's options: JSON overrides of [`BatchOptions`].
pub(crate) fn batch_options(options: &str) -> R<BatchOptions> {
    overridden(Some(&parse(options)?), "options")
}

/// A snapshot taken by `snapshot()`.
#[cfg(feature = "batch")]
pub(crate) fn batch_snapshot(snapshot: &str) -> R<BatchSnapshot> {
    json::from_slice(snapshot.as_bytes()).map_err(|_| one("snapshot", IssueCode::InvalidFormat, "not a batch snapshot (take it with batch.snapshot())"))
}

/// The seed of a resumed batch's jitter.
pub(crate) fn seed_of(entropy: &[u8]) -> u64 {
    let mut seed = [0u8; 8];
    for (d, s) in seed.iter_mut().zip(entropy) {
        *d = *s;
    }
    u64::from_le_bytes(seed)
}

/// Starts the core's [`Batch`] over `requests` (JSON text of loose create requests).
pub(crate) fn start_batch(config: &usvideo_core::ClientConfig, key: &usvideo_core::ApiKey, requests: &str, options: &str, entropy: &[u8], now: f64) -> R<Batch> {
    let reqs = batch_requests(requests)?;
    let options = batch_options(options)?;
    Batch::new(config, key, reqs, entropy, options, ms(now)).map_err(|e| throw(&e))
}

/// Resumes the core's [`Batch`] from a snapshot (only the batch module reads whole snapshots: the
/// main module's preflight reads a light one, see `api.rs`).
#[cfg(feature = "batch")]
pub(crate) fn resume_batch(config: &usvideo_core::ClientConfig, key: &usvideo_core::ApiKey, snapshot: &str, options: &str, entropy: &[u8], now: f64) -> R<Batch> {
    let snap = batch_snapshot(snapshot)?;
    let options = batch_options(options)?;
    Batch::resume(config, key, snap, seed_of(entropy), options, ms(now)).map_err(|e| throw(&e))
}
