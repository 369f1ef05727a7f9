//! The approval decision: whether a gesture takes effect at once or waits for an
//! approver. One function, [`decide`], so the source of its rules (today the
//! default policy of INTERFACE.md, in code) can become versioned per-tenant data
//! without touching its callers.

use super::gesture::GestureKind;
use super::money::{Currency, Money};
use super::roles::Role;

/// What the decision needs to know.
#[derive(Clone, Debug)]
pub struct DecisionInput {
    /// The gesture's kind.
    pub kind: GestureKind,
    /// The money it moves (free service: its retail value); `None` for
    /// non-monetary kinds.
    pub value: Option<Money>,
    /// The requester's role.
    pub role: Role,
    /// The store's currency (limits are in it).
    pub currency: Currency,
    /// What the same requester already asked for this customer and kind in the
    /// last 24 hours (approved or pending), in minor units.
    pub recent_same_kind_minor: i64,
}

/// The outcome, with the rule that decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Takes effect now.
    Approved {
        /// The rule.
        rule: &'static str,
    },
    /// Waits for an approver.
    Pending {
        /// The rule.
        rule: &'static str,
    },
}

impl Decision {
    /// The rule that decided.
    pub fn rule(&self) -> &'static str {
        match self {
            Decision::Approved { rule } | Decision::Pending { rule } => rule,
        }
    }
}

/// The default self-grant limit of a role, in whole units of the store's
/// currency (INTERFACE.md: pos and clerk 25, manager 250, finance and admin 1,000;
/// an auditor grants nothing).
pub fn self_grant_limit(role: Role) -> i64 {
    match role {
        Role::Pos | Role::Clerk => 25,
        Role::Manager => 250,
        Role::Finance | Role::Admin => 1_000,
        Role::Auditor => 0,
    }
}

/// Decides, by the default policy: non-monetary kinds never wait; a monetary
/// gesture within the requester's self-grant limit takes effect, above it waits
/// (`above_self_grant_limit`); one that is within the limit but makes the
/// requester's 24-hour total for this customer and kind exceed it waits too
/// (`split_threshold`).
pub fn decide(input: &DecisionInput) -> Decision {
    let Some(value) = input.value.filter(|_| input.kind.is_monetary()) else {
        return Decision::Approved {
            rule: "non_monetary",
        };
    };
    let limit = Money::major_to_minor(self_grant_limit(input.role), input.currency);
    let amount = value.minor();
    if amount > limit {
        return Decision::Pending {
            rule: "above_self_grant_limit",
        };
    }
    if input.recent_same_kind_minor.saturating_add(amount) > limit {
        return Decision::Pending {
            rule: "split_threshold",
        };
    }
    Decision::Approved {
        rule: "within_self_grant_limit",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse_amount(s, Currency::from_code("USD").unwrap()).unwrap()
    }

    fn input(kind: GestureKind, value: Option<Money>, role: Role, recent: i64) -> DecisionInput {
        DecisionInput {
            kind,
            value,
            role,
            currency: Currency::from_code("USD").unwrap(),
            recent_same_kind_minor: recent,
        }
    }

    #[test]
    fn the_default_policy() {
        use GestureKind as K;
        let d = |k, v: &str, r, recent| decide(&input(k, Some(usd(v)), r, recent)).rule();
        assert_eq!(
            d(K::DeferredPayment, "10.95", Role::Clerk, 0),
            "within_self_grant_limit"
        );
        assert_eq!(
            d(K::DeferredPayment, "25.00", Role::Clerk, 0),
            "within_self_grant_limit"
        );
        assert_eq!(
            d(K::DeferredPayment, "25.01", Role::Clerk, 0),
            "above_self_grant_limit"
        );
        assert_eq!(
            d(K::BalanceWaiver, "250.00", Role::Manager, 0),
            "within_self_grant_limit"
        );
        assert_eq!(
            d(K::ServiceRecovery, "500.00", Role::Manager, 0),
            "above_self_grant_limit"
        );
        assert_eq!(
            d(K::ServiceRecovery, "1000.00", Role::Finance, 0),
            "within_self_grant_limit"
        );
        assert_eq!(
            d(K::StoreCredit, "20.00", Role::Clerk, 500),
            "within_self_grant_limit"
        );
        assert_eq!(
            d(K::StoreCredit, "20.00", Role::Clerk, 501),
            "split_threshold"
        );
        assert_eq!(
            decide(&input(K::Recognition, None, Role::Pos, 0)).rule(),
            "non_monetary"
        );
        assert!(matches!(
            decide(&input(K::CustomerFavour, Some(usd("5000")), Role::Pos, 0)),
            Decision::Approved { .. }
        ));
        let jpy = DecisionInput {
            currency: Currency::from_code("JPY").unwrap(),
            ..input(
                K::ServiceRecovery,
                Some(Money::parse_amount("26", Currency::from_code("JPY").unwrap()).unwrap()),
                Role::Clerk,
                0,
            )
        };
        assert_eq!(decide(&jpy).rule(), "above_self_grant_limit");
    }
}
