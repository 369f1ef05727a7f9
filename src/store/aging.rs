//! Aging of promises: open deferred payments by days past due, per store and
//! currency, and how promises are kept.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{gestures, memo_totals};
use crate::domain::gesture::{GestureKind, GestureStatus};
use crate::domain::ids::{StoreId, TenantId};
use crate::domain::ledger::Memo;
use crate::error::Error;

/// The buckets, in order: not yet due, 1–30, 31–60, 61–90, over 90 days past due.
pub(crate) const BUCKETS: [&str; 5] = ["not_yet_due", "1_30", "31_60", "61_90", "over_90"];

/// The bucket of a promise due on `due_on`, seen on `as_of`.
pub(crate) fn bucket(due_on: NaiveDate, as_of: NaiveDate) -> usize {
    match (as_of - due_on).num_days() {
        d if d <= 0 => 0,
        1..=30 => 1,
        31..=60 => 2,
        61..=90 => 3,
        _ => 4,
    }
}

/// One store and currency: (count, outstanding minor units) per bucket; the
/// outstanding summed in 128 bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Aging {
    /// The store.
    pub store_id: StoreId,
    /// The currency code.
    pub currency: String,
    /// Per bucket of [`BUCKETS`].
    pub buckets: [(i64, i128); 5],
}

/// (store, currency, due on, amount, paid, waived) of an open promise.
type OpenPromise = (StoreId, String, Option<NaiveDate>, Option<i64>, i64, i64);

/// One store, currency and bucket of the kept totals.
#[derive(QueryableByName)]
struct BucketRow {
    #[diesel(sql_type = crate::store::sql_types::Uuid)]
    store_id: StoreId,
    #[diesel(sql_type = diesel::sql_types::Text)]
    currency: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    bucket: i32,
    #[diesel(sql_type = diesel::sql_types::Text)]
    n: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    outstanding: String,
}

/// The open deferred payments given on or before `as_of`, aged on `as_of`:
/// what is still owed per store, currency and due day is kept as promises
/// change (`open_promise_totals`, migration `000025_kept_report_totals`), so
/// this sums a few rows per due day, then takes out the few promises given
/// after `as_of` (none when it is today).
pub(crate) fn aging(
    conn: &mut DbConnection,
    tenant: TenantId,
    stores: Option<&[StoreId]>,
    as_of: NaiveDate,
) -> Result<Vec<Aging>, Error> {
    let since = |days: u64| {
        as_of
            .checked_sub_days(chrono::Days::new(days))
            .unwrap_or(NaiveDate::MIN)
    };
    let (b1, b2, b3) = (since(30), since(60), since(90));
    let only = super::store_id_in(stores);
    // Inlined values are typed: a UUID and formatted dates.
    let sql = format!(
        "SELECT store_id, currency,
                CASE WHEN due_on >= '{as_of}' THEN 0 WHEN due_on >= '{b1}' THEN 1
                     WHEN due_on >= '{b2}' THEN 2 WHEN due_on >= '{b3}' THEN 3 ELSE 4 END AS bucket,
                CAST(SUM(n) AS TEXT) AS n, CAST(SUM(owed_minor) AS TEXT) AS outstanding
         FROM open_promise_totals
         WHERE tenant_id = '{tenant}'{only}
         GROUP BY 1, 2, 3
         HAVING SUM(n) <> 0"
    );
    let rows: Vec<BucketRow> = diesel::sql_query(sql).load(conn)?;
    let mut out: BTreeMap<(StoreId, String), [(i64, i128); 5]> = BTreeMap::new();
    for r in rows {
        let b = usize::try_from(r.bucket).unwrap_or(4).min(4);
        let e = &mut out.entry((r.store_id, r.currency)).or_default()[b];
        e.0 += r.n.parse::<i64>().unwrap_or(0);
        e.1 += r.outstanding.parse::<i128>().unwrap_or(0);
    }
    // Promises given after `as_of` are not open on it.
    let mut q = gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::effective_on.gt(as_of))
                .and(gestures::kind.eq(GestureKind::DeferredPayment.as_str()))
                .and(gestures::status.eq(GestureStatus::Approved.as_str())),
        )
        .select((
            gestures::store_id,
            gestures::currency,
            gestures::due_on,
            gestures::amount_minor,
            gestures::paid_minor,
            gestures::waived_minor,
        ))
        .into_boxed();
    if let Some(s) = stores {
        q = q.filter(gestures::store_id.eq_any(s.to_vec()));
    }
    let later: Vec<OpenPromise> = q.load(conn)?;
    for (store, currency, due_on, amount, paid, waived) in later {
        let outstanding = amount.unwrap_or(0) - paid - waived;
        let Some(due_on) = due_on.filter(|_| outstanding > 0) else {
            continue;
        };
        let b = &mut out.entry((store, currency)).or_default()[bucket(due_on, as_of)];
        b.0 -= 1;
        b.1 -= i128::from(outstanding);
    }
    Ok(out
        .into_iter()
        .filter(|(_, buckets)| buckets.iter().any(|(n, _)| *n != 0))
        .map(|((store_id, currency), buckets)| Aging {
            store_id,
            currency,
            buckets,
        })
        .collect())
}

