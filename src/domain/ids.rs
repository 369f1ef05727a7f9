//! Typed identifiers. Every id is a UUIDv7 generated in Rust (time-ordered, so
//! cursor pagination by id is also pagination by creation time), and each kind of
//! object has its own type so a store id can never be passed where a customer id
//! is expected.
//!
//! The diesel derives tie these types to the `Uuid` SQL type; the conversions live
//! in `store::sql_types`.

use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = crate::store::sql_types::Uuid)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new, time-ordered (v7) id.
            #[must_use]
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }

        crate::uuid_sql_impls!($name);
    };
}

id_type!(
    /// A tenant: one business (a chain). Nothing ever crosses tenants.
    TenantId
);
id_type!(
    /// A store (location) of a tenant.
    StoreId
);
id_type!(
    /// A staff member of a tenant.
    StaffId
);
id_type!(
    /// A customer known to a tenant.
    CustomerId
);
id_type!(
    /// An audit event.
    AuditEventId
);
id_type!(
    /// A gesture: one act of goodwill.
    GestureId
);
id_type!(
    /// An incident: what went wrong.
    IncidentId
);
id_type!(
    /// A payment against a deferred payment.
    PaymentId
);
id_type!(
    /// A redemption of store credit.
    RedemptionId
);
id_type!(
    /// A ledger transaction: one balanced posting.
    LedgerTxId
);
id_type!(
    /// One entry (a debit or a credit) of a ledger transaction.
    EntryId
);
id_type!(
    /// One review of a write-off by finance.
    ReviewId
);
id_type!(
    /// A sale recorded by the point of sale.
    SaleId
);
id_type!(
    /// A refund of (part of) a sale.
    RefundId
);
id_type!(
    /// One fitted version of a tenant's customer value model.
    ValueModelId
);
id_type!(
    /// One batch or import of sales (its audit trail).
    SaleBatchId
);
id_type!(
    /// A one-time console sign-in link.
    SignInLinkId
);
id_type!(
    /// A console session.
    SessionId
);
id_type!(
    /// An OpenID Connect sign-in between the redirect and the provider's answer.
    LoginId
);
id_type!(
    /// A webhook endpoint a tenant registered.
    WebhookEndpointId
);
id_type!(
    /// One delivery of one feed event to one webhook endpoint.
    WebhookDeliveryId
);
id_type!(
    /// One attempt at a webhook delivery.
    WebhookAttemptId
);
id_type!(
    /// A proposed policy version waiting for a second admin.
    PolicyProposalId
);
