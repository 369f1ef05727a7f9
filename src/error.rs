//! The domain's error ([`Error`]): what commands and the store calls inside
//! them answer when they refuse or fail, each with a stable [`ErrorCode`].
//! Database errors are mapped here, once. The HTTP edge wraps it in
//! `http::AppError`, with the protocol's own refusals beside it.

use crate::domain::FieldError;

/// Every stable error code the service answers with, in one place: a test
/// checks each is documented in docs/api.md and each documented one exists.
macro_rules! error_codes {
    ($($variant:ident => $code:literal,)*) => {
        /// A stable, documented error code (the `code` of a problem+json).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(
                #[doc = concat!("`", $code, "`")]
                $variant,
            )*
        }

        impl ErrorCode {
            /// Every code.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as clients see it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }
        }
    };
}

error_codes! {
    MalformedJson => "malformed_json",
    Unauthorized => "unauthorized",
    NotFound => "not_found",
    MethodNotAllowed => "method_not_allowed",
    PayloadTooLarge => "payload_too_large",
    RequestTimeout => "request_timeout",
    UnsupportedMediaType => "unsupported_media_type",
    ValidationFailed => "validation_failed",
    ServiceUnavailable => "service_unavailable",
    RateLimited => "rate_limited",
    AuditChainBroken => "audit_chain_broken",
    AlreadyDecided => "already_decided",
    InternalError => "internal_error",
    AlreadyFlagged => "already_flagged",
    AlreadyReversed => "already_reversed",
    AlreadyReviewed => "already_reviewed",
    ApprovalTier => "approval_tier",
    ConcurrentUpdate => "concurrent_update",
    Conflict => "conflict",
    CurrencyRequired => "currency_required",
    DuplicateClientRef => "duplicate_client_ref",
    DuplicateExternalRef => "duplicate_external_ref",
    DuplicateSale => "duplicate_sale",
    DuplicateStaff => "duplicate_staff",
    DuplicateStaffExternalRef => "duplicate_staff_external_ref",
    DuplicateReceiptRef => "duplicate_receipt_ref",
    DuplicateStaffSubject => "duplicate_staff_subject",
    DuplicateStoreCode => "duplicate_store_code",
    EndpointDisabled => "endpoint_disabled",
    ExceedsOwed => "exceeds_owed",
    IdempotencyInFlight => "idempotency_in_flight",
    IdempotencyKeyRequired => "idempotency_key_required",
    IdempotencyMismatch => "idempotency_mismatch",
    InFlight => "in_flight",
    InsufficientCredit => "insufficient_credit",
    InvalidIdempotencyKey => "invalid_idempotency_key",
    LedgerLimit => "ledger_limit",
    ModelUnusable => "model_unusable",
    NamedStaff => "named_staff",
    NoValueModel => "no_value_model",
    NotADeferredPayment => "not_a_deferred_payment",
    NotEnoughHistory => "not_enough_history",
    NotOpen => "not_open",
    NotPayable => "not_payable",
    NotRequester => "not_requester",
    NotReversible => "not_reversible",
    NotValuable => "not_valuable",
    Overpayment => "overpayment",
    PeriodAlreadyClosed => "period_already_closed",
    PeriodClosed => "period_closed",
    PeriodNotClosed => "period_not_closed",
    PeriodNotEnded => "period_not_ended",
    RefundExceedsSale => "refund_exceeds_sale",
    ReviewerIsApprover => "reviewer_is_approver",
    ReviewerIsRequester => "reviewer_is_requester",
    RoleForbidden => "role_forbidden",
    SelfApproval => "self_approval",
    ProposalStale => "proposal_stale",
    PromiseAmbiguous => "promise_ambiguous",
    StaffAtFault => "staff_at_fault",
    StoreScope => "store_scope",
    UnreviewedWriteOffs => "unreviewed_write_offs",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a command (or a store call inside one) failed: the domain's error,
/// each with a stable code. The front ends shape it: the HTTP API as
/// problem+json (`http::AppError`), the command line as one line of text.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's role, stores or a segregation rule forbid this.
    #[error("{detail}")]
    Forbidden {
        /// The rule that refused, e.g. `role_forbidden`, `store_scope`.
        code: ErrorCode,
        /// Explanation.
        detail: String,
    },
    /// No such object in the caller's tenant.
    #[error("{0}")]
    NotFound(String),
    /// Conflicts with the current state (a duplicate, a decision already taken).
    #[error("{detail}")]
    Conflict {
        /// Stable code, e.g. `duplicate_external_ref`.
        code: ErrorCode,
        /// Explanation.
        detail: String,
        /// The id of the existing object the request collided with, if any.
        existing_id: Option<String>,
    },
    /// The request was already decided (approved, rejected, cancelled or
    /// expired); names the decision that won.
    #[error("{detail}")]
    AlreadyDecided {
        /// The winning decision: the gesture's status.
        decision: &'static str,
        /// Explanation.
        detail: String,
    },
    /// Input that breaks its rules; lists every field at fault.
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    /// A business rule refuses well-formed input.
    #[error("{detail}")]
    Unprocessable {
        /// Stable code naming the rule.
        code: ErrorCode,
        /// Explanation.
        detail: String,
        /// Fields at fault, if any.
        errors: Vec<FieldError>,
    },
    /// The audit trail does not verify; names the first broken link.
    #[error("the audit trail is broken at {0}")]
    AuditBroken(crate::audit::BrokenLink),
    /// The database cannot be reached or the pool is exhausted.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected database error: what happened, and the error
    /// underneath it (if any, kept as the source), for the log only.
    #[error("internal error: {message}{}", source.as_ref().map(|s| format!(": {s}")).unwrap_or_default())]
    Internal {
        /// What went wrong.
        message: String,
        /// The error underneath.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    /// An internal error without an error underneath.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::Internal {
            message: message.into(),
            source: None,
        }
    }

    /// A validation problem with one field.
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// 409 `duplicate_client_ref`: a till's durable reference already names
    /// `existing` (a `what`) at the store: the till entered it before.
    pub(crate) fn duplicate_client_ref(
        what: &str,
        client_ref: &str,
        existing: impl std::fmt::Display,
    ) -> Self {
        Self::Conflict {
            code: ErrorCode::DuplicateClientRef,
            detail: format!(
                "client_ref {client_ref:?} already names {what} {existing} at this store: it was entered before"
            ),
            existing_id: Some(existing.to_string()),
        }
    }

    /// 409 `duplicate_receipt_ref`: the store's receipt already names
    /// `existing` (a `what`).
    pub(crate) fn duplicate_receipt_ref(
        what: &str,
        receipt_ref: &str,
        existing: impl std::fmt::Display,
    ) -> Self {
        Self::Conflict {
            code: ErrorCode::DuplicateReceiptRef,
            detail: format!(
                "receipt_ref {receipt_ref:?} already names {what} {existing} at this store"
            ),
            existing_id: Some(existing.to_string()),
        }
    }

    /// 403 `store_scope`: the token may not act at `store`.
    pub(crate) fn store_scope(store: impl std::fmt::Display) -> Self {
        Self::Forbidden {
            code: ErrorCode::StoreScope,
            detail: format!("this token may not act at store {store}"),
        }
    }

    /// A figure too large for an exact decimal (2^96 minor units): refused
    /// rather than printed wrong.
    pub(crate) fn figure_too_large() -> Self {
        Self::internal("a total exceeds 2^96 minor units and cannot be shown exactly")
    }

    /// 403 `store_scope`: a token confined to some stores asked for something
    /// that acts on, or reads, the whole tenant.
    pub(crate) fn tenant_wide() -> Self {
        Self::Forbidden {
            code: ErrorCode::StoreScope,
            detail: "this acts on the whole tenant: it needs a token without a stores claim".into(),
        }
    }

    /// The store-scope rule, in the one place it is checked: `Ok` when a token
    /// holding `stores` (`None`: all) may act at `store`, else 403
    /// `store_scope`.
    pub(crate) fn require_store(
        stores: Option<&[crate::domain::ids::StoreId]>,
        store: crate::domain::ids::StoreId,
    ) -> Result<(), Self> {
        if crate::domain::roles::may_act_at(stores, store) {
            Ok(())
        } else {
            Err(Self::store_scope(store))
        }
    }

    /// The stores a read by a token of `stores` covers: `store` when asked
    /// (403 `store_scope` unless the token holds it), else the token's own
    /// (`None`: the whole tenant). The one place the rule lives.
    pub(crate) fn scope(
        stores: Option<&[crate::domain::ids::StoreId]>,
        store: Option<crate::domain::ids::StoreId>,
    ) -> Result<Option<Vec<crate::domain::ids::StoreId>>, Self> {
        match store {
            Some(s) => {
                Self::require_store(stores, s)?;
                Ok(Some(vec![s]))
            }
            None => Ok(stores.map(<[_]>::to_vec)),
        }
    }

    /// The stable code of this error.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Self::Forbidden { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. } => *code,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::Unavailable(_) => ErrorCode::ServiceUnavailable,
            Self::AuditBroken(_) => ErrorCode::AuditChainBroken,
            Self::AlreadyDecided { .. } => ErrorCode::AlreadyDecided,
            Self::Internal { .. } => ErrorCode::InternalError,
        }
    }
}

