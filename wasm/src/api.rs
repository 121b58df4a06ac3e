//! The module an app loads at import: everything but the batch scheduler (see the crate docs).

use crate::{invalid, ms, one, overridden, seed_of, ErrorRecord, HeaderPairs, parse, render, throw, headers_from, transport_kind, R};
use usvideo_core::claims::Claims;
use usvideo_core::pace::Pace;
use usvideo_core::json::Json;
use usvideo_core::writers::{Members, Record};
use usvideo_core::ToJson;
use usvideo_core::validate;
use usvideo_core::{
    response, ApiKey, Output, Call, ClientConfig, Create, CreateVideoRequest, Endpoint, Error, HttpRequest, HttpResponse, IdempotencyKey, IssueCode, JobRun, Jwt, ListParams, Millis,
    PricingTable, RateLimiter, RequestId, RetryPolicy, WaitOptions,
};
use wasm_bindgen::prelude::*;

// ---------------------------------------------------------------------------------------------
// Pure functions
// ---------------------------------------------------------------------------------------------

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
    let cents = if let Json::Array(items) = &v {
        let mut reqs = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let (resolution, duration) = validate::estimate_input_from_json(item).map_err(|issues| invalid(issues.into_iter().map(|x| x.of_request(i)).collect()))?;
            let mut r = CreateVideoRequest::text("");
            r.resolution = Some(resolution);
            r.duration = Some(duration);
            reqs.push(r);
        }
        table.estimate_all(&reqs)
    } else {
        let (resolution, duration) = validate::estimate_input_from_json(&v).map_err(invalid)?;
        table.estimate(resolution, duration)
    };
    cents.map(|c| c as f64).map_err(|i| invalid(vec![i]))
}

/// The core's redaction of free text (API keys and JWTs shown as `sd_…cdef`), for the package's
/// own refusals that echo what a caller wrote: an unknown option's name may be a key.
#[wasm_bindgen]
pub fn redact(text: &str) -> String {
    usvideo_core::secret::redact_text(text)
}

/// The name of `known` (separated by `\n`) closest to `unknown` within two edits, the core's
/// "did you mean" rule for a request's fields, for the package's option checks (`concurentJobs`
/// → `concurrentJobs`); `""` when none is that close.
#[wasm_bindgen]
pub fn suggest(unknown: &str, known: &str) -> String {
    validate::suggest(unknown, &known.split('\n').collect::<Vec<_>>()).unwrap_or_default().to_owned()
}

/// The response headers the core reads (`RESPONSE_HEADERS_READ`), separated by `\0`: the driver
/// passes only these, not every header the server sent (~5 µs a call, measured 2026-12-07).
#[wasm_bindgen(js_name = responseHeaders)]
pub fn response_headers() -> String {
    usvideo_core::http::RESPONSE_HEADERS_READ.join("\0")
}

// No `validate` or `parseResponse` export: the vector tests run those inputs through the machines
// the package drives (wasm/tests/vectors.test.mjs), and as exports they were ~1.4 KB gzipped of
// code no app reaches (measured 2026-12-04).

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

    /// The server said 429 with `Retry-After` of `ms` at `at`.
    #[wasm_bindgen(js_name = retryAfter)]
    pub fn retry_after(&mut self, at: f64, wait_ms: f64) {
        self.0.on_retry_after(ms(at), ms(wait_ms).0);
    }

    /// Learns from a response (its body tells a `concurrency_limit` 429, which pauses nothing,
    /// from a rate limit's).
    pub fn observe(&mut self, status: u16, headers: &str, body: &[u8], now: f64) {
        self.0.observe(&HttpResponse { status, headers: headers_from(headers), body: body.to_vec() }, ms(now));
    }
}

// ---------------------------------------------------------------------------------------------
// Every page of the job list
// ---------------------------------------------------------------------------------------------

