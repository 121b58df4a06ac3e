//! Waiting: completion with progress, the seed's quickstart over raw HTTP, deadlines, cancel,
//! failed jobs, download.

mod common;
use common::*;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use usvideo::{CancelToken, Client, ErrorKind, Event, JobStatus};
use usvideo_emulator::Emulator;

#[tokio::test]
#[cfg(unix)] // symlinks as Unix makes them
async fn create_and_wait_reports_progress_and_downloads() {
    let (emu, client, _) = setup(100.0).await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let mut on_event = move |e: &Event| sink.lock().unwrap().push(e.clone());
    let job = client.videos().create_and_wait_with(&text_request("progress"), fast_wait(60_000), &mut on_event, None).await.unwrap();
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(job.cost_cents, Some(120));
    {
        let events = events.lock().unwrap();
        assert!(matches!(events.first(), Some(Event::Created { .. })));
        assert!(events.iter().any(|e| matches!(e, Event::Progress(p) if p.percent == 100)));
    }

    let path = std::env::temp_dir().join(format!("usvideo-test-{}.mp4", job.id));
    let mut calls = 0;
    let size = client.videos().download(&job, &path, &mut |_, _| calls += 1).await.unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len() as u64, size);
    assert_eq!(&bytes[4..8], b"ftyp", "an MP4 file");
    assert!(calls > 0);

    // Cut off halfway, through a symlink: the file there stays whole, the link stays, no `.part`
    // is left (it wrote straight to the path: half a video there); whole, it replaces the file.
    let dir = std::env::temp_dir().join(format!("usvideo-test-{}", job.id));
    std::fs::create_dir_all(&dir).unwrap();
    let (kept, link) = (dir.join("kept.mp4"), dir.join("latest.mp4"));
    std::fs::write(&kept, b"an earlier video").unwrap();
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&kept, &link).unwrap();
    emu.add_fault(serde_json::json!({"method": "GET", "path": "/files/*", "truncate": true, "times": 2})).unwrap();
    for target in [&link, &kept] {
        assert!(client.videos().download(&job, target, &mut |_, _| {}).await.is_err(), "cut off");
    }
    assert_eq!(std::fs::read(&kept).unwrap(), b"an earlier video");
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["kept.mp4", "latest.mp4"], "no .part left");
    assert_eq!(client.videos().download(&job, &link, &mut |_, _| {}).await.unwrap(), size);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink() && std::fs::read(&kept).unwrap() == bytes);
    // A dangling link: the file is made where it points, the link kept.
    let (dangling, missing) = (dir.join("dangling.mp4"), dir.join("missing.mp4"));
    std::os::unix::fs::symlink("missing.mp4", &dangling).unwrap();
    assert_eq!(client.videos().download(&job, &dangling, &mut |_, _| {}).await.unwrap(), size);
    assert!(std::fs::symlink_metadata(&dangling).unwrap().file_type().is_symlink() && std::fs::read(&missing).unwrap() == bytes);
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_file(path);
    assert_eq!(ledger(&emu)["balance_cents"], BALANCE - 120);
}

