//! The stateless part: validation, pricing, request building (on a [`Config`]), response parsing,
//! retry decisions. Each function is a conversion, one core call, and an error mapping.

use crate::convert::{self, PyHeaders};
use crate::errors::{self, error_object, guard, py as core, usage};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};
use usvideo_core::validate::{self, IssueCode};
use usvideo_core::{response, retry, ApiKey, ClientConfig, CreateVideoRequest, Error, ErrorKind, IdempotencyKey, Issue, Jwt, ListParams, PricingTable, Resolution, RetryPolicy, Rng};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(estimate_cost, m)?)?;
    m.add_function(wrap_pyfunction!(estimate_all, m)?)?;
    m.add_function(wrap_pyfunction!(pricing_from_json, m)?)?;
    m.add_function(wrap_pyfunction!(builtin_pricing, m)?)?;
    m.add_function(wrap_pyfunction!(validate_create, m)?)?;
    m.add_function(wrap_pyfunction!(validate_list_params, m)?)?;
    m.add_function(wrap_pyfunction!(validate_job_id, m)?)?;
    m.add_function(wrap_pyfunction!(validate_api_key, m)?)?;
    m.add_function(wrap_pyfunction!(validate_jwt, m)?)?;
    m.add_function(wrap_pyfunction!(redact, m)?)?;
    m.add_function(wrap_pyfunction!(idempotency_key, m)?)?;
    m.add_function(wrap_pyfunction!(parse_job, m)?)?;
    m.add_function(wrap_pyfunction!(parse_job_page, m)?)?;
    m.add_function(wrap_pyfunction!(parse_delete, m)?)?;
    m.add_function(wrap_pyfunction!(parse_account, m)?)?;
    m.add_function(wrap_pyfunction!(parse_pricing, m)?)?;
    m.add_function(wrap_pyfunction!(parse_created_api_key, m)?)?;
    m.add_function(wrap_pyfunction!(error_from_response, m)?)?;
    m.add_function(wrap_pyfunction!(transport_error, m)?)?;
    m.add_function(wrap_pyfunction!(error_from_json, m)?)?;
    m.add_function(wrap_pyfunction!(retry_decide, m)?)?;
    m.add_function(wrap_pyfunction!(backoff_ms, m)?)?;
    m.add_function(wrap_pyfunction!(_force_panic, m)?)?;
    Ok(())
}

// ------------------------------------------------------------------ pricing

fn resolution_arg(r: &Bound<'_, PyAny>) -> Result<Resolution, Issue> {
    let text = if r.is_instance_of::<PyString>() { r.extract::<String>().ok() } else { None };
    let Some(text) = text else {
        return Err(Issue::new("resolution", IssueCode::InvalidType, "resolution must be a string"));
    };
    Resolution::parse(&text).ok_or_else(|| Issue::new("resolution", IssueCode::InvalidChoice, "resolution must be one of 720p, 1080p, 2k (exact case)"))
}

/// A Python `int` (not `bool`, not `float`) as seconds; out-of-range values are left for the
/// core's range check (saturated to `u32::MAX`, or 0 when negative).
fn duration_arg(d: &Bound<'_, PyAny>) -> Result<u32, Issue> {
    if d.is_instance_of::<PyBool>() {
        return Err(Issue::new("duration", IssueCode::InvalidType, "duration must be an integer"));
    }
    if d.is_instance_of::<PyInt>() {
        return Ok(match d.extract::<i64>() {
            Ok(i) if i < 0 => 0,
            Ok(i) => u32::try_from(i).unwrap_or(u32::MAX),
            Err(_) => u32::MAX,
        });
    }
    if d.is_instance_of::<PyFloat>() {
        return Err(Issue::new("duration", IssueCode::NotInteger, "duration must be a whole number of seconds"));
    }
    Err(Issue::new("duration", IssueCode::InvalidType, "duration must be an integer"))
}

fn table(table_json: Option<&str>) -> PyResult<PricingTable> {
    match table_json {
        None => Ok(PricingTable::builtin()),
        Some(text) => PricingTable::from_json(&convert::parse_loose(text)?).map_err(|m| errors::core_err(&Error::new(ErrorKind::Decode, m))),
    }
}

/// The cost in cents of `duration` seconds at `resolution`, exactly, from the built-in table or
/// from `table_json` (the service's `{"720p": {"per_second": 0.06}, …}`).
#[pyfunction]
#[pyo3(signature = (resolution, duration, table_json=None))]
fn estimate_cost(resolution: &Bound<'_, PyAny>, duration: &Bound<'_, PyAny>, table_json: Option<&str>) -> PyResult<u64> {
    guard(|| {
        let t = table(table_json)?;
        let r = resolution_arg(resolution).map_err(errors::issue)?;
        let d = duration_arg(duration).map_err(errors::issue)?;
        t.estimate(r, d).map_err(errors::issue)
    })
}

