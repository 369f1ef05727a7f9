//! SQL fragments that never change, as diesel expressions that keep a statement
//! cacheable.
//!
//! diesel's `sql::<T>("...")` marks every statement containing it as unsafe to
//! cache (it cannot know the text is constant), so PostgreSQL parses and plans
//! the statement on every request. A fragment declared here is a type whose
//! text is fixed at compile time: the statement keeps a static query id and is
//! prepared once per connection. Found by the load harness: the customer
//! summary's two statements were parsed and planned on every request, which
//! cost PostgreSQL three times the CPU of the same statements prepared.

/// Declares a unit type that is the SQL expression `$sql` of type `$st`.
macro_rules! constant_sql {
    ($(#[$meta:meta])* $vis:vis $name:ident: $st:ty = $sql:expr;) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
        $vis struct $name;

        impl diesel::expression::Expression for $name {
            type SqlType = $st;
        }

        impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for $name {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
            ) -> diesel::QueryResult<()> {
                out.push_sql($sql);
                Ok(())
            }
        }

        impl<QS> diesel::expression::AppearsOnTable<QS> for $name {}
        impl<QS> diesel::expression::SelectableExpression<QS> for $name {}
        impl<GB> diesel::expression::ValidGrouping<GB> for $name {
            type IsAggregate = diesel::expression::is_aggregate::Never;
        }
    };
}

pub(crate) use constant_sql;

#[cfg(test)]
mod tests {
    use diesel::query_builder::QueryId;

    constant_sql! {
        /// A constant for the test.
        Seven: diesel::sql_types::Integer = "7";
    }

    // The whole point: diesel caches a prepared statement by its static query
    // id, which `diesel::dsl::sql` takes away.
    const _: () = assert!(<Seven as QueryId>::HAS_STATIC_QUERY_ID);
    const _: () = assert!(
        !<diesel::expression::SqlLiteral<diesel::sql_types::Integer> as QueryId>::HAS_STATIC_QUERY_ID
    );

    #[test]
    fn a_constant_fragment_is_its_text() {
        let q = diesel::select(Seven);
        let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&q).to_string();
        assert_eq!(sql, "SELECT 7 -- binds: []");
    }
}
