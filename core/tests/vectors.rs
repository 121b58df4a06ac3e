//! Runs the shared conformance vectors of `tests/vectors/` (the same files every binding's harness
//! loads; their format is in `tests/vectors/README.md`).
//!
//! One libtest-mimic trial per vector, named `file/vector_name` (`validation/prompt_blank`), and one
//! per transcript (`transcripts/happy_path_create_and_wait`). A vector with `"skip": "reason"` is
//! listed as ignored: it records a known core bug without turning the suite red.

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{json, Value};
use usvideo_core::Json;

/// A serde_json value as the core's [`Json`] (numbers as serde_json writes them).
fn j(v: &Value) -> Json<'static> {
    serde::Deserialize::deserialize(v).unwrap_or_default()
}
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use usvideo_core::retry::{self, Decision};
use usvideo_core::validate::{self, Issue};
use usvideo_core::{
    response, ApiKey, Call, ClientConfig, Create, CreateVideoRequest, Endpoint, Error, Header, HttpRequest, HttpResponse, IdempotencyKey, JobRun, Jwt, ListParams, Machine, Millis, Output, PricingTable, RateLimiter,
    RequestId, Resolution, RetryPolicy, Rng, TransportKind, WaitOptions,
};

type R = Result<(), String>;

fn main() {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let mut trials = Vec::new();
    for path in json_files(&dir) {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_owned();
        let doc = match load(&path) {
            Ok(doc) => doc,
            Err(e) => {
                trials.push(Trial::test(format!("{stem}/(file)"), move || Err(Failed::from(e))));
                continue;
            }
        };
        let Some(vectors) = doc.get("vectors").and_then(Value::as_array).cloned() else {
            trials.push(Trial::test(format!("{stem}/(file)"), || Err(Failed::from("no `vectors` array"))));
            continue;
        };
        let mut seen = HashSet::new();
        for v in vectors {
            let name = v.get("name").and_then(Value::as_str).unwrap_or("(unnamed)").to_owned();
            let full = format!("{stem}/{name}");
            if !seen.insert(name) {
                trials.push(Trial::test(format!("{full}#duplicate"), || Err(Failed::from("duplicate vector name"))));
                continue;
            }
            let skip = v.get("skip").is_some();
            let kind = stem.clone();
            trials.push(Trial::test(full, move || run_vector(&kind, &v).map_err(Failed::from)).with_ignored_flag(skip));
        }
    }
    for path in json_files(&dir.join("transcripts")) {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_owned();
        match load(&path) {
            Ok(t) => {
                let skip = t.get("skip").is_some();
                trials.push(Trial::test(format!("transcripts/{stem}"), move || run_transcript(&t).map_err(Failed::from)).with_ignored_flag(skip));
            }
            Err(e) => trials.push(Trial::test(format!("transcripts/{stem}"), move || Err(Failed::from(e)))),
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json")).collect())
        .unwrap_or_default();
    files.sort();
    files
}

fn load(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn run_vector(kind: &str, v: &Value) -> R {
    match kind {
        "validation" | "bad_input" => run_validation(v),
        "pricing" => run_pricing(v),
        "requests" => run_request(v),
        "responses" => run_response(v),
        "retry" => run_retry(v),
        "ratelimit" => run_ratelimit(v),
        other => Err(format!("no runner for vector file kind `{other}`")),
    }
}

// ---------------------------------------------------------------- helpers

fn get<'a>(v: &'a Value, key: &str) -> Result<&'a Value, String> {
    v.get(key).ok_or_else(|| format!("vector has no `{key}`"))
}

fn get_str<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    get(v, key)?.as_str().ok_or_else(|| format!("`{key}` is not a string"))
}

fn get_u64(v: &Value, key: &str) -> Result<u64, String> {
    get(v, key)?.as_u64().ok_or_else(|| format!("`{key}` is not an unsigned integer"))
}

fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    match (a.as_u64(), b.as_u64(), a.as_i64(), b.as_i64()) {
        (Some(x), Some(y), ..) => x == y,
        (_, _, Some(x), Some(y)) => x == y,
        _ => a.as_f64() == b.as_f64(),
    }
}

/// JSON equality where `5` and `5.0` of a float field compare by value.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers_equal(x, y),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| json_eq(p, q))),
        _ => a == b,
    }
}

/// `expected` ⊆ `actual`: every key of an expected object is in the actual one (recursively); a
/// `null` expected means absent (or null); arrays match element by element, with the same length.
fn subset(path: &str, expected: &Value, actual: Option<&Value>) -> R {
    match (expected, actual) {
        (Value::Null, None | Some(Value::Null)) => Ok(()),
        (Value::Null, Some(a)) => Err(format!("{path}: expected absent, got {a}")),
        (_, None) => Err(format!("{path}: expected {expected}, got nothing")),
        (Value::Object(e), Some(Value::Object(a))) => {
            for (k, ev) in e {
                subset(&format!("{path}.{k}"), ev, a.get(k))?;
            }
            Ok(())
        }
        (Value::Array(e), Some(Value::Array(a))) => {
            if e.len() != a.len() {
                return Err(format!("{path}: expected {} elements, got {}: {}", e.len(), a.len(), Value::Array(a.clone())));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                subset(&format!("{path}[{i}]"), ev, Some(av))?;
            }
            Ok(())
        }
        (e, Some(a)) if json_eq(e, a) => Ok(()),
        (e, Some(a)) => Err(format!("{path}: expected {e}, got {a}")),
    }
}

