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
}

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
        RateLimiter { limit: requests_per_minute.min(MAX_TRACKED), window_ms: WINDOW_MS + WINDOW_MARGIN_MS, sent: VecDeque::new(), blocked_until: Millis(0) }
    }

    /// Takes a slot for a request sent at `now`, or says when to ask again.
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
        while self.sent.front().is_some_and(|t| now.since(*t) >= self.window_ms) {
            self.sent.pop_front();
        }
        if self.sent.len() < self.limit as usize {
            self.sent.push_back(now);
            return Ok(());
        }
        let oldest = self.sent.front().copied().unwrap_or(now);
        Err(oldest.plus(self.window_ms))
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
}
