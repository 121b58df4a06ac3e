//! A tiny fake of the service for the core's own unit tests: enough to drive the machines end to
//! end on virtual time and to check the limits (the full model lives in `fleet/`, the real
//! stand-in in `emulator/`).

use crate::http::{HttpRequest, HttpResponse, Method};
use crate::machine::Machine;
use crate::output::{Event, Output};
use crate::time::Millis;
use serde_json::{json, Value};
use std::collections::VecDeque;

pub(crate) struct FakeJob {
    pub(crate) id: String,
    pub(crate) prompt: String,
    pub(crate) created: u64,
    pub(crate) pending_ms: u64,
    pub(crate) processing_ms: u64,
    pub(crate) deleted: bool,
    pub(crate) resolution: String,
    pub(crate) duration: u64,
}

pub(crate) struct Fake {
    pub(crate) now: u64,
    pub(crate) jobs: Vec<FakeJob>,
    pub(crate) sent: Vec<(u64, Method, String)>,
    pub(crate) rate_limited: u32,
    pub(crate) concurrency_refused: u32,
    pub(crate) max_concurrent_seen: usize,
    pub(crate) rpm: usize,
    pub(crate) concurrency: usize,
    pub(crate) balance: u64,
    /// Drop the answer to the next create after storing it.
    pub(crate) drop_next_create: bool,
    /// Answer every delete with a 503.
    pub(crate) fail_deletes: bool,
    /// What befalls the next creates, in order: `"drop"` (made, answer lost), `"502"` (none made).
    pub(crate) create_faults: VecDeque<&'static str>,
    /// Answer the next lists with a 500.
    pub(crate) failing_lists: u32,
    /// Answer the next reads (lists and gets) with a proxy's page (200, no JSON).
    pub(crate) garbled_reads: u32,
    /// Jobs that finish within a second.
    pub(crate) quick_jobs: bool,
    /// Jobs that stay pending (a frozen service).
    pub(crate) frozen: bool,
    /// A job with this prompt ends `failed` (with `error.code` "content_policy") where others complete.
    pub(crate) failing_prompt: Option<&'static str>,
    /// Jobs show no prompt (as the reference's job shape has none).
    pub(crate) prompt_less: bool,
    /// Every answer's `Date`: this many ms since 1970 at `now` 0 (none when `None`).
    pub(crate) epoch_ms: Option<i64>,
    /// Jobs by idempotency key: a create sent again under its key within 24 h gets its job back.
    keys: Vec<(String, usize)>,
    window: VecDeque<u64>,
}

impl Fake {
    pub(crate) fn new() -> Self {
        Fake { now: 0, jobs: Vec::new(), sent: Vec::new(), rate_limited: 0, concurrency_refused: 0, max_concurrent_seen: 0, rpm: 60, concurrency: 10, balance: 1_000_000, drop_next_create: false, fail_deletes: false, create_faults: VecDeque::new(), failing_lists: 0, garbled_reads: 0, quick_jobs: false, frozen: false, failing_prompt: None, prompt_less: false, epoch_ms: None, keys: Vec::new(), window: VecDeque::new() }
    }

