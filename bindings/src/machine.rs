//! [`Machine`]: every core state machine behind one thread-safe object, driven the same way.
//!
//! # Driving contract (the core's, unchanged)
//! Feed inputs with a non-decreasing `now` (monotonic ms), then drain [`Machine::poll`] until it
//! returns `WaitUntil`, `Pending` or `Done`:
//! - `Send { id, request, timeout_ms }`: take a rate-limiter slot, perform the request, report
//!   `handle_response(id, …)` or `handle_transport_error(id, kind, message, …)`;
//! - `Event(e)`: tell the application;
//! - `WaitUntil(t)`: sleep until `t` (or until an input arrives), then `handle_timeout(now)`;
//! - `Done`: take the outcome (`take_job` or `take_response`).
//!
//! `cancel(now)` asks the machine to stop; drain afterwards (a clean-up request, such as the
//! delete of a still-pending job, may follow). Misuse (an unknown request id, a result asked
//! for too early) is a `Warning` event or a `UsageError`, never a panic.

use crate::error::Result;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use usvideo_core::{Batch, BatchProgress, BatchSummary, Call, Create, Error, HttpResponse, Job, JobRun, Millis, Output, RequestId, TransportKind};

#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per machine object; boxing buys nothing
pub(crate) enum Inner {
    Call(Call),
    Create(Create),
    Run(JobRun),
    Batch(Box<Batch>),
}

impl Inner {
    fn machine(&mut self) -> &mut dyn usvideo_core::Machine {
        match self {
            Inner::Call(m) => m,
            Inner::Create(m) => m,
            Inner::Run(m) => m,
            Inner::Batch(m) => m.as_mut(),
        }
    }

    fn batch(&self) -> Result<&Batch> {
        match self {
            Inner::Batch(b) => Ok(b),
            Inner::Call(_) | Inner::Create(_) | Inner::Run(_) => Err(Error::usage("not a batch").into()),
        }
    }
}

/// One call, one create, one wait (create-and-wait) or one batch: a core state machine behind a
/// lock.
#[derive(Debug, uniffi::Object)]
pub struct Machine(Mutex<Inner>);

impl Machine {
    pub(crate) fn new(m: impl Into<Inner>) -> Arc<Self> {
        Arc::new(Machine(Mutex::new(m.into())))
    }

    /// A lock that survives a poisoned mutex: the machines stay consistent between calls, so
    /// the state after a caught panic is still the state before the call that panicked.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl From<Call> for Inner {
    fn from(m: Call) -> Self {
        Inner::Call(m)
    }
}
impl From<Create> for Inner {
    fn from(m: Create) -> Self {
        Inner::Create(m)
    }
}
impl From<JobRun> for Inner {
    fn from(m: JobRun) -> Self {
        Inner::Run(m)
    }
}
impl From<Batch> for Inner {
    fn from(m: Batch) -> Self {
        Inner::Batch(Box::new(m))
    }
}

#[uniffi::export]
impl Machine {
    /// What to do next. Drain until `WaitUntil`, `Pending` or `Done`.
    ///
    /// # Errors
    /// Never in practice; declared so that a panic reaches Swift as a thrown error instead of a
    /// `try!` crash (uniffi's Swift wraps infallible calls in `try!`).
    pub fn poll(&self, now: Millis) -> Result<Output> {
        Ok(self.lock().machine().poll(now))
    }

    /// The response to request `id`.
    pub fn handle_response(&self, id: RequestId, response: HttpResponse, now: Millis) -> Result<()> {
        self.lock().machine().handle_response(id, response, now);
        Ok(())
    }

    /// Request `id` got no answer (`kind` as the host saw it; the core decides what follows).
    pub fn handle_transport_error(&self, id: RequestId, kind: TransportKind, message: String, now: Millis) -> Result<()> {
        self.lock().machine().handle_transport_error(id, kind, &usvideo_core::secret::redact_text(&message), now);
        Ok(())
    }

    /// Request `id` was not sent: no slot of the client's rate limit before its time ran out (the
    /// core words the error).
    pub fn handle_not_sent(&self, id: RequestId, now: Millis) -> Result<()> {
        self.lock().machine().handle_not_sent(id, now);
        Ok(())
    }

    /// Time passed (spurious calls are harmless).
    pub fn handle_timeout(&self, now: Millis) -> Result<()> {
        self.lock().machine().handle_timeout(now);
        Ok(())
    }

    /// Stops the machine; keep draining `poll` (a clean-up request may follow).
    pub fn cancel(&self, now: Millis) -> Result<()> {
        self.lock().machine().cancel(now);
        Ok(())
    }

