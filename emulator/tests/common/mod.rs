//! Shared helpers: an emulator in this process with a frozen clock, and raw HTTP calls.
#![allow(dead_code, unreachable_pub, missing_docs)]

use reqwest::header::HeaderMap;
use serde_json::Value;
use usvideo_emulator::{Credentials, Emulator, LimiterMode};

pub const BALANCE: u64 = 5_000;
pub const QUICKSTART: &str = r#"{ "prompt": "A drone shot over a misty mountain lake at sunrise", "mode": "text_to_video", "resolution": "1080p", "duration": 5 }"#;

/// A frozen-clock emulator (time moves only with `advance`).
pub async fn frozen() -> Emulator {
    Emulator::builder().time_scale(0.0).start().await.expect("emulator starts")
}

pub async fn frozen_with(limiter: LimiterMode) -> Emulator {
    Emulator::builder().time_scale(0.0).limiter(limiter).start().await.expect("emulator starts")
}

/// An answer: status, headers, raw body, and the body as JSON (`Null` when it is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub raw: Vec<u8>,
    pub json: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    pub fn field(&self) -> Option<&str> {
        self.json["error"]["field"].as_str()
    }
}

/// One raw HTTP call on a fresh connection.
pub async fn call(method: &str, url: &str, token: Option<&str>, body: Option<&str>, extra: &[(&str, &str)]) -> Answer {
    try_call(method, url, token, body, extra).await.unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

pub async fn try_call(method: &str, url: &str, token: Option<&str>, body: Option<&str>, extra: &[(&str, &str)]) -> Result<Answer, reqwest::Error> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build()?;
    let mut req = http.request(reqwest::Method::from_bytes(method.as_bytes()).expect("method"), url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_owned());
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let raw = res.bytes().await?.to_vec();
    let json = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Ok(Answer { status, headers, raw, json })
}

pub async fn get(emu: &Emulator, path: &str, token: &str) -> Answer {
    call("GET", &format!("{}{path}", emu.url()), Some(token), None, &[]).await
}

pub async fn create(emu: &Emulator, token: &str, body: &str) -> Answer {
    call("POST", &format!("{}/v1/videos", emu.url()), Some(token), Some(body), &[]).await
}

pub async fn create_with_key(emu: &Emulator, token: &str, body: &str, key: &str) -> Answer {
    call("POST", &format!("{}/v1/videos", emu.url()), Some(token), Some(body), &[("idempotency-key", key)]).await
}

pub async fn delete(emu: &Emulator, token: &str, id: &str) -> Answer {
    call("DELETE", &format!("{}/v1/videos/{id}", emu.url()), Some(token), None, &[]).await
}

pub fn text_body(prompt: &str, resolution: &str, duration: u64) -> String {
    serde_json::json!({"prompt": prompt, "mode": "text_to_video", "resolution": resolution, "duration": duration}).to_string()
}

pub fn account(emu: &Emulator, email: &str) -> Credentials {
    emu.create_account(email, BALANCE)
}

/// The ledger line of one account.
pub fn ledger_of(emu: &Emulator, email: &str) -> Value {
    emu.ledger()["accounts"].as_array().and_then(|a| a.iter().find(|x| x["email"] == email).cloned()).expect("account in the ledger")
}

/// deposits = balance + held + spent.
pub fn assert_balanced(line: &Value) {
    let n = |k: &str| line[k].as_u64().unwrap_or_else(|| panic!("{k} in {line}"));
    assert_eq!(n("deposits_cents"), n("balance_cents") + n("held_cents") + n("spent_cents"), "{line}");
}

/// A fresh, empty directory under the system's temp dir (removed by the caller when done).
pub fn scratch_dir(tag: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("usvideo-emulator-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch dir");
    dir
}
