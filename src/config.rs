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
    "GOODWILL_JWT_MAX_LIFETIME",
    "GOODWILL_SECRET_KEY_FILE",
    "GOODWILL_WORKERS",
    "GOODWILL_POOL_SIZE",
    "GOODWILL_DRAIN_SECONDS",
    "GOODWILL_SHUTDOWN_TIMEOUT",
    "GOODWILL_BODY_TIMEOUT",
    "GOODWILL_RATE_LIMIT_PER_SECOND",
    "GOODWILL_RATE_LIMIT_BURST",
    "GOODWILL_LOG",
    "GOODWILL_LOG_FORMAT",
    "RUST_LOG",
    "GOODWILL_PUBLIC_URL",
    "GOODWILL_CONSOLE_IDLE_TIMEOUT",
    "GOODWILL_CONSOLE_SESSION_LIFETIME",
    "GOODWILL_OIDC_ISSUER",
    "GOODWILL_OIDC_CLIENT_ID",
    "GOODWILL_OIDC_CLIENT_SECRET",
    "GOODWILL_OIDC_SCOPES",
    "GOODWILL_OIDC_TENANT",
    "GOODWILL_OIDC_TENANT_CLAIM",
    "GOODWILL_OIDC_ROLE_CLAIM",
    "GOODWILL_OIDC_STORES_CLAIM",
    "GOODWILL_WEBHOOKS_ALLOW_LOOPBACK",
    "GOODWILL_WEBHOOKS_TIMEOUT",
    "GOODWILL_WEBHOOKS_WORKER",
];

/// The default database: an SQLite file in the working directory.
pub(crate) const DEFAULT_DATABASE_URL: &str = "./goodwill.db";
/// The default listen address.
pub(crate) const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Seconds a request's body has to arrive in full (`GOODWILL_BODY_TIMEOUT`).
pub(crate) const DEFAULT_BODY_TIMEOUT_SECS: u64 = 10;
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
    /// `GOODWILL_JWT_MAX_LIFETIME`: a token expiring later than this from now
    /// is refused, and `goodwill token` issues none longer (seconds; default
    /// 30 days).
    pub max_lifetime: u64,
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
        let max_lifetime = match nonempty("GOODWILL_JWT_MAX_LIFETIME") {
            Some(v) => {
                crate::auth::parse_ttl(&v).map_err(|e| format!("GOODWILL_JWT_MAX_LIFETIME: {e}"))?
            }
            None => crate::auth::DEFAULT_MAX_LIFETIME_SECS,
        };
        Ok(Self {
            key,
            issuer: nonempty("GOODWILL_JWT_ISSUER"),
            audience: nonempty("GOODWILL_JWT_AUDIENCE"),
            max_lifetime,
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
    /// Seconds a request's body has to arrive in full after its head.
    pub body_timeout_secs: u64,
    /// The clock (the system's; tests inject an adjustable one).
    pub clock: crate::clock::Clock,
    /// The rate limit per caller; `None` (the default) is off.
    pub rate_limit: Option<crate::ratelimit::Limit>,
    /// The console: its address, sessions and identity provider.
    pub console: ConsoleSettings,
    /// The webhook delivery worker.
    pub webhooks: WebhookSettings,
    /// `GOODWILL_SECRET_KEY_FILE`: the key that seals the secrets the service
    /// keeps in its database (the generated signing secret).
    pub secret_key: Option<crate::sealed::SecretKey>,
}

/// The webhook delivery worker's settings.
#[derive(Clone, Copy, Debug)]
pub struct WebhookSettings {
    /// `GOODWILL_WEBHOOKS_ALLOW_LOOPBACK=true`: deliveries may go to
    /// loopback addresses over `http://` (tests, development); never private
    /// or link-local ones. Default off.
    pub allow_loopback: bool,
    /// `GOODWILL_WEBHOOKS_TIMEOUT` (default `10s`): how long an attempt waits
    /// for the connection and the answer.
    pub timeout: std::time::Duration,
    /// How often the worker looks for due deliveries when nothing wakes it
    /// (1 s; a command's commit wakes it at once).
    pub poll_interval: std::time::Duration,
    /// Deliveries in flight at once per instance (32).
    pub concurrency: usize,
    /// `GOODWILL_WEBHOOKS_WORKER=false`: this instance serves the API but
    /// delivers nothing (another instance does; tests that count rows while
    /// they act, and the contract fuzzer, turn it off). Default on.
    pub worker: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_loopback: false,
            timeout: std::time::Duration::from_secs(10),
            poll_interval: std::time::Duration::from_secs(1),
            concurrency: 32,
            worker: true,
        }
    }
}

