//! Core errors → the pure-Python classes of `usvideo.errors`, and the panic guard.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use usvideo_core::validate::Issue;
use usvideo_core::{Error, ErrorKind};

/// The Python exception for a core error: `usvideo.errors.<ErrorKind::class_name()>._from_core(json)`.
///
/// The classes live in pure Python (documented, picklable, typed) and `usvideo.errors` never
/// imports this module, so there is no import cycle. If that module cannot be imported (the
/// native module loaded on its own), a `RuntimeError` with the same message is raised instead.
pub(crate) fn error_object<'py>(py: Python<'py>, e: &Error) -> Bound<'py, PyAny> {
    // With the core's word on whether the call may be made again (`Error::is_retryable`).
    let mut record = serde_json::to_value(e).unwrap_or_default();
    if let Some(fields) = record.as_object_mut() {
        fields.insert("retryable".into(), e.is_retryable().into());
    }
    let json = record.to_string();
    match build(py, e.kind.class_name(), &json) {
        Ok(obj) => obj,
        Err(import_failure) => import_failure.into_value(py).into_bound(py).into_any(),
    }
}

fn build<'py>(py: Python<'py>, class_name: &str, json: &str) -> PyResult<Bound<'py, PyAny>> {
    let module = py.import("usvideo.errors")?;
    let class = module.getattr(class_name)?;
    class.call_method1("_from_core", (json,))
}

/// A core error as a `PyErr` to raise.
pub(crate) fn core_err(e: &Error) -> PyErr {
    Python::attach(|py| PyErr::from_value(error_object(py, e)))
}

/// Shorthand for `Result<T, usvideo_core::Error>` → `PyResult<T>`.
pub(crate) fn py<T>(r: Result<T, Error>) -> PyResult<T> {
    r.map_err(|e| core_err(&e))
}

/// One validation issue as a `ValidationError`.
pub(crate) fn issue(i: Issue) -> PyErr {
    core_err(&Error::validation(vec![i]))
}

/// Several validation issues as one `ValidationError`.
pub(crate) fn issues(list: Vec<Issue>) -> PyErr {
    core_err(&Error::validation(list))
}

/// A misuse of the binding (bad JSON from the Python side, an unknown transport kind).
pub(crate) fn usage(detail: impl Into<String>) -> PyErr {
    core_err(&Error::usage(detail))
}

/// Runs `f`, turning a panic into `usvideo.errors.InternalError` so that no `PanicException`
/// (a `BaseException` that `except Exception` misses) ever reaches Python.
pub(crate) fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let detail = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(internal(&detail))
        }
    }
}

fn internal(detail: &str) -> PyErr {
    let mut e = Error::new(ErrorKind::Usage, format!("internal error in the usvideo native module (a bug; please report it): {detail}"));
    e.code = "internal".to_owned();
    let json = serde_json::to_string(&e).unwrap_or_else(|_| String::from("{}"));
    Python::attach(|py| match build(py, "InternalError", &json) {
        Ok(obj) => PyErr::from_value(obj),
        Err(_) => PyRuntimeError::new_err(e.message),
    })
}
