//! Property tests of the core: nothing a caller or a server sends makes it panic, money math is
//! monotonic and exact, backoff and the rate limiter keep their bounds, secrets do not leak, and
//! every state machine ends (`Done`) under arbitrary interleavings of answers, transport errors,
//! time jumps and cancels.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};
use usvideo_core::Json;

/// A serde_json value as the core's [`Json`] (numbers as serde_json writes them).
fn j(v: &Value) -> Json<'static> {
    serde::Deserialize::deserialize(v).unwrap_or_default()
}
use usvideo_core::pricing::{format_decimal_nanos, parse_decimal_nanos, Price};
use usvideo_core::validate::{self, CREATE_FIELDS};
use usvideo_core::{
    response, secret, ApiKey, ClientConfig, Create, CreateVideoRequest, Header, HttpResponse, IdempotencyKey, JobRun, Machine, Millis, Mode, Output, PricingTable, RateLimiter, RequestId, Resolution, RetryPolicy,
    Rng, TransportKind, WaitOptions,
};

// ---------------------------------------------------------------- strategies

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        select(CREATE_FIELDS.to_vec()).prop_map(str::to_owned),
        select(vec!["limit", "offset", "resolutoin", "promt", "data", "error", "id", "status", "has_more", "total"]).prop_map(str::to_owned),
        "[a-z_]{0,10}",
        "\\PC{0,6}",
    ]
}

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (0u64..=12).prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::String),
        select(vec!["720p", "1080p", "2k", "2K", "text_to_video", "image_to_video", "reference", "https://example.com/a.png", "ftp://x", "", " ", "pending", "completed", "failed", "processing", "job_1"])
            .prop_map(|s| json!(s)),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    arb_leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((arb_key(), inner), 0..8).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Objects whose keys are mostly the create fields, so that the deeper rules are reached.
