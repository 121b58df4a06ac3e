//! # usvideo-wasm
//!
//! The WebAssembly face of [`usvideo_core`], wrapped by the npm package `usvideo` (see
//! `wasm/README.md`). It exports the core's pure functions and its state machines; the package's
//! TypeScript driver runs the machines with the host's `fetch`, clock and timers.
//!
//! ## How values cross the boundary
//! - Structured values cross as **JSON text** (`JSON.stringify` on the way in, `JSON.parse` on the
//!   way out). Text coming in is read by the core's own small parser ([`usvideo_core::json`]), the
//!   same one that reads wire bodies, and its hand-written readers ([`usvideo_core::readers`]);
//!   text going out is written by its hand-written writers ([`usvideo_core::writers`]).
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
//! the crate exports everything but batches: `estimate`, `Limiter`, `Client` and `Machine` (calls,
//! creates, waits). Built with `batch` (`gen/usvideo_batch_bg.wasm`, loaded by the package the
//! first time a batch is made) it exports only `BatchRun`: the core's `Batch` scheduler, which also
//! checks, keys and estimates a batch as it starts. One wasm module cannot be tree-shaken, so this
//! split is what keeps batches out of apps that never make one (the checks alone were ~7 KB
//! gzipped of the main module, measured 2026-12-04; `videos.batch()` is async for it).

// The allocator: Talc instead of std's dlmalloc, in both modules. Why: each module is ~1.5 KB
// gzipped smaller with it (measured 2026-12-04: 66,106 -> 64,568 and 67,010 -> 65,281 bytes),
// and the core's work per retrieve is the same within this machine's noise (wasm/bench/steps.mjs,
// four alternating runs each: 11.4-13.0 µs with dlmalloc, 11.6-13.1 with Talc). Its authors fuzz
// it and check it under Miri. Its `disable-realloc-in-place` would save only 135 bytes more. A
// module is single-threaded (no `atomics`), which is what its cell assumes.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

use usvideo_core::json::{self, Json};
use usvideo_core::writers::{Members, Record};
use usvideo_core::{Error, Header, Issue, IssueCode, Millis, Output, ToJson, TransportKind};
#[cfg(feature = "batch")]
use usvideo_core::Event;
#[cfg(feature = "batch")]
use batch::ItemRecord;
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

// Every value handed to JS is written straight to text by the core's hand-written writers
// (`usvideo_core::writers`): serde's derived writers and serde_json's serializer cost the module
// ~10 % of its size (2026-12-04), for a dozen record shapes.

/// The error record the package turns into a `USVideoError` subclass: the core's [`Error`] plus
/// `class` and `retryable`.
pub(crate) struct ErrorRecord<'a>(pub(crate) &'a Error);

impl Record for ErrorRecord<'_> {
    fn write_members(&self, m: &mut Members<'_>) {
        self.0.write_members(m);
        m.text("class", self.0.kind.class_name()).bool("retryable", self.0.is_retryable());
    }
}

/// The core's error, to be thrown: [`ErrorRecord`] as JSON text.
pub(crate) fn throw(e: &Error) -> JsValue {
    JsValue::from_str(&ErrorRecord(e).to_json_string())
}

pub(crate) fn invalid(issues: Vec<Issue>) -> JsValue {
    throw(&Error::validation(issues))
}

pub(crate) fn one(field: &str, code: IssueCode, message: &str) -> JsValue {
    invalid(vec![Issue::new(field, code, message)])
}

/// JSON text made by the package's own `JSON.stringify`.
pub(crate) fn parse(text: &str) -> R<Json<'_>> {
    json::parse(text.as_bytes()).map_err(|_| throw(&Error::usage("internal: the package passed text that is not JSON")))
}

/// A machine's jitter seed from the entropy the package passes (its first 8 bytes, little-endian;
/// zeros where it is shorter).
pub(crate) fn seed_of(entropy: &[u8]) -> u64 {
    let mut seed = [0u8; 8];
    for (d, s) in seed.iter_mut().zip(entropy) {
        *d = *s;
    }
    u64::from_le_bytes(seed)
}

/// A host instant (`performance.now()`) as the core's clock. `as` saturates and maps NaN to 0.
pub(crate) fn ms(now: f64) -> Millis {
    Millis((now as u64).min(Millis::MAX.0))
}

/// Options from a spec's JSON: the core's option types default every field, so a partial object
/// is read straight over the defaults (nested objects too); `null` or absent is all defaults.
/// `at` is where the record sits in what the caller wrote (empty: the options themselves), for
/// the field of a refusal (`validate::option_issue`).
pub(crate) fn overridden<T: usvideo_core::FromJson + Default>(over: Option<&Json<'_>>, at: &str) -> R<T> {
    match over.filter(|o| !o.is_null()) {
        None => Ok(T::default()),
        Some(o) => T::from_json(o).map_err(|e| invalid(vec![usvideo_core::validate::option_issue(at, &e.to_string())])),
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

/// Headers as the package reads them: `[[name, value]…]`.
pub(crate) struct HeaderPairs<'a>(pub(crate) &'a [Header]);

impl ToJson for HeaderPairs<'_> {
    fn write_json(&self, out: &mut String) {
        out.push('[');
        for (i, h) in self.0.iter().enumerate() {
            out.push_str(if i == 0 { "[" } else { ",[" });
            json::write_str(&h.name, out);
            out.push(',');
            json::write_str(&h.value, out);
            out.push(']');
        }
        out.push(']');
    }
}

/// A machine's next output as the JSON the package's driver reads: `{"t":"send",id,endpoint,
/// method,url,headers:[[n,v]…],body,timeout_ms,free?,send_by?}` (`free: true`: no key's request, so no
/// slot of the key's limiter: `Endpoint::counts_against_key`; `send_by`: the latest it may go out,
/// a slot later than that not waited for), `{"t":"event",event}`, `{"t":"wait",until}`,
/// `{"t":"pending"}`, `{"t":"done"}`.
pub(crate) fn render(out: Output) -> String {
    let mut text = String::with_capacity(256);
    let mut m = Members::open(&mut text);
    match &out {
        Output::Send { id, endpoint, request, timeout_ms, send_by } => {
            m.text("t", "send").uint("id", id.0).text("endpoint", endpoint.as_str()).text("method", request.method.as_str()).text("url", &request.url);
            m.value("headers", &HeaderPairs(&request.headers));
            match request.body.as_deref() {
                Some(b) => m.text("body", &String::from_utf8_lossy(b)),
                None => m.value("body", &Json::Null),
            };
            match timeout_ms {
                Some(t) => m.uint("timeout_ms", *t),
                None => m.value("timeout_ms", &Json::Null),
            };
            if !endpoint.counts_against_key() {
                m.bool("free", true);
            }
            if let Some(t) = send_by {
                m.uint("send_by", t.0);
            }
        }
        #[cfg(feature = "batch")]
        Output::Event(Event::ItemDone(r)) => {
            m.text("t", "event").value("event", &ItemRecord(r, Some("item_done")));
        }
        Output::Event(e) => {
            m.text("t", "event").value("event", e);
        }
        Output::WaitUntil(t) => {
            m.text("t", "wait").uint("until", t.0);
        }
        Output::Pending => {
            m.text("t", "pending");
        }
        _ => {
            m.text("t", "done");
        }
    }
    m.close();
    text
}
