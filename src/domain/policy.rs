//! The approval policy as data, and the decision it takes.
//!
//! A [`Policy`] is one tenant's version of the rules: self-grant limits per role
//! and kind (with store overrides), approval tiers by amount band, budgets over
//! rolling windows, the "in customers we trust" bonus for deferred payments,
//! split detection and pending expiry. [`Policy::default`] is the default of
//! docs/approvals.md, version 1 of every tenant. [`Policy::validate`] checks a version
//! whole and reports every problem; [`decide`] is a pure function of a policy and
//! the facts the store gathered ([`DecisionInput`]), so every rule can be tested
//! without a database or a clock.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::Problems;
use super::gesture::GestureKind;
use super::ids::StoreId;
use super::money::{Currency, Money};
use super::roles::{Permission, Role};

/// The most rules of each list a policy holds (the API's schema states the
/// same, so the largest valid policy fits the 64 KiB body limit).
const MAX_LIMIT_RULES: usize = 20;
const MAX_STORE_OVERRIDES: usize = 40;
const MAX_TIERS: usize = 10;
const MAX_BUDGETS: usize = 15;
/// Entries of an amounts map: `any` and at most 10 currencies.
const MAX_AMOUNTS: usize = 11;
/// The monetary kinds (what a kinds list may name).
const MONETARY_KINDS: usize = 5;

/// Amounts per currency: `{"any": "25", "JPY": "2500"}`. `any` (required) is a
/// whole number of units of whatever currency the store keeps; a currency code
/// gives that currency its own exact amount.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Amounts(pub BTreeMap<String, String>);

impl Amounts {
    /// `n` whole units of any currency.
    pub(crate) fn any(n: i64) -> Self {
        Self(BTreeMap::from([("any".to_owned(), n.to_string())]))
    }

    /// The amount for `currency`, in its minor units. `None` only for a map that
    /// failed validation.
    pub(crate) fn resolve(&self, currency: Currency) -> Option<i64> {
        if let Some(v) = self.0.get(currency.code()) {
            return Money::parse_amount(v, currency)
                .ok()
                .and_then(|m| m.minor_units());
        }
        let any = self.0.get("any")?;
        let n: i64 = any.parse().ok()?;
        Some(Money::major_to_minor(n, currency))
    }

    /// The currencies this map names besides `any`.
    fn named(&self) -> impl Iterator<Item = Currency> + '_ {
        self.0.keys().filter_map(|k| Currency::from_code(k))
    }

    fn validate(&self, field: &str, p: &mut Problems) {
        if self.0.len() > MAX_AMOUNTS {
            p.push(
                field,
                format!("at most {} currencies besides \"any\"", MAX_AMOUNTS - 1),
            );
        }
        match self.0.get("any") {
            None => p.push(
                field,
                "needs \"any\": the amount, in whole units, for currencies not named",
            ),
            Some(v) => {
                let whole = !v.is_empty()
                    && v.len() <= 16
                    && v.bytes().all(|b| b.is_ascii_digit())
                    && (v.len() == 1 || !v.starts_with('0'));
                if !whole {
                    p.push(
                        format!("{field}.any"),
                        "must be a whole number of units, as a string (\"25\")",
                    );
                }
            }
        }
        for (k, v) in &self.0 {
            if k == "any" {
                continue;
            }
            match Currency::from_code(k) {
                None => p.push(
                    format!("{field}.{k}"),
                    "is not an ISO 4217 currency code (or \"any\")",
                ),
                Some(c) => {
                    if Money::parse_amount(v, c).is_err() {
                        p.push(
                            format!("{field}.{k}"),
                            format!(
                                "must be a plain decimal string with at most {} decimals",
                                c.minor_unit()
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// A self-grant limit: what `roles` may grant alone, per request, of `kinds`
/// (absent: every monetary kind).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitRule {
    /// Roles it applies to.
    pub roles: Vec<String>,
    /// Kinds it applies to; absent: every monetary kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<String>>,
    /// The limit.
    pub limit: Amounts,
}

/// A self-grant limit at one store, taking precedence over the general ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoreLimitRule {
    /// The store.
    pub store_id: StoreId,
    /// Roles it applies to.
    pub roles: Vec<String>,
    /// Kinds it applies to; absent: every monetary kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<String>>,
    /// The limit.
    pub limit: Amounts,
}

/// An approval tier: gestures worth more than `from` and at most `up_to`
/// (`null`: no upper bound) are approved by one of `approvers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Tier {
    /// Lower bound (exclusive; the first tier starts at 0).
    pub from: Amounts,
    /// Upper bound (inclusive); `null` on the last tier.
    pub up_to: Option<Amounts>,
    /// Roles that may approve (a manager only at stores their token holds).
    pub approvers: Vec<String>,
}

/// A budget: goodwill granted within a rolling window, per customer, per
/// requester or per store. Exceeding it escalates to the next tier; it never
/// refuses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Budget {
    /// A name the decision reports.
    pub name: String,
    /// `customer`, `requester` or `store`.
    pub scope: String,
    /// The window, in days back from the request.
    pub window_days: i64,
    /// How much may be granted within it (or `percent_of_lifetime_value`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Amounts>,
    /// A value-aware budget: at most this percentage (a decimal string,
    /// "10" for 10 %) of the customer's estimated lifetime value within the
    /// window. Scope `customer` only; instead of `limit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_of_lifetime_value: Option<String>,
    /// Kinds it counts; absent: every monetary kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<String>>,
}

impl Budget {
    /// The kinds this budget counts, as stored: the monetary kinds it names
    /// (every monetary kind when it names none).
    pub(crate) fn counted_kinds(&self) -> Vec<&'static str> {
        GestureKind::ALL
            .into_iter()
            .filter(|k| k.is_monetary() && kind_matches(self.kinds.as_ref(), *k))
            .map(GestureKind::as_str)
            .collect()
    }

    /// The percentage of a value-aware budget, parsed.
    pub(crate) fn percent(&self) -> Option<rust_decimal::Decimal> {
        self.percent_of_lifetime_value
            .as_deref()
            .and_then(|p| p.parse().ok())
    }
}

/// "In customers we trust": a deferred payment's self-grant limit rises by
/// `per_kept_promise` for each promise the customer kept on time, up to
/// `max_increase`, and drops to zero for `write_off_window_days` after they
/// broke one (written off after it fell due, unpaid; a waiver does not count).
///
/// Only a promise that shows trust counts: of at least `min_promise_amount`,
/// paid off no sooner than `min_days_held` days after it was made, and with no
/// payment recorded by the person who requested it (else a clerk could raise
/// their own limit with a string of tiny promises they pay at once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Trust {
    /// Off by default.
    pub enabled: bool,
    /// Added per promise kept on time.
    pub per_kept_promise: Amounts,
    /// The most that is added.
    pub max_increase: Amounts,
    /// Days after a written-off promise during which the limit is zero.
    pub write_off_window_days: i64,
    /// The smallest promise that counts.
    #[serde(default = "Trust::default_min_promise_amount")]
    pub min_promise_amount: Amounts,
    /// The fewest days between making a promise and paying it off for it to
    /// count.
    #[serde(default = "Trust::default_min_days_held")]
    pub min_days_held: i64,
}

impl Trust {
    fn default_min_promise_amount() -> Amounts {
        Amounts::any(10)
    }

    fn default_min_days_held() -> i64 {
        1
    }
}

impl Default for Trust {
    fn default() -> Self {
        Self {
            enabled: false,
            per_kept_promise: Amounts::any(5),
            max_increase: Amounts::any(50),
            write_off_window_days: 180,
            min_promise_amount: Self::default_min_promise_amount(),
            min_days_held: Self::default_min_days_held(),
        }
    }
}

/// Split detection: one requester, one customer, one kind, within a window; the
/// gesture that makes the sum exceed the requester's self-grant limit waits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SplitDetection {
    /// On by default.
    pub enabled: bool,
    /// The window in hours.
    pub window_hours: i64,
}

