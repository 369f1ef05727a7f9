//! Customer value model versions, and a customer's figures from them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{customers, stores, value_models};
use crate::domain::ids::{CustomerId, TenantId, ValueModelId};
use crate::domain::money::Currency;
use crate::error::{Error, ErrorCode};
use crate::value::{self, Statistics, TimeUnit};

use crate::value::model::{BgNbdFit, Estimate, GammaGammaFit, Horizon, ModelVersion};

type Row = (
    ValueModelId,
    i32,
    String,
    NaiveDate,
    String,
    String,
    i64,
    String,
    String,
    String,
    NaiveDateTime,
    i64,
    Option<String>,
);

macro_rules! columns {
    () => {
        (
            value_models::id,
            value_models::version,
            value_models::currency,
            value_models::as_of,
            value_models::time_unit,
            value_models::penalizer,
            value_models::customers,
            value_models::bgnbd,
            value_models::gamma_gamma,
            value_models::fitted_by,
            value_models::fitted_at,
            value_models::duration_ms,
            value_models::unusable_reason,
        )
    };
}

fn from_row(r: Row) -> Result<ModelVersion, Error> {
    let bad = |what: &str| Error::internal(format!("value model {} has a bad {what}", r.0));
    let penalizer: f64 = r.5.parse().map_err(|_| bad("penalizer"))?;
    let gamma_gamma: GammaGammaFit = serde_json::from_str(&r.8).map_err(|_| bad("gamma_gamma"))?;
    Ok(ModelVersion {
        id: r.0,
        version: r.1,
        currency: Currency::from_code(&r.2).ok_or_else(|| bad("currency"))?,
        as_of: r.3,
        unit: TimeUnit::parse(&r.4).ok_or_else(|| bad("time unit"))?,
        penalizer,
        customers: r.6,
        bgnbd: serde_json::from_str(&r.7).map_err(|_| bad("bgnbd"))?,
        gamma_gamma: GammaGammaFit {
            penalizer: Some(gamma_gamma.penalizer.unwrap_or(penalizer)),
            ..gamma_gamma
        },
        fitted_by: r.9,
        fitted_at: r.10,
        duration_ms: r.11,
        unusable_reason: r.12,
    })
}

