//! The HTTP API tests: one binary, every scenario on SQLite and on PostgreSQL.

mod helpers;

mod auth;
mod bad_input;
mod cli;
mod customers;
mod roles;
mod staff;
mod stores;
