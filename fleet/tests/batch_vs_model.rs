//! The core's `Batch` against the service model: no 429, no double submit, every job accounted
//! for; cancel; snapshot and resume (with a create in flight); a lost create answer reconciled.

use usvideo_core::{Batch, BatchOptions, BatchSnapshot, Endpoint, ErrorKind, Event, Millis};
use usvideo_fleet::policies::{OursSim, run_ours, sim_client};
use usvideo_fleet::service::{DEFAULT_SIGMA, Kind, Reading, Req, Resp, Service, ServiceConfig, workload};

#[test]
fn hundred_jobs_no_429_no_double_submit_all_completed() {
    for reading in [Reading::Lenient, Reading::Strict] {
        for options in [BatchOptions::default(), BatchOptions { longest_first: true, ..BatchOptions::default() }] {
            let items = workload(100, 11, DEFAULT_SIGMA);
            let r = run_ours("ours", &items, reading, &options, 11);
            assert!(r.finished, "{reading:?}: the batch did not finish");
            assert_eq!(r.too_many, 0, "{reading:?}: the batch caused 429s");
            assert_eq!(r.double_submits, 0, "{reading:?}: an item was submitted twice");
            assert_eq!(r.completed, 100, "{reading:?}: every job completed and was reported");
            assert!(r.service.creates_per_item.iter().all(|&c| c == 1));
            assert!(r.service.log.iter().all(|x| x.status < 400), "every answer was a success");
        }
    }
}

#[test]
fn cancel_mid_batch_deletes_pending_jobs() {
    let items = workload(30, 5, DEFAULT_SIGMA);
    let mut sim = OursSim::new(items, Reading::Lenient, BatchOptions::default(), 5);
    // Run until a job has just been created (pending for at least another second), past 20 s.
    while sim.step() {
        let now = sim.now;
        if now > 20_000 && sim.service.jobs.iter().any(|j| j.deleted_at.is_none() && j.created_at <= now && j.processing_at > now + 1_000) {
            break;
        }
    }
    assert!(!sim.done);
    let cancel_at = sim.now;
    let pending: Vec<usize> = sim.service.jobs.iter().filter(|j| j.deleted_at.is_none() && j.processing_at > cancel_at + 1_000).map(|j| j.n).collect();
    assert!(!pending.is_empty());
    let creates_before = sim.service.jobs.len();
    sim.batch.cancel(Millis(cancel_at));
    sim.drain();
    sim.run(cancel_at + 600_000);
    assert!(sim.done, "the cancelled batch ends");
    for n in &pending {
        assert!(sim.service.jobs[*n].deleted_at.is_some(), "pending job_{n} was deleted");
    }
    assert_eq!(sim.service.jobs.len(), creates_before, "nothing was created after the cancel");
    // Refunds: what is spent is exactly the jobs that were not deleted while pending.
    let kept: u64 = sim.service.jobs.iter().filter(|j| j.deleted_at.is_none()).map(|j| j.cost_cents).sum();
    assert_eq!(sim.service.spent_cents, kept);
    let summary = sim.batch.take_result().expect("a summary");
    assert_eq!(summary.results.len(), 30);
    let cancelled = summary.results.iter().filter(|r| r.error.as_ref().is_some_and(|e| e.kind == ErrorKind::Cancelled)).count();
    assert!(cancelled >= pending.len());
    assert_eq!(sim.service.counts.too_many(), 0);
}

