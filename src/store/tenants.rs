//! Tenants.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::tenants;
use crate::domain::ids::TenantId;

/// Creates a tenant.
pub fn create(conn: &mut DbConnection, name: &str) -> QueryResult<TenantId> {
    let id = TenantId::new();
    let now = crate::domain::now();
    diesel::insert_into(tenants::table)
        .values((
            tenants::id.eq(id),
            tenants::name.eq(name),
            tenants::created_at.eq(now),
        ))
        .execute(conn)?;
    super::gestures::seed_reason_codes(conn, id)?;
    super::policy::seed(conn, id, now)?;
    Ok(id)
}

/// Whether a tenant exists.
pub fn exists(conn: &mut DbConnection, id: TenantId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        tenants::table.filter(tenants::id.eq(id)),
    ))
    .get_result(conn)
}

/// How many tenants there are.
pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    tenants::table.count().get_result(conn)
}

/// All tenants, oldest first.
pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<(TenantId, String, NaiveDateTime)>> {
    tenants::table
        .select((tenants::id, tenants::name, tenants::created_at))
        .order(tenants::id)
        .load(conn)
}
