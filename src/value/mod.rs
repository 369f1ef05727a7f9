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

/// Fewer customers with a repeat purchase than this cannot support the
/// Gamma-Gamma model's three parameters, nor tell BG/NBD's rate from its
/// dropout.
pub(crate) const MIN_REPEAT_BUYERS: f64 = 5.0;

/// The penalty when none is asked for: the smallest `lifetimes` recommends.
/// On few customers the unpenalised likelihood is often highest with r and α
/// running off together (the Poisson limit), or Gamma-Gamma's q and γ (no
/// spread between customers' spending); this keeps them finite without
/// moving a fit on plenty of data noticeably. On Gamma-Gamma it weighs γ over
/// the mean repeat value, so that it means the same in every currency.
pub(crate) const DEFAULT_PENALIZER: f64 = 0.001;

/// A fitted parameter, in its scaled unit (BG/NBD time with the longest
/// observation 1, Gamma-Gamma's γ over the mean repeat value), beyond this
/// factor of 1 either way ran off to a bound: the data do not determine it.
pub(crate) const RUNAWAY: f64 = 1e6;

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
    /// Too few bought twice.
    #[error(
        "{0} customers with a repeat purchase is too few to fit the model (at least 5 are needed)"
    )]
    TooFewRepeatBuyers(f64),
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

/// The L2 penalties of a fit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Penalties {
    /// On BG/NBD's parameters (time scaled).
    pub bgnbd: f64,
    /// On Gamma-Gamma's.
    pub gamma_gamma: f64,
    /// Whether Gamma-Gamma's penalty weighs γ over the mean repeat value
    /// (the default's) rather than γ in money (`lifetimes`' convention).
    pub unit_free: bool,
}

impl Penalties {
    /// One penalty on both models (the `lifetimes` convention, when a fit
    /// names one).
    pub fn both(p: f64) -> Self {
        Self {
            bgnbd: p,
            gamma_gamma: p,
            unit_free: false,
        }
    }

    /// The penalties given, or the defaults: [`DEFAULT_PENALIZER`] on both,
    /// Gamma-Gamma's unit-free.
    pub fn given_or_default(p: Option<f64>) -> Self {
        p.map_or(
            Self {
                bgnbd: DEFAULT_PENALIZER,
                gamma_gamma: DEFAULT_PENALIZER,
                unit_free: true,
            },
            Self::both,
        )
    }
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
    /// The penalties used.
    pub penalties: Penalties,
}

impl Fitted {
    /// Why the fit must not be used, if it must not: an optimiser that did
    /// not converge, or a parameter that ran off towards zero or infinity
    /// (beyond [`RUNAWAY`] in its scaled unit). Such a fit can still have a
    /// high likelihood, but the figures it gives (every customer alike, or
    /// P(alive) 1 with no purchases to come) are an artefact of the bound,
    /// not of the customers.
    pub fn unusable_reason(&self) -> Option<String> {
        let mut why = Vec::new();
        if !self.bgnbd.converged {
            why.push("the repeat-purchase model (BG/NBD) did not converge".to_owned());
        }
        if !self.gamma_gamma.converged {
            why.push("the purchase-value model (Gamma-Gamma) did not converge".to_owned());
        }
        let b = self.bgnbd.params;
        let g = self.gamma_gamma.params;
        let scaled = [
            ("BG/NBD r", b.r, b.r),
            ("BG/NBD alpha", b.alpha, b.alpha * self.bgnbd.time_scale),
            ("BG/NBD a", b.a, b.a),
            ("BG/NBD b", b.b, b.b),
            ("Gamma-Gamma p", g.p, g.p),
            ("Gamma-Gamma q", g.q, g.q),
            (
                "Gamma-Gamma gamma",
                g.gamma,
                g.gamma / self.gamma_gamma.value_scale,
            ),
        ];
        for (name, value, unit_free) in scaled {
            if !(unit_free.is_finite() && unit_free > 0.0) {
                why.push(format!("{name} is {value:e}, not a positive number"));
            } else if unit_free > RUNAWAY {
                why.push(format!("{name} ran off towards infinity ({value:.3e})"));
            } else if unit_free < 1.0 / RUNAWAY {
                why.push(format!("{name} ran off towards zero ({value:.3e})"));
            }
        }
        if why.is_empty() {
            None
        } else {
            Some(format!(
                "{}: the sales do not determine the model (more customers with repeat purchases, or a penalizer, may)",
                why.join("; ")
            ))
        }
    }
}

