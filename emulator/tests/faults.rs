//! Injected faults: statuses, delays, dropped connections, broken bodies, failed jobs.

mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn status_faults_answer_instead_with_no_state_change() {
    let emu = frozen().await;
    let c = account(&emu, "f1@example.com");
    emu.add_fault(json!([
        {"method": "POST", "path": "/v1/videos", "status": 500},
        {"method": "POST", "path": "/v1/videos", "status": 502, "times": 2},
        {"method": "GET", "path": "/v1/videos/*", "status": 429, "retry_after": 3},
        {"method": "GET", "path": "/v1/account", "status": 503, "body": "<html>bad gateway</html>", "content_type": "text/html"},
    ]))
    .unwrap();
    let r = create(&emu, &c.api_key, QUICKSTART).await;
    assert_eq!((r.status, r.code()), (500, "internal_error"));
    for _ in 0..2 {
        let r = create(&emu, &c.api_key, QUICKSTART).await;
        assert_eq!((r.status, r.code()), (502, "upstream_error"));
    }
    assert_eq!(ledger_of(&emu, &c.email)["jobs_created"], 0, "no state change");
    let r = get(&emu, "/v1/videos/job_x", "sd_not_even_a_key").await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("3")), "no auth before a fault");
    let r = get(&emu, "/v1/account", &c.api_key).await;
    assert_eq!((r.status, r.header("content-type"), r.raw.as_slice()), (503, Some("text/html"), &b"<html>bad gateway</html>"[..]));
    assert!(r.header("x-request-id").is_some());
    // Used up: the real answers are back.
    assert_eq!(create(&emu, &c.api_key, QUICKSTART).await.status, 201);
    assert_eq!(get(&emu, "/v1/account", &c.api_key).await.status, 200);
    // Faulted requests did not count against the limiter: 2 real requests so far.
    assert_eq!(get(&emu, "/v1/account", &c.api_key).await.header("x-ratelimit-remaining"), Some("57"));
}

#[tokio::test]
async fn control_paths_and_preflights_are_never_faulted() {
    let emu = frozen().await;
    emu.add_fault(json!({"method": "*", "path": "*", "status": 500, "times": 100})).unwrap();
    assert_eq!(call("GET", &format!("{}/_emulator/ledger", emu.url()), None, None, &[]).await.status, 200);
    assert_eq!(call("OPTIONS", &format!("{}/v1/videos", emu.url()), None, None, &[]).await.status, 204);
    assert_eq!(call("GET", &format!("{}/v1/pricing", emu.url()), None, None, &[]).await.status, 500);
}

#[tokio::test]
async fn a_delay_is_waited_then_answered() {
    let emu = frozen().await;
    let c = account(&emu, "f2@example.com");
    emu.add_fault(json!({"method": "GET", "path": "/v1/account", "delay_ms": 150})).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(get(&emu, "/v1/account", &c.api_key).await.status, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(150), "a lower bound, not a speed test");
}

#[tokio::test]
async fn drop_before_closes_with_no_effect() {
    let emu = frozen().await;
    let c = account(&emu, "f3@example.com");
    emu.add_fault(json!({"method": "POST", "path": "/v1/videos", "drop": "before"})).unwrap();
    let e = try_call("POST", &format!("{}/v1/videos", emu.url()), Some(&c.api_key), Some(QUICKSTART), &[]).await;
    assert!(e.is_err(), "no answer: {e:?}");
    let l = ledger_of(&emu, &c.email);
    assert_eq!((l["jobs_created"].as_u64(), l["balance_cents"].as_u64()), (Some(0), Some(BALANCE)));
    assert_eq!(create(&emu, &c.api_key, QUICKSTART).await.status, 201, "the next one goes through");
}

#[tokio::test]
async fn drop_after_creates_and_charges_exactly_once() {
    let emu = frozen().await;
    let c = account(&emu, "f4@example.com");
    emu.add_fault(json!({"method": "POST", "path": "/v1/videos", "drop": "after"})).unwrap();
    let e = try_call("POST", &format!("{}/v1/videos", emu.url()), Some(&c.api_key), Some(QUICKSTART), &[("idempotency-key", "abc")]).await;
    assert!(e.is_err(), "no answer: {e:?}");
    let l = ledger_of(&emu, &c.email);
    assert_eq!((l["jobs_created"].as_u64(), l["balance_cents"].as_u64(), l["held_cents"].as_u64()), (Some(1), Some(BALANCE - 120), Some(120)));
    let listed = get(&emu, "/v1/videos", &c.api_key).await.json;
    assert_eq!(listed["total"], 1, "the job exists");
    // A retry with the same key replays it rather than charging twice.
    let r = create_with_key(&emu, &c.api_key, QUICKSTART, "abc").await;
    assert_eq!((r.status, r.header("idempotent-replayed")), (201, Some("true")));
    assert_eq!(r.json["id"], listed["data"][0]["id"]);
    assert_eq!(ledger_of(&emu, &c.email)["jobs_created"], 1);
}

