//! A deterministic model of the service on virtual time (ms), with the emulator's rules
//! (CONTRACT.md, FLEET.md): a rolling-window rate limit per key in both readings, ten concurrent
//! jobs, idempotent creates, and job timing drawn per workload item from a seed.
//!
//! Two doors into the same logic: [`Service::handle`] takes a typed [`Req`] (cheap: the peers'
//! loops send millions of requests under the strict reading), and [`Service::handle_http`] takes
//! the core's [`HttpRequest`] and answers an [`HttpResponse`] with the JSON bodies CONTRACT.md
//! gives (what the core's parsers read). The server acts at arrival time; the simulation drivers
//! add the round trip (50 ms: it arrives at +25 ms, the answer at +50 ms).

use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use usvideo_core::{Header, HttpRequest, HttpResponse, Method, Resolution};

/// One request's round trip in ms.
pub const RTT_MS: u64 = 50;
/// The rolling window of the rate limit, in ms.
pub const WINDOW_MS: u64 = 60_000;

/// Which reading of FLEET.md: does a request refused by the rate limiter count against the window?
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reading {
    /// Refused requests cost nothing.
    Lenient,
    /// Refused requests count too.
    Strict,
}

impl Reading {
    /// `lenient` or `strict`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Reading::Lenient => "lenient",
            Reading::Strict => "strict",
        }
    }
}

/// The service's limits and reading.
#[derive(Copy, Clone, Debug)]
pub struct ServiceConfig {
    /// Requests per rolling minute per key.
    pub requests_per_minute: u32,
    /// Jobs pending or processing at once.
    pub concurrent_jobs: u32,
    /// The reading of the rate limit.
    pub reading: Reading,
    /// The account's prepaid balance in cents.
    pub balance_cents: u64,
}

impl ServiceConfig {
    /// The standard tier under `reading`, with a balance that never runs out.
    #[must_use]
    pub fn standard(reading: Reading) -> Self {
        ServiceConfig { requests_per_minute: 60, concurrent_jobs: 10, reading, balance_cents: 1_000_000_000 }
    }
}

/// One workload item: what is asked, and how long the service will take for it.
#[derive(Clone, Debug)]
pub struct Item {
    /// The prompt (unique per item: the service recognises the item by it).
    pub prompt: String,
    /// Resolution.
    pub resolution: Resolution,
    /// Duration in seconds.
    pub duration: u32,
    /// Time spent `pending`, in ms.
    pub pending_ms: u64,
    /// Generation time G, in ms.
    pub gen_ms: u64,
}

impl Item {
    /// `pending + G`: the item's share of the analytic bound.
    #[must_use]
    pub fn total_ms(&self) -> u64 {
        self.pending_ms + self.gen_ms
    }

    /// The price of the item in cents (CONTRACT.md's table, exact).
    #[must_use]
    pub fn cost_cents(&self) -> u64 {
        let per_s = match self.resolution {
            Resolution::P720 => 6,
            Resolution::P1080 => 24,
            Resolution::K2 => 36,
        };
        per_s * u64::from(self.duration)
    }
}

/// SplitMix64 with a normal deviate (Box–Muller): the model's own seeded randomness.
#[derive(Clone, Debug)]
pub struct SimRng(u64);

impl SimRng {
    /// From a seed.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        SimRng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    /// 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    #[allow(clippy::cast_precision_loss)]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in `[lo, hi]` (integers).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
    /// A standard normal deviate.
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(1e-300);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// The standard deviation of the log-normal jitter of G. FLEET.md writes `exp(N(0, 0.25))`;
/// read as N(mean, variance), σ = 0.5 (the reading that reproduces its bound and oracle: see
/// RESULTS.md).
pub const DEFAULT_SIGMA: f64 = 0.5;

/// A workload of `n` jobs of mixed resolution (uniform over 720p, 1080p, 2k) and duration
/// (uniform 1 to 10 s), with pending U(1, 5) s and G = (base + per_s × duration) × exp(N(0, σ²)).
#[must_use]
pub fn workload(n: usize, seed: u64, sigma: f64) -> Vec<Item> {
    let mut rng = SimRng::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D).wrapping_add(n as u64));
    (0..n)
        .map(|i| {
            let resolution = Resolution::ALL[(rng.next_u64() % 3) as usize];
            let duration = u32::try_from(rng.range(1, 10)).unwrap_or(5);
            let (base, per_s) = match resolution {
                Resolution::P720 => (20.0, 6.0),
                Resolution::P1080 => (30.0, 9.0),
                Resolution::K2 => (40.0, 12.0),
            };
            let pending_ms = rng.range(1_000, 5_000);
            let g = (base + per_s * f64::from(duration)) * (sigma * rng.normal()).exp();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let gen_ms = (g * 1000.0).round() as u64;
            Item { prompt: format!("fleet item {i} (seed {seed}): a {resolution} shot of {duration} s"), resolution, duration, pending_ms, gen_ms }
        })
        .collect()
}

