//! The goodwill sub-ledger: accounts and postings (docs/ledger.md's table).
//!
//! Every monetary change is one ledger transaction of balanced entries: for each
//! posting a debit and a credit of the same amount and currency. Balances are
//! derived from entries and maintained beside them in the same database
//! transaction; nothing writes a balance any other way.

use std::fmt;

use super::gesture::GestureKind;
use super::ids::{CustomerId, StoreId};
use super::money::Money;

/// A ledger account of a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    /// What a customer owes (asset).
    Receivable(CustomerId),
    /// Store credit a customer holds (liability).
    StoreCredit(CustomerId),
    /// Goodwill spent, by kind (expense).
    GoodwillExpense(GestureKind),
    /// Owed money given up (expense).
    WriteoffExpense,
    /// Cash a store took or paid out, cleared with the POS.
    CashClearing(StoreId),
    /// Sales a store booked, cleared with the POS.
    SalesClearing(StoreId),
    /// Costs a store bore, cleared with the general ledger.
    CostClearing(StoreId),
    /// Store credit tendered at a store, cleared with the POS.
    TenderClearing(StoreId),
    /// Store credit that expired unspent (income).
    BreakageIncome,
    /// Written-off money paid after all (income).
    BadDebtRecoveryIncome,
}

/// A memo total kept per customer beside the ledger: what is given without
/// moving money (retail value, favours, recognitions) and how promises ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Memo {
    /// Retail value of free services (money).
    FreeServiceRetailValue,
    /// Estimated value of favours that carry one (money).
    FavourEstimatedValue,
    /// Favours without an estimated value (count).
    Favours,
    /// Recognitions of staff (count).
    Recognitions,
    /// Promises paid in full by their due day (count).
    PromisesKeptOnTime,
    /// Promises paid in full after their due day (count).
    PromisesKeptLate,
    /// Promises written off unpaid (count): waived by the business and broken
    /// by the customer together.
    PromisesWrittenOff,
    /// Of those, promises the customer broke (count): written off by the
    /// write-off command after their due day. The rest were waived.
    PromisesBroken,
}

impl Memo {
    /// Every memo.
    pub(crate) const ALL: [Memo; 8] = [
        Memo::FreeServiceRetailValue,
        Memo::FavourEstimatedValue,
        Memo::Favours,
        Memo::Recognitions,
        Memo::PromisesKeptOnTime,
        Memo::PromisesKeptLate,
        Memo::PromisesWrittenOff,
        Memo::PromisesBroken,
    ];

    /// The memo's name as stored.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Memo::FreeServiceRetailValue => "free_service_retail_value",
            Memo::FavourEstimatedValue => "favour_estimated_value",
            Memo::Favours => "favours",
            Memo::Recognitions => "recognitions",
            Memo::PromisesKeptOnTime => "promises_kept_on_time",
            Memo::PromisesKeptLate => "promises_kept_late",
            Memo::PromisesWrittenOff => "promises_written_off",
            Memo::PromisesBroken => "promises_broken",
        }
    }

    /// Parses a stored name.
    pub(crate) fn parse(s: &str) -> Option<Memo> {
        Memo::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// How a promise paid in full ended: on time when paid by its due day.
    pub(crate) fn kept(on_time: bool) -> Memo {
        if on_time {
            Memo::PromisesKeptOnTime
        } else {
            Memo::PromisesKeptLate
        }
    }
}

impl Account {
    /// The account's name in the ledger, e.g. `receivable:<customer id>`.
    pub(crate) fn code(&self) -> String {
        match self {
            Account::Receivable(c) => format!("receivable:{c}"),
            Account::StoreCredit(c) => format!("store_credit:{c}"),
            Account::GoodwillExpense(k) => format!("goodwill_expense:{}", k.as_str()),
            Account::WriteoffExpense => "writeoff_expense".into(),
            Account::CashClearing(s) => format!("cash_clearing:{s}"),
            Account::SalesClearing(s) => format!("sales_clearing:{s}"),
            Account::CostClearing(s) => format!("cost_clearing:{s}"),
            Account::TenderClearing(s) => format!("tender_clearing:{s}"),
            Account::BreakageIncome => "breakage_income".into(),
            Account::BadDebtRecoveryIncome => "bad_debt_recovery_income".into(),
        }
    }

