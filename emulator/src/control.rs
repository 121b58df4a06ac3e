//! The control surface under `/_emulator/`, which the real service does not have: accounts with
//! a balance, the virtual clock, faults, reset and the ledger. Never faulted, never rate-limited,
//! no auth (the emulator listens on loopback for tests).

use crate::clock;
use crate::faults;
use crate::reply::Reply;
use crate::routes::{BodyError, Incoming};
use crate::state::{State, plan_limits};
use serde_json::{Map, Value, json};

pub(crate) fn handle(state: &mut State, req: &Incoming) -> Reply {
    let m = req.method.as_str();
    let allowed: &[&str] = match req.path.as_str() {
        "/_emulator/accounts" | "/_emulator/accounts/deposit" | "/_emulator/reset" => &["POST"],
        "/_emulator/clock" => &["GET", "POST"],
        "/_emulator/faults" => &["GET", "POST", "DELETE"],
        "/_emulator/ledger" => &["GET"],
        _ => return Reply::error(404, "not_found", "no such control path"),
    };
    if !allowed.contains(&m) {
        return Reply::error(405, "method_not_allowed", &format!("{m} is not allowed on {}", req.path)).header("allow", allowed.join(", "));
    }
    let body = || -> Result<Value, Reply> {
        match &req.body {
            Err(BodyError::TooLarge) => Err(Reply::error(413, "payload_too_large", "the body is larger than 1 MiB")),
            Err(BodyError::Unreadable) => Err(Reply::invalid(None, "the body could not be read")),
            Ok(b) if b.iter().all(u8::is_ascii_whitespace) => Ok(json!({})),
            Ok(b) => serde_json::from_slice(b).map_err(|e| Reply::invalid(None, &format!("the body is not valid JSON: {e}"))),
        }
    };
    let result = match (req.path.as_str(), m) {
        ("/_emulator/accounts", _) => body().and_then(|b| accounts(state, &b)),
        ("/_emulator/accounts/deposit", _) => body().and_then(|b| deposit(state, &b)),
        ("/_emulator/clock", "POST") => body().and_then(|b| set_clock(state, &b)),
        ("/_emulator/clock", _) => Ok(clock_json(state)),
        ("/_emulator/faults", "POST") => body().and_then(|b| match faults::parse_many(&b) {
            Ok(list) => {
                let n = list.len();
                state.faults.add(list);
                Ok(Reply::json(201, &json!({"added": n, "faults": state.faults.to_json()})))
            }
            Err(e) => Err(Reply::invalid(None, &e)),
        }),
        ("/_emulator/faults", "GET") => Ok(Reply::json(200, &json!({"faults": state.faults.to_json()}))),
        ("/_emulator/faults", _) => {
            state.faults.clear();
            Ok(Reply::json(200, &json!({"faults": []})))
        }
        ("/_emulator/reset", _) => {
            state.reset();
            Ok(Reply::json(200, &json!({"reset": true})))
        }
        _ => Ok(Reply::json(200, &state.ledger_json())),
    };
    result.unwrap_or_else(|e| e)
}

/// The parsed body of `POST /_emulator/accounts`.
#[derive(Debug)]
pub(crate) struct AccountBody {
    pub(crate) email: String,
    pub(crate) balance_cents: u64,
    pub(crate) plan: String,
    pub(crate) requests_per_minute: Option<u64>,
    pub(crate) concurrent_jobs: Option<u64>,
}

/// Validates an account spec (shared by the HTTP surface and the library).
pub(crate) fn check_account(email: &str, plan: &str, rpm: Option<u64>, concurrent: Option<u64>) -> Result<(), (String, String)> {
    if email.trim().is_empty() {
        return Err(("email".into(), "email is required".into()));
    }
    if plan_limits(plan).is_none() {
        return Err(("plan".into(), "plan must be standard or enterprise".into()));
    }
    if rpm == Some(0) {
        return Err(("requests_per_minute".into(), "requests_per_minute must be at least 1".into()));
    }
    if concurrent == Some(0) {
        return Err(("concurrent_jobs".into(), "concurrent_jobs must be at least 1".into()));
    }
    Ok(())
}