/// One step of the core's walk over every page of the job list (`listAll`), its state kept by
/// the caller as plain values (no object to free; an exported class costs ~0.5 KB gzipped more):
/// given the page asked for at `offset`, the ids of the page before (`before`, a JSON array) and
/// this page's (`ids`) and whether more follow, returns a JSON array: the next page's offset (`-1`
/// when none follows), then the positions of this page's jobs to yield.
#[wasm_bindgen(js_name = pageStep)]
pub fn page_step(offset: f64, before: &str, ids: &str, has_more: bool) -> String {
    let texts = |text: &str| -> Vec<String> {
        match usvideo_core::json::parse(text.as_bytes()) {
            // Positions kept: a job with no id (never from this package) is an empty one.
            Ok(usvideo_core::json::Json::Array(items)) => items.iter().map(|j| j.as_str().unwrap_or_default().to_owned()).collect(),
            _ => Vec::new(),
        }
    };
    // The page size is the caller's: a step only reads the offset.
    let mut walk = usvideo_core::PageWalk::resume(0, offset as u64, texts(before));
    let keep = walk.take(&texts(ids), has_more);
    let mut out = String::from("[");
    match walk.next_page().and_then(|p| p.offset) {
        Some(next) => usvideo_core::writers::write_uint(next, &mut out),
        None => out.push_str("-1"),
    }
    for i in keep {
        out.push(',');
        usvideo_core::writers::write_uint(u64::from(i), &mut out);
    }
    out.push(']');
    out
}

// ---------------------------------------------------------------------------------------------
// The client and its machines
// ---------------------------------------------------------------------------------------------

/// Where requests go and with which key. Holds the key so that the JS object never does.
#[wasm_bindgen]
pub struct Client {
    config: ClientConfig,
    key: Option<ApiKey>,
    /// Shared by the creates of every client of the key (`usvideo_core::claims`).
    claims: Claims,
    /// What this client's waits learned of the service's speed (`usvideo_core::pace`).
    pace: Pace,
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
        let key = ApiKey::optional(api_key.as_deref()).map_err(|i| invalid(vec![i]))?;
        // The key's claims, shared by every client made with it in this module (`Claims::shared`).
        let claims = Claims::shared(config.base_url(), key.as_ref().map(ApiKey::expose));
        Ok(Client { config, key, claims, pace: Pace::new() })
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

