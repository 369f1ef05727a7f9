//! Which changes to the approval policy let more through without a second
//! person. Such a version does not take effect when an admin stores it: it is
//! a proposal until another admin approves it (four eyes, as for gestures).
//!
//! A change loosens the policy when, for some role, kind, store and currency
//! the tenant uses, it
//! - raises the self-grant ceiling or a self-grant limit (store overrides and
//!   the ceiling included: what is compared is the limit in effect);
//! - lets a role approve an amount it could not approve before (a tier removed,
//!   a band moved, an approver added);
//! - removes a budget, or raises, shortens, narrows or re-scopes one;
//! - enables trust or makes it earn more or sooner, or shortens the time a
//!   write-off withdraws it;
//! - disables split detection or shortens its window;
//! - widens back-dating.
//!
//! Tightening and neutral changes take effect at once.

use std::collections::BTreeSet;

use super::gesture::GestureKind;
use super::ids::StoreId;
use super::money::{Currency, Money};
use super::policy::{Amounts, Policy};
use super::roles::Role;

/// The reasons `next` loosens `current`, in words; empty when it does not.
/// `currencies` and `stores` are the tenant's (the stores named by either
/// version's overrides are added, and one store without any override).
pub(crate) fn loosenings(
    current: &Policy,
    next: &Policy,
    currencies: &[Currency],
    stores: &[StoreId],
) -> Vec<String> {
    let mut cs: BTreeSet<Currency> = currencies.iter().copied().collect();
    for p in [current, next] {
        for a in amounts_of(p) {
            cs.extend(a.0.keys().filter_map(|k| Currency::from_code(k)));
        }
    }
    if cs.is_empty() {
        cs.insert(Currency::from_code("USD").expect("USD is a currency"));
    }
    let mut at: Vec<Option<StoreId>> = vec![None];
    for p in [current, next] {
        at.extend(p.store_overrides.iter().map(|o| Some(o.store_id)));
    }
    at.extend(stores.iter().copied().map(Some));
    at.sort();
    at.dedup();
    let mut out = Vec::new();
    for &c in &cs {
        let show = |minor: i64| show(minor, c);
        let (old, new) = (
            resolve(&current.self_grant_ceiling, c),
            resolve(&next.self_grant_ceiling, c),
        );
        if new > old {
            out.push(format!(
                "raises the self-grant ceiling from {} to {}",
                show(old),
                show(new)
            ));
        }
        limits(current, next, c, &at, &mut out);
        approvers(current, next, c, &mut out);
        budgets(current, next, c, &mut out);
        trust_amounts(current, next, c, &mut out);
    }
    if current.approval_tiers.len() > next.approval_tiers.len() {
        out.push(format!(
            "removes an approval tier ({} → {})",
            current.approval_tiers.len(),
            next.approval_tiers.len()
        ));
    }
    let (t0, t1) = (&current.trust, &next.trust);
    if !t0.enabled && t1.enabled {
        out.push("enables trust".into());
    }
    if t0.enabled || t1.enabled {
        if t1.write_off_window_days < t0.write_off_window_days {
            out.push("shortens the trust write-off window".into());
        }
        if t1.min_days_held < t0.min_days_held {
            out.push("lowers trust.min_days_held".into());
        }
    }
    let (s0, s1) = (&current.split_detection, &next.split_detection);
    if s0.enabled && !s1.enabled {
        out.push("disables split detection".into());
    } else if s0.enabled && s1.window_hours < s0.window_hours {
        out.push("shortens the split detection window".into());
    }
    if next.back_dating.window_days > current.back_dating.window_days {
        out.push("widens back-dating".into());
    }
    let mut seen = BTreeSet::new();
    out.retain(|r| seen.insert(r.clone()));
    out
}

/// An amount as people read it: `25.00 USD`.
fn show(minor: i64, c: Currency) -> String {
    format!("{} {c}", Money::from_minor(minor, c).amount_string())
}

fn resolve(a: &Amounts, c: Currency) -> i64 {
    a.resolve(c).unwrap_or(0)
}

