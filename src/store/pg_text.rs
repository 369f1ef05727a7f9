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
pub(crate) enum Bind<'a> {
    Uuid(RawUuid),
    NullUuid(Option<RawUuid>),
    Text(&'a str),
    NullText(Option<&'a str>),
    BigInt(i64),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    Uuids(Vec<RawUuid>),
    NullUuids(Vec<Option<RawUuid>>),
    Texts(Vec<&'a str>),
    BigInts(Vec<i64>),
    SmallInts(Vec<i16>),
}

impl Bind<'_> {
    /// An id.
    pub(crate) fn id(id: uuid::Uuid) -> Self {
        Self::Uuid(RawUuid(id))
    }

    /// An id, or NULL.
    pub(crate) fn null_id(id: Option<uuid::Uuid>) -> Self {
        Self::NullUuid(id.map(RawUuid))
    }
}

/// A statement: `sql` with one `?` per value of `binds`, in order.
pub(crate) struct Statement<'a> {
    sql: &'static str,
    binds: Vec<Bind<'a>>,
}

impl<'a> Statement<'a> {
    /// `sql` with `binds` in place of its `?`s.
    pub(crate) fn new(sql: &'static str, binds: Vec<Bind<'a>>) -> Self {
        debug_assert_eq!(sql.matches('?').count(), binds.len(), "{sql}");
        Self { sql, binds }
    }

    /// Runs it; answers the rows the last statement of the text touched.
    pub(crate) fn execute(self, conn: &mut PgConnection) -> QueryResult<usize> {
        RunQueryDsl::execute(self, conn)
    }
}

impl QueryId for Statement<'_> {
    type QueryId = ();
    // Cached by its text (and bind types) instead of by type.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for Statement<'_> {
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

impl diesel::query_builder::Query for Statement<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl RunQueryDsl<PgConnection> for Statement<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::query_builder::QueryFragment;

    #[test]
    fn each_question_mark_becomes_the_next_parameter() {
        let s = Statement::new(
            "SELECT ?, ? WHERE x = ?",
            vec![Bind::BigInt(1), Bind::Text("a"), Bind::Texts(vec!["b"])],
        );
        let sql = diesel::debug_query::<Pg, _>(&s).to_string();
        assert!(sql.starts_with("SELECT $1, $2 WHERE x = $3"), "{sql}");
        assert!(QueryFragment::<Pg>::is_safe_to_cache_prepared(&s, &Pg).unwrap());
    }
}