/// Stores a fitted version under the next version number. Two fits racing
/// for a number: the loser's savepoint fails on the unique version and it
/// takes the next.
pub(crate) fn insert(
    conn: &mut DbConnection,
    tenant: TenantId,
    mut v: ModelVersion,
) -> Result<ModelVersion, Error> {
    for _ in 0..5 {
        let last: Option<i32> = value_models::table
            .filter(value_models::tenant_id.eq(tenant))
            .select(diesel::dsl::max(value_models::version))
            .first(conn)?;
        v.version = last.unwrap_or(0) + 1;
        let written = conn.transaction(|c| {
            diesel::insert_into(value_models::table)
                .values((
                    value_models::tenant_id.eq(tenant),
                    value_models::id.eq(v.id),
                    value_models::version.eq(v.version),
                    value_models::currency.eq(v.currency.code()),
                    value_models::as_of.eq(v.as_of),
                    value_models::time_unit.eq(v.unit.as_str()),
                    value_models::penalizer.eq(v.penalizer.to_string()),
                    value_models::customers.eq(v.customers),
                    value_models::bgnbd.eq(serde_json::to_string(&v.bgnbd).unwrap_or_default()),
                    value_models::gamma_gamma
                        .eq(serde_json::to_string(&v.gamma_gamma).unwrap_or_default()),
                    value_models::fitted_by.eq(&v.fitted_by),
                    value_models::fitted_at.eq(v.fitted_at),
                    value_models::duration_ms.eq(v.duration_ms),
                    value_models::usable.eq(v.unusable_reason.is_none()),
                    value_models::unusable_reason.eq(&v.unusable_reason),
                ))
                .execute(c)
        });
        match written {
            Ok(_) => return Ok(v),
            Err(e) if crate::error::is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflict {
        code: ErrorCode::InFlight,
        detail: "other fits kept taking the next version number; retry".into(),
        existing_id: None,
    })
}

/// The current model: the newest usable version, for `currency` when given.
pub(crate) fn current(
    conn: &mut DbConnection,
    tenant: TenantId,
    currency: Option<Currency>,
) -> Result<Option<ModelVersion>, Error> {
    let mut q = value_models::table
        .filter(
            value_models::tenant_id
                .eq(tenant)
                .and(value_models::usable.eq(true)),
        )
        .select(columns!())
        .order(value_models::version.desc())
        .into_boxed();
    if let Some(c) = currency {
        q = q.filter(value_models::currency.eq(c.code()));
    }
    q.first::<Row>(conn).optional()?.map(from_row).transpose()
}

/// Why there is no current model (for `currency` when given) although a
/// version was fitted: the newest version's number and reason, when it is
/// not usable.
pub(crate) fn unusable(
    conn: &mut DbConnection,
    tenant: TenantId,
    currency: Option<Currency>,
) -> Result<Option<(i32, String)>, Error> {
    let mut q = value_models::table
        .filter(value_models::tenant_id.eq(tenant))
        .select((value_models::version, value_models::unusable_reason))
        .order(value_models::version.desc())
        .into_boxed();
    if let Some(c) = currency {
        q = q.filter(value_models::currency.eq(c.code()));
    }
    Ok(q.first::<(i32, Option<String>)>(conn)
        .optional()?
        .and_then(|(v, why)| why.map(|w| (v, w))))
}

/// One version.
pub(crate) fn get(
    conn: &mut DbConnection,
    tenant: TenantId,
    version: i32,
) -> Result<ModelVersion, Error> {
    value_models::table
        .filter(
            value_models::tenant_id
                .eq(tenant)
                .and(value_models::version.eq(version)),
        )
        .select(columns!())
        .first::<Row>(conn)
        .optional()?
        .map(from_row)
        .transpose()?
        .ok_or_else(|| Error::NotFound(format!("no value model version {version}")))
}

/// Versions after `after`, oldest first, at most `limit + 1`.
pub(crate) fn list(
    conn: &mut DbConnection,
    tenant: TenantId,
    after: Option<i32>,
    limit: i64,
) -> Result<Vec<ModelVersion>, Error> {
    let rows: Vec<Row> = value_models::table
        .filter(
            value_models::tenant_id
                .eq(tenant)
                .and(value_models::version.gt(after.unwrap_or(0))),
        )
        .select(columns!())
        .order(value_models::version)
        .limit(limit + 1)
        .load(conn)?;
    rows.into_iter().map(from_row).collect()
}

/// The figures of several customers as of `as_of`, each in `currency` when
/// given, else in the currency of their purchases (their home store's when
/// they bought in several, else the one with the most purchase days).
pub(crate) fn estimates(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer_ids: &[CustomerId],
    currency: Option<Currency>,
    as_of: NaiveDate,
    horizon: Horizon,
) -> Result<Vec<Estimate>, Error> {
    let days = super::sales::day_totals(conn, tenant, customer_ids, as_of)?;
    let mut models: Vec<(Currency, Option<ModelVersion>)> = Vec::new();
    let mut out = Vec::with_capacity(customer_ids.len());
    for &customer in customer_ids {
        let mut mine: Vec<(&Currency, &Vec<(NaiveDate, i64)>)> = days
            .iter()
            .filter(|((c, _), _)| *c == customer)
            .map(|((_, cur), d)| (cur, d))
            .collect();
        let chosen = match currency {
            Some(c) => Some(c),
            None if mine.len() <= 1 => mine.first().map(|(c, _)| **c),
            None => {
                let home = home_currency(conn, tenant, customer)?;
                match home.filter(|h| mine.iter().any(|(c, _)| *c == h)) {
                    Some(h) => Some(h),
                    None => {
                        mine.sort_by_key(|(c, d)| (std::cmp::Reverse(d.len()), **c));
                        mine.first().map(|(c, _)| **c)
                    }
                }
            }
        };
        let Some(cur) = chosen else {
            out.push(Estimate::NoSales);
            continue;
        };
        let model = match models.iter().find(|(c, _)| *c == cur) {
            Some((_, m)) => m.clone(),
            None => {
                let m = current(conn, tenant, Some(cur))?;
                models.push((cur, m.clone()));
                m
            }
        };
        let rows = days.get(&(customer, cur)).cloned().unwrap_or_default();
        let Some(model) = model else {
            out.push(if !rows.iter().any(|(_, n)| *n > 0) {
                Estimate::NoSales
            } else if let Some((version, why)) = unusable(conn, tenant, Some(cur))? {
                Estimate::ModelUnusable(cur, format!("version {version}: {why}"))
            } else {
                Estimate::NoModel(cur)
            });
            continue;
        };
        let Some(stats) = Statistics::from_days(rows, as_of, model.unit, cur.minor_unit()) else {
            out.push(Estimate::NoSales);
            continue;
        };
        match value::valuation(
            &model.models(),
            &stats,
            horizon.months,
            horizon.monthly_discount_rate,
        ) {
            Ok(v) => out.push(Estimate::Valued {
                model: Box::new(model),
                statistics: stats,
                valuation: v,
            }),
            Err(e) => out.push(Estimate::Unvaluable(e.to_string())),
        }
    }
    Ok(out)
}

/// One customer's figures (see [`estimates`]).
pub(crate) fn estimate(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
    currency: Option<Currency>,
    as_of: NaiveDate,
    horizon: Horizon,
) -> Result<Estimate, Error> {
    Ok(
        estimates(conn, tenant, &[customer], currency, as_of, horizon)?
            .pop()
            .unwrap_or(Estimate::NoSales),
    )
}

/// The customer's lifetime value in `currency` (minor units, rounded half
/// to even) with the default horizon, when the model gives one.
pub(crate) fn lifetime_value_minor(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
    currency: Currency,
    as_of: NaiveDate,
) -> Result<Option<i64>, Error> {
    Ok(
        match estimate(
            conn,
            tenant,
            customer,
            Some(currency),
            as_of,
            Horizon::default(),
        )? {
            Estimate::Valued { valuation, .. } => {
                Some(to_minor(valuation.lifetime_value, currency))
            }
            _ => None,
        },
    )
}

/// An estimate in major units → minor units, rounded half to even (the
/// one place estimates become money).
pub(crate) fn to_minor(major: f64, currency: Currency) -> i64 {
    use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
    let Some(d) = rust_decimal::Decimal::from_f64(major) else {
        return 0;
    };
    let scaled = d * rust_decimal::Decimal::from(10i64.pow(currency.minor_unit()));
    scaled
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointNearestEven)
        .to_i64()
        .unwrap_or(0)
}

