//! The API (`/v1/...`) and the video files (`/files/...`): routing, auth, the rate limiter and
//! the handlers. Runs under the state lock, after `settle`, so every answer sees an exact ledger.

use crate::control;
use crate::limiter::Decision;
use crate::pricing;
use crate::reply::Reply;
use crate::state::{AccountId, Deleted, Remembered, State, Status, TokenKind};
use crate::validate;
use bytes::Bytes;
use serde_json::{Value, json};

/// Largest request body accepted (1 MiB); more is `413`.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// Why a request body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    TooLarge,
    Unreadable,
}

/// A request as the handlers see it.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) authorization: Option<String>,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) body: Result<Bytes, BodyError>,
}

/// The routes, so 404 (unknown path) and 405 (known path, other method) are told apart.
enum Route {
    Pricing,
    Videos,
    Video(String),
    Account,
    ApiKeys,
    File(String),
}

impl Route {
    fn parse(path: &str) -> Option<Route> {
        match path {
            "/v1/pricing" => Some(Route::Pricing),
            "/v1/videos" => Some(Route::Videos),
            "/v1/account" => Some(Route::Account),
            "/v1/api-keys" => Some(Route::ApiKeys),
            _ => {
                if let Some(id) = path.strip_prefix("/v1/videos/") {
                    Some(Route::Video(id.to_owned()))
                } else {
                    path.strip_prefix("/files/").map(|f| Route::File(f.to_owned()))
                }
            }
        }
    }

    fn methods(&self) -> &'static [&'static str] {
        match self {
            Route::Pricing | Route::Account | Route::File(_) => &["GET"],
            Route::Videos => &["GET", "POST"],
            Route::Video(_) => &["GET", "DELETE"],
            Route::ApiKeys => &["POST"],
        }
    }
}

/// The small valid MP4 every completed job points to.
pub(crate) static SAMPLE_MP4: &[u8] = include_bytes!("../assets/sample.mp4");

/// Handles any request except `OPTIONS` (answered by the server layer). With a state file,
/// what the request changed is saved before the answer leaves.
pub(crate) fn handle(state: &mut State, req: &Incoming) -> Reply {
    let reply = dispatch(state, req);
    state.save_if_dirty();
    reply
}

fn dispatch(state: &mut State, req: &Incoming) -> Reply {
    let now = state.now();
    state.settle(now);
    if req.path.starts_with("/_emulator/") || req.path == "/_emulator" {
        return control::handle(state, req);
    }
    let Some(route) = Route::parse(&req.path) else {
        return Reply::error(404, "not_found", "no such path");
    };
    if !route.methods().contains(&req.method.as_str()) {
        return Reply::error(405, "method_not_allowed", &format!("{} is not allowed on {}", req.method, req.path)).header("allow", route.methods().join(", "));
    }
    match route {
        // No auth, never rate-limited.
        Route::Pricing => Reply::json(200, &pricing::table()),
        Route::File(name) => file(state, &name, now),
        route => authenticated(state, req, route, now),
    }
}

fn file(state: &State, name: &str, now: u64) -> Reply {
    let completed = name.strip_suffix(".mp4").and_then(|id| state.jobs.get(id)).is_some_and(|j| j.status(now) == Status::Completed);
    if !completed {
        return Reply::error(404, "not_found", "no such video");
    }
    Reply { status: 200, content_type: Some("video/mp4".into()), headers: Vec::new(), body: Bytes::from_static(SAMPLE_MP4) }
}

/// Auth, then the limiter, then the handler; the rate-limit headers go on every answer that
/// passed auth.
fn authenticated(state: &mut State, req: &Incoming, route: Route, now: u64) -> Reply {
    let token = req.authorization.as_deref().and_then(bearer);
    let Some(token) = token else {
        return Reply::error(401, "unauthorized", "missing or malformed Authorization header (expected `Bearer <key>`)");
    };
    let needs = if matches!(route, Route::ApiKeys) { TokenKind::Jwt } else { TokenKind::ApiKey };
    let Some(found) = state.tokens.get(token).cloned() else {
        // Named by what the endpoint takes: a bad JWT is not "an invalid API key".
        return Reply::error(401, "unauthorized", if needs == TokenKind::Jwt { "invalid JWT" } else { "invalid API key" });
    };
    if found.kind != needs {
        let msg = if needs == TokenKind::Jwt { "this endpoint needs a JWT, not an API key" } else { "this endpoint needs an API key, not a JWT" };
        return Reply::error(401, "unauthorized", msg);
    }
    let Some(limit) = state.accounts.get(&found.account).map(|a| a.requests_per_minute) else {
        return Reply::error(401, "unauthorized", "invalid API key");
    };
    let mode = state.limiter_mode;
    let reply = match state.limiter.check(token, limit, now, mode) {
        Decision::Limited { retry_after_s } => {
            return Reply::error(429, "rate_limited", &format!("more than {limit} requests in a minute"))
                .header("retry-after", retry_after_s.to_string())
                .header("x-ratelimit-limit", limit.to_string())
                .header("x-ratelimit-remaining", "0");
        }
        Decision::Allowed { remaining } => {
            let account = found.account;
            let reply = match route {
                Route::Videos if req.method == "POST" => create(state, req, account, now),
                Route::Videos => list(state, req, account, now),
                Route::Video(id) if req.method == "DELETE" => delete(state, account, &id, now),
                Route::Video(id) => get(state, account, &id, now),
                Route::Account => account_info(state, account),
                Route::ApiKeys => api_key(state, req, account, now),
                Route::Pricing | Route::File(_) => Reply::error(500, "internal_error", "unreachable route"),
            };
            reply.header("x-ratelimit-remaining", remaining.to_string())
        }
    };
    reply.header("x-ratelimit-limit", limit.to_string())
}