impl WebhookSettings {
    /// Reads the webhook variables from the environment.
    pub(crate) fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// As [`WebhookSettings::from_env`], from any lookup (tests).
    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut s = Self::default();
        let switch = |k: &str, default: bool| -> Result<bool, String> {
            match get(k).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "on" => Ok(true),
                    "false" | "0" | "no" | "off" => Ok(false),
                    other => Err(format!("{k} {other:?} is not true or false")),
                },
            }
        };
        s.allow_loopback = switch("GOODWILL_WEBHOOKS_ALLOW_LOOPBACK", false)?;
        s.worker = switch("GOODWILL_WEBHOOKS_WORKER", true)?;
        if let Some(v) = get("GOODWILL_WEBHOOKS_TIMEOUT").filter(|v| !v.trim().is_empty()) {
            let secs = crate::auth::parse_ttl(v.trim())
                .map_err(|e| format!("GOODWILL_WEBHOOKS_TIMEOUT: {e}"))?;
            if !(1..=60).contains(&secs) {
                return Err("GOODWILL_WEBHOOKS_TIMEOUT must be between 1s and 60s".into());
            }
            s.timeout = std::time::Duration::from_secs(secs);
        }
        Ok(s)
    }
}

/// The console's settings.
#[derive(Clone, Debug, Default)]
pub struct ConsoleSettings {
    /// `GOODWILL_PUBLIC_URL`: the address browsers use (`https://goodwill.example.com`),
    /// for sign-in links, the identity provider's redirect and the check that a
    /// form came from the console itself. Default: `http://` and the listen
    /// address (127.0.0.1 for an unspecified host).
    pub public_url: Option<String>,
    /// `GOODWILL_CONSOLE_IDLE_TIMEOUT` (default 30m) and
    /// `GOODWILL_CONSOLE_SESSION_LIFETIME` (default 12h).
    pub lifetimes: crate::domain::session::Lifetimes,
    /// The identity provider, when one is configured.
    pub oidc: Option<OidcSettings>,
}

/// Signing in with an OpenID Connect provider (authorization code with PKCE).
#[derive(Clone)]
pub struct OidcSettings {
    /// `GOODWILL_OIDC_ISSUER`: its issuer URL; the discovery document is read
    /// from `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// `GOODWILL_OIDC_CLIENT_ID`: this service's client id (the ID token's
    /// audience).
    pub client_id: String,
    /// `GOODWILL_OIDC_CLIENT_SECRET`: the client secret, if the provider gave
    /// one (a public client uses PKCE alone).
    pub client_secret: Option<String>,
    /// `GOODWILL_OIDC_SCOPES` (default `openid profile email`).
    pub scopes: String,
    /// `GOODWILL_OIDC_TENANT`: the tenant every user of the provider belongs
    /// to; when unset, the `tenant` claim names it.
    pub tenant: Option<crate::domain::ids::TenantId>,
    /// `GOODWILL_OIDC_TENANT_CLAIM` (default `tenant`).
    pub tenant_claim: String,
    /// `GOODWILL_OIDC_ROLE_CLAIM` (default `role`).
    pub role_claim: String,
    /// `GOODWILL_OIDC_STORES_CLAIM` (default `stores`; absent = all stores).
    pub stores_claim: String,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the client secret.
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl ConsoleSettings {
    /// Reads the console's variables from the environment.
    pub(crate) fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// As [`ConsoleSettings::from_env`], from any lookup (tests).
    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let nonempty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let duration = |k: &str, default: chrono::Duration| -> Result<chrono::Duration, String> {
            match nonempty(k) {
                None => Ok(default),
                Some(v) => crate::auth::parse_ttl(&v)
                    .map(|s| chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX)))
                    .map_err(|e| format!("{k}: {e}")),
            }
        };
        let defaults = crate::domain::session::Lifetimes::default();
        let lifetimes = crate::domain::session::Lifetimes {
            idle: duration("GOODWILL_CONSOLE_IDLE_TIMEOUT", defaults.idle)?,
            absolute: duration("GOODWILL_CONSOLE_SESSION_LIFETIME", defaults.absolute)?,
        };
        if lifetimes.idle > lifetimes.absolute {
            return Err(
                "GOODWILL_CONSOLE_IDLE_TIMEOUT is longer than GOODWILL_CONSOLE_SESSION_LIFETIME"
                    .into(),
            );
        }
        let public_url = match nonempty("GOODWILL_PUBLIC_URL") {
            None => None,
            Some(u) => {
                let u = u.trim().trim_end_matches('/').to_owned();
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    return Err(format!(
                        "GOODWILL_PUBLIC_URL {u:?} must start with http:// or https://"
                    ));
                }
                Some(u)
            }
        };
        let oidc = match (
            nonempty("GOODWILL_OIDC_ISSUER"),
            nonempty("GOODWILL_OIDC_CLIENT_ID"),
        ) {
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => {
                return Err(
                    "set both GOODWILL_OIDC_ISSUER and GOODWILL_OIDC_CLIENT_ID (or neither)".into(),
                );
            }
            (Some(issuer), Some(client_id)) => Some(OidcSettings {
                issuer: issuer.trim().trim_end_matches('/').to_owned(),
                client_id,
                client_secret: nonempty("GOODWILL_OIDC_CLIENT_SECRET"),
                scopes: nonempty("GOODWILL_OIDC_SCOPES")
                    .unwrap_or_else(|| "openid profile email".into()),
                tenant: match nonempty("GOODWILL_OIDC_TENANT") {
                    None => None,
                    Some(t) => {
                        Some(t.trim().parse().map_err(|_| {
                            format!("GOODWILL_OIDC_TENANT {t:?} is not a tenant id")
                        })?)
                    }
                },
                tenant_claim: nonempty("GOODWILL_OIDC_TENANT_CLAIM")
                    .unwrap_or_else(|| "tenant".into()),
                role_claim: nonempty("GOODWILL_OIDC_ROLE_CLAIM").unwrap_or_else(|| "role".into()),
                stores_claim: nonempty("GOODWILL_OIDC_STORES_CLAIM")
                    .unwrap_or_else(|| "stores".into()),
            }),
        };
        Ok(Self {
            public_url,
            lifetimes,
            oidc,
        })
    }
}

