//! Finance: reviewing write-offs, closing and reopening months, the account
//! map of the journal export.

use crate::app::Ctx;
use crate::audit::NewEvent;
use crate::domain::account_map::AccountMap;
use crate::domain::ids::GestureId;
use crate::domain::period::Month;
use crate::domain::roles::Permission;
use crate::error::Error;
use crate::store::DbConnection;
use crate::store::periods::Period;
use crate::store::write_offs::WriteOff;
use crate::views::finance::{PeriodView, WriteOffView};

/// Reviews write-off items, all or nothing: each `reviewed` or `flagged`, at a
/// store the token holds, never by its requester or approver
/// (`writeoff.reviewed` / `writeoff.flagged` per item). `ids` name each item
/// with the field a refusal names (empty for a single item).
pub(crate) fn review_write_offs(
    conn: &mut DbConnection,
    ctx: &Ctx,
    ids: &[(String, GestureId)],
    outcome: &str,
    note: Option<String>,
) -> Result<Vec<WriteOff>, Error> {
    ctx.require(Permission::WriteOffsReview)?;
    let mut done = Vec::with_capacity(ids.len());
    for (field, id) in ids {
        done.push(crate::store::write_offs::review(
            conn,
            ctx,
            *id,
            outcome,
            note.clone(),
            field,
        )?);
    }
    let all: Vec<GestureId> = done.iter().map(|(b, _)| b.id).collect();
    let reviews = crate::store::write_offs::reviews_of(conn, ctx.tenant, &all)?;
    let mut out = Vec::with_capacity(done.len());
    for (before, after) in done {
        // The reviews before this one are those made before it.
        let earlier: Vec<_> = reviews
            .iter()
            .filter(|r| r.write_off_id == before.id && r.created_at < ctx.now)
            .cloned()
            .collect();
        let was = WriteOffView::of(&before, &earlier)?;
        let is = WriteOffView::of(&after, &reviews)?;
        let mut ev = NewEvent::changed(
            if outcome == "flagged" {
                "writeoff.flagged"
            } else {
                "writeoff.reviewed"
            },
            "write_off",
            after.id,
            &was,
            &is,
        );
        if let Some(n) = &note {
            ev = ev.because(n.clone());
        }
        crate::store::audit::append(conn, ctx, ev)?;
        out.push(after);
    }
    Ok(out)
}

/// Closes a month that has ended, for the whole tenant (`period.closed`):
/// refused while it holds unreviewed write-offs unless forced with a reason.
pub(crate) fn close_period(
    conn: &mut DbConnection,
    ctx: &Ctx,
    month: Month,
    force: bool,
    reason: Option<String>,
) -> Result<Period, Error> {
    ctx.require(Permission::PeriodsClose)?;
    ctx.require_tenant_wide()?;
    let (before, after) = crate::store::periods::close(conn, ctx, month, force, reason.clone())?;
    // The event is dated as the close is: after the month's lock was granted.
    let ctx = &Ctx {
        now: after.closed_at.unwrap_or(ctx.now),
        ..ctx.clone()
    };
    let mut ev = NewEvent::changed(
        "period.closed",
        "period",
        month,
        &PeriodView::of(before, None)?,
        &PeriodView::of(after.clone(), None)?,
    );
    if let Some(r) = reason {
        ev = ev.because(r);
    }
    crate::store::audit::append(conn, ctx, ev)?;
    Ok(after)
}

/// Reopens a closed month, with the reason (`period.reopened`).
pub(crate) fn reopen_period(
    conn: &mut DbConnection,
    ctx: &Ctx,
    month: Month,
    reason: String,
) -> Result<Period, Error> {
    ctx.require(Permission::PeriodsReopen)?;
    ctx.require_tenant_wide()?;
    let (before, after) = crate::store::periods::reopen(conn, ctx, month, reason.clone())?;
    let ctx = &Ctx {
        now: after.reopened_at.unwrap_or(ctx.now),
        ..ctx.clone()
    };
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::changed(
            "period.reopened",
            "period",
            month,
            &PeriodView::of(before, None)?,
            &PeriodView::of(after.clone(), None)?,
        )
        .because(reason),
    )?;
    Ok(after)
}