/// Overlays the keys of `partial` on `base`, recursively (partial policies over the defaults).
fn merge(base: &mut Value, partial: &Value) {
    match (base, partial) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                match b.get_mut(k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

fn with_defaults<T: serde::Serialize + serde::de::DeserializeOwned + Default>(partial: Option<&Value>) -> Result<T, String> {
    let mut base = serde_json::to_value(T::default()).map_err(|e| e.to_string())?;
    if let Some(p) = partial.filter(|p| !p.is_null()) {
        merge(&mut base, p);
    }
    serde_json::from_value(base).map_err(|e| format!("bad partial {}: {e}", std::any::type_name::<T>()))
}

fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let val = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return Err(format!("bad base64 character {:?}", c as char)),
        };
        acc = (acc << 6) | u32::from(val);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap_or(0));
        }
    }
    Ok(out)
}

/// A response from `{status, headers: [[name, value]…], body | body_json | body_base64}`.
fn http_response(v: &Value) -> Result<HttpResponse, String> {
    let status = u16::try_from(get_u64(v, "status")?).map_err(|e| e.to_string())?;
    let mut headers = Vec::new();
    for h in v.get("headers").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let pair = h.as_array().filter(|p| p.len() == 2).ok_or("a header is a [name, value] pair")?;
        headers.push(Header::new(pair[0].as_str().ok_or("header name")?, pair[1].as_str().ok_or("header value")?));
    }
    let body = if let Some(b) = v.get("body") {
        b.as_str().ok_or("`body` is a string")?.as_bytes().to_vec()
    } else if let Some(j) = v.get("body_json") {
        j.to_string().into_bytes()
    } else if let Some(b) = v.get("body_base64") {
        decode_base64(b.as_str().ok_or("`body_base64` is a string")?)?
    } else {
        Vec::new()
    };
    Ok(HttpResponse { status, headers, body })
}

/// Checks an error against `{kind, code, status, field, request_id, retry_after_ms, transport,
/// job_id, job_status, message_contains, message_not_contains}` (absent keys are not checked;
/// `null` means the error has none).
fn check_error(expected: &Value, e: &Error) -> R {
    let actual = serde_json::to_value(e).map_err(|x| x.to_string())?;
    let mut rest = expected.as_object().cloned().ok_or("expected error is not an object")?;
    if let Some(s) = rest.remove("message_contains") {
        let s = s.as_str().ok_or("message_contains")?;
        if !e.message.contains(s) {
            return Err(format!("message {:?} does not contain {s:?}", e.message));
        }
    }
    if let Some(s) = rest.remove("message_not_contains") {
        let s = s.as_str().ok_or("message_not_contains")?;
        if e.message.contains(s) {
            return Err(format!("message {:?} contains {s:?}", e.message));
        }
    }
    subset("error", &Value::Object(rest), Some(&actual)).map_err(|m| format!("{m}\n  actual error: {actual}"))
}

fn issue_as_error(issue: Issue) -> Error {
    Error::validation(vec![issue])
}

fn resolution(v: &Value) -> Result<Resolution, String> {
    let s = v.as_str().ok_or("resolution is a string")?;
    Resolution::parse(s).ok_or_else(|| format!("unknown resolution {s}"))
}

fn typed_request(v: &Value) -> Result<CreateVideoRequest, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("not a typed create request: {e}"))
}

// ---------------------------------------------------------------- validation

