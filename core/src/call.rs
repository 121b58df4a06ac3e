//! One API call with retries: the machine behind retrieve, list, delete, account, pricing and
//! API-key creation. (Creates go through [`crate::create::Create`], which adds reconciliation.)
//!
//! # Theory of operation
//! `Ready` → send → `InFlight` → the outcome: a 2xx ends in `Done(Ok(response))`; a failure asks
//! [`retry::decide`] (the rules table in [`crate::retry`]), which either ends in `Done(Err)` or
//! goes to `Backoff(until)`, and at `until` back to `Ready`. The caller's deadline bounds the whole.
//!
//! A `DELETE` retried after an attempt that may have reached the service (no answer, or a 5xx)
//! can meet the `404` of its own success: that error says so, rather than passing for a job that
//! never existed. (It stays `not_found`: what the first attempt refunded is not known.)

use crate::error::{Error, ErrorKind};
use crate::http::{HttpRequest, HttpResponse, TransportKind};
use crate::output::{Event, Output, RequestId};
use crate::request::Endpoint;
use crate::response;
use crate::retry::{self, Decision, RetryPolicy, Rng};
use crate::time::Millis;
use std::collections::VecDeque;

#[derive(Debug)]
enum State {
    Ready,
    InFlight(RequestId),
    Backoff(Millis),
    Done,
}

/// A single call with retries. See the module docs for the driving contract.
#[derive(Debug)]
pub struct Call {
    endpoint: Endpoint,
    request: HttpRequest,
    policy: RetryPolicy,
    rng: Rng,
    deadline: Option<Millis>,
    attempt: u32,
    /// An earlier attempt failed in a way that may have left it applied (no answer, or a 5xx).
    maybe_applied: bool,
    next_id: u64,
    state: State,
    events: VecDeque<Event>,
    result: Option<Result<HttpResponse, Error>>,
}

impl Call {
    /// A call of `request` to `endpoint`, retried by `policy` with jitter from `seed`, ending by
    /// `deadline` at the latest. Request ids start at `first_id`.
    #[must_use]
    pub fn new(endpoint: Endpoint, request: HttpRequest, policy: RetryPolicy, seed: u64, deadline: Option<Millis>, first_id: u64) -> Self {
        Call { endpoint, request, policy, rng: Rng::new(seed), deadline, attempt: 0, maybe_applied: false, next_id: first_id, state: State::Ready, events: VecDeque::new(), result: None }
    }

    /// The request in flight, if one is.
    #[must_use]
    pub fn in_flight(&self) -> Option<RequestId> {
        match self.state {
            State::InFlight(id) => Some(id),
            _ => None,
        }
    }

