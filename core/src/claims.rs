//! The jobs the creates of a key have taken, shared by the create machines of its clients, so
//! that identical requests made at once, whose answers were lost, each reconcile to a job of
//! their own.
//!
//! Reconciliation ([`crate::create`]) adopts a listed job that matches the request. Two creates of
//! the same request cannot tell their jobs apart by what the list shows: without this, every
//! create whose answer was lost would adopt the same job (another create's), and the jobs they
//! made would be charged and never returned.
//!
//! # Rules
//! 1. Every job a create on the key gets (its answer, or reconciliation) is taken: no other
//!    create sharing these claims adopts it.
//! 2. A create whose outcome is unknown reconciles only once no other create of a request the
//!    list could confuse with its own (the same prompt, mode, resolution, duration and URLs; a
//!    seed the service may not echo is left out) is in flight on the key (sent, with no answer
//!    yet): that answer may name the very job the list would show. Against a service whose jobs
//!    show no prompt, a create that lists jobs of its shape waits for those of the same mode,
//!    resolution and duration whatever their prompt (`create` rule 3), and from then on compares
//!    by that shape in every wait of its own (the list cannot tell its jobs apart otherwise). A list answered while such a
//!    create went out is read again later. It waits for them at most [`MAX_WAIT_MS`], in case a
//!    driver stopped driving one without dropping it; past its deadline it does not wait, and
//!    does not adopt while they are out (see [`crate::create`], rule 6).
//! 3. A job is taken atomically ([`Claims::try_take`]): two creates never both adopt it. A create
//!    whose own answer names a job another adopted says so (a `Warning` event).
//! 4. The newest [`KEPT`] claims are kept: reconciliation reads only the newest page of jobs.
//! 5. A job adopted for a run that can still give it up (a create-and-wait, [`crate::job`]) is
//!    marked with that run's holder id. When another create's own answer names it (its
//!    idempotency key made it), the job is taken back ([`Claims::own`]): the run is told
//!    ([`Claims::given_up`]) and looks for its own job again. Once the run has ended, or for an
//!    adoption no run can give up (a batch item's: the batch does this itself), the job stays
//!    with both, and the create's warning says so.
//! 6. A create is *open* from its first send until it ends ([`Claims::alike_open`]): until then
//!    it may yet name, by its own answer, a job another run adopted, so such a run holds its
//!    job's end while an alike create is open. A run whose adopted job is taken back is open
//!    again from that moment, not from its next poll: its create will look again, and may be
//!    sent again under its key, while a run that adopted its job could otherwise end first.
//! 7. A run that would delete its job on giving up *watches* it from when it knows it until it
//!    gives up or ends ([`Claims::watch`]), and its clean-up does not delete a job another run of
//!    the key watches (`job` rule 9): two calls given the same idempotency key get one job (the
//!    service's replay), and a wait for a job's id told to delete it on giving up watches it as
//!    well; one of them giving up must not delete the job under the other (helper-40: an aborted
//!    call deleted the job its twin was waiting for). A run stops watching when its clean-up
//!    begins, so the last one to give up deletes the job; and a job taken back from a run that
//!    adopted it (rule 5) is watched by that run no more, at once (helper-45).
//!
//! Within one process: the clients of a key share its claims ([`Claims::shared`]); identical
//! creates of separate processes whose answers were all lost can still adopt one job (the list
//! cannot tell them apart). A batch keeps claims of its own. One value is shared by all the
//! machines of the clients of a key (clones share it); no clock or thread is involved, and the
//! lock is never held across a call out.

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

/// The claims of a key's clients (rules at the top). Cheap to clone: clones share one state.
#[derive(Clone, Debug, Default)]
pub struct Claims(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    /// Each taken job, oldest first, with the holder of a run that adopted it and may still give
    /// it up (rule 5). A `Vec`: a `VecDeque` of its own cost 143 bytes more of the wasm module.
    taken: Vec<(String, Option<u64>)>,
    /// Each in-flight create's ticket and request.
    in_flight: Vec<(u64, CreateVideoRequest)>,
    /// Each open create's holder and request (rule 6).
    open: Vec<(u64, CreateVideoRequest)>,
    /// Holders whose adopted job was taken back by its owner's answer, not yet told (rule 5).
    taken_back: Vec<u64>,
    /// Each live run's holder id and the job it watches (rule 7).
    watched: Vec<(u64, String)>,
    /// The jobs a create's own answer named, newest last (rule 5: a later answer naming one is
    /// the service's replay of a create under the same idempotency key).
    answered: Vec<String>,
    /// Tickets and holder ids alike.
    next_ticket: u64,
}

