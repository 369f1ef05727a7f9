//! Preparing the database and the keys before serving, including the first run
//! with no configuration: a default tenant, a generated signing secret kept in the
//! database, and one admin token.

use std::io::Write;

use diesel::connection::SimpleConnection;

use crate::auth::{Signer, Verifier, generate_secret};
use crate::config::{KeyConfig, Settings};
use crate::domain::ids::TenantId;
use crate::domain::roles::Role;
use crate::store::{self, DatabaseUrl, DbConnection, Pool, keys, tenants};

/// Lifetime of the first-run admin token.
pub(crate) const FIRST_ADMIN_TTL_SECS: u64 = 30 * 86_400;

/// What the first run created.
#[derive(Debug)]
pub struct FirstRun {
    /// The default tenant.
    pub tenant: TenantId,
    /// An admin token for it.
    pub admin_token: String,
    /// Where the token was also written (SQLite only), mode 0600.
    pub token_file: Option<String>,
}

/// Opens the pool and applies migrations (or refuses to run on a schema with
/// pending migrations when `migrate` is false).
pub fn open(settings: &Settings, migrate: bool) -> Result<Pool, String> {
    let pool = store::build_pool(&settings.database_url, settings.pool_size)?;
    let mut conn = pool
        .get()
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    if migrate {
        let applied = store::run_migrations(&mut conn)?;
        for v in applied {
            tracing::info!(version = %v, "applied migration");
        }
    } else if store::has_pending_migrations(&mut conn)? {
        return Err("the database has pending migrations: run `goodwill migrate` first".into());
    }
    match store::settings_warnings(&mut conn) {
        Ok(warnings) => {
            for w in warnings {
                tracing::warn!("{w}");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot read the database's settings"),
    }
    Ok(pool)
}

/// One connection, migrated (for the operator commands). A pool is not used
/// there on purpose: its background threads may still be opening connections
/// when a short-lived command exits, and libpq does not survive that.
pub(crate) fn connect_one(settings: &Settings, migrate: bool) -> Result<DbConnection, String> {
    if let DatabaseUrl::Sqlite(path) = &settings.database_url {
        store::connection::restrict_sqlite_file(path)?;
    }
    let mut conn = settings
        .database_url
        .connect()
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    if migrate {
        store::run_migrations(&mut conn)?;
    } else if store::has_pending_migrations(&mut conn)? {
        return Err("the database has pending migrations: run `goodwill migrate` first".into());
    }
    Ok(conn)
}

/// The HS256 secret kept in the database, if one was generated (opened with
/// the sealing key when it is sealed).
pub(crate) fn stored_secret(
    conn: &mut DbConnection,
    settings: &Settings,
) -> Result<Option<String>, String> {
    keys::get(conn, keys::JWT_SECRET)
        .map_err(|e| format!("cannot read the signing secret: {e}"))?
        .map(|s| crate::sealed::reveal(settings.secret_key.as_ref(), keys::JWT_SECRET, &s))
        .transpose()
}

/// Builds the verifier, generating the secret (and the default tenant and admin
/// token) on a first run without configured keys. Safe when several instances
/// start at once: the generation runs under a table lock (PostgreSQL) or an
/// IMMEDIATE transaction (SQLite), so exactly one secret and one tenant result.
pub fn keys_and_first_run(
    settings: &Settings,
    pool: &Pool,
) -> Result<(Verifier, Option<FirstRun>), String> {
    match &settings.jwt.key {
        KeyConfig::Secret(_) | KeyConfig::PublicKey(_) => {
            Ok((Verifier::new(&settings.jwt, None)?, None))
        }
        KeyConfig::Generated => {
            let mut conn = pool
                .get()
                .map_err(|e| format!("cannot connect to the database: {e}"))?;
            let (secret, new_tenant) = store::write_tx(&mut conn, |conn| {
                if let DbConnection::Pg(c) = conn {
                    c.batch_execute("LOCK TABLE service_keys IN EXCLUSIVE MODE")?;
                }
                let fail = |e: String| diesel::result::Error::QueryBuilderError(e.into());
                let key = settings.secret_key.as_ref();
                if let Some(stored) = keys::get(conn, keys::JWT_SECRET)? {
                    let secret =
                        crate::sealed::reveal(key, keys::JWT_SECRET, &stored).map_err(fail)?;
                    // A key configured after the secret was made seals it now.
                    if let Some(k) = key
                        && !crate::sealed::is_sealed(&stored)
                    {
                        let sealed = k.seal(keys::JWT_SECRET, &secret).map_err(fail)?;
                        keys::replace(conn, keys::JWT_SECRET, &sealed)?;
                        tracing::info!("sealed the stored signing secret with GOODWILL_SECRET_KEY_FILE's key");
                    }
                    return Ok::<_, diesel::result::Error>((secret, None));
                }
                let secret = generate_secret().map_err(fail)?;
                let stored = match key {
                    Some(k) => k.seal(keys::JWT_SECRET, &secret).map_err(fail)?,
                    None => {
                        tracing::warn!(
                            "the generated signing secret is kept in the database unsealed: \
                             whoever can read the database can sign tokens; for production set \
                             GOODWILL_SECRET_KEY_FILE, or GOODWILL_JWT_SECRET or GOODWILL_JWT_PUBLIC_KEY"
                        );
                        secret.clone()
                    }
                };
                keys::insert(conn, keys::JWT_SECRET, &stored, settings.clock.now())?;
                let tenant = if tenants::count(conn)? == 0 {
                    Some(tenants::create(conn, "default", settings.clock.now())?)
                } else {
                    None
                };
                Ok((secret, tenant))
            })
            .map_err(|e| format!("cannot prepare the signing secret: {e}"))?;
            let verifier = Verifier::new(&settings.jwt, Some(secret.as_bytes()))?;
            let first = match new_tenant {
                None => None,
                Some(tenant) => {
                    let token = Signer::hs256(secret.as_bytes(), &settings.jwt).issue(
                        tenant,
                        "admin",
                        Role::Admin,
                        None,
                        FIRST_ADMIN_TTL_SECS.min(settings.jwt.max_lifetime),
                    )?;
                    let token_file = match &settings.database_url {
                        DatabaseUrl::Sqlite(path) if path != ":memory:" => {
                            let file = format!("{path}.admin-token");
                            write_private(&file, &token)?;
                            Some(file)
                        }
                        _ => None,
                    };
                    Some(FirstRun {
                        tenant,
                        admin_token: token,
                        token_file,
                    })
                }
            };
            Ok((verifier, first))
        }
    }
}

/// Writes `content` to a new file readable by its owner only (0600).
fn write_private(path: &str, content: &str) -> Result<(), String> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| format!("cannot write {path}: {e}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("cannot restrict {path}: {e}"))?;
    }
    writeln!(f, "{content}").map_err(|e| format!("cannot write {path}: {e}"))
}
