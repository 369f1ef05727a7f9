//! Operations endpoints: liveness, readiness, metrics. Public, no token.

use std::sync::atomic::Ordering;

use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;

use super::AppState;
use crate::error::Error;
use crate::http::AppError;

/// `GET /healthz`: the process is up.
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: 200 when the database answers and no migration is pending;
/// 503 with the reason otherwise, and while the instance drains after SIGTERM.
pub(crate) async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    if state.draining.load(Ordering::SeqCst) {
        return Err(Error::Unavailable("draining: this instance is shutting down".into()).into());
    }
    let pool = state.pool.clone();
    let backend = web::block(move || -> Result<&'static str, AppError> {
        let mut conn = pool.checkout_within(std::time::Duration::from_secs(2))?;
        conn.batch_execute("SELECT 1").map_err(|e| {
            crate::store::connection::note_connection_trouble();
            Error::Unavailable(format!("the database does not answer: {e}"))
        })?;
        if crate::store::has_pending_migrations(&mut conn).map_err(Error::Unavailable)? {
            return Err(Error::Unavailable(
                "migrations are pending: run `goodwill migrate`".into(),
            )
            .into());
        }
        Ok(match &*conn {
            crate::store::DbConnection::Pg(_) => "postgres",
            crate::store::DbConnection::Sqlite(_) => "sqlite",
        })
    })
    .await
    .map_err(|e| Error::Unavailable(format!("the worker pool refused the job: {e}")))??;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready", "database": backend})))
}

/// `GET /metrics`: Prometheus text format.
pub(crate) async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.state();
    let out = state.metrics.render(
        pool.connections.saturating_sub(pool.idle_connections),
        pool.idle_connections,
        state.draining.load(Ordering::SeqCst),
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out)
}

/// The OpenAPI document, as committed in `api-spec/openapi.json`.
pub const OPENAPI: &str = include_str!("../../api-spec/openapi.json");

/// `GET /v1/openapi.json`.
pub(crate) async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}
