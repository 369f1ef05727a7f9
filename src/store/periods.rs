//! Accounting periods (calendar months): closing, reopening, and the rule that
//! nothing takes an `effective_on` in a closed month.
//!
//! Race-free on PostgreSQL without touching a row per posting: whatever posts
//! into a month takes a shared transaction-scoped advisory lock on (tenant,
//! month) before it reads the month's state; closing takes the same lock
//! exclusively, so it waits for postings in flight and every later posting sees
//! the month closed. SQLite admits one writer at a time.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::DbConnection;
use super::schema::{entries, periods, write_offs};
use crate::audit::AuditCtx;
use crate::domain::FieldError;
use crate::domain::ids::TenantId;
use crate::error::{Error, ErrorCode};

use crate::domain::period::Month;

/// The advisory-lock keys of (tenant, month).
fn lock_keys(month: Month, tenant: TenantId) -> (i32, i32) {
    let b = tenant.0.as_bytes();
    let mut k = [0u8; 4];
    for (i, x) in b.iter().enumerate() {
        k[i % 4] ^= x;
    }
    (i32::from_be_bytes(k), month.index())
}

/// What a month's entries moved on one account in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Total {
    /// The account code.
    pub account: String,
    /// The currency.
    pub currency: String,
    /// Debits (minor units; 128 bits: a month's movement on an account can
    /// exceed 64 bits across the account's rows).
    pub debit_minor: i128,
    /// Credits (minor units).
    pub credit_minor: i128,
}

/// A month's state.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = periods)]
pub(crate) struct Period {
    /// `YYYY-MM`.
    pub month: String,
    /// `open` or `closed`.
    pub state: String,
    /// Who closed it last.
    pub closed_by: Option<String>,
    /// When.
    pub closed_at: Option<NaiveDateTime>,
    /// Why it was closed despite unreviewed write-offs.
    pub close_reason: Option<String>,
    /// Whether it was.
    pub forced: bool,
    /// The totals at close (JSON of [`Total`]s).
    pub totals: Option<String>,
    /// Their digest.
    pub digest: Option<String>,
    /// Who reopened it last.
    pub reopened_by: Option<String>,
    /// When.
    pub reopened_at: Option<NaiveDateTime>,
    /// Why.
    pub reopen_reason: Option<String>,
}

impl Period {
    fn open(month: Month) -> Self {
        Self {
            month: month.to_string(),
            state: "open".into(),
            closed_by: None,
            closed_at: None,
            close_reason: None,
            forced: false,
            totals: None,
            digest: None,
            reopened_by: None,
            reopened_at: None,
            reopen_reason: None,
        }
    }

    /// The totals kept at close.
    pub(crate) fn kept_totals(&self) -> Vec<Total> {
        self.totals
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    }
}

fn advisory(
    conn: &mut DbConnection,
    tenant: TenantId,
    month: Month,
    exclusive: bool,
) -> QueryResult<()> {
    if let DbConnection::Pg(c) = conn {
        let (a, b) = lock_keys(month, tenant);
        diesel::sql_query(if exclusive {
            "SELECT pg_advisory_xact_lock($1, $2)"
        } else {
            "SELECT pg_advisory_xact_lock_shared($1, $2)"
        })
        .bind::<diesel::sql_types::Integer, _>(a)
        .bind::<diesel::sql_types::Integer, _>(b)
        .execute(c)?;
    }
    Ok(())
}

fn find(conn: &mut DbConnection, tenant: TenantId, month: Month) -> QueryResult<Option<Period>> {
    periods::table
        .filter(
            periods::tenant_id
                .eq(tenant)
                .and(periods::month.eq(month.to_string())),
        )
        .select(Period::as_select())
        .first(conn)
        .optional()
}

