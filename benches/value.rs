//! The customer value model's speed: the BG/NBD and Gamma-Gamma
//! log-likelihoods (with their gradients) and whole fits on 1,000,000
//! simulated customers, and one customer's figures.
//!
//! `cargo bench --bench value` prints the median and spread of repeated runs
//! (a plain timing harness, like `benches/summary.rs`). The comparison with the
//! `lifetimes` package on the same statistics: `bash benches/value_vs_lifetimes.sh`.
//! Figures: docs/BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

use std::time::{Duration, Instant};

use goodwill::value::{self, bgnbd, gamma_gamma, simulate};

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, Duration) {
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            std::hint::black_box(f());
            s.elapsed()
        })
        .collect();
    t.sort();
    (t[0], t[t.len() / 2], t[t.len() - 1])
}

fn show(what: &str, (min, med, max): (Duration, Duration, Duration)) {
    println!("{what:<58} median {med:>10.3?}  (min {min:.3?}, max {max:.3?})");
}

fn main() {
    let n = std::env::var("GOODWILL_BENCH_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let bg = bgnbd::Params {
        r: 0.25,
        alpha: 4.4,
        a: 0.8,
        b: 2.4,
    };
    let gg = gamma_gamma::Params {
        p: 6.25,
        q: 3.74,
        gamma: 15.45,
    };
    let people = simulate::population(&bg, &gg, n, (26.0, 104.0), 42);
    let rows: Vec<(u32, f64, f64, f64)> = people
        .iter()
        .map(|c| {
            let day = |v: f64| (v * 7.0).floor() / 7.0;
            (c.frequency, day(c.recency), day(c.t), c.monetary_value)
        })
        .collect();
    println!(
        "{n} simulated customers, {} threads",
        std::thread::available_parallelism()
            .map(|t| t.get())
            .unwrap_or(1)
    );
    show(
        "group identical statistics (BG/NBD data)",
        time(5, || bgnbd::Data::new(rows.iter().map(|r| (r.0, r.1, r.2)))),
    );
    let data = bgnbd::Data::new(rows.iter().map(|r| (r.0, r.1, r.2)));
    let mut g = [0.0; 4];
    show(
        "BG/NBD log-likelihood + gradient",
        time(30, || bgnbd::log_likelihood(&bg, &data, Some(&mut g))),
    );
    let gdata = gamma_gamma::Data::new(rows.iter().map(|r| (r.0, r.3)));
    let mut gg_grad = [0.0; 3];
    show(
        "Gamma-Gamma log-likelihood + gradient",
        time(30, || {
            gamma_gamma::log_likelihood(&gg, &gdata, Some(&mut gg_grad))
        }),
    );
    show(
        "fit both models (from the statistics)",
        time(5, || value::fit_both(&rows, 0.0).unwrap()),
    );
    let fitted = value::fit_both(&rows, 0.0).unwrap();
    let models = value::Models {
        bgnbd: fitted.bgnbd.params,
        gamma_gamma: fitted.gamma_gamma.params,
        unit: value::TimeUnit::Weeks,
    };
    let sample: Vec<value::Statistics> = rows
        .iter()
        .step_by((n / 10_000).max(1))
        .map(|r| value::Statistics {
            frequency: r.0,
            recency: r.1,
            t: r.2,
            monetary_value: r.3,
            first_purchase_on: chrono::NaiveDate::MIN,
            last_purchase_on: chrono::NaiveDate::MIN,
        })
        .collect();
    let (min, med, max) = time(5, || {
        sample
            .iter()
            .map(|s| {
                value::valuation(&models, s, 12, 0.01)
                    .unwrap()
                    .lifetime_value
            })
            .sum::<f64>()
    });
    let per = |d: Duration| d / u32::try_from(sample.len()).unwrap();
    show(
        "one customer's figures (12-month lifetime value)",
        (per(min), per(med), per(max)),
    );
}
