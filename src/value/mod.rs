//! Customer value: buy-till-you-die models fitted on a tenant's sales.
//!
//! - [`bgnbd`]: BG/NBD for how often a customer buys and whether they are
//!   still a customer;
//! - [`gamma_gamma`]: Gamma-Gamma for what a purchase is worth;
//! - [`Statistics`]: the per-customer summary both are fitted on, in the
//!   standard convention;
//! - [`valuation`]: a customer's figures, lifetime value included.
//!
//! Pure numerics: no SQL, no HTTP. The store computes statistics, this module
//! turns them into parameters and figures.

pub mod bgnbd;
pub mod gamma_gamma;
pub(crate) mod model;
pub(crate) mod optimize;
pub mod simulate;
pub(crate) mod special;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Fewer customers than this cannot support four parameters.
pub(crate) const MIN_CUSTOMERS: f64 = 10.0;

/// Weeks in a month, the convention the lifetime value sums over.
pub(crate) const WEEKS_PER_MONTH: f64 = 4.345;

/// Why a model could not be fitted.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FitError {
    /// Too few customers.
    #[error("{0} customers with purchases is too few to fit the model (at least 10 are needed)")]
    TooFewCustomers(f64),
    /// Nobody bought twice.
    #[error(
        "no customer has a repeat purchase, so neither repeat buying nor its value can be estimated"
    )]
    NoRepeatBuyers,
    /// Every customer's history is zero-length.
    #[error("every customer's history starts on the as-of date")]
    NoHistory,
    /// The optimiser left the parameter space.
    #[error("the fit diverged (a parameter went to zero or infinity)")]
    Diverged,
}

/// The unit T and recency are counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// Days / 7 (the default).
    #[default]
    Weeks,
    /// Days.
    Days,
}

impl TimeUnit {
    /// Days in one unit.
    pub(crate) fn days(self) -> f64 {
        match self {
            Self::Weeks => 7.0,
            Self::Days => 1.0,
        }
    }

    /// One month (4.345 weeks) in this unit.
    pub(crate) fn month(self) -> f64 {
        WEEKS_PER_MONTH * 7.0 / self.days()
    }

    /// Parses the API's spelling.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "weeks" => Some(Self::Weeks),
            "days" => Some(Self::Days),
            _ => None,
        }
    }

    /// The API's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Weeks => "weeks",
            Self::Days => "days",
        }
    }
}

/// One customer's summary, the standard convention:
///
/// - purchases on one day, net of their refunds, are one transaction; a day
///   whose net is not above zero is no purchase;
/// - the first purchase day starts the history;
/// - `frequency`: days with a purchase after the first;
/// - `recency`: from the first to the last purchase day;
/// - `t`: from the first purchase day to the as-of date (its sales included);
/// - `monetary_value`: the mean net value of the repeat purchase days (0 with
///   none), in major units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Statistics {
    /// Repeat purchase days.
    pub frequency: u32,
    /// First to last purchase day, in the unit.
    pub recency: f64,
    /// First purchase day to as-of, in the unit.
    pub t: f64,
    /// Mean repeat purchase value (major units).
    pub monetary_value: f64,
    /// The first purchase day.
    pub first_purchase_on: NaiveDate,
    /// The last purchase day.
    pub last_purchase_on: NaiveDate,
}

impl Statistics {
    /// From a customer's net purchase totals per day (any order; days after
    /// `as_of` and days whose net is not above zero are left out). `None`
    /// without a purchase.
    pub(crate) fn from_days(
        days: impl IntoIterator<Item = (NaiveDate, i64)>,
        as_of: NaiveDate,
        unit: TimeUnit,
        minor_unit: u32,
    ) -> Option<Self> {
        let mut days: Vec<(NaiveDate, i64)> =
            days.into_iter().filter(|(d, _)| *d <= as_of).collect();
        days.sort_unstable_by_key(|(d, _)| *d);
        // In 128 bits: a customer's purchases of a day can exceed 64.
        let mut merged: Vec<(NaiveDate, i128)> = Vec::with_capacity(days.len());
        for (d, net) in days {
            match merged.last_mut() {
                Some((last, total)) if *last == d => *total += i128::from(net),
                _ => merged.push((d, i128::from(net))),
            }
        }
        merged.retain(|(_, net)| *net > 0);
        let (first, _) = *merged.first()?;
        let (last, _) = *merged.last()?;
        Some(Self::from_summary(
            u32::try_from(merged.len() - 1).unwrap_or(u32::MAX),
            first,
            last,
            merged.iter().skip(1).map(|(_, n)| *n as f64).sum(),
            as_of,
            unit,
            minor_unit,
        ))
    }

