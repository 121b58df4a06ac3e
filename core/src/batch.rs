//! A batch of jobs scheduled against the account's limits.
//!
//! # Rules
//! 1. Before anything is created, every request is validated and the total cost estimated; the
//!    batch refuses to start above `max_spend_cents`, and (after reading the account) above the
//!    balance.
//! 2. At most `concurrent_jobs` jobs are in flight (being created, pending or processing).
//! 3. One request budget — a sliding window of `requests_per_minute`, the same limiter as
//!    everywhere in this crate — is shared by creates, polls and deletes, so the batch itself
//!    never causes a 429.
//! 4. Each create is a [`Create`]: an idempotency key per item, and reconciliation when an outcome
//!    is unknown. No item is ever submitted twice. The items' creates share [`Claims`], so
//!    identical items whose answers were lost do not adopt one another's jobs.
//! 5. Running jobs are observed by **listing** (`GET /v1/videos?limit=N`): one request sees every
//!    job in flight. A job the page does not show (another client pushed it out) is fetched alone.
//! 6. Lists go out every `poll_interval_ms` only while some job is likely to be finishing (past
//!    `likely_from` × its expected time); before that, none. Expected times come from the model in
//!    [`crate::schedule`], scaled by what finished jobs showed.
//! 7. With `longest_first`, the queue is ordered by expected time, longest first (it shortens the
//!    tail); otherwise input order.
//! 8. Results are emitted as jobs finish ([`Event::ItemDone`]); the summary keeps input order.
//! 9. [`Batch::snapshot`] can be taken at any time; [`Batch::resume`] continues from it, first
//!    reconciling every item whose create may have been sent. A snapshot keeps the service's
//!    latest `Date` (a resumed batch's keeps its snapshot's: its items' keys may be that old); a
//!    batch resumed from a dated one with items still to create reads a `Date` before it sends any
//!    (its account check, or a one-job list with `check_balance` off), and compares every later
//!    answer's too. Once the snapshot is more than [`SNAPSHOT_KEYS_KEPT_MS`] older (or dated ahead
//!    of the service by more than a few minutes), the service may have forgotten the items' keys,
//!    and an item the process that went on sent after the snapshot would be made and charged again
//!    under its key (helper-54: 6 jobs for 3 items after 25 h). So no item is sent from then on:
//!    `queued` ones end `snapshot_too_old` (the snapshot cannot tell whether they were sent),
//!    `submitting` ones adopt the job the list shows them, or end the same way; the balance is not
//!    checked (nothing is created). Without a `Date` (a snapshot from before any answer, or an
//!    older SDK's; a browser that is not shown the header) the age cannot be told, and the batch
//!    goes on, with a warning.
//! 10. Cancel: queued items end `cancelled`, pending jobs are deleted (refunded), processing jobs go
//!     on and are reported `cancelled` with their id. A cancel before the account check answered
//!     is no different: the batch ends with its summary, every item in it, and the check's late
//!     answer is ignored. As in `job` rule 8, a job is deleted only on a fresh sighting: one last
//!     seen `pending` longer ago than [`crate::job::fresh_for`] its expected time (a second at
//!     most), or never seen (a resumed batch's running jobs), is looked at
//!     first (a get, or a list or get already on its way), and deleted only if still pending; so is
//!     one whose delete was held past that freshness (by the rate limit, a `429`'s pause between
//!     attempts; twice at most, then it goes out; at once after a look that was itself answered
//!     later than that freshness: another would be as late). A job a create hands back after the cancel (a
//!     resumed item's reconciliation, a create seen through) is judged by that answer: pending is
//!     deleted, processing goes on, completed ends its item completed. A DELETE that reached a job
//!     completed meanwhile would remove its video's record, charged. An item that gives its
//!     adopted job up after the cancel (rule 4) reconciles at once for its own, sending nothing again.
//!
//! # Theory of operation
//! `CheckAccount` (one `GET /v1/account`, or rule 9's one-job list) → `Run`: every `poll` first lets sub-machines that do
//! not need the network make progress, then — if the limiter has a slot — sends at most one
//! request, in this order: a create's own request (retry or reconcile), a new create, a delete,
//! a lone get, a list. Otherwise it returns the earliest instant something becomes due.
//! Request ids: the batch's own are below 2^24; item `i`'s create uses `(i + 1) << 24` onwards.

use crate::claims::Claims;
use crate::create::Create;
use crate::error::{Error, ErrorKind};
use crate::http::{HttpResponse, TransportKind};
use crate::model::{CreateVideoRequest, Job, JobStatus, ListParams};
use crate::output::{Event, Output, RequestId};
use crate::pricing::PricingTable;
use crate::ratelimit::{Limits, RateLimiter};
use crate::request::{ClientConfig, Endpoint, IdempotencyKey};
use crate::response;
use crate::retry::{RetryPolicy, Rng};
use crate::schedule::expected_total_ms;
use crate::secret::ApiKey;
use crate::time::Millis;
use crate::validate::{kept_scale, option_rules, scale_ok, Issue, IssueCode, MAX_GAP_MS};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// How much older than the service's latest `Date` a resumed snapshot may be for its items to be
/// sent (rule 9): the service keeps an idempotency key for 24 hours (*assumption*, as the emulator
/// does), less an hour for creates still on their way when the snapshot was taken and for the
/// service's clocks.
pub const SNAPSHOT_KEYS_KEPT_MS: i64 = 23 * 3_600_000;

/// How far ahead of the service's `Date` a resumed snapshot's may be before its age is taken to be
/// unknown (rule 9): a clock of the service's that was wrong when the snapshot was taken.
const SNAPSHOT_AHEAD_MS: i64 = 10 * 60_000;

/// Ids at and above this belong to item creates.
const ITEM_ID_SHIFT: u32 = 24;

/// The request a resumed batch reads the service's `Date` from when it checks no balance (rule 9).
const DATE_PROBE: ListParams = ListParams { limit: Some(1), offset: None };

/// How a batch runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
// `Deserialize` reads a tree and calls the hand-written reader (crate::readers).
// Every field defaults: a partial object is these defaults with its fields laid over (how every
// binding passes options), read in one pass with no merge.
#[serde(default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BatchOptions {
    /// Refuse to start if the estimated total exceeds this many cents.
    pub max_spend_cents: Option<u64>,
    /// The plan's limits (standard: 60 requests a minute, 10 concurrent jobs).
    pub limits: Limits,
    /// Order the queue longest expected job first (results still come as jobs finish). Off by
    /// default because it reorders the caller's queue; on, it shortens the tail enough to meet
    /// the fleet simulation's makespan goal at 100 jobs (fleet/RESULTS.md).
    pub longest_first: bool,
    /// Observe running jobs with one list request instead of one get each.
    pub poll_by_list: bool,
    /// Gap between polls while a completion is likely, in ms (default 3000).
    pub poll_interval_ms: u64,
    /// From which fraction of its expected time a job is "likely to be finishing" (default 0.65).
    pub likely_from: f64,
    /// Read the account first and refuse to start beyond its balance (default true). (A batch
    /// resumed from a dated snapshot reads the service's `Date` first in any case: rule 9.)
    pub check_balance: bool,
    /// Multiplies the model's expected times before any job has finished (default 1.0; e.g.
    /// 1/15 against an emulator running 15× faster). Finished jobs then teach the batch its own.
    pub expected_scale: f64,
    /// Retries of each request.
    pub retry: RetryPolicy,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            max_spend_cents: None,
            limits: Limits::STANDARD,
            longest_first: false,
            poll_by_list: true,
            poll_interval_ms: 3_000,
            likely_from: 0.65,
            check_balance: true,
            expected_scale: 1.0,
            retry: RetryPolicy::default(),
        }
    }
}

impl BatchOptions {
    /// The rules of a batch's options, each naming its field: `limits.concurrent_jobs` at least 1
    /// (0 would never start a job: the batch would end at once with nothing done);
    /// `poll_interval_ms` from 1 ms to a day (0 is a loop that spends the request budget);
    /// `likely_from` from 0 to 1; `expected_scale` above 0 and at most [`crate::validate::MAX_SCALE`] (20).
    ///
    /// # Errors
    /// A validation error listing every broken rule.
    pub fn check(&self) -> Result<(), Error> {
        option_rules(&[
            (self.limits.concurrent_jobs == 0, "limits.concurrent_jobs", "limits.concurrent_jobs must be at least 1"),
            (!(1..=MAX_GAP_MS).contains(&self.poll_interval_ms), "poll_interval_ms", "poll_interval_ms must be from 1 to 86400000 ms (a day)"),
            (!(0.0..=1.0).contains(&self.likely_from), "likely_from", "likely_from must be a number from 0 to 1"),
            (!scale_ok(self.expected_scale), "expected_scale", "expected_scale must be a number above 0 and at most 20"),
        ])
    }
}

/// One item's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
// `Deserialize` reads a tree and calls the hand-written reader (crate::readers).
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ItemResult {
    /// The item's position in the input.
    pub index: u32,
    /// The finished job (completed), or the job as last seen (failed, cancelled), if one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<Job>,
    /// Why it did not complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}

/// Counts, emitted after every change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BatchProgress {
    /// Items in the batch.
    pub total: u32,
    /// Not yet submitted.
    pub queued: u32,
    /// Being created, pending or processing.
    pub in_flight: u32,
    /// Completed.
    pub completed: u32,
    /// Failed, or refused by the service or by this batch's checks.
    pub failed: u32,
    /// Cancelled by the batch's cancel (rule 10): queued items, deleted pending jobs (refunded),
    /// and processing jobs that go on. Counted apart from `failed` since session 25: a cancelled
    /// batch of eight read as eight failures. (Absent from the counts an older SDK wrote.)
    #[serde(default)]
    pub cancelled: u32,
    /// Requests sent so far.
    pub requests: u64,
}

/// The outcome of a whole batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BatchSummary {
    /// Every item, in input order.
    pub results: Vec<ItemResult>,
    /// The final counts.
    pub progress: BatchProgress,
    /// Cents the batch's jobs cost the account: completed jobs' costs, and the estimates of jobs
    /// that go on after the batch ended with them (a cancel that found them processing, a poll
    /// that failed for good); those are charged unless they fail later. Failed jobs (refunded),
    /// deleted pending jobs (refunded) and items with no job cost nothing. So do, here, items that
    /// ended `outcome_unknown` or `snapshot_too_old`: a job such an item made (unknown to it) is
    /// charged all the same.
    pub spent_cents: u64,
}

#[derive(Debug)]
struct Running {
    job_id: String,
    submitted_at: Millis,
    expected_ms: u64,
    last: Option<Job>,
    needs_get: bool,
    /// Gets or deletes of this job that failed in a row (bounded like the list's).
    failures: u32,
    /// Found by reconciliation (see [`Create::adopted`]), not named by its create's answer.
    adopted: bool,
    /// When `last` was seen (`None`: not seen by this process).
    seen_at: Option<Millis>,
    /// Cancelled on a stale sighting (rule 10): the next sighting decides, deleting the job if
    /// it is still pending.
    cancel_look: bool,
    /// Looks taken again because its delete was held (by the rate limit, a retry's pause) past
    /// its sighting's freshness: bounded, so a budget of a few requests a minute, whose slots are
    /// further apart than a sighting stays fresh, still gets the delete out.
    relooks: u8,
    /// When the look of `cancel_look` was asked for: one answered later than a sighting stays
    /// fresh (it waited that long for a slot) ends the looks (`job` rule 8).
    look_from: Option<Millis>,
    /// That look was answered that late: its delete is not held for freshness (no `send_by`, no
    /// look again while the limit holds it) until an attempt of it fails (a pause then looks first).
    slow_look: bool,
}

impl Running {
    /// Whether the job was last seen ended: an adopted job whose end is held (see
    /// [`Batch::observe`]); any other ended job makes its item done at once.
    fn ended(&self) -> bool {
        self.last.as_ref().is_some_and(|j| j.status.is_terminal())
    }

    /// Whether its job was seen `pending` recently enough to be deleted on a cancel without a
    /// look first (rule 10).
    fn fresh_pending(&self, now: Millis) -> bool {
        let pending = self.last.as_ref().is_some_and(|j| j.status == JobStatus::Pending);
        pending && self.fresh_until().is_some_and(|t| now < t)
    }

    /// When its last sighting goes stale (rule 10; `job::fresh_for`): a delete's `send_by`.
    fn fresh_until(&self) -> Option<Millis> {
        self.seen_at.map(|t| t.plus(crate::job::fresh_for(self.expected_ms)))
    }
}

#[derive(Debug)]
enum ItemState {
    Queued,
    Creating(Box<Create>),
    Running(Running),
    /// Cancelled while pending: a delete is due (or in flight).
    Deleting(Running),
    Done,
}

/// Whether a read of the batch's (the account check, the list, a get) that failed with `e` is
/// sent again, within its budget: what a call retries, and also an answer that is no readable
/// record or another job's (job rule 10; helper-48: a proxy's page in answer to the list failed
/// the whole batch, to a get its item).
fn read_again(e: &Error) -> bool {
    e.is_retryable() || e.is_unreadable_answer()
}

/// Rule 9: why a submitting item's create is never sent again once the snapshot is `stale`.
fn resend_refused(stale: &str) -> String {
    format!("{stale}: under its key, which the service may have forgotten, this item could be made and charged again")
}

/// Rule 9: an error's key (an `outcome_unknown` one's, a `5xx` one's) may be forgotten by the
/// service (`stale` says why): it is dropped and the error recoded `snapshot_too_old`, which is not
/// retryable, since creating again, under it or a new key, is no safe retry (a `5xx` one kept its
/// retryable code, inviting a new create: helper-72). Whether it had one to drop.
fn forget_key(e: &mut Error, stale: &str) -> bool {
    if e.idempotency_key.take().is_none() {
        return false;
    }
    crate::error::SNAPSHOT_TOO_OLD.clone_into(&mut e.code);
    e.message = format!("{}; {stale}: its idempotency key may be forgotten, so creating again under it is no safe retry (look for its job first)", e.message);
    true
}

/// The warning of a resumed batch that cannot tell its snapshot's age (rule 9), saying `why`.
fn undated(why: &str) -> Event {
    Event::Warning {
        message: format!("{why}, so the age of the batch's snapshot cannot be told: its items are sent under their idempotency keys, which the service keeps for 24 h (an assumption); resume within a day of the snapshot"),
    }
}

/// How long an item refused for want of a job slot (`concurrency_limit`: the account full of
/// other jobs) goes on waiting for one before it ends with that error, in ms.
pub const FULL_WAIT_MS: u64 = 15 * 60_000;

