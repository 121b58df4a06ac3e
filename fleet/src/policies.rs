//! The clients compared, each driving the [`Service`] model on the same virtual clock:
//! ours (the core's [`Batch`] through a simulated driver), the peers' naive submit-then-poll
//! loops, and the FIFO oracle.

use crate::service::{HttpOutcome, Item, Req, Resp, Service, ServiceConfig, SimRng, RTT_MS, Reading};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use usvideo_core::{ApiKey, Batch, BatchOptions, ClientConfig, CreateVideoRequest, Endpoint, Event, Millis, Output, RequestId, TransportKind};

/// What one run of one policy measured.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// The policy's name.
    pub policy: String,
    /// Whether every job was known finished before the cap.
    pub finished: bool,
    /// When the client knew the last job finished (or the cap).
    pub makespan_ms: u64,
    /// Σ (pending + G) of the workload.
    pub work_ms: u64,
    /// Jobs in the workload.
    pub jobs: usize,
    /// Every request the server saw.
    pub requests: u64,
    /// Those that counted against the rate-limit window.
    pub counted: u64,
    /// 429s of either kind.
    pub too_many: u64,
    /// Items for which the server created more than one job.
    pub double_submits: usize,
    /// Items the client knew completed.
    pub completed: usize,
    /// Per completed item: the client knew − the job completed, in ms.
    pub lags_ms: Vec<u64>,
    /// The model at the end (its log and jobs feed the plot).
    pub service: Service,
}

impl RunResult {
    /// max(Σ(pending + G) / concurrency, counted requests / rate), in ms.
    #[must_use]
    pub fn bound_ms(&self) -> u64 {
        let c = u64::from(self.service.config.concurrent_jobs);
        let per_request_ms = 60_000 / u64::from(self.service.config.requests_per_minute.max(1));
        (self.work_ms / c).max(self.counted * per_request_ms)
    }

    /// The `p`-quantile (0–1) of the detection lag, in ms (nearest rank).
    #[must_use]
    pub fn lag_quantile_ms(&self, p: f64) -> u64 {
        quantile(&self.lags_ms, p)
    }
}

/// Nearest-rank quantile.
#[must_use]
pub fn quantile(values: &[u64], p: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn finish(policy: &str, service: Service, known: &[Option<u64>], job_of: &[Option<usize>], end_ms: u64, finished: bool) -> RunResult {
    let work_ms = service.items.iter().map(Item::total_ms).sum();
    let mut lags = Vec::new();
    for (i, k) in known.iter().enumerate() {
        if let (Some(k), Some(n)) = (k, job_of[i]) {
            lags.push(k.saturating_sub(service.jobs[n].completed_at));
        }
    }
    let makespan_ms = if finished { known.iter().flatten().copied().max().unwrap_or(0) } else { end_ms };
    RunResult {
        policy: policy.to_owned(),
        finished,
        makespan_ms,
        work_ms,
        jobs: service.items.len(),
        requests: service.counts.requests,
        counted: service.counts.counted,
        too_many: service.counts.too_many(),
        double_submits: service.creates_per_item.iter().filter(|&&c| c > 1).count(),
        completed: known.iter().flatten().count(),
        lags_ms: lags,
        service,
    }
}

/// The virtual cap: a run not done by `CAP_FACTOR` × Σ(pending + G)/concurrency never finishes.
pub const CAP_FACTOR: u64 = 20;

fn cap_ms(items: &[Item], config: &ServiceConfig) -> u64 {
    items.iter().map(Item::total_ms).sum::<u64>() / u64::from(config.concurrent_jobs) * CAP_FACTOR
}

// ---- ours ------------------------------------------------------------------------------------

/// The core's requests for a workload (text to video, each item's resolution and duration).
#[must_use]
pub fn requests_for(items: &[Item]) -> Vec<CreateVideoRequest> {
    items
        .iter()
        .map(|it| CreateVideoRequest { resolution: Some(it.resolution), duration: Some(it.duration), ..CreateVideoRequest::text(it.prompt.clone()) })
        .collect()
}

/// The simulated base URL and key.
#[must_use]
pub fn sim_client() -> (ClientConfig, ApiKey) {
    let config = ClientConfig::new("https://sim.invalid/v1").unwrap_or_default();
    let key = ApiKey::new("sd_fleet_simulation_key").unwrap_or_else(|_| unreachable!("a valid key"));
    (config, key)
}

/// A request on its way back to the batch.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The batch's id for it.
    pub id: RequestId,
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// The answer, or its loss.
    pub outcome: HttpOutcome,
}