    /// Starts a state machine described by `spec` (JSON; see `wasm/README.md`), with jitter
    /// seeded and idempotency keys minted from `entropy` (at least 24 random bytes) unless the
    /// spec gives `seed` and `idempotency_key`.
    ///
    /// # Errors
    /// A validation error on the spec's request, id, parameters or credentials.
    pub fn start(&self, spec: &str, entropy: &[u8], now: f64) -> R<Machine> {
        let v = parse(spec)?;
        let now = ms(now);
        let seed = v.get("seed").and_then(Json::as_u64).unwrap_or_else(|| seed_of(entropy));
        // Most specs carry no `retry`: skip the default's round trip through text.
        let retry: RetryPolicy = match v.get("retry") {
            None | Some(Json::Null) => RetryPolicy::default(),
            over => overridden(over, "retry")?,
        };
        let deadline = v.get("deadline").and_then(Json::as_u64).map(Millis);
        let idempotency = || match v.get("idempotency_key").and_then(Json::as_str) {
            Some(k) => IdempotencyKey::from_string(k).map_err(|i| invalid(vec![i])),
            None => IdempotencyKey::from_entropy(entropy.get(8..).unwrap_or_default()).map_err(|i| invalid(vec![i])),
        };
        let request = || validate::create_request_from_json(v.get("request").unwrap_or(&Json::Null)).map_err(invalid);
        let options = || -> R<WaitOptions> {
            let mut o = v.get("options").cloned().unwrap_or_else(|| Json::Object(Vec::new()));
            if let (Json::Object(m), Some(r)) = (&mut o, v.get("retry"))
                && !m.iter().any(|(k, _)| k == "retry")
            {
                m.push(("retry".into(), r.clone()));
            }
            overridden(Some(&o), "")
        };
        let inner = match v.get("machine").and_then(Json::as_str).unwrap_or("") {
            "call" => {
                let c = v.get("call").unwrap_or(&Json::Null);
                let s = |k: &str| c.get(k).and_then(Json::as_str);
                let id = s("id").unwrap_or("");
                let (endpoint, req, parser): (Endpoint, HttpRequest, Parse) = match s("target").unwrap_or("") {
                    "retrieve_video" => (Endpoint::RetrieveVideo, self.config.retrieve_video(self.key.as_ref(), id).map_err(|e| throw(&e))?, Parse::JobOf(id.to_owned())),
                    "delete_video" => (Endpoint::DeleteVideo, self.config.delete_video(self.key.as_ref(), id).map_err(|e| throw(&e))?, Parse::Delete(id.to_owned())),
                    "list_videos" => {
                        let params = validate::list_params_from_json(c.get("params").unwrap_or(&Json::Null)).map_err(invalid)?;
                        (Endpoint::ListVideos, self.config.list_videos(self.key.as_ref(), &params).map_err(|e| throw(&e))?, Parse::Page(params))
                    }
                    "retrieve_account" => (Endpoint::Account, self.config.retrieve_account(self.key.as_ref()).map_err(|e| throw(&e))?, Parse::Account),
                    "retrieve_pricing" => (Endpoint::Pricing, self.config.retrieve_pricing(), Parse::Pricing),
                    "create_api_key" => {
                        let jwt = Jwt::new(s("jwt").unwrap_or("")).map_err(|i| invalid(vec![i]))?;
                        let name = match c.get("name") {
                            None | Some(Json::Null) => None,
                            Some(Json::String(n)) => Some(n.as_ref()),
                            Some(_) => return Err(one("name", IssueCode::InvalidType, "name must be a string")),
                        };
                        (Endpoint::CreateApiKey, self.config.create_api_key(&jwt, name).map_err(|e| throw(&e))?, Parse::ApiKey)
                    }
                    _ => return Err(throw(&Error::usage("unknown call target"))),
                };
                let parser = if c.get("raw") == Some(&Json::Bool(true)) { Parse::Raw } else { parser };
                return Ok(Machine { inner: Inner::Call(Call::new(endpoint, req, retry, seed, deadline, 0)), parse: parser });
            }
            "create" => Inner::Create(Create::new(&self.config, self.key.as_ref(), request()?, &idempotency()?, retry, seed, deadline, 0).map_err(|e| throw(&e))?.sharing(&self.claims)),
            "job_run_wait" => {
                let id = v.get("job_id").and_then(Json::as_str).unwrap_or("");
                Inner::Run(JobRun::wait(&self.config, self.key.as_ref(), id, options()?, seed, now).map_err(|e| throw(&e))?.sharing(&self.claims).learning(&self.pace).handing_off())
            }
            "job_run_create_and_wait" => {
                Inner::Run(JobRun::create_and_wait(&self.config, self.key.as_ref(), request()?, &idempotency()?, options()?, seed, now).map_err(|e| throw(&e))?.sharing(&self.claims).learning(&self.pace).handing_off())
            }
            _ => return Err(throw(&Error::usage("unknown machine"))),
        };
        Ok(Machine { inner, parse: Parse::Job })
    }
}

/// A raw response (`call.raw`) for the package: `{status, headers: [[n, v]…], body}`.
struct RawResponse<'a>(&'a HttpResponse);

impl Record for RawResponse<'_> {
    fn write_members(&self, m: &mut Members<'_>) {
        m.uint("status", self.0.status.into()).value("headers", &HeaderPairs(&self.0.headers)).text("body", &String::from_utf8_lossy(&self.0.body));
    }
}

/// How a finished call's 2xx response is read.
enum Parse {
    Job,
    /// Job `id`'s (a retrieve's): another job's answer is refused.
    JobOf(String),
    /// A page, read against the page the request asked for.
    Page(ListParams),
    Delete(String),
    Account,
    Pricing,
    ApiKey,
    Raw,
}