    /// While a wait's clean-up is under way (the delete of the job its caller gave up, by a cancel
    /// or a timeout with `cancel_on_timeout`: the core's `JobRun::cleaning_up`), the error the
    /// driver throws if it stops waiting for it (`CLEANUP_MS`) and drives the rest in the
    /// background: the core's `job::handed_off`, saying the delete goes on. `None` otherwise.
    pub fn cleaning_up(&self) -> Option<CleaningUp> {
        self.lock().machine().cleaning_up().map(|e| CleaningUp { error: usvideo_core::job::handed_off(e) })
    }

    /// Whether `poll` would return `Done`.
    pub fn is_done(&self) -> bool {
        match &*self.lock() {
            Inner::Call(m) => m.is_done(),
            Inner::Create(m) => m.is_done(),
            Inner::Run(m) => m.is_done(),
            Inner::Batch(m) => m.is_done(),
        }
    }

    /// The job being waited for, once known (create-and-wait learns it from the create).
    pub fn job_id(&self) -> Option<String> {
        match &*self.lock() {
            Inner::Run(m) => m.job_id().map(str::to_owned),
            Inner::Call(_) | Inner::Create(_) | Inner::Batch(_) => None,
        }
    }

    /// The job (create, wait, create-and-wait) once `Done`.
    ///
    /// # Errors
    /// The machine's error, or `UsageError` before `Done`, when taken twice, or on a call.
    pub fn take_job(&self) -> Result<Job> {
        let job = match &mut *self.lock() {
            Inner::Create(m) => m.take_result(),
            Inner::Run(m) => m.take_result(),
            Inner::Call(_) => Err(Error::usage("a call yields a response: use take_response")),
            Inner::Batch(_) => Err(Error::usage("a batch yields a summary: use take_batch_summary")),
        };
        Ok(job?)
    }

    /// The 2xx response of a call once `Done` (parse it with the endpoint's parser).
    ///
    /// # Errors
    /// The call's error, or `UsageError` before `Done`, when taken twice, or on a create or wait.
    pub fn take_response(&self) -> Result<HttpResponse> {
        let resp = match &mut *self.lock() {
            Inner::Call(m) => m.take_result(),
            Inner::Create(_) | Inner::Run(_) => Err(Error::usage("a create or a wait yields a job: use take_job")),
            Inner::Batch(_) => Err(Error::usage("a batch yields a summary: use take_batch_summary")),
        };
        Ok(resp?)
    }

    // ---- batches ----

    /// A batch's state as JSON (the core's `BatchSnapshot`), to continue from with
    /// `CoreClient.resume_batch`, in this process or another. Holds the requests and their
    /// idempotency keys; never the API key.
    ///
    /// # Errors
    /// `UsageError` on a machine that is not a batch.
    pub fn batch_snapshot(&self) -> Result<String> {
        let snapshot = self.lock().batch()?.snapshot();
        serde_json::to_string(&snapshot).map_err(|e| Error::usage(format!("the snapshot could not be serialized: {e}")).into())
    }

    /// A batch's counts now.
    ///
    /// # Errors
    /// `UsageError` on a machine that is not a batch.
    pub fn batch_progress(&self) -> Result<BatchProgress> {
        Ok(self.lock().batch()?.progress())
    }

    /// A batch's estimated cost of the items not yet done, in cents (known before anything is sent).
    ///
    /// # Errors
    /// `UsageError` on a machine that is not a batch.
    pub fn batch_estimated_cents(&self) -> Result<u64> {
        Ok(self.lock().batch()?.estimated_cents())
    }

    /// A batch's summary (every item in input order) once `Done`.
    ///
    /// # Errors
    /// The error that stopped the whole batch (insufficient balance, a refused key), or
    /// `UsageError` before `Done`, when taken twice, or on another machine. A cancelled batch ends
    /// with its summary.
    pub fn take_batch_summary(&self) -> Result<BatchSummary> {
        let summary = match &mut *self.lock() {
            Inner::Batch(b) => b.take_result(),
            Inner::Call(_) | Inner::Create(_) | Inner::Run(_) => Err(Error::usage("not a batch")),
        };
        Ok(summary?)
    }
}

/// A wait's clean-up under way ([`Machine::cleaning_up`]). (A record, not a bare optional error:
/// uniffi 0.32 does not carry the `ErrorInfo` rename into the converter of an optional core error.)
#[derive(Debug, Clone, uniffi::Record)]
pub struct CleaningUp {
    /// The error to throw if the driver stops waiting for the clean-up (it says the delete goes on).
    pub error: Error,
}
