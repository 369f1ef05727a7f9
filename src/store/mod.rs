//! Persistence: the diesel schema, the connection enum, the pool, migrations, and
//! queries as plain functions over a connection. Every query of a tenant table
//! filters by the caller's tenant; functions take the `TenantId` first.

pub(crate) mod aging;
pub(crate) mod approvals;
pub mod audit;
pub(crate) mod client_refs;
pub mod connection;
pub(crate) mod console;
mod constant_sql;
pub mod customers;
pub mod events;
pub mod gestures;
pub(crate) mod idempotency;
pub(crate) mod incidents;
pub mod journal;
pub(crate) mod kept_totals;
pub(crate) mod keys;
pub mod ledger;
pub mod ledger_check;
pub mod lifecycle;
pub mod periods;
pub(crate) mod pg_text;
pub(crate) mod policy;
pub mod reading;
pub mod reconcile;
pub(crate) mod reports;
pub mod sales;
pub mod schema;
pub(crate) mod seed;
pub(crate) mod sql_types;
pub(crate) mod staff;
pub(crate) mod stores;
pub mod tenants;
pub(crate) mod value;
pub(crate) mod webhooks;
pub(crate) mod write_offs;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use connection::read_tx;
pub use connection::{DatabaseUrl, DbConnection, Pool, build_pool, write_tx};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Arbitrary key of the PostgreSQL advisory lock that serialises migrations when
/// several instances start at once.
const MIGRATION_LOCK: i64 = 0x676f_6f64_7769_6c6c; // "goodwill"

/// Applies pending migrations; returns the versions applied.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, String> {
    let applied = match conn {
        DbConnection::Pg(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .map_err(|e| format!("cannot take the migration lock: {e}"))?;
            let result = c
                .run_pending_migrations(PG_MIGRATIONS)
                .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>())
                .map_err(|e| e.to_string());
            let _ = c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
            result?
        }
        DbConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>())
            .map_err(|e| e.to_string())?,
    };
    Ok(applied)
}

/// Reverts the newest applied migration; returns its version. For upgrade
/// tests: write data with the current code, step the schema back, and apply
/// the migration again over that data.
pub fn revert_last_migration(conn: &mut DbConnection) -> Result<String, String> {
    match conn {
        DbConnection::Pg(c) => c.revert_last_migration(PG_MIGRATIONS),
        DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS),
    }
    .map(|v| v.to_string())
    .map_err(|e| e.to_string())
}

/// Whether migrations are pending (serve refuses to run on an old schema when
/// started with `--no-migrate`).
pub(crate) fn has_pending_migrations(conn: &mut DbConnection) -> Result<bool, String> {
    match conn {
        DbConnection::Pg(c) => c.has_pending_migration(PG_MIGRATIONS),
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
    }
    .map_err(|e| e.to_string())
}

/// Warnings about database settings under which the service slows down as its
/// tables grow: on PostgreSQL, autovacuum or the statistics it needs switched
/// off. The tables are then never analysed, the planner chooses between the
/// indexes blind, and the customer-scoped reads of a new gesture scan every
/// gesture of the tenant (a soak against such a cluster saw split detection go
/// from 0.7 to 4 ms in ten minutes). SQLite has nothing to warn about.
pub fn settings_warnings(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        setting: String,
    }
    let DbConnection::Pg(c) = conn else {
        return Ok(Vec::new());
    };
    let settings: Vec<Setting> = diesel::sql_query(
        "SELECT name, setting FROM pg_settings WHERE name IN ('autovacuum', 'track_counts')",
    )
    .load(c)?;
    Ok(maintenance_warnings(
        settings
            .iter()
            .map(|s| (s.name.as_str(), s.setting.as_str())),
    ))
}

/// The warnings [`settings_warnings`] gives for these PostgreSQL settings.
fn maintenance_warnings<'a>(settings: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    settings
        .into_iter()
        .filter(|(_, value)| *value == "off")
        .map(|(name, _)| {
            format!(
                "PostgreSQL's {name} is off: tables are vacuumed and analysed only by \
                 hand, so query plans degrade and latency grows as the data grows; \
                 turn it on (it is on by default)"
            )
        })
        .collect()
}