/// One open promise, aged.
#[derive(Clone, Debug)]
pub(crate) struct OpenLine {
    /// The deferred payment.
    pub id: crate::domain::ids::GestureId,
    /// Its customer.
    pub customer_id: crate::domain::ids::CustomerId,
    /// Its store.
    pub store_id: StoreId,
    /// Its currency code.
    pub currency: String,
    /// When it was given.
    pub effective_on: NaiveDate,
    /// When it is due.
    pub due_on: NaiveDate,
    /// What is still owed (minor units).
    pub outstanding: i64,
}

/// The open promises behind [`aging`], one by one, oldest due first (of one
/// bucket when given).
pub(crate) fn open_lines(
    conn: &mut DbConnection,
    tenant: TenantId,
    stores: Option<&[StoreId]>,
    as_of: NaiveDate,
    only_bucket: Option<usize>,
) -> Result<Vec<OpenLine>, Error> {
    let mut q = gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::kind.eq(GestureKind::DeferredPayment.as_str()))
                .and(gestures::status.eq(GestureStatus::Approved.as_str()))
                .and(gestures::effective_on.le(as_of)),
        )
        .select((
            gestures::id,
            gestures::customer_id,
            gestures::store_id,
            gestures::currency,
            gestures::effective_on,
            gestures::due_on,
            gestures::amount_minor,
            gestures::paid_minor,
            gestures::waived_minor,
        ))
        .into_boxed();
    if let Some(s) = stores {
        q = q.filter(gestures::store_id.eq_any(s.to_vec()));
    }
    type Row = (
        crate::domain::ids::GestureId,
        crate::domain::ids::CustomerId,
        StoreId,
        String,
        NaiveDate,
        Option<NaiveDate>,
        Option<i64>,
        i64,
        i64,
    );
    let rows: Vec<Row> = q.load(conn)?;
    let mut out: Vec<OpenLine> = rows
        .into_iter()
        .filter_map(
            |(id, customer_id, store_id, currency, effective_on, due_on, amount, paid, waived)| {
                let outstanding = amount.unwrap_or(0) - paid - waived;
                let due_on = due_on.filter(|_| outstanding > 0)?;
                let bucket = bucket(due_on, as_of);
                only_bucket.is_none_or(|b| b == bucket).then_some(OpenLine {
                    id,
                    customer_id,
                    store_id,
                    currency,
                    effective_on,
                    due_on,
                    outstanding,
                })
            },
        )
        .collect();
    out.sort_by_key(|l| (l.due_on, l.id));
    Ok(out)
}

/// (kept, written off) per store and month (`YYYY-MM`).
pub(crate) type KeepingByMonth = BTreeMap<(StoreId, String), (i64, i64)>;

/// Per store and month (`YYYY-MM` of when they were decided, from the month
/// of `from` on): promises (kept, written off). A promise is decided when it
/// is settled or written off; the counts are kept as promises change
/// (`promise_outcome_totals`).
pub(crate) fn keeping_by_month(
    conn: &mut DbConnection,
    tenant: TenantId,
    stores: Option<&[StoreId]>,
    from: NaiveDate,
) -> Result<KeepingByMonth, Error> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = crate::store::sql_types::Uuid)]
        store_id: StoreId,
        #[diesel(sql_type = diesel::sql_types::Text)]
        month: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        outcome: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        n: String,
    }
    let only = super::store_id_in(stores);
    // Inlined values are typed: a UUID and a formatted month.
    let sql = format!(
        "SELECT store_id, month, outcome, CAST(SUM(n) AS TEXT) AS n FROM promise_outcome_totals
         WHERE tenant_id = '{tenant}' AND month >= '{month}'{only}
         GROUP BY 1, 2, 3
         HAVING SUM(n) <> 0",
        month = from.format("%Y-%m"),
    );
    let rows: Vec<Row> = diesel::sql_query(sql).load(conn)?;
    let mut out = KeepingByMonth::new();
    for r in rows {
        let n = r.n.parse::<i64>().unwrap_or(0);
        let e = out.entry((r.store_id, r.month)).or_default();
        if r.outcome == GestureStatus::Settled.as_str() {
            e.0 += n;
        } else {
            e.1 += n;
        }
    }
    Ok(out)
}

