//! A value model version as the API answers it and the audit trail records it.

use crate::domain::money::{Currency, Money};
use crate::store::value::Ceiling;
use crate::value::TimeUnit;
use crate::value::model::{BgNbdFit, GammaGammaFit, ModelVersion};
use serde::Serialize;

use super::timestamp;
use crate::domain::ids::*;

/// A model version as the API shows it.
#[derive(Serialize)]
pub(crate) struct ModelView {
    pub(crate) id: ValueModelId,
    pub(crate) version: i32,
    pub(crate) currency: &'static str,
    pub(crate) as_of: String,
    pub(crate) time_unit: TimeUnit,
    pub(crate) penalizer: f64,
    pub(crate) customers: i64,
    pub(crate) bgnbd: BgNbdFit,
    pub(crate) gamma_gamma: GammaGammaFit,
    pub(crate) fitted_by: String,
    pub(crate) fitted_at: String,
    pub(crate) duration_ms: i64,
    /// Whether the version may be used: false when its fit did not
    /// converge or a parameter ran off (never the current model then).
    pub(crate) usable: bool,
    /// Why not, when not.
    pub(crate) unusable_reason: Option<String>,
}

impl From<&ModelVersion> for ModelView {
    fn from(m: &ModelVersion) -> Self {
        Self {
            id: m.id,
            version: m.version,
            currency: m.currency.code(),
            as_of: m.as_of.to_string(),
            time_unit: m.unit,
            penalizer: m.penalizer,
            customers: m.customers,
            bgnbd: m.bgnbd,
            gamma_gamma: m.gamma_gamma,
            fitted_by: m.fitted_by.clone(),
            fitted_at: timestamp(&m.fitted_at),
            duration_ms: m.duration_ms,
            usable: m.unusable_reason.is_none(),
            unusable_reason: m.unusable_reason.clone(),
        }
    }
}

/// The policy's goodwill ceiling for a customer.
#[derive(Serialize, Clone)]
pub(crate) struct CeilingView {
    pub(crate) budget: String,
    pub(crate) percent_of_lifetime_value: String,
    pub(crate) window_days: i64,
    pub(crate) ceiling: Money,
    pub(crate) used: Money,
    pub(crate) left: Money,
}

impl CeilingView {
    /// The view of a ceiling in `currency`.
    pub(crate) fn of(c: &Ceiling, currency: Currency) -> Self {
        let m = |n: i64| Money::from_minor(n, currency);
        Self {
            budget: c.budget.clone(),
            percent_of_lifetime_value: c.percent_of_lifetime_value.clone(),
            window_days: c.window_days,
            ceiling: m(c.ceiling_minor),
            used: m(c.used_minor),
            left: m((c.ceiling_minor - c.used_minor).max(0)),
        }
    }
}
