//! The client-side rate limiter (a batch keeps to the account's concurrent jobs itself: its
//! scheduler counts the jobs it has in flight).
//!
//! The service counts requests per key in a rolling 60-second window (*assumption*: the reference
//! gives only "60 requests/min"). A token bucket would allow a burst of 60 and then one a second,
//! which a rolling window refuses; so this limiter keeps the send times of the last `limit`
//! requests and grants a new one only when fewer than `limit` fall within the window. The window
//! is widened by a margin, because the server sees each request a little later than the client
//! sent it. One limiter is shared by everything that uses a key: independent loops that each
//! honour `Retry-After` still overrun a limit together (FLEET.md).
//!
//! # The line (rules)
//! Calls that find the limit spent wait for a slot in line, so that a driver needs no wake-ups of
//! its own: each waiting call sleeps to the instant it is told and asks again
//! ([`RateLimiter::acquire_in_line`]).
//! 1. A call that finds no slot for it joins the line (it gets a ticket) and is told its turn:
//!    the k-th in line, the k-th slot to free (the window's sends age out in the order they were
//!    sent; a line longer than the limit waits whole windows more). So each waiting call wakes
//!    about once, at its own slot, not every one at every slot, and they go in the order they came.
//! 2. A slot goes to a call only while fewer calls are ahead of it in line than slots are free: a
//!    newcomer never takes a slot from a call waiting, and a first in line that wakes late does
//!    not hold back those behind it when slots are free. (A plain [`RateLimiter::try_acquire`]
//!    does not look at the line: it is for callers that keep none, see there.)
//! 3. A call that gives up (an abort, its deadline) leaves the line ([`RateLimiter::leave`]); one
//!    that has not asked again [`LINE_GRACE_MS`] after its turn is taken to have gone (a call
//!    dropped without leaving) and its place is given up; should it come back, it queues at the end.
//! 4. A `Retry-After` pause holds the whole line: no turn is told before its end.
//!
//! npm's driver keeps a line of its own in JS (`wasm/ts/driver.ts`, `Line`), with one timer; the
//! other drivers ask this one.

use crate::time::Millis;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Requests per minute and concurrent jobs of a plan.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
// `Deserialize` reads a tree and calls the hand-written reader (crate::readers).
// Every field defaults: a partial object is these defaults with its fields laid over (how every
// binding passes options), read in one pass with no merge.
#[serde(default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Limits {
    /// Requests per rolling minute per key (standard: 60).
    pub requests_per_minute: u32,
    /// Jobs pending or processing at once per account (standard: 10).
    pub concurrent_jobs: u32,
}

impl Limits {
    /// The standard tier: 60 requests per minute, 10 concurrent jobs.
    pub const STANDARD: Limits = Limits { requests_per_minute: 60, concurrent_jobs: 10 };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::STANDARD
    }
}

/// The error code of a 429 that is about job slots (see [`RateLimiter::observe`]).
const CONCURRENCY_LIMIT: &[u8] = b"concurrency_limit";

/// Sliding-window limiter. Drive it with [`RateLimiter::try_acquire`] before each send and
/// [`RateLimiter::on_retry_after`] when the server answers 429.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimiter {
    limit: u32,
    window_ms: u64,
    sent: VecDeque<Millis>,
    blocked_until: Millis,
    /// The calls waiting for a slot, first come first: each one's ticket and the turn it was last
    /// told (the line's rules, at the top). Not part of a limiter's saved state.
    #[serde(skip)]
    line: Vec<(u64, Millis)>,
    #[serde(skip)]
    last_ticket: u64,
}

/// How long after its turn a call in line may take to ask again before its place is given up
/// (the line's rule 3), in ms: more than a busy machine's late timer, less than a window.
pub const LINE_GRACE_MS: u64 = 10_000;

/// The rolling window the service counts in.
pub const WINDOW_MS: u64 = 60_000;
/// Added to the window: the server counts arrival, not send, times.
pub const WINDOW_MARGIN_MS: u64 = 1_000;
/// The most requests per minute the limiter tracks (memory stays bounded).
pub const MAX_TRACKED: u32 = 100_000;

