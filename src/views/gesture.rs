//! A gesture as the API answers it, the audit trail records it and the feed
//! carries it: one representation, defined once.

use chrono::NaiveDate;
use serde::Serialize;

use super::timestamp;
use crate::domain::gesture::{Gesture, GestureKind, GestureStatus, Terms};
use crate::domain::ids::{CustomerId, GestureId, IncidentId, StaffId, StoreId};
use crate::domain::money::Money;
use crate::domain::policy::{BudgetScope, DecisionRecord};
use crate::domain::roles::Role;

/// A waiver's share of one promise.
#[derive(Serialize, PartialEq, Eq, Debug, Clone)]
pub(crate) struct AllocationView {
    pub(crate) gesture_id: GestureId,
    pub(crate) amount: Money,
}

/// A gesture as the API shows it. Every key is always present; fields of other
/// kinds are null.
#[derive(Serialize, PartialEq, Eq, Debug, Clone)]
pub(crate) struct GestureView {
    pub(crate) id: GestureId,
    pub(crate) customer_id: CustomerId,
    pub(crate) store_id: StoreId,
    pub(crate) kind: GestureKind,
    pub(crate) status: GestureStatus,
    pub(crate) reason_code: String,
    pub(crate) story: String,
    pub(crate) staff_ids: Vec<StaffId>,
    pub(crate) incident_id: Option<IncidentId>,
    pub(crate) effective_on: NaiveDate,
    pub(crate) amount: Option<Money>,
    pub(crate) due_on: Option<NaiveDate>,
    pub(crate) applies_to: Option<Vec<GestureId>>,
    pub(crate) retail_value: Option<Money>,
    pub(crate) cost: Option<Money>,
    pub(crate) expires_on: Option<NaiveDate>,
    pub(crate) estimated_value: Option<Money>,
    pub(crate) paid: Option<Money>,
    pub(crate) outstanding: Option<Money>,
    pub(crate) overdue: Option<bool>,
    pub(crate) credit_remaining: Option<Money>,
    pub(crate) allocations: Option<Vec<AllocationView>>,
    pub(crate) requested_by: String,
    pub(crate) decision: DecisionView,
    pub(crate) write_off_of: Option<GestureId>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

/// A gesture in a list a person reads (`GET /v1/gestures`): the gesture, with
/// its customer's name and external ref and its store's code and name.
#[derive(Serialize, Debug, Clone)]
pub(crate) struct GestureListItem {
    #[serde(flatten)]
    pub(crate) gesture: GestureView,
    pub(crate) customer: super::finance::CustomerRef,
    pub(crate) store: super::finance::StoreRef,
}

/// A budget the decision consulted, with its headroom.
#[derive(Serialize, PartialEq, Eq, Debug, Clone)]
pub(crate) struct BudgetView {
    pub(crate) name: String,
    pub(crate) scope: BudgetScope,
    pub(crate) window_days: i64,
    /// Null for a value-aware budget of a customer without an estimate.
    pub(crate) limit: Option<Money>,
    pub(crate) used: Money,
    pub(crate) left: Option<Money>,
    pub(crate) exceeded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) percent_of_lifetime_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) lifetime_value: Option<Money>,
}

/// The trust bonus applied to a deferred payment's limit.
#[derive(Serialize, PartialEq, Eq, Debug, Clone)]
pub(crate) struct TrustView {
    pub(crate) bonus: Money,
    pub(crate) withdrawn_after_write_off: bool,
}

/// Who decided a pending gesture.
#[derive(Serialize, PartialEq, Eq, Debug, Clone)]
pub(crate) struct DecidedView {
    pub(crate) outcome: String,
    pub(crate) by: String,
    pub(crate) role: Option<Role>,
    pub(crate) at: String,
    pub(crate) note: Option<String>,
}

/// How the approval decision went: the policy version and rule, the limit and
/// budgets weighed, and for a request that waits, the tier and the roles that
/// may approve it (a manager only at stores their token holds).
#[derive(Serialize, PartialEq, Eq, Debug, Clone)]
pub(crate) struct DecisionView {
    pub(crate) policy_version: i32,
    pub(crate) rule: String,
    pub(crate) self_grant_limit: Option<Money>,
    pub(crate) trust: Option<TrustView>,
    pub(crate) tier: Option<usize>,
    pub(crate) approvers: Vec<Role>,
    pub(crate) budgets: Vec<BudgetView>,
    pub(crate) expires_at: Option<String>,
    pub(crate) decided: Option<DecidedView>,
}

