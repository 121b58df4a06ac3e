//! The fleet simulation: our batch scheduler, the peers' loops and the FIFO oracle against the
//! service model, 100 and 1000 jobs, both readings of the rate limit, 3 seeds. Deterministic.
//! Prints the table and writes `fleet/RESULTS.md` and `fleet/plot.png`.
//!
//! `cargo run --release -p usvideo-fleet --bin fleet-sim [-- --seeds-1000 N]`

use std::fmt::Write as _;
use std::time::Instant;
use usvideo_core::BatchOptions;
use usvideo_fleet::policies::{RunResult, peers, run_oracle, run_ours, run_peer};
use usvideo_fleet::report::{Agg, Row, plot, table};
use usvideo_fleet::service::{DEFAULT_SIGMA, Reading, workload};

const SEEDS: [u64; 3] = [1, 2, 3];
const READINGS: [Reading; 2] = [Reading::Lenient, Reading::Strict];

/// FLEET.md's reference figures (100 jobs, mean of 3 seeds): lenient ÷ oracle, requests per
/// job, 429s, p95 lag (s), and the strict column as written.
const REFERENCE: [(&str, f64, f64, f64, f64, &str); 7] = [
    ("Replicate-style", 1.28, 268.0, 25_700.0, 55.0, "never finishes"),
    ("fal-style", 1.26, 54.0, 4_200.0, 294.0, "never finishes"),
    ("OpenAI-style", 1.29, 15.8, 340.0, 51.0, "5.9×, 1 seed in 3 never finishes"),
    ("Runway-style", 1.09, 18.1, 870.0, 31.0, "never finishes"),
    ("polite loop", 1.16, 13.5, 256.0, 33.0, "5.0×"),
    ("ours, per-job gets", 1.03, 7.4, 0.0, 10.7, "1.03"),
    ("FIFO oracle", 1.00, 2.0, 0.0, 0.0, "1.00"),
];

fn options_name(o: &BatchOptions) -> String {
    format!("longest_first {}, poll_interval_ms {}, likely_from {}", o.longest_first, o.poll_interval_ms, o.likely_from)
}

fn run_config(n: usize, reading: Reading, seeds: &[u64], best: &BatchOptions, plot_runs: &mut Option<(RunResult, RunResult)>) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    let push = |rows: &mut Vec<Row>, r: RunResult, o: u64| match rows.iter_mut().find(|x| x.policy == r.policy) {
        Some(row) => row.runs.push((r, o)),
        None => rows.push(Row { policy: r.policy.clone(), n, reading, runs: vec![(r, o)] }),
    };
    for &seed in seeds {
        let items = workload(n, seed, DEFAULT_SIGMA);
        let oracle = run_oracle(&items, reading);
        let om = oracle.makespan_ms;
        push(&mut rows, run_ours("ours (default BatchOptions)", &items, reading, &BatchOptions::default(), seed), om);
        let tuned = run_ours("ours (best options, see below)", &items, reading, best, seed);
        push(&mut rows, run_ours("ours, per-job gets (poll_by_list off)", &items, reading, &BatchOptions { poll_by_list: false, ..BatchOptions::default() }, seed), om);
        for spec in peers() {
            let keep = n == 100 && reading == Reading::Lenient && seed == SEEDS[0] && spec.name.starts_with("OpenAI");
            let r = run_peer(&spec, &items, reading, seed, keep);
            if keep {
                *plot_runs = Some((tuned.clone(), r.clone()));
            }
            push(&mut rows, r, om);
        }
        push(&mut rows, tuned, om);
        push(&mut rows, oracle, om);
    }
    // Ours first, then the peers, then the oracle.
    let key = |p: &str| if p.starts_with("ours (best") { 0 } else if p.starts_with("ours (default") { 1 } else if p.starts_with("ours,") { 2 } else if p.starts_with("FIFO") { 9 } else { 3 };
    rows.sort_by_key(|r| key(&r.policy));
    rows
}

/// The options grid at 100 jobs, both readings, 3 seeds: the setting with the fewest failed
/// goals, then the fewest requests per job, then the smallest p95 lag.
fn sweep() -> (BatchOptions, Vec<(BatchOptions, Agg, Agg)>) {
    let mut results = Vec::new();
    for longest_first in [false, true] {
        for poll_interval_ms in [2_000, 2_400, 2_800, 3_000] {
            for likely_from in [0.5, 0.65, 0.8, 0.9] {
                let o = BatchOptions { longest_first, poll_interval_ms, likely_from, ..BatchOptions::default() };
                let aggs: Vec<Agg> = READINGS
                    .iter()
                    .map(|&reading| {
                        let runs = SEEDS
                            .iter()
                            .map(|&seed| {
                                let items = workload(100, seed, DEFAULT_SIGMA);
                                let om = run_oracle(&items, reading).makespan_ms;
                                (run_ours("sweep", &items, reading, &o, seed), om)
                            })
                            .collect();
                        Row { policy: "sweep".into(), n: 100, reading, runs }.agg()
                    })
                    .collect();
                results.push((o, aggs[0].clone(), aggs[1].clone()));
            }
        }
    }
    let score = |(_, l, s): &(BatchOptions, Agg, Agg)| (l.failed_goals() + s.failed_goals(), ((l.req_per_job + s.req_per_job) * 1000.0) as u64, ((l.p95_s + s.p95_s) * 1000.0) as u64);
    results.sort_by_key(score);
    (results[0].0.clone(), results)
}