fn amounts_of(p: &Policy) -> Vec<&Amounts> {
    let mut v = vec![
        &p.self_grant_ceiling,
        &p.trust.per_kept_promise,
        &p.trust.max_increase,
        &p.trust.min_promise_amount,
    ];
    v.extend(p.self_grant_limits.iter().map(|r| &r.limit));
    v.extend(p.store_overrides.iter().map(|r| &r.limit));
    for t in &p.approval_tiers {
        v.push(&t.from);
        v.extend(t.up_to.as_ref());
    }
    v.extend(p.budgets.iter().filter_map(|b| b.limit.as_ref()));
    v
}

/// The limit in effect (after the ceiling) for `role` and `kind` at `store`.
fn limit_in_effect(
    p: &Policy,
    role: Role,
    kind: GestureKind,
    store: Option<StoreId>,
    c: Currency,
) -> i64 {
    // A store no override names: a fresh id matches none.
    let store = store.unwrap_or_default();
    let limit = p
        .self_grant_limit(role, kind, store)
        .map_or(0, |a| resolve(a, c));
    limit.min(resolve(&p.self_grant_ceiling, c))
}

fn limits(
    current: &Policy,
    next: &Policy,
    c: Currency,
    at: &[Option<StoreId>],
    out: &mut Vec<String>,
) {
    for role in Role::ALL {
        for kind in GestureKind::ALL.into_iter().filter(|k| k.is_monetary()) {
            for &store in at {
                let old = limit_in_effect(current, role, kind, store, c);
                let new = limit_in_effect(next, role, kind, store, c);
                if new > old {
                    let place = store.map_or_else(String::new, |s| format!(" at store {s}"));
                    out.push(format!(
                        "raises what {role} may grant alone of {}{place} from {} to {}",
                        kind.as_str(),
                        show(old, c),
                        show(new, c)
                    ));
                }
            }
        }
    }
}

fn approvers(current: &Policy, next: &Policy, c: Currency, out: &mut Vec<String>) {
    let mut probes = BTreeSet::from([1_i64, i64::MAX / 4]);
    for p in [current, next] {
        for t in &p.approval_tiers {
            for a in std::iter::once(&t.from).chain(t.up_to.as_ref()) {
                let b = resolve(a, c);
                probes.extend([b.saturating_sub(1), b, b.saturating_add(1)]);
            }
        }
    }
    for amount in probes.into_iter().filter(|a| *a > 0) {
        let old = current.approvers(current.tier_of(amount, c));
        let new = next.approvers(next.tier_of(amount, c));
        for role in new.iter().filter(|r| !old.contains(r)) {
            out.push(format!(
                "lets {role} approve {} (an approval tier removed, moved or widened)",
                show(amount, c)
            ));
        }
    }
}

fn budgets(current: &Policy, next: &Policy, c: Currency, out: &mut Vec<String>) {
    for b in &current.budgets {
        let Some(n) = next.budgets.iter().find(|n| n.name == b.name) else {
            out.push(format!("removes budget {:?}", b.name));
            continue;
        };
        let name = &b.name;
        if n.scope != b.scope {
            out.push(format!("changes the scope of budget {name:?}"));
        }
        if n.window_days < b.window_days {
            out.push(format!("shortens budget {name:?}"));
        }
        match (&b.limit, &n.limit) {
            (Some(old), Some(new)) if resolve(new, c) > resolve(old, c) => {
                out.push(format!("raises budget {name:?} in {c}"));
            }
            (Some(_), None) | (None, Some(_)) => {
                out.push(format!("turns budget {name:?} into another kind of budget"));
            }
            _ => {}
        }
        if let (Some(old), Some(new)) = (b.percent(), n.percent())
            && new > old
        {
            out.push(format!("raises budget {name:?}'s share of lifetime value"));
        }
        let counted = n.counted_kinds();
        if b.counted_kinds().iter().any(|k| !counted.contains(k)) {
            out.push(format!("makes budget {name:?} count fewer kinds"));
        }
    }
}