    /// From what SQL aggregates give: repeat days, first and last purchase
    /// day, and the net total of the repeat days in minor units.
    pub(crate) fn from_summary(
        frequency: u32,
        first: NaiveDate,
        last: NaiveDate,
        repeat_total_minor: f64,
        as_of: NaiveDate,
        unit: TimeUnit,
        minor_unit: u32,
    ) -> Self {
        let days = |a: NaiveDate, b: NaiveDate| (b - a).num_days() as f64 / unit.days();
        let scale = 10f64.powi(i32::try_from(minor_unit).unwrap_or(0));
        Self {
            frequency,
            recency: days(first, last),
            t: days(first, as_of),
            monetary_value: if frequency > 0 {
                repeat_total_minor / scale / f64::from(frequency)
            } else {
                0.0
            },
            first_purchase_on: first,
            last_purchase_on: last,
        }
    }
}

/// The fitted pair of models.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Models {
    /// Repeat purchases and being alive.
    pub bgnbd: bgnbd::Params,
    /// Value of a purchase.
    pub gamma_gamma: gamma_gamma::Params,
    /// The unit `alpha` and the statistics are in.
    pub unit: TimeUnit,
}

/// A customer's figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Valuation {
    /// P(still a customer at as-of).
    pub probability_alive: f64,
    /// Expected purchases over the horizon.
    pub expected_purchases: f64,
    /// Expected value of a purchase (major units).
    pub expected_average_value: f64,
    /// Discounted expected value over the horizon (major units).
    pub lifetime_value: f64,
}

/// Why a customer's figures cannot be given.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// q ≤ 1: the expected purchase value is infinite.
    #[error("the value model's q is at most 1, so the expected purchase value is unbounded")]
    UnboundedValue,
    /// The series did not converge (pathological parameters).
    #[error("the expected number of purchases could not be computed for these statistics")]
    NoConvergence,
}

/// A customer's figures over `horizon_months`, discounted at
/// `monthly_discount` per month:
/// `Σₖ₌₁..H E[value] · (E[purchases to k months] − E[purchases to k−1 months]) / (1 + d)ᵏ`.
pub fn valuation(
    m: &Models,
    s: &Statistics,
    horizon_months: u32,
    monthly_discount: f64,
) -> Result<Valuation, ValueError> {
    let (x, tx, t) = (f64::from(s.frequency), s.recency, s.t);
    let eav = m
        .gamma_gamma
        .expected_average_value(x, s.monetary_value)
        .ok_or(ValueError::UnboundedValue)?;
    let month = m.unit.month();
    let mut previous = 0.0;
    let mut ltv = 0.0;
    let mut discount = 1.0;
    for k in 1..=horizon_months {
        let cumulative = m
            .bgnbd
            .expected_purchases(month * f64::from(k), x, tx, t)
            .ok_or(ValueError::NoConvergence)?;
        discount /= 1.0 + monthly_discount;
        ltv += eav * (cumulative - previous) * discount;
        previous = cumulative;
    }
    Ok(Valuation {
        probability_alive: m.bgnbd.probability_alive(x, tx, t),
        expected_purchases: previous,
        expected_average_value: eav,
        lifetime_value: ltv,
    })
}

/// Both models fitted on the same customers.
#[derive(Clone, Debug)]
pub struct Fitted {
    /// Repeat purchases.
    pub bgnbd: bgnbd::Fit,
    /// Purchase value.
    pub gamma_gamma: gamma_gamma::Fit,
    /// Customers.
    pub customers: usize,
    /// Milliseconds each fit took (grouping the statistics included).
    pub fit_ms: [f64; 2],
}

/// Fits both models on `(frequency, recency, T, monetary value)` rows.
pub fn fit_both(rows: &[(u32, f64, f64, f64)], penalizer: f64) -> Result<Fitted, FitError> {
    let started = std::time::Instant::now();
    let bg = bgnbd::fit(
        &bgnbd::Data::new(rows.iter().map(|r| (r.0, r.1, r.2))),
        penalizer,
    )?;
    let bg_ms = started.elapsed().as_secs_f64() * 1e3;
    let gg = gamma_gamma::fit(
        &gamma_gamma::Data::new(rows.iter().map(|r| (r.0, r.3))),
        penalizer,
    )?;
    Ok(Fitted {
        bgnbd: bg,
        gamma_gamma: gg,
        customers: rows.len(),
        fit_ms: [bg_ms, started.elapsed().as_secs_f64() * 1e3 - bg_ms],
    })
}

