//! Micro-benchmarks of the core's hot paths: validation of loose input, request building, response
//! parsing, pricing, and one whole `JobRun` driven through its happy path.
//!
//! `cargo bench -p usvideo-core --bench core` (small samples: the whole run takes well under a minute).

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use std::hint::black_box;
use std::time::Duration;
use usvideo_core::{estimate_cost, response, validate, ApiKey, ClientConfig, CreateVideoRequest, HttpResponse, IdempotencyKey, JobRun, Millis, Output, PricingTable, Resolution, WaitOptions};

/// A serde_json value as the core's `Json` (numbers as serde_json writes them).
fn j(v: &serde_json::Value) -> usvideo_core::Json<'static> {
    serde::Deserialize::deserialize(v).unwrap_or_default()
}

fn config() -> Criterion {
    Criterion::default().sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1))
}

fn bench_validate(c: &mut Criterion) {
    let loose = j(&json!({"prompt": "a lake at dawn, mist over the water", "mode": "image_to_video", "resolution": "1080p", "duration": 8, "image_url": "https://example.com/start.png", "seed": 42}));
    c.bench_function("validate/create_request_from_json", |b| b.iter(|| validate::create_request_from_json(black_box(&loose))));
    let typo = j(&json!({"prompt": "a lake", "mode": "text_to_video", "resolutoin": "1080p"}));
    c.bench_function("validate/create_request_from_json_typo", |b| b.iter(|| validate::create_request_from_json(black_box(&typo))));
}

fn bench_build(c: &mut Criterion) {
    let config = ClientConfig::new("https://usvideoapi.com/v1").unwrap();
    let key = ApiKey::new("sd_bench_key_0000").unwrap();
    let idem = IdempotencyKey::from_entropy(&[7; 16]).unwrap();
    let req = CreateVideoRequest { resolution: Some(Resolution::P1080), duration: Some(8), seed: Some(42), ..CreateVideoRequest::text("a lake at dawn, mist over the water") };
    c.bench_function("request/create_video", |b| b.iter(|| config.create_video(black_box(Some(&key)), black_box(&req), black_box(&idem))));
}

fn bench_parse(c: &mut Criterion) {
    let resp = HttpResponse::json(
        200,
        &json!({"id": "job_01HZX", "status": "completed", "prompt": "a lake at dawn", "mode": "text_to_video", "resolution": "1080p", "duration": 8,
                "estimated_cost_cents": 192, "cost_cents": 192, "video_url": "https://cdn.example.com/job_01HZX.mp4", "created_at": "2026-04-21T15:30:00Z", "extra": {"a": [1, 2, 3]}}),
    );
    c.bench_function("response/parse_job", |b| b.iter(|| response::parse_job(black_box(&resp))));
    // What a binding's `retrieve` asks of the core around one HTTP exchange: build the request,
    // run a `Call` to its `Send`, hand it the response, take the result and parse the job.
    let config = ClientConfig::new("http://127.0.0.1:8080/v1").unwrap();
    let key = ApiKey::new("sd_bench_key_000000000").unwrap();
    c.bench_function("call/retrieve_around_the_exchange", |b| {
        b.iter(|| {
            let req = config.retrieve_video(Some(&key), "job_01HZX").unwrap();
            let mut call = usvideo_core::Call::new(usvideo_core::Endpoint::RetrieveVideo, req, usvideo_core::RetryPolicy::default(), 7, None, 0);
            let Output::Send { id, .. } = call.poll(Millis(0)) else { unreachable!() };
            call.handle_response(id, black_box(resp.clone()), Millis(1));
            let _ = call.poll(Millis(1));
            response::parse_job(&call.take_result().unwrap())
        })
    });
    let err = HttpResponse::json(429, &json!({"error": {"code": "rate_limited", "message": "slow down"}}));
    c.bench_function("response/error_from_response", |b| b.iter(|| response::error_from_response(black_box(&err))));
}

fn bench_price(c: &mut Criterion) {
    c.bench_function("pricing/estimate_cost", |b| b.iter(|| estimate_cost(black_box(Resolution::P1080), black_box(5))));
    let table = usvideo_core::json::parse(br#"{"720p": {"per_second": 0.0615}, "1080p": {"per_second": 0.24}, "2k": {"per_second": 0.36}}"#).unwrap_or_default();
    c.bench_function("pricing/from_json", |b| b.iter(|| PricingTable::from_json(black_box(&table))));
}

/// One create-and-wait: create → pending → processing → completed, answered in place.
fn happy_path() -> usize {
    let config = ClientConfig::new("http://127.0.0.1:8080/v1").unwrap();
    let key = ApiKey::new("sd_bench_key_0000").unwrap();
    let idem = IdempotencyKey::from_entropy(&[9; 16]).unwrap();
    let mut run = JobRun::create_and_wait(&config, Some(&key), CreateVideoRequest::text("a lake at dawn"), &idem, WaitOptions::default(), 1, Millis(0)).unwrap();
    let statuses = ["pending", "processing", "processing", "completed"];
    let (mut now, mut answered, mut outputs) = (Millis(0), 0usize, 0usize);
    let mut in_flight = None;
    loop {
        outputs += 1;
        match run.poll(now) {
            Output::Send { id, .. } => in_flight = Some(id),
            Output::Pending => {
                let Some(id) = in_flight.take() else { break };
                let status = statuses[answered.min(statuses.len() - 1)];
                answered += 1;
                now = now.plus(150);
                let body = json!({"id": "job_1", "status": status, "mode": "text_to_video", "resolution": "720p", "duration": 5, "video_url": "http://x/v.mp4"});
                run.handle_response(id, HttpResponse::json(if answered == 1 { 201 } else { 200 }, &body), now);
            }
            Output::WaitUntil(t) => {
                now = t;
                run.handle_timeout(now);
            }
            Output::Done => break,
            _ => {}
        }
    }
    assert!(run.take_result().is_ok());
    outputs
}

fn bench_job_run(c: &mut Criterion) {
    c.bench_function("job_run/create_and_wait_happy_path", |b| b.iter(happy_path));
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_validate, bench_build, bench_parse, bench_price, bench_job_run
}
criterion_main!(benches);