/// What [`Claims::own`] found of a job a create's own answer names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owned {
    /// Nobody had it: now taken.
    Taken,
    /// A run that adopted it gives it up (rule 5).
    TakenBack,
    /// Another create took it from the job list and keeps it: both hold it.
    AlsoHeld,
    /// An earlier create's own answer named it too: the service's replay of a create given the
    /// same idempotency key (a double submit, a caller's retry). Both hold it, as they should.
    Replayed,
}

/// The process's claims, by base URL and key digest (see [`Claims::shared`]).
static SHARED: crate::per_key::Table<(String, u64), Claims> = crate::per_key::Table::new();

impl Claims {
    /// Empty claims, for a client of its own (tests, a batch).
    #[must_use]
    pub fn new() -> Self {
        Claims::default()
    }

    /// The claims of a key: one per base URL and key in the process, shared by every client made
    /// with them, so that identical creates of two clients (a server that makes a client per
    /// request) whose answers were lost each reconcile to a job of their own. The newest
    /// [`crate::per_key::KEPT`] keys' are kept past their clients ([`crate::per_key`]'s rules).
    #[must_use]
    pub fn shared(base_url: &str, key: Option<&str>) -> Self {
        SHARED.get((base_url.to_owned(), crate::per_key::digest(key)), Claims::new)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while the lock was held leaves plain data: still usable.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new ticket or holder id.
    fn next(s: &mut State) -> u64 {
        s.next_ticket = s.next_ticket.wrapping_add(1);
        s.next_ticket
    }

    /// A holder id, for a create whose adoption a run may give up (rule 5).
    pub(crate) fn holder(&self) -> u64 {
        Claims::next(&mut self.state())
    }

    /// A create of `request` was sent: its ticket, to hand back with [`Claims::answered`].
    pub(crate) fn sent(&self, request: &CreateVideoRequest) -> u64 {
        let mut s = self.state();
        let ticket = Claims::next(&mut s);
        s.in_flight.push((ticket, request.clone()));
        ticket
    }

    /// The create of `holder` is open (rule 6): sent at least once, not ended.
    pub(crate) fn open(&self, holder: u64, request: &CreateVideoRequest) {
        let mut s = self.state();
        if !s.open.iter().any(|(h, _)| *h == holder) {
            s.open.push((holder, request.clone()));
        }
    }

    /// The create of `holder` ended (or was dropped).
    pub(crate) fn close(&self, holder: u64) {
        self.state().open.retain(|(h, _)| *h != holder);
    }

    /// Whether a create other than `holder`'s that the list could confuse with `request` is open
    /// (rule 6).
    pub(crate) fn alike_open(&self, request: &CreateVideoRequest, holder: u64) -> bool {
        self.state().open.iter().any(|(h, r)| *h != holder && alike(r, request))
    }

    /// The create with `ticket` got its outcome (or was dropped).
    pub(crate) fn answered(&self, ticket: u64) {
        self.state().in_flight.retain(|(t, _)| *t != ticket);
    }

    /// Whether a create other than `ticket` whose job the list could take for one of `request`
    /// is in flight (rule 2); `by_shape`: against a service whose jobs show no prompt, where the
    /// list cannot tell requests of one shape apart.
    pub(crate) fn others_in_flight(&self, request: &CreateVideoRequest, ticket: Option<u64>, by_shape: bool) -> bool {
        self.state().in_flight.iter().any(|(t, r)| Some(*t) != ticket && if by_shape { alike_but_prompt(r, request) } else { alike(r, request) })
    }

    /// Takes job `id` for a create (rule 1): `false` when another create on the key already
    /// has it (checked and taken under one lock: rule 3).
    pub fn try_take(&self, id: &str) -> bool {
        self.adopt(id, None)
    }

    /// Whether job `id` is taken by a create of the client (its own answer named it, or a list
    /// adopted it): the list's job of another of the client's creates, not a stranger's.
    pub(crate) fn is_taken(&self, id: &str) -> bool {
        self.state().taken.iter().any(|(t, _)| t == id)
    }

    /// As [`Claims::try_take`], for a job found in the list: with `holder`, the adopting run may
    /// still give it up (rule 5).
    pub(crate) fn adopt(&self, id: &str, holder: Option<u64>) -> bool {
        let mut s = self.state();
        if s.taken.iter().any(|(t, _)| t == id) {
            return false;
        }
        kept_push(&mut s.taken, (id.to_owned(), holder));
        true
    }

    /// A create of `request`'s own answer names job `id` (its idempotency key made it): taken,
    /// or taken back from a run that adopted it (rule 5), or held by another create for good.
    /// A run it is taken back from is open again at once (rule 6, under `request`, which the list
    /// could not tell from the run's own): it will look for its job again, and may yet name by
    /// its own answer a job another run adopted, which must not end before it is told.
    pub(crate) fn own(&self, id: &str, request: &CreateVideoRequest) -> Owned {
        let mut s = self.state();
        let replayed = s.answered.iter().any(|a| a == id);
        if !replayed {
            kept_push(&mut s.answered, id.to_owned());
        }
        match s.taken.iter_mut().find(|(t, _)| t == id).map(|(_, h)| h.take()) {
            None => {
                kept_push(&mut s.taken, (id.to_owned(), None));
                Owned::Taken
            }
            Some(Some(adopter)) => {
                kept_push(&mut s.taken_back, adopter);
                s.watched.retain(|(h, _)| *h != adopter); // not its job: it looks for its own (rule 7)
                if !s.open.iter().any(|(h, _)| *h == adopter) {
                    s.open.push((adopter, request.clone()));
                }
                Owned::TakenBack
            }
            Some(None) if replayed => Owned::Replayed,
            Some(None) => Owned::AlsoHeld,
        }
    }

    /// Whether the job `holder`'s run adopted was taken back by its owner (rule 5): told once.
    pub(crate) fn given_up(&self, holder: u64) -> bool {
        let mut s = self.state();
        let before = s.taken_back.len();
        s.taken_back.retain(|h| *h != holder);
        s.taken_back.len() != before
    }

    /// The run of `holder` watches job `id` (rule 7), and no other.
    pub(crate) fn watch(&self, holder: u64, id: &str) {
        let mut s = self.state();
        s.watched.retain(|(h, _)| *h != holder);
        s.watched.push((holder, id.to_owned()));
    }

    /// The run of `holder` watches no job: it ended, or gave its job up.
    pub(crate) fn unwatch(&self, holder: u64) {
        self.state().watched.retain(|(h, _)| *h != holder);
    }

    /// Whether a live run other than `holder`'s watches job `id` (rule 7).
    pub(crate) fn watched_by_another(&self, id: &str, holder: u64) -> bool {
        self.state().watched.iter().any(|(h, j)| *h != holder && j == id)
    }

    /// The run of `holder` ended: what it adopted is its for good, and nothing is owed it.
    pub(crate) fn release(&self, holder: u64) {
        let mut s = self.state();
        for (_, h) in &mut s.taken {
            if *h == Some(holder) {
                *h = None;
            }
        }
        s.taken_back.retain(|h| *h != holder);
        s.open.retain(|(h, _)| *h != holder);
    }
}

/// Pushes `v`, letting the oldest go past [`KEPT`] (rule 4).
fn kept_push<T>(list: &mut Vec<T>, v: T) {
    if list.len() >= KEPT {
        list.remove(0);
    }
    list.push(v);
}

/// Whether the job list could take a job of `a` for one of `b`: what the service shows of a job
/// ([`crate::create::matches_request`]) is the same, the seed excepted (not every service echoes
/// it).
pub(crate) fn alike(a: &CreateVideoRequest, b: &CreateVideoRequest) -> bool {
    a.prompt == b.prompt && alike_but_prompt(a, b) && a.image_url == b.image_url && a.reference_url == b.reference_url
}

/// Whether a job of `a` and one of `b` look the same in a list whose jobs show no prompt (and may
/// show no URLs either, as `create::same_shape` allows): their mode, resolution and duration.
fn alike_but_prompt(a: &CreateVideoRequest, b: &CreateVideoRequest) -> bool {
    a.mode == b.mode && a.effective_resolution() == b.effective_resolution() && a.effective_duration() == b.effective_duration()
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
        assert!(b.others_in_flight(&req, None, false));
        assert!(!b.others_in_flight(&req, Some(t), false), "its own is not another");
        assert!(!b.others_in_flight(&CreateVideoRequest::text("sea"), None, false), "another request");
        assert!(b.others_in_flight(&CreateVideoRequest::text("sea"), None, true), "the same shape, to a list whose jobs show no prompt");
        let mut seeded = CreateVideoRequest::text("lake");
        seeded.seed = Some(7);
        seeded.resolution = Some(crate::model::Resolution::P720); // the default, given
        assert!(b.others_in_flight(&seeded, None, false), "a seed the list may not show, a default given: alike");
        b.answered(t);
        assert!(!a.others_in_flight(&req, None, false));
        assert!(a.try_take("job_1"));
        assert!(!b.try_take("job_1"), "taken once, seen by every clone");
        for i in 0..KEPT {
            assert!(b.try_take(&format!("job_x{i}")));
        }
        assert!(a.try_take("job_1"), "the oldest claim is let go");
    }

