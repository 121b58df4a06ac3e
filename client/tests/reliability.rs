//! The fault matrix for Rust: every scenario of `tests/reliability/scenarios.json`, run as
//! `tests/reliability/README.md` describes, results written to `target/reliability/rust.json`.
//! One test, because the scenarios share one emulator and faults are global to it.
#![allow(missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use usvideo::{Client, CreateVideoRequest, Error, PollPolicy, RetryPolicy, WaitOptions};
use usvideo_emulator::Emulator;

const BALANCE: u64 = 10_000;
const BOUND_MS: u128 = 30_000;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn wait_options() -> WaitOptions {
    WaitOptions {
        timeout_ms: Some(60_000),
        cancel_on_timeout: false,
        poll: PollPolicy { first_poll_ms: 100, min_interval_ms: 100, max_interval_ms: 300, expected_scale: 0.01 },
        retry: RetryPolicy::default(),
    }
}

fn client(base: &str, key: &str, options: Option<&Value>) -> Client {
    let mut b = Client::builder().api_key(key).base_url(base);
    if let Some(n) = options.and_then(|o| o.get("max_retries")).and_then(Value::as_u64) {
        b = b.max_retries(u32::try_from(n).unwrap());
    }
    if let Some(ms) = options.and_then(|o| o.get("timeout_ms")).and_then(Value::as_u64) {
        b = b.request_timeout(Duration::from_millis(ms));
    }
    b.build().unwrap()
}

/// What a call ended with: `ok`, or the error's kind and status.
struct Outcome {
    kind: Option<&'static str>,
    status: Option<u16>,
    note: String,
}

impl Outcome {
    fn of<T>(r: Result<T, Error>) -> Outcome {
        match r {
            Ok(_) => Outcome { kind: None, status: None, note: String::new() },
            Err(e) => Outcome { kind: Some(e.kind.as_str()), status: e.status, note: e.to_string() },
        }
    }
}

/// The last ledger entry with this email: (jobs created, cents charged = deposits − balance).
fn money(ledger: &Value, email: &str) -> (u64, u64) {
    let a = ledger["accounts"].as_array().unwrap().iter().rev().find(|a| a["email"] == email).unwrap();
    (a["jobs_created"].as_u64().unwrap(), a["deposits_cents"].as_u64().unwrap() - a["balance_cents"].as_u64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_matrix() {
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(repo().join("tests/reliability/scenarios.json")).unwrap()).unwrap();
    let request: CreateVideoRequest = usvideo::Videos::request_from_json(&spec["request"]).unwrap();
    let emu = Emulator::builder().time_scale(100.0).start().await.unwrap();
    let http = reqwest::Client::new();
    let mut results = Vec::new();

    for s in spec["scenarios"].as_array().unwrap() {
        let id = s["id"].as_str().unwrap();
        let email = format!("{id}@reliability.test");
        let expect = &s["expect"];
        let started;
        let outcome;
        let (jobs, charged);
        if s["call"] == "videos.create_and_wait_across_restart" {
            let run = across_restart(&http, &request, &email).await;
            (started, outcome, (jobs, charged)) = (run.0, run.1, run.2);
        } else {
            http.delete(format!("{}/_emulator/faults", emu.url())).send().await.unwrap().error_for_status().unwrap();
            let creds = emu.create_account(&email, BALANCE);
            let c = client(&emu.api_base(), &creds.api_key, s.get("client"));
            let refused = s["faults"].as_array().unwrap().iter().find_map(|f| emu.add_fault(f.clone()).err());
            started = Instant::now();
            outcome = match s["call"].as_str().unwrap() {
                _ if refused.is_some() => Outcome { kind: Some("usage"), status: None, note: format!("the emulator refused the fault: {refused:?}") },
                "account.retrieve" => Outcome::of(c.account().retrieve().await),
                "videos.create" => Outcome::of(c.videos().create(&request).await),
                "videos.create_and_wait" => Outcome::of(c.videos().create_and_wait(&request, wait_options()).await),
                other => panic!("unknown call {other}"),
            };
            (jobs, charged) = money(&emu.ledger(), &email);
        }
        let elapsed = started.elapsed().as_millis();
        let mut passed = expect["outcome"] == if outcome.kind.is_some() { "error" } else { "ok" };
        passed &= expect.get("kind").is_none_or(|k| Some(k.as_str().unwrap()) == outcome.kind);
        passed &= expect.get("status").is_none_or(|st| st.as_u64() == outcome.status.map(u64::from));
        passed &= expect["jobs_created"].as_u64() == Some(jobs) && expect["charged_cents"].as_u64() == Some(charged);
        passed &= expect.get("min_elapsed_ms").is_none_or(|m| elapsed >= u128::from(m.as_u64().unwrap()));
        passed &= expect.get("max_elapsed_ms").is_none_or(|m| elapsed <= u128::from(m.as_u64().unwrap()));
        passed &= elapsed < BOUND_MS;
        results.push(json!({
            "id": id, "passed": passed, "outcome": if outcome.kind.is_some() { "error" } else { "ok" },
            "kind": outcome.kind, "status": outcome.status, "jobs_created": jobs, "charged_cents": charged,
            "elapsed_ms": elapsed, "note": outcome.note,
        }));
    }

    let dir = repo().join("target/reliability");
    std::fs::create_dir_all(&dir).unwrap();
    let report = json!({"language": "Rust", "client": "usvideo::Client (reqwest, tokio)", "results": results});
    std::fs::write(dir.join("rust.json"), serde_json::to_string_pretty(&report).unwrap()).unwrap();
    let failed: Vec<&Value> = results.iter().filter(|r| r["passed"] != true).collect();
    assert!(failed.is_empty(), "scenarios failed: {failed:#?}");
}

/// The emulator binary, built beside this test by `cargo test --workspace` (or built now).
fn emulator_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(Path::parent).unwrap().join("usvideo-emulator");
    if !bin.exists() {
        let ok = Command::new(env!("CARGO")).args(["build", "-q", "-p", "usvideo-emulator"]).current_dir(repo()).status().unwrap();
        assert!(ok.success());
    }
    bin
}

