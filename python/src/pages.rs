//! `PageWalk`: the core's walk over every page of the job list, for `list_all` (sync and async).

use std::sync::{Mutex, MutexGuard};

use pyo3::prelude::*;

use crate::errors::guard;

/// Which page of the job list to ask for next, and whether to yield a page's jobs (the core's
/// `PageWalk`: it ends at the last page, and at a page that repeats the one before's first job).
#[pyclass(frozen, module = "usvideo._native")]
pub(crate) struct PageWalk {
    inner: Mutex<usvideo_core::PageWalk>,
}

impl PageWalk {
    fn lock(&self) -> MutexGuard<'_, usvideo_core::PageWalk> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[pymethods]
impl PageWalk {
    /// A walk in pages of `limit` jobs.
    #[new]
    #[pyo3(signature = (limit=100))]
    fn new(limit: u32) -> Self {
        PageWalk { inner: Mutex::new(usvideo_core::PageWalk::new(limit)) }
    }

    /// `(limit, offset)` of the page to ask for next, or `None` when the walk is over.
    fn next_page(&self) -> PyResult<Option<(u32, u64)>> {
        guard(|| Ok(self.lock().next_page().map(|p| (p.limit.unwrap_or_default(), p.offset.unwrap_or_default()))))
    }

    /// Takes the page asked for by its jobs' ids and whether more follow; returns the positions
    /// of the jobs to yield (none when the page ends the walk; not those the page before held).
    fn take(&self, ids: Vec<String>, has_more: bool) -> PyResult<Vec<u32>> {
        guard(|| Ok(self.lock().take(&ids, has_more)))
    }
}
