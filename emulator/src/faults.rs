//! Injected faults: the `/_emulator/faults` control surface. A fault matches by method and path
//! glob, is used `times` times, and the first match wins. `fail_job` faults are kept apart: they
//! are consumed only by a create that actually makes a job (a refused create leaves them armed).

use serde_json::{Map, Value, json};

/// When a dropped connection is closed relative to the request taking effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drop {
    Before,
    After,
}

/// One fault as registered.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) times: u64,
    pub(crate) status: Option<u16>,
    pub(crate) body: Option<Value>,
    pub(crate) content_type: Option<String>,
    pub(crate) retry_after: Option<u64>,
    pub(crate) delay_ms: u64,
    pub(crate) drop: Option<Drop>,
    pub(crate) malformed: bool,
    pub(crate) truncate: bool,
    pub(crate) fail_job: bool,
    pub(crate) message: Option<String>,
    /// Answer a JSON body of exactly this many bytes instead (streamed), for clients' body caps.
    pub(crate) huge_body: Option<u64>,
}

const FIELDS: [&str; 14] =
    ["method", "path", "times", "status", "body", "content_type", "retry_after", "delay_ms", "drop", "malformed", "truncate", "fail_job", "message", "huge_body"];

/// The smallest huge body: `{"pad": ""}`.
pub(crate) const HUGE_BODY_MIN: u64 = 11;

impl Fault {
    /// Parses one fault object; unknown fields are refused so a typo does not silently arm a
    /// fault that never fires.
    pub(crate) fn parse(v: &Value) -> Result<Fault, String> {
        let o = v.as_object().ok_or("a fault must be a JSON object")?;
        if let Some(k) = o.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(format!("unknown fault field `{k}`"));
        }
        let fail_job = flag(o, "fail_job")?;
        let default_method = if fail_job { "POST" } else { "*" };
        let default_path = if fail_job { "/v1/videos" } else { "*" };
        let method = string(o, "method")?.unwrap_or_else(|| default_method.into()).to_ascii_uppercase();
        if !["GET", "POST", "DELETE", "*"].contains(&method.as_str()) {
            return Err("method must be GET, POST, DELETE or *".into());
        }
        let path = string(o, "path")?.unwrap_or_else(|| default_path.into());
        let times = uint(o, "times")?.unwrap_or(1);
        if times == 0 {
            return Err("times must be at least 1".into());
        }
        let status = match uint(o, "status")? {
            None => None,
            Some(s @ 100..=599) => Some(s as u16),
            Some(_) => return Err("status must be from 100 to 599".into()),
        };
        let drop = match string(o, "drop")?.as_deref() {
            None => None,
            Some("before") => Some(Drop::Before),
            Some("after") => Some(Drop::After),
            Some(_) => return Err("drop must be \"before\" or \"after\"".into()),
        };
        let fault = Fault {
            method,
            path,
            times,
            status,
            body: o.get("body").filter(|b| !b.is_null()).cloned(),
            content_type: string(o, "content_type")?,
            retry_after: uint(o, "retry_after")?,
            delay_ms: uint(o, "delay_ms")?.unwrap_or(0),
            drop,
            malformed: flag(o, "malformed")?,
            truncate: flag(o, "truncate")?,
            fail_job,
            message: string(o, "message")?,
            huge_body: uint(o, "huge_body")?,
        };
        if fault.huge_body.is_some_and(|n| n < HUGE_BODY_MIN) {
            return Err(format!("huge_body must be at least {HUGE_BODY_MIN} (the bytes of {{\"pad\": \"\"}})"));
        }
        if fault.huge_body.is_some() && fault.body.is_some() {
            return Err("huge_body makes its own body; drop `body`".into());
        }
        let acts = fault.status.is_some()
            || fault.delay_ms > 0
            || fault.drop.is_some()
            || fault.malformed
            || fault.truncate
            || fault.fail_job
            || fault.huge_body.is_some();
        if !acts {
            return Err("a fault needs one of status, delay_ms, drop, malformed, truncate, fail_job, huge_body".into());
        }
        Ok(fault)
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        (self.method == "*" || self.method == method) && glob(&self.path, path)
    }

    /// The fault as `GET /_emulator/faults` shows it.
    pub(crate) fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("method".into(), json!(self.method));
        o.insert("path".into(), json!(self.path));
        o.insert("times".into(), json!(self.times));
        if let Some(s) = self.status {
            o.insert("status".into(), json!(s));
        }
        if let Some(b) = &self.body {
            o.insert("body".into(), b.clone());
        }
        if let Some(c) = &self.content_type {
            o.insert("content_type".into(), json!(c));
        }
        if let Some(r) = self.retry_after {
            o.insert("retry_after".into(), json!(r));
        }
        if self.delay_ms > 0 {
            o.insert("delay_ms".into(), json!(self.delay_ms));
        }
        if let Some(d) = self.drop {
            o.insert("drop".into(), json!(if d == Drop::Before { "before" } else { "after" }));
        }
        for (name, on) in [("malformed", self.malformed), ("truncate", self.truncate), ("fail_job", self.fail_job)] {
            if on {
                o.insert(name.into(), json!(true));
            }
        }
        if let Some(m) = &self.message {
            o.insert("message".into(), json!(m));
        }
        if let Some(n) = self.huge_body {
            o.insert("huge_body".into(), json!(n));
        }
        Value::Object(o)
    }
}

