//! The batch module (built with the `batch` feature): the core's `Batch` scheduler as `BatchRun`,
//! loaded by the package the first time a batch runs (see the crate docs).

use crate::{headers_from, invalid, ms, one, overridden, parse, render, seed_of, throw, transport_kind, ErrorRecord, R};
use usvideo_core::json::{self, Json};
use usvideo_core::validate;
use usvideo_core::writers::{Members, Record};
use usvideo_core::ToJson;
use usvideo_core::{ApiKey, Batch, BatchOptions, BatchSnapshot, ClientConfig, CreateVideoRequest, HttpResponse, IssueCode, ItemResult, RequestId};
use wasm_bindgen::prelude::*;

/// A running batch: the core's [`Batch`], driven by the package's loop like `Machine`.
#[wasm_bindgen]
pub struct BatchRun(Box<Batch>);

#[wasm_bindgen]
impl BatchRun {
    /// Starts (`requests`, a JSON array of loose create requests) or resumes (`snapshot`, the JSON
    /// of `snapshot()`) a batch against `base_url` with `api_key` (`""`: none, behind a proxy that
    /// adds it). `options` are JSON overrides of
    /// `BatchOptions` (wire names, e.g. `{"max_spend_cents": 500, "limits": {"concurrent_jobs":
    /// 4}}`), `entropy` at least 16 random bytes (idempotency keys, jitter). Sends nothing: the
    /// first request comes from `poll`.
    ///
    /// # Errors
    /// A validation error naming every bad request (`requests[3].duration`), a total above
    /// `max_spend_cents`, a snapshot this version cannot read, or a bad `base_url` or `api_key`
    /// (an empty batch is none: it ends at once, empty).
    // A flat signature is what crosses to JS as plain arguments (no options object to marshal).
    #[allow(clippy::too_many_arguments)]
    pub fn start(base_url: &str, api_key: &str, user_agent: Option<String>, requests: Option<String>, snapshot: Option<String>, options: &str, entropy: &[u8], now: f64) -> R<BatchRun> {
        let mut config = ClientConfig::new(base_url).map_err(|i| crate::invalid(vec![i]))?;
        if let Some(ua) = user_agent {
            config = config.with_user_agent(ua);
        }
        let key = ApiKey::optional(Some(api_key)).map_err(|i| crate::invalid(vec![i]))?;
        let batch = match (requests, snapshot) {
            (_, Some(s)) => resume_batch(&config, key.as_ref(), &s, options, entropy, now)?,
            (Some(r), None) => start_batch(&config, key.as_ref(), &r, options, entropy, now)?,
            (None, None) => return Err(throw(&usvideo_core::Error::usage("internal: a batch needs requests or a snapshot"))),
        };
        Ok(BatchRun(Box::new(batch)))
    }

    /// The batch's state as JSON, to resume from.
    pub fn snapshot(&self) -> String {
        self.0.snapshot().to_json_string()
    }

    /// The batch's counts now, as JSON (`BatchProgress`).
    pub fn progress(&self) -> String {
        self.0.progress().to_json_string()
    }

    /// The estimated cost of what is left, in cents.
    #[wasm_bindgen(getter, js_name = estimatedCents)]
    pub fn estimated_cents(&self) -> f64 {
        self.0.estimated_cents() as f64
    }

    /// The next output, as JSON (as `Machine.poll`; a finished item is an `item_done` event).
    pub fn poll(&mut self, now: f64) -> String {
        render(self.0.poll(ms(now)))
    }

    /// The response to request `id`: status, headers (`name\0value\0…`) and body bytes.
    #[wasm_bindgen(js_name = handleResponse)]
    pub fn handle_response(&mut self, id: f64, status: u16, headers: &str, body: &[u8], now: f64) {
        let resp = HttpResponse { status, headers: headers_from(headers), body: body.to_vec() };
        self.0.handle_response(RequestId(id as u64), resp, ms(now));
    }

    /// Request `id` got no answer (`connect`, `timeout`, `aborted`, `body_too_large`, `other`).
    #[wasm_bindgen(js_name = handleTransportError)]
    pub fn handle_transport_error(&mut self, id: f64, kind: &str, message: &str, now: f64) {
        self.0.handle_transport_error(RequestId(id as u64), transport_kind(kind), message, ms(now));
    }