fn run_validation(v: &Value) -> R {
    let input = get(v, "input")?;
    let expected = get(v, "expected")?;
    let result: Result<Value, Vec<Issue>> = match get_str(v, "target")? {
        "create_request" => validate::create_request_from_json(&j(input)).map(|r| serde_json::to_value(r).unwrap_or(Value::Null)),
        "list_params" => validate::list_params_from_json(&j(input)).map(|p| serde_json::to_value(p).unwrap_or(Value::Null)),
        "job_id" => validate::validate_job_id(input.as_str().ok_or("input is a string")?).map(|()| Value::Bool(true)).map_err(|i| vec![i]),
        "api_key" => ApiKey::new(input.as_str().ok_or("input is a string")?).map(|_| Value::Bool(true)).map_err(|i| vec![i]),
        "jwt" => Jwt::new(input.as_str().ok_or("input is a string")?).map(|_| Value::Bool(true)).map_err(|i| vec![i]),
        other => return Err(format!("unknown target {other}")),
    };
    match (expected.get("ok"), expected.get("issues"), result) {
        (Some(ok), _, Ok(actual)) => {
            if json_eq(ok, &actual) {
                Ok(())
            } else {
                Err(format!("expected ok {ok}, got ok {actual}"))
            }
        }
        (Some(ok), _, Err(issues)) => Err(format!("expected ok {ok}, got issues {issues:?}")),
        (None, Some(want), Ok(actual)) => Err(format!("expected issues {want}, got ok {actual}")),
        (None, Some(want), Err(issues)) => {
            let want = want.as_array().ok_or("issues is an array")?;
            let mut want_set = Vec::new();
            for w in want {
                let (field, code) = (get_str(w, "field")?, get_str(w, "code")?);
                want_set.push((field.to_owned(), code.to_owned()));
                if let Some(s) = w.get("message_contains").and_then(Value::as_str) {
                    let hit = issues.iter().find(|i| i.field == field && i.code.as_str() == code).ok_or_else(|| format!("no issue ({field}, {code}) in {issues:?}"))?;
                    if !hit.message.contains(s) {
                        return Err(format!("issue ({field}, {code}) message {:?} does not contain {s:?}", hit.message));
                    }
                }
            }
            if let Some(s) = v.get("message_not_contains").and_then(Value::as_str)
                && let Some(hit) = issues.iter().find(|i| i.message.contains(s)) {
                    return Err(format!("issue message {:?} contains {s:?}", hit.message));
                }
            let mut got: Vec<(String, String)> = issues.iter().map(|i| (i.field.clone(), i.code.as_str().to_owned())).collect();
            got.sort();
            got.dedup();
            want_set.sort();
            want_set.dedup();
            if got == want_set { Ok(()) } else { Err(format!("expected issues {want_set:?}, got {got:?} ({issues:?})")) }
        }
        (None, None, _) => Err("expected has neither `ok` nor `issues`".into()),
    }
}

// ---------------------------------------------------------------- pricing

fn check_cents(expected: &Value, got: Result<u64, Issue>) -> R {
    match (expected.get("cents"), expected.get("issue"), got) {
        (Some(c), _, Ok(cents)) => {
            if c.as_u64() == Some(cents) {
                Ok(())
            } else {
                Err(format!("expected {c} cents, got {cents}"))
            }
        }
        (Some(c), _, Err(i)) => Err(format!("expected {c} cents, got issue {i:?}")),
        (None, Some(want), Ok(cents)) => Err(format!("expected issue {want}, got {cents} cents")),
        (None, Some(want), Err(i)) => {
            if get_str(want, "field")? == i.field && get_str(want, "code")? == i.code.as_str() {
                Ok(())
            } else {
                Err(format!("expected issue {want}, got {i:?}"))
            }
        }
        (None, None, _) => Err("expected has neither `cents` nor `issue`".into()),
    }
}

fn run_pricing(v: &Value) -> R {
    let input = get(v, "input")?;
    let expected = get(v, "expected")?;
    match get_str(v, "target")? {
        "estimate" => {
            let table = match input.get("table") {
                Some(t) => PricingTable::from_json(&j(t))?,
                None => PricingTable::builtin(),
            };
            let d = u32::try_from(get_u64(input, "duration")?).map_err(|e| e.to_string())?;
            check_cents(expected, table.estimate(resolution(get(input, "resolution")?)?, d))
        }
        "from_json" => {
            let parsed = PricingTable::from_json(&j(get(input, "table")?));
            match (expected.get("error"), parsed) {
                (Some(_), Ok(t)) => Err(format!("expected an error, got {t:?}")),
                (Some(_), Err(_)) => Ok(()),
                (None, Err(e)) => Err(format!("expected a table, got error {e}")),
                (None, Ok(table)) => {
                    let cases = get(input, "estimates")?.as_array().ok_or("estimates")?;
                    let want = get(expected, "cents")?.as_array().ok_or("cents")?;
                    if cases.len() != want.len() {
                        return Err("estimates and cents differ in length".into());
                    }
                    for (case, w) in cases.iter().zip(want) {
                        let d = u32::try_from(get_u64(case, "duration")?).map_err(|e| e.to_string())?;
                        let r = get(case, "resolution")?;
                        check_cents(&json!({ "cents": w }), table.estimate(resolution(r)?, d)).map_err(|m| format!("{r} x {d} s: {m}"))?;
                    }
                    Ok(())
                }
            }
        }
        "estimate_all" => {
            let reqs = get(input, "requests")?.as_array().ok_or("requests")?.iter().map(typed_request).collect::<Result<Vec<_>, _>>()?;
            check_cents(expected, PricingTable::builtin().estimate_all(&reqs))
        }
        other => Err(format!("unknown target {other}")),
    }
}

// ---------------------------------------------------------------- requests