fn home_currency(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
) -> Result<Option<Currency>, Error> {
    let code: Option<String> = customers::table
        .inner_join(
            stores::table.on(stores::tenant_id
                .eq(customers::tenant_id)
                .and(customers::home_store_id.eq(stores::id.nullable()))),
        )
        .filter(
            customers::tenant_id
                .eq(tenant)
                .and(customers::id.eq(customer)),
        )
        .select(stores::currency)
        .first(conn)
        .optional()?;
    Ok(code.as_deref().and_then(Currency::from_code))
}

/// The currency a fit is for: the one given, else the only currency of the
/// tenant's sales (none, or several → 422).
pub(crate) fn fit_currency(
    conn: &mut DbConnection,
    tenant: TenantId,
    currency: Option<Currency>,
) -> Result<Currency, Error> {
    if let Some(c) = currency {
        return Ok(c);
    }
    let all = super::sales::currencies(conn, tenant)?;
    match all.as_slice() {
        [] => Err(not_enough("the tenant has no sales yet".into())),
        [one] => Ok(*one),
        many => Err(Error::Unprocessable {
            code: ErrorCode::CurrencyRequired,
            detail: format!(
                "the tenant's sales are in {}: name the currency to fit",
                many.iter().map(|c| c.code()).collect::<Vec<_>>().join(", ")
            ),
            errors: vec![crate::domain::FieldError::new(
                "currency",
                "is required when sales are in several currencies",
            )],
        }),
    }
}

fn not_enough(detail: String) -> Error {
    Error::Unprocessable {
        code: ErrorCode::NotEnoughHistory,
        detail,
        errors: Vec::new(),
    }
}

