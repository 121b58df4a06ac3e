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
            let mut charged = 0u64; // the price of every job this task created
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
                    charged += body["estimated_cost_cents"].as_u64().unwrap();
                }
                assert!([200, 201, 402, 409, 429].contains(&status), "{status} {body}");
                if i % 5 == 0 {
                    emu.advance(3_000);
                }
            }
            (t % 4, charged)
        });
    }
    let mut charged = [0u64; 4];
    while let Some(r) = tasks.join_next().await {
        let (account, sum) = r.unwrap();
        charged[account] += sum;
    }

    let check = |all_done: bool| {
        let ledger = emu.ledger();
        for (i, email) in emails.iter().enumerate() {
            let l = ledger["accounts"].as_array().unwrap().iter().find(|a| &a["email"] == email).unwrap().clone();
            assert_balanced(&l);
            assert_eq!(l["deposits_cents"], 3_000);
            let n = |k: &str| l[k].as_u64().unwrap();
            // Every job created is, exactly once, held, spent or refunded.
            assert_eq!(n("spent_cents") + n("held_cents") + n("refunded_cents"), charged[i], "{l}");
            if all_done {
                assert_eq!((n("held_cents"), n("active_jobs")), (0, 0), "{l}");
            }
        }
    };
    check(false);
    // Let every job finish: nothing held, every job spent or refunded.
    emu.advance(3_600_000);
    check(true);

    // The API agrees with the ledger, and the jobs still listed are settled.
    let mut failed_seen = 0;
    for (email, key) in emails.iter().zip(&keys) {
        let l = ledger_of(&emu, email);
        let page: serde_json::Value = http.get(format!("{}/videos?limit=100", emu.api_base())).bearer_auth(key).send().await.unwrap().json().await.unwrap();
        let mut listed_completed = 0;
        for j in page["data"].as_array().unwrap() {
            match j["status"].as_str().unwrap() {
                "completed" => listed_completed += j["cost_cents"].as_u64().unwrap(),
                "failed" => failed_seen += 1,
                s => panic!("still {s}"),
            }
        }
        assert!(l["spent_cents"].as_u64().unwrap() >= listed_completed);
        let acct: serde_json::Value = http.get(format!("{}/account", emu.api_base())).bearer_auth(key).send().await.unwrap().json().await.unwrap();
        assert_eq!(acct["total_spent_cents"], l["spent_cents"]);
        assert_eq!(acct["total_jobs"], l["jobs_created"]);
        assert_eq!(acct["balance_cents"], l["balance_cents"]);
    }
    assert!(failed_seen > 0, "some jobs failed by the fault");
}