#[derive(Debug)]
struct Item {
    request: CreateVideoRequest,
    key: IdempotencyKey,
    state: ItemState,
    /// For a resumed item whose create may have been sent.
    reconcile_first: bool,
    /// When its create was first refused because the account was full (`concurrency_limit`).
    refused_since: Option<Millis>,
    result: Option<ItemResult>,
    /// Its `ItemDone` event was taken by the driver (polled out): handed to the caller.
    reported: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Target {
    /// The account check, or rule 9's date probe.
    Check,
    List,
    Get(usize),
    Delete(usize),
}

#[derive(Debug, PartialEq, Eq)]
enum Phase {
    CheckAccount,
    Run,
    Done,
}

/// A batch. Drive it like every machine here (see [`crate::machine::Machine`]); take the
/// [`BatchSummary`] with [`Batch::take_result`] once `Done`.
#[derive(Debug)]
pub struct Batch {
    config: ClientConfig,
    /// `None`: a keyless client's batch, behind a proxy that adds the key.
    key: Option<ApiKey>,
    options: BatchOptions,
    items: Vec<Item>,
    order: VecDeque<usize>,
    total_cents: u64,
    /// The estimate of the items whose create may still be sent (queued, or submitting in a
    /// snapshot): what the balance must cover. A resumed batch's running jobs are already held.
    create_cents: u64,
    limiter: RateLimiter,
    rng: Rng,
    scale: f64,
    phase: Phase,
    in_flight: HashMap<RequestId, Target>,
    next_id: u64,
    list_in_flight: bool,
    last_list_at: Option<Millis>,
    list_blocked_until: Millis,
    list_failures: u32,
    account_failures: u32,
    server_full_until: Millis,
    cancel_requested: bool,
    requests: u64,
    /// Shared by the items' creates (rule 4): identical items whose answers were lost each
    /// reconcile to a job of their own.
    claims: Claims,
    /// The latest `Date` the service sent, and the first (rule 9).
    service_date_ms: Option<i64>,
    first_date_ms: Option<i64>,
    /// Why nothing more is sent for a resumed snapshot's items, once its age says so (rule 9):
    /// latched, since a later `Date` (another server's clock, a cached answer's) may read younger.
    stale: Option<String>,
    /// For a resumed batch, its snapshot's `service_date_ms` (`Some(None)`: undated): rule 9.
    resumed_from: Option<Option<i64>>,
    events: VecDeque<Event>,
    result: Option<Result<BatchSummary, Error>>,
}

/// A batch's state as JSON-ready data: what [`Batch::resume`] needs in a new process.
#[derive(Clone, Debug, PartialEq, Serialize)]
// `Deserialize` reads a tree and calls the hand-written reader (crate::readers).
pub struct BatchSnapshot {
    /// Format version (1).
    pub version: u32,
    /// Every item.
    pub items: Vec<SnapshotItem>,
    /// The learned scale of expected times.
    pub scale: f64,
    /// Whose jobs these are: a digest of the base URL and API key of the client that took it
    /// ([`snapshot_owner`]). [`Batch::resume`] refuses a snapshot of another key or service,
    /// whose jobs it could not see: their `404`s would read as deleted and refunded while the
    /// other account is charged (helper-37). Absent in snapshots written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// From when its items' idempotency keys may have been used, by the service's clock, in ms
    /// since the Unix epoch: the latest `Date` the service sent the batch before the snapshot, or,
    /// for a resumed batch, its own snapshot's (the first `Date` it read, for an undated one).
    /// [`Batch::resume`] sends nothing for an item that may have been sent already once the
    /// service may have forgotten its key (rule 9). Absent when no answer carried one, and in
    /// snapshots written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_date_ms: Option<i64>,
    /// The batch was cancelled: [`Batch::resume`] cancels it again at once, so a process that
    /// died during the cancel's clean-up leaves no pending job to run and be charged, and no
    /// create to be sent again (helper-64). Absent (false) in snapshots written before it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancelled: bool,
}

/// The owner of a snapshot taken by a client of `base_url` and `key`: 16 hex digits of a digest
/// (to tell keys apart, not to hide them: the snapshot never holds the key).
#[must_use]
pub fn snapshot_owner(config: &ClientConfig, key: Option<&ApiKey>) -> String {
    let both = format!("{}\n{}", config.base_url(), key.map_or("", ApiKey::expose));
    format!("{:016x}", crate::per_key::digest(Some(&both)))
}

/// One item of a [`BatchSnapshot`].
#[derive(Clone, Debug, PartialEq, Serialize)]
// `Deserialize` reads a tree and calls the hand-written reader (crate::readers).
pub struct SnapshotItem {
    /// The request.
    pub request: CreateVideoRequest,
    /// Its idempotency key (the same on every attempt, in every process).
    pub idempotency_key: IdempotencyKey,
    /// `queued`, `submitting` (a create may have been sent), `running`, or `done`.
    pub state: String,
    /// The job's id once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The outcome, for `done` items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ItemResult>,
    /// A `done` item whose outcome the driver had not yet taken (its `ItemDone` event was still
    /// queued in the batch, so the caller never got it): a resumed batch reports it first. Absent
    /// (false) otherwise, and in snapshots written before it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreported: bool,
}

/// A batch as checked before it runs: its items (validated, each with its idempotency key), their
/// estimate, the scale of expected times and the jitter's seed. [`Batch::new`] and
/// [`Batch::resume`] make one and then add the scheduler (`Batch::from_plan`).
#[derive(Debug)]
pub(crate) struct BatchPlan {
    items: Vec<Item>,
    scale: f64,
    seed: u64,
    total_cents: u64,
    create_cents: u64,
    /// For a resumed batch, its snapshot's `service_date_ms` (rule 9).
    resumed_from: Option<Option<i64>>,
}

impl BatchPlan {
    /// The plan of a new batch (see [`Batch::new`]).
    ///
    /// # Errors
    /// As [`Batch::new`].
    fn new(requests: Vec<CreateVideoRequest>, entropy: &[u8], options: &BatchOptions) -> Result<Self, Error> {
        options.check()?;
        let base = IdempotencyKey::from_entropy(entropy).map_err(|i| Error::validation(vec![i]))?;
        let items = requests
            .into_iter()
            .enumerate()
            .map(|(i, request)| {
                let key = IdempotencyKey::from_string(&format!("{}-{i}", base.as_str())).map_err(|i| Error::validation(vec![i]))?;
                Ok(Item { request, key, state: ItemState::Queued, reconcile_first: false, refused_since: None, result: None, reported: false })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let seed = entropy.iter().fold(0u64, |acc, b| acc.rotate_left(8) ^ u64::from(*b));
        let scale = kept_scale(options.expected_scale).unwrap_or(1.0); // `check` above: a scale
        BatchPlan::check(items, scale, seed, None, options)
    }

    /// The plan of a batch resumed from a snapshot (see [`Batch::resume`]).
    ///
    /// # Errors
    /// As [`Batch::resume`].
    fn resume(snapshot: BatchSnapshot, seed: u64, options: &BatchOptions, now: Millis) -> Result<Self, Error> {
        options.check()?;
        if snapshot.version != 1 {
            return Err(Error::validation(vec![Issue::new("snapshot.version", IssueCode::InvalidChoice, "this SDK reads batch snapshots of version 1")]));
        }
        // The scale the first process learned (it started from its `expected_scale`); a snapshot
        // without a usable one falls back to this process's option. Running jobs' expected times
        // use it too, or a resumed batch against a fast service would wait out the model's times.
        let scale = kept_scale(snapshot.scale).or_else(|| kept_scale(options.expected_scale)).unwrap_or(1.0);
        let mut items = Vec::with_capacity(snapshot.items.len());
        for s in snapshot.items {
            let mut item = Item { request: s.request, key: s.idempotency_key, state: ItemState::Queued, reconcile_first: false, refused_since: None, result: None, reported: false };
            match (s.state.as_str(), s.job_id, s.result) {
                ("done", _, Some(result)) => {
                    item.result = Some(result);
                    item.state = ItemState::Done;
                    item.reported = !s.unreported;
                }
                ("running", Some(job_id), _) => {
                    let model = expected_total_ms(item.request.effective_resolution(), item.request.effective_duration());
                    // Bounded by the clamp on `scale`, so the cast is exact.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
                    let expected_ms = ((model as f64) * scale) as u64;
                    item.state = ItemState::Running(Running { job_id, submitted_at: now, expected_ms, last: None, needs_get: true, failures: 0, adopted: false, seen_at: None, cancel_look: false, relooks: 0, look_from: None, slow_look: false });
                }
                ("submitting", _, _) => item.reconcile_first = true,
                ("queued", _, _) => {}
                (other, ..) => return Err(Error::validation(vec![Issue::new("snapshot.items.state", IssueCode::InvalidChoice, format!("unknown or incomplete item state `{other}`"))])),
            }
            items.push(item);
        }
        BatchPlan::check(items, scale, seed, Some(snapshot.service_date_ms), options)
    }

    /// Refuses an invalid request, or a total above `max_spend_cents`. An empty batch is
    /// accepted (it ends at once, nothing sent): a caller's list of prompts may be empty.
    fn check(items: Vec<Item>, scale: f64, seed: u64, resumed_from: Option<Option<i64>>, options: &BatchOptions) -> Result<Self, Error> {
        let mut issues = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if let Err(found) = crate::validate::validate_create(&item.request) {
                issues.extend(found.into_iter().map(|issue| issue.of_request(i)));
            }
        }
        if !issues.is_empty() {
            return Err(Error::validation(issues));
        }
        let pending: Vec<CreateVideoRequest> = items.iter().filter(|i| !matches!(i.state, ItemState::Done)).map(|i| i.request.clone()).collect();
        let total_cents = PricingTable::builtin().estimate_all(&pending).map_err(|i| Error::validation(vec![i]))?;
        if let Some(max) = options.max_spend_cents.filter(|m| total_cents > *m) {
            return Err(Error::validation(vec![Issue::new("max_spend_cents", IssueCode::OutOfRange, format!("the batch is estimated at {total_cents} cents, above max_spend_cents ({max})"))]));
        }
        let to_create: Vec<CreateVideoRequest> = items.iter().filter(|i| matches!(i.state, ItemState::Queued)).map(|i| i.request.clone()).collect();
        let create_cents = PricingTable::builtin().estimate_all(&to_create).map_err(|i| Error::validation(vec![i]))?;
        Ok(BatchPlan { items, scale, seed, total_cents, create_cents, resumed_from })
    }
}

impl Batch {
    /// A batch of `requests`. `entropy` (at least 16 random bytes) seeds the idempotency keys and
    /// the jitter.
    ///
    /// # Errors
    /// A validation error naming every bad request (`requests[3].duration`) or a total above
    /// `max_spend_cents` (field `max_spend_cents`), or on `api_key` for a keyless batch on the
    /// service ([`ClientConfig::check_key`]). An empty batch is no error: it ends at once with an
    /// empty summary, nothing sent.
    pub fn new(config: &ClientConfig, key: Option<&ApiKey>, requests: Vec<CreateVideoRequest>, entropy: &[u8], options: BatchOptions, now: Millis) -> Result<Self, Error> {
        config.check_key(key)?;
        let plan = BatchPlan::new(requests, entropy, &options)?;
        Ok(Batch::from_plan(config, key, plan, options, now))
    }

    /// Continues a batch from a snapshot. Items that were `submitting` are reconciled (listed and
    /// matched) before anything is sent for them; `running` ones are polled; `done` ones kept.
    /// A cancelled batch's snapshot resumes cancelled: its cancel is seen through (rule 10).
    /// From a snapshot too old for the service's keys, nothing is sent again (rule 9).
    ///
    /// # Errors
    /// A validation error for a snapshot this version cannot read, or as [`Batch::new`].
    pub fn resume(config: &ClientConfig, key: Option<&ApiKey>, snapshot: BatchSnapshot, seed: u64, options: BatchOptions, now: Millis) -> Result<Self, Error> {
        config.check_key(key)?;
        if snapshot.owner.as_deref().is_some_and(|o| o != snapshot_owner(config, key)) {
            return Err(Error::usage(
                "this batch snapshot was taken by a client of another API key or base URL: resume it with that one (this client cannot see its jobs, whose 404s would read as deleted and refunded while that account is charged)",
            ));
        }
        let cancelled = snapshot.cancelled;
        let plan = BatchPlan::resume(snapshot, seed, &options, now)?;
        let mut batch = Batch::from_plan(config, key, plan, options, now);
        if cancelled {
            batch.cancel(now);
        }
        Ok(batch)
    }

    /// The scheduler over a checked plan.
    fn from_plan(config: &ClientConfig, key: Option<&ApiKey>, plan: BatchPlan, options: BatchOptions, _now: Millis) -> Self {
        let BatchPlan { items, scale, seed, total_cents, create_cents, resumed_from } = plan;
        let mut order: Vec<usize> = items.iter().enumerate().filter(|(_, i)| matches!(i.state, ItemState::Queued)).map(|(i, _)| i).collect();
        if options.longest_first {
            // Stable: equal expected times keep input order.
            order.sort_by_key(|&i| std::cmp::Reverse(items.get(i).map_or(0, |it| expected_total_ms(it.request.effective_resolution(), it.request.effective_duration()))));
        }
        // The balance matters only to what is still to be created; so does a resumed snapshot's
        // age (rule 9), read from the check's answer (a one-job list without `check_balance`).
        let dated = matches!(resumed_from, Some(Some(_)));
        let phase = if (options.check_balance || dated) && !order.is_empty() { Phase::CheckAccount } else { Phase::Run };
        // Done items a snapshot's process never handed out are reported first.
        let events = items
            .iter()
            .enumerate()
            .filter(|(_, it)| !it.reported)
            .filter_map(|(i, it)| Some(Event::ItemDone(ItemResult { index: u32::try_from(i).ok()?, ..it.result.clone()? })))
            .chain((resumed_from == Some(None) && !order.is_empty()).then(|| undated("the snapshot records no date of the service's (it was taken before any answer, by an older SDK, or where the Date header cannot be read)")))
            .collect();
        Batch {
            config: config.clone(),
            key: key.cloned(),
            limiter: RateLimiter::new(options.limits.requests_per_minute),
            options,
            items,
            order: order.into(),
            total_cents,
            create_cents,
            rng: Rng::new(seed),
            scale,
            phase,
            in_flight: HashMap::new(),
            next_id: 1,
            list_in_flight: false,
            last_list_at: None,
            list_blocked_until: Millis(0),
            list_failures: 0,
            account_failures: 0,
            server_full_until: Millis(0),
            cancel_requested: false,
            requests: 0,
            claims: Claims::new(),
            service_date_ms: None,
            first_date_ms: None,
            stale: None,
            resumed_from,
            events,
            result: None,
        }
    }

    /// The estimated total of the items not yet done, in cents.
    #[must_use]
    pub fn estimated_cents(&self) -> u64 {
        self.total_cents
    }

    /// The batch's counts now.
    #[must_use]
    pub fn progress(&self) -> BatchProgress {
        let mut p = BatchProgress { total: u32::try_from(self.items.len()).unwrap_or(u32::MAX), requests: self.requests, ..BatchProgress::default() };
        for item in &self.items {
            match (&item.state, &item.result) {
                (ItemState::Queued, _) => p.queued += 1,
                (ItemState::Done, Some(r)) => match &r.error {
                    None => p.completed += 1,
                    Some(e) if e.kind == ErrorKind::Cancelled => p.cancelled += 1,
                    Some(_) => p.failed += 1,
                },
                (ItemState::Done, None) => p.failed += 1,
                _ => p.in_flight += 1,
            }
        }
        p
    }

    /// The state as data, to resume from in another process ([`Batch::resume`]).
    #[must_use]
    pub fn snapshot(&self) -> BatchSnapshot {
        let items = self
            .items
            .iter()
            .map(|item| {
                let (state, job_id) = match &item.state {
                    ItemState::Queued if item.reconcile_first => ("submitting", None),
                    ItemState::Queued => ("queued", None),
                    ItemState::Creating(_) => ("submitting", None),
                    ItemState::Running(r) | ItemState::Deleting(r) => ("running", Some(r.job_id.clone())),
                    ItemState::Done => ("done", item.result.as_ref().and_then(|r| r.job.as_ref().map(|j| j.id.clone()))),
                };
                let unreported = matches!(item.state, ItemState::Done) && !item.reported;
                SnapshotItem { request: item.request.clone(), idempotency_key: item.key.clone(), state: state.to_owned(), job_id, result: item.result.clone(), unreported }
            })
            .collect();
        BatchSnapshot { version: 1, items, scale: self.scale, owner: Some(snapshot_owner(&self.config, self.key.as_ref())), service_date_ms: self.snapshot_date(), cancelled: self.cancel_requested }
    }

