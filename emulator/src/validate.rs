//! Validation of what clients send: the create body and the list query. Written from the
//! reference and CONTRACT.md, independently of the SDK's core (a bug there must not be mirrored
//! here). Every refusal names the first offending field.

use crate::pricing;
use serde_json::{Map, Value};

/// A refused input: `400 invalid_request`, with the field when one is to blame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub(crate) field: Option<String>,
    pub(crate) message: String,
}

fn invalid(field: &str, message: impl Into<String>) -> Invalid {
    Invalid { field: Some(field.to_owned()), message: message.into() }
}

/// A valid create request (kept in the state file, hence serde).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct CreateRequest {
    pub(crate) prompt: String,
    pub(crate) mode: String,
    pub(crate) resolution: String,
    pub(crate) duration: u64,
    pub(crate) image_url: Option<String>,
    pub(crate) reference_url: Option<String>,
    pub(crate) seed: Option<u64>,
}

const FIELDS: [&str; 7] = ["prompt", "mode", "resolution", "duration", "image_url", "reference_url", "seed"];
const MODES: [&str; 3] = ["text_to_video", "image_to_video", "reference"];

/// Parses the raw body of `POST /v1/videos`. Returns the parsed JSON too: idempotent replays
/// compare bodies as parsed JSON, not as bytes.
pub(crate) fn create_request(body: &[u8]) -> Result<(CreateRequest, Value), Invalid> {
    let value: Value = serde_json::from_slice(body).map_err(|e| Invalid { field: None, message: format!("the body is not valid JSON: {e}") })?;
    let obj = value.as_object().ok_or_else(|| Invalid { field: None, message: "the body must be a JSON object".into() })?;
    if let Some(unknown) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(unknown, format!("unknown field `{unknown}`")));
    }

    let prompt = match present(obj, "prompt") {
        None => return Err(invalid("prompt", "prompt is required")),
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(invalid("prompt", "prompt must not be empty")),
        Some(_) => return Err(invalid("prompt", "prompt must be a string")),
    };
    let mode = match present(obj, "mode") {
        None => return Err(invalid("mode", "mode is required")),
        Some(Value::String(s)) if MODES.contains(&s.as_str()) => s.clone(),
        Some(_) => return Err(invalid("mode", "mode must be one of text_to_video, image_to_video, reference")),
    };
    let resolution = match present(obj, "resolution") {
        None => "720p".to_owned(),
        Some(Value::String(s)) if pricing::RESOLUTIONS.contains(&s.as_str()) => s.clone(),
        Some(_) => return Err(invalid("resolution", "resolution must be one of 720p, 1080p, 2k")),
    };
    let duration = match present(obj, "duration") {
        None => 5,
        Some(v) => match integer(v) {
            Some(d @ 1..=10) => d as u64,
            _ => return Err(invalid("duration", "duration must be an integer number of seconds from 1 to 10")),
        },
    };
    let image_url = url_for_mode(obj, "image_url", &mode, "image_to_video")?;
    let reference_url = url_for_mode(obj, "reference_url", &mode, "reference")?;
    let seed = match present(obj, "seed") {
        None => None,
        Some(v) => match integer(v) {
            Some(s @ 0..=4_294_967_295) => Some(s as u64),
            _ => return Err(invalid("seed", "seed must be an integer from 0 to 4294967295")),
        },
    };
    Ok((CreateRequest { prompt, mode, resolution, duration, image_url, reference_url, seed }, value))
}

/// A field's value, with `null` meaning absent.
fn present<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

/// A JSON integer (not `5.0`, `"5"` or `true`).
fn integer(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) if n.is_i64() => n.as_i64().map(i128::from),
        Value::Number(n) if n.is_u64() => n.as_u64().map(i128::from),
        _ => None,
    }
}

/// `image_url` / `reference_url`: required for, and only allowed with, their mode.
fn url_for_mode(obj: &Map<String, Value>, field: &str, mode: &str, needs: &str) -> Result<Option<String>, Invalid> {
    match (present(obj, field), mode == needs) {
        (None, false) => Ok(None),
        (None, true) => Err(invalid(field, format!("{field} is required for mode {needs}"))),
        (Some(_), false) => Err(invalid(field, format!("{field} is only allowed with mode {needs}"))),
        (Some(Value::String(s)), true) if is_http_url(s) => Ok(Some(s.clone())),
        (Some(_), true) => Err(invalid(field, format!("{field} must be an absolute http or https URL"))),
    }
}

