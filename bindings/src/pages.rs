//! The walk over every page of the job list, for `listAll` in Kotlin and Swift.

use std::sync::{Mutex, MutexGuard, PoisonError};
use usvideo_core::ListParams;

/// The core's `PageWalk` behind a lock: which page to ask for next, and whether to hand a page's
/// jobs on (it ends at the last page, and at a page that repeats the one before's first job: a
/// server that ignores `offset`).
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

    /// Takes the page asked for by its head (its first job's id, its length, whether more
    /// follow); returns whether to hand its jobs on.
    pub fn take(&self, first_id: Option<String>, count: u64, has_more: bool) -> bool {
        self.lock().take(first_id.as_deref(), count, has_more)
    }
}
