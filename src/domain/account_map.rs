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
        let exact = self.mappings.iter().find(|m| m.account == account);
        let pattern = || {
            let head = account.split_once(':').map(|(h, _)| h)?;
            self.mappings
                .iter()
                .find(|m| m.account.strip_suffix(":*") == Some(head))
        };
        match exact.or_else(pattern) {
            Some(m) => (m.code.clone(), m.name.clone()),
            None => (account.to_owned(), default_name(account)),
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
