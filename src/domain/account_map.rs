//! How the ledger's accounts map to a tenant's own chart of accounts (for the
//! journal export).

use serde::{Deserialize, Serialize};

use super::Problems;
use super::ledger::Account;

/// One mapping: a ledger account (exact, e.g. `writeoff_expense` or
/// `cash_clearing:<store id>`, or every account of a kind, e.g. `receivable:*`)
/// to the tenant's account code and name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Mapping {
    /// The ledger account or pattern.
    pub account: String,
    /// The tenant's account code.
    pub code: String,
    /// The tenant's account name.
    pub name: String,
}

/// The tenant's map. Empty: every account exports under its own code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountMap {
    /// The mappings; an exact account wins over a pattern.
    pub mappings: Vec<Mapping>,
}

/// Account kinds that carry an entity (`<kind>:<id>`).
const WITH_TAIL: [&str; 7] = [
    "receivable",
    "store_credit",
    "goodwill_expense",
    "cash_clearing",
    "sales_clearing",
    "cost_clearing",
    "tender_clearing",
];

/// How an account found its export code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Mapped {
    /// A mapping names the account itself.
    Exact,
    /// A mapping names every account of its kind (`receivable:*`).
    Pattern,
    /// No mapping: it exports under its own code.
    Unmapped,
}

/// The customer or store a ledger account belongs to, if any: `receivable`
/// and `store_credit` are a customer's, the clearing accounts a store's.
pub(crate) enum Owner<'a> {
    /// A customer's account (its id as the account writes it).
    Customer(&'a str),
    /// A store's account.
    Store(&'a str),
}

/// Whose account it is.
pub(crate) fn owner(account: &str) -> Option<Owner<'_>> {
    let (head, tail) = account.split_once(':')?;
    match head {
        "receivable" | "store_credit" => Some(Owner::Customer(tail)),
        h if h.ends_with("_clearing") => Some(Owner::Store(tail)),
        _ => None,
    }
}

/// The account's kind: what comes before `:` (`receivable`, `writeoff_expense`).
pub(crate) fn kind(account: &str) -> &str {
    account.split_once(':').map_or(account, |(h, _)| h)
}

/// A name a person reads: the account's readable name, and whose it is
/// (`Customer receivable · C-1001`, `Cash clearing · MS`).
pub(crate) fn label(account: &str, whose: Option<&str>) -> String {
    match whose {
        Some(w) if !w.is_empty() => format!("{} · {w}", default_name(account)),
        _ => default_name(account),
    }
}

/// Every kind of ledger account.
pub(crate) const KINDS: [&str; 10] = [
    "receivable",
    "store_credit",
    "goodwill_expense",
    "writeoff_expense",
    "cash_clearing",
    "sales_clearing",
    "cost_clearing",
    "tender_clearing",
    "breakage_income",
    "bad_debt_recovery_income",
];

/// A readable name for a ledger account (what the export says without a map).
pub(crate) fn default_name(account: &str) -> String {
    let (head, tail) = account.split_once(':').unwrap_or((account, ""));
    match head {
        "receivable" => "Customer receivable".into(),
        "store_credit" => "Store credit (liability)".into(),
        "goodwill_expense" => format!("Goodwill expense: {}", tail.replace('_', " ")),
        "writeoff_expense" => "Write-off expense".into(),
        "cash_clearing" => "Cash clearing".into(),
        "sales_clearing" => "Sales clearing".into(),
        "cost_clearing" => "Cost clearing".into(),
        "tender_clearing" => "Tender clearing".into(),
        "breakage_income" => "Breakage income".into(),
        "bad_debt_recovery_income" => "Bad debt recovery income".into(),
        other => other.replace('_', " "),
    }
}

