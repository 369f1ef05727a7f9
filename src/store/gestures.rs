//! Gestures: recording one (with the approval decision and, when it takes
//! effect, its postings), reading and listing them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::ledger::{self, NewLedgerTx};
use super::schema::{customers, gestures, incidents, reason_codes, staff, waiver_allocations};
use super::{DbConnection, PageOf, PageRequest};
use crate::audit::AuditCtx;
use crate::domain::FieldError;
use crate::domain::gesture::{Gesture, GestureKind, GestureStatus, NewGesture, Terms};
use crate::domain::ids::{CustomerId, GestureId, IncidentId, StaffId, StoreId, TenantId};
use crate::domain::ledger::{Memo, gesture_postings};
use crate::domain::money::{Currency, Money};
use crate::domain::policy::{self, BudgetScope, DecisionInput, Policy};
use crate::error::{Error, ErrorCode};

// `None` is bound as NULL, not written as DEFAULT: the INSERT's text is then
// the same for every gesture, so PostgreSQL prepares it once per connection
// instead of parsing and planning it on every request.
#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = gestures)]
#[diesel(treat_none_as_null = true, treat_none_as_default_value = false)]
struct Row {
    tenant_id: TenantId,
    id: GestureId,
    customer_id: CustomerId,
    store_id: StoreId,
    kind: String,
    status: String,
    reason_code: String,
    story: String,
    staff_ids: String,
    incident_id: Option<IncidentId>,
    effective_on: NaiveDate,
    currency: String,
    amount_minor: Option<i64>,
    due_on: Option<NaiveDate>,
    applies_to: Option<String>,
    retail_value_minor: Option<i64>,
    cost_minor: Option<i64>,
    expires_on: Option<NaiveDate>,
    estimated_value_minor: Option<i64>,
    paid_minor: i64,
    waived_minor: i64,
    redeemed_minor: i64,
    expired_minor: i64,
    requested_by: String,
    requested_role: String,
    decision_rule: String,
    write_off_of: Option<GestureId>,
    reversal_reason: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    policy_version: i32,
    approval: Option<String>,
}

/// The gestures INSERT as text, for a command that holds its writes back
/// (`store::pg_text`); a unit test keeps its columns those of the schema.
const INSERT_GESTURE: &str = "INSERT INTO gestures (tenant_id, id, customer_id, store_id, kind, \
    status, reason_code, story, staff_ids, incident_id, effective_on, currency, amount_minor, \
    due_on, applies_to, retail_value_minor, cost_minor, expires_on, estimated_value_minor, \
    paid_minor, waived_minor, redeemed_minor, expired_minor, requested_by, requested_role, \
    decision_rule, write_off_of, reversal_reason, created_at, updated_at, policy_version, \
    approval) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \
    ?, ?, ?, ?, ?, ?, ?)";

impl Row {
    /// The row's INSERT as a write of `store::pg_text`.
    fn insert_write(self) -> super::pg_text::Write {
        use super::pg_text::{Bind, Write};
        Write::new(
            &[],
            INSERT_GESTURE,
            vec![
                Bind::id(self.tenant_id.0),
                Bind::id(self.id.0),
                Bind::id(self.customer_id.0),
                Bind::id(self.store_id.0),
                Bind::Text(self.kind),
                Bind::Text(self.status),
                Bind::Text(self.reason_code),
                Bind::Text(self.story),
                Bind::Text(self.staff_ids),
                Bind::null_id(self.incident_id.map(|i| i.0)),
                Bind::Date(self.effective_on),
                Bind::Text(self.currency),
                Bind::NullBigInt(self.amount_minor),
                Bind::NullDate(self.due_on),
                Bind::NullText(self.applies_to),
                Bind::NullBigInt(self.retail_value_minor),
                Bind::NullBigInt(self.cost_minor),
                Bind::NullDate(self.expires_on),
                Bind::NullBigInt(self.estimated_value_minor),
                Bind::BigInt(self.paid_minor),
                Bind::BigInt(self.waived_minor),
                Bind::BigInt(self.redeemed_minor),
                Bind::BigInt(self.expired_minor),
                Bind::Text(self.requested_by),
                Bind::Text(self.requested_role),
                Bind::Text(self.decision_rule),
                Bind::null_id(self.write_off_of.map(|g| g.0)),
                Bind::NullText(self.reversal_reason),
                Bind::Timestamp(self.created_at),
                Bind::Timestamp(self.updated_at),
                Bind::Integer(self.policy_version),
                Bind::NullText(self.approval),
            ],
        )
    }
}

fn corrupt(id: GestureId, what: &str) -> Error {
    Error::internal(format!("gesture {id} is malformed in the database: {what}"))
}

impl TryFrom<Row> for Gesture {
    type Error = Error;
    fn try_from(r: Row) -> Result<Self, Error> {
        let id = r.id;
        let kind = GestureKind::parse(&r.kind).ok_or_else(|| corrupt(id, "kind"))?;
        let status = GestureStatus::parse(&r.status).ok_or_else(|| corrupt(id, "status"))?;
        let currency = Currency::from_code(&r.currency).ok_or_else(|| corrupt(id, "currency"))?;
        let m = |v: Option<i64>| v.map(|x| Money::from_minor(x, currency));
        let need = |v: Option<Money>, what: &str| v.ok_or_else(|| corrupt(id, what));
        let terms = match kind {
            GestureKind::DeferredPayment => Terms::DeferredPayment {
                amount: need(m(r.amount_minor), "amount")?,
                due_on: r.due_on.ok_or_else(|| corrupt(id, "due_on"))?,
            },
            GestureKind::BalanceWaiver => Terms::BalanceWaiver {
                amount: need(m(r.amount_minor), "amount")?,
                applies_to: match &r.applies_to {
                    Some(t) => serde_json::from_str(t).map_err(|_| corrupt(id, "applies_to"))?,
                    None => Vec::new(),
                },
            },
            GestureKind::FreeService => Terms::FreeService {
                retail_value: need(m(r.retail_value_minor), "retail_value")?,
                cost: need(m(r.cost_minor), "cost")?,
            },
            GestureKind::ServiceRecovery => Terms::ServiceRecovery {
                amount: need(m(r.amount_minor), "amount")?,
            },
            GestureKind::StoreCredit => Terms::StoreCredit {
                amount: need(m(r.amount_minor), "amount")?,
                expires_on: r.expires_on,
            },
            GestureKind::Recognition => Terms::Recognition,
            GestureKind::CustomerFavour => Terms::CustomerFavour {
                estimated_value: m(r.estimated_value_minor),
            },
        };
        Ok(Gesture {
            id,
            tenant_id: r.tenant_id,
            customer_id: r.customer_id,
            store_id: r.store_id,
            kind,
            status,
            reason_code: r.reason_code,
            story: r.story,
            staff_ids: serde_json::from_str(&r.staff_ids).map_err(|_| corrupt(id, "staff_ids"))?,
            incident_id: r.incident_id,
            effective_on: r.effective_on,
            currency,
            terms,
            paid_minor: r.paid_minor,
            waived_minor: r.waived_minor,
            redeemed_minor: r.redeemed_minor,
            expired_minor: r.expired_minor,
            requested_by: r.requested_by,
            requested_role: r.requested_role,
            decision_rule: r.decision_rule,
            write_off_of: r.write_off_of,
            reversal_reason: r.reversal_reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
            policy_version: r.policy_version,
            approval: match &r.approval {
                Some(a) => Some(serde_json::from_str(a).map_err(|_| corrupt(id, "approval"))?),
                None => None,
            },
        })
    }
}

