//! Populations drawn from the models themselves, for parameter-recovery tests,
//! benchmarks and the comparison with other implementations. Deterministic for
//! a seed.

use super::{bgnbd, gamma_gamma};

/// xoshiro256** seeded through SplitMix64.
#[derive(Clone, Debug)]
pub(crate) struct Rng([u64; 4]);

impl Rng {
    /// A generator for `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        let mut s = seed;
        let mut next = || {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Self([next(), next(), next(), next()])
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform on (0, 1).
    pub(crate) fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// Exponential with rate `rate`.
    pub(crate) fn exponential(&mut self, rate: f64) -> f64 {
        -self.uniform().ln() / rate
    }

    /// Gamma with `shape` and scale 1 (Marsaglia & Tsang 2000; shape < 1 by
    /// boosting).
    pub(crate) fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            return self.gamma(shape + 1.0) * self.uniform().powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = self.uniform();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }

    /// Beta(a, b).
    pub(crate) fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a);
        x / (x + self.gamma(b))
    }
}

/// One simulated customer: statistics as the models see them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Customer {
    /// Repeat purchases.
    pub frequency: u32,
    /// Time of the last purchase.
    pub recency: f64,
    /// Observation length.
    pub t: f64,
    /// Mean repeat purchase value (0 without repeats).
    pub monetary_value: f64,
}

/// `n` customers drawn from BG/NBD and Gamma-Gamma with these parameters, each
/// observed for a time uniform in `t_range`.
pub fn population(
    bg: &bgnbd::Params,
    gg: &gamma_gamma::Params,
    n: usize,
    t_range: (f64, f64),
    seed: u64,
) -> Vec<Customer> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let t = t_range.0 + (t_range.1 - t_range.0) * rng.uniform();
            let rate = rng.gamma(bg.r) / bg.alpha;
            let dropout = rng.beta(bg.a, bg.b);
            let (mut x, mut last, mut now) = (0u32, 0.0, 0.0);
            loop {
                now += rng.exponential(rate);
                if now > t {
                    break;
                }
                x += 1;
                last = now;
                if rng.uniform() < dropout {
                    break;
                }
            }
            // A customer's value rate ν ~ gamma(q, scale 1/γ); each purchase
            // ~ gamma(p, scale 1/ν).
            let nu = rng.gamma(gg.q) / gg.gamma;
            let total: f64 = (0..x).map(|_| rng.gamma(gg.p) / nu).sum();
            Customer {
                frequency: x,
                recency: last,
                t,
                monetary_value: if x > 0 { total / f64::from(x) } else { 0.0 },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_samplers_have_the_right_means() {
        let mut rng = Rng::new(7);
        let n = 200_000;
        let mean = |f: &mut dyn FnMut() -> f64| (0..n).map(|_| f()).sum::<f64>() / n as f64;
        assert!((mean(&mut || rng.gamma(0.3)) - 0.3).abs() < 0.01);
        assert!((mean(&mut || rng.gamma(4.0)) - 4.0).abs() < 0.03);
        assert!((mean(&mut || rng.beta(2.0, 6.0)) - 0.25).abs() < 0.005);
        assert!((mean(&mut || rng.exponential(2.0)) - 0.5).abs() < 0.005);
    }

    #[test]
    fn the_same_seed_gives_the_same_population() {
        let bg = bgnbd::Params {
            r: 0.5,
            alpha: 5.0,
            a: 0.8,
            b: 2.5,
        };
        let gg = gamma_gamma::Params {
            p: 6.0,
            q: 4.0,
            gamma: 15.0,
        };
        let a = population(&bg, &gg, 100, (10.0, 50.0), 1);
        assert_eq!(a, population(&bg, &gg, 100, (10.0, 50.0), 1));
        assert_ne!(a, population(&bg, &gg, 100, (10.0, 50.0), 2));
    }
}