    #[test]
    fn the_clients_of_a_key_share_its_claims() {
        let a = Claims::shared("http://h/v1", Some("sd_claims_1"));
        let b = Claims::shared("http://h/v1", Some("sd_claims_1"));
        let (other_key, other_url) = (Claims::shared("http://h/v1", Some("sd_claims_2")), Claims::shared("http://g/v1", Some("sd_claims_1")));
        assert!(a.try_take("job_1"));
        assert!(!b.try_take("job_1"), "another client of the key sees it taken");
        assert!(other_key.try_take("job_1") && other_url.try_take("job_1"), "another key's, another service's");
    }

    #[test]
    fn a_run_gives_up_an_adopted_job_its_owner_names_until_it_ends() {
        let c = Claims::new();
        let (run, other) = (c.holder(), c.holder());
        assert!(c.adopt("job_1", Some(run)));
        assert!(!c.given_up(run));
        let req = CreateVideoRequest::text("lake");
        assert!(!c.alike_open(&req, other), "the run's create ended when it adopted");
        c.watch(run, "job_1");
        assert_eq!(c.own("job_1", &req), Owned::TakenBack);
        assert!(!c.watched_by_another("job_1", other), "a job taken back from its adopter is not watched by it (helper-45)");
        assert!(c.alike_open(&req, other), "taken back: open again at once, before its run is told");
        c.close(run);
        assert!(c.given_up(run));
        assert!(!c.given_up(run), "told once");
        assert_eq!(c.own("job_1", &req), Owned::Replayed, "the owner's now: another answer naming it is the service's replay");
        assert_eq!(c.own("job_2", &req), Owned::Taken);
        assert_eq!(c.own("job_2", &req), Owned::Replayed, "one idempotency key given to two creates (helper-43: warned as an adoption)");
        assert!(c.adopt("job_3", Some(run)));
        c.release(run);
        assert_eq!(c.own("job_3", &req), Owned::AlsoHeld, "a run that ended keeps its job");
        assert!(!c.given_up(run));
        let req = CreateVideoRequest::text("lake");
        c.open(other, &req);
        assert!(c.alike_open(&req, run));
        assert!(!c.alike_open(&req, other), "its own is not another");
        assert!(!c.alike_open(&CreateVideoRequest::text("sea"), run));
        c.close(other);
        assert!(!c.alike_open(&req, run));
    }
}