impl From<&Gesture> for Row {
    fn from(g: &Gesture) -> Self {
        let (
            mut amount,
            mut due_on,
            mut applies_to,
            mut retail,
            mut cost,
            mut expires,
            mut estimated,
        ) = (None, None, None, None, None, None, None);
        match &g.terms {
            Terms::DeferredPayment {
                amount: a,
                due_on: d,
            } => {
                amount = Some(a.minor());
                due_on = Some(*d);
            }
            Terms::BalanceWaiver {
                amount: a,
                applies_to: t,
            } => {
                amount = Some(a.minor());
                applies_to = (!t.is_empty()).then(|| serde_json::to_string(t).unwrap_or_default());
            }
            Terms::FreeService {
                retail_value,
                cost: c,
            } => {
                retail = Some(retail_value.minor());
                cost = Some(c.minor());
            }
            Terms::ServiceRecovery { amount: a } => amount = Some(a.minor()),
            Terms::StoreCredit {
                amount: a,
                expires_on,
            } => {
                amount = Some(a.minor());
                expires = *expires_on;
            }
            Terms::Recognition => {}
            Terms::CustomerFavour { estimated_value } => {
                estimated = estimated_value.map(|v| v.minor())
            }
        }
        Row {
            tenant_id: g.tenant_id,
            id: g.id,
            customer_id: g.customer_id,
            store_id: g.store_id,
            kind: g.kind.as_str().to_owned(),
            status: g.status.as_str().to_owned(),
            reason_code: g.reason_code.clone(),
            story: g.story.clone(),
            staff_ids: serde_json::to_string(&g.staff_ids).unwrap_or_else(|_| "[]".into()),
            incident_id: g.incident_id,
            effective_on: g.effective_on,
            currency: g.currency.code().to_owned(),
            amount_minor: amount,
            due_on,
            applies_to,
            retail_value_minor: retail,
            cost_minor: cost,
            expires_on: expires,
            estimated_value_minor: estimated,
            paid_minor: g.paid_minor,
            waived_minor: g.waived_minor,
            redeemed_minor: g.redeemed_minor,
            expired_minor: g.expired_minor,
            requested_by: g.requested_by.clone(),
            requested_role: g.requested_role.clone(),
            decision_rule: g.decision_rule.clone(),
            write_off_of: g.write_off_of,
            reversal_reason: g.reversal_reason.clone(),
            created_at: g.created_at,
            updated_at: g.updated_at,
            policy_version: g.policy_version,
            approval: g
                .approval
                .as_ref()
                .and_then(|a| serde_json::to_string(a).ok()),
        }
    }
}

/// One gesture of the tenant.
pub fn get(conn: &mut DbConnection, tenant: TenantId, id: GestureId) -> Result<Gesture, Error> {
    find(conn, tenant, id)?.ok_or_else(|| Error::NotFound(format!("no gesture {id}")))
}

/// One gesture of the tenant, if there is such a gesture.
pub(crate) fn find(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: GestureId,
) -> Result<Option<Gesture>, Error> {
    gestures::table
        .filter(gestures::tenant_id.eq(tenant).and(gestures::id.eq(id)))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Gesture::try_from)
        .transpose()
}

/// The gestures with these ids, in id order, in one query.
pub(crate) fn by_ids(
    conn: &mut DbConnection,
    tenant: TenantId,
    ids: &[GestureId],
) -> Result<Vec<Gesture>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    gestures::table
        .filter(gestures::tenant_id.eq(tenant).and(gestures::id.eq_any(ids)))
        .select(Row::as_select())
        .order(gestures::id)
        .load(conn)?
        .into_iter()
        .map(Gesture::try_from)
        .collect()
}

/// Writes a gesture's changed state back.
pub(crate) fn save(conn: &mut DbConnection, g: &Gesture) -> Result<(), Error> {
    diesel::update(
        gestures::table.filter(
            gestures::tenant_id
                .eq(g.tenant_id)
                .and(gestures::id.eq(g.id)),
        ),
    )
    .set(Row::from(g))
    .execute(conn)?;
    Ok(())
}

/// Locks the customer's row for the rest of the transaction (PostgreSQL; SQLite's
/// IMMEDIATE transaction already excludes other writers). Every command that
/// weighs what a customer owes, holds or was granted takes this lock first, so
/// two of them never decide on the same stale figures. 404 if there is no such
/// customer.
pub(crate) fn lock_customer(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
) -> Result<(), Error> {
    let q = customers::table
        .filter(
            customers::tenant_id
                .eq(tenant)
                .and(customers::id.eq(customer)),
        )
        .select(customers::id);
    let found: Option<CustomerId> = match conn {
        DbConnection::Pg(c) => q.for_update().first(c).optional()?,
        DbConnection::Sqlite(c) => q.first(c).optional()?,
    };
    found
        .map(|_| ())
        .ok_or_else(|| Error::NotFound(format!("no customer {customer}")))
}

