//! The client-side rate limiter, shared by every call of the clients of one key.

use crate::error::Result;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use usvideo_core::{HttpResponse, Millis};

/// The core's sliding-window limiter behind a lock. One per key ([`RateLimiter::shared`]):
/// independent loops that each honour `Retry-After` still overrun a limit together.
#[derive(Debug, uniffi::Object)]
pub struct RateLimiter(Arc<Mutex<usvideo_core::RateLimiter>>);

impl RateLimiter {
    fn lock(&self) -> MutexGuard<'_, usvideo_core::RateLimiter> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A call's turn in the limiter's line ([`RateLimiter::acquire_in_line`]).
#[derive(Debug, uniffi::Record)]
pub struct Turn {
    /// The call's place in line; `None` once it has its slot.
    pub ticket: Option<u64>,
    /// `None`: the slot is taken, send now. Else sleep until then and ask again with `ticket`.
    pub wait_until: Option<Millis>,
}

#[uniffi::export]
impl RateLimiter {
    /// A limiter for `requests_per_minute` (0: unlimited).
    #[uniffi::constructor]
    pub fn new(requests_per_minute: u32) -> Self {
        RateLimiter(Arc::new(Mutex::new(usvideo_core::RateLimiter::new(requests_per_minute))))
    }

    /// The limiter of a key: one per base URL, key and budget in the process, shared by every
    /// client made with them (the service counts a key's requests, not a client's).
    #[uniffi::constructor]
    pub fn shared(base_url: String, api_key: Option<String>, requests_per_minute: u32) -> Self {
        RateLimiter(usvideo_core::ratelimit::shared(&base_url, api_key.as_deref(), requests_per_minute))
    }

    /// Takes a slot for a request sent at `now`: `None` when granted, else the instant at which
    /// to ask again (sleep until then).
    ///
    /// # Errors
    /// Never in practice (declared fallible so that Swift never `try!`s into a crash).
    pub fn try_acquire(&self, now: Millis) -> Result<Option<Millis>> {
        Ok(self.lock().try_acquire(now).err())
    }

    /// Takes a slot in turn (the core's line: first come first served, `usvideo_core::ratelimit`):
    /// pass `ticket` `None` the first time, then the one returned, until `wait_until` is `None`
    /// (the slot is taken). A caller that gives up first must [`RateLimiter::leave`].
    ///
    /// # Errors
    /// Never in practice (declared fallible so that Swift never `try!`s into a crash).
    pub fn acquire_in_line(&self, ticket: Option<u64>, now: Millis) -> Result<Turn> {
        let mut ticket = ticket;
        let wait_until = self.lock().acquire_in_line(&mut ticket, now).err();
        Ok(Turn { ticket, wait_until })
    }

    /// Gives up a place in line (an abort, a deadline).
    pub fn leave(&self, ticket: u64) {
        self.lock().leave(ticket);
    }

    /// When the next slot frees, without taking one (`now` if one is free).
    pub fn next_free(&self, now: Millis) -> Millis {
        self.lock().next_free(now)
    }

    /// Learns from a response: a 429 with `Retry-After` pauses every request of this limiter.
    ///
    /// # Errors
    /// Never in practice (declared fallible so that Swift never `try!`s into a crash).
    pub fn observe(&self, response: HttpResponse, now: Millis) -> Result<()> {
        self.lock().observe(&response, now);
        Ok(())
    }

    /// The server asked to wait `retry_after_ms`: nothing is granted before `now + retry_after_ms`.
    pub fn on_retry_after(&self, now: Millis, retry_after_ms: u64) {
        self.lock().on_retry_after(now, retry_after_ms);
    }
}
