//! Waiting for a job (optionally creating it first): the machine behind `wait` and
//! `create_and_wait`.
//!
//! # Rules
//! 1. A wait always ends: by the job finishing, by an error, by [`JobRun::cancel`], or by its
//!    deadline, whichever comes first. No request is given more time than is left.
//! 2. The deadline ends the *wait* with `wait_timeout`; the job goes on (unless
//!    `cancel_on_timeout` is set and the job is still pending: then it is deleted and refunded,
//!    within [`CLEANUP_MS`] of the wait giving up, which for a create whose answer was still out
//!    is after its one look-up past the deadline (`create` rule 6: it may wait out a `429`'s
//!    pause first, 10 s at most): so at most ~30 s past the deadline. A delete not done by then, say for a `Retry-After` pause, or held (rule 7)
//!    until then, leaves the job to go on, and the error says why; one that got no sure answer
//!    says the job may have been deleted). A driver that hands a clean-up its caller stopped
//!    waiting for to the background ([`JobRun::handing_off`]: the caller waits [`CLEANUP_MS`],
//!    then the run goes on without it) gives it [`BACKGROUND_MS`] more, as it gives a cancel's
//!    (a delete held by a spent rate limit, a minute, was given up: the job charged).
//! 3. Polls follow [`PollPolicy`]: few, and close to the expected finish. Transient poll failures
//!    are retried by [`Call`]; a poll that fails for good ends the wait with that error.
//! 4. A status change emits `StatusChanged`; every poll emits `Progress`.
//! 5. `failed` ends the run with `job_failed` (carrying the service's code and message).
//! 6. Cancel: a create-and-wait's job (its own, which the caller gives up), or a waited-for job
//!    when the wait was told to delete on giving up (`cancel_on_timeout`), last seen `pending`, is
//!    deleted, refunding its hold. One last seen with a status this SDK does not know is left
//!    alone, as a processing one is: a newer service's status may be a finished one, and a DELETE
//!    would remove its charged video (helper-54; it was deleted as pending until session 26). A wait for an existing
//!    job that was not told so leaves it alone: stopping watching a job is not cancelling it, and
//!    others may be waiting for it (helper-37: an aborted watcher deleted the job another one
//!    waited for). Either way, a processing job cannot be deleted (*assumption*: the service answers
//!    409), so the run just stops and says so. A job not seen yet (a wait cancelled before its
//!    first poll answered) is left alone: it may have completed, and a DELETE would remove the
//!    finished video's record.
//! 7. A create-and-wait sharing the client's claims ([`crate::claims`], rules 5 and 6) whose job
//!    was adopted from the job list gives it up when another create's own answer names it (the
//!    list cannot tell identical requests' jobs apart), and looks for its own again: it reconciles
//!    and sends its create again under its own key only if the list shows none. Such a job's end
//!    is held while an alike create of the client is open (it may yet name this job), for at
//!    most [`crate::claims::MAX_WAIT_MS`] and never past the deadline: a run that ended cannot
//!    give its job up. So is a cancel's delete of such a job (it may be the other create's): if
//!    that create's answer names it, the run gives it up and deletes only a job of its own.
//! 8. A clean-up deletes only on a fresh sighting: when its job was last seen `pending` longer
//!    ago than [`FRESH_MS`] (a second; a fifth of the job's expected time when that is shorter,
//!    at least [`FRESH_MIN_MS`]: [`fresh_for`]), say a cancel during a sleep between polls, it looks at
//!    the job again first (one GET, or the answer of a poll already in flight) and deletes only
//!    if that says `pending` (*assumption*: no job gets from `pending` through processing to
//!    `completed` within a second; whatever the model of generation times says, since a model
//!    too slow for the service let cancels delete finished videos unseen: helper-52). A DELETE that reached a job completed meanwhile
//!    would remove its finished video's record, with no refund (CONTRACT.md, "Delete"): the job
//!    is left alone then, and the error says it ended. A delete tried again after a pause (a
//!    `429`'s `Retry-After`, a 5xx's backoff) past that freshness looks again first, twice at
//!    most (helper-40: a held delete removed a video completed meanwhile, charged). So does a
//!    delete held by the driver's wait for a rate-limit slot: its `Send` carries `send_by`, when
//!    its sighting goes stale, and a driver whose slot comes later reports it not sent
//!    (helper-44: 13 of 30 deletes held a minute by a spent budget removed finished videos); the
//!    last look's delete carries none and goes out whenever its slot comes, and so does the delete
//!    of a look answered later than its sighting stays fresh (it waited that long for a slot, so
//!    another look would be as stale: helper-76, four slots a clean-up under a spent budget; a
//!    retry of that delete after a pause still looks first). A delete answered with `refunded_cents` 0 found the job finished: the error
//!    says its record is gone and, completed, charged (`Error::after_delete`).
//! 9. A run sharing the client's claims ([`JobRun::sharing`]) that would delete its job on giving
//!    up (a create-and-wait; a wait with `cancel_on_timeout`) watches it until its clean-up
//!    begins ([`crate::claims`] rule 7), and its clean-up leaves alone a job another run of the
//!    client watches, looking again before each attempt of its delete: two calls given the same
//!    idempotency key wait for one job (the service's replay of the first create). The one that
//!    gives up says the job goes on for the other; the last one to give up deletes it as rule 6
//!    says. A wait that only watches (no `cancel_on_timeout`) would never delete it, so it does
//!    not hold it back (helper-45). Not covered: a twin whose create has no answer yet (the job
//!    deleted meanwhile is replayed to it, and its poll's `404` says why).
//! 10. A poll answered with something that is no readable job (a proxy's page, a cut JSON, a
//!     completed job without its `video_url`, a body too large), or with another job than the
//!     one polled, is polled again after the shortest gap, as many times in a row as the retry
//!     policy allows (`max_retries`), then ends the wait with that `Decode` error naming the job;
//!     with no time left before the deadline for the poll again, the wait times out instead (and
//!     cleans up as rule 6 says). A poll is a read, safe to repeat; ending a ten-minute wait on
//!     one bad answer left a job going on that a caller would likely create again and pay for
//!     twice (helper-46). The look before a clean-up's delete (rule 8) refuses another job's
//!     answer too: read as this one's, a pending one would have had this job deleted.
//!
//! # Theory of operation
//! ```text
//!   [Creating] --job--> [Sleeping until next poll] --time--> [Polling] --running--> [Sleeping]
//!        |                        |                              |--completed--> Done(Ok)
//!        |                        |                              |--failed-----> Done(JobFailed)
//!        +--error--> Done(Err)    +--deadline--> Done(WaitTimeout) or [Deleting] --> Done
//! ```
//! Drive it like every machine here: feed `handle_*(…, now)`, then drain `poll(now)` until it
//! returns `WaitUntil`, `Pending` or `Done`; take the outcome with [`JobRun::take_result`].

use crate::call::Call;
use crate::create::Create;
use crate::error::{Error, ErrorKind};
use crate::http::{HttpResponse, TransportKind};
use crate::model::{CreateVideoRequest, Job, JobStatus};
use crate::output::{Event, Output, Progress, RequestId};
use crate::pace::Pace;
use crate::request::{ClientConfig, Endpoint, IdempotencyKey};
use crate::response;
use crate::retry::{RetryPolicy, Rng};
use crate::schedule::PollPolicy;
use crate::secret::ApiKey;
use crate::time::Millis;
use serde::Serialize;
use std::collections::VecDeque;

/// The time a timed-out wait's delete (`cancel_on_timeout`) may take from when the wait gives up,
/// in ms (rule 2): the caller awaits its outcome, so it is bounded, as a create's look-up past the
/// deadline is ([`crate::create::LOOKUP_TIMEOUT_MS`]).
pub const CLEANUP_MS: u64 = 10_000;

/// How long a clean-up (a cancel's delete, or a timed-out wait's with [`JobRun::handing_off`]) may
/// go on in the background after its caller stopped waiting for it ([`CLEANUP_MS`]), in ms: past a
/// spent rate limit's minute and a `429`'s longest honoured pause, with room for the delete's
/// retries. Drivers bound their background clean-ups by it; what is not done by then is given up.
pub const BACKGROUND_MS: u64 = 130_000;

/// The error a driver reports when it stops waiting for a clean-up under way, `cleaning_up` (the
/// one [`JobRun::cleaning_up`] names), and lets it go on in the background: the same words in
/// every binding.
#[must_use]
pub fn handed_off(cleaning_up: &Error) -> Error {
    let mut e = cleaning_up.clone();
    e.message = format!(
        "{}; its delete goes on in the background for up to {} s (held by the rate limit, a 429's Retry-After or the server)",
        e.message,
        BACKGROUND_MS / 1000
    );
    e
}

/// The longest a job's `pending` sighting stays fresh enough for a clean-up to delete it on
/// without looking again (rule 8; `batch` rule 10), in ms: a second, however long the job is
/// expected to take ([`fresh_for`]). (A fifth of the expected time, at least 2 s, came before: it rested on the model of
/// generation times, and a model five times too slow, the emulator sped up without
/// `expected_scale` or a fresh process against a faster service, let a cancel 3 s after the
/// create delete the completed, charged video unseen: helper-52, 5 of 5. Half, chosen first, let
/// ~5–9 % of the emulator's jobs complete within it: helper-39.) The look costs one GET, and only
/// a clean-up pays it.
pub const FRESH_MS: u64 = 1_000;

/// The least freshness of a pending sighting, in ms: a delete just after its look stays within it.
pub const FRESH_MIN_MS: u64 = 250;

/// How long a job's `pending` sighting stays fresh enough to delete it on (rule 8; `batch` rule
/// 10): a fifth of its expected time (the model's, scaled as the client learned or was told), at
/// most [`FRESH_MS`] and at least [`FRESH_MIN_MS`]. (helper-55: the emulator at ×50, as the
/// tests run it, takes a job from pending to completed in under a second.)
#[must_use]
pub fn fresh_for(expected_ms: u64) -> u64 {
    (expected_ms / 5).clamp(FRESH_MIN_MS, FRESH_MS)
}

/// Whether a clean-up's look at a job, asked for at `asked` and answered `now`, came later than a
/// pending sighting of it stays fresh (it waited that long for a slot): another look would be as
/// late, so its delete goes out whenever its slot comes (rule 8; `batch` rule 10).
pub(crate) fn look_was_slow(asked: Option<Millis>, now: Millis, expected_ms: u64) -> bool {
    asked.is_some_and(|t| now.since(t) >= fresh_for(expected_ms))
}

/// Why a clean-up left alone a job whose status this SDK does not know (rule 6): a newer service's
/// status may be a finished one (`succeeded`) or a step after generation (`finalizing`), and a
/// DELETE would remove a charged video's record; a job left to run is charged, but its video is
/// the caller's (helper-54).
#[must_use]
pub fn unknown_left_alone(status: &str) -> String {
    format!("the job's status `{status}` is not one this SDK knows (it may be finished), so it was not deleted and goes on")
}

/// How many times a delete held past its sighting's freshness (tried again after a pause; in a
/// batch, also held by its limiter) looks at its job first (rule 8; `batch` rule 10) before it
/// goes out on the last look: a budget whose slots are further apart than a sighting stays fresh
/// must still get the delete out.
pub(crate) const MAX_RELOOKS: u8 = 2;

/// How a wait behaves.
#[derive(Clone, Debug, PartialEq, Serialize)]
// `Deserialize` reads a tree and calls the hand-written reader (crate::readers).
// Every field defaults: a partial object is these defaults with its fields laid over (how every
// binding passes options), read in one pass with no merge.
#[serde(default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct WaitOptions {
    /// Give up waiting after this many ms (default 10 minutes; `None` waits for ever).
    pub timeout_ms: Option<u64>,
    /// When the wait gives up, delete the job if it is still pending (refunding it): on its
    /// timeout, and, for a wait for an existing job, on a cancel (rule 6; a create-and-wait's
    /// cancel deletes its own job either way). Default false.
    pub cancel_on_timeout: bool,
    /// When to poll.
    pub poll: PollPolicy,
    /// Retries for each request.
    pub retry: RetryPolicy,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions { timeout_ms: Some(600_000), cancel_on_timeout: false, poll: PollPolicy::default(), retry: RetryPolicy::default() }
    }
}

#[derive(Debug)]
enum Phase {
    Creating(Create),
    Sleeping(Millis),
    Polling(Call),
    Deleting(Call, Error),
    /// A look at the job before a clean-up's delete, its sighting being stale (rule 8), with the
    /// error to end with.
    Checking(Call, Error),
    /// Held since then (rule 7): an adopted job that has ended (`last`), or, with the error to end
    /// with, the delete of an adopted job (a cancel) that may be another create's.
    Holding(Millis, Option<Error>),
    Done,
}

