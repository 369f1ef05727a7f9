//! Webhooks: signing to the Standard Webhooks scheme, and the worker every
//! `serve` instance runs to deliver the event feed to the endpoints tenants
//! registered.
//!
//! Deliveries are made after the events commit, never inside a command: the
//! worker fans each endpoint's new feed events out into delivery rows (the
//! endpoint's feed cursor moves in the same transaction), then takes due
//! deliveries (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the one writer on
//! SQLite), leases them, POSTs them, and records every attempt. A delivery
//! whose instance died mid-flight is taken again when its lease runs out: at
//! least once, a duplicate possible, always with the same `webhook-id`.

pub(crate) mod guard;
pub(crate) mod worker;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of a signing secret.
pub(crate) const SECRET_PREFIX: &str = "whsec_";

/// A new signing secret: `whsec_` and the base64 of 32 random bytes.
pub(crate) fn new_secret() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness available: {e}"))?;
    Ok(format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// The `webhook-signature` value for a body: `v1,<base64 HMAC-SHA256 of
/// "{id}.{timestamp}.{body}">` per secret, space-separated. A secret that is
/// not `whsec_` and base64 is skipped (it can only come from a broken row).
pub(crate) fn signature(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .filter_map(|s| {
            let key = base64::engine::general_purpose::STANDARD
                .decode(s.strip_prefix(SECRET_PREFIX)?)
                .ok()?;
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
            mac.update(id.as_bytes());
            mac.update(b".");
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            Some(format!(
                "v1,{}",
                base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
            ))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_webhooks_published_vector() {
        assert_eq!(
            signature(
                &["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"],
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1_649_367_553,
                br#"{"email":"test@example.com","username":"test_user"}"#,
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn two_live_secrets_give_two_signatures() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert!(a.starts_with("whsec_") && a != b);
        let both = signature(&[&a, &b], "id", 1, b"{}");
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], signature(&[&a], "id", 1, b"{}"));
        assert_eq!(parts[1], signature(&[&b], "id", 1, b"{}"));
    }
}