/// A job on the server.
#[derive(Clone, Debug)]
pub struct JobRec {
    /// Its number (`job_{n}`), its index in [`Service::jobs`].
    pub n: usize,
    /// The workload item it was made for.
    pub item: usize,
    /// When it was created.
    pub created_at: u64,
    /// When it turns `processing`.
    pub processing_at: u64,
    /// When it turns `completed`.
    pub completed_at: u64,
    /// When it was deleted, if it was.
    pub deleted_at: Option<u64>,
    /// The charge held.
    pub cost_cents: u64,
}

impl JobRec {
    /// Its wire status at `t`.
    #[must_use]
    pub fn status(&self, t: u64) -> &'static str {
        if t < self.processing_at {
            "pending"
        } else if t < self.completed_at {
            "processing"
        } else {
            "completed"
        }
    }
    fn active(&self, t: u64) -> bool {
        self.deleted_at.is_none() && t < self.completed_at
    }
}

/// What a request was, for the records.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `POST /v1/videos`
    Create,
    /// `GET /v1/videos/{id}`
    Get,
    /// `GET /v1/videos`
    List,
    /// `DELETE /v1/videos/{id}`
    Delete,
    /// `GET /v1/account`
    Account,
    /// Anything else.
    Other,
}

/// One request as the server saw it.
#[derive(Copy, Clone, Debug)]
pub struct ReqRecord {
    /// Arrival time.
    pub t: u64,
    /// What it was.
    pub kind: Kind,
    /// The status answered.
    pub status: u16,
    /// Whether it counted against the rate-limit window.
    pub counted: bool,
}

/// A request, typed.
#[derive(Clone, Debug)]
pub enum Req {
    /// Create a job for workload item `item`. `idem` is the Idempotency-Key with the parsed body.
    Create {
        /// The item.
        item: usize,
        /// Idempotency-Key and body, when sent.
        idem: Option<(String, Value)>,
    },
    /// Get job `n`.
    Get(usize),
    /// List.
    List {
        /// Page size (1 to 100).
        limit: usize,
        /// Skipped.
        offset: usize,
    },
    /// Delete job `n`.
    Delete(usize),
    /// The account.
    Account,
}

/// An answer, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resp {
    /// 201 with job `n` (`replayed` for an idempotent replay).
    Created {
        /// The job.
        n: usize,
        /// Idempotent replay.
        replayed: bool,
    },
    /// 200 with job `n` as it is now.
    Job(usize),
    /// 200 with these jobs (most recent first), the page's limit and offset, and the total.
    Page {
        /// Job numbers.
        jobs: Vec<usize>,
        /// Echoed limit.
        limit: usize,
        /// Echoed offset.
        offset: usize,
        /// All jobs on the account.
        total: usize,
    },
    /// 200 deleted, with the refund.
    Deleted {
        /// The job.
        n: usize,
        /// Cents refunded.
        refunded_cents: u64,
    },
    /// 200 account.
    Account,
    /// 429 `rate_limited`.
    RateLimited {
        /// Seconds.
        retry_after_s: u64,
    },
    /// 429 `concurrency_limit`.
    ConcurrencyLimited {
        /// Seconds.
        retry_after_s: u64,
    },
    /// 402.
    InsufficientBalance,
    /// 404.
    NotFound,
    /// 409 (delete of a processing job, or an idempotency conflict).
    Conflict(&'static str),
    /// 400.
    BadRequest(String),
}

