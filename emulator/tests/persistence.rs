//! `--state-file` / `EmulatorBuilder::state_file`: a restarted emulator goes on where the last
//! one stopped (accounts, keys, jobs and their timing, the ledger, idempotency keys, ids, the
//! clock), but with no faults and fresh rate-limit windows.

mod common;
use common::*;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::Path;
use usvideo_emulator::Emulator;

async fn frozen_at(file: &Path) -> Emulator {
    Emulator::builder().time_scale(0.0).state_file(file).start().await.expect("emulator starts")
}

/// Every request id an answer carried, to check none repeats across the restart.
fn rid(a: &Answer, seen: &mut Vec<String>) {
    seen.push(a.header("x-request-id").expect("x-request-id").to_owned());
}

#[tokio::test]
async fn a_restart_from_the_state_file_goes_on_where_it_stopped() {
    let dir = scratch_dir("restart");
    let file = dir.join("state.json");
    let mut ids_before = Vec::new();

    let emu = frozen_at(&file).await;
    let c = account(&emu, "persist@example.com");
    let base = emu.url();
    let r = call("POST", &format!("{base}/_emulator/accounts/deposit"), None, Some(r#"{"email": "persist@example.com", "amount_cents": 1000}"#), &[]).await;
    assert_eq!(r.status, 200);
    let kept = create_with_key(&emu, &c.api_key, QUICKSTART, "once").await;
    rid(&kept, &mut ids_before);
    let kept_id = kept.json["id"].as_str().unwrap().to_owned();
    let cancelled = create(&emu, &c.api_key, &text_body("cancelled", "720p", 1)).await.json["id"].as_str().unwrap().to_owned();
    assert_eq!(delete(&emu, &c.api_key, &cancelled).await.status, 200);
    emu.add_fault(json!({"fail_job": true, "message": "decided at creation"})).unwrap();
    let doomed = create(&emu, &c.api_key, &text_body("doomed", "2k", 2)).await.json["id"].as_str().unwrap().to_owned();
    let second_key = call("POST", &format!("{}/api-keys", emu.api_base()), Some(&c.jwt), Some(r#"{"name": "ci"}"#), &[]).await.json["key"].as_str().unwrap().to_owned();
    emu.advance(1_500);
    emu.add_fault(json!({"method": "GET", "path": "/v1/account", "status": 500})).unwrap();
    let a = get(&emu, "/v1/account", "sd_whoever").await;
    assert_eq!(a.status, 500, "the fault is armed");
    rid(&a, &mut ids_before);
    for _ in 0..3 {
        rid(&get(&emu, "/v1/videos", &c.api_key).await, &mut ids_before);
    }
    let job_before = get(&emu, &format!("/v1/videos/{kept_id}"), &c.api_key).await.json;
    let list_before = get(&emu, "/v1/videos", &c.api_key).await.json;
    let ledger_before = emu.ledger();
    emu.shutdown().await;
    assert!(file.exists());

    let emu = frozen_at(&file).await;
    assert_eq!(emu.now_ms(), 1_500, "the clock goes on from the saved time");
    assert_eq!(emu.ledger(), ledger_before);
    let mut ids_after = Vec::new();
    let job = get(&emu, &format!("/v1/videos/{kept_id}"), &c.api_key).await;
    rid(&job, &mut ids_after);
    assert_eq!(job.json, job_before, "same job, same created_at, same timing");
    assert_eq!(get(&emu, "/v1/videos", &c.api_key).await.json, list_before);
    // Rate-limit windows start afresh (9 requests before the restart, 3 since); faults are gone.
    let a = get(&emu, "/v1/account", &c.api_key).await;
    assert_eq!((a.status, a.header("x-ratelimit-remaining")), (200, Some("57")));
    assert_eq!(a.json["balance_cents"], BALANCE + 1000 - 120 - 72);
    rid(&a, &mut ids_after);
    assert_eq!(call("GET", &format!("{}/_emulator/faults", emu.url()), None, None, &[]).await.json["faults"], json!([]));
    // Every credential still works.
    assert_eq!(get(&emu, "/v1/account", &second_key).await.status, 200);
    assert_eq!(call("POST", &format!("{}/api-keys", emu.api_base()), Some(&c.jwt), None, &[]).await.status, 201);
    // The idempotency key is remembered: a retry replays, nothing is charged twice.
    let replay = create_with_key(&emu, &c.api_key, QUICKSTART, "once").await;
    assert_eq!((replay.status, replay.header("idempotent-replayed")), (201, Some("true")));
    assert_eq!(replay.json["id"], kept_id);
    rid(&replay, &mut ids_after);
    // New ids are new.
    let fresh = create(&emu, &c.api_key, &text_body("after the restart", "720p", 1)).await;
    rid(&fresh, &mut ids_after);
    let fresh_id = fresh.json["id"].as_str().unwrap();
    assert!(![kept_id.as_str(), cancelled.as_str(), doomed.as_str()].contains(&fresh_id));
    let before: HashSet<_> = ids_before.iter().collect();
    assert!(ids_after.iter().all(|i| !before.contains(i)), "request ids repeat: {ids_before:?} {ids_after:?}");

    // The jobs go on: the kept one completes and is charged, the doomed one fails, refunded.
    emu.advance(3_600_000);
    assert_eq!(get(&emu, &format!("/v1/videos/{kept_id}"), &c.api_key).await.json["status"], "completed");
    assert_eq!(get(&emu, &format!("/v1/videos/{doomed}"), &c.api_key).await.json["error"]["message"], "decided at creation");
    let l = ledger_of(&emu, &c.email);
    assert_balanced(&l);
    assert_eq!((l["spent_cents"].as_u64(), l["refunded_cents"].as_u64(), l["held_cents"].as_u64()), (Some(120 + 6), Some(6 + 72), Some(0)));
    assert_eq!(l["jobs_created"], 4);
    emu.shutdown().await;

    // A third start sees the settled state (settling is a change, so it was saved).
    let emu = frozen_at(&file).await;
    assert_eq!(ledger_of(&emu, &c.email), l);
    // A reset is saved too.
    assert_eq!(call("POST", &format!("{}/_emulator/reset", emu.url()), None, None, &[]).await.status, 200);
    emu.shutdown().await;
    let emu = frozen_at(&file).await;
    assert_eq!((emu.now_ms(), emu.ledger()["accounts"].clone()), (0, json!([])));
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_bad_state_file_stops_the_start() {
    let dir = scratch_dir("bad");
    let file = dir.join("state.json");
    // Absent or empty: a fresh start, and the file is written at once.
    std::fs::write(&file, "").unwrap();
    let emu = frozen_at(&file).await;
    let c = account(&emu, "bad@example.com");
    create(&emu, &c.api_key, QUICKSTART).await;
    emu.shutdown().await;
    let saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "it holds keys");
    }

    std::fs::write(&file, "not json").unwrap();
    let e = Emulator::builder().state_file(&file).start().await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{e}");
    // A hand edit that breaks the ledger is refused rather than served.
    let mut edited = saved.clone();
    edited["accounts"]["1"]["balance"] = json!(1_000_000);
    std::fs::write(&file, edited.to_string()).unwrap();
    let e = Emulator::builder().state_file(&file).start().await.unwrap_err();
    assert!(e.to_string().contains("inconsistent"), "{e}");
    let mut edited = saved.clone();
    edited["version"] = json!(99);
    std::fs::write(&file, edited.to_string()).unwrap();
    assert!(Emulator::builder().state_file(&file).start().await.is_err());
    // A file that cannot be written is an error at start, not at the first request.
    assert!(Emulator::builder().state_file(dir.join("missing/state.json")).start().await.is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
