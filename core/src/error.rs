//! One error type for everything, with a kind that every binding maps to its own class.
//!
//! Why a struct with a kind rather than an enum of variants: every error of the contract carries
//! the same optional attributes (`code`, `message`, `status`, `field`, `request_id`,
//! `retry_after`), and each binding projects them onto one class per kind (Python exceptions,
//! JS `Error` subclasses, a uniffi error). A flat shape crosses all three FFIs unchanged, and the
//! binding never decides anything: [`ErrorKind::class_name`] names the class.

use crate::http::TransportKind;
use crate::model::JobStatus;
use crate::validate::Issue;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong, one per class of the public error family.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ErrorKind {
    /// Input refused before sending (`ValidationError`).
    Validation,
    /// 400 (`BadRequestError`).
    BadRequest,
    /// 401 (`AuthenticationError`).
    Authentication,
    /// 402 (`InsufficientBalanceError`).
    InsufficientBalance,
    /// 404 (`NotFoundError`).
    NotFound,
    /// 409 (`ConflictError`).
    Conflict,
    /// 429 (`RateLimitError`).
    RateLimit,
    /// 500 (`InternalServerError`).
    InternalServer,
    /// 502 (`UpstreamError`).
    Upstream,
    /// Any other non-2xx status (`APIStatusError`).
    ApiStatus,
    /// A 2xx answer whose body is not what the endpoint returns (`APIResponseError`).
    Decode,
    /// No answer: connection refused, reset, dropped (`APIConnectionError`).
    Connection,
    /// No answer within the request timeout (`APITimeoutError`).
    Timeout,
    /// The job ended `failed` (`JobFailedError`).
    JobFailed,
    /// The wait's deadline passed; the job goes on (`WaitTimeoutError`).
    WaitTimeout,
    /// The caller cancelled (`AbortError` in JS, `CancelledError` elsewhere).
    Cancelled,
    /// The SDK was used wrongly (an unknown request id, a result asked for too early).
    Usage,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 17] = [
        ErrorKind::Validation,
        ErrorKind::BadRequest,
        ErrorKind::Authentication,
        ErrorKind::InsufficientBalance,
        ErrorKind::NotFound,
        ErrorKind::Conflict,
        ErrorKind::RateLimit,
        ErrorKind::InternalServer,
        ErrorKind::Upstream,
        ErrorKind::ApiStatus,
        ErrorKind::Decode,
        ErrorKind::Connection,
        ErrorKind::Timeout,
        ErrorKind::JobFailed,
        ErrorKind::WaitTimeout,
        ErrorKind::Cancelled,
        ErrorKind::Usage,
    ];

    /// Parses the exact wire string (`rate_limit`).
    #[must_use]
    pub fn parse(s: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The stable machine-readable name used in vectors (`rate_limit`, `not_found`, …).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Validation => "validation",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Authentication => "authentication",
            ErrorKind::InsufficientBalance => "insufficient_balance",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::RateLimit => "rate_limit",
            ErrorKind::InternalServer => "internal_server",
            ErrorKind::Upstream => "upstream",
            ErrorKind::ApiStatus => "api_status",
            ErrorKind::Decode => "decode",
            ErrorKind::Connection => "connection",
            ErrorKind::Timeout => "timeout",
            ErrorKind::JobFailed => "job_failed",
            ErrorKind::WaitTimeout => "wait_timeout",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Usage => "usage",
        }
    }

    /// The class name in every binding (`RateLimitError`, …).
    #[must_use]
    pub fn class_name(self) -> &'static str {
        match self {
            ErrorKind::Validation => "ValidationError",
            ErrorKind::BadRequest => "BadRequestError",
            ErrorKind::Authentication => "AuthenticationError",
            ErrorKind::InsufficientBalance => "InsufficientBalanceError",
            ErrorKind::NotFound => "NotFoundError",
            ErrorKind::Conflict => "ConflictError",
            ErrorKind::RateLimit => "RateLimitError",
            ErrorKind::InternalServer => "InternalServerError",
            ErrorKind::Upstream => "UpstreamError",
            ErrorKind::ApiStatus => "APIStatusError",
            ErrorKind::Decode => "APIResponseError",
            ErrorKind::Connection => "APIConnectionError",
            ErrorKind::Timeout => "APITimeoutError",
            ErrorKind::JobFailed => "JobFailedError",
            ErrorKind::WaitTimeout => "WaitTimeoutError",
            ErrorKind::Cancelled => "CancelledError",
            ErrorKind::Usage => "UsageError",
        }
    }

    /// The kind for an HTTP status that is not 2xx.
    #[must_use]
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            400 => ErrorKind::BadRequest,
            401 => ErrorKind::Authentication,
            402 => ErrorKind::InsufficientBalance,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            429 => ErrorKind::RateLimit,
            500 => ErrorKind::InternalServer,
            502 => ErrorKind::Upstream,
            _ => ErrorKind::ApiStatus,
        }
    }
}