    /// Parses an account name.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let (head, tail) = match s.split_once(':') {
            Some((h, t)) => (h, Some(t)),
            None => (s, None),
        };
        Some(match (head, tail) {
            ("receivable", Some(t)) => Account::Receivable(t.parse().ok()?),
            ("store_credit", Some(t)) => Account::StoreCredit(t.parse().ok()?),
            ("goodwill_expense", Some(t)) => Account::GoodwillExpense(GestureKind::parse(t)?),
            ("writeoff_expense", None) => Account::WriteoffExpense,
            ("cash_clearing", Some(t)) => Account::CashClearing(t.parse().ok()?),
            ("sales_clearing", Some(t)) => Account::SalesClearing(t.parse().ok()?),
            ("cost_clearing", Some(t)) => Account::CostClearing(t.parse().ok()?),
            ("tender_clearing", Some(t)) => Account::TenderClearing(t.parse().ok()?),
            ("breakage_income", None) => Account::BreakageIncome,
            ("bad_debt_recovery_income", None) => Account::BadDebtRecoveryIncome,
            _ => return None,
        })
    }

    /// The store whose account this is, if it is one of a store's.
    pub(crate) fn store(&self) -> Option<StoreId> {
        match self {
            Account::CashClearing(s)
            | Account::SalesClearing(s)
            | Account::CostClearing(s)
            | Account::TenderClearing(s) => Some(*s),
            _ => None,
        }
    }

    /// The customer whose account this is, if it is one of a customer's.
    pub(crate) fn customer(&self) -> Option<CustomerId> {
        match self {
            Account::Receivable(c) | Account::StoreCredit(c) => Some(*c),
            _ => None,
        }
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

/// One posting: `amount` moves from `credit` to `debit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posting {
    /// The account debited.
    pub debit: Account,
    /// The account credited.
    pub credit: Account,
    /// How much (> 0).
    pub amount: Money,
}

impl Posting {
    /// A posting; `None` for a zero amount (nothing to post: a free service at
    /// zero cost).
    pub fn new(debit: Account, credit: Account, amount: Money) -> Option<Self> {
        (amount.minor() > 0).then_some(Self {
            debit,
            credit,
            amount,
        })
    }

    /// The mirror: what undoes this posting.
    pub(crate) fn mirror(&self) -> Self {
        Self {
            debit: self.credit.clone(),
            credit: self.debit.clone(),
            amount: self.amount,
        }
    }
}

/// What a gesture posts when it takes effect (docs/ledger.md's postings table).
/// Waivers are posted by the waiver operation, which also allocates them.
pub(crate) fn gesture_postings(
    kind: GestureKind,
    customer: CustomerId,
    store: StoreId,
    terms: &super::gesture::Terms,
) -> Vec<Posting> {
    use super::gesture::Terms;
    let p = match terms {
        Terms::DeferredPayment { amount, .. } => Posting::new(
            Account::Receivable(customer),
            Account::SalesClearing(store),
            *amount,
        ),
        Terms::BalanceWaiver { amount, .. } => Posting::new(
            Account::WriteoffExpense,
            Account::Receivable(customer),
            *amount,
        ),
        Terms::FreeService { cost, .. } => Posting::new(
            Account::GoodwillExpense(kind),
            Account::CostClearing(store),
            *cost,
        ),
        Terms::ServiceRecovery { amount } => Posting::new(
            Account::GoodwillExpense(kind),
            Account::CashClearing(store),
            *amount,
        ),
        Terms::StoreCredit { amount, .. } => Posting::new(
            Account::GoodwillExpense(kind),
            Account::StoreCredit(customer),
            *amount,
        ),
        Terms::Recognition | Terms::CustomerFavour { .. } => None,
    };
    p.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_codes_round_trip() {
        let c = CustomerId::new();
        let s = StoreId::new();
        for a in [
            Account::Receivable(c),
            Account::StoreCredit(c),
            Account::GoodwillExpense(GestureKind::FreeService),
            Account::WriteoffExpense,
            Account::CashClearing(s),
            Account::SalesClearing(s),
            Account::CostClearing(s),
            Account::TenderClearing(s),
            Account::BreakageIncome,
            Account::BadDebtRecoveryIncome,
        ] {
            assert_eq!(Account::parse(&a.code()), Some(a.clone()), "{a}");
        }
        assert_eq!(Account::parse("receivable:nope"), None);
        assert_eq!(Account::parse("writeoff_expense:x"), None);
    }
}
