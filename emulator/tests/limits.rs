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

/// One answer of the load test.
#[derive(Debug, Clone)]
struct Seen {
    round: usize,
    account: usize,
    status: u16,
    code: String,
    retry_after: Option<u64>,
}

const ROUNDS: usize = 14;
const STEP_MS: u64 = 7_000;
const TASKS: usize = 16;
const PER_TASK: usize = 5;

/// 16 tasks over 2 standard accounts create, poll, list and delete in rounds; the frozen clock
/// moves 7 s between rounds, so every request's virtual time is known. Checks that no key ever
/// gets more than 60 requests past the limiter in any 60 s (exactly 60 when saturated), that
/// every 429 carries a correct `Retry-After`, that no account ever has more than 10 active jobs,
/// and that the ledger balances.
async fn load(mode: LimiterMode) {
    let emu = frozen_with(mode).await;
    let creds: Vec<_> = (0..2).map(|i| emu.create_account(&format!("load{i}@example.com"), 100_000)).collect();
    let http = reqwest::Client::new();
    let mut jobs: Vec<Vec<String>> = vec![Vec::new(); TASKS];
    let mut seen: Vec<Seen> = Vec::new();
    let mut created = [0u64; 2];
    for round in 0..ROUNDS {
        let mut tasks = tokio::task::JoinSet::new();
        for (t, mut mine) in jobs.drain(..).enumerate() {
            let (http, base, key) = (http.clone(), emu.api_base(), creds[t % 2].api_key.clone());
            tasks.spawn(async move {
                let mut out = Vec::new();
                for i in 0..PER_TASK {
                    let op = (t + i + round) % 4;
                    let req = if op < 2 || mine.is_empty() {
                        http.post(format!("{base}/videos")).body(text_body(&format!("t{t} r{round} i{i}"), "720p", 1))
                    } else if op == 2 && i % 2 == 0 {
                        http.get(format!("{base}/videos/{}", mine[i % mine.len()]))
                    } else if op == 2 {
                        http.get(format!("{base}/videos?limit=100"))
                    } else {
                        http.delete(format!("{base}/videos/{}", mine[0]))
                    };
                    let res = req.bearer_auth(&key).header("content-type", "application/json").send().await.unwrap();
                    let status = res.status().as_u16();
                    let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
                    let body: serde_json::Value = res.json().await.unwrap();
                    let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
                    match (status, op) {
                        (201, _) => mine.push(body["id"].as_str().unwrap().to_owned()),
                        (200, 3) => drop(mine.remove(0)),
                        (200, _) if body.get("data").is_some() => {
                            let active = body["data"].as_array().unwrap().iter().filter(|j| j["status"] == "pending" || j["status"] == "processing").count();
                            assert!(active <= 10, "{active} active jobs listed");
                        }
                        (200, _) => {}
                        (409, 3) => assert_eq!(code, "job_not_cancellable"),
                        (429, _) => assert!(retry_after.is_some_and(|s| s >= 1), "429 {code} without Retry-After"),
                        _ => panic!("unexpected {status} {body}"),
                    }
                    out.push((status, code, retry_after));
                }
                (t, mine, out)
            });
        }
        let mut back: Vec<Option<Vec<String>>> = vec![None; TASKS];
        while let Some(r) = tasks.join_next().await {
            let (t, mine, out) = r.unwrap();
            back[t] = Some(mine);
            for (status, code, retry_after) in out {
                if status == 201 {
                    created[t % 2] += 6;
                }
                seen.push(Seen { round, account: t % 2, status, code, retry_after });
            }
        }
        jobs = back.into_iter().map(Option::unwrap).collect();
        for l in emu.ledger()["accounts"].as_array().unwrap() {
            assert!(l["active_jobs"].as_u64().unwrap() <= 10, "round {round}: {l}");
            assert_balanced(l);
        }
        emu.advance(STEP_MS);
    }

    // The mix reached every limit: concurrency refusals, deletes refused while processing.
    for (status, code) in [(429, "concurrency_limit"), (429, "rate_limited"), (409, "job_not_cancellable"), (201, "")] {
        assert!(seen.iter().any(|s| s.status == status && s.code == code), "no {status} {code}");
    }
    for account in 0..2 {
        // Per round: requests that passed the limiter (concurrency refusals included: they
        // count), and requests the limiter counted (under strict, its refusals too).
        let mut passed = [0u64; ROUNDS];
        let mut counted = [0u64; ROUNDS];
        for s in seen.iter().filter(|s| s.account == account) {
            if s.code != "rate_limited" {
                passed[s.round] += 1;
            }
            if s.code != "rate_limited" || mode == LimiterMode::Strict {
                counted[s.round] += 1;
            }
        }
        let at = |r: usize| r as u64 * STEP_MS;
        for r in 0..ROUNDS {
            let in_window: u64 = (r..ROUNDS).take_while(|&s| at(s) < at(r) + 60_000).map(|s| passed[s]).sum();
            assert!(in_window <= 60, "{in_window} requests in the minute from round {r}: {passed:?}");
        }
        let saturated: &[u64] = match mode {
            // 40 asked per round: 40 + 20 in the first minute, then again as those leave it.
            LimiterMode::Lenient => &[40, 20, 0, 0, 0, 0, 0, 0, 0, 40, 20, 0, 0, 0],
            // Refusals count: hammering keeps the door shut after the first minute.
            LimiterMode::Strict => &[40, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        };
        assert_eq!(&passed[..], saturated, "account {account}");
        // Retry-After of each rate-limited answer: the first whole second at which a slot is free.
        let used = |r: usize, t: u64| -> u64 { (0..=r).filter(|&s| at(s) <= t && at(s) + 60_000 > t).map(|s| counted[s]).sum() };
        for s in seen.iter().filter(|s| s.account == account && s.code == "rate_limited") {
            let ra = s.retry_after.unwrap();
            assert!((1..=60).contains(&ra), "{s:?}");
            if mode == LimiterMode::Lenient {
                assert!(used(s.round, at(s.round) + ra * 1000) < 60, "still full after Retry-After: {s:?}");
                assert!(ra == 1 || used(s.round, at(s.round) + (ra - 1) * 1000) >= 60, "Retry-After too long: {s:?}");
            }
        }
    }

    emu.advance(3_600_000);
    for (i, c) in creds.iter().enumerate() {
        let l = ledger_of(&emu, &c.email);
        assert_balanced(&l);
        let n = |k: &str| l[k].as_u64().unwrap();
        assert_eq!((n("held_cents"), n("active_jobs")), (0, 0), "{l}");
        assert_eq!(n("spent_cents") + n("refunded_cents"), created[i], "every job charged was spent or refunded once: {l}");
        assert_eq!(n("jobs_created") * 6, created[i]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_under_concurrent_load_lenient() {
    load(LimiterMode::Lenient).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_under_concurrent_load_strict() {
    load(LimiterMode::Strict).await;
}