/// A job being waited for. See the module docs.
#[derive(Debug)]
pub struct JobRun {
    config: ClientConfig,
    /// `None`: a keyless client's, behind a proxy that adds the key.
    key: Option<ApiKey>,
    options: WaitOptions,
    rng: Rng,
    deadline: Option<Millis>,
    started_at: Millis,
    /// Since when the job has been known to exist: the create's answer, or the wait's start. The
    /// schedule reads a job's age from here, not from the run's start: a create that waited out
    /// a 429's `Retry-After` made its job later, and a 3 % progress read as 3 % of the run's time
    /// put the next poll 20 s off (helper-36).
    job_since: Millis,
    job_id: Option<String>,
    last: Option<Job>,
    /// When the job was last seen `pending`: a clean-up's
    /// delete goes by it (rule 8).
    pending_seen_at: Option<Millis>,
    overdue_polls: u32,
    cancel_requested: bool,
    /// Whether a cancel deletes a job last seen pending (rule 6): a create-and-wait's own job, or
    /// a waited-for one with `cancel_on_timeout`.
    deletes_on_cancel: bool,
    /// The end of a timed-out wait's clean-up (`cancel_on_timeout`, rule 2): set once, so a run
    /// that times out again (after giving an adopted job up, rule 7) keeps the first bound.
    clean_up_by: Option<Millis>,
    /// A timed-out wait's error, kept while its clean-up runs (`cancel_on_timeout`): a run that
    /// gives an adopted job up meanwhile (rule 7) and finds its own deletes that one with it.
    timed_out_with: Option<Error>,
    /// Its driver hands a clean-up its caller stopped waiting for to the background (rule 2).
    hands_off: bool,
    /// The current delete call has sent an attempt; and how many times a delete tried again
    /// after a pause looked at the job first (rule 8).
    delete_sent: bool,
    relooks: u8,
    /// When the clean-up's own look at the job (its GET before a delete, rule 8) was asked for.
    look_asked_at: Option<Millis>,
    /// The last look was answered that late: its delete carries no `send_by` (a retry after a
    /// pause still looks first, by `relooks`).
    slow_look: bool,
    /// Polls in a row whose answer was no job, or another job (rule 10).
    unreadable: u32,
    next_id: u64,
    /// The create whose job was adopted from the job list, kept while the run may give that job
    /// up and look for its own again (rule 7); dropping it makes the adoption final.
    again: Option<Create>,
    /// What the client's waits learned of the service's speed ([`crate::pace`]): read at the
    /// start, taught by a create-and-wait's own job.
    pace: Option<Pace>,
    /// When the create's answer named this run's own job (not one adopted from the list): the
    /// start of the time a completed job teaches the pace (`pace` rule 1).
    own_since: Option<Millis>,
    /// The client's claims, where this run watches its job under the holder id `watcher` (rule 9;
    /// its create's, so that a job taken back from it is unwatched at once).
    claims: Option<crate::claims::Claims>,
    watcher: u64,
    phase: Phase,
    events: VecDeque<Event>,
    result: Option<Result<Job, Error>>,
}

impl WaitOptions {
    /// Refuses a poll policy that breaks its rules ([`PollPolicy::check`]), naming `poll.…`.
    ///
    /// # Errors
    /// A validation error listing every broken rule.
    pub fn check(&self) -> Result<(), Error> {
        self.poll.check()
    }
}

impl JobRun {
    /// Waits for an existing job; the first poll goes out at once.
    ///
    /// # Errors
    /// A validation error on `id`, on an option ([`WaitOptions::check`]), or on `api_key` for a
    /// keyless wait on the service ([`ClientConfig::check_key`]).
    pub fn wait(config: &ClientConfig, key: Option<&ApiKey>, id: &str, options: WaitOptions, seed: u64, now: Millis) -> Result<Self, Error> {
        config.check_key(key)?;
        crate::validate::validate_job_id(id).map_err(|i| Error::validation(vec![i]))?;
        options.check()?;
        let mut run = JobRun::blank(config, key, options, seed, now, Phase::Sleeping(now));
        run.job_id = Some(id.to_owned());
        run.deletes_on_cancel = run.options.cancel_on_timeout;
        Ok(run)
    }

    /// Creates a job (at most once: see [`Create`]) and waits for it.
    ///
    /// # Errors
    /// A validation error listing every violated rule, on an option ([`WaitOptions::check`]), or on
    /// `api_key` for a keyless create on the service ([`ClientConfig::check_key`]).
    pub fn create_and_wait(config: &ClientConfig, key: Option<&ApiKey>, req: CreateVideoRequest, idempotency_key: &IdempotencyKey, options: WaitOptions, seed: u64, now: Millis) -> Result<Self, Error> {
        options.check()?;
        let deadline = options.timeout_ms.map(|t| now.plus(t));
        let create = Create::new(config, key, req, idempotency_key, options.retry, seed ^ 0x5EED, deadline, 0)?.deadline_of_a_wait();
        Ok(JobRun::blank(config, key, options, seed, now, Phase::Creating(create)))
    }

    fn blank(config: &ClientConfig, key: Option<&ApiKey>, options: WaitOptions, seed: u64, now: Millis, phase: Phase) -> Self {
        JobRun {
            config: config.clone(),
            key: key.cloned(),
            deadline: options.timeout_ms.map(|t| now.plus(t)),
            options,
            rng: Rng::new(seed),
            started_at: now,
            job_since: now,
            job_id: None,
            last: None,
            pending_seen_at: None,
            overdue_polls: 0,
            cancel_requested: false,
            deletes_on_cancel: true,
            clean_up_by: None,
            timed_out_with: None,
            hands_off: false,
            delete_sent: false,
            relooks: 0,
            look_asked_at: None,
            slow_look: false,
            unreadable: 0,
            next_id: 1000,
            again: None,
            pace: None,
            own_since: None,
            claims: None,
            watcher: 0,
            phase,
            events: VecDeque::new(),
            result: None,
        }
    }

    /// Shares the client's claims with this run's create (see [`crate::claims`]), and watches
    /// its job in them (rule 9): a wait for a job's id shares them for that alone.
    #[must_use]
    pub fn sharing(mut self, claims: &crate::claims::Claims) -> Self {
        self.watcher = match &mut self.phase {
            Phase::Creating(create) => {
                create.share_for_run(claims);
                create.holder()
            }
            _ => claims.holder(),
        };
        self.claims = Some(claims.clone());
        self.watch();
        self
    }

    /// Watches the run's job, when it has one and would delete it on giving up, in the client's
    /// claims (rule 9).
    fn watch(&self) {
        if let (Some(claims), Some(id), true) = (&self.claims, &self.job_id, self.deletes_on_cancel) {
            claims.watch(self.watcher, id);
        }
    }

    /// Stops watching the run's job: it gave the job up, or ended (rule 9).
    fn unwatch(&self) {
        if let Some(claims) = &self.claims {
            claims.unwatch(self.watcher);
        }
    }

    /// Whether another run of the client watches this run's job (rule 9).
    fn watched_by_another(&self) -> bool {
        match (&self.claims, &self.job_id) {
            (Some(claims), Some(id)) => claims.watched_by_another(id, self.watcher),
            _ => false,
        }
    }

    /// Ends a clean-up without its delete: another run of the client waits for the job (rule 9).
    fn left_to_another(&mut self, mut final_error: Error) {
        final_error.message = format!("{}; the job was left alone: another call of this client waits for it (given the same idempotency key, or waiting for its id), and it goes on for that call", final_error.message);
        final_error.job_id.clone_from(&self.job_id);
        final_error.job_status = self.last.as_ref().map(|j| j.status.as_str().to_owned());
        self.finish(Err(final_error));
    }

    /// Uses what the client's waits learned of the service's speed when the caller left
    /// `poll.expected_scale` at 1, and teaches it what this run's own job shows ([`crate::pace`]).
    #[must_use]
    pub fn learning(mut self, pace: &Pace) -> Self {
        #[allow(clippy::float_cmp)] // the default, exactly: any other scale is the caller's
        if self.options.poll.expected_scale == 1.0
            && let Some(scale) = pace.scale()
        {
            self.options.poll.expected_scale = scale;
        }
        self.pace = Some(pace.clone());
        self
    }

    /// The job's id, once known.
    #[must_use]
    pub fn job_id(&self) -> Option<&str> {
        self.job_id.as_deref()
    }

    /// Declares that its driver hands a clean-up its caller stopped waiting for to the background
    /// (rule 2): the caller waits at most [`CLEANUP_MS`] once [`JobRun::cleaning_up`] says one is
    /// under way, then the driver drives the run on without it, for [`BACKGROUND_MS`] at most. A
    /// timed-out wait's delete then gets that time too, not [`CLEANUP_MS`] alone.
    #[must_use]
    pub fn handing_off(mut self) -> Self {
        self.hands_off = true;
        self
    }

    /// While a clean-up is under way (the delete of a job the caller gave up, by a cancel or a
    /// timed-out wait's `cancel_on_timeout`, or the look or hold before it: rules 6 to 8), the
    /// error the run will end with if nothing else goes wrong. A driver that stops waiting for it
    /// reports this error, adding that the delete goes on in the background.
    #[must_use]
    pub fn cleaning_up(&self) -> Option<&Error> {
        match &self.phase {
            Phase::Deleting(_, e) | Phase::Checking(_, e) | Phase::Holding(_, Some(e)) => Some(e),
            _ => None,
        }
    }

    /// The job as last seen.
    #[must_use]
    pub fn last_seen(&self) -> Option<&Job> {
        self.last.as_ref()
    }

    /// The instant at which the wait gives up, if any; once it has, with `cancel_on_timeout`, the
    /// end of its clean-up's time (rule 2).
    #[must_use]
    pub fn deadline(&self) -> Option<Millis> {
        self.deadline
    }

    /// What to do next. Drain until `WaitUntil`, `Pending` or `Done`.
    #[must_use]
    pub fn poll(&mut self, now: Millis) -> Output {
        loop {
            if let Some(e) = self.events.pop_front() {
                return Output::Event(e);
            }
            if let Some(out) = self.step(now) {
                return out;
            }
        }
    }

    /// One step: `Some(output)` to hand out, `None` when the phase changed and the loop goes on.
    fn step(&mut self, now: Millis) -> Option<Output> {
        let deadline_passed = self.deadline.is_some_and(|d| now >= d);
        if matches!(self.phase, Phase::Sleeping(_) | Phase::Holding(..)) && self.taken_back() {
            self.look_again();
            return None;
        }
        match &mut self.phase {
            Phase::Done => Some(Output::Done),
            Phase::Creating(create) => match create.poll(now) {
                Output::Event(e) => Some(Output::Event(e)),
                Output::Done => {
                    self.next_id = self.next_id.max(create.next_id());
                    let sent_at = create.first_sent_at();
                    let replayed = create.answer_may_be_a_replay();
                    let result = create.take_result();
                    if result.is_ok() && create.adopted() {
                        // Kept: the run may yet give its job up (rule 7).
                        if let Phase::Creating(create) = std::mem::replace(&mut self.phase, Phase::Done) {
                            self.again = Some(create);
                        }
                    }
                    match result {
                        Ok(job) => self.created(job, sent_at.unwrap_or(now), replayed, now),
                        Err(e) => self.finish(Err(e)),
                    }
                    None
                }
                other => Some(other),
            },
            Phase::Holding(since, held) => {
                let (since, ended) = (*since, held.is_none());
                if !self.alike_open() || deadline_passed || (ended && self.cancel_requested) || now.since(since) >= crate::claims::MAX_WAIT_MS {
                    match std::mem::replace(&mut self.phase, Phase::Done) {
                        // A timed-out wait's delete held (rule 7) until its clean-up's time ran
                        // out: no delete can be sent now, and the hold is why.
                        Phase::Holding(_, Some(mut final_error)) if deadline_passed && self.clean_up_by.is_some() && !self.cancel_requested => {
                            final_error.message = format!(
                                "{}; its delete was held for the answer of an identical create of the client (the job may be that create's) until the clean-up's time ran out, so the job goes on",
                                final_error.message
                            );
                            self.finish(Err(final_error));
                        }
                        Phase::Holding(_, Some(final_error)) => self.start_delete(final_error, now),
                        _ => {
                            if let Some(job) = self.last.clone() {
                                self.ended(job);
                            }
                        }
                    }
                    return None;
                }
                let recheck = now.plus(crate::claims::RECHECK_MS * 10);
                Some(Output::WaitUntil(self.deadline.map_or(recheck, |d| d.min(recheck))))
            }
            Phase::Sleeping(until) => {
                if deadline_passed {
                    self.timed_out(now, None);
                    return None;
                }
                if now < *until {
                    return Some(Output::WaitUntil(self.deadline.map_or(*until, |d| d.min(*until))));
                }
                let id = self.job_id.clone().unwrap_or_default();
                match self.config.retrieve_video(self.key.as_ref(), &id) {
                    Ok(req) => {
                        let seed = self.rng.next_u64();
                        self.phase = Phase::Polling(Call::new(Endpoint::RetrieveVideo, req, self.options.retry, seed, self.deadline, self.next_id));
                    }
                    // The caller's id was checked in `new`, so this one came from the service (the
                    // create's answer): an answer the SDK cannot use is a decode error, not the caller's.
                    Err(_) => self.finish(Err(Error::new(ErrorKind::Decode, "the service named the new job with an id that cannot be used in a URL"))),
                }
                None
            }
            Phase::Polling(call) | Phase::Deleting(call, _) | Phase::Checking(call, _) => match call.poll(now) {
                Output::Done => {
                    self.next_id = self.next_id.max(call.next_id());
                    let in_doubt = call.maybe_applied();
                    let result = call.take_result();
                    self.call_done(result, in_doubt, now);
                    None
                }
                Output::Send { .. } if self.delete_sent && self.relooks < MAX_RELOOKS && matches!(self.phase, Phase::Deleting(..)) && self.stale(now) => {
                    // A delete tried again after a pause (a 429's `Retry-After`, a 5xx's backoff)
                    // long enough for its job to have finished: looked at again first (rule 8),
                    // this attempt not sent (its id is the look's to skip past).
                    self.look_before_delete(now);
                    None
                }
                // Another run came to wait for the job meanwhile (its create's answer, say): this
                // attempt is not sent (its id is skipped past), and the job left to it (rule 9).
                Output::Send { .. } if matches!(self.phase, Phase::Deleting(..)) && self.watched_by_another() => {
                    if let Some(final_error) = self.drop_delete() {
                        self.left_to_another(final_error);
                    }
                    None
                }
                Output::Send { id, endpoint, request, timeout_ms, .. } if matches!(self.phase, Phase::Deleting(..)) => {
                    self.delete_sent = true;
                    // Held by the driver's wait for a slot past its sighting's freshness, it is
                    // not sent but looked at again first (rule 8), while a look is left.
                    let send_by = self.fresh_until().filter(|_| self.relooks < MAX_RELOOKS && !self.slow_look);
                    Some(Output::Send { id, endpoint, request, timeout_ms, send_by })
                }
                other => Some(other),
            },
        }
    }