    // ---- driving ---------------------------------------------------------------------------

    /// What to do next.
    #[must_use]
    pub fn poll(&mut self, now: Millis) -> Output {
        loop {
            if let Some(e) = self.events.pop_front() {
                if let Event::ItemDone(r) = &e
                    && let Some(item) = self.items.get_mut(r.index as usize)
                {
                    item.reported = true; // the driver has it now (a snapshot says so)
                }
                return Output::Event(e);
            }
            match self.phase {
                Phase::Done => return Output::Done,
                Phase::CheckAccount => {
                    if self.in_flight.values().any(|t| *t == Target::Check) {
                        return Output::Pending;
                    }
                    if let Err(t) = self.limiter.try_acquire(now) {
                        return Output::WaitUntil(t);
                    }
                    // Without `check_balance`, only a resumed snapshot's age is wanted: any answer's `Date`.
                    let check = if self.options.check_balance {
                        self.config.retrieve_account(self.key.as_ref()).map(|r| (Endpoint::Account, r))
                    } else {
                        self.config.list_videos(self.key.as_ref(), &DATE_PROBE).map(|r| (Endpoint::ListVideos, r))
                    };
                    match check {
                        Ok((endpoint, request)) => return self.send(Target::Check, endpoint, request),
                        // Not reached: `Batch::new` checked the key against the base URL. Were it,
                        // the batch would go on unchecked, as with `check_balance` off.
                        Err(_) => self.phase = Phase::Run,
                    }
                }
                Phase::Run => {
                    if let Some(out) = self.run_step(now) {
                        return out;
                    }
                }
            }
        }
    }

    fn send(&mut self, target: Target, endpoint: Endpoint, request: crate::http::HttpRequest) -> Output {
        // A delete goes out only on a fresh sighting (rule 10): one whose driver's slot, shared
        // with the key's other calls, comes after it goes stale is reported not sent and looks
        // first (helper-55: held a minute by the key's other calls, it went out unseen). The
        // last look's delete carries none and goes out whenever its slot comes.
        let send_by = match target {
            Target::Delete(i) => match self.items.get(i).map(|it| &it.state) {
                Some(ItemState::Deleting(r)) if r.relooks < crate::job::MAX_RELOOKS && !r.slow_look => r.fresh_until(),
                _ => None,
            },
            _ => None,
        };
        let id = RequestId(self.next_id);
        self.next_id += 1;
        self.requests += 1;
        self.in_flight.insert(id, target);
        Output::Send { id, endpoint, request, timeout_ms: None, send_by }
    }

    fn slot_free(&self, now: Millis) -> bool {
        self.limiter.next_free(now) <= now
    }

    fn in_flight_jobs(&self) -> usize {
        self.items.iter().filter(|i| matches!(i.state, ItemState::Creating(_) | ItemState::Running(_) | ItemState::Deleting(_))).count()
    }

    /// One pass of the scheduler. `None` means state changed: look again.
    fn run_step(&mut self, now: Millis) -> Option<Output> {
        if self.items.iter().all(|i| matches!(i.state, ItemState::Done)) && self.in_flight.is_empty() {
            self.finish_ok();
            return None;
        }
        let slot = self.slot_free(now);
        let mut wake: Option<Millis> = None;
        let mut note = |t: Millis| wake = Some(wake.map_or(t, |w: Millis| w.min(t)));

        // 1. Creates: let each make progress; one that wants the network only with a slot.
        for i in 0..self.items.len() {
            let Some(Item { state: ItemState::Creating(create), .. }) = self.items.get_mut(i) else { continue };
            if create.wants_to_send(now) && !slot {
                note(self.limiter.next_free(now));
                continue;
            }
            match create.poll(now) {
                out @ Output::Send { .. } => {
                    self.requests += 1;
                    let _ = self.limiter.try_acquire(now);
                    return Some(out);
                }
                Output::Event(e) => {
                    self.events.push_back(e);
                    return None;
                }
                Output::WaitUntil(t) => note(t),
                Output::Done => {
                    let (result, adopted, replayed) = (create.take_result(), create.adopted(), create.answer_may_be_a_replay());
                    self.created(i, result, adopted, replayed, now);
                    return None;
                }
                _ => {}
            }
        }
        let wants_slot = |b: &Batch| b.slot_free(now);

        // 1b. A held end (an adopted job seen ended while an identical item was still looking for
        // its job) is let go once none is, from its last answer: nothing is polled for it, so a
        // hold spends no requests, however short the poll interval.
        let released = self.items.iter().enumerate().find_map(|(i, it)| match &it.state {
            ItemState::Running(Running { last: Some(job), .. }) if job.status.is_terminal() && !self.alike_unresolved(i) => Some((i, job.clone())),
            _ => None,
        });
        if let Some((i, job)) = released {
            self.observe(i, job, now);
            return None;
        }

        // 2. A new create, when a job slot is free. Rule 9: once the snapshot is too old, the
        // queued items end at once, none sent.
        if self.stale.is_some() {
            let queued: Vec<usize> = self.order.iter().copied().filter(|&i| self.items.get(i).is_some_and(|it| !it.reconcile_first)).collect();
            if !queued.is_empty() {
                self.order.retain(|&i| self.items.get(i).is_some_and(|it| it.reconcile_first));
                for i in queued {
                    self.not_sent(i);
                }
                return None;
            }
        }
        if !self.cancel_requested && !self.order.is_empty() && self.in_flight_jobs() < self.options.limits.concurrent_jobs as usize {
            if now < self.server_full_until {
                note(self.server_full_until);
            } else if wants_slot(self) {
                self.start_next(now);
                return None;
            } else {
                note(self.limiter.next_free(now));
            }
        }

        // 3. Deletes for cancelled pending jobs, then lone gets. A delete held past its sighting's
        // freshness (by the limit, or a 429's pause between its attempts) looks again first
        // (rule 10), a few times at most.
        let held = self.items.iter().enumerate().position(|(i, it)| {
            matches!(&it.state, ItemState::Deleting(r) if !r.fresh_pending(now) && r.relooks < crate::job::MAX_RELOOKS && !r.slow_look) && !self.in_flight.values().any(|t| *t == Target::Delete(i))
        });
        if let Some(i) = held {
            self.look_before_delete(i, now);
            return None;
        }
        let due_delete = self.items.iter().enumerate().find(|(i, it)| matches!(it.state, ItemState::Deleting(_)) && !self.in_flight.values().any(|t| *t == Target::Delete(*i))).map(|(i, _)| i);
        let due_get = self.items.iter().enumerate().find(|(i, it)| matches!(&it.state, ItemState::Running(r) if r.needs_get) && !self.in_flight.values().any(|t| *t == Target::Get(*i))).map(|(i, _)| i);
        for (target, index) in [(Target::Delete(0), due_delete), (Target::Get(0), due_get)] {
            let Some(i) = index else { continue };
            if !wants_slot(self) {
                note(self.limiter.next_free(now));
                break;
            }
            let job_id = match self.items.get(i).map(|it| &it.state) {
                Some(ItemState::Running(r) | ItemState::Deleting(r)) => r.job_id.clone(),
                _ => continue,
            };
            let _ = self.limiter.try_acquire(now);
            let built = match target {
                Target::Delete(_) => self.config.delete_video(self.key.as_ref(), &job_id).map(|r| (Target::Delete(i), Endpoint::DeleteVideo, r)),
                _ => self.config.retrieve_video(self.key.as_ref(), &job_id).map(|r| (Target::Get(i), Endpoint::RetrieveVideo, r)),
            };
            match built {
                Ok((t, endpoint, request)) => return Some(self.send(t, endpoint, request)),
                Err(e) => {
                    self.item_done(i, None, Some(e));
                    return None;
                }
            }
        }

        // 4. A list (or per-job gets when listing is off), when a completion is likely.
        if let Some(due) = self.poll_due() {
            if due > now {
                note(due);
            } else if !wants_slot(self) {
                note(self.limiter.next_free(now));
            } else if self.options.poll_by_list {
                // A full page: it costs one request whatever its size, and a long job made early
                // sits far down the most-recent-first list once shorter ones have been replaced
                // (a short page sent every such job to a lone get: +1.5 requests per job).
                let limit = crate::model::MAX_PAGE_LIMIT;
                if let Ok(request) = self.config.list_videos(self.key.as_ref(), &ListParams { limit: Some(limit), offset: None }) {
                    let _ = self.limiter.try_acquire(now);
                    self.list_in_flight = true;
                    self.last_list_at = Some(now);
                    return Some(self.send(Target::List, Endpoint::ListVideos, request));
                }
            } else {
                // One get per job, but only for jobs likely to be finishing.
                self.last_list_at = Some(now);
                let likely_from = self.options.likely_from.clamp(0.0, 1.0);
                for item in &mut self.items {
                    if let ItemState::Running(r) = &mut item.state {
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
                        let lead = ((r.expected_ms as f64) * likely_from) as u64;
                        if r.submitted_at.plus(lead) <= now {
                            r.needs_get = true;
                        }
                    }
                }
                return None;
            }
        }

        match wake {
            Some(t) => Some(Output::WaitUntil(t.max(now))),
            None if !self.in_flight.is_empty() || self.items.iter().any(|i| matches!(i.state, ItemState::Creating(_))) => Some(Output::Pending),
            None => {
                // Nothing due and nothing in flight, yet items remain: cannot happen by
                // construction; end rather than wait for ever.
                self.finish_ok();
                None
            }
        }
    }

    /// When the next poll of running jobs is due: not before `poll_interval` after the last, nor
    /// before the first running job is likely to be finishing. `None` with nothing running.
    fn poll_due(&self) -> Option<Millis> {
        if self.list_in_flight {
            return None;
        }
        let likely = self
            .items
            .iter()
            .filter_map(|i| match &i.state {
                // A held end needs no poll: it is let go when its alike items resolve (run_step).
                ItemState::Running(r) if !r.needs_get && !r.ended() => Some(r),
                _ => None,
            })
            .map(|r| {
                // Bounded: expected_ms ≤ a day and likely_from is clamped, so the cast is exact.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
                let lead = ((r.expected_ms as f64) * self.options.likely_from.clamp(0.0, 1.0)) as u64;
                r.submitted_at.plus(lead)
            })
            .min()?;
        let after_last = self.last_list_at.map_or(Millis(0), |t| t.plus(self.options.poll_interval_ms));
        Some(likely.max(after_last).max(self.list_blocked_until))
    }

    fn start_next(&mut self, now: Millis) {
        let Some(i) = self.order.pop_front() else { return };
        self.start(i, now);
    }

    /// Item `i`'s create begins (or, for an item whose create an earlier process may have sent,
    /// its reconciliation).
    fn start(&mut self, i: usize, now: Millis) {
        let exclude: Vec<String> = self
            .items
            .iter()
            .filter_map(|it| match &it.state {
                ItemState::Running(r) | ItemState::Deleting(r) => Some(r.job_id.clone()),
                ItemState::Done => it.result.as_ref().and_then(|r| r.job.as_ref().map(|j| j.id.clone())),
                _ => None,
            })
            .collect();
        let seed = self.rng.next_u64();
        // (Rule 9: a queued item is not started once the snapshot is stale, `run_step` ends it.)
        let stale = self.stale.as_deref().map(resend_refused);
        let Some(item) = self.items.get_mut(i) else { return };
        let first_id = (u64::try_from(i).unwrap_or(0) + 1) << ITEM_ID_SHIFT;
        match Create::new(&self.config, self.key.as_ref(), item.request.clone(), &item.key, self.options.retry, seed, None, first_id) {
            Ok(create) => {
                let create = create.excluding(exclude).sharing(&self.claims);
                let create = match (stale, item.reconcile_first) {
                    (Some(why), true) => create.reconcile_only(why),
                    (None, true) => create.reconcile_first(),
                    (_, false) => create,
                };
                item.state = ItemState::Creating(Box::new(create));
            }
            Err(e) => self.item_done(i, None, Some(e)),
        }
        let _ = now;
    }

    fn created(&mut self, i: usize, result: Result<Job, Error>, adopted: bool, replayed: bool, now: Millis) {
        match result {
            Ok(job) => {
                if !adopted {
                    self.revoke_adoption(i, &job.id, now);
                }
                let Some(item) = self.items.get_mut(i) else { return };
                let model = expected_total_ms(item.request.effective_resolution(), item.request.effective_duration());
                // Bounded by the clamp on `scale`, so the cast is exact.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
                let expected_ms = ((model as f64) * self.scale) as u64;
                let cancelled = self.cancel_requested;
                let running = Running { job_id: job.id.clone(), submitted_at: now, expected_ms, last: None, needs_get: false, failures: 0, adopted, seen_at: None, cancel_look: cancelled, relooks: 0, look_from: cancelled.then_some(now), slow_look: false };
                item.state = ItemState::Running(running);
                self.push_progress();
                if replayed {
                    // The service's replay of an earlier attempt's answer: its status is as of
                    // then, no sighting (rule 10; helper-55). Kept, and the job read before
                    // anything is decided on it (a cancel's delete included).
                    if let Some(ItemState::Running(r)) = self.items.get_mut(i).map(|it| &mut it.state) {
                        r.last = Some(job);
                        r.needs_get = true;
                    }
                    return;
                }
                // The answer is a sighting: after a cancel it decides (rule 10), as a look's would.
                // A job found by reconciliation may be processing or completed, not deletable.
                self.observe(i, job, now);
            }
            Err(e) => {
                if e.kind == ErrorKind::RateLimit {
                    // The account is full (other clients?): hold new creates back for a while.
                    let wait = e.retry_after_ms.unwrap_or(5_000).min(self.options.retry.max_retry_after_ms);
                    self.server_full_until = now.plus(wait);
                    // Refused for want of a job slot, with no job made (a 429): the item waits
                    // for its turn again rather than fail, for up to `FULL_WAIT_MS` since it was
                    // first refused. A batch is there to see its jobs through the account's limits.
                    if e.code == "concurrency_limit"
                        && !self.cancel_requested
                        && let Some(item) = self.items.get_mut(i)
                        && now.since(*item.refused_since.get_or_insert(now)) < FULL_WAIT_MS
                    {
                        item.state = ItemState::Queued;
                        self.order.push_front(i);
                        self.events.push_back(Event::Warning { message: format!("item {i} waits for a job slot: the account is full ({}); it is sent again in {wait} ms at the earliest", e.message) });
                        return self.push_progress();
                    }
                }
                self.item_done(i, None, Some(e));
            }
        }
    }

    /// Item `i`'s own create answer names job `id`: an item that adopted that job by
    /// reconciliation, unable to tell identical items' jobs apart by the list, took the wrong one
    /// (`i`'s idempotency key names it). That item gives the job up and looks for its own again:
    /// its create's outcome is unknown once more, so it reconciles (never adopting a job another
    /// item holds) and sends its create again, under its own key, only if the list shows none.
    /// An item already done cannot be taken back: the create's warning says so.
    /// After a cancel, its reconciliation starts at once (its create cancelled: nothing is sent
    /// again), so that its own job, if the list shows one, is seen to like any other (rule 10),
    /// and a deleting item gives the job up too (its delete's answer is then ignored).
    fn revoke_adoption(&mut self, i: usize, id: &str, now: Millis) {
        let wrong = self.items.iter().position(|it| matches!(&it.state, ItemState::Running(r) | ItemState::Deleting(r) if r.adopted && r.job_id == id));
        let Some(j) = wrong.filter(|j| *j != i) else { return };
        if let Some(item) = self.items.get_mut(j) {
            item.state = ItemState::Queued;
            item.reconcile_first = true;
        }
        if self.cancel_requested {
            self.start(j, now);
            if let Some(Item { state: ItemState::Creating(c), .. }) = self.items.get_mut(j) {
                c.cancel();
            }
        } else {
            self.order.push_front(j);
        }
        self.events.push_back(Event::Warning { message: format!("item {j} gave job {id} up: the create of item {i} names it as its own (identical items' jobs look alike in the job list); item {j} looks for its own job again") });
        self.push_progress();
    }