/// The PostgreSQL pool's default size: four times this machine's cores, from
/// 8 to 16. Requests wait their turn for a connection in order (see
/// `store::Pool`), so a few more connections than cores cost no one their
/// turn, and they let PostgreSQL flush more commits with one WAL write: on
/// two cores shared with the database, 8 connections served the till's writes
/// faster and with a lower 99th percentile than 4, and 16 (without the
/// ordered wait) with a worse one (docs/BENCHMARKS.md).
fn default_pg_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    u32::try_from(cores.saturating_mul(4)).map_or(16, |n| n.clamp(8, 16))
}

impl Settings {
    /// Settings for `database_url` with every other value at its default.
    pub fn new(database_url: DatabaseUrl, jwt: JwtSettings) -> Self {
        let pool_size = if database_url.is_postgres() {
            default_pg_pool_size()
        } else {
            8
        };
        Self {
            database_url,
            bind: DEFAULT_BIND.to_owned(),
            jwt,
            pool_size,
            workers: 0,
            drain_secs: 2,
            shutdown_timeout_secs: 30,
            body_timeout_secs: DEFAULT_BODY_TIMEOUT_SECS,
            clock: crate::clock::Clock::system(),
            rate_limit: None,
            console: ConsoleSettings::default(),
            webhooks: WebhookSettings::default(),
            secret_key: None,
        }
    }
}

/// The sealing key named by `GOODWILL_SECRET_KEY_FILE`, when set.
pub(crate) fn secret_key_from_env() -> Result<Option<crate::sealed::SecretKey>, String> {
    match std::env::var("GOODWILL_SECRET_KEY_FILE") {
        Ok(path) if !path.is_empty() => crate::sealed::SecretKey::from_file(&path).map(Some),
        _ => Ok(None),
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

    #[test]
    fn the_postgres_pool_is_four_times_the_cores_from_8_to_16() {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        let n = default_pg_pool_size();
        assert!((8..=16).contains(&n), "{n}");
        assert!(
            n == 8 || n == 16 || n as usize == 4 * cores,
            "{n} for {cores} cores"
        );
    }

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn webhook_settings_read_the_switch_and_the_timeout() {
        let d = WebhookSettings::from_lookup(lookup(&[])).unwrap();
        assert!(!d.allow_loopback);
        assert_eq!(d.timeout, std::time::Duration::from_secs(10));
        let s = WebhookSettings::from_lookup(lookup(&[
            ("GOODWILL_WEBHOOKS_ALLOW_LOOPBACK", "true"),
            ("GOODWILL_WEBHOOKS_TIMEOUT", "3s"),
        ]))
        .unwrap();
        assert!(s.allow_loopback);
        assert_eq!(s.timeout, std::time::Duration::from_secs(3));
        assert!(
            WebhookSettings::from_lookup(lookup(&[("GOODWILL_WEBHOOKS_ALLOW_LOOPBACK", "maybe")]))
                .is_err()
        );
        assert!(
            WebhookSettings::from_lookup(lookup(&[("GOODWILL_WEBHOOKS_TIMEOUT", "2h")])).is_err()
        );
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