/// Builds the request a `target` (a [`ClientConfig`] builder) makes from `input`.
fn build_request(config: &ClientConfig, target: &str, input: &Value) -> Result<(Endpoint, HttpRequest), Error> {
    let bad = |m: String| Error::usage(m);
    // `"api_key": null` is a keyless client's (behind a proxy that adds the key); absent, a default key.
    let key = || -> Result<Option<ApiKey>, Error> {
        match input.get("api_key") {
            Some(Value::Null) => Ok(None),
            k => ApiKey::new(k.and_then(Value::as_str).unwrap_or("sd_vector_default")).map(Some).map_err(issue_as_error),
        }
    };
    let id = || input.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
    match target {
        "create_video" => {
            let req = typed_request(get(input, "request").map_err(bad)?).map_err(bad)?;
            let idem = IdempotencyKey::from_string(input.get("idempotency_key").and_then(Value::as_str).unwrap_or("usv-vector-default")).map_err(issue_as_error)?;
            Ok((Endpoint::CreateVideo, config.create_video(key()?.as_ref(), &req, &idem)?))
        }
        "retrieve_video" => Ok((Endpoint::RetrieveVideo, config.retrieve_video(key()?.as_ref(), &id())?)),
        "delete_video" => Ok((Endpoint::DeleteVideo, config.delete_video(key()?.as_ref(), &id())?)),
        "list_videos" => {
            let params: ListParams = serde_json::from_value(input.get("params").cloned().unwrap_or(json!({}))).map_err(|e| bad(e.to_string()))?;
            Ok((Endpoint::ListVideos, config.list_videos(key()?.as_ref(), &params)?))
        }
        "retrieve_account" => Ok((Endpoint::Account, config.retrieve_account(key()?.as_ref())?)),
        "retrieve_pricing" => Ok((Endpoint::Pricing, config.retrieve_pricing())),
        "create_api_key" => {
            let jwt = Jwt::new(input.get("jwt").and_then(Value::as_str).unwrap_or("")).map_err(issue_as_error)?;
            Ok((Endpoint::CreateApiKey, config.create_api_key(&jwt, input.get("name").and_then(Value::as_str))?))
        }
        other => Err(bad(format!("unknown request target {other}"))),
    }
}

/// `(path, query)` of an absolute URL.
fn split_url(url: &str) -> (String, Option<String>) {
    let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
    let path_and_query = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    match path_and_query.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (path_and_query.to_owned(), None),
    }
}

/// Checks a request against `{method, url, path, query, headers, headers_present, headers_absent,
/// body_json}` (absent keys are not checked).
fn check_request(expected: &Value, req: &HttpRequest) -> R {
    if let Some(m) = expected.get("method")
        && m.as_str() != Some(req.method.as_str()) {
            return Err(format!("method: expected {m}, got {}", req.method.as_str()));
        }
    if let Some(u) = expected.get("url")
        && u.as_str() != Some(req.url.as_str()) {
            return Err(format!("url: expected {u}, got {}", req.url));
        }
    let (path, query) = split_url(&req.url);
    if let Some(p) = expected.get("path")
        && p.as_str() != Some(path.as_str()) {
            return Err(format!("path: expected {p}, got {path} ({})", req.url));
        }
    if let Some(q) = expected.get("query")
        && q.as_str() != query.as_deref() {
            return Err(format!("query: expected {q}, got {query:?}"));
        }
    if let Some(h) = expected.get("headers").and_then(Value::as_object) {
        for (name, value) in h {
            let got = req.header(name);
            if value.as_str() != got {
                return Err(format!("header {name}: expected {value}, got {got:?}"));
            }
        }
    }
    for name in expected.get("headers_present").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let name = name.as_str().ok_or("header name")?;
        if req.header(name).is_none_or(str::is_empty) {
            return Err(format!("header {name} missing"));
        }
    }
    for name in expected.get("headers_absent").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let name = name.as_str().ok_or("header name")?;
        if req.header(name).is_some() {
            return Err(format!("header {name} should be absent"));
        }
    }
    if let Some(b) = expected.get("body_json") {
        match (&req.body, b) {
            (None, Value::Null) => {}
            (None, b) => return Err(format!("body: expected {b}, got none")),
            (Some(body), b) => {
                let got: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
                if b.is_null() || !json_eq(b, &got) {
                    return Err(format!("body: expected {b}, got {got}"));
                }
            }
        }
    }
    Ok(())
}

fn run_request(v: &Value) -> R {
    let input = get(v, "input")?;
    let expected = get(v, "expected")?;
    let target = get_str(v, "target")?;
    let built = ClientConfig::new(get_str(v, "base_url")?).map_err(issue_as_error).and_then(|c| {
        let c = match input.get("user_agent").and_then(Value::as_str) {
            Some(ua) => c.with_user_agent(ua),
            None => c,
        };
        if target == "client_config" { Err(Error::usage("client_config: the config was accepted")) } else { build_request(&c, target, input) }
    });
    match (expected.get("error"), built) {
        (Some(want), Err(e)) => check_error(want, &e),
        (Some(want), Ok((_, req))) => Err(format!("expected error {want}, got request {req:?}")),
        (None, Err(e)) => Err(format!("expected a request, got error {e}")),
        (None, Ok((_, req))) => check_request(expected, &req),
    }
}

