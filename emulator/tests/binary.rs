//! The binary: its start-up line, it exits when stdin closes, and killed with SIGKILL it
//! restarts on the same port from its state file.

mod common;
use common::scratch_dir;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn prints_its_address_serves_and_exits_when_stdin_closes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_usvideo-emulator"))
        .args(["--port", "0", "--time-scale", "0", "--limiter", "strict", "--seed", "7", "--exit-on-stdin-close"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim_end().strip_prefix("usvideo-emulator listening on ").unwrap_or_else(|| panic!("first line: {line:?}")).to_owned();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"), "{url}");

    let pricing: serde_json::Value = reqwest::get(format!("{url}/v1/pricing")).await.unwrap().json().await.unwrap();
    assert_eq!(pricing["1080p"]["per_second"], 0.24);

    drop(child.stdin.take()); // close stdin
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "the emulator did not exit after stdin closed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn bad_arguments_are_refused() {
    for args in [&["--port", "x"][..], &["--limiter", "loose"], &["--time-scale", "-1"], &["--frobnicate"], &["--state-file"], &["--state-file="]] {
        let out = Command::new(env!("CARGO_BIN_EXE_usvideo-emulator")).args(args).stdin(Stdio::null()).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "stdout carries only the start-up line");
    }
}

#[test]
fn a_state_file_it_cannot_use_exits_1() {
    let dir = scratch_dir("badfile");
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "{not a state file").unwrap();
    for path in [garbage, dir.join("no/such/dir/state.json")] {
        let out = Command::new(env!("CARGO_BIN_EXE_usvideo-emulator")).args(["--port", "0", "--state-file", path.to_str().unwrap()]).stdin(Stdio::null()).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{path:?}");
        assert!(out.stdout.is_empty(), "no start-up line");
        assert!(String::from_utf8_lossy(&out.stderr).contains("state file"), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(std::fs::read_to_string(dir.join("garbage.json")).unwrap(), "{not a state file", "left as it was");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts the binary (it exits if the test dies: stdin is a pipe); returns it and its URL.
fn spawn(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_usvideo-emulator"))
        .args(args)
        .arg("--exit-on-stdin-close")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim_end().strip_prefix("usvideo-emulator listening on ").unwrap_or_else(|| panic!("first line: {line:?}")).to_owned();
    (child, url)
}

/// The scenario other languages' tests run: a job is created, the emulator is SIGKILLed 300 ms
/// later and restarted 500 ms after that on the same port with the same state file; the
/// client's wait ends with the job completed, charged once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkilled_emulator_restarts_on_the_same_port_from_its_state_file() {
    let dir = scratch_dir("sigkill");
    let file = dir.join("state.json");
    let file_arg = file.to_str().unwrap();
    // Seed 21: the first 1080p × 5 s job takes 44 virtual seconds (seed 1: 116), 2.2 s real.
    let (mut first, url) = spawn(&["--port", "0", "--time-scale", "20", "--seed", "21", "--state-file", file_arg]);
    let port = url.rsplit(':').next().unwrap().to_owned();
    // One pooled client throughout, as an SDK would hold: its connection dies with the server.
    let http = reqwest::Client::new();
    let mut request_ids = Vec::new();
    let account: Value = http.post(format!("{url}/_emulator/accounts")).json(&json!({"email": "kill@example.com", "balance_cents": 5_000})).send().await.unwrap().json().await.unwrap();
    let key = account["api_key"].as_str().unwrap().to_owned();
    let res = http.post(format!("{url}/v1/videos")).bearer_auth(&key).header("content-type", "application/json").body(common::QUICKSTART).send().await.unwrap();
    assert_eq!(res.status(), 201);
    request_ids.push(res.headers()["x-request-id"].to_str().unwrap().to_owned());
    let job: Value = res.json().await.unwrap();
    let id = job["id"].as_str().unwrap().to_owned();
    // An idle keep-alive connection at kill time: the old server end lingers (FIN_WAIT / TIME_WAIT)
    // on the port, which only SO_REUSEADDR lets a new listener bind over.
    let mut idle = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    idle.write_all(b"GET /v1/pricing HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
    let mut buf = [0u8; 4096];
    assert!(idle.read(&mut buf).unwrap() > 0);

    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill().unwrap(); // SIGKILL on Unix
    first.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (mut second, url2) = spawn(&["--port", &port, "--time-scale", "20", "--seed", "21", "--state-file", file_arg]);
    assert_eq!(url2, url, "the same port");

    // The client's wait: poll until the job is finished, through the one failed connection.
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = loop {
        assert!(Instant::now() < deadline, "the job did not complete after the restart");
        if let Ok(res) = http.get(format!("{url}/v1/videos/{id}")).bearer_auth(&key).send().await {
            assert_eq!(res.status(), 200, "the key still works");
            request_ids.push(res.headers()["x-request-id"].to_str().unwrap().to_owned());
            let j: Value = res.json().await.unwrap();
            if j["status"] != "pending" && j["status"] != "processing" {
                break j;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!((done["status"].as_str(), done["cost_cents"].as_u64()), (Some("completed"), Some(120)), "{done}");
    assert_eq!(done["created_at"], job["created_at"]);
    let ledger: Value = http.get(format!("{url}/_emulator/ledger")).send().await.unwrap().json().await.unwrap();
    let l = &ledger["accounts"][0];
    assert_eq!(ledger["accounts"].as_array().map(Vec::len), Some(1));
    let n = |k: &str| l[k].as_u64().unwrap();
    assert_eq!((n("jobs_created"), n("spent_cents"), n("held_cents"), n("balance_cents"), n("deposits_cents")), (1, 120, 0, 4_880, 5_000), "{l}");
    // New ids are new.
    let res = http.post(format!("{url}/v1/videos")).bearer_auth(&key).header("content-type", "application/json").body(common::QUICKSTART).send().await.unwrap();
    request_ids.push(res.headers()["x-request-id"].to_str().unwrap().to_owned());
    let again: Value = res.json().await.unwrap();
    assert_ne!(again["id"], id);
    let unique: std::collections::HashSet<_> = request_ids.iter().collect();
    assert_eq!(unique.len(), request_ids.len(), "{request_ids:?}");

    second.kill().unwrap();
    second.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGKILL in the middle of a stream of writes, five times over: every restart loads the file,
/// the ledger balances, and every create the client saw answered is in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_any_moment_the_state_file_still_loads() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let dir = scratch_dir("anykill");
    let file = dir.join("state.json");
    let file_arg = file.to_str().unwrap();
    let answered = Arc::new(AtomicU64::new(0));
    let mut key = String::new();
    for round in 0..5u64 {
        let (mut child, url) = spawn(&["--port", "0", "--time-scale", "50", "--state-file", file_arg]);
        let http = reqwest::Client::new();
        if round == 0 {
            let body = json!({"email": "any@example.com", "balance_cents": 10_000_000, "plan": "enterprise", "requests_per_minute": 1_000_000, "concurrent_jobs": 100_000});
            let account: Value = http.post(format!("{url}/_emulator/accounts")).json(&body).send().await.unwrap().json().await.unwrap();
            key = account["api_key"].as_str().unwrap().to_owned();
        } else {
            let ledger: Value = http.get(format!("{url}/_emulator/ledger")).send().await.unwrap().json().await.unwrap();
            let l = &ledger["accounts"][0];
            let n = |k: &str| l[k].as_u64().unwrap();
            assert_eq!(n("deposits_cents"), n("balance_cents") + n("held_cents") + n("spent_cents"), "{l}");
            let seen = answered.load(Ordering::SeqCst);
            // The create in flight at the kill may have been saved without its answer arriving.
            assert!((seen..=seen + 4).contains(&n("jobs_created")), "{seen} answered, {l}");
            answered.store(n("jobs_created"), Ordering::SeqCst);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for t in 0..4 {
            let (http, url, key, answered) = (http.clone(), url.clone(), key.clone(), answered.clone());
            tasks.spawn(async move {
                for i in 0.. {
                    let body = json!({"prompt": format!("r{round} t{t} i{i}"), "mode": "text_to_video", "resolution": "720p", "duration": 1});
                    match http.post(format!("{url}/v1/videos")).bearer_auth(&key).json(&body).send().await {
                        Ok(res) if res.status() == 201 => answered.fetch_add(1, Ordering::SeqCst),
                        Ok(res) => panic!("{}", res.status()),
                        Err(_) => break, // killed
                    };
                }
            });
        }
        tokio::time::sleep(Duration::from_millis(40 + round * 23)).await;
        child.kill().unwrap();
        child.wait().unwrap();
        while tasks.join_next().await.is_some() {}
    }
    let _ = std::fs::remove_dir_all(&dir);
}
