//! The customer value model: fitting a new version on the tenant's sales.
//!
//! A fit is three steps so that no transaction stays open while the optimiser
//! runs: [`fit_inputs`] reads the statistics in one snapshot, [`fit`] computes
//! (CPU only, outside any transaction), [`record_fit`] stores the version with
//! its audit event.

use chrono::NaiveDate;

use crate::app::Ctx;
use crate::audit::NewEvent;
use crate::domain::money::Currency;
use crate::domain::roles::Permission;
use crate::error::Error;
use crate::store::DbConnection;
use crate::store::value::FitRequest;
use crate::value::TimeUnit;
use crate::value::model::ModelVersion;
use crate::views::value::ModelView;

/// What to fit: the currency (`None`: the tenant's only one), the statistics'
/// end, their unit, the L2 penalty.
#[derive(Clone, Debug)]
pub(crate) struct FitSpec {
    /// Which currency's sales.
    pub currency: Option<Currency>,
    /// The statistics' end.
    pub as_of: NaiveDate,
    /// Weeks or days.
    pub unit: TimeUnit,
    /// L2 penalty on both models (0: none); `None`: the defaults
    /// ([`crate::value::Penalties::given_or_default`]).
    pub penalizer: Option<f64>,
}

/// The statistics a fit runs on.
pub(crate) struct FitInputs {
    /// The request, settled (its currency chosen).
    pub request: FitRequest,
    /// (frequency, recency, T, monetary value) per customer.
    pub rows: Vec<(u32, f64, f64, f64)>,
}

/// Reads the customers' statistics for a fit. Tenant-wide: a token confined
/// to some stores may not fit the tenant's model.
pub(crate) fn fit_inputs(
    conn: &mut DbConnection,
    ctx: &Ctx,
    spec: &FitSpec,
) -> Result<FitInputs, Error> {
    ctx.require(Permission::ValueFit)?;
    ctx.require_tenant_wide()?;
    let currency = crate::store::value::fit_currency(conn, ctx.tenant, spec.currency)?;
    let rows = crate::store::value::fit_rows(conn, ctx.tenant, currency, spec.as_of, spec.unit)?;
    Ok(FitInputs {
        request: FitRequest {
            currency,
            as_of: spec.as_of,
            unit: spec.unit,
            penalties: crate::value::Penalties::given_or_default(spec.penalizer),
            fitted_by: ctx.actor_sub.clone(),
            now: ctx.now,
        },
        rows,
    })
}

/// Fits both models (CPU only: call it outside any transaction).
pub(crate) fn fit(inputs: &FitInputs, started: std::time::Instant) -> Result<ModelVersion, Error> {
    crate::store::value::fit(&inputs.rows, &inputs.request, started)
}

/// Stores a fitted model as the tenant's next version (`value_model.fitted`).
pub(crate) fn record_fit(
    conn: &mut DbConnection,
    ctx: &Ctx,
    version: ModelVersion,
) -> Result<ModelVersion, Error> {
    ctx.require(Permission::ValueFit)?;
    ctx.require_tenant_wide()?;
    let v = crate::store::value::insert(conn, ctx.tenant, version)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created(
            "value_model.fitted",
            "value_model",
            v.id,
            &ModelView::from(&v),
        ),
    )?;
    Ok(v)
}
