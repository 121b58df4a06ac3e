//! One `Machine` handle for every core state machine (call, create, wait, create-and-wait, batch), and the
//! shared `RateLimiter`. Both are `frozen` pyclasses with a `Mutex` inside, so threads and
//! re-entrancy never hit pyo3's "Already borrowed".
//!
//! Driving contract (the core's [`usvideo_core::Machine`]): after each input, drain `poll(now_ms)`
//! until it returns `("wait_until", t)`, `("pending",)` or `("done",)`. `poll` returns one of:
//! - `("send", id, endpoint, method, url, headers, body | None, timeout_ms | None, counted,
//!   send_by_ms | None)`: `counted`, whether it waits for (and teaches) the key's rate limiter
//!   ([`usvideo_core::Endpoint::counts_against_key`]); `send_by_ms`, the latest it may go out
//!   (a slot later than that is not waited for: `handle_not_sent`)
//! - `("event", event_json)`
//! - `("wait_until", t_ms)`
//! - `("pending",)` / `("done",)`

use crate::convert::{self, PyHeaders};
use crate::errors::{self, guard, py as core};
use crate::functions::{api_key, Config};
use pyo3::prelude::*;
use std::sync::{Arc, Mutex, MutexGuard};
use usvideo_core::validate::{Issue, IssueCode};
use usvideo_core::{Batch, BatchOptions, BatchSnapshot, Call, Create, CreateVideoRequest, HttpRequest, IdempotencyKey, JobRun, Millis, Output, RequestId, RetryPolicy, WaitOptions};

#[allow(clippy::large_enum_variant)] // one per handle; boxing buys nothing
enum Inner {
    Call(Call),
    Create(Create),
    Run(JobRun),
    Batch(Box<Batch>),
}

impl Inner {
    fn machine(&mut self) -> &mut dyn usvideo_core::Machine {
        match self {
            Inner::Call(m) => m,
            Inner::Create(m) => m,
            Inner::Run(m) => m,
            Inner::Batch(m) => m.as_mut(),
        }
    }
}

/// A core state machine behind one handle. Build it with `Machine.call`, `Machine.create`,
/// `Machine.wait` or `Machine.create_and_wait`.
#[pyclass(frozen, module = "usvideo._native")]
pub(crate) struct Machine {
    inner: Mutex<Inner>,
}

fn idem(key: &str) -> PyResult<IdempotencyKey> {
    IdempotencyKey::from_string(key).map_err(errors::issue)
}

fn create_request(json: &str) -> PyResult<usvideo_core::CreateVideoRequest> {
    usvideo_core::validate::create_request_from_json(&convert::parse_loose(json)?).map_err(errors::issues)
}

/// A batch's requests from loose JSON (a list of dicts): every rule of every item, fields named
/// `requests[3].duration`.
fn batch_requests(json: &str) -> PyResult<Vec<CreateVideoRequest>> {
    let value = convert::parse_loose(json)?;
    let usvideo_core::Json::Array(list) = &value else {
        return Err(errors::issue(Issue::new("requests", IssueCode::InvalidType, "requests must be a list of create requests")));
    };
    usvideo_core::validate::create_requests_from_json(list).map_err(errors::issues)
}

fn batch_snapshot(json: &str) -> PyResult<BatchSnapshot> {
    serde_json::from_value(convert::parse(json)?).map_err(|e| errors::issue(Issue::new("snapshot", IssueCode::InvalidFormat, format!("not a batch snapshot: {e}"))))
}

impl Machine {
    fn new(inner: Inner) -> Self {
        Machine { inner: Mutex::new(inner) }
    }