impl Resp {
    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Resp::Created { .. } => 201,
            Resp::Job(_) | Resp::Page { .. } | Resp::Deleted { .. } | Resp::Account => 200,
            Resp::RateLimited { .. } | Resp::ConcurrencyLimited { .. } => 429,
            Resp::InsufficientBalance => 402,
            Resp::NotFound => 404,
            Resp::Conflict(_) => 409,
            Resp::BadRequest(_) => 400,
        }
    }
}

/// The model of the service.
#[derive(Clone, Debug)]
pub struct Service {
    /// Limits and reading.
    pub config: ServiceConfig,
    /// The workload the service recognises (by prompt), with each item's timing.
    pub items: Vec<Item>,
    by_prompt: HashMap<String, usize>,
    /// Every job ever created, by number.
    pub jobs: Vec<JobRec>,
    /// Jobs created per item (more than one is a double submit).
    pub creates_per_item: Vec<u32>,
    idem: HashMap<String, (Value, usize)>,
    window: VecDeque<u64>,
    active: Vec<usize>,
    /// Every request, in arrival order.
    pub log: Vec<ReqRecord>,
    /// Prepaid balance left.
    pub balance_cents: u64,
    /// Held and settled charges net of refunds.
    pub spent_cents: u64,
    /// Hook: creates for these items have their answer lost after the job is stored (once each).
    pub drop_create_answer_for: Vec<usize>,
    /// Keep the request log (off for the peers' long strict runs, which only need counts).
    pub keep_log: bool,
    /// Counts, kept even without the log.
    pub counts: Counts,
}

/// Request counts.
#[derive(Copy, Clone, Debug, Default)]
pub struct Counts {
    /// Every request.
    pub requests: u64,
    /// Those that counted against the window.
    pub counted: u64,
    /// 429 `rate_limited`.
    pub rate_limited: u64,
    /// 429 `concurrency_limit`.
    pub concurrency_limited: u64,
}

impl Counts {
    /// Every 429.
    #[must_use]
    pub fn too_many(&self) -> u64 {
        self.rate_limited + self.concurrency_limited
    }
}

/// The outcome of an HTTP request: the answer, or its loss after the server acted (a hook).
#[derive(Clone, Debug)]
pub enum HttpOutcome {
    /// The answer arrives.
    Answer(HttpResponse),
    /// The connection drops after the server acted: the client sees a timeout.
    Dropped,
}

impl Service {
    /// A service for `items` under `config`.
    #[must_use]
    pub fn new(config: ServiceConfig, items: Vec<Item>) -> Self {
        let by_prompt = items.iter().enumerate().map(|(i, it)| (it.prompt.clone(), i)).collect();
        let n = items.len();
        Service {
            balance_cents: config.balance_cents,
            config,
            items,
            by_prompt,
            jobs: Vec::new(),
            creates_per_item: vec![0; n],
            idem: HashMap::new(),
            window: VecDeque::new(),
            active: Vec::new(),
            log: Vec::new(),
            spent_cents: 0,
            drop_create_answer_for: Vec::new(),
            keep_log: true,
            counts: Counts::default(),
        }
    }

    /// Jobs pending or processing at `t`.
    pub fn active_at(&mut self, t: u64) -> usize {
        let jobs = &self.jobs;
        self.active.retain(|&n| jobs[n].active(t));
        self.active.len()
    }

    fn record(&mut self, t: u64, kind: Kind, resp: &Resp, counted: bool) {
        self.counts.requests += 1;
        if counted {
            self.counts.counted += 1;
        }
        match resp {
            Resp::RateLimited { .. } => self.counts.rate_limited += 1,
            Resp::ConcurrencyLimited { .. } => self.counts.concurrency_limited += 1,
            _ => {}
        }
        if self.keep_log {
            self.log.push(ReqRecord { t, kind, status: resp.status(), counted });
        }
    }

