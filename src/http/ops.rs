//! Operations endpoints: liveness, readiness, metrics. Public, no token.

use std::sync::atomic::Ordering;

use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;

use super::AppState;
use crate::error::AppError;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers; 503 otherwise.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let backend = state
        .with_conn(|conn| {
            conn.batch_execute("SELECT 1")?;
            Ok(match conn {
                crate::store::DbConnection::Pg(_) => "postgres",
                crate::store::DbConnection::Sqlite(_) => "sqlite",
            })
        })
        .await
        .map_err(|e| AppError::Unavailable(format!("the database is not reachable: {e}")))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready", "database": backend})))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.state();
    let mut out = String::new();
    out.push_str("# HELP goodwill_http_responses_total HTTP responses by status class.\n");
    out.push_str("# TYPE goodwill_http_responses_total counter\n");
    for (i, c) in state.metrics.responses.iter().enumerate() {
        out.push_str(&format!(
            "goodwill_http_responses_total{{class=\"{}xx\"}} {}\n",
            i + 1,
            c.load(Ordering::Relaxed)
        ));
    }
    out.push_str("# HELP goodwill_db_pool_connections Open database connections.\n");
    out.push_str("# TYPE goodwill_db_pool_connections gauge\n");
    out.push_str(&format!(
        "goodwill_db_pool_connections {}\n",
        pool.connections
    ));
    out.push_str("# HELP goodwill_db_pool_idle_connections Idle database connections.\n");
    out.push_str("# TYPE goodwill_db_pool_idle_connections gauge\n");
    out.push_str(&format!(
        "goodwill_db_pool_idle_connections {}\n",
        pool.idle_connections
    ));
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}