    /// The machine, even after a panic poisoned the lock (the state is then whatever it was; the
    /// next call goes on from there rather than failing for ever).
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[pymethods]
impl Machine {
    /// One call with retries of a built request (`Config.*` gives `method, url, headers, body`).
    /// `retry_json` is a partial `RetryPolicy` (`{"max_retries": 2}`); `deadline_ms` ends it.
    #[staticmethod]
    #[pyo3(signature = (endpoint, method, url, headers, body, seed, retry_json=None, deadline_ms=None))]
    #[allow(clippy::too_many_arguments)]
    fn call(endpoint: &str, method: &str, url: String, headers: PyHeaders, body: Option<&[u8]>, seed: u64, retry_json: Option<&str>, deadline_ms: Option<u64>) -> PyResult<Self> {
        guard(|| {
            let request = HttpRequest { method: convert::from_name("method", method)?, url, headers: convert::headers_in(headers), body: body.map(<[u8]>::to_vec) };
            let policy: RetryPolicy = convert::retry_policy(retry_json)?;
            Ok(Machine::new(Inner::Call(Call::new(convert::endpoint(endpoint)?, request, policy, seed, deadline_ms.map(Millis), 0))))
        })
    }

    /// A create made at most once (idempotency key, then reconciliation when the outcome is unknown).
    #[staticmethod]
    #[pyo3(signature = (config, key, request_json, idempotency_key, seed, retry_json=None, deadline_ms=None))]
    fn create(config: &Config, key: Option<&str>, request_json: &str, idempotency_key: &str, seed: u64, retry_json: Option<&str>, deadline_ms: Option<u64>) -> PyResult<Self> {
        guard(|| {
            let policy: RetryPolicy = convert::with_defaults(retry_json)?;
            let c = core(Create::new(&config.inner, api_key(key)?.as_ref(), create_request(request_json)?, &idem(idempotency_key)?, policy, seed, deadline_ms.map(Millis), 0))?.sharing(&config.claims);
            Ok(Machine::new(Inner::Create(c)))
        })
    }

    /// Waits for job `job_id`. `options_json` is a partial `WaitOptions`
    /// (`{"timeout_ms": 600000, "cancel_on_timeout": false, "poll": {…}, "retry": {…}}`).
    #[staticmethod]
    #[pyo3(signature = (config, key, job_id, seed, now_ms, options_json=None))]
    fn wait(config: &Config, key: Option<&str>, job_id: &str, seed: u64, now_ms: u64, options_json: Option<&str>) -> PyResult<Self> {
        guard(|| {
            let options: WaitOptions = convert::with_defaults(options_json)?;
            let run = core(JobRun::wait(&config.inner, api_key(key)?.as_ref(), job_id, options, seed, Millis(now_ms)))?.sharing(&config.claims).learning(&config.pace).handing_off();
            Ok(Machine::new(Inner::Run(run)))
        })
    }

    /// Creates a job (at most once) and waits for it.
    #[staticmethod]
    #[pyo3(signature = (config, key, request_json, idempotency_key, seed, now_ms, options_json=None))]
    fn create_and_wait(config: &Config, key: Option<&str>, request_json: &str, idempotency_key: &str, seed: u64, now_ms: u64, options_json: Option<&str>) -> PyResult<Self> {
        guard(|| {
            let options: WaitOptions = convert::with_defaults(options_json)?;
            let run = core(JobRun::create_and_wait(&config.inner, api_key(key)?.as_ref(), create_request(request_json)?, &idem(idempotency_key)?, options, seed, Millis(now_ms)))?.sharing(&config.claims).learning(&config.pace).handing_off();
            Ok(Machine::new(Inner::Run(run)))
        })
    }

    /// A batch of create requests (`requests_json`: a list of loose requests) run within the
    /// account's limits. `entropy` (16+ random bytes) seeds the items' idempotency keys;
    /// `options_json` is a partial `BatchOptions` (`{"max_spend_cents": 500, "limits":
    /// {"requests_per_minute": 60, "concurrent_jobs": 10}, "longest_first": false, …}`).
    /// Raises `ValidationError` (every bad item, a total above `max_spend_cents`); an empty batch
    /// ends at once with an empty summary.
    #[staticmethod]
    #[pyo3(signature = (config, key, requests_json, entropy, now_ms, options_json=None))]
    fn batch(config: &Config, key: Option<&str>, requests_json: &str, entropy: &[u8], now_ms: u64, options_json: Option<&str>) -> PyResult<Self> {
        guard(|| {
            let options: BatchOptions = convert::with_defaults(options_json)?;
            let b = core(Batch::new(&config.inner, api_key(key)?.as_ref(), batch_requests(requests_json)?, entropy, options, Millis(now_ms)))?;
            Ok(Machine::new(Inner::Batch(Box::new(b))))
        })
    }

