//! Typed settings: defaults, overridden by `GOODWILL_*` environment variables,
//! overridden by command-line flags (clap reads both; see `cli`). Secrets are only
//! ever read from the environment or the database, never from a flag (flags show
//! up in `ps`).

use crate::store::DatabaseUrl;

/// Every environment variable the service reads (a test keeps this list, the
/// code, the README and `docker-compose.yml` in step).
pub const ENV_VARS: &[&str] = &[
    "GOODWILL_DATABASE_URL",
    "DATABASE_URL",
    "GOODWILL_BIND",
    "GOODWILL_JWT_SECRET",
    "GOODWILL_JWT_PUBLIC_KEY",
    "GOODWILL_JWT_ISSUER",
    "GOODWILL_JWT_AUDIENCE",
    "GOODWILL_WORKERS",
    "GOODWILL_POOL_SIZE",
    "GOODWILL_DRAIN_SECONDS",
    "GOODWILL_SHUTDOWN_TIMEOUT",
    "GOODWILL_RATE_LIMIT_PER_SECOND",
    "GOODWILL_RATE_LIMIT_BURST",
    "GOODWILL_LOG",
    "GOODWILL_LOG_FORMAT",
    "RUST_LOG",
];

/// The default database: an SQLite file in the working directory.
pub(crate) const DEFAULT_DATABASE_URL: &str = "./goodwill.db";
/// The default listen address.
pub(crate) const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Fewest bytes of an HS256 secret.
pub(crate) const MIN_SECRET_BYTES: usize = 32;

/// How tokens are verified.
#[derive(Clone)]
pub enum KeyConfig {
    /// `GOODWILL_JWT_SECRET`: HS256 with these bytes (the raw UTF-8 of the value).
    Secret(Vec<u8>),
    /// `GOODWILL_JWT_PUBLIC_KEY`: a PEM public key (RSA → RS256, or Ed25519 →
    /// EdDSA); tokens come from the company's identity provider.
    PublicKey(String),
    /// Nothing configured: HS256 with the secret kept in the database, generated
    /// on first run.
    Generated,
}

impl std::fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str(match self {
            KeyConfig::Secret(_) => "Secret(..)",
            KeyConfig::PublicKey(_) => "PublicKey(..)",
            KeyConfig::Generated => "Generated",
        })
    }
}

/// Token verification settings.
#[derive(Clone, Debug)]
pub struct JwtSettings {
    /// Where the key comes from.
    pub key: KeyConfig,
    /// `GOODWILL_JWT_ISSUER`: when set, tokens must carry this `iss`.
    pub issuer: Option<String>,
    /// `GOODWILL_JWT_AUDIENCE`: when set, tokens must carry this `aud`.
    pub audience: Option<String>,
}

impl JwtSettings {
    /// Reads `GOODWILL_JWT_SECRET`, `GOODWILL_JWT_PUBLIC_KEY` (PEM text, or the path
    /// of a PEM file), `GOODWILL_JWT_ISSUER`, `GOODWILL_JWT_AUDIENCE`.
    pub(crate) fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// As [`JwtSettings::from_env`], from any lookup (tests).
    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let nonempty = |k: &str| get(k).filter(|v| !v.is_empty());
        let key = match (
            nonempty("GOODWILL_JWT_SECRET"),
            nonempty("GOODWILL_JWT_PUBLIC_KEY"),
        ) {
            (Some(_), Some(_)) => {
                return Err("set GOODWILL_JWT_SECRET or GOODWILL_JWT_PUBLIC_KEY, not both".into());
            }
            (Some(secret), None) => {
                if secret.len() < MIN_SECRET_BYTES {
                    return Err(format!(
                        "GOODWILL_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes (it has {})",
                        secret.len()
                    ));
                }
                KeyConfig::Secret(secret.into_bytes())
            }
            (None, Some(pem)) => {
                let pem = if pem.trim_start().starts_with("-----BEGIN") {
                    pem
                } else {
                    std::fs::read_to_string(&pem).map_err(|e| {
                        format!(
                            "GOODWILL_JWT_PUBLIC_KEY is neither PEM text nor a readable file: {e}"
                        )
                    })?
                };
                KeyConfig::PublicKey(pem)
            }
            (None, None) => KeyConfig::Generated,
        };
        Ok(Self {
            key,
            issuer: nonempty("GOODWILL_JWT_ISSUER"),
            audience: nonempty("GOODWILL_JWT_AUDIENCE"),
        })
    }
}

/// Everything `serve` needs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The database.
    pub database_url: DatabaseUrl,
    /// Listen address (`host:port`; port 0 picks a free one).
    pub bind: String,
    /// Token verification.
    pub jwt: JwtSettings,
    /// Largest number of pooled database connections.
    pub pool_size: u32,
    /// HTTP worker threads (0 = one per core).
    pub workers: usize,
    /// After SIGTERM: seconds readiness answers 503 before the listener closes.
    pub drain_secs: u64,
    /// After the listener closes: seconds in-flight requests get to finish.
    pub shutdown_timeout_secs: u64,
    /// The clock (the system's; tests inject an adjustable one).
    pub clock: crate::clock::Clock,
    /// The rate limit per caller; `None` (the default) is off.
    pub rate_limit: Option<crate::ratelimit::Limit>,
}

impl Settings {
    /// Settings for `database_url` with every other value at its default.
    pub fn new(database_url: DatabaseUrl, jwt: JwtSettings) -> Self {
        let pool_size = if database_url.is_postgres() { 16 } else { 8 };
        Self {
            database_url,
            bind: DEFAULT_BIND.to_owned(),
            jwt,
            pool_size,
            workers: 0,
            drain_secs: 2,
            shutdown_timeout_secs: 30,
            clock: crate::clock::Clock::system(),
            rate_limit: None,
        }
    }
}

/// Reads `--database-url`, else `GOODWILL_DATABASE_URL`, else `DATABASE_URL`,
/// else the default SQLite file.
pub(crate) fn database_url(flag: Option<&str>) -> Result<DatabaseUrl, String> {
    let url = flag
        .map(str::to_owned)
        .or_else(|| {
            std::env::var("GOODWILL_DATABASE_URL")
                .ok()
                .filter(|v| !v.is_empty())
        })
        .or_else(|| std::env::var("DATABASE_URL").ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    DatabaseUrl::parse(&url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn short_secrets_are_refused() {
        let err =
            JwtSettings::from_lookup(lookup(&[("GOODWILL_JWT_SECRET", "short")])).unwrap_err();
        assert!(err.contains("at least 32 bytes"), "{err}");
        let s = "x".repeat(32);
        let ok = JwtSettings::from_lookup(lookup(&[("GOODWILL_JWT_SECRET", &s)])).unwrap();
        assert!(matches!(ok.key, KeyConfig::Secret(ref b) if b.len() == 32));
    }

    #[test]
    fn nothing_configured_means_generated() {
        let s = JwtSettings::from_lookup(lookup(&[])).unwrap();
        assert!(matches!(s.key, KeyConfig::Generated));
        assert!(s.issuer.is_none() && s.audience.is_none());
    }

    #[test]
    fn secret_and_public_key_together_are_refused() {
        let s = "x".repeat(40);
        assert!(
            JwtSettings::from_lookup(lookup(&[
                ("GOODWILL_JWT_SECRET", &s),
                ("GOODWILL_JWT_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----"),
            ]))
            .is_err()
        );
    }
}
