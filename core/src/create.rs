//! Creating a job so that it is made at most once, even when the network lies.
//!
//! # Rules
//! 1. One `Idempotency-Key` per logical create, minted by the caller, reused on every attempt.
//! 2. A create is sent again only when the previous attempt did not make a job as far as the client
//!    can tell: the connection was never made, the server answered 429, or reconciliation found
//!    nothing. Sent again, it carries the same key, which the service honours; against a server
//!    that ignores the key, a create still on its way when the list was read (slower than the
//!    request timeout) can make a second job.
//! 3. When the outcome is unknown (timeout, reset, 5xx, a 2xx whose body was lost), the machine
//!    first lists recent jobs (`GET /v1/videos?limit=20`) and adopts the newest one that matches
//!    the request (its prompt, which the job must echo, and mode, resolution, duration, seed and
//!    URLs, each compared when the service returns it), was created after the create was first
//!    sent (when the service's `created_at` and `Date` tell), is not in the caller's `exclude`
//!    list, and no other create of the client took ([`crate::claims`]: with claims shared, it
//!    first waits for the client's other creates of the same request to be answered). A job of
//!    the request's shape that shows no prompt (the reference's job shape has none) proves
//!    nothing: it may be another process's (helper-54: one was adopted, then deleted by a cancel,
//!    the create's own left charged). With such a job listed, the create is neither adopted nor
//!    sent again: it ends `outcome_unknown` naming the jobs and carrying its key (creating again
//!    under it gets the job it made from a service that honours keys); but first, while another
//!    create of the client of that shape (whatever its prompt) is out, it waits for its answer
//!    and reads the list again, once: that answer takes its job (helper-56: a batch item ended
//!    `outcome_unknown` over a sibling's job). From then on its waits for the client's other
//!    creates compare by shape (`claims` rule 2). With none, rule 2.
//! 4. If the list itself cannot be had, the create fails with its original error; it is never
//!    replayed on a guess.
//! 5. A create the driver aborted after sending it (it stopped waiting for the answer) is an
//!    unknown outcome too: it is reconciled, and never sent again (the caller is stopping).
//! 6. The deadline never hides a job: a create whose outcome is unknown when it passes (it timed
//!    out at the deadline) is still reconciled, with one list sent past the deadline (given
//!    [`LOOKUP_TIMEOUT_MS`]), so a job it made and charged is returned (a wait then times out
//!    naming it, and deletes it if told to). A list sent before the deadline that the deadline
//!    cut short, or that failed with no time left to read it again, is no such look-up: the one
//!    past the deadline still goes out, at the deadline (or once a `429`'s pause has passed, ten
//!    seconds at most), also when that list was the last its retry budget allowed. Not while another create of the client
//!    that the list could confuse with it is out ([`crate::claims`]): it could adopt that one's job, so it ends
//!    with its unknown outcome instead.
//!    When the deadline passes with no job made (nothing was sent, or a `Connect` failure), the
//!    error is the deadline's and says nothing was created or charged. But once the list has shown
//!    none for a create that got no answer (a timeout, a reset, an abort, or a gateway's 504,
//!    which got none from the service: it may still be on its way, or being made, and make a job
//!    after the list was read), no error the create ends with says so: at the
//!    deadline, on a cancel or with its retries spent, it is coded `outcome_unknown` and says
//!    that a job may yet be made (`listed_none`).
//!
//! # Theory of operation
//! `Ready` → `InFlightCreate` → done | `Backoff(create)` | `Ready` for a list → `InFlightList` →
//! done (adopted) | `Backoff(create)` (nothing found) | `Backoff(list)` (list failed, retryable).

use crate::claims::{self, Claims};
use crate::date;
use crate::error::{Error, ErrorKind};
use crate::http::{HttpRequest, HttpResponse, TransportKind};
use crate::model::{CreateVideoRequest, Job, JobPage, ListParams};
use crate::output::{Event, Output, RequestId};
use crate::request::{ClientConfig, Endpoint, IdempotencyKey};
use crate::response;
use crate::retry::{self, Decision, RetryPolicy, Rng};
use crate::secret::ApiKey;
use crate::time::Millis;
use std::collections::VecDeque;

/// Why a create that may have made a job ended at its deadline (rule 6).
const DEADLINE_PASSED: &str = "the deadline passed before the create's outcome was known";

/// The error of a create whose outcome is unknown and whose job list, read after, shows no job it
/// made (rule 6). That is no proof that none was made: a create that got no answer may still be
/// on its way (a proxy that queues requests delivers it late; helper-27 saw one made and charged
/// after such a list). So it is coded `outcome_unknown`, which no caller takes for one to send
/// again; `why` says how the create ended, `err` is the attempt in doubt.
fn none_listed(kind: ErrorKind, why: &str, err: &Error) -> Error {
    let mut e = Error::new(
        kind,
        format!("{why} ({}); the job list read after it shows no job it made, so none was made unless the create is still on its way to the service (that job would be charged: look for it in the job list before creating again)", err.message),
    );
    crate::error::OUTCOME_UNKNOWN.clone_into(&mut e.code);
    e.status = err.status;
    e.request_id.clone_from(&err.request_id);
    // A connection's or a timeout's error says how its attempt ended, as any other does (helper-47:
    // npm's `APIConnectionError.transport` was missing on exactly these); a deadline's or a
    // cancel's is not that attempt's.
    if kind == err.kind && matches!(kind, ErrorKind::Connection | ErrorKind::Timeout) {
        e.transport = err.transport;
    }
    e
}

/// Jobs listed when reconciling.
const RECONCILE_PAGE: u32 = 20;
/// The time of the one look-up past the deadline (rule 6), in ms: bounded, since the deadline
/// has passed, and the driver's own request timeout may be none.
pub const LOOKUP_TIMEOUT_MS: u64 = 10_000;
/// Slack allowed between the client's and the service's view of when the create was sent.
const CLOCK_SLACK_MS: i64 = 120_000;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Step {
    Create,
    List,
}

#[derive(Debug)]
enum State {
    Ready(Step),
    InFlight(Step, RequestId),
    Backoff(Step, Millis),
    Done,
}

/// The create machine. Drive it like [`crate::call::Call`]; the result is the [`Job`].
#[derive(Debug)]
pub struct Create {
    create_request: HttpRequest,
    /// Named in an `outcome_unknown` error: the caller's safe way to send the create again.
    idempotency_key: IdempotencyKey,
    list_request: HttpRequest,
    wanted: CreateVideoRequest,
    exclude: Vec<String>,
    /// The client's claims, when its creates share them; `ticket` is this create's while it is in
    /// flight, and `waiting_since` when it began to wait for the others (rule 3).
    claims: Option<Claims>,
    ticket: Option<u64>,
    /// This create's id among the client's open creates (rules 5 and 6 of `claims`), whether it
    /// is marked open, and whether a job it adopts may be taken back (a create-and-wait's).
    holder: u64,
    opened: bool,
    revocable: bool,
    waiting_since: Option<Millis>,
    /// The one look-up past the deadline was sent (rule 6).
    looked_up_late: bool,
    /// The job was found by reconciliation, not named by the create's own answer.
    adopted: bool,
    /// The answer may be the service's replay of an earlier attempt's (a create sent again under
    /// its key, or answered `Idempotent-Replayed: true`): its status is as of that attempt.
    replayed: bool,
    policy: RetryPolicy,
    rng: Rng,
    deadline: Option<Millis>,
    /// The kind of the error when the deadline passes before a job was made.
    deadline_kind: ErrorKind,
    creates_sent: u32,
    list_attempts: u32,
    first_sent_at: Option<Millis>,
    unknown_outcome: Option<Error>,
    /// The unknown outcome of an earlier attempt that a list found no job for: a create still on
    /// its way could yet make one, so the create never ends saying that nothing was made.
    listed_none: Option<Error>,
    cancel_requested: bool,
    check_age: bool,
    /// A list showed jobs of this request's shape without a prompt: the client's other creates of
    /// that shape, whatever their prompt, are waited for as alike ones are (rule 3).
    prompt_less: bool,
    /// Why this create may not be sent again (a batch resumed from a snapshot older than the
    /// service keeps its keys): a list that shows no job it made ends it `snapshot_too_old`, and
    /// so does any resend it would make.
    no_resend: Option<String>,
    next_id: u64,
    state: State,
    events: VecDeque<Event>,
    result: Option<Result<Job, Error>>,
}

