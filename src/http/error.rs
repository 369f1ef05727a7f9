//! The HTTP edge's error: a command's [`Error`] or a refusal of the protocol
//! itself (a body that is not JSON, a missing token, a method the path does not
//! have...). `http::problem` turns it into RFC 9457 `application/problem+json`.

use crate::domain::FieldError;
use crate::error::{Error, ErrorCode};

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// What a command or a store call answered.
    #[error(transparent)]
    Domain(#[from] Error),
    /// 400: the body is not JSON at all.
    #[error("the body is not well-formed JSON: {0}")]
    MalformedJson(String),
    /// 400: the request lacks something the protocol requires (a header...).
    #[error("{detail}")]
    BadRequest {
        /// Stable code.
        code: ErrorCode,
        /// Explanation.
        detail: String,
    },
    /// 401: no token, or one that does not verify.
    #[error("{0}")]
    Unauthorized(String),
    /// 405: the path exists, the method does not.
    #[error("method not allowed; allowed: {}", .allow.join(", "))]
    MethodNotAllowed {
        /// Methods the path accepts, for the `Allow` header.
        allow: Vec<String>,
    },
    /// 413: the body exceeds the limit.
    #[error("the body exceeds the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 408: the body did not arrive in time.
    #[error("the request body did not arrive within {secs} s of its head")]
    BodyTimeout {
        /// The body timeout in seconds.
        secs: u64,
    },
    /// 415: the body is not declared as JSON.
    #[error("the body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// 429: the caller went over the configured rate limit.
    #[error("too many requests: retry in {retry_after} s")]
    TooManyRequests {
        /// Seconds until a request will be accepted again (`Retry-After`).
        retry_after: u64,
    },
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Domain(e.into())
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Domain(e.into())
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Domain(Error::Validation(errors))
    }
}

impl AppError {
    /// The stable code of this error.
    pub(crate) fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The stable code of this error, as the enum.
    pub(crate) fn error_code(&self) -> ErrorCode {
        match self {
            Self::Domain(e) => e.error_code(),
            Self::MalformedJson(_) => ErrorCode::MalformedJson,
            Self::BadRequest { code, .. } => *code,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            Self::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            Self::BodyTimeout { .. } => ErrorCode::RequestTimeout,
            Self::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            Self::TooManyRequests { .. } => ErrorCode::RateLimited,
        }
    }

    /// The HTTP status code.
    pub(crate) fn status(&self) -> u16 {
        match self {
            Self::Domain(e) => match e {
                Error::Forbidden { .. } => 403,
                Error::NotFound(_) => 404,
                Error::Conflict { .. } | Error::AuditBroken(_) | Error::AlreadyDecided { .. } => {
                    409
                }
                Error::Validation(_) | Error::Unprocessable { .. } => 422,
                Error::Internal { .. } => 500,
                Error::Unavailable(_) => 503,
            },
            Self::MalformedJson(_) | Self::BadRequest { .. } => 400,
            Self::Unauthorized(_) => 401,
            Self::MethodNotAllowed { .. } => 405,
            Self::PayloadTooLarge { .. } => 413,
            Self::BodyTimeout { .. } => 408,
            Self::UnsupportedMediaType => 415,
            Self::TooManyRequests { .. } => 429,
        }
    }
}