/// The total cost in cents of a list of create requests (JSON array), with the service's defaults.
#[pyfunction]
#[pyo3(signature = (requests_json, table_json=None))]
fn estimate_all(requests_json: &str, table_json: Option<&str>) -> PyResult<u64> {
    guard(|| {
        let t = table(table_json)?;
        let reqs: Vec<CreateVideoRequest> = serde_json::from_value(convert::parse(requests_json)?)
            .map_err(|e| errors::issue(Issue::new("requests", IssueCode::InvalidType, format!("not a list of create requests: {e}"))))?;
        t.estimate_all(&reqs).map_err(errors::issue)
    })
}

/// Reads a pricing table exactly and returns it normalized (JSON); raises `APIResponseError`.
#[pyfunction]
fn pricing_from_json(table_json: &str) -> PyResult<String> {
    guard(|| convert::to_json(&table(Some(table_json))?.to_json()))
}

/// The reference's built-in table (JSON).
#[pyfunction]
fn builtin_pricing() -> PyResult<String> {
    guard(|| convert::to_json(&PricingTable::builtin().to_json()))
}

// ------------------------------------------------------------------ validation

/// Checks a create request given as loose JSON (a Python dict): every rule, unknown fields named
/// with a did-you-mean. Returns the normalized request (JSON); raises `ValidationError`.
#[pyfunction]
fn validate_create(request_json: &str) -> PyResult<String> {
    guard(|| {
        let req = validate::create_request_from_json(&convert::parse_loose(request_json)?).map_err(errors::issues)?;
        convert::to_json(&req)
    })
}

/// Checks paging (`{"limit", "offset"}`); returns it normalized (JSON).
#[pyfunction]
fn validate_list_params(params_json: &str) -> PyResult<String> {
    guard(|| {
        let p = validate::list_params_from_json(&convert::parse_loose(params_json)?).map_err(errors::issues)?;
        convert::to_json(&p)
    })
}

/// Checks a job id before it goes into a URL path.
#[pyfunction]
fn validate_job_id(id: &str) -> PyResult<()> {
    guard(|| validate::validate_job_id(id).map_err(errors::issue))
}

/// Checks an API key's format (`sd_…`, no whitespace or control characters).
#[pyfunction]
fn validate_api_key(key: &str) -> PyResult<()> {
    guard(|| ApiKey::new(key).map(|_| ()).map_err(errors::issue))
}

/// Checks a JWT's format (three base64url parts).
#[pyfunction]
fn validate_jwt(token: &str) -> PyResult<()> {
    guard(|| Jwt::new(token).map(|_| ()).map_err(errors::issue))
}

/// Free text with every API key and JWT in it redacted.
#[pyfunction]
fn redact(text: &str) -> PyResult<String> {
    guard(|| Ok(usvideo_core::secret::redact_text(text)))
}

/// A fresh `Idempotency-Key` from at least 16 random bytes (`os.urandom(16)`).
#[pyfunction]
fn idempotency_key(entropy: &[u8]) -> PyResult<String> {
    guard(|| IdempotencyKey::from_entropy(entropy).map(|k| k.as_str().to_owned()).map_err(errors::issue))
}

// ------------------------------------------------------------------ requests

/// Where requests go and as whom: a base URL (joined without double slashes) and a User-Agent.
/// Its methods build each endpoint's request as `(method, url, headers, body | None)`.
#[pyclass(frozen, module = "usvideo._native")]
pub(crate) struct Config {
    pub(crate) inner: ClientConfig,
    /// Shared by the creates of the client this configures (`usvideo_core::claims`).
    pub(crate) claims: usvideo_core::claims::Claims,
    /// What the waits of the client this configures learned of the service's speed
    /// (`usvideo_core::pace`).
    pub(crate) pace: usvideo_core::pace::Pace,
}

/// `None` (a keyless client, behind a proxy that adds the key) stays `None`. One for this module
/// and `machine`.
pub(crate) fn api_key(key: Option<&str>) -> PyResult<Option<ApiKey>> {
    key.map(ApiKey::new).transpose().map_err(errors::issue)
}

#[pymethods]
impl Config {
    #[new]
    #[pyo3(signature = (base_url, user_agent=None, api_key=None))]
    fn new(base_url: &str, user_agent: Option<&str>, api_key: Option<&str>) -> PyResult<Self> {
        guard(|| {
            let c = ClientConfig::new(base_url).map_err(errors::issue)?;
            // The key's claims, shared by every client made with it in the process (the key is
            // read for its digest only, and not kept).
            let claims = usvideo_core::claims::Claims::shared(c.base_url(), api_key);
            Ok(Config {
                inner: match user_agent {
                    Some(ua) => c.with_user_agent(ua),
                    None => c,
                },
                claims,
                pace: usvideo_core::pace::Pace::new(),
            })
        })
    }