    fn status(&self, j: &FakeJob) -> &'static str {
        let age = self.now.saturating_sub(j.created);
        if age < j.pending_ms || self.frozen {
            "pending"
        } else if age < j.pending_ms + j.processing_ms {
            "processing"
        } else if self.failing_prompt == Some(j.prompt.as_str()) {
            "failed"
        } else {
            "completed"
        }
    }

    fn job_json(&self, j: &FakeJob) -> Value {
        let status = self.status(j);
        let mut v = json!({"id": j.id, "status": status, "prompt": j.prompt, "mode": "text_to_video", "resolution": j.resolution, "duration": j.duration, "estimated_cost_cents": 6 * j.duration});
        if self.prompt_less {
            v.as_object_mut().map(|o| o.remove("prompt"));
        }
        if status == "completed" {
            v["cost_cents"] = json!(6 * j.duration);
            v["video_url"] = json!(format!("http://fake/{}.mp4", j.id));
        } else if status == "failed" {
            v["error"] = json!({"code": "content_policy", "message": "the prompt was refused"});
        }
        v
    }

    fn active(&self) -> usize {
        self.jobs.iter().filter(|j| !j.deleted && matches!(self.status(j), "pending" | "processing")).count()
    }

    /// Answers a request at `self.now`, dated when `epoch_ms` is set; `None` means the
    /// connection dropped.
    pub(crate) fn answer(&mut self, req: &HttpRequest) -> Option<HttpResponse> {
        let mut resp = self.answer_undated(req)?;
        if let Some(epoch) = self.epoch_ms {
            resp.headers.push(crate::http::Header::new("date", http_date(epoch + i64::try_from(self.now).unwrap_or(0))));
        }
        Some(resp)
    }

    fn answer_undated(&mut self, req: &HttpRequest) -> Option<HttpResponse> {
        let path = req.url.trim_start_matches("http://fake/v1").to_owned();
        self.sent.push((self.now, req.method, path.clone()));
        while self.window.front().is_some_and(|t| self.now.saturating_sub(*t) >= 60_000) {
            self.window.pop_front();
        }
        if self.window.len() >= self.rpm {
            self.rate_limited += 1;
            let mut r = HttpResponse::json(429, &json!({"error": {"code": "rate_limited", "message": "slow down"}}));
            r.headers.push(crate::http::Header::new("retry-after", "1"));
            return Some(r);
        }
        self.window.push_back(self.now);
        if req.method == Method::Get && self.garbled_reads > 0 {
            self.garbled_reads -= 1;
            return Some(HttpResponse { status: 200, headers: vec![], body: b"<html>a captive portal</html>".to_vec() });
        }
        let body = req.body.as_ref().and_then(|b| serde_json::from_slice::<Value>(b).ok()).unwrap_or(Value::Null);
        let resp = match (req.method, path.as_str()) {
            (Method::Post, "/videos") => {
                // (Not the `header` look-up: tests/headers_read.rs takes every one in src/ for a response read.)
                let key = req.headers.iter().find(|h| h.name.eq_ignore_ascii_case("idempotency-key")).map(|h| h.value.clone()).unwrap_or_default();
                // Keys are kept 24 h (as the emulator keeps them).
                let kept = |idx: usize| self.jobs.get(idx).is_some_and(|j| self.now < j.created + 24 * 3_600_000);
                if let Some(&(_, idx)) = self.keys.iter().find(|(k, idx)| *k == key && kept(*idx)) {
                    let v = self.jobs.get(idx).map(|j| self.job_json(j)).unwrap_or(Value::Null);
                    return Some(HttpResponse::json(201, &v));
                }
                let fault = self.create_faults.pop_front();
                if fault == Some("502") {
                    return Some(HttpResponse::json(502, &json!({"error": {"code": "bad_gateway", "message": "upstream"}})));
                }
                if self.active() >= self.concurrency {
                    self.concurrency_refused += 1;
                    let mut r = HttpResponse::json(429, &json!({"error": {"code": "concurrency_limit", "message": "full"}}));
                    r.headers.push(crate::http::Header::new("retry-after", "5"));
                    return Some(r);
                }
                let n = self.jobs.len() as u64;
                let duration = body["duration"].as_u64().unwrap_or(5);
                let job = FakeJob {
                    id: format!("job_{n}"),
                    prompt: body["prompt"].as_str().unwrap_or("").to_owned(),
                    created: self.now,
                    pending_ms: if self.quick_jobs { 100 } else { 1_000 + (n * 737) % 4_000 },
                    processing_ms: if self.quick_jobs { 300 } else { 20_000 + duration * 6_000 + (n * 1_931) % 9_000 },
                    deleted: false,
                    resolution: body["resolution"].as_str().unwrap_or("720p").to_owned(),
                    duration,
                };
                let v = self.job_json(&job);
                self.keys.push((key, self.jobs.len()));
                self.jobs.push(job);
                self.max_concurrent_seen = self.max_concurrent_seen.max(self.active());
                if std::mem::take(&mut self.drop_next_create) || fault == Some("drop") {
                    return None;
                }
                HttpResponse::json(201, &v)
            }
            (Method::Get, "/account") => HttpResponse::json(200, &json!({"email": "t@x", "balance_cents": self.balance, "total_jobs": self.jobs.len(), "total_spent_cents": 0})),
            (Method::Get, p) if p.starts_with("/videos?") && self.failing_lists > 0 => {
                self.failing_lists -= 1;
                HttpResponse::json(500, &json!({"error": {"code": "internal_error", "message": "try again"}}))
            }
            (Method::Get, p) if p.starts_with("/videos?") => {
                let limit: usize = p.split("limit=").nth(1).and_then(|s| s.split('&').next()).and_then(|s| s.parse().ok()).unwrap_or(20);
                let live: Vec<Value> = self.jobs.iter().rev().filter(|j| !j.deleted).take(limit).map(|j| self.job_json(j)).collect();
                let total = self.jobs.iter().filter(|j| !j.deleted).count();
                HttpResponse::json(200, &json!({"data": live, "limit": limit, "offset": 0, "total": total, "has_more": total > limit}))
            }
            (m, p) if p.starts_with("/videos/") => {
                let id = p.trim_start_matches("/videos/");
                let Some(idx) = self.jobs.iter().position(|j| j.id == id && !j.deleted) else {
                    return Some(HttpResponse::json(404, &json!({"error": {"code": "not_found", "message": "no such job"}})));
                };
                let v = self.jobs.get(idx).map(|j| self.job_json(j)).unwrap_or(Value::Null);
                match m {
                    Method::Delete if self.fail_deletes => HttpResponse::json(503, &json!({"error": {"code": "unavailable", "message": "try later"}})),
                    Method::Delete if v["status"] == "processing" => HttpResponse::json(409, &json!({"error": {"code": "job_not_cancellable", "message": "processing"}})),
                    Method::Delete => {
                        if let Some(j) = self.jobs.get_mut(idx) {
                            j.deleted = true;
                        }
                        // A pending job's hold is refunded; a finished one's record goes with none.
                        let refunded = if v["status"] == "pending" { 30 } else { 0 };
                        HttpResponse::json(200, &json!({"id": id, "deleted": true, "refunded_cents": refunded}))
                    }
                    _ => HttpResponse::json(200, &v),
                }
            }
            _ => HttpResponse::json(404, &json!({"error": {"code": "not_found", "message": "?"}})),
        };
        Some(resp)
    }

    /// Drives `m` sequentially (each request answered at once) until `Done` or `max_steps`;
    /// returns the events. `stop_after` pauses the drive after that many sends (for snapshots).
    pub(crate) fn drive<M: Machine>(&mut self, m: &mut M, max_steps: usize, stop_after: Option<usize>) -> (Vec<Event>, bool) {
        let mut events = Vec::new();
        let mut sends = 0;
        for _ in 0..max_steps {
            match m.poll(Millis(self.now)) {
                Output::Send { id, request, .. } => {
                    sends += 1;
                    self.now += 50;
                    match self.answer(&request) {
                        Some(r) => m.handle_response(id, r, Millis(self.now)),
                        None => m.handle_transport_error(id, crate::http::TransportKind::Other, "connection reset", Millis(self.now)),
                    }
                    if stop_after.is_some_and(|s| sends >= s) {
                        return (events, false);
                    }
                }
                Output::Event(e) => events.push(e),
                Output::WaitUntil(t) => {
                    assert!(t.0 >= self.now, "WaitUntil in the past: {} < {}", t.0, self.now);
                    assert!(t.0 < self.now + 3_600_000, "WaitUntil too far: {}", t.0);
                    self.now = t.0.max(self.now + 1);
                    m.handle_timeout(Millis(self.now));
                }
                Output::Pending => panic!("a sequential driver never leaves a request in flight"),
                Output::Done => return (events, true),
            }
        }
        (events, false)
    }

    /// Drives machines at once, as one client's concurrent calls: each round, every machine due
    /// sends its next request, and the requests are answered only after all were sent (so
    /// identical creates are in flight together), in order. With none sent, time moves to the
    /// earliest wake-up. Returns every machine's events, and whether all ended.
    pub(crate) fn drive_together<M: Machine>(&mut self, ms: &mut [M], max_rounds: usize) -> (Vec<Event>, bool) {
        let mut events = Vec::new();
        let mut wake = vec![0_u64; ms.len()];
        let mut done = vec![false; ms.len()];
        for _ in 0..max_rounds {
            let mut sends = Vec::new();
            for (i, m) in ms.iter_mut().enumerate() {
                if done[i] || wake[i] > self.now {
                    continue;
                }
                loop {
                    match m.poll(Millis(self.now)) {
                        Output::Send { id, request, .. } => break sends.push((i, id, request)),
                        Output::Event(e) => events.push(e),
                        Output::WaitUntil(t) => break wake[i] = t.0.max(self.now + 1),
                        Output::Pending => panic!("every request is answered within its round"),
                        Output::Done => break done[i] = true,
                    }
                }
            }
            if done.iter().all(|d| *d) {
                return (events, true);
            }
            if sends.is_empty() {
                self.now = (0..ms.len()).filter(|i| !done[*i]).map(|i| wake[i]).min().unwrap_or(self.now).max(self.now + 1);
                for (i, m) in ms.iter_mut().enumerate() {
                    if !done[i] && wake[i] <= self.now {
                        m.handle_timeout(Millis(self.now));
                    }
                }
                continue;
            }
            self.now += 50;
            for (i, id, request) in sends {
                let m = &mut ms[i];
                match self.answer(&request) {
                    Some(r) => m.handle_response(id, r, Millis(self.now)),
                    None => m.handle_transport_error(id, crate::http::TransportKind::Other, "connection reset", Millis(self.now)),
                }
            }
        }
        (events, false)
    }

    pub(crate) fn creates(&self) -> usize {
        self.sent.iter().filter(|(_, m, p)| *m == Method::Post && p == "/videos").count()
    }

    /// The most requests in any 60 s window.
    pub(crate) fn max_per_minute(&self) -> usize {
        self.sent.iter().map(|(t, ..)| self.sent.iter().filter(|(u, ..)| *u >= *t && *u < t + 60_000).count()).max().unwrap_or(0)
    }
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) of `ms` since 1970 (from 1970 on).
fn http_date(ms: i64) -> String {
    let (days, secs) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000) / 1000);
    // Days to a civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let name = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][(month - 1) as usize];
    format!("{weekday}, {day:02} {name} {year} {:02}:{:02}:{:02} GMT", secs / 3600, secs / 60 % 60, secs % 60)
}

#[test]
fn http_dates_read_back() {
    assert_eq!(http_date(784_111_777_000), "Sun, 06 Nov 1994 08:49:37 GMT");
    for ms in [0, 951_782_400_000, 1_765_000_000_000, 4_102_444_799_000] {
        assert_eq!(crate::date::parse_http_date(&http_date(ms)), Some(ms), "{}", http_date(ms));
    }
}