#[tokio::test]
async fn malformed_and_truncated_bodies_after_the_effect() {
    let emu = frozen().await;
    let c = account(&emu, "f5@example.com");
    emu.add_fault(json!({"method": "POST", "path": "/v1/videos", "malformed": true})).unwrap();
    let r = create(&emu, &c.api_key, QUICKSTART).await;
    assert_eq!(r.status, 201);
    assert!(r.raw.starts_with(br#"{"id": "job_"#), "{}", String::from_utf8_lossy(&r.raw));
    assert!(serde_json::from_slice::<serde_json::Value>(&r.raw).is_err());
    assert_eq!(ledger_of(&emu, &c.email)["jobs_created"], 1, "it took effect");

    emu.add_fault(json!({"method": "GET", "path": "/v1/account", "truncate": true})).unwrap();
    match try_call("GET", &format!("{}/v1/account", emu.url()), Some(&c.api_key), None, &[]).await {
        Err(_) => {} // the connection ended mid-body
        Ok(r) => panic!("a truncated body must not read as whole: {} {:?}", r.status, String::from_utf8_lossy(&r.raw)),
    }
    // The raw bytes: a full Content-Length is announced, half the body arrives, then EOF.
    emu.add_fault(json!({"method": "GET", "path": "/v1/account", "truncate": true})).unwrap();
    let (head, body) = raw_get(&emu, "/v1/account", &c.api_key).await;
    let announced: usize = head.lines().find_map(|l| l.strip_prefix("content-length: ")).unwrap().trim().parse().unwrap();
    assert_eq!(body.len(), announced / 2, "{head}");
    assert!(head.starts_with("HTTP/1.1 200"));
}

/// A GET over a bare TCP stream, read until the server closes: (head, body bytes).
async fn raw_get(emu: &usvideo_emulator::Emulator, path: &str, key: &str) -> (String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = emu.url().trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {key}\r\n\r\n").as_bytes()).await.unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all).await;
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    (String::from_utf8_lossy(&all[..split]).to_string(), all[split + 4..].to_vec())
}

#[tokio::test]
async fn fail_job_ends_failed_and_refunded() {
    let emu = frozen().await;
    let c = account(&emu, "f6@example.com");
    emu.add_fault(json!({"fail_job": true, "message": "the model refused"})).unwrap();
    // A refused create does not use the fault up.
    assert_eq!(create(&emu, &c.api_key, "{}").await.status, 400);
    let doomed = create(&emu, &c.api_key, QUICKSTART).await.json["id"].as_str().unwrap().to_owned();
    let fine = create(&emu, &c.api_key, QUICKSTART).await.json["id"].as_str().unwrap().to_owned();
    assert_eq!(ledger_of(&emu, &c.email)["held_cents"], 240);
    emu.advance(600_000);
    let j = get(&emu, &format!("/v1/videos/{doomed}"), &c.api_key).await.json;
    assert_eq!(j["status"], "failed");
    assert_eq!(j["error"], json!({"code": "generation_failed", "message": "the model refused"}));
    assert!(j.get("video_url").is_none() && j.get("cost_cents").is_none());
    assert_eq!(get(&emu, &format!("/v1/videos/{fine}"), &c.api_key).await.json["status"], "completed");
    assert_eq!(call("GET", &format!("{}/files/{doomed}.mp4", emu.url()), None, None, &[]).await.status, 404);
    let l = ledger_of(&emu, &c.email);
    assert_eq!((l["refunded_cents"].as_u64(), l["spent_cents"].as_u64(), l["balance_cents"].as_u64()), (Some(120), Some(120), Some(BALANCE - 120)));
    assert_balanced(&l);
    let a = get(&emu, "/v1/account", &c.api_key).await.json;
    assert_eq!((a["total_jobs"].as_u64(), a["total_spent_cents"].as_u64()), (Some(2), Some(120)));
    // A failed job is deleted without a refund (it had one already).
    assert_eq!(delete(&emu, &c.api_key, &doomed).await.json["refunded_cents"], 0);
}

#[tokio::test]
async fn huge_body_streams_exactly_n_bytes_of_json() {
    const N: usize = 8 * 1024 * 1024;
    let emu = frozen().await;
    let c = account(&emu, "f7@example.com");
    emu.add_fault(json!({"method": "GET", "path": "/v1/account", "huge_body": N})).unwrap();
    let r = get(&emu, "/v1/account", "sd_no_auth_needed").await;
    assert_eq!((r.status, r.header("content-type")), (200, Some("application/json")));
    assert_eq!(r.header("content-length"), Some(N.to_string().as_str()));
    assert_eq!(r.raw.len(), N);
    assert_eq!(r.json["pad"].as_str().map(str::len), Some(N - r#"{"pad": ""}"#.len()), "valid JSON, padded to the byte");

    // A client that stops at a 4 MiB cap and hangs up: the emulator carries on.
    emu.add_fault(json!({"path": "/v1/account", "huge_body": N, "status": 502, "retry_after": 2})).unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = emu.url().trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(format!("GET /v1/account HTTP/1.1\r\nhost: {addr}\r\n\r\n").as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while got.len() < 4 * 1024 * 1024 {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "the body ended early at {}", got.len());
        got.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&got[..got.windows(4).position(|w| w == b"\r\n\r\n").unwrap()]).to_string();
    assert!(head.starts_with("HTTP/1.1 502") && head.contains("retry-after: 2") && head.contains(&format!("content-length: {N}")), "{head}");
    drop(s);

    let a = get(&emu, "/v1/account", &c.api_key).await;
    assert_eq!((a.status, a.header("x-ratelimit-remaining")), (200, Some("59")), "no state change, nothing counted");
    assert_eq!(a.json["balance_cents"], BALANCE);
    let bad = call("POST", &format!("{}/_emulator/faults", emu.url()), None, Some(r#"{"huge_body": 10}"#), &[]).await;
    assert_eq!(bad.status, 400);
}
