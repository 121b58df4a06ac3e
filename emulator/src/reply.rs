//! The answer a handler builds, before the server layer adds the common headers (request id,
//! CORS) and applies any body fault (malformed, truncated).

use bytes::Bytes;
use serde_json::{Value, json};

/// An HTTP answer in the making.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Bytes,
}

impl Reply {
    /// A JSON answer.
    pub(crate) fn json(status: u16, value: &Value) -> Reply {
        // Serializing a `Value` cannot fail; an empty body is the harmless fallback anyway.
        let body = serde_json::to_vec(value).unwrap_or_default();
        Reply { status, content_type: Some("application/json".into()), headers: Vec::new(), body: body.into() }
    }

    /// The error body `{"error": {"code", "message"}}`.
    pub(crate) fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::json(status, &json!({"error": {"code": code, "message": message}}))
    }

    /// A validation error: `400 invalid_request` naming the field when one is to blame.
    pub(crate) fn invalid(field: Option<&str>, message: &str) -> Reply {
        match field {
            Some(f) => Reply::json(400, &json!({"error": {"code": "invalid_request", "message": message, "field": f}})),
            None => Reply::error(400, "invalid_request", message),
        }
    }

    /// An answer with no body.
    pub(crate) fn empty(status: u16) -> Reply {
        Reply { status, content_type: None, headers: Vec::new(), body: Bytes::new() }
    }

    /// Adds a header.
    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
}

/// The error code the emulator uses for a status (for injected faults without a body).
pub(crate) fn default_code(status: u16) -> &'static str {
    match status {
        400 => "invalid_request",
        401 => "unauthorized",
        402 => "insufficient_balance",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        413 => "payload_too_large",
        429 => "rate_limited",
        500 => "internal_error",
        502 => "upstream_error",
        503 => "service_unavailable",
        504 => "gateway_timeout",
        _ => "error",
    }
}
