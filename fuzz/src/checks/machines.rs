//! The state machines (`Call`, `Create`, `JobRun`, `Batch`) driven by an arbitrary sequence of
//! inputs: answers with any status and body to any request in flight (in any order), transport
//! failures, answers to ids never issued, time that stands still or jumps forward, cancels.
//!
//! Invariants checked on every output, whatever the input:
//! - nothing panics; a drain of `poll` ends within 200 outputs; `Pending` only with a request in
//!   flight; a `Send` never reuses an id still in flight;
//! - time requested never goes backwards: every `WaitUntil(t)` has `t > now`;
//! - a create always carries its idempotency key (one key per logical create), and is sent again
//!   only after an attempt that provably made nothing (no connection, 429, another 4xx) or after a
//!   readable list of jobs (reconciliation) — never while a previous attempt's outcome is unknown;
//! - a wait never outlives its deadline: no request is sent at or after it, none is given more
//!   time than is left, no `WaitUntil` goes past it (the clean-up delete after a cancel or a
//!   timeout excepted, which gets its own retries, and the one look-up of a create whose outcome
//!   is unknown at the deadline, given `LOOKUP_TIMEOUT_MS`: rule 6 of `create`); a timeout's
//!   delete, unlike a cancel's, still ends within `job::CLEANUP_MS` of its start (rule 2 of `job`);
//! - every error is well formed (see [`super::parsers::check_error`]); a successful wait ends
//!   `completed`; the result is taken exactly once.
//!
//! When the input runs out, the server turns helpful (every request gets a sensible success; for
//! one input length in four it turns broken instead: a 500 to everything) and
//! time only moves to the instants asked for: the machine must then finish within
//! [`CLOSING_STEPS`] steps.

use super::input::Cursor;
use super::parsers::check_error;
use serde_json::{json, Value};
use std::collections::HashMap;
use usvideo_core::{
    ApiKey, Batch, BatchOptions, BatchSnapshot, Call, ClientConfig, Create, CreateVideoRequest, Endpoint, ErrorKind, Event, HttpRequest, HttpResponse, Header, IdempotencyKey, Jwt, JobRun, Limits, ListParams, Machine, Method, Millis, Mode, Output,
    PollPolicy, RequestId, Resolution, RetryPolicy, TransportKind, WaitOptions,
};
use usvideo_core::batch::SnapshotItem;

/// Steps the helpful server allows a machine to finish in.
pub const CLOSING_STEPS: u32 = 3_000;
/// Fuzzed inputs per run at most (longer inputs are cut).
const MAX_OPS: u32 = 400;
/// The fuzzed clock stays below this (2^44 ms, 557 years): far below `Millis::MAX`.
const MAX_NOW: u64 = 1 << 44;
/// Longer waits than this (115 days) are absurd unless the caller configured absurd durations.
const ABSURD_WAIT_MS: u64 = 10_000_000_000;

const BASE_URL: &str = "http://h/v1";
const API_KEY: &str = "sd_fuzz_key_000000";

enum M {
    Call(Call),
    Create(Create),
    Job(JobRun),
    Batch(Batch),
}

