//! The totals finance's pages read (`report_totals`, `open_promise_totals`,
//! `promise_outcome_totals`, migration `000025_kept_report_totals`) are kept
//! by triggers on `gestures`. This module recomputes them from the gestures,
//! by a second, independent statement of the same rules written here, and
//! names every key where the kept figures differ (part of `ledger check`).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::ledger_check::Discrepancy;
use super::schema::gestures;
use crate::domain::gesture::{GestureKind, GestureStatus};
use crate::domain::ids::{GestureId, IncidentId, StoreId, TenantId};
use crate::error::Error;

/// (tenant, dimension, month, store, kind, currency, value) of `report_totals`.
type ReportKey = (String, String, NaiveDate, String, String, String, String);
/// (count, value, amount, retail, cost) in minor units.
type ReportFigures = [i128; 5];
/// (tenant, store, currency, due on) of `open_promise_totals`.
type OpenKey = (String, String, String, NaiveDate);
/// (tenant, month `YYYY-MM`, store, outcome) of `promise_outcome_totals`.
type OutcomeKey = (String, String, String, String);

/// What the kept totals should hold.
#[derive(Default, PartialEq, Eq, Debug)]
struct Totals {
    report: BTreeMap<ReportKey, ReportFigures>,
    open: BTreeMap<OpenKey, [i128; 2]>,
    outcomes: BTreeMap<OutcomeKey, i128>,
}

/// The columns of a gesture the rules read.
type GestureFacts = (
    TenantId,
    GestureId,
    StoreId,
    String,
    String,
    String,
    Option<IncidentId>,
    String,
    Option<String>,
    NaiveDate,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<NaiveDate>,
    i64,
    i64,
    NaiveDateTime,
);

impl Totals {
    /// Adds one gesture as the triggers do.
    fn add(&mut self, g: GestureFacts) {
        let (
            tenant,
            _,
            store,
            kind,
            status,
            reason,
            incident,
            requester,
            approval,
            effective_on,
            currency,
            amount,
            retail,
            cost,
            due_on,
            paid,
            waived,
            updated_at,
        ) = g;
        let (tenant, store) = (tenant.to_string(), store.to_string());
        let in_effect = GestureStatus::IN_EFFECT
            .iter()
            .any(|s| s.as_str() == status.as_str());
        if in_effect {
            let month = effective_on.with_day(1).unwrap_or(effective_on);
            let figures = [
                1,
                i128::from(amount.or(retail).unwrap_or(0)),
                i128::from(amount.unwrap_or(0)),
                i128::from(retail.unwrap_or(0)),
                i128::from(cost.unwrap_or(0)),
            ];
            for (dim, val) in [
                ("", String::new()),
                ("reason_code", reason),
                (
                    "incident",
                    incident.map(|i| i.to_string()).unwrap_or_default(),
                ),
                ("requester", requester),
                ("approver", super::reports::approver_of(approval.as_deref())),
            ] {
                // An empty value has no row: it is what the others leave.
                if !dim.is_empty() && val.is_empty() {
                    continue;
                }
                let e = self
                    .report
                    .entry((
                        tenant.clone(),
                        dim.to_owned(),
                        month,
                        store.clone(),
                        kind.clone(),
                        currency.clone(),
                        val,
                    ))
                    .or_default();
                for (x, f) in e.iter_mut().zip(figures) {
                    *x += f;
                }
            }
        }
        if kind != GestureKind::DeferredPayment.as_str() {
            return;
        }
        let owed = amount.unwrap_or(0) - paid - waived;
        match (status.as_str(), due_on) {
            ("approved", Some(due_on)) if owed > 0 => {
                let e = self
                    .open
                    .entry((tenant, store, currency, due_on))
                    .or_default();
                e[0] += 1;
                e[1] += i128::from(owed);
            }
            ("settled" | "written_off", _) => {
                *self
                    .outcomes
                    .entry((
                        tenant,
                        updated_at.format("%Y-%m").to_string(),
                        store,
                        status,
                    ))
                    .or_default() += 1;
            }
            _ => {}
        }
    }
}

