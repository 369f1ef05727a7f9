//! Roles and what each may do: the table of docs/roles.md, in code.
//!
//! Every route names one [`Permission`] (see `http::routes`); [`Role::may`] answers
//! from [`ROLE_TABLE`] alone. `docs/roles.md` prints this table and a test keeps the
//! two identical. Store scoping (a token's `stores`) and segregation of duties are
//! checked on top of this, by the operation that knows the store.

use std::fmt;
use std::str::FromStr;

/// A role carried in a token's `role` claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A point-of-sale integration (a till, a service desk, an e-commerce back end).
    Pos,
    /// A clerk at a counter.
    Clerk,
    /// A store manager: approves within their stores and tier.
    Manager,
    /// Finance: reviews write-offs, closes periods, reads everything.
    Finance,
    /// Reads everything, changes nothing.
    Auditor,
    /// Administers the tenant: stores, staff, policy, settings.
    Admin,
}

impl Role {
    /// Every role, in the order of the table in docs/roles.md.
    pub const ALL: [Role; 6] = [
        Role::Pos,
        Role::Clerk,
        Role::Manager,
        Role::Finance,
        Role::Auditor,
        Role::Admin,
    ];

    /// The claim value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Pos => "pos",
            Role::Clerk => "clerk",
            Role::Manager => "manager",
            Role::Finance => "finance",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// Whether this role holds `permission`.
    pub fn may(self, permission: Permission) -> bool {
        ROLE_TABLE
            .iter()
            .find(|(p, _)| *p == permission)
            .is_some_and(|(_, roles)| roles.contains(&self))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role {s:?}: expected one of pos, clerk, manager, finance, auditor, admin")
            })
    }
}

/// Something a route does, named for the role table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read stores (reference data every till needs).
    StoresRead,
    /// Create stores.
    StoresWrite,
    /// Read staff (reference data: gestures and recognitions name staff).
    StaffRead,
    /// Create staff (a manager only for their own stores).
    StaffWrite,
    /// Read customers (tenant-wide).
    CustomersRead,
    /// Create and update customers.
    CustomersWrite,
    /// Read the audit trail, verify it, take checkpoints.
    AuditRead,
    /// Request a gesture (a waiver included).
    GesturesRequest,
    /// Read gestures.
    GesturesRead,
    /// Check the ledger, read its entries.
    LedgerRead,
    /// Record incidents (a manager only at stores the token holds).
    IncidentsWrite,
    /// Read incidents.
    IncidentsRead,
    /// Record payments on deferred payments.
    PaymentsRecord,
    /// Record redemptions of store credit.
    RedemptionsRecord,
    /// Reverse gestures and payments (a manager only at stores the token holds).
    Reversals,
    /// Approve or reject pending gestures (within the policy's tier, the
    /// token's stores and the segregation rules); read the approval queue.
    GesturesApprove,
    /// Cancel one's own pending request.
    GesturesCancel,
    /// Read the approval policy and its versions.
    PolicyRead,
    /// Store a new version of the approval policy.
    PolicyWrite,
    /// Read the event feed.
    EventsRead,
    /// Read finance's views: the write-off review queue.
    FinanceRead,
    /// Review write-offs.
    WriteOffsReview,
    /// Close accounting periods.
    PeriodsClose,
    /// Reopen a closed period.
    PeriodsReopen,
    /// The recognition report (a manager for the stores the token holds).
    RecognitionReport,
    /// The goodwill report and the aging of promises (a manager for the
    /// stores the token holds, as she answers for them).
    ReportsRead,
    /// Set the account map of the journal export.
    AccountMapWrite,
    /// Record sales and refunds (at stores the token holds).
    SalesRecord,
    /// Read sales.
    SalesRead,
    /// Read the customer value model.
    ValueRead,
    /// Fit a new version of the customer value model.
    ValueFit,
    /// Make console sign-in links for others; see and end anyone's console
    /// sessions.
    ConsoleUsers,
    /// Register, change and disable webhook endpoints, rotate their secrets,
    /// retry deliveries.
    WebhooksWrite,
    /// See webhook endpoints, their deliveries and attempts.
    WebhooksRead,
}

impl Permission {
    /// Stable name, as printed in `docs/roles.md`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Permission::StoresRead => "stores.read",
            Permission::StoresWrite => "stores.write",
            Permission::StaffRead => "staff.read",
            Permission::StaffWrite => "staff.write",
            Permission::CustomersRead => "customers.read",
            Permission::CustomersWrite => "customers.write",
            Permission::AuditRead => "audit.read",
            Permission::GesturesRequest => "gestures.request",
            Permission::GesturesRead => "gestures.read",
            Permission::LedgerRead => "ledger.read",
            Permission::IncidentsWrite => "incidents.write",
            Permission::IncidentsRead => "incidents.read",
            Permission::PaymentsRecord => "payments.record",
            Permission::RedemptionsRecord => "redemptions.record",
            Permission::Reversals => "reversals",
            Permission::GesturesApprove => "gestures.approve",
            Permission::GesturesCancel => "gestures.cancel",
            Permission::PolicyRead => "policy.read",
            Permission::PolicyWrite => "policy.write",
            Permission::EventsRead => "events.read",
            Permission::FinanceRead => "finance.read",
            Permission::WriteOffsReview => "writeoffs.review",
            Permission::PeriodsClose => "periods.close",
            Permission::PeriodsReopen => "periods.reopen",
            Permission::RecognitionReport => "reports.recognition",
            Permission::ReportsRead => "reports.read",
            Permission::AccountMapWrite => "account_map.write",
            Permission::SalesRecord => "sales.record",
            Permission::SalesRead => "sales.read",
            Permission::ValueRead => "value.read",
            Permission::ValueFit => "value.fit",
            Permission::ConsoleUsers => "console.users",
            Permission::WebhooksWrite => "webhooks.write",
            Permission::WebhooksRead => "webhooks.read",
        }
    }
}

