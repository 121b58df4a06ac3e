//! The rate limiter (both readings) and the concurrency limit.

mod common;
use common::*;
use usvideo_emulator::{AccountSpec, LimiterMode};

/// Fills a 3-per-minute window at t = 0, 1, 2 s; returns the credentials.
async fn filled(emu: &usvideo_emulator::Emulator) -> String {
    let c = emu.create_account_with(AccountSpec { email: "lim@example.com".into(), balance_cents: BALANCE, requests_per_minute: Some(3), ..AccountSpec::default() });
    for i in 0..3 {
        let r = get(emu, "/v1/account", &c.api_key).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-remaining"), Some((2 - i).to_string().as_str()));
        emu.advance(1_000);
    }
    c.api_key
}

#[tokio::test]
async fn lenient_limiter_refusals_do_not_count() {
    let emu = frozen_with(LimiterMode::Lenient).await;
    let key = filled(&emu).await; // now t = 3 s
    let r = get(&emu, "/v1/account", &key).await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"));
    assert_eq!(r.header("retry-after"), Some("57"), "the first request leaves the window at 60 s");
    assert_eq!((r.header("x-ratelimit-limit"), r.header("x-ratelimit-remaining")), (Some("3"), Some("0")));
    // 4xx answers count too: a create that fails validation uses up the slot freed at 60 s.
    emu.advance(57_000 - 1);
    assert_eq!(get(&emu, "/v1/account", &key).await.header("retry-after"), Some("1"), "rounded up, at least 1");
    emu.advance(1);
    assert_eq!(create(&emu, &key, "{}").await.status, 400);
    assert_eq!(get(&emu, "/v1/account", &key).await.status, 429);
    emu.advance(1_000);
    assert_eq!(get(&emu, "/v1/account", &key).await.status, 200, "the refusals did not count");
    // Pricing is never limited.
    for _ in 0..5 {
        assert_eq!(call("GET", &format!("{}/v1/pricing", emu.url()), Some(&key), None, &[]).await.status, 200);
    }
}

#[tokio::test]
async fn strict_limiter_refusals_count() {
    let emu = frozen_with(LimiterMode::Strict).await;
    let key = filled(&emu).await; // now t = 3 s
    assert_eq!(get(&emu, "/v1/account", &key).await.status, 429); // counted at 3 s
    emu.advance(57_000); // t = 60 s: the request of 0 s left, but 1 s, 2 s and the refusal at 3 s remain
    let r = get(&emu, "/v1/account", &key).await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"));
    assert_eq!(r.header("retry-after"), Some("1"));
    // Each refusal is one more request in the window: hammering keeps the door shut.
    emu.advance(1_000); // t = 61 s: the 1 s request left, the refusals at 3 s and 60 s count
    assert_eq!(get(&emu, "/v1/account", &key).await.status, 429);
    emu.advance(2_000); // t = 63 s: only the refusals at 60 s and 61 s remain
    assert_eq!(get(&emu, "/v1/account", &key).await.status, 200);
}

#[tokio::test]
async fn unknown_tokens_do_not_count_and_windows_are_per_token() {
    let emu = frozen().await;
    let c = emu.create_account_with(AccountSpec { email: "win@example.com".into(), balance_cents: BALANCE, requests_per_minute: Some(2), ..AccountSpec::default() });
    for _ in 0..5 {
        assert_eq!(get(&emu, "/v1/account", "sd_nobody").await.status, 401);
    }
    assert_eq!(get(&emu, "/v1/account", &c.api_key).await.status, 200);
    assert_eq!(get(&emu, "/v1/account", &c.api_key).await.status, 200);
    assert_eq!(get(&emu, "/v1/account", &c.api_key).await.status, 429);
    // A second key of the same account has its own window.
    let second = emu.create_account("win@example.com", 0).api_key;
    assert_eq!(get(&emu, "/v1/account", &second).await.status, 200);
}

#[tokio::test]
async fn the_eleventh_concurrent_job_is_refused() {
    let emu = frozen().await;
    let c = emu.create_account("conc@example.com", 100_000);
    let mut ends = Vec::new();
    for i in 0..10 {
        let r = create(&emu, &c.api_key, &text_body(&format!("job {i}"), "720p", 1)).await;
        assert_eq!(r.status, 201);
        ends.push(r.json["id"].as_str().unwrap().to_owned());
    }
    let r = create(&emu, &c.api_key, &text_body("one too many", "720p", 1)).await;
    assert_eq!((r.status, r.code()), (429, "concurrency_limit"));
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    // The earliest job needs at least 1 s queued plus some processing; at most 5 s + a long tail.
    assert!((2..=200).contains(&wait), "{wait}");
    let l = ledger_of(&emu, &c.email);
    assert_eq!(l["jobs_created"], 10, "nothing created");

    // A pending job deleted frees a slot at once.
    assert_eq!(delete(&emu, &c.api_key, &ends[0]).await.status, 200);
    assert_eq!(create(&emu, &c.api_key, &text_body("now fits", "720p", 1)).await.status, 201);
    assert_eq!(create(&emu, &c.api_key, &text_body("full again", "720p", 1)).await.status, 429);
    // When Retry-After has passed, a slot has freed.
    emu.advance(wait * 1000);
    assert_eq!(create(&emu, &c.api_key, &text_body("after the wait", "720p", 1)).await.status, 201);

    // Insufficient balance is checked before concurrency.
    let poor = emu.create_account_with(AccountSpec { email: "poor@example.com".into(), balance_cents: 6, concurrent_jobs: Some(1), ..AccountSpec::default() });
    assert_eq!(create(&emu, &poor.api_key, &text_body("one", "720p", 1)).await.status, 201);
    assert_eq!(create(&emu, &poor.api_key, &text_body("two", "720p", 1)).await.status, 402);
}