/// The core's [`Batch`] driven against the model: every `Send` is answered after the round
/// trip (several may be in flight), `WaitUntil` becomes a `handle_timeout` at that instant.
pub struct OursSim {
    /// The model.
    pub service: Service,
    /// The batch.
    pub batch: Batch,
    /// Virtual now, ms.
    pub now: u64,
    wake: Option<u64>,
    deliveries: BTreeMap<(u64, u64), Delivery>,
    seq: u64,
    /// Per item: when the batch reported it done.
    pub known: Vec<Option<u64>>,
    /// Per item: the job (number) the batch reported.
    pub job_of: Vec<Option<usize>>,
    /// Per item: whether it completed (not failed or cancelled).
    pub completed: Vec<bool>,
    /// Every event, with its time (when `keep_events`).
    pub events: Vec<(u64, Event)>,
    /// Keep events (tests).
    pub keep_events: bool,
    /// The batch returned `Done`.
    pub done: bool,
    /// Steps taken.
    pub steps: u64,
}

/// Entropy for a batch from a seed (16 bytes).
#[must_use]
pub fn entropy(seed: u64) -> Vec<u8> {
    let mut r = SimRng::new(seed ^ 0xB47C_4E55);
    (0..2).flat_map(|_| r.next_u64().to_le_bytes()).collect()
}

impl OursSim {
    /// A batch of `items` against a fresh model.
    ///
    /// # Panics
    /// If the core refuses the workload (it is valid by construction).
    #[must_use]
    pub fn new(items: Vec<Item>, reading: Reading, options: BatchOptions, seed: u64) -> Self {
        let (config, key) = sim_client();
        let n = items.len();
        let batch = Batch::new(&config, Some(&key), requests_for(&items), &entropy(seed), options, Millis(0)).expect("a valid workload");
        let service = Service::new(ServiceConfig::standard(reading), items);
        let mut sim = OursSim {
            service,
            batch,
            now: 0,
            wake: None,
            deliveries: BTreeMap::new(),
            seq: 0,
            known: vec![None; n],
            job_of: vec![None; n],
            completed: vec![false; n],
            events: Vec::new(),
            keep_events: false,
            done: false,
            steps: 0,
        };
        sim.drain();
        sim
    }

    /// Replaces the batch (a resumed one in a "new process"): answers still on their way to the
    /// old one are lost.
    pub fn replace_batch(&mut self, batch: Batch) {
        self.batch = batch;
        self.deliveries.clear();
        self.wake = None;
        self.done = false;
        self.drain();
    }

    /// Requests in flight: (endpoint, id).
    #[must_use]
    pub fn in_flight(&self) -> Vec<(Endpoint, RequestId)> {
        self.deliveries.values().map(|d| (d.endpoint, d.id)).collect()
    }

    /// Lets the batch work until it waits.
    pub fn drain(&mut self) {
        loop {
            match self.batch.poll(Millis(self.now)) {
                Output::Send { id, endpoint, request, .. } => {
                    let outcome = self.service.handle_http(&request, self.now + RTT_MS / 2);
                    self.seq += 1;
                    self.deliveries.insert((self.now + RTT_MS, self.seq), Delivery { id, endpoint, outcome });
                }
                Output::Event(e) => {
                    if let Event::ItemDone(r) = &e {
                        let i = r.index as usize;
                        self.known[i] = Some(self.now);
                        self.job_of[i] = r.job.as_ref().and_then(|j| j.id.strip_prefix("job_")).and_then(|s| s.parse().ok());
                        self.completed[i] = r.error.is_none();
                    }
                    if self.keep_events {
                        self.events.push((self.now, e));
                    }
                }
                Output::WaitUntil(t) => {
                    self.wake = Some(t.0);
                    return;
                }
                Output::Pending => {
                    self.wake = None;
                    return;
                }
                Output::Done => {
                    self.done = true;
                    return;
                }
                _ => return,
            }
        }
    }