fn arb_create_body() -> impl Strategy<Value = Value> {
    prop::collection::vec((arb_key(), arb_leaf()), 0..9).prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

fn arb_job_json() -> impl Strategy<Value = Value> {
    (
        select(vec!["job_1", "job_2", ""]),
        select(vec!["pending", "processing", "completed", "failed", "upscaling", ""]),
        prop::option::of(0u64..=120),
        prop::option::of(select(vec!["720p", "1080p", "2k", "8k"])),
        prop::option::of(0u64..=12),
        any::<bool>(),
    )
        .prop_map(|(id, status, progress, resolution, duration, with_error)| {
            let mut j = json!({"id": id, "status": status, "prompt": "a lake at dawn", "mode": "text_to_video", "created_at": "2026-04-21T15:30:00Z"});
            if let Some(p) = progress {
                j["progress"] = json!(p);
            }
            if let Some(r) = resolution {
                j["resolution"] = json!(r);
            }
            if let Some(d) = duration {
                j["duration"] = json!(d);
            }
            if status == "completed" {
                j["video_url"] = json!("https://cdn.example.com/v.mp4");
            }
            if with_error {
                j["error"] = json!({"code": "content_policy", "message": "refused"});
            }
            j
        })
}

fn arb_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => arb_job_json().prop_map(|j| j.to_string().into_bytes()),
        1 => prop::collection::vec(arb_job_json(), 0..4).prop_map(|d| json!({"data": d, "has_more": false}).to_string().into_bytes()),
        1 => prop::collection::vec(arb_job_json(), 0..3).prop_map(|d| Value::Array(d).to_string().into_bytes()),
        1 => arb_json().prop_map(|j| j.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => (arb_job_json(), 0usize..40).prop_map(|(j, cut)| j.to_string().into_bytes().into_iter().take(cut).collect()),
        1 => Just(br#"{"error": {"code": "rate_limited", "message": "slow down", "field": "duration"}}"#.to_vec()),
        1 => Just(b"<html><body>502 Bad Gateway</body></html>".to_vec()),
        1 => Just(Vec::new()),
    ]
}

fn arb_header() -> impl Strategy<Value = Header> {
    (
        select(vec!["retry-after", "Retry-After", "date", "x-request-id", "content-type", "x-other"]),
        prop_oneof![
            select(vec!["0", "1", "3", "2.5", "-1", "60", "61", "1e3", "0.0000000001", "18446744073709551615", "99999999999999999999", "soon", "", "Sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:40 GMT"])
                .prop_map(str::to_owned),
            "[ -~]{0,30}",
        ],
    )
        .prop_map(|(n, v)| Header::new(n, v))
}

fn arb_status() -> impl Strategy<Value = u16> {
    prop_oneof![
        4 => select(vec![200u16, 201, 204]),
        3 => select(vec![400u16, 401, 402, 404, 408, 409, 418, 429, 500, 502, 503, 504]),
        1 => 0u16..1000,
        1 => any::<u16>(),
    ]
}

fn arb_response() -> impl Strategy<Value = HttpResponse> {
    (arb_status(), prop::collection::vec(arb_header(), 0..4), arb_body()).prop_map(|(status, headers, body)| HttpResponse { status, headers, body })
}

fn arb_resolution() -> impl Strategy<Value = Resolution> {
    select(Resolution::ALL.to_vec())
}

// ---------------------------------------------------------------- validation

proptest! {
    #[test]
    fn validation_never_panics(v in arb_json(), body in arb_create_body()) {
        for input in [&v, &body] {
            let _ = validate::list_params_from_json(&j(input));
            if let Ok(req) = validate::create_request_from_json(&j(input)) {
                // Whatever the loose path accepts, the typed path and the builder accept too, and
                // the body sent reads back as the same request.
                prop_assert!(validate::validate_create(&req).is_ok(), "{req:?}");
                let config = ClientConfig::new("http://h/v1").unwrap();
                let key = ApiKey::new("sd_prop_key_0000").unwrap();
                let sent = config.create_video(Some(&key), &req, &IdempotencyKey::from_string("k").unwrap()).unwrap();
                let back: Value = serde_json::from_slice(sent.body.as_deref().unwrap_or_default()).unwrap();
                prop_assert_eq!(validate::create_request_from_json(&j(&back)), Ok(req));
            }
        }
    }

    #[test]
    fn ids_and_credentials_never_panic(s in "\\PC{0,140}") {
        let ok = validate::validate_job_id(&s).is_ok();
        if ok {
            prop_assert!(!s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
        }
        if let Ok(k) = ApiKey::new(s.clone()) {
            prop_assert!(k.expose().starts_with("sd_") && !k.expose().chars().any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii()));
        }
        let _ = usvideo_core::Jwt::new(s);
    }
}

// ---------------------------------------------------------------- responses

proptest! {
    #[test]
    fn parsers_never_panic_and_keep_the_status(resp in arb_response()) {
        let status = resp.status;
        let ok2xx = (200..300).contains(&status);
        let e = response::error_from_response(&resp);
        prop_assert_eq!(e.status, Some(status));
        macro_rules! check {
            ($r:expr) => {
                match $r {
                    Ok(_) => prop_assert!(ok2xx, "status {} parsed as success", status),
                    Err(e) => prop_assert_eq!(e.status, Some(status), "{}", e),
                }
            };
        }
        check!(response::parse_job(&resp));
        check!(response::parse_delete(&resp, "job_1"));
        check!(response::parse_account(&resp));
        check!(response::parse_pricing(&resp));
        check!(response::parse_created_api_key(&resp));
        // parse_job_page: an offset near u64::MAX without has_more saturates (vector
        // responses.json page_huge_offset_without_has_more).
        check!(response::parse_job_page(&resp, &usvideo_core::ListParams::default()));
        let _ = response::retry_after_ms(&resp);
    }
}

proptest! {
    /// Huge or odd numeric fields in an HTTP date or an RFC 3339 stamp are refused or read, never
    /// overflowed (the years, days and offsets are bounded before any arithmetic).
    #[test]
    fn dates_never_panic(y in "[0-9]{1,22}", mo in "[0-9]{1,3}", d in "[0-9]{1,22}", h in "[0-9]{1,20}", off in "[0-9]{1,22}", frac in "[0-9]{0,12}", minus in any::<bool>()) {
        use usvideo_core::date;
        let _ = date::parse_http_date(&format!("Sun, {d} Nov {y} {h}:49:37 GMT"));
        let _ = date::parse_rfc3339(&format!("{y}-{mo}-{d}T{h}:30:00.{frac}{}{off}:{off}", if minus { '-' } else { '+' }));
        let _ = date::parse_rfc3339(&format!("{y}-04-21T15:30:00Z"));
    }
}

#[test]
fn dates_never_panic_on_the_known_cases() {
    use usvideo_core::date;
    assert_eq!(date::parse_http_date("Sun, 06 Nov 99999999999999 08:49:37 GMT"), None);
    assert_eq!(date::parse_rfc3339("2026-04-21T15:30:00+99999999999999999:00"), None);
    assert_eq!(date::parse_rfc3339("99999999999999-04-21T15:30:00Z"), None);
}

/// A job as the reader's documented rules (core/src/readers.rs) say it reads `v`, written out
/// independently over serde_json's `Value`: `None` when the body is not a job.
fn job_by_the_rules(v: &Value) -> Option<usvideo_core::Job> {
    use usvideo_core::{Job, JobError, JobStatus};
    let o = v.as_object()?;
    let id = o.get("id")?.as_str().filter(|s| !s.is_empty())?;
    let status = o.get("status")?.as_str()?;
    let prompt = match o.get("prompt") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(p.clone()),
        Some(_) => return None,
    };
    let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
    let int = |k: &str| o.get(k).and_then(Value::as_u64);
    let error = match o.get("error") {
        Some(Value::Object(e)) => {
            let part = |k: &str| match e.get(k) {
                None => Some(String::new()),
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => None,
            };
            part("code").zip(part("message")).map(|(code, message)| JobError { code, message })
        }
        _ => None,
    };
    let status = JobStatus::parse(status);
    // A completed job without its video is not read.
    if status == JobStatus::Completed && text("video_url").is_none() {
        return None;
    }
    Some(Job {
        id: id.to_owned(),
        status,
        prompt,
        mode: text("mode").as_deref().and_then(Mode::parse),
        resolution: text("resolution").as_deref().and_then(Resolution::parse),
        duration: int("duration").and_then(|d| u32::try_from(d).ok()),
        seed: int("seed"),
        image_url: text("image_url"),
        reference_url: text("reference_url"),
        estimated_cost_cents: int("estimated_cost_cents"),
        cost_cents: int("cost_cents"),
        video_url: text("video_url"),
        error,
        created_at: text("created_at"),
        progress: int("progress").and_then(|p| u8::try_from(p).ok()).filter(|p| *p <= 100),
    })
}