/// Open deferred payments of a customer in a currency, oldest first.
pub(crate) fn open_promises(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
    currency: Currency,
) -> Result<Vec<Gesture>, Error> {
    gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::customer_id.eq(customer))
                .and(gestures::kind.eq(GestureKind::DeferredPayment.as_str()))
                .and(gestures::status.eq(GestureStatus::Approved.as_str()))
                .and(gestures::currency.eq(currency.code())),
        )
        .select(Row::as_select())
        .order((gestures::effective_on, gestures::id))
        .load(conn)?
        .into_iter()
        .map(Gesture::try_from)
        .collect()
}

fn recent_same_kind(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
    kind: GestureKind,
    requester: &str,
    currency: Currency,
    since: NaiveDateTime,
) -> Result<i64, Error> {
    let rows: Vec<(Option<i64>, Option<i64>)> = gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::customer_id.eq(customer))
                .and(gestures::kind.eq(kind.as_str()))
                .and(gestures::requested_by.eq(requester))
                .and(gestures::currency.eq(currency.code()))
                .and(gestures::created_at.ge(since))
                .and(
                    gestures::status.ne_all(GestureStatus::NOT_GRANTED.map(GestureStatus::as_str)),
                ),
        )
        .select((gestures::amount_minor, gestures::retail_value_minor))
        .load(conn)?;
    // Saturating: a sum past 64 bits is over any limit, which is where it
    // belongs, never wrapped round to a small one.
    Ok(rows
        .into_iter()
        .map(|(a, r)| a.or(r).unwrap_or(0))
        .fold(0, i64::saturating_add))
}

/// What was granted (or is pending) within a budget's window, in minor units:
/// by the budget's scope (this customer, this requester or this store), in the
/// store's currency, of the kinds it counts.
#[allow(clippy::too_many_arguments)]
pub(crate) fn budget_used(
    conn: &mut DbConnection,
    tenant: TenantId,
    scope: BudgetScope,
    customer: CustomerId,
    requester: &str,
    store: StoreId,
    currency: Currency,
    kinds: &[&str],
    since: NaiveDateTime,
) -> Result<i64, Error> {
    let mut q = gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::currency.eq(currency.code()))
                .and(gestures::created_at.ge(since))
                .and(gestures::kind.eq_any(kinds.to_vec()))
                .and(gestures::status.eq_any(GestureStatus::COUNTED.map(GestureStatus::as_str))),
        )
        .select((gestures::amount_minor, gestures::retail_value_minor))
        .into_boxed();
    q = match scope {
        BudgetScope::Customer => q.filter(gestures::customer_id.eq(customer)),
        BudgetScope::Requester => q.filter(gestures::requested_by.eq(requester.to_owned())),
        BudgetScope::Store => q.filter(gestures::store_id.eq(store)),
    };
    let rows: Vec<(Option<i64>, Option<i64>)> = q.load(conn)?;
    // Saturating: a sum past 64 bits is over any limit, which is where it
    // belongs, never wrapped round to a small one.
    Ok(rows
        .into_iter()
        .map(|(a, r)| a.or(r).unwrap_or(0))
        .fold(0, i64::saturating_add))
}

/// The customer's promises kept on time that earn trust ([`policy::Trust`]):
/// settled on or before their due date, of at least the minimum amount, paid
/// off at least the minimum days after they were made, and without a payment
/// recorded by their requester.
fn promises_that_earn_trust(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
    trust: &policy::Trust,
) -> Result<i64, Error> {
    use super::schema::payments;
    // id, currency, amount, due on, made at, requested by.
    type Promise = (
        GestureId,
        String,
        Option<i64>,
        Option<NaiveDate>,
        NaiveDateTime,
        String,
    );
    let promises: Vec<Promise> = gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::customer_id.eq(customer))
                .and(gestures::kind.eq(GestureKind::DeferredPayment.as_str()))
                .and(gestures::status.eq(GestureStatus::Settled.as_str())),
        )
        .select((
            gestures::id,
            gestures::currency,
            gestures::amount_minor,
            gestures::due_on,
            gestures::created_at,
            gestures::requested_by,
        ))
        .load(conn)?;
    if promises.is_empty() {
        return Ok(0);
    }
    // promise, recorded by, recorded at, paid on.
    let paid: Vec<(GestureId, String, NaiveDateTime, NaiveDate)> = payments::table
        .filter(
            payments::tenant_id
                .eq(tenant)
                .and(payments::customer_id.eq(customer))
                .and(payments::status.eq("posted")),
        )
        .select((
            payments::gesture_id,
            payments::requested_by,
            payments::created_at,
            payments::paid_on,
        ))
        .load(conn)?;
    let held = chrono::TimeDelta::days(trust.min_days_held);
    let counted = promises
        .iter()
        .filter(|(id, currency, amount, due_on, made, requester)| {
            let minimum = Currency::from_code(currency)
                .and_then(|c| trust.min_promise_amount.resolve(c))
                .unwrap_or(0);
            // Held for as long as the server saw (a paid_on cannot be
            // moved later than the day it was recorded); kept on time by the
            // day it was paid.
            let (mut last_at, mut last_on) = (None, None);
            for (_, by, at, on) in paid.iter().filter(|(g, _, _, _)| g == id) {
                if by == requester {
                    return false;
                }
                last_at = last_at.max(Some(*at));
                last_on = last_on.max(Some(*on));
            }
            amount.unwrap_or(0) >= minimum
                && last_on.is_some_and(|on| Some(on) <= *due_on)
                && last_at.is_some_and(|at| at - *made >= held)
        })
        .count();
    Ok(i64::try_from(counted).unwrap_or(i64::MAX))
}

