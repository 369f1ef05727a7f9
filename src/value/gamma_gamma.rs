//! Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value
//! Curves for Customer Base Analysis"; Fader & Hardie 2013, "The Gamma-Gamma
//! Model of Monetary Value"): a customer's purchase values are gamma(p, ν)
//! around their own mean, and ν is gamma(q, γ) across customers. Fitted on
//! customers with repeat purchases, from their number `x` and mean value `m`:
//!
//! ```text
//! ln L = ln Γ(px + q) − ln Γ(px) − ln Γ(q) + q ln γ + (px − 1) ln m
//!        + px ln x − (px + q) ln(γ + x m)
//! ```

use super::optimize::{self, Minimum};
use super::parallel_sum;
use super::special::{digamma, digamma_diff, ln_gamma, ln_gamma_ratio};

/// Fitted Gamma-Gamma parameters (`gamma` in the currency's major unit).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Params {
    /// Shape of a customer's purchase values.
    pub p: f64,
    /// Shape of the spread of customers' rates.
    pub q: f64,
    /// Scale of the spread of customers' rates (γ, "v" in `lifetimes`).
    pub gamma: f64,
}

/// Repeat buyers: frequency and mean repeat value, grouped by frequency.
#[derive(Clone, Debug, Default)]
pub struct Data {
    xi: Vec<u32>,
    x: Vec<f64>,
    m: Vec<f64>,
    ln_m: Vec<f64>,
    /// x · (ln m + ln x), the part of px ln x + px ln m without p.
    x_ln_xm: Vec<f64>,
    xs: Vec<u32>,
}

impl Data {
    /// Keeps the rows with x > 0 and m > 0 (the others carry no information
    /// on value).
    pub fn new(rows: impl IntoIterator<Item = (u32, f64)>) -> Self {
        let mut rows: Vec<(u32, f64)> = rows
            .into_iter()
            .filter(|(x, m)| *x > 0 && *m > 0.0 && m.is_finite())
            .collect();
        rows.sort_unstable_by_key(|r| r.0);
        let mut d = Self::default();
        for (x, m) in rows {
            if d.xs.last() != Some(&x) {
                d.xs.push(x);
            }
            let xf = f64::from(x);
            d.xi.push(u32::try_from(d.xs.len() - 1).unwrap_or(u32::MAX));
            d.x.push(xf);
            d.m.push(m);
            d.ln_m.push(m.ln());
            d.x_ln_xm.push(xf * (m.ln() + xf.ln()));
        }
        d
    }

    /// Customers in the fit.
    pub(crate) fn customers(&self) -> usize {
        self.x.len()
    }
}

