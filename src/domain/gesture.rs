//! Gestures: one act of goodwill each, of a kind, with its own fields.
//!
//! Parsing checks, in this order (and `docs/ledger.md` lists them in this
//! order): the common fields (`store_id`, `reason_code`, `story`, `staff_ids`,
//! `effective_on`), then the kind's fields. What needs the database (the store's
//! currency, the reason code list, staff, incident, what is owed) is checked by the
//! operation that creates the gesture, after this.

use chrono::NaiveDate;
use serde::Deserialize;

use super::ids::{GestureId, IncidentId, StaffId, StoreId};
use super::money::{Currency, Money, MoneyInput};
use super::{FieldError, Problems, text};

/// Longest story.
pub(crate) const STORY_MAX: usize = 4000;
/// Most staff one gesture names.
pub(crate) const STAFF_MAX: usize = 20;
/// Most promises one waiver names.
pub(crate) const APPLIES_TO_MAX: usize = 100;

/// What kind of goodwill.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum GestureKind {
    /// Goods given on a promise to pay later (S1).
    DeferredPayment,
    /// Money owed, given up (S2). A write-off: finance reviews it.
    BalanceWaiver,
    /// Work done free: its retail value and its cost (S3).
    FreeService,
    /// Money spent to put right what went wrong (S2, S5).
    ServiceRecovery,
    /// Credit to spend later.
    StoreCredit,
    /// A customer's praise of a staff member (S4). No money.
    Recognition,
    /// Goodwill flowing the other way: the customer did us a favour (S5).
    CustomerFavour,
}

impl GestureKind {
    /// Every kind.
    pub(crate) const ALL: [GestureKind; 7] = [
        Self::DeferredPayment,
        Self::BalanceWaiver,
        Self::FreeService,
        Self::ServiceRecovery,
        Self::StoreCredit,
        Self::Recognition,
        Self::CustomerFavour,
    ];

    /// The wire name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::DeferredPayment => "deferred_payment",
            Self::BalanceWaiver => "balance_waiver",
            Self::FreeService => "free_service",
            Self::ServiceRecovery => "service_recovery",
            Self::StoreCredit => "store_credit",
            Self::Recognition => "recognition",
            Self::CustomerFavour => "customer_favour",
        }
    }

    /// Parses the wire name.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the kind moves money (and so passes the approval decision).
    pub(crate) fn is_monetary(self) -> bool {
        !matches!(self, Self::Recognition | Self::CustomerFavour)
    }
}

/// Where a gesture is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GestureStatus {
    /// Waits for an approver; posts nothing.
    PendingApproval,
    /// In effect (for a deferred payment: open).
    Approved,
    /// An approver said no.
    Rejected,
    /// The requester withdrew it while pending.
    Cancelled,
    /// Nobody decided in time.
    Expired,
    /// A deferred payment paid in full.
    Settled,
    /// A deferred payment given up.
    WrittenOff,
    /// Undone by a reversal.
    Reversed,
}

impl GestureStatus {
    /// Every status.
    pub(crate) const ALL: [GestureStatus; 8] = [
        Self::PendingApproval,
        Self::Approved,
        Self::Rejected,
        Self::Cancelled,
        Self::Expired,
        Self::Settled,
        Self::WrittenOff,
        Self::Reversed,
    ];

    /// Granted and standing: what reports count as goodwill given.
    pub(crate) const IN_EFFECT: [GestureStatus; 3] =
        [Self::Approved, Self::Settled, Self::WrittenOff];

    /// What counts against a budget: granted and standing, or still asked for.
    pub(crate) const COUNTED: [GestureStatus; 4] = [
        Self::PendingApproval,
        Self::Approved,
        Self::Settled,
        Self::WrittenOff,
    ];

    /// Asked for and never granted.
    pub(crate) const NOT_GRANTED: [GestureStatus; 3] =
        [Self::Rejected, Self::Cancelled, Self::Expired];

