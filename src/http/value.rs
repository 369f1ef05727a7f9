//! `/v1/value/...` and `/v1/customers/{id}/value`: the customer value model
//! (BG/NBD and Gamma-Gamma, fitted on the tenant's sales) and a customer's
//! figures from it.

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::extract::query_date;
use super::{AppState, Caller, Idem, JsonBody, ListResponse, QueryParams, Reply};
use crate::domain::Problems;
use crate::domain::ids::CustomerId;
use crate::domain::money::{Currency, Money};
use crate::error::{Error, ErrorCode};
use crate::http::AppError;
use crate::value::TimeUnit;
use crate::value::model::{Estimate, Horizon};
use crate::views::value::{CeilingView, ModelView};

/// Body of `POST /v1/value/model/fit`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct FitInput {
    as_of: Option<String>,
    currency: Option<String>,
    time_unit: Option<String>,
    penalizer: Option<f64>,
}

/// `POST /v1/value/model/fit`: fits both models on the tenant's sales as of
/// `as_of` (default today) and answers 201 with the new version. Runs
/// synchronously: reading the statistics in one snapshot, fitting off the
/// async workers, storing the version with its audit event.
pub(crate) async fn fit(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    body: JsonBody<FitInput>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let now = state.clock.now();
    let mut p = Problems::default();
    let as_of = query_date("as_of", b.as_of.as_deref(), &mut p).unwrap_or(now.date());
    if as_of > now.date() {
        p.push("as_of", "must not be in the future");
    }
    let currency = b
        .currency
        .as_deref()
        .and_then(|c| p.take(Currency::parse("currency", c)));
    let unit = match b.time_unit.as_deref() {
        None => TimeUnit::default(),
        Some(u) => TimeUnit::parse(u).unwrap_or_else(|| {
            p.push("time_unit", "must be weeks or days");
            TimeUnit::default()
        }),
    };
    let penalizer = b.penalizer;
    if penalizer.is_some_and(|v| !(0.0..=100.0).contains(&v)) {
        p.push("penalizer", "must be from 0 to 100");
    }
    p.finish().map_err(Error::Validation)?;
    let started = std::time::Instant::now();
    let spec = crate::app::value::FitSpec {
        currency,
        as_of,
        unit,
        penalizer,
    };
    let ctx = caller.audit_ctx(&state.clock);
    let inputs = state
        .read(move |conn| crate::app::value::fit_inputs(conn, &ctx, &spec))
        .await?;
    let version = web::block(move || crate::app::value::fit(&inputs, started))
        .await
        .map_err(|e| Error::Unavailable(format!("the worker pool refused the job: {e}")))??;
    state
        .command(&caller, idem.bind(&raw), move |conn, ctx| {
            let v = crate::app::value::record_fit(conn, ctx, version)?;
            Ok(Reply::created(&ModelView::from(&v)))
        })
        .await
}

/// Query of `GET /v1/value/model`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CurrentQuery {
    currency: Option<String>,
}