fn arb_job_member() -> impl Strategy<Value = (String, Value)> {
    let names = vec![
        "id", "status", "prompt", "mode", "resolution", "duration", "seed", "image_url", "reference_url", "estimated_cost_cents", "cost_cents", "video_url", "error", "created_at",
        "progress", "other",
    ];
    (select(names), prop_oneof![4 => arb_leaf(), 1 => arb_json()]).prop_map(|(k, v)| (k.to_owned(), v))
}

proptest! {
    /// The hand-written job reader agrees with its rules, written out independently above, on
    /// objects of job members holding any value (serde_json's objects never repeat a key; the
    /// repeated-key rule is tested in readers.rs).
    #[test]
    fn the_job_reader_follows_its_rules(members in prop::collection::vec(arb_job_member(), 0..16), job in arb_job_json()) {
        let mut v = job;
        if let Value::Object(o) = &mut v {
            for (k, x) in members {
                o.insert(k, x);
            }
        }
        let resp = HttpResponse::json(200, &v);
        let ours = response::parse_job(&resp).ok();
        prop_assert_eq!(ours, job_by_the_rules(&v), "{}", v);
    }
}

// ---------------------------------------------------------------- pricing

proptest! {
    #[test]
    fn builtin_pricing_is_monotonic(d in 1u32..10) {
        for r in Resolution::ALL {
            let a = usvideo_core::estimate_cost(r, d).unwrap();
            let b = usvideo_core::estimate_cost(r, d + 1).unwrap();
            prop_assert!(a <= b);
        }
        let [p720, p1080, k2] = Resolution::ALL.map(|r| usvideo_core::estimate_cost(r, d).unwrap());
        prop_assert!(p720 <= p1080 && p1080 <= k2);
    }

    #[test]
    fn any_table_is_monotonic_and_never_overflows(mut prices in prop::array::uniform3(any::<u64>()), d in 0u32..=12, r in arb_resolution()) {
        prices.sort_unstable();
        let table = PricingTable { prices: Resolution::ALL.iter().zip(prices).map(|(r, p)| Price { resolution: *r, per_second_nanodollars: p }).collect() };
        let got = table.estimate(r, d);
        if !(1..=10).contains(&d) {
            prop_assert!(got.is_err());
            return Ok(());
        }
        if let Ok(c) = got {
            prop_assert!(c <= usvideo_core::pricing::MAX_SAFE_CENTS);
            // Exact: ceil(price × d / 10^7).
            let exact = (u128::from(table.per_second(r).unwrap()) * u128::from(d)).div_ceil(10_000_000);
            prop_assert_eq!(u128::from(c), exact);
            if d > 1 {
                prop_assert!(table.estimate(r, d - 1).unwrap() <= c);
            }
            for lower in Resolution::ALL.iter().filter(|x| **x <= r) {
                prop_assert!(table.estimate(*lower, d).unwrap() <= c);
            }
        }
    }

    /// The core's float reader (no std float parser in the wasm, see `decimal`) gives the nearest
    /// float for up to 15 significant digits within ±22 decimal places, and near it for any float's
    /// shortest text.
    #[test]
    fn floats_are_read_as_std_reads_them(digits in 0u64..1_000_000_000_000_000, exp in -22i32..=22, neg in any::<bool>()) {
        let text = format!("{}{digits}e{exp}", if neg { "-" } else { "" });
        prop_assert_eq!(usvideo_core::decimal::parse_f64(&text), text.parse::<f64>().ok());
    }

    #[test]
    fn any_float_text_reads_back_near(x in any::<f64>().prop_filter("finite", |x| x.is_finite() && x.abs() > 1e-290)) {
        let back = usvideo_core::decimal::parse_f64(&x.to_string()).unwrap();
        prop_assert!(((back - x) / x).abs() < 1e-14, "{} read as {}", x, back);
        let back = usvideo_core::decimal::parse_f64(&format!("{x:e}")).unwrap();
        prop_assert!(((back - x) / x).abs() < 1e-14, "{:e} read as {}", x, back);
    }

    #[test]
    fn decimal_nanos_round_trip(n in any::<u64>()) {
        prop_assert_eq!(parse_decimal_nanos(&format_decimal_nanos(n)), Some(n));
    }

    #[test]
    fn decimal_text_is_read_exactly(int in 0u64..1_000_000, frac in "[0-9]{0,9}") {
        let text = if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") };
        let scale = 10u64.pow(9 - u32::try_from(frac.len()).unwrap());
        let want = int * 1_000_000_000 + if frac.is_empty() { 0 } else { frac.parse::<u64>().unwrap() * scale };
        prop_assert_eq!(parse_decimal_nanos(&text), Some(want));
    }

    #[test]
    fn batch_total_is_the_sum(items in prop::collection::vec((arb_resolution(), 1u32..=10), 0..20)) {
        let reqs: Vec<CreateVideoRequest> = items.iter().map(|(r, d)| CreateVideoRequest { resolution: Some(*r), duration: Some(*d), ..CreateVideoRequest::text("p") }).collect();
        let sum: u64 = items.iter().map(|(r, d)| usvideo_core::estimate_cost(*r, *d).unwrap()).sum();
        prop_assert_eq!(PricingTable::builtin().estimate_all(&reqs).unwrap(), sum);
    }
}