impl Create {
    /// A create of `req` (validated here) with `idempotency_key`.
    ///
    /// # Errors
    /// A validation error listing every violated rule, or on `api_key` for a keyless create on the
    /// service ([`ClientConfig::check_key`]; `key` is `None` behind a proxy that adds it).
    #[allow(clippy::too_many_arguments)]
    pub fn new(config: &ClientConfig, key: Option<&ApiKey>, req: CreateVideoRequest, idempotency_key: &IdempotencyKey, policy: RetryPolicy, seed: u64, deadline: Option<Millis>, first_id: u64) -> Result<Self, Error> {
        let create_request = config.create_video(key, &req, idempotency_key)?;
        let list_request = config.list_videos(key, &ListParams { limit: Some(RECONCILE_PAGE), offset: None })?;
        Ok(Create {
            create_request,
            idempotency_key: idempotency_key.clone(),
            list_request,
            wanted: req,
            exclude: Vec::new(),
            claims: None,
            ticket: None,
            holder: 0,
            opened: false,
            revocable: false,
            waiting_since: None,
            looked_up_late: false,
            adopted: false,
            replayed: false,
            policy,
            rng: Rng::new(seed),
            deadline,
            deadline_kind: ErrorKind::Timeout,
            creates_sent: 0,
            list_attempts: 0,
            first_sent_at: None,
            unknown_outcome: None,
            listed_none: None,
            cancel_requested: false,
            check_age: true,
            no_resend: None,
            prompt_less: false,
            next_id: first_id,
            state: State::Ready(Step::Create),
            events: VecDeque::new(),
            result: None,
        })
    }

    /// Ids that reconciliation must never adopt (jobs the caller already owns, e.g. a batch's).
    #[must_use]
    pub fn excluding(mut self, ids: Vec<String>) -> Self {
        self.exclude = ids;
        self
    }

    /// Shares `claims` with the client's other creates (see [`crate::claims`]): a job one of them
    /// got is never adopted, and reconciliation waits for their answers first.
    #[must_use]
    pub fn sharing(mut self, claims: &Claims) -> Self {
        self.share(claims);
        self
    }

    /// As [`Create::sharing`], in place.
    pub fn share(&mut self, claims: &Claims) {
        self.holder = claims.holder();
        self.claims = Some(claims.clone());
    }

    /// As [`Create::share`], for the create of a run that gives up a job it adopted when another
    /// create's answer names it (rule 5 of `claims`; see [`Create::taken_back`]).
    pub(crate) fn share_for_run(&mut self, claims: &Claims) {
        self.share(claims);
        self.revocable = true;
    }

    /// The holder id its claims know it by (its run's too: `job` rule 9).
    pub(crate) fn holder(&self) -> u64 {
        self.holder
    }

    /// Whether the job this create adopted was taken back by its owner's answer (rule 5 of
    /// `claims`): told once. Then [`Create::look_again`].
    pub(crate) fn taken_back(&self) -> bool {
        self.adopted && self.revocable && self.claims.as_ref().is_some_and(|c| c.given_up(self.holder))
    }

    /// Whether this create adopted its job and an alike create of the client is open (rule 6 of
    /// `claims`): that one may yet name the job as its own.
    pub(crate) fn alike_open(&self) -> bool {
        self.adopted && self.claims.as_ref().is_some_and(|c| c.alike_open(&self.wanted, self.holder))
    }

    /// The job it adopted was taken back: its outcome is unknown again, so it reconciles first
    /// (never adopting a job another create holds) and sends itself again, under its key, only
    /// if the list shows none. Its retry budget and age check go on from before.
    pub(crate) fn look_again(&mut self) {
        self.adopted = false;
        self.result = None;
        self.waiting_since = None;
        self.looked_up_late = false;
        self.list_attempts = 0;
        self.unknown_outcome = Some(Error::new(ErrorKind::Connection, "the job the list showed was another create's"));
        self.state = State::Ready(Step::List);
    }

    /// The deadline is a wait's (a create-and-wait): passing it before a job was made is that
    /// wait's timeout, not a request's.
    #[must_use]
    pub fn deadline_of_a_wait(mut self) -> Self {
        self.deadline_kind = ErrorKind::WaitTimeout;
        self
    }

    /// Starts by reconciling instead of sending: for a create that may have been sent by an earlier
    /// process (a resumed batch). The age check is off, since that process may have stopped long ago.
    #[must_use]
    pub fn reconcile_first(mut self) -> Self {
        // As an unanswered attempt's (`Other`): the list reads only the newest jobs, and shows no
        // prompt on the reference's, so one that finds none does not prove that none was made
        // (helper-55: a resumed item cancelled then said "before a job was made").
        let mut unknown = Error::new(ErrorKind::Connection, "resumed: the create's outcome is unknown");
        unknown.transport = Some(TransportKind::Other);
        self.unknown_outcome = Some(unknown);
        self.creates_sent = 1;
        self.check_age = false;
        self.state = State::Ready(Step::List);
        self
    }

    /// As [`Create::reconcile_first`], for a create whose idempotency key the service may have
    /// forgotten (`why`: a batch resumed more than a day after its snapshot): it adopts the job
    /// the list shows it made, but is never sent again, since under a forgotten key a resend
    /// would make and charge a second job. With no job found it ends `snapshot_too_old`, saying `why`.
    #[must_use]
    pub fn reconcile_only(mut self, why: String) -> Self {
        self.no_resend = Some(why);
        self.reconcile_first()
    }

    /// From now on, as [`Create::reconcile_only`]: a list that shows no job it made ends it, `why`
    /// (a resumed batch whose snapshot turned too old while this create was under way).
    pub(crate) fn refuse_resend(&mut self, why: &str) {
        self.no_resend.get_or_insert_with(|| why.to_owned());
    }

    /// When its first attempt was sent, if one was: the job (its idempotency key's) was made no
    /// sooner, so a wait's lesson of the service's speed counts from there (`crate::pace`).
    pub(crate) fn first_sent_at(&self) -> Option<Millis> {
        self.first_sent_at
    }

    /// The next request id this machine would use.
    #[must_use]
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// What to do next.
    #[must_use]
    pub fn poll(&mut self, now: Millis) -> Output {
        if let Some(e) = self.events.pop_front() {
            return Output::Event(e);
        }
        if !self.opened && self.creates_sent > 0 && !matches!(self.state, State::Done) {
            // Sent before (a create reconciling first): open among the client's (rule 6 of `claims`).
            self.open();
        }
        let step = match self.state {
            State::Done => return Output::Done,
            State::InFlight(..) => return Output::Pending,
            State::Backoff(_, until) if now < until => return Output::WaitUntil(until),
            State::Ready(step) | State::Backoff(step, _) => step,
        };
        if self.cancel_requested && step == Step::Create {
            self.finish(Err(self.cancelled()));
            return Output::Done;
        }
        // Never sent again under a key that may be forgotten: whatever decided on the resend (a
        // list that found none, a 429, a connection refused), and whenever `no_resend` came.
        if let (Step::Create, true, Some(why)) = (step, self.creates_sent > 0, &self.no_resend) {
            let e = not_sent_again(why);
            self.finish(Err(e));
            return Output::Done;
        }
        let past = self.deadline.is_some_and(|d| now >= d);
        let others_out = step == Step::List && self.others_out();
        // Rule 6: a create that may have made a job is looked up once, even past the deadline.
        let look_up = past && step == Step::List && self.unknown_outcome.is_some() && !self.looked_up_late && !others_out;
        if past && !look_up {
            // With no create whose outcome is unknown, no job was made (a deadline of 0 sends
            // nothing at all).
            let err = self.still_unknown().unwrap_or_else(|| self.unless_in_doubt(self.deadline_kind, DEADLINE_PASSED, self.nothing_made(None)));
            self.finish(Err(err));
            return Output::Done;
        }
        if others_out && self.may_wait(now) {
            // Their answers may name the job the list would show: wait for them (bounded; not
            // past the deadline, which ended the create above).
            let recheck = now.plus(claims::RECHECK_MS);
            return Output::WaitUntil(self.deadline.map_or(recheck, |d| d.min(recheck)));
        }
        let id = RequestId(self.next_id);
        // Wrapping: a caller may start anywhere, and only one request is in flight at once.
        self.next_id = self.next_id.wrapping_add(1);
        self.state = State::InFlight(step, id);
        let (endpoint, request) = match step {
            Step::Create => {
                self.ticket = self.claims.as_ref().map(|c| c.sent(&self.wanted));
                self.open();
                self.creates_sent += 1;
                self.first_sent_at.get_or_insert(now);
                (Endpoint::CreateVideo, self.create_request.clone())
            }
            Step::List => {
                self.list_attempts += 1;
                self.looked_up_late |= look_up;
                (Endpoint::ListVideos, self.list_request.clone())
            }
        };
        let timeout_ms = if look_up { Some(LOOKUP_TIMEOUT_MS) } else { self.deadline.map(|d| d.since(now)) };
        Output::Send { id, endpoint, request, timeout_ms, send_by: None }
    }

