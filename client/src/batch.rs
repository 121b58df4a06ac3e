//! `client.videos().batch(…)`: many jobs within the account's limits, results as they finish.

use crate::{random_seed, Client, Error};
use futures::stream::{self, Stream};
use std::ops::ControlFlow;
use usvideo_core::{Batch, BatchOptions, BatchProgress, BatchSnapshot, BatchSummary, CreateVideoRequest, Event, ItemResult};

/// A running batch. Pull results with [`BatchRun::next`] (or turn it into a `Stream`); take a
/// [`BatchRun::snapshot`] whenever you like to resume in another process with
/// [`crate::Videos::resume_batch`].
pub struct BatchRun {
    client: Client,
    machine: Batch,
    on_event: Box<dyn FnMut(&Event) + Send>,
    summary: Option<Result<BatchSummary, Error>>,
    reported_failure: bool,
}

impl std::fmt::Debug for BatchRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchRun").field("progress", &self.machine.progress()).finish_non_exhaustive()
    }
}

impl BatchRun {
    pub(crate) fn start(client: &Client, requests: Vec<CreateVideoRequest>, options: BatchOptions) -> Result<BatchRun, Error> {
        let mut entropy = [0u8; 16];
        getrandom::fill(&mut entropy).map_err(|e| Error::usage(format!("no entropy for idempotency keys: {e}")))?;
        let c = &client.inner;
        let machine = Batch::new(&c.config, client.key(), requests, &entropy, options, c.now())?;
        Ok(BatchRun { client: client.clone(), machine, on_event: Box::new(|_| {}), summary: None, reported_failure: false })
    }

    pub(crate) fn resume(client: &Client, snapshot: BatchSnapshot, options: BatchOptions) -> Result<BatchRun, Error> {
        let c = &client.inner;
        let machine = Batch::resume(&c.config, client.key(), snapshot, random_seed(), options, c.now())?;
        Ok(BatchRun { client: client.clone(), machine, on_event: Box::new(|_| {}), summary: None, reported_failure: false })
    }

    /// Calls `f` with every event of the batch (progress counts, status changes, retries).
    #[must_use]
    pub fn on_event(mut self, f: impl FnMut(&Event) + Send + 'static) -> Self {
        self.on_event = Box::new(f);
        self
    }

    /// The estimated cost of what is left, in cents (known before anything is sent).
    #[must_use]
    pub fn estimated_cents(&self) -> u64 {
        self.machine.estimated_cents()
    }

    /// The next finished item, in completion order; `None` when all are done. If the whole batch
    /// fails (the balance is short, the key is refused), that error comes once, then `None`.
    pub async fn next(&mut self) -> Option<Result<ItemResult, Error>> {
        if self.machine.is_done() {
            return self.end();
        }
        let mut found = None;
        let on_event = &mut self.on_event;
        let done = self
            .client
            .inner
            .drive_until(
                &mut self.machine,
                &mut |e| {
                    if let Event::ItemDone(r) = e {
                        found = Some(r.clone());
                        return ControlFlow::Break(());
                    }
                    on_event(e);
                    ControlFlow::Continue(())
                },
                None,
            )
            .await;
        match found {
            Some(r) => Some(Ok(r)),
            None if done => self.end(),
            None => None,
        }
    }

    fn end(&mut self) -> Option<Result<ItemResult, Error>> {
        if self.summary.is_none() {
            self.summary = Some(self.machine.take_result());
        }
        match &self.summary {
            Some(Err(e)) if !self.reported_failure => {
                self.reported_failure = true;
                Some(Err(e.clone()))
            }
            _ => None,
        }
    }

    /// Where the batch stands, to save and resume later.
    #[must_use]
    pub fn snapshot(&self) -> BatchSnapshot {
        self.machine.snapshot()
    }

    /// Counts now.
    #[must_use]
    pub fn progress(&self) -> BatchProgress {
        self.machine.progress()
    }

    /// Cancels: queued items end cancelled, pending jobs are deleted (refunded) as you keep
    /// pulling results, processing jobs go on.
    pub fn cancel(&mut self) {
        let now = self.client.inner.now();
        self.machine.cancel(now);
    }

    /// The summary (every item in input order) once [`BatchRun::next`] has returned `None`.
    #[must_use]
    pub fn summary(&self) -> Option<&Result<BatchSummary, Error>> {
        self.summary.as_ref()
    }

    /// The results as a `Stream`.
    pub fn into_stream(self) -> impl Stream<Item = Result<ItemResult, Error>> {
        stream::unfold(self, |mut run| async move { run.next().await.map(|r| (r, run)) })
    }
}