/// How the tenant's promises were kept: (on time, late, written off), from the
/// maintained per-customer totals.
pub(crate) fn keeping(conn: &mut DbConnection, tenant: TenantId) -> Result<(i64, i64, i64), Error> {
    let outcomes = [
        Memo::PromisesKeptOnTime,
        Memo::PromisesKeptLate,
        Memo::PromisesWrittenOff,
    ];
    let rows: Vec<(String, i64)> = memo_totals::table
        .filter(
            memo_totals::tenant_id
                .eq(tenant)
                .and(memo_totals::memo.eq_any(outcomes.map(Memo::as_str))),
        )
        .select((memo_totals::memo, memo_totals::count))
        .load(conn)?;
    let [on_time, late, written_off] = outcomes.map(|m| {
        rows.iter()
            .filter(|(x, _)| x == m.as_str())
            .map(|(_, n)| n)
            .sum()
    });
    Ok((on_time, late, written_off))
}

/// How the promises made at `stores` were kept: (on time, late, written
/// off), from the promises themselves — the maintained totals are per
/// customer, not per store. A settled promise was kept on time when the
/// payment that settled it (the last recorded) was paid by its due day, the
/// rule the totals follow.
pub(crate) fn keeping_at(
    conn: &mut DbConnection,
    tenant: TenantId,
    stores: &[StoreId],
) -> Result<(i64, i64, i64), Error> {
    use super::schema::payments;
    let decided: Vec<(crate::domain::ids::GestureId, String, Option<NaiveDate>)> = gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::store_id.eq_any(stores))
                .and(gestures::kind.eq(GestureKind::DeferredPayment.as_str()))
                .and(gestures::status.eq_any([
                    GestureStatus::Settled.as_str(),
                    GestureStatus::WrittenOff.as_str(),
                ])),
        )
        .select((gestures::id, gestures::status, gestures::due_on))
        .load(conn)?;
    let settled: Vec<_> = decided
        .iter()
        .filter(|(_, s, _)| s == GestureStatus::Settled.as_str())
        .map(|(id, _, _)| *id)
        .collect();
    let mut last: std::collections::HashMap<_, (chrono::NaiveDateTime, NaiveDate)> =
        std::collections::HashMap::new();
    for chunk in settled.chunks(1000) {
        let paid: Vec<(
            crate::domain::ids::GestureId,
            chrono::NaiveDateTime,
            NaiveDate,
        )> = payments::table
            .filter(
                payments::tenant_id
                    .eq(tenant)
                    .and(payments::gesture_id.eq_any(chunk))
                    .and(payments::status.eq("posted")),
            )
            .select((
                payments::gesture_id,
                payments::created_at,
                payments::paid_on,
            ))
            .load(conn)?;
        for (g, at, on) in paid {
            let e = last.entry(g).or_insert((at, on));
            if at > e.0 {
                *e = (at, on);
            }
        }
    }
    let (mut on_time, mut late, mut written_off) = (0, 0, 0);
    for (id, status, due) in &decided {
        if status == GestureStatus::WrittenOff.as_str() {
            written_off += 1;
        } else if last
            .get(id)
            .is_some_and(|(_, on)| due.is_some_and(|d| *on <= d))
        {
            on_time += 1;
        } else {
            late += 1;
        }
    }
    Ok((on_time, late, written_off))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_by_days_past_due() {
        let as_of = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        for (days, want) in [
            (-10, "not_yet_due"),
            (0, "not_yet_due"),
            (1, "1_30"),
            (30, "1_30"),
            (31, "31_60"),
            (60, "31_60"),
            (61, "61_90"),
            (90, "61_90"),
            (91, "over_90"),
            (400, "over_90"),
        ] {
            let due = as_of - chrono::TimeDelta::days(days);
            assert_eq!(BUCKETS[bucket(due, as_of)], want, "{days} days past due");
        }
    }
}
