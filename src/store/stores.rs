//! Stores.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::stores;
use super::{DbConnection, PageOf, PageRequest};
use crate::domain::ids::{StoreId, TenantId};
use crate::domain::money::Currency;
use crate::domain::store::{NewStore, Store};
use crate::error::{Error, ErrorCode, is_unique_violation};

#[derive(Queryable, Selectable)]
#[diesel(table_name = stores)]
struct Row {
    tenant_id: TenantId,
    id: StoreId,
    name: String,
    code: String,
    currency: String,
    created_at: NaiveDateTime,
    time_zone: String,
}

impl TryFrom<Row> for Store {
    type Error = Error;
    fn try_from(r: Row) -> Result<Self, Error> {
        let currency = Currency::from_code(&r.currency).ok_or_else(|| {
            Error::internal(format!(
                "store {} has unknown currency {}",
                r.id, r.currency
            ))
        })?;
        let time_zone = r.time_zone.parse().map_err(|_| {
            Error::internal(format!(
                "store {} has unknown time zone {}",
                r.id, r.time_zone
            ))
        })?;
        Ok(Store {
            id: r.id,
            tenant_id: r.tenant_id,
            name: r.name,
            code: r.code,
            currency,
            time_zone,
            created_at: r.created_at,
        })
    }
}

fn duplicate_code(conn: &mut DbConnection, tenant: TenantId, code: &str) -> Result<Error, Error> {
    let existing: Option<StoreId> = stores::table
        .filter(stores::tenant_id.eq(tenant).and(stores::code.eq(code)))
        .select(stores::id)
        .first(conn)
        .optional()?;
    Ok(Error::Conflict {
        code: ErrorCode::DuplicateStoreCode,
        detail: format!("a store with code {code:?} already exists"),
        existing_id: existing.map(|id| id.to_string()),
    })
}

/// Creates a store; a duplicate code is a 409 naming the existing store.
pub(crate) fn create(
    conn: &mut DbConnection,
    tenant: TenantId,
    new: NewStore,
    now: NaiveDateTime,
) -> Result<Store, Error> {
    if stores::table
        .filter(stores::tenant_id.eq(tenant).and(stores::code.eq(&new.code)))
        .count()
        .get_result::<i64>(conn)?
        > 0
    {
        return Err(duplicate_code(conn, tenant, &new.code)?);
    }
    let store = Store {
        id: StoreId::new(),
        tenant_id: tenant,
        name: new.name,
        code: new.code,
        currency: new.currency,
        time_zone: new.time_zone,
        created_at: now,
    };
    diesel::insert_into(stores::table)
        .values((
            stores::tenant_id.eq(tenant),
            stores::id.eq(store.id),
            stores::name.eq(&store.name),
            stores::code.eq(&store.code),
            stores::currency.eq(store.currency.code()),
            stores::time_zone.eq(store.time_zone.name()),
            stores::created_at.eq(store.created_at),
        ))
        .execute(conn)
        .map_err(|e| {
            if is_unique_violation(&e) {
                Error::Conflict {
                    code: ErrorCode::DuplicateStoreCode,
                    detail: format!("a store with code {:?} already exists", store.code),
                    existing_id: None,
                }
            } else {
                e.into()
            }
        })?;
    Ok(store)
}

/// One store of the tenant.
pub(crate) fn get(conn: &mut DbConnection, tenant: TenantId, id: StoreId) -> Result<Store, Error> {
    find(conn, tenant, id)?.ok_or_else(|| Error::NotFound(format!("no store {id}")))
}

/// One store of the tenant, if there is such a store.
pub(crate) fn find(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: StoreId,
) -> Result<Option<Store>, Error> {
    stores::table
        .filter(stores::tenant_id.eq(tenant).and(stores::id.eq(id)))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Store::try_from)
        .transpose()
}

/// A page of the tenant's stores, in id order.
pub(crate) fn list(
    conn: &mut DbConnection,
    tenant: TenantId,
    page: PageRequest<StoreId>,
) -> Result<PageOf<Store>, Error> {
    let mut q = stores::table
        .filter(stores::tenant_id.eq(tenant))
        .select(Row::as_select())
        .order(stores::id)
        .limit(page.limit + 1)
        .into_boxed();
    super::after_cursor!(conn, q, stores, tenant, page.starting_after);
    let rows = q.load(conn)?;
    let page_of = PageOf::from_rows(rows, page.limit);
    Ok(PageOf {
        items: page_of
            .items
            .into_iter()
            .map(Store::try_from)
            .collect::<Result<_, _>>()?,
        has_more: page_of.has_more,
    })
}

/// Those of `ids` that are not stores of the tenant.
pub(crate) fn missing(
    conn: &mut DbConnection,
    tenant: TenantId,
    ids: &[StoreId],
) -> Result<Vec<StoreId>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<StoreId> = stores::table
        .filter(stores::tenant_id.eq(tenant).and(stores::id.eq_any(ids)))
        .select(stores::id)
        .load(conn)?;
    Ok(ids
        .iter()
        .filter(|id| !found.contains(id))
        .copied()
        .collect())
}

/// Every store of the tenant, in id order (a chain has hundreds, not
/// millions: the console names them beside what happened there).
pub(crate) fn all(conn: &mut DbConnection, tenant: TenantId) -> Result<Vec<Store>, Error> {
    stores::table
        .filter(stores::tenant_id.eq(tenant))
        .select(Row::as_select())
        .order(stores::id)
        .load(conn)?
        .into_iter()
        .map(Store::try_from)
        .collect()
}
