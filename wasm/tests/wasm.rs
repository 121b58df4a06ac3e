//! wasm-bindgen-test: the exports as JS sees them, in Node (default) and in headless Chromium
//! (`WASM_BINDGEN_USE_BROWSER=1`). The package's own tests (tests/*.test.mjs) cover the driver.
#![allow(missing_docs, clippy::unwrap_used)]

use usvideo_wasm::{estimate, Client, Limiter};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

fn thrown(e: JsValue) -> serde_json::Value {
    serde_json::from_str(&e.as_string().expect("errors are thrown as JSON text")).unwrap()
}

#[wasm_bindgen_test]
fn estimate_is_the_reference_example() {
    assert_eq!(estimate(r#"{"resolution":"1080p","duration":5}"#, None).unwrap(), 120.0);
    assert_eq!(estimate(r#"[{"resolution":"2k","duration":10},{}]"#, None).unwrap(), 390.0);
}

#[wasm_bindgen_test]
fn a_typo_is_refused_with_a_suggestion() {
    let e = thrown(estimate(r#"{"resolutoin":"1080p"}"#, None).unwrap_err());
    assert_eq!(e["class"], "ValidationError");
    assert_eq!(e["field"], "resolutoin");
    assert!(e["message"].as_str().unwrap().contains("did you mean `resolution`"));
    let client = Client::new("http://h/v1", Some("sd_test_key_0001".into()), None).unwrap();
    let spec = r#"{"machine":"create","request":{"prompt":"x","mode":"text_to_video","resolutoin":"1080p"}}"#;
    let e = thrown(client.start(spec, &[0; 24], 0.0).err().unwrap());
    assert_eq!(e["issues"][0]["code"], "unknown_field");
}

#[wasm_bindgen_test]
fn numbers_cross_as_numbers() {
    // 2^53 - 1 instants and cents stay exact f64 values.
    let mut l = Limiter::new(1);
    assert_eq!(l.acquire(9_007_199_254_740_990.0), -1.0);
    assert_eq!(l.acquire(9_007_199_254_740_990.0), 9_007_199_254_740_991.0);
}

#[wasm_bindgen_test]
fn a_wait_machine_runs_to_completion() {
    let client = Client::new("http://h/v1", Some("sd_test_key_0001".into()), None).unwrap();
    let mut m = client.start(r#"{"machine":"job_run_wait","job_id":"job_1","seed":7}"#, &[0; 24], 0.0).unwrap();
    let send: serde_json::Value = serde_json::from_str(&m.poll(0.0)).unwrap();
    assert_eq!(send["t"], "send");
    assert_eq!(send["url"], "http://h/v1/videos/job_1");
    assert_eq!(send["method"], "GET");
    let id = send["id"].as_f64().unwrap();
    let body = br#"{"id":"job_1","status":"completed","video_url":"http://x/v.mp4","cost_cents":30}"#;
    let mut limiter = Limiter::new(0);
    let mut out: serde_json::Value = serde_json::from_str(&m.respond(id, 200, "content-type\0application/json\0", body, 100.0, &mut limiter, true)).unwrap();
    let mut kinds = Vec::new();
    loop {
        kinds.push(out["t"].as_str().unwrap().to_owned());
        if out["t"] == "done" {
            break;
        }
        assert!(kinds.len() < 20);
        out = serde_json::from_str(&m.poll(100.0)).unwrap();
    }
    assert_eq!(kinds, ["event", "event", "done"]);
    // `respond` answered with an event, so the outcome is taken as usual (once).
    let job: serde_json::Value = serde_json::from_str(&m.take_result().unwrap()).unwrap();
    assert_eq!(thrown(m.take_result().unwrap_err())["class"], "UsageError", "taken once");
    assert_eq!(job["video_url"], "http://x/v.mp4");
    assert_eq!(job["cost_cents"], 30);
}

#[wasm_bindgen_test]
fn a_404_is_a_not_found_error() {
    let client = Client::new("http://h/v1", Some("sd_test_key_0001".into()), None).unwrap();
    let mut m = client.start(r#"{"machine":"call","call":{"target":"retrieve_video","id":"job_9"}}"#, &[1; 24], 0.0).unwrap();
    let send: serde_json::Value = serde_json::from_str(&m.poll(0.0)).unwrap();
    let body = br#"{"error":{"code":"not_found","message":"no such job"}}"#;
    let done: serde_json::Value = serde_json::from_str(&m.respond(send["id"].as_f64().unwrap(), 404, "x-request-id\0req_1\0", body, 5.0, &mut Limiter::new(0), true)).unwrap();
    // `respond` saw the end itself: the outcome comes with its `done`, and is not there to take again.
    assert_eq!(done["t"], "done");
    assert_eq!(thrown(m.take_result().unwrap_err())["class"], "UsageError", "already taken");
    let e = &done["error"];
    assert_eq!(e["class"], "NotFoundError");
    assert_eq!(e["status"], 404);
    assert_eq!(e["request_id"], "req_1");
}

#[wasm_bindgen_test]
fn bad_credentials_never_echo_the_key() {
    let e = thrown(Client::new("http://h/v1", Some("sd_secret value".into()), None).err().unwrap());
    assert_eq!(e["field"], "api_key");
    assert!(!e.to_string().contains("secret"));
}