    /// The wire name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::PendingApproval => "pending_approval",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Settled => "settled",
            Self::WrittenOff => "written_off",
            Self::Reversed => "reversed",
        }
    }

    /// Parses the wire name.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The body of `POST /v1/customers/{id}/gestures`, as sent.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GestureInput {
    /// The kind.
    pub kind: GestureKind,
    /// Where.
    pub store_id: StoreId,
    /// Why: one of the tenant's reason codes (required; optional here so
    /// that a body lacking it is told so with everything else it lacks).
    #[serde(default)]
    pub reason_code: Option<String>,
    /// What happened, in words (required, as above).
    #[serde(default)]
    pub story: Option<String>,
    /// Staff involved.
    #[serde(default)]
    pub staff_ids: Vec<StaffId>,
    /// What went wrong, if this answers an incident.
    pub incident_id: Option<IncidentId>,
    /// When it counts (default today).
    pub effective_on: Option<NaiveDate>,
    /// deferred_payment, balance_waiver, service_recovery, store_credit.
    pub amount: Option<MoneyInput>,
    /// deferred_payment.
    pub due_on: Option<NaiveDate>,
    /// balance_waiver: the promises it gives up (else oldest first).
    pub applies_to: Option<Vec<GestureId>>,
    /// free_service.
    pub retail_value: Option<MoneyInput>,
    /// free_service (may be 0.00).
    pub cost: Option<MoneyInput>,
    /// store_credit.
    pub expires_on: Option<NaiveDate>,
    /// customer_favour (optional).
    pub estimated_value: Option<MoneyInput>,
    /// The till's durable reference (unique per store).
    pub client_ref: Option<String>,
}

/// What each kind carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Terms {
    /// Goods on a promise.
    DeferredPayment {
        /// What is owed.
        amount: Money,
        /// When it is due.
        due_on: NaiveDate,
    },
    /// Owed money given up.
    BalanceWaiver {
        /// How much.
        amount: Money,
        /// Which promises (empty: oldest first).
        applies_to: Vec<GestureId>,
    },
    /// Free work.
    FreeService {
        /// What it would have cost the customer.
        retail_value: Money,
        /// What it cost the business.
        cost: Money,
    },
    /// Money spent on recovery.
    ServiceRecovery {
        /// How much.
        amount: Money,
    },
    /// Credit to spend.
    StoreCredit {
        /// How much.
        amount: Money,
        /// Last day it can be spent.
        expires_on: Option<NaiveDate>,
    },
    /// Praise of staff.
    Recognition,
    /// A favour from the customer.
    CustomerFavour {
        /// What it was worth, if anyone says.
        estimated_value: Option<Money>,
    },
}

impl Terms {
    /// The money that moves (or, for a free service, the retail value given).
    /// This is what the approval decision weighs.
    pub fn value(&self) -> Option<Money> {
        match self {
            Terms::DeferredPayment { amount, .. }
            | Terms::BalanceWaiver { amount, .. }
            | Terms::ServiceRecovery { amount }
            | Terms::StoreCredit { amount, .. } => Some(*amount),
            Terms::FreeService { retail_value, .. } => Some(*retail_value),
            Terms::Recognition | Terms::CustomerFavour { .. } => None,
        }
    }

    /// Every Money of the gesture, with its field name.
    pub fn money_fields(&self) -> Vec<(&'static str, Money)> {
        match self {
            Terms::DeferredPayment { amount, .. }
            | Terms::BalanceWaiver { amount, .. }
            | Terms::ServiceRecovery { amount }
            | Terms::StoreCredit { amount, .. } => vec![("amount", *amount)],
            Terms::FreeService { retail_value, cost } => {
                vec![("retail_value", *retail_value), ("cost", *cost)]
            }
            Terms::CustomerFavour {
                estimated_value: Some(v),
            } => vec![("estimated_value", *v)],
            Terms::Recognition
            | Terms::CustomerFavour {
                estimated_value: None,
            } => vec![],
        }
    }
}

