//! Tenants.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::tenants;
use crate::domain::ids::TenantId;
use crate::error::Error;

/// Creates a tenant.
pub fn create(conn: &mut DbConnection, name: &str, now: NaiveDateTime) -> QueryResult<TenantId> {
    let id = TenantId::new();
    diesel::insert_into(tenants::table)
        .values((
            tenants::id.eq(id),
            tenants::name.eq(name),
            tenants::created_at.eq(now),
        ))
        .execute(conn)?;
    super::gestures::seed_reason_codes(conn, id, now)?;
    super::policy::seed(conn, id, now)?;
    Ok(id)
}

/// Whether a tenant exists.
pub(crate) fn exists(conn: &mut DbConnection, id: TenantId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        tenants::table.filter(tenants::id.eq(id)),
    ))
    .get_result(conn)
}

/// The day a tenant was created (404 for an unknown one).
pub(crate) fn created_on(
    conn: &mut DbConnection,
    id: TenantId,
) -> Result<chrono::NaiveDate, Error> {
    tenants::table
        .filter(tenants::id.eq(id))
        .select(tenants::created_at)
        .first::<NaiveDateTime>(conn)
        .optional()?
        .map(|t| t.date())
        .ok_or_else(|| Error::NotFound(format!("no tenant {id}")))
}

/// How many tenants there are.
pub(crate) fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    tenants::table.count().get_result(conn)
}

/// All tenants, oldest first.
pub(crate) fn list(conn: &mut DbConnection) -> QueryResult<Vec<(TenantId, String, NaiveDateTime)>> {
    tenants::table
        .select((tenants::id, tenants::name, tenants::created_at))
        .order(tenants::id)
        .load(conn)
}

/// The tenant's stores by code, with their ids and currencies.
pub(crate) fn store_codes(
    conn: &mut DbConnection,
    tenant: TenantId,
) -> Result<
    Vec<(
        String,
        crate::domain::ids::StoreId,
        crate::domain::money::Currency,
    )>,
    Error,
> {
    use super::schema::stores;
    let rows: Vec<(String, crate::domain::ids::StoreId, String)> = stores::table
        .filter(stores::tenant_id.eq(tenant))
        .select((stores::code, stores::id, stores::currency))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(code, id, c)| {
            crate::domain::money::Currency::from_code(&c).map(|c| (code, id, c))
        })
        .collect())
}