fn main() {
    let started = Instant::now();
    let args: Vec<String> = std::env::args().collect();
    let seeds_1000: usize = args.iter().position(|a| a == "--seeds-1000").and_then(|i| args.get(i + 1)).and_then(|s| s.parse().ok()).unwrap_or(3).clamp(1, 3);
    let out_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));

    let (best, sweep_results) = sweep();
    eprintln!("options sweep done in {:.1} s; best: {}", started.elapsed().as_secs_f64(), options_name(&best));

    let mut plot_runs = None;
    let mut all: Vec<Row> = Vec::new();
    for (n, seeds) in [(100usize, &SEEDS[..]), (1000, &SEEDS[..seeds_1000])] {
        for reading in READINGS {
            let t = Instant::now();
            all.extend(run_config(n, reading, seeds, &best, &mut plot_runs));
            eprintln!("{n} jobs, {}: {:.1} s", reading.as_str(), t.elapsed().as_secs_f64());
        }
    }
    print!("{}", table(&all, false));

    // ---- RESULTS.md ----
    let mut md = String::new();
    let _ = writeln!(md, "# Fleet simulation: results\n");
    let _ = writeln!(md, "Written by `cargo run --release -p usvideo-fleet --bin fleet-sim` (deterministic: the same figures on every run; {:.0} s on this 2-core machine). Seeds 1, 2, 3 at 100 jobs; {} at 1000 jobs. Virtual time; 50 ms round trip; 60 requests per rolling minute and 10 concurrent jobs per key.\n", started.elapsed().as_secs_f64().ceil(), if seeds_1000 == 3 { "the same three".to_owned() } else { format!("the first {seeds_1000}") });
    let _ = writeln!(md, "## The model and the measures\n");
    let _ = writeln!(md, "- Workload: resolution uniform over 720p / 1080p / 2k, duration uniform 1–10 s; pending U(1, 5) s; G = (base + per_s × duration) × exp(N(0, σ²)) with σ = {DEFAULT_SIGMA} (FLEET.md's `exp(N(0, 0.25))` read as variance 0.25; σ = 0.25 gives a mean bound 8 % below FLEET.md's ~947 s, σ = 0.5 gives it within 2 %). Timing is drawn per item, so every policy meets the same jobs.");
    let _ = writeln!(md, "- Rate limit: a rolling 60 s window per key. **Lenient**: a request refused by the limiter is not recorded. **Strict**: it is recorded too. `Retry-After` = seconds until a slot frees, rounded up, ≥ 1; the concurrency 429 says when the first running job ends.");
    let _ = writeln!(md, "- **Bound** = max(Σ(pending + G) / 10, requests counted by the limiter / (1 per s)), per run. **FIFO oracle**: knows every completion, one create and one poll per job (the poll arrives at the completion instant), 10 in flight, input order.");
    let _ = writeln!(md, "- **Detection lag**: the client knows a job is done − the job completed on the server. Makespan: the client knows the last job is done. A run not done by 20 × Σ(pending + G)/10 of virtual time **never finishes** (its ratios leave the mean; 429s and requests count up to the cap).");
    let _ = writeln!(md, "- Peers: a submitter that creates until refused, then one polling loop per job (sleep after each answer); on 429: Replicate-style goes on at its 0.5 s cadence, fal-style backs off 0.5 s × 2^k up to 8 s (reset by a success, `Retry-After` ignored), OpenAI-style sleeps `Retry-After`, Runway-style keeps its 6 ± 1.5 s cadence; the polite loop is 10 workers, each creating then polling one job every 5 s, sleeping `Retry-After` on a 429.");
    let _ = writeln!(md, "- Ours: `usvideo_core::Batch` driven like any driver would: every `Send` answered after the round trip (several in flight), `handle_timeout` at `WaitUntil`.\n");

    let _ = writeln!(md, "## Reproducing FLEET.md's peer figures (100 jobs, mean of 3 seeds)\n");
    let _ = writeln!(md, "| policy | lenient ÷ oracle: ours / FLEET.md | requests per job | 429s | p95 lag s | strict ÷ oracle: ours / FLEET.md |\n|---|---|---|---|---|---|");
    let pct = |a: f64, b: f64| if b == 0.0 { String::new() } else { format!(" ({:+.0} %)", (a / b - 1.0) * 100.0) };
    for (name, ratio, rpj, tm, p95, strict) in REFERENCE {
        let find = |reading: Reading| all.iter().find(|r| r.n == 100 && r.reading == reading && r.policy.starts_with(name)).map(Row::agg);
        if let (Some(l), Some(s)) = (find(Reading::Lenient), find(Reading::Strict)) {
            let _ = writeln!(
                md,
                "| {name} | {} / {ratio:.2}{} | {:.1} / {rpj}{} | {:.0} / {tm}{} | {:.0} / {p95}{} | {} / {strict} |",
                l.ratio(l.vs_oracle),
                pct(l.vs_oracle, ratio),
                l.req_per_job,
                pct(l.req_per_job, rpj),
                l.too_many,
                pct(l.too_many, tm),
                l.p95_s,
                pct(l.p95_s, p95),
                s.ratio(s.vs_oracle)
            );
        }
    }
    let (b, o) = {
        let r: Vec<Agg> = all.iter().filter(|r| r.n == 100 && r.reading == Reading::Lenient && r.policy == "FIFO oracle").map(Row::agg).collect();
        (r[0].bound_s, r[0].makespan_s)
    };
    let _ = writeln!(md, "\nBound and oracle at 100 jobs: {b:.0} s and {o:.0} s here; FLEET.md: ~947 s and ~975 s. The FIFO oracle here is further above the bound (σ = 0.5 gives long tails), so every ratio to the oracle is ~{:.0} % lower than the same makespan would give against FLEET.md's. The per-job-gets row is our batch with listing off, standing in for FLEET.md's \"tuned per-job scheduler\".\n", (o / b / (975.0 / 947.0) - 1.0) * 100.0);

    let _ = writeln!(md, "## Every policy\n");
    md.push_str(&table(&all, true));

    let _ = writeln!(md, "\n## The goals for our batch (FLEET.md: all at once, 100 and 1000 jobs, both readings)\n");
    let _ = writeln!(md, "Best options found (grid below): `{}`.\n", options_name(&best));
    let _ = writeln!(md, "| policy | jobs | reading | makespan ≤ 1.05 × bound | zero 429s | ≤ 4.5 requests/job | p95 lag ≤ 3 s | no double submit |\n|---|---|---|---|---|---|---|---|");
    for row in all.iter().filter(|r| r.policy.starts_with("ours (")) {
        let g = row.agg().goals();
        let cell = |(t, ok): &(String, bool)| format!("{} {t}", if *ok { "PASS" } else { "FAIL" });
        let _ = writeln!(md, "| {} | {} | {} | {} | {} | {} | {} | {} |", row.policy, row.n, row.reading.as_str(), cell(&g[0]), cell(&g[1]), cell(&g[2]), cell(&g[3]), cell(&g[4]));
    }
    let _ = writeln!(md, "\nFLEET.md's tuned per-job scheduler for comparison: 1.03 × oracle, 7.4 requests/job, 0 429s, p95 10.7 s (1000 jobs: 1.04, 7.0, 10.8 s).\n");

    let _ = writeln!(md, "## Options grid (100 jobs, 3 seeds; best first)\n");
    let _ = writeln!(md, "| options | failed goals (lenient + strict) | ÷ bound | requests/job | p95 lag s |\n|---|---|---|---|---|");
    for (o, l, s) in sweep_results.iter().take(12) {
        let _ = writeln!(md, "| {} | {} | {:.3} / {:.3} | {:.2} / {:.2} | {:.2} / {:.2} |", options_name(o), l.failed_goals() + s.failed_goals(), l.vs_bound, s.vs_bound, l.req_per_job, s.req_per_job, l.p95_s, s.p95_s);
    }

    let _ = writeln!(md, "\n## Notes on the options\n");
    let _ = writeln!(md, "1. The batch lists a full page (100 jobs) each time: a page costs one request whatever its size, and a long job made early sits far down the most-recent-first list once shorter ones have been replaced. (An earlier page of `running + 5` sent those jobs to lone gets: 5.8–7.5 requests per job; this simulation found it.)");
    let _ = writeln!(md, "2. `longest_first` (opt-in, since it reorders the caller's queue) is what meets the makespan goal at 100 jobs: in input order the batch cannot beat the FIFO oracle's tail. At 1000 jobs both orders meet it.");
    let _ = writeln!(md, "3. With `poll_by_list: false` the batch gets each job alone, and only jobs past `likely_from` of their expected time; still a fallback, far from the list's figures.");
    let _ = writeln!(md, "\n## The plot\n");
    let _ = writeln!(md, "`plot.png`: 100 jobs, lenient, seed 1. Blue: ours (best options); red: the OpenAI-style loop. Top: jobs in flight on the server (0 to 10, a gridline per job). Bottom: requests per minute (a gridline every 10; the black line is the limit, 60). Across: virtual time, a gridline every 60 s. (No text in the picture: plotters is built without fonts.)");
    if let Some((ours, peer)) = &plot_runs {
        match plot(&out_dir.join("plot.png"), ours, peer) {
            Ok(()) => eprintln!("wrote {}", out_dir.join("plot.png").display()),
            Err(e) => eprintln!("plot failed: {e}"),
        }
    }
    std::fs::write(out_dir.join("RESULTS.md"), md).unwrap_or_else(|e| eprintln!("cannot write RESULTS.md: {e}"));
    eprintln!("wrote {} in {:.1} s", out_dir.join("RESULTS.md").display(), started.elapsed().as_secs_f64());
}