    /// The next request id this call would use (so a parent machine can keep ids unique).
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
        match self.state {
            State::Done => Output::Done,
            State::InFlight(_) => Output::Pending,
            State::Backoff(until) if now < until => Output::WaitUntil(until),
            State::Ready | State::Backoff(_) => {
                if self.deadline.is_some_and(|d| now >= d) {
                    self.finish(Err(Error::new(ErrorKind::Timeout, "the call's deadline passed")));
                    return Output::Done;
                }
                let id = RequestId(self.next_id);
                // Wrapping: a caller may start anywhere, and only one request is in flight at once.
                self.next_id = self.next_id.wrapping_add(1);
                self.state = State::InFlight(id);
                Output::Send { id, endpoint: self.endpoint, request: self.request.clone(), timeout_ms: self.deadline.map(|d| d.since(now)), send_by: None }
            }
        }
    }

    fn accept(&mut self, id: RequestId) -> bool {
        match self.state {
            State::InFlight(current) if current == id => true,
            _ => {
                self.events.push_back(Event::Warning { message: format!("ignored an outcome for request {} that is not in flight", id.0) });
                false
            }
        }
    }

    /// The response to request `id`.
    pub fn handle_response(&mut self, id: RequestId, resp: HttpResponse, now: Millis) {
        if !self.accept(id) {
            return;
        }
        match response::check_status(&resp).map_err(|e| e.scrubbed(&self.request, self.endpoint.needs_api_key())) {
            Ok(_) => self.finish(Ok(resp)),
            Err(mut e) if e.kind == ErrorKind::NotFound && self.endpoint == Endpoint::DeleteVideo && self.maybe_applied => {
                e.message = format!("{} (an earlier attempt of this delete, which got no answer or a 5xx, probably deleted it)", e.message);
                // Its job named, as any delete's error names it (helper-76: this one did not).
                let e = self.final_error(e);
                self.finish(Err(e));
            }
            Err(e) => self.failed(e, now),
        }
    }

    /// Request `id` got no answer.
    pub fn handle_transport_error(&mut self, id: RequestId, kind: TransportKind, message: &str, now: Millis) {
        if !self.accept(id) {
            return;
        }
        self.failed(Error::transport(kind, message), now);
    }

    /// Time passed (spurious calls are harmless).
    pub fn handle_timeout(&mut self, _now: Millis) {}

    /// Stops the call: it ends `cancelled` (a request in flight is abandoned).
    pub fn cancel(&mut self) {
        if !matches!(self.state, State::Done) {
            self.finish(Err(Error::new(ErrorKind::Cancelled, "the call was cancelled")));
        }
    }

    fn failed(&mut self, err: Error, now: Millis) {
        if err.kind == ErrorKind::Cancelled {
            return self.finish(Err(err));
        }
        // A refused connection or a 429 left nothing applied; no answer or a 5xx may have. One rule
        // for an attempt retried and the last one (`maybe_applied`: a delete that ends in error).
        self.maybe_applied |= match err.transport {
            Some(kind) => kind != TransportKind::Connect,
            None => err.status.is_some_and(|s| s >= 500),
        };
        let remaining = self.deadline.map(|d| d.since(now));
        match retry::decide(self.endpoint, &err, self.attempt, &self.policy, remaining, &mut self.rng) {
            Decision::Retry { after_ms } => {
                self.attempt += 1;
                self.events.push_back(Event::Retrying { attempt: self.attempt, after_ms, error: err });
                self.state = State::Backoff(now.plus(after_ms));
            }
            Decision::Reconcile | Decision::Fail => self.finish(Err(self.final_error(err))),
        }
    }

    /// Whether an attempt was sent and may have been carried out although no answer said so (no
    /// answer, a 5xx): a delete that ended in error may still have deleted the job.
    #[must_use]
    pub fn maybe_applied(&self) -> bool {
        self.maybe_applied
    }

    /// The error a call ends with: an API key's create that got no answer (or a 5xx, or a timeout)
    /// may have made the key, and it is never sent again on a guess, nor may the caller take it
    /// for one to retry: a key nobody saw would stay valid.
    fn final_error(&self, mut err: Error) -> Error {
        let ambiguous = crate::retry::outcome_unknown(&err);
        if !matches!(self.endpoint, Endpoint::RetrieveVideo | Endpoint::DeleteVideo) {
            err = err.no_such_endpoint();
        } else if err.job_id.is_none() {
            // The job concerned, as a wait's errors name it (helper-37: a delete's 409 did not).
            err.job_id = self.request.url.rsplit('/').next().filter(|id| !id.is_empty()).map(str::to_owned);
        }
        // A pause longer than the retries wait for: the key's limiter still holds the key's other
        // requests for its part of it (`ratelimit`, capped), which nothing said (helper-37 saw the
        // next, unrelated call take 60 s).
        if err.kind == ErrorKind::RateLimit && err.code != "concurrency_limit" && err.retry_after_ms.is_some_and(|ms| ms > self.policy.max_retry_after_ms) && self.endpoint.counts_against_key() {
            let cap = crate::retry::RetryPolicy::default().max_retry_after_ms / 1000;
            err.message = format!("{}; not retried (a pause past the retries' cap), and this client's other requests with the key wait out the pause, up to {cap} s", err.message);
        }
        if self.endpoint == Endpoint::CreateApiKey && ambiguous {
            err.code = crate::error::OUTCOME_UNKNOWN.to_owned();
            err.message = format!("{}: the key may have been created (it is shown only once); it was not asked for again. Revoke keys you do not know from your dashboard", err.message);
        }
        err
    }

    fn finish(&mut self, result: Result<HttpResponse, Error>) {
        self.state = State::Done;
        self.result = Some(result);
    }

    /// Whether the call has finished.
    #[must_use]
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// The outcome once `Done`: the 2xx response (parse it with [`crate::response`]) or the error.
    ///
    /// # Errors
    /// The call's error, or a `usage` error before `Done` or when taken twice.
    pub fn take_result(&mut self) -> Result<HttpResponse, Error> {
        self.result.take().unwrap_or_else(|| Err(Error::usage("the call has no result yet (or it was already taken)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ClientConfig;
    use crate::secret::Jwt;

    /// A key's create that got `fail`, driven to its end.
    fn key_create_failing(fail: impl Fn(&mut Call, RequestId)) -> Error {
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let jwt = Jwt::new("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln").unwrap();
        let mut call = Call::new(Endpoint::CreateApiKey, config.create_api_key(&jwt, Some("ci")).unwrap(), RetryPolicy::default(), 1, None, 0);
        let mut now = Millis(0);
        for _ in 0..20 {
            match call.poll(now) {
                Output::Send { id, .. } => fail(&mut call, id),
                Output::WaitUntil(t) => now = t,
                Output::Done => break,
                _ => {}
            }
        }
        call.take_result().unwrap_err()
    }

    #[test]
    fn a_key_create_with_no_answer_may_have_made_the_key_and_is_not_retryable() {
        for kind in [TransportKind::Other, TransportKind::Timeout] {
            let e = key_create_failing(|c, id| c.handle_transport_error(id, kind, "reset", Millis(0)));
            assert_eq!(e.code, crate::error::OUTCOME_UNKNOWN, "{e}");
            assert!(!e.is_retryable() && e.message.contains("may have been created"), "{e}");
        }
        let e = key_create_failing(|c, id| c.handle_response(id, HttpResponse::json(502, &serde_json::json!({"error": {"code": "bad_gateway", "message": "x"}})), Millis(0)));
        assert_eq!((e.code.as_str(), e.is_retryable()), (crate::error::OUTCOME_UNKNOWN, false), "{e}");
        // Refused before it reached the service: nothing was made, and trying again is safe.
        let e = key_create_failing(|c, id| c.handle_transport_error(id, TransportKind::Connect, "refused", Millis(0)));
        assert!(e.is_retryable() && e.code != crate::error::OUTCOME_UNKNOWN, "{e}");
    }
}

#[cfg(test)]
mod scrub_tests {
    use super::*;
    use crate::request::ClientConfig;
    use crate::secret::ApiKey;

    #[test]
    fn a_server_echoing_the_key_in_part_has_it_removed_from_the_error() {
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_live_Secr3tKeyBody0123").unwrap();
        let mut call = Call::new(Endpoint::RetrieveVideo, config.retrieve_video(Some(&key), "job_1").unwrap(), RetryPolicy::none(), 1, None, 0);
        let Output::Send { id, .. } = call.poll(Millis(0)) else { panic!("a send") };
        let body = serde_json::json!({"error": {"code": "unauthorized", "message": "unknown key live_Secr3tKeyBody0123 (without its prefix)"}});
        call.handle_response(id, HttpResponse::json(401, &body), Millis(1));
        let e = call.take_result().unwrap_err();
        assert!(!e.message.contains("Secr3tKeyBody") && e.message.contains("unknown key [redacted] (without its prefix)"), "{e}");
    }

    /// A retrieve's or a delete's error names its job, as a wait's do (helper-37: a delete's 409
    /// did not); a call that names no job names none.
    #[test]
    fn a_job_calls_error_names_its_job() {
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let answer = |request, endpoint, status| {
            let mut call = Call::new(endpoint, request, RetryPolicy::none(), 1, None, 0);
            let Output::Send { id, .. } = call.poll(Millis(0)) else { panic!("a send") };
            call.handle_response(id, HttpResponse::json(status, &serde_json::json!({"error": {"code": "conflict", "message": "processing"}})), Millis(1));
            call.take_result().unwrap_err().job_id
        };
        assert_eq!(answer(config.delete_video(Some(&key), "job_9").unwrap(), Endpoint::DeleteVideo, 409).as_deref(), Some("job_9"));
        assert_eq!(answer(config.retrieve_video(Some(&key), "job_8").unwrap(), Endpoint::RetrieveVideo, 404).as_deref(), Some("job_8"));
        assert_eq!(answer(config.retrieve_account(Some(&key)).unwrap(), Endpoint::Account, 409), None);
        // A delete whose first answer was lost, and whose retry met a 404 (helper-76: unnamed).
        let mut call = Call::new(Endpoint::DeleteVideo, config.delete_video(Some(&key), "job_7").unwrap(), RetryPolicy::default(), 1, None, 0);
        let Output::Send { id, .. } = call.poll(Millis(0)) else { panic!("a send") };
        call.handle_transport_error(id, TransportKind::Other, "connection reset", Millis(1));
        let mut now = Millis(1);
        let id = loop {
            match call.poll(now) {
                Output::WaitUntil(t) => now = t,
                Output::Send { id, .. } => break id,
                Output::Event(_) => {}
                other => panic!("the retry, not {other:?}"),
            }
        };
        call.handle_response(id, HttpResponse::json(404, &serde_json::json!({"error": {"code": "not_found", "message": "no such job"}})), now);
        let e = call.take_result().unwrap_err();
        assert_eq!((e.kind, e.job_id.as_deref()), (ErrorKind::NotFound, Some("job_7")), "{e}");
        assert!(e.message.contains("probably deleted it"), "{e}");
    }

    /// A `429` whose pause is past the retries' cap says that the key's other requests wait it out.
    #[test]
    fn a_pause_past_the_cap_says_the_keys_requests_wait_it_out() {
        let config = ClientConfig::new("http://fake/v1").unwrap();
        let key = ApiKey::new("sd_test_key_000000").unwrap();
        let mut call = Call::new(Endpoint::RetrieveVideo, config.retrieve_video(Some(&key), "job_1").unwrap(), RetryPolicy::default(), 1, None, 0);
        let Output::Send { id, .. } = call.poll(Millis(0)) else { panic!("a send") };
        let mut resp = HttpResponse::json(429, &serde_json::json!({"error": {"code": "rate_limited", "message": "slow down"}}));
        resp.headers.push(crate::http::Header::new("Retry-After", "120"));
        call.handle_response(id, resp, Millis(1));
        let e = call.take_result().unwrap_err();
        assert!(e.message.contains("other requests with the key wait out the pause, up to 60 s"), "{e}");
    }

    /// Only a keyless client's request to an endpoint that wants a key says none was sent: a
    /// pricing `401` (pricing never carries a key, whatever the client) keeps the server's words.
    #[test]
    fn a_401_says_no_key_was_sent_only_where_one_was_wanted() {
        let config = ClientConfig::new("http://proxy/v1").unwrap();
        let answer = |request, endpoint| {
            let mut call = Call::new(endpoint, request, RetryPolicy::none(), 1, None, 0);
            let Output::Send { id, .. } = call.poll(Millis(0)) else { panic!("a send") };
            call.handle_response(id, HttpResponse::json(401, &serde_json::json!({"error": {"code": "unauthorized", "message": "sign in first"}})), Millis(1));
            call.take_result().unwrap_err().message
        };
        let keyless = answer(config.retrieve_account(None).unwrap(), Endpoint::Account);
        assert!(keyless.starts_with("sign in first (no API key was sent: this client has none."), "{keyless}");
        let pricing = answer(config.retrieve_pricing(), Endpoint::Pricing);
        assert_eq!(pricing, "sign in first");
    }
}
