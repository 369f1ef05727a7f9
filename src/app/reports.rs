//! Reports for managers: recognitions of their staff (S4).

use chrono::NaiveDate;

use crate::app::Ctx;
use crate::domain::ids::StoreId;
use crate::domain::roles::Permission;
use crate::error::Error;
use crate::store::DbConnection;
use crate::store::reports::{Figures, GroupBy};
use crate::views::report::{GoodwillReport, Praise, RecognitionReport, StaffRecognitions, row};

/// Recognitions per staff member and store between `from` and `to`, with the
/// customers' words, most recognised first: of one store, or of every store
/// the actor holds.
pub(crate) fn recognition_report(
    conn: &mut DbConnection,
    ctx: &Ctx,
    store_id: Option<StoreId>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<RecognitionReport, Error> {
    ctx.require(Permission::RecognitionReport)?;
    let stores = ctx.scope(store_id)?;
    let (rows, names) =
        crate::store::reports::recognitions(conn, ctx.tenant, stores.as_deref(), from, to)?;
    let mut refs = crate::app::names::Names::load(conn, ctx.tenant)?;
    let ids: Vec<_> = rows.iter().map(|r| r.customer_id).collect();
    refs.prefetch_customers(conn, &ids)?;
    let mut staff: Vec<StaffRecognitions> = Vec::new();
    for r in rows {
        let customer = refs.customer_ref(conn, r.customer_id)?;
        for s in &r.staff_ids {
            let praise = Praise {
                gesture_id: r.gesture_id,
                customer_id: r.customer_id,
                customer: customer.clone(),
                effective_on: r.effective_on,
                words: r.story.clone(),
                recorded_by: r.recorded_by.clone(),
            };
            match staff
                .iter_mut()
                .find(|x| x.staff_id == *s && x.store_id == r.store_id)
            {
                Some(x) => {
                    x.count += 1;
                    x.recognitions.push(praise);
                }
                None => staff.push(StaffRecognitions {
                    staff_id: *s,
                    name: names
                        .iter()
                        .find(|(id, _)| id == s)
                        .map(|(_, n)| n.clone())
                        .unwrap_or_default(),
                    store_id: r.store_id,
                    store: refs.store_ref(r.store_id),
                    count: 1,
                    recognitions: vec![praise],
                }),
            }
        }
    }
    staff.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
    Ok(RecognitionReport { from, to, staff })
}

/// The goodwill report: per group and currency, the gestures in effect with
/// `effective_on` in [from, to] — count, value, free services at retail value
/// and at cost, written off, recovered and net cost — with totals per
/// currency; of one store, or of every store the actor holds.
pub(crate) fn goodwill_report(
    conn: &mut DbConnection,
    ctx: &Ctx,
    store_id: Option<StoreId>,
    by: &[GroupBy],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<GoodwillReport, Error> {
    ctx.require(Permission::ReportsRead)?;
    let stores = ctx.scope(store_id)?;
    let groups =
        crate::store::reports::goodwill(conn, ctx.tenant, stores.as_deref(), by, from, to)?;
    let mut totals: std::collections::BTreeMap<String, Figures> = Default::default();
    for ((_, cur), f) in &groups {
        totals.entry(cur.clone()).or_default().add(f);
    }
    let mut rows = Vec::with_capacity(groups.len());
    for ((key, cur), f) in &groups {
        rows.extend(row(by, key, cur, f)?);
    }
    let mut total_rows = Vec::with_capacity(totals.len());
    for (cur, f) in &totals {
        total_rows.extend(row(&[], &[], cur, f)?);
    }
    Ok(GoodwillReport {
        from,
        to,
        group_by: by.iter().map(|g| g.name()).collect(),
        rows,
        totals: total_rows,
    })
}
