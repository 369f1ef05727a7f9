//! One connection type over PostgreSQL and SQLite, and the pool of them.
//!
//! The backend is chosen from the URL's scheme, never by trial: diesel's derived
//! `establish` would try PostgreSQL first and fall back to treating any string as a
//! SQLite path, which turns a mistyped PostgreSQL URL into a stray file.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
    /// Parses a database URL as docs/api.md and the README describe: `postgres://` / `postgresql://`
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
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Opens one connection, with SQLite's PRAGMAs applied.
    pub fn connect(&self) -> ConnectionResult<DbConnection> {
        match self {
            Self::Postgres(url) => {
                #[allow(unused_mut)]
                let mut conn = diesel::PgConnection::establish(url)?;
                // Debug builds (the tests) prove that no statement runs while a
                // command holds its writes back (see store::pg_text).
                #[cfg(debug_assertions)]
                conn.set_instrumentation(|e: diesel::connection::InstrumentationEvent<'_>| {
                    if let diesel::connection::InstrumentationEvent::StartQuery { query, .. } = e {
                        super::pg_text::check_nothing_pending(query);
                    }
                });
                Ok(DbConnection::Pg(conn))
            }
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

/// What the pool has learnt of the database's reachability: the last failed
/// attempt to connect, cleared by the next success.
#[derive(Debug, Default)]
pub(crate) struct Health {
    last_failure: std::sync::Mutex<Option<(Instant, String)>>,
}

/// How long a failed connection attempt keeps checkouts failing fast.
const FAIL_FAST_WINDOW: Duration = Duration::from_secs(5);
/// How long a checkout waits while the database is known to be unreachable
/// (long enough for one fresh attempt on loopback or a LAN).
const FAIL_FAST_WAIT: Duration = Duration::from_millis(300);

impl Health {
    fn failed(&self, why: String) {
        if let Ok(mut f) = self.last_failure.lock() {
            *f = Some((Instant::now(), why));
        }
    }

    fn succeeded(&self) {
        if let Ok(mut f) = self.last_failure.lock() {
            *f = None;
        }
    }

    /// The last failure, if it is recent.
    pub(crate) fn recent_failure(&self) -> Option<String> {
        let f = self.last_failure.lock().ok()?;
        f.as_ref()
            .filter(|(at, _)| at.elapsed() < FAIL_FAST_WINDOW)
            .map(|(_, why)| why.clone())
    }
}

/// Milliseconds since the epoch of the last error that looked like a lost
/// connection (any pool of this process).
static TROUBLE_AT_MS: AtomicU64 = AtomicU64::new(0);
/// After such an error, connections going back to a pool are checked for this
/// long.
const TROUBLE_WINDOW_MS: u64 = 30_000;

/// Wall-clock milliseconds for the pool's trouble window: a timer of the
/// connection pool, never a time a command writes.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Records that a query failed as if its connection were lost: for a while,
/// every connection returned to a pool is pinged, and a dead one is dropped
/// instead of being handed to the next request. Costs nothing otherwise.
pub(crate) fn note_connection_trouble() {
    TROUBLE_AT_MS.store(now_ms(), Ordering::Relaxed);
}

fn trouble_is_recent() -> bool {
    now_ms().saturating_sub(TROUBLE_AT_MS.load(Ordering::Relaxed)) < TROUBLE_WINDOW_MS
}

/// r2d2 manager that opens connections through [`DatabaseUrl::connect`].
#[derive(Clone, Debug)]
pub struct Manager {
    url: DatabaseUrl,
    health: Arc<Health>,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match self.url.connect() {
            Ok(c) => {
                self.health.succeeded();
                Ok(c)
            }
            Err(e) => {
                self.health.failed(e.to_string());
                Err(r2d2::Error::ConnectionError(e))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        // A connection still inside a transaction, or whose transaction manager is
        // in error, must not go back to the pool; nor, shortly after a lost
        // connection was seen, one that no longer answers.
        <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
            || (trouble_is_recent() && conn.batch_execute("SELECT 1").is_err())
    }
}

/// The shared pool: r2d2's, with what it learnt of the database's health and
/// the admission of requests to its connections.
#[derive(Clone)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
    health: Arc<Health>,
    /// One permit per connection. A request waits for its permit on the
    /// async side, in the order requests came (tokio's semaphore is fair),
    /// before it takes a blocking thread: so no blocking thread sleeps on
    /// the pool, and under load the oldest waiting request is served first
    /// (r2d2's own wait lets a newcomer take a connection that was just given
    /// back ahead of a request already waiting, which made a long tail).
    admission: Arc<tokio::sync::Semaphore>,
    /// SQLite's one writer: a write command waits here, in arrival order,
    /// for the permit to begin its transaction. Left to SQLite, writers wait
    /// in its busy handler, which sleeps and retries, so a late writer often
    /// goes ahead of one that has waited long (seconds, under load). None on
    /// PostgreSQL, where writers run side by side.
    writer: Option<Arc<tokio::sync::Semaphore>>,
}

impl std::ops::Deref for Pool {
    type Target = r2d2::Pool<Manager>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl Pool {
    fn over(url: &DatabaseUrl, inner: r2d2::Pool<Manager>, health: Arc<Health>) -> Self {
        let permits = usize::try_from(inner.max_size().max(1)).unwrap_or(1);
        Self {
            inner,
            health,
            admission: Arc::new(tokio::sync::Semaphore::new(permits)),
            writer: (!url.is_postgres()).then(|| Arc::new(tokio::sync::Semaphore::new(1))),
        }
    }

    /// Why the database is thought unreachable, while a connection attempt
    /// failed in the last few seconds: a request then waits for a permit
    /// only as briefly as for a connection ([`Pool::permit_wait`]), so a
    /// queue of requests fails fast during an outage instead of draining
    /// one short wait at a time.
    pub(crate) fn unreachable(&self) -> Option<String> {
        self.health.recent_failure()
    }

    /// How long a request may wait for its permits: the pool's timeout, or
    /// the short fail-fast wait while the database is thought unreachable.
    pub(crate) fn permit_wait(&self) -> Duration {
        let wait = self.inner.connection_timeout();
        if self.unreachable().is_some() {
            FAIL_FAST_WAIT.min(wait)
        } else {
            wait
        }
    }

    /// The write commands' queue, on a backend with one writer (SQLite).
    pub(crate) fn writer(&self) -> Option<Arc<tokio::sync::Semaphore>> {
        self.writer.clone()
    }

    /// Admission to a connection: a request holds its permit while it uses
    /// the connection (see the `admission` field).
    pub(crate) fn admission(&self) -> Arc<tokio::sync::Semaphore> {
        self.admission.clone()
    }

    /// A connection for a request. While the database is known to be
    /// unreachable (a connection attempt failed in the last few seconds) and no
    /// idle connection is left, waits only briefly, so requests fail fast with
    /// the reason instead of queueing for the full timeout; the attempt a
    /// checkout triggers is what notices the database is back.
    pub(crate) fn checkout(&self) -> Result<PooledConnection, crate::error::Error> {
        self.checkout_within(self.inner.connection_timeout())
    }

    /// As [`Pool::checkout`], waiting at most `wait`.
    pub(crate) fn checkout_within(
        &self,
        wait: Duration,
    ) -> Result<PooledConnection, crate::error::Error> {
        use crate::error::Error;
        if self.inner.state().idle_connections == 0
            && let Some(why) = self.health.recent_failure()
        {
            return self
                .inner
                .get_timeout(FAIL_FAST_WAIT.min(wait))
                .map_err(|_| Error::Unavailable(format!("the database is not reachable: {why}")));
        }
        self.inner
            .get_timeout(wait)
            .map_err(|e| match self.health.recent_failure() {
                Some(why) => Error::Unavailable(format!("the database is not reachable: {why}")),
                None => Error::Unavailable(format!("no database connection available: {e}")),
            })
    }
}

/// A connection checked out of the pool.
pub(crate) type PooledConnection = r2d2::PooledConnection<Manager>;

fn manager(url: &DatabaseUrl) -> (Manager, Arc<Health>) {
    let health = Arc::new(Health::default());
    (
        Manager {
            url: url.clone(),
            health: health.clone(),
        },
        health,
    )
}

/// Builds the pool for `url`. SQLite gets a small pool: it has one writer anyway.
pub fn build_pool(url: &DatabaseUrl, max_size: u32) -> Result<Pool, String> {
    if let DatabaseUrl::Sqlite(path) = url {
        restrict_sqlite_file(path)?;
    }
    let (m, health) = manager(url);
    let inner = r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .test_on_check_out(false)
        .build(m)
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    Ok(Pool::over(url, inner, health))
}

/// A pool that opens no connection until one is asked for: the server starts
/// even while the database is down, and `/readyz` says so.
pub fn build_pool_lazy(url: &DatabaseUrl, max_size: u32) -> Pool {
    let (m, health) = manager(url);
    let inner = r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(2))
        .build_unchecked(m);
    Pool::over(url, inner, health)
}

/// The SQLite file holds the service's signing secret, so it is created private to
/// its owner (mode 0600) before SQLite opens it.
pub(crate) fn restrict_sqlite_file(path: &str) -> Result<(), String> {
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
    match conn {
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
        }
        DbConnection::Pg(inner) => {
            super::pg_text::discard();
            AnsiTransactionManager::begin_transaction_sql(inner, super::events::PG_BEGIN_WRITER)?
        }
    }
    finish(conn, f)
}