/// 422 `period_closed` if `date` falls in a closed month; holds the month open
/// for the rest of the caller's transaction (PostgreSQL: a shared lock that
/// closing waits for).
pub fn check_open(conn: &mut DbConnection, tenant: TenantId, date: NaiveDate) -> Result<(), Error> {
    let month = Month::of(date);
    advisory(conn, tenant, month, false)?;
    match find(conn, tenant, month)? {
        Some(p) if p.state == "closed" => Err(Error::Unprocessable {
            code: ErrorCode::PeriodClosed,
            detail: format!(
                "{month} is closed: nothing may take an effective date in it; post a correction in an open month"
            ),
            errors: vec![FieldError::new(
                "effective_on",
                format!("falls in the closed period {month}"),
            )],
        }),
        _ => Ok(()),
    }
}

/// What the month's entries moved, per account and currency, recomputed from
/// the entries (an index range on their date).
pub(crate) fn totals(
    conn: &mut DbConnection,
    tenant: TenantId,
    month: Month,
) -> Result<Vec<Total>, Error> {
    let rows: Vec<(String, String, i64, i64)> = entries::table
        .filter(
            entries::tenant_id
                .eq(tenant)
                .and(entries::effective_on.ge(month.first_day()))
                .and(entries::effective_on.lt(month.next_first_day())),
        )
        .select((
            entries::account,
            entries::currency,
            entries::debit_minor,
            entries::credit_minor,
        ))
        .load(conn)?;
    let mut sums: BTreeMap<(String, String), (i128, i128)> = BTreeMap::new();
    for (account, currency, d, c) in rows {
        let e = sums.entry((account, currency)).or_default();
        e.0 += i128::from(d);
        e.1 += i128::from(c);
    }
    Ok(sums
        .into_iter()
        .map(|((account, currency), (debit_minor, credit_minor))| Total {
            account,
            currency,
            debit_minor,
            credit_minor,
        })
        .collect())
}

/// SHA-256 over one line per total (`account TAB currency TAB debit TAB credit`),
/// in account and currency order.
pub(crate) fn digest(totals: &[Total]) -> String {
    let mut h = Sha256::new();
    for t in totals {
        h.update(format!(
            "{}\t{}\t{}\t{}\n",
            t.account, t.currency, t.debit_minor, t.credit_minor
        ));
    }
    crate::audit::hex(&h.finalize())
}

/// A month's state (open when it has never been closed).
pub(crate) fn get(
    conn: &mut DbConnection,
    tenant: TenantId,
    month: Month,
) -> Result<Period, Error> {
    Ok(find(conn, tenant, month)?.unwrap_or_else(|| Period::open(month)))
}

/// Every month that was ever closed, newest first.
pub(crate) fn list(conn: &mut DbConnection, tenant: TenantId) -> Result<Vec<Period>, Error> {
    Ok(periods::table
        .filter(periods::tenant_id.eq(tenant))
        .select(Period::as_select())
        .order(periods::month.desc())
        .load(conn)?)
}