impl RateLimiter {
    /// A limiter for `requests_per_minute` (0 means unlimited).
    #[must_use]
    pub fn new(requests_per_minute: u32) -> Self {
        RateLimiter { limit: requests_per_minute.min(MAX_TRACKED), window_ms: WINDOW_MS + WINDOW_MARGIN_MS, sent: VecDeque::new(), blocked_until: Millis(0), line: Vec::new(), last_ticket: 0 }
    }

    /// Takes a slot for a request sent at `now`, or says when to ask again: for a caller that
    /// keeps no place in the line (npm's driver, which keeps a line of its own in JS; a batch's
    /// own limiter; a clean-up's one best-effort request). It does not look at the line, so the
    /// npm package's module links none of it (~560 bytes gzipped).
    ///
    /// # Errors
    /// The instant at which a slot frees (the caller sleeps until then and asks again).
    pub fn try_acquire(&mut self, now: Millis) -> Result<(), Millis> {
        if now < self.blocked_until {
            return Err(self.blocked_until);
        }
        if self.limit == 0 {
            return Ok(());
        }
        self.age_out(now);
        if self.sent.len() < self.limit as usize {
            self.sent.push_back(now);
            return Ok(());
        }
        let oldest = self.sent.front().copied().unwrap_or(now);
        Err(oldest.plus(self.window_ms))
    }

    /// Takes a slot for a request sent at `now` in turn, or places the caller in line and tells it
    /// when its turn comes (the line's rules, at the top). `ticket` is the caller's place: `None`
    /// for a call not yet waiting, set when it must wait (ask again with it), cleared when the
    /// slot is taken. A caller that gives up before then must [`RateLimiter::leave`].
    ///
    /// # Errors
    /// The instant of the caller's turn: sleep until then and ask again.
    pub fn acquire_in_line(&mut self, ticket: &mut Option<u64>, now: Millis) -> Result<(), Millis> {
        self.line.retain(|(_, turn)| now.since(*turn) < LINE_GRACE_MS);
        self.age_out(now);
        let mine = *ticket;
        let place = mine.and_then(|t| self.line.iter().position(|(x, _)| *x == t)).unwrap_or(self.line.len());
        let in_window = self.sent.len();
        let free = if self.limit == 0 { usize::MAX } else { (self.limit as usize).saturating_sub(in_window) };
        if now >= self.blocked_until && place < free {
            if let Some(t) = ticket.take() {
                self.leave(t);
            }
            if self.limit != 0 {
                self.sent.push_back(now);
            }
            return Ok(());
        }
        // The slot of its turn. The window's `limit` slots come free in order: those free now,
        // then each of its sends as it ages out; the line takes them in turn, a window later
        // again for each lap of a line longer than the limit.
        let limit = self.limit as usize;
        let turn = match (place.checked_div(limit), place.checked_rem(limit)) {
            (Some(lap), Some(slot)) => {
                let frees = match slot.checked_sub(free) {
                    None => now,
                    Some(j) => self.sent.get(j).map_or(now, |t| t.plus(self.window_ms)),
                };
                frees.plus(self.window_ms.saturating_mul(u64::try_from(lap).unwrap_or(u64::MAX)))
            }
            _ => now, // no limit: only a pause holds the line
        }
        .max(self.blocked_until)
        .max(now);
        match self.line.iter_mut().find(|(x, _)| Some(*x) == mine) {
            Some(entry) => entry.1 = turn,
            None => {
                let t = mine.unwrap_or_else(|| {
                    self.last_ticket = self.last_ticket.wrapping_add(1);
                    self.last_ticket
                });
                *ticket = Some(t);
                self.line.push((t, turn));
            }
        }
        Err(turn)
    }

    /// Forgets the sends that have left the window by `now`.
    fn age_out(&mut self, now: Millis) {
        while self.sent.front().is_some_and(|t| now.since(*t) >= self.window_ms) {
            self.sent.pop_front();
        }
    }

