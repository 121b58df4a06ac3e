//! The hand-written JSON writers (`usvideo_core::writers`) write what the serde derives write:
//! the same members, in the same order, with the same absent and `null` members, on full and
//! empty values of every type a binding hands over. The one exception is a batch's learned scale,
//! written to nine decimals (see `writers`): the same text as serde's wherever that has no more.

use serde::Serialize;
use usvideo_core::batch::SnapshotItem;
use usvideo_core::request::IdempotencyKey;
use usvideo_core::*;

fn same<T: Serialize + ToJson>(v: &T) {
    let ours = v.to_json_string();
    let theirs = serde_json::to_string(v).unwrap();
    assert_eq!(ours, theirs, "hand-written writer differs from the serde derive");
}

fn full_job() -> Job {
    Job {
        id: "job_1".into(),
        status: JobStatus::Failed,
        prompt: Some("a \"lake\"\n at dawn ✓".into()),
        mode: Some(Mode::ImageToVideo),
        resolution: Some(Resolution::K2),
        duration: Some(10),
        seed: Some(u64::MAX),
        image_url: Some("https://x/i.png".into()),
        reference_url: Some("https://x/r.png".into()),
        estimated_cost_cents: Some(360),
        cost_cents: Some(0),
        video_url: Some("https://x/v.mp4".into()),
        error: Some(JobError { code: "generation_failed".into(), message: "refused".into() }),
        created_at: Some("2026-04-21T15:30:00Z".into()),
        progress: Some(100),
    }
}

fn bare_job() -> Job {
    Job {
        id: "job_2".into(),
        status: JobStatus::parse("upscaling"),
        prompt: None,
        mode: None,
        resolution: None,
        duration: None,
        seed: None,
        image_url: None,
        reference_url: None,
        estimated_cost_cents: None,
        cost_cents: None,
        video_url: None,
        error: None,
        created_at: None,
        progress: None,
    }
}

fn full_error() -> Error {
    let mut e = Error::validation(vec![Issue::new("duration", IssueCode::OutOfRange, "duration must be 1-10"), Issue::new("x", IssueCode::UnknownField, "unknown")]);
    e.status = Some(400);
    e.field = Some("duration".into());
    e.request_id = Some("req_1".into());
    e.retry_after_ms = Some(1500);
    e.job_id = Some("job_1".into());
    e.job_status = Some("processing".into());
    e.transport = Some(TransportKind::BodyTooLarge);
    e
}

#[test]
fn wire_types() {
    for job in [full_job(), bare_job()] {
        same(&job);
    }
    same(&JobError { code: String::new(), message: "m".into() });
    same(&JobPage { data: vec![full_job(), bare_job()], limit: 20, offset: 40, total: Some(41), has_more: true });
    same(&JobPage { data: vec![], limit: 0, offset: 0, total: None, has_more: false });
    same(&DeleteResult { id: "job_1".into(), deleted: true, refunded_cents: 30 });
    same(&Account { email: "a@example.com".into(), balance_cents: 1, total_jobs: 2, total_spent_cents: 3, plan: Some("enterprise".into()) });
    same(&Account { email: String::new(), balance_cents: 0, total_jobs: 0, total_spent_cents: 0, plan: None });
    same(&CreatedApiKey { id: "key_1".into(), name: Some("ci".into()), key: "sd_live_x".into(), created_at: Some("2026-01-01T00:00:00Z".into()) });
    same(&CreatedApiKey { id: String::new(), name: None, key: "sd_live_x".into(), created_at: None });
    same(&ListParams { limit: Some(5), offset: Some(10) });
    same(&ListParams { limit: None, offset: None });
}

