//! Retry rules, backoff with jitter, and the seeded random numbers behind the jitter.
//!
//! # Rules
//!
//! | outcome of an attempt                 | reads, delete, account, pricing | create video           | create API key |
//! |---------------------------------------|---------------------------------|------------------------|----------------|
//! | 2xx                                   | done                            | done                   | done           |
//! | 2xx with a body that cannot be read   | fail (`decode`)                 | **reconcile**          | fail           |
//! | 429                                   | retry after `Retry-After`       | retry (nothing made)   | retry          |
//! | 408, 500, 502, 503, 504               | retry                           | **reconcile**          | fail           |
//! | any other status                      | fail                            | fail                   | fail           |
//! | transport `connect` (never sent)      | retry                           | retry                  | retry          |
//! | transport `timeout` / `other`         | retry                           | **reconcile**          | fail           |
//! | transport `body_too_large`            | fail (`decode`)                 | **reconcile**          | fail           |
//! | transport `aborted`                   | cancelled                       | cancelled              | cancelled      |
//!
//! *Reconcile* means: the create may have taken effect, so before anything is sent again the SDK
//! lists recent jobs and adopts the one that matches (see [`crate::create`]). A create is never
//! blindly replayed, even though it always carries an `Idempotency-Key`.
//!
//! Every retry waits: `Retry-After` when the server sent one (if it asks for more than
//! [`RetryPolicy::max_retry_after_ms`], the error is returned instead of waiting blindly), else
//! exponential backoff with "equal jitter" (half fixed, half random) from a caller-given seed.
//! Nothing retries past [`RetryPolicy::max_retries`] or past the caller's deadline.

use crate::error::{Error, ErrorKind};
use crate::http::TransportKind;
use crate::request::Endpoint;
use serde::{Deserialize, Serialize};

/// How persistent a call is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
// `Deserialize` reads a tree and calls the hand-written reader (crate::readers).
// Every field defaults: a partial object is these defaults with its fields laid over (how every
// binding passes options), read in one pass with no merge.
#[serde(default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 4).
    pub max_retries: u32,
    /// First backoff, in ms (default 500).
    pub base_delay_ms: u64,
    /// Largest backoff, in ms (default 8000).
    pub max_delay_ms: u64,
    /// Longest `Retry-After` honoured by waiting, in ms (default 60 000); a longer one is returned
    /// as the error, with its `retry_after_ms`, for the caller to decide.
    pub max_retry_after_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 4, base_delay_ms: 500, max_delay_ms: 8_000, max_retry_after_ms: 60_000 }
    }
}

impl RetryPolicy {
    /// No retries at all.
    #[must_use]
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..RetryPolicy::default() }
    }

    /// The backoff before retry number `attempt` (0-based): `min(max, base × 2^attempt)`, half of
    /// it fixed and half random, so it lies in `[d/2, d]`.
    #[must_use]
    pub fn backoff_ms(&self, attempt: u32, rng: &mut Rng) -> u64 {
        let exp = self.base_delay_ms.saturating_mul(1u64.checked_shl(attempt.min(32)).unwrap_or(u64::MAX)).min(self.max_delay_ms);
        let half = exp / 2;
        half + rng.below(exp - half + 1)
    }
}

/// What to do after a failed attempt.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Decision {
    /// Send the same request again after this many ms.
    Retry {
        /// The wait, in ms.
        after_ms: u64,
    },
    /// The create may have taken effect: list and match before anything else (creates only).
    Reconcile,
    /// Give up and return the error.
    Fail,
}

