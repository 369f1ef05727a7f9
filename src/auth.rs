//! Bearer JWT: verifying the tokens of requests, and issuing HS256 tokens for the
//! `token` command and the first-run admin.
//!
//! Claims: `sub`, `tenant`, `role`, `stores` (absent = all of the tenant's stores),
//! `exp` (required), `nbf` (checked when present), `iss`/`aud` (required and
//! checked when configured). The algorithm is pinned by configuration: a token
//! whose header names another algorithm is refused before its signature is read.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};

use crate::config::{JwtSettings, KeyConfig};
use crate::domain::ids::{StoreId, TenantId};
use crate::domain::roles::Role;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECS: u64 = 30;
/// The longest `sub` accepted, as for a staff member's subject.
pub(crate) const MAX_SUBJECT_LEN: usize = 255;
/// The default longest lifetime of a token (`GOODWILL_JWT_MAX_LIFETIME`).
pub const DEFAULT_MAX_LIFETIME_SECS: u64 = 30 * 86_400;

/// A lifetime as people write it: `30d`, `8h`, `15m` or seconds.
pub(crate) fn lifetime_text(secs: u64) -> String {
    match secs {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The claims this service reads. Other claims an identity provider adds are
/// ignored.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    /// Who: a staff member's `subject`, or a system or office user.
    pub sub: String,
    /// The tenant the token acts for.
    pub tenant: TenantId,
    /// The role.
    pub role: Role,
    /// The stores the token may act at; absent means all of the tenant's stores.
    /// A `null` or anything but a list of store ids is refused (fail closed):
    /// only leaving the claim out grants every store.
    #[serde(
        default,
        deserialize_with = "stores_when_present",
        skip_serializing_if = "Option::is_none"
    )]
    pub stores: Option<Vec<StoreId>>,
    /// Expiry (seconds since the epoch). Required.
    pub exp: u64,
    /// Issued at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Not before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// `stores` as given: a list. Called only when the claim is present, so a
/// `null` fails here instead of reading as "absent".
fn stores_when_present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<StoreId>>, D::Error> {
    <Vec<StoreId> as serde::Deserialize>::deserialize(d).map(Some)
}

/// Verifies tokens with the configured key and algorithm.
#[derive(Clone)]
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
    max_lifetime: u64,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// Builds a verifier. `secret` is the HS256 secret when the settings say it
    /// is generated (kept in the database).
    pub fn new(settings: &JwtSettings, generated_secret: Option<&[u8]>) -> Result<Self, String> {
        let (key, alg) = match &settings.key {
            KeyConfig::Secret(s) => (DecodingKey::from_secret(s), Algorithm::HS256),
            KeyConfig::Generated => {
                let s = generated_secret.ok_or("no signing secret has been generated yet")?;
                (DecodingKey::from_secret(s), Algorithm::HS256)
            }
            KeyConfig::PublicKey(pem) => {
                if let Ok(k) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
                    (k, Algorithm::RS256)
                } else if let Ok(k) = DecodingKey::from_ed_pem(pem.as_bytes()) {
                    (k, Algorithm::EdDSA)
                } else {
                    return Err(
                        "GOODWILL_JWT_PUBLIC_KEY is not an RSA or Ed25519 public key in PEM".into(),
                    );
                }
            }
        };
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        match &settings.issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &settings.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        Ok(Self {
            key,
            validation,
            max_lifetime: settings.max_lifetime,
        })
    }

    /// Verifies a token; the error is a reason fit for a 401's detail.
    ///
    /// Beyond the signature and the registered claims the library checks, a
    /// token is refused when its header names critical extensions (`crit`:
    /// RFC 7515 §4.1.11 — this service understands none), when it expires more
    /// than the maximum lifetime from now (RFC 8725 §3.10: a stolen token must
    /// not live for ever), or when its `sub` is not a subject this service can
    /// record (1–255 characters, no control characters, no surrounding spaces).
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        use jsonwebtoken::errors::ErrorKind as K;
        let header = jsonwebtoken::decode_header(token).map_err(|_| "the token is malformed")?;
        if header.crit.is_some() {
            return Err(
                "the token names critical header parameters (crit) this service does not understand"
                    .into(),
            );
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| {
                match e.kind() {
                    K::ExpiredSignature => "the token has expired",
                    K::ImmatureSignature => "the token is not valid yet (nbf)",
                    K::InvalidSignature => "the token's signature does not verify",
                    K::InvalidAlgorithm => {
                        "the token is signed with an algorithm this service does not accept"
                    }
                    K::InvalidIssuer => "the token's issuer is not accepted",
                    K::InvalidAudience => "the token's audience is not this service",
                    K::MissingRequiredClaim(_) => {
                        "the token lacks a required claim (exp, sub, or the configured iss/aud)"
                    }
                    K::InvalidClaimFormat(_) | K::Json(_) => {
                        "the token's claims are malformed (sub, tenant, role, stores, exp)"
                    }
                    _ => "the token is malformed",
                }
                .to_owned()
            })?;
        let latest = jsonwebtoken::get_current_timestamp()
            .saturating_add(self.max_lifetime)
            .saturating_add(LEEWAY_SECS);
        if claims.exp > latest {
            return Err(format!(
                "the token expires too far ahead: at most {} from now is accepted",
                lifetime_text(self.max_lifetime)
            ));
        }
        let sub = &claims.sub;
        if sub.is_empty()
            || sub.chars().count() > MAX_SUBJECT_LEN
            || sub.chars().any(char::is_control)
            || sub.trim() != sub
        {
            return Err(format!(
                "the token's sub must be 1 to {MAX_SUBJECT_LEN} characters, \
                 without control characters or surrounding spaces"
            ));
        }
        Ok(claims)
    }
}

