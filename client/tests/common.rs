//! Shared set-up: an emulator in this process and a client pointed at it.
#![allow(dead_code, unreachable_pub, missing_docs)]

use usvideo::{Client, PollPolicy, RetryPolicy, WaitOptions};
use usvideo_emulator::{Credentials, Emulator};

pub const BALANCE: u64 = 5_000;

pub async fn setup(time_scale: f64) -> (Emulator, Client, Credentials) {
    let emu = Emulator::builder().time_scale(time_scale).start().await.unwrap();
    let creds = emu.create_account("me@example.com", BALANCE);
    let client = Client::builder().api_key(&creds.api_key).base_url(emu.api_base()).build().unwrap();
    (emu, client, creds)
}

/// Polls often, so tests against a sped-up emulator finish quickly.
pub fn fast_wait(timeout_ms: u64) -> WaitOptions {
    WaitOptions {
        timeout_ms: Some(timeout_ms),
        cancel_on_timeout: false,
        poll: PollPolicy { first_poll_ms: 100, min_interval_ms: 100, max_interval_ms: 300, expected_scale: 0.01 },
        retry: RetryPolicy { base_delay_ms: 50, max_delay_ms: 200, ..RetryPolicy::default() },
    }
}

pub fn text_request(prompt: &str) -> usvideo::CreateVideoRequest {
    let mut r = usvideo::CreateVideoRequest::text(prompt);
    r.resolution = Some(usvideo::Resolution::P1080);
    r.duration = Some(5);
    r
}

/// The emulator's ledger entry for the test account.
pub fn ledger(emu: &Emulator) -> serde_json::Value {
    let l = emu.ledger();
    l["accounts"].as_array().unwrap().iter().find(|a| a["email"] == "me@example.com").cloned().unwrap()
}