/// Database errors, mapped once: what a store call's diesel error means to
/// the command that made it.
impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => Self::NotFound("no such object".into()),
            E::DatabaseError(K::UniqueViolation, info) => Self::Conflict {
                code: ErrorCode::Conflict,
                detail: format!("conflicts with an existing record ({})", info.message()),
                existing_id: None,
            },
            E::DatabaseError(K::SerializationFailure, _) => Self::Conflict {
                code: ErrorCode::ConcurrentUpdate,
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
            // Two commands that each hold a row the other needs (kept
            // totals or balances locked in different orders): PostgreSQL
            // aborts one, which may simply be sent again.
            E::DatabaseError(_, ref info) if is_deadlock(info.message()) => Self::Conflict {
                code: ErrorCode::ConcurrentUpdate,
                detail: "a concurrent request changed the same data; retry".into(),
                existing_id: None,
            },
            E::DatabaseError(_, ref info) if is_sqlite_busy(info.message()) => {
                Self::Unavailable("the database is busy; retry".into())
            }
            E::DatabaseError(_, ref info) if is_ledger_limit(info.message()) => {
                Self::Unprocessable {
                    code: ErrorCode::LedgerLimit,
                    detail: format!(
                        "this would take a ledger total past what it may hold ({} minor units per balance row); nothing was recorded",
                        crate::domain::money::LEDGER_ROW_LIMIT
                    ),
                    errors: Vec::new(),
                }
            }
            other => Self::Internal {
                message: "a database call failed".into(),
                source: Some(Box::new(other)),
            },
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

/// PostgreSQL's `deadlock_detected` (40P01), which diesel does not name.
fn is_deadlock(message: &str) -> bool {
    message.starts_with("deadlock detected")
}

fn is_sqlite_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database is busy")
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(format!("no database connection available: {e}"))
    }
}