/// A valid gesture request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewGesture {
    /// The kind.
    pub kind: GestureKind,
    /// Where.
    pub store_id: StoreId,
    /// Why.
    pub reason_code: String,
    /// The story.
    pub story: String,
    /// Staff involved (distinct).
    pub staff_ids: Vec<StaffId>,
    /// The incident it answers.
    pub incident_id: Option<IncidentId>,
    /// When it counts.
    pub effective_on: NaiveDate,
    /// The kind's fields.
    pub terms: Terms,
    /// The till's durable reference (unique per store).
    pub client_ref: Option<String>,
}

fn forbid(p: &mut Problems, present: bool, field: &str, kind: GestureKind) {
    if present {
        p.push(
            field,
            format!("is not a field of a {} gesture", kind.as_str()),
        );
    }
}

fn require<'a, T>(
    p: &mut Problems,
    v: &'a Option<T>,
    field: &str,
    kind: GestureKind,
) -> Option<&'a T> {
    if v.is_none() {
        p.push(
            field,
            format!("is required for a {} gesture", kind.as_str()),
        );
    }
    v.as_ref()
}

/// A reason code: lower-case letters, digits and underscores, starting with a
/// letter, at most 64 characters.
pub(crate) fn parse_reason_code(field: &str, s: &str) -> Result<String, FieldError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(FieldError::new(
            field,
            "must be a reason code like staff_error (a-z, 0-9, _)",
        ))
    }
}