    fn accept(&mut self, id: RequestId) -> Option<Step> {
        match self.state {
            State::InFlight(step, current) if current == id => {
                self.leave();
                Some(step)
            }
            _ => {
                self.events.push_back(Event::Warning { message: format!("ignored an outcome for request {} that is not in flight", id.0) });
                None
            }
        }
    }

    /// The response to request `id`.
    pub fn handle_response(&mut self, id: RequestId, resp: HttpResponse, now: Millis) {
        match self.accept(id) {
            Some(Step::Create) => match response::parse_job(&resp).map_err(|e| e.scrubbed(&self.create_request, true)) {
                Ok(job) => {
                    // Another create of the client may have adopted this job when this one's
                    // answer was late (the list could not tell them apart).
                    let message = match self.claims.as_ref().map(|c| c.own(&job.id, &self.wanted)) {
                        Some(claims::Owned::TakenBack) => Some("another create on this key had taken it from the job list, and gives it up"),
                        Some(claims::Owned::AlsoHeld) => Some("it is also held by another create on this key, which took it from the job list for its own"),
                        _ => None,
                    };
                    if let Some(m) = message {
                        self.events.push_back(Event::Warning { message: format!("job {} is this create's own (its answer names it): {m}", job.id) });
                    }
                    self.replayed = self.creates_sent > 1 || resp.header("idempotent-replayed").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
                    self.events.push_back(Event::Created { job: job.clone() });
                    self.finish(Ok(job));
                }
                Err(e) => self.create_failed(e, now),
            },
            Some(Step::List) => match response::parse_job_page(&resp, &ListParams { limit: Some(RECONCILE_PAGE), offset: None }).map_err(|e| e.scrubbed(&self.list_request, true)) {
                Ok(page) => self.reconcile(&page, &resp, now),
                Err(e) => self.list_failed(e, now),
            },
            None => {}
        }
    }

    /// Request `id` got no answer.
    pub fn handle_transport_error(&mut self, id: RequestId, kind: TransportKind, message: &str, now: Millis) {
        let err = Error::transport(kind, message);
        match self.accept(id) {
            Some(Step::Create) => self.create_failed(err, now),
            Some(Step::List) => self.list_failed(err, now),
            None => {}
        }
    }

    /// Time passed (spurious calls are harmless).
    pub fn handle_timeout(&mut self, _now: Millis) {}

    /// Stops at the next safe point: a request in flight is seen through (its job, if any, is
    /// still returned so the caller can delete it); nothing new is created.
    pub fn cancel(&mut self) {
        self.cancel_requested = true;
        if matches!(self.state, State::Ready(Step::Create) | State::Backoff(Step::Create, _)) && self.unknown_outcome.is_none() {
            let err = self.cancelled();
            self.finish(Err(err));
        }
    }

    fn create_failed(&mut self, err: Error, now: Millis) {
        if err.kind == ErrorKind::Cancelled {
            if err.transport == Some(TransportKind::Aborted) {
                // The driver stopped waiting for a create it had sent: the request may have reached
                // the service, so its outcome is unknown and it is reconciled like a lost answer
                // (the job it made is returned for the caller to keep or delete). The caller is
                // stopping: nothing is sent again.
                self.cancel_requested = true;
                self.events.push_back(Event::Reconciling { error: err.clone() });
                self.unknown_outcome = Some(err);
                self.state = State::Ready(Step::List);
                return;
            }
            return self.finish(Err(err));
        }
        let remaining = self.deadline.map(|d| d.since(now));
        match retry::decide(Endpoint::CreateVideo, &err, self.creates_sent.saturating_sub(1), &self.policy, remaining, &mut self.rng) {
            Decision::Retry { after_ms } => {
                self.events.push_back(Event::Retrying { attempt: self.creates_sent, after_ms, error: err });
                self.state = State::Backoff(Step::Create, now.plus(after_ms));
            }
            Decision::Reconcile => {
                self.events.push_back(Event::Reconciling { error: err.clone() });
                self.unknown_outcome = Some(err);
                self.state = State::Ready(Step::List);
            }
            Decision::Fail if err.transport == Some(TransportKind::Connect) && self.unknown_outcome.is_none() && self.deadline.is_some_and(|d| now >= d) => {
                // Rule 6: nothing reached the service (a driver that found no slot of its rate
                // limit before the deadline says so), and no earlier create is in doubt.
                let made_none = self.unless_in_doubt(self.deadline_kind, DEADLINE_PASSED, self.nothing_made(Some(&err.message)));
                self.finish(Err(made_none));
            }
            Decision::Fail => self.finish(Err(err.no_such_endpoint())),
        }
    }

    fn list_failed(&mut self, err: Error, now: Millis) {
        let remaining = self.deadline.map(|d| d.since(now));
        // A list whose answer could not be read (a 2xx with a broken body) is read again like a
        // 5xx, within the same budget: unlike a caller's own read, giving up here leaves a job
        // that may be made and charged unknown, and the list is safe to send again.
        let as_read = (err.kind == ErrorKind::Decode).then(|| Error { kind: ErrorKind::Upstream, ..err.clone() });
        // Decided without the deadline, which is weighed here: `retry::decide` would fail a read
        // again that the deadline leaves no time for, as it fails one the policy refuses.
        match retry::decide(Endpoint::ListVideos, as_read.as_ref().unwrap_or(&err), self.list_attempts.saturating_sub(1), &self.policy, None, &mut self.rng) {
            Decision::Retry { after_ms } if remaining.is_none_or(|left| after_ms < left) => self.state = State::Backoff(Step::List, now.plus(after_ms)),
            // Rule 6: a list the deadline cut short, or left no time to read again, is not the
            // end of a create in doubt: the one look-up past the deadline goes out at it (a list
            // delayed past a 500 ms bound ended a create whose job was made `outcome_unknown`).
            // A `429`'s pause (bounded like the look-up) is waited out first: sent before it ends,
            // the one look-up would likely be refused again.
            Decision::Retry { .. } if self.late_look_up_left() => self.look_up_late(&err, now),
            // So is a list cut short by the deadline that was the budget's last attempt: its
            // failure is the deadline's, not the list's.
            Decision::Fail if err.kind == ErrorKind::Timeout && remaining == Some(0) && self.late_look_up_left() => self.look_up_late(&err, now),
            Decision::Retry { .. } | Decision::Reconcile | Decision::Fail => {
                // The outcome stays unknown: report the create's own error, never replay it, and
                // say why it is unknown and what the list said (a browser's bare "Failed to fetch"
                // for both reads as what it likely is: a service that cannot be reached).
                let mut original = self.still_unknown().unwrap_or_else(|| err.clone());
                original.message = unknown_outcome_message(&original, &err);
                self.finish(Err(original));
            }
        }
    }

    /// The one look-up past the deadline (rule 6) is due at the deadline, or once the pause a
    /// `429` asked for (`err`'s) has passed, [`LOOKUP_TIMEOUT_MS`] past it at most.
    fn look_up_late(&mut self, err: &Error, now: Millis) {
        let at = self.deadline.unwrap_or(now).max(now);
        let paused = now.plus(err.retry_after_ms.unwrap_or(0)).min(at.plus(LOOKUP_TIMEOUT_MS));
        self.state = State::Backoff(Step::List, at.max(paused));
    }

