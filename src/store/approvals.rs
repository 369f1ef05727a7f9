//! Deciding pending gestures: approve, reject, cancel, expire; the queue of what
//! a caller may decide; and the segregation-of-duties rules.
//!
//! Exactly once: every decision first locks the gesture's customer (the lock
//! every money command takes first), then reads the gesture afresh and acts only
//! if it is still pending and not past its expiry. Whoever comes second reads the
//! winner's status and gets 409 `already_decided` naming it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::gestures;
use super::schema::{gestures as gestures_t, incidents, staff};
use crate::audit::AuditCtx;
use crate::domain::gesture::{Gesture, GestureKind, GestureStatus};
use crate::domain::ids::{GestureId, IncidentId, StaffId, StoreId, TenantId};
use crate::domain::policy::{Decided, DecisionRecord};
use crate::domain::roles::Role;
use crate::error::{Error, ErrorCode};

/// What an approver or the requester says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// It takes effect.
    Approve,
    /// It never takes effect.
    Reject,
    /// The requester withdraws it.
    Cancel,
}

impl Verdict {
    fn status(self) -> GestureStatus {
        match self {
            Verdict::Approve => GestureStatus::Approved,
            Verdict::Reject => GestureStatus::Rejected,
            Verdict::Cancel => GestureStatus::Cancelled,
        }
    }
}

/// The decision record of a gesture. Gestures recorded before decisions were
/// kept whole get theirs rebuilt from the policy version that decided them.
pub(crate) fn record_of(conn: &mut DbConnection, g: &Gesture) -> Result<DecisionRecord, Error> {
    if let Some(a) = &g.approval {
        return Ok(a.clone());
    }
    let v = super::policy::version(conn, g.tenant_id, g.policy_version)?;
    let pending = g.decision_rule != "within_self_grant_limit" && g.decision_rule != "non_monetary";
    let tier = g
        .terms
        .value()
        .filter(|_| pending)
        .map(|m| v.policy.tier_of(m.minor(), g.currency));
    Ok(DecisionRecord {
        rule: g.decision_rule.clone(),
        self_grant_limit_minor: None,
        trust_bonus_minor: None,
        split_window_minor: None,
        tier: tier.map(|t| t + 1),
        approvers: tier.map(|t| v.policy.approvers(t)).unwrap_or_default(),
        budgets: Vec::new(),
        expires_at: tier
            .map(|_| g.created_at + chrono::TimeDelta::hours(v.policy.pending_expiry_hours)),
        decided: None,
        requester_stores: None,
    })
}

/// Whether a pending gesture is past its expiry at `now`.
pub(crate) fn is_expired(record: &DecisionRecord, now: NaiveDateTime) -> bool {
    record.expires_at.is_some_and(|e| now >= e)
}

/// The staff records whose `subject` is this token's `sub`.
pub(crate) fn staff_of(
    conn: &mut DbConnection,
    tenant: TenantId,
    sub: &str,
) -> Result<Vec<StaffId>, Error> {
    Ok(staff::table
        .filter(staff::tenant_id.eq(tenant).and(staff::subject.eq(sub)))
        .select(staff::id)
        .load(conn)?)
}

/// The staff an incident names.
fn incident_staff(
    conn: &mut DbConnection,
    tenant: TenantId,
    incident: IncidentId,
) -> Result<Vec<StaffId>, Error> {
    let text: Option<String> = incidents::table
        .filter(
            incidents::tenant_id
                .eq(tenant)
                .and(incidents::id.eq(incident)),
        )
        .select(incidents::staff_ids)
        .first(conn)
        .optional()?;
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default())
}

/// Who is asking to decide, as the segregation rules see them.
pub(crate) struct Approver<'a> {
    /// Token `sub`.
    pub sub: &'a str,
    /// Role.
    pub role: Role,
    /// Stores the token holds (`None`: all).
    pub stores: Option<&'a [StoreId]>,
    /// Staff records whose subject is `sub`.
    pub staff: &'a [StaffId],
}