    /// Continues a batch from `snapshot_json` (from `snapshot()`, possibly in another process):
    /// items whose create may have been sent are reconciled before anything is sent for them.
    #[staticmethod]
    #[pyo3(signature = (config, key, snapshot_json, seed, now_ms, options_json=None))]
    fn resume_batch(config: &Config, key: Option<&str>, snapshot_json: &str, seed: u64, now_ms: u64, options_json: Option<&str>) -> PyResult<Self> {
        guard(|| {
            let options: BatchOptions = convert::with_defaults(options_json)?;
            let b = core(Batch::resume(&config.inner, api_key(key)?.as_ref(), batch_snapshot(snapshot_json)?, seed, options, Millis(now_ms)))?;
            Ok(Machine::new(Inner::Batch(Box::new(b))))
        })
    }

    /// A batch's state (JSON) to resume from with `resume_batch`.
    fn snapshot(&self) -> PyResult<String> {
        guard(|| match &*self.lock() {
            Inner::Batch(b) => convert::to_json(&b.snapshot()),
            _ => Err(errors::usage("only a batch machine has a snapshot")),
        })
    }

    /// A batch's counts now (JSON `{total, queued, in_flight, completed, failed, cancelled, requests}`).
    fn batch_progress(&self) -> PyResult<String> {
        guard(|| match &*self.lock() {
            Inner::Batch(b) => convert::to_json(&b.progress()),
            _ => Err(errors::usage("only a batch machine has batch progress")),
        })
    }

    /// A batch's estimated cost of the items not yet done, in cents.
    fn estimated_cents(&self) -> PyResult<u64> {
        guard(|| match &*self.lock() {
            Inner::Batch(b) => Ok(b.estimated_cents()),
            _ => Err(errors::usage("only a batch machine has an estimate")),
        })
    }

    /// Whether the machine has finished.
    fn is_done(&self) -> PyResult<bool> {
        guard(|| {
            Ok(match &*self.lock() {
                Inner::Batch(b) => b.is_done(),
                Inner::Run(m) => m.is_done(),
                _ => false,
            })
        })
    }