    /// Request `id` was not sent: the driver found no slot of the rate limit before its `send_by`
    /// (a delete whose job's sighting went stale: the core looks at the job first).
    #[wasm_bindgen(js_name = handleNotSent)]
    pub fn handle_not_sent(&mut self, id: f64, now: f64) {
        self.0.handle_not_sent(RequestId(id as u64), ms(now));
    }

    /// Time passed.
    #[wasm_bindgen(js_name = handleTimeout)]
    pub fn handle_timeout(&mut self, now: f64) {
        self.0.handle_timeout(ms(now));
    }

    /// Cancels the batch; drain `poll` afterwards (deletes of pending jobs follow).
    pub fn cancel(&mut self, now: f64) {
        self.0.cancel(ms(now));
    }

    /// The summary once `done`, as JSON: `{results, progress, spent_cents}`.
    ///
    /// # Errors
    /// The batch's error (it failed as a whole), thrown.
    #[wasm_bindgen(js_name = takeResult)]
    pub fn take_result(&mut self) -> R<String> {
        self.0
            .take_result()
            .map(|s| {
                let results: Vec<ItemRecord<'_>> = s.results.iter().map(|r| ItemRecord(r, None)).collect();
                Summary { results: &results, progress: &s.progress, spent_cents: s.spent_cents }.to_json_string()
            })
            .map_err(|e| throw(&e))
    }
}

/// What `takeResult` hands the package when the batch is over.
struct Summary<'a> {
    results: &'a [ItemRecord<'a>],
    progress: &'a usvideo_core::BatchProgress,
    spent_cents: u64,
}

impl Record for Summary<'_> {
    fn write_members(&self, m: &mut Members<'_>) {
        m.list("results", self.results).value("progress", self.progress).uint("spent_cents", self.spent_cents);
    }
}

/// A batch item for JS, its error with `class` and `retryable` like every thrown error; `type` is
/// `item_done` when it is sent as an event.
pub(crate) struct ItemRecord<'a>(pub(crate) &'a ItemResult, pub(crate) Option<&'static str>);

impl Record for ItemRecord<'_> {
    fn write_members(&self, m: &mut Members<'_>) {
        let ItemRecord(r, kind) = self;
        m.maybe_text("type", *kind).uint("index", r.index.into()).maybe_value("job", r.job.as_ref()).maybe_value("error", r.error.as_ref().map(ErrorRecord).as_ref());
    }
}

// ---------------------------------------------------------------------------------------------
// Reading a batch's input
// ---------------------------------------------------------------------------------------------

/// The requests of a new batch, each validated as a create request (fields prefixed with
/// `requests[i].`).
fn batch_requests(requests: &str) -> R<Vec<CreateVideoRequest>> {
    let Json::Array(items) = parse(requests)? else {
        return Err(one("requests", IssueCode::InvalidType, "requests must be an array"));
    };
    validate::create_requests_from_json(&items).map_err(invalid)
}

/// A batch's options: JSON overrides of [`BatchOptions`].
fn batch_options(options: &str) -> R<BatchOptions> {
    overridden(Some(&parse(options)?), "")
}

/// A snapshot taken by `snapshot()`.
fn batch_snapshot(snapshot: &str) -> R<BatchSnapshot> {
    // The hand-written reader, not serde: no serde in either module (see core/src/readers.rs).
    json::parse(snapshot.as_bytes()).ok().and_then(|v| <BatchSnapshot as usvideo_core::FromJson>::from_json(&v).ok()).ok_or_else(|| one("snapshot", IssueCode::InvalidFormat, "not a batch snapshot (take it with batch.snapshot())"))
}

/// Starts the core's [`Batch`] over `requests` (JSON text of loose create requests).
fn start_batch(config: &ClientConfig, key: Option<&ApiKey>, requests: &str, options: &str, entropy: &[u8], now: f64) -> R<Batch> {
    let reqs = batch_requests(requests)?;
    let options = batch_options(options)?;
    Batch::new(config, key, reqs, entropy, options, ms(now)).map_err(|e| throw(&e))
}

/// Resumes the core's [`Batch`] from a snapshot.
fn resume_batch(config: &ClientConfig, key: Option<&ApiKey>, snapshot: &str, options: &str, entropy: &[u8], now: f64) -> R<Batch> {
    let snap = batch_snapshot(snapshot)?;
    let options = batch_options(options)?;
    Batch::resume(config, key, snap, seed_of(entropy), options, ms(now)).map_err(|e| throw(&e))
}