#[test]
fn snapshot_with_a_create_in_flight_resumes_without_submitting_twice() {
    let items = workload(40, 9, DEFAULT_SIGMA);
    let mut sim = OursSim::new(items, Reading::Lenient, BatchOptions::default(), 9);
    // Run until some jobs are done and a create is in flight (the server has already stored it).
    while sim.step() {
        let done = sim.known.iter().flatten().count();
        if done >= 5 && sim.in_flight().iter().any(|(e, _)| *e == Endpoint::CreateVideo) {
            break;
        }
    }
    assert!(!sim.done);
    let jobs_before = sim.service.jobs.len();
    let json = serde_json::to_string(&sim.batch.snapshot()).expect("snapshot to JSON");
    let snapshot: BatchSnapshot = serde_json::from_str(&json).expect("snapshot from JSON");
    let submitting: Vec<usize> = snapshot.items.iter().enumerate().filter(|(_, s)| s.state == "submitting").map(|(i, _)| i).collect();
    assert!(!submitting.is_empty(), "a create was in flight at snapshot time");
    for i in &submitting {
        assert_eq!(sim.service.creates_per_item[*i], 1, "the model received item {i}'s create before the snapshot");
    }
    // A new process: the old batch and its answers in flight are gone.
    let (config, key) = sim_client();
    let resumed = Batch::resume(&config, Some(&key), snapshot, 99, BatchOptions::default(), Millis(sim.now)).expect("resume");
    sim.replace_batch(resumed);
    sim.run(sim.now + 20_000_000);
    assert!(sim.done);
    let summary = sim.batch.take_result().expect("a summary");
    assert!(summary.results.iter().all(|r| r.error.is_none()), "every item completed: {:?}", summary.results.iter().find(|r| r.error.is_some()));
    assert!(sim.service.creates_per_item.iter().all(|&c| c == 1), "no item was submitted twice: {:?}", sim.service.creates_per_item);
    assert_eq!(sim.service.jobs.len(), 40);
    assert!(sim.service.jobs.len() >= jobs_before);
    assert_eq!(sim.service.counts.too_many(), 0);
}

#[test]
fn a_create_answer_lost_after_the_server_stored_it_is_reconciled() {
    let items = workload(30, 3, DEFAULT_SIGMA);
    let lost_prompt = items[3].prompt.clone();
    let mut sim = OursSim::new(items, Reading::Lenient, BatchOptions::default(), 3);
    sim.service.drop_create_answer_for = vec![3];
    sim.keep_events = true;
    sim.run(20_000_000);
    assert!(sim.done);
    assert!(sim.service.drop_create_answer_for.is_empty(), "the hook fired");
    assert_eq!(sim.service.creates_per_item[3], 1);
    let posts = sim.service.log.iter().filter(|r| r.kind == Kind::Create).count();
    assert_eq!(posts, 30, "one POST per item: the lost one was not sent again");
    assert!(sim.events.iter().any(|(_, e)| matches!(e, Event::Reconciled { job } if job.prompt.as_deref() == Some(lost_prompt.as_str()))), "the job was adopted by reconciliation");
    let summary = sim.batch.take_result().expect("a summary");
    assert!(summary.results.iter().all(|r| r.error.is_none()));
}

#[test]
fn the_models_429s_read_as_the_contract_says() {
    let mut s = Service::new(ServiceConfig::standard(Reading::Lenient), workload(11, 1, DEFAULT_SIGMA));
    for i in 0..10 {
        assert!(matches!(s.handle(Req::Create { item: i, idem: None }, 0), Resp::Created { .. }));
    }
    let r = s.handle(Req::Create { item: 10, idem: None }, 0);
    let e = usvideo_core::response::error_from_response(&s.to_http(&r, 0));
    assert_eq!((e.kind, e.code.as_str()), (ErrorKind::RateLimit, "concurrency_limit"));
    assert!(e.retry_after_ms.is_some_and(|ms| ms >= 1_000));
    for t in 0..60 {
        let _ = s.handle(Req::Account, 100 + t);
    }
    let r = s.handle(Req::Account, 500);
    let e = usvideo_core::response::error_from_response(&s.to_http(&r, 500));
    assert_eq!((e.kind, e.code.as_str()), (ErrorKind::RateLimit, "rate_limited"));
    assert!(e.retry_after_ms.is_some_and(|ms| ms >= 1_000));
}