/// Replaces the tenant's account map (`account_map.updated`).
pub(crate) fn set_account_map(
    conn: &mut DbConnection,
    ctx: &Ctx,
    map: AccountMap,
) -> Result<AccountMap, Error> {
    ctx.require(Permission::AccountMapWrite)?;
    ctx.require_tenant_wide()?;
    let (before, after) = crate::store::journal::put_account_map(conn, ctx, map)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::changed(
            "account_map.updated",
            "account_map",
            ctx.tenant,
            &before,
            &after,
        ),
    )?;
    Ok(after)
}

/// The aging of promises on `as_of`: open deferred payments by days past due,
/// per store and currency (of one store, or of every store the actor holds),
/// and the tenant's promise-keeping rates.
pub(crate) fn aging(
    conn: &mut DbConnection,
    ctx: &Ctx,
    store_id: Option<crate::domain::ids::StoreId>,
    as_of: chrono::NaiveDate,
) -> Result<crate::views::finance::AgingView, Error> {
    use crate::domain::money::{Currency, Money};
    use crate::views::finance::{AgingRowView, AgingView, BucketView, KeepingView};
    ctx.require(Permission::ReportsRead)?;
    let stores = ctx.scope(store_id)?;
    let rows = crate::store::aging::aging(conn, ctx.tenant, stores.as_deref(), as_of)?;
    // The tenant's record from its maintained totals; a store-scoped
    // caller's from the promises of their stores alone.
    let (on_time, late, written_off) = match &stores {
        None => crate::store::aging::keeping(conn, ctx.tenant)?,
        Some(s) => crate::store::aging::keeping_at(conn, ctx.tenant, s)?,
    };
    let decided = on_time + late + written_off;
    #[allow(clippy::cast_precision_loss)]
    let rate = |n: i64| (decided > 0).then(|| n as f64 / decided as f64);
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let Some(c) = Currency::from_code(&r.currency) else {
            continue;
        };
        let bucket = |(count, minor): (i64, i128)| -> Result<BucketView, Error> {
            Ok(BucketView {
                count,
                amount: Money::from_wide(minor, c).ok_or_else(Error::figure_too_large)?,
            })
        };
        let total = r
            .buckets
            .iter()
            .fold((0, 0), |(n, m), (bn, bm)| (n + bn, m + bm));
        let mut buckets = std::collections::BTreeMap::new();
        for (name, b) in crate::store::aging::BUCKETS.into_iter().zip(r.buckets) {
            buckets.insert(name, bucket(b)?);
        }
        out.push(AgingRowView {
            store_id: r.store_id,
            currency: r.currency.clone(),
            buckets,
            total: bucket(total)?,
        });
    }
    Ok(AgingView {
        as_of,
        stores: out,
        promise_keeping: KeepingView {
            kept_on_time: on_time,
            kept_late: late,
            written_off,
            on_time_rate: rate(on_time),
            late_rate: rate(late),
            written_off_rate: rate(written_off),
        },
    })
}

