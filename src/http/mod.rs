//! The HTTP layer: thin handlers over the domain and the store.
//!
//! A handler reads like a sentence: the [`Caller`] extractor authenticates the
//! token and checks the permission the route table names for this route; the
//! [`JsonBody`] extractor parses the body into a request type that refuses unknown
//! fields; the handler turns it into domain values and runs one transaction off the
//! async workers ([`AppState::write`] / [`AppState::read`]); the answer is JSON, or a
//! problem+json from [`AppError`].

pub(crate) mod approvals;
pub(crate) mod audit;
pub(crate) mod customers;
pub(crate) mod deadline;
pub(crate) mod error;
pub(crate) mod events;
pub mod extract;
pub(crate) mod finance;
pub(crate) mod gestures;
pub(crate) mod incidents;
pub(crate) mod ledger;
pub(crate) mod lifecycle;
pub mod ops;
pub(crate) mod policy;
pub(crate) mod problem;
pub(crate) mod reading;
pub(crate) mod reports;
pub mod routes;
pub(crate) mod sales;
pub(crate) mod staff;
pub(crate) mod stores;
pub(crate) mod value;
pub(crate) mod webhooks;

use std::collections::HashSet;
use std::sync::RwLock;

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::audit::AuditCtx;
use crate::auth::Verifier;
use crate::domain::ids::TenantId;
use crate::error::{Error, ErrorCode};
use crate::idempotency::IdempotencyKey;
use crate::store::{DbConnection, PageOf, Pool};

pub(crate) use crate::views::timestamp;
pub(crate) use error::AppError;
pub(crate) use extract::{Caller, Idem, JsonBody, QueryParams, RequestId};

/// What every handler shares. Holds no request state: any number of instances can
/// serve one database.
pub(crate) struct AppState {
    /// The database pool.
    pub pool: Pool,
    /// Token verification.
    pub verifier: Verifier,
    /// Tenants known to exist. Tenants are never deleted, so a hit here can never
    /// be stale; a miss asks the database.
    known_tenants: RwLock<HashSet<TenantId>>,
    /// Request counters for `/metrics`.
    pub metrics: Metrics,
    /// Set on SIGTERM: `/readyz` answers 503 while in-flight requests finish.
    pub draining: std::sync::atomic::AtomicBool,
    /// What commands see as now.
    pub clock: crate::clock::Clock,
    /// The optional rate limit's buckets (see [`crate::ratelimit`]).
    pub rate_limiter: Option<crate::ratelimit::RateLimiter>,
    /// Wakes the webhook worker when a command committed (its events may
    /// be due for delivery).
    pub webhooks_wake: std::sync::Arc<tokio::sync::Notify>,
    /// The webhook rules a request is checked against (the loopback switch).
    pub webhook_settings: crate::config::WebhookSettings,
    /// How long a request's body may take to arrive after its head.
    pub body_timeout: std::time::Duration,
    /// Seals the secrets kept in the database (`GOODWILL_SECRET_KEY_FILE`).
    pub secret_key: Option<crate::sealed::SecretKey>,
}

impl AppState {
    /// State over a pool and a verifier.
    pub(crate) fn new(pool: Pool, verifier: Verifier, clock: crate::clock::Clock) -> Self {
        Self {
            clock,
            pool,
            verifier,
            known_tenants: RwLock::new(HashSet::new()),
            metrics: Metrics::default(),
            draining: std::sync::atomic::AtomicBool::new(false),
            rate_limiter: None,
            webhooks_wake: std::sync::Arc::new(tokio::sync::Notify::new()),
            webhook_settings: crate::config::WebhookSettings::default(),
            body_timeout: std::time::Duration::from_secs(crate::config::DEFAULT_BODY_TIMEOUT_SECS),
            secret_key: None,
        }
    }