/// How far back staff may date what they record: a gesture's `effective_on`
/// (and every date that posts to the ledger) lies within this many days before
/// today, never before the tenant existed, and always in an open period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BackDating {
    /// Days before today; 0 allows only today.
    pub window_days: i64,
}

/// The longest back-dating window a tenant may set.
pub(crate) const BACK_DATING_MAX_DAYS: i64 = 366;

impl Default for BackDating {
    fn default() -> Self {
        Self { window_days: 7 }
    }
}

/// One version of a tenant's approval policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Policy {
    /// Self-grant limits per role and kind.
    pub self_grant_limits: Vec<LimitRule>,
    /// Store-level overrides of the self-grant limits.
    #[serde(default)]
    pub store_overrides: Vec<StoreLimitRule>,
    /// Approval tiers, by amount band, lowest first.
    pub approval_tiers: Vec<Tier>,
    /// Budgets over rolling windows (none by default).
    #[serde(default)]
    pub budgets: Vec<Budget>,
    /// The trust bonus for deferred payments (off by default).
    #[serde(default)]
    pub trust: Trust,
    /// Split detection.
    pub split_detection: SplitDetection,
    /// Hours a request may wait before it expires.
    pub pending_expiry_hours: i64,
    /// How far back what is recorded may be dated (7 days by default).
    #[serde(default)]
    pub back_dating: BackDating,
    /// Nothing above this is ever self-granted, whatever a limit, a store
    /// override or the trust bonus says. Raising it, like every change that
    /// lets more through alone, takes a second admin's approval.
    #[serde(default = "Policy::default_ceiling")]
    pub self_grant_ceiling: Amounts,
}