    /// The rate limiter: `Ok(())` if the request at `t` is let through, else the seconds to wait.
    fn admit(&mut self, t: u64) -> Result<(), u64> {
        while self.window.front().is_some_and(|&e| t.saturating_sub(e) >= WINDOW_MS) {
            self.window.pop_front();
        }
        let limit = self.config.requests_per_minute as usize;
        if self.window.len() < limit {
            self.window.push_back(t);
            return Ok(());
        }
        if self.config.reading == Reading::Strict {
            self.window.push_back(t);
        }
        // A slot frees when the entry at len − limit leaves the window.
        let idx = self.window.len() - limit;
        let frees_at = self.window[idx] + WINDOW_MS;
        Err(frees_at.saturating_sub(t).div_ceil(1000).max(1))
    }

    /// Answers a typed request arriving at `t`.
    pub fn handle(&mut self, req: Req, t: u64) -> Resp {
        let kind = match &req {
            Req::Create { .. } => Kind::Create,
            Req::Get(_) => Kind::Get,
            Req::List { .. } => Kind::List,
            Req::Delete(_) => Kind::Delete,
            Req::Account => Kind::Account,
        };
        let resp = match self.admit(t) {
            Err(retry_after_s) => {
                let r = Resp::RateLimited { retry_after_s };
                let counted = self.config.reading == Reading::Strict;
                self.record(t, kind, &r, counted);
                return r;
            }
            Ok(()) => self.act(req, t),
        };
        self.record(t, kind, &resp, true);
        resp
    }

    fn act(&mut self, req: Req, t: u64) -> Resp {
        match req {
            Req::Create { item, idem } => self.create(item, idem, t),
            Req::Get(n) => match self.jobs.get(n) {
                Some(j) if j.deleted_at.is_none() => Resp::Job(n),
                _ => Resp::NotFound,
            },
            Req::List { limit, offset } => {
                if !(1..=100).contains(&limit) {
                    return Resp::BadRequest("limit must be 1 to 100".into());
                }
                let live = self.jobs.iter().rev().filter(|j| j.deleted_at.is_none());
                let jobs: Vec<usize> = live.clone().skip(offset).take(limit).map(|j| j.n).collect();
                let total = live.count();
                Resp::Page { jobs, limit, offset, total }
            }
            Req::Delete(n) => {
                let Some(j) = self.jobs.get_mut(n).filter(|j| j.deleted_at.is_none()) else { return Resp::NotFound };
                match j.status(t) {
                    "processing" => Resp::Conflict("job_processing"),
                    "pending" => {
                        j.deleted_at = Some(t);
                        let refund = j.cost_cents;
                        self.balance_cents += refund;
                        self.spent_cents -= refund;
                        Resp::Deleted { n, refunded_cents: refund }
                    }
                    _ => {
                        j.deleted_at = Some(t);
                        Resp::Deleted { n, refunded_cents: 0 }
                    }
                }
            }
            Req::Account => Resp::Account,
        }
    }

    fn create(&mut self, item: usize, idem: Option<(String, Value)>, t: u64) -> Resp {
        let Some(it) = self.items.get(item) else { return Resp::BadRequest("unknown prompt".into()) };
        let (cost, pending_ms, gen_ms) = (it.cost_cents(), it.pending_ms, it.gen_ms);
        if let Some((key, body)) = &idem
            && let Some((first, n)) = self.idem.get(key)
        {
            return if first == body { Resp::Created { n: *n, replayed: true } } else { Resp::Conflict("idempotency_conflict") };
        }
        if cost > self.balance_cents {
            return Resp::InsufficientBalance;
        }
        if self.active_at(t) >= self.config.concurrent_jobs as usize {
            let next_free = self.active.iter().map(|&n| self.jobs[n].completed_at).min().unwrap_or(t);
            return Resp::ConcurrencyLimited { retry_after_s: next_free.saturating_sub(t).div_ceil(1000).max(1) };
        }
        let n = self.jobs.len();
        let processing_at = t + pending_ms;
        self.jobs.push(JobRec { n, item, created_at: t, processing_at, completed_at: processing_at + gen_ms, deleted_at: None, cost_cents: cost });
        self.active.push(n);
        self.creates_per_item[item] += 1;
        self.balance_cents -= cost;
        self.spent_cents += cost;
        if let Some((key, body)) = idem {
            self.idem.insert(key, (body, n));
        }
        Resp::Created { n, replayed: false }
    }

