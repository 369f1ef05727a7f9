//! Each entity's canonical JSON: what the API answers, what the audit trail
//! records as an event's before and after, and what the event feed carries.
//! Defined once, below the HTTP layer, so every front end and the audit trail
//! say the same thing about an entity.

pub(crate) mod customer;
pub(crate) mod finance;
pub(crate) mod gesture;
pub(crate) mod incident;
pub(crate) mod payment;
pub(crate) mod policy;
pub(crate) mod report;
pub(crate) mod sale;
pub(crate) mod session;
pub(crate) mod staff;
pub(crate) mod store;
pub(crate) mod value;
pub(crate) mod webhook;

use chrono::NaiveDateTime;

/// RFC 3339 in UTC with microseconds, as every timestamp is written.
pub(crate) fn timestamp(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
