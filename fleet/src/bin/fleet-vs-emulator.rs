//! The model against the emulator: the same workloads (100 and 1000 jobs, both readings of the
//! rate limit, 3 seeds) driven by the core's batch scheduler once through the fleet model and
//! once over real HTTP against the emulator, to show the two agree before the model's figures
//! are trusted.
//!
//! `cargo run --release -p usvideo-fleet --bin fleet-vs-emulator`
//!
//! The emulator is the server of the `usvideo-emulator` binary, started in this process on
//! loopback with its clock frozen (`time_scale 0`): the driver moves the emulator's clock
//! forward itself whenever the batch asks to sleep. That is the sans-IO core's dividend: the
//! scheduler cannot tell a frozen clock advanced on demand from a fast one, so a thousand-job
//! run of a few virtual hours takes seconds, deterministically. Requests take no virtual time
//! here (the model charges 50 ms per round trip), which is the one modelled difference.
//!
//! The two draw generation times from different generators (the model's workload seed, the
//! emulator's `--seed`) with the same distribution, so single runs differ by sampling noise;
//! the table compares means over seeds.

use std::fmt::Write as _;
use std::time::Instant;
use usvideo_core::{Batch, BatchOptions, ClientConfig, Event, Header, HttpResponse, Method, Millis, Output, TransportKind};
use usvideo_emulator::{Emulator, LimiterMode};
use usvideo_fleet::policies::{entropy, requests_for, run_ours};
use usvideo_fleet::service::{DEFAULT_SIGMA, Reading, workload};

const SEEDS: [u64; 3] = [1, 2, 3];

/// What one run against the emulator measured.
struct EmuRun {
    makespan_ms: u64,
    requests: u64,
    too_many: u64,
    jobs_created: u64,
    completed: usize,
}

async fn send(http: &reqwest::Client, req: &usvideo_core::HttpRequest) -> Result<HttpResponse, String> {
    let method = match req.method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Delete => reqwest::Method::DELETE,
    };
    let mut b = http.request(method, &req.url);
    for h in &req.headers {
        b = b.header(h.name.as_str(), h.value.as_str());
    }
    if let Some(body) = &req.body {
        b = b.body(body.clone());
    }
    let resp = b.send().await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let headers = resp.headers().iter().map(|(n, v)| Header::new(n.as_str(), String::from_utf8_lossy(v.as_bytes()))).collect();
    let body = resp.bytes().await.map_err(|e| e.to_string())?.to_vec();
    Ok(HttpResponse { status, headers, body })
}

async fn run_emulator(n: usize, reading: Reading, seed: u64, options: &BatchOptions) -> Result<EmuRun, String> {
    let limiter = if reading == Reading::Strict { LimiterMode::Strict } else { LimiterMode::Lenient };
    let emu = Emulator::builder().time_scale(0.0).seed(seed).limiter(limiter).start().await.map_err(|e| e.to_string())?;
    let creds = emu.create_account("fleet@emulator.test", 100_000_000);
    let config = ClientConfig::new(&emu.api_base()).map_err(|e| e.to_string())?;
    let key = usvideo_core::ApiKey::new(&creds.api_key).map_err(|e| e.to_string())?;
    let items = workload(n, seed, DEFAULT_SIGMA);
    let start = emu.now_ms();
    let mut batch = Batch::new(&config, Some(&key), requests_for(&items), &entropy(seed), options.clone(), Millis(start)).map_err(|e| e.to_string())?;
    let http = reqwest::Client::new();
    let (mut requests, mut too_many, mut completed, mut last_done) = (0u64, 0u64, 0usize, start);
    loop {
        let now = emu.now_ms();
        match batch.poll(Millis(now)) {
            Output::Send { id, request, .. } => {
                requests += 1;
                match send(&http, &request).await {
                    Ok(resp) => {
                        too_many += u64::from(resp.status == 429);
                        batch.handle_response(id, resp, Millis(emu.now_ms()));
                    }
                    Err(e) => batch.handle_transport_error(id, TransportKind::Other, &e, Millis(emu.now_ms())),
                }
            }
            Output::Event(Event::ItemDone(r)) => {
                completed += usize::from(r.error.is_none());
                last_done = now;
            }
            Output::Event(_) => {}
            Output::WaitUntil(t) => {
                emu.advance(t.0.saturating_sub(now).max(1));
                batch.handle_timeout(Millis(emu.now_ms()));
            }
            Output::Done => break,
            // Every request was answered before the next poll: nothing can still be pending.
            _ => return Err(format!("the batch stalled at {now} ms")),
        }
    }
    let ledger = emu.ledger();
    let jobs_created = ledger["accounts"][0]["jobs_created"].as_u64().unwrap_or(0);
    emu.shutdown().await;
    Ok(EmuRun { makespan_ms: last_done - start, requests, too_many, jobs_created, completed })
}

fn mean(v: &[f64]) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let n = v.len().max(1) as f64;
    v.iter().sum::<f64>() / n
}

#[allow(clippy::cast_precision_loss)]
fn main() {
    let options = BatchOptions { longest_first: true, ..BatchOptions::default() };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("tokio: {e}"));
    let started = Instant::now();
    let mut out = String::new();
    let _ = writeln!(out, "| jobs | reading | makespan, model (min) | makespan, emulator (min) | emulator ÷ model | requests/job, model | requests/job, emulator | 429s, model | 429s, emulator | jobs created twice, emulator | completed, emulator |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|");
    for n in [100usize, 1000] {
        for reading in [Reading::Lenient, Reading::Strict] {
            let (mut mm, mut me, mut rm, mut re, mut tm, mut te, mut twice, mut done) = (vec![], vec![], vec![], vec![], 0, 0, 0u64, 0usize);
            for seed in SEEDS {
                let model = run_ours("model", &workload(n, seed, DEFAULT_SIGMA), reading, &options, seed);
                let emu = rt.block_on(run_emulator(n, reading, seed, &options)).unwrap_or_else(|e| panic!("emulator run: {e}"));
                mm.push(model.makespan_ms as f64 / 60_000.0);
                me.push(emu.makespan_ms as f64 / 60_000.0);
                rm.push(model.requests as f64 / n as f64);
                re.push(emu.requests as f64 / n as f64);
                tm += model.too_many;
                te += emu.too_many;
                twice += emu.jobs_created.saturating_sub(n as u64);
                done += emu.completed;
            }
            let _ = writeln!(
                out,
                "| {n} | {} | {:.1} | {:.1} | {:.3} | {:.2} | {:.2} | {tm} | {te} | {twice} | {done}/{} |",
                if reading == Reading::Strict { "strict" } else { "lenient" },
                mean(&mm),
                mean(&me),
                mean(&me) / mean(&mm),
                mean(&rm),
                mean(&re),
                n * SEEDS.len(),
            );
        }
    }
    println!("{out}");
    println!("(means over seeds {SEEDS:?}; batch options `longest_first: true`; {:.1} s)", started.elapsed().as_secs_f64());
}