impl NewGesture {
    /// Checks every field the request carries; `today` is the date in UTC.
    pub fn parse(input: &GestureInput, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let kind = input.kind;
        let mut p = Problems::default();
        let reason_code = match &input.reason_code {
            Some(r) => p.take(parse_reason_code("reason_code", r)),
            None => {
                p.push("reason_code", "is required");
                None
            }
        };
        let story = match &input.story {
            Some(s) => p.take(text::required_line_multi("story", s, STORY_MAX)),
            None => {
                p.push("story", "is required");
                None
            }
        };
        if input.staff_ids.len() > STAFF_MAX {
            p.push("staff_ids", format!("must name at most {STAFF_MAX} staff"));
        }
        for (i, id) in input.staff_ids.iter().enumerate() {
            if input.staff_ids[..i].contains(id) {
                p.push(
                    format!("staff_ids[{i}]"),
                    "names the same staff member twice",
                );
            }
        }
        let client_ref = input
            .client_ref
            .as_deref()
            .and_then(|r| p.take(text::reference("client_ref", r, 100)));
        let effective_on = input.effective_on.unwrap_or(today);
        if effective_on > today {
            p.push("effective_on", "must not be in the future");
        }
        let money = |p: &mut Problems, field: &str, v: Option<&MoneyInput>, zero: bool| {
            v.and_then(|m| p.take(Money::parse(field, m, zero)))
        };
        use GestureKind as K;
        forbid(
            &mut p,
            input.amount.is_some()
                && !matches!(
                    kind,
                    K::DeferredPayment | K::BalanceWaiver | K::ServiceRecovery | K::StoreCredit
                ),
            "amount",
            kind,
        );
        forbid(
            &mut p,
            input.due_on.is_some() && kind != K::DeferredPayment,
            "due_on",
            kind,
        );
        forbid(
            &mut p,
            input.applies_to.is_some() && kind != K::BalanceWaiver,
            "applies_to",
            kind,
        );
        forbid(
            &mut p,
            input.retail_value.is_some() && kind != K::FreeService,
            "retail_value",
            kind,
        );
        forbid(
            &mut p,
            input.cost.is_some() && kind != K::FreeService,
            "cost",
            kind,
        );
        forbid(
            &mut p,
            input.expires_on.is_some() && kind != K::StoreCredit,
            "expires_on",
            kind,
        );
        forbid(
            &mut p,
            input.estimated_value.is_some() && kind != K::CustomerFavour,
            "estimated_value",
            kind,
        );
        let terms = match kind {
            K::DeferredPayment => {
                let amount = require(&mut p, &input.amount, "amount", kind);
                let amount = money(&mut p, "amount", amount, false);
                let due_on = require(&mut p, &input.due_on, "due_on", kind).copied();
                // A paper IOU entered late may already be due (it is overdue
                // at once); it cannot fall due before it was made.
                if due_on.is_some_and(|d| d < effective_on) {
                    p.push(
                        "due_on",
                        "must not be before effective_on (the day the promise was made)",
                    );
                }
                amount
                    .zip(due_on)
                    .map(|(amount, due_on)| Terms::DeferredPayment { amount, due_on })
            }
            K::BalanceWaiver => {
                let amount = require(&mut p, &input.amount, "amount", kind);
                let amount = money(&mut p, "amount", amount, false);
                let applies_to = input.applies_to.clone().unwrap_or_default();
                if input.applies_to.as_ref().is_some_and(Vec::is_empty) {
                    p.push(
                        "applies_to",
                        "must name at least one deferred payment, or be left out",
                    );
                }
                if applies_to.len() > APPLIES_TO_MAX {
                    p.push(
                        "applies_to",
                        format!("must name at most {APPLIES_TO_MAX} deferred payments"),
                    );
                }
                for (i, id) in applies_to.iter().enumerate() {
                    if applies_to[..i].contains(id) {
                        p.push(
                            format!("applies_to[{i}]"),
                            "names the same deferred payment twice",
                        );
                    }
                }
                amount.map(|amount| Terms::BalanceWaiver { amount, applies_to })
            }
            K::FreeService => {
                let retail = require(&mut p, &input.retail_value, "retail_value", kind);
                let retail_value = money(&mut p, "retail_value", retail, false);
                let cost = require(&mut p, &input.cost, "cost", kind);
                let cost = money(&mut p, "cost", cost, true);
                if let (Some(r), Some(c)) = (retail_value, cost)
                    && r.currency() != c.currency()
                {
                    p.push("cost.currency", "must be the currency of retail_value");
                }
                retail_value
                    .zip(cost)
                    .map(|(retail_value, cost)| Terms::FreeService { retail_value, cost })
            }
            K::ServiceRecovery => {
                let amount = require(&mut p, &input.amount, "amount", kind);
                money(&mut p, "amount", amount, false)
                    .map(|amount| Terms::ServiceRecovery { amount })
            }
            K::StoreCredit => {
                let amount = require(&mut p, &input.amount, "amount", kind);
                let amount = money(&mut p, "amount", amount, false);
                if input
                    .expires_on
                    .is_some_and(|d| d <= effective_on || d < today)
                {
                    p.push(
                        "expires_on",
                        "must be after effective_on and not in the past",
                    );
                }
                amount.map(|amount| Terms::StoreCredit {
                    amount,
                    expires_on: input.expires_on,
                })
            }
            K::Recognition => {
                if input.staff_ids.is_empty() {
                    p.push("staff_ids", "a recognition names at least one staff member");
                }
                Some(Terms::Recognition)
            }
            K::CustomerFavour => {
                let estimated_value = money(
                    &mut p,
                    "estimated_value",
                    input.estimated_value.as_ref(),
                    false,
                );
                Some(Terms::CustomerFavour { estimated_value })
            }
        };
        p.finish()?;
        match (reason_code, story, terms) {
            (Some(reason_code), Some(story), Some(terms)) => Ok(NewGesture {
                kind,
                store_id: input.store_id,
                reason_code,
                story,
                staff_ids: input.staff_ids.clone(),
                incident_id: input.incident_id,
                effective_on,
                terms,
                client_ref,
            }),
            _ => Err(vec![FieldError::new("body", "is not a valid gesture")]),
        }
    }

