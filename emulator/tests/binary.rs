//! The binary: its start-up line, and it exits when stdin closes.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
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
    for args in [&["--port", "x"][..], &["--limiter", "loose"], &["--time-scale", "-1"], &["--frobnicate"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_usvideo-emulator")).args(args).stdin(Stdio::null()).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "stdout carries only the start-up line");
    }
}