// ---------------------------------------------------------------- retry, rate limit, secrets

proptest! {
    #[test]
    fn backoff_stays_in_bounds(base in 0u64..2_000_000, max in 0u64..20_000_000, attempt in any::<u32>(), seed in any::<u64>()) {
        let policy = RetryPolicy { base_delay_ms: base, max_delay_ms: max, ..RetryPolicy::default() };
        let cap = (u128::from(base) << attempt.min(40)).min(u128::from(max));
        let d = u128::from(policy.backoff_ms(attempt, &mut Rng::new(seed)));
        prop_assert!(d >= cap / 2 && d <= cap, "attempt {attempt}: {d} not in [{}, {cap}]", cap / 2);
    }

    #[test]
    fn limiter_never_grants_more_than_n_per_window(rpm in 1u32..8, gaps in prop::collection::vec(0u64..20_000, 1..200), pauses in prop::collection::vec((0usize..200, 0u64..90_000), 0..4)) {
        let mut l = RateLimiter::new(rpm);
        let mut now = 0u64;
        let mut granted: Vec<u64> = Vec::new();
        for (i, gap) in gaps.iter().enumerate() {
            now += gap;
            for (_, ms) in pauses.iter().filter(|(at, _)| *at == i) {
                l.on_retry_after(Millis(now), *ms);
            }
            match l.try_acquire(Millis(now)) {
                Ok(()) => granted.push(now),
                Err(at) => prop_assert!(at.0 > now, "wait until {} at {now}", at.0),
            }
        }
        for (i, t) in granted.iter().enumerate() {
            let in_window = granted[i..].iter().take_while(|u| **u - *t < 60_000).count();
            prop_assert!(in_window <= rpm as usize, "{in_window} grants in the minute from {t}");
        }
    }

    #[test]
    fn redaction_never_leaves_a_full_key(before in "\\PC{0,20}", after in "\\PC{0,20}", body in "[A-Za-z0-9_-]{5,40}", jwt in ("[A-Za-z0-9_-]{4,20}", "[A-Za-z0-9_-]{4,20}", "[A-Za-z0-9_-]{4,20}")) {
        let key = format!("sd_{body}");
        let token = format!("eyJ{}.{}.{}", jwt.0, jwt.1, jwt.2);
        for secret_text in [&key, &token] {
            let text = format!("{before} {secret_text} {after}");
            let out = secret::redact_text(&text);
            prop_assert!(!out.contains(secret_text.as_str()), "{out}");
        }
    }
}

