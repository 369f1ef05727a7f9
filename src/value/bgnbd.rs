//! BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"):
//! purchases while alive follow a Poisson process with a gamma(r, α)
//! heterogeneous rate; after each purchase a customer drops out with a
//! beta(a, b) heterogeneous probability.
//!
//! The likelihood of one customer with `x` repeat purchases, the last at `tₓ`,
//! observed for `T` is
//!
//! ```text
//! L = B(a, b + x) / B(a, b) · Γ(r + x) αʳ / Γ(r)
//!     · [ (α + T)^-(r+x) + 1{x>0} · a / (b + x − 1) · (α + tₓ)^-(r+x) ]
//! ```
//!
//! summed in log space (the bracket by log-sum-exp; for x = 0 the second term is
//! exactly absent), with the analytic gradient.

use super::optimize::{self, Minimum};
use super::parallel_sum;
#[cfg(test)]
use super::special::hyp2f1;
use super::special::{digamma, hyp2f1_scaled, ln_gamma};

/// Fitted BG/NBD parameters, in the model's time unit.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Params {
    /// Shape of the purchase-rate gamma.
    pub r: f64,
    /// Scale of the purchase-rate gamma (a time).
    pub alpha: f64,
    /// Dropout beta's a.
    pub a: f64,
    /// Dropout beta's b.
    pub b: f64,
}

/// Customers grouped by identical statistics, ready for the likelihood.
///
/// Recency and T come from whole days, so few distinct values occur among
/// many customers: each group refers to its values in `txs` and `ts`, and the
/// likelihood takes their logarithms once per distinct value, not once per
/// customer.
#[derive(Clone, Debug, Default)]
pub struct Data {
    x: Vec<f64>,
    /// Index of each group's x in `xs`.
    xi: Vec<u32>,
    /// Index of each group's recency in `txs`.
    txi: Vec<u32>,
    /// Index of each group's T in `ts`.
    ti: Vec<u32>,
    w: Vec<f64>,
    /// Distinct x values.
    xs: Vec<u32>,
    /// Distinct recencies.
    txs: Vec<f64>,
    /// Distinct observation lengths.
    ts: Vec<f64>,
    /// Customers in all.
    total: f64,
}

/// The index of `v` among the distinct values seen so far, adding it if new.
fn intern(v: f64, values: &mut Vec<f64>, index: &mut std::collections::HashMap<u64, u32>) -> u32 {
    *index.entry(v.to_bits()).or_insert_with(|| {
        values.push(v);
        u32::try_from(values.len() - 1).unwrap_or(u32::MAX)
    })
}

impl Data {
    /// Groups `(frequency, recency, T)` rows; rows with identical statistics
    /// are counted once with a weight.
    pub fn new(rows: impl IntoIterator<Item = (u32, f64, f64)>) -> Self {
        let mut rows: Vec<(u32, f64, f64)> = rows.into_iter().collect();
        rows.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.total_cmp(&b.2))
        });
        let mut d = Self::default();
        let (mut tx_index, mut t_index) = (Default::default(), Default::default());
        let mut last: Option<(u32, f64, f64)> = None;
        for (x, tx, t) in rows {
            d.total += 1.0;
            if last == Some((x, tx, t))
                && let Some(w) = d.w.last_mut()
            {
                *w += 1.0;
                continue;
            }
            last = Some((x, tx, t));
            if d.xs.last() != Some(&x) {
                d.xs.push(x);
            }
            d.x.push(f64::from(x));
            d.xi.push(u32::try_from(d.xs.len() - 1).unwrap_or(u32::MAX));
            d.txi.push(intern(tx, &mut d.txs, &mut tx_index));
            d.ti.push(intern(t, &mut d.ts, &mut t_index));
            d.w.push(1.0);
        }
        d
    }

    /// Customers.
    pub(crate) fn customers(&self) -> f64 {
        self.total
    }

    /// Customers with at least one repeat purchase.
    pub(crate) fn repeat_buyers(&self) -> f64 {
        self.x
            .iter()
            .zip(&self.w)
            .filter(|(x, _)| **x > 0.0)
            .map(|(_, w)| w)
            .sum()
    }

    /// The longest observation.
    pub(crate) fn max_t(&self) -> f64 {
        self.ts.iter().copied().fold(0.0, f64::max)
    }

    fn scaled(&self, s: f64) -> Self {
        let mut d = self.clone();
        d.txs.iter_mut().for_each(|v| *v *= s);
        d.ts.iter_mut().for_each(|v| *v *= s);
        d
    }
}

/// `(ln(α + v), 1 / (α + v))` for each value.
fn ln_and_inverse(alpha: f64, values: &[f64]) -> Vec<(f64, f64)> {
    values
        .iter()
        .map(|v| ((alpha + v).ln(), 1.0 / (alpha + v)))
        .collect()
}

