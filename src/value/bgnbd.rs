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
use super::special::hyp2f1_scaled;

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

/// Per distinct value v (a recency or a T): `ln(α + v)`, `ln(1 + v/α)`,
/// `1 / (α + v)` and `v / (α (α + v))`.
///
/// `r ln α − (r + x) ln(α + v)` is written `−r ln(1 + v/α) − x ln(α + v)`:
/// the same number, without subtracting two terms that grow with r (when r
/// and α run off together, as they do towards the Poisson limit, the
/// difference of two numbers near 10⁶⁰ is noise as large as 10⁴⁴).
fn per_value(alpha: f64, values: &[f64]) -> Vec<[f64; 4]> {
    values
        .iter()
        .map(|v| {
            let inv = 1.0 / (alpha + v);
            [(alpha + v).ln(), (v / alpha).ln_1p(), inv, v / alpha * inv]
        })
        .collect()
}

/// The total log-likelihood of `d` at `p`, and its gradient with respect to
/// (r, α, a, b) when `grad` is given.
///
/// The gamma-function ratios at an integer x are finite products,
/// Γ(r + x) / Γ(r) = r (r + 1) ⋯ (r + x − 1), summed as logarithms: exact for
/// any r, a, b, where ln Γ(r + x) − ln Γ(r) of a large r loses every digit (a
/// fit that ran off once reported a *positive* log-likelihood of 8.6e57 that
/// way). Likewise ψ(r + x) − ψ(r) = Σ 1 / (r + k).
pub fn log_likelihood(p: &Params, d: &Data, grad: Option<&mut [f64; 4]>) -> f64 {
    let Params { r, alpha, a, b } = *p;
    let want_grad = grad.is_some();
    let ln_a = a.ln();
    // What depends on x only, once per distinct x (ascending), the sums
    // carried from one x to the next.
    let mut per_x: Vec<[f64; 5]> = Vec::with_capacity(d.xs.len());
    let (mut ln_r, mut ln_b, mut ln_ab) = (0.0, 0.0, 0.0);
    let (mut inv_r, mut inv_b, mut inv_ab) = (0.0, 0.0, 0.0);
    let mut k = 0u32;
    for &x in &d.xs {
        while k < x {
            let kf = f64::from(k);
            ln_r += (r + kf).ln();
            ln_b += (b + kf).ln();
            ln_ab += (a + b + kf).ln();
            if want_grad {
                inv_r += 1.0 / (r + kf);
                inv_b += 1.0 / (b + kf);
                inv_ab += 1.0 / (a + b + kf);
            }
            k += 1;
        }
        let ln_bx1 = if x > 0 {
            (b + (f64::from(x) - 1.0)).ln()
        } else {
            0.0
        };
        per_x.push([ln_r + ln_b - ln_ab, inv_r, -inv_ab, inv_b, ln_bx1]);
    }
    // What depends on recency or T only, once per distinct value.
    let per_t = per_value(alpha, &d.ts);
    let per_tx = per_value(alpha, &d.txs);
    let (ll, g) = parallel_sum(d.w.len(), |range| {
        let mut ll = 0.0;
        let mut g = [0.0; 4];
        for i in range {
            let (x, w) = (d.x[i], d.w[i]);
            let [base, dr, dab, dbx, ln_bx1] = per_x[d.xi[i] as usize];
            let [ln_at, l1p_t, inv_at, q_t] = per_t[d.ti[i] as usize];
            // ln of αʳ (α + T)^-(r+x), and its derivatives in r and α.
            let a3 = -r * l1p_t - x * ln_at;
            let (da3_r, da3_alpha) = (-l1p_t, r * q_t - x * inv_at);
            let (bracket, w4, da4_r, da4_alpha) = if x > 0.0 {
                let [ln_atx, l1p_tx, inv_atx, q_tx] = per_tx[d.txi[i] as usize];
                let a4 = ln_a - ln_bx1 - r * l1p_tx - x * ln_atx;
                let (hi, lo) = if a3 > a4 { (a3, a4) } else { (a4, a3) };
                let e = (lo - hi).exp();
                let w4 = if a4 > a3 {
                    1.0 / (1.0 + e)
                } else {
                    e / (1.0 + e)
                };
                (hi + e.ln_1p(), w4, -l1p_tx, r * q_tx - x * inv_atx)
            } else {
                (a3, 0.0, 0.0, 0.0)
            };
            ll += w * (base + bracket);
            if want_grad {
                let w3 = 1.0 - w4;
                g[0] += w * (dr + w3 * da3_r + w4 * da4_r);
                g[1] += w * (w3 * da3_alpha + w4 * da4_alpha);
                g[2] += w * (dab + w4 / a);
                g[3] += w * (dab + dbx - if x > 0.0 { w4 / (b + (x - 1.0)) } else { 0.0 });
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
    /// The time scale the optimiser worked in (1 / the longest T): α times
    /// this is α in units of the longest observation.
    pub time_scale: f64,
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
    if d.repeat_buyers() < super::MIN_REPEAT_BUYERS {
        return Err(super::FitError::TooFewRepeatBuyers(d.repeat_buyers()));
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
        time_scale: scale,
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
        // ln((α + T) / (α + tₓ)) as ln(1 + (T − tₓ) / (α + tₓ)): exact when α
        // is large and the ratio rounds to 1.
        let ln_ratio = (r + x) * ((t - tx) / (alpha + tx)).ln_1p() + (a / (b + (x - 1.0))).ln();
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
        let ln_1z = -(horizon / (alpha + t)).ln_1p();
        let c = a + b + (x - 1.0);
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
        let first = (a + b + (x - 1.0)) / (a - 1.0);
        let denominator = if x > 0.0 {
            1.0 + a / (b + (x - 1.0)) * ((r + x) * ((t - tx) / (alpha + tx)).ln_1p()).exp()
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
    fn the_likelihood_holds_where_parameters_run_off() {
        // CDNOW's first 60 customers, against the likelihood evaluated in
        // 400-digit arithmetic (mpmath, from the formula in the module's
        // documentation). The first point is also what lifetimes gives
        // (-228.01880390203087); at the others lifetimes itself loses
        // digits (-396.3719..., -231.3567...), as this code did (a
        // difference of two log-gammas near 10⁶⁰ is noise near 10⁴⁴).
        let d = Data::new(
            crate::value::cdnow_first_60()
                .into_iter()
                .map(|(x, tx, t, _)| (x, tx, t)),
        );
        for ((r, alpha, a, b), want) in [
            ((0.24, 4.41, 0.79, 2.43), -228.018_803_902_030_85),
            ((3.6e10, 2.7e11, 0.5, 1.0), -396.374_775_447_739_3),
            ((1.0, 5.0, 6e-80, 1.0), -292.467_829_245_011_15),
            ((0.5, 10.0, 2e-16, 2e-16), -230.394_776_626_989_2),
            ((1e60, 5e60, 1e-3, 2e-3), -507.619_394_959_851_44),
        ] {
            let p = Params { r, alpha, a, b };
            let mut g = [0.0; 4];
            let got = log_likelihood(&p, &d, Some(&mut g));
            assert!(
                (got - want).abs() < 1e-9 * want.abs(),
                "{p:?}: {got} vs {want}"
            );
            assert!(g.iter().all(|v| v.is_finite()), "{p:?}: {g:?}");
        }
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
        let c = p.a + p.b + (x - 1.0);
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
            let direct = hyp2f1(p.r + x, p.b + x, p.a + p.b + (x - 1.0), z).unwrap();
            let second = 1.0 - direct * ((p.alpha + t) / (p.alpha + t + horizon)).powf(p.r + x);
            let first = (p.a + p.b + (x - 1.0)) / (p.a - 1.0);
            let den = if x > 0.0 {
                1.0 + p.a / (p.b + (x - 1.0)) * ((p.alpha + t) / (p.alpha + tx)).powf(p.r + x)
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
