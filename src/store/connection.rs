//! One connection type over PostgreSQL and SQLite, and the pool of them.
//!
//! The backend is chosen from the URL's scheme, never by trial: diesel's derived
//! `establish` would try PostgreSQL first and fall back to treating any string as a
//! SQLite path, which turns a mistyped PostgreSQL URL into a stray file.

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};

/// A connection to either supported database.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL: production, several instances sharing one database.
    Pg(diesel::PgConnection),
    /// Embedded SQLite: the zero-configuration default.
    Sqlite(diesel::SqliteConnection),
}

/// Which database a URL names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A `postgres://` or `postgresql://` URL, passed to libpq as is.
    Postgres(String),
    /// A filesystem path (from `sqlite://PATH`, `sqlite:PATH` or a bare path).
    Sqlite(String),
}

impl DatabaseUrl {
    /// Parses a database URL as INTERFACE.md says: `postgres://` / `postgresql://`
    /// select PostgreSQL; `sqlite://PATH` or a path select SQLite.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("the database URL is empty".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err("the SQLite database path is empty".into());
        }
        if path.contains("://") {
            return Err(format!("unsupported database URL scheme in {url:?}"));
        }
        Ok(Self::Sqlite(path.to_owned()))
    }

    /// True for PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Opens one connection, with SQLite's PRAGMAs applied.
    pub fn connect(&self) -> ConnectionResult<DbConnection> {
        match self {
            Self::Postgres(url) => diesel::PgConnection::establish(url).map(DbConnection::Pg),
            Self::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(path)?;
                // WAL lets readers run beside the one writer; busy_timeout makes a
                // second writer wait for the lock instead of failing; FULL syncs the
                // WAL on every commit, so an acknowledged write survives power loss.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = FULL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA busy_timeout = 10000;",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// r2d2 manager that opens connections through [`DatabaseUrl::connect`].
#[derive(Clone, Debug)]
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.url.connect().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        // A connection still inside a transaction, or whose transaction manager is
        // in error, must not go back to the pool.
        <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

/// The shared pool.
pub type Pool = r2d2::Pool<Manager>;
/// A connection checked out of the pool.
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// Builds the pool for `url`. SQLite gets a small pool: it has one writer anyway.
pub fn build_pool(url: &DatabaseUrl, max_size: u32) -> Result<Pool, String> {
    if let DatabaseUrl::Sqlite(path) = url {
        restrict_sqlite_file(path)?;
    }
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .test_on_check_out(false)
        .build(Manager { url: url.clone() })
        .map_err(|e| format!("cannot connect to the database: {e}"))
}

/// A pool that opens no connection until one is asked for: the server starts
/// even while the database is down, and `/readyz` says so.
pub fn build_pool_lazy(url: &DatabaseUrl, max_size: u32) -> Pool {
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(2))
        .build_unchecked(Manager { url: url.clone() })
}

/// The SQLite file holds the service's signing secret, so it is created private to
/// its owner (mode 0600) before SQLite opens it.
pub fn restrict_sqlite_file(path: &str) -> Result<(), String> {
    if path == ":memory:" || path.starts_with("file:") {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| format!("cannot open SQLite database {path}: {e}"))?;
    }
    Ok(())
}

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite (so writers queue
/// on the database lock at the start instead of failing on upgrade half-way), an
/// ordinary transaction on PostgreSQL that first claims its place in the event
/// feed (see [`super::events`]). Commits on `Ok`, rolls back on `Err`.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Tm = <DbConnection as Connection>::TransactionManager;
    match conn {
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
        }
        DbConnection::Pg(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, super::events::PG_BEGIN_WRITER)?
        }
    }
    match f(conn) {
        Ok(value) => {
            Tm::commit_transaction(conn)?;
            Ok(value)
        }
        Err(user_error) => match Tm::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(user_error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}

/// Runs `f` in a read-only snapshot (a deferred transaction on SQLite).
pub fn read_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_by_scheme() {
        assert!(
            DatabaseUrl::parse("postgres://u@h/db")
                .unwrap()
                .is_postgres()
        );
        assert!(
            DatabaseUrl::parse("postgresql://h/db")
                .unwrap()
                .is_postgres()
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/g.db").unwrap(),
            DatabaseUrl::Sqlite("data/g.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("./goodwill.db").unwrap(),
            DatabaseUrl::Sqlite("./goodwill.db".into())
        );
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }
}
