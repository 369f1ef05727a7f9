//! BFGS with a strong-Wolfe line search (Nocedal & Wright, algorithms 6.1, 3.5
//! and 3.6), for the few parameters of the value models.

/// How a minimisation ended.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Minimum {
    /// Where.
    pub x: Vec<f64>,
    /// The objective there.
    pub value: f64,
    /// Iterations taken.
    pub iterations: usize,
    /// Whether the gradient fell below the tolerance.
    pub converged: bool,
    /// Evaluations of the objective (with its gradient).
    pub evaluations: usize,
}

/// Settings of [`minimize`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    /// Converged when every gradient component is below this.
    pub gradient_tolerance: f64,
    /// Iterate on until every gradient component is below this, or no step
    /// improves any more.
    pub gradient_target: f64,
    /// Give up after this many iterations.
    pub max_iterations: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            gradient_tolerance: 1e-7,
            gradient_target: 1e-11,
            max_iterations: 1_000,
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Minimises `f`, which returns the value and writes the gradient, from `x0`.
/// A non-finite value counts as "too far": the line search steps back.
pub(crate) fn minimize<F>(mut objective: F, x0: &[f64], settings: Settings) -> Minimum
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let mut evaluations = 0;
    let mut f = |x: &[f64], g: &mut [f64]| {
        evaluations += 1;
        objective(x, g)
    };
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    // The inverse Hessian approximation, row-major.
    let mut h = identity(n);
    let mut first = true;
    let mut iterations = 0;
    let mut done = max_abs(&g) < settings.gradient_target;
    while !done && iterations < settings.max_iterations {
        iterations += 1;
        let mut p: Vec<f64> = (0..n)
            .map(|i| -(0..n).map(|j| h[i * n + j] * g[j]).sum::<f64>())
            .collect();
        if dot(&p, &g) >= 0.0 {
            // Not a descent direction: start again from steepest descent.
            h = identity(n);
            p = g.iter().map(|v| -v).collect();
        }
        let step0 = if first {
            (1.0 / max_abs(&g).max(1e-300)).min(1.0)
        } else {
            1.0
        };
        let Some((alpha, fnew, gnew)) = line_search(&mut f, &x, fx, &g, &p, step0) else {
            if first {
                break;
            }
            // Retry once from steepest descent with a fresh Hessian.
            h = identity(n);
            first = true;
            continue;
        };
        let s: Vec<f64> = p.iter().map(|v| alpha * v).collect();
        let y: Vec<f64> = gnew.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        let improvement = fx - fnew;
        x.iter_mut().zip(&s).for_each(|(xi, si)| *xi += si);
        fx = fnew;
        g = gnew;
        if sy > 1e-300 {
            if first {
                // Scale the first Hessian guess (N&W eq. 6.20).
                let scale = sy / dot(&y, &y);
                h.iter_mut().for_each(|v| *v *= scale);
            }
            update_inverse_hessian(&mut h, &s, &y, sy);
        }
        first = false;
        done = max_abs(&g) < settings.gradient_target
            || (improvement.abs() <= 1e-16 * fx.abs().max(1.0) && max_abs(&s) < 1e-14);
    }
    Minimum {
        x,
        value: fx,
        iterations,
        converged: max_abs(&g) < settings.gradient_tolerance,
        evaluations,
    }
}

fn identity(n: usize) -> Vec<f64> {
    let mut h = vec![0.0; n * n];
    (0..n).for_each(|i| h[i * n + i] = 1.0);
    h
}

/// H ← (I − ρsyᵀ) H (I − ρysᵀ) + ρssᵀ.
fn update_inverse_hessian(h: &mut [f64], s: &[f64], y: &[f64], sy: f64) {
    let n = s.len();
    let rho = 1.0 / sy;
    let hy: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| h[i * n + j] * y[j]).sum())
        .collect();
    let yhy = dot(y, &hy);
    for i in 0..n {
        for j in 0..n {
            h[i * n + j] +=
                -rho * (hy[i] * s[j] + s[i] * hy[j]) + (rho * rho * yhy + rho) * s[i] * s[j];
        }
    }
}

const C1: f64 = 1e-4;
const C2: f64 = 0.9;

