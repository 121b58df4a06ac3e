//! `usvideo._native`: the Python binding of `usvideo-core`.
//!
//! Thin on purpose (STYLE.md, "What belongs in bindings"): every function here is a conversion, one
//! core call, and an error mapping. Values cross as plain Python values (`str`, `int`, `bytes`,
//! lists of `(name, value)` header tuples) or as JSON text that the pure-Python side reads with
//! `json.loads`. The drivers (`usvideo/_sync.py`, `usvideo/_async.py`) loop over one
//! [`machine::Machine`] handle and do the I/O with httpx.
//!
//! Errors: every core [`usvideo_core::Error`] is raised as the class of `usvideo.errors` named by
//! [`usvideo_core::ErrorKind::class_name`]; a panic is caught at every entry point and raised as
//! `usvideo.errors.InternalError`, never as pyo3's `PanicException` (a `BaseException`).

mod convert;
mod errors;
mod functions;
mod machine;
mod pages;

use pyo3::prelude::*;

/// The native module `usvideo._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("MAX_RESPONSE_BYTES", usvideo_core::MAX_RESPONSE_BYTES)?;
    m.add("DEFAULT_BASE_URL", usvideo_core::DEFAULT_BASE_URL)?;
    m.add_class::<functions::Config>()?;
    m.add_class::<machine::Machine>()?;
    m.add_class::<machine::RateLimiter>()?;
    m.add_class::<pages::PageWalk>()?;
    functions::register(m)?;
    Ok(())
}