/// Whether the customer broke a promise since `since`: one of their promises
/// was written off (`POST /v1/gestures/{id}/write-off`) after it fell due,
/// unpaid. A waiver — the business giving something up, e.g. for its own
/// mistake — is not the customer's failure and does not count, nor does a
/// write-off before the due date.
fn broken_since(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
    since: NaiveDateTime,
) -> Result<bool, Error> {
    let written_off: Vec<(GestureId, Option<NaiveDate>)> = gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::customer_id.eq(customer))
                .and(gestures::kind.eq(GestureKind::DeferredPayment.as_str()))
                .and(gestures::status.eq(GestureStatus::WrittenOff.as_str()))
                .and(gestures::updated_at.ge(since)),
        )
        .select((gestures::id, gestures::due_on))
        .load(conn)?;
    if written_off.is_empty() {
        return Ok(false);
    }
    let ids: Vec<GestureId> = written_off.iter().map(|(id, _)| *id).collect();
    let write_offs: Vec<(Option<GestureId>, NaiveDate)> = gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::write_off_of.eq_any(&ids)),
        )
        .select((gestures::write_off_of, gestures::effective_on))
        .load(conn)?;
    Ok(write_offs.iter().any(|(of, on)| {
        written_off
            .iter()
            .any(|(id, due)| Some(*id) == *of && due.is_some_and(|d| *on > d))
    }))
}