    /// Runs `f` with a pooled connection on the blocking thread pool, so diesel
    /// never blocks an async worker.
    pub(crate) async fn with_conn<T, E, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        E: Into<AppError> + From<Error> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        self.admitted(None, f).await
    }

    /// As [`AppState::with_conn`], for a write command: on a backend with one
    /// writer it first waits its turn among the writers (see `store::Pool`).
    pub(crate) async fn with_write_conn<T, E, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        E: Into<AppError> + From<Error> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        self.admitted(self.pool.writer(), f).await
    }

    async fn admitted<T, E, F>(
        &self,
        queue: Option<std::sync::Arc<tokio::sync::Semaphore>>,
        f: F,
    ) -> Result<T, AppError>
    where
        T: Send + 'static,
        E: Into<AppError> + From<Error> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        // Permits first, waited for here and in arrival order (see
        // `store::Pool`): the writers' turn where there is one writer, then
        // a connection. A request given up while it waits costs the
        // database nothing.
        let wait = pool.connection_timeout();
        let permit_wait = pool.permit_wait();
        let asked = std::time::Instant::now();
        let busy = || {
            AppError::from(Error::Unavailable(match pool.unreachable() {
                Some(why) => format!("the database is not reachable: {why}"),
                None => format!(
                    "no database connection available: every one stayed busy for {} s",
                    wait.as_secs()
                ),
            }))
        };
        let turn = match queue {
            Some(q) => match actix_web::rt::time::timeout(permit_wait, q.acquire_owned()).await {
                Ok(Ok(permit)) => Some(permit),
                _ => return Err(busy()),
            },
            None => None,
        };
        let left = permit_wait.saturating_sub(asked.elapsed());
        let permit =
            match actix_web::rt::time::timeout(left, pool.admission().acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                _ => return Err(busy()),
            };
        // Logs written on the blocking thread carry the request's span (its id).
        let span = tracing::Span::current();
        web::block(move || {
            let _entered = span.enter();
            let _permits = (turn, permit);
            // The permits' wait counts against the pool's timeout.
            let left = wait.saturating_sub(asked.elapsed());
            let mut conn = pool.checkout_within(left).map_err(E::from)?;
            f(&mut conn)
        })
        .await
        .map_err(|e| Error::Unavailable(format!("the worker pool refused the job: {e}")))?
        .map_err(Into::into)
    }

    /// Runs `f` in one read transaction (a consistent snapshot).
    pub(crate) async fn read<T, E, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        E: Into<AppError> + From<Error> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        self.with_conn(move |conn| crate::store::read_tx(conn, f))
            .await
    }

    /// Runs `f` outside any transaction: for a read of one statement, which
    /// is a consistent snapshot of its own on both backends (a transaction
    /// around it would cost two round trips more: BEGIN and COMMIT).
    pub(crate) async fn read_one<T, E, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        E: Into<AppError> + From<Error> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        self.with_conn(f).await
    }

    /// Runs a state-changing command: one write transaction that holds the
    /// command's effect, its audit event(s) and, when the request carries an
    /// `Idempotency-Key`, the stored response. A retry with the same key replays
    /// that response instead of acting again.
    pub(crate) async fn command<F>(
        &self,
        caller: &Caller,
        key: Option<IdempotencyKey>,
        f: F,
    ) -> Result<HttpResponse, AppError>
    where
        F: FnOnce(&mut DbConnection, &AuditCtx) -> Result<Reply, AppError> + Send + 'static,
    {
        match self.execute(caller, key, f).await? {
            Executed::Fresh { status, body } => Ok(HttpResponse::build(status_code(status))
                .content_type("application/json")
                .body(body)),
            Executed::Replayed(stored) => Ok(HttpResponse::build(status_code(
                u16::try_from(stored.status).unwrap_or(500),
            ))
            .content_type(stored.content_type)
            .insert_header(("Idempotent-Replayed", "true"))
            .body(stored.body)),
        }
    }

    /// Runs a command as [`AppState::command`] does, answering what happened
    /// rather than a response: every front end (the API, the console) keeps
    /// its idempotency records the same way and shapes its own answer.
    pub(crate) async fn execute<F>(
        &self,
        caller: &Caller,
        key: Option<IdempotencyKey>,
        f: F,
    ) -> Result<Executed, AppError>
    where
        F: FnOnce(&mut DbConnection, &AuditCtx) -> Result<Reply, AppError> + Send + 'static,
    {
        let ctx = caller.audit_ctx(&self.clock);
        let outcome = self
            .with_write_conn(move |conn| {
                crate::store::write_tx(conn, move |conn| run_command(conn, &ctx, key, f))
            })
            .await?;
        match outcome {
            Outcome::Fresh { status, body } => {
                self.webhooks_wake.notify_one();
                Ok(Executed::Fresh { status, body })
            }
            Outcome::Replayed(stored) => Ok(Executed::Replayed(stored)),
            Outcome::StoredError(e) => Err(e),
        }
    }

    /// Whether the tenant exists (cached once seen).
    pub(crate) async fn tenant_exists(&self, tenant: TenantId) -> Result<bool, AppError> {
        if self
            .known_tenants
            .read()
            .map(|s| s.contains(&tenant))
            .unwrap_or(false)
        {
            return Ok(true);
        }
        let exists = self
            .with_conn(move |conn| Ok::<_, AppError>(crate::store::tenants::exists(conn, tenant)?))
            .await?;
        if exists && let Ok(mut s) = self.known_tenants.write() {
            s.insert(tenant);
        }
        Ok(exists)
    }
}