/// Signs HS256 tokens.
#[derive(Clone)]
pub struct Signer {
    key: EncodingKey,
    issuer: Option<String>,
    audience: Option<String>,
}

impl Signer {
    /// A signer for an HS256 secret, stamping the configured `iss`/`aud`.
    pub fn hs256(secret: &[u8], settings: &JwtSettings) -> Self {
        Self {
            key: EncodingKey::from_secret(secret),
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        }
    }

    /// Issues a token valid for `ttl_secs` from now.
    pub fn issue(
        &self,
        tenant: TenantId,
        sub: &str,
        role: Role,
        stores: Option<Vec<StoreId>>,
        ttl_secs: u64,
    ) -> Result<String, String> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: sub.to_owned(),
            tenant,
            role,
            stores,
            exp: now + ttl_secs,
            iat: Some(now),
            nbf: None,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key)
            .map_err(|e| format!("cannot sign the token: {e}"))
    }
}

/// Parses a duration like `8h`, `30m`, `90s`, `7d` or a number of seconds.
pub(crate) fn parse_ttl(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid duration {s:?}: use e.g. 8h, 30m, 7d"))?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("invalid duration unit in {s:?}: use s, m, h or d")),
    };
    let secs = n.checked_mul(factor).ok_or("duration too long")?;
    if secs == 0 || secs > 366 * 86_400 {
        return Err("a token's lifetime must be between 1 second and 366 days".into());
    }
    Ok(secs)
}

/// 32 random bytes, hex-encoded: the generated HS256 secret (64 ASCII bytes).
pub fn generate_secret() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness available: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// `bytes` random bytes, base64url without padding: the secrets a browser
/// holds (a session's cookie, a sign-in link's code, a login's state).
pub(crate) fn random_token(bytes: usize) -> Result<String, String> {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| format!("no randomness available: {e}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// SHA-256 of a secret, hex: what the database keeps instead of the secret.
pub(crate) fn secret_hash(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::audit::hex(&Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_are_url_safe_and_distinct() {
        let a = random_token(32).unwrap();
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(a, random_token(32).unwrap());
        assert_eq!(secret_hash("x").len(), 64);
    }

    fn settings(secret: &str) -> JwtSettings {
        JwtSettings {
            key: KeyConfig::Secret(secret.as_bytes().to_vec()),
            issuer: None,
            audience: None,
            max_lifetime: DEFAULT_MAX_LIFETIME_SECS,
        }
    }

    #[test]
    fn issued_tokens_verify() {
        let s = settings(&"k".repeat(40));
        let signer = Signer::hs256(&"k".repeat(40).into_bytes(), &s);
        let v = Verifier::new(&s, None).unwrap();
        let t = TenantId::new();
        let tok = signer.issue(t, "ann", Role::Clerk, None, 60).unwrap();
        let c = v.verify(&tok).unwrap();
        assert_eq!((c.tenant, c.role, c.sub.as_str()), (t, Role::Clerk, "ann"));
    }

    #[test]
    fn ttls_parse() {
        assert_eq!(parse_ttl("8h").unwrap(), 28_800);
        assert_eq!(parse_ttl("90").unwrap(), 90);
        assert_eq!(parse_ttl("7d").unwrap(), 604_800);
        assert!(parse_ttl("0s").is_err());
        assert!(parse_ttl("5y").is_err());
        assert!(parse_ttl("h").is_err());
    }

    #[test]
    fn secrets_are_random_and_long_enough() {
        let a = generate_secret().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, generate_secret().unwrap());
    }
}