#[test]
fn errors_and_events() {
    same(&full_error());
    same(&Error::new(ErrorKind::Timeout, "no answer"));
    same(&Issue::new("prompt", IssueCode::Required, "prompt is required"));
    let progress = Progress { job_id: "job_1".into(), status: JobStatus::Processing, percent: 42, elapsed_ms: 1000, expected_ms: 90_000 };
    let counts = BatchProgress { total: 5, queued: 1, in_flight: 1, completed: 1, failed: 0, cancelled: 2, requests: 7 };
    for event in [
        Event::Created { job: full_job() },
        Event::StatusChanged { job: bare_job() },
        Event::Progress(progress.clone()),
        Event::Retrying { attempt: 2, after_ms: 500, error: full_error() },
        Event::Reconciling { error: Error::new(ErrorKind::Connection, "reset") },
        Event::Reconciled { job: full_job() },
        Event::ItemDone(ItemResult { index: 1, job: Some(full_job()), error: Some(full_error()) }),
        Event::ItemDone(ItemResult { index: 0, job: None, error: None }),
        Event::BatchProgress(counts.clone()),
        Event::Warning { message: "ignored".into() },
    ] {
        same(&event);
    }
    same(&progress);
    same(&counts);
}

#[test]
fn batch_types() {
    let key = IdempotencyKey::from_string("usv-0123456789abcdef0123456789abcdef").unwrap();
    let items = vec![
        SnapshotItem { request: CreateVideoRequest::text("a"), idempotency_key: key.clone(), state: "queued".into(), job_id: None, result: None, unreported: false },
        SnapshotItem {
            request: CreateVideoRequest { prompt: "b".into(), mode: Mode::Reference, resolution: Some(Resolution::P1080), duration: Some(3), image_url: None, reference_url: Some("https://x/r.png".into()), seed: Some(7) },
            idempotency_key: key,
            state: "done".into(),
            job_id: Some("job_1".into()),
            result: Some(ItemResult { index: 1, job: Some(bare_job()), error: None }),
            unreported: true,
        },
    ];
    for scale in [1.0, 0.65, 0.001, 20.0, 123_456_789.0, f64::NAN, f64::INFINITY] {
        same(&BatchSnapshot { version: 1, items: items.clone(), scale, owner: Some("0123456789abcdef".into()), service_date_ms: Some(1_765_000_000_000), cancelled: true });
        same(&BatchSnapshot { version: 1, items: items.clone(), scale, owner: None, service_date_ms: None, cancelled: false });
    }
    same(&BatchSummary { results: vec![ItemResult { index: 0, job: Some(full_job()), error: None }], progress: BatchProgress::default(), spent_cents: 120 });
}