fn spawn_emulator(port: u16, state: &Path) -> Result<(Child, String), String> {
    let mut child = Command::new(emulator_binary())
        .args(["--port", &port.to_string(), "--time-scale", "20", "--state-file"])
        .arg(state)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    match line.trim().strip_prefix("usvideo-emulator listening on ") {
        Some(url) => Ok((child, url.to_string())),
        None => {
            let _ = child.kill();
            Err(format!("the emulator did not start (start-up line {line:?})"))
        }
    }
}

/// Creates a job, then kills the emulator (SIGKILL) 300 ms later and restarts it 500 ms after
/// that on the same port with the same state file, while the wait goes on.
async fn across_restart(http: &reqwest::Client, request: &CreateVideoRequest, email: &str) -> (Instant, Outcome, (u64, u64)) {
    let state = std::env::temp_dir().join(format!("usvideo-reliability-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&state);
    let (mut first, url) = match spawn_emulator(0, &state) {
        Ok(started) => started,
        Err(e) => return (Instant::now(), Outcome { kind: Some("usage"), status: None, note: e }, (0, 0)),
    };
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let creds: Value = http
        .post(format!("{url}/_emulator/accounts"))
        .json(&json!({"email": email, "balance_cents": BALANCE}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = client(&format!("{url}/v1"), creds["api_key"].as_str().unwrap(), None);
    let started = Instant::now();
    let job = c.videos().create(request).await;
    let outcome = match job {
        Err(e) => Outcome::of::<()>(Err(e)),
        Ok(job) => {
            let state2 = state.clone();
            let restart = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                first.kill().unwrap();
                first.wait().unwrap();
                tokio::time::sleep(Duration::from_millis(500)).await;
                spawn_emulator(port, &state2)
            });
            let r = c.videos().wait(&job.id, wait_options()).await;
            let second = restart.await.unwrap();
            let o = match &r {
                Ok(j) if j.status == usvideo::JobStatus::Completed => Outcome { kind: None, status: None, note: String::new() },
                Ok(j) => Outcome { kind: Some("api_status"), status: None, note: format!("the wait ended with the job {:?}", j.status) },
                Err(e) => Outcome { kind: Some(e.kind.as_str()), status: e.status, note: e.to_string() },
            };
            let ledger: Value = http.get(format!("{url}/_emulator/ledger")).send().await.unwrap().json().await.unwrap();
            if let Ok((mut second, _)) = second {
                let _ = second.kill();
                let _ = second.wait();
            }
            let _ = std::fs::remove_file(&state);
            return (started, o, money(&ledger, email));
        }
    };
    let _ = first.kill();
    (started, outcome, (0, 0))
}