    /// What to do next (see the module docs for the shapes).
    fn poll<'py>(&self, py: Python<'py>, now_ms: u64) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let out = self.lock().machine().poll(Millis(now_ms));
            Ok(match out {
                Output::Send { id, endpoint, request, timeout_ms, send_by } => {
                    let body = request.body.as_deref().map(|b| pyo3::types::PyBytes::new(py, b));
                    let headers = convert::request_headers(py, &request.headers)?;
                    ("send", id.0, convert::name_of(&endpoint), request.method.as_str(), request.url, headers, body, timeout_ms, endpoint.counts_against_key(), send_by.map(|t| t.0)).into_pyobject(py)?.into_any()
                }
                Output::Event(e) => ("event", convert::to_json(&e)?).into_pyobject(py)?.into_any(),
                Output::WaitUntil(t) => ("wait_until", t.0).into_pyobject(py)?.into_any(),
                Output::Pending => ("pending",).into_pyobject(py)?.into_any(),
                _ => ("done",).into_pyobject(py)?.into_any(),
            })
        })
    }

    /// The response to request `id`: status, headers as `(name, value)` tuples, the whole body.
    fn handle_response(&self, id: u64, status: u16, headers: PyHeaders, body: &[u8], now_ms: u64) -> PyResult<()> {
        guard(|| {
            self.lock().machine().handle_response(RequestId(id), convert::response(status, headers, body), Millis(now_ms));
            Ok(())
        })
    }

    /// Request `id` got no answer: `kind` is `connect`, `timeout`, `aborted`, `body_too_large` or `other`.
    fn handle_transport_error(&self, id: u64, kind: &str, message: &str, now_ms: u64) -> PyResult<()> {
        guard(|| {
            let kind = convert::transport_kind(kind)?;
            self.lock().machine().handle_transport_error(RequestId(id), kind, message, Millis(now_ms));
            Ok(())
        })
    }

    /// Request `id` was not sent: no slot of the client's rate limit before its time ran out (the
    /// core words the error).
    fn handle_not_sent(&self, id: u64, now_ms: u64) -> PyResult<()> {
        guard(|| {
            self.lock().machine().handle_not_sent(RequestId(id), Millis(now_ms));
            Ok(())
        })
    }

    /// Time passed (spurious calls are harmless).
    fn handle_timeout(&self, now_ms: u64) -> PyResult<()> {
        guard(|| {
            self.lock().machine().handle_timeout(Millis(now_ms));
            Ok(())
        })
    }

    /// While a wait's clean-up is under way (the delete of the job its caller gave up, by a cancel
    /// or a timeout with `cancel_on_timeout`: the core's `JobRun::cleaning_up`), the exception
    /// (not raised) the driver raises if it stops waiting for it and hands it to the background
    /// (the core's `job::handed_off`: it says the delete goes on). `None` otherwise.
    fn cleaning_up<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let error = guard(|| {
            Ok(match &*self.lock() {
                Inner::Run(m) => m.cleaning_up().map(usvideo_core::job::handed_off),
                _ => None,
            })
        })?;
        Ok(error.map(|e| errors::error_object(py, &e)))
    }

    /// Asks the machine to stop; drain `poll` afterwards if a clean-up request may follow.
    fn cancel(&self, now_ms: u64) -> PyResult<()> {
        guard(|| {
            self.lock().machine().cancel(Millis(now_ms));
            Ok(())
        })
    }

    /// The job (JSON) of a create or wait machine once done, or a batch's summary (JSON
    /// `{results, progress, spent_cents}`); raises its error otherwise.
    fn take_result(&self) -> PyResult<String> {
        guard(|| match &mut *self.lock() {
            Inner::Create(m) => convert::to_json(&core(m.take_result())?),
            Inner::Run(m) => convert::to_json(&core(m.take_result())?),
            Inner::Batch(m) => convert::to_json(&core(m.take_result())?),
            Inner::Call(_) => Err(errors::usage("a call machine's result is a response: use take_response()")),
        })
    }

    /// The 2xx response `(status, headers, body)` of a call machine once done; raises its error otherwise.
    fn take_response<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| match &mut *self.lock() {
            Inner::Call(m) => convert::response_tuple(py, &core(m.take_result())?),
            _ => Err(errors::usage("only a call machine has a response: use take_result()")),
        })
    }

    /// The 2xx response of a call machine once done, parsed by the core as `what` (`job`,
    /// `job_page` (of the page `params` asked for, JSON as given to `list_videos`), `account`,
    /// `delete` (of job `id`) or `created_api_key`; `job` with an `id` refuses another job's
    /// answer, a `Decode` error naming `id`) and returned as plain Python values (the
    /// `dict` that `json.loads` of `parse_<what>(*take_response())` gives); raises the call's
    /// error, or the parser's.
    #[pyo3(signature = (what, id=None, params="{}"))]
    fn take_parsed<'py>(&self, py: Python<'py>, what: &str, id: Option<&str>, params: &str) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let response = match &mut *self.lock() {
                Inner::Call(m) => core(m.take_result())?,
                _ => return Err(errors::usage("only a call machine has a response: use take_result()")),
            };
            match what {
                "job" => convert::to_py_value(py, &core(usvideo_core::response::parse_job_for(&response, id))?),
                "job_page" => convert::to_py_value(py, &core(usvideo_core::response::parse_job_page(&response, &crate::functions::list_params(params)?))?),
                "account" => convert::to_py_value(py, &core(usvideo_core::response::parse_account(&response))?),
                "delete" => convert::to_py_value(py, &core(usvideo_core::response::parse_delete(&response, id.unwrap_or_default()))?),
                "created_api_key" => convert::to_py_value(py, &core(usvideo_core::response::parse_created_api_key(&response))?),
                _ => Err(errors::usage(format!("unknown response parser `{what}`"))),
            }
        })
    }

    /// The job's id once known (wait machines), else `None`.
    fn job_id(&self) -> PyResult<Option<String>> {
        guard(|| {
            Ok(match &*self.lock() {
                Inner::Run(m) => m.job_id().map(str::to_owned),
                _ => None,
            })
        })
    }

    fn __repr__(&self) -> String {
        let kind = match &*self.lock() {
            Inner::Call(_) => "call",
            Inner::Create(_) => "create",
            Inner::Run(_) => "job_run",
            Inner::Batch(_) => "batch",
        };
        format!("<usvideo._native.Machine {kind}>")
    }
}

