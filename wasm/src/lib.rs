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

use serde::Serialize;
use serde_json::{json, Map, Value};
use usvideo_core::validate::{self, CREATE_FIELDS};
use usvideo_core::{
    response, ApiKey, Batch, BatchOptions, BatchSnapshot, Call, ClientConfig, Create, CreateVideoRequest, Endpoint, Error, Header, HttpRequest, HttpResponse, IdempotencyKey, Issue, IssueCode, JobRun, Jwt, Millis,
    ItemResult, Output, PricingTable, RateLimiter, RequestId, Resolution, RetryPolicy, TransportKind, WaitOptions,
};
use wasm_bindgen::prelude::*;

type R<T> = Result<T, JsValue>;

/// The error record the package turns into a `USVideoError` subclass.
fn error_value(e: &Error) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("class".into(), Value::from(e.kind.class_name()));
        m.insert("retryable".into(), Value::from(e.is_retryable()));
    }
    v
}

fn throw(e: &Error) -> JsValue {
    JsValue::from_str(&error_value(e).to_string())
}

fn invalid(issues: Vec<Issue>) -> JsValue {
    throw(&Error::validation(issues))
}

fn one(field: &str, code: IssueCode, message: &str) -> JsValue {
    invalid(vec![Issue::new(field, code, message)])
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// JSON text made by the package's own `JSON.stringify`.
fn parse(text: &str) -> R<Value> {
    serde_json::from_str(text).map_err(|_| throw(&Error::usage("internal: the package passed text that is not JSON")))
}

/// A host instant (`performance.now()`) as the core's clock. `as` saturates and maps NaN to 0.
fn ms(now: f64) -> Millis {
    Millis((now as u64).min(Millis::MAX.0))
}

/// `a` with the fields of `b` laid over it, objects merged recursively.
fn merge(a: &mut Value, b: &Value) {
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
fn overridden<T: Serialize + serde::de::DeserializeOwned + Default>(over: Option<&Value>, field: &str) -> R<T> {
    let mut base = serde_json::to_value(T::default()).unwrap_or(Value::Null);
    if let Some(o) = over.filter(|o| !o.is_null()) {
        merge(&mut base, o);
    }
    serde_json::from_value(base).map_err(|e| one(field, IssueCode::InvalidType, &format!("{field}: {e}")))
}

fn headers_from(text: &str) -> Vec<Header> {
    let mut out = Vec::new();
    let mut parts = text.split('\0');
    while let (Some(n), Some(v)) = (parts.next(), parts.next()) {
        if !n.is_empty() {
            out.push(Header::new(n, v));
        }
    }
    out
}

fn transport_kind(kind: &str) -> TransportKind {
    match kind {
        "connect" => TransportKind::Connect,
        "timeout" => TransportKind::Timeout,
        "aborted" => TransportKind::Aborted,
        "body_too_large" => TransportKind::BodyTooLarge,
        _ => TransportKind::Other,
    }
}

// ---------------------------------------------------------------------------------------------
// Pure functions
// ---------------------------------------------------------------------------------------------

/// Resolution and duration of a loose estimate input (`{resolution?, duration?}`, or a whole create
/// request: its other fields are allowed and ignored). Defaults: 720p, 5 s.
fn estimate_input(v: &Value) -> Result<(Resolution, u32), Vec<Issue>> {
    let Some(obj) = v.as_object() else {
        return Err(vec![Issue::new("body", IssueCode::InvalidType, "the estimate input must be an object")]);
    };
    let mut issues = Vec::new();
    for key in obj.keys() {
        if !CREATE_FIELDS.contains(&key.as_str()) {
            let hint = validate::suggest(key, &CREATE_FIELDS).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
            issues.push(Issue::new(key.clone(), IssueCode::UnknownField, format!("unknown field `{key}`{hint}")));
        }
    }
    let resolution = match obj.get("resolution") {
        None | Some(Value::Null) => Some(Resolution::default()),
        Some(Value::String(s)) => Resolution::parse(s).or_else(|| {
            issues.push(Issue::new("resolution", IssueCode::InvalidChoice, "resolution must be one of 720p, 1080p, 2k (exact case)"));
            None
        }),
        Some(_) => {
            issues.push(Issue::new("resolution", IssueCode::InvalidType, "resolution must be a string"));
            None
        }
    };
    let duration = match obj.get("duration") {
        None | Some(Value::Null) => Some(usvideo_core::model::DEFAULT_DURATION),
        Some(Value::Number(n)) if n.as_u64().is_some() => Some(n.as_u64().and_then(|d| u32::try_from(d).ok()).unwrap_or(u32::MAX)),
        Some(Value::Number(n)) if n.is_i64() => Some(0),
        Some(Value::Number(_)) => {
            issues.push(Issue::new("duration", IssueCode::NotInteger, "duration must be a whole number of seconds"));
            None
        }
        Some(_) => {
            issues.push(Issue::new("duration", IssueCode::InvalidType, "duration must be an integer"));
            None
        }
    };
    match (resolution, duration) {
        (Some(r), Some(d)) if issues.is_empty() => Ok((r, d)),
        _ => Err(issues),
    }
}

/// `estimateCost`: cents for `input` (one estimate input, or an array of them for a total), with
/// the reference's built-in prices or `table` (the service's `GET /v1/pricing` body, as JSON).
///
/// # Errors
/// A validation error: the input's, or one on `table`. In an array, fields are prefixed with
/// `requests[i].`.
#[wasm_bindgen]
pub fn estimate(input: &str, table: Option<String>) -> R<f64> {
    let table = match table {
        Some(t) => PricingTable::from_json(&parse(&t)?).map_err(|m| one("table", IssueCode::InvalidType, &m))?,
        None => PricingTable::builtin(),
    };
    let v = parse(input)?;
    let cents = if let Value::Array(items) = &v {
        let mut reqs = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let (resolution, duration) = estimate_input(item).map_err(|issues| {
                invalid(issues.into_iter().map(|mut x| {
                    x.field = format!("requests[{i}].{}", x.field);
                    x
                }).collect())
            })?;
            let mut r = CreateVideoRequest::text("");
            r.resolution = Some(resolution);
            r.duration = Some(duration);
            reqs.push(r);
        }
        table.estimate_all(&reqs)
    } else {
        let (resolution, duration) = estimate_input(&v).map_err(invalid)?;
        table.estimate(resolution, duration)
    };
    cents.map(|c| c as f64).map_err(|i| invalid(vec![i]))
}

/// The loose validators, by target: `create_request` (the normalized request), `list_params`,
/// `job_id`, `api_key` and `jwt` (`true`). `input` is JSON text.
///
/// # Errors
/// A validation error listing every violated rule.
#[wasm_bindgen]
pub fn validate(target: &str, input: &str) -> R<String> {
    let v = parse(input)?;
    let text = || v.as_str().ok_or_else(|| one(target, IssueCode::InvalidType, "must be a string"));
    match target {
        "create_request" => validate::create_request_from_json(&v).map(|r| to_json(&r)).map_err(invalid),
        "list_params" => validate::list_params_from_json(&v).map(|p| to_json(&p)).map_err(invalid),
        "job_id" => validate::validate_job_id(text()?).map(|()| "true".into()).map_err(|i| invalid(vec![i])),
        "api_key" => ApiKey::new(text()?).map(|_| "true".into()).map_err(|i| invalid(vec![i])),
        "jwt" => Jwt::new(text()?).map(|_| "true".into()).map_err(|i| invalid(vec![i])),
        _ => Err(throw(&Error::usage("unknown validation target"))),
    }
}

/// Parses a response as `target` would (`parse_job`, `parse_job_page`, `parse_delete`,
/// `parse_account`, `parse_pricing`, `parse_created_api_key`), or returns the error any non-2xx
/// stands for (`error_from_response`, not thrown).
///
/// # Errors
/// The response's error, thrown.
#[wasm_bindgen(js_name = parseResponse)]
pub fn parse_response(target: &str, status: u16, headers: &str, body: &[u8], delete_id: Option<String>) -> R<String> {
    let resp = HttpResponse { status, headers: headers_from(headers), body: body.to_vec() };
    if target == "error_from_response" {
        return Ok(error_value(&response::error_from_response(&resp)).to_string());
    }
    let parser = match target {
        "parse_job" => Parse::Job,
        "parse_job_page" => Parse::Page,
        "parse_delete" => Parse::Delete(delete_id.unwrap_or_default()),
        "parse_account" => Parse::Account,
        "parse_pricing" => Parse::Pricing,
        "parse_created_api_key" => Parse::ApiKey,
        _ => return Err(throw(&Error::usage("unknown parser"))),
    };
    parser.run(&resp).map_err(|e| throw(&e))
}

/// Forces a panic inside the module (tests of the package's panic guard only).
#[wasm_bindgen]
pub fn __debug_panic(n: u32) -> u32 {
    let v: Vec<u32> = Vec::new();
    #[allow(clippy::indexing_slicing)]
    v[n as usize]
}

// ---------------------------------------------------------------------------------------------
// The rate limiter
// ---------------------------------------------------------------------------------------------

/// The core's client-side rate limiter (one per client, shared by all its calls).
#[wasm_bindgen]
pub struct Limiter(RateLimiter);

#[wasm_bindgen]
impl Limiter {
    /// A limiter for `requests_per_minute` (0 = unlimited).
    #[wasm_bindgen(constructor)]
    pub fn new(requests_per_minute: u32) -> Limiter {
        Limiter(RateLimiter::new(requests_per_minute))
    }

    /// Takes a slot at `now`: `-1` when granted, else the instant to ask again.
    pub fn acquire(&mut self, now: f64) -> f64 {
        match self.0.try_acquire(ms(now)) {
            Ok(()) => -1.0,
            Err(t) => t.0 as f64,
        }
    }

    /// When the next slot frees, without taking one.
    #[wasm_bindgen(js_name = nextFree)]
    pub fn next_free(&self, now: f64) -> f64 {
        self.0.next_free(ms(now)).0 as f64
    }

    /// The server said 429 with `Retry-After` of `ms` at `at`.
    #[wasm_bindgen(js_name = retryAfter)]
    pub fn retry_after(&mut self, at: f64, wait_ms: f64) {
        self.0.on_retry_after(ms(at), ms(wait_ms).0);
    }

    /// Learns from a response's status and headers.
    pub fn observe(&mut self, status: u16, headers: &str, now: f64) {
        self.0.observe(&HttpResponse { status, headers: headers_from(headers), body: Vec::new() }, ms(now));
    }
}

// ---------------------------------------------------------------------------------------------
// The client and its machines
// ---------------------------------------------------------------------------------------------

/// Where requests go and with which key. Holds the key so that the JS object never does.
#[wasm_bindgen]
pub struct Client {
    config: ClientConfig,
    key: Option<ApiKey>,
}

#[wasm_bindgen]
impl Client {
    /// A client for `base_url` with an optional API key.
    ///
    /// # Errors
    /// A validation error on `base_url` or `api_key`.
    #[wasm_bindgen(constructor)]
    pub fn new(base_url: &str, api_key: Option<String>, user_agent: Option<String>) -> R<Client> {
        let mut config = ClientConfig::new(base_url).map_err(|i| invalid(vec![i]))?;
        if let Some(ua) = user_agent {
            config = config.with_user_agent(ua);
        }
        let key = api_key.filter(|k| !k.is_empty()).map(ApiKey::new).transpose().map_err(|i| invalid(vec![i]))?;
        Ok(Client { config, key })
    }

    /// The base URL, without a trailing slash.
    #[wasm_bindgen(getter, js_name = baseURL)]
    pub fn base_url(&self) -> String {
        self.config.base_url().to_owned()
    }

    /// The key's redacted form (`sd_…1a2b`), if there is a key.
    #[wasm_bindgen(getter, js_name = redactedKey)]
    pub fn redacted_key(&self) -> Option<String> {
        self.key.as_ref().map(ApiKey::redacted)
    }

    fn key(&self) -> R<&ApiKey> {
        self.key.as_ref().ok_or_else(|| one("api_key", IssueCode::Required, "an API key is required (apiKey option or USVIDEO_API_KEY)"))
    }

    /// Starts a state machine described by `spec` (JSON; see `wasm/README.md`), with jitter
    /// seeded and idempotency keys minted from `entropy` (at least 24 random bytes) unless the
    /// spec gives `seed` and `idempotency_key`.
    ///
    /// # Errors
    /// A validation error on the spec's request, id, parameters or credentials.
    pub fn start(&self, spec: &str, entropy: &[u8], now: f64) -> R<Machine> {
        let v = parse(spec)?;
        let now = ms(now);
        let mut seed_bytes = [0u8; 8];
        for (d, s) in seed_bytes.iter_mut().zip(entropy) {
            *d = *s;
        }
        let seed = v.get("seed").and_then(Value::as_u64).unwrap_or_else(|| u64::from_le_bytes(seed_bytes));
        let retry: RetryPolicy = overridden(v.get("retry"), "retry")?;
        let deadline = v.get("deadline").and_then(Value::as_u64).map(Millis);
        let idempotency = || match v.get("idempotency_key").and_then(Value::as_str) {
            Some(k) => IdempotencyKey::from_string(k).map_err(|i| invalid(vec![i])),
            None => IdempotencyKey::from_entropy(entropy.get(8..).unwrap_or_default()).map_err(|i| invalid(vec![i])),
        };
        let request = || validate::create_request_from_json(v.get("request").unwrap_or(&Value::Null)).map_err(invalid);
        let options = || -> R<WaitOptions> {
            let mut o = v.get("options").cloned().unwrap_or_else(|| Value::Object(Map::new()));
            if let (Value::Object(m), Some(r)) = (&mut o, v.get("retry")) {
                m.entry("retry").or_insert_with(|| r.clone());
            }
            overridden(Some(&o), "options")
        };
        let inner = match v.get("machine").and_then(Value::as_str).unwrap_or("") {
            "call" => {
                let c = v.get("call").unwrap_or(&Value::Null);
                let s = |k: &str| c.get(k).and_then(Value::as_str);
                let id = s("id").unwrap_or("");
                let (endpoint, req, parser): (Endpoint, HttpRequest, Parse) = match s("target").unwrap_or("") {
                    "retrieve_video" => (Endpoint::RetrieveVideo, self.config.retrieve_video(self.key()?, id).map_err(|e| throw(&e))?, Parse::Job),
                    "delete_video" => (Endpoint::DeleteVideo, self.config.delete_video(self.key()?, id).map_err(|e| throw(&e))?, Parse::Delete(id.to_owned())),
                    "list_videos" => {
                        let params = validate::list_params_from_json(c.get("params").unwrap_or(&Value::Null)).map_err(invalid)?;
                        (Endpoint::ListVideos, self.config.list_videos(self.key()?, &params).map_err(|e| throw(&e))?, Parse::Page)
                    }
                    "retrieve_account" => (Endpoint::Account, self.config.retrieve_account(self.key()?), Parse::Account),
                    "retrieve_pricing" => (Endpoint::Pricing, self.config.retrieve_pricing(), Parse::Pricing),
                    "create_api_key" => {
                        let jwt = Jwt::new(s("jwt").unwrap_or("")).map_err(|i| invalid(vec![i]))?;
                        let name = match c.get("name") {
                            None | Some(Value::Null) => None,
                            Some(Value::String(n)) => Some(n.as_str()),
                            Some(_) => return Err(one("name", IssueCode::InvalidType, "name must be a string")),
                        };
                        (Endpoint::CreateApiKey, self.config.create_api_key(&jwt, name).map_err(|e| throw(&e))?, Parse::ApiKey)
                    }
                    _ => return Err(throw(&Error::usage("unknown call target"))),
                };
                let parser = if c.get("raw").and_then(Value::as_bool) == Some(true) { Parse::Raw } else { parser };
                return Ok(Machine { inner: Inner::Call(Call::new(endpoint, req, retry, seed, deadline, 0)), parse: parser });
            }
            "create" => Inner::Create(Create::new(&self.config, self.key()?, request()?, &idempotency()?, retry, seed, deadline, 0).map_err(|e| throw(&e))?),
            "job_run_wait" => {
                let id = v.get("job_id").and_then(Value::as_str).unwrap_or("");
                Inner::Run(JobRun::wait(&self.config, self.key()?, id, options()?, seed, now).map_err(|e| throw(&e))?)
            }
            "job_run_create_and_wait" => {
                Inner::Run(JobRun::create_and_wait(&self.config, self.key()?, request()?, &idempotency()?, options()?, seed, now).map_err(|e| throw(&e))?)
            }
            _ => return Err(throw(&Error::usage("unknown machine"))),
        };
        Ok(Machine { inner, parse: Parse::Job })
    }
}

#[wasm_bindgen]
impl Client {
    /// Starts a batch (the core's [`Batch`]): `requests` is a JSON array of loose create requests,
    /// `options` JSON overrides of [`BatchOptions`] (wire names, e.g. `{"max_spend_cents": 500,
    /// "limits": {"concurrent_jobs": 4}}`), `entropy` at least 16 random bytes (idempotency keys,
    /// jitter).
    ///
    /// # Errors
    /// A validation error naming every bad request (`requests[3].duration`), an empty batch, a
    /// total above `max_spend_cents`, or a missing key.
    #[wasm_bindgen(js_name = startBatch)]
    pub fn start_batch(&self, requests: &str, options: &str, entropy: &[u8], now: f64) -> R<Machine> {
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
        if !issues.is_empty() {
            return Err(invalid(issues));
        }
        let options: BatchOptions = overridden(Some(&parse(options)?), "options")?;
        let b = Batch::new(&self.config, self.key()?, reqs, entropy, options, ms(now)).map_err(|e| throw(&e))?;
        Ok(Machine { inner: Inner::Batch(Box::new(b)), parse: Parse::Raw })
    }

    /// Continues a batch from `snapshot` (the JSON of `Machine.snapshot()`, possibly from another
    /// process): items whose create may have been sent are reconciled before anything is sent.
    ///
    /// # Errors
    /// A validation error for a snapshot this version cannot read, or as `startBatch`.
    #[wasm_bindgen(js_name = resumeBatch)]
    pub fn resume_batch(&self, snapshot: &str, options: &str, entropy: &[u8], now: f64) -> R<Machine> {
        let snap: BatchSnapshot = serde_json::from_str(snapshot).map_err(|_| one("snapshot", IssueCode::InvalidFormat, "not a batch snapshot (take it with batch.snapshot())"))?;
        let options: BatchOptions = overridden(Some(&parse(options)?), "options")?;
        let mut seed = [0u8; 8];
        for (d, s) in seed.iter_mut().zip(entropy) {
            *d = *s;
        }
        let b = Batch::resume(&self.config, self.key()?, snap, u64::from_le_bytes(seed), options, ms(now)).map_err(|e| throw(&e))?;
        Ok(Machine { inner: Inner::Batch(Box::new(b)), parse: Parse::Raw })
    }
}

/// A batch item as JSON, its error with `class` and `retryable` like every thrown error.
fn item_value(r: &ItemResult) -> Value {
    let mut v = json!({"index": r.index});
    if let (Value::Object(m), Some(job)) = (&mut v, &r.job) {
        m.insert("job".into(), serde_json::to_value(job).unwrap_or(Value::Null));
    }
    if let (Value::Object(m), Some(e)) = (&mut v, &r.error) {
        m.insert("error".into(), error_value(e));
    }
    v
}

/// How a finished call's 2xx response is read.
enum Parse {
    Job,
    Page,
    Delete(String),
    Account,
    Pricing,
    ApiKey,
    Raw,
}

impl Parse {
    fn run(&self, resp: &HttpResponse) -> Result<String, Error> {
        Ok(match self {
            Parse::Job => to_json(&response::parse_job(resp)?),
            Parse::Page => to_json(&response::parse_job_page(resp)?),
            Parse::Delete(id) => to_json(&response::parse_delete(resp, id)?),
            Parse::Account => to_json(&response::parse_account(resp)?),
            Parse::Pricing => response::parse_pricing(resp)?.to_json().to_string(),
            Parse::ApiKey => to_json(&response::parse_created_api_key(resp)?),
            Parse::Raw => {
                let headers: Vec<[&str; 2]> = resp.headers.iter().map(|h| [h.name.as_str(), h.value.as_str()]).collect();
                json!({"status": resp.status, "headers": headers, "body": String::from_utf8_lossy(&resp.body)}).to_string()
            }
        })
    }
}

// One of these lives inside each JS-side machine object, which is already a heap allocation;
// boxing the larger variant would add an indirection for nothing.
#[allow(clippy::large_enum_variant)]
enum Inner {
    Call(Call),
    Create(Create),
    Run(JobRun),
    Batch(Box<Batch>),
}

/// One of the core's state machines, driven by the package's loop: `poll` until `wait`,
/// `pending` or `done`; report each `send`'s outcome; then `takeResult`.
#[wasm_bindgen]
pub struct Machine {
    inner: Inner,
    parse: Parse,
}

#[wasm_bindgen]
impl Machine {
    fn m(&mut self) -> &mut dyn usvideo_core::Machine {
        match &mut self.inner {
            Inner::Call(c) => c,
            Inner::Create(c) => c,
            Inner::Run(r) => r,
            Inner::Batch(b) => b.as_mut(),
        }
    }

    fn batch(&self) -> R<&Batch> {
        match &self.inner {
            Inner::Batch(b) => Ok(b),
            _ => Err(throw(&Error::usage("not a batch"))),
        }
    }

    /// A batch's state as JSON, to resume from with `Client.resumeBatch` (batches only).
    ///
    /// # Errors
    /// `usage` on a machine that is not a batch.
    pub fn snapshot(&self) -> R<String> {
        self.batch().map(|b| to_json(&b.snapshot()))
    }

    /// A batch's counts now, as JSON (`BatchProgress`; batches only).
    ///
    /// # Errors
    /// `usage` on a machine that is not a batch.
    pub fn progress(&self) -> R<String> {
        self.batch().map(|b| to_json(&b.progress()))
    }

    /// A batch's estimated cost of what is left, in cents (batches only; 0 otherwise).
    #[wasm_bindgen(getter, js_name = estimatedCents)]
    pub fn estimated_cents(&self) -> f64 {
        self.batch().map_or(0.0, |b| b.estimated_cents() as f64)
    }

    /// The next output, as JSON: `{"t":"send",id,endpoint,method,url,headers:[[n,v]…],body,
    /// timeout_ms}`, `{"t":"event",event}`, `{"t":"wait",until}`, `{"t":"pending"}`, `{"t":"done"}`.
    pub fn poll(&mut self, now: f64) -> String {
        match self.m().poll(ms(now)) {
            Output::Send { id, endpoint, request, timeout_ms } => {
                let headers: Vec<[String; 2]> = request.headers.into_iter().map(|h| [h.name, h.value]).collect();
                let body = request.body.map(|b| String::from_utf8_lossy(&b).into_owned());
                json!({"t": "send", "id": id.0, "endpoint": endpoint, "method": request.method.as_str(), "url": request.url, "headers": headers, "body": body, "timeout_ms": timeout_ms})
            }
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

    /// The response to request `id`: status, headers (`name\0value\0…`) and body bytes.
    #[wasm_bindgen(js_name = handleResponse)]
    pub fn handle_response(&mut self, id: f64, status: u16, headers: &str, body: &[u8], now: f64) {
        let resp = HttpResponse { status, headers: headers_from(headers), body: body.to_vec() };
        self.m().handle_response(RequestId(id as u64), resp, ms(now));
    }

    /// Request `id` got no answer: `kind` is `connect`, `timeout`, `aborted`, `body_too_large` or
    /// `other`.
    #[wasm_bindgen(js_name = handleTransportError)]
    pub fn handle_transport_error(&mut self, id: f64, kind: &str, message: &str, now: f64) {
        self.m().handle_transport_error(RequestId(id as u64), transport_kind(kind), message, ms(now));
    }

    /// Time passed.
    #[wasm_bindgen(js_name = handleTimeout)]
    pub fn handle_timeout(&mut self, now: f64) {
        self.m().handle_timeout(ms(now));
    }

    /// The caller wants to stop; drain `poll` afterwards (a clean-up request may follow).
    pub fn cancel(&mut self, now: f64) {
        self.m().cancel(ms(now));
    }

    /// The outcome once `done`, as JSON (a job, a page, …).
    ///
    /// # Errors
    /// The machine's error, thrown.
    #[wasm_bindgen(js_name = takeResult)]
    pub fn take_result(&mut self) -> R<String> {
        let out = match &mut self.inner {
            Inner::Call(c) => c.take_result().and_then(|resp| self.parse.run(&resp)),
            Inner::Create(c) => c.take_result().map(|j| to_json(&j)),
            Inner::Run(r) => r.take_result().map(|j| to_json(&j)),
            Inner::Batch(b) => b.take_result().map(|s| {
                let results: Vec<Value> = s.results.iter().map(item_value).collect();
                json!({"results": results, "progress": s.progress, "spent_cents": s.spent_cents}).to_string()
            }),
        };
        out.map_err(|e| throw(&e))
    }
}
