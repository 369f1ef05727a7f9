//! PostgreSQL statements written as text, for the writes diesel's query
//! builder cannot say in one statement: a data-modifying CTE that inserts a
//! ledger transaction, its entries and the balances they move, or an audit
//! event, its feed event and its chain's new head, in one round trip.
//!
//! The text is constant and each value is a bind parameter (written `?`),
//! so diesel keeps the statement prepared per connection, keyed by its text:
//! PostgreSQL parses and plans it once, not on every request (which
//! `diesel::sql_query` would make it do). Rows of a varying count go in as
//! arrays (`unnest`), so the text does not change with them.
//!
//! A command whose every write after its decision is known may also hold
//! them back ([`defer_writes`]) and send them with the last one as a single
//! statement ([`write_with_pending`]): the auto-approved deferred payment's
//! posting, audit event and stored answer go out together. While writes are
//! held back no other statement may run on the thread's transaction (it would
//! not see them); debug builds check that on every statement
//! ([`check_nothing_pending`]), so the test suite proves it.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::pg::{Pg, PgConnection};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Date, Nullable, SmallInt, Text, Timestamp};
use diesel::{QueryResult, RunQueryDsl};

use super::sql_types::Uuid;

/// A UUID to bind as `uuid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawUuid(pub uuid::Uuid);

crate::uuid_sql_impls!(RawUuid);

/// One bound value.
pub(crate) enum Bind {
    Uuid(RawUuid),
    NullUuid(Option<RawUuid>),
    Text(String),
    NullText(Option<String>),
    BigInt(i64),
    NullBigInt(Option<i64>),
    Integer(i32),
    Date(NaiveDate),
    NullDate(Option<NaiveDate>),
    Timestamp(NaiveDateTime),
    Uuids(Vec<RawUuid>),
    NullUuids(Vec<Option<RawUuid>>),
    Texts(Vec<String>),
    BigInts(Vec<i64>),
    SmallInts(Vec<i16>),
}

impl Bind {
    /// An id.
    pub(crate) fn id(id: uuid::Uuid) -> Self {
        Self::Uuid(RawUuid(id))
    }

    /// An id, or NULL.
    pub(crate) fn null_id(id: Option<uuid::Uuid>) -> Self {
        Self::NullUuid(id.map(RawUuid))
    }
}

/// One write: data-modifying statements that become the `WITH` queries of
/// the statement it is sent in, then its last one, with one `?` per value of
/// `binds`, in order.
pub(crate) struct Write {
    ctes: &'static [&'static str],
    last: &'static str,
    binds: Vec<Bind>,
}

impl Write {
    /// A write of `ctes` and `last`.
    pub(crate) fn new(ctes: &'static [&'static str], last: &'static str, binds: Vec<Bind>) -> Self {
        debug_assert_eq!(
            ctes.iter()
                .chain([&last])
                .map(|s| s.matches('?').count())
                .sum::<usize>(),
            binds.len(),
            "{last}"
        );
        Self { ctes, last, binds }
    }
}

/// Writes sent as one statement.
struct Statement {
    sql: String,
    binds: Vec<Bind>,
}

impl Statement {
    /// The writes in order: every statement but the very last becomes a
    /// `WITH` query (`w0`, `w1`, ...), which PostgreSQL runs to completion
    /// whether or not the last one reads it.
    fn of(writes: Vec<Write>) -> Self {
        let mut parts: Vec<&str> = writes
            .iter()
            .flat_map(|w| w.ctes.iter().copied().chain([w.last]))
            .collect();
        let last = parts.pop().unwrap_or("");
        let sql = if parts.is_empty() {
            last.to_owned()
        } else {
            let with: Vec<String> = parts
                .iter()
                .enumerate()
                .map(|(i, p)| format!("w{i} AS ({p})"))
                .collect();
            format!("WITH {} {last}", with.join(", "))
        };
        let binds = writes.into_iter().flat_map(|w| w.binds).collect();
        Self { sql, binds }
    }
}