    /// One input to the batch (the next answer or wake-up). `false` when done or stuck.
    pub fn step(&mut self) -> bool {
        if self.done {
            return false;
        }
        self.steps += 1;
        let next = self.deliveries.keys().next().copied();
        let t = match (next.map(|k| k.0), self.wake) {
            (Some(d), Some(w)) => d.min(w),
            (Some(d), None) => d,
            (None, Some(w)) => w,
            (None, None) => return false,
        };
        self.now = self.now.max(t);
        match next {
            Some(k) if k.0 <= t => {
                let d = self.deliveries.remove(&k).unwrap_or_else(|| unreachable!());
                match d.outcome {
                    HttpOutcome::Answer(resp) => self.batch.handle_response(d.id, resp, Millis(self.now)),
                    HttpOutcome::Dropped => self.batch.handle_transport_error(d.id, TransportKind::Other, "connection reset after the request was sent", Millis(self.now)),
                }
            }
            _ => {
                self.wake = None;
                self.batch.handle_timeout(Millis(self.now));
            }
        }
        self.drain();
        true
    }

    /// Runs until done, stuck, or past `cap_ms`.
    pub fn run(&mut self, cap_ms: u64) {
        while self.now <= cap_ms && self.step() {}
    }

    /// The measurements.
    #[must_use]
    pub fn result(self, policy: &str) -> RunResult {
        let known: Vec<Option<u64>> = self.known.iter().zip(&self.completed).map(|(k, c)| k.filter(|_| *c)).collect();
        let finished = self.done && known.iter().all(Option::is_some);
        finish(policy, self.service, &known, &self.job_of, self.now, finished)
    }
}

/// Our batch with `options` on `items`.
#[must_use]
pub fn run_ours(name: &str, items: &[Item], reading: Reading, options: &BatchOptions, seed: u64) -> RunResult {
    let cap = cap_ms(items, &ServiceConfig::standard(reading));
    let mut sim = OursSim::new(items.to_vec(), reading, options.clone(), seed);
    sim.run(cap);
    sim.result(name)
}

// ---- the peers -------------------------------------------------------------------------------

/// What a peer does on a 429.
#[derive(Copy, Clone, Debug)]
pub enum On429 {
    /// Nothing special: the next request goes at the loop's usual cadence.
    NextTick,
    /// Exponential backoff from `base_ms`, doubling, capped, without reading `Retry-After`;
    /// reset by a success.
    Backoff {
        /// First wait.
        base_ms: u64,
        /// Longest wait.
        cap_ms: u64,
    },
    /// Waits `Retry-After`.
    RetryAfter,
}

/// A peer's loop.
#[derive(Clone, Debug)]
pub struct PeerSpec {
    /// Its name in the table.
    pub name: &'static str,
    /// Gap between polls (after each answer), ms.
    pub poll_ms: u64,
    /// ± uniform jitter on the gap, ms.
    pub jitter_ms: u64,
    /// On a 429.
    pub on_429: On429,
    /// `Some(n)`: n workers, each submitting then polling one job at a time. `None`: a submitter
    /// that submits until refused (and backs off) plus one polling loop per job.
    pub workers: Option<usize>,
    /// Whether a success resets the backoff (else it keeps growing over the loop's life).
    pub reset_on_success: bool,
}

/// The peers' default loops (FLEET.md).
#[must_use]
pub fn peers() -> Vec<PeerSpec> {
    vec![
        PeerSpec { name: "Replicate-style (0.5 s polls, 429 retried at once)", poll_ms: 500, jitter_ms: 0, on_429: On429::NextTick, workers: None, reset_on_success: true },
        PeerSpec { name: "fal-style (0.5 s polls, backoff, no Retry-After)", poll_ms: 500, jitter_ms: 0, on_429: On429::Backoff { base_ms: 500, cap_ms: 8_000 }, workers: None, reset_on_success: true },
        PeerSpec { name: "OpenAI-style (1 s polls, Retry-After honoured)", poll_ms: 1_000, jitter_ms: 0, on_429: On429::RetryAfter, workers: None, reset_on_success: true },
        PeerSpec { name: "Runway-style (6 ± 1.5 s polls)", poll_ms: 6_000, jitter_ms: 1_500, on_429: On429::NextTick, workers: None, reset_on_success: true },
        PeerSpec { name: "polite loop (10 workers, 5 s polls, Retry-After)", poll_ms: 5_000, jitter_ms: 0, on_429: On429::RetryAfter, workers: Some(10), reset_on_success: true },
    ]
}

#[derive(Clone, Debug)]
enum Actor {
    Submitter { cursor: usize, failures: u32 },
    Poller { item: usize, n: usize, failures: u32 },
    Worker { job: Option<(usize, Option<usize>)>, failures: u32 },
}

