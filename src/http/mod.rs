//! The HTTP layer: thin handlers over the domain and the store.
//!
//! A handler reads like a sentence: the [`Caller`] extractor authenticates the
//! token and checks the permission the route table names for this route; the
//! [`JsonBody`] extractor parses the body into a request type that refuses unknown
//! fields; the handler turns it into domain values and runs one transaction off the
//! async workers ([`AppState::write`] / [`AppState::read`]); the answer is JSON, or a
//! problem+json from [`AppError`].

pub mod audit;
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

use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;
use diesel::Connection;
use serde::Serialize;

use crate::audit::AuditCtx;
use crate::auth::Verifier;
use crate::domain::ids::TenantId;
use crate::error::AppError;
use crate::idempotency::IdempotencyKey;
use crate::store::{DbConnection, PageOf, Pool};

pub use extract::{Caller, Idem, JsonBody, QueryParams, RequestId};

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

    /// Runs a state-changing command: one write transaction that holds the
    /// command's effect, its audit event(s) and, when the request carries an
    /// `Idempotency-Key`, the stored response. A retry with the same key replays
    /// that response instead of acting again.
    pub async fn command<F>(
        &self,
        caller: &Caller,
        key: Option<IdempotencyKey>,
        f: F,
    ) -> Result<HttpResponse, AppError>
    where
        F: FnOnce(&mut DbConnection, &AuditCtx) -> Result<Reply, AppError> + Send + 'static,
    {
        let ctx = caller.audit_ctx();
        let outcome = self
            .with_conn(move |conn| {
                crate::store::write_tx(conn, move |conn| run_command(conn, &ctx, key, f))
            })
            .await?;
        match outcome {
            Outcome::Fresh { status, body } => Ok(HttpResponse::build(status_code(status))
                .content_type("application/json")
                .body(body)),
            Outcome::Replayed(stored) => Ok(HttpResponse::build(status_code(
                u16::try_from(stored.status).unwrap_or(500),
            ))
            .content_type(stored.content_type)
            .insert_header(("Idempotent-Replayed", "true"))
            .body(stored.body)),
            Outcome::StoredError(e) => Err(e),
        }
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

/// What a command answers on success.
pub struct Reply {
    /// 200 or 201.
    pub status: u16,
    /// The resource.
    pub body: serde_json::Value,
}

impl Reply {
    /// 201 with the created resource.
    pub fn created(v: &impl Serialize) -> Self {
        Self {
            status: 201,
            body: serde_json::to_value(v).unwrap_or_default(),
        }
    }

    /// 200 with the resource.
    pub fn ok(v: &impl Serialize) -> Self {
        Self {
            status: 200,
            body: serde_json::to_value(v).unwrap_or_default(),
        }
    }
}

enum Outcome {
    Fresh { status: u16, body: String },
    Replayed(crate::store::idempotency::Stored),
    StoredError(AppError),
}

fn status_code(s: u16) -> actix_web::http::StatusCode {
    actix_web::http::StatusCode::from_u16(s)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
}

fn run_command<F>(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    key: Option<IdempotencyKey>,
    f: F,
) -> Result<Outcome, AppError>
where
    F: FnOnce(&mut DbConnection, &AuditCtx) -> Result<Reply, AppError>,
{
    use crate::store::idempotency as stored;
    let Some(key) = key else {
        let reply = f(conn, ctx)?;
        return Ok(Outcome::Fresh {
            status: reply.status,
            body: reply.body.to_string(),
        });
    };
    let (tenant, sub) = (ctx.tenant, ctx.actor_sub.as_str());
    stored::lock(conn, tenant, sub, &key)?;
    if let Some(found) = stored::find(conn, tenant, sub, &key.key)? {
        if found.fingerprint != key.fingerprint {
            return Err(AppError::Unprocessable {
                code: "idempotency_mismatch",
                detail:
                    "this Idempotency-Key was used for a different request (method, path or body)"
                        .into(),
                errors: Vec::new(),
            });
        }
        return Ok(Outcome::Replayed(found));
    }
    // A savepoint: when the command fails with a business-rule error its effects
    // are undone but the transaction lives on to keep the answer with the key.
    match conn.transaction(|c| f(c, ctx)) {
        Ok(reply) => {
            let body = reply.body.to_string();
            stored::insert(
                conn,
                tenant,
                sub,
                &key,
                reply.status,
                "application/json",
                &body,
            )?;
            Ok(Outcome::Fresh {
                status: reply.status,
                body,
            })
        }
        Err(e) if crate::idempotency::is_stored(&e) => {
            let (status, body) = problem::render(&e);
            stored::insert(
                conn,
                tenant,
                sub,
                &key,
                status,
                problem::PROBLEM_JSON,
                &body,
            )?;
            Ok(Outcome::StoredError(e))
        }
        Err(e) => Err(e),
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