impl Policy {
    fn default_ceiling() -> Amounts {
        Amounts::any(1_000)
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for Policy {
    /// The default policy (docs/approvals.md).
    fn default() -> Self {
        let limit = |roles: &[&str], n| LimitRule {
            roles: strings(roles),
            kinds: None,
            limit: Amounts::any(n),
        };
        Self {
            self_grant_limits: vec![
                limit(&["pos", "clerk"], 25),
                limit(&["manager"], 250),
                limit(&["finance", "admin"], 1_000),
            ],
            store_overrides: Vec::new(),
            approval_tiers: vec![
                Tier {
                    from: Amounts::any(0),
                    up_to: Some(Amounts::any(250)),
                    approvers: strings(&["manager", "finance", "admin"]),
                },
                Tier {
                    from: Amounts::any(250),
                    up_to: None,
                    approvers: strings(&["finance", "admin"]),
                },
            ],
            budgets: Vec::new(),
            trust: Trust::default(),
            split_detection: SplitDetection {
                enabled: true,
                window_hours: 24,
            },
            pending_expiry_hours: 72,
            back_dating: BackDating::default(),
            self_grant_ceiling: Self::default_ceiling(),
        }
    }
}

/// Where a budget counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetScope {
    /// The gesture's customer.
    Customer,
    /// The requesting staff member (token `sub`).
    Requester,
    /// The gesture's store.
    Store,
}

impl BudgetScope {
    /// Parses the policy's spelling.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "customer" => Some(Self::Customer),
            "requester" => Some(Self::Requester),
            "store" => Some(Self::Store),
            _ => None,
        }
    }
}

pub(crate) fn kind_matches(kinds: Option<&Vec<String>>, kind: GestureKind) -> bool {
    kinds.is_none_or(|ks| ks.iter().any(|k| k == kind.as_str()))
}

impl Policy {
    /// Checks the policy whole; every problem is reported, with its field.
    /// Store ids are checked against the tenant by the caller.
    pub(crate) fn validate(&self) -> Result<(), Vec<super::FieldError>> {
        let mut p = Problems::default();
        let mut seen: BTreeMap<(String, &str), usize> = BTreeMap::new();
        for (field, n, max) in [
            (
                "self_grant_limits",
                self.self_grant_limits.len(),
                MAX_LIMIT_RULES,
            ),
            (
                "store_overrides",
                self.store_overrides.len(),
                MAX_STORE_OVERRIDES,
            ),
            ("approval_tiers", self.approval_tiers.len(), MAX_TIERS),
            ("budgets", self.budgets.len(), MAX_BUDGETS),
        ] {
            if n > max {
                p.push(field, format!("at most {max}"));
            }
        }
        for (i, r) in self.self_grant_limits.iter().enumerate() {
            let f = format!("self_grant_limits[{i}]");
            check_requesters(&r.roles, &format!("{f}.roles"), &mut p);
            check_kinds(r.kinds.as_deref(), &format!("{f}.kinds"), &mut p);
            r.limit.validate(&format!("{f}.limit"), &mut p);
            for role in &r.roles {
                for kind in GestureKind::ALL.into_iter().filter(|k| k.is_monetary()) {
                    if kind_matches(r.kinds.as_ref(), kind)
                        && let Some(j) = seen.insert((role.clone(), kind.as_str()), i)
                    {
                        p.push(
                            format!("{f}.roles"),
                            format!(
                                "{role} already has a limit for {} in self_grant_limits[{j}]",
                                kind.as_str()
                            ),
                        );
                    }
                }
            }
        }
        for (i, r) in self.store_overrides.iter().enumerate() {
            let f = format!("store_overrides[{i}]");
            check_requesters(&r.roles, &format!("{f}.roles"), &mut p);
            check_kinds(r.kinds.as_deref(), &format!("{f}.kinds"), &mut p);
            r.limit.validate(&format!("{f}.limit"), &mut p);
        }
        self.validate_tiers(&mut p);
        let mut names = std::collections::BTreeSet::new();
        for (i, b) in self.budgets.iter().enumerate() {
            let f = format!("budgets[{i}]");
            if b.name.trim().is_empty() || b.name.chars().count() > 100 {
                p.push(format!("{f}.name"), "must be 1 to 100 characters");
            } else if !names.insert(b.name.as_str()) {
                p.push(format!("{f}.name"), format!("{:?} is used twice", b.name));
            }
            if BudgetScope::parse(&b.scope).is_none() {
                p.push(
                    format!("{f}.scope"),
                    "must be one of customer, requester, store",
                );
            }
            if !(1..=3660).contains(&b.window_days) {
                p.push(format!("{f}.window_days"), "must be 1 to 3660");
            }
            match (&b.limit, &b.percent_of_lifetime_value) {
                (Some(limit), None) => limit.validate(&format!("{f}.limit"), &mut p),
                (None, Some(pct)) => {
                    let ok = pct.len() <= 12
                        && pct.chars().all(|c| c.is_ascii_digit() || c == '.')
                        && b.percent().is_some_and(|d| {
                            d > rust_decimal::Decimal::ZERO
                                && d <= rust_decimal::Decimal::from(1000)
                        });
                    if !ok {
                        p.push(
                            format!("{f}.percent_of_lifetime_value"),
                            "must be a plain decimal string above 0 and at most 1000",
                        );
                    }
                    if b.scope != "customer" {
                        p.push(
                            format!("{f}.scope"),
                            "a budget on lifetime value counts per customer: scope must be customer",
                        );
                    }
                }
                _ => p.push(
                    format!("{f}.limit"),
                    "give either limit or percent_of_lifetime_value",
                ),
            }
            check_kinds(b.kinds.as_deref(), &format!("{f}.kinds"), &mut p);
        }
        self.trust
            .per_kept_promise
            .validate("trust.per_kept_promise", &mut p);
        self.trust
            .max_increase
            .validate("trust.max_increase", &mut p);
        if !(0..=3660).contains(&self.trust.write_off_window_days) {
            p.push("trust.write_off_window_days", "must be 0 to 3660");
        }
        self.trust
            .min_promise_amount
            .validate("trust.min_promise_amount", &mut p);
        self.self_grant_ceiling
            .validate("self_grant_ceiling", &mut p);
        if !(0..=366).contains(&self.trust.min_days_held) {
            p.push("trust.min_days_held", "must be 0 to 366");
        }
        if !(1..=8760).contains(&self.split_detection.window_hours) {
            p.push("split_detection.window_hours", "must be 1 to 8760 (a year)");
        }
        if !(1..=8760).contains(&self.pending_expiry_hours) {
            p.push("pending_expiry_hours", "must be 1 to 8760 (a year)");
        }
        if !(0..=BACK_DATING_MAX_DAYS).contains(&self.back_dating.window_days) {
            p.push(
                "back_dating.window_days",
                format!("must be 0 to {BACK_DATING_MAX_DAYS}"),
            );
        }
        p.finish()
    }

