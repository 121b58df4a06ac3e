//! Every endpoint and its error statuses, over raw loopback HTTP.

mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn seed_quickstart_flow() {
    let emu = frozen().await;
    let c = account(&emu, "quick@example.com");
    let created = create(&emu, &c.api_key, QUICKSTART).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.json["status"], "pending");
    assert_eq!(created.json["estimated_cost_cents"], 120);
    assert_eq!(created.json["progress"], 0);
    assert!(created.json.get("video_url").is_none());
    let created_at = created.json["created_at"].as_str().unwrap();
    assert!(created_at.len() == 20 && created_at.ends_with('Z'), "{created_at}");
    let id = created.json["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("job_"));
    assert_eq!(ledger_of(&emu, &c.email)["held_cents"], 120);

    let mut seen_processing = false;
    let mut last = created.json.clone();
    for _ in 0..100 {
        emu.advance(2_000);
        last = get(&emu, &format!("/v1/videos/{id}"), &c.api_key).await.json;
        seen_processing |= last["status"] == "processing";
        if last["status"] == "completed" {
            break;
        }
    }
    assert!(seen_processing, "the job went through processing");
    assert_eq!(last["status"], "completed");
    assert_eq!(last["cost_cents"], 120);
    assert_eq!(last["progress"], 100);
    let url = last["video_url"].as_str().unwrap();
    assert_eq!(url, format!("{}/files/{id}.mp4", emu.url()));

    let video = call("GET", url, None, None, &[]).await;
    assert_eq!(video.status, 200);
    assert_eq!(video.header("content-type"), Some("video/mp4"));
    assert_eq!(video.header("content-length"), Some(video.raw.len().to_string().as_str()));
    assert_eq!(&video.raw[4..8], b"ftyp", "an MP4 starts with an ftyp box");

    let l = ledger_of(&emu, &c.email);
    assert_eq!((l["held_cents"].as_u64(), l["spent_cents"].as_u64(), l["balance_cents"].as_u64()), (Some(0), Some(120), Some(BALANCE - 120)));
    assert_balanced(&l);

    // The file is gone with the job.
    assert_eq!(delete(&emu, &c.api_key, &id).await.json["refunded_cents"], 0);
    assert_eq!(call("GET", url, None, None, &[]).await.status, 404);
}

#[tokio::test]
async fn progress_is_linear_through_processing() {
    let emu = frozen().await;
    let c = account(&emu, "progress@example.com");
    let id = create(&emu, &c.api_key, QUICKSTART).await.json["id"].as_str().unwrap().to_owned();
    let mut last = 0;
    for _ in 0..400 {
        emu.advance(1_100); // under 60 requests a minute
        let j = get(&emu, &format!("/v1/videos/{id}"), &c.api_key).await.json;
        let p = j["progress"].as_u64().unwrap();
        assert!(p >= last && p <= 100);
        if j["status"] == "processing" {
            assert!(p < 100);
        }
        last = p;
        if j["status"] == "completed" {
            break;
        }
    }
    assert_eq!(last, 100);
}

