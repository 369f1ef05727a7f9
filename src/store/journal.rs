//! The journal export: a month's entries, one line per posting side, read in
//! chunks so a month of a large chain never sits in memory; and the tenant's
//! account map.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{
    account_maps, balances, customers, entries, gestures, ledger_transactions, stores,
};
use crate::audit::AuditCtx;
use crate::domain::account_map::{self, AccountMap, Owner};
use crate::domain::ids::{CustomerId, EntryId, GestureId, LedgerTxId, StoreId, TenantId};
use crate::domain::period::Month;
use crate::error::Error;

/// The tenant's account map and who last changed it (`None`: never set).
pub(crate) fn account_map(
    conn: &mut DbConnection,
    tenant: TenantId,
) -> Result<(AccountMap, Option<(String, NaiveDateTime)>), Error> {
    let row: Option<(String, String, NaiveDateTime)> = account_maps::table
        .filter(account_maps::tenant_id.eq(tenant))
        .select((
            account_maps::document,
            account_maps::updated_by,
            account_maps::updated_at,
        ))
        .first(conn)
        .optional()?;
    match row {
        None => Ok((AccountMap::default(), None)),
        Some((doc, by, at)) => Ok((
            serde_json::from_str(&doc)
                .map_err(|e| Error::internal(format!("the account map is malformed: {e}")))?,
            Some((by, at)),
        )),
    }
}