/// Runs `writes` as one statement now.
pub(crate) fn execute(conn: &mut PgConnection, writes: Vec<Write>) -> QueryResult<usize> {
    RunQueryDsl::execute(Statement::of(writes), conn)
}

thread_local! {
    /// Whether the thread's command holds its writes back, and those it holds.
    static PENDING: std::cell::RefCell<Option<Vec<Write>>> = const { std::cell::RefCell::new(None) };
}

/// From here on, this thread's command holds back its writes that
/// [`write`] is given, until [`write_with_pending`] or [`flush`] sends them.
pub(crate) fn defer_writes() {
    PENDING.with(|p| *p.borrow_mut() = Some(Vec::new()));
}

/// Runs `w` now, or holds it back while the command defers its writes.
pub(crate) fn write(conn: &mut PgConnection, w: Write) -> QueryResult<()> {
    let held = PENDING.with(|p| match p.borrow_mut().as_mut() {
        Some(v) => {
            v.push(w);
            None
        }
        None => Some(w),
    });
    if let Some(w) = held {
        execute(conn, vec![w])?;
    }
    Ok(())
}

/// Runs `w` now together with every write held back, as one statement.
pub(crate) fn write_with_pending(conn: &mut PgConnection, w: Write) -> QueryResult<()> {
    let mut writes = take();
    writes.push(w);
    execute(conn, writes).map(|_| ())
}

/// Sends the writes held back, if any (before a `COMMIT`).
pub(crate) fn flush(conn: &mut PgConnection) -> QueryResult<()> {
    let writes = take();
    if writes.is_empty() {
        return Ok(());
    }
    execute(conn, writes).map(|_| ())
}

/// Forgets the writes held back (the command failed, or its transaction
/// ends without them).
pub(crate) fn discard() {
    PENDING.with(|p| *p.borrow_mut() = None);
}

fn take() -> Vec<Write> {
    PENDING.with(|p| p.borrow_mut().take().unwrap_or_default())
}

/// Panics when a statement is about to run while writes are held back: it
/// would not see them. Debug builds call it on every statement.
#[cfg_attr(not(debug_assertions), allow(dead_code))]
pub(crate) fn check_nothing_pending(query: &dyn std::fmt::Display) {
    let held = PENDING.with(|p| p.borrow().as_ref().map_or(0, Vec::len));
    assert!(
        held == 0,
        "a statement ran while {held} write(s) were held back: {query}"
    );
}

impl QueryId for Statement {
    type QueryId = ();
    // Cached by its text (and bind types) instead of by type.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for Statement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut parts = self.sql.split('?');
        if let Some(first) = parts.next() {
            out.push_sql(first);
        }
        for (part, bind) in parts.zip(&self.binds) {
            match bind {
                Bind::Uuid(v) => out.push_bind_param::<Uuid, _>(v)?,
                Bind::NullUuid(v) => out.push_bind_param::<Nullable<Uuid>, _>(v)?,
                Bind::Text(v) => out.push_bind_param::<Text, _>(v)?,
                Bind::NullText(v) => out.push_bind_param::<Nullable<Text>, _>(v)?,
                Bind::BigInt(v) => out.push_bind_param::<BigInt, _>(v)?,
                Bind::NullBigInt(v) => out.push_bind_param::<Nullable<BigInt>, _>(v)?,
                Bind::Integer(v) => out.push_bind_param::<diesel::sql_types::Integer, _>(v)?,
                Bind::NullDate(v) => out.push_bind_param::<Nullable<Date>, _>(v)?,
                Bind::Date(v) => out.push_bind_param::<Date, _>(v)?,
                Bind::Timestamp(v) => out.push_bind_param::<Timestamp, _>(v)?,
                Bind::Uuids(v) => out.push_bind_param::<Array<Uuid>, _>(v)?,
                Bind::NullUuids(v) => out.push_bind_param::<Array<Nullable<Uuid>>, _>(v)?,
                Bind::Texts(v) => out.push_bind_param::<Array<Text>, _>(v)?,
                Bind::BigInts(v) => out.push_bind_param::<Array<BigInt>, _>(v)?,
                Bind::SmallInts(v) => out.push_bind_param::<Array<SmallInt>, _>(v)?,
            }
            out.push_sql(part);
        }
        Ok(())
    }
}

