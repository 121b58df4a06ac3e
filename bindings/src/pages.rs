//! The walk over every page of the job list, for `listAll` in Kotlin and Swift.

use std::sync::{Mutex, MutexGuard, PoisonError};
use usvideo_core::ListParams;

/// The core's `PageWalk` behind a lock: which page to ask for next, and which of a page's jobs to
/// hand on (it ends at the last page, and at a page that repeats the one before's first job: a
/// server that ignores `offset`; a job the page before held is not handed on twice).
#[derive(Debug, uniffi::Object)]
pub struct PageWalk(Mutex<usvideo_core::PageWalk>);

impl PageWalk {
    fn lock(&self) -> MutexGuard<'_, usvideo_core::PageWalk> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[uniffi::export]
impl PageWalk {
    /// A walk in pages of `limit` jobs (out of 1–100, the first page's request is refused).
    #[uniffi::constructor]
    pub fn new(limit: u32) -> Self {
        PageWalk(Mutex::new(usvideo_core::PageWalk::new(limit)))
    }

    /// The page to ask for next, or `None` when the walk is over.
    pub fn next_page(&self) -> Option<ListParams> {
        self.lock().next_page()
    }

    /// Takes the page asked for by its jobs' ids and whether more follow; returns the positions
    /// of the jobs to hand on (none when the page ends the walk; not those the page before held,
    /// pushed down by newer jobs).
    pub fn take(&self, ids: Vec<String>, has_more: bool) -> Vec<u32> {
        self.lock().take(&ids, has_more)
    }
}