/// The gestures' totals, read 5,000 gestures at a time.
fn expected(conn: &mut DbConnection, tenant: Option<TenantId>) -> Result<Totals, Error> {
    let mut out = Totals::default();
    let mut after: Option<(TenantId, GestureId)> = None;
    loop {
        let mut q = gestures::table
            .select((
                gestures::tenant_id,
                gestures::id,
                gestures::store_id,
                gestures::kind,
                gestures::status,
                gestures::reason_code,
                gestures::incident_id,
                gestures::requested_by,
                gestures::approval,
                gestures::effective_on,
                gestures::currency,
                gestures::amount_minor,
                gestures::retail_value_minor,
                gestures::cost_minor,
                gestures::due_on,
                gestures::paid_minor,
                gestures::waived_minor,
                gestures::updated_at,
            ))
            .order((gestures::tenant_id, gestures::id))
            .limit(5_000)
            .into_boxed();
        if let Some(t) = tenant {
            q = q.filter(gestures::tenant_id.eq(t));
        }
        if let Some((t, id)) = after {
            q = q.filter(
                gestures::tenant_id
                    .gt(t)
                    .or(gestures::tenant_id.eq(t).and(gestures::id.gt(id))),
            );
        }
        let rows: Vec<GestureFacts> = q.load(conn)?;
        let done = rows.len() < 5_000;
        after = rows.last().map(|r| (r.0, r.1));
        for r in rows {
            out.add(r);
        }
        if done {
            break;
        }
    }
    Ok(out)
}

/// What the kept totals hold, summed over their shards; keys whose sums are
/// all zero (everything once added was taken out again) left out.
fn recorded(conn: &mut DbConnection, tenant: Option<TenantId>) -> Result<Totals, Error> {
    use diesel::sql_types::{Date, Text};
    #[derive(QueryableByName)]
    struct Report {
        #[diesel(sql_type = Text)]
        tenant_id: String,
        #[diesel(sql_type = Text)]
        dim: String,
        #[diesel(sql_type = Date)]
        month: NaiveDate,
        #[diesel(sql_type = Text)]
        store_id: String,
        #[diesel(sql_type = Text)]
        kind: String,
        #[diesel(sql_type = Text)]
        currency: String,
        #[diesel(sql_type = Text)]
        val: String,
        #[diesel(sql_type = Text)]
        sums: String,
    }
    #[derive(QueryableByName)]
    struct Open {
        #[diesel(sql_type = Text)]
        tenant_id: String,
        #[diesel(sql_type = Text)]
        store_id: String,
        #[diesel(sql_type = Text)]
        currency: String,
        #[diesel(sql_type = Date)]
        due_on: NaiveDate,
        #[diesel(sql_type = Text)]
        sums: String,
    }
    #[derive(QueryableByName)]
    struct Outcome {
        #[diesel(sql_type = Text)]
        tenant_id: String,
        #[diesel(sql_type = Text)]
        month: String,
        #[diesel(sql_type = Text)]
        store_id: String,
        #[diesel(sql_type = Text)]
        outcome: String,
        #[diesel(sql_type = Text)]
        sums: String,
    }
    /// `a b c ...` of whole numbers, each exact.
    fn sums<const N: usize>(s: &str) -> [i128; N] {
        let mut out = [0; N];
        for (x, v) in out.iter_mut().zip(s.split(' ')) {
            *x = v.parse().unwrap_or(i128::MIN);
        }
        out
    }
    let only = match tenant {
        // A TenantId is a parsed UUID: safe to inline.
        Some(t) => format!("tenant_id = '{t}'"),
        None => "1 = 1".into(),
    };
    let sum = |cols: &[&str]| {
        cols.iter()
            .map(|c| format!("CAST(SUM({c}) AS TEXT)"))
            .collect::<Vec<_>>()
            .join(" || ' ' || ")
    };
    let mut out = Totals::default();
    let report: Vec<Report> = diesel::sql_query(format!(
        "SELECT CAST(tenant_id AS TEXT) AS tenant_id, dim, month, CAST(store_id AS TEXT) AS store_id,
                kind, currency, val, {} AS sums
         FROM report_totals WHERE {only} GROUP BY 1, 2, 3, 4, 5, 6, 7",
        sum(&[
            "n",
            "value_minor",
            "amount_minor",
            "retail_minor",
            "cost_minor"
        ])
    ))
    .load(conn)?;
    for r in report {
        let s: ReportFigures = sums(&r.sums);
        if s.iter().any(|x| *x != 0) {
            out.report.insert(
                (
                    r.tenant_id,
                    r.dim,
                    r.month,
                    r.store_id,
                    r.kind,
                    r.currency,
                    r.val,
                ),
                s,
            );
        }
    }
    let open: Vec<Open> = diesel::sql_query(format!(
        "SELECT CAST(tenant_id AS TEXT) AS tenant_id, CAST(store_id AS TEXT) AS store_id, currency,
                due_on, {} AS sums
         FROM open_promise_totals WHERE {only} GROUP BY 1, 2, 3, 4",
        sum(&["n", "owed_minor"])
    ))
    .load(conn)?;
    for r in open {
        let s = sums(&r.sums);
        if s.iter().any(|x| *x != 0) {
            out.open
                .insert((r.tenant_id, r.store_id, r.currency, r.due_on), s);
        }
    }
    let outcomes: Vec<Outcome> = diesel::sql_query(format!(
        "SELECT CAST(tenant_id AS TEXT) AS tenant_id, month, CAST(store_id AS TEXT) AS store_id,
                outcome, {} AS sums
         FROM promise_outcome_totals WHERE {only} GROUP BY 1, 2, 3, 4",
        sum(&["n"])
    ))
    .load(conn)?;
    for r in outcomes {
        let [n] = sums(&r.sums);
        if n != 0 {
            out.outcomes
                .insert((r.tenant_id, r.month, r.store_id, r.outcome), n);
        }
    }
    Ok(out)
}