impl M {
    fn machine(&mut self) -> &mut dyn Machine {
        match self {
            M::Call(m) => m,
            M::Create(m) => m,
            M::Job(m) => m,
            M::Batch(m) => m,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Safety {
    InFlight,
    Unknown,
    Safe,
}

struct Sent {
    id: RequestId,
    endpoint: Endpoint,
    request: HttpRequest,
    group: u64,
}

struct Harness {
    m: M,
    now: Millis,
    last_wait: Option<Millis>,
    in_flight: Vec<Sent>,
    /// Per idempotency key: its request-id group and what is known of its last attempt.
    creates: HashMap<String, (u64, Safety)>,
    group_keys: HashMap<u64, String>,
    /// Batch ids: the group is `id >> 24` (the batch's own requests are group 0).
    grouped_ids: bool,
    deadline: Option<Millis>,
    deletes_sent: u32,
    /// Whether the caller cancelled: a cancel's delete has no limit, a timeout's has (`job` rule 2).
    cancelled: bool,
    /// When a timed-out wait sent its first delete (its bounded time began before).
    first_delete_at: Option<Millis>,
    /// The bound of a timed-out wait's clean-up: `job::CLEANUP_MS`, plus `job::BACKGROUND_MS` for
    /// a run whose driver hands clean-ups off (`JobRun::handing_off`).
    cleanup_ms: u64,
    /// Looks at the job before a clean-up's delete (`job` rule 8).
    looks_sent: u32,
    /// Lists sent at or past the deadline (rule 6 of `create`: at most one).
    late_lookups: u32,
    max_wait_ms: u64,
    job_ids: Vec<String>,
    next_job: u32,
    items: usize,
    done: bool,
    /// A resumed batch's snapshot date (`batch` rule 9), and whether an answer's `Date` made it
    /// too old: from then on no create goes out under a key not yet sent in this run.
    snapshot_date: Option<i64>,
    too_old: bool,
    sent_keys: std::collections::HashSet<String>,
    submitting_keys: std::collections::HashSet<String>,
    /// `FUZZ_TRACE=1`: print every input and output (to read a crasher).
    trace: bool,
    /// Every duration the caller configured is reasonable (no `u64::MAX` delays or intervals).
    sane: bool,
    /// The machine asked to wait beyond [`ABSURD_WAIT_MS`] under an absurd configuration: the run
    /// ends there (time would have to reach `Millis::MAX`).
    eternal: bool,
}

fn config() -> ClientConfig {
    ClientConfig::new(BASE_URL).expect("config")
}

/// The client's key, or none one time in four (a keyless client, behind a proxy that adds it:
/// its requests carry no `Authorization`, and a `401` to them says so).
fn api_key(c: &mut Cursor) -> Option<ApiKey> {
    (c.u8() % 4 != 0).then(|| ApiKey::new(API_KEY).expect("key"))
}

fn policy(c: &mut Cursor<'_>) -> RetryPolicy {
    if c.u8() < 128 {
        return RetryPolicy::default();
    }
    RetryPolicy {
        max_retries: u32::from(c.u8() % 6),
        base_delay_ms: c.pick(&[0, 1, 500, 10_000, u64::MAX]),
        max_delay_ms: c.pick(&[0, 100, 8_000, u64::MAX]),
        max_retry_after_ms: c.pick(&[0, 1_000, 60_000, u64::MAX]),
    }
}

fn request(c: &mut Cursor<'_>) -> CreateVideoRequest {
    let mut r = CreateVideoRequest::text(c.pick(&["a lake at dawn", "x", " "]));
    r.mode = c.pick(&[Mode::TextToVideo, Mode::TextToVideo, Mode::ImageToVideo, Mode::Reference]);
    if r.mode == Mode::ImageToVideo || c.u8() < 8 {
        r.image_url = Some(c.pick(&["https://example.com/a.png", "ftp://x"]).to_owned());
    }
    if r.mode == Mode::Reference || c.u8() < 8 {
        r.reference_url = Some("https://example.com/r.png".to_owned());
    }
    r.resolution = c.pick(&[None, Some(Resolution::P720), Some(Resolution::P1080), Some(Resolution::K2)]);
    r.duration = c.pick(&[None, Some(1), Some(5), Some(10), Some(11)]);
    r.seed = c.pick(&[None, Some(0), Some(42), Some(1 << 40)]);
    r
}

fn now0(c: &mut Cursor<'_>) -> Millis {
    Millis(u64::from(c.u32()))
}

impl Harness {
    fn new(m: M, now: Millis, deadline: Option<Millis>, policy: &RetryPolicy) -> Self {
        Harness {
            m,
            now,
            last_wait: None,
            in_flight: Vec::new(),
            creates: HashMap::new(),
            group_keys: HashMap::new(),
            grouped_ids: false,
            deadline,
            deletes_sent: 0,
            cancelled: false,
            first_delete_at: None,
            cleanup_ms: usvideo_core::job::CLEANUP_MS,
            looks_sent: 0,
            late_lookups: 0,
            max_wait_ms: policy.max_delay_ms.max(policy.max_retry_after_ms),
            job_ids: vec!["job_1".to_owned()],
            next_job: 0,
            items: 0,
            done: false,
            snapshot_date: None,
            too_old: false,
            sent_keys: std::collections::HashSet::new(),
            submitting_keys: std::collections::HashSet::new(),
            trace: std::env::var_os("FUZZ_TRACE").is_some(),
            sane: policy.base_delay_ms <= 1_000_000 && policy.max_delay_ms <= 1_000_000 && policy.max_retry_after_ms <= 1_000_000,
            eternal: false,
        }
    }

    fn group(&self, id: RequestId) -> u64 {
        if self.grouped_ids { id.0 >> 24 } else { 0 }
    }

    /// Drains `poll` and checks every output. Returns the last one.
    fn drain(&mut self) -> Output {
        for _ in 0..200 {
            let out = self.m.machine().poll(self.now);
            if self.trace {
                match &out {
                    Output::Send { id, endpoint, request, timeout_ms, send_by } => eprintln!("  <- send {} {endpoint:?} {} {} timeout {timeout_ms:?} by {send_by:?}", id.0, request.method.as_str(), request.url),
                    other => eprintln!("  <- {other:?}"),
                }
            }
            match &out {
                Output::Send { id, endpoint, request, timeout_ms, send_by } => {
                    assert!(!self.done, "a Send after Done");
                    // A delete goes out only on a fresh sighting (`job` rule 8): its latest time
                    // to go out has not passed when it is asked for.
                    assert!(send_by.is_none_or(|b| b >= self.now), "a {endpoint:?} whose send_by ({send_by:?}) passed before it was asked for at {}", self.now.0);
                    assert!(send_by.is_none() || *endpoint == Endpoint::DeleteVideo, "a send_by on a {endpoint:?}");
                    self.on_send(*id, *endpoint, request, *timeout_ms);
                    continue;
                }
                Output::Event(e) => {
                    self.on_event(e);
                    continue;
                }
                Output::WaitUntil(t) => {
                    assert!(!self.done, "a WaitUntil after Done");
                    if let Some(d) = self.deadline.filter(|_| self.deletes_sent == 0 && self.looks_sent == 0) {
                        // The one look-up past the deadline waits out a 429's pause, bounded (`create` rule 6).
                        let late = if self.late_lookups == 0 { usvideo_core::create::LOOKUP_TIMEOUT_MS } else { 0 };
                        assert!(*t <= d.max(self.now).plus(late), "a wait until {} outlives the deadline {}", t.0, d.0);
                    } else if let Some(first) = self.first_delete_at.filter(|_| !self.cancelled) {
                        assert!(*t <= first.plus(self.cleanup_ms), "a timed-out wait's clean-up waits until {} past its bound", t.0);
                    }
                    if t.since(self.now) > ABSURD_WAIT_MS {
                        assert!(!self.sane, "an absurd wait ({} ms) under a reasonable configuration", t.since(self.now));
                        self.eternal = true;
                        return out;
                    }
                    assert!(*t > self.now, "WaitUntil({}) is not after now ({})", t.0, self.now.0);
                    self.last_wait = Some(*t);
                }
                Output::Pending => {
                    assert!(!self.done, "Pending after Done");
                    assert!(!self.in_flight.is_empty(), "Pending with nothing in flight: the machine is stuck");
                }
                Output::Done => {
                    if let M::Job(m) = &self.m {
                        assert!(m.cleaning_up().is_none(), "a run done is cleaning up");
                    }
                    if !self.done {
                        self.done = true;
                        self.check_result();
                    }
                }
                _ => {}
            }
            return out;
        }
        panic!("a drain did not end within 200 outputs");
    }

    fn on_send(&mut self, id: RequestId, endpoint: Endpoint, request: &HttpRequest, timeout_ms: Option<u64>) {
        assert!(self.in_flight.iter().all(|s| s.id != id), "request id {} reused while in flight", id.0);
        // A clean-up is under way only once the caller gave the job up: a cancel, or the wait's
        // timeout (at the deadline, or before it when no poll can be answered by then: a pause
        // asked past it), and then every request is the clean-up's: a look or the delete.
        if let M::Job(m) = &self.m
            && let Some(e) = m.cleaning_up()
        {
            let gave_up = match e.kind {
                ErrorKind::Cancelled => self.cancelled,
                ErrorKind::WaitTimeout => self.deadline.is_some(),
                _ => false,
            };
            assert!(gave_up, "cleaning up ({:?}) though the caller did not give the job up", e.kind);
            assert!(matches!(endpoint, Endpoint::DeleteVideo | Endpoint::RetrieveVideo), "a {endpoint:?} sent while cleaning up");
        }
        let group = self.group(id);
        // A job run's look at its job before a clean-up's delete (`job` rule 8): after a cancel,
        // past the deadline, or in a clean-up begun before it (a wait timed out early: no poll
        // could be answered by the deadline); bounded as the delete is.
        let cleaning = matches!(&self.m, M::Job(m) if m.cleaning_up().is_some());
        let look = endpoint == Endpoint::RetrieveVideo && matches!(self.m, M::Job(_)) && (self.cancelled || cleaning || self.deadline.is_some_and(|d| self.now >= d));
        if endpoint == Endpoint::DeleteVideo || look {
            if endpoint == Endpoint::DeleteVideo {
                self.deletes_sent += 1;
            } else {
                self.looks_sent += 1;
            }
            // A timed-out wait's clean-up (a job run's, not a cancel's): its time is bounded (`job`
            // rule 2), from before its first send.
            if self.deadline.is_some() && !self.cancelled && matches!(self.m, M::Job(_)) {
                let first = *self.first_delete_at.get_or_insert(self.now);
                let t = timeout_ms.unwrap_or_else(|| panic!("a timed-out wait's {endpoint:?} has no timeout"));
                assert!(self.now.plus(t) <= first.plus(self.cleanup_ms), "a timed-out wait's {endpoint:?} given {t} ms at {}, past its bound", self.now.0);
            }
        } else if let Some(d) = self.deadline {
            if endpoint == Endpoint::ListVideos && self.now >= d {
                self.late_lookups += 1;
                assert_eq!(self.late_lookups, 1, "more than one look-up past the deadline");
                assert_eq!(timeout_ms, Some(usvideo_core::create::LOOKUP_TIMEOUT_MS), "the look-up past the deadline has a bounded time");
            } else {
                assert!(self.now < d, "a {endpoint:?} sent at {} after the deadline {}", self.now.0, d.0);
                let t = timeout_ms.unwrap_or_else(|| panic!("a {endpoint:?} under a deadline has no timeout"));
                assert!(self.now.plus(t) <= d, "a {endpoint:?} given {t} ms past the deadline");
            }
        }
        if endpoint == Endpoint::CreateVideo {
            assert_eq!(request.method, Method::Post);
            let key = request.header("idempotency-key").filter(|k| !k.is_empty()).unwrap_or_else(|| panic!("a create without an idempotency key")).to_owned();
            let first = self.group_keys.entry(group).or_insert_with(|| key.clone());
            assert_eq!(*first, key, "one logical create sent under two idempotency keys");
            let entry = self.creates.entry(key.clone()).or_insert((group, Safety::Safe));
            assert_eq!(entry.1, Safety::Safe, "create {key} sent again while its previous attempt's outcome is {:?}", entry.1);
            entry.1 = Safety::InFlight;
            assert!(!self.too_old || self.sent_keys.contains(&key), "create {key} first sent after its resumed snapshot turned too old (batch rule 9)");
            assert!(!self.too_old || !self.submitting_keys.contains(&key), "create {key}, submitting in the snapshot, sent again after it turned too old (batch rule 9)");
            self.sent_keys.insert(key);
        }
        self.in_flight.push(Sent { id, endpoint, request: request.clone(), group });
    }

    fn on_event(&mut self, e: &Event) {
        match e {
            Event::Retrying { after_ms, error, .. } => {
                assert!(*after_ms <= self.max_wait_ms, "a retry waits {after_ms} ms");
                check_error(error);
            }
            Event::Reconciling { error } => check_error(error),
            Event::Progress(p) => assert!(p.percent <= 100),
            Event::Created { job } | Event::Reconciled { job } | Event::StatusChanged { job } => assert!(!job.id.is_empty()),
            Event::ItemDone(r) => {
                assert!((r.index as usize) < self.items.max(1), "an item index out of range");
                if let Some(e) = &r.error {
                    check_error(e);
                    // No key to send again under: under a forgotten one that is no safe retry.
                    assert!(e.code != usvideo_core::error::SNAPSHOT_TOO_OLD || e.idempotency_key.is_none(), "{e:?}");
                }
            }
            _ => {}
        }
    }

    fn check_result(&mut self) {
        let second = match &mut self.m {
            M::Call(m) => {
                match m.take_result() {
                    Ok(resp) => assert!((200..300).contains(&resp.status)),
                    Err(e) => check_final_error(&e),
                }
                m.take_result().err()
            }
            M::Create(m) => {
                match m.take_result() {
                    Ok(job) => assert!(!job.id.is_empty()),
                    Err(e) => check_final_error(&e),
                }
                m.take_result().err()
            }
            M::Job(m) => {
                match m.take_result() {
                    Ok(job) => assert_eq!(job.status.as_str(), "completed", "a wait ended Ok on a job that is not completed"),
                    Err(e) => check_final_error(&e),
                }
                m.take_result().err()
            }
            M::Batch(m) => {
                match m.take_result() {
                    Ok(summary) => {
                        assert_eq!(summary.results.len(), self.items);
                        for (i, r) in summary.results.iter().enumerate() {
                            assert_eq!(r.index as usize, i);
                            if let Some(e) = &r.error {
                                check_error(e);
                            } else {
                                assert!(r.job.as_ref().is_some_and(|j| j.status.as_str() == "completed"), "an item without error is not completed: {r:?}");
                            }
                        }
                    }
                    Err(e) => check_final_error(&e),
                }
                m.take_result().err()
            }
        };
        assert!(second.is_some_and(|e| e.kind == ErrorKind::Usage), "a result could be taken twice");
    }

    fn take(&mut self, i: usize) -> Option<Sent> {
        if self.in_flight.is_empty() { None } else { Some(self.in_flight.remove(i % self.in_flight.len())) }
    }

    fn respond(&mut self, sent: &Sent, resp: HttpResponse) {
        if let (Some(then), Some(now)) = (self.snapshot_date, resp.header("date").and_then(usvideo_core::date::parse_http_date)) {
            let age = now.saturating_sub(then);
            self.too_old |= age > usvideo_core::batch::SNAPSHOT_KEYS_KEPT_MS || age < -600_000;
        }
        if sent.endpoint == Endpoint::CreateVideo {
            if let Some(key) = sent.request.header("idempotency-key") {
                let nothing_made = resp.status == 429 || ((400..500).contains(&resp.status) && resp.status != 408);
                if let Some(entry) = self.creates.get_mut(key) {
                    entry.1 = if nothing_made { Safety::Safe } else { Safety::Unknown };
                }
            }
        }
        if sent.endpoint == Endpoint::ListVideos && usvideo_core::response::parse_job_page(&resp, &usvideo_core::ListParams::default()).is_ok() {
            // A readable list: reconciliation can now tell whether the create made a job.
            for (group, safety) in self.creates.values_mut() {
                if *group == sent.group && *safety == Safety::Unknown {
                    *safety = Safety::Safe;
                }
            }
        }
        if self.trace {
            eprintln!("@{} -> response to {}: {} {:?} {}", self.now.0, sent.id.0, resp.status, resp.headers, String::from_utf8_lossy(&resp.body));
        }
        self.m.machine().handle_response(sent.id, resp, self.now);
    }

    fn fail(&mut self, sent: &Sent, kind: TransportKind, message: &str) {
        if sent.endpoint == Endpoint::CreateVideo {
            if let Some(entry) = sent.request.header("idempotency-key").and_then(|k| self.creates.get_mut(k)) {
                entry.1 = if kind == TransportKind::Connect { Safety::Safe } else { Safety::Unknown };
            }
        }
        if self.trace {
            eprintln!("@{} -> transport error on {}: {kind:?}", self.now.0, sent.id.0);
        }
        self.m.machine().handle_transport_error(sent.id, kind, message, self.now);
    }

    fn advance(&mut self, ms: u64) {
        self.now = Millis(self.now.0.saturating_add(ms).min(MAX_NOW.max(self.now.0)));
        if self.trace {
            eprintln!("@{} -> time", self.now.0);
        }
        self.m.machine().handle_timeout(self.now);
    }

    fn fresh_job_id(&mut self) -> String {
        self.next_job += 1;
        let id = format!("job_f{}", self.next_job);
        self.job_ids.push(id.clone());
        id
    }

    /// The answer a healthy service gives.
    fn good_answer(&mut self, sent: &Sent) -> HttpResponse {
        let path_id = sent.request.url.rsplit('/').next().unwrap_or("").to_owned();
        let body = match sent.endpoint {
            Endpoint::CreateVideo => {
                let id = self.fresh_job_id();
                return HttpResponse::json(201, &json!({"id": id, "status": "pending"}));
            }
            Endpoint::RetrieveVideo => json!({"id": path_id, "status": "completed", "video_url": "http://x/v.mp4", "cost_cents": 30}),
            Endpoint::ListVideos => {
                let data: Vec<Value> = self.job_ids.iter().map(|id| json!({"id": id, "status": "completed", "video_url": "http://x/v.mp4"})).collect();
                json!({"data": data, "has_more": false})
            }
            Endpoint::DeleteVideo => json!({"id": path_id, "deleted": true, "refunded_cents": 30}),
            Endpoint::Account => json!({"email": "a@b.c", "balance_cents": 1_000_000_000_000u64}),
            Endpoint::Pricing => json!({"720p": {"per_second": 0.06}, "1080p": {"per_second": 0.24}, "2k": {"per_second": 0.36}}),
            _ => json!({"id": "key_1", "key": "sd_new_key_0000000000"}),
        };
        HttpResponse::json(200, &body)
    }

    fn fuzz_job(&mut self, c: &mut Cursor<'_>) -> Value {
        let mut ids = self.job_ids.clone();
        ids.extend(["", "a/b", "job_1"].map(str::to_owned));
        let id = if c.u8() < 32 { self.fresh_job_id() } else { c.pick(&ids) };
        let mut job = json!({"id": id, "status": c.pick(&["pending", "processing", "completed", "failed", "upscaling", ""])});
        let fields: [(&str, Vec<Value>); 9] = [
            ("prompt", vec![json!("a lake at dawn"), json!("x"), json!("other")]),
            ("mode", vec![json!("text_to_video"), json!("image_to_video"), json!("weird")]),
            ("resolution", vec![json!("720p"), json!("1080p"), json!("2k")]),
            ("duration", vec![json!(5), json!(1), json!(10), json!("x")]),
            ("seed", vec![json!(42), json!(0), json!(-1)]),
            ("progress", vec![json!(0), json!(50), json!(100), json!(255), json!(1000)]),
            ("created_at", vec![json!("2026-04-21T15:30:00Z"), json!("1970-01-01T00:00:00Z"), json!("99999999999999-04-21T15:30:00Z"), json!("garbage"), json!("2026-04-21T15:30:00+99999999999999999:00")]),
            ("error", vec![json!({"code": "content_policy", "message": "no"}), json!("boom"), json!({"code": "", "message": "sd_leaked_key_1234567890"})]),
            ("video_url", vec![json!("http://x/v.mp4"), json!(5)]),
        ];
        let mask = c.u16();
        for (bit, (name, values)) in fields.iter().enumerate() {
            if mask & (1 << bit) != 0 {
                job[*name] = c.pick(values);
            }
        }
        job
    }

    /// An answer decoded from the input: any status, `Retry-After` and `Date`, and a body that is
    /// the right answer, another endpoint's, a job, a page, an error or garbage.
    fn fuzz_answer(&mut self, c: &mut Cursor<'_>, sent: &Sent) -> HttpResponse {
        if c.u8() < 64 {
            return self.good_answer(sent);
        }
        let status = c.pick(&[200, 200, 201, 204, 400, 401, 402, 404, 408, 409, 429, 429, 500, 502, 503, 504, 302, 0, 999]);
        let mut headers = Vec::new();
        if c.bool() {
            headers.push(Header::new("Retry-After", c.pick(&["0", "1", "2.5", "61", "120", "99999999999999999999", "18446744073709551615", "1e30", "-1", "Sun, 06 Nov 1994 08:49:40 GMT", "Sun, 06 Nov 99999999999999 08:49:40 GMT"])));
        }
        if c.bool() {
            headers.push(Header::new("Date", c.pick(&["Sun, 06 Nov 1994 08:49:37 GMT", "Tue, 21 Apr 2026 15:30:30 GMT", "garbage"])));
        }
        if c.bool() {
            headers.push(Header::new("x-request-id", "req_1"));
        }
        let body = match c.u8() % 8 {
            0 => self.good_answer(sent).body,
            1 => self.fuzz_job(c).to_string().into_bytes(),
            2 => {
                let data: Vec<Value> = (0..c.below(4)).map(|_| self.fuzz_job(c)).collect();
                let mut page = json!({"data": data});
                if c.bool() {
                    page["has_more"] = json!(c.bool());
                }
                if c.bool() {
                    page["offset"] = json!(c.pick(&[0u64, 20, u64::MAX]));
                    page["total"] = json!(c.pick(&[0u64, 5, u64::MAX]));
                }
                page.to_string().into_bytes()
            }
            3 => json!({"id": "job_1", "deleted": c.bool(), "refunded_cents": 30}).to_string().into_bytes(),
            4 => json!({"balance_cents": c.pick(&[0u64, 100, 1 << 60])}).to_string().into_bytes(),
            5 => c.short_bytes().to_vec(),
            6 => Vec::new(),
            _ => c.pick(&[r#"{"error":{"code":"concurrency_limit","message":"full"}}"#, r#"{"error":{"code":"rate_limited","message":"slow down"}}"#, r#"{"error":"sd_echoed_secret_key_123456"}"#, "<html>502</html>"]).as_bytes().to_vec(),
        };
        HttpResponse { status, headers, body }
    }

    /// One fuzzed input.
    fn step(&mut self, c: &mut Cursor<'_>) {
        match c.u8() % 12 {
            0..=3 => {
                let i = c.below(256);
                match self.take(i) {
                    Some(sent) => {
                        let resp = self.fuzz_answer(c, &sent);
                        self.respond(&sent, resp);
                    }
                    None => self.to_wake(),
                }
            }
            4 => {
                let i = c.below(256);
                let kind = c.pick(&[TransportKind::Connect, TransportKind::Timeout, TransportKind::Aborted, TransportKind::BodyTooLarge, TransportKind::Other, TransportKind::Connect, TransportKind::Timeout]);
                let message = c.pick(&["", "reset", "echo sd_secret_key_0123456789"]);
                match self.take(i) {
                    Some(sent) => self.fail(&sent, kind, message),
                    None => self.to_wake(),
                }
            }
            5 => self.advance(u64::from(c.u8())),
            6 => self.advance(u64::from(c.u16()) * 10),
            7 => self.advance(u64::from(c.u32())),
            8 => self.to_wake(),
            9 => {
                if c.u8() < 64 {
                    if self.trace {
                        eprintln!("@{} -> cancel", self.now.0);
                    }
                    self.cancelled = true;
                    self.m.machine().cancel(self.now);
                } else {
                    self.m.machine().handle_timeout(self.now);
                }
            }
            10 => {
                // An answer to an id never issued (or long answered).
                let raw = c.u64();
                let id = RequestId(c.pick(&[0, 1, 999, 1000, 1001, 1 << 24, (1 << 24) + 1, u64::MAX, raw]));
                if self.in_flight.iter().all(|s| s.id != id) {
                    let resp = HttpResponse::json(200, &json!({"id": "job_1", "status": "completed"}));
                    if c.bool() {
                        self.m.machine().handle_response(id, resp, self.now);
                    } else {
                        self.m.machine().handle_transport_error(id, TransportKind::Timeout, "", self.now);
                    }
                }
            }
            _ => {} // stand still: just poll again
        }
    }

    fn to_wake(&mut self) {
        if let Some(t) = self.last_wait.filter(|t| *t > self.now) {
            self.now = t;
        }
        if self.trace {
            eprintln!("@{} -> wake", self.now.0);
        }
        self.m.machine().handle_timeout(self.now);
    }

    fn run(&mut self, c: &mut Cursor<'_>) {
        let mut last = self.drain();
        let mut ops = 0;
        while !c.is_empty() && ops < MAX_OPS && !self.eternal {
            ops += 1;
            self.step(c);
            last = self.drain();
        }
        // The helpful server (or, for one input length in four, a broken one that answers every
        // request with a 500): answer everything, move time only to where the machine asks.
        let broken = c.len() % 4 == 3;
        for _ in 0..CLOSING_STEPS {
            if self.done || self.eternal {
                return;
            }
            if let Some(sent) = self.take(0) {
                let resp = if broken { HttpResponse::json(500, &json!({"error": {"code": "internal", "message": "down"}})) } else { self.good_answer(&sent) };
                self.respond(&sent, resp);
            } else if let Output::WaitUntil(t) = last {
                self.now = t;
                self.m.machine().handle_timeout(self.now);
            }
            last = self.drain();
        }
        assert!(self.done, "not finished {CLOSING_STEPS} steps after the server turned {} (last output {last:?})", if broken { "broken" } else { "helpful" });
    }
}

fn check_final_error(e: &usvideo_core::Error) {
    check_error(e);
    assert_ne!(e.kind, ErrorKind::Usage, "a machine driven by the rules ended in a usage error: {e:?}");
}

/// `Call`: one request with retries.
pub fn call(data: &[u8]) {
    let mut c = Cursor::new(data);
    let config = config();
    let key = api_key(&mut c);
    let key = key.as_ref();
    let (endpoint, request) = match c.u8() % 6 {
        0 => (Endpoint::RetrieveVideo, config.retrieve_video(key, "job_1").expect("builds")),
        1 => (Endpoint::ListVideos, config.list_videos(key, &ListParams { limit: None, offset: None }).expect("builds")),
        2 => (Endpoint::DeleteVideo, config.delete_video(key, "job_1").expect("builds")),
        3 => (Endpoint::Account, config.retrieve_account(key).expect("builds")),
        4 => (Endpoint::Pricing, config.retrieve_pricing()),
        _ => (Endpoint::CreateApiKey, config.create_api_key(&Jwt::new("eyJa.eyJb.c").expect("jwt"), Some("n")).expect("builds")),
    };
    let policy = policy(&mut c);
    let now = now0(&mut c);
    let deadline = if c.bool() { Some(now.plus(u64::from(c.u32()))) } else { None };
    let first_id = c.pick(&[0, 1000, 1 << 24, u64::MAX - 3]);
    let seed = c.u64();
    let m = Call::new(endpoint, request, policy, seed, deadline, first_id);
    // A delete has no deadline exemption here: it is the call itself.
    let mut h = Harness::new(M::Call(m), now, deadline, &policy);
    if endpoint == Endpoint::DeleteVideo {
        h.deadline = None;
    }
    h.run(&mut c);
}

/// `Create`: a create made at most once.
pub fn create(data: &[u8]) {
    let mut c = Cursor::new(data);
    let req = request(&mut c);
    let policy = policy(&mut c);
    let now = now0(&mut c);
    let deadline = if c.bool() { Some(now.plus(u64::from(c.u32() % 1_000_000))) } else { None };
    let seed = c.u64();
    let idem = IdempotencyKey::from_string("usv-fuzz-0001").expect("idem");
    let m = match Create::new(&config(), api_key(&mut c).as_ref(), req, &idem, policy, seed, deadline, c.pick(&[0, 1000])) {
        Ok(m) => m,
        Err(e) => return assert_eq!(e.kind, ErrorKind::Validation),
    };
    let m = if c.bool() { m.excluding(vec!["job_1".to_owned()]) } else { m };
    let m = if c.u8() < 32 { m.reconcile_first() } else { m };
    // Claims of a client of its own: taken and released, never waited on (no other create).
    let m = if c.bool() { m.sharing(&usvideo_core::claims::Claims::new()) } else { m };
    let mut h = Harness::new(M::Create(m), now, deadline, &policy);
    h.run(&mut c);
}

/// `JobRun`: wait, or create and wait, with every option.
pub fn job_run(data: &[u8]) {
    let mut c = Cursor::new(data);
    let retry = policy(&mut c);
    let mut options = WaitOptions { timeout_ms: c.pick(&[None, Some(0), Some(1), Some(5_000), Some(600_000), Some(u64::MAX)]), cancel_on_timeout: c.bool(), poll: PollPolicy::default(), retry };
    if c.u8() < 64 {
        options.poll.first_poll_ms = c.pick(&[0, 1, 3_000, u64::MAX]);
        options.poll.min_interval_ms = c.pick(&[0, 1, 2_000, u64::MAX]);
        options.poll.max_interval_ms = c.pick(&[0, 1, 20_000, u64::MAX]);
        options.poll.expected_scale = c.pick(&[1.0, 0.0, -1.0, 1e300, f64::NAN, f64::INFINITY, 1.0 / 15.0]);
    }
    let now = now0(&mut c);
    let seed = c.u64();
    let poll = options.poll;
    let m = if c.bool() {
        let id = c.pick(&["job_1", "job_1", "", "a/b"]);
        match JobRun::wait(&config(), api_key(&mut c).as_ref(), id, options, seed, now) {
            Ok(m) => m,
            Err(e) => return assert_eq!(e.kind, ErrorKind::Validation),
        }
    } else {
        let req = request(&mut c);
        let idem = IdempotencyKey::from_string("usv-fuzz-0002").expect("idem");
        match JobRun::create_and_wait(&config(), api_key(&mut c).as_ref(), req, &idem, options, seed, now) {
            Ok(m) => m,
            Err(e) => return assert_eq!(e.kind, ErrorKind::Validation),
        }
    };
    // Half the runs as a driver that hands clean-ups off drives them (every binding's does).
    let hands_off = c.bool();
    let m = if hands_off { m.handing_off() } else { m };
    let deadline = m.deadline();
    let mut h = Harness::new(M::Job(m), now, deadline, &retry);
    // A poll answered with no readable job is polled again after the shortest gap (job rule 10).
    h.max_wait_ms = h.max_wait_ms.max(poll.min_interval_ms);
    h.sane &= [poll.first_poll_ms, poll.min_interval_ms, poll.max_interval_ms].iter().all(|d| *d <= 1_000_000);
    if hands_off {
        h.cleanup_ms += usvideo_core::job::BACKGROUND_MS;
    }
    h.run(&mut c);
}

/// `Batch`: new, or resumed from a snapshot with items in every state.
pub fn batch(data: &[u8]) {
    let mut c = Cursor::new(data);
    // Empty now and then: an empty batch ends at once, empty.
    let n = c.below(5);
    let requests: Vec<CreateVideoRequest> = (0..n).map(|_| request(&mut c)).collect();
    let retry = policy(&mut c);
    let options = BatchOptions {
        max_spend_cents: c.pick(&[None, None, Some(0), Some(100), Some(u64::MAX)]),
        limits: Limits { requests_per_minute: c.pick(&[60, 0, 1, 5, 60]), concurrent_jobs: c.pick(&[10, 0, 1, 2, 3]) },
        longest_first: c.bool(),
        poll_by_list: c.u8() < 192,
        poll_interval_ms: c.pick(&[3_000, 0, 1, u64::MAX]),
        likely_from: c.pick(&[0.65, 0.0, 1.0, -1.0, f64::NAN, 1e300]),
        check_balance: c.bool(),
        expected_scale: c.pick(&[1.0, 1.0 / 15.0, 0.0, f64::NAN, f64::INFINITY, -1.0]),
        retry,
    };
    let now = now0(&mut c);
    let poll_interval = options.poll_interval_ms;
    let m = if c.u8() < 64 {
        let items = requests
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let state = c.pick(&["queued", "submitting", "running", "done", "bogus"]).to_owned();
                let job_id = if c.u8() < 224 { Some(c.pick(&["job_1", "job_2", "a/b", ""]).to_owned()) } else { None };
                let result = if state == "done" && c.bool() { Some(usvideo_core::ItemResult { index: u32::try_from(i).unwrap_or(0), job: None, error: Some(usvideo_core::Error::new(ErrorKind::JobFailed, "failed")) }) } else { None };
                SnapshotItem { request: r.clone(), idempotency_key: IdempotencyKey::from_string(&format!("usv-snap-{i}")).expect("idem"), state, job_id, result, unreported: c.bool() }
            })
            .collect();
        // Its owner: none (an older snapshot), this client's, or another key's (refused).
        let key = api_key(&mut c);
        let owner = match c.u8() % 3 {
            0 => None,
            1 => Some(usvideo_core::batch::snapshot_owner(&config(), key.as_ref())),
            _ => Some("00000000000000ff".to_owned()),
        };
        let foreign = owner.as_deref().is_some_and(|o| o == "00000000000000ff");
        let snapshot = BatchSnapshot { version: c.pick(&[1, 1, 1, 2]), items, scale: c.pick(&[1.0, 0.5, f64::NAN, 0.0]), owner, service_date_ms: c.pick(&[None, Some(0), Some(784_111_777_000)]), cancelled: c.pick(&[false, false, true]) };
        match Batch::resume(&config(), key.as_ref(), snapshot.clone(), c.u64(), options, now) {
            Ok(m) => {
                assert!(!foreign, "another key's snapshot was resumed");
                let mut h = Harness::new(M::Batch(m), now, None, &retry);
                h.sane &= poll_interval <= 1_000_000;
                h.grouped_ids = true;
                h.items = n;
                h.snapshot_date = snapshot.service_date_ms;
                // A `submitting` item's create may have been sent by the earlier process.
                for (i, item) in snapshot.items.iter().enumerate() {
                    if item.state == "submitting" {
                        h.submitting_keys.insert(item.idempotency_key.as_str().to_owned());
                        h.creates.insert(item.idempotency_key.as_str().to_owned(), (u64::try_from(i).unwrap_or(0) + 1, Safety::Unknown));
                    }
                }
                h.run(&mut c);
                return;
            }
            Err(e) => return assert!(e.kind == ErrorKind::Validation || (foreign && e.kind == ErrorKind::Usage), "{e}"),
        }
    } else {
        let entropy = c.bytes(16).to_vec();
        match Batch::new(&config(), api_key(&mut c).as_ref(), requests, &entropy, options, now) {
            Ok(m) => m,
            Err(e) => return assert_eq!(e.kind, ErrorKind::Validation),
        }
    };
    let mut h = Harness::new(M::Batch(m), now, None, &retry);
    h.sane &= poll_interval <= 1_000_000;
    h.grouped_ids = true;
    h.items = n;
    h.run(&mut c);
}