/// A peer's loops on `items`.
#[must_use]
pub fn run_peer(spec: &PeerSpec, items: &[Item], reading: Reading, seed: u64, keep_log: bool) -> RunResult {
    let config = ServiceConfig::standard(reading);
    let cap = cap_ms(items, &config);
    let mut service = Service::new(config, items.to_vec());
    service.keep_log = keep_log;
    let n_items = items.len();
    let mut rng = SimRng::new(seed ^ 0x9EE5);
    let mut known: Vec<Option<u64>> = vec![None; n_items];
    let mut job_of: Vec<Option<usize>> = vec![None; n_items];
    let mut actors: Vec<Actor> = Vec::new();
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let mut next_item = 0usize;
    match spec.workers {
        Some(w) => {
            for _ in 0..w {
                actors.push(Actor::Worker { job: None, failures: 0 });
                heap.push(Reverse((0, actors.len() - 1)));
            }
        }
        None => {
            actors.push(Actor::Submitter { cursor: 0, failures: 0 });
            heap.push(Reverse((0, 0)));
        }
    }
    let mut remaining = n_items;
    let mut end = 0;
    let mut gap = |rng: &mut SimRng| if spec.jitter_ms == 0 { spec.poll_ms } else { spec.poll_ms - spec.jitter_ms + rng.range(0, 2 * spec.jitter_ms) };
    let wait_429 = |resp: &Resp, failures: &mut u32, rng: &mut SimRng, gap: &mut dyn FnMut(&mut SimRng) -> u64| -> u64 {
        let retry_after = match resp {
            Resp::RateLimited { retry_after_s } | Resp::ConcurrencyLimited { retry_after_s } => retry_after_s * 1000,
            _ => 0,
        };
        *failures += 1;
        match spec.on_429 {
            On429::NextTick => gap(rng),
            On429::Backoff { base_ms, cap_ms } => base_ms.saturating_mul(1u64 << (*failures - 1).min(30)).min(cap_ms),
            On429::RetryAfter => retry_after,
        }
    };
    while let Some(Reverse((t, a))) = heap.pop() {
        if t > cap {
            end = cap;
            break;
        }
        end = t;
        let at = t + RTT_MS / 2;
        let back = t + RTT_MS;
        let mut spawn: Option<Actor> = None;
        let next: Option<u64> = match &mut actors[a] {
            Actor::Submitter { cursor, failures } => {
                if *cursor >= n_items {
                    None
                } else {
                    match service.handle(Req::Create { item: *cursor, idem: None }, at) {
                        Resp::Created { n, .. } => {
                            if spec.reset_on_success {
 *failures = 0;
 }
                            job_of[*cursor] = Some(n);
                            spawn = Some(Actor::Poller { item: *cursor, n, failures: 0 });
                            *cursor += 1;
                            Some(back)
                        }
                        r @ (Resp::RateLimited { .. } | Resp::ConcurrencyLimited { .. }) => Some(back + wait_429(&r, failures, &mut rng, &mut gap)),
                        other => unreachable!("create answered {other:?}"),
                    }
                }
            }
            Actor::Poller { item, n, failures } => match service.handle(Req::Get(*n), at) {
                Resp::Job(_) if service.jobs[*n].status(at) == "completed" => {
                    known[*item] = Some(back);
                    remaining -= 1;
                    None
                }
                Resp::Job(_) => {
                    if spec.reset_on_success {
 *failures = 0;
 }
                    Some(back + gap(&mut rng))
                }
                r => Some(back + wait_429(&r, failures, &mut rng, &mut gap)),
            },
            Actor::Worker { job, failures } => match *job {
                None if next_item >= n_items => None,
                None => {
                    *job = Some((next_item, None));
                    next_item += 1;
                    Some(t)
                }
                Some((item, None)) => match service.handle(Req::Create { item, idem: None }, at) {
                    Resp::Created { n, .. } => {
                        if spec.reset_on_success {
 *failures = 0;
 }
                        job_of[item] = Some(n);
                        *job = Some((item, Some(n)));
                        Some(back + gap(&mut rng))
                    }
                    r => Some(back + wait_429(&r, failures, &mut rng, &mut gap)),
                },
                Some((item, Some(n))) => match service.handle(Req::Get(n), at) {
                    Resp::Job(_) if service.jobs[n].status(at) == "completed" => {
                        known[item] = Some(back);
                        remaining -= 1;
                        *job = None;
                        if spec.reset_on_success {
 *failures = 0;
 }
                        Some(back)
                    }
                    Resp::Job(_) => {
                        if spec.reset_on_success {
 *failures = 0;
 }
                        Some(back + gap(&mut rng))
                    }
                    r => Some(back + wait_429(&r, failures, &mut rng, &mut gap)),
                },
            },
        };
        if let Some(when) = next {
            heap.push(Reverse((when, a)));
        }
        if let Some(p) = spawn {
            actors.push(p);
            heap.push(Reverse((back + gap(&mut rng), actors.len() - 1)));
        }
        if remaining == 0 {
            break;
        }
    }
    let finished = remaining == 0;
    finish(spec.name, service, &known, &job_of, end, finished)
}