impl DecisionView {
    /// The view of a gesture's decision record.
    pub(crate) fn of(g: &Gesture, record: Option<&DecisionRecord>) -> Self {
        let money = |minor: i64| Money::from_minor(minor, g.currency);
        let Some(r) = record else {
            return Self {
                policy_version: g.policy_version,
                rule: g.decision_rule.clone(),
                self_grant_limit: None,
                trust: None,
                tier: None,
                approvers: Vec::new(),
                budgets: Vec::new(),
                expires_at: None,
                decided: None,
            };
        };
        Self {
            policy_version: g.policy_version,
            rule: r.rule.clone(),
            self_grant_limit: r.self_grant_limit_minor.map(money),
            trust: r.trust_bonus_minor.map(|b| TrustView {
                bonus: money(b.max(0)),
                withdrawn_after_write_off: b < 0,
            }),
            tier: r.tier,
            approvers: r.approvers.clone(),
            budgets: r
                .budgets
                .iter()
                .map(|b| BudgetView {
                    name: b.name.clone(),
                    scope: b.scope,
                    window_days: b.window_days,
                    limit: b.limit_minor.map(money),
                    used: money(b.used_minor),
                    left: b.left_minor.map(money),
                    exceeded: b.exceeded,
                    percent_of_lifetime_value: b.percent_of_lifetime_value.clone(),
                    lifetime_value: b.lifetime_value_minor.map(money),
                })
                .collect(),
            expires_at: r.expires_at.as_ref().map(timestamp),
            decided: r.decided.as_ref().map(|d| DecidedView {
                outcome: d.outcome.clone(),
                by: d.by.clone(),
                role: d.role,
                at: timestamp(&d.at),
                note: d.note.clone(),
            }),
        }
    }
}

impl GestureView {
    /// The view of `g` on `today`, with a waiver's allocations when known.
    pub(crate) fn of(
        g: &Gesture,
        today: NaiveDate,
        allocations: Option<Vec<(GestureId, i64)>>,
    ) -> Self {
        let money = |minor: i64| Money::from_minor(minor, g.currency);
        let (
            mut amount,
            mut due_on,
            mut applies_to,
            mut retail_value,
            mut cost,
            mut expires_on,
            mut estimated,
        ) = (None, None, None, None, None, None, None);
        match &g.terms {
            Terms::DeferredPayment {
                amount: a,
                due_on: d,
            } => {
                amount = Some(*a);
                due_on = Some(*d);
            }
            Terms::BalanceWaiver {
                amount: a,
                applies_to: t,
            } => {
                amount = Some(*a);
                applies_to = (!t.is_empty()).then(|| t.clone());
            }
            Terms::FreeService {
                retail_value: r,
                cost: c,
            } => {
                retail_value = Some(*r);
                cost = Some(*c);
            }
            Terms::ServiceRecovery { amount: a } => amount = Some(*a),
            Terms::StoreCredit {
                amount: a,
                expires_on: e,
            } => {
                amount = Some(*a);
                expires_on = *e;
            }
            Terms::Recognition => {}
            Terms::CustomerFavour { estimated_value } => estimated = *estimated_value,
        }
        let is_promise = g.kind == GestureKind::DeferredPayment;
        Self {
            id: g.id,
            customer_id: g.customer_id,
            store_id: g.store_id,
            kind: g.kind,
            status: g.status,
            reason_code: g.reason_code.clone(),
            story: g.story.clone(),
            staff_ids: g.staff_ids.clone(),
            incident_id: g.incident_id,
            effective_on: g.effective_on,
            amount,
            due_on,
            applies_to,
            retail_value,
            cost,
            expires_on,
            estimated_value: estimated,
            paid: is_promise.then(|| money(g.paid_minor)),
            outstanding: g.outstanding_minor().map(money),
            overdue: is_promise.then(|| g.is_overdue(today)),
            credit_remaining: g.credit_remaining_minor().map(money),
            allocations: allocations.map(|a| {
                a.into_iter()
                    .map(|(gesture_id, m)| AllocationView {
                        gesture_id,
                        amount: money(m),
                    })
                    .collect()
            }),
            requested_by: g.requested_by.clone(),
            decision: DecisionView::of(g, g.approval.as_ref()),
            write_off_of: g.write_off_of,
            created_at: timestamp(&g.created_at),
            updated_at: timestamp(&g.updated_at),
        }
    }
}