    /// Whether an item identical to item `i` (as the job list sees it) has a create out or due
    /// to reconcile: its job is not known yet, and may be the one `i` adopted.
    fn alike_unresolved(&self, i: usize) -> bool {
        let Some(mine) = self.items.get(i) else { return false };
        self.items.iter().enumerate().any(|(j, it)| {
            let unresolved = match it.state {
                ItemState::Creating(_) => true,
                ItemState::Queued => it.reconcile_first,
                _ => false,
            };
            j != i && unresolved && crate::claims::alike(&it.request, &mine.request)
        })
    }

    fn item_done(&mut self, i: usize, job: Option<Job>, mut error: Option<Error>) {
        // Rule 9: an item ending with its outcome unknown once the snapshot is stale has no key
        // to send again under either.
        if let (Some(stale), Some(e)) = (&self.stale, error.as_mut()) {
            forget_key(e, stale);
        }
        let Some(item) = self.items.get_mut(i) else { return };
        let result = ItemResult { index: u32::try_from(i).unwrap_or(u32::MAX), job, error };
        item.state = ItemState::Done;
        item.result = Some(result.clone());
        self.events.push_back(Event::ItemDone(result));
        self.push_progress();
    }

    fn push_progress(&mut self) {
        let p = self.progress();
        self.events.push_back(Event::BatchProgress(p));
    }

    /// A job as the service reports it now.
    fn observe(&mut self, i: usize, job: Job, now: Millis) {
        // Only an adopted job's end is weighed against the other items (a scan of them all).
        let adopted = matches!(self.items.get(i).map(|it| &it.state), Some(ItemState::Running(r)) if r.adopted);
        let held = adopted && job.status.is_terminal() && self.alike_unresolved(i);
        let Some(item) = self.items.get_mut(i) else { return };
        // Not its job (an answer to a get sent before the item gave that job up): ignored.
        let ItemState::Running(r) = &mut item.state else { return };
        if r.job_id != job.id {
            return;
        }
        r.needs_get = false;
        r.failures = 0;
        // A first sighting is told too: a replayed create answer is kept as `last` but was none.
        if r.seen_at.is_none() || r.last.as_ref().is_none_or(|l| l.status != job.status) {
            self.events.push_back(Event::StatusChanged { job: job.clone() });
        }
        r.last = Some(job.clone());
        r.seen_at = Some(now);
        if r.cancel_look && !job.status.is_terminal() {
            // Cancelled on a stale sighting (rule 10): this one decides. One that came later than
            // a sighting stays fresh (it waited that long for a slot) ends the looks: the delete
            // goes out when its slot comes, as after the last look (`job` rule 8, helper-76).
            r.slow_look = crate::job::look_was_slow(r.look_from.take(), now, r.expected_ms);
            if job.status == JobStatus::Pending {
                if let ItemState::Running(r) = std::mem::replace(&mut item.state, ItemState::Done) {
                    item.state = ItemState::Deleting(r);
                }
                return;
            }
            return self.processing_goes_on(i, job);
        }
        if held {
            // Held: an identical item still looking for its job may yet name this one as its own
            // (`revoke_adoption`), and an item yielded cannot be taken back. Let go by `run_step`
            // once no identical item is unresolved.
            return;
        }
        match job.status {
            JobStatus::Completed => {
                // An adopted job's time is not learned from: it ran from before its adoption.
                if !r.adopted {
                    let model = expected_total_ms(item.request.effective_resolution(), item.request.effective_duration());
                    self.scale = crate::pace::lesson(self.scale, now.since(r.submitted_at), model).unwrap_or(self.scale);
                }
                self.item_done(i, Some(job), None);
            }
            JobStatus::Failed => {
                let err = Error::job_failed(&job);
                self.item_done(i, Some(job), Some(err));
            }
            _ => {}
        }
    }

    fn finish_ok(&mut self) {
        let results: Vec<ItemResult> = self.items.iter().enumerate().map(|(i, it)| it.result.clone().unwrap_or(ItemResult { index: u32::try_from(i).unwrap_or(u32::MAX), job: None, error: Some(Error::usage("the item never finished")) })).collect();
        let spent_cents = results.iter().filter_map(charged_cents).sum();
        let progress = self.progress();
        self.phase = Phase::Done;
        self.result = Some(Ok(BatchSummary { results, progress, spent_cents }));
    }

    fn fail(&mut self, err: Error) {
        self.phase = Phase::Done;
        self.result = Some(Err(err));
    }

    /// The response to request `id`.
    pub fn handle_response(&mut self, id: RequestId, resp: HttpResponse, now: Millis) {
        if self.phase == Phase::Done {
            // A late answer (say, to the account check of a batch cancelled meanwhile) must not
            // bring a finished batch back to life.
            return self.warn(id);
        }
        self.read_date(&resp);
        if id.0 >> ITEM_ID_SHIFT > 0 {
            let i = usize::try_from((id.0 >> ITEM_ID_SHIFT) - 1).unwrap_or(usize::MAX);
            self.limiter.observe(&resp, now);
            match self.items.get_mut(i).map(|it| &mut it.state) {
                Some(ItemState::Creating(c)) => c.handle_response(id, resp, now),
                _ => self.warn(id),
            }
            return;
        }
        let Some(target) = self.in_flight.remove(&id) else { return self.warn(id) };
        self.limiter.observe(&resp, now);
        match target {
            // Rule 9's date probe: only its `Date` is wanted, so a failure that carried one, or a
            // failure for good, does not fail the batch (helper-60: a proxy's 404 to it failed
            // every item, running ones too); it goes on, with a warning when no `Date` came.
            Target::Check if !self.options.check_balance => match response::parse_job_page(&resp, &DATE_PROBE) {
                Err(e) if self.service_date_ms.is_none() && read_again(&e) && self.account_failures < self.options.retry.max_retries => self.account_failed(e, now),
                _ => self.checked(),
            },
            Target::Check => match response::parse_account(&resp).map_err(|e| self.scrubbed(e)) {
                // Rule 9: a snapshot too old creates nothing, so no balance is needed. A resumed
                // batch's running jobs are already held: only what is still to be created counts
                // (helper-64: a resume whose balance covered its queued items was refused).
                Ok(account) if account.balance_cents < self.create_cents && self.stale.is_none() => {
                    let running = self.items.iter().filter(|i| matches!(i.state, ItemState::Running(_))).count();
                    let (what, goes_on) = match running {
                        0 => ("the batch is estimated at", String::new()),
                        n => ("the batch's items still to be created are estimated at", format!(" ({n} of the snapshot's jobs were already made and go on: resume the same snapshot once the balance covers the rest)")),
                    };
                    let mut e = Error::new(ErrorKind::InsufficientBalance, format!("{what} {} cents but the balance is {} cents; nothing was created{goes_on}", self.create_cents, account.balance_cents));
                    e.code = "insufficient_balance".to_owned();
                    self.fail(e);
                }
                Ok(_) => self.checked(),
                Err(e) => self.account_failed(e, now),
            },
            Target::List => {
                self.list_in_flight = false;
                match response::parse_job_page(&resp, &ListParams { limit: Some(crate::model::MAX_PAGE_LIMIT), offset: None }).map_err(|e| self.scrubbed(e)) {
                    Ok(page) => {
                        self.list_failures = 0;
                        let by_id: HashMap<&str, &Job> = page.data.iter().map(|j| (j.id.as_str(), j)).collect();
                        let mut seen = Vec::new();
                        for (i, item) in self.items.iter_mut().enumerate() {
                            if let ItemState::Running(r) = &mut item.state {
                                match by_id.get(r.job_id.as_str()) {
                                    Some(job) => seen.push((i, (*job).clone())),
                                    // Pushed out of the page (full) or gone (not full): ask alone.
                                    None => r.needs_get = true,
                                }
                            }
                        }
                        for (i, job) in seen {
                            self.observe(i, job, now);
                        }
                    }
                    Err(e) => self.list_failed(e, now),
                }
            }
            // An item no longer running (it gave its job up, see `revoke_adoption`) ignores it.
            Target::Get(i) if !matches!(self.items.get(i).map(|it| &it.state), Some(ItemState::Running(_))) => {}
            // Another job's answer, or none that can be read, is asked again within the item's
            // budget (job rule 10; helper-48: another job's was ignored and asked for again
            // without end, and a proxy's page failed the item at once).
            Target::Get(i) => match response::parse_job_for(&resp, self.running_job(i)).map_err(|e| self.scrubbed(e)) {
                Ok(job) => self.observe(i, job, now),
                Err(e) if read_again(&e) => self.retry_later(Target::Get(i), &e, now),
                Err(mut e) => {
                    let job = self.last_seen(i);
                    if e.kind == ErrorKind::NotFound
                        && let Some(j) = &job
                    {
                        // Say which job, and why it may be gone: the server's message names neither.
                        e.message = format!("{} (job {} was deleted since it was last seen {}: by a cancel elsewhere, or another client)", e.message, j.id, j.status.as_str());
                        e.job_id = Some(j.id.clone());
                    }
                    self.item_done(i, job, Some(e));
                }
            },
            // An item no longer deleting (it gave its adopted job up, `revoke_adoption`) ignores it.
            Target::Delete(i) if !matches!(self.items.get(i).map(|it| &it.state), Some(ItemState::Deleting(_))) => {}
            Target::Delete(i) => {
                let job = self.last_seen(i);
                let outcome = response::parse_delete(&resp, job.as_ref().map_or("", |j| j.id.as_str())).map_err(|e| self.scrubbed(e));
                match outcome {
                    Err(e) if e.is_retryable() => self.retry_later(Target::Delete(i), &e, now),
                    outcome => self.deleted(i, job, outcome.as_ref().map(|_| response::delete_refund(&resp))),
                }
            }
        }
    }

    /// Item `i`, cancelled, ends as its job's delete went (`Error::after_delete`). A failed
    /// delete's code is kept (the summary counts the job as spent: it goes on), but a 404's: that
    /// job is gone, and costs nothing.
    fn deleted(&mut self, i: usize, mut job: Option<Job>, outcome: Result<Option<u64>, &Error>) {
        let mut err = Error::new(ErrorKind::Cancelled, "the batch was cancelled");
        err.job_id = job.as_ref().map(|j| j.id.clone());
        // Its deletes are retried while in doubt, so the outcome here is a sure one.
        if let Some(status) = err.after_delete(outcome, false)
            && let Some(j) = job.as_mut()
        {
            j.status = status;
        }
        if let Err(e) = outcome
            && e.kind != ErrorKind::NotFound
        {
            err.code.clone_from(&e.code);
        }
        err.job_status = job.as_ref().map(|j| j.status.as_str().to_owned());
        self.item_done(i, job, Some(err));
    }

    /// Item `i`, cancelled, ends with its job left to run: seen `processing`, it cannot be
    /// deleted, or in a status this SDK does not know, it may be finished (`job` rule 6). It goes
    /// on and is charged unless it fails (`charged_cents`).
    fn processing_goes_on(&mut self, i: usize, job: Job) {
        let why = match &job.status {
            JobStatus::Unknown(s) => crate::job::unknown_left_alone(s),
            _ => "the job is already processing and goes on".to_owned(),
        };
        let mut e = Error::new(ErrorKind::Cancelled, format!("the batch was cancelled; {why}"));
        e.job_id = Some(job.id.clone());
        e.job_status = Some(job.status.as_str().to_owned());
        self.item_done(i, Some(job), Some(e));
    }

    /// The id of item `i`'s job, while it runs.
    fn running_job(&self, i: usize) -> Option<&str> {
        match self.items.get(i).map(|it| &it.state) {
            Some(ItemState::Running(r)) => Some(r.job_id.as_str()),
            _ => None,
        }
    }

    fn last_seen(&self, i: usize) -> Option<Job> {
        match self.items.get(i).map(|it| &it.state) {
            Some(ItemState::Running(r) | ItemState::Deleting(r)) => r.last.clone(),
            _ => None,
        }
    }

    /// The date its snapshots carry (rule 9): from when its items' keys may have been used. A new
    /// batch's is the service's latest `Date`; a resumed one's, its snapshot's (or, for an undated
    /// snapshot, the first `Date` this process read: its items' keys are at least that old).
    fn snapshot_date(&self) -> Option<i64> {
        match self.resumed_from {
            None => self.service_date_ms,
            Some(Some(then)) => Some(then),
            Some(None) => self.first_date_ms,
        }
    }

    /// Keeps the service's latest `Date`, and judges a resumed snapshot's age by it (rule 9).
    fn read_date(&mut self, resp: &HttpResponse) {
        let Some(now) = resp.header("date").and_then(crate::date::parse_http_date) else { return };
        self.service_date_ms = Some(now);
        self.first_date_ms.get_or_insert(now);
        let (None, Some(Some(then))) = (&self.stale, self.resumed_from) else { return };
        let age = now.saturating_sub(then);
        let (hours, minutes) = (age.unsigned_abs() / 3_600_000, age.unsigned_abs() % 3_600_000 / 60_000);
        if age > SNAPSHOT_KEYS_KEPT_MS {
            self.turn_stale(format!("its snapshot is {hours} h {minutes} min old by the service's clock, more than 23 h"));
        } else if age < -SNAPSHOT_AHEAD_MS {
            self.turn_stale(format!("its snapshot is dated {hours} h {minutes} min after the service's clock, so its age cannot be told"));
        }
    }

    /// Rule 9: the snapshot is too old (`when` says how) for its items' keys. A submitting item's
    /// create under way is not sent again either (its key was first used before the snapshot), and
    /// a done item's `outcome_unknown` loses its key (helper-61: resent under it, as the docs say
    /// of that code, it made a second job).
    fn turn_stale(&mut self, when: String) {
        let stale = format!("this batch was resumed and {when}; the service keeps an idempotency key for 24 h (an assumption)");
        let why = resend_refused(&stale);
        for item in self.items.iter_mut().filter(|it| it.reconcile_first) {
            if let ItemState::Creating(create) = &mut item.state {
                create.refuse_resend(&why);
            }
        }
        let mut ended = Vec::new();
        for (i, item) in self.items.iter_mut().enumerate() {
            if let Some(e) = item.result.as_mut().and_then(|r| r.error.as_mut())
                && forget_key(e, &stale)
            {
                ended.push(i.to_string());
            }
        }
        if !ended.is_empty() {
            self.events.push_back(Event::Warning {
                message: format!("{stale}: the idempotency keys of the items that ended with their outcome unknown or a server error ({}) may be forgotten, so creating them again under those keys is no safe retry (look for their jobs first); their results now carry none, though an item handed out before showed its key", ended.join(", ")),
            });
        }
        self.stale = Some(stale);
    }

    /// Item `i`, queued in a stale snapshot (rule 9), ends without being sent.
    fn not_sent(&mut self, i: usize) {
        let stale = self.stale.clone().unwrap_or_default();
        let mut e = Error::new(ErrorKind::Usage, format!("{stale}: this item was queued in the snapshot, which cannot tell whether the batch sent it after, so it was not sent (under its key it could be made and charged again); look for its job in the job list before creating it anew (a new create is charged)"));
        crate::error::SNAPSHOT_TOO_OLD.clone_into(&mut e.code);
        self.item_done(i, None, Some(e));
    }

