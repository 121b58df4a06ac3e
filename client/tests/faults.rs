//! Faults injected by the emulator: the client recovers or reports a typed error, and never
//! creates or charges a job twice.

mod common;
use common::*;
use std::time::{Duration, Instant};
use usvideo::ErrorKind;

#[tokio::test]
async fn a_502_then_success_on_a_read() {
    let (emu, client, _) = setup(0.0).await;
    emu.add_fault(serde_json::json!({"method": "GET", "path": "/v1/account", "status": 502})).unwrap();
    assert_eq!(client.account().retrieve().await.unwrap().balance_cents, BALANCE);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let (emu, client, _) = setup(0.0).await;
    emu.add_fault(serde_json::json!({"method": "GET", "path": "/v1/account", "status": 429, "retry_after": 1})).unwrap();
    let started = Instant::now();
    assert_eq!(client.account().retrieve().await.unwrap().balance_cents, BALANCE);
    // A lower bound, not a timing assertion: the client must have waited what it was told.
    assert!(started.elapsed() >= Duration::from_millis(1000), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_create_dropped_after_the_server_took_it_makes_one_job_and_one_charge() {
    let (emu, client, _) = setup(0.0).await;
    emu.add_fault(serde_json::json!({"method": "POST", "path": "/v1/videos", "drop": "after"})).unwrap();
    let job = client.videos().create(&text_request("dropped after")).await.unwrap();
    let l = ledger(&emu);
    assert_eq!(l["jobs_created"], 1);
    assert_eq!(l["balance_cents"], BALANCE - 120);
    assert_eq!(client.videos().retrieve(&job.id).await.unwrap().id, job.id);
}

#[tokio::test]
async fn a_create_dropped_before_the_server_took_it_is_sent_again_once() {
    let (emu, client, _) = setup(0.0).await;
    emu.add_fault(serde_json::json!({"method": "POST", "path": "/v1/videos", "drop": "before"})).unwrap();
    client.videos().create(&text_request("dropped before")).await.unwrap();
    let l = ledger(&emu);
    assert_eq!(l["jobs_created"], 1);
    assert_eq!(l["balance_cents"], BALANCE - 120);
}

#[tokio::test]
async fn a_create_answered_with_a_5xx_after_all_is_reconciled_not_replayed() {
    let (emu, client, _) = setup(0.0).await;
    emu.add_fault(serde_json::json!({"method": "POST", "path": "/v1/videos", "malformed": true})).unwrap();
    client.videos().create(&text_request("malformed answer")).await.unwrap();
    assert_eq!(ledger(&emu)["jobs_created"], 1);
}

#[tokio::test]
async fn a_malformed_read_is_a_typed_error() {
    let (emu, client, _) = setup(0.0).await;
    emu.add_fault(serde_json::json!({"method": "GET", "path": "/v1/account", "malformed": true})).unwrap();
    let e = client.account().retrieve().await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Decode, Some(200)));
}

#[tokio::test]
async fn a_truncated_read_is_retried_or_typed() {
    let (emu, client, _) = setup(0.0).await;
    emu.add_fault(serde_json::json!({"method": "GET", "path": "/v1/account", "truncate": true})).unwrap();
    match client.account().retrieve().await {
        Ok(a) => assert_eq!(a.balance_cents, BALANCE),
        Err(e) => assert!(matches!(e.kind, ErrorKind::Decode | ErrorKind::Connection), "{e}"),
    }
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let (emu, _, creds) = setup(0.0).await;
    let client = usvideo::Client::builder().api_key(&creds.api_key).base_url(emu.api_base()).request_timeout(Duration::from_millis(200)).max_retries(0).build().unwrap();
    emu.add_fault(serde_json::json!({"method": "GET", "path": "/v1/account", "delay_ms": 2000})).unwrap();
    let e = client.account().retrieve().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout);
}

#[tokio::test]
async fn identical_creates_of_clients_of_one_key_whose_answers_were_lost_each_get_their_own_job() {
    // A client per request: the key's clients share its claims, so a create whose answer was lost
    // does not adopt the job another client's create made.
    let (emu, first, creds) = setup(0.0).await;
    let same = text_request("the same request");
    let earlier = first.videos().create(&same).await.unwrap();
    emu.add_fault(serde_json::json!({"method": "POST", "path": "/v1/videos", "drop": "after", "times": 3})).unwrap();
    let creates = (0..6).map(|_| {
        let client = usvideo::Client::builder().api_key(&creds.api_key).base_url(emu.api_base()).build().unwrap();
        let same = same.clone();
        async move { client.videos().create(&same).await.unwrap().id }
    });
    let mut ids: std::collections::BTreeSet<String> = futures::future::join_all(creates).await.into_iter().collect();
    ids.insert(earlier.id);
    assert_eq!(ids.len(), 7, "{ids:?}");
    assert_eq!(ledger(&emu)["jobs_created"], 7);
}
