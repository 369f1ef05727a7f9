//! Each entity's canonical JSON: what the API answers, what the audit trail
//! records as an event's before and after, and what the event feed carries.
//! Defined once, below the HTTP layer, so every front end and the audit trail
//! say the same thing about an entity.

pub mod customer;
pub mod finance;
pub mod gesture;
pub mod incident;
pub mod payment;
pub mod policy;
pub mod sale;
pub mod staff;
pub mod store;
pub mod value;

use chrono::NaiveDateTime;

/// RFC 3339 in UTC with microseconds, as every timestamp is written.
pub fn timestamp(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
