//! A till's durable references: what it calls each gesture, payment and
//! redemption it records, unique per store and kind. Idempotency keys are
//! purged after a day or more; a till's offline backlog can be older, and its
//! own reference still enters each record once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::client_refs;
use crate::domain::ids::{StoreId, TenantId};
use crate::error::Error;

/// 409 `duplicate_client_ref` naming the record when `client_ref` already
/// names a `kind` (`gesture`, `payment`, `redemption`) at the store.
pub(crate) fn check(
    conn: &mut DbConnection,
    tenant: TenantId,
    store: StoreId,
    kind: &str,
    client_ref: &str,
) -> Result<(), Error> {
    let existing: Option<String> = client_refs::table
        .filter(
            client_refs::tenant_id
                .eq(tenant)
                .and(client_refs::store_id.eq(store))
                .and(client_refs::kind.eq(kind))
                .and(client_refs::client_ref.eq(client_ref)),
        )
        .select(client_refs::entity_id)
        .first(conn)
        .optional()?;
    match existing {
        Some(id) => Err(Error::duplicate_client_ref(kind, client_ref, id)),
        None => Ok(()),
    }
}

/// Records that `client_ref` names `entity` (in the command's transaction: a
/// concurrent repeat fails on the primary key).
pub(crate) fn record(
    conn: &mut DbConnection,
    tenant: TenantId,
    store: StoreId,
    kind: &str,
    client_ref: &str,
    entity: impl std::fmt::Display,
    now: NaiveDateTime,
) -> Result<(), Error> {
    diesel::insert_into(client_refs::table)
        .values((
            client_refs::tenant_id.eq(tenant),
            client_refs::store_id.eq(store),
            client_refs::kind.eq(kind),
            client_refs::client_ref.eq(client_ref),
            client_refs::entity_id.eq(entity.to_string()),
            client_refs::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
