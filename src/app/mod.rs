//! The use cases: one function per thing a user of the product does, named in
//! the product's words (`request_gesture`, `approve`, `record_payment`,
//! `close_period`, ...). Every front end — the HTTP API, the command line, and
//! what comes after them — calls these and nothing below them.
//!
//! A command takes the caller's transaction (so the front end can keep its
//! own record in it, such as the answer stored with an idempotency key), the
//! actor and the time ([`Ctx`]) and parsed domain input. Inside, in this order:
//! the authorisation of the rule (the role's permission, the store scope,
//! segregation of duties), the locks, the domain decision, the store calls,
//! and the audit and feed events. It answers a domain result; turning that into
//! JSON or a page is the front end's business.

pub mod approvals;
pub mod console;
pub mod customers;
pub(crate) mod finance;
pub mod gestures;
pub(crate) mod incidents;
pub(crate) mod jobs;
pub mod lifecycle;
pub(crate) mod names;
pub(crate) mod policy;
pub(crate) mod reports;
pub(crate) mod sales;
pub mod staff;
pub mod stores;
pub(crate) mod value;
pub(crate) mod webhooks;

/// Who acts, for which request, and when: the command's context.
pub(crate) use crate::audit::AuditCtx as Ctx;