/// The total log-likelihood of `d` at `p`, and its gradient with respect to
/// (r, α, a, b) when `grad` is given.
pub fn log_likelihood(p: &Params, d: &Data, grad: Option<&mut [f64; 4]>) -> f64 {
    let Params { r, alpha, a, b } = *p;
    let want_grad = grad.is_some();
    // What depends on x only, once per distinct x.
    let (lg_r, lg_b, lg_ab) = (ln_gamma(r), ln_gamma(b), ln_gamma(a + b));
    let (dg_r, dg_b, dg_ab) = (digamma(r), digamma(b), digamma(a + b));
    let ln_alpha = alpha.ln();
    let ln_a = a.ln();
    let per_x: Vec<[f64; 5]> =
        d.xs.iter()
            .map(|&x| {
                let x = f64::from(x);
                let base = ln_gamma(r + x) - lg_r + r * ln_alpha + lg_ab + ln_gamma(b + x)
                    - lg_b
                    - ln_gamma(a + b + x);
                let (dr, dab, dbx) = if want_grad {
                    (
                        digamma(r + x) - dg_r,
                        dg_ab - digamma(a + b + x),
                        digamma(b + x) - dg_b,
                    )
                } else {
                    (0.0, 0.0, 0.0)
                };
                let ln_bx1 = if x > 0.0 { (b + x - 1.0).ln() } else { 0.0 };
                [base, dr, dab, dbx, ln_bx1]
            })
            .collect();
    // What depends on recency or T only, once per distinct value.
    let per_t = ln_and_inverse(alpha, &d.ts);
    let per_tx = ln_and_inverse(alpha, &d.txs);
    let (ll, g) = parallel_sum(d.w.len(), |range| {
        let mut ll = 0.0;
        let mut g = [0.0; 4];
        for i in range {
            let (x, w) = (d.x[i], d.w[i]);
            let [base, dr, dab, dbx, ln_bx1] = per_x[d.xi[i] as usize];
            let (ln_at, inv_at) = per_t[d.ti[i] as usize];
            let rx = r + x;
            let a3 = -rx * ln_at;
            let (bracket, w4, ln_atx, inv_atx) = if x > 0.0 {
                let (ln_atx, inv_atx) = per_tx[d.txi[i] as usize];
                let a4 = ln_a - ln_bx1 - rx * ln_atx;
                let (hi, lo) = if a3 > a4 { (a3, a4) } else { (a4, a3) };
                let e = (lo - hi).exp();
                let w4 = if a4 > a3 {
                    1.0 / (1.0 + e)
                } else {
                    e / (1.0 + e)
                };
                (hi + e.ln_1p(), w4, ln_atx, inv_atx)
            } else {
                (a3, 0.0, 0.0, 0.0)
            };
            ll += w * (base + bracket);
            if want_grad {
                let w3 = 1.0 - w4;
                g[0] += w * (dr + ln_alpha - w3 * ln_at - w4 * ln_atx);
                g[1] += w * (r / alpha - rx * (w3 * inv_at + w4 * inv_atx));
                g[2] += w * (dab + w4 / a);
                g[3] += w * (dab + dbx - if x > 0.0 { w4 / (b + x - 1.0) } else { 0.0 });
            }
        }
        (ll, g)
    });
    if let Some(out) = grad {
        *out = g;
    }
    ll
}

/// A fitted model with how the fit went.
#[derive(Clone, Debug)]
pub struct Fit {
    /// The parameters, in the data's time unit.
    pub params: Params,
    /// Total log-likelihood at `params` (in the data's unit, penalty excluded).
    pub log_likelihood: f64,
    /// Optimiser iterations.
    pub iterations: usize,
    /// Whether the gradient fell below the tolerance.
    pub converged: bool,
    /// Evaluations of the likelihood with its gradient.
    pub evaluations: usize,
}