/// What a command answers on success.
pub(crate) struct Reply {
    /// 200 or 201.
    pub status: u16,
    /// The resource.
    pub body: serde_json::Value,
}

impl Reply {
    /// 201 with the created resource.
    pub(crate) fn created(v: &impl Serialize) -> Self {
        Self {
            status: 201,
            body: serde_json::to_value(v).unwrap_or_default(),
        }
    }

    /// 202: accepted, not yet in effect (a policy waiting for a second admin).
    pub(crate) fn accepted(v: &impl Serialize) -> Self {
        Self {
            status: 202,
            body: serde_json::to_value(v).unwrap_or_default(),
        }
    }

    /// 200 with the resource.
    pub(crate) fn ok(v: &impl Serialize) -> Self {
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

/// What a command did: ran now (its status and JSON), or had run before
/// under the same idempotency key (the answer stored then: a success, or a
/// business-rule refusal as problem+json).
pub(crate) enum Executed {
    /// It ran now.
    Fresh {
        /// 200 or 201.
        status: u16,
        /// The resource, as JSON.
        body: String,
    },
    /// It had run before: what it answered then.
    Replayed(crate::store::idempotency::Stored),
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
    // Every ledger transaction is attested by an event appended after it.
    let f = move |c: &mut DbConnection, ctx: &AuditCtx| {
        let reply = f(c, ctx)?;
        if ctx.ledger.is_pending() {
            return Err(AppError::from(Error::internal(
                "the command posted to the ledger without an audit event after it",
            )));
        }
        Ok(reply)
    };
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
            return Err(Error::Unprocessable {
                code: ErrorCode::IdempotencyMismatch,
                detail:
                    "this Idempotency-Key was used for a different request (method, path or body)"
                        .into(),
                errors: Vec::new(),
            }
            .into());
        }
        return Ok(Outcome::Replayed(found));
    }
    // A savepoint: when the command fails with a business-rule error its effects
    // are undone but the transaction lives on to keep the answer with the key.
    match crate::store::connection::undoable(conn, |c| f(c, ctx)) {
        Ok(reply) => {
            let body = reply.body.to_string();
            stored::insert(conn, ctx, &key, reply.status, "application/json", &body)?;
            Ok(Outcome::Fresh {
                status: reply.status,
                body,
            })
        }
        Err(e) if crate::idempotency::is_stored(&e) => {
            let (status, body) = problem::render(&e);
            stored::insert(conn, ctx, &key, status, problem::PROBLEM_JSON, &body)?;
            Ok(Outcome::StoredError(e))
        }
        Err(e) => Err(e),
    }
}

