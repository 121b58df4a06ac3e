//! # usvideo-wasm
//!
//! The WebAssembly face of [`usvideo_core`], wrapped by the npm package `usvideo` (see
//! `wasm/README.md`). It exports the core's pure functions and its state machines; the package's
//! TypeScript driver runs the machines with the host's `fetch`, clock and timers.
//!
//! ## How values cross the boundary
//! - Structured values cross as **JSON text** (`JSON.stringify` on the way in, `JSON.parse` on the
//!   way out). serde_json is in the module anyway (the core parses wire bodies with it), so this
//!   costs no extra code, unlike serde-wasm-bindgen or tsify.
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
use serde_json::{json, Value};
use usvideo_core::validate;
use usvideo_core::{Batch, BatchOptions, BatchSnapshot, Error, Header, Issue, IssueCode, Millis, Output, TransportKind};
#[cfg(feature = "batch")]
use usvideo_core::ItemResult;
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

/// The error record the package turns into a `USVideoError` subclass.
pub(crate) fn error_value(e: &Error) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("class".into(), Value::from(e.kind.class_name()));
        m.insert("retryable".into(), Value::from(e.is_retryable()));
    }
    v
}

pub(crate) fn throw(e: &Error) -> JsValue {
    JsValue::from_str(&error_value(e).to_string())
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
pub(crate) fn parse(text: &str) -> R<Value> {
    serde_json::from_str(text).map_err(|_| throw(&Error::usage("internal: the package passed text that is not JSON")))
}

/// A host instant (`performance.now()`) as the core's clock. `as` saturates and maps NaN to 0.
pub(crate) fn ms(now: f64) -> Millis {
    Millis((now as u64).min(Millis::MAX.0))
}

/// `a` with the fields of `b` laid over it, objects merged recursively.
pub(crate) fn merge(a: &mut Value, b: &Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (a, b) => *a = b.clone(),
    }
}

/// A default value of `T` with `over` laid on it (how specs override options).
pub(crate) fn overridden<T: Serialize + serde::de::DeserializeOwned + Default>(over: Option<&Value>, field: &str) -> R<T> {
    let mut base = serde_json::to_value(T::default()).unwrap_or(Value::Null);
    if let Some(o) = over.filter(|o| !o.is_null()) {
        merge(&mut base, o);
    }
    serde_json::from_value(base).map_err(|e| one(field, IssueCode::InvalidType, &format!("{field}: {e}")))
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

/// A batch item as JSON, its error with `class` and `retryable` like every thrown error.
#[cfg(feature = "batch")]
pub(crate) fn item_value(r: &ItemResult) -> Value {
    let mut v = json!({"index": r.index});
    if let (Value::Object(m), Some(job)) = (&mut v, &r.job) {
        m.insert("job".into(), serde_json::to_value(job).unwrap_or(Value::Null));
    }
    if let (Value::Object(m), Some(e)) = (&mut v, &r.error) {
        m.insert("error".into(), error_value(e));
    }
    v
}

/// A machine's next output as the JSON the package's driver reads: `{"t":"send",id,endpoint,
/// method,url,headers:[[n,v]…],body,timeout_ms}`, `{"t":"event",event}`, `{"t":"wait",until}`,
/// `{"t":"pending"}`, `{"t":"done"}`.
pub(crate) fn render(out: Output) -> String {
    match out {
        Output::Send { id, endpoint, request, timeout_ms } => {
            let headers: Vec<[String; 2]> = request.headers.into_iter().map(|h| [h.name, h.value]).collect();
            let body = request.body.map(|b| String::from_utf8_lossy(&b).into_owned());
            json!({"t": "send", "id": id.0, "endpoint": endpoint, "method": request.method.as_str(), "url": request.url, "headers": headers, "body": body, "timeout_ms": timeout_ms})
        }
        #[cfg(feature = "batch")]
        Output::Event(usvideo_core::Event::ItemDone(r)) => {
            let mut ev = item_value(&r);
            if let Value::Object(m) = &mut ev {
                m.insert("type".into(), Value::from("item_done"));
            }
            json!({"t": "event", "event": ev})
        }
        Output::Event(e) => json!({"t": "event", "event": e}),
        Output::WaitUntil(t) => json!({"t": "wait", "until": t.0}),
        Output::Pending => json!({"t": "pending"}),
        _ => json!({"t": "done"}),
    }
    .to_string()
}

/// The requests of a new batch, each validated as a create request (fields prefixed with
/// `requests[i].`).
pub(crate) fn batch_requests(requests: &str) -> R<Vec<usvideo_core::CreateVideoRequest>> {
    let Value::Array(items) = parse(requests)? else {
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
pub(crate) fn batch_snapshot(snapshot: &str) -> R<BatchSnapshot> {
    serde_json::from_str(snapshot).map_err(|_| one("snapshot", IssueCode::InvalidFormat, "not a batch snapshot (take it with batch.snapshot())"))
}

/// The seed of a resumed batch's jitter.
pub(crate) fn seed_of(entropy: &[u8]) -> u64 {
    let mut seed = [0u8; 8];
    for (d, s) in seed.iter_mut().zip(entropy) {
        *d = *s;
    }
    u64::from_le_bytes(seed)
}

/// Starts (`requests`) or resumes (`snapshot`) the core's [`Batch`].
pub(crate) fn new_batch(config: &usvideo_core::ClientConfig, key: &usvideo_core::ApiKey, requests: Option<String>, snapshot: Option<String>, options: &str, entropy: &[u8], now: f64) -> R<Batch> {
    match (requests, snapshot) {
        (_, Some(s)) => {
            let snap = batch_snapshot(&s)?;
            let options = batch_options(options)?;
            Batch::resume(config, key, snap, seed_of(entropy), options, ms(now)).map_err(|e| throw(&e))
        }
        (Some(r), None) => {
            let reqs = batch_requests(&r)?;
            let options = batch_options(options)?;
            Batch::new(config, key, reqs, entropy, options, ms(now)).map_err(|e| throw(&e))
        }
        (None, None) => Err(throw(&Error::usage("internal: a batch needs requests or a snapshot"))),
    }
}