/// An absolute `http`/`https` URL with a non-empty host and no whitespace or control characters.
fn is_http_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let rest = match lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")) {
        Some(r) => r,
        None => return false,
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    !host.is_empty() && !host.starts_with(':') && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `limit` and `offset` of `GET /v1/videos`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListQuery {
    pub(crate) limit: usize,
    pub(crate) offset: usize,
}

/// Parses the list query string: only `limit` (1 to 100, default 20) and `offset` (≥ 0,
/// default 0), both plain decimal integers; anything else is refused.
pub(crate) fn list_query(query: Option<&str>) -> Result<ListQuery, Invalid> {
    let mut q = ListQuery { limit: 20, offset: 0 };
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let parsed = if !value.is_empty() && value.len() <= 12 && value.bytes().all(|b| b.is_ascii_digit()) { value.parse::<usize>().ok() } else { None };
        match name {
            "limit" => match parsed {
                Some(n @ 1..=100) => q.limit = n,
                _ => return Err(invalid("limit", "limit must be an integer from 1 to 100")),
            },
            "offset" => match parsed {
                Some(n) => q.offset = n,
                None => return Err(invalid("offset", "offset must be an integer of 0 or more")),
            },
            other => return Err(invalid(other, format!("unknown query parameter `{other}`"))),
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(body: &str) -> Option<String> {
        create_request(body.as_bytes()).err().and_then(|e| e.field)
    }

    #[test]
    fn accepts_the_reference_example() {
        let (r, _) = create_request(br#"{"prompt": "lake", "mode": "text_to_video", "resolution": "1080p", "duration": 5}"#).unwrap();
        assert_eq!((r.resolution.as_str(), r.duration), ("1080p", 5));
        let (r, _) = create_request(br#"{"prompt": "lake", "mode": "text_to_video", "resolution": null, "seed": null}"#).unwrap();
        assert_eq!((r.resolution.as_str(), r.duration, r.seed), ("720p", 5, None));
    }

    #[test]
    fn names_the_first_offending_field() {
        assert_eq!(field(r#"{"prompt": "x", "mode": "text_to_video", "resolutoin": "1080p"}"#).as_deref(), Some("resolutoin"));
        assert_eq!(field(r#"{"prompt": "  ", "mode": "text_to_video"}"#).as_deref(), Some("prompt"));
        assert_eq!(field(r#"{"prompt": "x", "mode": "video"}"#).as_deref(), Some("mode"));
        assert_eq!(field(r#"{"prompt": "x", "mode": "text_to_video", "resolution": "2K"}"#).as_deref(), Some("resolution"));
        for d in ["5.0", "\"5\"", "true", "0", "11", "-1"] {
            assert_eq!(field(&format!(r#"{{"prompt": "x", "mode": "text_to_video", "duration": {d}}}"#)).as_deref(), Some("duration"), "{d}");
        }
        assert_eq!(field(r#"{"prompt": "x", "mode": "image_to_video"}"#).as_deref(), Some("image_url"));
        assert_eq!(field(r#"{"prompt": "x", "mode": "image_to_video", "image_url": "ftp://a/b"}"#).as_deref(), Some("image_url"));
        assert_eq!(field(r#"{"prompt": "x", "mode": "text_to_video", "reference_url": "https://a/b"}"#).as_deref(), Some("reference_url"));
        assert_eq!(field(r#"{"prompt": "x", "mode": "text_to_video", "seed": 4294967296}"#).as_deref(), Some("seed"));
        assert_eq!(field("[1]"), None);
        assert!(create_request(b"\xff\xfe").is_err());
    }

    #[test]
    fn list_queries() {
        assert_eq!(list_query(None), Ok(ListQuery { limit: 20, offset: 0 }));
        assert_eq!(list_query(Some("limit=100&offset=3")), Ok(ListQuery { limit: 100, offset: 3 }));
        for bad in ["limit=0", "limit=101", "limit=abc", "limit=", "offset=-1", "offset=1.5", "page=2"] {
            assert!(list_query(Some(bad)).is_err(), "{bad}");
        }
    }
}