/// Why `who` may not approve or reject `g`, in the order the rules are checked;
/// `None` when they may.
pub(crate) fn refusal(
    who: &Approver<'_>,
    g: &Gesture,
    record: &DecisionRecord,
    incident_staff: &[StaffId],
) -> Option<Error> {
    let forbid =
        |code: crate::error::ErrorCode, detail: String| Some(Error::Forbidden { code, detail });
    if g.requested_by == who.sub {
        return forbid(
            ErrorCode::SelfApproval,
            "nobody decides their own request: another approver must".into(),
        );
    }
    if g.staff_ids.iter().any(|s| who.staff.contains(s)) {
        return forbid(
            ErrorCode::NamedStaff,
            "the gesture names you: a staff member it names may not decide it".into(),
        );
    }
    if incident_staff.iter().any(|s| who.staff.contains(s)) {
        return forbid(
            ErrorCode::StaffAtFault,
            "the gesture's incident names you: staff at fault may not decide its recovery".into(),
        );
    }
    if let Err(e) = Error::require_store(who.stores, g.store_id) {
        return Some(e);
    }
    if !record.approvers.contains(&who.role) {
        let roles: Vec<&str> = record.approvers.iter().map(|r| r.as_str()).collect();
        return forbid(
            ErrorCode::ApprovalTier,
            format!(
                "tier {} of policy version {} is decided by {}; a {} may not",
                record.tier.unwrap_or(0),
                g.policy_version,
                roles.join(" or "),
                who.role
            ),
        );
    }
    None
}

fn already(g: &Gesture, record: &DecisionRecord, expired: bool) -> Error {
    if expired {
        let at = record
            .expires_at
            .map(|t| crate::views::timestamp(&t))
            .unwrap_or_default();
        return Error::AlreadyDecided {
            decision: GestureStatus::Expired.as_str(),
            detail: format!("gesture {} expired at {at} before anyone decided it", g.id),
        };
    }
    let by = record
        .decided
        .as_ref()
        .map(|d| format!(" by {} at {}", d.by, crate::views::timestamp(&d.at)))
        .unwrap_or_default();
    Error::AlreadyDecided {
        decision: g.status.as_str(),
        detail: format!("gesture {} is already {}{by}", g.id, g.status.as_str()),
    }
}

/// Approves, rejects or cancels a pending gesture: (before, after). Approval puts
/// it into effect (its postings) in the same transaction.
pub(crate) fn decide(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    id: GestureId,
    verdict: Verdict,
    note: Option<String>,
) -> Result<(Gesture, Gesture), Error> {
    let tenant = ctx.tenant;
    let before = super::lifecycle::locked_gesture(conn, tenant, id)?;
    // Outside the token's stores nothing about the request is answered but
    // that: the store check comes before its state.
    ctx.require_store(before.store_id)?;
    let record = record_of(conn, &before)?;
    if before.status != GestureStatus::PendingApproval {
        return Err(already(&before, &record, false));
    }
    if is_expired(&record, ctx.now) {
        return Err(already(&before, &record, true));
    }
    match verdict {
        Verdict::Cancel => {
            if before.requested_by != ctx.actor_sub {
                return Err(Error::Forbidden {
                    code: ErrorCode::NotRequester,
                    detail: "only the requester may cancel a pending request".into(),
                });
            }
        }
        Verdict::Approve | Verdict::Reject => {
            let mine = staff_of(conn, tenant, &ctx.actor_sub)?;
            let at_fault = match before.incident_id {
                Some(i) if !mine.is_empty() => incident_staff(conn, tenant, i)?,
                _ => Vec::new(),
            };
            let who = Approver {
                sub: &ctx.actor_sub,
                role: ctx.actor_role,
                stores: ctx.actor_stores.as_deref(),
                staff: &mine,
            };
            if let Some(e) = refusal(&who, &before, &record, &at_fault) {
                return Err(e);
            }
        }
    }
    let mut after = before.clone();
    after.status = verdict.status();
    after.updated_at = ctx.now;
    let mut record = record;
    let scope = crate::domain::roles::shared_scope(
        record.requester_stores.as_deref(),
        ctx.actor_stores.as_deref(),
    );
    record.decided = Some(Decided {
        outcome: verdict.status().as_str().to_owned(),
        by: ctx.actor_sub.clone(),
        role: Some(ctx.actor_role),
        at: ctx.now,
        note,
    });
    after.approval = Some(record);
    if verdict == Verdict::Approve {
        gestures::take_effect(conn, ctx, &mut after, false, scope.as_deref())?;
    }
    gestures::save(conn, &after)?;
    Ok((before, after))
}

/// Pending gestures (of one tenant, or all), oldest first: (tenant, id).
pub(crate) fn pending(
    conn: &mut DbConnection,
    tenant: Option<TenantId>,
) -> Result<Vec<(TenantId, GestureId)>, Error> {
    let mut q = gestures_t::table
        .filter(gestures_t::status.eq(GestureStatus::PendingApproval.as_str()))
        .select((gestures_t::tenant_id, gestures_t::id))
        .order((gestures_t::tenant_id, gestures_t::id))
        .into_boxed();
    if let Some(t) = tenant {
        q = q.filter(gestures_t::tenant_id.eq(t));
    }
    Ok(q.load(conn)?)
}