    /// Checks every amount is in the store's currency (another → 422).
    pub(crate) fn check_currency(&self, store_currency: Currency) -> Result<(), Vec<FieldError>> {
        let mut p = Problems::default();
        for (field, m) in self.terms.money_fields() {
            if m.currency() != store_currency {
                p.push(
                    format!("{field}.currency"),
                    format!("must be the store's currency, {store_currency}"),
                );
            }
        }
        p.finish()
    }
}

/// Whether `date`, given as `field` of something that posts to the ledger, is
/// dated back no further than allowed on `today`: within the tenant's
/// back-dating window and not before the tenant existed (`tenant_since`). The
/// one rule, with the one message, for every such date. Not in the future is
/// checked where the date is parsed; in an open period by the posting.
pub(crate) fn check_back_dating(
    field: &str,
    date: NaiveDate,
    today: NaiveDate,
    window_days: i64,
    tenant_since: NaiveDate,
) -> Result<(), FieldError> {
    let window_start = today
        .checked_sub_signed(chrono::TimeDelta::days(window_days))
        .unwrap_or(NaiveDate::MIN);
    if date < tenant_since {
        return Err(FieldError::new(
            field,
            format!("must not be before {tenant_since}, when this tenant's ledger began"),
        ));
    }
    if date < window_start {
        return Err(FieldError::new(
            field,
            format!(
                "may be dated back at most {window_days} days (the policy's back_dating.window_days): on or after {window_start}"
            ),
        ));
    }
    Ok(())
}