    // ---- HTTP -------------------------------------------------------------------------------

    /// Answers one of the core's requests arriving at `t`.
    pub fn handle_http(&mut self, req: &HttpRequest, t: u64) -> HttpOutcome {
        let parsed = self.parse(req);
        let (req, drop_item) = match parsed {
            Ok(r) => {
                let d = match &r {
                    Req::Create { item, .. } => self.drop_create_answer_for.iter().position(|i| i == item),
                    _ => None,
                };
                (r, d)
            }
            Err(resp) => {
                // Refused before the limiter could tell (a bad request still counts).
                let status = resp.status;
                let counted = self.admit(t).is_ok() || self.config.reading == Reading::Strict;
                self.counts.requests += 1;
                if self.keep_log {
                    self.log.push(ReqRecord { t, kind: Kind::Other, status, counted });
                }
                return HttpOutcome::Answer(resp);
            }
        };
        let resp = self.handle(req, t);
        if let (Some(pos), Resp::Created { replayed: false, .. }) = (drop_item, &resp) {
            self.drop_create_answer_for.remove(pos);
            return HttpOutcome::Dropped;
        }
        HttpOutcome::Answer(self.to_http(&resp, t))
    }

    fn parse(&self, req: &HttpRequest) -> Result<Req, HttpResponse> {
        let auth = req.header("authorization").unwrap_or("");
        if !auth.starts_with("Bearer sd_") {
            return Err(error(401, "unauthorized", "missing or unknown API key"));
        }
        let path_q = req.url.split_once("/v1/").map_or("", |(_, p)| p);
        let (path, query) = path_q.split_once('?').unwrap_or((path_q, ""));
        let segs: Vec<&str> = path.split('/').collect();
        match (req.method, segs.as_slice()) {
            (Method::Post, ["videos"]) => {
                let body: Value = serde_json::from_slice(req.body.as_deref().unwrap_or(b"")).map_err(|_| error(400, "invalid_request", "body is not JSON"))?;
                let prompt = body.get("prompt").and_then(Value::as_str).unwrap_or("");
                let item = *self.by_prompt.get(prompt).ok_or_else(|| error(400, "invalid_request", "unknown prompt (the model serves its workload only)"))?;
                let idem = req.header("idempotency-key").map(|k| (k.to_owned(), body.clone()));
                Ok(Req::Create { item, idem })
            }
            (Method::Get, ["videos"]) => {
                let (mut limit, mut offset) = (20usize, 0usize);
                for kv in query.split('&').filter(|s| !s.is_empty()) {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    let v: usize = v.parse().map_err(|_| error(400, "invalid_request", "limit and offset are integers"))?;
                    match k {
                        "limit" => limit = v,
                        "offset" => offset = v,
                        _ => return Err(error(400, "invalid_request", "unknown query parameter")),
                    }
                }
                Ok(Req::List { limit, offset })
            }
            (Method::Get | Method::Delete, ["videos", id]) => {
                let n = id.strip_prefix("job_").and_then(|s| s.parse::<usize>().ok()).unwrap_or(usize::MAX);
                Ok(if req.method == Method::Get { Req::Get(n) } else { Req::Delete(n) })
            }
            (Method::Get, ["account"]) => Ok(Req::Account),
            _ => Err(error(404, "not_found", "no such path")),
        }
    }

    /// A job as JSON at `t`.
    #[must_use]
    pub fn job_json(&self, n: usize, t: u64) -> Value {
        let j = &self.jobs[n];
        let it = &self.items[j.item];
        let status = j.status(t);
        let progress = match status {
            "pending" => 0,
            "processing" => ((t - j.processing_at) * 100 / (j.completed_at - j.processing_at).max(1)).min(99),
            _ => 100,
        };
        let mut v = json!({
            "id": format!("job_{n}"),
            "status": status,
            "prompt": it.prompt,
            "mode": "text_to_video",
            "resolution": it.resolution.as_str(),
            "duration": it.duration,
            "estimated_cost_cents": j.cost_cents,
            "created_at": rfc3339(j.created_at),
            "progress": progress,
        });
        if status == "completed" {
            v["video_url"] = json!(format!("https://sim.invalid/videos/job_{n}.mp4"));
            v["cost_cents"] = json!(j.cost_cents);
        }
        v
    }