    fn validate_tiers(&self, p: &mut Problems) {
        let tiers = &self.approval_tiers;
        if tiers.is_empty() {
            p.push("approval_tiers", "needs at least one tier");
            return;
        }
        for (i, t) in tiers.iter().enumerate() {
            let f = format!("approval_tiers[{i}]");
            t.from.validate(&format!("{f}.from"), p);
            if let Some(u) = &t.up_to {
                u.validate(&format!("{f}.up_to"), p);
            }
            if t.approvers.is_empty() {
                p.push(format!("{f}.approvers"), "needs at least one role");
            }
            for (j, r) in t.approvers.iter().enumerate() {
                match r.parse::<Role>() {
                    Err(e) => p.push(format!("{f}.approvers[{j}]"), e),
                    Ok(role) if !role.may(Permission::GesturesApprove) => p.push(
                        format!("{f}.approvers[{j}]"),
                        format!("{role} may not approve gestures"),
                    ),
                    Ok(_) => {}
                }
            }
            let last = i + 1 == tiers.len();
            if last && t.up_to.is_some() {
                p.push(
                    format!("{f}.up_to"),
                    "the last tier must be open-ended (null), so every amount has approvers",
                );
            }
            if !last && t.up_to.is_none() {
                p.push(format!("{f}.up_to"), "only the last tier may be open-ended");
            }
        }
        // The bands are checked in every currency any of them names, and in one
        // that none names (what "any" gives).
        let mut currencies: Vec<Currency> = tiers
            .iter()
            .flat_map(|t| {
                t.from
                    .named()
                    .chain(t.up_to.iter().flat_map(Amounts::named))
            })
            .collect();
        currencies.sort();
        currencies.dedup();
        let fallback = ["XXX", "USD", "EUR", "JPY"]
            .into_iter()
            .filter_map(Currency::from_code)
            .find(|c| !currencies.contains(c));
        currencies.extend(fallback);
        for c in currencies {
            let mut prev: Option<i64> = Some(0);
            for (i, t) in tiers.iter().enumerate() {
                let f = format!("approval_tiers[{i}]");
                let (Some(from), Some(expected)) = (t.from.resolve(c), prev) else {
                    break;
                };
                if from != expected {
                    p.push(
                        format!("{f}.from"),
                        format!(
                            "in {c}: must be {} where the tier before ends (no gaps, no overlaps)",
                            Money::from_minor(expected, c).amount_string()
                        ),
                    );
                    break;
                }
                prev = match &t.up_to {
                    Some(u) => match u.resolve(c) {
                        Some(up) if up > from => Some(up),
                        Some(_) => {
                            p.push(
                                format!("{f}.up_to"),
                                format!("in {c}: must be above the tier's from"),
                            );
                            None
                        }
                        None => None,
                    },
                    None => None,
                };
            }
        }
    }

    pub(crate) fn self_grant_limit(
        &self,
        role: Role,
        kind: GestureKind,
        store: StoreId,
    ) -> Option<&Amounts> {
        let matches = |roles: &[String], kinds: Option<&Vec<String>>| {
            roles.iter().any(|r| r == role.as_str()) && kind_matches(kinds, kind)
        };
        self.store_overrides
            .iter()
            .find(|r| r.store_id == store && matches(&r.roles, r.kinds.as_ref()))
            .map(|r| &r.limit)
            .or_else(|| {
                self.self_grant_limits
                    .iter()
                    .find(|r| matches(&r.roles, r.kinds.as_ref()))
                    .map(|r| &r.limit)
            })
    }

    /// The tier (0-based) whose band holds `amount` minor units of `currency`.
    pub(crate) fn tier_of(&self, amount: i64, currency: Currency) -> usize {
        self.approval_tiers
            .iter()
            .position(|t| {
                t.up_to
                    .as_ref()
                    .and_then(|u| u.resolve(currency))
                    .is_none_or(|up| amount <= up)
            })
            .unwrap_or(self.approval_tiers.len().saturating_sub(1))
    }

    /// The roles of tier `i` (0-based).
    pub(crate) fn approvers(&self, i: usize) -> Vec<Role> {
        self.approval_tiers
            .get(i)
            .map(|t| t.approvers.iter().filter_map(|r| r.parse().ok()).collect())
            .unwrap_or_default()
    }
}

