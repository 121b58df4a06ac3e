//! The per-token rate limiter: a sliding 60 s window of the virtual clock.
//!
//! Whether a request refused by the limiter counts against the window is not stated by the
//! reference; both readings are offered (FLEET.md): `lenient` (it does not count, like GCRA and
//! most token buckets) and `strict` (it counts, like a limiter that logs before it checks).

use crate::LimiterMode;
use std::collections::{HashMap, VecDeque};

/// The window length in virtual milliseconds.
pub(crate) const WINDOW_MS: u64 = 60_000;

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Let through; this many requests remain in the window.
    Allowed { remaining: u64 },
    /// Refused; retry after this many whole seconds (at least 1).
    Limited { retry_after_s: u64 },
}

/// Request timestamps per token, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    windows: HashMap<String, VecDeque<u64>>,
}

impl Limiter {
    /// Counts one request by `token` at virtual `now` against `limit` requests per minute.
    pub(crate) fn check(&mut self, token: &str, limit: u64, now: u64, mode: LimiterMode) -> Decision {
        let window = self.windows.entry(token.to_owned()).or_default();
        while window.front().is_some_and(|&t| t + WINDOW_MS <= now) {
            window.pop_front();
        }
        if (window.len() as u64) < limit {
            window.push_back(now);
            return Decision::Allowed { remaining: limit - window.len() as u64 };
        }
        // A slot frees when the request that is `limit`-th from the end leaves the window.
        // (Under `strict` the window may hold more than `limit` entries.)
        let idx = window.len() - limit.min(window.len() as u64) as usize;
        let frees_at = window.get(idx).map_or(now + 1, |&t| t + WINDOW_MS);
        if mode == LimiterMode::Strict {
            window.push_back(now);
        }
        Decision::Limited { retry_after_s: frees_at.saturating_sub(now).div_ceil(1000).max(1) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_refusals_do_not_count() {
        let mut l = Limiter::default();
        for i in 0..3 {
            assert!(matches!(l.check("t", 3, i * 1000, LimiterMode::Lenient), Decision::Allowed { .. }));
        }
        assert_eq!(l.check("t", 3, 10_000, LimiterMode::Lenient), Decision::Limited { retry_after_s: 50 });
        assert!(matches!(l.check("t", 3, 60_000, LimiterMode::Lenient), Decision::Allowed { .. }));
    }

    #[test]
    fn strict_refusals_count() {
        let mut l = Limiter::default();
        for _ in 0..3 {
            l.check("t", 3, 0, LimiterMode::Strict);
        }
        assert!(matches!(l.check("t", 3, 30_000, LimiterMode::Strict), Decision::Limited { .. }));
        // At 60 s the first three left, but the refused one at 30 s still counts: 1 + 1 ≤ 3.
        assert!(matches!(l.check("t", 3, 60_000, LimiterMode::Strict), Decision::Allowed { remaining: 1 }));
    }
}