/// Whether a written-off `promise` was broken by its customer rather than
/// waived by the business: given up by the write-off command (a waiver with
/// `write_off_of` naming it, in effect) on a day after it fell due. `waiver`:
/// one taking effect now, not yet readable as in effect. The rule behind the
/// `promises_broken` memo and the ledger check's source for it (one rule, so
/// the maintained count and its check agree).
pub(crate) fn broken(
    conn: &mut DbConnection,
    promise: &Gesture,
    waiver: Option<&Gesture>,
) -> Result<bool, Error> {
    let Terms::DeferredPayment { due_on, .. } = promise.terms else {
        return Ok(false);
    };
    if waiver.is_some_and(|w| w.write_off_of == Some(promise.id) && w.effective_on > due_on) {
        return Ok(true);
    }
    let n: i64 = gestures::table
        .filter(
            gestures::tenant_id
                .eq(promise.tenant_id)
                .and(gestures::write_off_of.eq(promise.id))
                .and(gestures::status.eq(GestureStatus::Approved.as_str()))
                .and(gestures::effective_on.gt(due_on)),
        )
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Gathers what the policy needs to decide on a new gesture, and decides.
fn decide(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    policy: &Policy,
    customer: CustomerId,
    ng: &NewGesture,
    currency: Currency,
) -> Result<policy::DecisionRecord, Error> {
    let tenant = ctx.tenant;
    let now = ctx.now;
    let monetary = ng.kind.is_monetary();
    let recent = if monetary && policy.split_detection.enabled {
        recent_same_kind(
            conn,
            tenant,
            customer,
            ng.kind,
            &ctx.actor_sub,
            currency,
            now - chrono::TimeDelta::hours(policy.split_detection.window_hours),
        )?
    } else {
        0
    };
    let mut budget_used_minor = Vec::with_capacity(policy.budgets.len());
    for b in &policy.budgets {
        let kinds = b.counted_kinds();
        let counts = monetary && kinds.contains(&ng.kind.as_str());
        let scope = BudgetScope::parse(&b.scope);
        budget_used_minor.push(match (counts, scope) {
            (true, Some(scope)) => Some(budget_used(
                conn,
                tenant,
                scope,
                customer,
                &ctx.actor_sub,
                ng.store_id,
                currency,
                &kinds,
                now - chrono::TimeDelta::days(b.window_days),
            )?),
            _ => None,
        });
    }
    let trusting = policy.trust.enabled && ng.kind == GestureKind::DeferredPayment;
    let (kept, written_off_recently) = if trusting {
        let kept = promises_that_earn_trust(conn, tenant, customer, &policy.trust)?;
        let since = now - chrono::TimeDelta::days(policy.trust.write_off_window_days);
        (kept, broken_since(conn, tenant, customer, since)?)
    } else {
        (0, false)
    };
    let value_aware = monetary
        && policy
            .budgets
            .iter()
            .zip(&budget_used_minor)
            .any(|(b, used)| b.percent_of_lifetime_value.is_some() && used.is_some());
    let lifetime_value_minor = if value_aware {
        super::value::lifetime_value_minor(conn, tenant, customer, currency, now.date())?
    } else {
        None
    };
    Ok(policy::decide(
        policy,
        &DecisionInput {
            lifetime_value_minor,
            kind: ng.kind,
            value: ng.terms.value(),
            role: ctx.actor_role,
            store_id: ng.store_id,
            currency,
            recent_same_kind_minor: recent,
            budget_used_minor,
            promises_kept_on_time: kept,
            written_off_recently,
            now,
        },
    ))
}

/// 422 naming `field` unless `date` is dated back no further than the
/// tenant's policy allows on `today` ([`crate::domain::gesture::check_back_dating`]).
/// A date of today needs no read: the tenant exists today.
pub(crate) fn check_back_dating(
    conn: &mut DbConnection,
    tenant: TenantId,
    field: &str,
    date: NaiveDate,
    today: NaiveDate,
    policy: &Policy,
) -> Result<(), Error> {
    if date >= today {
        return Ok(());
    }
    let since = super::tenants::created_on(conn, tenant)?;
    crate::domain::gesture::check_back_dating(
        field,
        date,
        today,
        policy.back_dating.window_days,
        since,
    )
    .map_err(|e| Error::Validation(vec![e]))
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Validation(vec![FieldError::new(field, message)])
}

/// Checks the references a new gesture makes, in the documented order.
/// What a request for a gesture stands on, read in the one statement that
/// locks the customer: its store's currency, whether its reason code is one
/// of the tenant's, and the newest policy version. Three reads that used to
/// be a round trip each; they do not depend on the lock, so reading them as
/// of the statement's start is as good as after it.
struct Footing {
    /// The store's currency (`None`: the tenant has no such store).
    store_currency: Option<String>,
    /// Whether the reason code is the tenant's.
    reason_known: bool,
    /// The newest policy version and its document (`None`: none stored).
    policy: Option<(i32, String)>,
}

/// Locks the customer (404 when the tenant has none) and reads the request's
/// [`Footing`] in the same statement.
fn lock_customer_for(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
    ng: &NewGesture,
) -> Result<Footing, Error> {
    use super::schema::{policy_versions, stores};
    let newest = policy_versions::table
        .filter(policy_versions::tenant_id.eq(tenant))
        .order(policy_versions::version.desc())
        .limit(1);
    let q = customers::table
        .filter(
            customers::tenant_id
                .eq(tenant)
                .and(customers::id.eq(customer)),
        )
        .select((
            customers::id,
            stores::table
                .filter(stores::tenant_id.eq(tenant).and(stores::id.eq(ng.store_id)))
                .select(stores::currency)
                .single_value(),
            diesel::dsl::exists(
                reason_codes::table.filter(
                    reason_codes::tenant_id
                        .eq(tenant)
                        .and(reason_codes::code.eq(&ng.reason_code)),
                ),
            ),
            newest.select(policy_versions::version).single_value(),
            newest.select(policy_versions::document).single_value(),
        ));
    type Found = (
        CustomerId,
        Option<String>,
        bool,
        Option<i32>,
        Option<String>,
    );
    let found: Option<Found> = match conn {
        DbConnection::Pg(c) => q.for_update().first(c).optional()?,
        DbConnection::Sqlite(c) => q.first(c).optional()?,
    };
    let Some((_, store_currency, reason_known, version, document)) = found else {
        return Err(Error::NotFound(format!("no customer {customer}")));
    };
    Ok(Footing {
        store_currency,
        reason_known,
        policy: version.zip(document),
    })
}

/// Checks what the request names against its [`Footing`] and the tenant's
/// staff and incidents; answers the store's currency.
fn check_references(
    conn: &mut DbConnection,
    tenant: TenantId,
    ng: &NewGesture,
    footing: &Footing,
) -> Result<Currency, Error> {
    let Some(currency) = footing.store_currency.as_deref() else {
        return Err(problem("store_id", format!("no store {}", ng.store_id)));
    };
    let currency = Currency::from_code(currency).ok_or_else(|| {
        Error::internal(format!("store {} has currency {currency:?}", ng.store_id))
    })?;
    ng.check_currency(currency).map_err(Error::Validation)?;
    if !footing.reason_known {
        // Says which codes the tenant has.
        check_reason_code(conn, tenant, "reason_code", &ng.reason_code)?;
    }
    if !ng.staff_ids.is_empty() {
        let found: Vec<StaffId> = staff::table
            .filter(
                staff::tenant_id
                    .eq(tenant)
                    .and(staff::id.eq_any(&ng.staff_ids)),
            )
            .select(staff::id)
            .load(conn)?;
        let errs: Vec<FieldError> = ng
            .staff_ids
            .iter()
            .enumerate()
            .filter(|(_, id)| !found.contains(id))
            .map(|(i, id)| {
                FieldError::new(format!("staff_ids[{i}]"), format!("no staff member {id}"))
            })
            .collect();
        if !errs.is_empty() {
            return Err(Error::Validation(errs));
        }
    }
    if let Some(incident) = ng.incident_id {
        let n: i64 = incidents::table
            .filter(
                incidents::tenant_id
                    .eq(tenant)
                    .and(incidents::id.eq(incident)),
            )
            .count()
            .get_result(conn)?;
        if n == 0 {
            return Err(problem("incident_id", format!("no incident {incident}")));
        }
    }
    Ok(currency)
}

/// The customer's open promises in `currency` at stores within `scope`
/// (`None`: every store), oldest first: what a waiver that names none may give
/// up.
pub(crate) fn waivable_promises(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
    currency: Currency,
    scope: Option<&[StoreId]>,
) -> Result<Vec<Gesture>, Error> {
    let mut v = open_promises(conn, tenant, customer, currency)?;
    v.retain(|g| crate::domain::roles::may_act_at(scope, g.store_id));
    Ok(v)
}

/// How a waiver of `amount` spreads over promises: the named ones in order, else
/// the customer's open ones oldest first, only ever of stores within `scope`
/// (the stores of whoever puts it into effect). 403 `store_scope` when a named
/// promise is of another store; 422 when a named promise cannot be waived or
/// when the amount exceeds what is owed.
pub(crate) fn allocate_waiver(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
    amount: Money,
    applies_to: &[GestureId],
    scope: Option<&[StoreId]>,
) -> Result<Vec<(Gesture, i64)>, Error> {
    let promises = if applies_to.is_empty() {
        waivable_promises(conn, tenant, customer, amount.currency(), scope)?
    } else {
        let mut out = Vec::new();
        for (i, id) in applies_to.iter().enumerate() {
            let field = format!("applies_to[{i}]");
            let Some(g) = find(conn, tenant, *id)? else {
                return Err(problem(field, format!("no gesture {id}")));
            };
            if !g.is_promise_of(customer) {
                return Err(problem(field, "is not a deferred payment of this customer"));
            }
            // Giving up another store's receivable is acting at that store.
            Error::require_store(scope, g.store_id)?;
            if let Some(why) = crate::domain::gesture::not_waivable(&g, amount.currency()) {
                return Err(problem(field, why));
            }
            out.push(g);
        }
        out
    };
    crate::domain::gesture::spread_waiver(amount.minor(), promises).map_err(|owed| {
        Error::Unprocessable {
            code: ErrorCode::ExceedsOwed,
            detail: format!(
                "the waiver is {} {} but only {} {} is owed{}",
                amount.amount_string(),
                amount.currency(),
                amount.with_minor(owed).amount_string(),
                amount.currency(),
                if applies_to.is_empty() {
                    if scope.is_some() {
                        " at the stores this token holds"
                    } else {
                        ""
                    }
                } else {
                    " on the named deferred payments"
                }
            ),
            errors: vec![FieldError::new("amount.amount", "exceeds what is owed")],
        }
    })
}

/// Puts an approved gesture into effect: its postings, its memo totals, and for a
/// waiver its allocation over the promises it gives up, of stores within
/// `scope` only. `period_checked`: the caller already checked, in this
/// transaction, that the gesture's `effective_on` falls in an open period.
pub(crate) fn take_effect(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    g: &mut Gesture,
    period_checked: bool,
    scope: Option<&[StoreId]>,
) -> Result<(), Error> {
    let tenant = g.tenant_id;
    let postings = gesture_postings(g.kind, g.customer_id, g.store_id, &g.terms);
    if let Terms::BalanceWaiver { amount, applies_to } = &g.terms {
        let plan = allocate_waiver(conn, tenant, g.customer_id, *amount, applies_to, scope)?;
        for (mut promise, take) in plan {
            promise.waived_minor += take;
            if promise.outstanding_minor() == Some(0) {
                promise.status = GestureStatus::WrittenOff;
                ledger::add_memo(
                    conn,
                    tenant,
                    promise.customer_id,
                    Memo::PromisesWrittenOff,
                    "",
                    0,
                    1,
                )?;
                if broken(conn, &promise, Some(g))? {
                    ledger::add_memo(
                        conn,
                        tenant,
                        promise.customer_id,
                        Memo::PromisesBroken,
                        "",
                        0,
                        1,
                    )?;
                }
            }
            promise.updated_at = g.updated_at;
            save(conn, &promise)?;
            diesel::insert_into(waiver_allocations::table)
                .values((
                    waiver_allocations::tenant_id.eq(tenant),
                    waiver_allocations::waiver_id.eq(g.id),
                    waiver_allocations::gesture_id.eq(promise.id),
                    waiver_allocations::amount_minor.eq(take),
                ))
                .execute(conn)?;
        }
        // A waiver in effect is a write-off: one item for finance's review.
        super::write_offs::record(conn, g, g.updated_at)?;
    }
    let post = if period_checked {
        ledger::post_in_open_period
    } else {
        ledger::post
    };
    post(
        conn,
        ctx,
        &NewLedgerTx {
            kind: if g.kind == GestureKind::BalanceWaiver {
                "waiver"
            } else {
                "gesture"
            },
            gesture_id: Some(g.id),
            payment_id: None,
            redemption_id: None,
            reverses: None,
            customer_id: Some(g.customer_id),
            effective_on: g.effective_on,
            postings,
        },
        g.updated_at,
    )?;
    if let Some((memo, value)) = g.terms.memo() {
        let (currency, total) = value.map_or(("", 0), |v| (v.currency().code(), v.minor()));
        ledger::add_memo(conn, tenant, g.customer_id, memo, currency, total, 1)?;
    }
    Ok(())
}

/// Records a gesture for a customer: checks it, takes the approval decision,
/// and, when it is approved at once, puts it into effect. `today` is the day
/// the request was parsed on (what `effective_on` defaulted to and may not be
/// after). One transaction (the caller's).
pub fn request(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    customer: CustomerId,
    ng: NewGesture,
    today: NaiveDate,
) -> Result<Gesture, Error> {
    request_as(conn, ctx, customer, ng, today, None)
}

/// [`request`], for the write-off command: `write_off_of` names the promise
/// whose remainder the waiver gives up, so that it is known when the waiver
/// takes effect (which may be at once).
pub(crate) fn request_as(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    customer: CustomerId,
    ng: NewGesture,
    today: NaiveDate,
    write_off_of: Option<GestureId>,
) -> Result<Gesture, Error> {
    let tenant = ctx.tenant;
    let footing = lock_customer_for(conn, tenant, customer, &ng)?;
    let store_currency = check_references(conn, tenant, &ng, &footing)?;
    if let Some(r) = &ng.client_ref {
        super::client_refs::check(conn, tenant, ng.store_id, "gesture", r)?;
    }
    if ng.kind == GestureKind::Recognition && !ng.staff_ids.is_empty() {
        // Praise is recorded by someone else: a staff member may not record
        // a recognition of themselves.
        let own: i64 = staff::table
            .filter(
                staff::tenant_id
                    .eq(tenant)
                    .and(staff::id.eq_any(&ng.staff_ids))
                    .and(staff::subject.eq(&ctx.actor_sub)),
            )
            .count()
            .get_result(conn)?;
        if own > 0 {
            return Err(Error::Forbidden {
                code: ErrorCode::NamedStaff,
                detail: "a recognition praises someone else: the staff member it names may not record it".into(),
            });
        }
    }
    let current = super::policy::in_force(conn, tenant, footing.policy)?;
    check_back_dating(
        conn,
        tenant,
        "effective_on",
        ng.effective_on,
        today,
        &current.policy,
    )?;
    super::periods::check_open(conn, tenant, ng.effective_on)?;
    if let Terms::BalanceWaiver { amount, applies_to } = &ng.terms {
        // Checked now so the requester learns at once; checked again when it
        // takes effect (a pending waiver may outlive some of what is owed).
        allocate_waiver(
            conn,
            tenant,
            customer,
            *amount,
            applies_to,
            ctx.actor_stores.as_deref(),
        )?;
    }
    let now = ctx.now;
    let mut decision = decide(conn, ctx, &current.policy, customer, &ng, store_currency)?;
    if ng.kind == GestureKind::BalanceWaiver {
        // Kept so that an approver later gives up only what the requester could.
        decision.requester_stores = ctx.actor_stores.clone();
    }
    let ng_client_ref = ng.client_ref.clone();
    let mut g = Gesture {
        id: GestureId::new(),
        tenant_id: tenant,
        customer_id: customer,
        store_id: ng.store_id,
        kind: ng.kind,
        status: if decision.is_pending() {
            GestureStatus::PendingApproval
        } else {
            GestureStatus::Approved
        },
        reason_code: ng.reason_code,
        story: ng.story,
        staff_ids: ng.staff_ids,
        incident_id: ng.incident_id,
        effective_on: ng.effective_on,
        currency: store_currency,
        terms: ng.terms,
        paid_minor: 0,
        waived_minor: 0,
        redeemed_minor: 0,
        expired_minor: 0,
        requested_by: ctx.actor_sub.clone(),
        requested_role: ctx.actor_role.as_str().to_owned(),
        decision_rule: decision.rule.clone(),
        write_off_of,
        reversal_reason: None,
        created_at: now,
        updated_at: now,
        policy_version: current.version,
        approval: Some(decision),
    };
    match conn {
        DbConnection::Pg(c)
            if g.status == GestureStatus::Approved
                && g.kind == GestureKind::DeferredPayment
                && ng_client_ref.is_none()
                && write_off_of.is_none() =>
        {
            // Everything such a request writes is known from here: the
            // gesture, its posting, its one audit event and its stored
            // answer. They go out together, as one statement (store::pg_text).
            super::pg_text::defer_writes();
            super::pg_text::write(c, Row::from(&g).insert_write())?;
        }
        _ => {
            diesel::insert_into(gestures::table)
                .values(Row::from(&g))
                .execute(conn)?;
        }
    }
    if let Some(r) = &ng_client_ref {
        super::client_refs::record(conn, tenant, g.store_id, "gesture", r, g.id, now)?;
    }
    if g.status == GestureStatus::Approved {
        // The period of g.effective_on was checked above, under its lock.
        take_effect(conn, ctx, &mut g, true, ctx.actor_stores.as_deref())?;
    }
    Ok(g)
}

/// Filters of the gesture list.
#[derive(Clone, Debug, Default)]
pub(crate) struct Filter {
    /// One customer.
    pub customer_id: Option<CustomerId>,
    /// Stores (a store filter, or a store-scoped token's stores).
    pub stores: Option<Vec<StoreId>>,
    /// One kind.
    pub kind: Option<GestureKind>,
    /// One status.
    pub status: Option<GestureStatus>,
    /// Only open deferred payments past due on this date.
    pub overdue_on: Option<NaiveDate>,
    /// effective_on from (inclusive).
    pub from: Option<NaiveDate>,
    /// effective_on to (inclusive).
    pub to: Option<NaiveDate>,
}

/// A page of gestures, in creation order.
pub(crate) fn list(
    conn: &mut DbConnection,
    tenant: TenantId,
    f: &Filter,
    page: PageRequest<GestureId>,
) -> Result<PageOf<Gesture>, Error> {
    let mut q = gestures::table
        .filter(gestures::tenant_id.eq(tenant))
        .select(Row::as_select())
        .order(gestures::id)
        .limit(page.limit + 1)
        .into_boxed();
    super::after_cursor!(conn, q, gestures, tenant, page.starting_after);
    if let Some(c) = f.customer_id {
        q = q.filter(gestures::customer_id.eq(c));
    }
    if let Some(s) = &f.stores {
        q = q.filter(gestures::store_id.eq_any(s.clone()));
    }
    if let Some(k) = f.kind {
        q = q.filter(gestures::kind.eq(k.as_str()));
    }
    if let Some(s) = f.status {
        q = q.filter(gestures::status.eq(s.as_str()));
    }
    if let Some(d) = f.overdue_on {
        q = q.filter(
            gestures::kind
                .eq(GestureKind::DeferredPayment.as_str())
                .and(gestures::status.eq(GestureStatus::Approved.as_str()))
                .and(gestures::due_on.lt(d)),
        );
    }
    if let Some(d) = f.from {
        q = q.filter(gestures::effective_on.ge(d));
    }
    if let Some(d) = f.to {
        q = q.filter(gestures::effective_on.le(d));
    }
    let p = PageOf::from_rows(q.load(conn)?, page.limit);
    Ok(PageOf {
        items: p
            .items
            .into_iter()
            .map(Gesture::try_from)
            .collect::<Result<_, _>>()?,
        has_more: p.has_more,
    })
}

// The gestures that may be open items: approved deferred payments and store
// credit. Status and kinds are written into the statement, not bound:
// PostgreSQL caches a generic plan for a prepared statement after five runs,
// and with them as parameters that plan walked every open item of the tenant
// (44 ms at 30,000) instead of the customer's few by the (customer, status,
// kind) index — found by the summary's scaling curve. A constant fragment,
// not `sql(...)`, so a statement using it is still prepared once per
// connection (see constant_sql).
super::constant_sql::constant_sql! {
    pub(crate) OpenKinds: diesel::sql_types::Bool = "gestures.status = 'approved' \
        AND gestures.kind IN ('deferred_payment', 'store_credit')";
}

/// A customer's open items: approved deferred payments that still owe and store
/// credit that can still be spent (the summary reads the same rows, narrowed,
/// with the customer's figures: `ledger::customer_figures`).
pub(crate) fn open_items(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
) -> Result<Vec<Gesture>, Error> {
    gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::customer_id.eq(customer))
                .and(OpenKinds),
        )
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Gesture::try_from)
        .filter(|g| {
            g.as_ref().map_or(true, |g| {
                g.outstanding_minor().unwrap_or(0) > 0
                    || g.credit_remaining_minor().unwrap_or(0) > 0
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|mut v| {
            // Sorted here, not in SQL: an ORDER BY id would tempt the planner into
            // walking the customer's whole history by the (customer, id) index
            // instead of reading only the open items by the (customer, status)
            // one.
            v.sort_by_key(|g| g.id);
            v
        })
}

/// The waivers that gave up (part of) a promise, oldest first.
pub(crate) fn waivers_of(
    conn: &mut DbConnection,
    tenant: TenantId,
    promise: GestureId,
) -> Result<Vec<GestureId>, Error> {
    Ok(waiver_allocations::table
        .filter(
            waiver_allocations::tenant_id
                .eq(tenant)
                .and(waiver_allocations::gesture_id.eq(promise)),
        )
        .select(waiver_allocations::waiver_id)
        .order(waiver_allocations::waiver_id)
        .load(conn)?)
}

/// The waiver allocations of a waiver: (promise, amount minor).
pub(crate) fn allocations(
    conn: &mut DbConnection,
    tenant: TenantId,
    waiver: GestureId,
) -> Result<Vec<(GestureId, i64)>, Error> {
    Ok(waiver_allocations::table
        .filter(
            waiver_allocations::tenant_id
                .eq(tenant)
                .and(waiver_allocations::waiver_id.eq(waiver)),
        )
        .select((
            waiver_allocations::gesture_id,
            waiver_allocations::amount_minor,
        ))
        .order(waiver_allocations::gesture_id)
        .load(conn)?)
}

/// Goodwill the customer received since `since` (by effective date), per
/// currency: waivers, free services (retail value), service recoveries and store
/// credit in effect or used up; deferred payments are credit, not goodwill, and
/// show as owed.
pub(crate) fn granted_since(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
    since: NaiveDate,
) -> Result<Vec<(Currency, i64)>, Error> {
    let rows: Vec<(String, Option<i64>, Option<i64>)> = gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::customer_id.eq(customer))
                .and(gestures::effective_on.ge(since))
                .and(gestures::status.eq(GestureStatus::Approved.as_str()))
                .and(gestures::kind.eq_any([
                    GestureKind::BalanceWaiver.as_str(),
                    GestureKind::FreeService.as_str(),
                    GestureKind::ServiceRecovery.as_str(),
                    GestureKind::StoreCredit.as_str(),
                ])),
        )
        .select((
            gestures::currency,
            gestures::amount_minor,
            gestures::retail_value_minor,
        ))
        .load(conn)?;
    let mut out: Vec<(Currency, i64)> = Vec::new();
    for (cur, a, r) in rows {
        let Some(cur) = Currency::from_code(&cur) else {
            continue;
        };
        let v = a.or(r).unwrap_or(0);
        match out.iter_mut().find(|(c, _)| *c == cur) {
            Some((_, t)) => *t = t.saturating_add(v),
            None => out.push((cur, v)),
        }
    }
    out.sort_by_key(|(c, _)| *c);
    Ok(out)
}