/// Marks a pending gesture expired if it is past its expiry at `ctx.now`:
/// (before, after), or `None` when it is not (or no longer) due.
pub(crate) fn expire(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    id: GestureId,
) -> Result<Option<(Gesture, Gesture)>, Error> {
    let before = super::lifecycle::locked_gesture(conn, ctx.tenant, id)?;
    let mut record = record_of(conn, &before)?;
    if before.status != GestureStatus::PendingApproval || !is_expired(&record, ctx.now) {
        return Ok(None);
    }
    let mut after = before.clone();
    after.status = GestureStatus::Expired;
    after.updated_at = ctx.now;
    record.decided = Some(Decided {
        outcome: GestureStatus::Expired.as_str().to_owned(),
        by: ctx.actor_sub.clone(),
        role: None,
        at: ctx.now,
        note: None,
    });
    after.approval = Some(record);
    gestures::save(conn, &after)?;
    Ok(Some((before, after)))
}

/// Filters of the approval queue.
#[derive(Clone, Debug, Default)]
pub(crate) struct QueueFilter {
    /// One store.
    pub store_id: Option<StoreId>,
    /// One kind.
    pub kind: Option<GestureKind>,
    /// Instead of what the caller may decide: what waits at the caller's
    /// stores for someone else (read only).
    pub others: bool,
}

/// Why a pending gesture at the caller's stores waits for someone else.
#[derive(Clone, Debug)]
pub(crate) struct WaitingFor {
    /// The rule that keeps the caller out (`approval_tier`, `self_approval`,
    /// `named_staff`, `staff_at_fault`).
    pub reason: ErrorCode,
    /// The roles that may decide it.
    pub approvers: Vec<Role>,
    /// The rule, in words.
    pub detail: String,
}

/// One entry of the approval queue: the gesture, its decision record and,
/// in the read-only list, why it waits for someone else.
pub(crate) type Queued = (Gesture, DecisionRecord, Option<WaitingFor>);

/// The pending gestures `who` may decide at `now` (with `filter.others`:
/// those at `who`'s stores that wait for someone else), oldest first, after
/// `starting_after`; at most `limit`, and whether more follow. Reads the
/// pending ones in batches and keeps those the rules let `who` decide.
pub(crate) fn queue(
    conn: &mut DbConnection,
    tenant: TenantId,
    who: &Approver<'_>,
    filter: &QueueFilter,
    starting_after: Option<GestureId>,
    limit: i64,
    now: NaiveDateTime,
) -> Result<(Vec<Queued>, bool), Error> {
    if let Some(c) = starting_after {
        super::known_cursor(
            diesel::select(diesel::dsl::exists(
                gestures_t::table
                    .filter(gestures_t::tenant_id.eq(tenant).and(gestures_t::id.eq(c))),
            ))
            .get_result(conn)?,
        )?;
    }
    let want = usize::try_from(limit).unwrap_or(0);
    // Read twice what a page needs at a time (most pending requests are the
    // approver's to decide), never more than 200.
    let batch = (limit.saturating_add(1)).saturating_mul(2).clamp(10, 200);
    let mut out = Vec::new();
    let mut cursor = starting_after;
    loop {
        let mut q = gestures_t::table
            .filter(
                gestures_t::tenant_id
                    .eq(tenant)
                    .and(gestures_t::status.eq(GestureStatus::PendingApproval.as_str())),
            )
            .select(gestures_t::id)
            .order(gestures_t::id)
            .limit(batch)
            .into_boxed();
        if let Some(c) = cursor {
            q = q.filter(gestures_t::id.gt(c));
        }
        if let Some(s) = filter.store_id {
            q = q.filter(gestures_t::store_id.eq(s));
        }
        if let Some(k) = filter.kind {
            q = q.filter(gestures_t::kind.eq(k.as_str()));
        }
        let ids: Vec<GestureId> = q.load(conn)?;
        let Some(last) = ids.last().copied() else {
            return Ok((out, false));
        };
        for g in gestures::by_ids(conn, tenant, &ids)? {
            let record = record_of(conn, &g)?;
            if is_expired(&record, now) {
                continue;
            }
            let at_fault = match g.incident_id {
                Some(i) if !who.staff.is_empty() => incident_staff(conn, tenant, i)?,
                _ => Vec::new(),
            };
            let waiting = match refusal(who, &g, &record, &at_fault) {
                None if !filter.others => None,
                Some(Error::Forbidden { code, detail })
                    if filter.others && Error::require_store(who.stores, g.store_id).is_ok() =>
                {
                    Some(WaitingFor {
                        reason: code,
                        approvers: record.approvers.clone(),
                        detail,
                    })
                }
                _ => continue,
            };
            if out.len() == want {
                return Ok((out, true));
            }
            out.push((g, record, waiting));
        }
        cursor = Some(last);
    }
}