#[tokio::test]
async fn job_fields_follow_the_request() {
    let emu = frozen().await;
    let c = account(&emu, "fields@example.com");
    let r = create(&emu, &c.api_key, r#"{"prompt": "cat", "mode": "image_to_video", "image_url": "https://example.com/cat.png", "resolution": "2k", "duration": 3, "seed": 4294967295}"#).await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    assert_eq!((r.json["resolution"].as_str(), r.json["duration"].as_u64(), r.json["seed"].as_u64()), (Some("2k"), Some(3), Some(4_294_967_295)));
    assert_eq!(r.json["image_url"], "https://example.com/cat.png");
    assert_eq!(r.json["estimated_cost_cents"], 108);
    assert!(r.json.get("reference_url").is_none());

    let r = create(&emu, &c.api_key, r#"{"prompt": "dog", "mode": "reference", "reference_url": "http://example.com/ref.mp4", "resolution": null, "duration": null, "seed": null}"#).await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    assert_eq!((r.json["resolution"].as_str(), r.json["duration"].as_u64()), (Some("720p"), Some(5)));
    assert_eq!(r.json["estimated_cost_cents"], 30);
    assert!(r.json.get("seed").is_none());
}

#[tokio::test]
async fn every_create_rule_is_a_400_naming_the_field() {
    let emu = frozen().await;
    let c = account(&emu, "rules@example.com");
    let cases: &[(&str, Option<&str>)] = &[
        (r#"{"prompt": "x", "mode": "text_to_video", "resolutoin": "1080p"}"#, Some("resolutoin")),
        (r#"{"mode": "text_to_video"}"#, Some("prompt")),
        (r#"{"prompt": "   ", "mode": "text_to_video"}"#, Some("prompt")),
        (r#"{"prompt": 5, "mode": "text_to_video"}"#, Some("prompt")),
        (r#"{"prompt": "x"}"#, Some("mode")),
        (r#"{"prompt": "x", "mode": "Text_To_Video"}"#, Some("mode")),
        (r#"{"prompt": "x", "mode": "text_to_video", "resolution": "2K"}"#, Some("resolution")),
        (r#"{"prompt": "x", "mode": "text_to_video", "resolution": "4k"}"#, Some("resolution")),
        (r#"{"prompt": "x", "mode": "text_to_video", "duration": 0}"#, Some("duration")),
        (r#"{"prompt": "x", "mode": "text_to_video", "duration": 11}"#, Some("duration")),
        (r#"{"prompt": "x", "mode": "text_to_video", "duration": 5.0}"#, Some("duration")),
        (r#"{"prompt": "x", "mode": "text_to_video", "duration": "5"}"#, Some("duration")),
        (r#"{"prompt": "x", "mode": "text_to_video", "duration": true}"#, Some("duration")),
        (r#"{"prompt": "x", "mode": "image_to_video"}"#, Some("image_url")),
        (r#"{"prompt": "x", "mode": "image_to_video", "image_url": "/relative.png"}"#, Some("image_url")),
        (r#"{"prompt": "x", "mode": "image_to_video", "image_url": "ftp://example.com/a.png"}"#, Some("image_url")),
        (r#"{"prompt": "x", "mode": "text_to_video", "image_url": "https://example.com/a.png"}"#, Some("image_url")),
        (r#"{"prompt": "x", "mode": "reference"}"#, Some("reference_url")),
        (r#"{"prompt": "x", "mode": "image_to_video", "image_url": "https://e.com/a", "reference_url": "https://e.com/b"}"#, Some("reference_url")),
        (r#"{"prompt": "x", "mode": "text_to_video", "seed": -1}"#, Some("seed")),
        (r#"{"prompt": "x", "mode": "text_to_video", "seed": 4294967296}"#, Some("seed")),
        (r#"{"prompt": "x", "mode": "text_to_video", "seed": 1.5}"#, Some("seed")),
        (r#"["prompt"]"#, None),
        (r#"{"prompt": "x", "#, None),
        ("", None),
    ];
    for (body, field) in cases {
        let r = create(&emu, &c.api_key, body).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{body}");
        assert_eq!(r.field(), *field, "{body}");
        assert!(r.json["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Invalid UTF-8 is a 400 too, never a panic.
    let http = reqwest::Client::new();
    let r = http.post(format!("{}/videos", emu.api_base())).bearer_auth(&c.api_key).body(vec![b'{', 0xff, 0xfe, b'}']).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let l = ledger_of(&emu, &c.email);
    assert_eq!((l["jobs_created"].as_u64(), l["balance_cents"].as_u64()), (Some(0), Some(BALANCE)));
}

#[tokio::test]
async fn a_body_over_one_mib_is_413() {
    let emu = frozen().await;
    let c = account(&emu, "big@example.com");
    let prompt = "x".repeat(1024 * 1024 + 10);
    let r = create(&emu, &c.api_key, &json!({"prompt": prompt, "mode": "text_to_video"}).to_string()).await;
    assert_eq!((r.status, r.code()), (413, "payload_too_large"));
    // Just under the cap is fine.
    let prompt = "x".repeat(1000 * 1000);
    assert_eq!(create(&emu, &c.api_key, &json!({"prompt": prompt, "mode": "text_to_video"}).to_string()).await.status, 201);
}

#[tokio::test]
async fn auth_failures_are_401() {
    let emu = frozen().await;
    let c = account(&emu, "auth@example.com");
    let base = emu.url();
    for (token, header) in [(None, None), (Some("sd_00000000000000000000000000000000"), None), (Some(c.jwt.as_str()), None), (None, Some("Basic abc")), (None, Some(c.api_key.as_str()))] {
        let extra: Vec<(&str, &str)> = header.map(|h| vec![("authorization", h)]).unwrap_or_default();
        for (m, p) in [("GET", "/v1/account"), ("GET", "/v1/videos"), ("POST", "/v1/videos"), ("GET", "/v1/videos/job_1"), ("DELETE", "/v1/videos/job_1")] {
            let r = call(m, &format!("{base}{p}"), token, Some(QUICKSTART), &extra).await;
            assert_eq!((r.status, r.code()), (401, "unauthorized"), "{m} {p} {token:?} {header:?}");
            assert!(r.header("x-request-id").is_some_and(|id| id.starts_with("req_")));
        }
    }
    // A key is refused where a JWT is needed, and the other way round.
    let r = call("POST", &format!("{base}/v1/api-keys"), Some(&c.api_key), Some("{}"), &[]).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    let r = call("POST", &format!("{base}/v1/api-keys"), None, Some("{}"), &[]).await;
    assert_eq!(r.status, 401);
    // Nothing was created or charged.
    assert_eq!(ledger_of(&emu, &c.email)["jobs_created"], 0);
}

#[tokio::test]
async fn api_keys_need_a_jwt_and_work_at_once() {
    let emu = frozen().await;
    let c = account(&emu, "keys@example.com");
    let r = call("POST", &format!("{}/v1/api-keys", emu.url()), Some(&c.jwt), Some(r#"{"name": "ci"}"#), &[]).await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    assert_eq!(r.json["name"], "ci");
    assert!(r.json["id"].as_str().unwrap().starts_with("key_"));
    assert!(r.json["created_at"].as_str().unwrap().ends_with('Z'));
    let key = r.json["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sd_") && key.len() == 35, "{key}");
    let me = get(&emu, "/v1/account", &key).await;
    assert_eq!((me.status, me.json["email"].as_str()), (200, Some("keys@example.com")));

    // No body and an empty object are fine; unknown fields are not.
    assert_eq!(call("POST", &format!("{}/v1/api-keys", emu.url()), Some(&c.jwt), None, &[]).await.status, 201);
    let r = call("POST", &format!("{}/v1/api-keys", emu.url()), Some(&c.jwt), Some(r#"{"nmae": "x"}"#), &[]).await;
    assert_eq!((r.status, r.field()), (400, Some("nmae")));
}

#[tokio::test]
async fn insufficient_balance_is_402_and_nothing_is_created() {
    let emu = frozen().await;
    let poor = emu.create_account("poor@example.com", 119);
    let r = create(&emu, &poor.api_key, QUICKSTART).await;
    assert_eq!((r.status, r.code()), (402, "insufficient_balance"));
    let a = get(&emu, "/v1/account", &poor.api_key).await.json;
    assert_eq!((a["balance_cents"].as_u64(), a["total_jobs"].as_u64(), a["total_spent_cents"].as_u64()), (Some(119), Some(0), Some(0)));
    // Exactly enough works.
    let r = create(&emu, &poor.api_key, &text_body("cheap", "720p", 5)).await;
    assert_eq!(r.status, 201);
}

#[tokio::test]
async fn unknown_paths_are_404_and_other_methods_405() {
    let emu = frozen().await;
    let c = account(&emu, "paths@example.com");
    let base = emu.url();
    for p in ["/", "/v1", "/v2/videos", "/v1/video", "/v1/accounts", "/_emulator/nothing"] {
        let r = call("GET", &format!("{base}{p}"), Some(&c.api_key), None, &[]).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{p}");
    }
    for (m, p) in [("DELETE", "/v1/videos"), ("PUT", "/v1/videos"), ("POST", "/v1/account"), ("POST", "/v1/pricing"), ("GET", "/v1/api-keys"), ("POST", "/v1/videos/job_1"), ("GET", "/_emulator/reset")] {
        let r = call(m, &format!("{base}{p}"), Some(&c.api_key), None, &[]).await;
        assert_eq!((r.status, r.code()), (405, "method_not_allowed"), "{m} {p}");
    }
    // Another account's job, or none at all, is 404.
    let other = emu.create_account("other@example.com", BALANCE);
    let id = create(&emu, &other.api_key, QUICKSTART).await.json["id"].as_str().unwrap().to_owned();
    for p in [format!("/v1/videos/{id}"), "/v1/videos/job_nope".into(), "/v1/videos/".into(), format!("/v1/videos/{id}/extra")] {
        assert_eq!(get(&emu, &p, &c.api_key).await.status, 404, "{p}");
    }
    assert_eq!(delete(&emu, &c.api_key, &id).await.status, 404);
    assert_eq!(ledger_of(&emu, &other.email)["held_cents"], 120, "untouched");
    assert_eq!(call("GET", &format!("{base}/files/{id}.mp4"), None, None, &[]).await.status, 404, "not completed yet");
}

#[tokio::test]
async fn delete_rules_and_refunds() {
    let emu = frozen().await;
    let c = account(&emu, "delete@example.com");
    let pending = create(&emu, &c.api_key, QUICKSTART).await.json["id"].as_str().unwrap().to_owned();
    let r = delete(&emu, &c.api_key, &pending).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json, json!({"id": pending, "deleted": true, "refunded_cents": 120}));
    assert_eq!(get(&emu, &format!("/v1/videos/{pending}"), &c.api_key).await.status, 404);
    assert_eq!(delete(&emu, &c.api_key, &pending).await.status, 404, "gone");

    let processing = create(&emu, &c.api_key, QUICKSTART).await.json["id"].as_str().unwrap().to_owned();
    emu.advance(5_001); // past the longest queue time
    let r = delete(&emu, &c.api_key, &processing).await;
    assert_eq!((r.status, r.code()), (409, "job_not_cancellable"));
    assert_eq!(get(&emu, &format!("/v1/videos/{processing}"), &c.api_key).await.json["status"], "processing");

    emu.advance(600_000);
    let r = delete(&emu, &c.api_key, &processing).await;
    assert_eq!(r.json, json!({"id": processing, "deleted": true, "refunded_cents": 0}));

    let a = get(&emu, "/v1/account", &c.api_key).await.json;
    assert_eq!(a["total_jobs"], 2, "deleted jobs still count");
    assert_eq!(a["total_spent_cents"], 120);
    assert_eq!(a["balance_cents"], BALANCE - 120);
    assert_eq!(a["plan"], "standard");
    let l = ledger_of(&emu, &c.email);
    assert_eq!(l["refunded_cents"], 120);
    assert_balanced(&l);
}

#[tokio::test]
async fn list_is_most_recent_first_and_paginates() {
    let emu = frozen().await;
    let c = emu.create_account("list@example.com", 100_000);
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(create(&emu, &c.api_key, &text_body(&format!("clip {i}"), "720p", 1)).await.json["id"].as_str().unwrap().to_owned());
        emu.advance(400);
    }
    ids.reverse();
    let page = get(&emu, "/v1/videos", &c.api_key).await.json;
    assert_eq!((page["limit"].as_u64(), page["offset"].as_u64(), page["total"].as_u64(), page["has_more"].as_bool()), (Some(20), Some(0), Some(7), Some(false)));
    let got: Vec<&str> = page["data"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(got, ids);

    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let p = get(&emu, &format!("/v1/videos?limit=3&offset={offset}"), &c.api_key).await.json;
        seen.extend(p["data"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap().to_owned()));
        offset += 3;
        if !p["has_more"].as_bool().unwrap() {
            break;
        }
    }
    assert_eq!(seen, ids);
    let past = get(&emu, "/v1/videos?offset=50", &c.api_key).await.json;
    assert_eq!((past["data"].as_array().map(Vec::len), past["has_more"].as_bool()), (Some(0), Some(false)));

    for (q, field) in [("limit=0", "limit"), ("limit=101", "limit"), ("limit=abc", "limit"), ("limit=2.5", "limit"), ("offset=-1", "offset"), ("page=2", "page")] {
        let r = get(&emu, &format!("/v1/videos?{q}"), &c.api_key).await;
        assert_eq!((r.status, r.field()), (400, Some(field)), "{q}");
    }
    assert_eq!(get(&emu, "/v1/videos?limit=100", &c.api_key).await.status, 200);

    // Another account sees only its own.
    let other = account(&emu, "other@example.com");
    assert_eq!(get(&emu, "/v1/videos", &other.api_key).await.json["total"], 0);
}

#[tokio::test]
async fn pricing_needs_no_auth() {
    let emu = frozen().await;
    let r = call("GET", &format!("{}/v1/pricing", emu.url()), None, None, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json, json!({"720p": {"per_second": 0.06}, "1080p": {"per_second": 0.24}, "2k": {"per_second": 0.36}}));
    assert!(r.header("x-ratelimit-limit").is_none(), "not limited");
}

#[tokio::test]
async fn idempotent_replay_and_conflict() {
    let emu = frozen().await;
    let c = account(&emu, "idem@example.com");
    let first = create_with_key(&emu, &c.api_key, QUICKSTART, "k-1").await;
    assert_eq!(first.status, 201);
    assert!(first.header("idempotent-replayed").is_none());
    // The same body, parsed (key order and spacing do not matter).
    let same = r#"{"duration":5,"resolution":"1080p","mode":"text_to_video","prompt":"A drone shot over a misty mountain lake at sunrise"}"#;
    emu.advance(10_000);
    let again = create_with_key(&emu, &c.api_key, same, "k-1").await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json, first.json, "the first answer, as it was");
    let l = ledger_of(&emu, &c.email);
    assert_eq!((l["jobs_created"].as_u64(), l["balance_cents"].as_u64()), (Some(1), Some(BALANCE - 120)));

    let other = create_with_key(&emu, &c.api_key, &text_body("another", "1080p", 5), "k-1").await;
    assert_eq!((other.status, other.code()), (409, "idempotency_conflict"));

    // Keys are per account; refused creates are not remembered.
    let d = account(&emu, "idem2@example.com");
    assert_eq!(create_with_key(&emu, &d.api_key, QUICKSTART, "k-1").await.header("idempotent-replayed"), None);
    let poor = emu.create_account("poor@example.com", 0);
    assert_eq!(create_with_key(&emu, &poor.api_key, QUICKSTART, "k-2").await.status, 402);
    call("POST", &format!("{}/_emulator/accounts/deposit", emu.url()), None, Some(r#"{"email": "poor@example.com", "amount_cents": 500}"#), &[]).await;
    let r = create_with_key(&emu, &poor.api_key, QUICKSTART, "k-2").await;
    assert_eq!((r.status, r.header("idempotent-replayed")), (201, None));

    // After 24 virtual hours the key is forgotten.
    emu.advance(24 * 3600 * 1000);
    let late = create_with_key(&emu, &c.api_key, QUICKSTART, "k-1").await;
    assert_eq!((late.status, late.header("idempotent-replayed")), (201, None));
    assert_ne!(late.json["id"], first.json["id"]);
}

#[tokio::test]
async fn the_date_header_is_read_off_the_virtual_clock_as_created_at_is() {
    // A client comparing a job's `created_at` with the answer's `Date` (the SDK's age check of a
    // job found by reconciliation) must see one clock, frozen or moved on.
    let emu = frozen().await;
    let c = account(&emu, "date@example.com");
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await; // wall time moves on, virtual time does not
    let made = create(&emu, &c.api_key, r#"{"prompt": "a lake", "mode": "text_to_video"}"#).await;
    // `2026-12-06T19:20:00Z` against `Sun, 06 Dec 2026 19:20:00 GMT`: the same day and second.
    let created = made.json["created_at"].as_str().unwrap().to_owned();
    let (day, time) = (&created[8..10], &created[11..19]);
    let date = made.header("date").unwrap().to_owned();
    assert!(date.contains(&format!(" {day} ")) && date.ends_with(&format!(" {time} GMT")), "{date} {created}");
    // Moved on an hour, the date moves with it.
    emu.advance(3_600_000);
    let later = get(&emu, "/v1/account", &c.api_key).await.header("date").unwrap().to_owned();
    let hour = |t: &str| t.trim_end_matches(" GMT").rsplit(' ').next().unwrap()[..2].parse::<u32>().unwrap();
    assert_eq!(hour(&later), (hour(&date) + 1) % 24, "{date} then {later}");
}

#[tokio::test]
async fn every_answer_has_a_request_id_and_cors() {
    let emu = Emulator::builder().time_scale(0.0).cors_origin("https://app.example").start().await.unwrap();
    let c = account(&emu, "cors@example.com");
    let mut ids = std::collections::HashSet::new();
    for r in [get(&emu, "/v1/account", &c.api_key).await, get(&emu, "/nope", &c.api_key).await, call("GET", &format!("{}/v1/pricing", emu.url()), None, None, &[]).await] {
        assert!(ids.insert(r.header("x-request-id").unwrap().to_owned()));
        assert_eq!(r.header("access-control-allow-origin"), Some("https://app.example"));
        assert!(r.header("access-control-expose-headers").unwrap().contains("retry-after"));
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    let pre = call("OPTIONS", &format!("{}/v1/videos", emu.url()), None, None, &[("origin", "https://app.example")]).await;
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-methods"), Some("GET, POST, DELETE, OPTIONS"));
    assert_eq!(pre.header("access-control-allow-headers"), Some("authorization, content-type, idempotency-key"));
    let me = get(&emu, "/v1/account", &c.api_key).await;
    assert_eq!((me.header("x-ratelimit-limit"), me.header("x-ratelimit-remaining")), (Some("60"), Some("58")));
}

use usvideo_emulator::{AccountSpec, Emulator};

#[tokio::test]
async fn control_surface_over_http() {
    let emu = frozen().await;
    let base = emu.url();
    let r = call("POST", &format!("{base}/_emulator/accounts"), None, Some(r#"{"email": "ent@example.com", "balance_cents": 700, "plan": "enterprise", "requests_per_minute": 5, "concurrent_jobs": 2}"#), &[]).await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    assert_eq!((r.json["email"].as_str(), r.json["balance_cents"].as_u64(), r.json["plan"].as_str()), (Some("ent@example.com"), Some(700), Some("enterprise")));
    let key = r.json["api_key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sd_"));
    assert_eq!(r.json["jwt"].as_str().unwrap().split('.').count(), 3);
    assert_eq!(get(&emu, "/v1/account", &key).await.header("x-ratelimit-limit"), Some("5"));
    for bad in [r#"{"balance_cents": 1}"#, r#"{"email": "x@y", "plan": "gold"}"#, r#"{"email": "x@y", "balance_cents": -1}"#, "nope"] {
        assert_eq!(call("POST", &format!("{base}/_emulator/accounts"), None, Some(bad), &[]).await.status, 400, "{bad}");
    }

    let r = call("POST", &format!("{base}/_emulator/accounts/deposit"), None, Some(r#"{"email": "ent@example.com", "amount_cents": 300}"#), &[]).await;
    assert_eq!((r.status, r.json["balance_cents"].as_u64()), (200, Some(1000)));
    assert_eq!(call("POST", &format!("{base}/_emulator/accounts/deposit"), None, Some(r#"{"email": "ghost@example.com", "amount_cents": 1}"#), &[]).await.status, 404);

    let r = call("POST", &format!("{base}/_emulator/clock"), None, Some(r#"{"advance_ms": 1234}"#), &[]).await;
    assert_eq!(r.json, json!({"now_ms": 1234, "time_scale": 0.0}));
    assert_eq!(call("GET", &format!("{base}/_emulator/clock"), None, None, &[]).await.json["now_ms"], 1234);
    assert_eq!(emu.now_ms(), 1234);
    assert_eq!(call("POST", &format!("{base}/_emulator/clock"), None, Some(r#"{"time_scale": -1}"#), &[]).await.status, 400);

    let r = call("POST", &format!("{base}/_emulator/faults"), None, Some(r#"[{"path": "/v1/account", "status": 500}, {"fail_job": true}]"#), &[]).await;
    assert_eq!(r.status, 201);
    let listed = call("GET", &format!("{base}/_emulator/faults"), None, None, &[]).await.json;
    assert_eq!(listed["faults"].as_array().map(Vec::len), Some(2));
    assert_eq!(listed["faults"][1]["path"], "/v1/videos");
    assert_eq!(call("POST", &format!("{base}/_emulator/faults"), None, Some(r#"{"status": 502, "drop": "sometimes"}"#), &[]).await.status, 400);
    assert_eq!(call("DELETE", &format!("{base}/_emulator/faults"), None, None, &[]).await.status, 200);
    assert_eq!(call("GET", &format!("{base}/_emulator/faults"), None, None, &[]).await.json["faults"], json!([]));

    let l = call("GET", &format!("{base}/_emulator/ledger"), None, None, &[]).await.json;
    assert_eq!(l["accounts"][0]["deposits_cents"], 1000);

    let r = call("POST", &format!("{base}/_emulator/reset"), None, None, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(get(&emu, "/v1/account", &key).await.status, 401, "accounts are gone");
    assert_eq!(emu.now_ms(), 0, "the clock is back at 0");
    assert_eq!(emu.ledger()["accounts"], json!([]));
}

#[tokio::test]
async fn library_api() {
    let emu = frozen().await;
    assert!(emu.url().starts_with("http://127.0.0.1:"));
    assert_eq!(emu.api_base(), format!("{}/v1", emu.url()));
    let c = emu.create_account_with(AccountSpec { email: "lib@example.com".into(), balance_cents: 10, plan: "enterprise".into(), requests_per_minute: Some(1000), concurrent_jobs: None });
    let shown = format!("{c:?}");
    assert!(!shown.contains(&c.api_key) && !shown.contains(&c.jwt), "{shown}");
    assert!(shown.contains(&format!("sd_…{}", &c.api_key[c.api_key.len() - 4..])), "{shown}");
    assert_eq!(get(&emu, "/v1/account", &c.api_key).await.json["plan"], "enterprise");
    // The same email again: a new, independent account.
    let again = emu.create_account("lib@example.com", 5);
    assert_ne!(again.api_key, c.api_key);
    assert_eq!(get(&emu, "/v1/account", &c.api_key).await.json["balance_cents"], 10);
    assert_eq!(get(&emu, "/v1/account", &again.api_key).await.json["balance_cents"], 5);
    assert_eq!(emu.ledger()["accounts"].as_array().map(Vec::len), Some(2));
    assert!(emu.add_fault(json!({"bogus": 1})).is_err());
    emu.advance(10);
    assert_eq!(emu.now_ms(), 10);
    emu.shutdown().await;

    let real = Emulator::start().await.unwrap();
    let t0 = real.now_ms();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    assert!(real.now_ms() > t0, "time scale 1 by default");
    let url = real.url();
    drop(real);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(try_call("GET", &format!("{url}/v1/pricing"), None, None, &[]).await.is_err(), "stopped on drop");
}