    /// The call holding `ticket` gives up its place in line (the line's rule 3).
    pub fn leave(&mut self, ticket: u64) {
        self.line.retain(|(t, _)| *t != ticket);
    }

    /// When the next slot frees, without taking one (`now` if one is free).
    #[must_use]
    pub fn next_free(&self, now: Millis) -> Millis {
        if now < self.blocked_until {
            return self.blocked_until;
        }
        let in_window = self.sent.iter().filter(|t| now.since(**t) < self.window_ms).count();
        if self.limit == 0 || in_window < self.limit as usize {
            return now;
        }
        self.sent.iter().find(|t| now.since(**t) < self.window_ms).map_or(now, |t| t.plus(self.window_ms))
    }

    /// Learns from any response: a 429 with `Retry-After` pauses every request on this key.
    pub fn observe(&mut self, resp: &crate::http::HttpResponse, now: Millis) {
        if resp.status != 429 {
            return; // every answer passes here: the body is searched only for a 429
        }
        // A `concurrency_limit` 429 is about job slots, not the request rate: it must not pause
        // reads on the key. Searched as bytes: a substring search over text costs the wasm module
        // std's two-way searcher (~0.4 KB gzipped) for this one use.
        let about_rate = !resp.body.windows(CONCURRENCY_LIMIT.len()).any(|w| w == CONCURRENCY_LIMIT);
        if let Some(ms) = crate::response::retry_after_ms(resp).filter(|_| about_rate) {
            self.on_retry_after(now, ms.min(crate::retry::RetryPolicy::default().max_retry_after_ms));
        }
    }

    /// The server said 429 with `Retry-After`: nothing is sent before `now + retry_after_ms`.
    pub fn on_retry_after(&mut self, now: Millis, retry_after_ms: u64) {
        self.blocked_until = self.blocked_until.max(now.plus(retry_after_ms));
    }
}

/// The process's shared limiters, by base URL, key digest and budget (see [`shared`]).
static SHARED: crate::per_key::Table<(String, u64, u32), Arc<Mutex<RateLimiter>>> = crate::per_key::Table::new();
/// How many keys' limiters [`shared`] keeps: a server with its customers' keys must not grow for ever.
pub const SHARED_KEPT: usize = crate::per_key::KEPT;

