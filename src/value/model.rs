//! A fitted version of a tenant's value model, and what it says of a customer:
//! plain data, no SQL (the store keeps and reads the versions).

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::{Models, Statistics, TimeUnit, Valuation, bgnbd, gamma_gamma};
use crate::domain::ids::ValueModelId;
use crate::domain::money::Currency;

/// How the BG/NBD part of a version was fitted.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct BgNbdFit {
    /// Parameters.
    #[serde(flatten)]
    pub params: bgnbd::Params,
    /// Total log-likelihood at the parameters.
    pub log_likelihood: f64,
    /// Optimiser iterations.
    pub iterations: usize,
    /// Whether the optimiser converged.
    pub converged: bool,
}

/// How the Gamma-Gamma part of a version was fitted.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct GammaGammaFit {
    /// Parameters.
    #[serde(flatten)]
    pub params: gamma_gamma::Params,
    /// Total log-likelihood at the parameters.
    pub log_likelihood: f64,
    /// Optimiser iterations.
    pub iterations: usize,
    /// Whether the optimiser converged.
    pub converged: bool,
    /// Repeat buyers it was fitted on.
    pub customers: usize,
    /// The L2 penalty on its parameters (none by default; versions fitted
    /// before the two were told apart used the version's `penalizer` for
    /// both, and read so).
    #[serde(default)]
    pub penalizer: Option<f64>,
    /// Whether the penalty weighed γ over the mean repeat value (a fit that
    /// named no penalty) rather than γ in money.
    #[serde(default)]
    pub penalizer_unit_free: bool,
}

/// One fitted version of a tenant's model for one currency.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ModelVersion {
    /// Its id.
    pub id: ValueModelId,
    /// 1, 2, ... per tenant.
    pub version: i32,
    /// The currency of the sales it was fitted on.
    pub currency: Currency,
    /// The date the statistics end.
    pub as_of: NaiveDate,
    /// The unit of T, recency and alpha.
    pub unit: TimeUnit,
    /// The L2 penalty used.
    pub penalizer: f64,
    /// Customers with a purchase by `as_of`.
    pub customers: i64,
    /// Repeat purchases.
    pub bgnbd: BgNbdFit,
    /// Purchase value.
    pub gamma_gamma: GammaGammaFit,
    /// Who fitted it.
    pub fitted_by: String,
    /// When.
    pub fitted_at: NaiveDateTime,
    /// How long the fit took (statistics read from the database included).
    pub duration_ms: i64,
    /// Why the version must not be used, if it must not (see
    /// [`super::Fitted::unusable_reason`]); such a version never becomes the
    /// current model.
    pub unusable_reason: Option<String>,
}

impl ModelVersion {
    /// The pair of models.
    pub(crate) fn models(&self) -> Models {
        Models {
            bgnbd: self.bgnbd.params,
            gamma_gamma: self.gamma_gamma.params,
            unit: self.unit,
        }
    }
}

/// A customer's figures, or why there are none.
#[derive(Clone, Debug)]
pub(crate) enum Estimate {
    /// The figures.
    Valued {
        /// The version used.
        model: Box<ModelVersion>,
        /// The customer's statistics.
        statistics: Statistics,
        /// The figures.
        valuation: Valuation,
    },
    /// No purchase by the date.
    NoSales,
    /// Purchases, but no model for their currency yet.
    NoModel(Currency),
    /// The model cannot value this customer (q ≤ 1, no convergence).
    Unvaluable(String),
    /// No usable model for their currency: the newest fit was not usable
    /// (the currency and the reason).
    ModelUnusable(Currency, String),
}

/// Horizon and discounting of a lifetime value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Horizon {
    /// Months summed.
    pub months: u32,
    /// Discount rate per month.
    pub monthly_discount_rate: f64,
}

impl Default for Horizon {
    fn default() -> Self {
        Self {
            months: 12,
            monthly_discount_rate: 0.01,
        }
    }
}