/// 422 naming `field` unless `code` is one of the tenant's reason codes; the
/// error lists the ones that are, so the caller can correct it in one go.
pub(crate) fn check_reason_code(
    conn: &mut DbConnection,
    tenant: TenantId,
    field: &str,
    code: &str,
) -> Result<(), Error> {
    let codes = reason_codes(conn, tenant)?;
    if codes.iter().any(|(c, _)| c == code) {
        return Ok(());
    }
    let allowed: Vec<&str> = codes.iter().map(|(c, _)| c.as_str()).collect();
    Err(problem(
        field,
        format!(
            "{code:?} is not one of the tenant's reason codes: {} (GET /v1/reason-codes)",
            allowed.join(", ")
        ),
    ))
}

/// Seeds a new tenant's reason codes with the defaults.
pub(crate) fn seed_reason_codes(
    conn: &mut DbConnection,
    tenant: TenantId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    for (code, description) in crate::domain::gesture::DEFAULT_REASON_CODES {
        diesel::insert_into(reason_codes::table)
            .values((
                reason_codes::tenant_id.eq(tenant),
                reason_codes::code.eq(code),
                reason_codes::description.eq(description),
                reason_codes::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Inserts gestures as they are (bulk history, e.g. `dev seed`), 200 rows per
/// statement. Their postings and memo totals are the caller's.
pub fn insert_batch(conn: &mut DbConnection, gs: &[Gesture]) -> Result<(), Error> {
    let rows: Vec<Row> = gs.iter().map(Row::from).collect();
    for chunk in rows.chunks(200) {
        crate::each_backend!(conn, |c| diesel::insert_into(gestures::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// The tenant's reason codes and their descriptions, by code.
pub(crate) fn reason_codes(
    conn: &mut DbConnection,
    tenant: TenantId,
) -> Result<Vec<(String, String)>, Error> {
    Ok(reason_codes::table
        .filter(reason_codes::tenant_id.eq(tenant))
        .select((reason_codes::code, reason_codes::description))
        .order(reason_codes::code)
        .load(conn)?)
}

/// The incidents the customer's gestures answer, newest first.
pub(crate) fn incident_ids_of(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
) -> Result<Vec<crate::domain::ids::IncidentId>, Error> {
    let mut ids: Vec<crate::domain::ids::IncidentId> = gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::customer_id.eq(customer))
                .and(gestures::incident_id.is_not_null()),
        )
        .select(gestures::incident_id.assume_not_null())
        .distinct()
        .load(conn)?;
    ids.sort();
    ids.reverse();
    Ok(ids)
}

/// Goodwill in effect given since `since` in `currency` (of `stores` only,
/// when given): (store, customer, kind, value in minor units) per gesture.
pub(crate) fn given_since(
    conn: &mut DbConnection,
    tenant: TenantId,
    currency: Currency,
    since: NaiveDate,
    stores: Option<&[StoreId]>,
) -> Result<Vec<(StoreId, CustomerId, GestureKind, i64)>, Error> {
    let mut q = gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::currency.eq(currency.code()))
                .and(gestures::effective_on.ge(since))
                .and(gestures::status.eq(GestureStatus::Approved.as_str()))
                .and(gestures::kind.eq_any([
                    GestureKind::BalanceWaiver.as_str(),
                    GestureKind::FreeService.as_str(),
                    GestureKind::ServiceRecovery.as_str(),
                    GestureKind::StoreCredit.as_str(),
                ])),
        )
        .select((
            gestures::store_id,
            gestures::customer_id,
            gestures::kind,
            gestures::amount_minor,
            gestures::retail_value_minor,
        ))
        .limit(200_000)
        .into_boxed();
    if let Some(s) = stores {
        q = q.filter(gestures::store_id.eq_any(s.to_vec()));
    }
    type Given = (StoreId, CustomerId, String, Option<i64>, Option<i64>);
    let rows: Vec<Given> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, c, k, a, r)| Some((s, c, GestureKind::parse(&k)?, a.or(r).unwrap_or(0))))
        .collect())
}

/// The newest monetary gestures requested since `since` (at most `limit`),
/// newest first: what a proposed policy is tried against.
pub(crate) fn decided_since(
    conn: &mut DbConnection,
    tenant: TenantId,
    since: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Gesture>, Error> {
    gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::created_at.ge(since))
                .and(
                    gestures::kind.eq_any(
                        GestureKind::ALL
                            .iter()
                            .filter(|k| k.is_monetary())
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>(),
                    ),
                ),
        )
        .select(Row::as_select())
        .order(gestures::id.desc())
        .limit(limit)
        .load(conn)?
        .into_iter()
        .map(Gesture::try_from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text INSERT a held-back write uses names the table's columns as
    /// the schema has them, in its order (the order `insert_write` binds).
    #[test]
    fn the_text_insert_names_every_column_of_the_schema() {
        super::super::pg_text::columns::assert_insert_names_every_column(
            INSERT_GESTURE,
            &gestures::table.select(gestures::all_columns),
        );
    }
}