/// The seed's quickstart exactly as its curl lines show, with raw HTTP.
#[tokio::test]
async fn seed_quickstart_with_raw_http() {
    let (emu, _client, creds) = setup(0.0).await;
    let http = reqwest::Client::new();
    let auth = format!("Bearer {}", creds.api_key);
    let created: serde_json::Value = http
        .post(format!("{}/videos", emu.api_base()))
        .header("Authorization", &auth)
        .header("Content-Type", "application/json")
        .body(r#"{ "prompt": "A drone shot over a misty mountain lake at sunrise", "mode": "text_to_video", "resolution": "1080p", "duration": 5 }"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["status"], "pending");
    assert_eq!(created["estimated_cost_cents"], 120);
    let id = created["id"].as_str().unwrap().to_owned();
    let mut last = serde_json::Value::Null;
    for _ in 0..100 {
        emu.advance(5_000);
        last = http.get(format!("{}/videos/{id}", emu.api_base())).header("Authorization", &auth).send().await.unwrap().json().await.unwrap();
        if last["status"] == "completed" {
            break;
        }
    }
    assert_eq!(last["status"], "completed");
    assert_eq!(last["cost_cents"], 120);
    assert_eq!(last["duration"], 5);
    assert!(last["video_url"].as_str().unwrap().starts_with("http"));
}

#[tokio::test]
async fn a_wait_past_its_deadline_times_out_and_the_job_goes_on() {
    let (_emu, client, _) = setup(0.0).await; // frozen clock: the job stays pending
    let job = client.videos().create(&text_request("slow")).await.unwrap();
    let started = Instant::now();
    let e = client.videos().wait(&job.id, fast_wait(400)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::WaitTimeout);
    assert_eq!(e.job_id.as_deref(), Some(job.id.as_str()));
    assert!(started.elapsed() < Duration::from_secs(30), "the wait ended");
    assert_eq!(client.videos().retrieve(&job.id).await.unwrap().status, JobStatus::Pending, "the job goes on");
}

#[tokio::test]
async fn cancel_on_timeout_deletes_a_pending_job() {
    let (emu, client, _) = setup(0.0).await;
    let job = client.videos().create(&text_request("cancel me")).await.unwrap();
    let mut opts = fast_wait(300);
    opts.cancel_on_timeout = true;
    let e = client.videos().wait(&job.id, opts).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::WaitTimeout);
    assert_eq!(client.videos().retrieve(&job.id).await.unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(ledger(&emu)["balance_cents"], BALANCE, "refunded");
}

#[tokio::test]
async fn a_waits_deadline_holds_while_the_rate_limit_is_spent() {
    let (emu, _, creds) = setup(0.0).await;
    let client = usvideo::Client::builder().api_key(&creds.api_key).base_url(emu.api_base()).requests_per_minute(2).build().unwrap();
    let job = client.videos().create(&text_request("no slot")).await.unwrap();
    client.account().retrieve().await.unwrap(); // the minute's budget is spent
    let started = Instant::now();
    let e = client.videos().wait(&job.id, fast_wait(300)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::WaitTimeout);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    // The poll was never sent, and the error says why in the core's words.
    assert!(e.message.contains(usvideo_core::machine::NOT_SENT), "{e}");
}

#[tokio::test]
async fn a_cancel_token_stops_the_wait_and_refunds_a_pending_job() {
    let (emu, client, _) = setup(0.0).await;
    let job = client.videos().create(&text_request("token")).await.unwrap();
    let token = cancelled_after(250);
    let mut opts = fast_wait(600_000);
    opts.cancel_on_timeout = true; // a wait deletes the job it watches only when told to
    opts.poll.first_poll_ms = 60_000; // sleeping when the cancel arrives
    let e = client.videos().wait_with(&job.id, opts, &mut |_| {}, Some(&token)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled);
    assert_eq!(ledger(&emu)["balance_cents"], BALANCE);
}

/// A wait that only watches a job leaves it when cancelled (job rule 6): another caller may be
/// waiting for it. With `cancel_on_timeout` it is deleted (the test below), as a
/// create-and-wait's own job always is.
#[tokio::test]
async fn a_cancelled_wait_leaves_the_job_it_only_watches() {
    let (_emu, client, _) = setup(0.0).await;
    let job = client.videos().create(&text_request("watched")).await.unwrap();
    let token = cancelled_after(400);
    let e = client.videos().wait_with(&job.id, fast_wait(600_000), &mut |_| {}, Some(&token)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled);
    assert!(e.message.contains("the job goes on"), "{e}");
    assert_eq!(client.videos().retrieve(&job.id).await.unwrap().status, JobStatus::Pending, "still there for its other watchers");
}

#[tokio::test]
async fn a_failed_job_is_a_typed_error_and_refunded() {
    let (emu, client, _) = setup(100.0).await;
    emu.add_fault(serde_json::json!({"fail_job": true, "message": "the model refused"})).unwrap();
    let e = client.videos().create_and_wait(&text_request("doomed"), fast_wait(60_000)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::JobFailed);
    assert!(e.message.contains("the model refused"), "{}", e.message);
    assert_eq!(ledger(&emu)["balance_cents"], BALANCE, "refunded");
}

/// A create-and-wait's own job teaches its client how fast the service is (`usvideo_core::pace`):
/// a later wait of the client (or a clone), whose caller left `expected_scale` at 1, expects its
/// job sooner (its progress says so, and its schedule polls by it). A new client starts afresh.
#[tokio::test]
async fn a_finished_job_teaches_the_clients_later_waits_its_speed() {
    let (emu, client, creds) = setup(100.0).await;
    let first_expected = |client: Client| async move {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let mut on_event = move |e: &Event| sink.lock().unwrap().push(e.clone());
        let mut options = fast_wait(60_000);
        options.poll.expected_scale = 1.0;
        client.videos().create_and_wait_with(&text_request("pace"), options, &mut on_event, None).await.unwrap();
        let events = events.lock().unwrap();
        events.iter().find_map(|e| if let Event::Progress(p) = e { Some(p.expected_ms) } else { None }).unwrap()
    };
    // 1080p, 5 s: the model's 78 s, done in ~0.8 s at × 100.
    assert_eq!(first_expected(client.clone()).await, 78_000);
    let second = first_expected(client).await;
    assert!((54_600..58_000).contains(&second), "scale ~0.7 after one lesson: {second}");
    let other = Client::builder().api_key(&creds.api_key).base_url(emu.api_base()).build().unwrap();
    assert_eq!(first_expected(other).await, 78_000, "a new client has learned nothing");
}

/// A cancel while the wait's poll waits for a rate-limit slot ends the wait at once (it waited
/// for the slot, a minute here, then sent the poll, and only then saw the cancel).
#[tokio::test]
async fn a_cancel_while_waiting_for_a_slot_is_honoured_at_once() {
    let (_emu, client, creds) = setup(0.0).await;
    let job = client.videos().create(&text_request("in line")).await.unwrap();
    // Another budget is another limiter: this client's one slot goes to its own first call.
    let one = Client::builder().api_key(&creds.api_key).base_url(_emu.api_base()).requests_per_minute(1).build().unwrap();
    one.account().retrieve().await.unwrap();
    let token = cancelled_after(300);
    let started = Instant::now();
    let told = usvideo::WaitOptions { cancel_on_timeout: true, ..fast_wait(600_000) };
    let e = one.videos().wait_with(&job.id, told, &mut |_| {}, Some(&token)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e}");
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    // Its poll never went out: the job was not seen, so it was left alone.
    assert!(e.message.contains("not seen yet"), "{e}");
}

/// A cancel's delete held past the caller's 10 s (a 429's `Retry-After` of 16 s) goes on in the
/// background: the caller gets `cancelled` saying so, and the job is refunded when the pause is
/// over (the caller was blocked for the whole pause, or a spent window's minute).
#[tokio::test]
async fn a_cancels_delete_held_past_the_callers_wait_goes_on_in_the_background() {
    let (emu, client, _) = setup(0.0).await;
    emu.add_fault(serde_json::json!({"method": "DELETE", "path": "/v1/videos/*", "status": 429, "retry_after": 16, "times": 1})).unwrap();
    let job = client.videos().create(&text_request("held")).await.unwrap();
    let token = cancelled_after(400);
    let started = Instant::now();
    let told = usvideo::WaitOptions { cancel_on_timeout: true, ..fast_wait(600_000) };
    let e = client.videos().wait_with(&job.id, told, &mut |_| {}, Some(&token)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e}");
    assert!(e.message.contains("goes on in the background"), "{e}");
    assert_eq!(e.job_id.as_deref(), Some(job.id.as_str()));
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    refunded_within(&emu, Duration::from_secs(25)).await;
}

/// A timed-out wait's delete (`cancel_on_timeout`) held past the caller's 10 s (a 429's
/// `Retry-After` of 16 s) goes on in the background, as a cancel's does: the caller gets
/// `wait_timeout` saying so, and the job is refunded when the pause is over (it was given up after
/// 10 s, the job charged: helper-38's 40 of 40 at a spent rate limit).
#[tokio::test]
async fn a_timed_out_waits_delete_held_past_the_callers_wait_goes_on_in_the_background() {
    let (emu, client, _) = setup(0.0).await;
    emu.add_fault(serde_json::json!({"method": "DELETE", "path": "/v1/videos/*", "status": 429, "retry_after": 16, "times": 1})).unwrap();
    let job = client.videos().create(&text_request("held")).await.unwrap();
    let started = Instant::now();
    let told = usvideo::WaitOptions { cancel_on_timeout: true, ..fast_wait(400) };
    let e = client.videos().wait_with(&job.id, told, &mut |_| {}, None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::WaitTimeout, "{e}");
    assert!(e.message.contains("gave up waiting") && e.message.contains("goes on in the background"), "{e}");
    assert_eq!(e.job_id.as_deref(), Some(job.id.as_str()));
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    refunded_within(&emu, Duration::from_secs(25)).await;
}

/// Waits (up to `time`) for the account's balance to be whole again: its job's delete, gone on in
/// the background, refunded it.
async fn refunded_within(emu: &Emulator, time: Duration) {
    let deadline = Instant::now() + time;
    while ledger(emu)["balance_cents"] != BALANCE && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ledger(emu)["balance_cents"], BALANCE, "refunded in the background");
}

/// A token cancelled `ms` from now, as a caller elsewhere would.
fn cancelled_after(ms: u64) -> CancelToken {
    let token = CancelToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        t.cancel();
    });
    token
}
