//! The driver: the one loop that runs any core state machine over reqwest and tokio.
//!
//! It reads the clock, sleeps, performs HTTP and reports outcomes; every decision (retries,
//! backoff, `Retry-After`, poll schedule, deadlines, reconciliation) is the core's.

use crate::cancel::CancelToken;
use crate::Inner;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use usvideo_core::RateLimiter;
use std::time::Duration;
use usvideo_core::http::RESPONSE_HEADERS_READ;
use usvideo_core::{Error, ErrorKind, Event, Header, HttpRequest, HttpResponse, Job, JobRun, Machine, Method, Millis, Output, TransportKind, MAX_RESPONSE_BYTES};

/// The instant the process's clients count from. One for the process, not one a client: the
/// clients of a key share its rate limiter (`usvideo_core::ratelimit::shared`), whose times must
/// all be read on one clock. (With an epoch per client, a client made an hour after another read
/// the other's sends as an hour newer, and waited an hour more for their slots.)
static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// How long a wait's caller waits for its clean-up (the delete of the job it gave up, by a cancel
/// or a timeout with `cancel_on_timeout`) before it goes on in the background (the core's
/// `CLEANUP_MS`, as in every driver).
pub(crate) const CLEANUP_WAIT: Duration = Duration::from_millis(usvideo_core::job::CLEANUP_MS);

/// How much longer a clean-up may go on in the background (the core's `BACKGROUND_MS`): a spent
/// window's slot (a minute) or a `429`'s `Retry-After`, with the delete's retries.
pub(crate) const BACKGROUND_CLEANUP: Duration = Duration::from_millis(usvideo_core::job::BACKGROUND_MS);

/// How a drive ended.
#[derive(Debug, PartialEq, Eq)]
enum Driven {
    /// The machine is done.
    Done,
    /// `on_event` broke off.
    Broke,
    /// Cancelled, the rest left to the caller (`hand_off`).
    Cancelled,
    /// A clean-up began (a timed-out wait's delete), the rest left to the caller (`hand_off`).
    CleaningUp,
}

/// The limiter, even if a panic elsewhere poisoned its lock (it holds plain data, still usable).
fn locked(limiter: &Mutex<RateLimiter>) -> MutexGuard<'_, RateLimiter> {
    limiter.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A call's place in the limiter's line, left when dropped (`RateLimiter::leave`).
struct Place<'a> {
    limiter: &'a Mutex<RateLimiter>,
    ticket: Option<u64>,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        if let Some(t) = self.ticket.take() {
            locked(self.limiter).leave(t);
        }
    }
}

