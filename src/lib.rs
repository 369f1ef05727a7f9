//! goodwill: a ledger of the goodwill a business extends to its customers on trust.
//!
//! Layers, and the one direction their dependencies point:
//!
//! - [`http`]: actix-web handlers, thin: authorise (the route table names the
//!   permission), parse the body into domain types, run one domain operation in
//!   one database transaction off the async workers, answer.
//! - [`domain`]: the rules (money, roles, what makes a customer valid). No HTTP,
//!   no SQL.
//! - [`store`]: persistence over PostgreSQL or SQLite through one diesel
//!   `MultiConnection`; queries as functions over a connection, every one filtered
//!   by tenant.
//! - cross-cutting: [`auth`] (JWT verification and issue), [`error`] (the one error
//!   type), [`config`] (typed settings), [`bootstrap`] (first run),
//!   [`startup`] (building the server), [`cli`] (the command line).
//!
//! See `docs/ARCHITECTURE.md` for how a request flows through them.

pub mod app;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod csv_export;
pub mod domain;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod ratelimit;
pub mod sealed;
pub mod startup;
pub mod store;
pub mod value;
pub mod views;
pub mod webhooks;