/// The open promises behind the aging, oldest due first, of one bucket
/// (`crate::store::aging::BUCKETS` index) or all, at one store or every store
/// the actor holds, each with the customer's and the store's names: at most
/// `limit`, and whether there are more.
pub(crate) fn aging_promises(
    conn: &mut DbConnection,
    ctx: &Ctx,
    store_id: Option<crate::domain::ids::StoreId>,
    bucket: Option<usize>,
    as_of: chrono::NaiveDate,
    limit: usize,
) -> Result<crate::views::finance::AgingPromisesView, Error> {
    use crate::domain::money::{Currency, Money};
    use crate::store::aging::BUCKETS;
    use crate::views::finance::{AgingPromiseView, AgingPromisesView};
    ctx.require(Permission::ReportsRead)?;
    let stores = ctx.scope(store_id)?;
    let lines =
        crate::store::aging::open_lines(conn, ctx.tenant, stores.as_deref(), as_of, bucket)?;
    let has_more = lines.len() > limit;
    let lines = &lines[..lines.len().min(limit)];
    let ids: Vec<_> = lines.iter().map(|l| l.customer_id).collect();
    let mut names = crate::app::names::Names::load(conn, ctx.tenant)?;
    names.prefetch_customers(conn, &ids)?;
    let mut data = Vec::with_capacity(lines.len());
    for l in lines {
        let Some(cur) = Currency::from_code(&l.currency) else {
            return Err(Error::internal(format!(
                "open promise {} is in an unknown currency",
                l.id
            )));
        };
        data.push(AgingPromiseView {
            id: l.id,
            customer: names.customer_ref(conn, l.customer_id)?,
            store: names.store_ref(l.store_id),
            bucket: BUCKETS[crate::store::aging::bucket(l.due_on, as_of)],
            outstanding: Money::from_minor(l.outstanding, cur),
            effective_on: l.effective_on,
            due_on: l.due_on,
            days_overdue: (as_of - l.due_on).num_days().max(0),
        });
    }
    Ok(AgingPromisesView {
        as_of,
        bucket: bucket.map(|b| BUCKETS[b]),
        data,
        has_more,
    })
}

/// The tenant's ledger accounts that hold entries (of one `kind`, or all), in
/// account order after `after`: each with whose it is, the code the journal
/// exports it under, and its sums. At most `limit`, and whether more follow.
pub(crate) fn accounts(
    conn: &mut DbConnection,
    ctx: &Ctx,
    kind: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<crate::views::finance::AccountView>, bool), Error> {
    use crate::domain::account_map::{self, Owner};
    use crate::domain::money::{Currency, Money};
    use crate::views::finance::{AccountSums, AccountView};
    ctx.require(Permission::FinanceRead)?;
    ctx.require_tenant_wide()?;
    let (rows, more) = crate::store::journal::accounts(conn, ctx.tenant, kind, after, limit)?;
    let (map, _) = crate::store::journal::account_map(conn, ctx.tenant)?;
    let mut names = crate::app::names::Names::load(conn, ctx.tenant)?;
    let ids: Vec<_> = rows.iter().filter_map(|r| r.customer_id).collect();
    names.prefetch_customers(conn, &ids)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (customer, store) = match account_map::owner(&r.account) {
            Some(Owner::Customer(_)) => match r.customer_id {
                Some(c) => (Some(names.customer_ref(conn, c)?), None),
                None => (None, None),
            },
            Some(Owner::Store(s)) => (None, s.parse().ok().map(|s| names.store_ref(s))),
            None => (None, None),
        };
        let whose = customer
            .as_ref()
            .map(|c| c.external_ref.as_str())
            .or(store.as_ref().map(|s| s.code.as_str()));
        let (export_code, export_name, mapped) = map.resolve_how(&r.account);
        let mut sums = Vec::with_capacity(r.sums.len());
        for (currency, debit, credit) in r.sums {
            let cur = Currency::from_code(&currency).ok_or_else(|| {
                Error::internal(format!("account {} has an unknown currency", r.account))
            })?;
            let wide = |m: i128| Money::from_wide(m, cur).ok_or_else(Error::figure_too_large);
            sums.push(AccountSums {
                debit: wide(debit)?,
                credit: wide(credit)?,
                currency,
            });
        }
        out.push(AccountView {
            kind: account_map::kind(&r.account).to_owned(),
            label: account_map::label(&r.account, whose),
            account: r.account,
            customer,
            store,
            export_code,
            export_name,
            mapped,
            sums,
        });
    }
    Ok((out, more))
}