    /// The create ended with `job`, its first attempt sent at `sent_at`.
    /// Its job is known: named by the create's answer, or adopted. A `replayed` answer's status
    /// is as of an earlier attempt: no sighting (rule 8), so a clean-up looks first.
    fn created(&mut self, job: Job, sent_at: Millis, replayed: bool, now: Millis) {
        // An adopted job's create was kept (`again`) before this: its time is not this run's. An
        // own job's counts from the create's first send, not its answer: a lost answer's resend
        // gets the job the first send made, which has been running since.
        self.own_since = self.again.is_none().then_some(sent_at);
        self.job_since = now;
        self.job_id = Some(job.id.clone());
        self.watch();
        if replayed {
            self.last = Some(job);
        } else {
            self.seen(job, now);
        }
        if self.cancel_requested {
            self.delete_or_hold(Error::new(ErrorKind::Cancelled, "the wait was cancelled"), now);
        } else if let Some(err) = self.timed_out_with.clone() {
            // Found its own job after giving an adopted one up during a timed-out wait's clean-up
            // (rule 7): that clean-up goes on with this job (it went back to polling, for up to
            // the clean-up's time, and then could not send the delete: the job charged).
            self.delete_or_hold(err, now);
        } else {
            let first = self.options.poll.first_delay_ms(self.last.as_ref());
            self.phase = Phase::Sleeping(now.plus(first));
        }
    }

    /// A poll's or a delete's call ended (`in_doubt`: an attempt of it may have been carried out
    /// though no answer said so).
    fn call_done(&mut self, result: Result<HttpResponse, Error>, in_doubt: bool, now: Millis) {
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Deleting(_, final_error) => {
                // A cancel's and a timeout's (`cancel_on_timeout`) alike.
                let mut err = final_error;
                if let Some(status) = err.after_delete(result.as_ref().map(response::delete_refund), in_doubt) {
                    err.job_status = Some(status.as_str().to_owned());
                }
                self.finish(Err(err));
            }
            // The job was given up meanwhile (rule 7: another create's answer names it): its own
            // is looked for, and deleted, instead.
            Phase::Checking(..) if self.taken_back() => self.look_again(),
            // The look before a clean-up's delete (rule 8): it deletes a job still pending.
            // Another job's answer is refused (helper-48): read as this one's, a pending one would
            // have had this job deleted, completed meanwhile or not.
            Phase::Checking(_, mut final_error) => match result.and_then(|resp| self.parse_own(&resp)) {
                Ok(job) => {
                    let ended = job.status.is_terminal().then(|| job.status.as_str().to_owned());
                    // A look answered later than a sighting stays fresh (it waited that long for a
                    // slot of a spent budget, or the server is that slow): another look would be
                    // as late, so its delete is sent whenever its slot comes, as the last look's
                    // is (rule 8). Each look cost a slot: under a spent budget a clean-up took
                    // four, and five cancelled together at 6 a minute gave up charged (helper-76).
                    // Only the slot wait: a delete tried again after a pause still looks first.
                    self.slow_look = look_was_slow(self.look_asked_at.take(), now, self.options.poll.expected_ms(Some(&job)));
                    self.seen(job, now);
                    if let Some(status) = ended {
                        final_error.message = format!("{}; the job had ended ({status}) by the time it was looked at again, so it was left alone", final_error.message);
                    }
                    self.start_delete(final_error, now);
                }
                Err(e) => {
                    final_error.message = format!("{}; the job was not deleted: its last sighting was stale and looking at it again failed ({})", final_error.message, e.message);
                    final_error.job_id.clone_from(&self.job_id);
                    final_error.job_status = self.last.as_ref().map(|j| j.status.as_str().to_owned());
                    self.finish(Err(final_error));
                }
            },
            // The job polled was given up meanwhile (rule 7): its answer no longer matters.
            _ if self.taken_back() => self.look_again(),
            _ => match result.and_then(|resp| self.parse_own(&resp)) {
                Ok(job) => {
                    self.unreadable = 0;
                    self.observed(job, now);
                }
                // Rule 10: a bad answer to a read is read again, within the retry budget; with no
                // time left for that, the wait times out (its clean-up as any timeout's: a
                // `cancel_on_timeout` job still pending is deleted), saying why.
                Err(e) if e.is_unreadable_answer() && self.unreadable < self.options.retry.max_retries => {
                    let after_ms = self.options.poll.min_interval_ms;
                    if self.deadline.is_some_and(|d| now.plus(after_ms) >= d) {
                        self.timed_out(now, Some(format!("the last poll's answer could not be read ({}), and no poll again could be answered before the deadline", e.message)));
                    } else {
                        self.unreadable += 1;
                        self.events.push_back(Event::Retrying { attempt: self.unreadable, after_ms, error: e });
                        self.phase = Phase::Sleeping(now.plus(after_ms));
                    }
                }
                // A poll that timed out at the deadline, or that was not sent before it (a driver
                // with no slot of its rate limit in time says `Connect`): the wait timed out.
                Err(e) if (e.kind == ErrorKind::Timeout || e.transport == Some(TransportKind::Connect)) && self.deadline.is_some_and(|d| now >= d) => {
                    // A poll not sent says why (no slot of the client's rate limit in time).
                    self.timed_out(now, (e.transport == Some(TransportKind::Connect)).then_some(e.message));
                }
                // The service asked for a pause (429) that runs past the deadline: no poll can be
                // answered in time, so the wait times out now, saying why.
                Err(e) if e.kind == ErrorKind::RateLimit && e.retry_after_ms.is_some_and(|ms| self.deadline.is_some_and(|d| now.plus(ms) >= d)) => {
                    let why = format!("the service asked for a pause of {} ms (429, Retry-After), past the wait's deadline", e.retry_after_ms.unwrap_or_default());
                    self.timed_out(now, Some(why));
                }
                Err(mut e) => {
                    if e.kind == ErrorKind::NotFound && self.own_since.is_some() {
                        // helper-43: an idempotency key used again got its deleted job back.
                        e.message = format!("{}; the job this call's create was answered with is gone: deleted by another call, or earlier (a create under an idempotency key used before gets that key's job back, even a deleted one: a new create needs a new key)", e.message);
                    }
                    // The job goes on: the error names it, as a timeout's does.
                    e.job_id = e.job_id.or_else(|| self.job_id.clone());
                    e.job_status = e.job_status.or_else(|| self.last.as_ref().map(|j| j.status.as_str().to_owned()));
                    self.finish(Err(e));
                }
            },
        }
    }

    /// The answer to a request for this run's job: that job, or a `Decode` error naming it when
    /// it is no job or another job's (rule 10).
    fn parse_own(&self, resp: &HttpResponse) -> Result<Job, Error> {
        response::parse_job_for(resp, self.job_id.as_deref())
    }

    fn observed(&mut self, job: Job, now: Millis) {
        let elapsed = now.since(self.started_at);
        if self.last.as_ref().is_none_or(|l| l.status != job.status) {
            self.events.push_back(Event::StatusChanged { job: job.clone() });
        }
        let expected = self.options.poll.expected_ms(Some(&job));
        self.events.push_back(Event::Progress(Progress {
            job_id: job.id.clone(),
            status: job.status.clone(),
            percent: self.options.poll.estimate_percent(&job, elapsed),
            elapsed_ms: elapsed,
            expected_ms: expected.max(elapsed),
        }));
        self.seen(job.clone(), now);
        if let (JobStatus::Completed, Some(pace), Some(since)) = (&job.status, &self.pace, self.own_since) {
            pace.learn(now.since(since), crate::schedule::model_ms(Some(&job)));
        }
        match job.status {
            JobStatus::Completed | JobStatus::Failed if self.alike_open() => self.phase = Phase::Holding(now, None),
            JobStatus::Completed | JobStatus::Failed => self.ended(job),
            _ if self.cancel_requested => self.delete_or_hold(Error::new(ErrorKind::Cancelled, "the wait was cancelled"), now),
            _ => {
                let age = now.since(self.job_since);
                if age >= expected {
                    self.overdue_polls += 1;
                }
                let delay = self.options.poll.next_delay_ms(Some(&job), age, self.overdue_polls);
                self.phase = Phase::Sleeping(now.plus(delay));
            }
        }
    }

    /// Whether this run's job was adopted and an alike create of the client is open: its end is
    /// held (rule 7).
    fn alike_open(&self) -> bool {
        self.again.as_ref().is_some_and(Create::alike_open)
    }

    /// Whether this run's adopted job was taken back by its owner's answer (rule 7): told once.
    fn taken_back(&self) -> bool {
        self.again.as_ref().is_some_and(Create::taken_back)
    }

    /// Gives the adopted job up and looks for this run's own (rule 7): the create's outcome is
    /// unknown again, so it reconciles first, never adopting a job another create holds.
    fn look_again(&mut self) {
        let Some(mut create) = self.again.take() else { return };
        self.unwatch();
        let given_up = self.job_id.take().unwrap_or_default();
        self.last = None;
        self.pending_seen_at = None;
        self.overdue_polls = 0;
        self.unreadable = 0;
        self.events.push_back(Event::Warning {
            message: format!("gave job {given_up} up: another create on this key names it as its own (identical requests' jobs look alike in the job list); this call looks for its own job again"),
        });
        create.look_again();
        if self.cancel_requested {
            create.cancel(); // a run that is stopping creates nothing new
        }
        self.phase = Phase::Creating(create);
    }

    /// The job ended, completed or (any other status) failed: so does the run.
    fn ended(&mut self, job: Job) {
        match job.status {
            JobStatus::Completed => self.finish(Ok(job)),
            _ => self.finish(Err(Error::job_failed(&job))),
        }
    }

    /// The deadline passed (or, `why`, no poll can be answered before it).
    fn timed_out(&mut self, now: Millis, why: Option<String>) {
        let status = self.last.as_ref().map(|j| j.status.as_str().to_owned());
        let id = self.job_id.clone();
        let why = why.map(|w| format!(": {w}")).unwrap_or_default();
        // Given up before the deadline (no poll could be answered by then), it says of how long.
        let waited = match (now.since(self.started_at), self.options.timeout_ms) {
            (spent, Some(limit)) if spent < limit => format!("{spent} ms of its {limit}"),
            (spent, _) => format!("{spent} ms"),
        };
        let gave_up = format!("gave up waiting for job {} after {waited}{why}", id.as_deref().unwrap_or("?"));
        let goes_on = if self.options.cancel_on_timeout { "" } else { "; the job goes on" };
        let mut err = Error::new(ErrorKind::WaitTimeout, format!("{gave_up}{goes_on}"));
        err.job_id = id;
        err.job_status = status;
        if self.options.cancel_on_timeout {
            // The delete gets its own time, not the expired deadline, but bounded: the caller
            // awaits its outcome, and a `Retry-After` pause or a slow server must not hold a wait
            // that asked for a limit for minutes (rule 2).
            let bound = if self.hands_off { CLEANUP_MS + BACKGROUND_MS } else { CLEANUP_MS };
            self.deadline = Some(*self.clean_up_by.get_or_insert(now.plus(bound)));
            self.timed_out_with = Some(err.clone());
            self.delete_or_hold(err, now);
        } else {
            self.finish(Err(err));
        }
    }

    /// As [`JobRun::start_delete`], unless the job was adopted from the list while an identical
    /// create of the client is still open: it may be that create's own, and deleting it would
    /// delete another call's job. Then the delete is held (rule 7) until that create has its
    /// answer: if the answer names this job, the run gives it up and looks for its own (to delete
    /// that one); if not, the job is deleted.
    fn delete_or_hold(&mut self, final_error: Error, now: Millis) {
        // Giving the job up: another run that gives it up later deletes it (rule 9).
        self.unwatch();
        if self.alike_open() {
            // A poll abandoned in flight keeps its ids (as in `start_delete`).
            if let Phase::Polling(call) = &self.phase {
                self.next_id = self.next_id.max(call.next_id());
            }
            self.phase = Phase::Holding(now, Some(final_error));
        } else {
            self.start_delete(final_error, now);
        }
        // Said before the clean-up's first request goes out (the driver may hand it off).
        if let Some(error) = self.cleaning_up().cloned() {
            self.events.push_back(Event::CleaningUp { error });
        }
    }

    /// The job as seen at `now`.
    fn seen(&mut self, job: Job, now: Millis) {
        if job.status == JobStatus::Pending {
            self.pending_seen_at = Some(now);
        }
        self.last = Some(job);
    }

    /// Whether the job's last `pending` sighting is too old to delete it on (rule 8).
    fn stale(&self, now: Millis) -> bool {
        self.fresh_until().is_none_or(|t| now >= t)
    }

    /// When the job's last `pending` sighting goes stale (rule 8): a delete's `send_by`.
    fn fresh_until(&self) -> Option<Millis> {
        self.pending_seen_at.map(|t| t.plus(fresh_for(self.options.poll.expected_ms(self.last.as_ref()))))
    }

    /// Takes the delete under way out of the phase, unsent (its ids skipped past), with the error
    /// its clean-up ends with; `None`, the phase left as it is, when no delete is under way.
    fn drop_delete(&mut self) -> Option<Error> {
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Deleting(call, final_error) => {
                self.next_id = self.next_id.max(call.next_id());
                Some(final_error)
            }
            other => {
                self.phase = other;
                None
            }
        }
    }

    /// Drops the delete under way and looks at the job again before deleting it (rule 8).
    fn look_before_delete(&mut self, now: Millis) {
        if let Some(final_error) = self.drop_delete() {
            self.relooks += 1;
            self.start_delete(final_error, now);
        }
    }

    /// Deletes the job if it was last seen pending (rule 6), after looking at it again if that
    /// sighting is stale (rule 8); otherwise ends with `final_error` at once.
    fn start_delete(&mut self, mut final_error: Error, now: Millis) {
        final_error.job_id.clone_from(&self.job_id);
        final_error.job_status = self.last.as_ref().map(|j| j.status.as_str().to_owned());
        let deletable = self.last.as_ref().is_some_and(|j| j.status == JobStatus::Pending);
        let Some(id) = self.job_id.clone().filter(|_| deletable) else {
            match self.last.as_ref().map(|j| &j.status) {
                Some(JobStatus::Processing) => final_error.message = format!("{}; the job is already processing and goes on", final_error.message),
                Some(JobStatus::Unknown(s)) => final_error.message = format!("{}; {}", final_error.message, unknown_left_alone(s)),
                None if self.job_id.is_some() => final_error.message = format!("{}; the job was not seen yet, so it was left alone", final_error.message),
                _ => {}
            }
            return self.finish(Err(final_error));
        };
        if self.watched_by_another() {
            return self.left_to_another(final_error);
        }
        // A call still under way (a poll cancelled in flight) owns ids up to its own next id: the
        // delete must not reuse one, or the abandoned poll's answer would be taken for the delete's.
        if let Phase::Polling(call) | Phase::Deleting(call, _) | Phase::Checking(call, _) = &self.phase {
            self.next_id = self.next_id.max(call.next_id());
        }
        // A timeout's clean-up within its time (rule 2); a cancel's has no limit: the caller has
        // stopped waiting for it, and a job left pending would be charged.
        let by = if self.cancel_requested { None } else { self.deadline };
        if self.stale(now) {
            // A poll in flight is that look: its answer is fresher than any sighting.
            if let Phase::Polling(_) = &self.phase {
                if let Phase::Polling(call) = std::mem::replace(&mut self.phase, Phase::Done) {
                    self.look_asked_at = None; // asked for before the clean-up: no measure of its slots
                    self.phase = Phase::Checking(call, final_error);
                }
                return;
            }
            return match self.config.retrieve_video(self.key.as_ref(), &id) {
                Ok(req) => {
                    let seed = self.rng.next_u64();
                    self.look_asked_at = Some(now);
                    self.phase = Phase::Checking(Call::new(Endpoint::RetrieveVideo, req, self.options.retry, seed, by, self.next_id), final_error);
                }
                Err(e) => self.finish(Err(e)),
            };
        }
        match self.config.delete_video(self.key.as_ref(), &id) {
            Ok(req) => {
                let seed = self.rng.next_u64();
                self.delete_sent = false;
                self.phase = Phase::Deleting(Call::new(Endpoint::DeleteVideo, req, self.options.retry, seed, by, self.next_id), final_error);
            }
            Err(e) => self.finish(Err(e)),
        }
    }

    /// The response to request `id`.
    pub fn handle_response(&mut self, id: RequestId, resp: HttpResponse, now: Millis) {
        match &mut self.phase {
            Phase::Creating(c) => c.handle_response(id, resp, now),
            Phase::Polling(c) | Phase::Deleting(c, _) | Phase::Checking(c, _) => c.handle_response(id, resp, now),
            _ => self.events.push_back(Event::Warning { message: format!("ignored a response to request {} that is not in flight", id.0) }),
        }
    }

    /// Request `id` got no answer.
    pub fn handle_transport_error(&mut self, id: RequestId, kind: TransportKind, message: &str, now: Millis) {
        // A delete not sent (its driver's slot came after its `send_by`, or none came) whose
        // sighting went stale meanwhile: looked at again first (rule 8), not tried blindly.
        // (One not sent because its bound passed, a timed-out wait's clean-up time, ends there.)
        let within = self.cancel_requested || self.deadline.is_none_or(|d| now < d);
        // (At its `send_by` itself, where a driver's slot wait gives up, it is stale.)
        if kind == TransportKind::Connect
            && within
            && self.relooks < MAX_RELOOKS
            && self.stale(now)
            && let Phase::Deleting(call, _) = &self.phase
            && call.in_flight() == Some(id)
        {
            return self.look_before_delete(now);
        }
        match &mut self.phase {
            Phase::Creating(c) => c.handle_transport_error(id, kind, message, now),
            Phase::Polling(c) | Phase::Deleting(c, _) | Phase::Checking(c, _) => c.handle_transport_error(id, kind, message, now),
            _ => self.events.push_back(Event::Warning { message: format!("ignored a failure of request {} that is not in flight", id.0) }),
        }
    }

    /// Time passed (spurious calls are harmless: `poll` looks at `now` itself).
    pub fn handle_timeout(&mut self, _now: Millis) {}

    /// Stops the wait. A create-and-wait's job last seen pending is deleted (refunded), and so is a
    /// waited-for one with `cancel_on_timeout`; any other job, a processing one, or one not seen
    /// yet, is left alone (rule 6). The run ends with a `cancelled` error after the delete
    /// (drain `poll` to send it).
    pub fn cancel(&mut self, now: Millis) {
        if self.result.is_some() || self.cancel_requested {
            return;
        }
        self.cancel_requested = true;
        match &mut self.phase {
            Phase::Creating(c) => c.cancel(),
            // A wait that only watches its job leaves it (rule 6), a poll in flight abandoned.
            Phase::Sleeping(_) | Phase::Polling(_) if !self.deletes_on_cancel => {
                let mut err = Error::new(ErrorKind::Cancelled, "the wait was cancelled; the job goes on (a wait deletes the job it watches only when told to delete on giving up: cancel_on_timeout)");
                err.job_id.clone_from(&self.job_id);
                err.job_status = self.last.as_ref().map(|j| j.status.as_str().to_owned());
                self.finish(Err(err));
            }
            Phase::Sleeping(_) | Phase::Polling(_) => self.delete_or_hold(Error::new(ErrorKind::Cancelled, "the wait was cancelled"), now),
            // An ended job's hold ends at the next `poll`; a held delete goes on being held (rule 7).
            Phase::Holding(..) | Phase::Deleting(..) | Phase::Checking(..) | Phase::Done => {}
        }
    }

    fn finish(&mut self, result: Result<Job, Error>) {
        self.again = None; // what this run adopted is its for good (rule 7)
        self.unwatch(); // its job is no longer kept for it (rule 9)
        self.phase = Phase::Done;
        self.result = Some(result);
    }

    /// Whether the run has finished.
    #[must_use]
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// The finished job once `Done`.
    ///
    /// # Errors
    /// `job_failed`, `wait_timeout`, `cancelled`, the failing call's error, or `usage` before `Done`.
    pub fn take_result(&mut self) -> Result<Job, Error> {
        self.result.take().unwrap_or_else(|| Err(Error::usage("the run has no result yet (or it was already taken)")))
    }
}

