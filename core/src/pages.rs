//! Walking every page of the job list (`list_all` in every binding), sans-IO: the walk says which
//! page to ask for next and, given each page's head, whether to hand that page's jobs on.
//!
//! Its rules:
//! - pages are asked for from offset 0, each from where the last one ended, `limit` jobs a page;
//! - an empty page ends the walk;
//! - a page that starts with the job the page before started with ends it, its jobs not handed
//!   on: a server that ignores `offset` answers the first page again and again, and the walk would
//!   never end (nor would it yield anything new);
//! - a page that says nothing more follows (`has_more` false) ends it once its jobs are handed on.
//!
//! A page's `has_more` is what `response::parse_job_page` read against the page asked for, so a
//! server that answers bare arrays is walked too.

use crate::model::ListParams;
#[cfg(doc)]
use crate::model::MAX_PAGE_LIMIT;

/// Where a walk over every page of the job list is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageWalk {
    limit: u32,
    /// The next page's offset; `None` once the walk is over.
    next: Option<u64>,
    /// The first job of the page before (none before the first page).
    first: Option<String>,
}

impl PageWalk {
    /// A walk in pages of `limit` jobs (1 to 100: out of that range, the first page's request is
    /// refused, naming `limit`; [`MAX_PAGE_LIMIT`] asks the fewest requests).
    #[must_use]
    pub fn new(limit: u32) -> Self {
        Self { limit, next: Some(0), first: None }
    }

    /// The page to ask for next, or `None` when the walk is over.
    #[must_use]
    pub fn next_page(&self) -> Option<ListParams> {
        self.next.map(|offset| ListParams { limit: Some(self.limit), offset: Some(offset) })
    }

    /// Takes the page asked for by its head: the id of its first job (`None`: the page is empty),
    /// how many jobs it holds and whether more follow. Returns whether to hand its jobs on.
    pub fn take(&mut self, first_id: Option<&str>, len: u64, has_more: bool) -> bool {
        let Some(offset) = self.next.take() else { return false };
        let Some(head) = first_id else { return false };
        if self.first.as_deref() == Some(head) {
            return false;
        }
        if has_more {
            self.next = Some(offset.saturating_add(len));
            self.first = Some(head.to_owned());
        }
        true
    }

    /// A walk resumed from its state as plain values, for a binding that keeps them on its side
    /// of a boundary: the next page's offset and the first job of the page before it.
    #[must_use]
    pub fn resume(limit: u32, offset: u64, first: Option<String>) -> Self {
        Self { limit, next: Some(offset), first }
    }

    /// A walk that is over (after an error, say).
    #[must_use]
    pub fn done() -> Self {
        Self { limit: 0, next: None, first: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(offset: u64) -> Option<ListParams> {
        Some(ListParams { limit: Some(2), offset: Some(offset) })
    }

    #[test]
    fn walks_pages_until_one_says_nothing_follows() {
        let mut walk = PageWalk::new(2);
        assert_eq!(walk.next_page(), page(0));
        assert!(walk.take(Some("c"), 2, true));
        assert_eq!(walk.next_page(), page(2));
        assert!(walk.take(Some("a"), 1, false));
        assert_eq!(walk.next_page(), None);
        assert!(!walk.take(Some("z"), 1, true), "a page after the end is not handed on");
    }

    #[test]
    fn an_empty_page_ends_the_walk() {
        let mut walk = PageWalk::new(2);
        assert!(!walk.take(None, 0, true));
        assert_eq!(walk.next_page(), None);
    }

    #[test]
    fn a_page_repeating_the_last_ones_head_ends_it_unyielded() {
        // A server that ignores `offset`: every page is the first one.
        let mut walk = PageWalk::new(2);
        assert!(walk.take(Some("c"), 2, true));
        assert!(!walk.take(Some("c"), 2, true));
        assert_eq!(walk.next_page(), None);
    }

    #[test]
    fn a_resumed_walk_goes_on_where_it_was() {
        let mut walk = PageWalk::resume(2, 2, Some("c".into()));
        assert_eq!(walk.next_page(), page(2));
        assert!(!walk.take(Some("c"), 2, true), "the page before's head again");
        let mut walk = PageWalk::resume(2, 2, Some("c".into()));
        assert!(walk.take(Some("a"), 2, true));
        assert_eq!(walk.next_page(), page(4));
    }

    #[test]
    fn offsets_do_not_overflow() {
        let mut walk = PageWalk::resume(2, u64::MAX - 1, None);
        assert!(walk.take(Some("a"), 2, true));
        assert_eq!(walk.next_page().and_then(|p| p.offset), Some(u64::MAX));
    }
}
