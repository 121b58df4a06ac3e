//! Aggregation over seeds, the table, RESULTS.md and the plot.

use crate::policies::{RunResult, series};
use crate::service::Reading;
use std::fmt::Write as _;

/// One policy's runs on one configuration (N jobs, one reading), one per seed, with the oracle's
/// makespan of the same seed.
#[derive(Clone, Debug)]
pub struct Row {
    /// Policy name.
    pub policy: String,
    /// Jobs.
    pub n: usize,
    /// Reading.
    pub reading: Reading,
    /// (run, oracle makespan ms) per seed.
    pub runs: Vec<(RunResult, u64)>,
}

/// Means over seeds (of the seeds that finished, for the makespan and lag).
#[derive(Clone, Debug, Default)]
pub struct Agg {
    /// Seeds run.
    pub seeds: usize,
    /// Seeds that finished.
    pub finished: usize,
    /// Mean makespan ÷ analytic bound.
    pub vs_bound: f64,
    /// Mean makespan ÷ FIFO oracle.
    pub vs_oracle: f64,
    /// Mean 429s.
    pub too_many: f64,
    /// Mean requests per job.
    pub req_per_job: f64,
    /// Mean p50 lag, s.
    pub p50_s: f64,
    /// Mean p95 lag, s.
    pub p95_s: f64,
    /// Items submitted twice, summed over seeds.
    pub double: usize,
    /// Mean makespan, s.
    pub makespan_s: f64,
    /// Mean bound, s.
    pub bound_s: f64,
}

#[allow(clippy::cast_precision_loss)]
fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, c) = v.fold((0.0, 0usize), |(s, c), x| (s + x, c + 1));
    if c == 0 { f64::NAN } else { s / c as f64 }
}

impl Row {
    /// The aggregate.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn agg(&self) -> Agg {
        let fin: Vec<&(RunResult, u64)> = self.runs.iter().filter(|(r, _)| r.finished).collect();
        Agg {
            seeds: self.runs.len(),
            finished: fin.len(),
            vs_bound: mean(fin.iter().map(|(r, _)| r.makespan_ms as f64 / r.bound_ms() as f64)),
            vs_oracle: mean(fin.iter().map(|(r, o)| r.makespan_ms as f64 / *o as f64)),
            too_many: mean(self.runs.iter().map(|(r, _)| r.too_many as f64)),
            req_per_job: mean(self.runs.iter().map(|(r, _)| r.requests as f64 / r.jobs as f64)),
            p50_s: mean(fin.iter().map(|(r, _)| r.lag_quantile_ms(0.5) as f64 / 1000.0)),
            p95_s: mean(fin.iter().map(|(r, _)| r.lag_quantile_ms(0.95) as f64 / 1000.0)),
            double: self.runs.iter().map(|(r, _)| r.double_submits).sum(),
            makespan_s: mean(fin.iter().map(|(r, _)| r.makespan_ms as f64 / 1000.0)),
            bound_s: mean(self.runs.iter().map(|(r, _)| r.bound_ms() as f64 / 1000.0)),
        }
    }
}

impl Agg {
    /// "1.03" or "never finishes" or "5.9×, 1 seed in 3 never finishes".
    #[must_use]
    pub fn ratio(&self, x: f64) -> String {
        match (self.finished, self.seeds) {
            (0, _) => "never finishes".to_owned(),
            (f, s) if f == s => format!("{x:.2}"),
            (f, s) => format!("{x:.2}, {} seed(s) in {s} never finish", s - f),
        }
    }

    /// The goals (FLEET.md) with pass/fail for each.
    #[must_use]
    pub fn goals(&self) -> [(String, bool); 5] {
        let done = self.finished == self.seeds;
        [
            (format!("makespan {} × bound (≤ 1.05)", self.ratio(self.vs_bound)), done && self.vs_bound <= 1.05),
            (format!("{:.0} 429s (0)", self.too_many), self.too_many == 0.0),
            (format!("{:.2} requests/job (≤ 4.5)", self.req_per_job), self.req_per_job <= 4.5),
            (format!("p95 lag {:.2} s (≤ 3)", self.p95_s), done && self.p95_s <= 3.0),
            (format!("{} double submits (0)", self.double), self.double == 0),
        ]
    }

    /// How many goals fail.
    #[must_use]
    pub fn failed_goals(&self) -> usize {
        self.goals().iter().filter(|(_, ok)| !ok).count()
    }
}