/// Upper bounds (seconds) of the latency histogram's buckets.
pub(crate) const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

const REQUESTS: &str = "goodwill_http_requests_total";
const DURATION: &str = "goodwill_http_request_duration_seconds";
const POOL: &str = "goodwill_db_pool_connections";
const DRAINING: &str = "goodwill_draining";

/// What `/metrics` exposes, kept by the `metrics` crate's Prometheus recorder:
/// one per instance (not the process-wide recorder), so every application in a
/// process counts its own requests.
pub(crate) struct Metrics {
    recorder: metrics_exporter_prometheus::PrometheusRecorder,
    handle: std::sync::Arc<metrics_exporter_prometheus::PrometheusHandle>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A recorder with the latency buckets, its metrics described, and a
    /// thread that folds histogram samples into their buckets every 5 s (so
    /// memory stays bounded between scrapes) until the recorder is dropped.
    pub(crate) fn new() -> Self {
        use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
        let builder = PrometheusBuilder::new();
        let recorder = match builder
            .set_buckets_for_metric(Matcher::Full(DURATION.into()), &LATENCY_BUCKETS)
        {
            Ok(b) => b.build_recorder(),
            // Unreachable: the buckets are not empty.
            Err(_) => PrometheusBuilder::new().build_recorder(),
        };
        metrics::with_local_recorder(&recorder, || {
            metrics::describe_counter!(
                REQUESTS,
                "HTTP requests by route template, method and status."
            );
            metrics::describe_histogram!(DURATION, "Request latency by route template and method.");
            metrics::describe_gauge!(POOL, "Database connections in the pool, by state.");
            metrics::describe_gauge!(DRAINING, "Whether this instance is shutting down.");
        });
        let handle = std::sync::Arc::new(recorder.handle());
        let weak = std::sync::Arc::downgrade(&handle);
        let _ = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    match weak.upgrade() {
                        Some(h) => h.run_upkeep(),
                        None => break,
                    }
                }
            });
        Self { recorder, handle }
    }

    /// Records one response.
    pub(crate) fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        metrics::with_local_recorder(&self.recorder, || {
            metrics::counter!(
                REQUESTS,
                "route" => route.to_owned(),
                "method" => method.to_owned(),
                "status" => status.to_string()
            )
            .increment(1);
            metrics::histogram!(DURATION, "route" => route.to_owned(), "method" => method.to_owned())
                .record(seconds);
        });
    }

    /// The Prometheus text, with the pool's connections and whether the
    /// instance drains as of now.
    pub(crate) fn render(&self, in_use: u32, idle: u32, draining: bool) -> String {
        metrics::with_local_recorder(&self.recorder, || {
            metrics::gauge!(POOL, "state" => "in_use").set(f64::from(in_use));
            metrics::gauge!(POOL, "state" => "idle").set(f64::from(idle));
            metrics::gauge!(DRAINING).set(f64::from(u8::from(draining)));
        });
        self.handle.render()
    }
}

/// A list: `{"data", "has_more", "next_cursor"}` (docs/api.md).
#[derive(Serialize)]
pub(crate) struct ListResponse<T: Serialize> {
    /// The page.
    pub data: Vec<T>,
    /// Whether another page follows.
    pub has_more: bool,
    /// Pass as `starting_after` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T: Serialize> ListResponse<T> {
    /// A page of items; the next cursor is the last item's when more follow.
    pub(crate) fn of(data: Vec<T>, has_more: bool, cursor: impl Fn(&T) -> String) -> Self {
        let next_cursor = if has_more {
            data.last().map(cursor)
        } else {
            None
        };
        Self {
            data,
            has_more,
            next_cursor,
        }
    }

    /// Builds the response from a page, with a view per item and its cursor.
    pub(crate) fn from_page<U>(
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

/// A CSV document as a download: `text/csv`, UTF-8, saved as `filename`.
pub(crate) fn csv_attachment(filename: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(body)
}