/// The token of `Bearer <token>` (scheme case-insensitive).
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn body_json_error(e: BodyError) -> Reply {
    match e {
        BodyError::TooLarge => Reply::error(413, "payload_too_large", "the body is larger than 1 MiB"),
        BodyError::Unreadable => Reply::error(400, "invalid_request", "the body could not be read"),
    }
}

fn create(state: &mut State, req: &Incoming, account: AccountId, now: u64) -> Reply {
    let body = match &req.body {
        Ok(b) => b,
        Err(e) => return body_json_error(*e),
    };
    let (create, parsed) = match validate::create_request(body) {
        Ok(v) => v,
        Err(e) => return Reply::invalid(e.field.as_deref(), &e.message),
    };
    let key = req.idempotency_key.clone();
    let Some(acct) = state.accounts.get_mut(&account) else { return Reply::error(401, "unauthorized", "invalid API key") };
    if let Some(k) = &key {
        acct.idempotency.retain(|_, r| r.at_ms + crate::state::IDEMPOTENCY_TTL_MS > now);
        if let Some(r) = acct.idempotency.get(k) {
            if r.body != parsed {
                return Reply::error(409, "idempotency_conflict", "this Idempotency-Key was used with another body");
            }
            let mut reply = Reply::json(r.status, &Value::Null);
            reply.body = r.reply.clone();
            return reply.header("idempotent-replayed", "true");
        }
    }
    let cost = pricing::cost_cents(&create.resolution, create.duration).unwrap_or(0);
    if acct.balance < cost {
        return Reply::error(402, "insufficient_balance", &format!("this job costs {cost} cents; the balance is {} cents", acct.balance));
    }
    if acct.active >= acct.concurrent_jobs {
        let limit = acct.concurrent_jobs;
        let wait_ms = state.earliest_active_end(account).map_or(1000, |end| end.saturating_sub(now));
        return Reply::error(429, "concurrency_limit", &format!("{limit} jobs are already pending or processing"))
            .header("retry-after", wait_ms.div_ceil(1000).max(1).to_string());
    }
    let failure = state.faults.take_fail_job(&req.method, &req.path);
    let id = state.create_job(account, create, cost, failure);
    let Some(job) = state.jobs.get(&id) else { return Reply::error(500, "internal_error", "the job vanished") };
    let reply = Reply::json(201, &state.job_json(job, now));
    if let (Some(k), Some(acct)) = (key, state.accounts.get_mut(&account)) {
        acct.idempotency.insert(k, Remembered { body: parsed, status: 201, reply: reply.body.clone(), at_ms: now });
    }
    reply
}

fn get(state: &State, account: AccountId, id: &str, now: u64) -> Reply {
    match state.jobs.get(id).filter(|j| j.account == account) {
        Some(job) => Reply::json(200, &state.job_json(job, now)),
        None => Reply::error(404, "not_found", "no such job"),
    }
}

fn list(state: &State, req: &Incoming, account: AccountId, now: u64) -> Reply {
    let q = match validate::list_query(req.query.as_deref()) {
        Ok(q) => q,
        Err(e) => return Reply::invalid(e.field.as_deref(), &e.message),
    };
    let ids: &[String] = state.accounts.get(&account).map_or(&[], |a| a.job_ids.as_slice());
    let data: Vec<Value> = ids.iter().rev().skip(q.offset).take(q.limit).filter_map(|id| state.jobs.get(id)).map(|j| state.job_json(j, now)).collect();
    let total = ids.len();
    let has_more = q.offset.saturating_add(data.len()) < total;
    Reply::json(200, &json!({"data": data, "limit": q.limit, "offset": q.offset, "total": total, "has_more": has_more}))
}

fn delete(state: &mut State, account: AccountId, id: &str, now: u64) -> Reply {
    match state.delete_job(account, id, now) {
        Deleted::Removed { refunded } => Reply::json(200, &json!({"id": id, "deleted": true, "refunded_cents": refunded})),
        Deleted::NotFound => Reply::error(404, "not_found", "no such job"),
        Deleted::Processing => Reply::error(409, "job_not_cancellable", "the job is processing; it can be deleted once it has completed or failed"),
    }
}

fn account_info(state: &State, account: AccountId) -> Reply {
    match state.accounts.get(&account) {
        Some(a) => Reply::json(
            200,
            &json!({
                "email": a.email,
                "balance_cents": a.balance,
                "total_jobs": a.jobs_created,
                "total_spent_cents": a.held + a.spent,
                "plan": a.plan,
            }),
        ),
        None => Reply::error(401, "unauthorized", "invalid API key"),
    }
}

fn api_key(state: &mut State, req: &Incoming, account: AccountId, now: u64) -> Reply {
    let body = match &req.body {
        Ok(b) => b,
        Err(e) => return body_json_error(*e),
    };
    let name = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return Reply::invalid(None, &format!("the body is not valid JSON: {e}")),
        };
        let Some(o) = v.as_object() else { return Reply::invalid(None, "the body must be a JSON object") };
        if let Some(k) = o.keys().find(|k| k.as_str() != "name") {
            return Reply::invalid(Some(k), &format!("unknown field `{k}`"));
        }
        match o.get("name") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Reply::invalid(Some("name"), "name must be a string"),
        }
    };
    let id = format!("key_{}", state.random_hex(16));
    let key = state.issue_api_key(account);
    let created_at = crate::clock::rfc3339(state.clock.wall_ms(now));
    Reply::json(201, &json!({"id": id, "name": name, "key": key, "created_at": created_at}))
}
