//! Idempotency keys: a retried request with the same key never acts twice.
//!
//! Scope is (tenant, token `sub`, key). Stored, in the same transaction as the
//! effect: requests that ran, 2xx and business-rule 4xx, with a fingerprint of
//! method, path and body and the response. Not stored: requests refused before
//! running (401, 403, 400, 415, schema 422) and 5xx (the transaction rolled back;
//! a retry runs afresh). A replay answers the stored status and body with
//! `Idempotent-Replayed: true`; the same key with another request → 422
//! `idempotency_mismatch`; the same key while the first is still running → 409
//! `idempotency_in_flight`.

use sha2::{Digest, Sha256};

use crate::audit::hex;
use crate::error::{Error, ErrorCode};
use crate::http::AppError;

/// Keys are kept at least this long; `goodwill idempotency purge` refuses to
/// remove younger ones.
pub(crate) const MIN_RETENTION_SECS: u64 = 24 * 3600;

/// A validated key with the fingerprint of the request that carries it.
#[derive(Clone, Debug)]
pub(crate) struct IdempotencyKey {
    /// The key as sent (1–255 visible ASCII).
    pub key: String,
    /// SHA-256 over method, path and body, hex.
    pub fingerprint: String,
}

impl IdempotencyKey {
    /// Checks the header value: 1–255 visible ASCII characters.
    pub(crate) fn parse(value: &str) -> Result<String, AppError> {
        if value.is_empty() || value.len() > 255 || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::BadRequest {
                code: ErrorCode::InvalidIdempotencyKey,
                detail: "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
            });
        }
        Ok(value.to_owned())
    }

    /// Binds a key to the request it came with.
    pub(crate) fn new(key: String, method: &str, path: &str, body: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(method.as_bytes());
        h.update(b" ");
        h.update(path.as_bytes());
        h.update(b"\n");
        h.update(body);
        Self {
            key,
            fingerprint: hex(&h.finalize()),
        }
    }

    /// A 64-bit lock id for (tenant, sub, key), for PostgreSQL's advisory locks.
    pub(crate) fn lock_id(&self, tenant: &str, sub: &str) -> i64 {
        let mut h = Sha256::new();
        for part in [tenant, sub, &self.key] {
            h.update(part.len().to_le_bytes());
            h.update(part.as_bytes());
        }
        let d = h.finalize();
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        i64::from_le_bytes(b)
    }
}

/// Whether an error from a command that ran is kept with its key (business-rule
/// outcomes are; refusals before running and server errors are not).
pub(crate) fn is_stored(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Domain(Error::NotFound(_))
            | AppError::Domain(Error::Conflict { .. })
            | AppError::Domain(Error::AlreadyDecided { .. })
            | AppError::Domain(Error::Unprocessable { .. })
            | AppError::Domain(Error::Validation(_))
    )
}

/// Parses a duration for `purge --older-than` (`72h`, `3d`, ...), at least 24 h.
pub(crate) fn parse_retention(s: &str) -> Result<u64, String> {
    let secs = crate::auth::parse_ttl(s)?;
    if secs < MIN_RETENTION_SECS {
        return Err(format!("keys are kept at least 24h; {s} is too short"));
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(IdempotencyKey::parse("abc-123").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("a b").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
    }

    #[test]
    fn fingerprints_cover_method_path_and_body() {
        let a = IdempotencyKey::new("k".into(), "POST", "/v1/x", b"{}");
        assert_eq!(
            a.fingerprint,
            IdempotencyKey::new("k".into(), "POST", "/v1/x", b"{}").fingerprint
        );
        assert_ne!(
            a.fingerprint,
            IdempotencyKey::new("k".into(), "POST", "/v1/y", b"{}").fingerprint
        );
        assert_ne!(
            a.fingerprint,
            IdempotencyKey::new("k".into(), "POST", "/v1/x", b"{ }").fingerprint
        );
        assert_ne!(a.lock_id("t", "s"), a.lock_id("t", "s2"));
    }

    #[test]
    fn retention_is_at_least_a_day() {
        assert_eq!(parse_retention("72h").unwrap(), 259_200);
        assert!(parse_retention("1h").is_err());
    }
}