/// Every key where a kept total differs from what the gestures add up to
/// (`kept_total_mismatch`).
pub(crate) fn check(
    conn: &mut DbConnection,
    tenant: Option<TenantId>,
) -> Result<Vec<Discrepancy>, Error> {
    let want = expected(conn, tenant)?;
    let have = recorded(conn, tenant)?;
    let mut out = Vec::new();
    let mut differ = |tenant: &str, subject: String, have: String, want: String| {
        out.push(Discrepancy {
            check: "kept_total_mismatch",
            tenant_id: tenant.to_owned(),
            subject,
            detail: format!("kept {have}, the gestures say {want}"),
        });
    };
    let report = |f: &ReportFigures| {
        format!(
            "count {} value {} amount {} retail {} cost {} (minor units)",
            f[0], f[1], f[2], f[3], f[4]
        )
    };
    compare(&have.report, &want.report, |k, h, w| {
        let (dim, val) = if k.1.is_empty() {
            (String::new(), String::new())
        } else {
            (format!(" {}", k.1), format!(" {:?}", k.6))
        };
        differ(
            &k.0,
            format!(
                "report_totals {}{dim}{val} store {} {} {}",
                k.2.format("%Y-%m"),
                k.3,
                k.4,
                k.5
            ),
            report(h),
            report(w),
        );
    });
    compare(&have.open, &want.open, |k, h, w| {
        differ(
            &k.0,
            format!("open_promise_totals store {} {} due {}", k.1, k.2, k.3),
            format!("count {} owed {} (minor units)", h[0], h[1]),
            format!("count {} owed {} (minor units)", w[0], w[1]),
        );
    });
    compare(&have.outcomes, &want.outcomes, |k, h, w| {
        differ(
            &k.0,
            format!("promise_outcome_totals store {} {} {}", k.2, k.1, k.3),
            format!("count {h}"),
            format!("count {w}"),
        );
    });
    Ok(out)
}

/// Calls `differ(key, kept, expected)` for every key the two maps disagree on.
fn compare<K: Ord, V: Default + PartialEq>(
    have: &BTreeMap<K, V>,
    want: &BTreeMap<K, V>,
    mut differ: impl FnMut(&K, &V, &V),
) {
    let zero = V::default();
    for (k, h) in have {
        let w = want.get(k).unwrap_or(&zero);
        if h != w {
            differ(k, h, w);
        }
    }
    for (k, w) in want {
        if !have.contains_key(k) && *w != zero {
            differ(k, &zero, w);
        }
    }
}
