//! The HTTP API tests: one binary, every scenario on SQLite and on PostgreSQL.

// Test code panics on the unexpected: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod hostile;

mod approvals;
mod audit;
mod auth;
mod authz;
mod backpressure;
mod bad_input;
mod cli;
mod commands;
mod console;
mod console_finance;
mod customers;
mod deploy;
mod finance;
mod gestures;
mod hardening;
mod idempotency;
mod lifecycle;
mod oidc;
mod ops;
mod pos;
mod property;
mod roles;
mod spec;
mod staff;
mod stores;
mod upgrade;
mod value;
mod webhooks;
