//! Every endpoint and every error status, through the client, against the emulator over loopback.

mod common;
use common::*;
use futures::StreamExt;
use usvideo::{Client, CreateOptions, ErrorKind, IdempotencyKey, JobStatus, ListParams, PricingTable};

#[tokio::test]
async fn create_retrieve_list_delete_account_pricing() {
    let (_emu, client, _) = setup(0.0).await;
    let before = client.account().retrieve().await.unwrap();
    assert_eq!(before.balance_cents, BALANCE);

    let job = client.videos().create(&text_request("a lake at dawn")).await.unwrap();
    assert_eq!(job.status, JobStatus::Pending);
    assert_eq!(job.estimated_cost_cents, Some(120));
    assert_eq!(client.videos().retrieve(&job.id).await.unwrap().id, job.id);

    for i in 0..2 {
        client.videos().create(&text_request(&format!("clip {i}"))).await.unwrap();
    }
    let page = client.videos().list(ListParams { limit: Some(2), offset: None }).await.unwrap();
    assert_eq!(page.data.len(), 2);
    assert!(page.has_more);
    assert_eq!(page.data[0].prompt.as_deref(), Some("clip 1"), "most recent first");
    let all: Vec<_> = client.videos().list_all().collect().await;
    assert_eq!(all.len(), 3);

    let account = client.account().retrieve().await.unwrap();
    assert_eq!(account.balance_cents, BALANCE - 360);
    assert_eq!(account.total_jobs, 3);

    let deleted = client.videos().delete(&job.id).await.unwrap();
    assert!(deleted.deleted);
    assert_eq!(deleted.refunded_cents, 120, "a pending job is refunded");
    assert_eq!(client.account().retrieve().await.unwrap().balance_cents, BALANCE - 240);

    assert_eq!(client.pricing().retrieve().await.unwrap(), PricingTable::builtin());
}

#[tokio::test]
async fn a_create_under_a_key_of_ones_own_gets_its_job_again() {
    // What a caller whose create's future was dropped after it was sent does: create again under
    // the same key, and the service answers with that job (one job, one charge).
    let (emu, client, _) = setup(0.0).await;
    let key = || CreateOptions { idempotency_key: Some(IdempotencyKey::from_string("order-1234-video").unwrap()) };
    let first = client.videos().create_with(&text_request("a lake at dawn"), key()).await.unwrap();
    let again = client.videos().create_with(&text_request("a lake at dawn"), key()).await.unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(ledger(&emu)["jobs_created"], 1, "{}", ledger(&emu));
}

/// A fault that answers the next list with a bare array of `n` completed jobs (`job_<from>`, …).
fn bare_page(from: usize, n: usize) -> serde_json::Value {
    let jobs: Vec<_> = (from..from + n)
        .map(|i| serde_json::json!({"id": format!("job_{i}"), "status": "completed", "mode": "text_to_video", "resolution": "720p", "duration": 5, "estimated_cost_cents": 30, "created_at": "2026-04-21T15:30:00Z", "video_url": format!("https://cdn.example/{i}.mp4")}))
        .collect();
    serde_json::json!({"method": "GET", "path": "/v1/videos", "status": 200, "body": serde_json::Value::Array(jobs).to_string(), "content_type": "application/json"})
}

#[tokio::test]
async fn list_all_walks_bare_array_pages() {
    // A bare array as long as the asked limit may have more after it; the short one is the last.
    let (emu, client, _) = setup(0.0).await;
    emu.add_fault(serde_json::json!([bare_page(0, 100), bare_page(100, 7)])).unwrap();
    let ids: Vec<String> = client.videos().list_all().map(|j| j.unwrap().id).collect().await;
    assert_eq!((ids.len(), ids.last().map(String::as_str)), (107, Some("job_106")));
    emu.add_fault(bare_page(0, 3)).unwrap();
    let page = client.videos().list(ListParams { limit: Some(3), offset: Some(30) }).await.unwrap();
    assert_eq!((page.limit, page.offset, page.has_more), (3, 30, true));
    // A server that ignores `offset` answers every page alike: the walk ends at the repeat.
    let mut same = bare_page(0, 100);
    same["times"] = serde_json::json!(10);
    emu.add_fault(same).unwrap();
    assert_eq!(client.videos().list_all().collect::<Vec<_>>().await.len(), 100);
}

