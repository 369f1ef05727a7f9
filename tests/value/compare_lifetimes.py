#!/usr/bin/env python3
"""Agreement with an independent implementation: the `lifetimes` package.

Draws a population with `goodwill value simulate`, fits it with
`goodwill value fit-file` and with lifetimes' BetaGeoFitter and
GammaGammaFitter (tight tolerances, so both land on the maximum), and checks:

- parameters agree to 4 significant figures (relative 1e-4... see TOLERANCES);
- the total log-likelihood, each evaluated by its own implementation in the
  original time unit, agrees to 1e-6 relative;
- per customer, P(alive), expected purchases over 12 months, expected average
  value and the 12-month lifetime value at 1 % a month (lifetimes'
  customer_lifetime_value with freq="W") agree to 4 significant figures.

With --time, fits the same statistics file with both and prints the times
(benchmarks/value_vs_lifetimes.sh uses it). Exit 0 when everything agrees.
"""
import argparse
import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

# Relative tolerances.
PARAMS = 1e-4
LOG_LIKELIHOOD = 1e-6
FIGURES = 1e-4


def rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-12)


def tightest(fit):
    """Fits with the tightest gradient tolerance scipy reaches (it stops with
    "precision loss" below what the data allow)."""
    for tol in (1e-10, 1e-9, 1e-8, 1e-7):
        try:
            return fit(tol)
        except Exception as e:  # lifetimes' ConvergenceError
            last = e
    raise last


def lifetimes_fit(d, penalizer):
    def fit_bg(tol):
        bg = BetaGeoFitter(penalizer_coef=penalizer)
        bg.fit(d["frequency"], d["recency"], d["T"], tol=tol)
        return bg
    r = d[(d.frequency > 0) & (d.monetary_value > 0)]
    def fit_gg(tol):
        gg = GammaGammaFitter(penalizer_coef=penalizer)
        gg.fit(r["frequency"], r["monetary_value"], tol=tol)
        return gg
    return tightest(fit_bg), tightest(fit_gg), r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--goodwill", default="target/debug/goodwill")
    ap.add_argument("--customers", type=int, default=4000)
    ap.add_argument("--seeds", default="7,8")
    ap.add_argument("--time", metavar="STATS_CSV", help="time both fits on this file")
    args = ap.parse_args()

    if args.time:
        d = pd.read_csv(args.time)
        t0 = time.perf_counter()
        out = json.loads(subprocess.check_output([args.goodwill, "value", "fit-file", args.time]))
        ours_wall = time.perf_counter() - t0
        ours = out["fit_ms"] / 1e3
        # lifetimes as its users call it: default tolerance, one row per customer.
        t0 = time.perf_counter()
        bg = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
        r = d[(d.frequency > 0) & (d.monetary_value > 0)]
        gg = GammaGammaFitter().fit(r["frequency"], r["monetary_value"])
        theirs = time.perf_counter() - t0
        # lifetimes given identical statistics once, with their counts as weights
        # (its documented speed-up; Gamma-Gamma's continuous values do not group).
        t0 = time.perf_counter()
        w = d.groupby(["frequency", "recency", "T"]).size().reset_index(name="weights")
        BetaGeoFitter().fit(w["frequency"], w["recency"], w["T"], weights=w["weights"])
        GammaGammaFitter().fit(r["frequency"], r["monetary_value"])
        theirs_grouped = time.perf_counter() - t0
        print(json.dumps({
            "customers": len(d),
            "goodwill_fit_s": ours,
            "goodwill_process_s": ours_wall,
            "lifetimes_fit_s": theirs,
            "lifetimes_grouped_fit_s": theirs_grouped,
            "ratio": theirs / ours,
            "ratio_grouped": theirs_grouped / ours,
            "goodwill": {"bgnbd": out["bgnbd"], "gamma_gamma": out["gamma_gamma"]},
            "lifetimes": {"bgnbd": dict(bg.params_), "gamma_gamma": dict(gg.params_)},
        }, indent=1))
        return 0

    failures = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        for penalizer in (0.0, 0.001):
            stats = f"/tmp/goodwill-compare-{seed}.csv"
            preds = f"/tmp/goodwill-compare-{seed}-pred.csv"
            with open(stats, "w") as f:
                subprocess.check_call(
                    [args.goodwill, "value", "simulate", "--customers", str(args.customers),
                     "--seed", str(seed)], stdout=f)
            ours = json.loads(subprocess.check_output(
                [args.goodwill, "value", "fit-file", stats, "--penalizer", str(penalizer),
                 "--predictions", preds]))
            d = pd.read_csv(stats)
            bg, gg, repeat = lifetimes_fit(d, penalizer)
            label = f"seed {seed}, penalizer {penalizer}"

            def check(what, got, want, tol):
                worst = float(np.max(rel(got, want)))
                ok = worst <= tol
                print(f"{'ok ' if ok else 'BAD'} {label}: {what}: worst relative difference {worst:.2e} (tolerance {tol:.0e})")
                if not ok:
                    failures.append(f"{label}: {what}")

            b, g = ours["bgnbd"], ours["gamma_gamma"]
            check("BG/NBD r, alpha, a, b", [b["r"], b["alpha"], b["a"], b["b"]],
                  [bg.params_["r"], bg.params_["alpha"], bg.params_["a"], bg.params_["b"]], PARAMS)
            check("Gamma-Gamma p, q, gamma", [g["p"], g["q"], g["gamma"]],
                  [gg.params_["p"], gg.params_["q"], gg.params_["v"]], PARAMS)
            if penalizer == 0.0:
                # Each log-likelihood by its own implementation, at its own
                # parameters, in the original time unit.
                ll_bg = -BetaGeoFitter._negative_log_likelihood(
                    np.log(bg.params_.values), d["frequency"].values, d["recency"].values,
                    d["T"].values, np.ones(len(d)), 0.0) * len(d)
                ll_gg = -GammaGammaFitter._negative_log_likelihood(
                    np.log(gg.params_.values), repeat["frequency"].values,
                    repeat["monetary_value"].values, np.ones(len(repeat)), 0.0) * len(repeat)
                check("BG/NBD log-likelihood", b["log_likelihood"], ll_bg, LOG_LIKELIHOOD)
                check("Gamma-Gamma log-likelihood", g["log_likelihood"], ll_gg, LOG_LIKELIHOOD)
            p = pd.read_csv(preds)
            check("P(alive) per customer", p["probability_alive"],
                  bg.conditional_probability_alive(d["frequency"], d["recency"], d["T"]), FIGURES)
            check("expected purchases in 12 months per customer", p["expected_purchases"],
                  bg.conditional_expected_number_of_purchases_up_to_time(
                      12 * 4.345, d["frequency"], d["recency"], d["T"]), FIGURES)
            check("expected average value per customer", p["expected_average_value"],
                  gg.conditional_expected_average_profit(d["frequency"], d["monetary_value"]), FIGURES)
            clv = gg.customer_lifetime_value(bg, d["frequency"], d["recency"], d["T"],
                                             d["monetary_value"], time=12, discount_rate=0.01,
                                             freq="W")
            check("12-month lifetime value per customer", p["lifetime_value"], clv.values, FIGURES)
    if failures:
        print("FAILED:", "; ".join(failures), file=sys.stderr)
        return 1
    print("goodwill agrees with lifetimes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