/// Maximum likelihood, with an optional L2 penalty `penalizer · Σ θ²` on the
/// parameters (time scaled so the longest observation is 1, the convention
/// of the `lifetimes` package, so penalised fits compare), optimised over
/// their logarithms by BFGS.
pub(crate) fn fit(d: &Data, penalizer: f64) -> Result<Fit, super::FitError> {
    if d.customers() < super::MIN_CUSTOMERS {
        return Err(super::FitError::TooFewCustomers(d.customers()));
    }
    if d.repeat_buyers() < 1.0 {
        return Err(super::FitError::NoRepeatBuyers);
    }
    let max_t = d.max_t();
    if max_t <= 0.0 {
        return Err(super::FitError::NoHistory);
    }
    let scale = 1.0 / max_t;
    let scaled = d.scaled(scale);
    let n = d.customers();
    let objective = |theta: &[f64], grad: &mut [f64]| {
        let p = Params {
            r: theta[0].exp(),
            alpha: theta[1].exp(),
            a: theta[2].exp(),
            b: theta[3].exp(),
        };
        let mut g = [0.0; 4];
        let ll = log_likelihood(&p, &scaled, Some(&mut g));
        let values = [p.r, p.alpha, p.a, p.b];
        let mut f = -ll / n;
        for i in 0..4 {
            f += penalizer * values[i] * values[i];
            // d/dθ = d/dp · p
            grad[i] = (-g[i] / n + 2.0 * penalizer * values[i]) * values[i];
        }
        f
    };
    let Minimum {
        x,
        iterations,
        converged,
        evaluations,
        ..
    } = optimize::minimize(objective, &[0.0; 4], optimize::Settings::default());
    let params = Params {
        r: x[0].exp(),
        alpha: x[1].exp() / scale,
        a: x[2].exp(),
        b: x[3].exp(),
    };
    if ![params.r, params.alpha, params.a, params.b]
        .iter()
        .all(|v| v.is_finite() && *v > 0.0)
    {
        return Err(super::FitError::Diverged);
    }
    Ok(Fit {
        params,
        log_likelihood: log_likelihood(&params, d, None),
        iterations,
        converged,
        evaluations,
    })
}

impl Params {
    /// P(alive) of a customer with `x` repeat purchases, the last at `tx`,
    /// observed for `t`.
    pub(crate) fn probability_alive(&self, x: f64, tx: f64, t: f64) -> f64 {
        if x <= 0.0 {
            return 1.0;
        }
        let Params { r, alpha, a, b } = *self;
        let ln_ratio = (r + x) * ((alpha + t) / (alpha + tx)).ln() + (a / (b + x - 1.0)).ln();
        1.0 / (1.0 + ln_ratio.exp())
    }