// ---------------------------------------------------------------- state machines

/// What the driver does when a request is in flight.
#[derive(Clone, Debug)]
enum Answer {
    Response(HttpResponse),
    Transport(TransportKind),
}

fn arb_answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        5 => arb_response().prop_map(Answer::Response),
        1 => select(vec![TransportKind::Connect, TransportKind::Timeout, TransportKind::Aborted, TransportKind::BodyTooLarge, TransportKind::Other]).prop_map(Answer::Transport),
    ]
}

#[derive(Clone, Debug)]
struct Script {
    answers: Vec<Answer>,
    /// Milliseconds to wait before answering, or after a WaitUntil before waking (cycled).
    delays: Vec<u64>,
    cancel_at: Option<usize>,
}

fn arb_script() -> impl Strategy<Value = Script> {
    (
        prop::collection::vec(arb_answer(), 0..40),
        prop::collection::vec(prop_oneof![4 => Just(0u64), 4 => 0u64..5_000, 1 => 0u64..700_000, 1 => 0u64..(1u64 << 45)], 1..20),
        prop::option::of(prop_oneof![3 => 0usize..24, 1 => 0usize..400]),
    )
        .prop_map(|(answers, delays, cancel_at)| Script { answers, delays, cancel_at })
}

fn completed() -> Answer {
    Answer::Response(HttpResponse::json(200, &json!({"id": "job_1", "status": "completed", "prompt": "a lake at dawn", "mode": "text_to_video", "video_url": "https://cdn.example.com/v.mp4"})))
}

