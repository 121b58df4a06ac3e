//! Walking every page of the job list (`list_all` in every binding), sans-IO: the walk says which
//! page to ask for next and, given each page's job ids, which of its jobs to hand on.
//!
//! Its rules:
//! 1. Pages are asked for from offset 0, each from where the last one ended, `limit` jobs a page.
//! 2. An empty page ends the walk.
//! 3. A page that starts with the job the page before started with ends it, its jobs not handed
//!    on: a server that ignores `offset` answers the first page again and again, and the walk
//!    would never end (nor would it yield anything new).
//! 4. A job that was on the page before is not handed on again. The list is newest first (the
//!    reference's order, an *assumption* where it is silent), so jobs created during the walk push
//!    older ones down: the page after starts with the page before's last jobs again. Jobs deleted
//!    during the walk pull later ones up, and those can be missed; a walk is not a snapshot.
//! 5. A page that says nothing more follows (`has_more` false) ends it once its jobs are handed on.
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
    /// The ids of the page before, in order (none before the first page).
    before: Vec<String>,
}

impl PageWalk {
    /// A walk in pages of `limit` jobs (1 to 100: out of that range, the first page's request is
    /// refused, naming `limit`; [`MAX_PAGE_LIMIT`] asks the fewest requests).
    #[must_use]
    pub fn new(limit: u32) -> Self {
        Self { limit, next: Some(0), before: Vec::new() }
    }

    /// The page to ask for next, or `None` when the walk is over.
    #[must_use]
    pub fn next_page(&self) -> Option<ListParams> {
        self.next.map(|offset| ListParams { limit: Some(self.limit), offset: Some(offset) })
    }

    /// Takes the page asked for by its jobs' ids, in order, and whether more follow. Returns the
    /// positions of the jobs to hand on: none when the page ends the walk unread (rules 2 and 3),
    /// else those that were not on the page before (rule 4).
    pub fn take<S: AsRef<str>>(&mut self, ids: &[S], has_more: bool) -> Vec<u32> {
        let Some(offset) = self.next.take() else { return Vec::new() };
        let Some(head) = ids.first().map(AsRef::as_ref) else { return Vec::new() };
        if self.before.first().is_some_and(|b| b == head) {
            return Vec::new();
        }
        let keep = (0..ids.len()).filter(|&i| ids.get(i).is_some_and(|id| !self.before.iter().any(|b| b == id.as_ref()))).filter_map(|i| u32::try_from(i).ok()).collect();
        if has_more {
            self.next = Some(offset.saturating_add(ids.len() as u64));
            self.before = ids.iter().map(|id| id.as_ref().to_owned()).collect();
        }
        keep
    }

    /// A walk resumed from its state as plain values, for a binding that keeps them on its side
    /// of a boundary: the next page's offset and the ids of the page before it.
    #[must_use]
    pub fn resume(limit: u32, offset: u64, before: Vec<String>) -> Self {
        Self { limit, next: Some(offset), before }
    }

    /// A walk that is over (after an error, say).
    #[must_use]
    pub fn done() -> Self {
        Self { limit: 0, next: None, before: Vec::new() }
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
        assert_eq!(walk.take(&["d", "c"], true), [0, 1]);
        assert_eq!(walk.next_page(), page(2));
        assert_eq!(walk.take(&["a"], false), [0]);
        assert_eq!(walk.next_page(), None);
        assert!(walk.take(&["z"], true).is_empty(), "a page after the end is not handed on");
    }

    #[test]
    fn an_empty_page_ends_the_walk() {
        let mut walk = PageWalk::new(2);
        assert!(walk.take::<&str>(&[], true).is_empty());
        assert_eq!(walk.next_page(), None);
    }

    #[test]
    fn a_page_repeating_the_last_ones_head_ends_it_unyielded() {
        // A server that ignores `offset`: every page is the first one.
        let mut walk = PageWalk::new(2);
        assert_eq!(walk.take(&["c", "b"], true).len(), 2);
        assert!(walk.take(&["c", "b"], true).is_empty());
        assert_eq!(walk.next_page(), None);
    }

    #[test]
    fn jobs_pushed_down_by_new_ones_are_handed_on_once() {
        // Newest first: "e" was created after the first page was read, so "c" comes again.
        let mut walk = PageWalk::new(2);
        assert_eq!(walk.take(&["d", "c"], true), [0, 1]);
        assert_eq!(walk.take(&["c", "b"], true), [1], "c was on the page before");
        assert_eq!(walk.next_page(), page(4));
        assert_eq!(walk.take(&["a"], false), [0]);
    }

    #[test]
    fn a_resumed_walk_goes_on_where_it_was() {
        let mut walk = PageWalk::resume(2, 2, vec!["c".into(), "b".into()]);
        assert_eq!(walk.next_page(), page(2));
        assert!(walk.take(&["c", "x"], true).is_empty(), "the page before's head again");
        let mut walk = PageWalk::resume(2, 2, vec!["c".into(), "b".into()]);
        assert_eq!(walk.take(&["b", "a"], true), [1]);
        assert_eq!(walk.next_page(), page(4));
    }

    #[test]
    fn offsets_do_not_overflow() {
        let mut walk = PageWalk::resume(2, u64::MAX - 1, Vec::new());
        assert_eq!(walk.take(&["a", "b"], true).len(), 2);
        assert_eq!(walk.next_page().and_then(|p| p.offset), Some(u64::MAX));
    }
}
