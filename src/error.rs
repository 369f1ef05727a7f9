//! The one error type of the application. Each variant has a stable snake_case
//! `code` and an HTTP status; `http::problem` turns it into RFC 9457
//! `application/problem+json`. Database errors are mapped here, once.

use crate::domain::FieldError;

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the body is not JSON at all.
    #[error("the body is not well-formed JSON: {0}")]
    MalformedJson(String),
    /// 400: the request lacks something the protocol requires (a header...).
    #[error("{detail}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// Explanation.
        detail: String,
    },
    /// 401: no token, or one that does not verify.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the caller's role, stores or a segregation rule forbid this.
    #[error("{detail}")]
    Forbidden {
        /// The rule that refused, e.g. `role_forbidden`, `store_scope`.
        code: &'static str,
        /// Explanation.
        detail: String,
    },
    /// 404: no such object in the caller's tenant (or no such route).
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists, the method does not.
    #[error("method not allowed; allowed: {}", .allow.join(", "))]
    MethodNotAllowed {
        /// Methods the path accepts, for the `Allow` header.
        allow: Vec<String>,
    },
    /// 409: conflicts with the current state (a duplicate, a decision already taken).
    #[error("{detail}")]
    Conflict {
        /// Stable code, e.g. `duplicate_external_ref`.
        code: &'static str,
        /// Explanation.
        detail: String,
        /// The id of the existing object the request collided with, if any.
        existing_id: Option<String>,
    },
    /// 409: the request was already decided (approved, rejected, cancelled or
    /// expired); names the decision that won.
    #[error("{detail}")]
    AlreadyDecided {
        /// The winning decision: the gesture's status.
        decision: &'static str,
        /// Explanation.
        detail: String,
    },
    /// 413: the body exceeds the limit.
    #[error("the body exceeds the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415: the body is not declared as JSON.
    #[error("the body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// 422: well-formed input that breaks the schema (unknown field, wrong type,
    /// missing or invalid value). Lists every field at fault.
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    /// 422: a business rule refuses well-formed input.
    #[error("{detail}")]
    Unprocessable {
        /// Stable code naming the rule.
        code: &'static str,
        /// Explanation.
        detail: String,
        /// Fields at fault, if any.
        errors: Vec<FieldError>,
    },
    /// 409: the audit trail does not verify; names the first broken link.
    #[error("the audit trail is broken at {0}")]
    AuditBroken(crate::audit::BrokenLink),
    /// 503: the database cannot be reached or the pool is exhausted.
    #[error("{0}")]
    Unavailable(String),
    /// 429: the caller went over the configured rate limit.
    #[error("too many requests: retry in {retry_after} s")]
    TooManyRequests {
        /// Seconds until a request will be accepted again (`Retry-After`).
        retry_after: u64,
    },
    /// 500: a bug or an unexpected database error; details go to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// A validation problem with one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// 403 `store_scope`: the token may not act at `store`.
    pub fn store_scope(store: impl std::fmt::Display) -> Self {
        Self::Forbidden {
            code: "store_scope",
            detail: format!("this token may not act at store {store}"),
        }
    }

    /// A figure too large for an exact decimal (2^96 minor units): refused
    /// rather than printed wrong.
    pub fn figure_too_large() -> Self {
        Self::Internal("a total exceeds 2^96 minor units and cannot be shown exactly".into())
    }

    /// 403 `store_scope`: a token confined to some stores asked for something
    /// that acts on, or reads, the whole tenant.
    pub fn tenant_wide() -> Self {
        Self::Forbidden {
            code: "store_scope",
            detail: "this acts on the whole tenant: it needs a token without a stores claim".into(),
        }
    }

    /// The store-scope rule, in the one place it is checked: `Ok` when a token
    /// holding `stores` (`None`: all) may act at `store`, else 403
    /// `store_scope`.
    pub fn require_store(
        stores: Option<&[crate::domain::ids::StoreId]>,
        store: crate::domain::ids::StoreId,
    ) -> Result<(), Self> {
        if crate::domain::roles::may_act_at(stores, store) {
            Ok(())
        } else {
            Err(Self::store_scope(store))
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "malformed_json",
            Self::BadRequest { code, .. }
            | Self::Forbidden { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. } => code,
            Self::Unauthorized(_) => "unauthorized",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Validation(_) => "validation_failed",
            Self::Unavailable(_) => "service_unavailable",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::AuditBroken(_) => "audit_chain_broken",
            Self::AlreadyDecided { .. } => "already_decided",
            Self::Internal(_) => "internal_error",
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Self::MalformedJson(_) | Self::BadRequest { .. } => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden { .. } => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::Conflict { .. } | Self::AuditBroken(_) | Self::AlreadyDecided { .. } => 409,
            Self::PayloadTooLarge { .. } => 413,
            Self::UnsupportedMediaType => 415,
            Self::Validation(_) | Self::Unprocessable { .. } => 422,
            Self::TooManyRequests { .. } => 429,
            Self::Internal(_) => 500,
            Self::Unavailable(_) => 503,
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => Self::NotFound("no such object".into()),
            E::DatabaseError(K::UniqueViolation, info) => Self::Conflict {
                code: "conflict",
                detail: format!("conflicts with an existing record ({})", info.message()),
                existing_id: None,
            },
            E::DatabaseError(K::SerializationFailure, _) => Self::Conflict {
                code: "concurrent_update",
                detail: "a concurrent request changed the same data; retry".into(),
                existing_id: None,
            },
            E::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, ref info) => {
                crate::store::connection::note_connection_trouble();
                Self::Unavailable(format!(
                    "the database connection was lost: {}",
                    info.message()
                ))
            }
            E::DatabaseError(_, ref info) if is_sqlite_busy(info.message()) => {
                Self::Unavailable("the database is busy; retry".into())
            }
            E::DatabaseError(_, ref info) if is_ledger_limit(info.message()) => {
                Self::Unprocessable {
                    code: "ledger_limit",
                    detail: format!(
                        "this would take a ledger total past what it may hold ({} minor units per balance row); nothing was recorded",
                        crate::domain::money::LEDGER_ROW_LIMIT
                    ),
                    errors: Vec::new(),
                }
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

/// The refusal of a maintained total past [`crate::domain::money::LEDGER_ROW_LIMIT`]
/// (migration `000014_ledger_limits`: a CHECK on PostgreSQL, a trigger on
/// SQLite), or an integer overflow on the way there.
fn is_ledger_limit(message: &str) -> bool {
    message.contains("ledger_limit")
        || message.contains("bigint out of range")
        || message.contains("integer overflow")
}

fn is_sqlite_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database is busy")
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(format!("no database connection available: {e}"))
    }
}

/// Whether a diesel error is a unique-constraint violation.
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