/// Every failure the SDK reports. Messages never hold a key or a JWT (see [`crate::secret`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
// `Deserialize` reads a tree and calls the hand-written reader (crate::readers).
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Error {
    /// Which class of error.
    pub kind: ErrorKind,
    /// The server's code (`insufficient_balance`, `concurrency_limit`, …) or, for errors made
    /// here, the kind's name.
    pub code: String,
    /// For people.
    pub message: String,
    /// The HTTP status, for errors that had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The offending field (validation, or a 400 that names one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The server's `x-request-id`, for support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// How long the server asked to wait (`Retry-After`), in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// The job concerned (job failed, wait timeout, cancelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The job's last known status (wait timeout, cancelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_status: Option<String>,
    /// The idempotency key of a create whose outcome is unknown (code `outcome_unknown`), or that
    /// ended with a server error (`5xx`) after its retries: sending the same request again under
    /// this key is safe, as the service answers with the job if an attempt made one (*assumption*,
    /// CONTRACT.md: it honours the key), instead of making and charging a second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// Every violated rule (validation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<Issue>,
    /// How the transport failed (connection, timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportKind>,
}

/// The `code` of an error of a create (a job, an API key) that may or may not have made what it
/// asked for: no answer, or a 5xx, and no way left to tell. Such an error is not retryable.
pub const OUTCOME_UNKNOWN: &str = "outcome_unknown";

/// The `code` of a batch item not sent because its batch was resumed from a snapshot older than
/// the service keeps idempotency keys (`batch` rule 9): it may have been made already, and sending
/// it again, under its key or a new one, could make and charge a second job. It carries no
/// `idempotency_key`, unlike [`OUTCOME_UNKNOWN`]: creating again under it is no safe retry.
pub const SNAPSHOT_TOO_OLD: &str = "snapshot_too_old";