fn trust_amounts(current: &Policy, next: &Policy, c: Currency, out: &mut Vec<String>) {
    let (t0, t1) = (&current.trust, &next.trust);
    if !(t0.enabled || t1.enabled) {
        return;
    }
    if resolve(&t1.per_kept_promise, c) > resolve(&t0.per_kept_promise, c) {
        out.push(format!("raises trust.per_kept_promise in {c}"));
    }
    if resolve(&t1.max_increase, c) > resolve(&t0.max_increase, c) {
        out.push(format!("raises trust.max_increase in {c}"));
    }
    if resolve(&t1.min_promise_amount, c) < resolve(&t0.min_promise_amount, c) {
        out.push(format!("lowers trust.min_promise_amount in {c}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::{Budget, Tier};

    fn usd() -> Vec<Currency> {
        vec![Currency::from_code("USD").unwrap()]
    }

    fn loosens(change: impl FnOnce(&mut Policy)) -> Vec<String> {
        let cur = Policy::default();
        let mut next = cur.clone();
        change(&mut next);
        loosenings(&cur, &next, &usd(), &[])
    }

    #[test]
    fn the_same_or_a_tighter_policy_loosens_nothing() {
        assert!(loosens(|_| {}).is_empty());
        assert!(
            loosens(|p| {
                p.self_grant_limits[0].limit = Amounts::any(10);
                p.self_grant_ceiling = Amounts::any(500);
                p.split_detection.window_hours = 48;
                p.back_dating.window_days = 1;
                p.pending_expiry_hours = 24;
            })
            .is_empty()
        );
    }

    #[test]
    fn raising_limits_or_the_ceiling_loosens() {
        let r = loosens(|p| p.self_grant_limits[0].limit = Amounts::any(26));
        assert!(
            r.iter().any(|r| r.contains("clerk may grant alone")),
            "{r:?}"
        );
        // Above the ceiling a raised limit changes nothing in effect...
        assert!(loosens(|p| p.self_grant_limits[2].limit = Amounts::any(5_000)).is_empty());
        // ...until the ceiling rises too.
        let r = loosens(|p| {
            p.self_grant_limits[2].limit = Amounts::any(10_000_000_000_000);
            p.self_grant_ceiling = Amounts::any(10_000_000_000_000);
        });
        assert!(r.iter().any(|r| r.contains("ceiling")), "{r:?}");
        assert!(
            r.iter().any(|r| r.contains("admin may grant alone")),
            "{r:?}"
        );
        // A store override above the general limit loosens at that store.
        let store = StoreId::new();
        let r = loosens(|p| {
            p.store_overrides
                .push(crate::domain::policy::StoreLimitRule {
                    store_id: store,
                    roles: vec!["pos".into()],
                    kinds: None,
                    limit: Amounts::any(100),
                });
        });
        assert!(r.iter().any(|r| r.contains(&store.to_string())), "{r:?}");
    }

    #[test]
    fn tiers_budgets_trust_split_and_back_dating() {
        let r = loosens(|p| {
            p.approval_tiers = vec![Tier {
                from: Amounts::any(0),
                up_to: None,
                approvers: vec!["manager".into(), "finance".into(), "admin".into()],
            }];
        });
        assert!(
            r.iter().any(|r| r.contains("removes an approval tier")),
            "{r:?}"
        );
        assert!(
            r.iter().any(|r| r.contains("lets manager approve")),
            "{r:?}"
        );
        assert_eq!(
            loosens(|p| p.split_detection.enabled = false),
            ["disables split detection"]
        );
        assert_eq!(loosens(|p| p.trust.enabled = true), ["enables trust"]);
        assert_eq!(
            loosens(|p| p.back_dating.window_days = 30),
            ["widens back-dating"]
        );
        let budget = Budget {
            name: "b".into(),
            scope: "customer".into(),
            window_days: 30,
            limit: Some(Amounts::any(100)),
            percent_of_lifetime_value: None,
            kinds: None,
        };
        let mut cur = Policy::default();
        cur.budgets.push(budget.clone());
        let mut next = cur.clone();
        next.budgets[0].limit = Some(Amounts::any(101));
        assert_eq!(loosenings(&cur, &next, &usd(), &[]).len(), 1);
        next.budgets.clear();
        assert_eq!(
            loosenings(&cur, &next, &usd(), &[]),
            ["removes budget \"b\""]
        );
        // Adding a budget tightens.
        assert!(loosenings(&next, &cur, &usd(), &[]).is_empty());
    }
}
