//! The customer value model's speed (criterion): the BG/NBD and Gamma-Gamma
//! log-likelihoods with their gradients, a fit of both models, and one
//! customer's figures, on a population simulated from known parameters.
//!
//! `cargo bench --bench value` (1,000,000 customers; `GOODWILL_BENCH_CUSTOMERS`
//! sets another size). The comparison with the `lifetimes` package on the same
//! statistics, in the same run: `bash benches/value_vs_lifetimes.sh`.
//! Figures: docs/BENCHMARKS.md.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use goodwill::value::{self, bgnbd, gamma_gamma, simulate};

/// The parameters the population is drawn from.
const BG: bgnbd::Params = bgnbd::Params {
    r: 0.25,
    alpha: 4.4,
    a: 0.8,
    b: 2.4,
};
const GG: gamma_gamma::Params = gamma_gamma::Params {
    p: 6.25,
    q: 3.74,
    gamma: 15.45,
};

/// Statistics rows `(frequency, recency, T, monetary value)` in weeks, the way
/// the service computes them (whole days).
fn population(n: usize) -> Vec<(u32, f64, f64, f64)> {
    simulate::population(&BG, &GG, n, (26.0, 104.0), 42)
        .iter()
        .map(|c| {
            let day = |v: f64| (v * 7.0).floor() / 7.0;
            (c.frequency, day(c.recency), day(c.t), c.monetary_value)
        })
        .collect()
}

fn customers() -> usize {
    std::env::var("GOODWILL_BENCH_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn benches(c: &mut Criterion) {
    let n = customers();
    let rows = population(n);
    let (bg, gg) = (BG, GG);

    let mut g = c.benchmark_group(format!("value/{n}_customers"));
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("group identical statistics (BG/NBD data)", |b| {
        b.iter(|| bgnbd::Data::new(rows.iter().map(|r| (r.0, r.1, r.2))));
    });
    let data = bgnbd::Data::new(rows.iter().map(|r| (r.0, r.1, r.2)));
    g.bench_function("BG/NBD log-likelihood + gradient", |b| {
        let mut grad = [0.0; 4];
        b.iter(|| bgnbd::log_likelihood(black_box(&bg), &data, Some(&mut grad)));
    });
    let gdata = gamma_gamma::Data::new(rows.iter().map(|r| (r.0, r.3)));
    g.bench_function("Gamma-Gamma log-likelihood + gradient", |b| {
        let mut grad = [0.0; 3];
        b.iter(|| gamma_gamma::log_likelihood(black_box(&gg), &gdata, Some(&mut grad)));
    });
    g.bench_function("fit both models (from the statistics)", |b| {
        b.iter(|| value::fit_both(black_box(&rows), value::Penalties::both(0.0)).unwrap());
    });
    g.finish();

    let fitted = value::fit_both(&rows, value::Penalties::both(0.0)).unwrap();
    let models = value::Models {
        bgnbd: fitted.bgnbd.params,
        gamma_gamma: fitted.gamma_gamma.params,
        unit: value::TimeUnit::Weeks,
    };
    let sample: Vec<value::Statistics> = rows
        .iter()
        .step_by((n / 1_000).max(1))
        .map(|r| value::Statistics {
            frequency: r.0,
            recency: r.1,
            t: r.2,
            monetary_value: r.3,
            first_purchase_on: chrono::NaiveDate::MIN,
            last_purchase_on: chrono::NaiveDate::MIN,
        })
        .collect();
    let mut one = c.benchmark_group("value/one_customer");
    let mut i = 0;
    one.bench_function("figures with 12-month lifetime value", |b| {
        b.iter(|| {
            i = (i + 1) % sample.len();
            value::valuation(&models, black_box(&sample[i]), 12, 0.01)
                .unwrap()
                .lifetime_value
        });
    });
    one.finish();
}

criterion_group!(value_model, benches);
criterion_main!(value_model);