fn check_requesters(roles: &[String], field: &str, p: &mut Problems) {
    if roles.is_empty() {
        p.push(field, "needs at least one role");
    }
    if roles.len() > Role::ALL.len() {
        p.push(field, format!("at most {} roles", Role::ALL.len()));
    }
    for (j, r) in roles.iter().enumerate() {
        match r.parse::<Role>() {
            Err(e) => p.push(format!("{field}[{j}]"), e),
            Ok(role) if !role.may(Permission::GesturesRequest) => p.push(
                format!("{field}[{j}]"),
                format!("{role} may not request gestures"),
            ),
            Ok(_) => {}
        }
    }
}

fn check_kinds(kinds: Option<&[String]>, field: &str, p: &mut Problems) {
    let Some(kinds) = kinds else { return };
    if kinds.is_empty() {
        p.push(field, "must name at least one kind, or be left out for all");
    }
    if kinds.len() > MONETARY_KINDS {
        p.push(field, format!("at most {MONETARY_KINDS} kinds"));
    }
    for (j, k) in kinds.iter().enumerate() {
        match GestureKind::parse(k) {
            None => p.push(format!("{field}[{j}]"), "is not a gesture kind"),
            Some(kind) if !kind.is_monetary() => p.push(
                format!("{field}[{j}]"),
                format!("{k} moves no money and never needs approval"),
            ),
            Some(_) => {}
        }
    }
}

/// What the store knows when a gesture is requested.
#[derive(Clone, Debug)]
pub(crate) struct DecisionInput {
    /// The gesture's kind.
    pub kind: GestureKind,
    /// The money it moves (free service: its retail value); `None` for
    /// non-monetary kinds.
    pub value: Option<Money>,
    /// The requester's role.
    pub role: Role,
    /// The gesture's store.
    pub store_id: StoreId,
    /// The store's currency.
    pub currency: Currency,
    /// What the requester already asked for this customer and kind within the
    /// split window (approved or pending), in minor units.
    pub recent_same_kind_minor: i64,
    /// For each budget of the policy, in order: what is already granted within
    /// its window (`None` when the budget does not count this kind).
    pub budget_used_minor: Vec<Option<i64>>,
    /// The customer's promises kept on time that count for trust (see
    /// [`Trust`]).
    pub promises_kept_on_time: i64,
    /// Whether one of the customer's promises was written off within the trust
    /// window.
    pub written_off_recently: bool,
    /// The customer's estimated lifetime value in the store's currency (minor
    /// units), when the value model has one.
    pub lifetime_value_minor: Option<i64>,
    /// The time of the request.
    pub now: NaiveDateTime,
}

/// A budget the decision consulted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetUse {
    /// Its name.
    pub name: String,
    /// Its scope.
    pub scope: BudgetScope,
    /// Its window in days.
    pub window_days: i64,
    /// Its limit (minor units); `None` for a value-aware budget of a customer
    /// without a lifetime value estimate (it is then not applied).
    pub limit_minor: Option<i64>,
    /// Already granted within the window, before this request (minor units).
    pub used_minor: i64,
    /// What was left before this request (minor units, never below zero).
    pub left_minor: Option<i64>,
    /// Whether this request exceeds it.
    pub exceeded: bool,
    /// For a value-aware budget: its percentage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_of_lifetime_value: Option<String>,
    /// For a value-aware budget: the lifetime value it was a share of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_value_minor: Option<i64>,
}

/// `percent` % of `value` minor units, rounded down to a minor unit.
pub(crate) fn percent_of(value: i64, percent: rust_decimal::Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (rust_decimal::Decimal::from(value) * percent / rust_decimal::Decimal::from(100))
        .floor()
        .to_i64()
        .unwrap_or(i64::MAX)
}

/// Who decided a pending request, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    /// `approved`, `rejected`, `cancelled` or `expired`.
    pub outcome: String,
    /// The decider's `sub` (`system` for expiry).
    pub by: String,
    /// The decider's role.
    pub role: Option<Role>,
    /// When.
    pub at: NaiveDateTime,
    /// The note given.
    pub note: Option<String>,
}

/// The decision as recorded with the gesture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// The rule that decided: `non_monetary`, `within_self_grant_limit`,
    /// `above_self_grant_limit`, `split_threshold` or `budget_exceeded`.
    pub rule: String,
    /// The requester's self-grant limit for this gesture (minor units), the
    /// trust bonus included.
    pub self_grant_limit_minor: Option<i64>,
    /// The trust bonus in that limit (minor units); `None` when not applied.
    pub trust_bonus_minor: Option<i64>,
    /// What the requester asked within the split window before (minor units).
    pub split_window_minor: Option<i64>,
    /// The tier (1-based) that must approve; `None` when it took effect at once.
    pub tier: Option<usize>,
    /// The roles of that tier.
    pub approvers: Vec<Role>,
    /// The budgets consulted.
    pub budgets: Vec<BudgetUse>,
    /// When a pending request expires.
    pub expires_at: Option<NaiveDateTime>,
    /// Once decided by someone (or by expiry): how.
    pub decided: Option<Decided>,
    /// A balance waiver: the stores the requester's token held (`None`: all,
    /// and records older than this field). An approval gives up promises only
    /// of stores both the requester and the approver hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_stores: Option<Vec<crate::domain::ids::StoreId>>,
}

