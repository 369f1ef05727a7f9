//! Approval policy versions: the current one, any earlier one, and storing a new
//! one. Versions are never edited (the database refuses).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{policy_versions, stores, tenants};
use crate::audit::AuditCtx;
use crate::domain::FieldError;
use crate::domain::ids::{StoreId, TenantId};
use crate::domain::policy::Policy;
use crate::error::Error;

/// One stored version.
#[derive(Clone, Debug)]
pub(crate) struct PolicyVersion {
    /// 1, 2, ...
    pub version: i32,
    /// The rules.
    pub policy: Policy,
    /// Who stored it (`system` for the default a tenant starts with).
    pub created_by: String,
    /// When.
    pub created_at: NaiveDateTime,
}

/// Who wrote version 1, the default.
pub(crate) const SYSTEM: &str = "system";

fn parse(version: i32, document: &str) -> Result<Policy, Error> {
    serde_json::from_str(document).map_err(|e| {
        Error::internal(format!(
            "policy version {version} is malformed in the database: {e}"
        ))
    })
}

/// The default a tenant starts with: written when the tenant is created. A
/// tenant created before policies were stored reads it as version 1 until its
/// first new version writes version 1 down.
fn default_version(conn: &mut DbConnection, tenant: TenantId) -> Result<PolicyVersion, Error> {
    let created_at: NaiveDateTime = tenants::table
        .filter(tenants::id.eq(tenant))
        .select(tenants::created_at)
        .first(conn)?;
    Ok(PolicyVersion {
        version: 1,
        policy: Policy::default(),
        created_by: SYSTEM.into(),
        created_at,
    })
}

/// Writes version 1 (the default) for a new tenant.
pub(crate) fn seed(
    conn: &mut DbConnection,
    tenant: TenantId,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let doc = serde_json::to_string(&Policy::default()).unwrap_or_default();
    diesel::insert_into(policy_versions::table)
        .values((
            policy_versions::tenant_id.eq(tenant),
            policy_versions::version.eq(1),
            policy_versions::document.eq(doc),
            policy_versions::created_by.eq(SYSTEM),
            policy_versions::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Version `n`; 404 if there is none.
pub(crate) fn version(
    conn: &mut DbConnection,
    tenant: TenantId,
    n: i32,
) -> Result<PolicyVersion, Error> {
    let row: Option<(String, String, NaiveDateTime)> = policy_versions::table
        .filter(
            policy_versions::tenant_id
                .eq(tenant)
                .and(policy_versions::version.eq(n)),
        )
        .select((
            policy_versions::document,
            policy_versions::created_by,
            policy_versions::created_at,
        ))
        .first(conn)
        .optional()?;
    match row {
        Some((doc, created_by, created_at)) => Ok(PolicyVersion {
            version: n,
            policy: parse(n, &doc)?,
            created_by,
            created_at,
        }),
        None if n == 1 && latest_number(conn, tenant)?.is_none() => default_version(conn, tenant),
        None => Err(Error::NotFound(format!("no policy version {n}"))),
    }
}

fn latest_number(conn: &mut DbConnection, tenant: TenantId) -> Result<Option<i32>, Error> {
    Ok(policy_versions::table
        .filter(policy_versions::tenant_id.eq(tenant))
        .select(diesel::dsl::max(policy_versions::version))
        .first(conn)?)
}

/// The version in force: the newest (one index probe; every request reads it).
pub(crate) fn current(conn: &mut DbConnection, tenant: TenantId) -> Result<PolicyVersion, Error> {
    let (mut newest, _) = versions(conn, tenant, None, 1)?;
    newest
        .pop()
        .ok_or_else(|| Error::internal("the tenant has no policy version"))
}

/// Every version, newest first: (version, created_by, created_at), a page of
/// at most `limit` before `before`, and whether more follow.
pub(crate) fn versions(
    conn: &mut DbConnection,
    tenant: TenantId,
    before: Option<i32>,
    limit: i64,
) -> Result<(Vec<PolicyVersion>, bool), Error> {
    let mut q = policy_versions::table
        .filter(policy_versions::tenant_id.eq(tenant))
        .select((
            policy_versions::version,
            policy_versions::document,
            policy_versions::created_by,
            policy_versions::created_at,
        ))
        .order(policy_versions::version.desc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(policy_versions::version.lt(b));
    }
    let rows: Vec<(i32, String, String, NaiveDateTime)> = q.load(conn)?;
    if rows.is_empty() && before.is_none() {
        return Ok((vec![default_version(conn, tenant)?], false));
    }
    let more = rows.len() > usize::try_from(limit).unwrap_or(0);
    let out = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|(version, doc, created_by, created_at)| {
            Ok(PolicyVersion {
                version,
                policy: parse(version, &doc)?,
                created_by,
                created_at,
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok((out, more))
}

/// Stores `policy` as the next version. It must be valid whole (422 listing
/// every problem, stores of the tenant included); concurrent writers queue on
/// the tenant's row, so versions are gapless.
pub(crate) fn put(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    policy: Policy,
) -> Result<(PolicyVersion, PolicyVersion), Error> {
    let tenant = ctx.tenant;
    let mut problems = match policy.validate() {
        Ok(()) => Vec::new(),
        Err(p) => p,
    };
    let wanted: Vec<(usize, StoreId)> = policy
        .store_overrides
        .iter()
        .enumerate()
        .map(|(i, o)| (i, o.store_id))
        .collect();
    if !wanted.is_empty() {
        let ids: Vec<StoreId> = wanted.iter().map(|(_, s)| *s).collect();
        let found: Vec<StoreId> = stores::table
            .filter(stores::tenant_id.eq(tenant).and(stores::id.eq_any(&ids)))
            .select(stores::id)
            .load(conn)?;
        for (i, s) in wanted {
            if !found.contains(&s) {
                problems.push(FieldError::new(
                    format!("store_overrides[{i}].store_id"),
                    format!("no store {s}"),
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::Validation(problems));
    }
    let q = tenants::table
        .filter(tenants::id.eq(tenant))
        .select(tenants::id);
    match conn {
        DbConnection::Pg(c) => q.for_update().first::<TenantId>(c)?,
        DbConnection::Sqlite(c) => q.first::<TenantId>(c)?,
    };
    let before = current(conn, tenant)?;
    if latest_number(conn, tenant)?.is_none() {
        seed(conn, tenant, before.created_at)?;
    }
    let next = PolicyVersion {
        version: before.version + 1,
        policy,
        created_by: ctx.actor_sub.clone(),
        created_at: ctx.now,
    };
    diesel::insert_into(policy_versions::table)
        .values((
            policy_versions::tenant_id.eq(tenant),
            policy_versions::version.eq(next.version),
            policy_versions::document.eq(serde_json::to_string(&next.policy).unwrap_or_default()),
            policy_versions::created_by.eq(&next.created_by),
            policy_versions::created_at.eq(next.created_at),
        ))
        .execute(conn)?;
    Ok((before, next))
}
