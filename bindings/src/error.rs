//! The error family as one uniffi error: one variant per [`ErrorKind`], named by
//! [`ErrorKind::class_name`], each carrying the core's whole error record (`ErrorInfo` in Kotlin
//! and Swift: `kind`, `code`, `message`, `status`, `field`, `request_id`, `retry_after_ms`, …).
//!
//! Kotlin sees a sealed `UsVideoException` (which the hand-written `com.usvideo` layer maps onto
//! its public `USVideoError` classes); Swift sees `enum UsVideoError: Error`.

use usvideo_core::{Error, ErrorKind, Issue};

/// Every failure of the SDK, one variant per error class.
#[derive(Debug, Clone, thiserror::Error, uniffi::Error)]
#[allow(clippy::enum_variant_names)]
pub enum UsVideoError {
    /// Input refused before sending.
    #[error("{}", details.message)]
    ValidationError {
        /// The error's attributes.
        details: Error,
    },
    /// 400.
    #[error("{}", details.message)]
    BadRequestError {
        /// The error's attributes.
        details: Error,
    },
    /// 401.
    #[error("{}", details.message)]
    AuthenticationError {
        /// The error's attributes.
        details: Error,
    },
    /// 402.
    #[error("{}", details.message)]
    InsufficientBalanceError {
        /// The error's attributes.
        details: Error,
    },
    /// 404.
    #[error("{}", details.message)]
    NotFoundError {
        /// The error's attributes.
        details: Error,
    },
    /// 409.
    #[error("{}", details.message)]
    ConflictError {
        /// The error's attributes.
        details: Error,
    },
    /// 429.
    #[error("{}", details.message)]
    RateLimitError {
        /// The error's attributes.
        details: Error,
    },
    /// 500.
    #[error("{}", details.message)]
    InternalServerError {
        /// The error's attributes.
        details: Error,
    },
    /// 502.
    #[error("{}", details.message)]
    UpstreamError {
        /// The error's attributes.
        details: Error,
    },
    /// Any other non-2xx status.
    #[error("{}", details.message)]
    ApiStatusError {
        /// The error's attributes.
        details: Error,
    },
    /// A 2xx answer whose body is not what the endpoint returns.
    #[error("{}", details.message)]
    ApiResponseError {
        /// The error's attributes.
        details: Error,
    },
    /// No answer: connection refused, reset, dropped.
    #[error("{}", details.message)]
    ApiConnectionError {
        /// The error's attributes.
        details: Error,
    },
    /// No answer within the request timeout.
    #[error("{}", details.message)]
    ApiTimeoutError {
        /// The error's attributes.
        details: Error,
    },
    /// The job ended `failed`.
    #[error("{}", details.message)]
    JobFailedError {
        /// The error's attributes.
        details: Error,
    },
    /// The wait's deadline passed; the job goes on.
    #[error("{}", details.message)]
    WaitTimeoutError {
        /// The error's attributes.
        details: Error,
    },
    /// The caller cancelled.
    #[error("{}", details.message)]
    CancelledError {
        /// The error's attributes.
        details: Error,
    },
    /// The SDK was used wrongly.
    #[error("{}", details.message)]
    UsageError {
        /// The error's attributes.
        details: Error,
    },
}

impl From<Error> for UsVideoError {
    fn from(details: Error) -> Self {
        match details.kind {
            ErrorKind::Validation => UsVideoError::ValidationError { details },
            ErrorKind::BadRequest => UsVideoError::BadRequestError { details },
            ErrorKind::Authentication => UsVideoError::AuthenticationError { details },
            ErrorKind::InsufficientBalance => UsVideoError::InsufficientBalanceError { details },
            ErrorKind::NotFound => UsVideoError::NotFoundError { details },
            ErrorKind::Conflict => UsVideoError::ConflictError { details },
            ErrorKind::RateLimit => UsVideoError::RateLimitError { details },
            ErrorKind::InternalServer => UsVideoError::InternalServerError { details },
            ErrorKind::Upstream => UsVideoError::UpstreamError { details },
            ErrorKind::ApiStatus => UsVideoError::ApiStatusError { details },
            ErrorKind::Decode => UsVideoError::ApiResponseError { details },
            ErrorKind::Connection => UsVideoError::ApiConnectionError { details },
            ErrorKind::Timeout => UsVideoError::ApiTimeoutError { details },
            ErrorKind::JobFailed => UsVideoError::JobFailedError { details },
            ErrorKind::WaitTimeout => UsVideoError::WaitTimeoutError { details },
            ErrorKind::Cancelled => UsVideoError::CancelledError { details },
            ErrorKind::Usage => UsVideoError::UsageError { details },
        }
    }
}

impl From<Issue> for UsVideoError {
    fn from(issue: Issue) -> Self {
        Error::validation(vec![issue]).into()
    }
}

impl From<Vec<Issue>> for UsVideoError {
    fn from(issues: Vec<Issue>) -> Self {
        Error::validation(issues).into()
    }
}

/// `Result` with the binding's error.
pub(crate) type Result<T, E = UsVideoError> = std::result::Result<T, E>;