impl AccountMap {
    /// Checks every mapping; reports every problem.
    pub(crate) fn validate(&self) -> Result<(), Vec<super::FieldError>> {
        let mut p = Problems::default();
        let mut seen = std::collections::BTreeSet::new();
        if self.mappings.len() > 1000 {
            p.push("mappings", "at most 1000 mappings");
        }
        for (i, m) in self.mappings.iter().enumerate() {
            let f = format!("mappings[{i}]");
            let pattern_ok = match m.account.strip_suffix(":*") {
                Some(head) => WITH_TAIL.contains(&head),
                None => Account::parse(&m.account).is_some(),
            };
            if !pattern_ok {
                p.push(
                    format!("{f}.account"),
                    "must be a ledger account (writeoff_expense, cash_clearing:<store id>, ...) or <kind>:* for every account of a kind",
                );
            } else if !seen.insert(m.account.as_str()) {
                p.push(format!("{f}.account"), "is mapped twice");
            }
            let visible = |s: &str| s.chars().all(|c| !c.is_control());
            if m.code.trim().is_empty() || m.code.chars().count() > 50 || !visible(&m.code) {
                p.push(
                    format!("{f}.code"),
                    "must be 1 to 50 characters, no control characters",
                );
            }
            if m.name.trim().is_empty() || m.name.chars().count() > 200 || !visible(&m.name) {
                p.push(
                    format!("{f}.name"),
                    "must be 1 to 200 characters, no control characters",
                );
            }
            // The journal's CSV carries both: a formula there would run in
            // finance's spreadsheet.
            for (what, v) in [("code", &m.code), ("name", &m.name)] {
                if let Err(e) = super::text::not_formula(&format!("{f}.{what}"), v) {
                    p.push(e.field, e.message);
                }
            }
        }
        p.finish()
    }

    /// The tenant's (code, name) for a ledger account.
    pub(crate) fn resolve(&self, account: &str) -> (String, String) {
        let (code, name, _) = self.resolve_how(account);
        (code, name)
    }

    /// The tenant's (code, name) for a ledger account, and how it was found.
    pub(crate) fn resolve_how(&self, account: &str) -> (String, String, Mapped) {
        if let Some(m) = self.mappings.iter().find(|m| m.account == account) {
            return (m.code.clone(), m.name.clone(), Mapped::Exact);
        }
        let head = account.split_once(':').map(|(h, _)| h);
        match self
            .mappings
            .iter()
            .find(|m| head.is_some() && m.account.strip_suffix(":*") == head)
        {
            Some(m) => (m.code.clone(), m.name.clone(), Mapped::Pattern),
            None => (account.to_owned(), default_name(account), Mapped::Unmapped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_wins_over_pattern_and_unmapped_keeps_its_code() {
        let store = super::super::ids::StoreId::new();
        let map = AccountMap {
            mappings: vec![
                Mapping {
                    account: "cash_clearing:*".into(),
                    code: "1010".into(),
                    name: "Cash".into(),
                },
                Mapping {
                    account: format!("cash_clearing:{store}"),
                    code: "1011".into(),
                    name: "Cash, Main St".into(),
                },
            ],
        };
        map.validate().unwrap();
        assert_eq!(map.resolve(&format!("cash_clearing:{store}")).0, "1011");
        assert_eq!(
            map.resolve(&format!(
                "cash_clearing:{}",
                super::super::ids::StoreId::new()
            ))
            .0,
            "1010"
        );
        assert_eq!(
            map.resolve("writeoff_expense"),
            ("writeoff_expense".into(), "Write-off expense".into())
        );
        let bad = AccountMap {
            mappings: vec![
                Mapping {
                    account: "petty_cash".into(),
                    code: "".into(),
                    name: "x".into(),
                },
                Mapping {
                    account: "writeoff_expense:*".into(),
                    code: "1".into(),
                    name: "x".into(),
                },
            ],
        };
        let errs = bad.validate().unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "mappings[0].account",
                "mappings[0].code",
                "mappings[1].account"
            ]
        );
    }
}