// ---------------------------------------------------------------- responses

/// The page a `parse_job_page` vector's request asked for (`list_params`, default none).
fn list_params(v: &Value) -> Result<ListParams, String> {
    v.get("list_params").map_or(Ok(ListParams::default()), |p| serde_json::from_value(p.clone()).map_err(|e| format!("list_params: {e}")))
}

fn run_response(v: &Value) -> R {
    let resp = http_response(get(v, "response")?)?;
    let expected = get(v, "expected")?;
    let mut terminal = None;
    let result: Result<Value, Error> = match get_str(v, "target")? {
        "parse_job" => response::parse_job(&resp).map(|j| {
            terminal = Some(j.status.is_terminal());
            serde_json::to_value(j).unwrap_or(Value::Null)
        }),
        "parse_job_page" => response::parse_job_page(&resp, &list_params(v)?).map(|p| serde_json::to_value(p).unwrap_or(Value::Null)),
        "parse_delete" => response::parse_delete(&resp, get_str(v, "delete_id")?).map(|d| serde_json::to_value(d).unwrap_or(Value::Null)),
        "parse_account" => response::parse_account(&resp).map(|a| serde_json::to_value(a).unwrap_or(Value::Null)),
        "parse_pricing" => response::parse_pricing(&resp).map(|t| serde_json::to_value(t.to_json()).unwrap_or(Value::Null)),
        "parse_created_api_key" => response::parse_created_api_key(&resp).map(|k| serde_json::to_value(k).unwrap_or(Value::Null)),
        "error_from_response" => Err(response::error_from_response(&resp)),
        other => return Err(format!("unknown target {other}")),
    };
    match (expected.get("error"), result) {
        (Some(want), Err(e)) => {
            check_error(want, &e)?;
            if e.status != Some(resp.status) {
                return Err(format!("the error lost the status {}: {:?}", resp.status, e.status));
            }
            Ok(())
        }
        (Some(want), Ok(got)) => Err(format!("expected error {want}, got {got}")),
        (None, Err(e)) => Err(format!("expected ok, got error {e}")),
        (None, Ok(got)) => {
            subset("ok", get(expected, "ok")?, Some(&got)).map_err(|m| format!("{m}\n  actual: {got}"))?;
            for k in expected.get("absent").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
                let k = k.as_str().ok_or("absent keys are strings")?;
                if got.get(k).is_some_and(|x| !x.is_null()) {
                    return Err(format!("`{k}` should be absent: {got}"));
                }
            }
            if let (Some(want), Some(t)) = (expected.get("terminal").and_then(Value::as_bool), terminal)
                && want != t {
                    return Err(format!("terminal: expected {want}, got {t}"));
                }
            Ok(())
        }
    }
}

// ---------------------------------------------------------------- retry

fn outcome_error(outcome: &Value) -> Result<Error, String> {
    if let Some(t) = outcome.get("transport") {
        let kind: TransportKind = serde_json::from_value(t.clone()).map_err(|e| format!("transport kind: {e}"))?;
        return Ok(Error::transport(kind, outcome.get("message").and_then(Value::as_str).unwrap_or("")));
    }
    let resp = http_response(outcome)?;
    if (200..300).contains(&resp.status) {
        return response::parse_job(&resp).err().ok_or_else(|| "a 2xx outcome must be an undecodable job".to_owned());
    }
    Ok(response::error_from_response(&resp))
}

