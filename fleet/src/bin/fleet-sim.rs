//! Calibration stub.
use usvideo_fleet::policies::*;
use usvideo_fleet::service::*;
fn main() {
    let sigma: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SIGMA);
    for reading in [Reading::Lenient, Reading::Strict] {
        for seed in 1..=3u64 {
            let items = workload(100, seed, sigma);
            let o = run_oracle(&items, reading);
            println!("{} seed {seed}: bound {:.0} s oracle {:.0} s", reading.as_str(), o.bound_ms() as f64 / 1000.0, o.makespan_ms as f64 / 1000.0);
            let mut rs = vec![run_ours("ours", &items, reading, &usvideo_core::BatchOptions::default(), seed)];
            for lf in [false, true] { for pi in [1000u64, 1500, 2000, 2800] { for lk in [0.5, 0.65, 0.8] {
                let o = usvideo_core::BatchOptions { longest_first: lf, poll_interval_ms: pi, likely_from: lk, ..Default::default() };
                let mut r = run_ours("x", &items, reading, &o, seed); r.policy = format!("ours lf={lf} pi={pi} lk={lk}"); rs.push(r);
            }}}
            println!("  breakdown default: {}", breakdown(&rs[0]));
            for p in peers() { rs.push(run_peer(&p, &items, reading, seed, false)); }
            for r in rs {
                println!("  {:55} fin {} ms/oracle {:.2} req/job {:.1} 429 {} p50 {:.1} p95 {:.1} dbl {}", r.policy, r.finished, r.makespan_ms as f64 / o.makespan_ms as f64, r.requests as f64 / r.jobs as f64, r.too_many, r.lag_quantile_ms(0.5) as f64/1000.0, r.lag_quantile_ms(0.95) as f64/1000.0, r.double_submits);
            }
        }
    }
}
#[allow(dead_code)]
fn breakdown(r: &RunResult) -> String {
    let mut m = std::collections::BTreeMap::new();
    for x in &r.service.log { *m.entry(format!("{:?}/{}", x.kind, x.status)).or_insert(0) += 1; }
    format!("{m:?}")
}