impl DecisionRecord {
    /// Whether the gesture waits for an approver.
    pub(crate) fn is_pending(&self) -> bool {
        self.tier.is_some()
    }
}

/// Takes the decision on a new gesture.
///
/// - Non-monetary kinds never wait (`non_monetary`).
/// - Above the requester's self-grant limit (for a deferred payment, plus the
///   trust bonus) it waits for the tier whose band holds the amount
///   (`above_self_grant_limit`).
/// - Within the limit, when the requester's sum for this customer and kind in the
///   split window would exceed it, it waits for the tier of that sum
///   (`split_threshold`).
/// - An exceeded budget escalates once: a gesture that would take effect waits
///   for its amount's tier, one that waits goes one tier up (never past the last)
///   (`budget_exceeded`).
pub(crate) fn decide(policy: &Policy, input: &DecisionInput) -> DecisionRecord {
    let Some(value) = input.value.filter(|_| input.kind.is_monetary()) else {
        return DecisionRecord {
            rule: "non_monetary".into(),
            self_grant_limit_minor: None,
            trust_bonus_minor: None,
            split_window_minor: None,
            tier: None,
            approvers: Vec::new(),
            budgets: Vec::new(),
            expires_at: None,
            decided: None,
            requester_stores: None,
        };
    };
    let c = input.currency;
    let amount = value.minor();
    let base = policy
        .self_grant_limit(input.role, input.kind, input.store_id)
        .and_then(|a| a.resolve(c))
        .unwrap_or(0);
    let (limit, bonus) = if policy.trust.enabled && input.kind == GestureKind::DeferredPayment {
        if input.written_off_recently {
            (0, Some(-base))
        } else {
            let per = policy.trust.per_kept_promise.resolve(c).unwrap_or(0);
            let cap = policy.trust.max_increase.resolve(c).unwrap_or(0);
            let b = per.saturating_mul(input.promises_kept_on_time).min(cap);
            (base.saturating_add(b), Some(b))
        }
    } else {
        (base, None)
    };
    let limit = policy
        .self_grant_ceiling
        .resolve(c)
        .map_or(limit, |ceiling| limit.min(ceiling));
    let split = policy
        .split_detection
        .enabled
        .then_some(input.recent_same_kind_minor);
    let (mut rule, mut tier) = if amount > limit {
        ("above_self_grant_limit", Some(policy.tier_of(amount, c)))
    } else if let Some(recent) = split.filter(|r| r.saturating_add(amount) > limit) {
        (
            "split_threshold",
            Some(policy.tier_of(recent.saturating_add(amount), c)),
        )
    } else {
        ("within_self_grant_limit", None)
    };
    let budgets: Vec<BudgetUse> = policy
        .budgets
        .iter()
        .zip(&input.budget_used_minor)
        .filter_map(|(b, used)| {
            let used = (*used)?;
            let limit = match (&b.limit, b.percent()) {
                (Some(l), _) => Some(l.resolve(c)?),
                (None, Some(pct)) => input.lifetime_value_minor.map(|v| percent_of(v, pct)),
                (None, None) => return None,
            };
            Some(BudgetUse {
                name: b.name.clone(),
                scope: BudgetScope::parse(&b.scope)?,
                window_days: b.window_days,
                limit_minor: limit,
                used_minor: used,
                left_minor: limit.map(|l| l.saturating_sub(used).max(0)),
                exceeded: limit.is_some_and(|l| used.saturating_add(amount) > l),
                percent_of_lifetime_value: b.percent_of_lifetime_value.clone(),
                lifetime_value_minor: b
                    .percent_of_lifetime_value
                    .as_ref()
                    .and(input.lifetime_value_minor),
            })
        })
        .collect();
    if budgets.iter().any(|b| b.exceeded) {
        let last = policy.approval_tiers.len().saturating_sub(1);
        tier = Some(match tier {
            None => policy.tier_of(amount, c),
            Some(t) => (t + 1).min(last),
        });
        rule = "budget_exceeded";
    }
    DecisionRecord {
        rule: rule.into(),
        self_grant_limit_minor: Some(limit),
        trust_bonus_minor: bonus,
        split_window_minor: split,
        tier: tier.map(|t| t + 1),
        approvers: tier.map(|t| policy.approvers(t)).unwrap_or_default(),
        budgets,
        expires_at: tier.map(|_| input.now + chrono::TimeDelta::hours(policy.pending_expiry_hours)),
        decided: None,
        requester_stores: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse_amount(s, Currency::from_code("USD").unwrap()).unwrap()
    }

    fn input(kind: GestureKind, value: &str, role: Role, recent: i64) -> DecisionInput {
        DecisionInput {
            kind,
            value: Some(usd(value)),
            role,
            store_id: StoreId::new(),
            currency: Currency::from_code("USD").unwrap(),
            recent_same_kind_minor: recent,
            budget_used_minor: Vec::new(),
            promises_kept_on_time: 0,
            written_off_recently: false,
            lifetime_value_minor: None,
            now: chrono::DateTime::from_timestamp(1_700_000_000, 0)
                .unwrap()
                .naive_utc(),
        }
    }

    #[test]
    fn the_default_policy_is_valid_and_decides_as_the_docs_say() {
        use GestureKind as K;
        let p = Policy::default();
        p.validate().unwrap();
        let d = |k, v: &str, r, recent| {
            let d = decide(&p, &input(k, v, r, recent));
            (d.rule, d.tier, d.approvers)
        };
        use Role::{Admin, Clerk, Finance, Manager};
        let low = vec![Manager, Finance, Admin];
        let high = vec![Finance, Admin];
        assert_eq!(
            d(K::DeferredPayment, "25.00", Clerk, 0),
            ("within_self_grant_limit".into(), None, vec![])
        );
        assert_eq!(
            d(K::DeferredPayment, "25.01", Clerk, 0),
            ("above_self_grant_limit".into(), Some(1), low.clone())
        );
        assert_eq!(
            d(K::ServiceRecovery, "250.01", Clerk, 0),
            ("above_self_grant_limit".into(), Some(2), high.clone())
        );
        assert_eq!(
            d(K::ServiceRecovery, "1500.00", Finance, 0),
            ("above_self_grant_limit".into(), Some(2), high)
        );
        assert_eq!(
            d(K::StoreCredit, "20.00", Clerk, 500),
            ("within_self_grant_limit".into(), None, vec![])
        );
        assert_eq!(
            d(K::StoreCredit, "20.00", Clerk, 501),
            ("split_threshold".into(), Some(1), low)
        );
        let mut off = Policy::default();
        off.split_detection.enabled = false;
        assert_eq!(
            decide(&off, &input(K::StoreCredit, "20.00", Clerk, 501)).rule,
            "within_self_grant_limit"
        );
    }

    #[test]
    fn lists_and_amounts_are_bounded_as_the_schema_says() {
        let fields = |p: &Policy| -> Vec<String> {
            p.validate()
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        let p = Policy {
            store_overrides: (0..41)
                .map(|_| StoreLimitRule {
                    store_id: StoreId::new(),
                    roles: vec!["pos".into()],
                    kinds: None,
                    limit: Amounts::any(1),
                })
                .collect(),
            ..Policy::default()
        };
        assert!(fields(&p).contains(&"store_overrides".to_owned()));
        let mut many = Amounts::any(5);
        for c in [
            "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN",
        ] {
            many.0.insert(c.into(), "5".into());
        }
        let p = Policy {
            self_grant_ceiling: many,
            ..Policy::default()
        };
        assert_eq!(fields(&p), ["self_grant_ceiling"]);
        let mut p = Policy::default();
        p.self_grant_limits[0].roles = vec!["pos".into(); 7];
        assert!(fields(&p).contains(&"self_grant_limits[0].roles".to_owned()));
    }

    #[test]
    fn budgets_escalate_one_tier_and_report_what_is_left() {
        let mut p = Policy::default();
        p.budgets.push(Budget {
            name: "customer_yearly".into(),
            scope: "customer".into(),
            window_days: 365,
            limit: Some(Amounts::any(300)),
            percent_of_lifetime_value: None,
            kinds: None,
        });
        p.validate().unwrap();
        let mut i = input(GestureKind::ServiceRecovery, "25.00", Role::Clerk, 0);
        i.budget_used_minor = vec![Some(29_000)];
        let d = decide(&p, &i);
        assert_eq!(d.rule, "budget_exceeded");
        assert_eq!(d.tier, Some(1));
        assert_eq!(d.budgets[0].left_minor, Some(1_000));
        assert!(d.budgets[0].exceeded);
        // Already pending for tier 1: one up.
        let mut i = input(GestureKind::ServiceRecovery, "30.00", Role::Clerk, 0);
        i.budget_used_minor = vec![Some(29_000)];
        assert_eq!(decide(&p, &i).tier, Some(2));
        // Within the budget: no effect.
        let mut i = input(GestureKind::ServiceRecovery, "10.00", Role::Clerk, 0);
        i.budget_used_minor = vec![Some(29_000)];
        let d = decide(&p, &i);
        assert_eq!((d.rule.as_str(), d.tier), ("within_self_grant_limit", None));
        assert!(!d.budgets[0].exceeded);
    }

    #[test]
    fn a_value_aware_budget_is_a_share_of_lifetime_value() {
        let mut p = Policy::default();
        p.budgets.push(Budget {
            name: "ten_percent_of_value".into(),
            scope: "customer".into(),
            window_days: 365,
            limit: None,
            percent_of_lifetime_value: Some("10".into()),
            kinds: None,
        });
        p.validate().unwrap();
        // Lifetime value 4,000.00: the ceiling is 400.00; 150.00 already given.
        let mut i = input(GestureKind::ServiceRecovery, "200.00", Role::Manager, 0);
        i.budget_used_minor = vec![Some(15_000)];
        i.lifetime_value_minor = Some(400_000);
        let d = decide(&p, &i);
        assert_eq!((d.rule.as_str(), d.tier), ("within_self_grant_limit", None));
        let b = &d.budgets[0];
        assert_eq!(
            (b.limit_minor, b.left_minor, b.exceeded),
            (Some(40_000), Some(25_000), false)
        );
        assert_eq!(b.lifetime_value_minor, Some(400_000));
        // 165.00 given, 240.00 more passes the 400.00 ceiling: it waits.
        let mut i = input(GestureKind::ServiceRecovery, "240.00", Role::Manager, 0);
        i.budget_used_minor = vec![Some(16_500)];
        i.lifetime_value_minor = Some(400_000);
        let d = decide(&p, &i);
        assert_eq!((d.rule.as_str(), d.tier), ("budget_exceeded", Some(1)));
        // No estimate: recorded, not applied.
        i.lifetime_value_minor = None;
        let d = decide(&p, &i);
        assert_eq!(d.rule, "within_self_grant_limit");
        assert_eq!(
            (d.budgets[0].limit_minor, d.budgets[0].exceeded),
            (None, false)
        );
        // Validation: per customer only, a positive percentage, not both kinds.
        p.budgets[0].scope = "store".into();
        p.budgets[0].percent_of_lifetime_value = Some("-5".into());
        let fields: Vec<String> = p
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert!(
            fields.contains(&"budgets[0].scope".to_owned()),
            "{fields:?}"
        );
        assert!(
            fields.contains(&"budgets[0].percent_of_lifetime_value".to_owned()),
            "{fields:?}"
        );
        p.budgets[0].scope = "customer".into();
        p.budgets[0].percent_of_lifetime_value = Some("5".into());
        p.budgets[0].limit = Some(Amounts::any(1));
        let fields: Vec<String> = p
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["budgets[0].limit".to_owned()]);
    }

    #[test]
    fn trust_raises_a_deferred_payments_limit_and_a_write_off_drops_it() {
        let mut p = Policy::default();
        p.trust.enabled = true;
        let mut i = input(GestureKind::DeferredPayment, "40.00", Role::Clerk, 0);
        i.promises_kept_on_time = 3;
        assert_eq!(decide(&p, &i).rule, "within_self_grant_limit");
        i.promises_kept_on_time = 2;
        assert_eq!(decide(&p, &i).rule, "above_self_grant_limit");
        i.promises_kept_on_time = 100;
        let d = decide(&p, &i);
        assert_eq!(d.self_grant_limit_minor, Some(7_500));
        i.written_off_recently = true;
        let mut small = i.clone();
        small.value = Some(usd("1.00"));
        assert_eq!(decide(&p, &small).rule, "above_self_grant_limit");
        // Other kinds are untouched.
        let mut sr = input(GestureKind::ServiceRecovery, "40.00", Role::Clerk, 0);
        sr.promises_kept_on_time = 100;
        assert_eq!(decide(&p, &sr).rule, "above_self_grant_limit");
    }

    #[test]
    fn store_overrides_win_and_currencies_may_have_their_own_amounts() {
        let mut p = Policy::default();
        let store = StoreId::new();
        p.store_overrides.push(StoreLimitRule {
            store_id: store,
            roles: vec!["clerk".into()],
            kinds: Some(vec!["service_recovery".into()]),
            limit: Amounts(BTreeMap::from([
                ("any".into(), "60".into()),
                ("USD".into(), "50.50".into()),
            ])),
        });
        p.validate().unwrap();
        let mut i = input(GestureKind::ServiceRecovery, "50.50", Role::Clerk, 0);
        assert_eq!(decide(&p, &i).rule, "above_self_grant_limit");
        i.store_id = store;
        assert_eq!(decide(&p, &i).rule, "within_self_grant_limit");
        i.kind = GestureKind::StoreCredit;
        assert_eq!(decide(&p, &i).rule, "above_self_grant_limit");
    }

    #[test]
    fn an_invalid_policy_reports_every_problem() {
        let mut p = Policy::default();
        p.approval_tiers[1].from = Amounts::any(300);
        p.approval_tiers[0].approvers.push("clerk".into());
        p.self_grant_limits[0].roles.push("auditor".into());
        p.self_grant_limits[1].limit = Amounts(BTreeMap::from([("USD".into(), "1.999".into())]));
        p.budgets.push(Budget {
            name: "b".into(),
            scope: "galaxy".into(),
            window_days: 0,
            limit: Some(Amounts::any(1)),
            percent_of_lifetime_value: None,
            kinds: Some(vec!["recognition".into()]),
        });
        p.pending_expiry_hours = 0;
        let errs = p.validate().unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "approval_tiers[1].from",
            "approval_tiers[0].approvers[3]",
            "self_grant_limits[0].roles[2]",
            "self_grant_limits[1].limit",
            "self_grant_limits[1].limit.USD",
            "budgets[0].scope",
            "budgets[0].window_days",
            "budgets[0].kinds[0]",
            "pending_expiry_hours",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn tiers_must_cover_every_amount_without_gaps() {
        let mut p = Policy::default();
        p.approval_tiers[1].up_to = Some(Amounts::any(5000));
        assert!(p.validate().is_err());
        let mut p = Policy::default();
        p.approval_tiers[0].up_to = None;
        assert!(p.validate().is_err());
        let mut p = Policy::default();
        p.approval_tiers[0]
            .up_to
            .as_mut()
            .unwrap()
            .0
            .insert("JPY".into(), "30000".into());
        // JPY now ends the first band at 30000 but the second starts at 250.
        let errs = p.validate().unwrap_err();
        assert!(errs[0].message.contains("JPY"), "{errs:?}");
    }
}
