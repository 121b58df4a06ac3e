//! What a state machine asks of its driver, and what it tells it.

use crate::error::Error;
use crate::http::HttpRequest;
use crate::model::{Job, JobStatus};
use crate::request::Endpoint;
use crate::time::Millis;
use serde::{Deserialize, Serialize};

/// Correlates a sent request with its response. Unique within one machine.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub u64);

#[cfg(feature = "uniffi")]
uniffi::custom_newtype!(RequestId, u64);

/// The next thing a machine needs. Drain [`poll`](crate::JobRun::poll) after every input until it
/// returns [`Output::WaitUntil`], [`Output::Pending`] or [`Output::Done`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Output {
    /// Perform this request (after the shared rate limiter grants a slot) and report the outcome
    /// with `handle_response` or `handle_transport_error` under `id`. If the answer takes longer
    /// than `timeout_ms`, report a `timeout`.
    Send {
        /// Correlation id.
        id: RequestId,
        /// Which endpoint (drivers may log it; limiters may weigh it).
        endpoint: Endpoint,
        /// What to send.
        request: HttpRequest,
        /// The most this request may take, in ms (the call's deadline, or none).
        timeout_ms: Option<u64>,
        /// The latest it may still go out: a driver whose wait for a slot of its rate limiter
        /// runs past this sends nothing and reports [`crate::machine::Machine::handle_not_sent`].
        /// Set on a clean-up's delete, whose job's last `pending` sighting goes stale then
        /// (`job` rule 8): it is looked at again first, as a completed job's delete would remove
        /// its finished video (helper-44: 13 of 30 deletes held a minute by a spent budget did).
        send_by: Option<Millis>,
    },
    /// Something to tell the application (progress, a retry, a status change).
    Event(Event),
    /// Nothing to do until this instant unless an input arrives; then call `handle_timeout`.
    WaitUntil(Millis),
    /// A request is in flight; nothing to do until its outcome is reported.
    Pending,
    /// Finished: take the outcome with `take_result`. Further polls keep returning `Done`.
    Done,
}

/// Things worth telling the application about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
#[non_exhaustive]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Event {
    /// The service accepted the create.
    Created {
        /// The new job.
        job: Job,
    },
    /// A poll saw a new status (or the first status).
    StatusChanged {
        /// The job as last seen.
        job: Job,
    },
    /// After every poll: where the job is, and how far along it probably is.
    Progress(Progress),
    /// An attempt failed and will be retried after `after_ms`.
    Retrying {
        /// Retry number, from 1.
        attempt: u32,
        /// The wait before it, in ms.
        after_ms: u64,
        /// What failed.
        error: Error,
    },
    /// A create's outcome is unknown; recent jobs are being listed to find it.
    Reconciling {
        /// What made the outcome unknown.
        error: Error,
    },
    /// Reconciliation found the job the unknown create made: it is adopted, not created again.
    Reconciled {
        /// The job found.
        job: Job,
    },
    /// A batch item finished: completed, failed, or refused.
    ItemDone(crate::batch::ItemResult),
    /// A batch's counts, after every change.
    BatchProgress(crate::batch::BatchProgress),
    /// A wait gave its job up (a cancel, or its deadline with `cancel_on_timeout`) and begins its
    /// clean-up: a look at the job if its sighting is stale, then its delete (`job` rules 2, 6 to
    /// 8). `error` is what the wait ends with if nothing else goes wrong. Emitted before the
    /// clean-up's first request, so that a driver can hand the clean-up off before that request
    /// waits for a rate-limit slot ([`crate::job::JobRun::cleaning_up`]).
    CleaningUp {
        /// The error the wait will end with.
        error: Error,
    },
    /// A misuse that was ignored (an unknown request id, a response after `Done`).
    Warning {
        /// What happened.
        message: String,
    },
}

/// A job's progress, estimated when the service reports none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Progress {
    /// The job.
    pub job_id: String,
    /// Its status as last seen (`JobStatus`, as on a job; it was the wire string before session
    /// 25, so Kotlin's and Swift's progress read as text where the job's is an enum).
    pub status: JobStatus,
    /// 0–100: the service's `progress` when it sends one, else an estimate from elapsed time.
    pub percent: u8,
    /// Time since the job was submitted (or the wait began), in ms.
    pub elapsed_ms: u64,
    /// The expected total time at this point, in ms.
    pub expected_ms: u64,
}