/// Closes a month that has ended: (before, after). Refused while it has
/// unreviewed write-offs unless forced with a reason.
pub(crate) fn close(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    month: Month,
    force: bool,
    reason: Option<String>,
) -> Result<(Period, Period), Error> {
    let tenant = ctx.tenant;
    if month.next_first_day() > ctx.now.date() {
        return Err(Error::Unprocessable {
            code: ErrorCode::PeriodNotEnded,
            detail: format!("{month} has not ended; only an ended month can be closed"),
            errors: Vec::new(),
        });
    }
    advisory(conn, tenant, month, true)?;
    // Stamped now that the lock is held: every posting that got into the month
    // has committed, so none carries a later `created_at` than the close.
    let closed_at = ctx.now_again();
    let before = get(conn, tenant, month)?;
    if before.state == "closed" {
        return Err(Error::Conflict {
            code: ErrorCode::PeriodAlreadyClosed,
            detail: format!("{month} is already closed"),
            existing_id: None,
        });
    }
    let unreviewed: i64 = write_offs::table
        .filter(
            write_offs::tenant_id
                .eq(tenant)
                .and(write_offs::status.eq("unreviewed"))
                .and(write_offs::effective_on.ge(month.first_day()))
                .and(write_offs::effective_on.lt(month.next_first_day())),
        )
        .count()
        .get_result(conn)?;
    let forced = unreviewed > 0;
    if forced && !force {
        return Err(Error::Unprocessable {
            code: ErrorCode::UnreviewedWriteOffs,
            detail: format!(
                "{month} has {unreviewed} unreviewed write-off(s); review them, or close with force and a reason"
            ),
            errors: Vec::new(),
        });
    }
    if forced && reason.is_none() {
        return Err(Error::field(
            "reason",
            "is required to close a month with unreviewed write-offs",
        ));
    }
    let t = totals(conn, tenant, month)?;
    let after = Period {
        month: month.to_string(),
        state: "closed".into(),
        closed_by: Some(ctx.actor_sub.clone()),
        closed_at: Some(closed_at),
        close_reason: reason,
        forced,
        digest: Some(digest(&t)),
        totals: Some(serde_json::to_string(&t).unwrap_or_else(|_| "[]".into())),
        reopened_by: before.reopened_by.clone(),
        reopened_at: before.reopened_at,
        reopen_reason: before.reopen_reason.clone(),
    };
    let exists = find(conn, tenant, month)?.is_some();
    save(conn, tenant, &after, exists)?;
    Ok((before, after))
}

/// Reopens a closed month: (before, after).
pub(crate) fn reopen(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    month: Month,
    reason: String,
) -> Result<(Period, Period), Error> {
    let tenant = ctx.tenant;
    advisory(conn, tenant, month, true)?;
    let reopened_at = ctx.now_again();
    let before = get(conn, tenant, month)?;
    if before.state != "closed" {
        return Err(Error::Conflict {
            code: ErrorCode::PeriodNotClosed,
            detail: format!("{month} is open"),
            existing_id: None,
        });
    }
    let mut after = before.clone();
    after.state = "open".into();
    after.reopened_by = Some(ctx.actor_sub.clone());
    after.reopened_at = Some(reopened_at);
    after.reopen_reason = Some(reason);
    save(conn, tenant, &after, true)?;
    Ok((before, after))
}

fn save(conn: &mut DbConnection, tenant: TenantId, p: &Period, exists: bool) -> QueryResult<()> {
    let values = (
        periods::state.eq(&p.state),
        periods::closed_by.eq(&p.closed_by),
        periods::closed_at.eq(p.closed_at),
        periods::close_reason.eq(&p.close_reason),
        periods::forced.eq(p.forced),
        periods::totals.eq(&p.totals),
        periods::digest.eq(&p.digest),
        periods::reopened_by.eq(&p.reopened_by),
        periods::reopened_at.eq(p.reopened_at),
        periods::reopen_reason.eq(&p.reopen_reason),
    );
    if exists {
        diesel::update(
            periods::table.filter(
                periods::tenant_id
                    .eq(tenant)
                    .and(periods::month.eq(&p.month)),
            ),
        )
        .set(values)
        .execute(conn)?;
    } else {
        diesel::insert_into(periods::table)
            .values((
                periods::tenant_id.eq(tenant),
                periods::month.eq(&p.month),
                values,
            ))
            .execute(conn)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_strictly_and_know_their_bounds() {
        let m = Month::parse("2026-12").unwrap();
        assert_eq!(m.to_string(), "2026-12");
        assert_eq!(m.first_day(), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert_eq!(
            m.next_first_day(),
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
        );
        for bad in [
            "2026-13",
            "2026-00",
            "26-01",
            "2026-1",
            "2026/01",
            "abcd-ef",
            "2026-01-01",
        ] {
            assert!(Month::parse(bad).is_none(), "{bad}");
        }
        let t = vec![Total {
            account: "writeoff_expense".into(),
            currency: "USD".into(),
            debit_minor: 25_000,
            credit_minor: 0,
        }];
        assert_eq!(digest(&t), digest(&t.clone()));
        assert_ne!(digest(&t), digest(&[]));
    }
}