    fn reconcile(&mut self, page: &JobPage, resp: &HttpResponse, now: Millis) {
        if self.others_out() {
            // A create of the client that this list could confuse went out meanwhile (rule 2 of
            // `claims`): read the list again once it is answered, or, past the deadline, adopt
            // nothing (rule 6).
            if self.deadline.is_some_and(|d| now >= d) {
                let err = self.still_unknown().unwrap_or_else(|| Error::new(ErrorKind::Connection, "the create's outcome was unknown"));
                return self.finish(Err(err));
            }
            if self.may_wait(now) {
                self.list_attempts = self.list_attempts.saturating_sub(1); // a read again is no failed attempt
                self.state = State::Ready(Step::List);
                return;
            }
        }
        self.waiting_since = None;
        // A list that answered ends its run of failures: the list after the next create gets the
        // whole retry budget (it was spent by the lists that had answered: a dropped fifth list
        // was not read again, and a create that had made no job ended `outcome_unknown`).
        self.list_attempts = 0;
        let server_now = resp.header("date").and_then(date::parse_http_date);
        let elapsed = i64::try_from(self.first_sent_at.map_or(0, |t| now.since(t))).unwrap_or(i64::MAX);
        let oldest_allowed = server_now.filter(|_| self.check_age).map(|s| s.saturating_sub(elapsed).saturating_sub(CLOCK_SLACK_MS));
        // A job made since this create was first sent (as far as the service's clock tells), not
        // one the caller excluded. A job without an id cannot be adopted (nor polled): resending
        // under the same idempotency key gets the service to name it.
        let candidate = |job: &&Job| {
            !job.id.is_empty()
                && !self.exclude.contains(&job.id)
                && match (oldest_allowed, job.created_at.as_deref().and_then(date::parse_rfc3339)) {
                    (Some(oldest), Some(created)) => created >= oldest,
                    _ => true,
                }
        };
        let found = page.data.iter().find(|job| {
            candidate(job)
                && matches_request(job, &self.wanted)
                // Last: checked and taken at once (rule 3 of `claims`).
                && self.claims.as_ref().is_none_or(|c| c.adopt(&job.id, self.revocable.then_some(self.holder)))
        });
        if let Some(job) = found {
            self.adopted = true;
            self.events.push_back(Event::Reconciled { job: job.clone() });
            self.finish(Ok(job.clone()));
            return;
        }
        if let Some(why) = &self.no_resend {
            // Never sent again, so whether a prompt-less job is its own changes nothing: its key
            // may be forgotten, and none of this error's readers must send again under it
            // (helper-60: ended `outcome_unknown` with the key, the docs' safe retry, it was not).
            let e = not_sent_again(why);
            return self.finish(Err(e));
        }
        // Jobs of this request's shape that show no prompt (the reference's show none) may be
        // this create's or another process's: neither adopted nor sent again (rule 3), since
        // against a server that ignores the key only the list stands between a resend and a
        // second charge (CONTRACT.md, "Create video").
        let unprovable: Vec<&str> = page
            .data
            .iter()
            .filter(|job| {
                candidate(job)
                    && job.prompt.is_none()
                    && same_shape(job, &self.wanted)
                    // Another of the client's creates (a batch's other items) named it: not this one's.
                    && self.claims.as_ref().is_none_or(|c| !c.is_taken(&job.id))
            })
            .map(|job| job.id.as_str())
            .collect();
        if !unprovable.is_empty() {
            // One may be the job of another create of the client of this shape still out (a
            // batch's sibling, whose answer will take it): read the list again once those are
            // answered, as for alike creates (helper-56: a batch item ended `outcome_unknown`
            // for a sibling's job). Once: a list read after them decides.
            if !self.prompt_less {
                self.prompt_less = true;
                if self.others_out() && self.deadline.is_none_or(|d| now < d) && self.may_wait(now) {
                    self.list_attempts = self.list_attempts.saturating_sub(1);
                    self.state = State::Ready(Step::List);
                    return;
                }
            }
            let mut err = self.still_unknown().unwrap_or_else(|| Error::new(ErrorKind::Connection, "the create's outcome was unknown"));
            err.code = crate::error::OUTCOME_UNKNOWN.to_owned();
            err.message = format!(
                "{}: the job list shows {} of this request's mode, resolution and duration, made since it was sent ({}), but the service's jobs carry no prompt, so none can be told to be this create's: it was neither adopted nor sent again",
                err.message,
                if unprovable.len() == 1 { "a job" } else { "jobs" },
                unprovable.iter().take(5).copied().collect::<Vec<_>>().join(", ")
            );
            return self.finish(Err(err));
        }
        // Nothing was made as far as the list tells: sending again (same idempotency key, which
        // the service honours) cannot charge twice.
        let err = self.unknown_outcome.take().unwrap_or_else(|| Error::new(ErrorKind::Connection, "the create's outcome was unknown"));
        // A create that got no answer may still be on its way (an answer, a 5xx, ended it). So may
        // one a gateway answered 504: it got no answer from the service in time, and the service
        // may still be making the job.
        if err.transport.is_some_and(TransportKind::unanswered) || err.status == Some(504) {
            self.listed_none = Some(err.clone());
        }
        if self.cancel_requested {
            return self.finish(Err(self.cancelled()));
        }
        let remaining = self.deadline.map(|d| d.since(now));
        if remaining.is_some_and(|r| r == 0) {
            // Rule 6: looked up past the deadline, and the list shows no job it made.
            let plain = self.nothing_made(Some("the create's answer was lost, and the job list shows no job it made"));
            return self.finish(Err(self.unless_in_doubt(self.deadline_kind, DEADLINE_PASSED, plain)));
        }
        if self.creates_sent > self.policy.max_retries {
            let why = match self.creates_sent {
                1 => "the create's outcome stayed unknown after its one attempt".to_owned(),
                n => format!("the create's outcome stayed unknown after {n} attempts"),
            };
            return self.finish(Err(self.unless_in_doubt(err.kind, &why, err)));
        }
        let after_ms = self.policy.backoff_ms(self.creates_sent.saturating_sub(1), &mut self.rng);
        // As `retry::decide`: a resend that could not start before the deadline is not attempted
        // (the backoff used to be waited out past the deadline).
        if remaining.is_some_and(|r| after_ms >= r) {
            return self.finish(Err(self.unless_in_doubt(self.deadline_kind, "no time was left before the deadline to send the create again", err)));
        }
        self.events.push_back(Event::Retrying { attempt: self.creates_sent, after_ms, error: err });
        self.state = State::Backoff(Step::Create, now.plus(after_ms));
    }

    /// The error of a deadline that passed with no job made (rule 6), saying `why` when there is
    /// more to say than that.
    fn nothing_made(&self, why: Option<&str>) -> Error {
        let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
        Error::new(self.deadline_kind, format!("the deadline passed before a job was made{why}: nothing was created or charged"))
    }

    /// The error a create ends with when it knows of no job: `plain` when no attempt is in doubt,
    /// else the outcome-unknown one ([`none_listed`], of `kind`, saying `why` it ended) of the
    /// unanswered attempt that a list found no job for (rule 6).
    fn unless_in_doubt(&self, kind: ErrorKind, why: &str, plain: Error) -> Error {
        match &self.listed_none {
            Some(earlier) => none_listed(kind, why, earlier),
            None => plain,
        }
    }

    /// The error of a create cancelled before it made a job it knows of.
    fn cancelled(&self) -> Error {
        let plain = Error::new(ErrorKind::Cancelled, "the create was cancelled before a job was made");
        self.unless_in_doubt(ErrorKind::Cancelled, "the create was cancelled before its outcome was known", plain)
    }

    /// Whether another create of the client that the job list could confuse with this one is out.
    fn others_out(&self) -> bool {
        self.claims.as_ref().is_some_and(|c| c.others_in_flight(&self.wanted, self.ticket, self.prompt_less))
    }

    /// The error of a create whose outcome stays unknown, coded so that no caller takes it for one
    /// to send again (a new create would make and charge a second job).
    fn still_unknown(&self) -> Option<Error> {
        let mut err = self.unknown_outcome.clone()?;
        err.code = crate::error::OUTCOME_UNKNOWN.to_owned();
        Some(err)
    }