    /// The account check (or rule 9's date probe) answered: the batch runs. A dated snapshot
    /// whose age no `Date` told goes on, with a warning.
    fn checked(&mut self) {
        if matches!(self.resumed_from, Some(Some(_))) && self.service_date_ms.is_none() {
            self.events.push_back(undated("no answer of the service's carried a readable Date header"));
        }
        self.phase = Phase::Run;
    }

    /// The account check failed: retried like a call (backoff, at most `max_retries` times), then
    /// the batch fails. (It used to be re-sent at once, for ever, while the service failed.)
    fn account_failed(&mut self, e: Error, now: Millis) {
        self.account_failures += 1;
        if !read_again(&e) || self.account_failures > self.options.retry.max_retries {
            return self.fail(e);
        }
        let wait = e.retry_after_ms.unwrap_or_else(|| self.options.retry.backoff_ms(self.account_failures - 1, &mut self.rng)).min(self.options.retry.max_retry_after_ms);
        self.limiter.on_retry_after(now, wait);
        self.phase = Phase::CheckAccount;
    }

    /// Item `i`'s delete waits: its job is looked at again first (rule 10), and deleted only if
    /// still pending.
    fn look_before_delete(&mut self, i: usize, now: Millis) {
        if let Some(item) = self.items.get_mut(i)
            && let ItemState::Deleting(mut r) = std::mem::replace(&mut item.state, ItemState::Done)
        {
            (r.cancel_look, r.needs_get, r.relooks, r.look_from) = (true, true, r.relooks + 1, Some(now));
            item.state = ItemState::Running(r);
        }
    }

    /// A get or delete of item `i` failed with a retryable `e`: wait and try again, but only so
    /// many times in a row (as many as the list), then the item ends with the error.
    fn retry_later(&mut self, target: Target, e: &Error, now: Millis) {
        let limit = self.options.retry.max_retries.max(1) * 4;
        let (Target::Get(i) | Target::Delete(i)) = target else { return };
        // A get's failure counts only for an item still running (one deleting now ignores it, as
        // it ignores the get's answer), a delete's only for one deleting.
        let failures = match (target, self.items.get_mut(i).map(|it| &mut it.state)) {
            (Target::Get(_), Some(ItemState::Running(r))) | (Target::Delete(_), Some(ItemState::Deleting(r))) => {
                r.failures += 1;
                // A delete tried again after this pause looks first, as rule 10 says.
                r.slow_look &= matches!(target, Target::Get(_));
                r.failures
            }
            _ => return,
        };
        if failures > limit {
            let job = self.last_seen(i);
            return match target {
                Target::Delete(_) => self.deleted(i, job, Err(e)),
                _ => self.item_done(i, job, Some(e.clone())),
            };
        }
        // An absurd `Retry-After` must not stall the batch for ever: waits are capped by the policy.
        let wait = e.retry_after_ms.unwrap_or_else(|| self.options.retry.backoff_ms(1, &mut self.rng)).min(self.options.retry.max_retry_after_ms);
        self.list_blocked_until = self.list_blocked_until.max(now.plus(wait));
        self.limiter.on_retry_after(now, wait);
    }

    fn list_failed(&mut self, e: Error, now: Millis) {
        self.list_failures += 1;
        if read_again(&e) && self.list_failures <= self.options.retry.max_retries.max(1) * 4 {
            let wait = e.retry_after_ms.unwrap_or_else(|| self.options.retry.backoff_ms(self.list_failures, &mut self.rng)).min(self.options.retry.max_retry_after_ms);
            self.list_blocked_until = now.plus(wait);
        } else {
            self.fail(e);
        }
    }

    /// A server's error with the batch's key scrubbed from it, even in part (`Error::scrubbed_of`).
    fn scrubbed(&self, e: Error) -> Error {
        e.scrubbed_of(self.key.as_ref().map(ApiKey::expose))
    }

    fn warn(&mut self, id: RequestId) {
        self.events.push_back(Event::Warning { message: format!("ignored an outcome for request {} that is not in flight", id.0) });
    }

    /// Request `id` got no answer.
    pub fn handle_transport_error(&mut self, id: RequestId, kind: TransportKind, message: &str, now: Millis) {
        if self.phase == Phase::Done {
            return self.warn(id);
        }
        if id.0 >> ITEM_ID_SHIFT > 0 {
            let i = usize::try_from((id.0 >> ITEM_ID_SHIFT) - 1).unwrap_or(usize::MAX);
            match self.items.get_mut(i).map(|it| &mut it.state) {
                Some(ItemState::Creating(c)) => c.handle_transport_error(id, kind, message, now),
                _ => self.warn(id),
            }
            return;
        }
        let Some(target) = self.in_flight.remove(&id) else { return self.warn(id) };
        let e = Error::transport(kind, message);
        if kind == TransportKind::Aborted {
            return self.fail(e);
        }
        match target {
            Target::Check => self.account_failed(e, now),
            Target::List => {
                self.list_in_flight = false;
                self.list_failed(e, now);
            }
            Target::Get(_) | Target::Delete(_) => self.retry_later(target, &e, now),
        }
    }

    /// Request `id` was not sent: its driver found no slot of the rate limit in time. A delete's
    /// `send_by` passed (the key's other calls held it): its sighting is stale, so its job is
    /// looked at first, and no failure counts (rule 10). Any other request's is a `connect`
    /// failure ([`crate::machine::Machine::handle_not_sent`]).
    pub fn handle_not_sent(&mut self, id: RequestId, now: Millis) {
        // Counted when handed out (`send`): it was not sent after all (helper-64).
        if self.in_flight.contains_key(&id) || id.0 >= 1 << ITEM_ID_SHIFT {
            self.requests = self.requests.saturating_sub(1);
        }
        if let Some(&Target::Delete(i)) = self.in_flight.get(&id)
            && matches!(self.items.get(i).map(|it| &it.state), Some(ItemState::Deleting(_)))
        {
            self.in_flight.remove(&id);
            return self.look_before_delete(i, now);
        }
        self.handle_transport_error(id, TransportKind::Connect, crate::machine::NOT_SENT, now);
    }

    /// Time passed (spurious calls are harmless).
    pub fn handle_timeout(&mut self, _now: Millis) {}

    /// Cancels the batch (rule 10): queued items end `cancelled`, creates in flight are seen
    /// through and their jobs deleted, pending jobs are deleted (refunded; looked at first when
    /// last seen a while ago or never), processing jobs go on. The batch then ends with its
    /// summary, also when cancelled before its account check answered.
    pub fn cancel(&mut self, now: Millis) {
        if self.cancel_requested || self.phase == Phase::Done {
            return;
        }
        self.cancel_requested = true;
        // The account check is forgotten: its answer, or its failure, if one comes, is a stray
        // (a driver that lost the request must not wait for it). A resumed batch has running
        // jobs to see to even before anything was created.
        self.in_flight.retain(|_, t| *t != Target::Check);
        self.phase = Phase::Run;
        let queued: Vec<usize> = self.order.drain(..).collect();
        for i in queued {
            if self.items.get(i).is_some_and(|it| it.reconcile_first) {
                // A create an earlier process may have sent (or one given its adopted job up):
                // its job, if the list shows one, is deleted below like any other, not left to
                // run and be charged. Nothing is sent again (its create is cancelled below).
                self.start(i, now);
                continue;
            }
            self.item_done(i, None, Some(Error::new(ErrorKind::Cancelled, "the batch was cancelled before this item was submitted")));
        }
        for i in 0..self.items.len() {
            let Some(item) = self.items.get_mut(i) else { continue };
            match std::mem::replace(&mut item.state, ItemState::Done) {
                ItemState::Creating(mut c) => {
                    c.cancel();
                    item.state = ItemState::Creating(c);
                }
                ItemState::Running(mut r) => {
                    let status = r.last.as_ref().map(|j| j.status.clone());
                    match status {
                        _ if r.fresh_pending(now) => item.state = ItemState::Deleting(r),
                        Some(JobStatus::Processing | JobStatus::Unknown(_)) => {
                            let job = r.last.clone();
                            item.state = ItemState::Running(r);
                            if let Some(job) = job {
                                self.processing_goes_on(i, job);
                            }
                        }
                        // An adopted job's held end: let go as it ended, once no alike create is open.
                        Some(s) if s.is_terminal() => item.state = ItemState::Running(r),
                        // Never seen, or seen pending a while ago: looked at first.
                        _ => {
                            r.cancel_look = true;
                            r.needs_get = true;
                            r.look_from = Some(now);
                            item.state = ItemState::Running(r);
                        }
                    }
                }
                other => item.state = other,
            }
        }
    }

    /// Whether the batch has finished.
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The summary once `Done`.
    ///
    /// # Errors
    /// The error that stopped the whole batch (insufficient balance, a failed list, a request the
    /// driver aborted), or `usage` before `Done`. A cancel ends with the summary (rule 10).
    pub fn take_result(&mut self) -> Result<BatchSummary, Error> {
        self.result.take().unwrap_or_else(|| Err(Error::usage("the batch has no result yet (or it was already taken)")))
    }
}

/// What an item's job costs the account (see [`BatchSummary::spent_cents`]): a completed job its
/// cost; nothing for a job that failed (refunded), a pending one a cancel deleted (refunded: its
/// error keeps the code `cancelled`; a failed delete's code is the failure's), or a job last seen
/// pending that is gone (404: deleted while pending, by a cancel of another process or another
/// client, and refunded; *assumption*: the service deletes only pending jobs with a refund, so a
/// job that vanished after it was seen processing was finished, and charged); any other job that
/// goes on its estimate. `None` for an item with no job.
fn charged_cents(r: &ItemResult) -> Option<u64> {
    let job = r.job.as_ref()?;
    let pending = job.status == JobStatus::Pending;
    let refunded = match &r.error {
        None => false,
        Some(e) => e.kind == ErrorKind::JobFailed || (pending && (e.kind == ErrorKind::NotFound || (e.kind == ErrorKind::Cancelled && e.code == "cancelled"))),
    };
    if refunded { None } else { job.cost_cents.or(job.estimated_cost_cents) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::MIN_SCALE;
    use crate::http::Method;
    use crate::testkit::{Fake, FakeJob};

    #[test]
    fn spent_counts_completed_jobs_and_jobs_that_go_on_not_refunded_ones() {
        let job = |status: &str, cost: Option<u64>| {
            let body = format!(r#"{{"id": "job_1", "status": "{status}", "video_url": "https://cdn.example/v.mp4", "estimated_cost_cents": 30, "cost_cents": {}}}"#, cost.map_or("null".to_owned(), |c| c.to_string()));
            crate::response::parse_job(&HttpResponse::json(200, &body)).unwrap()
        };
        let item = |job: Option<Job>, kind: Option<ErrorKind>| ItemResult { index: 0, job, error: kind.map(|k| Error::new(k, "x")) };
        let cases = [
            (item(Some(job("completed", Some(28))), None), Some(28)),
            (item(Some(job("failed", None)), Some(ErrorKind::JobFailed)), None),
            (item(Some(job("pending", None)), Some(ErrorKind::Cancelled)), None),
            (item(Some(job("processing", None)), Some(ErrorKind::Cancelled)), Some(30)),
            (item(Some(job("processing", None)), Some(ErrorKind::NotFound)), Some(30)),
            (item(Some(job("pending", None)), Some(ErrorKind::NotFound)), None),
            (item(None, Some(ErrorKind::Cancelled)), None),
        ];
        let mut undeleted = item(Some(job("pending", None)), Some(ErrorKind::Cancelled));
        if let Some(e) = undeleted.error.as_mut() {
            e.code = "internal_error".to_owned(); // the delete failed for good: the job goes on
        }
        assert_eq!(charged_cents(&undeleted), Some(30));
        for (r, want) in cases {
            assert_eq!(charged_cents(&r), want, "{r:?}");
        }
    }

    fn setup(n: usize) -> (ClientConfig, ApiKey, Vec<CreateVideoRequest>) {
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let reqs = (0..n)
            .map(|i| {
                let mut r = CreateVideoRequest::text(format!("clip {i}"));
                r.duration = Some(1 + (i as u32 % 10));
                r
            })
            .collect();
        (config, key, reqs)
    }

    #[test]
    fn runs_every_job_within_the_limits() {
        let (config, key, reqs) = setup(40);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[7; 16], BatchOptions::default(), Millis(0)).unwrap();
        let mut fake = Fake::new();
        let (events, done) = fake.drive(&mut batch, 100_000, None);
        assert!(done);
        let summary = batch.take_result().unwrap();
        assert_eq!(summary.progress.completed, 40, "{:?}", summary.progress);
        assert_eq!(fake.creates(), 40, "no job submitted twice");
        assert_eq!(fake.rate_limited, 0, "the batch never causes a 429");
        assert_eq!(fake.concurrency_refused, 0);
        assert!(fake.max_concurrent_seen <= 10);
        assert!(fake.max_per_minute() <= 60, "{}", fake.max_per_minute());
        assert_eq!(events.iter().filter(|e| matches!(e, Event::ItemDone(_))).count(), 40);
        let per_job = fake.sent.len() as f64 / 40.0;
        assert!(per_job < 8.0, "{per_job} requests per job");
    }

    #[test]
    fn reads_answered_with_no_job_are_read_again_not_the_items_or_the_batchs_failure() {
        // helper-48: a list answer that could not be read failed the whole batch, a get's failed
        // its item at once (job rule 10 reads them again, as a 5xx).
        let (config, key, reqs) = setup(3);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[4; 16], BatchOptions::default(), Millis(0)).unwrap();
        let mut fake = Fake::new();
        fake.garbled_reads = 3;
        let (_, done) = fake.drive(&mut batch, 100_000, None);
        assert!(done);
        let summary = batch.take_result().unwrap();
        assert_eq!((summary.progress.completed, summary.progress.failed, fake.garbled_reads), (3, 0, 0), "{:?}", summary.results);
    }

    #[test]
    fn a_failed_job_ends_its_item_with_the_jobs_own_error_and_the_others_go_on() {
        let (config, key, reqs) = setup(3);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[5; 16], BatchOptions::default(), Millis(0)).unwrap();
        let mut fake = Fake::new();
        fake.failing_prompt = Some("clip 1");
        let (_, done) = fake.drive(&mut batch, 10_000, None);
        assert!(done);
        let summary = batch.take_result().unwrap();
        assert_eq!((summary.progress.completed, summary.progress.failed), (2, 1), "{:?}", summary.progress);
        let failed = summary.results.iter().find(|r| r.index == 1).unwrap();
        let e = failed.error.as_ref().unwrap();
        assert_eq!((e.kind, e.code.as_str(), e.job_status.as_deref()), (ErrorKind::JobFailed, "content_policy", Some("failed")));
        let id = failed.job.as_ref().map(|j| j.id.clone());
        assert_eq!(e.job_id, id);
        assert_eq!(e.message, format!("job {} failed: the prompt was refused", id.unwrap_or_default()));
        assert_eq!(charged_cents(failed), None, "a failed job is refunded");
        assert_eq!(fake.creates(), 3, "a failed job is not submitted again");
    }

