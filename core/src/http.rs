//! HTTP as plain data: what to send and what came back. No HTTP library types cross the API, so
//! every binding can carry these through its FFI and use its platform's own client.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The methods the API uses.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `DELETE`
    Delete,
}

impl Method {
    /// `GET`, `POST` or `DELETE`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// One header. A list of these (not a map) keeps order and crosses every FFI as plain data.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi::export(Debug))]
pub struct Header {
    /// Name, as written (compare case-insensitively).
    pub name: String,
    /// Value.
    pub value: String,
}

impl Header {
    /// Makes a header.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Header { name: name.into(), value: value.into() }
    }
}

/// `Authorization` values are never shown by `Debug`.
impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.eq_ignore_ascii_case("authorization") {
            write!(f, "{}: {}", self.name, crate::secret::redact_text(&self.value))
        } else {
            write!(f, "{}: {}", self.name, self.value)
        }
    }
}

/// A request for the host to perform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi::export(Debug))]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: String,
    /// Headers to send, in order.
    pub headers: Vec<Header>,
    /// The body (JSON bytes), if any.
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    /// The first header with this name (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// The only response headers the core reads (lower case). A driver may pass just these in an
/// [`HttpResponse`] instead of copying every header the server sent: nothing else is looked at.
pub const RESPONSE_HEADERS_READ: [&str; 4] = ["date", "idempotent-replayed", "retry-after", "x-request-id"];

/// A response the host received: status, headers and the whole body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<Header>,
    /// Body bytes (possibly empty, truncated or not JSON at all).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with a JSON body (tests and vectors): anything whose `Display` is JSON text (a
    /// [`crate::Json`], a `serde_json::Value`).
    #[must_use]
    pub fn json(status: u16, body: &impl std::fmt::Display) -> Self {
        HttpResponse { status, headers: vec![Header::new("content-type", "application/json")], body: body.to_string().into_bytes() }
    }

    /// The first header with this name (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

fn find_header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
}

/// How a request failed without an HTTP answer, as the host saw it. The core decides what follows.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum TransportKind {
    /// No connection was made (refused, DNS, TLS handshake): the request provably never reached
    /// the server, so even a create may be sent again.
    Connect,
    /// No answer within the request timeout: the server may have acted on it.
    Timeout,
    /// The caller aborted (AbortSignal, task cancellation, Ctrl-C).
    Aborted,
    /// The answer's body was larger than the SDK accepts.
    BodyTooLarge,
    /// Anything else (reset mid-response, protocol error): the server may have acted on it.
    Other,
}

impl TransportKind {
    /// Whether the request went out and no answer came (a timeout, an abort, a reset): the
    /// server may still receive it and act on it after the client has moved on.
    #[must_use]
    pub fn unanswered(self) -> bool {
        matches!(self, TransportKind::Timeout | TransportKind::Aborted | TransportKind::Other)
    }

    /// Every kind, in declaration order.
    pub const ALL: [TransportKind; 5] = [TransportKind::Connect, TransportKind::Timeout, TransportKind::Aborted, TransportKind::BodyTooLarge, TransportKind::Other];

    /// Parses the exact wire string (`body_too_large`).
    #[must_use]
    pub fn parse(s: &str) -> Option<TransportKind> {
        TransportKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The wire form (`connect`, `timeout`, …).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Connect => "connect",
            TransportKind::Timeout => "timeout",
            TransportKind::Aborted => "aborted",
            TransportKind::BodyTooLarge => "body_too_large",
            TransportKind::Other => "other",
        }
    }
}

/// The largest response body a driver should read (4 MiB). Anything larger is cut off and
/// reported as [`TransportKind::BodyTooLarge`]: no API answer comes near it.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
