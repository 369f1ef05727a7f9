//! Approval policy versions: the current one, any earlier one, and storing a new
//! one. Versions are never edited (the database refuses).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{policy_proposals, policy_versions, stores, tenants};
use crate::domain::FieldError;
use crate::domain::ids::{PolicyProposalId, StoreId, TenantId};
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

/// The policy a command decides by: its version and rules.
pub(crate) struct InForce {
    /// Its version.
    pub version: i32,
    /// Its rules.
    pub policy: std::sync::Arc<Policy>,
}

/// The version in force from its number and document as a command read them
/// (with its other footing, in one statement), or the default when the tenant
/// has stored none. A document is parsed once per (tenant, version) and kept
/// while its text is the same: every request decides by it, and parsing its
/// JSON each time was a share of a write's CPU.
pub(crate) fn in_force(
    conn: &mut DbConnection,
    tenant: TenantId,
    newest: Option<(i32, String)>,
) -> Result<InForce, Error> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Parsed = HashMap<(TenantId, i32), (String, Arc<Policy>)>;
    static PARSED: OnceLock<Mutex<Parsed>> = OnceLock::new();
    let Some((version, document)) = newest else {
        let v = default_version(conn, tenant)?;
        return Ok(InForce {
            version: v.version,
            policy: Arc::new(v.policy),
        });
    };
    let cache = PARSED.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(kept) = cache.lock()
        && let Some((text, policy)) = kept.get(&(tenant, version))
        && *text == document
    {
        return Ok(InForce {
            version,
            policy: Arc::clone(policy),
        });
    }
    let policy = Arc::new(parse(version, &document)?);
    if let Ok(mut kept) = cache.lock() {
        if kept.len() >= 10_000 {
            kept.clear();
        }
        kept.insert((tenant, version), (document, Arc::clone(&policy)));
    }
    Ok(InForce { version, policy })
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

/// Refuses a policy that breaks its rules or names a store the tenant does
/// not have (422 listing every problem).
pub(crate) fn check(
    conn: &mut DbConnection,
    tenant: TenantId,
    policy: &Policy,
) -> Result<(), Error> {
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
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(problems))
    }
}

/// The version in force, with the tenant's policy locked until the
/// transaction ends (PostgreSQL; SQLite's single writer is the lock).
pub(crate) fn lock_current(
    conn: &mut DbConnection,
    tenant: TenantId,
) -> Result<PolicyVersion, Error> {
    let q = tenants::table
        .filter(tenants::id.eq(tenant))
        .select(tenants::id);
    match conn {
        DbConnection::Pg(c) => q.for_update().first::<TenantId>(c)?,
        DbConnection::Sqlite(c) => q.first::<TenantId>(c)?,
    };
    current(conn, tenant)
}

/// Stores `policy` as the version after `before` (locked with
/// [`lock_current`]), written by `created_by`.
pub(crate) fn insert_next(
    conn: &mut DbConnection,
    tenant: TenantId,
    before: &PolicyVersion,
    policy: Policy,
    created_by: &str,
    now: NaiveDateTime,
) -> Result<PolicyVersion, Error> {
    if latest_number(conn, tenant)?.is_none() {
        seed(conn, tenant, before.created_at)?;
    }
    let next = PolicyVersion {
        version: before.version + 1,
        policy,
        created_by: created_by.to_owned(),
        created_at: now,
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
    Ok(next)
}

/// The tenant's store currencies and store ids (what a loosening is judged on).
pub(crate) fn tenant_stores(
    conn: &mut DbConnection,
    tenant: TenantId,
) -> Result<(Vec<crate::domain::money::Currency>, Vec<StoreId>), Error> {
    let rows: Vec<(StoreId, String)> = stores::table
        .filter(stores::tenant_id.eq(tenant))
        .select((stores::id, stores::currency))
        .load(conn)?;
    let mut currencies: Vec<_> = rows
        .iter()
        .filter_map(|(_, c)| crate::domain::money::Currency::from_code(c))
        .collect();
    currencies.sort();
    currencies.dedup();
    Ok((currencies, rows.into_iter().map(|(id, _)| id).collect()))
}

/// Where a proposal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProposalState {
    /// Waiting for a second admin.
    Pending,
    /// Approved: it became `version`.
    Approved,
    /// Rejected (or withdrawn by its proposer).
    Rejected,
}

impl ProposalState {
    /// The stored and shown spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    /// Parses the stored spelling.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "approved" => Some(Self::Approved),
            "rejected" => Some(Self::Rejected),
            _ => None,
        }
    }
}

