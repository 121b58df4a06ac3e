//! A batch: twelve videos of mixed resolution and duration, run within the account's limits,
//! with a progress bar and each result as it finishes.
//!
//! Run it with `cargo run --example batch` (the local emulator, 15× faster, unless
//! `USVIDEO_API_KEY` is set).

use indicatif::{ProgressBar, ProgressStyle};
use usvideo::{BatchOptions, Client, CreateVideoRequest, Event, Resolution};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut _emulator = None;
    let mut options = BatchOptions { max_spend_cents: Some(2_000), longest_first: true, ..BatchOptions::default() };
    let client = if std::env::var("USVIDEO_API_KEY").is_ok_and(|k| !k.is_empty()) {
        Client::from_env()?
    } else {
        let emu = usvideo_emulator::Emulator::builder().time_scale(15.0).start().await?;
        let creds = emu.create_account("me@example.com", 5_000);
        println!("No USVIDEO_API_KEY set: using the local emulator at {} (virtual time × 15)", emu.url());
        options.expected_scale = 1.0 / 15.0;
        let client = Client::builder().api_key(&creds.api_key).base_url(emu.api_base()).build()?;
        _emulator = Some(emu);
        client
    };

    let requests: Vec<CreateVideoRequest> = (0..12)
        .map(|i| {
            let mut r = CreateVideoRequest::text(format!("Scene {i}: waves on a rocky shore, golden hour"));
            r.resolution = Some([Resolution::P720, Resolution::P1080, Resolution::K2][i % 3]);
            r.duration = Some(1 + (i as u32 * 3) % 10);
            r
        })
        .collect();
    let run = client.videos().batch(requests, options)?;
    println!("Estimated total: {} cents (budget 2000)", run.estimated_cents());

    let bar = ProgressBar::new(12);
    bar.set_style(ProgressStyle::with_template("[{bar:30}] {pos}/{len} done, {msg}")?.progress_chars("=> "));
    let status = bar.clone();
    let mut run = run.on_event(move |e| {
        if let Event::BatchProgress(p) = e {
            status.set_message(format!("{} in flight, {} queued, {} requests", p.in_flight, p.queued, p.requests));
        }
    });
    while let Some(result) = run.next().await {
        let item = result?;
        match (&item.job, &item.error) {
            (Some(job), None) => bar.println(format!("#{:<2} {} completed: {} cents, {}", item.index, job.id, job.cost_cents.unwrap_or(0), job.video_url.as_deref().unwrap_or(""))),
            (_, Some(e)) => bar.println(format!("#{:<2} failed: {e}", item.index)),
            _ => {}
        }
        bar.inc(1);
    }
    bar.finish();
    if let Some(Ok(summary)) = run.summary() {
        println!("Completed {}/{}, spent {} cents, {} requests ({:.1} per job)", summary.progress.completed, summary.progress.total, summary.spent_cents, summary.progress.requests, summary.progress.requests as f64 / 12.0);
    }
    Ok(())
}