/// Drives `m` under `script` until `Done`, checking the driving contract on the way.
fn drive(m: &mut dyn Machine, script: &Script, start: u64) -> Result<(), TestCaseError> {
    const MAX_POLLS: usize = 10_000;
    let mut now = start;
    let mut in_flight: Vec<RequestId> = Vec::new();
    let (mut answered, mut delayed) = (0usize, 0usize);
    let mut cancelled = false;
    let mut next_delay = || {
        delayed += 1;
        script.delays[delayed % script.delays.len()]
    };
    for poll in 0..MAX_POLLS {
        if script.cancel_at == Some(poll) && !cancelled {
            cancelled = true;
            m.cancel(Millis(now));
        }
        match m.poll(Millis(now)) {
            Output::Send { id, timeout_ms, .. } => {
                // Ids are unique among requests in flight (a cancel may abandon one: the known
                // job.rs id reuse, transcripts/cancel_with_poll_in_flight, is not checked here).
                prop_assert!(cancelled || !in_flight.contains(&id), "request id {} reused while in flight", id.0);
                if let Some(t) = timeout_ms {
                    prop_assert!(t <= Millis::MAX.0);
                }
                in_flight.push(id);
            }
            Output::Event(_) => {}
            Output::WaitUntil(t) => {
                prop_assert!(t.0 > now, "WaitUntil({}) at now {now}", t.0);
                prop_assert!(t <= Millis::MAX);
                now = t.plus(next_delay()).0;
                m.handle_timeout(Millis(now));
            }
            Output::Pending => {
                prop_assert!(!in_flight.is_empty(), "Pending with nothing in flight");
                let id = in_flight.remove(0);
                now = Millis(now).plus(next_delay()).0;
                let answer = if script.answers.is_empty() { completed() } else { script.answers[answered % script.answers.len()].clone() };
                answered += 1;
                match answer {
                    Answer::Response(r) => m.handle_response(id, r, Millis(now)),
                    Answer::Transport(k) => m.handle_transport_error(id, k, "prop", Millis(now)),
                }
            }
            Output::Done => {
                prop_assert_eq!(m.poll(Millis(now)), Output::Done);
                return Ok(());
            }
            other => prop_assert!(false, "unexpected output {other:?}"),
        }
    }
    prop_assert!(false, "not Done after {MAX_POLLS} polls");
    Ok(())
}

fn setup() -> (ClientConfig, ApiKey, IdempotencyKey) {
    (ClientConfig::new("http://h/v1").unwrap(), ApiKey::new("sd_prop_key_0000").unwrap(), IdempotencyKey::from_string("usv-prop").unwrap())
}

fn arb_options() -> impl Strategy<Value = WaitOptions> {
    (1u64..=900_000, any::<bool>(), 0u32..=5, prop_oneof![Just(1.0f64), 0.01f64..4.0]).prop_map(|(timeout, cancel_on_timeout, max_retries, scale)| {
        let mut o = WaitOptions { timeout_ms: Some(timeout), cancel_on_timeout, ..WaitOptions::default() };
        o.retry.max_retries = max_retries;
        o.poll.expected_scale = scale;
        o
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn job_run_wait_always_ends(script in arb_script(), options in arb_options(), seed in any::<u64>(), start in 0u64..1_000_000) {
        let (config, key, _) = setup();
        let mut run = JobRun::wait(&config, Some(&key), "job_1", options, seed, Millis(start)).unwrap();
        drive(&mut run, &script, start)?;
        let r = run.take_result();
        prop_assert!(r.as_ref().is_ok_and(|j| j.status.is_terminal()) || r.as_ref().is_err_and(|e| e.kind != usvideo_core::ErrorKind::Usage), "{r:?}");
    }

    #[test]
    fn job_run_create_and_wait_always_ends(script in arb_script(), options in arb_options(), seed in any::<u64>(), mode in select(Mode::ALL.to_vec())) {
        let (config, key, idem) = setup();
        let mut req = CreateVideoRequest::text("a lake at dawn");
        req.mode = mode;
        match mode {
            Mode::ImageToVideo => req.image_url = Some("https://example.com/a.png".into()),
            Mode::Reference => req.reference_url = Some("https://example.com/r.png".into()),
            Mode::TextToVideo => {}
        }
        let mut run = JobRun::create_and_wait(&config, Some(&key), req, &idem, options, seed, Millis(0)).unwrap();
        drive(&mut run, &script, 0)?;
        let r = run.take_result();
        prop_assert!(r.as_ref().is_ok_and(|j| j.status.is_terminal()) || r.as_ref().is_err_and(|e| e.kind != usvideo_core::ErrorKind::Usage), "{r:?}");
    }

    #[test]
    fn create_always_ends(script in arb_script(), max_retries in 0u32..=5, deadline in prop::option::of(1u64..2_000_000), seed in any::<u64>()) {
        let (config, key, idem) = setup();
        let policy = RetryPolicy { max_retries, ..RetryPolicy::default() };
        let mut create = Create::new(&config, Some(&key), CreateVideoRequest::text("a lake at dawn"), &idem, policy, seed, deadline.map(Millis), 0).unwrap();
        drive(&mut create, &script, 0)?;
        let r = create.take_result();
        prop_assert!(r.as_ref().is_ok() || r.as_ref().is_err_and(|e| e.kind != usvideo_core::ErrorKind::Usage), "{r:?}");
    }
}