/// `GET /v1/value/model[?currency=]`: the newest version (of that currency).
pub(crate) async fn current(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<CurrentQuery>,
) -> Result<HttpResponse, AppError> {
    let mut p = Problems::default();
    let currency = query
        .0
        .currency
        .as_deref()
        .and_then(|c| p.take(Currency::parse("currency", c)));
    p.finish().map_err(Error::Validation)?;
    let tenant = caller.tenant;
    let m = state
        .read(move |conn| {
            if let Some(m) = crate::store::value::current(conn, tenant, currency)? {
                return Ok(m);
            }
            Err(match crate::store::value::unusable(conn, tenant, currency)? {
                Some((version, why)) => Error::Conflict {
                    code: ErrorCode::ModelUnusable,
                    detail: format!(
                        "no usable value model: the newest fit, version {version}, is not usable: {why}"
                    ),
                    existing_id: None,
                },
                None => Error::NotFound("no value model has been fitted yet".into()),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(ModelView::from(&m)))
}

/// `GET /v1/value/model/versions`: oldest first.
pub(crate) async fn versions(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<super::extract::VersionsQuery>,
) -> Result<HttpResponse, AppError> {
    let page = query.0.page()?;
    let tenant = caller.tenant;
    let after = page.starting_after;
    let rows = state
        .read(move |conn| crate::store::value::list(conn, tenant, after, page.limit))
        .await?;
    let page = crate::store::PageOf::from_rows(rows, page.limit);
    Ok(HttpResponse::Ok().json(ListResponse::from_page(
        page,
        |m| ModelView::from(m),
        |m| m.version.to_string(),
    )))
}

/// `GET /v1/value/model/versions/{version}`.
pub(crate) async fn version(
    state: web::Data<AppState>,
    caller: Caller,
    version: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let n: i32 = version
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Error::NotFound(format!("no value model version {version}")))?;
    let tenant = caller.tenant;
    let m = state
        .read(move |conn| crate::store::value::get(conn, tenant, n))
        .await?;
    Ok(HttpResponse::Ok().json(ModelView::from(&m)))
}

/// The statistics a customer's figures come from.
#[derive(Serialize, Clone)]
pub(crate) struct StatisticsView {
    frequency: u32,
    recency: f64,
    #[serde(rename = "T")]
    t: f64,
    monetary_value: Money,
    first_purchase_on: String,
    last_purchase_on: String,
}

/// A customer's figures.
#[derive(Serialize)]
pub(crate) struct CustomerValueView {
    customer_id: CustomerId,
    as_of: String,
    currency: &'static str,
    model_version: i32,
    time_unit: TimeUnit,
    statistics: StatisticsView,
    probability_alive: f64,
    expected_purchases: f64,
    horizon_months: u32,
    monthly_discount_rate: f64,
    expected_average_value: Money,
    lifetime_value: Money,
    goodwill_given: Money,
    net_goodwill_cost: Money,
    goodwill_ceiling: Option<CeilingView>,
}

/// Query of `GET /v1/customers/{id}/value`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValueQuery {
    as_of: Option<String>,
    currency: Option<String>,
    horizon_months: Option<String>,
    monthly_discount_rate: Option<String>,
}

/// An estimate in major units as Money (half to even).
pub(crate) fn estimate_money(major: f64, currency: Currency) -> Money {
    Money::from_minor(crate::store::value::to_minor(major, currency), currency)
}

/// Turns "no figures" into its answer: 422 `not_enough_history` without a
/// purchase, 409 `no_value_model` before a fit, 409 `model_unusable` when no
/// fit was usable (with the reason), 422 `not_valuable` when the
/// model cannot value the customer.
pub(crate) fn no_estimate(customer: CustomerId, as_of: NaiveDate, e: &Estimate) -> AppError {
    match e {
        Estimate::NoModel(c) => Error::Conflict {
            code: ErrorCode::NoValueModel,
            detail: format!(
                "no value model has been fitted on {} sales yet (POST /v1/value/model/fit)",
                c.code()
            ),
            existing_id: None,
        }.into(),
        Estimate::ModelUnusable(c, why) => Error::Conflict {
            code: ErrorCode::ModelUnusable,
            detail: format!(
                "the {} value model's newest fit is not usable and no earlier one is: {why}",
                c.code()
            ),
            existing_id: None,
        }.into(),
        Estimate::Unvaluable(why) => Error::Unprocessable {
            code: ErrorCode::NotValuable,
            detail: why.clone(),
            errors: Vec::new(),
        }.into(),
        _ => Error::Unprocessable {
            code: ErrorCode::NotEnoughHistory,
            detail: format!(
                "customer {customer} has no purchase by {as_of}: there is no history to estimate a value from"
            ),
            errors: Vec::new(),
        }
        .into(),
    }
}

/// `GET /v1/customers/{id}/value[?as_of=&currency=&horizon_months=&monthly_discount_rate=]`.
pub(crate) async fn customer_value(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<CustomerId>,
    query: QueryParams<ValueQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let now = state.clock.now();
    let mut p = Problems::default();
    let as_of = query_date("as_of", q.as_of.as_deref(), &mut p).unwrap_or(now.date());
    let currency = q
        .currency
        .as_deref()
        .and_then(|c| p.take(Currency::parse("currency", c)));
    let mut horizon = Horizon::default();
    if let Some(h) = q.horizon_months.as_deref() {
        match h.parse::<u32>() {
            Ok(n) if (1..=120).contains(&n) => horizon.months = n,
            _ => p.push("horizon_months", "must be an integer from 1 to 120"),
        }
    }
    if let Some(d) = q.monthly_discount_rate.as_deref() {
        match d.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) && !d.contains(['e', 'E']) => {
                horizon.monthly_discount_rate = r
            }
            _ => p.push(
                "monthly_discount_rate",
                "must be a plain decimal from 0 to 1 (0.01 for 1 % a month)",
            ),
        }
    }
    p.finish().map_err(Error::Validation)?;
    let (tenant, customer) = (caller.tenant, id.into_inner());
    let view = state
        .read(move |conn| {
            crate::store::customers::get(conn, tenant, customer)?;
            let e =
                crate::store::value::estimate(conn, tenant, customer, currency, as_of, horizon)?;
            let Estimate::Valued {
                model,
                statistics: s,
                valuation: v,
            } = &e
            else {
                return Err(no_estimate(customer, as_of, &e));
            };
            let c = model.currency;
            let ltv = estimate_money(v.lifetime_value, c);
            let (given, net_cost) = goodwill_to_date(conn, tenant, customer, c)?;
            let ceiling = crate::store::value::ceiling(
                conn,
                tenant,
                customer,
                c,
                crate::store::value::to_minor(v.lifetime_value, c),
                now,
            )?;
            Ok(CustomerValueView {
                customer_id: customer,
                as_of: as_of.to_string(),
                currency: c.code(),
                model_version: model.version,
                time_unit: model.unit,
                statistics: StatisticsView {
                    frequency: s.frequency,
                    recency: s.recency,
                    t: s.t,
                    monetary_value: estimate_money(s.monetary_value, c),
                    first_purchase_on: s.first_purchase_on.to_string(),
                    last_purchase_on: s.last_purchase_on.to_string(),
                },
                probability_alive: v.probability_alive,
                expected_purchases: v.expected_purchases,
                horizon_months: horizon.months,
                monthly_discount_rate: horizon.monthly_discount_rate,
                expected_average_value: estimate_money(v.expected_average_value, c),
                lifetime_value: ltv,
                goodwill_given: Money::from_minor(given, c),
                net_goodwill_cost: Money::from_minor(net_cost, c),
                goodwill_ceiling: ceiling.as_ref().map(|x| CeilingView::of(x, c)),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Before any gesture.
const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");

/// Goodwill granted to the customer to date in `currency` (waivers, free
/// services at retail value, service recoveries, store credit), and its net
/// cost from the ledger: goodwill expense and write-offs, less bad-debt
/// recoveries and credit breakage.
fn goodwill_to_date(
    conn: &mut crate::store::DbConnection,
    tenant: crate::domain::ids::TenantId,
    customer: CustomerId,
    currency: Currency,
) -> Result<(i64, i64), AppError> {
    let given = crate::store::gestures::granted_since(conn, tenant, customer, EPOCH)?
        .into_iter()
        .filter(|(c, _)| *c == currency)
        .map(|(_, n)| n)
        .sum();
    let net: i64 = crate::store::ledger::customer_totals(conn, tenant, customer)?
        .into_iter()
        .filter(|(_, c, _, _)| c == currency.code())
        .map(|(account, _, d, c)| {
            if account.starts_with("goodwill_expense:") || account == "writeoff_expense" {
                d - c
            } else if account == "bad_debt_recovery_income" || account == "breakage_income" {
                -(c - d)
            } else {
                0
            }
        })
        .sum();
    Ok((given, net))
}