/// Fixed-width table for stdout and a Markdown table for RESULTS.md.
#[must_use]
pub fn table(rows: &[Row], markdown: bool) -> String {
    let mut out = String::new();
    let head = ["policy", "jobs", "reading", "÷ bound", "÷ oracle", "429s", "req/job", "p50 lag s", "p95 lag s", "double", "makespan s"];
    if markdown {
        let _ = writeln!(out, "| {} |", head.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
    } else {
        let _ = writeln!(out, "{:<58} {:>5} {:>8} {:>16} {:>16} {:>8} {:>8} {:>9} {:>9} {:>6} {:>10}", head[0], head[1], head[2], head[3], head[4], head[5], head[6], head[7], head[8], head[9], head[10]);
    }
    for row in rows {
        let a = row.agg();
        let cells = [
            row.policy.clone(),
            row.n.to_string(),
            row.reading.as_str().to_owned(),
            a.ratio(a.vs_bound),
            a.ratio(a.vs_oracle),
            format!("{:.0}", a.too_many),
            format!("{:.1}", a.req_per_job),
            if a.finished > 0 { format!("{:.1}", a.p50_s) } else { "–".into() },
            if a.finished > 0 { format!("{:.1}", a.p95_s) } else { "–".into() },
            a.double.to_string(),
            if a.finished > 0 { format!("{:.0}", a.makespan_s) } else { "–".into() },
        ];
        if markdown {
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        } else {
            let short = |s: &str, w: usize| if s.chars().count() > w { s.chars().take(w - 1).collect::<String>() + "…" } else { s.to_owned() };
            let _ = writeln!(
                out,
                "{:<58} {:>5} {:>8} {:>16} {:>16} {:>8} {:>8} {:>9} {:>9} {:>6} {:>10}",
                short(&cells[0], 58),
                cells[1],
                cells[2],
                short(&cells[3], 16),
                short(&cells[4], 16),
                cells[5],
                cells[6],
                cells[7],
                cells[8],
                cells[9],
                cells[10]
            );
        }
    }
    out
}

/// The plot: jobs in flight (top) and requests per minute (bottom) over time, ours in blue and
/// the peer in red. Drawn with plotters into an RGB buffer (no fonts: the legend is in
/// RESULTS.md), encoded with `png`.
///
/// # Errors
/// Drawing or encoding failed.
pub fn plot(path: &std::path::Path, ours: &RunResult, peer: &RunResult) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    const W: u32 = 1200;
    const H: u32 = 800;
    let end = ours.makespan_ms.max(peer.makespan_ms);
    let (of, orpm) = series(&ours.service, ours.makespan_ms, 1_000);
    let (pf, prpm) = series(&peer.service, peer.makespan_ms, 1_000);
    #[allow(clippy::cast_precision_loss)]
    let x_max = end as f64 / 1000.0;
    let rpm_max = orpm.iter().chain(&prpm).map(|p| p.1).fold(60.0f64, f64::max) * 1.1;
    let mut buf = vec![255u8; (W * H * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (W, H)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, bottom) = root.split_vertically(H / 2);
        for (area, y_max, a, b, grid, width) in [(top, 11.0, &of, &pf, 1.0, 1), (bottom, rpm_max, &orpm, &prpm, 60.0, 2)] {
            let area = area.margin(20, 20, 20, 20);
            let mut chart = ChartBuilder::on(&area).build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
            // Gridlines by hand (labels would need a font): every 60 s across, every `grid` up.
            let mut gx = 0.0;
            while gx <= x_max {
                chart.draw_series(LineSeries::new(vec![(gx, 0.0), (gx, y_max)], RGBColor(225, 225, 225)))?;
                gx += 60.0;
            }
            let mut gy = 0.0;
            while gy <= y_max {
                let color = if (gy - 60.0f64).abs() < 1e-9 && grid > 1.0 { RGBColor(0, 0, 0) } else { RGBColor(225, 225, 225) };
                chart.draw_series(LineSeries::new(vec![(0.0, gy), (x_max, gy)], color))?;
                gy += if grid > 1.0 { 10.0 } else { 1.0 };
            }
            chart.draw_series(LineSeries::new(b.iter().copied(), RED.stroke_width(width)))?;
            chart.draw_series(LineSeries::new(a.iter().copied(), BLUE.stroke_width(width)))?;
            chart.draw_series(LineSeries::new(vec![(0.0, 0.0), (x_max, 0.0)], BLACK))?;
            chart.draw_series(LineSeries::new(vec![(0.0, 0.0), (0.0, y_max)], BLACK))?;
        }
        root.present()?;
    }
    let file = std::fs::File::create(path)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), W, H);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()?.write_image_data(&buf)?;
    Ok(())
}