fn run_retry(v: &Value) -> R {
    let input = get(v, "input")?;
    let expected = get(v, "expected")?;
    let policy: RetryPolicy = with_defaults(input.get("policy"))?;
    let seed = get_u64(input, "seed")?;
    match get_str(v, "target")? {
        "decide" => {
            let endpoint: Endpoint = serde_json::from_value(get(input, "endpoint")?.clone()).map_err(|e| format!("endpoint: {e}"))?;
            let err = outcome_error(get(input, "outcome")?)?;
            let attempt = u32::try_from(get_u64(input, "attempt")?).map_err(|e| e.to_string())?;
            let remaining = input.get("remaining_ms").and_then(Value::as_u64);
            let decision = retry::decide(endpoint, &err, attempt, &policy, remaining, &mut Rng::new(seed));
            let want = get_str(expected, "decision")?;
            match (want, decision) {
                ("reconcile", Decision::Reconcile) | ("fail", Decision::Fail) => Ok(()),
                ("retry", Decision::Retry { after_ms }) => {
                    if let Some(exact) = expected.get("after_ms").and_then(Value::as_u64)
                        && exact != after_ms {
                            return Err(format!("after_ms: expected {exact}, got {after_ms}"));
                        }
                    let lo = expected.get("after_ms_min").and_then(Value::as_u64).unwrap_or(0);
                    let hi = expected.get("after_ms_max").and_then(Value::as_u64).unwrap_or(u64::MAX);
                    if !(lo..=hi).contains(&after_ms) {
                        return Err(format!("after_ms {after_ms} not in [{lo}, {hi}]"));
                    }
                    Ok(())
                }
                (want, got) => Err(format!("expected {want}, got {got:?} (error {err})")),
            }
        }
        "backoff" => {
            let attempts = get(input, "attempts")?.as_array().ok_or("attempts")?;
            let ranges = get(expected, "ranges")?.as_array().ok_or("ranges")?;
            let mut rng = Rng::new(seed);
            for (a, r) in attempts.iter().zip(ranges) {
                let a = u32::try_from(a.as_u64().ok_or("attempt")?).map_err(|e| e.to_string())?;
                let (lo, hi) = (r[0].as_u64().ok_or("range")?, r[1].as_u64().ok_or("range")?);
                let d = policy.backoff_ms(a, &mut rng);
                if !(lo..=hi).contains(&d) {
                    return Err(format!("attempt {a}: {d} ms not in [{lo}, {hi}]"));
                }
            }
            if attempts.len() == ranges.len() { Ok(()) } else { Err("attempts and ranges differ in length".into()) }
        }
        "backoff_deterministic" => {
            let attempts: Vec<u32> = get(input, "attempts")?.as_array().ok_or("attempts")?.iter().filter_map(Value::as_u64).filter_map(|a| u32::try_from(a).ok()).collect();
            let run = || {
                let mut rng = Rng::new(seed);
                attempts.iter().map(|a| policy.backoff_ms(*a, &mut rng)).collect::<Vec<_>>()
            };
            let (first, second) = (run(), run());
            if first == second { Ok(()) } else { Err(format!("same seed, different delays: {first:?} vs {second:?}")) }
        }
        other => Err(format!("unknown target {other}")),
    }
}

// ---------------------------------------------------------------- ratelimit