    #[test]
    fn a_job_deleted_by_someone_else_ends_its_item_naming_the_job() {
        let (config, key, reqs) = setup(2);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[6; 16], BatchOptions::default(), Millis(0)).unwrap();
        let mut fake = Fake::new();
        fake.drive(&mut batch, 10_000, Some(4));
        let gone = fake.jobs.first_mut().unwrap();
        gone.deleted = true; // a cancel elsewhere: the list no longer shows it, a get finds nothing
        let id = gone.id.clone();
        let (_, done) = fake.drive(&mut batch, 10_000, None);
        assert!(done);
        let summary = batch.take_result().unwrap();
        let item = summary.results.iter().find(|r| r.job.as_ref().is_some_and(|j| j.id == id)).unwrap();
        let e = item.error.as_ref().unwrap();
        assert_eq!((e.kind, e.job_id.as_deref()), (ErrorKind::NotFound, Some(id.as_str())));
        assert!(e.message.contains(&format!("job {id} was deleted since it was last seen")), "{}", e.message);
        assert_eq!(summary.progress.completed, 1, "the other item goes on: {:?}", summary.progress);
        assert_eq!(fake.creates(), 2, "a deleted job is not made again");
    }

    #[test]
    fn the_status_list_failing_a_while_is_retried_and_failing_for_good_ends_the_batch() {
        for (failures, completes) in [(3, true), (u32::MAX, false)] {
            let (config, key, reqs) = setup(3);
            let mut batch = Batch::new(&config, Some(&key), reqs, &[4; 16], BatchOptions::default(), Millis(0)).unwrap();
            let mut fake = Fake::new();
            fake.drive(&mut batch, 10_000, Some(4)); // the account check and the three creates
            assert_eq!(fake.creates(), 3);
            fake.failing_lists = failures;
            let lists_before = fake.sent.iter().filter(|(_, _, p)| p.starts_with("/videos?")).count();
            let (_, done) = fake.drive(&mut batch, 10_000, None);
            assert!(done, "{failures} failing lists");
            let lists = fake.sent.iter().filter(|(_, _, p)| p.starts_with("/videos?")).count() - lists_before;
            if completes {
                let summary = batch.take_result().unwrap();
                assert_eq!(summary.progress.completed, 3, "{:?}", summary.progress);
            } else {
                let e = batch.take_result().unwrap_err();
                assert_eq!((e.kind, e.status), (ErrorKind::InternalServer, Some(500)), "{e:?}");
                let bound = BatchOptions::default().retry.max_retries.max(1) * 4 + 1;
                assert_eq!(lists, bound as usize, "a list that keeps failing is tried a bounded number of times");
            }
            assert_eq!(fake.creates(), 3, "nothing made again");
        }
    }

