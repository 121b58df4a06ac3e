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
//! 2. A create whose outcome is unknown reconciles only once no other create of a request the
//!    list could confuse with its own (the same prompt, mode, resolution, duration and URLs; a
//!    seed the service may not echo is left out) is in flight on the client (sent, with no answer
//!    yet): that answer may name the very job the list would show. A list answered while such a
//!    create went out is read again later. It waits for them at most [`MAX_WAIT_MS`], in case a
//!    driver stopped driving one without dropping it; past its deadline it does not wait, and
//!    does not adopt while they are out (see [`crate::create`], rule 6).
//! 3. A job is taken atomically ([`Claims::try_take`]): two creates never both adopt it. A create
//!    whose own answer names a job another adopted says so (a `Warning` event).
//! 4. The newest [`KEPT`] claims are kept: reconciliation reads only the newest page of jobs.
//!
//! Within one client only: identical creates of separate clients or processes whose answers were
//! all lost can still adopt one job (the list cannot tell them apart). One value is shared by all
//! the machines of one client (clones share it); no clock or thread is involved, and the lock is
//! never held across a call out.

use crate::model::CreateVideoRequest;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Job ids kept (rule 4).
pub const KEPT: usize = 1024;

/// The longest a create waits for other creates of its request before it reconciles (rule 2), in
/// ms: a request's default timeout (60 s) plus a full window of the client's rate limit (60 s),
/// which a create may wait out for a slot before it is sent, and some.
pub const MAX_WAIT_MS: u64 = 130_000;

/// How often a waiting create looks again, in ms.
pub(crate) const RECHECK_MS: u64 = 50;

/// The claims of one client (rules at the top). Cheap to clone: clones share one state.
#[derive(Clone, Debug, Default)]
pub struct Claims(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    /// Oldest first (a `Vec`: a `VecDeque` of its own cost 143 bytes more of the wasm module).
    taken: Vec<String>,
    /// Each in-flight create's ticket and request.
    in_flight: Vec<(u64, CreateVideoRequest)>,
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

    /// A create of `request` was sent: its ticket, to hand back with [`Claims::answered`].
    pub(crate) fn sent(&self, request: &CreateVideoRequest) -> u64 {
        let mut s = self.state();
        s.next_ticket = s.next_ticket.wrapping_add(1);
        let ticket = s.next_ticket;
        s.in_flight.push((ticket, request.clone()));
        ticket
    }

    /// The create with `ticket` got its outcome (or was dropped).
    pub(crate) fn answered(&self, ticket: u64) {
        self.state().in_flight.retain(|(t, _)| *t != ticket);
    }

    /// Whether a create other than `ticket` whose job the list could take for one of `request`
    /// is in flight (rule 2).
    pub(crate) fn others_in_flight(&self, request: &CreateVideoRequest, ticket: Option<u64>) -> bool {
        self.state().in_flight.iter().any(|(t, r)| Some(*t) != ticket && alike(r, request))
    }

    /// Takes job `id` for a create (rule 1): `false` when another create of the client already
    /// has it (checked and taken under one lock: rule 3).
    pub fn try_take(&self, id: &str) -> bool {
        let mut s = self.state();
        if s.taken.iter().any(|t| t == id) {
            return false;
        }
        if s.taken.len() >= KEPT {
            s.taken.remove(0);
        }
        s.taken.push(id.to_owned());
        true
    }
}

/// Whether the job list could take a job of `a` for one of `b`: what the service shows of a job
/// ([`crate::create::matches_request`]) is the same, the seed excepted (not every service echoes
/// it).
pub(crate) fn alike(a: &CreateVideoRequest, b: &CreateVideoRequest) -> bool {
    a.prompt == b.prompt
        && a.mode == b.mode
        && a.effective_resolution() == b.effective_resolution()
        && a.effective_duration() == b.effective_duration()
        && a.image_url == b.image_url
        && a.reference_url == b.reference_url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_claims_and_tickets_leave() {
        let a = Claims::new();
        let b = a.clone();
        let req = CreateVideoRequest::text("lake");
        let t = a.sent(&req);
        assert!(b.others_in_flight(&req, None));
        assert!(!b.others_in_flight(&req, Some(t)), "its own is not another");
        assert!(!b.others_in_flight(&CreateVideoRequest::text("sea"), None), "another request");
        let mut seeded = CreateVideoRequest::text("lake");
        seeded.seed = Some(7);
        seeded.resolution = Some(crate::model::Resolution::P720); // the default, given
        assert!(b.others_in_flight(&seeded, None), "a seed the list may not show, a default given: alike");
        b.answered(t);
        assert!(!a.others_in_flight(&req, None));
        assert!(a.try_take("job_1"));
        assert!(!b.try_take("job_1"), "taken once, seen by every clone");
        for i in 0..KEPT {
            assert!(b.try_take(&format!("job_x{i}")));
        }
        assert!(a.try_take("job_1"), "the oldest claim is let go");
    }
}