impl Error {
    /// A bare error of `kind` with the kind's name as code.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            code: kind.as_str().to_owned(),
            message: crate::secret::redact_text(&message.into()),
            status: None,
            field: None,
            request_id: None,
            retry_after_ms: None,
            job_id: None,
            job_status: None,
            idempotency_key: None,
            issues: Vec::new(),
            transport: None,
        }
    }

    /// Input refused before sending; `field` is the first issue's.
    #[must_use]
    pub fn validation(issues: Vec<Issue>) -> Self {
        let message = match issues.as_slice() {
            [one] => one.message.clone(),
            many => {
                let mut m = format!("{} problems:", many.len());
                for (i, issue) in many.iter().enumerate() {
                    m.push_str(if i == 0 { " " } else { "; " });
                    m.push_str(&issue.to_string());
                }
                m
            }
        };
        let mut e = Error::new(ErrorKind::Validation, message);
        // An unknown field is named by what the caller wrote, which can be a key pasted in the
        // wrong place: the issues are redacted as the message is (helper-27 found one hidden in
        // the message but whole in `field` and `issues`). Here, not in `Issue::new`: the issues a
        // validator returns keep their distinct fields (two keys with the same last four
        // characters would redact to one name).
        e.issues = issues;
        for i in &mut e.issues {
            i.field = crate::secret::redact_text(&i.field);
            i.message = crate::secret::redact_text(&i.message);
        }
        e.field = e.issues.first().map(|i| i.field.clone());
        e.code = e.issues.first().map_or("validation", |i| i.code.as_str()).to_owned();
        e
    }

    /// A transport failure reported by the host.
    #[must_use]
    pub fn transport(kind: TransportKind, message: &str) -> Self {
        let (ek, what) = match kind {
            TransportKind::Timeout => (ErrorKind::Timeout, "request timed out"),
            TransportKind::Aborted => (ErrorKind::Cancelled, "request aborted"),
            TransportKind::BodyTooLarge => (ErrorKind::Decode, "response body too large"),
            TransportKind::Connect | TransportKind::Other => (ErrorKind::Connection, "connection failed"),
        };
        // A driver that did not send a request (no slot of the client's rate limit in time, an
        // abort) says "not sent: why"; that is no connection failure.
        let text = if message.is_empty() {
            what.to_owned()
        } else if message.starts_with("not sent") {
            message.to_owned()
        } else {
            format!("{what}: {message}")
        };
        let mut e = Error::new(ek, text);
        e.transport = Some(kind);
        e
    }

    /// The error of a job that ended `failed` (one rule for a wait and a batch): the job's own
    /// `error.code` and message where it sent them (`generation_failed` and "the job failed"
    /// when it sent no `error`), the job's id and status.
    #[must_use]
    pub fn job_failed(job: &crate::model::Job) -> Self {
        let (code, message) = job.error.as_ref().map_or(("generation_failed", "the job failed"), |e| (e.code.as_str(), e.message.as_str()));
        let mut err = Error::new(ErrorKind::JobFailed, format!("job {} failed: {message}", job.id));
        if !code.is_empty() {
            code.clone_into(&mut err.code);
        }
        err.job_id = Some(job.id.clone());
        err.job_status = Some(JobStatus::Failed.as_str().to_owned());
        err
    }

    /// A misuse of the SDK (never a panic).
    #[must_use]
    pub fn usage(detail: impl Into<String>) -> Self {
        Error::new(ErrorKind::Usage, detail)
    }

    /// Tells the error a cancelled or timed-out job ends with how the delete that was to refund
    /// it went (one rule for a wait and a batch): deleted, it says so; failed, the job goes on and
    /// is charged, and it says that. A 409 (*assumption*: the service's answer for a job it cannot
    /// delete) means the job started processing meanwhile: `Some(Processing)` for the caller to
    /// record. A 404 means the job is gone. A failure `in_doubt` (an attempt got no answer or a 5xx,
    /// and none said otherwise after: it may have deleted the job) says that it may have.
    pub(crate) fn after_delete(&mut self, outcome: Result<Option<u64>, &Error>, in_doubt: bool) -> Option<JobStatus> {
        match outcome {
            // The service's own word over the SDK's sighting (CONTRACT.md, "Delete": a finished
            // job's record is removed with no refund): it had finished meanwhile (helper-40).
            Ok(Some(0)) => {
                self.message.push_str("; the job was deleted with no refund (refunded_cents 0): it had finished meanwhile, so its record is gone and, if it completed, it is charged");
                Some(JobStatus::Completed)
            }
            Ok(_) => {
                self.message.push_str("; the pending job was deleted and refunded");
                None
            }
            Err(e) if e.kind == ErrorKind::NotFound => {
                self.message = format!("{}; the job is gone (its delete found none): {}", self.message, e.message);
                None
            }
            Err(e) if in_doubt && e.kind != ErrorKind::Conflict => {
                self.message = format!("{}; the delete got no sure answer, so the job may have been deleted and refunded or may go on (retrieve it to know): {}", self.message, e.message);
                None
            }
            Err(e) => {
                self.message = format!("{}; deleting the job failed, so it goes on: {}", self.message, e.message);
                (e.kind == ErrorKind::Conflict).then_some(JobStatus::Processing)
            }
        }
    }

    /// A 404 of an endpoint that names no job (account, list, create, pricing, keys): the path
    /// itself is missing, most likely a base URL without `/v1`; said, as a missing job's is not.
    #[must_use]
    pub(crate) fn no_such_endpoint(mut self) -> Self {
        if self.kind == ErrorKind::NotFound {
            self.message = format!("{} (no such endpoint at this base URL: is its `/v1` missing, or, through a proxy, its route?)", self.message);
        }
        self
    }

    /// Removes the credential a request was sent with (`Bearer` token) from what a server's
    /// answer put in this error, also in part: a key without its `sd_` prefix, each long part of a
    /// JWT. [`crate::secret::redact_text`] already hides whole `sd_…` and `eyJ….….…` tokens; a
    /// server (or a proxy) that echoes a credential cut up would show the rest. `needs_key`: the
    /// endpoint wants an API key (all but pricing and key creation), so a request sent without
    /// one was a keyless client's (see [`Error::scrubbed_of`]).
    #[must_use]
    pub(crate) fn scrubbed(self, request: &crate::http::HttpRequest, needs_key: bool) -> Self {
        match request.headers.iter().find(|h| h.name.eq_ignore_ascii_case("authorization")).and_then(|h| h.value.strip_prefix("Bearer ")) {
            None if !needs_key => self,
            token => self.scrubbed_of(token),
        }
    }

    /// As [`Error::scrubbed`], of the credential `token`; `None`: a keyless client's request to an
    /// endpoint that wants a key. Its `401` says that no key was sent, for either cause: a key
    /// forgotten, or a proxy (the keyless client's reason to be) that did not add it or refused.
    #[must_use]
    pub(crate) fn scrubbed_of(mut self, token: Option<&str>) -> Self {
        let Some(token) = token else {
            if self.kind == ErrorKind::Authentication {
                self.message.push_str(" (no API key was sent: this client has none. Give it one (or set USVIDEO_API_KEY); if its base URL is a proxy that adds the key, the proxy refused this request)");
            }
            return self;
        };
        let parts = std::iter::once(token.strip_prefix("sd_").unwrap_or(token)).chain(token.split('.').filter(|p| token.contains('.') && p.len() >= 8));
        for part in parts.filter(|p| p.len() >= 8) {
            for text in [Some(&mut self.message), Some(&mut self.code), self.field.as_mut(), self.request_id.as_mut()].into_iter().flatten() {
                if let Some(clean) = without(text, part) {
                    *text = clean;
                }
            }
        }
        self
    }

    /// Whether this is an answer that could not be read as what was asked for: no readable record
    /// (a proxy's page, a cut body) or another job's. A read that meets one sends the read again
    /// within its budget (`job` rule 10, the batch's reads), where a create's or a delete's ends.
    #[must_use]
    pub fn is_unreadable_answer(&self) -> bool {
        self.kind == ErrorKind::Decode
    }

    /// Whether trying the same call again later could succeed (429, 5xx, connection, timeout), and
    /// could not make something twice: a create whose outcome is unknown ([`OUTCOME_UNKNOWN`]) is
    /// not (sent again as a new call, it could make and charge a second one), nor one whose key a
    /// stale snapshot dropped ([`SNAPSHOT_TOO_OLD`]: it keeps the kind it ended with, a timeout's
    /// or a `5xx`'s, which read as retryable).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        if self.code == OUTCOME_UNKNOWN || self.code == SNAPSHOT_TOO_OLD {
            return false;
        }
        match self.kind {
            ErrorKind::RateLimit | ErrorKind::InternalServer | ErrorKind::Upstream | ErrorKind::Connection | ErrorKind::Timeout => true,
            ErrorKind::ApiStatus => matches!(self.status, Some(408 | 503 | 504)),
            _ => false,
        }
    }
}

