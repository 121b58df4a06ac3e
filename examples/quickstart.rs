//! The quickstart: the reference's own example, end to end.
//!
//! With no `USVIDEO_API_KEY` it starts the emulator inside this process (time sped up so the job
//! takes a few seconds) and opens an account with $50; with a key it talks to `USVIDEO_BASE_URL`
//! or the real service. Then: the offline estimate, a 1080p 5 s text-to-video job with a progress
//! bar, the download, and the balance before and after.
//!
//! Run it with `cargo run --example quickstart`.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::{Duration, Instant};
use usvideo::{estimate_cost, Client, CreateVideoRequest, Event, Mode, Resolution, WaitOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let mut _emulator = None; // kept alive until the end of main
    let client = if std::env::var("USVIDEO_API_KEY").is_ok_and(|k| !k.is_empty()) {
        let client = Client::from_env()?;
        println!("Using the service at {}", client.base_url());
        client
    } else {
        // 15× virtual time: a 1080p 5 s job (~78 s of generation in the model) takes ~5 s.
        let emu = usvideo_emulator::Emulator::builder().time_scale(15.0).start().await?;
        let creds = emu.create_account("me@example.com", 5_000);
        println!("No USVIDEO_API_KEY set: using the local emulator at {} (account {}, $50.00)", emu.url(), creds.email);
        let client = Client::builder().api_key(&creds.api_key).base_url(emu.api_base()).build()?;
        _emulator = Some(emu);
        client
    };

    let estimate = estimate_cost(Resolution::P1080, 5)?;
    println!("Offline estimate for 1080p × 5 s: {estimate} cents (${:.2})", estimate as f64 / 100.0);

    let before = client.account().retrieve().await?;
    println!("Balance before: {} cents", before.balance_cents);

    let req = CreateVideoRequest {
        prompt: "A drone shot over a misty mountain lake at sunrise".into(),
        mode: Mode::TextToVideo,
        resolution: Some(Resolution::P1080),
        duration: Some(5),
        image_url: None,
        reference_url: None,
        seed: None,
    };
    let bar = ProgressBar::new(100);
    bar.set_style(ProgressStyle::with_template("{spinner} [{bar:40}] {pos:>3}% {msg}")?.progress_chars("=> "));
    bar.enable_steady_tick(Duration::from_millis(100));
    let mut on_event = |e: &Event| match e {
        Event::Created { job } => bar.println(format!("Submitted job {} (held {} cents)", job.id, job.estimated_cost_cents.unwrap_or(0))),
        Event::Progress(p) => {
            bar.set_position(u64::from(p.percent));
            bar.set_message(p.status.to_string());
        }
        Event::Retrying { attempt, after_ms, error } => bar.println(format!("retry {attempt} in {after_ms} ms: {error}")),
        _ => {}
    };
    let job = client.videos().create_and_wait_with(&req, WaitOptions::default(), &mut on_event, None).await?;
    bar.finish_with_message("completed");

    let dir = std::env::temp_dir().join("usvideo-quickstart");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{}.mp4", job.id));
    let size = client.videos().download(&job, &path, &mut |_, _| {}).await?;

    let after = client.account().retrieve().await?;
    println!("Job:          {}", job.id);
    println!("Video:        {} ({size} bytes)", path.display());
    println!("Cost:         {} cents", job.cost_cents.unwrap_or(0));
    println!("Balance:      {} → {} cents", before.balance_cents, after.balance_cents);
    println!("Done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