/// A policy version that loosens the policy, waiting for a second admin.
#[derive(Clone, Debug)]
pub(crate) struct Proposal {
    /// Its id.
    pub id: PolicyProposalId,
    /// The version in force when it was proposed; it can only replace that one.
    pub base_version: i32,
    /// The rules proposed.
    pub policy: Policy,
    /// How it loosens the policy, in words.
    pub loosens: Vec<String>,
    /// Where it stands.
    pub state: ProposalState,
    /// Who proposed it.
    pub proposed_by: String,
    /// When.
    pub proposed_at: NaiveDateTime,
    /// Who approved or rejected it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<NaiveDateTime>,
    /// The decider's note.
    pub note: Option<String>,
    /// The version it became.
    pub version: Option<i32>,
}

/// A proposal as stored (the proposal's columns but `tenant_id`).
#[derive(Queryable, Selectable)]
#[diesel(table_name = policy_proposals)]
struct ProposalRow {
    id: PolicyProposalId,
    base_version: i32,
    document: String,
    loosens: String,
    state: String,
    proposed_by: String,
    proposed_at: NaiveDateTime,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
    note: Option<String>,
    version: Option<i32>,
}

fn proposal_of(r: ProposalRow) -> Result<Proposal, Error> {
    let id = r.id;
    Ok(Proposal {
        id,
        base_version: r.base_version,
        policy: serde_json::from_str(&r.document)
            .map_err(|e| Error::internal(format!("policy proposal {id} is malformed: {e}")))?,
        loosens: serde_json::from_str(&r.loosens).unwrap_or_default(),
        state: ProposalState::parse(&r.state).ok_or_else(|| {
            Error::internal(format!("policy proposal {id} has state {:?}", r.state))
        })?,
        proposed_by: r.proposed_by,
        proposed_at: r.proposed_at,
        decided_by: r.decided_by,
        decided_at: r.decided_at,
        note: r.note,
        version: r.version,
    })
}

/// Stores a new proposal.
pub(crate) fn insert_proposal(
    conn: &mut DbConnection,
    tenant: TenantId,
    p: &Proposal,
) -> Result<(), Error> {
    diesel::insert_into(policy_proposals::table)
        .values((
            policy_proposals::tenant_id.eq(tenant),
            policy_proposals::id.eq(p.id),
            policy_proposals::base_version.eq(p.base_version),
            policy_proposals::document.eq(serde_json::to_string(&p.policy).unwrap_or_default()),
            policy_proposals::loosens.eq(serde_json::to_string(&p.loosens).unwrap_or_default()),
            policy_proposals::state.eq(p.state.as_str()),
            policy_proposals::proposed_by.eq(&p.proposed_by),
            policy_proposals::proposed_at.eq(p.proposed_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Proposal `id`; 404 if the tenant has none.
pub(crate) fn proposal(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: PolicyProposalId,
) -> Result<Proposal, Error> {
    let row: Option<ProposalRow> = policy_proposals::table
        .filter(
            policy_proposals::tenant_id
                .eq(tenant)
                .and(policy_proposals::id.eq(id)),
        )
        .select(ProposalRow::as_select())
        .first(conn)
        .optional()?;
    row.map_or_else(
        || Err(Error::NotFound(format!("no policy proposal {id}"))),
        proposal_of,
    )
}

/// A page of proposals in the order they were made, optionally in one state.
pub(crate) fn proposals(
    conn: &mut DbConnection,
    tenant: TenantId,
    state: Option<ProposalState>,
    page: super::PageRequest<PolicyProposalId>,
) -> Result<super::PageOf<Proposal>, Error> {
    let mut q = policy_proposals::table
        .filter(policy_proposals::tenant_id.eq(tenant))
        .select(ProposalRow::as_select())
        .order(policy_proposals::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(s) = state {
        q = q.filter(policy_proposals::state.eq(s.as_str()));
    }
    super::after_cursor!(conn, q, policy_proposals, tenant, page.starting_after);
    let rows: Vec<ProposalRow> = q.load(conn)?;
    let data = rows
        .into_iter()
        .map(proposal_of)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(super::PageOf::from_rows(data, page.limit))
}

/// Records the decision on a proposal.
pub(crate) fn decide_proposal(
    conn: &mut DbConnection,
    tenant: TenantId,
    p: &Proposal,
) -> Result<(), Error> {
    diesel::update(
        policy_proposals::table.filter(
            policy_proposals::tenant_id
                .eq(tenant)
                .and(policy_proposals::id.eq(p.id)),
        ),
    )
    .set((
        policy_proposals::state.eq(p.state.as_str()),
        policy_proposals::decided_by.eq(&p.decided_by),
        policy_proposals::decided_at.eq(p.decided_at),
        policy_proposals::note.eq(&p.note),
        policy_proposals::version.eq(p.version),
    ))
    .execute(conn)?;
    Ok(())
}