/// Every customer's statistics in `currency` as of `as_of`, as
/// `(frequency, recency, T, monetary value)` rows for the fit.
pub(crate) fn fit_rows(
    conn: &mut DbConnection,
    tenant: TenantId,
    currency: Currency,
    as_of: NaiveDate,
    unit: TimeUnit,
) -> Result<Vec<(u32, f64, f64, f64)>, Error> {
    Ok(super::sales::summaries(conn, tenant, currency, as_of)?
        .into_iter()
        .map(|r| {
            let s = Statistics::from_summary(
                u32::try_from(r.frequency).unwrap_or(0),
                r.first_day,
                r.last_day,
                r.repeat_total,
                as_of,
                unit,
                currency.minor_unit(),
            );
            (s.frequency, s.recency, s.t, s.monetary_value)
        })
        .collect())
}

/// What a fit is asked for.
#[derive(Clone, Debug)]
pub(crate) struct FitRequest {
    /// The currency.
    pub currency: Currency,
    /// The statistics' end.
    pub as_of: NaiveDate,
    /// Their unit.
    pub unit: TimeUnit,
    /// L2 penalties (0: none).
    pub penalties: value::Penalties,
    /// Who asks.
    pub fitted_by: String,
    /// When.
    pub now: NaiveDateTime,
}

/// Fits both models on `rows` (CPU only: call it outside any transaction).
/// Too few customers or no repeat buyer → 422 `not_enough_history`.
pub(crate) fn fit(
    rows: &[(u32, f64, f64, f64)],
    req: &FitRequest,
    started: std::time::Instant,
) -> Result<ModelVersion, Error> {
    let fitted = value::fit_both(rows, req.penalties).map_err(|e| {
        not_enough(format!(
            "cannot fit the {} model as of {}: {e}",
            req.currency.code(),
            req.as_of
        ))
    })?;
    Ok(ModelVersion {
        id: ValueModelId::new(),
        version: 0,
        currency: req.currency,
        as_of: req.as_of,
        unit: req.unit,
        penalizer: req.penalties.bgnbd,
        customers: i64::try_from(fitted.customers).unwrap_or(i64::MAX),
        bgnbd: BgNbdFit {
            params: fitted.bgnbd.params,
            log_likelihood: fitted.bgnbd.log_likelihood,
            iterations: fitted.bgnbd.iterations,
            converged: fitted.bgnbd.converged,
        },
        gamma_gamma: GammaGammaFit {
            params: fitted.gamma_gamma.params,
            log_likelihood: fitted.gamma_gamma.log_likelihood,
            iterations: fitted.gamma_gamma.iterations,
            converged: fitted.gamma_gamma.converged,
            customers: fitted.gamma_gamma.customers,
            penalizer: Some(req.penalties.gamma_gamma),
            penalizer_unit_free: req.penalties.unit_free,
        },
        fitted_by: req.fitted_by.clone(),
        fitted_at: req.now,
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        unusable_reason: fitted.unusable_reason(),
    })
}

/// The goodwill the current policy's value-aware budget allows a customer:
/// its percentage of their lifetime value, what was granted within its
/// window, and what is left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ceiling {
    /// The budget's name.
    pub budget: String,
    /// Its percentage.
    pub percent_of_lifetime_value: String,
    /// Its window.
    pub window_days: i64,
    /// The percentage of the lifetime value (minor units).
    pub ceiling_minor: i64,
    /// Granted (or pending) within the window (minor units).
    pub used_minor: i64,
}

/// The ceiling of the current policy's first value-aware budget, if it has
/// one.
pub(crate) fn ceiling(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
    currency: Currency,
    lifetime_value_minor: i64,
    now: NaiveDateTime,
) -> Result<Option<Ceiling>, Error> {
    let policy = super::policy::current(conn, tenant)?.policy;
    let Some((b, pct)) = policy
        .budgets
        .iter()
        .find_map(|b| b.percent().map(|p| (b, p)))
    else {
        return Ok(None);
    };
    let kinds = b.counted_kinds();
    let used = super::gestures::budget_used(
        conn,
        tenant,
        crate::domain::policy::BudgetScope::Customer,
        customer,
        "",
        crate::domain::ids::StoreId(uuid::Uuid::nil()),
        currency,
        &kinds,
        now - chrono::TimeDelta::days(b.window_days),
    )?;
    Ok(Some(Ceiling {
        budget: b.name.clone(),
        percent_of_lifetime_value: b.percent_of_lifetime_value.clone().unwrap_or_default(),
        window_days: b.window_days,
        ceiling_minor: crate::domain::policy::percent_of(lifetime_value_minor, pct),
        used_minor: used,
    }))
}