// ---- the FIFO oracle ---------------------------------------------------------------------------

/// The FIFO oracle: knows each job's completion, sends one create and one poll per job (the poll
/// arrives exactly at completion), keeps `concurrent_jobs` in flight, in input order.
#[must_use]
pub fn run_oracle(items: &[Item], reading: Reading) -> RunResult {
    let config = ServiceConfig::standard(reading);
    let mut service = Service::new(config, items.to_vec());
    let n_items = items.len();
    let mut known = vec![None; n_items];
    let mut job_of = vec![None; n_items];
    // (send time, 0 = create / 1 = poll, item or job)
    let mut heap: BinaryHeap<Reverse<(u64, u8, usize)>> = BinaryHeap::new();
    let first = n_items.min(config.concurrent_jobs as usize);
    for i in 0..first {
        heap.push(Reverse((0, 0, i)));
    }
    let mut cursor = first;
    let half = RTT_MS / 2;
    while let Some(Reverse((t, what, x))) = heap.pop() {
        let at = t + half;
        if what == 0 {
            match service.handle(Req::Create { item: x, idem: None }, at) {
                Resp::Created { n, .. } => {
                    job_of[x] = Some(n);
                    let poll_at = service.jobs[n].completed_at.saturating_sub(half).max(t + RTT_MS);
                    heap.push(Reverse((poll_at, 1, n)));
                }
                Resp::RateLimited { retry_after_s } | Resp::ConcurrencyLimited { retry_after_s } => heap.push(Reverse((t + RTT_MS + retry_after_s * 1000, 0, x))),
                other => unreachable!("oracle create answered {other:?}"),
            }
        } else {
            let item = service.jobs[x].item;
            match service.handle(Req::Get(x), at) {
                Resp::Job(_) if service.jobs[x].status(at) == "completed" => {
                    known[item] = Some(t + RTT_MS);
                    if cursor < n_items {
                        heap.push(Reverse((t + RTT_MS, 0, cursor)));
                        cursor += 1;
                    }
                }
                _ => heap.push(Reverse((t + 1_000, 1, x))),
            }
        }
    }
    let end = known.iter().flatten().copied().max().unwrap_or(0);
    finish("FIFO oracle", service, &known, &job_of, end, true)
}

/// Points of one plotted line: (minutes, value).
pub type Series = Vec<(f64, f64)>;

/// Requests per minute bins and jobs in flight over time, from a run's log (for the plot).
#[must_use]
pub fn series(service: &Service, end_ms: u64, step_ms: u64) -> (Series, Series) {
    let mut in_flight = Vec::new();
    let mut t = 0;
    while t <= end_ms {
        let n = service.jobs.iter().filter(|j| j.created_at <= t && t < j.completed_at && j.deleted_at.is_none_or(|d| d > t)).count();
        #[allow(clippy::cast_precision_loss)]
        in_flight.push((t as f64 / 1000.0, n as f64));
        t += step_ms;
    }
    let minutes = end_ms / 60_000 + 1;
    let mut per_min = vec![0u64; usize::try_from(minutes).unwrap_or(0) + 1];
    for r in &service.log {
        if let Some(b) = per_min.get_mut(usize::try_from(r.t / 60_000).unwrap_or(usize::MAX)) {
            *b += 1;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let rpm = per_min.iter().enumerate().take(usize::try_from(minutes).unwrap_or(0)).flat_map(|(m, &c)| [((m * 60) as f64, c as f64), (((m + 1) * 60) as f64, c as f64)]).collect();
    (in_flight, rpm)
}