/// The rate limiter of a key: one per base URL, key and budget in the process, for the clients of
/// a binding that keeps its limiter behind a lock (the Rust client, Python, Kotlin, Swift). The
/// service counts a key's requests, not a client's: two clients on one key, or a server that
/// makes a client per request, would each spend the whole budget. The newest [`SHARED_KEPT`]
/// keys' are kept past their clients ([`crate::per_key`]'s rules); with no budget (0) there is
/// nothing to share. Keyed by a digest of the key, never the key.
#[must_use]
pub fn shared(base_url: &str, key: Option<&str>, requests_per_minute: u32) -> Arc<Mutex<RateLimiter>> {
    let make = || Arc::new(Mutex::new(RateLimiter::new(requests_per_minute)));
    if requests_per_minute == 0 {
        return make();
    }
    SHARED.get((base_url.to_owned(), crate::per_key::digest(key), requests_per_minute), make)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_of_one_key_share_a_limiter() {
        let a = shared("http://h/v1", Some("sd_shared_1"), 1);
        let b = shared("http://h/v1", Some("sd_shared_1"), 1);
        let (other_key, other_budget) = (shared("http://h/v1", Some("sd_shared_2"), 1), shared("http://h/v1", Some("sd_shared_1"), 2));
        assert!(a.lock().unwrap().try_acquire(Millis(0)).is_ok());
        assert!(b.lock().unwrap().try_acquire(Millis(0)).is_err(), "the key's one slot is taken");
        assert!(other_key.lock().unwrap().try_acquire(Millis(0)).is_ok() && other_budget.lock().unwrap().try_acquire(Millis(0)).is_ok());
        // Bounded: a server with many customers' keys keeps only the newest ones' limiters.
        for i in 0..3 * SHARED_KEPT {
            let _ = shared("http://h/v1", Some(&format!("sd_many_{i}")), 1);
        }
        assert!(SHARED.len() <= SHARED_KEPT);
        assert!(!Arc::ptr_eq(&shared("http://h/v1", None, 0), &shared("http://h/v1", None, 0)), "no budget: nothing shared");
    }

    #[test]
    fn never_more_than_limit_in_a_window() {
        let mut l = RateLimiter::new(60);
        let mut granted = Vec::new();
        let mut now = Millis(0);
        while granted.len() < 200 {
            match l.try_acquire(now) {
                Ok(()) => granted.push(now),
                Err(t) => now = t,
            }
        }
        for (i, t) in granted.iter().enumerate() {
            let in_window = granted.iter().skip(i).take_while(|u| u.since(*t) < WINDOW_MS).count();
            assert!(in_window <= 60);
        }
    }

    #[test]
    fn a_429_pauses_the_key_unless_it_is_about_job_slots() {
        let answer = |code: &str| {
            let mut r = crate::http::HttpResponse::json(429, &format!(r#"{{"error":{{"code":"{code}","message":"slow down"}}}}"#));
            r.headers.push(crate::http::Header::new("Retry-After", "2"));
            r
        };
        let mut l = RateLimiter::new(0);
        l.observe(&answer("concurrency_limit"), Millis(1_000));
        assert_eq!(l.try_acquire(Millis(1_000)), Ok(()), "a concurrency_limit 429 does not pause reads");
        l.observe(&answer("rate_limited"), Millis(1_000));
        assert_eq!(l.try_acquire(Millis(1_000)), Err(Millis(3_000)), "a rate 429 pauses the key for Retry-After");
        // A body too short to hold the code, or not text, is a rate 429 too.
        let mut l = RateLimiter::new(0);
        let mut r = answer("x");
        r.body = vec![0xff, 0xfe];
        l.observe(&r, Millis(0));
        assert_eq!(l.try_acquire(Millis(0)), Err(Millis(2_000)));
    }

    /// Waiters that each sleep to the turn they are told and ask again: the order they are
    /// granted in, and how many times each asked.
    fn drive_line(l: &mut RateLimiter, joins: &[u64]) -> (Vec<(usize, Millis)>, Vec<u32>) {
        let n = joins.len();
        let (mut tickets, mut next, mut asks, mut granted) = (vec![None; n], joins.iter().map(|t| Some(Millis(*t))).collect::<Vec<_>>(), vec![0; n], Vec::new());
        while let Some((i, now)) = next.iter().enumerate().filter_map(|(i, t)| t.map(|t| (i, t))).min_by_key(|(i, t)| (*t, *i)) {
            asks[i] += 1;
            match l.acquire_in_line(&mut tickets[i], now) {
                Ok(()) => {
                    granted.push((i, now));
                    next[i] = None;
                }
                Err(turn) => {
                    assert!(turn > now, "told a turn not after now");
                    next[i] = Some(turn);
                }
            }
        }
        (granted, asks)
    }

    #[test]
    fn waiters_are_served_in_the_order_they_came_each_waking_about_once() {
        let mut l = RateLimiter::new(3);
        for t in [0, 100, 200] {
            assert_eq!(l.try_acquire(Millis(t)), Ok(()));
        }
        // Ten calls join, 10 ms apart, while the window is full.
        let joins: Vec<u64> = (0..10).map(|i| 1_000 + 10 * i).collect();
        let (granted, asks) = drive_line(&mut l, &joins);
        let order: Vec<usize> = granted.iter().map(|(i, _)| *i).collect();
        assert_eq!(order, (0..10).collect::<Vec<_>>(), "first come first served: {granted:?}");
        // Each slot goes out when it frees: the first three at the window's three sends + 61 s.
        assert_eq!(granted.iter().take(3).map(|(_, t)| t.0).collect::<Vec<_>>(), vec![61_000, 61_100, 61_200]);
        assert!(asks.iter().all(|a| *a == 2), "each asked on joining and at its turn: {asks:?}");
        let mut all: Vec<u64> = vec![0, 100, 200];
        all.extend(granted.iter().map(|(_, t)| t.0));
        for (i, t) in all.iter().enumerate() {
            assert!(all.iter().skip(i).take_while(|u| *u - t < WINDOW_MS + WINDOW_MARGIN_MS).count() <= 3, "never more than the limit in a window");
        }
    }

    #[test]
    fn no_newcomer_takes_a_waiting_calls_slot_but_a_late_first_holds_no_one_back() {
        let mut l = RateLimiter::new(2);
        assert!(l.try_acquire(Millis(0)).is_ok() && l.try_acquire(Millis(0)).is_ok());
        let (mut a, mut b) = (None, None);
        assert_eq!(l.acquire_in_line(&mut a, Millis(10)), Err(Millis(61_000)));
        assert_eq!(l.acquire_in_line(&mut b, Millis(20)), Err(Millis(61_000)));
        // At 61 s both slots are free; a newcomer asking first is still behind them.
        let mut c = None;
        assert_eq!(l.acquire_in_line(&mut c, Millis(61_000)), Err(Millis(122_000)));
        // The second in line asks before the first: two slots are free, so it goes.
        assert_eq!(l.acquire_in_line(&mut b, Millis(61_001)), Ok(()));
        assert_eq!(b, None, "a granted call leaves the line");
        assert_eq!(l.acquire_in_line(&mut a, Millis(61_002)), Ok(()));
        // The newcomer is first now, and waits for the next slot to free.
        assert_eq!(l.acquire_in_line(&mut c, Millis(61_003)), Err(Millis(122_001)));
    }

    #[test]
    fn a_call_that_leaves_or_never_asks_again_gives_its_place_up() {
        let mut l = RateLimiter::new(1);
        assert!(l.try_acquire(Millis(0)).is_ok());
        let (mut a, mut b, mut c) = (None, None, None);
        assert_eq!(l.acquire_in_line(&mut a, Millis(1)), Err(Millis(61_000)));
        assert_eq!(l.acquire_in_line(&mut b, Millis(2)), Err(Millis(122_000)));
        assert_eq!(l.acquire_in_line(&mut c, Millis(3)), Err(Millis(183_000)));
        l.leave(a.unwrap()); // aborted
        assert_eq!(l.acquire_in_line(&mut b, Millis(61_000)), Ok(()), "b is first now");
        // c asks at once too: it is first, and its turn is the slot b just took, a window on.
        assert_eq!(l.acquire_in_line(&mut c, Millis(61_000)), Err(Millis(122_000)));
        // c never asks again; past its turn and the grace, a newcomer is not held behind it.
        let mut d = None;
        assert_eq!(l.acquire_in_line(&mut d, Millis(122_000 + LINE_GRACE_MS)), Ok(()));
        // Should c come back, it queues at the end.
        assert!(l.acquire_in_line(&mut c, Millis(122_000 + LINE_GRACE_MS + 1)).is_err());
    }

    #[test]
    fn a_pause_holds_the_whole_line() {
        let mut l = RateLimiter::new(0);
        l.on_retry_after(Millis(0), 5_000);
        let (mut a, mut b) = (None, None);
        assert_eq!(l.acquire_in_line(&mut a, Millis(1)), Err(Millis(5_000)));
        assert_eq!(l.acquire_in_line(&mut b, Millis(2)), Err(Millis(5_000)));
        assert_eq!(l.acquire_in_line(&mut b, Millis(5_000)), Ok(()));
        assert_eq!(l.acquire_in_line(&mut a, Millis(5_001)), Ok(()));
    }

    #[test]
    fn a_line_longer_than_the_limit_waits_whole_windows() {
        let mut l = RateLimiter::new(2);
        assert!(l.try_acquire(Millis(0)).is_ok() && l.try_acquire(Millis(500)).is_ok());
        let turns: Vec<Millis> = (0..5).map(|i| l.acquire_in_line(&mut None, Millis(1_000 + i)).unwrap_err()).collect();
        assert_eq!(turns, vec![Millis(61_000), Millis(61_500), Millis(122_000), Millis(122_500), Millis(183_000)]);
    }
}