impl Inner {
    /// Milliseconds since the process's first client was made: the core's monotonic clock, one
    /// for every client (see [`EPOCH`]).
    pub(crate) fn now(&self) -> Millis {
        let epoch = EPOCH.get_or_init(std::time::Instant::now);
        Millis(u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    async fn sleep_until(&self, t: Millis) {
        let ms = t.since(self.now());
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }

    /// Waits in line for a slot of the key's shared rate limiter (the core's line: first come
    /// first served, woken about once, at its turn), until `until` at most (the request's own
    /// time runs while it waits: a wait's deadline holds when the rate limit is spent). False
    /// when none came in time: the request must not be sent.
    async fn acquire_slot(&self, until: Option<Millis>) -> bool {
        // Its place in line, given up when this returns or is dropped (an abort) without a slot.
        let mut place = Place { limiter: &self.limiter, ticket: None };
        loop {
            let now = self.now();
            let next = locked(&self.limiter).acquire_in_line(&mut place.ticket, now);
            match next {
                Ok(()) => return true,
                Err(_) if until.is_some_and(|u| now >= u) => return false,
                Err(t) => self.sleep_until(until.map_or(t, |u| u.min(t))).await,
            }
        }
    }

    fn observe(&self, resp: &HttpResponse, now: Millis) {
        locked(&self.limiter).observe(resp, now);
    }

    /// Runs `machine` to `Done`, passing events to `on_event`. With a `cancel` token, a cancel
    /// tells the machine, which may still send a clean-up request before it finishes.
    pub(crate) async fn drive<M: Machine>(&self, machine: &mut M, on_event: &mut (dyn FnMut(&Event) + Send), cancel: Option<&CancelToken>) {
        self.drive_until(machine, &mut |e| {
            on_event(e);
            ControlFlow::Continue(())
        }, cancel)
        .await;
    }

    /// Runs `machine` until it is `Done` (returns true) or `on_event` breaks (returns false; the
    /// machine can be driven on later from where it stopped).
    pub(crate) async fn drive_until<M: Machine>(&self, machine: &mut M, on_event: &mut (dyn FnMut(&Event) -> ControlFlow<()> + Send), cancel: Option<&CancelToken>) -> bool {
        self.drive_to(machine, on_event, cancel, false).await == Driven::Done
    }

    /// Drives a wait (`JobRun`) to its end. A clean-up (the core's delete of a job the caller gave
    /// up, by a cancel or by a timeout with `cancel_on_timeout`: `job` rules 2 and 6) is awaited
    /// [`CLEANUP_WAIT`] at most: one that takes longer (a spent rate limit, a `429`'s pause, a
    /// slow server) goes on in a task of its own for [`BACKGROUND_CLEANUP`] more at most, and the
    /// wait ends at once with its error, saying so (a cancel's caller stayed blocked until the
    /// delete went out, a minute under a spent budget; a timeout's delete was given up after
    /// 10 s, the job charged).
    pub(crate) async fn run_job(self: &Arc<Self>, run: JobRun, on_event: &mut (dyn FnMut(&Event) + Send), cancel: Option<&CancelToken>) -> Result<Job, Error> {
        let mut events = |e: &Event| {
            on_event(e);
            ControlFlow::Continue(())
        };
        let mut run = run.handing_off();
        let driven = self.drive_to(&mut run, &mut events, cancel, true).await;
        if !matches!(driven, Driven::Cancelled | Driven::CleaningUp) {
            return run.take_result();
        }
        let (job_id, job_status) = (run.job_id().map(str::to_owned), run.last_seen().map(|j| j.status.as_str().to_owned()));
        // The error the clean-up would end with: a timeout's `wait_timeout`, a cancel's `cancelled`
        // (none yet when a cancel's create is still out).
        let base = run.cleaning_up().cloned().unwrap_or_else(|| Error::new(ErrorKind::Cancelled, "the wait was cancelled"));
        let inner = Arc::clone(self);
        let mut clean_up = tokio::spawn(async move {
            // Bounded: a clean-up that could not finish in this time leaves its job to go on.
            let _ = tokio::time::timeout(CLEANUP_WAIT + BACKGROUND_CLEANUP, inner.drive(&mut run, &mut |_| {}, None)).await;
            run
        });
        let mut err = match tokio::time::timeout(CLEANUP_WAIT, &mut clean_up).await {
            Ok(Ok(mut run)) => return run.take_result(),
            // Its runtime shut down under it (a panic is the core's bug, and none is allowed there).
            Ok(Err(e)) => Error { message: format!("{}; its clean-up ended early ({e}), so a pending job may not have been deleted", base.message), ..base },
            // The core's words, as every binding's.
            Err(_) => usvideo_core::job::handed_off(&base),
        };
        (err.job_id, err.job_status) = (job_id, job_status);
        Err(err)
    }

    /// Runs `machine` until it is `Done`, `on_event` breaks, or (with `hand_off`) it is
    /// cancelled or begins a clean-up: then it returns at once (the cancel told to the machine),
    /// for the caller to drive the clean-up on (`run_job`).
    async fn drive_to<M: Machine>(&self, machine: &mut M, on_event: &mut (dyn FnMut(&Event) -> ControlFlow<()> + Send), cancel: Option<&CancelToken>, hand_off: bool) -> Driven {
        let mut cancelled = false;
        loop {
            if hand_off && !cancelled && machine.cleaning_up().is_some() {
                return Driven::CleaningUp;
            }
            if !cancelled && cancel.is_some_and(CancelToken::is_cancelled) {
                cancelled = true;
                machine.cancel(self.now());
                if hand_off {
                    return Driven::Cancelled;
                }
            }
            match machine.poll(self.now()) {
                Output::Send { id, endpoint, request, timeout_ms, send_by } => {
                    let until = timeout_ms.map(|t| self.now().plus(t));
                    // A slot later than `send_by` (a clean-up's delete on a sighting gone stale
                    // by then) is not waited for: the core looks at the job again first.
                    let slot_until = match (until, send_by) {
                        (Some(u), Some(b)) => Some(u.min(b)),
                        (u, b) => u.or(b),
                    };
                    // Only the key's requests wait for (and teach) the key's limiter.
                    let counted = endpoint.counts_against_key();
                    let slot = match (cancel, cancelled) {
                        _ if !counted => Some(true),
                        // A cancel while it waits for a slot is honoured at once (a minute under a
                        // spent budget), not after the slot came and the request went out.
                        (Some(token), false) => tokio::select! {
                            got = self.acquire_slot(slot_until) => Some(got),
                            () = token.cancelled() => None,
                        },
                        _ => Some(self.acquire_slot(slot_until).await),
                    };
                    match slot {
                        Some(true) => {}
                        // Nothing reached the service (a create past its deadline made no job).
                        Some(false) => {
                            machine.handle_not_sent(id, self.now());
                            continue;
                        }
                        // Cancelled in line: nothing was sent (`Connect`); the cancel comes next.
                        None => {
                            machine.handle_transport_error(id, TransportKind::Connect, "not sent: cancelled", self.now());
                            continue;
                        }
                    }
                    // What is left of the request's time after the slot wait.
                    let timeout_ms = until.map(|u| u.since(self.now()).max(1));
                    let outcome = match (cancel, cancelled) {
                        // Cancelled before it went out: nothing reached the service (`Connect`
                        // tells the core so; an aborted create would be an unknown outcome).
                        (Some(token), false) if token.is_cancelled() => Err((TransportKind::Connect, "not sent: cancelled".to_owned())),
                        (Some(token), false) => tokio::select! {
                            r = self.execute(&request, timeout_ms) => r,
                            () = token.cancelled() => Err((TransportKind::Aborted, "cancelled".to_owned())),
                        },
                        _ => self.execute(&request, timeout_ms).await,
                    };
                    let now = self.now();
                    match outcome {
                        Ok(resp) => {
                            if counted {
                                self.observe(&resp, now);
                            }
                            machine.handle_response(id, resp, now);
                        }
                        Err((kind, message)) => machine.handle_transport_error(id, kind, &message, now),
                    }
                }
                Output::Event(e) => {
                    if on_event(&e).is_break() {
                        return Driven::Broke;
                    }
                }
                Output::WaitUntil(t) => {
                    match (cancel, cancelled) {
                        (Some(token), false) => tokio::select! {
                            () = self.sleep_until(t) => {},
                            () = token.cancelled() => {},
                        },
                        _ => self.sleep_until(t).await,
                    }
                    machine.handle_timeout(self.now());
                }
                // This driver awaits every request inline, so nothing can be in flight here; a
                // machine that says otherwise would wait for ever, so stop it instead.
                Output::Pending => machine.cancel(self.now()),
                Output::Done | _ => return Driven::Done,
            }
        }
    }

    /// Performs one request: the core's `HttpRequest` in, its `HttpResponse` or a transport
    /// failure out. The body is read up to [`MAX_RESPONSE_BYTES`].
    pub(crate) async fn execute(&self, request: &HttpRequest, timeout_ms: Option<u64>) -> Result<HttpResponse, (TransportKind, String)> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        let timeout = timeout_ms.map_or(self.request_timeout, |ms| self.request_timeout.min(Duration::from_millis(ms.max(1))));
        let mut builder = self.http.request(method, &request.url).timeout(timeout);
        for h in &request.headers {
            builder = builder.header(h.name.as_str(), h.value.as_str());
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let mut resp = builder.send().await.map_err(transport_error)?;
        let status = resp.status().as_u16();
        // Only the headers the core reads are copied (reqwest's names are already lower case).
        let headers = RESPONSE_HEADERS_READ.iter().filter_map(|n| resp.headers().get(*n).map(|v| Header::new(*n, String::from_utf8_lossy(v.as_bytes())))).collect();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err((TransportKind::BodyTooLarge, format!("response body over {MAX_RESPONSE_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse { status, headers, body })
    }
}

/// Maps reqwest's error to the core's transport kinds. Messages never include the request's
/// headers, so no key can leak through them; the URL is dropped too (it may be a signed URL).
pub(crate) fn transport_error(e: reqwest::Error) -> (TransportKind, String) {
    let kind = if e.is_connect() {
        TransportKind::Connect
    } else if e.is_timeout() {
        TransportKind::Timeout
    } else {
        TransportKind::Other
    };
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(s) = source {
        detail = format!("{detail}: {s}");
        source = s.source();
    }
    (kind, usvideo_core::secret::redact_text(&detail))
}

#[cfg(test)]
mod tests {
    use crate::Client;

    #[test]
    fn clients_made_apart_read_one_clock() {
        // They share a key's limiter: its send times must mean the same on both.
        let make = || Client::builder().api_key("sd_clock_test_0000").base_url("http://127.0.0.1:9/v1").build().unwrap();
        let a = make();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let b = make();
        let (ta, tb) = (a.inner.now(), b.inner.now());
        assert!(ta.0.abs_diff(tb.0) < 50, "{ta:?} {tb:?}");
    }

    #[tokio::test]
    async fn a_call_that_gives_up_its_slot_wait_leaves_the_line() {
        let c = Client::builder().api_key("sd_line_test_0000").base_url("http://127.0.0.1:9/v1").requests_per_minute(1).build().unwrap();
        let inner = &c.inner;
        assert!(inner.acquire_slot(None).await, "the one slot");
        // One gives up at its deadline, one is dropped (an abort): neither stays in line.
        assert!(!inner.acquire_slot(Some(inner.now().plus(30))).await);
        assert!(tokio::time::timeout(std::time::Duration::from_millis(30), inner.acquire_slot(None)).await.is_err());
        // So the next call is first: its turn is when the one slot frees, not windows later.
        let now = inner.now();
        let turn = super::locked(&inner.limiter).acquire_in_line(&mut None, now).unwrap_err();
        assert!(turn.0 <= now.0 + 61_000, "{turn:?} at {now:?}");
    }
}