/// The reason codes a new tenant starts with.
pub(crate) const DEFAULT_REASON_CODES: &[(&str, &str)] = &[
    ("staff_error", "A member of staff made a mistake"),
    ("product_fault", "A product was faulty"),
    ("delay", "Something took longer than promised"),
    (
        "customer_hardship",
        "The customer is going through a hard time",
    ),
    ("loyalty", "Thanks for a loyal customer"),
    (
        "closing_time",
        "The tills were closed; trust instead of a sale",
    ),
    ("service_failure", "The service fell short"),
    ("goodwill", "Goodwill without a specific cause"),
    ("praise", "A customer praised a member of staff"),
    (
        "customer_kindness",
        "The customer did the business a good turn",
    ),
    ("unpaid_promise", "A promise to pay was not kept"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_items_query_spells_these_names() {
        // store::gestures::open_items writes them into its SQL.
        assert_eq!(GestureStatus::Approved.as_str(), "approved");
        assert_eq!(GestureKind::DeferredPayment.as_str(), "deferred_payment");
        assert_eq!(GestureKind::StoreCredit.as_str(), "store_credit");
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn input(v: serde_json::Value) -> GestureInput {
        serde_json::from_value(v).unwrap()
    }

    fn fields(r: Result<NewGesture, Vec<FieldError>>) -> Vec<String> {
        r.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    fn promise(amount: &str, paid: i64) -> Gesture {
        let usd = Currency::from_code("USD").unwrap();
        let at = today().and_hms_opt(9, 0, 0).unwrap();
        Gesture {
            id: GestureId::new(),
            tenant_id: crate::domain::ids::TenantId::new(),
            customer_id: crate::domain::ids::CustomerId::new(),
            store_id: StoreId::new(),
            kind: GestureKind::DeferredPayment,
            status: GestureStatus::Approved,
            reason_code: "goodwill".into(),
            story: "pays later".into(),
            staff_ids: Vec::new(),
            incident_id: None,
            effective_on: today(),
            currency: usd,
            terms: Terms::DeferredPayment {
                amount: Money::parse_amount(amount, usd).unwrap(),
                due_on: today(),
            },
            paid_minor: paid,
            waived_minor: 0,
            redeemed_minor: 0,
            expired_minor: 0,
            requested_by: "ann".into(),
            requested_role: "clerk".into(),
            decision_rule: "self_grant".into(),
            write_off_of: None,
            reversal_reason: None,
            created_at: at,
            updated_at: at,
            policy_version: 1,
            approval: None,
        }
    }

    #[test]
    fn a_waiver_spreads_over_promises_in_order_and_never_past_what_they_owe() {
        let (a, b) = (promise("10.00", 400), promise("5.00", 0));
        let spread = spread_waiver(700, vec![a.clone(), b.clone()]).unwrap();
        let taken: Vec<_> = spread.iter().map(|(g, m)| (g.id, *m)).collect();
        assert_eq!(taken, [(a.id, 600), (b.id, 100)]);
        // Used up on the first: the second is left alone.
        let spread = spread_waiver(600, vec![a.clone(), b.clone()]).unwrap();
        assert_eq!(spread.len(), 1);
        assert_eq!(spread_waiver(1_101, vec![a.clone(), b]).unwrap_err(), 1_100);
        let mut paid = a;
        paid.paid_minor = 1_000;
        assert_eq!(
            not_waivable(&paid, paid.currency).as_deref(),
            Some("is approved and owes nothing")
        );
    }

    #[test]
    fn each_kind_adds_to_its_memo() {
        use crate::domain::ledger::Memo;
        let usd = Currency::from_code("USD").unwrap();
        let v = Money::parse_amount("3.00", usd).unwrap();
        assert_eq!(Terms::Recognition.memo(), Some((Memo::Recognitions, None)));
        assert_eq!(
            Terms::CustomerFavour {
                estimated_value: Some(v)
            }
            .memo(),
            Some((Memo::FavourEstimatedValue, Some(v)))
        );
        assert_eq!(
            Terms::CustomerFavour {
                estimated_value: None
            }
            .memo(),
            Some((Memo::Favours, None))
        );
        assert_eq!(promise("1.00", 0).terms.memo(), None);
    }

    #[test]
    fn a_deferred_payment_needs_an_amount_and_a_due_date_not_before_it_was_made() {
        let store = StoreId::new();
        let ok = NewGesture::parse(
            &input(serde_json::json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
                "story": "Tills sealed", "amount": {"amount": "10.95", "currency": "USD"}, "due_on": "2026-11-23"})),
            today(),
        )
        .unwrap();
        assert_eq!(ok.terms.value().unwrap().minor(), 1095);
        let bad = NewGesture::parse(
            &input(
                serde_json::json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
                "story": "x", "amount": {"amount": "10.955", "currency": "USD"}, "due_on": "2026-11-21",
                "cost": {"amount": "1", "currency": "USD"}}),
            ),
            today(),
        );
        assert_eq!(fields(bad), ["cost", "amount.amount", "due_on"]);
        // A paper IOU of last week, already due: taken, and overdue at once.
        let late = NewGesture::parse(
            &input(serde_json::json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
                "story": "IOU on paper", "amount": {"amount": "5.00", "currency": "USD"},
                "effective_on": "2026-11-15", "due_on": "2026-11-20"})),
            today(),
        )
        .unwrap();
        assert_eq!(late.effective_on.to_string(), "2026-11-15");
        let before = NewGesture::parse(
            &input(
                serde_json::json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
                "story": "x", "amount": {"amount": "5.00", "currency": "USD"},
                "effective_on": "2026-11-15", "due_on": "2026-11-14"}),
            ),
            today(),
        );
        assert_eq!(fields(before), ["due_on"]);
    }

    #[test]
    fn each_kind_checks_its_own_fields() {
        let store = StoreId::new();
        let base = |kind: &str| serde_json::json!({"kind": kind, "store_id": store, "reason_code": "loyalty", "story": "s"});
        assert_eq!(
            fields(NewGesture::parse(&input(base("recognition")), today())),
            ["staff_ids"]
        );
        assert_eq!(
            fields(NewGesture::parse(&input(base("free_service")), today())),
            ["retail_value", "cost"]
        );
        let mut fs = base("free_service");
        fs["retail_value"] = serde_json::json!({"amount": "800.00", "currency": "USD"});
        fs["cost"] = serde_json::json!({"amount": "0.00", "currency": "USD"});
        assert!(
            NewGesture::parse(&input(fs), today()).is_ok(),
            "cost may be zero"
        );
        assert!(NewGesture::parse(&input(base("customer_favour")), today()).is_ok());
        let mut future = base("customer_favour");
        future["effective_on"] = serde_json::json!("2026-11-23");
        assert_eq!(
            fields(NewGesture::parse(&input(future), today())),
            ["effective_on"]
        );
        let mut zero = base("service_recovery");
        zero["amount"] = serde_json::json!({"amount": "0.00", "currency": "USD"});
        assert_eq!(
            fields(NewGesture::parse(&input(zero), today())),
            ["amount.amount"]
        );
    }

    #[test]
    fn reason_codes_are_snake_case() {
        assert!(parse_reason_code("r", "staff_error").is_ok());
        for bad in ["", "Staff", "1abc", "a-b", &"a".repeat(65)] {
            assert!(parse_reason_code("r", bad).is_err(), "{bad}");
        }
    }
}