fn run_ratelimit(v: &Value) -> R {
    let rpm = u32::try_from(get_u64(v, "requests_per_minute")?).map_err(|e| e.to_string())?;
    let mut limiter = RateLimiter::new(rpm);
    for (i, step) in get(v, "steps")?.as_array().ok_or("steps")?.iter().enumerate() {
        if let Some(t) = step.get("acquire").and_then(Value::as_u64) {
            let got = limiter.try_acquire(Millis(t));
            let want = get(step, "expect")?;
            let ok = match (want, got) {
                (Value::String(s), Ok(())) => s == "granted",
                (w, Err(at)) => w.get("wait_until").and_then(Value::as_u64) == Some(at.0),
                _ => false,
            };
            if !ok {
                return Err(format!("step {i}: acquire at {t}: expected {want}, got {got:?}"));
            }
        } else if let Some(ra) = step.get("retry_after") {
            limiter.on_retry_after(Millis(get_u64(ra, "at")?), get_u64(ra, "ms")?);
        } else if let Some(t) = step.get("next_free").and_then(Value::as_u64) {
            let got = limiter.next_free(Millis(t));
            let want = get_u64(step, "expect")?;
            if got.0 != want {
                return Err(format!("step {i}: next_free at {t}: expected {want}, got {}", got.0));
            }
        } else {
            return Err(format!("step {i}: unknown step {step}"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- transcripts

#[allow(clippy::large_enum_variant)] // one per transcript: size does not matter
enum Driven {
    Run(JobRun),
    Create(Create),
    Call(Call),
}

impl Driven {
    fn machine(&mut self) -> &mut dyn Machine {
        match self {
            Driven::Run(m) => m,
            Driven::Create(m) => m,
            Driven::Call(m) => m,
        }
    }

    fn take_result(&mut self) -> Result<Value, Error> {
        match self {
            Driven::Run(m) => m.take_result().map(|j| serde_json::to_value(j).unwrap_or(Value::Null)),
            Driven::Create(m) => m.take_result().map(|j| serde_json::to_value(j).unwrap_or(Value::Null)),
            Driven::Call(m) => m.take_result().map(|r| json!({ "status": r.status, "body_json": serde_json::from_slice::<Value>(&r.body).unwrap_or(Value::Null) })),
        }
    }
}

fn build_machine(machine: &str, c: &Value) -> Result<(Driven, Millis), String> {
    let config = ClientConfig::new(get_str(c, "base_url")?).map_err(|i| i.to_string())?;
    // `null`: a keyless client's machine (behind a proxy that adds the key).
    let key = match c.get("api_key") {
        Some(Value::Null) => None,
        _ => Some(ApiKey::new(get_str(c, "api_key")?).map_err(|i| i.to_string())?),
    };
    let seed = c.get("seed").and_then(Value::as_u64).unwrap_or(0);
    let start = Millis(c.get("start").and_then(Value::as_u64).unwrap_or(0));
    let deadline = c.get("deadline").and_then(Value::as_u64).map(Millis);
    let idem = || IdempotencyKey::from_string(c.get("idempotency_key").and_then(Value::as_str).unwrap_or("usv-transcript-default")).map_err(|i| i.to_string());
    let request = || typed_request(get(c, "request")?);
    let options = || with_defaults::<WaitOptions>(c.get("options"));
    let policy = || with_defaults::<RetryPolicy>(c.get("retry"));
    let m = match machine {
        // Handing clean-ups off, as every binding's driver does (`job` rule 2).
        "job_run_wait" => Driven::Run(JobRun::wait(&config, key.as_ref(), get_str(c, "job_id")?, options()?, seed, start).map_err(|e| e.to_string())?.handing_off()),
        "job_run_create_and_wait" => Driven::Run(JobRun::create_and_wait(&config, key.as_ref(), request()?, &idem()?, options()?, seed, start).map_err(|e| e.to_string())?.handing_off()),
        "create" => Driven::Create(Create::new(&config, key.as_ref(), request()?, &idem()?, policy()?, seed, deadline, 0).map_err(|e| e.to_string())?),
        "call" => {
            let call = get(c, "call")?;
            let mut input = call.clone();
            if let Value::Object(o) = &mut input {
                o.entry("api_key").or_insert_with(|| key.as_ref().map_or(Value::Null, |k| Value::String(k.expose().to_owned())));
            }
            let (endpoint, req) = build_request(&config, get_str(call, "target")?, &input).map_err(|e| e.to_string())?;
            Driven::Call(Call::new(endpoint, req, policy()?, seed, deadline, 0))
        }
        other => return Err(format!("unknown machine {other}")),
    };
    Ok((m, start))
}

fn describe(out: &Output) -> String {
    match out {
        Output::Send { id, request, .. } => format!("send #{} {} {}", id.0, request.method.as_str(), request.url),
        Output::Event(e) => format!("event {}", serde_json::to_value(e).map(|v| v.to_string()).unwrap_or_default()),
        Output::WaitUntil(t) => format!("wait_until {}", t.0),
        Output::Pending => "pending".into(),
        Output::Done => "done".into(),
        other => format!("{other:?}"),
    }
}

/// Checks one output against one expected item.
fn check_output(expected: &Value, out: &Output, now: Millis) -> R {
    match (expected, out) {
        (Value::String(s), Output::Pending) if s == "pending" => Ok(()),
        (Value::String(s), Output::Done) if s == "done" => Ok(()),
        (Value::Object(o), Output::WaitUntil(t)) if o.contains_key("wait_until") => {
            let w = &o["wait_until"];
            let (lo, hi) = if let Some(x) = w.as_u64() {
                (x, x)
            } else if let Some(r) = w.get("in").and_then(Value::as_array) {
                (now.0 + r[0].as_u64().ok_or("in")?, now.0 + r[1].as_u64().ok_or("in")?)
            } else {
                (w.get("min").and_then(Value::as_u64).unwrap_or(0), w.get("max").and_then(Value::as_u64).unwrap_or(u64::MAX))
            };
            if (lo..=hi).contains(&t.0) { Ok(()) } else { Err(format!("wait_until {} not in [{lo}, {hi}]", t.0)) }
        }
        (Value::Object(o), Output::Send { endpoint, request, timeout_ms, .. }) if o.contains_key("send") => {
            let s = &o["send"];
            check_request(s, request)?;
            if let Some(e) = s.get("endpoint") {
                let got = serde_json::to_value(endpoint).map_err(|x| x.to_string())?;
                if *e != got {
                    return Err(format!("endpoint: expected {e}, got {got}"));
                }
            }
            if let Some(t) = s.get("timeout_ms")
                && t.as_u64() != *timeout_ms {
                    return Err(format!("timeout_ms: expected {t}, got {timeout_ms:?}"));
                }
            Ok(())
        }
        (Value::Object(o), Output::Event(e)) if o.contains_key("event") => {
            let actual = serde_json::to_value(e).map_err(|x| x.to_string())?;
            let want = match &o["event"] {
                Value::String(t) => json!({ "type": t }),
                other => other.clone(),
            };
            subset("event", &want, Some(&actual)).map_err(|m| format!("{m}\n  actual event: {actual}"))
        }
        (e, out) => Err(format!("expected {e}, got {}", describe(out))),
    }
}

fn outcome_id(v: &Value, sends: &[RequestId]) -> Result<RequestId, String> {
    if let Some(raw) = v.get("raw_id").and_then(Value::as_u64) {
        return Ok(RequestId(raw));
    }
    let n = usize::try_from(get_u64(v, "id")?).map_err(|e| e.to_string())?;
    sends.get(n).copied().ok_or_else(|| format!("no send #{n} yet"))
}

fn run_transcript(t: &Value) -> R {
    let (mut driven, start) = build_machine(get_str(t, "machine")?, get(t, "config")?)?;
    let mut now = start;
    let mut last_wait: Option<Millis> = None;
    let mut sends: Vec<RequestId> = Vec::new();
    let mut outstanding: HashSet<RequestId> = HashSet::new();
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for (i, step) in get(t, "steps")?.as_array().ok_or("steps")?.iter().enumerate() {
        let at_start = now;
        let ctx0 = |m: String| format!("step {i} (from {}): {m}", at_start.0);
        // 1. time
        let next = match (step.get("at"), step.get("after")) {
            (Some(Value::String(s)), _) if s == "wait_until" => last_wait.ok_or_else(|| ctx0("no wait_until seen".into()))?,
            (Some(a), _) => Millis(a.as_u64().ok_or_else(|| ctx0("`at` is a number or \"wait_until\"".into()))?),
            (None, Some(d)) => now.plus(d.as_u64().ok_or_else(|| ctx0("`after` is a number".into()))?),
            (None, None) => now,
        };
        if next < now {
            return Err(ctx0(format!("time runs back to {}", next.0)));
        }
        now = next;
        let ctx = |m: String| format!("step {i} (now {}): {m}", next.0);
        // 2. input
        let m = driven.machine();
        if let Some(r) = step.get("response") {
            let id = outcome_id(r, &sends).map_err(&ctx)?;
            outstanding.remove(&id);
            m.handle_response(id, http_response(r).map_err(&ctx)?, now);
        } else if let Some(e) = step.get("transport_error") {
            let id = outcome_id(e, &sends).map_err(&ctx)?;
            outstanding.remove(&id);
            let kind: TransportKind = serde_json::from_value(get(e, "kind")?.clone()).map_err(|x| ctx(x.to_string()))?;
            m.handle_transport_error(id, kind, e.get("message").and_then(Value::as_str).unwrap_or(""), now);
        } else if step.get("timeout").is_some() {
            m.handle_timeout(now);
        } else if step.get("cancel").is_some() {
            m.cancel(now);
        }
        // 3. drain and compare
        if let Some(expect) = step.get("expect") {
            let expect = expect.as_array().ok_or_else(|| ctx("expect is an array".into()))?;
            let mut outs = Vec::new();
            loop {
                let out = driven.machine().poll(now);
                match &out {
                    Output::WaitUntil(t) => {
                        if *t <= now {
                            return Err(ctx(format!("WaitUntil({}) is not after now", t.0)));
                        }
                        last_wait = Some(*t);
                    }
                    Output::Send { id, request, .. } => {
                        if !outstanding.insert(*id) {
                            return Err(ctx(format!("request id {} is already in flight", id.0)));
                        }
                        sends.push(*id);
                        let (path, _) = split_url(&request.url);
                        *totals.entry(format!("{} {path}", request.method.as_str())).or_default() += 1;
                    }
                    _ => {}
                }
                let stop = matches!(out, Output::WaitUntil(_) | Output::Pending | Output::Done);
                outs.push(out);
                if stop {
                    break;
                }
                if outs.len() > 200 {
                    return Err(ctx("more than 200 outputs without WaitUntil, Pending or Done".into()));
                }
            }
            let listing = || outs.iter().map(describe).collect::<Vec<_>>().join("\n    ");
            if outs.len() != expect.len() {
                return Err(ctx(format!("expected {} outputs, got {}:\n    {}", expect.len(), outs.len(), listing())));
            }
            for (k, (e, out)) in expect.iter().zip(&outs).enumerate() {
                check_output(e, out, now).map_err(|m| ctx(format!("output {k}: {m}\n  all outputs:\n    {}", listing())))?;
            }
        }
        // 4. result
        if let Some(want) = step.get("result") {
            match (want.get("ok"), want.get("error"), driven.take_result()) {
                (Some(ok), _, Ok(got)) => subset("result", ok, Some(&got)).map_err(|m| ctx(format!("{m}\n  actual: {got}")))?,
                (Some(ok), _, Err(e)) => return Err(ctx(format!("expected ok {ok}, got error {e}"))),
                (None, Some(w), Ok(got)) => return Err(ctx(format!("expected error {w}, got ok {got}"))),
                (None, Some(w), Err(e)) => check_error(w, &e).map_err(&ctx)?,
                (None, None, _) => return Err(ctx("result has neither ok nor error".into())),
            }
        }
    }
    if let Some(want) = t.get("totals").and_then(Value::as_object) {
        for (k, n) in want {
            let got = totals.get(k).copied().unwrap_or(0);
            if n.as_u64() != Some(got) {
                return Err(format!("totals: {k}: expected {n}, got {got} (all: {totals:?})"));
            }
        }
    }
    Ok(())
}
