//! The special functions the models need: log-gamma, digamma and the Gauss
//! hypergeometric function on [0, 1).

/// Lanczos coefficients (g = 7, n = 9); relative error below 1e-15 for x > 0.
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// ln Γ(x) for x > 0.
pub(crate) fn ln_gamma(x: f64) -> f64 {
    if x < 0.5 {
        // Γ(x) = Γ(x + 1) / x keeps the series where it is accurate.
        return ln_gamma(x + 1.0) - x.ln();
    }
    let x = x - 1.0;
    let mut sum = LANCZOS[0];
    for (i, c) in LANCZOS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// ψ(x) = d/dx ln Γ(x) for x > 0: the recurrence up to x ≥ 10, then the
/// asymptotic series.
pub(crate) fn digamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 10.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let f = 1.0 / (x * x);
    let series = f
        * (-1.0 / 12.0
            + f * (1.0 / 120.0
                + f * (-1.0 / 252.0
                    + f * (1.0 / 240.0 + f * (-1.0 / 132.0 + f * (691.0 / 32760.0))))));
    acc + x.ln() - 0.5 / x + series
}

/// Above this, a difference of two log-gammas (or digammas) of large
/// arguments is taken from Stirling's series of the difference itself.
const LARGE: f64 = 1e6;

/// ln Γ(z + s) − ln Γ(z) for z, s > 0, accurate when z is large: the plain
/// difference of two numbers near z ln z loses z ln z · 2⁻⁵² to rounding
/// (at z = 10¹⁵, units), Stirling's series of the difference does not:
/// (z − ½) ln(1 + s/z) + s ln(z + s) − s − s / (12 z (z + s)), the next term
/// below 10⁻¹⁸ · s for z > 10⁶.
pub(crate) fn ln_gamma_ratio(z: f64, s: f64) -> f64 {
    if z < LARGE || s > z {
        return ln_gamma(z + s) - ln_gamma(z);
    }
    (z - 0.5) * (s / z).ln_1p() + s * (z + s).ln() - s - s / (12.0 * z * (z + s))
}

/// ψ(z + s) − ψ(z) for z, s > 0 (see [`ln_gamma_ratio`]):
/// ln(1 + s/z) + s / (2 z (z + s)) for large z.
pub(crate) fn digamma_diff(z: f64, s: f64) -> f64 {
    if z < LARGE || s > z {
        return digamma(z + s) - digamma(z);
    }
    (s / z).ln_1p() + s / (2.0 * z * (z + s))
}

/// ₂F₁(a, b; c; z) for 0 ≤ z < 1 by its power series, summed until a term no
/// longer changes the sum. Callers pass the parameters for which the series
/// converges quickly (see [`super::bgnbd`]); `None` when it did not converge.
#[cfg(test)]
pub(crate) fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    let (sum, ln_scale) = hyp2f1_scaled(a, b, c, z)?;
    let v = sum * ln_scale.exp();
    v.is_finite().then_some(v)
}

/// ₂F₁(a, b; c; z) as `sum · e^ln_scale`: with large parameters the terms
/// rise far beyond f64 before they fall, so the running sum is rescaled
/// whenever it grows past 1e200.
pub(crate) fn hyp2f1_scaled(a: f64, b: f64, c: f64, z: f64) -> Option<(f64, f64)> {
    if !(0.0..1.0).contains(&z) {
        return None;
    }
    const BIG: f64 = 1e200;
    let ln_big = BIG.ln();
    let (mut term, mut sum, mut ln_scale) = (1.0_f64, 1.0_f64, 0.0_f64);
    for n in 0..2_000_000 {
        let n = f64::from(n);
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if !sum.is_finite() || !term.is_finite() {
            return None;
        }
        if sum.abs() > BIG {
            sum /= BIG;
            term /= BIG;
            ln_scale += ln_big;
        }
        if term.abs() <= sum.abs() * 1e-17 || term == 0.0 {
            return Some((sum, ln_scale));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_of_large_log_gammas_keep_their_digits() {
        // Against 50-digit values (mpmath).
        for (z, s, ln_ratio, psi_diff) in [
            (2e6, 3.5, 50.780_304_272_333_67, 1.749_998_906_251_093_8e-6),
            (1e6, 0.25, 3.453_877_545_741_060_7, 2.500_000_937_500_156e-7),
            (5e7, 40.0, 709.101_358_135_692_7, 7.999_996_880_001_643e-7),
        ] {
            let got = ln_gamma_ratio(z, s);
            assert!((got - ln_ratio).abs() < 1e-14 * ln_ratio, "{z} {s}: {got}");
            let got = digamma_diff(z, s);
            assert!((got - psi_diff).abs() < 1e-12 * psi_diff, "{z} {s}: {got}");
        }
        // Γ(z + 1) / Γ(z) = z exactly, at any size.
        for z in [1e7, 1e15, 1e40] {
            let got = ln_gamma_ratio(z, 1.0);
            assert!((got - z.ln()).abs() < 1e-12 * z.ln(), "{z}: {got}");
            assert!((digamma_diff(z, 1.0) - 1.0 / z).abs() < 1e-12 / z, "{z}");
        }
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn ln_gamma_matches_known_values() {
        // Γ(n) = (n-1)!
        let mut fact = 1.0_f64;
        for n in 1..30 {
            assert!(close(ln_gamma(f64::from(n)), fact.ln(), 1e-13) || fact == 1.0);
            fact *= f64::from(n);
        }
        assert!(ln_gamma(1.0).abs() < 1e-14 && ln_gamma(2.0).abs() < 1e-14);
        // Γ(1/2) = √π
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-14
        ));
        // Γ(0.1) = 9.513507698668731836...
        assert!(close(ln_gamma(0.1), 9.513_507_698_668_732_f64.ln(), 1e-14));
        // ln Γ(1000.5), from Python's math.lgamma.
        assert!(close(ln_gamma(1000.5), 5_908.674_175_848_678, 1e-13));
    }

    #[test]
    fn digamma_matches_known_values_and_the_derivative() {
        let euler = 0.577_215_664_901_532_9;
        assert!(close(digamma(1.0), -euler, 1e-13));
        assert!(close(digamma(0.5), -euler - 2.0 * 2f64.ln(), 1e-13));
        for x in [0.01, 0.3, 1.7, 5.5, 12.0, 250.0] {
            let h = 1e-5 * x;
            let numeric = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert!(close(digamma(x), numeric, 1e-7), "x = {x}");
        }
    }

    #[test]
    fn hyp2f1_matches_closed_forms() {
        // ₂F₁(1, 1; 2; z) = -ln(1 - z) / z
        for z in [0.1_f64, 0.5, 0.9, 0.99] {
            let want = -(1.0 - z).ln() / z;
            assert!(
                close(hyp2f1(1.0, 1.0, 2.0, z).unwrap(), want, 1e-12),
                "z = {z}"
            );
        }
        // ₂F₁(a, b; b; z) = (1 - z)^-a
        assert!(close(
            hyp2f1(2.5, 3.0, 3.0, 0.7).unwrap(),
            0.3_f64.powf(-2.5),
            1e-12
        ));
        assert_eq!(hyp2f1(1.0, 1.0, 2.0, 1.0), None);
        // Parameters in the thousands: the terms pass 1e300 before they fall;
        // ₂F₁(a, b; b; z) = (1 - z)^-a in log form.
        let (sum, ln_scale) = hyp2f1_scaled(5_000.0, 7.0, 7.0, 0.5).unwrap();
        assert!(close(sum.ln() + ln_scale, -5_000.0 * 0.5_f64.ln(), 1e-12));
    }
}
