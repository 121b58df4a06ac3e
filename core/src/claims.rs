//! The jobs a client's creates have taken, shared by its create machines, so that identical
//! requests made at once, whose answers were lost, each reconcile to a job of their own.
//!
//! Reconciliation ([`crate::create`]) adopts a listed job that matches the request. Two creates of
//! the same request cannot tell their jobs apart by what the list shows: without this, every
//! create whose answer was lost would adopt the same job (another create's), and the jobs they
//! made would be charged and never returned.
//!
//! # Rules
//! 1. Every job a create of the client gets (its answer, or reconciliation) is taken: no other
//!    create sharing these claims adopts it.
//! 2. A create whose outcome is unknown reconciles only once no other create of the same request
//!    is in flight on the client (sent, with no answer yet): that answer may name the very job the
//!    list would show. It waits for them at most [`MAX_WAIT_MS`], in case a driver stopped
//!    driving one without dropping it.
//! 3. The newest [`KEPT`] claims are kept: reconciliation reads only the newest page of jobs.
//!
//! Within one client only: identical creates of separate clients or processes whose answers were
//! all lost can still adopt one job (the list cannot tell them apart). One value is shared by all
//! the machines of one client (clones share it); no clock or thread is involved, and the lock is
//! never held across a call out.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Job ids kept (rule 3).
pub const KEPT: usize = 1024;

/// The longest a create waits for other creates of its request before it reconciles (rule 2), in
/// ms: longer than a request's default timeout, so an answer that can come has come.
pub const MAX_WAIT_MS: u64 = 60_000;

/// How often a waiting create looks again, in ms.
pub(crate) const RECHECK_MS: u64 = 50;

/// The claims of one client (rules at the top). Cheap to clone: clones share one state.
#[derive(Clone, Debug, Default)]
pub struct Claims(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    /// Oldest first (a `Vec`: a `VecDeque` of its own cost 143 bytes more of the wasm module).
    taken: Vec<String>,
    /// Each in-flight create's ticket and request body (the same request, the same body).
    in_flight: Vec<(u64, Vec<u8>)>,
    next_ticket: u64,
}

impl Claims {
    /// Empty claims, for a new client.
    #[must_use]
    pub fn new() -> Self {
        Claims::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while the lock was held leaves plain data: still usable.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A create with body `request` was sent: its ticket, to hand back with [`Claims::answered`].
    pub(crate) fn sent(&self, request: &[u8]) -> u64 {
        let mut s = self.state();
        s.next_ticket = s.next_ticket.wrapping_add(1);
        let ticket = s.next_ticket;
        s.in_flight.push((ticket, request.to_vec()));
        ticket
    }

    /// The create with `ticket` got its outcome (or was dropped).
    pub(crate) fn answered(&self, ticket: u64) {
        self.state().in_flight.retain(|(t, _)| *t != ticket);
    }

    /// Whether a create with body `request` other than `ticket` is in flight (rule 2).
    pub(crate) fn others_in_flight(&self, request: &[u8], ticket: Option<u64>) -> bool {
        self.state().in_flight.iter().any(|(t, r)| Some(*t) != ticket && r == request)
    }

    /// Whether a create of this client already has job `id`.
    #[must_use]
    pub fn is_taken(&self, id: &str) -> bool {
        self.state().taken.iter().any(|t| t == id)
    }

    /// Job `id` is a create's (rule 1).
    pub fn take(&self, id: &str) {
        let mut s = self.state();
        if s.taken.iter().any(|t| t == id) {
            return;
        }
        if s.taken.len() >= KEPT {
            s.taken.remove(0);
        }
        s.taken.push(id.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_claims_and_tickets_leave() {
        let a = Claims::new();
        let b = a.clone();
        let req = br#"{"prompt":"lake"}"#;
        let t = a.sent(req);
        assert!(b.others_in_flight(req, None));
        assert!(!b.others_in_flight(req, Some(t)), "its own is not another");
        assert!(!b.others_in_flight(br#"{"prompt":"sea"}"#, None), "another request");
        b.answered(t);
        assert!(!a.others_in_flight(req, None));
        a.take("job_1");
        assert!(b.is_taken("job_1"));
        for i in 0..KEPT {
            b.take(&format!("job_x{i}"));
        }
        assert!(!a.is_taken("job_1"), "the oldest claim is let go");
    }
}
