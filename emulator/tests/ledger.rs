//! Many concurrent creates, deletes, reads and failing jobs over 4 accounts: the ledger stays
//! exact (deposits = balance + held + spent) and matches the jobs.

mod common;
use common::*;
use serde_json::json;
use std::sync::Arc;
use usvideo_emulator::{AccountSpec, Emulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_stays_exact_under_concurrent_load() {
    let emu = Arc::new(Emulator::builder().time_scale(50.0).seed(42).start().await.unwrap());
    let emails: Vec<String> = (0..4).map(|i| format!("load{i}@example.com")).collect();
    let keys: Vec<String> = emails
        .iter()
        .map(|e| {
            emu.create_account_with(AccountSpec { email: e.clone(), balance_cents: 3_000, requests_per_minute: Some(100_000), concurrent_jobs: Some(6), ..AccountSpec::default() })
                .api_key
        })
        .collect();
    emu.add_fault(json!({"fail_job": true, "times": 15, "message": "load"})).unwrap();

    let http = reqwest::Client::new();
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..8usize {
        let (emu, http, key) = (emu.clone(), http.clone(), keys[t % 4].clone());
        tasks.spawn(async move {
            let mut mine: Vec<String> = Vec::new();
            let mut statuses = Vec::new();
            for i in 0..25usize {
                let op = (t * 7 + i * 3) % 5;
                let res = if op < 3 || mine.is_empty() {
                    let res = ["720p", "1080p", "2k"][i % 3];
                    http.post(format!("{}/videos", emu.api_base())).bearer_auth(&key).body(text_body(&format!("t{t} i{i}"), res, (i % 10 + 1) as u64)).send().await
                } else if op == 3 {
                    let id = mine.remove(i % mine.len());
                    http.delete(format!("{}/videos/{id}", emu.api_base())).bearer_auth(&key).send().await
                } else {
                    http.get(format!("{}/videos?limit=5", emu.api_base())).bearer_auth(&key).send().await
                };
                let res = res.unwrap();
                let status = res.status().as_u16();
                let body: serde_json::Value = res.json().await.unwrap();
                if status == 201 {
                    mine.push(body["id"].as_str().unwrap().to_owned());
                }
                assert!([200, 201, 402, 409, 429].contains(&status), "{status} {body}");
                statuses.push(status);
                if i % 5 == 0 {
                    emu.advance(3_000);
                }
            }
            statuses
        });
    }
    let mut count = 0;
    while let Some(r) = tasks.join_next().await {
        count += r.unwrap().len();
    }
    assert_eq!(count, 200);

    let check = |final_pass: bool| {
        let ledger = emu.ledger();
        let mut refunded_total = 0;
        for email in &emails {
            let l = ledger["accounts"].as_array().unwrap().iter().find(|a| &a["email"] == email).unwrap().clone();
            assert_balanced(&l);
            assert_eq!(l["deposits_cents"], 3_000);
            refunded_total += l["refunded_cents"].as_u64().unwrap();
            if final_pass {
                assert_eq!((l["held_cents"].as_u64(), l["active_jobs"].as_u64()), (Some(0), Some(0)), "{l}");
            }
        }
        refunded_total
    };
    check(false);
    // Let every job finish: nothing held, and every job either spent or refunded.
    emu.advance(3_600_000);
    let refunded = check(true);
    assert!(refunded > 0, "failures and cancellations were refunded");

    // spent + held + refunded = the sum of every job's price, per account (from the jobs still
    // listed plus the refunds of the deleted pending ones, which the ledger alone knows; so
    // check the identity that needs no outside knowledge: spent = completed jobs still listed
    // + completed jobs deleted, which here is spent ≥ listed completed).
    for (email, key) in emails.iter().zip(&keys) {
        let mut listed_completed = 0;
        let mut listed_failed = 0;
        let mut offset = 0;
        loop {
            let page: serde_json::Value =
                http.get(format!("{}/videos?limit=100&offset={offset}", emu.api_base())).bearer_auth(key).send().await.unwrap().json().await.unwrap();
            for j in page["data"].as_array().unwrap() {
                match j["status"].as_str().unwrap() {
                    "completed" => listed_completed += j["cost_cents"].as_u64().unwrap(),
                    "failed" => listed_failed += j["estimated_cost_cents"].as_u64().unwrap(),
                    s => panic!("still {s}"),
                }
            }
            if !page["has_more"].as_bool().unwrap() {
                break;
            }
            offset += 100;
        }
        let l = ledger_of(&emu, email);
        assert!(l["spent_cents"].as_u64().unwrap() >= listed_completed);
        assert!(l["refunded_cents"].as_u64().unwrap() >= listed_failed);
        let acct: serde_json::Value = http.get(format!("{}/account", emu.api_base())).bearer_auth(key).send().await.unwrap().json().await.unwrap();
        assert_eq!(acct["total_spent_cents"], l["spent_cents"]);
        assert_eq!(acct["total_jobs"], l["jobs_created"]);
    }
}