/// A learned scale with more than nine decimals is written to nine, reads back within half a
/// nano-unit, and is written the same again: a snapshot resumed and taken again is unchanged.
#[test]
fn a_learned_scale_reads_back_and_writes_the_same() {
    fn written(scale: f64) -> (String, f64) {
        let text = BatchSnapshot { version: 1, items: vec![], scale, owner: None, service_date_ms: None, cancelled: false }.to_json_string();
        let Some(Json::Number(n)) = json::parse(text.as_bytes()).unwrap().get("scale").cloned() else { panic!("{text}") };
        let back = decimal::parse_f64(&n).unwrap();
        (text, back)
    }
    for scale in [1e-7, 1.0 / 15.0, 0.7000000000000001, 19.999999999999996, 0.0012345678901, 0.3 * 0.7 + 0.7 * 1.234] {
        let (text, back) = written(scale);
        assert!((back - scale).abs() <= 0.5e-9, "{text}: {back} vs {scale}");
        assert_eq!(written(back).0, text);
    }
    assert!(written(1.0 / 15.0).0.ends_with(r#""scale":0.066666667}"#));
    assert!(written(-0.25).0.ends_with(r#""scale":-0.25}"#));
}

/// What the writers write of a snapshot, the hand-written readers read back unchanged, full and
/// bare (the npm batch module reads snapshots with these readers only, with no serde in it), and
/// serde's `Deserialize`, which goes through the same readers, agrees.
#[test]
fn snapshots_read_back_what_was_written() {
    let key = IdempotencyKey::from_string("usv-0123456789abcdef0123456789abcdef").unwrap();
    let full_request = CreateVideoRequest { prompt: "b".into(), mode: Mode::ImageToVideo, resolution: Some(Resolution::K2), duration: Some(10), image_url: Some("https://x/i.png".into()), reference_url: Some("https://x/r.png".into()), seed: Some(u64::from(u32::MAX)) };
    let snapshot = BatchSnapshot {
        version: 1,
        items: vec![
            SnapshotItem { request: CreateVideoRequest::text("a"), idempotency_key: key.clone(), state: "queued".into(), job_id: None, result: None, unreported: false },
            SnapshotItem { request: full_request, idempotency_key: key.clone(), state: "done".into(), job_id: Some("job_1".into()), result: Some(ItemResult { index: 1, job: Some(full_job()), error: Some(full_error()) }), unreported: true },
            SnapshotItem { request: CreateVideoRequest::text("c"), idempotency_key: key, state: "done".into(), job_id: None, result: Some(ItemResult { index: 2, job: Some(bare_job()), error: Some(Error::new(ErrorKind::Timeout, "no answer")) }), unreported: false },
        ],
        scale: 0.65,
        owner: Some("00ff00ff00ff00ff".into()),
        service_date_ms: Some(1_765_000_000_000),
        cancelled: true,
    };
    let text = snapshot.to_json_string();
    assert_eq!(BatchSnapshot::from_json(&json::parse(text.as_bytes()).unwrap()).unwrap(), snapshot);
    assert_eq!(serde_json::from_str::<BatchSnapshot>(&text).unwrap(), snapshot);
    for e in [full_error(), Error::new(ErrorKind::Usage, "m")] {
        assert_eq!(serde_json::from_str::<Error>(&e.to_json_string()).unwrap(), e);
    }
}

/// The snapshot readers keep the derive rules (see core/src/readers.rs), and refuse a key that
/// could not go into a header.
#[test]
fn snapshot_readers_refuse_what_the_derives_refused() {
    let read = |t: &str| BatchSnapshot::from_json(&json::parse(t.as_bytes()).unwrap());
    let item = |extra: &str| format!(r#"{{"version":1,"scale":1,"items":[{{"request":{{"prompt":"a","mode":"text_to_video"}},"idempotency_key":"usv-1","state":"queued"{extra}}}]}}"#);
    assert!(read(&item("")).is_ok());
    assert!(read(&item(r#","future":[1]"#)).is_ok(), "unknown members are skipped");
    assert_eq!(read(&item(r#","job_id":null"#)).unwrap().items[0].job_id, None);
    for bad in [
        item(r#","state":"done""#),                                                  // given twice
        item(r#","result":{"index":-1}"#),                                          // out of range
        item(r#","result":{"index":0,"error":{"kind":"nope","code":"c","message":"m"}}"#), // unknown variant
        item(r#","result":{"index":0,"error":{"kind":"usage","code":"c","message":"m","issues":null}}"#),
        item(r#","result":{"index":0,"error":{"kind":"usage","code":"c","message":"m","transport":"Timeout"}}"#),
        r#"{"version":1,"scale":1,"items":[{"request":{"prompt":"a","mode":"text_to_video"},"idempotency_key":"usv-1\r\nX: y","state":"queued"}]}"#.to_owned(),
        r#"{"version":1,"scale":1,"items":[{"request":{"prompt":"a","mode":"video"},"idempotency_key":"usv-1","state":"queued"}]}"#.to_owned(),
        r#"{"version":1,"scale":1,"items":[{"request":{"mode":"text_to_video"},"idempotency_key":"usv-1","state":"queued"}]}"#.to_owned(),
        r#"{"version":1,"scale":"1","items":[]}"#.to_owned(),
        r#"{"version":1,"scale":1}"#.to_owned(),
    ] {
        assert!(read(&bad).is_err(), "{bad}");
    }
}
