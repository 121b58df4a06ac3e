//! Batches against the emulator: within the limits, no job twice, resume, budget.

mod common;
use common::*;
use usvideo::{BatchOptions, CreateVideoRequest, ErrorKind, Resolution};

fn requests(n: usize) -> Vec<CreateVideoRequest> {
    (0..n)
        .map(|i| {
            let mut r = CreateVideoRequest::text(format!("batch clip {i}"));
            r.resolution = Some(Resolution::P720);
            r.duration = Some(1 + (i as u32 % 3));
            r
        })
        .collect()
}

fn fast() -> BatchOptions {
    BatchOptions { expected_scale: 0.005, poll_interval_ms: 200, ..BatchOptions::default() }
}

#[tokio::test]
async fn a_batch_completes_every_job_once() {
    let (emu, client, _) = setup(200.0).await;
    let mut run = client.videos().batch(requests(12), fast()).unwrap();
    let mut done = 0;
    while let Some(r) = run.next().await {
        let item = r.unwrap();
        assert!(item.error.is_none(), "{:?}", item.error);
        done += 1;
    }
    assert_eq!(done, 12);
    let l = ledger(&emu);
    assert_eq!(l["jobs_created"], 12, "no job twice");
    let summary = run.summary().unwrap().as_ref().unwrap();
    assert_eq!(summary.progress.completed, 12);
}

#[tokio::test]
async fn a_batch_refuses_beyond_its_budget_and_the_balance() {
    let (emu, client, _) = setup(0.0).await;
    let e = client.videos().batch(requests(5), BatchOptions { max_spend_cents: Some(10), ..fast() }).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("max_spend_cents"));
    let poor = emu.create_account("me@example.com", 10);
    let poor = usvideo::Client::builder().api_key(&poor.api_key).base_url(emu.api_base()).build().unwrap();
    let mut run = poor.videos().batch(requests(5), fast()).unwrap();
    let e = run.next().await.unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::InsufficientBalance);
    assert_eq!(ledger(&emu)["jobs_created"], 0);
}

#[tokio::test]
async fn a_batch_resumed_from_a_snapshot_submits_nothing_twice() {
    let (emu, client, _) = setup(200.0).await;
    let mut run = client.videos().batch(requests(8), fast()).unwrap();
    let first = run.next().await.unwrap().unwrap();
    assert!(first.error.is_none());
    let json = serde_json::to_string(&run.snapshot()).unwrap();
    drop(run); // the process "dies" with jobs in flight
    let snapshot = serde_json::from_str(&json).unwrap();
    let mut resumed = client.videos().resume_batch(snapshot, fast()).unwrap();
    while let Some(r) = resumed.next().await {
        r.unwrap();
    }
    let summary = resumed.summary().unwrap().as_ref().unwrap();
    assert_eq!(summary.progress.completed, 8);
    assert_eq!(ledger(&emu)["jobs_created"], 8, "every item made exactly one job");
}
