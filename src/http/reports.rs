//! Reports for managers: recognitions of their staff (S4).

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{AppState, Caller, QueryParams};
use crate::domain::Problems;
use crate::domain::ids::{CustomerId, GestureId, StaffId, StoreId};
use crate::error::AppError;

/// Query of `GET /v1/reports/recognition`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecognitionQuery {
    from: Option<String>,
    to: Option<String>,
    store_id: Option<String>,
}

/// One customer's praise.
#[derive(Serialize)]
pub struct Praise {
    gesture_id: GestureId,
    customer_id: CustomerId,
    effective_on: NaiveDate,
    words: String,
}

/// One staff member at one store.
#[derive(Serialize)]
pub struct StaffRecognitions {
    staff_id: StaffId,
    name: String,
    store_id: StoreId,
    count: i64,
    recognitions: Vec<Praise>,
}

/// The report.
#[derive(Serialize)]
pub struct RecognitionReport {
    from: NaiveDate,
    to: NaiveDate,
    staff: Vec<StaffRecognitions>,
}

/// `GET /v1/reports/recognition?from=&to=&store_id=`: recognitions per staff
/// member and store, with the customers' words, most recognised first. A
/// store-scoped token (a manager's) sees its stores only. Default: the last 90
/// days; at most 366.
pub async fn recognition(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<RecognitionQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let mut date = |field: &str, v: Option<&str>| {
        v.and_then(|v| match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                p.push(field, "must be a date YYYY-MM-DD");
                None
            }
        })
    };
    let to = date("to", q.to.as_deref());
    let from = date("from", q.from.as_deref());
    let store_id: Option<StoreId> = q.store_id.as_deref().and_then(|s| match s.parse() {
        Ok(id) => Some(id),
        Err(_) => {
            p.push("store_id", "must be a store id");
            None
        }
    });
    let to = to.unwrap_or_else(|| state.clock.now().date());
    let from = from.unwrap_or(to - chrono::TimeDelta::days(89));
    if from > to {
        p.push("from", "must not be after to");
    } else if (to - from).num_days() > 365 {
        p.push("from", "the report covers at most 366 days");
    }
    p.finish().map_err(AppError::Validation)?;
    if let Some(s) = store_id {
        caller.require_store(s)?;
    }
    let stores = store_id.map(|s| vec![s]).or_else(|| caller.stores.clone());
    let tenant = caller.tenant;
    let (rows, names) = state
        .read(move |conn| {
            crate::store::reports::recognitions(conn, tenant, stores.as_deref(), from, to)
        })
        .await?;
    let mut staff: Vec<StaffRecognitions> = Vec::new();
    for r in rows {
        for s in &r.staff_ids {
            let praise = Praise {
                gesture_id: r.gesture_id,
                customer_id: r.customer_id,
                effective_on: r.effective_on,
                words: r.story.clone(),
            };
            match staff
                .iter_mut()
                .find(|x| x.staff_id == *s && x.store_id == r.store_id)
            {
                Some(x) => {
                    x.count += 1;
                    x.recognitions.push(praise);
                }
                None => staff.push(StaffRecognitions {
                    staff_id: *s,
                    name: names
                        .iter()
                        .find(|(id, _)| id == s)
                        .map(|(_, n)| n.clone())
                        .unwrap_or_default(),
                    store_id: r.store_id,
                    count: 1,
                    recognitions: vec![praise],
                }),
            }
        }
    }
    staff.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
    Ok(HttpResponse::Ok().json(RecognitionReport { from, to, staff }))
}