    /// Whether the one look-up past the deadline (rule 6) is still to come: a deadline, a create
    /// whose outcome is unknown, and no late look-up sent yet.
    fn late_look_up_left(&self) -> bool {
        self.deadline.is_some() && self.unknown_outcome.is_some() && !self.looked_up_late
    }

    /// Whether this create may still wait for the others (rule 2 of `claims`: bounded).
    fn may_wait(&mut self, now: Millis) -> bool {
        let since = *self.waiting_since.get_or_insert(now);
        now.since(since) < claims::MAX_WAIT_MS
    }

    /// This create is no longer in flight among the client's (its answer came, or it ended).
    fn leave(&mut self) {
        if let (Some(c), Some(ticket)) = (&self.claims, self.ticket.take()) {
            c.answered(ticket);
        }
    }

    /// Marks this create open among the client's (rule 6 of `claims`).
    fn open(&mut self) {
        if let Some(c) = &self.claims {
            c.open(self.holder, &self.wanted);
        }
        self.opened = true;
    }

    /// This create is no longer open: it ended, or was dropped.
    fn close(&mut self) {
        if let Some(c) = self.claims.as_ref().filter(|_| self.opened) {
            c.close(self.holder);
        }
        self.opened = false;
    }

    fn finish(&mut self, mut result: Result<Job, Error>) {
        // Its key, for the caller to send the same request again safely (what this machine could
        // not do: its deadline, a cancel or its retries ended it): of an unknown outcome, and of
        // a create answered with a server error (a `5xx` its retries ended with), which reads as
        // retryable and so invites a new create under a new key (helper-63): under this one the
        // service answers with the job if any attempt made one.
        if let Err(e) = &mut result
            && (e.code == crate::error::OUTCOME_UNKNOWN || (self.creates_sent > 0 && e.status.is_some_and(|s| s >= 500)))
        {
            e.idempotency_key = Some(self.idempotency_key.as_str().to_owned());
        }
        self.leave();
        self.close();
        self.state = State::Done;
        self.result = Some(result);
    }

    /// Whether the next `poll(now)` would send a request (so a batch can hold it back until its
    /// rate limiter has a slot).
    #[must_use]
    pub fn wants_to_send(&self, now: Millis) -> bool {
        self.events.is_empty()
            && match self.state {
                State::Ready(_) => true,
                State::Backoff(_, until) => now >= until,
                State::InFlight(..) | State::Done => false,
            }
    }

    /// Whether the machine has finished.
    #[must_use]
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// The created (or adopted) job once `Done`.
    ///
    /// # Errors
    /// The create's error, or a `usage` error before `Done` or when taken twice.
    pub fn take_result(&mut self) -> Result<Job, Error> {
        self.result.take().unwrap_or_else(|| Err(Error::usage("the create has no result yet (or it was already taken)")))
    }

    /// Whether the answer that named the job may be the service's replay of an earlier attempt's
    /// (the create was sent more than once under its key, or the answer says
    /// `Idempotent-Replayed: true`, as the emulator's does): then the status it shows is as of
    /// that attempt, not now, and a clean-up must look before deleting (`job` rule 8; helper-55:
    /// a replayed `pending`, taken for a fresh sighting, could have a finished job deleted).
    #[must_use]
    pub fn answer_may_be_a_replay(&self) -> bool {
        self.replayed
    }

    /// Whether its job was found by reconciliation (the job list), rather than named by the
    /// create's own answer: a guess among jobs the list cannot tell apart, which the answer of
    /// another create naming the same job proves wrong.
    #[must_use]
    pub fn adopted(&self) -> bool {
        self.adopted
    }
}

/// A create dropped in flight (its driver gave up on it) is no longer waited for by the others.
impl Drop for Create {
    fn drop(&mut self) {
        self.leave();
        self.close();
        if let Some(c) = self.claims.as_ref().filter(|_| self.revocable) {
            c.release(self.holder); // what it adopted is its run's for good
        }
    }
}

/// The error of a create not sent again because its key may be forgotten (`why`: a batch resumed
/// from a snapshot too old, `batch` rule 9): coded `snapshot_too_old`, with no key to send again
/// under.
fn not_sent_again(why: &str) -> Error {
    let mut e = Error::new(ErrorKind::Usage, format!("{why}: the newest {RECONCILE_PAGE} jobs of the job list show none it can be told to have made, and it was not sent again; look further down the job list before creating it anew (a new create is charged)"));
    crate::error::SNAPSHOT_TOO_OLD.clone_into(&mut e.code);
    e
}

/// The message of a create whose outcome stayed unknown: the create's own error, why it left the
/// outcome unknown, and the error of the list that could not settle it (`list`).
fn unknown_outcome_message(create: &Error, list: &Error) -> String {
    let why = match (create.status, create.transport) {
        (_, Some(TransportKind::Aborted)) => "the create was stopped after it was sent".to_owned(),
        (_, Some(_)) => "no answer to the create".to_owned(),
        (Some(status), _) if (200..300).contains(&status) => format!("the create's {status} answer could not be read"),
        (Some(status), _) => format!("the create's {status} answer does not say whether a job was made"),
        _ => "the create's outcome is unknown".to_owned(),
    };
    let reachable = if list.transport.is_some() && create.transport.is_some() { " (is the service reachable?)" } else { "" };
    format!(
        "{}: {why}, and the job list could not be read to learn whether the job was made{reachable}: {}; the create was not sent again, so it is not charged twice: list your jobs once the service answers",
        create.message, list.message
    )
}

/// Whether `job` could be the one `req` made: it echoes the request's prompt (rule 3), and every
/// other field the service echoes agrees. A job without its prompt proves nothing: the
/// reference's job shape has none, and a match on mode, resolution and duration alone adopted
/// another process's job (and a create-and-wait's cancel then deleted it: helper-54).
#[must_use]
pub fn matches_request(job: &Job, req: &CreateVideoRequest) -> bool {
    job.prompt.as_ref() == Some(&req.prompt) && same_shape(job, req)
}

