//! Customers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::customers;
use super::{DbConnection, PageOf, PageRequest};
use crate::domain::customer::{Customer, CustomerPatch, NewCustomer};
use crate::domain::ids::{CustomerId, StoreId, TenantId};
use crate::error::{Error, ErrorCode, is_unique_violation};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);
diesel::define_sql_function!(
    #[sql_name = "lower"]
    fn lower_opt(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>
);

#[derive(Queryable, Selectable)]
#[diesel(table_name = customers)]
struct Row {
    tenant_id: TenantId,
    id: CustomerId,
    external_ref: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    home_store_id: Option<StoreId>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<Row> for Customer {
    fn from(r: Row) -> Self {
        Customer {
            id: r.id,
            tenant_id: r.tenant_id,
            external_ref: r.external_ref,
            name: r.name,
            email: r.email,
            phone: r.phone,
            home_store_id: r.home_store_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The customer with this external reference, if any.
pub fn find_by_external_ref(
    conn: &mut DbConnection,
    tenant: TenantId,
    external_ref: &str,
) -> Result<Option<CustomerId>, Error> {
    Ok(customers::table
        .filter(
            customers::tenant_id
                .eq(tenant)
                .and(customers::external_ref.eq(external_ref)),
        )
        .select(customers::id)
        .first(conn)
        .optional()?)
}

fn duplicate(external_ref: &str, existing: Option<CustomerId>) -> Error {
    Error::Conflict {
        code: ErrorCode::DuplicateExternalRef,
        detail: match existing {
            Some(id) => format!("customer {id} already has external_ref {external_ref:?}"),
            None => format!("a customer already has external_ref {external_ref:?}"),
        },
        existing_id: existing.map(|id| id.to_string()),
    }
}

fn check_home_store(
    conn: &mut DbConnection,
    tenant: TenantId,
    store: Option<StoreId>,
) -> Result<(), Error> {
    if let Some(store) = store
        && !super::stores::missing(conn, tenant, &[store])?.is_empty()
    {
        return Err(Error::field("home_store_id", format!("no store {store}")));
    }
    Ok(())
}

/// Runs an insert or update that may hit the unique `external_ref` inside a
/// savepoint, so that when a concurrent request wins the race the transaction is
/// still usable to name the winner in the 409.
fn guard_external_ref<F>(
    conn: &mut DbConnection,
    tenant: TenantId,
    external_ref: &str,
    write: F,
) -> Result<(), Error>
where
    F: FnOnce(&mut DbConnection) -> QueryResult<usize>,
{
    match conn.transaction(write) {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => {
            let existing = find_by_external_ref(conn, tenant, external_ref)?;
            Err(duplicate(external_ref, existing))
        }
        Err(e) => Err(e.into()),
    }
}

/// Creates a customer; a duplicate `external_ref` → 409 naming the existing one.
pub(crate) fn create(
    conn: &mut DbConnection,
    tenant: TenantId,
    new: NewCustomer,
    now: NaiveDateTime,
) -> Result<Customer, Error> {
    if let Some(existing) = find_by_external_ref(conn, tenant, &new.external_ref)? {
        return Err(duplicate(&new.external_ref, Some(existing)));
    }
    check_home_store(conn, tenant, new.home_store_id)?;
    let c = Customer {
        id: CustomerId::new(),
        tenant_id: tenant,
        external_ref: new.external_ref,
        name: new.name,
        email: new.email,
        phone: new.phone,
        home_store_id: new.home_store_id,
        created_at: now,
        updated_at: now,
    };
    guard_external_ref(conn, tenant, &c.external_ref.clone(), |conn| {
        diesel::insert_into(customers::table)
            .values((
                customers::tenant_id.eq(tenant),
                customers::id.eq(c.id),
                customers::external_ref.eq(&c.external_ref),
                customers::name.eq(&c.name),
                customers::email.eq(&c.email),
                customers::phone.eq(&c.phone),
                customers::home_store_id.eq(c.home_store_id),
                customers::created_at.eq(c.created_at),
                customers::updated_at.eq(c.updated_at),
            ))
            .execute(conn)
    })?;
    Ok(c)
}

/// Creates customers known only by their external reference (named by it),
/// as a sales import does with `--create-customers`; the caller has checked
/// that the references are new. A reference taken meanwhile fails the
/// statement with a unique violation.
pub(crate) fn insert_named(
    conn: &mut DbConnection,
    tenant: TenantId,
    new: &[(CustomerId, String)],
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    for chunk in new.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(id, r)| {
                (
                    customers::tenant_id.eq(tenant),
                    customers::id.eq(*id),
                    customers::external_ref.eq(r.as_str()),
                    customers::name.eq(r.as_str()),
                    customers::created_at.eq(now),
                    customers::updated_at.eq(now),
                )
            })
            .collect();
        crate::each_backend!(&mut *conn, |c| diesel::insert_into(customers::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(())
}

/// One customer of the tenant.
pub(crate) fn get(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: CustomerId,
) -> Result<Customer, Error> {
    customers::table
        .filter(customers::tenant_id.eq(tenant).and(customers::id.eq(id)))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Customer::from)
        .ok_or_else(|| Error::NotFound(format!("no customer {id}")))
}

/// The customers of `ids` that the tenant has (one statement).
pub(crate) fn by_ids(
    conn: &mut DbConnection,
    tenant: TenantId,
    ids: &[CustomerId],
) -> Result<Vec<Customer>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(customers::table
        .filter(
            customers::tenant_id
                .eq(tenant)
                .and(customers::id.eq_any(ids.to_vec())),
        )
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Customer::from)
        .collect())
}

#[derive(AsChangeset)]
#[diesel(table_name = customers)]
struct Changes<'a> {
    external_ref: Option<&'a str>,
    name: Option<&'a str>,
    email: Option<Option<&'a str>>,
    phone: Option<Option<&'a str>>,
    home_store_id: Option<Option<StoreId>>,
    updated_at: NaiveDateTime,
}

/// Applies a partial update; returns the customer before and after. Only the
/// columns the patch names are written, so two updates of different fields never
/// undo each other.
pub(crate) fn update(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: CustomerId,
    patch: &CustomerPatch,
    now: NaiveDateTime,
) -> Result<(Customer, Customer), Error> {
    let before = get(conn, tenant, id)?;
    let mut after = before.clone();
    if !patch.apply(&mut after) {
        return Ok((before, after));
    }
    if let Some(r) = &patch.external_ref
        && *r != before.external_ref
        && let Some(existing) = find_by_external_ref(conn, tenant, r)?
    {
        return Err(duplicate(r, Some(existing)));
    }
    if let Some(store) = patch.home_store_id {
        check_home_store(conn, tenant, store)?;
    }
    let changes = Changes {
        external_ref: patch.external_ref.as_deref(),
        name: patch.name.as_deref(),
        email: patch.email.as_ref().map(Option::as_deref),
        phone: patch.phone.as_ref().map(Option::as_deref),
        home_store_id: patch.home_store_id,
        updated_at: now,
    };
    guard_external_ref(conn, tenant, &after.external_ref.clone(), |conn| {
        diesel::update(
            customers::table.filter(customers::tenant_id.eq(tenant).and(customers::id.eq(id))),
        )
        .set(&changes)
        .execute(conn)
    })?;
    let after = get(conn, tenant, id)?;
    Ok((before, after))
}

/// Filters of the customer list.
#[derive(Clone, Debug, Default)]
pub(crate) struct Filter {
    /// Exact external reference.
    pub external_ref: Option<String>,
    /// Case-insensitive substring of name, external reference, e-mail or phone.
    pub q: Option<String>,
}

fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A page of the tenant's customers, in id (creation) order.
pub(crate) fn list(
    conn: &mut DbConnection,
    tenant: TenantId,
    filter: &Filter,
    page: PageRequest<CustomerId>,
) -> Result<PageOf<Customer>, Error> {
    let mut q = customers::table
        .filter(customers::tenant_id.eq(tenant))
        .select(Row::as_select())
        .order(customers::id)
        .limit(page.limit + 1)
        .into_boxed();
    super::after_cursor!(conn, q, customers, tenant, page.starting_after);
    if let Some(r) = &filter.external_ref {
        q = q.filter(customers::external_ref.eq(r.clone()));
    }
    if let Some(text) = &filter.q {
        let pat = like_pattern(text);
        q = q.filter(
            lower(customers::name)
                .like(pat.clone())
                .escape('\\')
                .or(lower(customers::external_ref)
                    .like(pat.clone())
                    .escape('\\'))
                .or(lower_opt(customers::email).like(pat.clone()).escape('\\'))
                .or(lower_opt(customers::phone).like(pat).escape('\\')),
        );
    }
    let page_of = PageOf::from_rows(q.load(conn)?, page.limit);
    Ok(PageOf {
        items: page_of.items.into_iter().map(Customer::from).collect(),
        has_more: page_of.has_more,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(super::like_pattern("A_b%"), "%a\\_b\\%%");
    }
}