    /// The HTTP form of an answer at `t`.
    #[must_use]
    pub fn to_http(&self, resp: &Resp, t: u64) -> HttpResponse {
        let mut r = match resp {
            Resp::Created { n, replayed } => {
                let mut r = HttpResponse::json(201, &self.job_json(*n, t));
                if *replayed {
                    r.headers.push(Header::new("Idempotent-Replayed", "true"));
                }
                r
            }
            Resp::Job(n) => HttpResponse::json(200, &self.job_json(*n, t)),
            Resp::Page { jobs, limit, offset, total } => {
                let data: Vec<Value> = jobs.iter().map(|&n| self.job_json(n, t)).collect();
                HttpResponse::json(200, &json!({"data": data, "limit": limit, "offset": offset, "total": total, "has_more": offset + jobs.len() < *total}))
            }
            Resp::Deleted { n, refunded_cents } => HttpResponse::json(200, &json!({"id": format!("job_{n}"), "deleted": true, "refunded_cents": refunded_cents})),
            Resp::Account => HttpResponse::json(
                200,
                &json!({"email": "fleet@sim.invalid", "balance_cents": self.balance_cents, "total_jobs": self.jobs.len(), "total_spent_cents": self.spent_cents, "plan": "standard"}),
            ),
            Resp::RateLimited { retry_after_s } => with_retry_after(error(429, "rate_limited", "60 requests per minute per key exceeded"), *retry_after_s),
            Resp::ConcurrencyLimited { retry_after_s } => with_retry_after(error(429, "concurrency_limit", "10 jobs already pending or processing"), *retry_after_s),
            Resp::InsufficientBalance => error(402, "insufficient_balance", "not enough balance"),
            Resp::NotFound => error(404, "not_found", "no such job"),
            Resp::Conflict(code) => error(409, code, "conflict"),
            Resp::BadRequest(m) => error(400, "invalid_request", m),
        };
        r.headers.push(Header::new("X-Request-Id", format!("req_{}", self.counts.requests)));
        r
    }
}

fn error(status: u16, code: &str, message: &str) -> HttpResponse {
    HttpResponse::json(status, &json!({"error": {"code": code, "message": message}}))
}

fn with_retry_after(mut r: HttpResponse, secs: u64) -> HttpResponse {
    r.headers.push(Header::new("Retry-After", secs.to_string()));
    r
}

/// Virtual ms as an RFC 3339 instant (virtual time 0 is 2026-01-01T00:00:00Z).
#[must_use]
pub fn rfc3339(ms: u64) -> String {
    const EPOCH_DAYS: u64 = 20_454; // 2026-01-01
    let secs = ms / 1000;
    let days = EPOCH_DAYS + secs / 86_400;
    let rem = secs % 86_400;
    // civil_from_days (H. Hinnant), for days ≥ 0.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem / 60 % 60, rem % 60, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "2026-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(86_400_000 * 59 + 1_500), "2026-03-01T00:00:01.500Z");
    }

    #[test]
    fn window_both_readings() {
        for reading in [Reading::Lenient, Reading::Strict] {
            let mut s = Service::new(ServiceConfig::standard(reading), workload(1, 1, DEFAULT_SIGMA));
            for i in 0..60 {
                assert_eq!(s.handle(Req::Account, i * 10), Resp::Account);
            }
            // Lenient: the request at 0 frees a slot at 60 s. Strict: this refusal counts too,
            // so the slot frees when the one at 10 ms leaves (59.01 s, rounded up).
            let wait = if reading == Reading::Lenient { 59 } else { 60 };
            assert_eq!(s.handle(Req::Account, 1_000), Resp::RateLimited { retry_after_s: wait });
            // The first slot frees at 60 s.
            let r = s.handle(Req::Account, 60_000);
            match reading {
                Reading::Lenient => assert_eq!(r, Resp::Account),
                // The refused one at 1 s still counts: 60 in the window.
                Reading::Strict => assert_eq!(r, Resp::RateLimited { retry_after_s: 1 }),
            }
        }
    }
}