#[tokio::test]
async fn api_keys_need_a_jwt_and_work_at_once() {
    let (emu, client, creds) = setup(0.0).await;
    let created = client.api_keys().create(&creds.jwt, Some("ci")).await.unwrap();
    assert!(created.key.starts_with("sd_"));
    assert!(!format!("{created:?}").contains(&created.key), "Debug redacts the new key");
    let other = Client::builder().api_key(&created.key).base_url(emu.api_base()).build().unwrap();
    assert_eq!(other.account().retrieve().await.unwrap().email, creds.email);
    let err = client.api_keys().create(&creds.api_key, None).await.unwrap_err();
    assert_eq!((err.kind, err.field.as_deref()), (ErrorKind::Validation, Some("jwt")));
}

#[tokio::test]
async fn error_statuses_become_typed_errors() {
    let (emu, client, _) = setup(0.0).await;

    let stranger = Client::builder().api_key("sd_unknown_key_0000000000").base_url(emu.api_base()).build().unwrap();
    let e = stranger.account().retrieve().await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Authentication, Some(401)));
    assert!(e.request_id.is_some(), "x-request-id is kept");

    let e = client.videos().retrieve("job_doesnotexist").await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::NotFound, Some(404)));

    let poor = emu.create_account("me@example.com", 50);
    let poor = Client::builder().api_key(&poor.api_key).base_url(emu.api_base()).build().unwrap();
    let e = poor.videos().create(&text_request("too expensive")).await.unwrap_err();
    assert_eq!((e.kind, e.status, e.code.as_str()), (ErrorKind::InsufficientBalance, Some(402), "insufficient_balance"));
    assert_eq!(poor.account().retrieve().await.unwrap().total_jobs, 0, "nothing created");

    let job = client.videos().create(&text_request("soon processing")).await.unwrap();
    emu.advance(6_000); // past the longest queue time (5 s): processing
    let e = client.videos().delete(&job.id).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Conflict, Some(409)));

    emu.add_fault(serde_json::json!({"method": "GET", "path": "/v1/account", "status": 400, "body": {"error": {"code": "invalid_request", "message": "bad", "field": "limit"}}})).unwrap();
    let e = client.account().retrieve().await.unwrap_err();
    assert_eq!((e.kind, e.field.as_deref()), (ErrorKind::BadRequest, Some("limit")));

    let strict = Client::builder().api_key(emu_key(&emu)).base_url(emu.api_base()).max_retries(0).build().unwrap();
    for (status, kind) in [(500, ErrorKind::InternalServer), (502, ErrorKind::Upstream), (503, ErrorKind::ApiStatus), (429, ErrorKind::RateLimit)] {
        emu.add_fault(serde_json::json!({"method": "GET", "path": "/v1/account", "status": status})).unwrap();
        let e = strict.account().retrieve().await.unwrap_err();
        assert_eq!((e.kind, e.status), (kind, Some(status)));
    }
}

fn emu_key(emu: &usvideo_emulator::Emulator) -> String {
    emu.create_account(&format!("k{}@example.com", emu.now_ms()), 1_000).api_key
}

#[tokio::test]
async fn concurrency_limit_refuses_the_eleventh_job() {
    let (emu, _, creds) = setup(0.0).await;
    // No retries: on a frozen clock the slot never frees, and waiting it out proves nothing.
    let client = usvideo::Client::builder().api_key(&creds.api_key).base_url(emu.api_base()).max_retries(0).build().unwrap();
    for i in 0..10 {
        let mut r = text_request(&format!("job {i}"));
        r.resolution = Some(usvideo::Resolution::P720);
        client.videos().create(&r).await.unwrap();
    }
    let e = client.videos().create(&text_request("one too many")).await.unwrap_err();
    assert_eq!((e.kind, e.code.as_str()), (ErrorKind::RateLimit, "concurrency_limit"));
    assert!(e.retry_after_ms.is_some());
}