/// What a customer's summary needs of one open item: a deferred payment
/// still owed, or store credit still to spend (read with the customer's
/// figures, in the same statement, instead of whole gesture rows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenItem {
    /// The gesture.
    pub id: GestureId,
    /// Its store.
    pub store_id: StoreId,
    /// `deferred_payment` or `store_credit`.
    pub kind: GestureKind,
    /// Its currency.
    pub currency: Currency,
    /// What is left: still owed, or still to spend (minor units).
    pub left_minor: i64,
    /// A promise's due date, or a credit's expiry (`None`: never expires).
    pub day: Option<NaiveDate>,
}

impl OpenItem {
    /// Whether a promise is past due on `today` with something still owed
    /// (as [`Gesture::is_overdue`]).
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.kind == GestureKind::DeferredPayment
            && self.left_minor > 0
            && self.day.is_some_and(|d| d < today)
    }

    /// Store credit that can still be spent on `today`: what is left, when
    /// something is and it has not expired.
    pub fn credit_left(&self, today: NaiveDate) -> Option<i64> {
        (self.kind == GestureKind::StoreCredit
            && self.left_minor > 0
            && self.day.is_none_or(|e| e >= today))
        .then_some(self.left_minor)
    }
}

/// A gesture as recorded, with its running figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gesture {
    /// Its id.
    pub id: GestureId,
    /// Its tenant.
    pub tenant_id: super::ids::TenantId,
    /// Its customer.
    pub customer_id: super::ids::CustomerId,
    /// Its store.
    pub store_id: StoreId,
    /// Its kind.
    pub kind: GestureKind,
    /// Its status.
    pub status: GestureStatus,
    /// Why.
    pub reason_code: String,
    /// The story.
    pub story: String,
    /// Staff involved.
    pub staff_ids: Vec<StaffId>,
    /// The incident it answers.
    pub incident_id: Option<IncidentId>,
    /// When it counts.
    pub effective_on: NaiveDate,
    /// The store's currency.
    pub currency: Currency,
    /// The kind's fields.
    pub terms: Terms,
    /// Deferred payment: paid so far (minor units).
    pub paid_minor: i64,
    /// Deferred payment: waived or written off so far.
    pub waived_minor: i64,
    /// Store credit: spent so far.
    pub redeemed_minor: i64,
    /// Store credit: expired so far.
    pub expired_minor: i64,
    /// The requester's `sub`.
    pub requested_by: String,
    /// The requester's role.
    pub requested_role: String,
    /// The rule that decided whether it took effect at once.
    pub decision_rule: String,
    /// A waiver made by the write-off route: the promise it gives up.
    pub write_off_of: Option<GestureId>,
    /// Why it was reversed.
    pub reversal_reason: Option<String>,
    /// Created (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last changed (UTC).
    pub updated_at: chrono::NaiveDateTime,
    /// The version of the tenant's approval policy that decided it.
    pub policy_version: i32,
    /// The decision in full (`None` on gestures recorded before decisions were
    /// kept whole).
    pub approval: Option<super::policy::DecisionRecord>,
}