    /// The base URL, without a trailing slash.
    #[getter]
    fn base_url(&self) -> &str {
        self.inner.base_url()
    }

    /// The `User-Agent` sent.
    #[getter]
    fn user_agent(&self) -> &str {
        self.inner.user_agent()
    }

    fn __repr__(&self) -> String {
        format!("Config(base_url={:?})", self.inner.base_url())
    }

    /// `POST /v1/videos` from a loose request (JSON), validated, with its `Idempotency-Key`.
    fn create_video<'py>(&self, py: Python<'py>, key: Option<&str>, request_json: &str, idempotency_key: &str) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let k = api_key(key)?;
            let req = validate::create_request_from_json(&convert::parse_loose(request_json)?).map_err(errors::issues)?;
            let idem = IdempotencyKey::from_string(idempotency_key).map_err(errors::issue)?;
            convert::request_tuple(py, &core(self.inner.create_video(k.as_ref(), &req, &idem))?)
        })
    }

    /// `GET /v1/videos/{id}`.
    fn retrieve_video<'py>(&self, py: Python<'py>, key: Option<&str>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        guard(|| convert::request_tuple(py, &core(self.inner.retrieve_video(api_key(key)?.as_ref(), id))?))
    }

    /// `DELETE /v1/videos/{id}`.
    fn delete_video<'py>(&self, py: Python<'py>, key: Option<&str>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        guard(|| convert::request_tuple(py, &core(self.inner.delete_video(api_key(key)?.as_ref(), id))?))
    }

    /// `GET /v1/videos?limit=&offset=` from loose paging (JSON `{"limit", "offset"}`).
    #[pyo3(signature = (key, params_json="{}"))]
    fn list_videos<'py>(&self, py: Python<'py>, key: Option<&str>, params_json: &str) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let k = api_key(key)?;
            convert::request_tuple(py, &core(self.inner.list_videos(k.as_ref(), &list_params(params_json)?))?)
        })
    }

    /// `GET /v1/account`.
    fn retrieve_account<'py>(&self, py: Python<'py>, key: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| convert::request_tuple(py, &core(self.inner.retrieve_account(api_key(key)?.as_ref()))?))
    }

    /// `GET /v1/pricing` (no auth).
    fn retrieve_pricing<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| convert::request_tuple(py, &self.inner.retrieve_pricing()))
    }

    /// `POST /v1/api-keys`, authenticated with a JWT.
    #[pyo3(signature = (jwt, name=None))]
    fn create_api_key<'py>(&self, py: Python<'py>, jwt: &str, name: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let jwt = Jwt::new(jwt).map_err(errors::issue)?;
            convert::request_tuple(py, &core(self.inner.create_api_key(&jwt, name))?)
        })
    }
}

// ------------------------------------------------------------------ responses

/// A job (JSON) from a create or retrieve response; raises the status's error or `APIResponseError`.
#[pyfunction]
fn parse_job(status: u16, headers: PyHeaders, body: &[u8]) -> PyResult<String> {
    guard(|| convert::to_json(&core(response::parse_job(&convert::response(status, headers, body)))?))
}

/// A page of jobs (JSON `{data, limit, offset, total, has_more}`), read against the page the
/// request asked for (`params_json`, as given to `list_videos`): a bare array fills its gaps
/// from it.
#[pyfunction]
#[pyo3(signature = (status, headers, body, params_json="{}"))]
fn parse_job_page(status: u16, headers: PyHeaders, body: &[u8], params_json: &str) -> PyResult<String> {
    guard(|| {
        let asked = list_params(params_json)?;
        convert::to_json(&core(response::parse_job_page(&convert::response(status, headers, body), &asked))?)
    })
}

/// Loose paging (JSON `{"limit", "offset"}`), checked by the core.
pub(crate) fn list_params(params_json: &str) -> PyResult<ListParams> {
    validate::list_params_from_json(&convert::parse_loose(params_json)?).map_err(errors::issues)
}

/// The answer to a delete of `id` (JSON `{id, deleted, refunded_cents}`).
#[pyfunction]
fn parse_delete(status: u16, headers: PyHeaders, body: &[u8], id: &str) -> PyResult<String> {
    guard(|| convert::to_json(&core(response::parse_delete(&convert::response(status, headers, body), id))?))
}