impl Parse {
    fn run(&self, resp: &HttpResponse) -> Result<String, Error> {
        Ok(match self {
            Parse::Job => response::parse_job(resp)?.to_json_string(),
            Parse::JobOf(id) => response::parse_job_of(resp, id)?.to_json_string(),
            Parse::Page(asked) => response::parse_job_page(resp, asked)?.to_json_string(),
            Parse::Delete(id) => response::parse_delete(resp, id)?.to_json_string(),
            Parse::Account => response::parse_account(resp)?.to_json_string(),
            Parse::Pricing => response::parse_pricing(resp)?.to_json().to_string(),
            Parse::ApiKey => response::parse_created_api_key(resp)?.to_json_string(),
            Parse::Raw => {
                RawResponse(resp).to_json_string()
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
}

/// One of the core's state machines, driven by the package's loop: `poll` until `wait`,
/// `pending` or `done`; report each `send`'s outcome (`respond` for an answer,
/// `handleTransportError` for none); then `takeResult` (unless `respond` already handed the
/// outcome over).
// No separate `handleResponse` (nor `Limiter.nextFree`): the driver only ever uses `respond`, and
// the vector tests go through it too; as exports they were ~0.7 KB gzipped no app reaches
// (2026-12-04).
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
        }
    }

    /// The next output, as JSON: `{"t":"send",id,endpoint,method,url,headers:[[n,v]…],body,
    /// timeout_ms}`, `{"t":"event",event}`, `{"t":"wait",until}`, `{"t":"pending"}`, `{"t":"done"}`.
    pub fn poll(&mut self, now: f64) -> String {
        render(self.m().poll(ms(now)))
    }

    /// Request `id` got no answer: `kind` is `connect`, `timeout`, `aborted`, `body_too_large` or
    /// `other`.
    #[wasm_bindgen(js_name = handleTransportError)]
    pub fn handle_transport_error(&mut self, id: f64, kind: &str, message: &str, now: f64) {
        self.m().handle_transport_error(RequestId(id as u64), transport_kind(kind), message, ms(now));
    }

    /// Request `id` was not sent: no slot of the client's rate limit before its time ran out (the
    /// core words the error: `Machine::handle_not_sent`).
    #[wasm_bindgen(js_name = handleNotSent)]
    pub fn handle_not_sent(&mut self, id: f64, now: f64) {
        self.m().handle_not_sent(RequestId(id as u64), ms(now));
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

    /// While a wait's clean-up is under way (the delete of the job it gave up: the core's
    /// `JobRun::cleaning_up`), the error record the driver rejects with if it stops waiting for it
    /// and lets it go on (the core's `job::handed_off`, saying so), as JSON; `undefined` otherwise.
    #[wasm_bindgen(js_name = cleaningUp)]
    pub fn cleaning_up(&mut self) -> Option<String> {
        self.m().cleaning_up().map(|e| ErrorRecord(&usvideo_core::job::handed_off(e)).to_json_string())
    }

    /// The outcome once `done`, as JSON (a job, a page, …).
    ///
    /// # Errors
    /// The machine's error, thrown.
    #[wasm_bindgen(js_name = takeResult)]
    pub fn take_result(&mut self) -> R<String> {
        self.take().map_err(|e| throw(&e))
    }

    /// The response to request `id` (status, headers as `name\0value\0…`, body bytes), the
    /// driver's path for every answer, in one call: the limiter learns from it (`observe`; not
    /// when `counted` is false: a request that was no key's, the send's `free`),
    /// the machine takes it, and the next output is returned as `poll` gives it;
    /// when that is `done`, with the outcome taken as `takeResult` would: `{"t":"done","ok":…}` or
    /// `{"t":"done","error":…}` (the error record a throw carries).
    #[allow(clippy::too_many_arguments)] // one crossing per answer: these are its parts, and a record would cost a JS object each call
    pub fn respond(&mut self, id: f64, status: u16, headers: &str, body: &[u8], now: f64, limiter: &mut Limiter, counted: bool) -> String {
        let resp = HttpResponse { status, headers: headers_from(headers), body: body.to_vec() };
        let now = ms(now);
        if counted {
            limiter.0.observe(&resp, now);
        }
        self.m().handle_response(RequestId(id as u64), resp, now);
        match self.m().poll(now) {
            Output::Done => {
                let mut text = String::with_capacity(512);
                let mut m = Members::open(&mut text);
                m.text("t", "done");
                match self.take() {
                    Ok(ok) => m.key("ok").push_str(&ok),
                    Err(e) => {
                        m.value("error", &ErrorRecord(&e));
                    }
                }
                m.close();
                text
            }
            other => render(other),
        }
    }

    fn take(&mut self) -> Result<String, Error> {
        match &mut self.inner {
            Inner::Call(c) => c.take_result().and_then(|resp| self.parse.run(&resp)),
            Inner::Create(c) => c.take_result().map(|j| j.to_json_string()),
            Inner::Run(r) => r.take_result().map(|j| j.to_json_string()),
        }
    }
}