/// Whether every field of `job` the service echoes, but the prompt, agrees with `req`.
fn same_shape(job: &Job, req: &CreateVideoRequest) -> bool {
    fn agree<T: PartialEq>(seen: Option<&T>, wanted: &T) -> bool {
        seen.is_none_or(|s| s == wanted)
    }
    agree(job.mode.as_ref(), &req.mode)
        && agree(job.resolution.as_ref(), &req.effective_resolution())
        && agree(job.duration.as_ref(), &req.effective_duration())
        && (job.seed.is_none() || job.seed == req.seed)
        && (job.image_url.is_none() || job.image_url == req.image_url)
        && (job.reference_url.is_none() || job.reference_url == req.reference_url)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A create of `prompt` on the fake service (`entropy` seeds its key), first request id `first_id`.
    fn create_of(prompt: &str, entropy: u8, policy: RetryPolicy, deadline: Option<Millis>, first_id: u64) -> Create {
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let idem = IdempotencyKey::from_entropy(&[entropy; 16]).unwrap();
        Create::new(&config, Some(&key), CreateVideoRequest::text(prompt), &idem, policy, 1, deadline, first_id).unwrap()
    }

    /// A create of "lake", sharing `claims`.
    fn lake(claims: &Claims) -> Create {
        create_of("lake", 7, RetryPolicy::default(), None, 0).sharing(claims)
    }

    /// The next output that is not an event.
    fn next(c: &mut Create, now: Millis) -> Output {
        loop {
            match c.poll(now) {
                Output::Event(_) => {}
                other => return other,
            }
        }
    }

    /// Lets time pass until `c` sends its create again (rule 2): that request's id and its time.
    fn sent_again(c: &mut Create, mut now: Millis) -> (RequestId, Millis) {
        loop {
            match next(c, now) {
                Output::WaitUntil(t) => now = t,
                Output::Send { id, endpoint: Endpoint::CreateVideo, .. } => return (id, now),
                other => panic!("the create sent again under its key, not {other:?}"),
            }
        }
    }

    fn job(id: &str) -> serde_json::Value {
        serde_json::json!({"id": id, "status": "pending", "prompt": "lake", "mode": "text_to_video", "resolution": "720p", "duration": 5})
    }

    #[test]
    fn identical_creates_whose_answers_were_lost_each_get_their_own_job() {
        let claims = Claims::new();
        let (mut a, mut b) = (lake(&claims), lake(&claims));
        let Output::Send { id: sent_a, .. } = next(&mut a, Millis(0)) else { panic!("a sends") };
        let Output::Send { id: sent_b, .. } = next(&mut b, Millis(0)) else { panic!("b sends") };
        // A's answer is lost (its job_a was made); B's is still on its way.
        a.handle_transport_error(sent_a, TransportKind::Timeout, "no answer", Millis(10));
        let Output::WaitUntil(t) = next(&mut a, Millis(10)) else { panic!("a waits for b's answer first") };
        b.handle_response(sent_b, HttpResponse::json(201, &job("job_b")), Millis(20));
        assert_eq!(b.take_result().unwrap().id, "job_b");
        // Now A lists: the newest match is B's job, taken; A adopts its own.
        let Output::Send { id: list, endpoint: Endpoint::ListVideos, .. } = next(&mut a, t) else { panic!("a lists") };
        a.handle_response(list, HttpResponse::json(200, &serde_json::json!({"data": [job("job_b"), job("job_a")], "has_more": false})), t);
        assert_eq!(a.take_result().unwrap().id, "job_a");
        // Without shared claims, it would have taken B's.
        let mut alone = lake(&Claims::new());
        let Output::Send { id, .. } = next(&mut alone, Millis(0)) else { panic!() };
        alone.handle_transport_error(id, TransportKind::Timeout, "no answer", Millis(10));
        let Output::Send { id, .. } = next(&mut alone, Millis(10)) else { panic!() };
        alone.handle_response(id, HttpResponse::json(200, &serde_json::json!({"data": [job("job_b"), job("job_a")], "has_more": false})), Millis(10));
        assert_eq!(alone.take_result().unwrap().id, "job_b");
    }

    #[test]
    fn a_listed_job_without_its_prompt_is_neither_adopted_nor_sent_again() {
        // helper-54: the reference's jobs carry no prompt; a match on the rest took another
        // process's job of the same shape. Such a job now proves nothing either way: the create
        // ends with its unknown outcome, naming it, with its key. One of another shape is no
        // candidate at all: the create goes again under its key (rule 2).
        let without_prompt = |id: &str, resolution: &str| {
            let mut j = job(id);
            j.as_object_mut().unwrap().remove("prompt");
            j["resolution"] = serde_json::json!(resolution);
            j
        };
        let mut c = lake(&Claims::new());
        let Output::Send { id, request: first, .. } = next(&mut c, Millis(0)) else { panic!() };
        c.handle_transport_error(id, TransportKind::Timeout, "no answer", Millis(10));
        let Output::Send { id, endpoint: Endpoint::ListVideos, .. } = next(&mut c, Millis(10)) else { panic!("reconcile") };
        c.handle_response(id, HttpResponse::json(200, &serde_json::json!({"data": [without_prompt("job_other", "720p")], "has_more": false})), Millis(20));
        assert!(matches!(next(&mut c, Millis(20)), Output::Done));
        let e = c.take_result().unwrap_err();
        assert_eq!(e.code, crate::error::OUTCOME_UNKNOWN, "{e}");
        assert!(e.message.contains("job_other") && e.message.contains("neither adopted nor sent again"), "{e}");
        assert_eq!(e.idempotency_key.as_deref(), first.header("idempotency-key"));

        let mut c = lake(&Claims::new());
        let Output::Send { id, .. } = next(&mut c, Millis(0)) else { panic!() };
        c.handle_transport_error(id, TransportKind::Timeout, "no answer", Millis(10));
        let Output::Send { id, .. } = next(&mut c, Millis(10)) else { panic!() };
        c.handle_response(id, HttpResponse::json(200, &serde_json::json!({"data": [without_prompt("job_other", "1080p")], "has_more": false})), Millis(20));
        let (id, now) = sent_again(&mut c, Millis(20));
        c.handle_response(id, HttpResponse::json(201, &job("job_mine")), now);
        assert_eq!(c.take_result().unwrap().id, "job_mine");
    }

    #[test]
    fn a_listed_job_without_its_prompt_that_another_create_of_the_client_named_is_no_candidate() {
        // A batch's items are often of one shape: a sibling's job, named by its own answer, must
        // not end this one's create `outcome_unknown`.
        let claims = Claims::new();
        let (mut a, mut b) = (lake(&claims), lake(&claims));
        let Output::Send { id: sent_b, .. } = next(&mut b, Millis(0)) else { panic!() };
        let mut theirs = job("job_b");
        theirs.as_object_mut().unwrap().remove("prompt");
        b.handle_response(sent_b, HttpResponse::json(201, &theirs), Millis(5));
        assert_eq!(b.take_result().unwrap().id, "job_b");
        let Output::Send { id, .. } = next(&mut a, Millis(10)) else { panic!() };
        a.handle_transport_error(id, TransportKind::Timeout, "no answer", Millis(20));
        let Output::Send { id, endpoint: Endpoint::ListVideos, .. } = next(&mut a, Millis(20)) else { panic!("reconcile") };
        a.handle_response(id, HttpResponse::json(200, &serde_json::json!({"data": [theirs], "has_more": false})), Millis(30));
        sent_again(&mut a, Millis(30));
    }

    #[test]
    fn a_listed_job_without_its_prompt_waits_for_a_sibling_of_its_shape_still_out() {
        // helper-56: a batch item whose answer was lost listed a sibling's prompt-less job while
        // the sibling's create (another prompt, the same shape) was still out, and ended
        // `outcome_unknown`. It now waits for that answer, which takes the job, and reads again.
        let claims = Claims::new();
        let mut b = create_of("sea", 8, RetryPolicy::default(), None, 1 << 20).sharing(&claims);
        let mut a = lake(&claims);
        let Output::Send { id: sent_b, .. } = next(&mut b, Millis(0)) else { panic!() };
        let Output::Send { id, .. } = next(&mut a, Millis(1)) else { panic!() };
        a.handle_transport_error(id, TransportKind::Timeout, "no answer", Millis(10));
        let Output::Send { id, endpoint: Endpoint::ListVideos, .. } = next(&mut a, Millis(10)) else { panic!("reconcile") };
        let mut theirs = job("job_b");
        theirs.as_object_mut().unwrap().remove("prompt");
        a.handle_response(id, HttpResponse::json(200, &serde_json::json!({"data": [theirs.clone()], "has_more": false})), Millis(20));
        assert!(matches!(next(&mut a, Millis(20)), Output::WaitUntil(_)), "waits for the sibling's answer");
        b.handle_response(sent_b, HttpResponse::json(201, &theirs), Millis(30));
        assert_eq!(b.take_result().unwrap().id, "job_b");
        let Output::Send { id, endpoint: Endpoint::ListVideos, .. } = next(&mut a, Millis(30)) else { panic!("reads again") };
        a.handle_response(id, HttpResponse::json(200, &serde_json::json!({"data": [theirs], "has_more": false})), Millis(40));
        sent_again(&mut a, Millis(40));
    }

    #[test]
    fn a_create_whose_outcome_stays_unknown_is_not_retryable() {
        // The answer was lost and the list cannot be read: the job may be made and charged, so a
        // caller must not take the error for one to send again (a new create would charge twice).
        let mut c = lake(&Claims::new());
        let Output::Send { id, .. } = next(&mut c, Millis(0)) else { panic!() };
        c.handle_transport_error(id, TransportKind::Timeout, "no answer", Millis(10));
        let mut now = Millis(10);
        for _ in 0..50 {
            match next(&mut c, now) {
                Output::Send { id, .. } => c.handle_transport_error(id, TransportKind::Connect, "refused", now),
                Output::WaitUntil(t) => now = t,
                _ => break,
            }
        }
        let e = c.take_result().unwrap_err();
        assert_eq!((e.kind, e.code.as_str(), e.is_retryable()), (ErrorKind::Timeout, crate::error::OUTCOME_UNKNOWN, false), "{e}");
    }

    /// A create of "lake" with a deadline at 1 s.
    fn lake_by_1s(claims: &Claims) -> Create {
        create_of("lake", 7, RetryPolicy::default(), Some(Millis(1_000)), 0).sharing(claims)
    }

    fn page(jobs: &[&str]) -> HttpResponse {
        HttpResponse::json(200, &serde_json::json!({"data": jobs.iter().map(|j| job(j)).collect::<Vec<_>>(), "has_more": false}))
    }

    #[test]
    fn a_resend_that_times_out_at_the_deadline_is_looked_up_too() {
        let mut c = lake_by_1s(&Claims::new());
        let Output::Send { id, .. } = next(&mut c, Millis(0)) else { panic!() };
        c.handle_response(id, HttpResponse::json(502, &serde_json::json!({"error": {"code": "upstream", "message": "x"}})), Millis(10));
        let Output::Send { id, endpoint: Endpoint::ListVideos, .. } = next(&mut c, Millis(10)) else { panic!("reconcile") };
        c.handle_response(id, page(&[]), Millis(20));
        let Output::WaitUntil(t) = next(&mut c, Millis(20)) else { panic!("backoff") };
        let Output::Send { id, endpoint: Endpoint::CreateVideo, .. } = next(&mut c, t) else { panic!("resent: nothing was made") };
        c.handle_transport_error(id, TransportKind::Timeout, "no answer", Millis(1_000));
        let Output::Send { id, endpoint: Endpoint::ListVideos, timeout_ms: Some(LOOKUP_TIMEOUT_MS), .. } = next(&mut c, Millis(1_000)) else { panic!("looked up past the deadline") };
        c.handle_response(id, page(&["job_1"]), Millis(1_010));
        assert_eq!(c.take_result().unwrap().id, "job_1");
    }

    #[test]
    fn a_list_cut_short_by_the_deadline_is_followed_by_the_look_up_past_it() {
        // The create's answer is lost; the list that would settle it answers after the deadline.
        let mut c = lake_by_1s(&Claims::new());
        let Output::Send { id, .. } = next(&mut c, Millis(0)) else { panic!() };
        c.handle_transport_error(id, TransportKind::Other, "reset", Millis(10));
        let Output::Send { id, endpoint: Endpoint::ListVideos, timeout_ms: Some(990), .. } = next(&mut c, Millis(10)) else { panic!("reconcile within the deadline") };
        c.handle_transport_error(id, TransportKind::Timeout, "no answer", Millis(1_000));
        let Output::Send { id, endpoint: Endpoint::ListVideos, timeout_ms: Some(LOOKUP_TIMEOUT_MS), .. } = next(&mut c, Millis(1_000)) else { panic!("looked up past the deadline") };
        c.handle_response(id, page(&["job_1"]), Millis(1_200));
        assert_eq!(c.take_result().unwrap().id, "job_1");
        // A list that fails with no time left to read again waits for the deadline, then looks.
        let mut c = lake_by_1s(&Claims::new());
        let Output::Send { id, .. } = next(&mut c, Millis(0)) else { panic!() };
        c.handle_transport_error(id, TransportKind::Other, "reset", Millis(10));
        let Output::Send { id, .. } = next(&mut c, Millis(10)) else { panic!() };
        c.handle_response(id, HttpResponse::json(503, &serde_json::json!({"error": {"code": "x", "message": "x"}})), Millis(990));
        assert!(matches!(next(&mut c, Millis(990)), Output::WaitUntil(Millis(1_000))));
        let Output::Send { id, timeout_ms: Some(LOOKUP_TIMEOUT_MS), .. } = next(&mut c, Millis(1_000)) else { panic!("the late look-up") };
        // It is the only one: its failure ends the create, its outcome unknown.
        c.handle_transport_error(id, TransportKind::Timeout, "no answer", Millis(11_000));
        let e = c.take_result().unwrap_err();
        assert_eq!(e.code, crate::error::OUTCOME_UNKNOWN, "{e}");
    }

    #[test]
    fn the_look_up_past_the_deadline_waits_out_a_429s_pause_and_follows_a_last_list_cut_short() {
        // helper-55: a list refused with a 429 whose pause ran past the deadline sent its look-up
        // at the deadline (refused again, likely); a list cut short by the deadline that was its
        // budget's last attempt got no look-up at all.
        let mut c = lake_by_1s(&Claims::new());
        let Output::Send { id, .. } = next(&mut c, Millis(0)) else { panic!() };
        c.handle_transport_error(id, TransportKind::Other, "reset", Millis(10));
        let Output::Send { id, .. } = next(&mut c, Millis(10)) else { panic!() };
        let mut refused = HttpResponse::json(429, &serde_json::json!({"error": {"code": "rate_limited", "message": "x"}}));
        refused.headers.push(crate::http::Header::new("retry-after", "3"));
        c.handle_response(id, refused, Millis(900));
        assert!(matches!(next(&mut c, Millis(900)), Output::WaitUntil(Millis(3_900))));
        let Output::Send { id, timeout_ms: Some(LOOKUP_TIMEOUT_MS), .. } = next(&mut c, Millis(3_900)) else { panic!("the late look-up") };
        c.handle_response(id, page(&["job_1"]), Millis(4_000));
        assert_eq!(c.take_result().unwrap().id, "job_1");

        let mut c = create_of("lake", 7, RetryPolicy { max_retries: 0, ..RetryPolicy::default() }, Some(Millis(1_000)), 0);
        let Output::Send { id, .. } = next(&mut c, Millis(0)) else { panic!() };
        c.handle_transport_error(id, TransportKind::Other, "reset", Millis(10));
        let Output::Send { id, .. } = next(&mut c, Millis(10)) else { panic!() };
        c.handle_transport_error(id, TransportKind::Timeout, "no answer", Millis(1_000));
        let Output::Send { id, timeout_ms: Some(LOOKUP_TIMEOUT_MS), .. } = next(&mut c, Millis(1_000)) else { panic!("the late look-up after the last list") };
        c.handle_response(id, page(&["job_1"]), Millis(1_100));
        assert_eq!(c.take_result().unwrap().id, "job_1");
    }

    #[test]
    fn past_the_deadline_with_a_like_create_out_nothing_is_adopted() {
        let claims = Claims::new();
        let (mut a, mut b) = (lake_by_1s(&claims), lake_by_1s(&claims));
        let Output::Send { id, .. } = next(&mut a, Millis(0)) else { panic!() };
        let Output::Send { .. } = next(&mut b, Millis(500)) else { panic!() };
        a.handle_transport_error(id, TransportKind::Timeout, "no answer", Millis(1_000));
        // B is still out: A ends with its unknown outcome rather than list (it could take B's job).
        assert!(matches!(next(&mut a, Millis(1_000)), Output::Done));
        assert_eq!(a.take_result().unwrap_err().kind, ErrorKind::Timeout);
    }

    #[test]
    fn a_list_answered_while_a_like_create_went_out_is_read_again() {
        let claims = Claims::new();
        let (mut a, mut b) = (lake(&claims), lake(&claims));
        let Output::Send { id, .. } = next(&mut a, Millis(0)) else { panic!() };
        a.handle_transport_error(id, TransportKind::Timeout, "no answer", Millis(10));
        let Output::Send { id: list, endpoint: Endpoint::ListVideos, .. } = next(&mut a, Millis(10)) else { panic!("nothing out: a lists") };
        let Output::Send { id: sent_b, .. } = next(&mut b, Millis(11)) else { panic!() };
        // The list shows B's job (made while the list was out), not yet answered to B.
        a.handle_response(list, page(&["job_b", "job_a"]), Millis(20));
        assert!(matches!(next(&mut a, Millis(20)), Output::WaitUntil(_)), "b is out: wait, then read again");
        b.handle_response(sent_b, HttpResponse::json(201, &job("job_b")), Millis(30));
        assert_eq!(b.take_result().unwrap().id, "job_b");
        let Output::Send { id: again, endpoint: Endpoint::ListVideos, .. } = next(&mut a, Millis(70)) else { panic!("read again") };
        a.handle_response(again, page(&["job_b", "job_a"]), Millis(80));
        assert_eq!(a.take_result().unwrap().id, "job_a");
    }

    #[test]
    fn a_create_waits_for_the_others_a_bounded_time_and_a_dropped_one_not_at_all() {
        let claims = Claims::new();
        let (mut a, mut b) = (lake(&claims), lake(&claims));
        let Output::Send { id: sent_a, .. } = next(&mut a, Millis(0)) else { panic!() };
        let Output::Send { .. } = next(&mut b, Millis(0)) else { panic!() };
        a.handle_transport_error(sent_a, TransportKind::Timeout, "no answer", Millis(10));
        // B is never answered: A waits, then lists anyway.
        assert!(matches!(next(&mut a, Millis(10)), Output::WaitUntil(_)));
        assert!(matches!(next(&mut a, Millis(10 + claims::MAX_WAIT_MS - 1)), Output::WaitUntil(_)));
        assert!(matches!(next(&mut a, Millis(10 + claims::MAX_WAIT_MS)), Output::Send { endpoint: Endpoint::ListVideos, .. }));
        // B dropped in flight: another create does not wait for it.
        drop(b);
        let mut c = lake(&claims);
        let Output::Send { id, .. } = next(&mut c, Millis(0)) else { panic!() };
        c.handle_transport_error(id, TransportKind::Timeout, "no answer", Millis(10));
        assert!(matches!(next(&mut c, Millis(10)), Output::Send { endpoint: Endpoint::ListVideos, .. }), "a was answered (it lists), b dropped");
    }

    fn status(code: u16, message: &str) -> Error {
        Error { status: Some(code), ..Error::new(ErrorKind::from_status(code), message) }
    }

    #[test]
    fn retries_spent_after_an_unanswered_create_that_the_list_showed_none_of_are_an_unknown_outcome() {
        // The first create gets no answer (it may still be on its way), the later ones a 502;
        // every list shows none. The error of the spent retries must not be taken for one to send
        // again: the first create can still make a job (rule 6, `listed_none`).
        retries_spent_after(|c, id, now| c.handle_transport_error(id, TransportKind::Timeout, "no answer within 60000 ms", now), "no answer within 60000 ms");
        // A gateway's 504 is no answer from the service either: it may still be making the job.
        let timed_out = HttpResponse::json(504, &serde_json::json!({"error": {"code": "gateway_timeout", "message": "upstream timed out"}}));
        retries_spent_after(move |c, id, now| c.handle_response(id, timed_out.clone(), now), "upstream timed out");
    }

    /// A create whose first attempt ends by `first` (saying `says`), every later one a 502 and
    /// every list empty, ends coded `outcome_unknown`.
    fn retries_spent_after(first: impl Fn(&mut Create, RequestId, Millis), says: &str) {
        let mut c = lake(&Claims::new());
        let mut now = Millis(0);
        let mut creates = 0;
        while creates <= RetryPolicy::default().max_retries {
            match next(&mut c, now) {
                Output::WaitUntil(t) => now = t,
                Output::Send { id, endpoint: Endpoint::CreateVideo, .. } if creates == 0 => {
                    creates += 1;
                    first(&mut c, id, now);
                }
                Output::Send { id, endpoint: Endpoint::CreateVideo, .. } => {
                    creates += 1;
                    c.handle_response(id, HttpResponse::json(502, &serde_json::json!({"error": {"code": "bad_gateway", "message": "upstream"}})), now);
                }
                Output::Send { id, endpoint: Endpoint::ListVideos, .. } => c.handle_response(id, HttpResponse::json(200, &serde_json::json!({"data": [], "has_more": false})), now),
                other => panic!("unexpected {other:?}"),
            }
        }
        let Output::Send { id, endpoint: Endpoint::ListVideos, .. } = next(&mut c, now) else { panic!("the last create is reconciled") };
        c.handle_response(id, HttpResponse::json(200, &serde_json::json!({"data": [], "has_more": false})), now);
        assert!(matches!(next(&mut c, now), Output::Done));
        let e = c.take_result().unwrap_err();
        assert_eq!(e.code, crate::error::OUTCOME_UNKNOWN, "{e}");
        assert!(e.message.contains(says) && e.message.contains("still on its way") && !e.is_retryable(), "{e}");
    }

    #[test]
    fn an_unknown_outcomes_connection_error_says_how_its_attempt_ended() {
        // helper-47: npm's `APIConnectionError.transport` was missing on these alone.
        let err = Error::transport(TransportKind::Timeout, "no answer within 60000 ms");
        let e = none_listed(err.kind, "the create's outcome stayed unknown after its one attempt", &err);
        assert_eq!((e.transport, e.code.as_str()), (Some(TransportKind::Timeout), crate::error::OUTCOME_UNKNOWN), "{e}");
        assert_eq!(none_listed(ErrorKind::Cancelled, "cancelled", &err).transport, None, "a cancel's error is no connection's");
    }

    #[test]
    fn unknown_outcome_says_why_and_keeps_the_lists_error() {
        let refused = Error::transport(TransportKind::Other, "Failed to fetch");
        let both = unknown_outcome_message(&refused, &Error::transport(TransportKind::Connect, "connection refused"));
        assert!(both.contains("Failed to fetch: no answer to the create,"), "{both}");
        assert!(both.contains("(is the service reachable?): connection failed: connection refused;"), "{both}");
        assert!(both.contains("not sent again"), "{both}");

        let answered = unknown_outcome_message(&status(502, "bad gateway"), &status(401, "unknown key"));
        assert!(answered.contains("the create's 502 answer does not say whether a job was made"), "{answered}");
        assert!(answered.contains(": unknown key;") && !answered.contains("reachable"), "{answered}");

        let unread = unknown_outcome_message(&status(201, "unreadable body"), &refused);
        assert!(unread.contains("the create's 201 answer could not be read") && !unread.contains("reachable"), "{unread}");

        let stopped = unknown_outcome_message(&Error::transport(TransportKind::Aborted, "aborted"), &refused);
        assert!(stopped.contains("the create was stopped after it was sent"), "{stopped}");
    }

    #[test]
    fn a_reconciling_list_whose_answer_cannot_be_read_is_read_again() {
        let claims = Claims::new();
        let mut a = lake(&claims);
        let Output::Send { id: sent, .. } = next(&mut a, Millis(0)) else { panic!("sends") };
        a.handle_transport_error(sent, TransportKind::Timeout, "no answer", Millis(10));
        let Output::Send { id: list, endpoint: Endpoint::ListVideos, .. } = next(&mut a, Millis(10)) else { panic!("lists") };
        a.handle_response(list, HttpResponse::json(200, &"{\"data\": [{\"id\": "), Millis(20));
        // Not the end (the job may be made and charged): the list is read again after a backoff.
        let t = match next(&mut a, Millis(20)) {
            Output::WaitUntil(t) => t,
            other => panic!("reads again after a backoff, not {other:?}"),
        };
        let Output::Send { id: again, endpoint: Endpoint::ListVideos, .. } = next(&mut a, t) else { panic!("lists again") };
        a.handle_response(again, HttpResponse::json(200, &serde_json::json!({"data": [job("job_a")], "has_more": false})), t);
        assert_eq!(a.take_result().unwrap().id, "job_a");
    }

    #[test]
    fn every_reconciling_list_gets_the_whole_retry_budget() {
        // Every create is answered 502 and every list shows none, but the last create's list is
        // dropped once: it is read again (the lists before it answered: they spent nothing), and
        // the create ends with its own 502, not an unknown outcome.
        let mut c = lake(&Claims::new());
        let (mut now, mut lists, mut dropped) = (Millis(0), 0, false);
        let last_list = RetryPolicy::default().max_retries + 1;
        loop {
            match next(&mut c, now) {
                Output::WaitUntil(t) => now = t,
                Output::Send { id, endpoint: Endpoint::CreateVideo, .. } => c.handle_response(id, HttpResponse::json(502, &serde_json::json!({"error": {"code": "bad_gateway", "message": "upstream"}})), now),
                Output::Send { id, endpoint: Endpoint::ListVideos, .. } => {
                    lists += 1;
                    if lists == last_list && !dropped {
                        dropped = true;
                        c.handle_transport_error(id, TransportKind::Other, "connection reset", now);
                    } else {
                        c.handle_response(id, HttpResponse::json(200, &serde_json::json!({"data": [], "has_more": false})), now);
                    }
                }
                Output::Done => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(dropped && lists == last_list + 1, "the dropped list was read again ({lists} lists)");
        let e = c.take_result().unwrap_err();
        assert_ne!(e.code, crate::error::OUTCOME_UNKNOWN, "{e}");
        assert_eq!(e.status, Some(502), "{e}");
        // Retryable, and so with its key: a retry under a new one could make a second job.
        assert!(e.is_retryable() && e.idempotency_key.is_some(), "{e:?}");
    }
}