/// The client-side limiter of one key's requests per rolling minute, shared by everything that
/// uses the key; it also learns from a 429's `Retry-After`. An `Arc` because the core's table of
/// shared limiters (`RateLimiter.shared`) hands the same one to every client on a key.
#[pyclass(frozen, module = "usvideo._native")]
pub(crate) struct RateLimiter {
    inner: Arc<Mutex<usvideo_core::RateLimiter>>,
}

impl RateLimiter {
    fn lock(&self) -> MutexGuard<'_, usvideo_core::RateLimiter> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[pymethods]
impl RateLimiter {
    /// A limiter for `requests_per_minute` (0: unlimited).
    #[new]
    #[pyo3(signature = (requests_per_minute=60))]
    fn new(requests_per_minute: u32) -> Self {
        RateLimiter { inner: Arc::new(Mutex::new(usvideo_core::RateLimiter::new(requests_per_minute))) }
    }

    /// The limiter of a key: one per base URL, key and budget in the process (the core's
    /// `ratelimit::shared`: the newest 64 keys' kept, keyed by a hash of the key, nothing shared
    /// with a budget of 0).
    #[staticmethod]
    #[pyo3(signature = (base_url, key, requests_per_minute))]
    fn shared(base_url: &str, key: Option<&str>, requests_per_minute: u32) -> PyResult<Self> {
        guard(|| Ok(RateLimiter { inner: usvideo_core::ratelimit::shared(base_url, key, requests_per_minute) }))
    }

    /// Whether `other` is the same limiter (two clients on one key share one).
    fn same_as(&self, other: &RateLimiter) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Takes a slot for a request sent at `now_ms` (`None`), or says when to ask again (an instant in ms).
    fn try_acquire(&self, now_ms: u64) -> PyResult<Option<u64>> {
        guard(|| Ok(self.lock().try_acquire(Millis(now_ms)).err().map(|t| t.0)))
    }

    /// Takes a slot in turn (the core's line: first come first served): `(None, None)` when
    /// granted, else `(ticket, turn)`: sleep until `turn` (ms) and ask again with `ticket`, or
    /// `leave(ticket)` on giving up.
    #[pyo3(signature = (ticket, now_ms))]
    fn acquire_in_line(&self, ticket: Option<u64>, now_ms: u64) -> PyResult<(Option<u64>, Option<u64>)> {
        guard(|| {
            let mut ticket = ticket;
            let turn = self.lock().acquire_in_line(&mut ticket, Millis(now_ms)).err().map(|t| t.0);
            Ok((ticket, turn))
        })
    }

    /// Gives up a place in line (an abort, a deadline).
    fn leave(&self, ticket: u64) -> PyResult<()> {
        guard(|| {
            self.lock().leave(ticket);
            Ok(())
        })
    }

    /// When the next slot frees, without taking one.
    fn next_free(&self, now_ms: u64) -> PyResult<u64> {
        guard(|| Ok(self.lock().next_free(Millis(now_ms)).0))
    }

    /// Learns from any response: a 429 with `Retry-After` pauses every request on the key, unless
    /// its body says `concurrency_limit` (job slots, not the request rate).
    fn observe(&self, status: u16, headers: PyHeaders, body: &[u8], now_ms: u64) -> PyResult<()> {
        guard(|| {
            self.lock().observe(&convert::response(status, headers, body), Millis(now_ms));
            Ok(())
        })
    }

    /// Nothing is sent before `now_ms + retry_after_ms`.
    fn on_retry_after(&self, now_ms: u64, retry_after_ms: u64) -> PyResult<()> {
        guard(|| {
            self.lock().on_retry_after(Millis(now_ms), retry_after_ms);
            Ok(())
        })
    }
}