/// Fits both models on `(frequency, recency, T, monetary value)` rows.
pub fn fit_both(rows: &[(u32, f64, f64, f64)], penalties: Penalties) -> Result<Fitted, FitError> {
    let started = std::time::Instant::now();
    let bg = bgnbd::fit(
        &bgnbd::Data::new(rows.iter().map(|r| (r.0, r.1, r.2))),
        penalties.bgnbd,
    )?;
    let bg_ms = started.elapsed().as_secs_f64() * 1e3;
    let gg = gamma_gamma::fit(
        &gamma_gamma::Data::new(rows.iter().map(|r| (r.0, r.3))),
        penalties.gamma_gamma,
        penalties.unit_free,
    )?;
    Ok(Fitted {
        bgnbd: bg,
        gamma_gamma: gg,
        customers: rows.len(),
        fit_ms: [bg_ms, started.elapsed().as_secs_f64() * 1e3 - bg_ms],
        penalties,
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

/// The first 60 customers of the CDNOW sample (Fader, Hardie & Lee), as
/// `lifetimes` ships them: (frequency, recency, T in weeks, monetary value).
#[cfg(test)]
pub(crate) fn cdnow_first_60() -> Vec<(u32, f64, f64, f64)> {
    include_str!("../../tests/fixtures/cdnow_first_60.csv")
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<f64> = l.split(',').map(|v| v.parse().unwrap()).collect();
            (f[0] as u32, f[1], f[2], f[3])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn population(rows: &[(u32, f64, f64, f64)]) -> Result<Fitted, FitError> {
        fit_both(rows, Penalties::given_or_default(None))
    }

    #[test]
    fn a_fit_that_runs_off_is_not_usable_and_says_why() {
        // CDNOW's first 60 customers: the likelihood rises as a and b run off
        // to zero together (lifetimes does not converge on them either, with
        // or without a penalty). The fit must say so, not be used.
        for penalties in [Penalties::both(0.0), Penalties::given_or_default(None)] {
            let f = fit_both(&cdnow_first_60(), penalties).unwrap();
            let why = f.unusable_reason().expect("a runaway fit is not usable");
            assert!(why.contains("BG/NBD a ran off towards zero"), "{why}");
            assert!(why.contains("BG/NBD b ran off towards zero"), "{why}");
            // The likelihood of discrete data is at most 1: never positive.
            assert!(f.bgnbd.log_likelihood < 0.0, "{}", f.bgnbd.log_likelihood);
        }
    }

    #[test]
    fn degenerate_data_never_give_a_usable_artefact() {
        // All one-time buyers, one customer, too few repeat buyers: refused.
        let once: Vec<_> = (0..40)
            .map(|i| (0, 0.0, 10.0 + f64::from(i), 0.0))
            .collect();
        assert_eq!(population(&once).unwrap_err(), FitError::NoRepeatBuyers);
        assert!(matches!(
            population(&[(3, 20.0, 30.0, 25.0)]).unwrap_err(),
            FitError::TooFewCustomers(_)
        ));
        let mut few = once.clone();
        few.extend([(2, 5.0, 30.0, 20.0); 4]);
        assert_eq!(
            population(&few).unwrap_err(),
            FitError::TooFewRepeatBuyers(4.0)
        );
        // Identical customers: no heterogeneity to estimate. Whatever the
        // optimiser does, a usable result has sane figures and an unusable
        // one says why.
        let same = [(3, 20.0, 30.0, 25.0); 30];
        match population(&same) {
            Err(e) => assert!(matches!(e, FitError::Diverged), "{e}"),
            Ok(f) => match f.unusable_reason() {
                Some(why) => assert!(!why.is_empty()),
                None => {
                    let m = Models {
                        bgnbd: f.bgnbd.params,
                        gamma_gamma: f.gamma_gamma.params,
                        unit: TimeUnit::Weeks,
                    };
                    let s = Statistics {
                        frequency: 3,
                        recency: 20.0,
                        t: 30.0,
                        monetary_value: 25.0,
                        first_purchase_on: NaiveDate::MIN,
                        last_purchase_on: NaiveDate::MIN,
                    };
                    let v = valuation(&m, &s, 12, 0.01).unwrap();
                    assert!(
                        v.lifetime_value.is_finite() && v.lifetime_value > 0.0,
                        "{v:?}"
                    );
                }
            },
        }
    }

    #[test]
    fn the_default_penalty_means_the_same_in_every_currency() {
        let rows = cdnow_first_60();
        let in_cents: Vec<_> = rows
            .iter()
            .map(|&(x, r, t, m)| (x, r, t, m * 100.0))
            .collect();
        let (a, b) = (population(&rows).unwrap(), population(&in_cents).unwrap());
        let (pa, pb) = (a.gamma_gamma.params, b.gamma_gamma.params);
        assert!((pa.p - pb.p).abs() < 1e-6 * pa.p, "{pa:?} {pb:?}");
        assert!((pa.q - pb.q).abs() < 1e-6 * pa.q, "{pa:?} {pb:?}");
        assert!(
            (pa.gamma * 100.0 - pb.gamma).abs() < 1e-6 * pb.gamma,
            "{pa:?} {pb:?}"
        );
        // lifetimes' convention (a named penalty on γ in money) does not.
        let (c, d) = (
            fit_both(&rows, Penalties::both(0.001)).unwrap(),
            fit_both(&in_cents, Penalties::both(0.001)).unwrap(),
        );
        assert!((c.gamma_gamma.params.q - d.gamma_gamma.params.q).abs() > 1e-3);
    }

    #[test]
    fn a_well_determined_fit_is_usable() {
        // Simulated customers from CDNOW's published parameters.
        let rows: Vec<_> = simulate::population(
            &bgnbd::Params {
                r: 0.243,
                alpha: 4.414,
                a: 0.793,
                b: 2.426,
            },
            &gamma_gamma::Params {
                p: 6.25,
                q: 3.74,
                gamma: 15.44,
            },
            2_000,
            (27.0, 39.0),
            7,
        )
        .into_iter()
        .map(|c| (c.frequency, c.recency, c.t, c.monetary_value))
        .collect();
        let f = population(&rows).unwrap();
        assert_eq!(f.unusable_reason(), None, "{:?}", f.bgnbd.params);
    }

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
        let fit = gamma_gamma::fit(&data, 0.0, false).unwrap();
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