/// Rows in every table, in [`schema::ALL_TABLES`] order (used by tests to prove a
/// refused request wrote nothing, and by operators as a quick census).
pub fn count_rows(conn: &mut DbConnection) -> QueryResult<Vec<(String, i64)>> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    schema::ALL_TABLES
        .iter()
        .map(|t| {
            let c: Count =
                diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {t}")).get_result(conn)?;
            Ok(((*t).to_owned(), c.n))
        })
        .collect()
}

/// ` AND store_id IN (...)` for a statement confined to `stores` (empty
/// when `None`: every store). The ids are parsed UUIDs, safe to inline.
pub(crate) fn store_id_in(stores: Option<&[crate::domain::ids::StoreId]>) -> String {
    stores
        .map(|s| {
            format!(
                " AND store_id IN ({})",
                s.iter()
                    .map(|id| format!("'{id}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .unwrap_or_default()
}

/// The SQL condition under which an audit or feed row (its `column` of store
/// ids) is visible to a token holding `stores`: rows of the tenant as a whole
/// (no stores), and rows of a store the token holds. The ids are parsed UUIDs,
/// safe to write into the statement; a UUID is never part of another, so a
/// substring match is exact.
pub(crate) fn visible_at_stores(column: &str, stores: &[crate::domain::ids::StoreId]) -> String {
    let mut out = format!("({column} IS NULL");
    for s in stores {
        out.push_str(&format!(" OR {column} LIKE '%{s}%'"));
    }
    out.push(')');
    out
}

/// Positions the boxed list query `$q` over `$table` after the page's cursor
/// (`$after`, an id of `$table`), refusing one that is not an item of the
/// tenant's `$table` (see [`known_cursor`]). Lists are in id order.
macro_rules! after_cursor {
    ($conn:expr, $q:ident, $table:ident, $tenant:expr, $after:expr) => {
        if let Some(after) = $after {
            $crate::store::known_cursor(
                diesel::select(diesel::dsl::exists(
                    $table::table.filter($table::tenant_id.eq($tenant).and($table::id.eq(after))),
                ))
                .get_result($conn)?,
            )?;
            $q = $q.filter($table::id.gt(after));
        }
    };
}
pub(crate) use after_cursor;

/// 422 naming `starting_after` unless the cursor names an item of the list's
/// table in the caller's tenant: a cursor is an id this list handed out, and
/// anything else (a forged id, another list's or another tenant's) is refused
/// rather than silently positioning the page.
pub(crate) fn known_cursor(found: bool) -> Result<(), crate::error::Error> {
    if found {
        Ok(())
    } else {
        Err(crate::error::Error::field(
            "starting_after",
            "is not a cursor of this list: use next_cursor from its previous page",
        ))
    }
}

/// One page of a list: at most `limit` items after the cursor.
#[derive(Clone, Copy, Debug)]
pub struct PageRequest<Id> {
    /// 1..=100.
    pub limit: i64,
    /// Items strictly after this id (ids are time-ordered UUIDv7).
    pub starting_after: Option<Id>,
}

/// A page of results and whether more follow.
#[derive(Clone, Debug)]
pub struct PageOf<T> {
    /// The items, in id order.
    pub items: Vec<T>,
    /// Whether another page follows.
    pub has_more: bool,
}

impl<T> PageOf<T> {
    /// Builds a page from up to `limit + 1` rows.
    pub(crate) fn from_rows(mut rows: Vec<T>, limit: i64) -> Self {
        let limit = usize::try_from(limit).unwrap_or(0);
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        Self {
            items: rows,
            has_more,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::maintenance_warnings;

    #[test]
    fn only_settings_that_are_off_are_warned_about() {
        assert!(maintenance_warnings([("autovacuum", "on"), ("track_counts", "on")]).is_empty());
        let w = maintenance_warnings([("autovacuum", "off"), ("track_counts", "on")]);
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("PostgreSQL's autovacuum is off"), "{w:?}");
        let w = maintenance_warnings([("autovacuum", "off"), ("track_counts", "off")]);
        assert_eq!(w.len(), 2);
        assert!(w[1].contains("track_counts"), "{w:?}");
    }
}