/// The total log-likelihood at `p`, with its gradient in (p, q, γ) when asked.
///
/// Written so that no two terms that grow with a parameter are subtracted
/// (a fit whose q ran off towards 10⁷ and beyond must still see its true
/// objective): q ln γ − (px + q) ln(γ + xm) as −q ln(1 + xm/γ) − px ln(γ + xm),
/// and ln Γ(px + q) − ln Γ(q) − ln Γ(px) from the larger of q and px by
/// [`ln_gamma_ratio`].
pub fn log_likelihood(params: &Params, d: &Data, grad: Option<&mut [f64; 3]>) -> f64 {
    let Params { p, q, gamma } = *params;
    let want_grad = grad.is_some();
    let per_x: Vec<[f64; 3]> =
        d.xs.iter()
            .map(|&x| {
                let px = p * f64::from(x);
                // ln Γ(px + q) − ln Γ(px) − ln Γ(q), and its derivatives by
                // px and by q.
                let (base, d_px, d_q) = if q >= px {
                    (
                        ln_gamma_ratio(q, px) - ln_gamma(px),
                        if want_grad {
                            digamma(px + q) - digamma(px)
                        } else {
                            0.0
                        },
                        if want_grad { digamma_diff(q, px) } else { 0.0 },
                    )
                } else {
                    (
                        ln_gamma_ratio(px, q) - ln_gamma(q),
                        if want_grad { digamma_diff(px, q) } else { 0.0 },
                        if want_grad {
                            digamma(px + q) - digamma(q)
                        } else {
                            0.0
                        },
                    )
                };
                [base, d_px, d_q]
            })
            .collect();
    let (ll, g) = parallel_sum(d.x.len(), |range| {
        let mut ll = 0.0;
        let mut g = [0.0; 3];
        for i in range {
            let [base, d_px, d_q] = per_x[d.xi[i] as usize];
            let (x, m) = (d.x[i], d.m[i]);
            let px = p * x;
            let ln_gxm = (gamma + x * m).ln();
            let l1p = (x * m / gamma).ln_1p();
            ll += base + p * d.x_ln_xm[i] - d.ln_m[i] - q * l1p - px * ln_gxm;
            if want_grad {
                let inv = 1.0 / (gamma + x * m);
                g[0] += x * d_px + d.x_ln_xm[i] - x * ln_gxm;
                g[1] += d_q - l1p;
                g[2] += q * (x * m / gamma) * inv - px * inv;
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
    /// The parameters.
    pub params: Params,
    /// Total log-likelihood (penalty excluded).
    pub log_likelihood: f64,
    /// Optimiser iterations.
    pub iterations: usize,
    /// Whether the gradient fell below the tolerance.
    pub converged: bool,
    /// Evaluations of the likelihood with its gradient.
    pub evaluations: usize,
    /// Repeat buyers it was fitted on.
    pub customers: usize,
    /// Their mean repeat value: γ over this is γ free of the currency.
    pub value_scale: f64,
}

/// Maximum likelihood with an optional L2 penalty `penalizer · (p² + q² + γ²)`
/// (the convention of `lifetimes`), over the parameters' logarithms by BFGS.
/// With `unit_free`, the penalty weighs γ over the mean repeat value instead
/// of γ in money, so that it means the same in every currency (the fit is
/// run on values divided by their mean and γ scaled back; without a penalty
/// the two are the same fit).
pub(crate) fn fit(d: &Data, penalizer: f64, unit_free: bool) -> Result<Fit, super::FitError> {
    let n = d.customers();
    if n == 0 {
        return Err(super::FitError::NoRepeatBuyers);
    }
    let value_scale = d.m.iter().sum::<f64>() / n as f64;
    if unit_free && penalizer > 0.0 {
        let scaled = Data::new(
            d.x.iter()
                .zip(&d.m)
                .map(|(x, m)| (*x as u32, m / value_scale)),
        );
        let mut f = fit(&scaled, penalizer, false)?;
        f.params.gamma *= value_scale;
        f.log_likelihood = log_likelihood(&f.params, d, None);
        f.value_scale = value_scale;
        return Ok(f);
    }
    let nf = n as f64;
    let objective = |theta: &[f64], grad: &mut [f64]| {
        let params = Params {
            p: theta[0].exp(),
            q: theta[1].exp(),
            gamma: theta[2].exp(),
        };
        let mut g = [0.0; 3];
        let ll = log_likelihood(&params, d, Some(&mut g));
        let values = [params.p, params.q, params.gamma];
        let mut f = -ll / nf;
        for i in 0..3 {
            f += penalizer * values[i] * values[i];
            grad[i] = (-g[i] / nf + 2.0 * penalizer * values[i]) * values[i];
        }
        f
    };
    let Minimum {
        x,
        iterations,
        converged,
        evaluations,
        ..
    } = optimize::minimize(objective, &[0.0; 3], optimize::Settings::default());
    let params = Params {
        p: x[0].exp(),
        q: x[1].exp(),
        gamma: x[2].exp(),
    };
    if ![params.p, params.q, params.gamma]
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
        customers: n,
        value_scale,
    })
}

impl Params {
    /// E[value of a purchase] for a customer with `x` repeat purchases of mean
    /// `m`: a weighted mean of the population mean pγ/(q−1) and `m`; for x = 0
    /// the population mean. `None` when q ≤ 1 (the mean is infinite).
    pub(crate) fn expected_average_value(&self, x: f64, m: f64) -> Option<f64> {
        let Params { p, q, gamma } = *self;
        if q <= 1.0 {
            return None;
        }
        let x = if m > 0.0 { x } else { 0.0 };
        let v = p * (gamma + x * m) / (p * x + q - 1.0);
        v.is_finite().then_some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gradient_is_the_derivative_of_the_likelihood() {
        let d = Data::new(vec![
            (1, 20.0),
            (3, 35.5),
            (3, 12.0),
            (10, 80.0),
            (0, 5.0),
            (2, 0.0),
        ]);
        assert_eq!(d.customers(), 4);
        let p = Params {
            p: 6.2,
            q: 3.7,
            gamma: 15.4,
        };
        let mut g = [0.0; 3];
        log_likelihood(&p, &d, Some(&mut g));
        for i in 0..3 {
            let mut v = [p.p, p.q, p.gamma];
            let h = v[i] * 1e-6;
            v[i] += h;
            let up = log_likelihood(
                &Params {
                    p: v[0],
                    q: v[1],
                    gamma: v[2],
                },
                &d,
                None,
            );
            v[i] -= 2.0 * h;
            let down = log_likelihood(
                &Params {
                    p: v[0],
                    q: v[1],
                    gamma: v[2],
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
    fn a_customer_without_repeat_purchases_gets_the_population_mean() {
        let p = Params {
            p: 6.0,
            q: 4.0,
            gamma: 15.0,
        };
        assert!((p.expected_average_value(0.0, 0.0).unwrap() - 30.0).abs() < 1e-12);
        // Many purchases pull the estimate towards the customer's own mean.
        let many = p.expected_average_value(100.0, 50.0).unwrap();
        assert!(many > 49.0 && many < 50.0, "{many}");
        assert_eq!(
            Params {
                p: 6.0,
                q: 1.0,
                gamma: 15.0
            }
            .expected_average_value(1.0, 9.0),
            None
        );
    }
}