/// The account (JSON).
#[pyfunction]
fn parse_account(status: u16, headers: PyHeaders, body: &[u8]) -> PyResult<String> {
    guard(|| convert::to_json(&core(response::parse_account(&convert::response(status, headers, body)))?))
}

/// The pricing table, read exactly, in its wire shape (JSON).
#[pyfunction]
fn parse_pricing(status: u16, headers: PyHeaders, body: &[u8]) -> PyResult<String> {
    guard(|| convert::to_json(&core(response::parse_pricing(&convert::response(status, headers, body)))?.to_json()))
}

/// A created API key (JSON; the `key` is in it, shown once).
#[pyfunction]
fn parse_created_api_key(status: u16, headers: PyHeaders, body: &[u8]) -> PyResult<String> {
    guard(|| convert::to_json(&core(response::parse_created_api_key(&convert::response(status, headers, body)))?))
}

/// The exception (not raised) that a non-2xx response stands for.
#[pyfunction]
fn error_from_response<'py>(py: Python<'py>, status: u16, headers: PyHeaders, body: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    guard(|| Ok(error_object(py, &response::error_from_response(&convert::response(status, headers, body)))))
}

/// The exception (not raised) for a transport failure (`connect`, `timeout`, `other`, …).
#[pyfunction]
fn transport_error<'py>(py: Python<'py>, kind: &str, message: &str) -> PyResult<Bound<'py, PyAny>> {
    guard(|| Ok(error_object(py, &Error::transport(convert::transport_kind(kind)?, message))))
}

/// The exception (not raised) for a core error record (JSON, as in a batch item's `error`).
#[pyfunction]
fn error_from_json<'py>(py: Python<'py>, error_json: &str) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let e: Error = serde_json::from_value(convert::parse(error_json)?).map_err(|e| usage(format!("not an error record: {e}")))?;
        Ok(error_object(py, &e))
    })
}

// ------------------------------------------------------------------ retry rules

/// The retry decision for one failed attempt: `("retry", after_ms)`, `("reconcile", None)` or
/// `("fail", None)`. The outcome is a transport failure (`transport`, `message`) or a response
/// (`status`, `headers`, `body`; a 2xx one stands for an answer whose body could not be read).
#[pyfunction]
#[pyo3(signature = (endpoint, attempt, seed, policy_json=None, remaining_ms=None, transport=None, message="", status=None, headers=Vec::new(), body=b"".as_slice()))]
#[allow(clippy::too_many_arguments)]
fn retry_decide(endpoint: &str, attempt: u32, seed: u64, policy_json: Option<&str>, remaining_ms: Option<u64>, transport: Option<&str>, message: &str, status: Option<u16>, headers: PyHeaders, body: &[u8]) -> PyResult<(String, Option<u64>)> {
    guard(|| {
        let endpoint = convert::endpoint(endpoint)?;
        let policy: RetryPolicy = convert::with_defaults(policy_json)?;
        let err = match (transport, status) {
            (Some(kind), _) => Error::transport(convert::transport_kind(kind)?, message),
            (None, Some(s)) => {
                let resp = convert::response(s, headers, body);
                if (200..300).contains(&s) {
                    match response::parse_job(&resp) {
                        Err(e) => e,
                        Ok(_) => return Err(usage("a 2xx outcome must be an answer that cannot be read")),
                    }
                } else {
                    response::error_from_response(&resp)
                }
            }
            (None, None) => return Err(usage("an outcome needs `transport` or `status`")),
        };
        Ok(match retry::decide(endpoint, &err, attempt, &policy, remaining_ms, &mut Rng::new(seed)) {
            retry::Decision::Retry { after_ms } => ("retry".to_owned(), Some(after_ms)),
            retry::Decision::Reconcile => ("reconcile".to_owned(), None),
            retry::Decision::Fail => ("fail".to_owned(), None),
        })
    })
}

/// The backoff before each of `attempts` (0-based), drawn in order from one seeded generator.
#[pyfunction]
#[pyo3(signature = (seed, attempts, policy_json=None))]
fn backoff_ms(seed: u64, attempts: Vec<u32>, policy_json: Option<&str>) -> PyResult<Vec<u64>> {
    guard(|| {
        let policy: RetryPolicy = convert::with_defaults(policy_json)?;
        let mut rng = Rng::new(seed);
        Ok(attempts.into_iter().map(|a| policy.backoff_ms(a, &mut rng)).collect())
    })
}

/// Panics inside the guard (tests check that no `PanicException` escapes).
#[pyfunction]
fn _force_panic() -> PyResult<()> {
    guard(|| -> PyResult<()> {
        let v: Vec<u8> = Vec::new();
        let i = v.len() + 1;
        #[allow(clippy::indexing_slicing)]
        let _ = v[i];
        Ok(())
    })
}