/// `text` with every `part` in it replaced by `[redacted]` (`None`: there is none). A byte search:
/// std's substring searcher would cost the wasm module ~1.5 KB gzipped for this one use.
fn without(text: &str, part: &str) -> Option<String> {
    let (bytes, wanted) = (text.as_bytes(), part.as_bytes());
    if wanted.is_empty() {
        return None;
    }
    let (mut out, mut from, mut at) = (String::new(), 0, 0);
    while at + wanted.len() <= bytes.len() {
        if bytes.get(at..at + wanted.len()) == Some(wanted) {
            // `part` starts with a whole character, so `at` is a character boundary.
            out.push_str(text.get(from..at)?);
            out.push_str("[redacted]");
            at += wanted.len();
            from = at;
        } else {
            at += 1;
        }
    }
    if from == 0 {
        return None;
    }
    out.push_str(text.get(from..)?);
    Some(out)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        let mut extra = Vec::new();
        if let Some(s) = self.status {
            extra.push(format!("status {s}"));
        }
        extra.push(format!("code {}", self.code));
        if let Some(field) = &self.field {
            extra.push(format!("field {field}"));
        }
        if let Some(id) = &self.request_id {
            extra.push(format!("request {id}"));
        }
        if let Some(ms) = self.retry_after_ms {
            extra.push(format!("retry after {ms} ms"));
        }
        write!(f, " ({})", extra.join(", "))
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_replaces_every_occurrence_and_only_them() {
        assert_eq!(without("a SECRET1x b SECRET1x", "SECRET1x").as_deref(), Some("a [redacted] b [redacted]"));
        assert_eq!(without("é SECRET1x é", "SECRET1x").as_deref(), Some("é [redacted] é"));
        assert_eq!(without("nothing here", "SECRET1x"), None);
        assert_eq!(without("short", ""), None, "an empty part is never searched for");
    }
}
