//! `/v1/ledger`: checking the ledger (finance, auditor, admin).

use actix_web::{HttpResponse, web};

use super::{AppState, Caller};
use crate::http::AppError;

/// `GET /v1/ledger/check`: 200 with `clean` and every discrepancy found in the
/// caller's tenant.
pub(crate) async fn check(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    let tenant = caller.tenant;
    let found = state
        .read(move |conn| crate::store::ledger_check::check(conn, Some(tenant)))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "clean": found.is_empty(),
        "discrepancies": found,
    })))
}