fn string(o: &Map<String, Value>, k: &str) -> Result<Option<String>, String> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{k} must be a string")),
    }
}

fn uint(o: &Map<String, Value>, k: &str) -> Result<Option<u64>, String> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| format!("{k} must be a non-negative integer")),
    }
}

fn flag(o: &Map<String, Value>, k: &str) -> Result<bool, String> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("{k} must be true or false")),
    }
}

/// Parses one fault object or a list of them (all or nothing).
pub(crate) fn parse_many(v: &Value) -> Result<Vec<Fault>, String> {
    match v {
        Value::Array(items) => items.iter().map(Fault::parse).collect(),
        other => Fault::parse(other).map(|f| vec![f]),
    }
}

/// A glob where `*` matches any run of characters (slashes included).
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The registered faults, in order.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    list: Vec<Fault>,
}

impl Faults {
    pub(crate) fn add(&mut self, faults: Vec<Fault>) {
        self.list.extend(faults);
    }

    pub(crate) fn clear(&mut self) {
        self.list.clear();
    }

    pub(crate) fn to_json(&self) -> Value {
        Value::Array(self.list.iter().map(Fault::to_json).collect())
    }

    /// Takes one use of the first request fault (not `fail_job`) matching the request.
    pub(crate) fn take_request_fault(&mut self, method: &str, path: &str) -> Option<Fault> {
        self.take(|f| !f.fail_job && f.matches(method, path))
    }

    /// Takes one use of the first `fail_job` fault matching a create that made a job; returns
    /// its message.
    pub(crate) fn take_fail_job(&mut self, method: &str, path: &str) -> Option<Option<String>> {
        self.take(|f| f.fail_job && f.matches(method, path)).map(|f| f.message)
    }

    fn take(&mut self, pred: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let i = self.list.iter().position(pred)?;
        let f = self.list[i].clone();
        self.list[i].times -= 1;
        if self.list[i].times == 0 {
            self.list.remove(i);
        }
        Some(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("/v1/videos/*", "/v1/videos/job_1"));
        assert!(!glob("/v1/videos/*", "/v1/videos"));
        assert!(glob("*", "/anything"));
        assert!(glob("/v1/*/x*", "/v1/a/b/xyz"));
        assert!(!glob("/v1/account", "/v1/accounts"));
    }

    #[test]
    fn first_match_wins_and_times_are_counted() {
        let mut f = Faults::default();
        f.add(parse_many(&json!([{"path": "/v1/account", "status": 502, "times": 2}, {"status": 500}])).unwrap());
        assert_eq!(f.take_request_fault("GET", "/v1/account").and_then(|f| f.status), Some(502));
        assert_eq!(f.take_request_fault("GET", "/v1/account").and_then(|f| f.status), Some(502));
        assert_eq!(f.take_request_fault("GET", "/v1/account").and_then(|f| f.status), Some(500));
        assert!(f.take_request_fault("GET", "/v1/account").is_none());
    }

    #[test]
    fn refuses_nonsense() {
        assert!(Fault::parse(&json!({"drop": "sideways"})).is_err());
        assert!(Fault::parse(&json!({"status": 502, "tmies": 2})).is_err());
        assert!(Fault::parse(&json!({"path": "/v1/account"})).is_err());
        assert!(Fault::parse(&json!({"huge_body": 10})).is_err(), "below the smallest JSON pad");
        assert!(Fault::parse(&json!({"huge_body": 100, "body": {}})).is_err());
        assert_eq!(Fault::parse(&json!({"huge_body": 11})).unwrap().huge_body, Some(11), "enough on its own");
        let f = Fault::parse(&json!({"fail_job": true})).unwrap();
        assert_eq!((f.method.as_str(), f.path.as_str()), ("POST", "/v1/videos"));
    }
}