/// A run dropped before it ended (its driver gave up on it) watches its job no longer (rule 9).
impl Drop for JobRun {
    fn drop(&mut self) {
        self.unwatch();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Fake;

    #[test]
    fn partial_options_are_the_defaults_with_their_fields_laid_over() {
        let o: WaitOptions = serde_json::from_slice(br#"{"poll": {"first_poll_ms": 10}, "retry": {"max_retries": 1}, "timeout_ms": null}"#).unwrap();
        let mut want = WaitOptions { timeout_ms: None, ..WaitOptions::default() };
        want.poll.first_poll_ms = 10;
        want.retry.max_retries = 1;
        assert_eq!(o, want);
        let all: WaitOptions = serde_json::from_slice(b"{}").unwrap();
        assert_eq!(all, WaitOptions::default());
        let batch: crate::BatchOptions = serde_json::from_slice(br#"{"limits": {"concurrent_jobs": 2}, "likely_from": 0.5}"#).unwrap();
        assert_eq!((batch.limits.concurrent_jobs, batch.limits.requests_per_minute, batch.likely_from), (2, crate::Limits::STANDARD.requests_per_minute, 0.5));
        assert!(serde_json::from_slice::<WaitOptions>(br#"{"retry": null}"#).is_err(), "null is not a policy");
    }

    #[test]
    fn create_and_wait_polls_a_handful_of_times() {
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let idem = IdempotencyKey::from_entropy(&[9; 16]).unwrap();
        let mut run = JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("lake"), &idem, WaitOptions::default(), 1, Millis(0)).unwrap();
        let mut fake = Fake::new();
        let (events, done) = fake.drive(&mut run, 10_000, None);
        assert!(done);
        assert_eq!(run.take_result().unwrap().status, JobStatus::Completed);
        assert!(fake.sent.len() <= 12, "{} requests", fake.sent.len());
        assert!(events.iter().any(|e| matches!(e, Event::Progress(p) if p.percent == 100)));
    }

    #[test]
    fn a_poll_answered_with_no_job_or_another_job_is_polled_again_within_the_retry_budget() {
        // Rule 10 (helper-46): one unreadable answer ended a ten-minute wait, the job going on.
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let page = HttpResponse { status: 200, headers: vec![], body: b"<html>a proxy's page</html>".to_vec() };
        let other = HttpResponse::json(200, &serde_json::json!({"id": "job_2", "status": "completed", "video_url": "https://cdn/x.mp4", "cost_cents": 30}));
        let own = HttpResponse::json(200, &serde_json::json!({"id": "job_1", "status": "completed", "video_url": "https://cdn/1.mp4", "cost_cents": 30}));
        let retried = std::cell::Cell::new(0);
        let poll_once = |run: &mut JobRun, now: &mut u64, answer: &HttpResponse| {
            let id = loop {
                match run.poll(Millis(*now)) {
                    Output::Send { id, request, .. } => {
                        assert!(request.url.ends_with("/videos/job_1"), "{}", request.url);
                        break id;
                    }
                    Output::WaitUntil(t) => *now = t.0,
                    Output::Event(e) => retried.set(retried.get() + usize::from(matches!(e, Event::Retrying { .. }))),
                    o => panic!("{o:?}"),
                }
            };
            run.handle_response(id, answer.clone(), Millis(*now));
        };
        let mut options = WaitOptions::default();
        options.retry.max_retries = 2;
        let mut run = JobRun::wait(&config, Some(&key), "job_1", options.clone(), 1, Millis(0)).unwrap();
        let mut now = 0;
        poll_once(&mut run, &mut now, &page);
        poll_once(&mut run, &mut now, &other);
        poll_once(&mut run, &mut now, &own);
        while !matches!(run.poll(Millis(now)), Output::Done) {}
        assert_eq!(retried.get(), 2);
        assert_eq!(run.take_result().unwrap().video_url.as_deref(), Some("https://cdn/1.mp4"), "never another job's video");
        // Past the budget (two in a row), the wait ends with the last one's error, naming the job.
        let mut run = JobRun::wait(&config, Some(&key), "job_1", options, 1, Millis(0)).unwrap();
        let mut now = 0;
        for answer in [&page, &page, &other] {
            poll_once(&mut run, &mut now, answer);
        }
        while !matches!(run.poll(Millis(now)), Output::Done) {}
        let e = run.take_result().unwrap_err();
        assert_eq!((e.kind, e.job_id.as_deref()), (ErrorKind::Decode, Some("job_1")), "{e}");
        assert!(e.message.contains("another job (job_2)"), "{e}");
        // With no time left for the poll again, the wait times out (and cleans up as one does:
        // helper-48), saying why.
        let options = WaitOptions { timeout_ms: Some(3_000), cancel_on_timeout: true, ..WaitOptions::default() };
        let mut run = JobRun::wait(&config, Some(&key), "job_1", options, 1, Millis(0)).unwrap();
        let mut now = 0;
        poll_once(&mut run, &mut now, &page);
        poll_once(&mut run, &mut now, &page);
        let e = loop {
            match run.poll(Millis(now)) {
                Output::Done => break run.take_result().unwrap_err(),
                Output::Send { id, endpoint: Endpoint::DeleteVideo, .. } => run.handle_response(id, HttpResponse::json(200, &serde_json::json!({"id": "job_1", "deleted": true, "refunded_cents": 30})), Millis(now)),
                Output::WaitUntil(t) => now = t.0,
                Output::Event(_) => {}
                o => panic!("{o:?}"),
            }
        };
        assert_eq!(e.kind, ErrorKind::WaitTimeout, "{e}");
        assert!(e.message.contains("could not be read"), "{e}");
    }

    #[test]
    fn a_deadline_of_zero_sends_nothing_and_is_the_waits_timeout() {
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let idem = IdempotencyKey::from_entropy(&[9; 16]).unwrap();
        let options = WaitOptions { timeout_ms: Some(0), ..WaitOptions::default() };
        let mut run = JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("lake"), &idem, options, 1, Millis(0)).unwrap();
        assert!(matches!(run.poll(Millis(0)), Output::Done));
        let e = run.take_result().unwrap_err();
        assert_eq!((e.kind, e.job_id.as_deref()), (ErrorKind::WaitTimeout, None), "{e}");
        assert!(e.message.contains("nothing was created or charged"), "{e}");
    }

    #[test]
    fn a_faster_service_is_first_polled_within_half_the_jobs_expected_time() {
        // Under a scale of 1/15 a 5 s 720p job is expected in 53 s / 15 ≈ 3.5 s: its first poll
        // comes at half that, not at the 3 s default meant for jobs of a minute. At scale 1 the
        // default stands.
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let body = serde_json::json!({"id": "job_1", "status": "pending", "mode": "text_to_video", "resolution": "720p", "duration": 5});
        for (scale, first) in [(1.0 / 15.0, 1_766), (1.0, 3_000)] {
            let mut options = WaitOptions::default();
            options.poll.expected_scale = scale;
            let idem = IdempotencyKey::from_entropy(&[9; 16]).unwrap();
            let mut run = JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("lake"), &idem, options, 1, Millis(1_000)).unwrap();
            let Output::Send { id, .. } = run.poll(Millis(1_000)) else { panic!("no create") };
            run.handle_response(id, HttpResponse::json(201, &body), Millis(1_000));
            let until = std::iter::from_fn(|| Some(run.poll(Millis(1_000)))).take(10).find_map(|o| match o {
                Output::WaitUntil(t) => Some(t),
                _ => None,
            });
            assert_eq!(until, Some(Millis(1_000 + first)), "scale {scale}");
        }
    }

    #[test]
    fn a_created_job_id_unusable_in_a_url_is_a_decode_error() {
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let idem = IdempotencyKey::from_entropy(&[9; 16]).unwrap();
        let mut run = JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("lake"), &idem, WaitOptions::default(), 1, Millis(0)).unwrap();
        let body = serde_json::json!({"id": "a/../b", "status": "pending", "prompt": "lake", "mode": "text_to_video", "resolution": "720p", "duration": 5, "estimated_cost_cents": 30, "created_at": "2026-04-21T15:30:00Z"});
        let mut now = Millis(0);
        for _ in 0..100 {
            match run.poll(now) {
                Output::Send { id, .. } => run.handle_response(id, HttpResponse::json(201, &body), now),
                Output::WaitUntil(t) => {
                    now = t;
                    run.handle_timeout(now);
                }
                Output::Done => break,
                _ => {}
            }
        }
        let e = run.take_result().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Decode, "{e}");
    }

