//! Conversions between plain Python values / JSON text and core types. No decisions here.

use crate::errors::usage;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use usvideo_core::{Endpoint, Header, HttpRequest, HttpResponse, TransportKind};

/// Headers as Python sees them: a list of `(name, value)` tuples (order kept, names repeatable).
pub(crate) type PyHeaders = Vec<(String, String)>;

pub(crate) fn headers_in(headers: PyHeaders) -> Vec<Header> {
    headers.into_iter().map(|(n, v)| Header::new(n, v)).collect()
}

pub(crate) fn headers_out(headers: &[Header]) -> PyHeaders {
    headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect()
}

pub(crate) fn response(status: u16, headers: PyHeaders, body: &[u8]) -> HttpResponse {
    HttpResponse { status, headers: headers_in(headers), body: body.to_vec() }
}

/// The value of an `Authorization` header as `usvideo._secret.Secret` (a `str` whose `repr` and
/// `str` redact it), so that no traceback's locals, log line or debugger view of a request shows
/// the key or JWT; httpx still sends the real text. A plain `str` if that module is missing.
/// The class is looked up once per process (a failed import is retried on the next call).
fn secret<'py>(py: Python<'py>, value: &str) -> Bound<'py, PyAny> {
    static SECRET: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let plain = || pyo3::types::PyString::new(py, value).into_any();
    match SECRET.get_or_try_init(py, || py.import("usvideo._secret").and_then(|m| m.getattr("Secret")).map(Bound::unbind)) {
        Ok(class) => class.bind(py).call1((value,)).unwrap_or_else(|_| plain()),
        Err(_) => plain(),
    }
}

/// Request headers for Python: `[(name, value), …]`, credentials wrapped by [`secret`].
pub(crate) fn request_headers<'py>(py: Python<'py>, headers: &[Header]) -> PyResult<Bound<'py, PyList>> {
    let items = headers
        .iter()
        .map(|h| {
            let value = if h.name.eq_ignore_ascii_case("authorization") { secret(py, &h.value) } else { pyo3::types::PyString::new(py, &h.value).into_any() };
            PyTuple::new(py, [pyo3::types::PyString::new(py, &h.name).into_any(), value])
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// A request as `(method, url, headers, body | None)`.
pub(crate) fn request_tuple<'py>(py: Python<'py>, r: &HttpRequest) -> PyResult<Bound<'py, PyAny>> {
    let body = r.body.as_deref().map(|b| PyBytes::new(py, b));
    Ok((r.method.as_str(), r.url.as_str(), request_headers(py, &r.headers)?, body).into_pyobject(py)?.into_any())
}

/// A response as `(status, headers, body)`.
pub(crate) fn response_tuple<'py>(py: Python<'py>, r: &HttpResponse) -> PyResult<Bound<'py, PyAny>> {
    Ok((r.status, headers_out(&r.headers), PyBytes::new(py, &r.body)).into_pyobject(py)?.into_any())
}

/// A JSON value as plain Python values (`dict`, `list`, `str`, `int`, `float`, `bool`, `None`), as
/// `json.loads` would give it: what the pure-Python side would otherwise parse from text.
pub(crate) fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => pyo3::types::PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => pyo3::types::PyString::new(py, s).into_any(),
        Value::Array(items) => PyList::new(py, items.iter().map(|i| to_py(py, i)).collect::<PyResult<Vec<_>>>()?)?.into_any(),
        Value::Object(map) => {
            let d = PyDict::new(py);
            for (k, item) in map {
                d.set_item(k, to_py(py, item)?)?;
            }
            d.into_any()
        }
    })
}

/// A serializable core value as plain Python values (see [`to_py`]).
pub(crate) fn to_py_value<'py, T: Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(v).map_err(|e| usage(format!("cannot encode a value as JSON: {e}")))?;
    to_py(py, &value)
}

/// JSON text from the Python side.
pub(crate) fn parse(text: &str) -> PyResult<Value> {
    serde_json::from_str(text).map_err(|e| usage(format!("invalid JSON from the Python side: {e}")))
}

/// Loose JSON text from the Python side (a dict to validate, a price table), read by the core's
/// parser: numbers keep their text, so `5.0` is told from `5` and prices are exact.
pub(crate) fn parse_loose(text: &str) -> PyResult<usvideo_core::Json<'_>> {
    usvideo_core::json::parse(text.as_bytes()).map_err(|e| usage(format!("invalid JSON from the Python side: {e}")))
}

/// JSON text for the Python side.
pub(crate) fn to_json<T: Serialize>(v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| usage(format!("cannot encode a value as JSON: {e}")))
}

/// A core enum from its wire name (`"retrieve_video"`, `"timeout"`, `"GET"`).
pub(crate) fn from_name<T: DeserializeOwned>(what: &str, name: &str) -> PyResult<T> {
    serde_json::from_value(Value::String(name.to_owned())).map_err(|_| usage(format!("unknown {what} `{name}`")))
}

/// The wire name of a core enum.
pub(crate) fn name_of<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

pub(crate) fn endpoint(name: &str) -> PyResult<Endpoint> {
    from_name("endpoint", name)
}

pub(crate) fn transport_kind(name: &str) -> PyResult<TransportKind> {
    from_name("transport kind", name)
}

/// A `RetryPolicy` from partial JSON (as [`with_defaults`]), remembering the last text per thread:
/// a client passes the same text on every call, so it is parsed once, not per call.
pub(crate) fn retry_policy(partial: Option<&str>) -> PyResult<usvideo_core::RetryPolicy> {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<Option<(Option<String>, usvideo_core::RetryPolicy)>> = const { RefCell::new(None) };
    }
    if let Some(policy) = LAST.with(|last| last.borrow().as_ref().filter(|(text, _)| text.as_deref() == partial).map(|(_, p)| *p)) {
        return Ok(policy);
    }
    let policy: usvideo_core::RetryPolicy = with_defaults(partial)?;
    LAST.with(|last| *last.borrow_mut() = Some((partial.map(str::to_owned), policy)));
    Ok(policy)
}

/// A core options type from partial JSON laid over its defaults (`{"max_retries": 0}` keeps every
/// other field of `RetryPolicy::default()`); `None` or `null` means the defaults. The core's
/// reader lays the members given over the defaults itself, and so knows which were given (a
/// poll's shortest gap given alone raises the longest: merged over the serialized defaults
/// first, every member looked given; helper-45).
pub(crate) fn with_defaults<T: DeserializeOwned + Default>(partial: Option<&str>) -> PyResult<T> {
    let p = match partial {
        Some(text) => parse(text)?,
        None => Value::Null,
    };
    if p.is_null() {
        return Ok(T::default());
    }
    // The options carry the caller's values (a poll policy, a batch's limits): a refused one is a
    // validation error naming its member (`poll.first_poll_ms`).
    serde_json::from_value(p).map_err(|e| crate::errors::issues(vec![usvideo_core::validate::option_issue("", &e.to_string())]))
}

