//! Python bindings of usvideo-core (being written; see issue 5).
use pyo3::prelude::*;

/// The native module `usvideo._native`.
#[pymodule]
fn _native(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