/// A step length satisfying the strong Wolfe conditions, with the value and
/// gradient there.
fn line_search<F>(
    f: &mut F,
    x: &[f64],
    f0: f64,
    g0: &[f64],
    p: &[f64],
    step0: f64,
) -> Option<(f64, f64, Vec<f64>)>
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let d0 = dot(g0, p);
    // Near the minimum the objective changes by less than its rounding error;
    // a step that keeps it within that error and satisfies the curvature
    // condition is accepted (the "approximate Wolfe" conditions of Hager &
    // Zhang), so the gradient can still be driven down.
    let noise = 1e-14 * f0.abs();
    let mut eval = |a: f64| {
        let xa: Vec<f64> = x.iter().zip(p).map(|(xi, pi)| xi + a * pi).collect();
        let mut ga = vec![0.0; x.len()];
        let fa = f(&xa, &mut ga);
        let fa = if fa.is_finite() { fa } else { f64::INFINITY };
        let da = if fa.is_finite() {
            dot(&ga, p)
        } else {
            f64::NAN
        };
        (fa, da, ga)
    };
    let (mut a_prev, mut f_prev, mut d_prev) = (0.0, f0, d0);
    let mut a = step0;
    for i in 0..60 {
        let (fa, da, ga) = eval(a);
        if !fa.is_finite() {
            // Outside where the objective is defined: shorten.
            a = a_prev + (a - a_prev) * 0.1;
            continue;
        }
        if fa > f0 + C1 * a * d0 + noise || (i > 0 && fa > f_prev + noise) {
            return zoom(
                &mut eval,
                f0 + noise,
                d0,
                (a_prev, f_prev, d_prev),
                (a, fa, da),
            );
        }
        if da.abs() <= -C2 * d0 {
            return Some((a, fa, ga));
        }
        if da >= 0.0 {
            return zoom(
                &mut eval,
                f0 + noise,
                d0,
                (a, fa, da),
                (a_prev, f_prev, d_prev),
            );
        }
        (a_prev, f_prev, d_prev) = (a, fa, da);
        a *= 2.0;
    }
    None
}

type Point = (f64, f64, f64);

fn zoom<E>(
    eval: &mut E,
    f0: f64,
    d0: f64,
    mut lo: Point,
    mut hi: Point,
) -> Option<(f64, f64, Vec<f64>)>
where
    E: FnMut(f64) -> (f64, f64, Vec<f64>),
{
    let mut best: Option<(f64, f64, Vec<f64>)> = None;
    for _ in 0..60 {
        // Cubic interpolation would be faster; bisection with a quadratic
        // guess is plenty for a handful of parameters.
        let (alo, flo, dlo) = lo;
        let (ahi, fhi, _) = hi;
        let width = ahi - alo;
        let denom = 2.0 * (fhi - flo - dlo * width);
        let mut a = if denom.abs() > 1e-300 {
            alo - dlo * width * width / denom
        } else {
            alo + 0.5 * width
        };
        let (left, right) = (alo.min(ahi), alo.max(ahi));
        let margin = 0.1 * (right - left);
        if !(a > left + margin && a < right - margin) {
            a = alo + 0.5 * width;
        }
        let (fa, da, ga) = eval(a);
        if !fa.is_finite() || fa > f0 + C1 * a * d0 || fa > flo + (f0.abs() * 1e-14) {
            hi = (a, fa, da);
        } else {
            if da.abs() <= -C2 * d0 {
                return Some((a, fa, ga));
            }
            if da * (ahi - alo) >= 0.0 {
                hi = lo;
            }
            lo = (a, fa, da);
            best = Some((a, fa, ga));
        }
        // Stop once what is left of the bracket cannot change the objective
        // by more than its rounding error: near the minimum, bisecting on
        // would only spend evaluations on noise.
        let left_to_gain = (hi.0 - lo.0).abs() * lo.2.abs().max(d0.abs());
        if (hi.0 - lo.0).abs() < 1e-16 * lo.0.abs().max(1e-300) || left_to_gain <= 1e-15 * f0.abs()
        {
            break;
        }
    }
    // No strong-Wolfe point found within precision: take the best decrease.
    best.filter(|(_, fa, _)| *fa <= f0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_the_rosenbrock_function() {
        let rosen = |x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        let m = minimize(rosen, &[-1.2, 1.0], Settings::default());
        assert!(m.converged, "{m:?}");
        assert!(
            (m.x[0] - 1.0).abs() < 1e-8 && (m.x[1] - 1.0).abs() < 1e-8,
            "{m:?}"
        );
        assert!(m.iterations < 100, "{m:?}");
    }

    #[test]
    fn steps_back_from_where_the_objective_is_undefined() {
        // ln is undefined below 0: minimise x - ln x (minimum at 1) from 5.
        let f = |x: &[f64], g: &mut [f64]| {
            g[0] = 1.0 - 1.0 / x[0];
            if x[0] <= 0.0 {
                f64::NAN
            } else {
                x[0] - x[0].ln()
            }
        };
        let m = minimize(f, &[5.0], Settings::default());
        assert!(m.converged && (m.x[0] - 1.0).abs() < 1e-9, "{m:?}");
    }
}