    #[test]
    fn refuses_beyond_budget_or_balance() {
        let (config, key, reqs) = setup(10);
        let opts = BatchOptions { max_spend_cents: Some(10), ..BatchOptions::default() };
        let e = Batch::new(&config, Some(&key), reqs.clone(), &[1; 16], opts, Millis(0)).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("max_spend_cents"));
        let mut batch = Batch::new(&config, Some(&key), reqs, &[1; 16], BatchOptions::default(), Millis(0)).unwrap();
        let mut fake = Fake::new();
        fake.balance = 5;
        fake.drive(&mut batch, 1000, None);
        assert_eq!(batch.take_result().unwrap_err().kind, ErrorKind::InsufficientBalance);
        assert_eq!(fake.creates(), 0);
    }

    /// A batch of four, two at a time, stopped with two jobs made (pending on a frozen service)
    /// and two items queued: its snapshot.
    fn two_running_two_queued() -> (ClientConfig, ApiKey, BatchSnapshot, Fake) {
        let (config, key, reqs) = setup(4);
        let options = BatchOptions { limits: Limits { concurrent_jobs: 2, ..Limits::STANDARD }, ..BatchOptions::default() };
        let mut batch = Batch::new(&config, Some(&key), reqs, &[6; 16], options, Millis(0)).unwrap();
        let mut fake = Fake::new();
        fake.frozen = true;
        let states = |b: &Batch| b.snapshot().items.iter().map(|i| i.state.clone()).collect::<Vec<_>>();
        for _ in 0..50 {
            if states(&batch) == ["running", "running", "queued", "queued"] {
                break;
            }
            fake.drive(&mut batch, 1000, Some(1));
        }
        assert_eq!(states(&batch), ["running", "running", "queued", "queued"]);
        let snapshot = batch.snapshot();
        (config, key, snapshot, fake)
    }

    #[test]
    fn a_resumed_batch_needs_a_balance_only_for_what_it_still_creates() {
        // helper-64: the resume's balance check counted the running jobs again (already held), so
        // a balance that covered the queued items refused the resume, and the running jobs were
        // in no result.
        let (config, key, snapshot, mut fake) = two_running_two_queued();
        let queued: Vec<CreateVideoRequest> = snapshot.items.iter().filter(|i| i.state == "queued").map(|i| i.request.clone()).collect();
        let left = PricingTable::builtin().estimate_all(&queued).unwrap();
        fake.frozen = false;
        fake.balance = left;
        let mut resumed = Batch::resume(&config, Some(&key), snapshot.clone(), 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        assert!(resumed.estimated_cents() > left, "the estimate still tells the running jobs' cost");
        assert!(fake.drive(&mut resumed, 100_000, None).1);
        let summary = resumed.take_result().unwrap();
        assert_eq!((summary.progress.completed, fake.creates()), (4, 4));
        // A cent short: refused, saying the running jobs go on and the snapshot can be resumed.
        let (config, key, snapshot, mut fake) = two_running_two_queued();
        fake.balance = left - 1;
        let mut resumed = Batch::resume(&config, Some(&key), snapshot, 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        fake.drive(&mut resumed, 100_000, None);
        let e = resumed.take_result().unwrap_err();
        assert_eq!(e.kind, ErrorKind::InsufficientBalance);
        assert!(e.message.contains(&format!("still to be created are estimated at {left} cents")) && e.message.contains("2 of the snapshot's jobs were already made and go on"), "{e}");
        assert_eq!(fake.creates(), 2);
    }

    #[test]
    fn a_cancelled_batch_resumes_cancelled() {
        // helper-64: a process that died during a cancel's clean-up left a snapshot that resumed
        // as a running batch: its pending jobs ran and were charged.
        let (config, key, snapshot, mut fake) = two_running_two_queued();
        let mut batch = Batch::resume(&config, Some(&key), snapshot, 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        batch.cancel(Millis(fake.now));
        let snapshot = batch.snapshot();
        assert!(snapshot.cancelled);
        let text = serde_json::to_string(&snapshot).unwrap();
        assert!(text.contains("\"cancelled\":true"), "{text}");
        drop(batch);
        let read: BatchSnapshot = serde_json::from_str(&text).unwrap();
        assert!(read.cancelled);
        let mut resumed = Batch::resume(&config, Some(&key), read, 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        assert!(fake.drive(&mut resumed, 100_000, None).1);
        let summary = resumed.take_result().unwrap();
        assert_eq!(summary.progress.cancelled, 4, "{:?}", summary.progress);
        assert_eq!(fake.creates(), 2, "nothing created");
        assert!(fake.jobs.iter().all(|j| j.deleted), "the pending jobs deleted (refunded)");
        // A snapshot that was not cancelled says nothing of it.
        let (_, _, snapshot, _) = two_running_two_queued();
        assert!(!serde_json::to_string(&snapshot).unwrap().contains("cancelled"));
    }

    #[test]
    fn a_request_not_sent_is_not_counted() {
        let (config, key, reqs) = setup(2);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[7; 16], BatchOptions::default(), Millis(0)).unwrap();
        let Output::Send { id, .. } = batch.poll(Millis(0)) else { panic!("the account check") };
        assert_eq!(batch.progress().requests, 1);
        batch.handle_not_sent(id, Millis(1));
        assert_eq!(batch.progress().requests, 0, "helper-64: not sent, not counted");
    }

    #[test]
    fn resumes_without_submitting_twice() {
        let (config, key, reqs) = setup(25);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[3; 16], BatchOptions::default(), Millis(0)).unwrap();
        let mut fake = Fake::new();
        // Stop right after a create was sent and answered, then lose the process.
        let (_, done) = fake.drive(&mut batch, 100_000, Some(8));
        assert!(!done);
        let json = serde_json::to_string(&batch.snapshot()).unwrap();
        drop(batch);
        let snapshot: BatchSnapshot = serde_json::from_str(&json).unwrap();
        let mut resumed = Batch::resume(&config, Some(&key), snapshot, 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        let (_, done) = fake.drive(&mut resumed, 100_000, None);
        assert!(done);
        let summary = resumed.take_result().unwrap();
        assert_eq!(summary.progress.completed, 25);
        assert_eq!(fake.jobs.len(), 25, "every item made exactly one job");
    }

    /// helper-54's first process: three items one at a time against a dated service; the
    /// snapshot is taken once the first create was sent (`submitting`), then the batch goes on,
    /// sends the other two, and is lost.
    fn snapshot_then_two_more_creates(options: &BatchOptions) -> (ClientConfig, ApiKey, BatchSnapshot, Fake) {
        let (config, key, reqs) = setup(3);
        let options = BatchOptions { limits: Limits { concurrent_jobs: 1, ..Limits::STANDARD }, ..options.clone() };
        let mut batch = Batch::new(&config, Some(&key), reqs, &[5; 16], options, Millis(0)).unwrap();
        let mut fake = Fake::new();
        fake.epoch_ms = Some(1_765_000_000_000);
        while fake.creates() < 1 {
            fake.drive(&mut batch, 1000, Some(1));
        }
        let snapshot = batch.snapshot();
        assert_eq!(snapshot.items.iter().map(|i| i.state.as_str()).collect::<Vec<_>>(), ["submitting", "queued", "queued"]);
        assert!(snapshot.service_date_ms.is_some_and(|d| d >= 1_765_000_000_000), "{:?}", snapshot.service_date_ms);
        while fake.creates() < 3 {
            fake.drive(&mut batch, 1000, Some(1));
        }
        (config, key, snapshot, fake)
    }

    #[test]
    fn a_snapshot_older_than_the_services_keys_sends_none_of_its_items_again() {
        // helper-54: resumed 25 h later from a snapshot older than the last creates, the items
        // the first process had sent were sent again under keys the service had forgotten: made
        // and charged twice. Whether the batch checks the balance or only reads a date first.
        for check_balance in [true, false] {
            let options = BatchOptions { check_balance, ..BatchOptions::default() };
            let (config, key, snapshot, mut fake) = snapshot_then_two_more_creates(&options);
            fake.now += 25 * 3_600_000;
            fake.balance = 0; // nothing is created, so no balance is needed
            let sent_before = fake.sent.len();
            let mut resumed = Batch::resume(&config, Some(&key), snapshot.clone(), 9, options.clone(), Millis(fake.now)).unwrap();
            let (events, done) = fake.drive(&mut resumed, 10_000, None);
            assert!(done);
            let first = fake.sent.get(sent_before).map(|(_, m, p)| (*m, p.clone()));
            let probe = if check_balance { "/account" } else { "/videos?limit=1" };
            assert_eq!(first, Some((Method::Get, probe.to_owned())));
            assert_eq!((fake.creates(), fake.jobs.len()), (3, 3), "nothing sent again: {events:?}");
            let summary = resumed.take_result().unwrap();
            // The submitting item adopts the job the list shows it (its prompt); the queued ones,
            // which the snapshot cannot tell were sent, end snapshot_too_old, with no key to send
            // again under (it is no safe retry here).
            let first = summary.results.first().unwrap();
            assert!(first.error.is_none() && first.job.as_ref().is_some_and(|j| j.id == "job_0"), "{first:?}");
            for r in summary.results.iter().skip(1) {
                let e = r.error.as_ref().unwrap();
                assert_eq!((e.kind, e.code.as_str(), e.idempotency_key.as_deref()), (ErrorKind::Usage, crate::error::SNAPSHOT_TOO_OLD, None), "{e:?}");
                assert!(e.message.contains("snapshot is 25 h ") && e.message.contains("look for its job"), "{}", e.message);
            }
            assert_eq!((summary.progress.completed, summary.progress.failed), (1, 2));
        }
    }

    #[test]
    fn a_stale_snapshots_submitting_item_whose_job_the_list_does_not_show_is_not_sent_again() {
        let (config, key, snapshot, mut fake) = snapshot_then_two_more_creates(&BatchOptions::default());
        fake.now += 25 * 3_600_000;
        // Twenty other jobs since: the first item's job is past the reconciling list's page.
        for n in 0..20 {
            fake.jobs.push(FakeJob { id: format!("other_{n}"), prompt: format!("other {n}"), created: fake.now, pending_ms: 0, processing_ms: 0, deleted: false, resolution: "720p".into(), duration: 5 });
        }
        let mut resumed = Batch::resume(&config, Some(&key), snapshot, 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        assert!(fake.drive(&mut resumed, 10_000, None).1);
        assert_eq!(fake.creates(), 3, "not sent again under its forgotten key");
        let summary = resumed.take_result().unwrap();
        let e = summary.results.first().and_then(|r| r.error.as_ref()).unwrap();
        assert_eq!((e.code.as_str(), e.idempotency_key.is_some()), (crate::error::SNAPSHOT_TOO_OLD, false), "{e:?}");
        assert!(e.message.contains("and it was not sent again"), "{}", e.message);
    }

    #[test]
    fn a_snapshot_younger_than_the_services_keys_sends_its_items_under_their_keys() {
        // Resumed within the day, the items the first process sent get their jobs back under
        // their keys: one job each, all completed. Without a Date to tell, the batch goes on
        // the same way, and says that it could not tell.
        for dated in [true, false] {
            let (config, key, snapshot, mut fake) = snapshot_then_two_more_creates(&BatchOptions::default());
            fake.now += 3_600_000;
            if !dated {
                fake.epoch_ms = None;
            }
            let mut resumed = Batch::resume(&config, Some(&key), snapshot, 9, BatchOptions::default(), Millis(fake.now)).unwrap();
            let (events, done) = fake.drive(&mut resumed, 10_000, None);
            assert!(done);
            assert_eq!(fake.jobs.len(), 3);
            assert_eq!(resumed.take_result().unwrap().progress.completed, 3);
            let warned = events.iter().any(|e| matches!(e, Event::Warning { message } if message.contains("carried a readable Date header")));
            assert_eq!(warned, !dated, "{events:?}");
        }
    }

    #[test]
    fn a_snapshot_that_turns_too_old_while_the_resumed_batch_runs_sends_nothing_more() {
        // helper-59: the age was judged once, at the first answer; an item started later, past
        // the day, went out under a key the service may have forgotten. Every answer's Date counts.
        let (config, key, snapshot, mut fake) = snapshot_then_two_more_creates(&BatchOptions::default());
        fake.now += 23 * 3_600_000 - 30_000;
        let mut resumed = Batch::resume(&config, Some(&key), snapshot, 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        fake.drive(&mut resumed, 100, Some(1)); // the account check: 22 h 59 min 30 s, fresh
        fake.now += 60_000;
        assert!(fake.drive(&mut resumed, 10_000, None).1);
        assert_eq!(fake.creates(), 3, "nothing sent again");
        let codes: Vec<Option<String>> = resumed.take_result().unwrap().results.iter().map(|r| r.error.as_ref().map(|e| e.code.clone())).collect();
        assert_eq!(codes, [None, Some(crate::error::SNAPSHOT_TOO_OLD.into()), Some(crate::error::SNAPSHOT_TOO_OLD.into())]);
    }

    #[test]
    fn a_resumed_batchs_snapshot_keeps_the_date_its_items_keys_may_be_from() {
        // helper-59: resumed at 22 h, its own snapshot carried the new Date, so a second resume a
        // day later judged it young and sent items whose keys were 44 h old.
        let (config, key, first, mut fake) = snapshot_then_two_more_creates(&BatchOptions::default());
        fake.now += 22 * 3_600_000;
        let mut resumed = Batch::resume(&config, Some(&key), first.clone(), 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        fake.drive(&mut resumed, 100, Some(1));
        let second = resumed.snapshot();
        assert_eq!(second.service_date_ms, first.service_date_ms);
        drop(resumed);
        fake.now += 22 * 3_600_000;
        let mut again = Batch::resume(&config, Some(&key), second, 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        assert!(fake.drive(&mut again, 10_000, None).1);
        assert_eq!(fake.creates(), 3, "nothing sent again");
        // An undated snapshot (taken before any answer, or by an older SDK) is resumed with a warning.
        let undated = BatchSnapshot { service_date_ms: None, ..first.clone() };
        let mut resumed = Batch::resume(&config, Some(&key), undated, 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        assert!(matches!(resumed.poll(Millis(fake.now)), Output::Event(Event::Warning { message }) if message.contains("records no date")));
        // Its own snapshots carry the first Date it read: its items' keys are at least that old
        // (helper-60: undated for ever, a resume days later could not tell).
        fake.drive(&mut resumed, 100, Some(1));
        let read = fake.epoch_ms.map(|e| (e + i64::try_from(fake.now).unwrap()) / 1000 * 1000); // a Date has whole seconds
        assert_eq!(resumed.snapshot().service_date_ms, read);
        // A snapshot dated ahead of the service's clock is of unknown age: nothing is sent again.
        let ahead = BatchSnapshot { service_date_ms: read.map(|d| d + 3_600_000), ..first };
        let mut resumed = Batch::resume(&config, Some(&key), ahead, 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        assert!(fake.drive(&mut resumed, 10_000, None).1);
        assert_eq!(fake.creates(), 3);
        let e = resumed.take_result().unwrap().results.last().and_then(|r| r.error.clone()).unwrap();
        assert!(e.code == crate::error::SNAPSHOT_TOO_OLD && e.message.contains("dated 1 h 0 min after the service's clock"), "{e:?}");
    }

    #[test]
    fn a_stale_snapshots_submitting_item_among_prompt_less_jobs_is_not_sent_again_nor_given_a_key() {
        // helper-60: against a service whose jobs show no prompt (the reference's), the item's
        // reconciliation ended `outcome_unknown` with its key, whose resend the docs call safe:
        // under a forgotten key it charges again.
        let (config, key, snapshot, mut fake) = snapshot_then_two_more_creates(&BatchOptions::default());
        fake.now += 25 * 3_600_000;
        fake.prompt_less = true;
        let mut resumed = Batch::resume(&config, Some(&key), snapshot, 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        assert!(fake.drive(&mut resumed, 10_000, None).1);
        assert_eq!(fake.creates(), 3);
        let e = resumed.take_result().unwrap().results.first().and_then(|r| r.error.clone()).unwrap();
        assert_eq!((e.code.as_str(), e.idempotency_key), (crate::error::SNAPSHOT_TOO_OLD, None));
    }

    #[test]
    fn a_stale_snapshots_done_items_of_unknown_outcome_lose_their_keys() {
        // helper-61: an item that ended `outcome_unknown` (with its key) before the snapshot kept
        // the key in the resumed batch's summary a day later; resent under it, as the docs say, it
        // made a second job.
        let (config, key, mut snapshot, mut fake) = snapshot_then_two_more_creates(&BatchOptions::default());
        let mut unknown = Error::new(ErrorKind::Timeout, "no answer");
        unknown.code = crate::error::OUTCOME_UNKNOWN.into();
        unknown.idempotency_key = Some(snapshot.items[1].idempotency_key.as_str().to_owned());
        snapshot.items[1].state = "done".into();
        snapshot.items[1].result = Some(ItemResult { index: 1, job: None, error: Some(unknown) });
        // And one that ended with a 502 after its retries, which carries its key too (helper-63):
        // its key goes, and it is no longer retryable (helper-72: a new create could charge twice).
        let mut answered = Error { status: Some(502), ..Error::new(ErrorKind::Upstream, "bad gateway") };
        answered.idempotency_key = Some(snapshot.items[2].idempotency_key.as_str().to_owned());
        snapshot.items[2].state = "done".into();
        snapshot.items[2].result = Some(ItemResult { index: 2, job: None, error: Some(answered) });
        fake.now += 25 * 3_600_000;
        let mut resumed = Batch::resume(&config, Some(&key), snapshot, 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        let (events, done) = fake.drive(&mut resumed, 10_000, None);
        assert!(done);
        let results = resumed.take_result().unwrap().results;
        for e in [1, 2].map(|i| results[i].error.clone().unwrap()) {
            assert!(!e.is_retryable(), "{e:?}");
            assert_eq!((e.code.as_str(), e.idempotency_key), (crate::error::SNAPSHOT_TOO_OLD, None), "{}", e.message);
        }
        assert!(events.iter().any(|e| matches!(e, Event::Warning { message } if message.contains("ended with their outcome unknown or a server error (1, 2)"))), "{events:?}");
    }

    #[test]
    fn a_failed_date_probe_does_not_fail_the_resumed_batch() {
        // helper-60: with check_balance off, the probe's one-job list answered 500 (a proxy's 404
        // alike) failed every item, running ones too. Its Date is all it was for.
        let options = BatchOptions { check_balance: false, ..BatchOptions::default() };
        let (config, key, snapshot, mut fake) = snapshot_then_two_more_creates(&options);
        fake.now += 3_600_000;
        fake.failing_lists = 1;
        let mut resumed = Batch::resume(&config, Some(&key), snapshot, 9, options, Millis(fake.now)).unwrap();
        assert!(fake.drive(&mut resumed, 10_000, None).1);
        assert_eq!(resumed.take_result().unwrap().progress.completed, 3);
        assert_eq!(fake.jobs.len(), 3);
    }

    #[test]
    fn a_replayed_create_answers_job_is_told_at_its_first_sighting() {
        // helper-56: a create sent again under its key is answered with the service's replay,
        // which is no sighting; the get that follows was told only if the status had changed, so
        // the job's first status (pending) never reached the caller.
        let (config, key, reqs) = setup(1);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[6; 16], BatchOptions::default(), Millis(0)).unwrap();
        let mut fake = Fake::new();
        fake.create_faults.push_back("502");
        let (events, done) = fake.drive(&mut batch, 10_000, None);
        assert!(done && fake.creates() == 2, "{events:?}");
        let first = events.iter().find_map(|e| match e {
            Event::StatusChanged { job } => Some(job.status.clone()),
            _ => None,
        });
        assert_eq!(first, Some(JobStatus::Pending), "{events:?}");
    }

    #[test]
    fn a_snapshot_resumes_only_with_its_own_key_and_service() {
        // helper-37: resumed with another account's key, every job was a 404, read as deleted
        // and refunded, while the first account was charged.
        let (config, key, reqs) = setup(3);
        let batch = Batch::new(&config, Some(&key), reqs, &[3; 16], BatchOptions::default(), Millis(0)).unwrap();
        let snapshot = batch.snapshot();
        assert_eq!(snapshot.owner.as_deref(), Some(snapshot_owner(&config, Some(&key)).as_str()));
        let other = ApiKey::new("sd_test_key_999999").unwrap();
        let elsewhere = ClientConfig::new("http://elsewhere/v1").unwrap();
        for (c, k) in [(&config, Some(&other)), (&elsewhere, Some(&key)), (&config, None)] {
            let e = Batch::resume(c, k, snapshot.clone(), 9, BatchOptions::default(), Millis(0)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Usage, "{e}");
            assert!(e.message.contains("another API key or base URL") && !e.message.contains("sd_test"), "{e}");
        }
        assert!(Batch::resume(&config, Some(&key), snapshot.clone(), 9, BatchOptions::default(), Millis(0)).is_ok());
        // A snapshot written before owners were kept is taken as it is.
        let old = BatchSnapshot { owner: None, ..snapshot };
        assert!(Batch::resume(&config, Some(&other), old, 9, BatchOptions::default(), Millis(0)).is_ok());
    }

    #[test]
    fn a_resumed_batch_reports_each_item_once_those_never_taken_included() {
        // A process stops at any point, with items done whose `ItemDone` it never took (still
        // queued in the batch): the resumed batch reports exactly those, and every other item
        // once (helper-25's finding: they were done in the snapshot, so never reported again).
        let mut unreported_seen = 0;
        for stop in 1..40 {
            let (config, key, reqs) = setup(6);
            let options = BatchOptions { expected_scale: MIN_SCALE, poll_interval_ms: 100, ..BatchOptions::default() };
            let mut batch = Batch::new(&config, Some(&key), reqs, &[4; 16], options.clone(), Millis(0)).unwrap();
            let mut fake = Fake::new();
            fake.quick_jobs = true;
            let done_indices = |events: &[Event]| events.iter().filter_map(|e| if let Event::ItemDone(r) = e { Some(r.index) } else { None }).collect::<Vec<u32>>();
            let (first, done) = fake.drive(&mut batch, 100_000, Some(stop));
            if done {
                break;
            }
            let snapshot = <BatchSnapshot as crate::readers::FromJson>::from_json(&crate::json::parse(crate::writers::ToJson::to_json_string(&batch.snapshot()).as_bytes()).unwrap()).unwrap();
            unreported_seen += snapshot.items.iter().filter(|i| i.unreported).count();
            drop(batch);
            let mut resumed = Batch::resume(&config, Some(&key), snapshot, 9, options, Millis(fake.now)).unwrap();
            let (second, done) = fake.drive(&mut resumed, 100_000, None);
            assert!(done);
            let mut all = [done_indices(&first), done_indices(&second)].concat();
            all.sort_unstable();
            assert_eq!(all, (0..6).collect::<Vec<u32>>(), "stopped after {stop} requests: each item reported once");
        }
        assert!(unreported_seen > 0, "some stop left items done and not taken");
    }

    #[test]
    fn a_resumed_running_job_keeps_the_learned_scale() {
        let (config, key, reqs) = setup(5);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[3; 16], BatchOptions::default(), Millis(0)).unwrap();
        let mut fake = Fake::new();
        let _ = fake.drive(&mut batch, 100_000, Some(4)); // account + 3 creates answered
        let mut snapshot = batch.snapshot();
        snapshot.scale = 0.01; // a service 100× faster than the model, as the first process learned
        let resumed = Batch::resume(&config, Some(&key), snapshot, 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        let running: Vec<&Running> = resumed.items.iter().filter_map(|it| if let ItemState::Running(r) = &it.state { Some(r) } else { None }).collect();
        assert!(!running.is_empty());
        for (r, it) in running.iter().zip(resumed.items.iter().filter(|it| matches!(it.state, ItemState::Running(_)))) {
            let model = expected_total_ms(it.request.effective_resolution(), it.request.effective_duration());
            assert!(r.expected_ms <= model / 50, "expected {} ms for a model time of {model} ms", r.expected_ms);
        }
    }

    #[test]
    fn an_unknown_create_outcome_is_reconciled() {
        let (config, key, reqs) = setup(3);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[5; 16], BatchOptions::default(), Millis(0)).unwrap();
        let mut fake = Fake::new();
        fake.drop_next_create = true;
        let (_, done) = fake.drive(&mut batch, 100_000, None);
        assert!(done);
        assert_eq!(batch.take_result().unwrap().progress.completed, 3);
        assert_eq!(fake.jobs.len(), 3);
    }

    #[test]
    fn cancel_deletes_pending_jobs_and_stops_the_queue() {
        let (config, key, reqs) = setup(20);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[4; 16], BatchOptions::default(), Millis(0)).unwrap();
        let mut fake = Fake::new();
        fake.drive(&mut batch, 100_000, Some(4)); // account + 3 creates
        batch.cancel(Millis(fake.now));
        let (_, done) = fake.drive(&mut batch, 100_000, None);
        assert!(done);
        let summary = batch.take_result().unwrap();
        assert_eq!(summary.progress.completed, 0);
        assert!(fake.jobs.iter().all(|j| j.deleted), "pending jobs deleted");
        assert!(fake.creates() <= 4);
    }

    /// 20 items, three of them created and seen pending; `meanwhile` changes the service; then a
    /// cancel, driven to the end: the summary and the service.
    fn cancelled_after_three_creates(meanwhile: impl FnOnce(&mut Fake)) -> (BatchSummary, Fake) {
        let (config, key, reqs) = setup(20);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[4; 16], BatchOptions::default(), Millis(0)).unwrap();
        let mut fake = Fake::new();
        fake.drive(&mut batch, 100_000, Some(4)); // account + 3 creates, each seen pending
        meanwhile(&mut fake);
        batch.cancel(Millis(fake.now));
        let (_, done) = fake.drive(&mut batch, 1_000_000, None);
        assert!(done);
        (batch.take_result().unwrap(), fake)
    }

    /// The estimates of `items`' jobs.
    fn estimates(items: &[&ItemResult]) -> u64 {
        items.iter().filter_map(|r| r.job.as_ref().and_then(|j| j.estimated_cost_cents)).sum()
    }

    #[test]
    fn a_cancel_that_finds_jobs_processing_says_so_and_counts_them_spent() {
        // Every job has started processing, unseen by the batch.
        let (summary, fake) = cancelled_after_three_creates(|fake| fake.now += 6_000);
        let going_on: Vec<&ItemResult> = summary.results.iter().filter(|r| r.job.is_some()).collect();
        assert_eq!(going_on.len(), 3);
        for r in &going_on {
            let (job, err) = (r.job.as_ref().unwrap(), r.error.as_ref().unwrap());
            assert_eq!((job.status.as_str(), err.job_status.as_deref()), ("processing", Some("processing")), "{err}");
            assert!(err.message.contains("goes on"), "{err}");
        }
        assert!(fake.jobs.iter().all(|j| !j.deleted), "a processing job cannot be deleted");
        assert_eq!(summary.spent_cents, estimates(&going_on), "charged unless they fail");
    }

    #[test]
    fn an_empty_batch_ends_at_once_with_an_empty_summary_and_sends_nothing() {
        let (config, key, _) = setup(0);
        let mut batch = Batch::new(&config, Some(&key), Vec::new(), &[4; 16], BatchOptions::default(), Millis(0)).unwrap();
        assert_eq!(batch.estimated_cents(), 0);
        let mut fake = Fake::new();
        let (events, done) = fake.drive(&mut batch, 10, None);
        assert!(done && fake.sent.is_empty());
        assert!(events.iter().all(|e| !matches!(e, Event::ItemDone(_))));
        let summary = batch.take_result().unwrap();
        assert_eq!((summary.results.len(), summary.progress.total, summary.spent_cents), (0, 0, 0));
    }

    #[test]
    fn a_cancel_before_the_account_check_answered_ends_with_a_summary_and_ignores_the_answer() {
        // npm's `cancel()` before the first `next()` made the iteration throw: the batch failed.
        let (config, key, reqs) = setup(3);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[4; 16], BatchOptions::default(), Millis(0)).unwrap();
        let Output::Send { id, request, .. } = batch.poll(Millis(0)) else { panic!("the account check first") };
        batch.cancel(Millis(10));
        let mut fake = Fake::new();
        fake.balance = 1; // the late answer would have refused the batch
        let answer = fake.answer(&request).unwrap();
        batch.handle_response(id, answer, Millis(20));
        let (events, done) = fake.drive(&mut batch, 1000, None);
        assert!(done);
        let summary = batch.take_result().unwrap();
        assert!(summary.results.iter().all(|r| r.error.as_ref().is_some_and(|e| e.kind == ErrorKind::Cancelled) && r.job.is_none()), "{:?}", summary.results);
        assert_eq!((summary.progress.cancelled, summary.progress.failed, summary.spent_cents, fake.creates()), (3, 0, 0, 0));
        assert_eq!(events.iter().filter(|e| matches!(e, Event::ItemDone(_))).count(), 3);
        // Its answer lost (a driver that dropped the request): the batch does not wait for it, and
        // a late abort of it is a stray, not the batch's failure.
        let (config, key, reqs) = setup(2);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[4; 16], BatchOptions::default(), Millis(0)).unwrap();
        let Output::Send { id, .. } = batch.poll(Millis(0)) else { panic!("the account check first") };
        batch.cancel(Millis(10));
        assert!(Fake::new().drive(&mut batch, 1000, None).1);
        batch.handle_transport_error(id, TransportKind::Aborted, "aborted", Millis(20));
        assert_eq!(batch.take_result().unwrap().progress.cancelled, 2);
        // Cancelled before anything was sent: the same, with nothing sent at all.
        let (config, key, reqs) = setup(2);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[4; 16], BatchOptions::default(), Millis(0)).unwrap();
        batch.cancel(Millis(0));
        let mut fake = Fake::new();
        assert!(fake.drive(&mut batch, 1000, None).1);
        assert_eq!((batch.take_result().unwrap().progress.cancelled, fake.sent.len()), (2, 0));
    }

    #[test]
    fn a_resumed_batch_cancelled_at_once_looks_at_its_jobs_and_deletes_the_pending_ones() {
        // It failed "cancelled before it started" and left its resumed jobs pending: charged.
        let (config, key, reqs) = setup(5);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[3; 16], BatchOptions::default(), Millis(0)).unwrap();
        let mut fake = Fake::new();
        let _ = fake.drive(&mut batch, 100_000, Some(4)); // account + 3 creates answered
        let snapshot = batch.snapshot();
        let mut resumed = Batch::resume(&config, Some(&key), snapshot, 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        resumed.cancel(Millis(fake.now));
        let sent_before = fake.sent.len();
        assert!(fake.drive(&mut resumed, 1000, None).1);
        let summary = resumed.take_result().unwrap();
        assert_eq!((summary.progress.cancelled, summary.progress.failed, summary.spent_cents), (5, 0, 0), "{:?}", summary.results);
        assert_eq!(fake.jobs.len(), 3);
        assert!(fake.jobs.iter().all(|j| j.deleted), "pending jobs deleted, refunded: {:?} {:?}", &fake.sent[sent_before..], summary.results);
        // Each job was looked at by this process before its delete (rule 10): a running one by a
        // get, the one whose create's answer the first process never took by the list that
        // reconciled it.
        let after = &fake.sent[sent_before..];
        for j in &fake.jobs {
            let path = format!("/videos/{}", j.id);
            let look = after.iter().position(|(_, m, p)| *m == Method::Get && (*p == path || p.starts_with("/videos?")));
            let delete = after.iter().position(|(_, m, p)| *m == Method::Delete && *p == path);
            assert!(look.is_some() && look < delete, "{path}: {after:?}");
        }
        assert_eq!(after.iter().filter(|(_, m, _)| *m == Method::Post).count(), 0, "nothing created again");
    }

    #[test]
    fn a_resumed_batch_cancelled_after_its_jobs_completed_deletes_none_and_reports_them_completed() {
        // A job found by the reconciliation a cancel starts (an item whose create the first process
        // sent) may have completed: it was deleted, its video's record with it (helper-41).
        let (config, key, reqs) = setup(3);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[3; 16], BatchOptions::default(), Millis(0)).unwrap();
        let mut fake = Fake::new();
        let _ = fake.drive(&mut batch, 100_000, Some(4)); // account + 3 creates, the last answer not taken
        let snapshot = batch.snapshot();
        assert!(snapshot.items.iter().any(|i| i.state == "submitting"), "{snapshot:?}");
        fake.now += 120_000; // every job completed since
        let mut resumed = Batch::resume(&config, Some(&key), snapshot, 9, BatchOptions::default(), Millis(fake.now)).unwrap();
        resumed.cancel(Millis(fake.now));
        assert!(fake.drive(&mut resumed, 1000, None).1);
        let summary = resumed.take_result().unwrap();
        assert!(fake.sent.iter().all(|(_, m, _)| *m != Method::Delete), "{:?}", fake.sent);
        assert_eq!(summary.progress.completed, 3, "{:?}", summary.results);
    }

    #[test]
    fn a_cancel_on_a_stale_sighting_leaves_a_job_that_completed_meanwhile() {
        // A DELETE would have removed the finished videos' records, charged.
        let (config, key, reqs) = setup(3);
        let options = BatchOptions { expected_scale: MIN_SCALE, ..BatchOptions::default() };
        let mut batch = Batch::new(&config, Some(&key), reqs, &[4; 16], options, Millis(0)).unwrap();
        let mut fake = Fake::new();
        fake.drive(&mut batch, 100_000, Some(5)); // account, 3 creates and a list: each seen pending
        assert!(fake.jobs.iter().all(|j| j.pending_ms > 250));
        fake.now += 60_000; // completed since, unseen
        batch.cancel(Millis(fake.now));
        assert!(fake.drive(&mut batch, 100_000, None).1);
        let summary = batch.take_result().unwrap();
        assert!(fake.jobs.iter().all(|j| !j.deleted), "no finished job deleted: {:?} {:?}", fake.sent, summary.results);
        assert_eq!(summary.progress.completed, 3, "{:?}", summary.results);
        assert!(fake.sent.iter().all(|(_, m, _)| *m != Method::Delete));
    }

    #[test]
    fn a_delete_held_past_its_send_by_by_the_drivers_slot_wait_is_not_sent_and_looks_first() {
        // helper-55: the drivers' slot wait is the key's, shared with the client's other calls; a
        // delete held there a minute went out on a stale sighting. It carries `send_by` now.
        use crate::machine::Machine;
        let (config, key, reqs) = setup(1);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[4; 16], BatchOptions::default(), Millis(0)).unwrap();
        let mut fake = Fake::new();
        fake.drive(&mut batch, 100_000, Some(2)); // account + the create, seen pending
        let now = Millis(fake.now);
        batch.cancel(now);
        let (delete, by) = loop {
            match batch.poll(now) {
                Output::Event(_) => {}
                Output::Send { id, endpoint: Endpoint::DeleteVideo, send_by, .. } => break (id, send_by),
                other => panic!("the delete, not {other:?}"),
            }
        };
        let by = by.expect("a delete on a sighting says by when it must go out");
        Machine::handle_not_sent(&mut batch, delete, by.plus(60_000));
        let look = loop {
            match batch.poll(by.plus(60_000)) {
                Output::Event(_) => {}
                Output::Send { endpoint, .. } => break endpoint,
                other => panic!("a look, not {other:?}"),
            }
        };
        assert_eq!(look, Endpoint::RetrieveVideo);
    }

    #[test]
    fn a_look_answered_after_its_sighting_would_go_stale_sends_its_delete_whenever_its_slot_comes() {
        // helper-76: under a spent budget each look waited for its slot past the sighting's
        // freshness, and so did the delete after it: looked at again, twice, four slots a job.
        // A look answered that late ends the looks: its delete carries no `send_by`.
        use crate::machine::Machine;
        for (late, relooks) in [(10_000, false), (5, true)] {
            let (config, key, reqs) = setup(1);
            let mut batch = Batch::new(&config, Some(&key), reqs, &[4; 16], BatchOptions::default(), Millis(0)).unwrap();
            let mut fake = Fake::new();
            fake.drive(&mut batch, 100_000, Some(2)); // account + the create, seen pending
            while !matches!(batch.poll(Millis(fake.now)), Output::WaitUntil(_)) {}
            let now = Millis(fake.now + 60_000); // cancelled on a stale sighting: a look first
            batch.cancel(now);
            let (look, body) = loop {
                match batch.poll(now) {
                    Output::Event(_) => {}
                    Output::Send { id, endpoint: Endpoint::RetrieveVideo, request, .. } => break (id, request.url),
                    other => panic!("a look, not {other:?}"),
                }
            };
            let job_id = body.rsplit('/').next().unwrap().to_owned();
            let answered = now.plus(late);
            let job = serde_json::json!({"id": job_id, "status": "pending", "mode": "text_to_video", "resolution": "720p", "duration": 5, "estimated_cost_cents": 30});
            Machine::handle_response(&mut batch, look, HttpResponse::json(200, &job), answered);
            let (delete, send_by) = loop {
                match batch.poll(answered) {
                    Output::Event(_) => {}
                    Output::Send { id, endpoint: Endpoint::DeleteVideo, send_by, .. } => break (id, send_by),
                    Output::WaitUntil(_) => panic!("the delete waits for nothing here"),
                    other => panic!("the delete, not {other:?}"),
                }
            };
            assert_eq!(send_by.is_some(), relooks, "a look answered {late} ms after it was asked for: {send_by:?}");
            // A delete tried again after a pause looks first all the same (helper-78).
            let mut busy = HttpResponse::json(429, &serde_json::json!({"error": {"code": "rate_limited", "message": "slow down"}}));
            busy.headers.push(crate::http::Header::new("retry-after", "30"));
            Machine::handle_response(&mut batch, delete, busy, answered);
            let mut t = answered;
            let endpoint = loop {
                match batch.poll(t) {
                    Output::Event(_) => {}
                    Output::WaitUntil(w) => t = w,
                    Output::Send { endpoint, .. } => break endpoint,
                    other => panic!("not {other:?}"),
                }
            };
            assert_eq!(endpoint, Endpoint::RetrieveVideo, "a look before the delete again ({late} ms)");
        }
    }

    #[test]
    fn a_cancel_whose_deletes_keep_failing_counts_the_jobs_spent() {
        // The jobs stay pending: every look again says to delete, and every delete fails.
        let (summary, fake) = cancelled_after_three_creates(|fake| (fake.fail_deletes, fake.frozen) = (true, true));
        let with_jobs: Vec<&ItemResult> = summary.results.iter().filter(|r| r.job.is_some()).collect();
        assert_eq!(with_jobs.len(), 3);
        for r in &with_jobs {
            let err = r.error.as_ref().unwrap();
            assert_eq!(err.kind, ErrorKind::Cancelled);
            assert_ne!(err.code, "cancelled", "the delete did not happen: {err:?}");
            assert!(err.message.contains("deleting the job failed, so it goes on"), "{err}");
        }
        // Held past its sighting's freshness by the failures' pauses, each delete looked again,
        // twice at most (rule 10).
        let looks = fake.sent.iter().filter(|(_, m, p)| *m == Method::Get && p.starts_with("/videos/job_")).count();
        assert!((1..=6).contains(&looks), "{looks} looks again");
        assert!(fake.jobs.iter().all(|j| !j.deleted));
        assert_eq!(summary.spent_cents, estimates(&with_jobs), "jobs whose deletes failed go on and are charged");
    }

    #[test]
    fn identical_items_whose_answers_were_lost_end_with_a_job_each() {
        for quick in [false, true] {
            identical_items_end_with_a_job_each(quick);
        }
    }

    /// `quick`: the jobs finish before the owner's create is sent again, so the adopter would be
    /// done (and yielded) by then, but for the hold of `Batch::alike_unresolved`.
    fn identical_items_end_with_a_job_each(quick: bool) {
        // Three identical items: two creates made jobs whose answers were lost, one was answered
        // 502 with none made, and the lists fail a while. The 502's item may adopt another's job
        // (the list cannot tell them apart); the owner's create, sent again under its key, names
        // it, and the adopter gives it up and makes its own (it used to keep it: two items with
        // one job, a video never made).
        let (config, key, _) = setup(0);
        let reqs = vec![CreateVideoRequest::text("same"); 3];
        let options = if quick { BatchOptions { expected_scale: MIN_SCALE, poll_interval_ms: 100, ..BatchOptions::default() } } else { BatchOptions::default() };
        let mut batch = Batch::new(&config, Some(&key), reqs, &[6; 16], options, Millis(0)).unwrap();
        let mut fake = Fake::new();
        fake.quick_jobs = quick;
        fake.create_faults = ["502", "drop", "drop"].into();
        fake.failing_lists = 3;
        let (events, done) = fake.drive(&mut batch, 100_000, None);
        assert!(done);
        let summary = batch.take_result().unwrap();
        let ids: std::collections::BTreeSet<&str> = summary.results.iter().filter_map(|r| r.job.as_ref().map(|j| j.id.as_str())).collect();
        assert_eq!((summary.progress.completed, ids.len()), (3, 3), "{:?}", summary.results);
        assert_eq!(fake.jobs.len(), 3, "a job each, none made twice");
        let gave_up = events.iter().filter(|e| matches!(e, Event::Warning { message } if message.contains("looks for its own job again"))).count();
        assert_eq!(gave_up, 1, "{events:?}");
    }

    #[test]
    fn a_cancel_at_any_step_of_identical_items_with_lost_answers_deletes_every_job_and_ends_each_item_once() {
        // As above on a frozen service (every job stays pending), cancelled after each number of
        // requests: every job made is deleted (none left to be charged), each item ends once, none
        // "never finished" (helper-41: an item that gave its adopted job up after a cancel was
        // queued for ever and its own job left pending).
        let mut stops = 0;
        for stop in 1..40 {
            let (config, key, _) = setup(0);
            let reqs = vec![CreateVideoRequest::text("same"); 3];
            let mut batch = Batch::new(&config, Some(&key), reqs, &[6; 16], BatchOptions::default(), Millis(0)).unwrap();
            let mut fake = Fake::new();
            fake.frozen = true;
            fake.create_faults = ["502", "drop", "drop"].into();
            fake.failing_lists = 3;
            let (mut events, done) = fake.drive(&mut batch, 100_000, Some(stop));
            if done {
                break;
            }
            stops += 1;
            batch.cancel(Millis(fake.now));
            let (more, done) = fake.drive(&mut batch, 100_000, None);
            assert!(done, "stopped after {stop}");
            events.extend(more);
            let summary = batch.take_result().unwrap();
            let mut ended: Vec<u32> = events.iter().filter_map(|e| if let Event::ItemDone(r) = e { Some(r.index) } else { None }).collect();
            ended.sort_unstable();
            assert_eq!(ended, vec![0, 1, 2], "stopped after {stop}: each item ends once");
            assert!(summary.results.iter().all(|r| r.error.as_ref().is_some_and(|e| e.kind == ErrorKind::Cancelled)), "stopped after {stop}: {:?}", summary.results);
            assert!(fake.jobs.iter().all(|j| j.deleted), "stopped after {stop}: a job left pending: {:?}", fake.sent);
            assert_eq!(summary.spent_cents, 0, "stopped after {stop}");
        }
        assert!(stops > 5);
    }

    #[test]
    fn an_item_refused_for_want_of_a_job_slot_waits_for_one() {
        // The account's one slot is held by another client's job for 5 minutes: the item's
        // create is refused (`concurrency_limit`) past its own retries, and waits its turn again
        // instead of ending with the 429; it is made once the slot frees.
        let (config, key, reqs) = setup(1);
        let mut batch = Batch::new(&config, Some(&key), reqs, &[2; 16], BatchOptions::default(), Millis(0)).unwrap();
        let mut fake = Fake::new();
        fake.concurrency = 1;
        fake.jobs.push(FakeJob { id: "other".into(), prompt: "elsewhere".into(), created: 0, pending_ms: 0, processing_ms: 300_000, deleted: false, resolution: "720p".into(), duration: 5 });
        let (events, done) = fake.drive(&mut batch, 100_000, None);
        assert!(done);
        let summary = batch.take_result().unwrap();
        assert_eq!(summary.progress.completed, 1, "{:?}", summary.results);
        assert!(fake.concurrency_refused > 5, "refused past the create's own retries: {}", fake.concurrency_refused);
        assert_eq!(fake.jobs.len(), 2, "made once");
        assert!(events.iter().any(|e| matches!(e, Event::Warning { message } if message.contains("waits for a job slot"))));
    }
}