/// Sums `f` over `0..n` split across the machine's cores when `n` is large
/// (in a fixed split, so a result never depends on timing).
pub(crate) fn parallel_sum<const K: usize, F>(n: usize, f: F) -> (f64, [f64; K])
where
    F: Fn(std::ops::Range<usize>) -> (f64, [f64; K]) + Sync,
{
    let threads = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .min(16);
    if threads < 2 || n < 50_000 {
        return f(0..n);
    }
    let chunk = n.div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let f = &f;
                scope.spawn(move || f(i * chunk..((i + 1) * chunk).min(n)))
            })
            .collect();
        let mut total = (0.0, [0.0; K]);
        for h in handles {
            let (v, g) = h.join().unwrap_or((f64::NAN, [f64::NAN; K]));
            total.0 += v;
            (0..K).for_each(|k| total.1[k] += g[k]);
        }
        total
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn months_are_4_345_weeks_in_either_unit() {
        assert!((TimeUnit::Weeks.month() - 4.345).abs() < 1e-12);
        assert!((TimeUnit::Days.month() - 30.415).abs() < 1e-12);
    }

    #[test]
    fn valuation_discounts_monthly_increments() {
        let m = Models {
            bgnbd: bgnbd::Params {
                r: 0.24,
                alpha: 4.41,
                a: 0.79,
                b: 2.43,
            },
            gamma_gamma: gamma_gamma::Params {
                p: 6.25,
                q: 3.74,
                gamma: 15.45,
            },
            unit: TimeUnit::Weeks,
        };
        let s = Statistics::from_days(
            [
                (day("2026-01-05"), 2000),
                (day("2026-03-01"), 3000),
                (day("2026-06-01"), 5000),
            ],
            day("2026-09-01"),
            TimeUnit::Weeks,
            2,
        )
        .unwrap();
        let v = valuation(&m, &s, 12, 0.01).unwrap();
        // Undiscounted, the value is E[value] × E[purchases]; discounting
        // takes a little off.
        let undiscounted = v.expected_average_value * v.expected_purchases;
        assert!(v.lifetime_value < undiscounted && v.lifetime_value > undiscounted * 0.9);
        let none = valuation(&m, &s, 12, 0.0).unwrap();
        assert!((none.lifetime_value - undiscounted).abs() < 1e-9 * undiscounted);
        assert!(v.probability_alive > 0.0 && v.probability_alive < 1.0);
    }
}

#[cfg(test)]
mod recovery {
    //! Populations drawn from known parameters are fitted back.
    use super::*;

    fn recover(bg: bgnbd::Params, gg: gamma_gamma::Params, seed: u64) {
        let n = 60_000;
        let people = simulate::population(&bg, &gg, n, (26.0, 104.0), seed);
        let data = bgnbd::Data::new(people.iter().map(|c| (c.frequency, c.recency, c.t)));
        let fit = bgnbd::fit(&data, 0.0).unwrap();
        assert!(fit.converged, "{fit:?}");
        let got = fit.params;
        // Tolerances: the sampling error of 60,000 customers; r and α move
        // together (their ratio, the mean rate, is sharper), as do a and b.
        let rel = |g: f64, w: f64| (g - w).abs() / w;
        assert!(rel(got.r, bg.r) < 0.06, "r {got:?} vs {bg:?}");
        assert!(rel(got.alpha, bg.alpha) < 0.08, "alpha {got:?} vs {bg:?}");
        assert!(
            rel(got.r / got.alpha, bg.r / bg.alpha) < 0.03,
            "rate {got:?} vs {bg:?}"
        );
        assert!(rel(got.a, bg.a) < 0.15, "a {got:?} vs {bg:?}");
        assert!(rel(got.b, bg.b) < 0.2, "b {got:?} vs {bg:?}");
        assert!(
            rel(got.a / (got.a + got.b), bg.a / (bg.a + bg.b)) < 0.05,
            "dropout {got:?}"
        );

        let data = gamma_gamma::Data::new(people.iter().map(|c| (c.frequency, c.monetary_value)));
        let fit = gamma_gamma::fit(&data, 0.0).unwrap();
        assert!(fit.converged, "{fit:?}");
        let got = fit.params;
        assert!(rel(got.p, gg.p) < 0.08, "p {got:?} vs {gg:?}");
        assert!(rel(got.q, gg.q) < 0.1, "q {got:?} vs {gg:?}");
        assert!(rel(got.gamma, gg.gamma) < 0.15, "gamma {got:?} vs {gg:?}");
        // The population mean purchase value pγ/(q−1) is sharper still.
        let mean = |p: &gamma_gamma::Params| p.p * p.gamma / (p.q - 1.0);
        assert!(rel(mean(&got), mean(&gg)) < 0.03, "mean {got:?} vs {gg:?}");
    }

    #[test]
    fn cdnow_like_parameters_are_recovered() {
        recover(
            bgnbd::Params {
                r: 0.25,
                alpha: 4.4,
                a: 0.8,
                b: 2.4,
            },
            gamma_gamma::Params {
                p: 6.25,
                q: 3.74,
                gamma: 15.45,
            },
            11,
        );
    }

    #[test]
    fn frequent_loyal_buyers_are_recovered() {
        recover(
            bgnbd::Params {
                r: 1.5,
                alpha: 6.0,
                a: 0.5,
                b: 6.0,
            },
            gamma_gamma::Params {
                p: 3.0,
                q: 8.0,
                gamma: 120.0,
            },
            22,
        );
    }

    #[test]
    fn rare_fickle_buyers_are_recovered() {
        recover(
            bgnbd::Params {
                r: 0.8,
                alpha: 20.0,
                a: 1.8,
                b: 3.0,
            },
            gamma_gamma::Params {
                p: 10.0,
                q: 2.5,
                gamma: 4.0,
            },
            33,
        );
    }
}
