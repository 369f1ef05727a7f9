//! The approval policy: versioned data, a new version per change. A change that
//! loosens the policy ([`crate::domain::loosening`]) is a proposal until a
//! second admin approves it; any other change takes effect at once.

use crate::app::Ctx;
use crate::audit::NewEvent;
use crate::domain::ids::PolicyProposalId;
use crate::domain::loosening::loosenings;
use crate::domain::policy::Policy;
use crate::domain::roles::Permission;
use crate::error::{Error, ErrorCode};
use crate::store::DbConnection;
use crate::store::policy::{PolicyVersion, Proposal, ProposalState};
use crate::views::policy::{PolicyView, ProposalView};

/// What storing a policy did.
pub(crate) enum PolicyChange {
    /// It took effect as this version.
    Applied(PolicyVersion),
    /// It loosens the policy: it waits for a second admin.
    Proposed(Proposal),
}

/// Stores `policy` as the tenant's next version when it does not loosen the
/// one in force (`policy.updated`); otherwise keeps it as a proposal for a
/// second admin (`policy.proposed`). Validated whole either way.
pub(crate) fn update_policy(
    conn: &mut DbConnection,
    ctx: &Ctx,
    policy: Policy,
) -> Result<PolicyChange, Error> {
    ctx.require(Permission::PolicyWrite)?;
    ctx.require_tenant_wide()?;
    crate::store::policy::check(conn, ctx.tenant, &policy)?;
    let before = crate::store::policy::lock_current(conn, ctx.tenant)?;
    let (currencies, stores) = crate::store::policy::tenant_stores(conn, ctx.tenant)?;
    let loosens = loosenings(&before.policy, &policy, &currencies, &stores);
    if loosens.is_empty() {
        return apply(conn, ctx, &before, policy, &ctx.actor_sub).map(PolicyChange::Applied);
    }
    let proposal = Proposal {
        id: PolicyProposalId::new(),
        base_version: before.version,
        policy,
        loosens,
        state: ProposalState::Pending,
        proposed_by: ctx.actor_sub.clone(),
        proposed_at: ctx.now,
        decided_by: None,
        decided_at: None,
        note: None,
        version: None,
    };
    crate::store::policy::insert_proposal(conn, ctx.tenant, &proposal)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created(
            "policy.proposed",
            "policy_proposal",
            proposal.id,
            &ProposalView::of(proposal.clone()),
        ),
    )?;
    Ok(PolicyChange::Proposed(proposal))
}

/// What an admin decides about a proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProposalDecision {
    /// It becomes the next version.
    Approve,
    /// It is set aside (its proposer withdraws it this way too).
    Reject,
}

/// Decides a pending proposal (409 `already_decided` once decided).
///
/// Approved, it becomes the next version, written by its proposer and
/// approved by the caller, who must be another admin (403 `self_approval`); a
/// proposal made against a version no longer in force is refused (409
/// `proposal_stale`): the policy it would replace has changed. Rejected, it
/// decides nothing (`policy.proposal_rejected`).
pub(crate) fn decide_proposal(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: PolicyProposalId,
    decision: ProposalDecision,
    note: Option<String>,
) -> Result<Proposal, Error> {
    ctx.require(Permission::PolicyWrite)?;
    ctx.require_tenant_wide()?;
    let current = crate::store::policy::lock_current(conn, ctx.tenant)?;
    let before = pending(conn, ctx, id)?;
    let (state, version, action) = match decision {
        ProposalDecision::Reject => (ProposalState::Rejected, None, "policy.proposal_rejected"),
        ProposalDecision::Approve => {
            if before.proposed_by == ctx.actor_sub {
                return Err(Error::Forbidden {
                    code: ErrorCode::SelfApproval,
                    detail: "you proposed this policy: another admin must approve it".into(),
                });
            }
            if before.base_version != current.version {
                return Err(Error::Conflict {
                    code: ErrorCode::ProposalStale,
                    detail: format!(
                        "this proposal was made against policy version {}, and version {} is \
                         now in force: propose the change again",
                        before.base_version, current.version
                    ),
                    existing_id: None,
                });
            }
            let v = apply(
                conn,
                ctx,
                &current,
                before.policy.clone(),
                &before.proposed_by,
            )?;
            (
                ProposalState::Approved,
                Some(v.version),
                "policy.proposal_approved",
            )
        }
    };
    let after = decided(&before, ctx, state, note, version);
    crate::store::policy::decide_proposal(conn, ctx.tenant, &after)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::changed(
            action,
            "policy_proposal",
            id,
            &ProposalView::of(before),
            &ProposalView::of(after.clone()),
        ),
    )?;
    Ok(after)
}

/// Proposal `id`, still pending (409 `already_decided` otherwise).
fn pending(conn: &mut DbConnection, ctx: &Ctx, id: PolicyProposalId) -> Result<Proposal, Error> {
    let p = crate::store::policy::proposal(conn, ctx.tenant, id)?;
    if p.state != ProposalState::Pending {
        return Err(Error::AlreadyDecided {
            decision: p.state.as_str(),
            detail: format!("this proposal was already {}", p.state.as_str()),
        });
    }
    Ok(p)
}

fn decided(
    p: &Proposal,
    ctx: &Ctx,
    state: ProposalState,
    note: Option<String>,
    version: Option<i32>,
) -> Proposal {
    Proposal {
        state,
        decided_by: Some(ctx.actor_sub.clone()),
        decided_at: Some(ctx.now),
        note,
        version,
        ..p.clone()
    }
}

/// Stores the next version and audits it (`policy.updated`).
fn apply(
    conn: &mut DbConnection,
    ctx: &Ctx,
    before: &PolicyVersion,
    policy: Policy,
    created_by: &str,
) -> Result<PolicyVersion, Error> {
    let after =
        crate::store::policy::insert_next(conn, ctx.tenant, before, policy, created_by, ctx.now)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::changed(
            "policy.updated",
            "policy",
            ctx.tenant,
            &PolicyView::of(before.clone()),
            &PolicyView::of(after.clone()),
        ),
    )?;
    Ok(after)
}