/// Runs `f` in a write transaction that writes no feed event (the webhook
/// worker's bookkeeping): `BEGIN IMMEDIATE` on SQLite, a plain transaction on
/// PostgreSQL, which then never holds back the feed's horizon.
pub(crate) fn quiet_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
        }
        DbConnection::Pg(inner) => AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN")?,
    }
    finish(conn, f)
}

/// Runs `f` in the transaction just begun: commits on `Ok`, rolls back on `Err`.
fn finish<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Tm = <DbConnection as Connection>::TransactionManager;
    match f(conn) {
        Ok(value) => {
            // Writes a command held back go out before its COMMIT.
            if let DbConnection::Pg(c) = conn
                && let Err(e) = super::pg_text::flush(c)
            {
                let _ = Tm::rollback_transaction(conn);
                return Err(e.into());
            }
            Tm::commit_transaction(conn)?;
            Ok(value)
        }
        Err(user_error) => {
            super::pg_text::discard();
            match Tm::rollback_transaction(conn) {
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(user_error),
                Err(rollback_error) => Err(rollback_error.into()),
            }
        }
    }
}

/// Runs `f` inside the open transaction so that an error undoes what `f`
/// wrote and leaves the transaction usable (a savepoint), as a command's
/// business-rule error must, to keep its answer with the idempotency key.
/// On PostgreSQL the savepoint is set by hand and left for the COMMIT to
/// release: one round trip less than diesel's nested transaction (SQLite's
/// statements are function calls; it keeps diesel's).
pub(crate) fn undoable<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if !matches!(conn, DbConnection::Pg(_)) {
        return conn.transaction(f);
    }
    conn.batch_execute("SAVEPOINT command")?;
    let result = f(conn);
    if result.is_err() {
        super::pg_text::discard();
        conn.batch_execute("ROLLBACK TO SAVEPOINT command")?;
    }
    result
}