impl diesel::query_builder::Query for Statement {
    type SqlType = diesel::sql_types::Untyped;
}

impl RunQueryDsl<PgConnection> for Statement {}

/// For tests of a text INSERT that names every column of its table: the
/// columns it names, and the table's columns as diesel's schema has them.
#[cfg(test)]
pub(crate) mod columns {
    /// The column list of `INSERT INTO t (a, b, ...) VALUES ...`.
    pub(crate) fn of_insert(sql: &str) -> Vec<String> {
        let list = sql.split('(').nth(1).and_then(|s| s.split(')').next());
        list.unwrap_or_default()
            .split(',')
            .map(|c| c.trim().to_owned())
            .collect()
    }

    /// Asserts that `insert` names every column of `all` (a `SELECT` of its
    /// table's `all_columns`) in the schema's order, with one `?` each.
    pub(crate) fn assert_insert_names_every_column<Q>(insert: &str, all: &Q)
    where
        Q: diesel::query_builder::QueryFragment<diesel::pg::Pg>,
    {
        let schema = of_select(all);
        assert_eq!(of_insert(insert), schema);
        assert_eq!(insert.matches('?').count(), schema.len());
    }

    /// The columns of `select`, a `SELECT` of a table's `all_columns`.
    pub(crate) fn of_select<Q>(select: &Q) -> Vec<String>
    where
        Q: diesel::query_builder::QueryFragment<diesel::pg::Pg>,
    {
        let sql = diesel::debug_query::<diesel::pg::Pg, _>(select).to_string();
        let list = sql.trim_start_matches("SELECT ").split(" FROM ").next();
        list.unwrap_or_default()
            .split(", ")
            .map(|c| {
                c.rsplit('.')
                    .next()
                    .unwrap_or(c)
                    .trim_matches('"')
                    .to_owned()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::query_builder::QueryFragment;

    #[test]
    fn each_question_mark_becomes_the_next_parameter() {
        let s = Statement::of(vec![Write::new(
            &[],
            "SELECT ?, ? WHERE x = ?",
            vec![
                Bind::BigInt(1),
                Bind::Text("a".into()),
                Bind::Texts(vec!["b".into()]),
            ],
        )]);
        let sql = diesel::debug_query::<Pg, _>(&s).to_string();
        assert!(sql.starts_with("SELECT $1, $2 WHERE x = $3"), "{sql}");
        assert!(QueryFragment::<Pg>::is_safe_to_cache_prepared(&s, &Pg).unwrap());
    }

    #[test]
    fn writes_join_as_with_queries_in_order() {
        let s = Statement::of(vec![
            Write::new(
                &["INSERT INTO a VALUES (?)"],
                "INSERT INTO b VALUES (?)",
                vec![Bind::BigInt(1), Bind::BigInt(2)],
            ),
            Write::new(&[], "INSERT INTO c VALUES (?)", vec![Bind::BigInt(3)]),
        ]);
        let sql = diesel::debug_query::<Pg, _>(&s).to_string();
        assert!(
            sql.starts_with(
                "WITH w0 AS (INSERT INTO a VALUES ($1)), w1 AS (INSERT INTO b VALUES ($2)) \
                 INSERT INTO c VALUES ($3)"
            ),
            "{sql}"
        );
    }

    #[test]
    fn held_writes_wait_for_the_last_and_are_forgotten_on_discard() {
        defer_writes();
        PENDING.with(|p| {
            p.borrow_mut()
                .as_mut()
                .unwrap()
                .push(Write::new(&[], "SELECT 1", Vec::new()))
        });
        let caught = std::panic::catch_unwind(|| check_nothing_pending(&"SELECT 2"));
        assert!(caught.is_err());
        discard();
        check_nothing_pending(&"SELECT 2");
        assert!(take().is_empty());
    }
}
