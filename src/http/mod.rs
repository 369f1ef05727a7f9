//! The HTTP layer: thin handlers over the domain and the store.
//!
//! A handler reads like a sentence: the [`Caller`] extractor authenticates the
//! token and checks the permission the route table names for this route; the
//! [`JsonBody`] extractor parses the body into a request type that refuses unknown
//! fields; the handler turns it into domain values and runs one transaction off the
//! async workers ([`AppState::write`] / [`AppState::read`]); the answer is JSON, or a
//! problem+json from [`AppError`].

pub mod customers;
pub mod extract;
pub mod ops;
pub mod problem;
pub mod routes;
pub mod staff;
pub mod stores;

use std::collections::HashSet;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::web;
use chrono::NaiveDateTime;
use serde::Serialize;

use crate::auth::Verifier;
use crate::domain::ids::TenantId;
use crate::error::AppError;
use crate::store::{DbConnection, PageOf, Pool};

pub use extract::{Caller, JsonBody, QueryParams, RequestId};

/// What every handler shares. Holds no request state: any number of instances can
/// serve one database.
pub struct AppState {
    /// The database pool.
    pub pool: Pool,
    /// Token verification.
    pub verifier: Verifier,
    /// Tenants known to exist. Tenants are never deleted, so a hit here can never
    /// be stale; a miss asks the database.
    known_tenants: RwLock<HashSet<TenantId>>,
    /// Request counters for `/metrics`.
    pub metrics: Metrics,
}

impl AppState {
    /// State over a pool and a verifier.
    pub fn new(pool: Pool, verifier: Verifier) -> Self {
        Self {
            pool,
            verifier,
            known_tenants: RwLock::new(HashSet::new()),
            metrics: Metrics::default(),
        }
    }

    /// Runs `f` with a pooled connection on the blocking thread pool, so diesel
    /// never blocks an async worker.
    pub async fn with_conn<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| AppError::Unavailable(format!("the worker pool refused the job: {e}")))?
    }

    /// Runs `f` in one write transaction (IMMEDIATE on SQLite).
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
    {
        self.with_conn(move |conn| crate::store::write_tx(conn, f))
            .await
    }

    /// Runs `f` in one read transaction (a consistent snapshot).
    pub async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
    {
        self.with_conn(move |conn| crate::store::read_tx(conn, f))
            .await
    }

    /// Whether the tenant exists (cached once seen).
    pub async fn tenant_exists(&self, tenant: TenantId) -> Result<bool, AppError> {
        if self
            .known_tenants
            .read()
            .map(|s| s.contains(&tenant))
            .unwrap_or(false)
        {
            return Ok(true);
        }
        let exists = self
            .with_conn(move |conn| Ok(crate::store::tenants::exists(conn, tenant)?))
            .await?;
        if exists && let Ok(mut s) = self.known_tenants.write() {
            s.insert(tenant);
        }
        Ok(exists)
    }
}

/// Counters exposed at `/metrics` in Prometheus' text format.
#[derive(Default)]
pub struct Metrics {
    /// Responses by status class: 1xx..5xx at indexes 0..4.
    pub responses: [AtomicU64; 5],
}

impl Metrics {
    /// Counts one response.
    pub fn count(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.responses[class].fetch_add(1, Ordering::Relaxed);
    }
}

/// A list as INTERFACE.md shapes it.
#[derive(Serialize)]
pub struct ListResponse<T: Serialize> {
    /// The page.
    pub data: Vec<T>,
    /// Whether another page follows.
    pub has_more: bool,
    /// Pass as `starting_after` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T: Serialize> ListResponse<T> {
    /// Builds the response from a page, with a view per item and its cursor.
    pub fn from_page<U>(
        page: PageOf<U>,
        view: impl Fn(&U) -> T,
        cursor: impl Fn(&U) -> String,
    ) -> Self {
        let next_cursor = if page.has_more {
            page.items.last().map(&cursor)
        } else {
            None
        };
        Self {
            data: page.items.iter().map(view).collect(),
            has_more: page.has_more,
            next_cursor,
        }
    }
}

/// RFC 3339 in UTC with microseconds, as every timestamp is written.
pub fn timestamp(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