/// Why `promise`, a deferred payment of the waiver's customer (see
/// [`Gesture::is_promise_of`]), may not be named by a waiver in `currency`, or
/// `None` when it may (what it owes can be given up).
pub(crate) fn not_waivable(
    promise: &Gesture,
    currency: crate::domain::money::Currency,
) -> Option<String> {
    if promise.status != GestureStatus::Approved || promise.outstanding_minor().unwrap_or(0) <= 0 {
        return Some(format!("is {} and owes nothing", promise.status.as_str()));
    }
    if promise.currency != currency {
        return Some("is in another currency".into());
    }
    None
}

/// How a waiver of `amount_minor` spreads over `promises`, in their order: from
/// each what it still owes until the amount is used up. `Err(owed)` when the
/// amount exceeds what they owe together.
pub(crate) fn spread_waiver(
    amount_minor: i64,
    promises: Vec<Gesture>,
) -> Result<Vec<(Gesture, i64)>, i64> {
    let owed: i64 = promises
        .iter()
        .map(|g| g.outstanding_minor().unwrap_or(0))
        .fold(0, i64::saturating_add);
    if amount_minor > owed {
        return Err(owed);
    }
    let mut left = amount_minor;
    let mut out = Vec::new();
    for g in promises {
        if left == 0 {
            break;
        }
        let take = left.min(g.outstanding_minor().unwrap_or(0));
        if take > 0 {
            left -= take;
            out.push((g, take));
        }
    }
    Ok(out)
}

impl Terms {
    /// The memo total a gesture with these terms adds to while in effect, and
    /// the value it adds (`None`: a count only).
    pub(crate) fn memo(&self) -> Option<(crate::domain::ledger::Memo, Option<Money>)> {
        use crate::domain::ledger::Memo;
        match self {
            Terms::FreeService { retail_value, .. } => {
                Some((Memo::FreeServiceRetailValue, Some(*retail_value)))
            }
            Terms::CustomerFavour {
                estimated_value: Some(v),
            } => Some((Memo::FavourEstimatedValue, Some(*v))),
            Terms::CustomerFavour {
                estimated_value: None,
            } => Some((Memo::Favours, None)),
            Terms::Recognition => Some((Memo::Recognitions, None)),
            _ => None,
        }
    }
}

impl Gesture {
    /// Whether this is a deferred payment of `customer`.
    pub(crate) fn is_promise_of(&self, customer: super::ids::CustomerId) -> bool {
        self.customer_id == customer && self.kind == GestureKind::DeferredPayment
    }

    /// Deferred payment: what is still owed (amount − paid − waived).
    pub fn outstanding_minor(&self) -> Option<i64> {
        if self.status == GestureStatus::Reversed && self.kind == GestureKind::DeferredPayment {
            return Some(0);
        }
        match &self.terms {
            Terms::DeferredPayment { amount, .. } => {
                Some(amount.minor() - self.paid_minor - self.waived_minor)
            }
            _ => None,
        }
    }

    /// Store credit: what can still be spent (amount − redeemed − expired).
    pub(crate) fn credit_remaining_minor(&self) -> Option<i64> {
        if self.status == GestureStatus::Reversed && self.kind == GestureKind::StoreCredit {
            return Some(0);
        }
        match &self.terms {
            Terms::StoreCredit { amount, .. } => {
                Some(amount.minor() - self.redeemed_minor - self.expired_minor)
            }
            _ => None,
        }
    }

    /// Whether an open deferred payment is past its due date on `today`. Derived
    /// from the date: nothing has to run for it to be right.
    pub(crate) fn is_overdue(&self, today: NaiveDate) -> bool {
        match &self.terms {
            Terms::DeferredPayment { due_on, .. } => {
                self.status == GestureStatus::Approved
                    && *due_on < today
                    && self.outstanding_minor().unwrap_or(0) > 0
            }
            _ => false,
        }
    }
}