/// A client without a key sends none, so a layer beneath it (a server-side proxy; here reqwest's
/// default headers) can add it; a 401 to it says the client had none; to the service itself, its
/// calls that need a key are refused before they are sent.
#[tokio::test]
async fn a_keyless_client_sends_no_key_for_a_proxy_to_add() {
    let (emu, _, creds) = setup(0.0).await;
    // An empty key is none, even where USVIDEO_API_KEY is set.
    let bare = Client::builder().api_key("").base_url(emu.api_base()).build().unwrap();
    let e = bare.videos().list(ListParams::default()).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Authentication, Some(401)));
    assert!(e.message.contains("no API key was sent: this client has none"), "{}", e.message);

    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {}", creds.api_key).parse().unwrap());
    let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
    let proxied = Client::builder().api_key("").base_url(emu.api_base()).http_client(http).build().unwrap();
    let job = proxied.videos().create(&text_request("through a proxy")).await.unwrap();
    assert_eq!(proxied.videos().retrieve(&job.id).await.unwrap().id, job.id);
    assert_eq!(ledger(&emu)["jobs_created"], 1);

    let direct = Client::builder().api_key("").base_url("https://usvideoapi.com/v1").build().unwrap();
    for e in [direct.account().retrieve().await.unwrap_err(), direct.videos().create(&text_request("x")).await.unwrap_err()] {
        assert_eq!(e.kind, ErrorKind::Validation);
        assert_eq!(e.issues.first().map(|i| (i.field.as_str(), i.code)), Some(("api_key", usvideo_core::IssueCode::Required)), "{e}");
    }
}

#[tokio::test]
async fn validation_happens_before_sending() {
    let (emu, client, _) = setup(0.0).await;
    let mut r = text_request(" ");
    r.duration = Some(11);
    let e = client.videos().create(&r).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Validation);
    assert_eq!(e.issues.len(), 2);
    let e = usvideo::Videos::request_from_json(&serde_json::json!({"prompt": "x", "mode": "text_to_video", "resolutoin": "1080p"})).unwrap_err();
    assert!(e.message.contains("did you mean `resolution`"), "{}", e.message);
    assert_eq!(ledger(&emu)["jobs_created"], 0);
}

#[tokio::test]
async fn keys_never_show() {
    let (emu, client, creds) = setup(0.0).await;
    assert!(!format!("{client:?}").contains(&creds.api_key));
    let wrong = format!("{}x", creds.api_key);
    let stranger = Client::builder().api_key(&wrong).base_url(emu.api_base()).build().unwrap();
    let e = stranger.account().retrieve().await.unwrap_err();
    for shown in [format!("{e}"), format!("{e:?}")] {
        assert!(!shown.contains(&wrong) && !shown.contains(&creds.api_key), "{shown}");
    }

    // The JWT: refused by the server (401), refused before sending (a newline), in Debug.
    let bad_jwt = format!("{}x", creds.jwt);
    let mut shown = Vec::new();
    let e = client.api_keys().create(&bad_jwt, Some("n")).await.unwrap_err();
    shown.extend([format!("{e}"), format!("{e:?}")]);
    let e = client.api_keys().create(&format!("{}\nX-Injected: 1", creds.jwt), None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Validation);
    shown.extend([format!("{e}"), format!("{e:?}")]);
    // A key with a newline is refused when the client is built, without echoing it.
    let e = Client::builder().api_key(format!("{}\n", creds.api_key)).base_url(emu.api_base()).build().unwrap_err();
    shown.extend([format!("{e}"), format!("{e:?}")]);
    shown.push(format!("{:?}", Client::builder().api_key(&creds.api_key)));
    for s in &shown {
        for secret in [&creds.api_key, &creds.jwt, &bad_jwt] {
            assert!(!s.contains(secret.as_str()), "a secret in {s}");
        }
        // Not even the JWT's signature part alone.
        assert!(!s.contains(creds.jwt.rsplit('.').next().unwrap()), "a JWT signature in {s}");
    }
}

/// Pricing needs no key, so the key's rate limit neither holds nor counts it: with the key's one
/// slot of the minute spent, it is answered at once (it waited out the minute).
#[tokio::test]
async fn pricing_is_not_held_by_the_keys_spent_rate_limit() {
    let (emu, _client, creds) = setup(0.0).await;
    let one = usvideo::Client::builder().api_key(&creds.api_key).base_url(emu.api_base()).requests_per_minute(1).build().unwrap();
    one.account().retrieve().await.unwrap();
    let started = std::time::Instant::now();
    one.pricing().retrieve().await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
}