    #[test]
    fn identical_create_and_waits_whose_answers_were_lost_end_with_a_job_each() {
        for quick in [false, true] {
            identical_runs_end_with_a_job_each(quick);
        }
    }

    /// Three identical create-and-waits of one client (rule 7): two creates made jobs whose
    /// answers were lost, one was answered 502 with none made, and the lists fail a while. The
    /// 502's run may adopt another's job (the list cannot tell them apart); the owner's create,
    /// sent again under its key, names it, and the adopter gives it up and makes its own (it used
    /// to keep it: two calls with one job, a video never made). `quick`: the jobs finish before
    /// the owner's create is sent again, so the adopter would have ended, but for the hold.
    fn identical_runs_end_with_a_job_each(quick: bool) {
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let claims = crate::claims::Claims::new();
        let mut options = WaitOptions::default();
        if quick {
            // Polled soon and often, and creates sent again late: the adopter sees its job end first.
            options.poll = PollPolicy { first_poll_ms: 10, min_interval_ms: 50, ..PollPolicy::default() };
            options.retry.base_delay_ms = 3_000;
        }
        let mut runs: Vec<JobRun> = (0..3_u8)
            .map(|i| {
                let idem = IdempotencyKey::from_entropy(&[i; 16]).unwrap();
                JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("same"), &idem, options.clone(), u64::from(i), Millis(0)).unwrap().sharing(&claims)
            })
            .collect();
        let mut fake = Fake::new();
        fake.quick_jobs = quick;
        fake.create_faults = ["502", "drop", "drop"].into();
        fake.failing_lists = 3;
        let (events, done) = fake.drive_together(&mut runs, 100_000);
        assert!(done, "{events:?}");
        let ids: std::collections::BTreeSet<String> = runs.iter_mut().map(|r| r.take_result().unwrap().id).collect();
        assert_eq!((ids.len(), fake.jobs.len()), (3, 3), "a job each, none made twice: {events:?}");
        let gave_up = events.iter().filter(|e| matches!(e, Event::Warning { message } if message.contains("looks for its own job again"))).count();
        assert!(gave_up >= 1, "{events:?}");
    }

    #[test]
    fn a_cancelled_run_holds_the_delete_of_a_job_it_adopted_while_an_identical_create_is_out() {
        // A's create got a 502 (no job); B's answer was lost (job_0 made). A adopts job_0 from the
        // list, then is cancelled while job_0 is pending: job_0 may be B's, so A holds the delete.
        // B's create, sent again under its key, names job_0: A gives it up, finds no job of its
        // own, and ends cancelled; job_0 is not deleted (it used to be, under B).
        use crate::machine::Machine;
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let claims = crate::claims::Claims::new();
        let mut a = JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("same"), &IdempotencyKey::from_entropy(&[1; 16]).unwrap(), WaitOptions::default(), 1, Millis(0)).unwrap().sharing(&claims);
        let mut b = Create::new(&config, Some(&key), CreateVideoRequest::text("same"), &IdempotencyKey::from_entropy(&[2; 16]).unwrap(), RetryPolicy::default(), 2, None, 0).unwrap().sharing(&claims);
        let mut fake = Fake::new();
        fake.create_faults = ["502", "drop"].into();
        let mut warnings = Vec::new();
        // Polls `m` until it sends, and has the fake answer; `false` once it is done.
        let send = |m: &mut dyn Machine, fake: &mut Fake, warnings: &mut Vec<String>| -> bool {
            for _ in 0..100 {
                match m.poll(Millis(fake.now)) {
                    Output::Send { id, request, .. } => {
                        match fake.answer(&request) {
                            Some(r) => m.handle_response(id, r, Millis(fake.now)),
                            None => m.handle_transport_error(id, TransportKind::Other, "reset", Millis(fake.now)),
                        }
                        return true;
                    }
                    Output::Event(Event::Warning { message }) => warnings.push(message),
                    Output::Event(_) => {}
                    Output::WaitUntil(t) => fake.now = fake.now.max(t.0),
                    Output::Pending | Output::Done => return false,
                }
            }
            false
        };
        assert!(send(&mut a, &mut fake, &mut warnings), "a's create: 502");
        assert!(send(&mut b, &mut fake, &mut warnings), "b's create: made, answer lost");
        assert!(send(&mut a, &mut fake, &mut warnings), "a lists, adopts job_0");
        for _ in 0..10 {
            if matches!(a.poll(Millis(fake.now)), Output::WaitUntil(_)) {
                break; // its first poll is due later
            }
        }
        assert_eq!(a.job_id(), Some("job_0"));
        a.cancel(Millis(fake.now));
        assert!(matches!(a.poll(Millis(fake.now)), Output::Event(Event::CleaningUp { .. })), "its clean-up begins");
        assert!(matches!(a.poll(Millis(fake.now)), Output::WaitUntil(_)), "the delete is held while b is out");
        while send(&mut b, &mut fake, &mut warnings) {} // b lists (job_0 is taken), sends again: job_0 is its own
        assert_eq!(b.take_result().unwrap().id, "job_0");
        while send(&mut a, &mut fake, &mut warnings) {} // a gives job_0 up, lists: none of its own
        let e = a.take_result().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Cancelled, "{e}");
        assert!(fake.jobs.iter().all(|j| !j.deleted), "b's job was not deleted");
        assert!(warnings.iter().any(|w| w.contains("gave job job_0 up")), "{warnings:?}");
    }

    /// Polls `run`, the fake answering its sends, until it waits for time or is done.
    fn settle(run: &mut JobRun, fake: &mut Fake) {
        loop {
            match next(run, Millis(fake.now)) {
                Output::Send { id, request, .. } => match fake.answer(&request) {
                    Some(r) => run.handle_response(id, r, Millis(fake.now)),
                    None => run.handle_transport_error(id, TransportKind::Other, "reset", Millis(fake.now)),
                },
                _ => return,
            }
        }
    }

    #[test]
    fn a_cancel_leaves_a_job_another_live_run_waits_for_and_the_last_one_deletes_it() {
        // Rule 9 (helper-40): two create-and-waits given one idempotency key get one job (the
        // replay); the first cancelled used to delete it under the other, still waiting for it.
        // A wait for its id watches it too, and keeps it from a timed-out run's delete.
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let claims = crate::claims::Claims::new();
        let idem = IdempotencyKey::from_entropy(&[7; 16]).unwrap();
        let run = || JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("lake"), &idem, WaitOptions::default(), 1, Millis(0)).unwrap().sharing(&claims);
        let (mut a, mut b) = (run(), run());
        let mut fake = Fake::new();
        fake.frozen = true;
        settle(&mut a, &mut fake);
        settle(&mut b, &mut fake);
        assert_eq!((a.job_id(), b.job_id(), fake.jobs.len()), (Some("job_0"), Some("job_0"), 1), "one job, replayed");
        // A wait for its id that deletes on giving up, one that is dropped unfinished, and one that
        // only watches (it would never delete the job, so it holds no delete back: helper-45).
        let options = WaitOptions { cancel_on_timeout: true, ..WaitOptions::default() };
        let mut watcher = JobRun::wait(&config, Some(&key), "job_0", options.clone(), 3, Millis(0)).unwrap().sharing(&claims);
        let dropped = JobRun::wait(&config, Some(&key), "job_0", options, 4, Millis(0)).unwrap().sharing(&claims);
        let mut passive = JobRun::wait(&config, Some(&key), "job_0", WaitOptions::default(), 5, Millis(0)).unwrap().sharing(&claims);
        settle(&mut watcher, &mut fake);
        settle(&mut passive, &mut fake);
        drop(dropped);
        for run in [&mut a, &mut b] {
            run.cancel(Millis(fake.now));
            settle(run, &mut fake);
            let e = run.take_result().unwrap_err();
            assert_eq!(e.kind, ErrorKind::Cancelled);
            assert!(e.message.contains("left alone: another call of this client waits for it"), "{e}");
            assert!(!fake.jobs.iter().any(|j| j.deleted), "another still waits for it");
        }
        watcher.cancel(Millis(fake.now));
        settle(&mut watcher, &mut fake);
        let e = watcher.take_result().unwrap_err();
        assert!(fake.jobs.iter().all(|j| j.deleted), "the last one watching deletes it: {e}");
        drop(passive);
        // The key used again gets its deleted job back (the service's replay): said (helper-43).
        let mut again = run();
        while !again.is_done() {
            settle(&mut again, &mut fake);
            if let Output::WaitUntil(t) = next(&mut again, Millis(fake.now)) {
                fake.now = t.0;
            }
        }
        let e = again.take_result().unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(e.message.contains("a new create needs a new key"), "{e}");
    }

    #[test]
    fn a_timed_out_runs_delete_held_past_its_clean_up_time_is_not_sent_and_says_why() {
        // As above, but A's wait times out (cancel_on_timeout) while B's create is still out: the
        // delete of job_0 is held (it may be B's). B never answers within the clean-up's time:
        // A ends then, sending no delete, and says the hold is why (it used to build a delete
        // whose deadline had passed and say "deleting the job failed: the call's deadline passed").
        use crate::machine::Machine;
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let claims = crate::claims::Claims::new();
        let options = WaitOptions { timeout_ms: Some(20_000), cancel_on_timeout: true, ..WaitOptions::default() };
        let mut a = JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("same"), &IdempotencyKey::from_entropy(&[1; 16]).unwrap(), options, 1, Millis(0)).unwrap().sharing(&claims);
        let mut b = Create::new(&config, Some(&key), CreateVideoRequest::text("same"), &IdempotencyKey::from_entropy(&[2; 16]).unwrap(), RetryPolicy::default(), 2, None, 0).unwrap().sharing(&claims);
        let mut fake = Fake::new();
        fake.create_faults = ["502", "drop"].into();
        let send = |m: &mut dyn Machine, fake: &mut Fake| loop {
            match m.poll(Millis(fake.now)) {
                Output::Send { id, request, .. } => {
                    match fake.answer(&request) {
                        Some(r) => m.handle_response(id, r, Millis(fake.now)),
                        None => m.handle_transport_error(id, TransportKind::Other, "reset", Millis(fake.now)),
                    }
                    return;
                }
                Output::WaitUntil(t) => fake.now = fake.now.max(t.0),
                Output::Event(_) => {}
                other => panic!("{other:?}"),
            }
        };
        send(&mut a, &mut fake); // 502
        send(&mut b, &mut fake); // job_0 made, its answer lost: b stays out
        send(&mut a, &mut fake); // a lists, adopts job_0
        while !matches!(a.poll(Millis(fake.now)), Output::WaitUntil(_)) {} // its first poll is due later
        assert_eq!(a.job_id(), Some("job_0"));
        assert!(fake.now < 20_000);
        let mut now = Millis(20_000);
        let e = loop {
            match a.poll(now) {
                Output::Send { endpoint, id, request, .. } => {
                    assert_ne!(endpoint, Endpoint::DeleteVideo, "a delete of a job that may be b's");
                    fake.now = now.0;
                    let r = fake.answer(&request).unwrap();
                    a.handle_response(id, r, now);
                }
                Output::WaitUntil(t) => {
                    assert!(t.0 <= 20_000 + CLEANUP_MS, "held past the clean-up's time: {}", t.0);
                    now = t;
                }
                Output::Event(_) | Output::Pending => {}
                Output::Done => break a.take_result().unwrap_err(),
            }
        };
        assert_eq!((e.kind, e.job_id.as_deref()), (ErrorKind::WaitTimeout, Some("job_0")), "{e}");
        assert!(e.message.contains("its delete was held for the answer of an identical create") && !e.message.contains("deadline passed"), "{e}");
        assert!(fake.jobs.iter().all(|j| !j.deleted));
    }

    #[test]
    fn a_timed_out_waits_delete_that_got_no_sure_answer_says_the_job_may_be_deleted() {
        // The delete's attempt got no answer and the clean-up's time ran out before another: the
        // service may have deleted the job. A 404 after such an attempt: the job is gone.
        for (second, says) in [(None, "may have been deleted and refunded or may go on"), (Some(404), "the job is gone")] {
            let mut run = one_second_wait(true);
            let Output::Send { id, .. } = next(&mut run, Millis(0)) else { panic!("a create first") };
            let job = serde_json::json!({"id": "job_1", "status": "pending", "mode": "text_to_video", "resolution": "720p", "duration": 5});
            run.handle_response(id, HttpResponse::json(201, &job), Millis(5));
            let (id, now) = next_send(&mut run, Millis(5), Endpoint::DeleteVideo);
            let late = match second {
                None => now.plus(CLEANUP_MS - 100), // too late for a retry
                Some(_) => now.plus(100),
            };
            run.handle_transport_error(id, TransportKind::Timeout, "no answer within 9900 ms", late);
            if let Some(status) = second {
                // Tried again after a pause, past its sighting's second, the delete looks first
                // (rule 8): still pending, then deleted.
                let (look, t) = next_send(&mut run, late, Endpoint::RetrieveVideo);
                run.handle_response(look, HttpResponse::json(200, &job), t);
                let (id, t) = next_send(&mut run, t, Endpoint::DeleteVideo);
                run.handle_response(id, HttpResponse::json(status, &serde_json::json!({"error": {"code": "not_found", "message": "no such job"}})), t);
            }
            let mut t = late;
            while let Output::WaitUntil(u) = next(&mut run, t) {
                t = u;
            }
            let e = run.take_result().unwrap_err();
            assert_eq!(e.kind, ErrorKind::WaitTimeout, "{e}");
            assert!(e.message.contains(says) && !e.message.contains("so it goes on"), "{e}");
        }
    }

    /// The next output that is not an event.
    fn next(run: &mut JobRun, now: Millis) -> Output {
        loop {
            match run.poll(now) {
                Output::Event(_) => {}
                other => return other,
            }
        }
    }

    /// Lets time pass until `run` sends to `endpoint`: that request's id and the time it went.
    fn next_send(run: &mut JobRun, mut now: Millis, endpoint: Endpoint) -> (RequestId, Millis) {
        loop {
            match next(run, now) {
                Output::WaitUntil(t) => now = t,
                Output::Send { id, endpoint: e, .. } if e == endpoint => return (id, now),
                other => panic!("a {endpoint:?}, not {other:?}"),
            }
        }
    }

    fn one_second_wait(cancel_on_timeout: bool) -> JobRun {
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let idem = IdempotencyKey::from_entropy(&[9; 16]).unwrap();
        let options = WaitOptions { timeout_ms: Some(1_000), cancel_on_timeout, ..WaitOptions::default() };
        JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("lake"), &idem, options, 1, Millis(0)).unwrap()
    }

    #[test]
    fn a_create_that_times_out_at_the_deadline_is_looked_up_and_its_job_named_and_deleted() {
        let mut run = one_second_wait(true);
        let Output::Send { id, endpoint: Endpoint::CreateVideo, timeout_ms: Some(1_000), .. } = next(&mut run, Millis(0)) else { panic!("a create first") };
        run.handle_transport_error(id, TransportKind::Timeout, "no answer within 1000 ms", Millis(1_000));
        // Past the deadline, the job list is still read once, with a bounded time of its own.
        let Output::Send { id, endpoint: Endpoint::ListVideos, timeout_ms: Some(crate::create::LOOKUP_TIMEOUT_MS), .. } = next(&mut run, Millis(1_000)) else { panic!("a list past the deadline") };
        let job = serde_json::json!({"id": "job_1", "status": "pending", "prompt": "lake", "mode": "text_to_video", "resolution": "720p", "duration": 5, "estimated_cost_cents": 30, "created_at": "2026-04-21T15:30:00Z"});
        run.handle_response(id, HttpResponse::json(200, &serde_json::json!({"data": [job], "has_more": false})), Millis(1_010));
        // The job it made is pending: cancel_on_timeout deletes it.
        let Output::Send { id, endpoint: Endpoint::DeleteVideo, .. } = next(&mut run, Millis(1_010)) else { panic!("the found job is deleted") };
        run.handle_response(id, HttpResponse::json(200, &serde_json::json!({"id": "job_1", "deleted": true})), Millis(1_020));
        assert!(matches!(next(&mut run, Millis(1_020)), Output::Done));
        let e = run.take_result().unwrap_err();
        assert_eq!((e.kind, e.job_id.as_deref()), (ErrorKind::WaitTimeout, Some("job_1")), "{e}");
    }

    /// The create sent at 0 gets no answer within `after` ms; the list read then shows no job.
    fn create_unanswered_then_listed_none(run: &mut JobRun, after: u64) {
        let Output::Send { id, .. } = next(run, Millis(0)) else { panic!("a create first") };
        run.handle_transport_error(id, TransportKind::Timeout, &format!("no answer within {after} ms"), Millis(after));
        let Output::Send { id, endpoint: Endpoint::ListVideos, .. } = next(run, Millis(after)) else { panic!("a list") };
        run.handle_response(id, HttpResponse::json(200, &serde_json::json!({"data": [], "has_more": false})), Millis(after + 10));
    }

    #[test]
    fn a_create_looked_up_past_the_deadline_that_the_list_shows_none_of_is_an_unknown_outcome() {
        // The create got no answer before the deadline and the list read after shows no job it
        // made. That is no proof: a create still on its way (a proxy that queues requests) can
        // make a job after the list was read. The error must not say that nothing was created.
        let mut run = one_second_wait(false);
        create_unanswered_then_listed_none(&mut run, 1_000);
        assert!(matches!(next(&mut run, Millis(1_010)), Output::Done), "nothing is sent again");
        let e = run.take_result().unwrap_err();
        assert_eq!((e.kind, e.code.as_str(), e.job_id.as_deref()), (ErrorKind::WaitTimeout, crate::error::OUTCOME_UNKNOWN, None), "{e}");
        assert!(!e.message.contains("nothing was created"), "{e}");
        assert!(e.message.contains("no answer within 1000 ms") && e.message.contains("shows no job it made") && e.message.contains("still on its way"), "{e}");
        assert!(!e.is_retryable());
    }

    #[test]
    fn a_resend_not_sent_before_the_deadline_after_a_create_in_doubt_is_an_unknown_outcome() {
        // Create #1 gets no answer, the list shows none, so it is sent again; #2 gets no slot
        // before the deadline. #1 may still be on its way: "nothing was created" would be false.
        let mut run = one_second_wait(false);
        create_unanswered_then_listed_none(&mut run, 100);
        let (id, _) = next_send(&mut run, Millis(110), Endpoint::CreateVideo);
        crate::machine::Machine::handle_not_sent(&mut run, id, Millis(1_000));
        assert!(matches!(next(&mut run, Millis(1_000)), Output::Done));
        let e = run.take_result().unwrap_err();
        assert_eq!((e.kind, e.code.as_str(), e.job_id.as_deref()), (ErrorKind::WaitTimeout, crate::error::OUTCOME_UNKNOWN, None), "{e}");
        assert!(!e.message.contains("nothing was created") && e.message.contains("no answer within 100 ms") && e.message.contains("still on its way"), "{e}");
    }

    #[test]
    fn a_create_not_sent_before_the_deadline_is_the_waits_timeout() {
        let mut run = one_second_wait(false);
        let Output::Send { id, .. } = next(&mut run, Millis(0)) else { panic!("a create first") };
        // A driver that found no slot of its rate limit in time: nothing reached the service.
        crate::machine::Machine::handle_not_sent(&mut run, id, Millis(1_000));
        assert!(matches!(next(&mut run, Millis(1_000)), Output::Done), "no look-up: nothing was sent");
        let e = run.take_result().unwrap_err();
        assert_eq!((e.kind, e.job_id.as_deref()), (ErrorKind::WaitTimeout, None), "{e}");
        assert!(e.message.contains("not sent") && e.message.contains("nothing was created or charged"), "{e}");
    }

    #[test]
    fn a_poll_not_sent_before_the_deadline_is_the_waits_timeout() {
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let options = WaitOptions { timeout_ms: Some(5_000), ..WaitOptions::default() };
        let mut run = JobRun::wait(&config, Some(&key), "job_1", options, 1, Millis(0)).unwrap();
        let Output::Send { id, endpoint: Endpoint::RetrieveVideo, .. } = next(&mut run, Millis(0)) else { panic!("a poll") };
        crate::machine::Machine::handle_not_sent(&mut run, id, Millis(5_000));
        assert!(matches!(next(&mut run, Millis(5_000)), Output::Done));
        let e = run.take_result().unwrap_err();
        assert_eq!((e.kind, e.job_id.as_deref()), (ErrorKind::WaitTimeout, Some("job_1")), "{e}");
        assert!(e.message.contains(": not sent: no slot of the client's rate limit") && !e.message.contains("connection failed"), "{e}");
    }

    #[test]
    fn a_timed_out_waits_delete_has_a_bounded_time_and_a_pause_past_it_leaves_the_job() {
        // cancel_on_timeout, the job seen pending, and a poll answered 429 with a Retry-After of
        // 30 s: the wait times out at once and deletes the job, but within CLEANUP_MS. A driver
        // whose rate limiter holds the delete for the pause reports it unsent at that bound, and
        // the wait ends then, saying the job goes on (it waited the 30 s, and the job started
        // processing and was charged, where its timeoutMs said 3 s).
        let mut run = one_second_wait(true);
        let Output::Send { id, endpoint: Endpoint::CreateVideo, .. } = next(&mut run, Millis(0)) else { panic!("a create first") };
        let job = serde_json::json!({"id": "job_1", "status": "pending", "mode": "text_to_video", "resolution": "720p", "duration": 5, "estimated_cost_cents": 30});
        run.handle_response(id, HttpResponse::json(201, &job), Millis(5));
        let (mut now, mut polls) = (Millis(5), 0);
        let (id, timeout_ms) = loop {
            match next(&mut run, now) {
                Output::WaitUntil(t) => now = t,
                Output::Send { id, endpoint: Endpoint::RetrieveVideo, .. } => {
                    polls += 1;
                    let mut busy = HttpResponse::json(429, &serde_json::json!({"error": {"code": "rate_limited", "message": "slow down"}}));
                    busy.headers.push(crate::http::Header::new("retry-after", "30"));
                    run.handle_response(id, busy, now);
                }
                Output::Send { id, endpoint: Endpoint::DeleteVideo, timeout_ms, .. } => break (id, timeout_ms),
                other => panic!("a poll or the delete, not {other:?}"),
            }
        };
        assert!(polls <= 1 && now.0 <= 1_000, "{polls} polls, the delete at {}", now.0);
        assert_eq!(timeout_ms, Some(CLEANUP_MS), "the delete's time is bounded");
        let end = now.plus(CLEANUP_MS);
        crate::machine::Machine::handle_not_sent(&mut run, id, end);
        assert!(matches!(next(&mut run, end), Output::Done), "no second try past the bound");
        let e = run.take_result().unwrap_err();
        assert_eq!((e.kind, e.job_id.as_deref(), e.job_status.as_deref()), (ErrorKind::WaitTimeout, Some("job_1"), Some("pending")), "{e}");
        assert!(e.message.contains("deleting the job failed, so it goes on: not sent: no slot"), "{e}");
        // A cancel's delete keeps no limit: the caller has stopped waiting for it.
        let mut run = one_second_wait(false);
        let Output::Send { id, .. } = next(&mut run, Millis(0)) else { panic!("a create first") };
        run.handle_response(id, HttpResponse::json(201, &job), Millis(5));
        run.cancel(Millis(6));
        let Output::Send { endpoint: Endpoint::DeleteVideo, timeout_ms: None, .. } = next(&mut run, Millis(6)) else { panic!("a cancel's delete, unbounded") };
    }

    #[test]
    fn a_timed_out_waits_delete_handed_off_gets_the_background_time_and_says_what_it_ends_with() {
        // A driver that hands clean-ups off (`handing_off`): the timed-out wait's delete gets
        // CLEANUP_MS + BACKGROUND_MS (a 30 s pause is waited out: the job refunded, not charged),
        // and `cleaning_up` names the error the run ends with while it is under way.
        let mut run = one_second_wait(true).handing_off();
        let Output::Send { id, .. } = next(&mut run, Millis(0)) else { panic!("a create first") };
        let job = serde_json::json!({"id": "job_1", "status": "pending", "mode": "text_to_video", "resolution": "720p", "duration": 5, "estimated_cost_cents": 30});
        run.handle_response(id, HttpResponse::json(201, &job), Millis(5));
        assert!(run.cleaning_up().is_none(), "nothing to clean up while it waits");
        let mut now = Millis(5);
        let (id, timeout_ms) = loop {
            match next(&mut run, now) {
                Output::WaitUntil(t) => now = t,
                Output::Send { id, endpoint: Endpoint::RetrieveVideo, .. } => run.handle_response(id, HttpResponse::json(200, &job), now),
                Output::Send { id, endpoint: Endpoint::DeleteVideo, timeout_ms, .. } => break (id, timeout_ms),
                other => panic!("a poll or the delete, not {other:?}"),
            }
        };
        assert_eq!(timeout_ms, Some(CLEANUP_MS + BACKGROUND_MS), "the delete's time is the background's too");
        let said = run.cleaning_up().cloned().expect("a clean-up under way");
        let as_machine: &dyn crate::machine::Machine = &run;
        assert_eq!(as_machine.cleaning_up(), Some(&said), "the trait says so too (every binding asks through it)");
        assert_eq!((said.kind, said.job_id.as_deref()), (ErrorKind::WaitTimeout, Some("job_1")), "{said}");
        let mut busy = HttpResponse::json(429, &serde_json::json!({"error": {"code": "rate_limited", "message": "slow down"}}));
        busy.headers.push(crate::http::Header::new("retry-after", "30"));
        run.handle_response(id, busy, now);
        let (mut t, mut deleted) = (now, false);
        while !deleted {
            match next(&mut run, t) {
                Output::WaitUntil(w) => t = w,
                // After the pause, longer than its sighting stays fresh: a look first (rule 8).
                Output::Send { id, endpoint: Endpoint::RetrieveVideo, .. } => run.handle_response(id, HttpResponse::json(200, &job), t),
                Output::Send { id, endpoint: Endpoint::DeleteVideo, .. } => {
                    assert!(t.since(now) >= 30_000, "the pause is waited out");
                    run.handle_response(id, HttpResponse::json(200, &serde_json::json!({"id": "job_1", "deleted": true, "refunded_cents": 30})), t);
                    deleted = true;
                }
                other => panic!("the look or the delete again, not {other:?}"),
            }
        }
        assert!(matches!(next(&mut run, t), Output::Done) && run.cleaning_up().is_none());
        let e = run.take_result().unwrap_err();
        assert!(e.kind == ErrorKind::WaitTimeout && e.message.starts_with(&said.message) && e.message.contains("deleted and refunded"), "{e}");
    }

    /// A handed-off timed-out wait of a pending job, up to its delete's first attempt answered
    /// `answer`: the run and the time.
    fn timed_out_delete_answered(answer: HttpResponse) -> (JobRun, Millis) {
        let mut run = one_second_wait(true).handing_off();
        let Output::Send { id, .. } = next(&mut run, Millis(0)) else { panic!("a create first") };
        run.handle_response(id, HttpResponse::json(201, &pending_job()), Millis(5));
        let mut now = Millis(5);
        loop {
            match next(&mut run, now) {
                Output::WaitUntil(t) => now = t,
                Output::Send { id, endpoint: Endpoint::RetrieveVideo, .. } => run.handle_response(id, HttpResponse::json(200, &pending_job()), now),
                Output::Send { id, endpoint: Endpoint::DeleteVideo, .. } => {
                    run.handle_response(id, answer, now);
                    return (run, now);
                }
                other => panic!("a poll or the delete, not {other:?}"),
            }
        }
    }

    fn pending_job() -> serde_json::Value {
        serde_json::json!({"id": "job_1", "status": "pending", "mode": "text_to_video", "resolution": "720p", "duration": 5, "estimated_cost_cents": 30})
    }

    #[test]
    fn a_delete_tried_again_after_a_long_pause_looks_first_and_leaves_a_job_that_completed() {
        // helper-40: a delete held by a 429's Retry-After went out later and removed a video
        // completed meanwhile (charged), saying it was refunded.
        let mut busy = HttpResponse::json(429, &serde_json::json!({"error": {"code": "rate_limited", "message": "slow down"}}));
        busy.headers.push(crate::http::Header::new("retry-after", "30"));
        let (mut run, mut now) = timed_out_delete_answered(busy);
        let look = loop {
            match next(&mut run, now) {
                Output::WaitUntil(t) => now = t,
                Output::Send { id, endpoint, .. } => break (id, endpoint),
                other => panic!("a send after the pause, not {other:?}"),
            }
        };
        assert_eq!(look.1, Endpoint::RetrieveVideo, "a look before the delete is tried again");
        let mut done = pending_job();
        done["status"] = "completed".into();
        done["video_url"] = "https://cdn.example/v.mp4".into();
        done["cost_cents"] = 30.into();
        run.handle_response(look.0, HttpResponse::json(200, &done), now);
        assert!(matches!(next(&mut run, now), Output::Done), "no delete of a completed job");
        let e = run.take_result().unwrap_err();
        assert!(e.kind == ErrorKind::WaitTimeout && e.message.contains("had ended (completed)"), "{e}");
    }

    #[test]
    fn a_cancel_more_than_a_second_after_the_pending_sighting_looks_first_whatever_the_model() {
        // helper-52: the model expected minutes, the service took under 3 s; a cancel 2.95 s after
        // the create deleted the completed video unseen (fresh for a fifth of the expected time).
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let idem = IdempotencyKey::from_entropy(&[9; 16]).unwrap();
        for (cancel_at, first) in [(Millis(900), Endpoint::DeleteVideo), (Millis(2_950), Endpoint::RetrieveVideo)] {
            let mut run = JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("lake"), &idem, WaitOptions::default(), 1, Millis(0)).unwrap();
            let Output::Send { id, .. } = next(&mut run, Millis(0)) else { panic!("a create first") };
            run.handle_response(id, HttpResponse::json(201, &pending_job()), Millis(0));
            let o = next(&mut run, Millis(0)); assert!(matches!(o, Output::WaitUntil(t) if t >= Millis(3_000)), "no poll before the cancel: {o:?}");
            run.cancel(cancel_at);
            let Output::Send { endpoint, .. } = next(&mut run, cancel_at) else { panic!("the clean-up sends") };
            assert_eq!(endpoint, first, "cancelled at {cancel_at:?}");
        }
    }

    #[test]
    fn a_replayed_create_answer_is_no_sighting_and_a_cancel_looks_first() {
        // helper-55: the answer to a create sent again under its key is the service's replay of
        // the first attempt's (`pending` as of then); taken for a fresh sighting, a cancel deleted
        // without looking a job that may have finished meanwhile.
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let idem = IdempotencyKey::from_entropy(&[9; 16]).unwrap();
        for replay_header in [false, true] {
            let mut run = JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("lake"), &idem, WaitOptions::default(), 1, Millis(0)).unwrap();
            let (id, now) = next_send(&mut run, Millis(0), Endpoint::CreateVideo);
            let answer = if replay_header {
                // One attempt, answered as a replay (a twin's key, or a key the caller reused).
                let mut r = HttpResponse::json(201, &pending_job());
                r.headers.push(crate::http::Header::new("Idempotent-Replayed", "true"));
                r
            } else {
                run.handle_transport_error(id, TransportKind::Timeout, "no answer", now.plus(10));
                let (list, t) = next_send(&mut run, now.plus(10), Endpoint::ListVideos);
                run.handle_response(list, HttpResponse::json(200, &serde_json::json!({"data": [], "has_more": false})), t);
                HttpResponse::json(201, &pending_job())
            };
            let (id, t) = if replay_header { (id, now) } else { next_send(&mut run, now.plus(10), Endpoint::CreateVideo) };
            run.handle_response(id, answer, t.plus(5));
            run.cancel(t.plus(100));
            let Output::Send { endpoint, .. } = next(&mut run, t.plus(100)) else { panic!("the clean-up sends") };
            assert_eq!(endpoint, Endpoint::RetrieveVideo, "a look first (replay header: {replay_header})");
        }
    }

    #[test]
    fn a_delete_whose_slot_comes_after_its_send_by_is_not_sent_and_looks_first() {
        // helper-44: deletes held a minute by a spent budget's slot wait went out on a stale
        // sighting and removed 13 of 30 finished videos. Now the delete carries `send_by`; a
        // driver whose slot comes later says it was not sent, and the job is looked at first.
        use crate::machine::Machine;
        let mut run = one_second_wait(true).handing_off();
        let Output::Send { id, .. } = next(&mut run, Millis(0)) else { panic!("a create first") };
        run.handle_response(id, HttpResponse::json(201, &pending_job()), Millis(5));
        let mut now = Millis(5);
        let (delete, send_by) = loop {
            match next(&mut run, now) {
                Output::WaitUntil(t) => now = t,
                Output::Send { id, endpoint: Endpoint::RetrieveVideo, .. } => run.handle_response(id, HttpResponse::json(200, &pending_job()), now),
                Output::Send { id, endpoint: Endpoint::DeleteVideo, send_by, .. } => break (id, send_by),
                other => panic!("a poll or the delete, not {other:?}"),
            }
        };
        let send_by = send_by.expect("a clean-up's delete says by when it must go out");
        assert!(send_by > now, "its sighting is fresh now");
        // The driver's slot came a minute later: not sent.
        now = send_by.plus(60_000);
        run.handle_not_sent(delete, now);
        let look = match next(&mut run, now) {
            Output::Send { id, endpoint: Endpoint::RetrieveVideo, .. } => id,
            other => panic!("a look before the delete, not {other:?}"),
        };
        let mut done = pending_job();
        done["status"] = "completed".into();
        done["video_url"] = "https://cdn.example/v.mp4".into();
        done["cost_cents"] = 30.into();
        run.handle_response(look, HttpResponse::json(200, &done), now);
        assert!(matches!(next(&mut run, now), Output::Done), "no delete of a completed job");
        let e = run.take_result().unwrap_err();
        assert!(e.message.contains("had ended (completed)"), "{e}");
        // A look that finds it pending sends the delete again, still with a `send_by`; after the
        // last look, the delete carries none and goes out whenever its slot comes.
        let mut run = one_second_wait(true).handing_off();
        let Output::Send { id, .. } = next(&mut run, Millis(0)) else { panic!("a create first") };
        run.handle_response(id, HttpResponse::json(201, &pending_job()), Millis(5));
        let mut now = Millis(5);
        let mut deadlines = Vec::new();
        loop {
            match next(&mut run, now) {
                Output::WaitUntil(t) => now = t,
                Output::Send { id, endpoint: Endpoint::RetrieveVideo, .. } => run.handle_response(id, HttpResponse::json(200, &pending_job()), now),
                Output::Send { id, endpoint: Endpoint::DeleteVideo, send_by: Some(by), .. } => {
                    deadlines.push(by);
                    now = by.plus(1);
                    run.handle_not_sent(id, now);
                }
                Output::Send { id, endpoint: Endpoint::DeleteVideo, send_by: None, .. } => {
                    run.handle_response(id, HttpResponse::json(200, &serde_json::json!({"id": "job_1", "deleted": true, "refunded_cents": 30})), now);
                    break;
                }
                other => panic!("not {other:?}"),
            }
        }
        assert_eq!(deadlines.len(), usize::from(MAX_RELOOKS), "{deadlines:?}");
        assert!(matches!(next(&mut run, now), Output::Done));
        assert!(run.take_result().unwrap_err().message.contains("deleted and refunded"));
    }

    #[test]
    fn a_look_answered_after_its_sighting_would_go_stale_sends_its_delete_whenever_its_slot_comes() {
        // helper-76: under a spent budget (6 a minute) each clean-up's look waited ~10 s for its
        // slot, and so did the delete after it, past the sighting's freshness: looked at again,
        // twice, four slots a clean-up, and five cancelled together gave up charged. A look that
        // slow shows another would be as late: its delete carries no `send_by`.
        for (wait, relooks) in [(10_000, false), (5, true)] {
            let config = ClientConfig::new("http://fake/v1").unwrap();
            let key = ApiKey::new("sd_test_key_000000").unwrap();
            let idem = IdempotencyKey::from_entropy(&[9; 16]).unwrap();
            let mut run = JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("lake"), &idem, WaitOptions::default(), 1, Millis(0)).unwrap();
            let Output::Send { id, .. } = next(&mut run, Millis(0)) else { panic!("a create first") };
            run.handle_response(id, HttpResponse::json(201, &pending_job()), Millis(5));
            assert!(matches!(next(&mut run, Millis(5)), Output::WaitUntil(_)), "sleeping till the first poll");
            // Cancelled long after that sighting: a look first.
            let mut now = Millis(5_000);
            run.cancel(now);
            let out = next(&mut run, now);
            let Output::Send { id, endpoint: Endpoint::RetrieveVideo, .. } = out else { panic!("a look first, not {out:?}") };
            now = now.plus(wait);
            run.handle_response(id, HttpResponse::json(200, &pending_job()), now);
            let Output::Send { id, endpoint: Endpoint::DeleteVideo, send_by, .. } = next(&mut run, now) else { panic!("the delete") };
            assert_eq!(send_by.is_some(), relooks, "a look answered after {wait} ms: {send_by:?}");
            // A delete tried again after a pause looks first all the same (helper-78).
            let mut busy = HttpResponse::json(429, &serde_json::json!({"error": {"code": "rate_limited", "message": "slow down"}}));
            busy.headers.push(crate::http::Header::new("retry-after", "30"));
            run.handle_response(id, busy, now);
            let endpoint = loop {
                match next(&mut run, now) {
                    Output::WaitUntil(t) => now = t,
                    Output::Send { endpoint, .. } => break endpoint,
                    other => panic!("not {other:?}"),
                }
            };
            assert_eq!(endpoint, Endpoint::RetrieveVideo, "a look before the delete again ({wait} ms)");
        }
    }

    #[test]
    fn a_delete_not_sent_at_its_send_by_itself_looks_again_even_with_no_retries() {
        // helper-45: drivers give a slot wait up at `now >= send_by`, and the sighting counted as
        // stale only past it; with no retries left the delete then failed, the job charged.
        use crate::machine::Machine;
        let mut options = WaitOptions { cancel_on_timeout: true, timeout_ms: Some(1_000), ..WaitOptions::default() };
        options.retry.max_retries = 0;
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let mut run = JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("lake"), &IdempotencyKey::from_entropy(&[3; 16]).unwrap(), options, 1, Millis(0)).unwrap();
        let Output::Send { id, .. } = next(&mut run, Millis(0)) else { panic!("a create first") };
        run.handle_response(id, HttpResponse::json(201, &pending_job()), Millis(5));
        run.cancel(Millis(6));
        let Output::Send { id, endpoint: Endpoint::DeleteVideo, send_by: Some(by), .. } = next(&mut run, Millis(6)) else { panic!("the delete") };
        run.handle_not_sent(id, by);
        assert!(matches!(next(&mut run, by), Output::Send { endpoint: Endpoint::RetrieveVideo, .. }), "a look, not a failed delete");
    }

    #[test]
    fn a_delete_answered_with_no_refund_says_the_job_had_finished() {
        let gone = HttpResponse::json(200, &serde_json::json!({"id": "job_1", "deleted": true, "refunded_cents": 0}));
        let (mut run, now) = timed_out_delete_answered(gone);
        assert!(matches!(next(&mut run, now), Output::Done));
        let e = run.take_result().unwrap_err();
        assert_eq!(e.job_status.as_deref(), Some("completed"), "{e}");
        assert!(e.message.contains("deleted with no refund") && !e.message.contains("deleted and refunded"), "{e}");
        let refunded = HttpResponse::json(200, &serde_json::json!({"id": "job_1", "deleted": true, "refunded_cents": 30}));
        let (mut run, now) = timed_out_delete_answered(refunded);
        assert!(matches!(next(&mut run, now), Output::Done));
        let e = run.take_result().unwrap_err();
        assert!(e.message.ends_with("the pending job was deleted and refunded") && e.job_status.as_deref() == Some("pending"), "{e}");
    }

    #[test]
    fn a_pause_asked_past_the_deadline_is_the_waits_timeout_and_other_failures_name_the_job() {
        // A poll answered 429 with a Retry-After beyond the wait's deadline: no poll can be
        // answered in time, so the wait times out at once, saying why (it was a RateLimitError
        // with no job id).
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let options = WaitOptions { timeout_ms: Some(3_000), ..WaitOptions::default() };
        let mut run = JobRun::wait(&config, Some(&key), "job_1", options.clone(), 1, Millis(0)).unwrap();
        let Output::Send { id, .. } = next(&mut run, Millis(0)) else { panic!("a poll") };
        let mut busy = HttpResponse::json(429, &serde_json::json!({"error": {"code": "rate_limited", "message": "slow down"}}));
        busy.headers.push(crate::http::Header::new("retry-after", "30"));
        run.handle_response(id, busy, Millis(4));
        assert!(matches!(next(&mut run, Millis(4)), Output::Done));
        let e = run.take_result().unwrap_err();
        assert_eq!((e.kind, e.job_id.as_deref()), (ErrorKind::WaitTimeout, Some("job_1")), "{e}");
        assert!(e.message.contains("after 4 ms of its 3000: the service asked for a pause of 30000 ms (429, Retry-After), past the wait's deadline"), "{e}");
        // A poll that fails for good names the job, which goes on.
        let mut run = JobRun::wait(&config, Some(&key), "job_1", options, 1, Millis(0)).unwrap();
        let Output::Send { id, .. } = next(&mut run, Millis(0)) else { panic!("a poll") };
        run.handle_response(id, HttpResponse::json(401, &serde_json::json!({"error": {"code": "unauthorized", "message": "no"}})), Millis(4));
        assert!(matches!(next(&mut run, Millis(4)), Output::Done));
        let e = run.take_result().unwrap_err();
        assert_eq!((e.kind, e.job_id.as_deref()), (ErrorKind::Authentication, Some("job_1")), "{e}");
    }

    #[test]
    fn a_dropped_create_is_adopted_not_replayed() {
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let idem = IdempotencyKey::from_entropy(&[9; 16]).unwrap();
        let mut run = JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("lake"), &idem, WaitOptions::default(), 1, Millis(0)).unwrap();
        let mut fake = Fake::new();
        fake.drop_next_create = true;
        let (events, done) = fake.drive(&mut run, 10_000, None);
        assert!(done);
        assert!(run.take_result().is_ok());
        assert_eq!(fake.creates(), 1);
        assert!(events.iter().any(|e| matches!(e, Event::Reconciled { .. })));
    }

    /// A create-and-wait on `fake` with `options`, learning from and teaching `pace`: the time
    /// from its start to the poll that saw its job completed.
    fn learned_run(fake: &mut Fake, pace: &Pace, options: WaitOptions, i: u8) -> u64 {
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let idem = IdempotencyKey::from_entropy(&[i; 16]).unwrap();
        let start = fake.now;
        let mut run = JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("lake"), &idem, options, u64::from(i), Millis(start)).unwrap().learning(pace);
        let (_, done) = fake.drive(&mut run, 10_000, None);
        assert!(done && run.take_result().is_ok());
        fake.now - start
    }

    #[test]
    fn a_create_and_waits_own_job_teaches_the_clients_pace_and_later_waits_poll_sooner() {
        // Jobs done in 0.4 s against a model of 53 s: the first run sees its job done at its first
        // poll (3 s after the create's answer; the fake takes 50 ms an answer), 3.1 s after the
        // create was sent; each lesson moves the scale three tenths of the way, and later runs, whose
        // callers left the scale at 1, poll sooner and see their jobs done sooner.
        let (mut fake, pace) = (Fake::new(), Pace::new());
        fake.quick_jobs = true;
        let first = learned_run(&mut fake, &pace, WaitOptions::default(), 0);
        assert_eq!(first, 3_100);
        let after_one = pace.scale().unwrap();
        assert!((after_one - (0.7 + 0.3 * 3_100.0 / 53_000.0)).abs() < 1e-9, "{after_one}");
        let last = (1..20).map(|i| learned_run(&mut fake, &pace, WaitOptions::default(), i)).last().unwrap();
        assert!(last < 1_500, "the twentieth saw its job done {last} ms after it started");
        assert!(pace.scale().unwrap() < 0.05, "{:?}", pace.scale());
        // A scale the caller gave is kept (and the run still teaches the pace).
        let mut options = WaitOptions::default();
        options.poll.expected_scale = 2.0;
        assert_eq!(learned_run(&mut fake, &pace, options, 30), 3_100);
    }

    #[test]
    fn a_wait_and_an_adopted_job_teach_nothing() {
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let (mut fake, pace) = (Fake::new(), Pace::new());
        fake.quick_jobs = true;
        // A create whose answer was lost adopts its job from the list: it ran from before.
        fake.drop_next_create = true;
        let idem = IdempotencyKey::from_entropy(&[1; 16]).unwrap();
        let mut run = JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("lake"), &idem, WaitOptions::default(), 1, Millis(0)).unwrap().learning(&pace);
        let (events, done) = fake.drive(&mut run, 10_000, None);
        assert!(done && run.take_result().is_ok());
        assert!(events.iter().any(|e| matches!(e, Event::Reconciled { .. })), "{events:?}");
        // A wait for a job made elsewhere, at a time this client does not know.
        let mut wait = JobRun::wait(&config, Some(&key), "job_0", WaitOptions::default(), 2, Millis(fake.now)).unwrap().learning(&pace);
        let (_, done) = fake.drive(&mut wait, 10_000, None);
        assert!(done && wait.take_result().is_ok());
        assert_eq!(pace.scale(), None);
    }

    #[test]
    fn a_jobs_age_counts_from_the_creates_answer_not_from_a_retry_after_before_it() {
        // The create waits out a 429 (Retry-After 1 s), then makes the job; polled 100 ms later at
        // 3 %, the job is ~0.1 s old, not ~1.2 s: the next poll is a few seconds off, not 20.
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let idem = IdempotencyKey::from_entropy(&[9; 16]).unwrap();
        let options = WaitOptions { poll: PollPolicy { first_poll_ms: 100, min_interval_ms: 100, ..PollPolicy::default() }, ..WaitOptions::default() };
        let mut run = JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("lake"), &idem, options, 1, Millis(0)).unwrap();
        let mut busy = HttpResponse::json(429, &serde_json::json!({"error": {"code": "rate_limited", "message": "slow down"}}));
        busy.headers.push(crate::http::Header::new("retry-after", "1"));
        let pending = serde_json::json!({"id": "job_1", "status": "pending", "mode": "text_to_video", "resolution": "720p", "duration": 5});
        let early = serde_json::json!({"id": "job_1", "status": "processing", "mode": "text_to_video", "resolution": "720p", "duration": 5, "progress": 3});
        let mut now = Millis(0);
        let mut answers = vec![busy, HttpResponse::json(201, &pending), HttpResponse::json(200, &early)].into_iter();
        let next_poll = loop {
            match run.poll(now) {
                Output::Send { id, .. } => {
                    now = now.plus(50);
                    run.handle_response(id, answers.next().unwrap(), now);
                }
                Output::WaitUntil(t) if answers.len() == 0 => break t.since(now),
                Output::WaitUntil(t) => now = t,
                Output::Event(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        };
        assert!(next_poll < 5_000, "the next poll {next_poll} ms off");
    }
}