/// Runs `f` in one snapshot: every statement sees the same committed state (a
/// REPEATABLE READ transaction on PostgreSQL, whose default READ COMMITTED
/// would give each statement its own; a deferred transaction on SQLite, whose
/// WAL reader keeps one snapshot). A summary read in several statements is then
/// consistent with itself.
pub fn read_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Sqlite(_) => return conn.transaction(f),
        DbConnection::Pg(inner) => AnsiTransactionManager::begin_transaction_sql(
            inner,
            "BEGIN ISOLATION LEVEL REPEATABLE READ",
        )?,
    }
    finish(conn, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_admits_as_many_requests_as_it_has_connections() {
        let url = DatabaseUrl::parse("postgres://nobody@127.0.0.1:1/none").unwrap();
        let pool = build_pool_lazy(&url, 3);
        assert_eq!(pool.admission().available_permits(), 3);
        let held = pool.admission().try_acquire_owned().unwrap();
        assert_eq!(pool.admission().available_permits(), 2);
        drop(held);
        assert_eq!(pool.admission().available_permits(), 3);
        assert!(
            pool.writer().is_none(),
            "PostgreSQL's writers run side by side"
        );
        let sqlite = build_pool_lazy(&DatabaseUrl::Sqlite(":memory:".into()), 3);
        assert_eq!(sqlite.writer().unwrap().available_permits(), 1);
    }

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