fn parse_account(b: &Value) -> Result<AccountBody, Reply> {
    let o = b.as_object().ok_or_else(|| Reply::invalid(None, "the body must be a JSON object"))?;
    const FIELDS: [&str; 5] = ["email", "balance_cents", "plan", "requests_per_minute", "concurrent_jobs"];
    if let Some(k) = o.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(Reply::invalid(Some(k), &format!("unknown field `{k}`")));
    }
    let email = match o.get("email") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(Reply::invalid(Some("email"), "email is required")),
    };
    let plan = match o.get("plan") {
        None | Some(Value::Null) => "standard".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(Reply::invalid(Some("plan"), "plan must be a string")),
    };
    let spec = AccountBody {
        email,
        balance_cents: uint(o, "balance_cents")?.unwrap_or(0),
        plan,
        requests_per_minute: uint(o, "requests_per_minute")?,
        concurrent_jobs: uint(o, "concurrent_jobs")?,
    };
    check_account(&spec.email, &spec.plan, spec.requests_per_minute, spec.concurrent_jobs).map_err(|(f, m)| Reply::invalid(Some(&f), &m))?;
    Ok(spec)
}

fn uint(o: &Map<String, Value>, k: &str) -> Result<Option<u64>, Reply> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| Reply::invalid(Some(k), &format!("{k} must be a non-negative integer"))),
    }
}

fn accounts(state: &mut State, b: &Value) -> Result<Reply, Reply> {
    let spec = parse_account(b)?;
    let (id, api_key, jwt) = state.create_account(&spec.email, spec.balance_cents, &spec.plan, spec.requests_per_minute, spec.concurrent_jobs);
    let a = state.accounts.get(&id).ok_or_else(|| Reply::error(500, "internal_error", "the account vanished"))?;
    let body = json!({
        "email": a.email,
        "api_key": api_key,
        "jwt": jwt,
        "balance_cents": a.balance,
        "plan": a.plan,
        "requests_per_minute": a.requests_per_minute,
        "concurrent_jobs": a.concurrent_jobs,
    });
    Ok(Reply::json(201, &body))
}

fn deposit(state: &mut State, b: &Value) -> Result<Reply, Reply> {
    let o = b.as_object().ok_or_else(|| Reply::invalid(None, "the body must be a JSON object"))?;
    let email = o.get("email").and_then(Value::as_str).ok_or_else(|| Reply::invalid(Some("email"), "email is required"))?.to_owned();
    let amount = uint(o, "amount_cents")?.ok_or_else(|| Reply::invalid(Some("amount_cents"), "amount_cents is required"))?;
    let a = state.deposit(&email, amount).ok_or_else(|| Reply::error(404, "not_found", "no such account"))?;
    Ok(Reply::json(200, &json!({"email": email, "balance_cents": a.balance, "deposits_cents": a.deposits})))
}

fn set_clock(state: &mut State, b: &Value) -> Result<Reply, Reply> {
    let o = b.as_object().ok_or_else(|| Reply::invalid(None, "the body must be a JSON object"))?;
    if let Some(k) = o.keys().find(|k| !["advance_ms", "time_scale"].contains(&k.as_str())) {
        return Err(Reply::invalid(Some(k), &format!("unknown field `{k}`")));
    }
    let advance = uint(o, "advance_ms")?;
    let scale = match o.get("time_scale") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_f64() {
            Some(f) if clock::valid_scale(f) => Some(f),
            _ => return Err(Reply::invalid(Some("time_scale"), "time_scale must be a number from 0 to 1000000")),
        },
    };
    if let Some(s) = scale {
        state.set_time_scale(s);
    }
    if let Some(ms) = advance {
        state.advance_clock(ms);
    }
    Ok(clock_json(state))
}

fn clock_json(state: &State) -> Reply {
    Reply::json(200, &json!({"now_ms": state.now(), "time_scale": state.clock.scale()}))
}