/// Whether a request that failed with `err` may still have been carried out by the server: it
/// was sent and no answer says it was refused (a dropped connection after sending, a timeout, a
/// 500 or 502, a 408, 503 or 504). Such a create is reconciled or reported as of unknown outcome,
/// never sent again on a guess. One rule for both ([`decide`] and the call's final error), so an
/// ambiguous status cannot be added to one and missed in the other.
pub(crate) fn outcome_unknown(err: &Error) -> bool {
    match err.kind {
        ErrorKind::Connection => err.transport != Some(TransportKind::Connect),
        ErrorKind::Timeout | ErrorKind::InternalServer | ErrorKind::Upstream => true,
        ErrorKind::ApiStatus => matches!(err.status, Some(408 | 503 | 504)),
        _ => false,
    }
}

/// What an attempt's failure means for `endpoint` (the table at the top of this file), before
/// counting attempts and deadlines. `Some(true)`: retry; `Some(false)`: reconcile; `None`: fail.
fn retry_class(endpoint: Endpoint, err: &Error) -> Option<bool> {
    let create = endpoint == Endpoint::CreateVideo;
    match err.kind {
        ErrorKind::RateLimit => Some(true),
        ErrorKind::Connection if err.transport == Some(TransportKind::Connect) => Some(true),
        _ if outcome_unknown(err) => {
            if create {
                Some(false)
            } else if endpoint == Endpoint::CreateApiKey {
                None
            } else {
                Some(true)
            }
        }
        // A 2xx create whose body could not be read: the job exists, its id was lost.
        ErrorKind::Decode if create && err.status.is_some_and(|s| (200..300).contains(&s)) => Some(false),
        // A create whose answer was too large to read: the server answered, so the job may exist.
        ErrorKind::Decode if create && err.transport == Some(TransportKind::BodyTooLarge) => Some(false),
        _ => None,
    }
}

/// Decides the next step after attempt number `attempt` (0-based) failed with `err`.
///
/// `remaining_ms` is the time left before the caller's deadline, if any: a retry that could not
/// start before it is not attempted.
#[must_use]
pub fn decide(endpoint: Endpoint, err: &Error, attempt: u32, policy: &RetryPolicy, remaining_ms: Option<u64>, rng: &mut Rng) -> Decision {
    match retry_class(endpoint, err) {
        None => Decision::Fail,
        Some(false) => Decision::Reconcile,
        Some(true) => {
            if attempt >= policy.max_retries {
                return Decision::Fail;
            }
            let after_ms = match err.retry_after_ms {
                Some(ra) if ra > policy.max_retry_after_ms => return Decision::Fail,
                Some(ra) => ra,
                None => policy.backoff_ms(attempt, rng),
            };
            if remaining_ms.is_some_and(|left| after_ms >= left) {
                return Decision::Fail;
            }
            Decision::Retry { after_ms }
        }
    }
}

/// A small deterministic generator (SplitMix64) seeded by the caller: the core owns no entropy,
/// and the same seed gives the same jitter in every language's vectors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value; the host passes random bytes in production).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_in_bounds() {
        let p = RetryPolicy::default();
        let mut rng = Rng::new(7);
        for attempt in 0..40 {
            let d = p.backoff_ms(attempt, &mut rng);
            let cap = (p.base_delay_ms << attempt.min(20)).min(p.max_delay_ms);
            assert!(d >= cap / 2 && d <= cap, "{attempt}: {d}");
        }
    }

    #[test]
    fn creates_are_never_blindly_replayed() {
        let p = RetryPolicy::default();
        let mut rng = Rng::new(1);
        let timeout = Error::transport(TransportKind::Timeout, "");
        assert_eq!(decide(Endpoint::CreateVideo, &timeout, 0, &p, None, &mut rng), Decision::Reconcile);
        assert!(matches!(decide(Endpoint::RetrieveVideo, &timeout, 0, &p, None, &mut rng), Decision::Retry { .. }));
        assert_eq!(decide(Endpoint::CreateApiKey, &timeout, 0, &p, None, &mut rng), Decision::Fail);
        let refused = Error::transport(TransportKind::Connect, "");
        assert!(matches!(decide(Endpoint::CreateVideo, &refused, 0, &p, None, &mut rng), Decision::Retry { .. }));
    }
}