use Role::{Admin, Auditor, Clerk, Finance, Manager, Pos};

/// The role table: each permission and the roles that hold it.
pub(crate) const ROLE_TABLE: &[(Permission, &[Role])] = &[
    (
        Permission::StoresRead,
        &[Pos, Clerk, Manager, Finance, Auditor, Admin],
    ),
    (Permission::StoresWrite, &[Admin]),
    (
        Permission::StaffRead,
        &[Pos, Clerk, Manager, Finance, Auditor, Admin],
    ),
    (Permission::StaffWrite, &[Manager, Admin]),
    (
        Permission::CustomersRead,
        &[Pos, Clerk, Manager, Finance, Auditor, Admin],
    ),
    (Permission::CustomersWrite, &[Pos, Clerk, Manager, Admin]),
    (Permission::AuditRead, &[Finance, Auditor, Admin]),
    (
        Permission::GesturesRequest,
        &[Pos, Clerk, Manager, Finance, Admin],
    ),
    (
        Permission::GesturesRead,
        &[Pos, Clerk, Manager, Finance, Auditor, Admin],
    ),
    (Permission::LedgerRead, &[Finance, Auditor, Admin]),
    (Permission::IncidentsWrite, &[Manager, Admin]),
    (
        Permission::IncidentsRead,
        &[Pos, Clerk, Manager, Finance, Auditor, Admin],
    ),
    (
        Permission::PaymentsRecord,
        &[Pos, Clerk, Manager, Finance, Admin],
    ),
    (Permission::RedemptionsRecord, &[Pos, Clerk, Manager, Admin]),
    (Permission::Reversals, &[Manager, Finance, Admin]),
    (Permission::GesturesApprove, &[Manager, Finance, Admin]),
    (
        Permission::GesturesCancel,
        &[Pos, Clerk, Manager, Finance, Admin],
    ),
    (
        Permission::PolicyRead,
        &[Pos, Clerk, Manager, Finance, Auditor, Admin],
    ),
    (Permission::PolicyWrite, &[Admin]),
    (
        Permission::EventsRead,
        &[Pos, Clerk, Manager, Finance, Auditor, Admin],
    ),
    (Permission::FinanceRead, &[Finance, Auditor, Admin]),
    (Permission::WriteOffsReview, &[Finance, Admin]),
    (Permission::PeriodsClose, &[Finance, Admin]),
    (Permission::PeriodsReopen, &[Admin]),
    (
        Permission::RecognitionReport,
        &[Manager, Finance, Auditor, Admin],
    ),
    (Permission::ReportsRead, &[Manager, Finance, Auditor, Admin]),
    (Permission::AccountMapWrite, &[Finance, Admin]),
    (Permission::SalesRecord, &[Pos, Clerk, Manager, Admin]),
    (
        Permission::SalesRead,
        &[Pos, Clerk, Manager, Finance, Auditor, Admin],
    ),
    (
        Permission::ValueRead,
        &[Pos, Clerk, Manager, Finance, Auditor, Admin],
    ),
    (Permission::ValueFit, &[Finance, Admin]),
    (Permission::ConsoleUsers, &[Admin]),
    (Permission::WebhooksWrite, &[Admin]),
    (Permission::WebhooksRead, &[Finance, Auditor, Admin]),
];

/// Whether a token whose `stores` claim is `stores` (`None`: all of the tenant's
/// stores) may act at `store`. The one place the store-scope rule lives.
pub(crate) fn may_act_at(
    stores: Option<&[super::ids::StoreId]>,
    store: super::ids::StoreId,
) -> bool {
    stores.is_none_or(|s| s.contains(&store))
}

/// The stores two scopes share (`None`: all of the tenant's stores).
pub(crate) fn shared_scope(
    a: Option<&[super::ids::StoreId]>,
    b: Option<&[super::ids::StoreId]>,
) -> Option<Vec<super::ids::StoreId>> {
    match (a, b) {
        (None, None) => None,
        (Some(s), None) | (None, Some(s)) => Some(s.to_vec()),
        (Some(a), Some(b)) => Some(a.iter().filter(|s| b.contains(s)).copied().collect()),
    }
}

/// The role table as the Markdown table printed in `docs/roles.md`.
#[cfg(test)]
pub(crate) fn role_table_markdown() -> String {
    let mut out = String::from("| permission |");
    for r in Role::ALL {
        out.push_str(&format!(" {r} |"));
    }
    out.push_str("\n|---|");
    for _ in Role::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for (p, _) in ROLE_TABLE {
        out.push_str(&format!("| `{}` |", p.as_str()));
        for r in Role::ALL {
            out.push_str(if r.may(*p) { " yes |" } else { " — |" });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_appears_once() {
        let mut seen = std::collections::HashSet::new();
        for (p, _) in ROLE_TABLE {
            assert!(seen.insert(*p), "{p:?} twice");
        }
    }

    #[test]
    fn roles_parse_from_their_claim_values() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
        assert!("Admin".parse::<Role>().is_err());
    }

    #[test]
    fn docs_print_the_table_in_the_code() {
        let doc = include_str!("../../docs/roles.md");
        assert!(
            doc.contains(&role_table_markdown()),
            "docs/roles.md is out of date; paste in:\n{}",
            role_table_markdown()
        );
    }
}