    /// E[purchases in (T, T + horizon]] for that customer.
    ///
    /// The Gauss hypergeometric term ₂F₁(r+x, b+x; a+b+x−1; z) is summed
    /// directly or in its Euler-transformed form
    /// (1−z)^(a−1−r−x) ₂F₁(a+b−1−r, a−1; a+b+x−1; z), whichever series
    /// converges faster for these parameters.
    pub(crate) fn expected_purchases(&self, horizon: f64, x: f64, tx: f64, t: f64) -> Option<f64> {
        if horizon <= 0.0 {
            return Some(0.0);
        }
        let Params { r, alpha, a, b } = *self;
        let z = horizon / (alpha + t + horizon);
        let ln_1z = ((alpha + t) / (alpha + t + horizon)).ln();
        let c = a + b + x - 1.0;
        // Both forms are exact; the series whose first term ratio is smaller
        // needs fewer terms (the direct one when a and b are large, the
        // Euler one when x is).
        let second = if ((r + x) * (b + x) / c).abs() <= ((a + b - 1.0 - r) * (a - 1.0) / c).abs() {
            let (f, ln_scale) = hyp2f1_scaled(r + x, b + x, c, z)?;
            1.0 - f * (ln_scale + (r + x) * ln_1z).exp()
        } else {
            let (f, ln_scale) = hyp2f1_scaled(a + b - 1.0 - r, a - 1.0, c, z)?;
            1.0 - f * (ln_scale + (a - 1.0) * ln_1z).exp()
        };
        let first = (a + b + x - 1.0) / (a - 1.0);
        let denominator = if x > 0.0 {
            1.0 + a / (b + x - 1.0) * ((alpha + t) / (alpha + tx)).powf(r + x)
        } else {
            1.0
        };
        let v = first * second / denominator;
        v.is_finite().then_some(v.max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cdnow_like() -> Data {
        Data::new(vec![
            (2, 30.43, 38.86),
            (1, 1.71, 38.86),
            (0, 0.0, 38.86),
            (0, 0.0, 38.86),
            (0, 0.0, 38.86),
            (7, 29.43, 38.86),
            (1, 5.0, 38.86),
            (0, 0.0, 38.71),
            (2, 35.71, 38.71),
            (0, 0.0, 38.71),
        ])
    }

    #[test]
    fn the_gradient_is_the_derivative_of_the_likelihood() {
        let d = cdnow_like();
        let p = Params {
            r: 0.24,
            alpha: 4.41,
            a: 0.79,
            b: 2.43,
        };
        let mut g = [0.0; 4];
        let ll = log_likelihood(&p, &d, Some(&mut g));
        assert!(ll.is_finite() && ll < 0.0);
        for i in 0..4 {
            let mut v = [p.r, p.alpha, p.a, p.b];
            let h = v[i] * 1e-6;
            v[i] += h;
            let up = log_likelihood(
                &Params {
                    r: v[0],
                    alpha: v[1],
                    a: v[2],
                    b: v[3],
                },
                &d,
                None,
            );
            v[i] -= 2.0 * h;
            let down = log_likelihood(
                &Params {
                    r: v[0],
                    alpha: v[1],
                    a: v[2],
                    b: v[3],
                },
                &d,
                None,
            );
            let numeric = (up - down) / (2.0 * h);
            assert!(
                (numeric - g[i]).abs() < 1e-6 * g[i].abs().max(1.0),
                "{i}: {numeric} vs {}",
                g[i]
            );
        }
    }

    #[test]
    fn grouping_equal_rows_changes_nothing() {
        let d = cdnow_like();
        assert_eq!(d.customers(), 10.0);
        assert!(d.w.len() < 10);
        let p = Params {
            r: 0.5,
            alpha: 3.0,
            a: 1.5,
            b: 2.0,
        };
        let one_by_one: f64 = [
            (2, 30.43, 38.86),
            (1, 1.71, 38.86),
            (0, 0.0, 38.86),
            (0, 0.0, 38.86),
            (0, 0.0, 38.86),
            (7, 29.43, 38.86),
            (1, 5.0, 38.86),
            (0, 0.0, 38.71),
            (2, 35.71, 38.71),
            (0, 0.0, 38.71),
        ]
        .into_iter()
        .map(|row| log_likelihood(&p, &Data::new([row]), None))
        .sum();
        assert!((log_likelihood(&p, &d, None) - one_by_one).abs() < 1e-10);
    }

    #[test]
    fn a_dropout_known_exactly_still_gives_figures() {
        // Data that pin the dropout probability a/(a+b) down exactly drive a
        // and b to infinity together; the figures tend to a limit.
        let at = |a: f64, b: f64| {
            Params {
                r: 0.9,
                alpha: 4.5,
                a,
                b,
            }
            .expected_purchases(52.0, 3.0, 20.0, 40.0)
            .unwrap()
        };
        let (huge, large) = (at(1.3e7, 2.7e7), at(1.3e6, 2.7e6));
        assert!((huge - large).abs() / large < 1e-3, "{huge} vs {large}");
        // Where both series are practical they agree.
        let p = Params {
            r: 0.9,
            alpha: 4.5,
            a: 2_000.0,
            b: 4_000.0,
        };
        let (x, tx, t, h) = (3.0, 20.0, 40.0, 52.0);
        let c = p.a + p.b + x - 1.0;
        let z = h / (p.alpha + t + h);
        let ln_1z = ((p.alpha + t) / (p.alpha + t + h)).ln();
        let (f1, s1) = hyp2f1_scaled(p.r + x, p.b + x, c, z).unwrap();
        let (f2, s2) = hyp2f1_scaled(p.a + p.b - 1.0 - p.r, p.a - 1.0, c, z).unwrap();
        let direct = 1.0 - f1 * (s1 + (p.r + x) * ln_1z).exp();
        let euler = 1.0 - f2 * (s2 + (p.a - 1.0) * ln_1z).exp();
        assert!(
            (direct - euler).abs() < 1e-9 * direct.abs(),
            "{direct} vs {euler}"
        );
        assert!(p.expected_purchases(h, x, tx, t).unwrap() > 0.0);
    }

    #[test]
    fn the_euler_form_matches_the_direct_series() {
        let p = Params {
            r: 0.24,
            alpha: 4.41,
            a: 0.79,
            b: 2.43,
        };
        for (x, tx, t) in [
            (0.0, 0.0, 38.0),
            (2.0, 30.0, 38.0),
            (7.0, 29.4, 38.9),
            (20.0, 5.0, 6.0),
        ] {
            let horizon = 39.0;
            let z = horizon / (p.alpha + t + horizon);
            let direct = hyp2f1(p.r + x, p.b + x, p.a + p.b + x - 1.0, z).unwrap();
            let second = 1.0 - direct * ((p.alpha + t) / (p.alpha + t + horizon)).powf(p.r + x);
            let first = (p.a + p.b + x - 1.0) / (p.a - 1.0);
            let den = if x > 0.0 {
                1.0 + p.a / (p.b + x - 1.0) * ((p.alpha + t) / (p.alpha + tx)).powf(p.r + x)
            } else {
                1.0
            };
            let want = first * second / den;
            let got = p.expected_purchases(horizon, x, tx, t).unwrap();
            assert!(
                (got - want).abs() < 1e-9 * want.abs().max(1e-9),
                "{x}: {got} vs {want}"
            );
        }
    }
}