/// Whether a diesel error is a unique-constraint violation.
pub(crate) fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;
    use std::collections::BTreeSet;

    #[test]
    fn a_deadlock_is_a_conflict_to_retry() {
        use diesel::result::{DatabaseErrorKind, Error as E};
        let db = |m: &str| {
            super::Error::from(E::DatabaseError(
                DatabaseErrorKind::Unknown,
                Box::new(m.to_owned()),
            ))
        };
        assert!(matches!(
            db("deadlock detected"),
            super::Error::Conflict {
                code: ErrorCode::ConcurrentUpdate,
                ..
            }
        ));
        assert!(!matches!(
            db("relation \"x\" does not exist"),
            super::Error::Conflict { .. }
        ));
    }

    /// docs/api.md's table of errors: the codes in its rows' code column.
    fn documented() -> BTreeSet<String> {
        let doc = include_str!("../docs/api.md");
        let table = doc
            .split("## Errors")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .unwrap_or_default();
        let mut out = BTreeSet::new();
        for row in table.lines().filter(|l| l.starts_with("| ")) {
            let Some(cell) = row.split('|').nth(3) else {
                continue;
            };
            let mut rest = cell;
            while let Some(start) = rest.find('`') {
                let Some(len) = rest[start + 1..].find('`') else {
                    break;
                };
                out.insert(rest[start + 1..start + 1 + len].to_owned());
                rest = &rest[start + len + 2..];
            }
        }
        out
    }

    #[test]
    fn every_code_is_documented_and_every_documented_code_exists() {
        let documented = documented();
        assert!(
            documented.len() > 10,
            "the table was not found: {documented:?}"
        );
        let known: BTreeSet<String> = ErrorCode::ALL
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect();
        let undocumented: Vec<_> = known.difference(&documented).collect();
        assert!(
            undocumented.is_empty(),
            "codes missing from docs/api.md's table of errors: {undocumented:?}"
        );
        let unknown: Vec<_> = documented.difference(&known).collect();
        assert!(
            unknown.is_empty(),
            "docs/api.md documents codes the service never answers: {unknown:?}"
        );
    }

    #[test]
    fn every_code_is_produced_somewhere() {
        fn sources(dir: &std::path::Path, out: &mut String) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    sources(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    // The enum's own list does not count as producing a code.
                    let text = match text.split_once("error_codes! {\n") {
                        Some((head, tail)) => {
                            format!("{head}{}", tail.split_once("\n}\n").map_or("", |t| t.1))
                        }
                        None => text,
                    };
                    out.push_str(&text);
                }
            }
        }
        let mut all = String::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut all,
        );
        let unused: Vec<_> = ErrorCode::ALL
            .iter()
            .filter(|c| !all.contains(&format!("ErrorCode::{c:?}")))
            .collect();
        assert!(unused.is_empty(), "codes nothing produces: {unused:?}");
    }
}