/// Replaces the tenant's account map (validated whole): (before, after).
pub(crate) fn put_account_map(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    map: AccountMap,
) -> Result<(AccountMap, AccountMap), Error> {
    map.validate().map_err(Error::Validation)?;
    let (before, existed) = account_map(conn, ctx.tenant)?;
    let doc = serde_json::to_string(&map).unwrap_or_default();
    if existed.is_some() {
        diesel::update(account_maps::table.filter(account_maps::tenant_id.eq(ctx.tenant)))
            .set((
                account_maps::document.eq(&doc),
                account_maps::updated_by.eq(&ctx.actor_sub),
                account_maps::updated_at.eq(ctx.now),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(account_maps::table)
            .values((
                account_maps::tenant_id.eq(ctx.tenant),
                account_maps::document.eq(&doc),
                account_maps::updated_by.eq(&ctx.actor_sub),
                account_maps::updated_at.eq(ctx.now),
            ))
            .execute(conn)?;
    }
    Ok((before, map))
}

/// One side of one posting.
#[derive(Clone, Debug)]
pub struct Line {
    /// `effective_on`.
    pub date: NaiveDate,
    /// The ledger transaction.
    pub transaction_id: LedgerTxId,
    /// The ledger account.
    pub account: String,
    /// Debit (minor units).
    pub debit_minor: i64,
    /// Credit (minor units).
    pub credit_minor: i64,
    /// Currency code.
    pub currency: String,
    /// The store's code: the account's store, else the gesture's.
    pub store: Option<String>,
    /// The customer's external ref: the account's customer, else the
    /// gesture's.
    pub customer: Option<String>,
    /// The account as a person reads it (`Customer receivable · C-1001`).
    pub label: String,
    /// What the transaction records, and the gesture's story.
    pub memo: String,
    /// The gesture.
    pub gesture_id: Option<GestureId>,
}

/// Where a chunk ended: the next one starts after it.
pub(crate) type Cursor = (NaiveDate, EntryId);

type EntryRow = (EntryId, LedgerTxId, String, String, i64, i64, NaiveDate);

/// Up to `limit` lines of the month after `after`, in (date, entry) order, and
/// the cursor of the last one (`None` when the month is done).
pub fn chunk(
    conn: &mut DbConnection,
    tenant: TenantId,
    month: Month,
    after: Option<Cursor>,
    limit: i64,
) -> Result<(Vec<Line>, Option<Cursor>), Error> {
    let mut q = entries::table
        .filter(
            entries::tenant_id
                .eq(tenant)
                .and(entries::effective_on.ge(month.first_day()))
                .and(entries::effective_on.lt(month.next_first_day())),
        )
        .select((
            entries::id,
            entries::transaction_id,
            entries::account,
            entries::currency,
            entries::debit_minor,
            entries::credit_minor,
            entries::effective_on,
        ))
        .order((entries::effective_on, entries::id))
        .limit(limit)
        .into_boxed();
    if let Some((d, id)) = after {
        // The first condition alone lets the planner start the index range at
        // the cursor; the second is exact.
        q = q.filter(entries::effective_on.ge(d)).filter(
            entries::effective_on
                .gt(d)
                .or(entries::effective_on.eq(d).and(entries::id.gt(id))),
        );
    }
    let rows: Vec<EntryRow> = q.load(conn)?;
    let next = if i64::try_from(rows.len()).unwrap_or(0) == limit {
        rows.last().map(|r| (r.6, r.0))
    } else {
        None
    };
    let mut tx_ids: Vec<LedgerTxId> = rows.iter().map(|r| r.1).collect();
    tx_ids.sort();
    tx_ids.dedup();
    let txs: HashMap<LedgerTxId, (String, Option<GestureId>)> = if tx_ids.is_empty() {
        HashMap::new()
    } else {
        ledger_transactions::table
            .filter(
                ledger_transactions::tenant_id
                    .eq(tenant)
                    .and(ledger_transactions::id.eq_any(&tx_ids)),
            )
            .select((
                ledger_transactions::id,
                ledger_transactions::kind,
                ledger_transactions::gesture_id,
            ))
            .load::<(LedgerTxId, String, Option<GestureId>)>(conn)?
            .into_iter()
            .map(|(id, k, g)| (id, (k, g)))
            .collect()
    };
    let mut g_ids: Vec<GestureId> = txs.values().filter_map(|(_, g)| *g).collect();
    g_ids.sort();
    g_ids.dedup();
    let gs: HashMap<GestureId, (StoreId, String, CustomerId)> = if g_ids.is_empty() {
        HashMap::new()
    } else {
        gestures::table
            .filter(
                gestures::tenant_id
                    .eq(tenant)
                    .and(gestures::id.eq_any(&g_ids)),
            )
            .select((
                gestures::id,
                gestures::store_id,
                gestures::story,
                gestures::customer_id,
            ))
            .load::<(GestureId, StoreId, String, CustomerId)>(conn)?
            .into_iter()
            .map(|(id, s, story, c)| (id, (s, story, c)))
            .collect()
    };
    let account_customer = |account: &str| match account_map::owner(account) {
        Some(Owner::Customer(c)) => c.parse::<CustomerId>().ok(),
        _ => None,
    };
    let mut c_ids: Vec<CustomerId> = rows
        .iter()
        .filter_map(|r| account_customer(&r.2))
        .chain(gs.values().map(|g| g.2))
        .collect();
    c_ids.sort();
    c_ids.dedup();
    let refs: HashMap<CustomerId, String> = if c_ids.is_empty() {
        HashMap::new()
    } else {
        customers::table
            .filter(
                customers::tenant_id
                    .eq(tenant)
                    .and(customers::id.eq_any(&c_ids)),
            )
            .select((customers::id, customers::external_ref))
            .load::<(CustomerId, String)>(conn)?
            .into_iter()
            .collect()
    };
    let codes: HashMap<StoreId, String> = stores::table
        .filter(stores::tenant_id.eq(tenant))
        .select((stores::id, stores::code))
        .load::<(StoreId, String)>(conn)?
        .into_iter()
        .collect();
    let lines = rows
        .into_iter()
        .map(|(_, tx, account, currency, debit, credit, date)| {
            let (kind, gesture_id) = txs.get(&tx).cloned().unwrap_or_default();
            let gesture = gesture_id.and_then(|g| gs.get(&g));
            let account_store = account
                .split_once(':')
                .filter(|(h, _)| h.ends_with("_clearing"))
                .and_then(|(_, t)| t.parse::<StoreId>().ok());
            let store = account_store
                .or(gesture.map(|(s, _, _)| *s))
                .and_then(|s| codes.get(&s).cloned());
            let own_customer = account_customer(&account).and_then(|c| refs.get(&c));
            let customer = own_customer
                .or_else(|| gesture.and_then(|(_, _, c)| refs.get(c)))
                .cloned();
            let whose = match account_map::owner(&account) {
                Some(Owner::Customer(_)) => own_customer.map(String::as_str),
                Some(Owner::Store(_)) => account_store
                    .and_then(|s| codes.get(&s))
                    .map(String::as_str),
                None => None,
            };
            let label = account_map::label(&account, whose);
            let memo = match gesture {
                Some((_, story, _)) => format!("{kind}: {story}"),
                None => kind,
            };
            Line {
                date,
                transaction_id: tx,
                account,
                debit_minor: debit,
                credit_minor: credit,
                currency,
                store,
                customer,
                label,
                memo,
                gesture_id,
            }
        })
        .collect();
    Ok((lines, next))
}

/// How many lines the month's journal has (one per entry).
pub(crate) fn line_count(
    conn: &mut DbConnection,
    tenant: TenantId,
    month: Month,
) -> Result<i64, Error> {
    Ok(entries::table
        .filter(
            entries::tenant_id
                .eq(tenant)
                .and(entries::effective_on.ge(month.first_day()))
                .and(entries::effective_on.lt(month.next_first_day())),
        )
        .count()
        .get_result(conn)?)
}

/// A ledger account that holds entries, with its sums per currency.
pub(crate) struct AccountRow {
    /// The ledger account.
    pub account: String,
    /// Its customer (a receivable's, a store credit's).
    pub customer_id: Option<CustomerId>,
    /// Per currency: debits and credits (minor units, summed over shards).
    pub sums: Vec<(String, i128, i128)>,
}

/// The tenant's ledger accounts that hold entries, in account order after
/// `after`, of one kind (`receivable`, `writeoff_expense`) or all; at most
/// `limit`, and whether more follow.
pub(crate) fn accounts(
    conn: &mut DbConnection,
    tenant: TenantId,
    kind: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<AccountRow>, bool), Error> {
    let mut q = balances::table
        .filter(balances::tenant_id.eq(tenant))
        .select(balances::account)
        .distinct()
        .order(balances::account)
        .limit(limit + 1)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(balances::account.gt(a.to_owned()));
    }
    if let Some(k) = kind {
        // `kind` itself, or `kind:` followed by anything (`;` follows `:`).
        q = q.filter(
            balances::account.eq(k.to_owned()).or(balances::account
                .gt(format!("{k}:"))
                .and(balances::account.lt(format!("{k};")))),
        );
    }
    let mut names: Vec<String> = q.load(conn)?;
    let more = names.len() > usize::try_from(limit).unwrap_or(0);
    names.truncate(usize::try_from(limit).unwrap_or(0));
    if names.is_empty() {
        return Ok((Vec::new(), more));
    }
    let rows: Vec<(String, String, Option<CustomerId>, i64, i64)> = balances::table
        .filter(
            balances::tenant_id
                .eq(tenant)
                .and(balances::account.eq_any(&names)),
        )
        .select((
            balances::account,
            balances::currency,
            balances::customer_id,
            balances::debit_minor,
            balances::credit_minor,
        ))
        .load(conn)?;
    let mut out: Vec<AccountRow> = names
        .into_iter()
        .map(|account| AccountRow {
            account,
            customer_id: None,
            sums: Vec::new(),
        })
        .collect();
    let at: HashMap<String, usize> = out
        .iter()
        .enumerate()
        .map(|(i, r)| (r.account.clone(), i))
        .collect();
    for (account, currency, customer, debit, credit) in rows {
        let Some(row) = at.get(&account).and_then(|&i| out.get_mut(i)) else {
            continue;
        };
        row.customer_id = row.customer_id.or(customer);
        match row.sums.iter_mut().find(|s| s.0 == currency) {
            Some(s) => {
                s.1 += i128::from(debit);
                s.2 += i128::from(credit);
            }
            None => row
                .sums
                .push((currency, i128::from(debit), i128::from(credit))),
        }
    }
    for r in &mut out {
        r.sums.sort();
    }
    Ok((out, more))
}
