//! Posting to the ledger, maintaining balances, and checking them.
//!
//! `post` is the only writer of `entries`, `balances` and
//! `customer_ledger_totals`, and it writes all three in the caller's transaction,
//! so a balance is always the sum of its entries.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{balances, customer_ledger_totals, entries, ledger_transactions, memo_totals};
use crate::audit::AuditCtx;
use crate::domain::ids::{
    CustomerId, EntryId, GestureId, LedgerTxId, PaymentId, RedemptionId, TenantId,
};
use crate::domain::ledger::{Memo, Posting};
use crate::error::Error;

/// Runs the same diesel expression on whichever backend the connection is:
/// for statements the MultiConnection backend cannot express (upserts, row
/// locks, multi-row inserts).
#[macro_export]
#[doc(hidden)]
macro_rules! each_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConnection::Pg($c) => $body,
            $crate::store::DbConnection::Sqlite($c) => $body,
        }
    };
}

/// One ledger transaction to post.
#[derive(Clone, Debug)]
pub struct NewLedgerTx {
    /// What it records: `gesture`, `waiver`, `payment`, `redemption`, `expiry`,
    /// `reversal`, ...
    pub kind: &'static str,
    /// The gesture it belongs to.
    pub gesture_id: Option<GestureId>,
    /// The payment it belongs to.
    pub payment_id: Option<PaymentId>,
    /// The redemption it belongs to.
    pub redemption_id: Option<RedemptionId>,
    /// The transaction it mirrors (a reversal).
    pub reverses: Option<LedgerTxId>,
    /// The customer it concerns (its entries count in the customer's totals).
    pub customer_id: Option<CustomerId>,
    /// When it counts.
    pub effective_on: NaiveDate,
    /// The postings; each is one debit and one credit of the same amount.
    pub postings: Vec<Posting>,
}

#[derive(Insertable)]
#[diesel(table_name = entries)]
struct NewEntry {
    tenant_id: TenantId,
    id: EntryId,
    transaction_id: LedgerTxId,
    account: String,
    customer_id: Option<CustomerId>,
    currency: String,
    debit_minor: i64,
    credit_minor: i64,
    effective_on: NaiveDate,
    created_at: chrono::NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = ledger_transactions)]
struct NewTxRow {
    tenant_id: TenantId,
    id: LedgerTxId,
    kind: &'static str,
    gesture_id: Option<GestureId>,
    payment_id: Option<PaymentId>,
    redemption_id: Option<RedemptionId>,
    reverses: Option<LedgerTxId>,
    effective_on: NaiveDate,
    created_at: chrono::NaiveDateTime,
}

/// The rows of one transaction: its own row, returned, and two entries per
/// posting, pushed to `entries`; what they move is added to `sums` on the
/// balance shard `shard` picks for the account's owner.
fn stage(
    tenant: TenantId,
    tx: &NewLedgerTx,
    now: NaiveDateTime,
    shard: impl Fn(Option<CustomerId>, LedgerTxId) -> i16,
    sums: &mut Sums,
    entries: &mut Vec<NewEntry>,
) -> NewTxRow {
    let id = LedgerTxId::new();
    for p in &tx.postings {
        let currency = p.amount.currency().code().to_owned();
        let amount = p.amount.minor();
        for (account, debit, credit) in [(&p.debit, amount, 0), (&p.credit, 0, amount)] {
            let code = account.code();
            sums.add(
                &code,
                &currency,
                account.customer(),
                shard(account.customer(), id),
                tx.customer_id,
                debit,
                credit,
            );
            entries.push(NewEntry {
                tenant_id: tenant,
                id: EntryId::new(),
                transaction_id: id,
                account: code,
                customer_id: tx.customer_id,
                currency: currency.clone(),
                debit_minor: debit,
                credit_minor: credit,
                effective_on: tx.effective_on,
                created_at: now,
            });
        }
    }
    NewTxRow {
        tenant_id: tenant,
        id,
        kind: tx.kind,
        gesture_id: tx.gesture_id,
        payment_id: tx.payment_id,
        redemption_id: tx.redemption_id,
        reverses: tx.reverses,
        effective_on: tx.effective_on,
        created_at: now,
    }
}

/// Rows a busy shared account's balance is spread over (migration
/// `000013_balance_shards`): a posting adds to one of them, picked from its
/// transaction id, so concurrent postings to, say, a store's `sales_clearing`
/// rarely wait on one another's row lock. A customer's own accounts keep one
/// row: the customer's lock orders their postings anyway.
pub(crate) const BALANCE_SHARDS: u128 = 16;

/// The shard of an account's balance a transaction adds to.
fn shard_for(owner: Option<CustomerId>, tx: LedgerTxId) -> i16 {
    match owner {
        Some(_) => 0,
        None => i16::try_from(tx.0.as_u128() % BALANCE_SHARDS).unwrap_or(0),
    }
}

/// (account, currency, shard) of one balance row.
type BalanceKey = (String, String, i16);

/// Adds to balance rows (created at zero when new), in one statement per 500
/// rows. The rows go in key order, so two transactions lock shared rows in the
/// same order and never deadlock on them.
fn add_to_balances(
    conn: &mut DbConnection,
    tenant: TenantId,
    moved: &std::collections::BTreeMap<BalanceKey, Moved>,
) -> QueryResult<()> {
    use diesel::upsert::excluded;
    let rows: Vec<_> = moved
        .iter()
        .map(|((account, currency, shard), (owner, d, c, n))| {
            (
                balances::tenant_id.eq(tenant),
                balances::account.eq(account),
                balances::currency.eq(currency),
                balances::customer_id.eq(*owner),
                balances::debit_minor.eq(*d),
                balances::credit_minor.eq(*c),
                balances::entry_count.eq(*n),
                balances::shard.eq(*shard),
            )
        })
        .collect();
    for chunk in rows.chunks(500) {
        each_backend!(conn, |c| diesel::insert_into(balances::table)
            .values(chunk)
            .on_conflict((
                balances::tenant_id,
                balances::account,
                balances::currency,
                balances::shard,
            ))
            .do_update()
            .set((
                balances::debit_minor.eq(balances::debit_minor + excluded(balances::debit_minor)),
                balances::credit_minor
                    .eq(balances::credit_minor + excluded(balances::credit_minor)),
                balances::entry_count.eq(balances::entry_count + excluded(balances::entry_count)),
            ))
            .execute(c))?;
    }
    Ok(())
}

/// Adds to customers' per-account totals, in key order, one statement per 500
/// rows.
fn add_to_customer_totals(
    conn: &mut DbConnection,
    tenant: TenantId,
    moved: &std::collections::BTreeMap<(CustomerId, String, String), (i64, i64)>,
) -> QueryResult<()> {
    use diesel::upsert::excluded;
    let rows: Vec<_> = moved
        .iter()
        .map(|((customer, account, currency), (d, c))| {
            (
                customer_ledger_totals::tenant_id.eq(tenant),
                customer_ledger_totals::customer_id.eq(*customer),
                customer_ledger_totals::account.eq(account),
                customer_ledger_totals::currency.eq(currency),
                customer_ledger_totals::debit_minor.eq(*d),
                customer_ledger_totals::credit_minor.eq(*c),
            )
        })
        .collect();
    for chunk in rows.chunks(500) {
        each_backend!(conn, |c| diesel::insert_into(customer_ledger_totals::table)
            .values(chunk)
            .on_conflict((
                customer_ledger_totals::tenant_id,
                customer_ledger_totals::customer_id,
                customer_ledger_totals::account,
                customer_ledger_totals::currency,
            ))
            .do_update()
            .set((
                customer_ledger_totals::debit_minor.eq(customer_ledger_totals::debit_minor
                    + excluded(customer_ledger_totals::debit_minor)),
                customer_ledger_totals::credit_minor.eq(customer_ledger_totals::credit_minor
                    + excluded(customer_ledger_totals::credit_minor)),
            ))
            .execute(c))?;
    }
    Ok(())
}

/// Posts one balanced transaction: its row, two entries per posting, and the
/// balances they move. Returns `None` (and writes nothing) when there is nothing
/// to post.
pub(crate) fn post(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    tx: &NewLedgerTx,
    now: NaiveDateTime,
) -> Result<Option<LedgerTxId>, Error> {
    if tx.postings.is_empty() {
        return Ok(None);
    }
    super::periods::check_open(conn, ctx.tenant, tx.effective_on)?;
    post_in_open_period(conn, ctx, tx, now)
}

/// As [`post`], for a caller that has already called
/// [`super::periods::check_open`] for `tx.effective_on` in this transaction
/// (the shared period lock it took holds until the transaction ends, so the
/// month cannot close in between).
///
/// The transaction is recorded in `ctx`'s ledger witness: the next audit
/// event the command appends attests it.
pub(crate) fn post_in_open_period(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    tx: &NewLedgerTx,
    now: NaiveDateTime,
) -> Result<Option<LedgerTxId>, Error> {
    let tenant = ctx.tenant;
    if tx.postings.is_empty() {
        return Ok(None);
    }
    for p in &tx.postings {
        if p.amount.minor() <= 0 || p.debit == p.credit {
            return Err(Error::internal(format!(
                "refusing to post an invalid posting {p:?}"
            )));
        }
    }
    let mut rows = Vec::with_capacity(tx.postings.len() * 2);
    let mut sums = Sums::default();
    let row = stage(tenant, tx, now, shard_for, &mut sums, &mut rows);
    let id = row.id;
    match conn {
        DbConnection::Pg(c) => {
            post_in_one_statement(c, &row, &rows, &sums)?;
        }
        DbConnection::Sqlite(_) => {
            each_backend!(conn, |c| diesel::insert_into(ledger_transactions::table)
                .values(&row)
                .execute(c))?;
            each_backend!(conn, |c| diesel::insert_into(entries::table)
                .values(&rows)
                .execute(c))?;
            add_to_balances(conn, tenant, &sums.balances)?;
            add_to_customer_totals(conn, tenant, &sums.customers)?;
        }
    }
    ctx.ledger.record(attestation(id, tx.kind, &rows));
    Ok(Some(id))
}

/// What [`post_in_open_period`] writes, on PostgreSQL in one round trip (or
/// none of its own, held back with the command's other writes, see
/// `store::pg_text`): the transaction's row, its entries, the balance rows
/// they move and the customer's totals, as one data-modifying statement. The rows are the ones
/// SQLite gets from four statements; balances and totals go in key order, so
/// concurrent postings lock shared rows in the same order. The arrays are
/// cast where they are read, so the text says its own types (the load
/// harness replays it with literals).
const POST_TX: &str = "INSERT INTO ledger_transactions (tenant_id, id, kind, gesture_id, \
    payment_id, redemption_id, reverses, effective_on, created_at) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
const POST_ENTRIES: &str = "INSERT INTO entries (tenant_id, id, transaction_id, account, \
    customer_id, currency, debit_minor, credit_minor, effective_on, created_at) \
    SELECT ?::uuid, u.id, ?::uuid, u.account, u.customer_id, u.currency, u.debit, u.credit, \
        ?::date, ?::timestamp \
    FROM unnest(?::uuid[], ?::text[], ?::uuid[], ?::text[], ?::bigint[], ?::bigint[]) \
        WITH ORDINALITY AS u (id, account, customer_id, currency, debit, credit, k) \
    ORDER BY u.k";
const POST_BALANCES: &str = "INSERT INTO balances AS b (tenant_id, account, currency, \
    customer_id, debit_minor, credit_minor, entry_count, shard) \
    SELECT ?::uuid, u.account, u.currency, u.customer_id, u.debit, u.credit, u.n, u.shard \
    FROM unnest(?::text[], ?::text[], ?::smallint[], ?::uuid[], ?::bigint[], ?::bigint[], \
        ?::bigint[]) WITH ORDINALITY AS u (account, currency, shard, customer_id, debit, credit, n, k) \
    ORDER BY u.k \
    ON CONFLICT (tenant_id, account, currency, shard) DO UPDATE SET \
        debit_minor = b.debit_minor + excluded.debit_minor, \
        credit_minor = b.credit_minor + excluded.credit_minor, \
        entry_count = b.entry_count + excluded.entry_count";
const POST_TOTALS: &str = "INSERT INTO customer_ledger_totals AS t (tenant_id, customer_id, \
    account, currency, debit_minor, credit_minor) \
    SELECT ?::uuid, u.customer_id, u.account, u.currency, u.debit, u.credit \
    FROM unnest(?::uuid[], ?::text[], ?::text[], ?::bigint[], ?::bigint[]) \
        WITH ORDINALITY AS u (customer_id, account, currency, debit, credit, k) \
    ORDER BY u.k \
    ON CONFLICT (tenant_id, customer_id, account, currency) DO UPDATE SET \
        debit_minor = t.debit_minor + excluded.debit_minor, \
        credit_minor = t.credit_minor + excluded.credit_minor";

fn post_in_one_statement(
    conn: &mut diesel::pg::PgConnection,
    row: &NewTxRow,
    rows: &[NewEntry],
    sums: &Sums,
) -> QueryResult<()> {
    use super::pg_text::{Bind, RawUuid, Write};
    let tenant = Bind::id(row.tenant_id.0);
    let raw = |id: Option<CustomerId>| id.map(|c| RawUuid(c.0));
    let texts = |v: Vec<&String>| v.into_iter().cloned().collect::<Vec<String>>();
    let balances = &sums.balances;
    let customers = &sums.customers;
    let write = Write::new(
        &[POST_TX, POST_ENTRIES, POST_BALANCES],
        POST_TOTALS,
        vec![
            Bind::id(row.tenant_id.0),
            Bind::id(row.id.0),
            Bind::Text(row.kind.to_owned()),
            Bind::null_id(row.gesture_id.map(|g| g.0)),
            Bind::null_id(row.payment_id.map(|p| p.0)),
            Bind::null_id(row.redemption_id.map(|r| r.0)),
            Bind::null_id(row.reverses.map(|r| r.0)),
            Bind::Date(row.effective_on),
            Bind::Timestamp(row.created_at),
            // entries
            Bind::id(row.tenant_id.0),
            Bind::id(row.id.0),
            Bind::Date(row.effective_on),
            Bind::Timestamp(row.created_at),
            Bind::Uuids(rows.iter().map(|e| RawUuid(e.id.0)).collect()),
            Bind::Texts(texts(rows.iter().map(|e| &e.account).collect())),
            Bind::NullUuids(rows.iter().map(|e| raw(e.customer_id)).collect()),
            Bind::Texts(texts(rows.iter().map(|e| &e.currency).collect())),
            Bind::BigInts(rows.iter().map(|e| e.debit_minor).collect()),
            Bind::BigInts(rows.iter().map(|e| e.credit_minor).collect()),
            // balances
            Bind::id(row.tenant_id.0),
            Bind::Texts(texts(balances.keys().map(|(a, _, _)| a).collect())),
            Bind::Texts(texts(balances.keys().map(|(_, c, _)| c).collect())),
            Bind::SmallInts(balances.keys().map(|(_, _, s)| *s).collect()),
            Bind::NullUuids(balances.values().map(|(o, _, _, _)| raw(*o)).collect()),
            Bind::BigInts(balances.values().map(|(_, d, _, _)| *d).collect()),
            Bind::BigInts(balances.values().map(|(_, _, c, _)| *c).collect()),
            Bind::BigInts(balances.values().map(|(_, _, _, n)| *n).collect()),
            // customer totals
            tenant,
            Bind::Uuids(customers.keys().map(|(c, _, _)| RawUuid(c.0)).collect()),
            Bind::Texts(texts(customers.keys().map(|(_, a, _)| a).collect())),
            Bind::Texts(texts(customers.keys().map(|(_, _, c)| c).collect())),
            Bind::BigInts(customers.values().map(|(d, _)| *d).collect()),
            Bind::BigInts(customers.values().map(|(_, c)| *c).collect()),
        ],
    );
    super::pg_text::write(conn, write)
}

/// A posted transaction as its audit event attests it: its id, kind and every
/// entry (account, customer, currency, debit, credit), in posting order.
fn attestation(id: LedgerTxId, kind: &str, rows: &[NewEntry]) -> serde_json::Value {
    serde_json::json!({
        "transaction_id": id.to_string(),
        "kind": kind,
        "entries": rows.iter().map(|e| serde_json::json!({
            "account": e.account,
            "customer_id": e.customer_id.map(|c| c.to_string()),
            "currency": e.currency,
            "debit_minor": e.debit_minor,
            "credit_minor": e.credit_minor,
        })).collect::<Vec<_>>(),
    })
}

/// A customer's own balance rows: (account, currency, debits, credits).
pub(crate) fn customer_balances(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
) -> Result<Vec<(String, String, i64, i64)>, Error> {
    Ok(balances::table
        .filter(
            balances::tenant_id
                .eq(tenant)
                .and(balances::customer_id.eq(customer)),
        )
        .select((
            balances::account,
            balances::currency,
            balances::debit_minor,
            balances::credit_minor,
        ))
        .order((balances::account, balances::currency))
        .load(conn)?)
}

/// What the customer's transactions moved, per account: (account, currency,
/// debits, credits).
pub(crate) fn customer_totals(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
) -> Result<Vec<(String, String, i64, i64)>, Error> {
    Ok(customer_ledger_totals::table
        .filter(
            customer_ledger_totals::tenant_id
                .eq(tenant)
                .and(customer_ledger_totals::customer_id.eq(customer)),
        )
        .select((
            customer_ledger_totals::account,
            customer_ledger_totals::currency,
            customer_ledger_totals::debit_minor,
            customer_ledger_totals::credit_minor,
        ))
        .order((
            customer_ledger_totals::account,
            customer_ledger_totals::currency,
        ))
        .load(conn)?)
}

/// Adds to a memo total (retail value given free, favours, recognitions, promise
/// outcomes). `currency` is "" for counts.
pub(crate) fn add_memo(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
    memo: Memo,
    currency: &str,
    total_minor: i64,
    count: i64,
) -> Result<(), Error> {
    each_backend!(conn, |c| {
        diesel::insert_into(memo_totals::table)
            .values((
                memo_totals::tenant_id.eq(tenant),
                memo_totals::customer_id.eq(customer),
                memo_totals::memo.eq(memo.as_str()),
                memo_totals::currency.eq(currency),
                memo_totals::total_minor.eq(total_minor),
                memo_totals::count.eq(count),
            ))
            .on_conflict((
                memo_totals::tenant_id,
                memo_totals::customer_id,
                memo_totals::memo,
                memo_totals::currency,
            ))
            .do_update()
            .set((
                memo_totals::total_minor.eq(memo_totals::total_minor + total_minor),
                memo_totals::count.eq(memo_totals::count + count),
            ))
            .execute(c)
    })?;
    Ok(())
}

/// A customer's memo totals: (memo, currency, total, count). A name this
/// version does not know is left out.
pub(crate) fn memos(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
) -> Result<Vec<(Memo, String, i64, i64)>, Error> {
    let rows: Vec<(String, String, i64, i64)> = memo_totals::table
        .filter(
            memo_totals::tenant_id
                .eq(tenant)
                .and(memo_totals::customer_id.eq(customer)),
        )
        .select((
            memo_totals::memo,
            memo_totals::currency,
            memo_totals::total_minor,
            memo_totals::count,
        ))
        .order((memo_totals::memo, memo_totals::currency))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(m, c, t, n)| Memo::parse(&m).map(|m| (m, c, t, n)))
        .collect())
}

/// A customer's maintained figures, read in one statement: their own balance
/// rows, their per-account totals and their memo totals (each as
/// [`customer_balances`], [`customer_totals`] and [`memos`] return them), when
/// their last gesture was recorded, and their open items.
#[derive(Debug, Default)]
pub(crate) struct CustomerFigures {
    /// The customer's own balance rows.
    pub balances: Vec<(String, String, i64, i64)>,
    /// Their per-account totals.
    pub totals: Vec<(String, String, i64, i64)>,
    /// Their memo totals.
    pub memos: Vec<(Memo, String, i64, i64)>,
    /// When their most recent gesture was recorded.
    pub last_activity: Option<chrono::NaiveDateTime>,
    /// Their promises still owed and store credit still to spend, by id.
    pub open: Vec<crate::domain::gesture::OpenItem>,
}

/// One row of [`customer_figures`]' statement: (source, text, text, number,
/// number, day, id, store).
type FigureRow = (
    i32,
    String,
    String,
    i64,
    i64,
    Option<NaiveDate>,
    Option<GestureId>,
    Option<crate::domain::ids::StoreId>,
);

/// [`CustomerFigures`] of `customer`, or 404 when the tenant has no such
/// customer. The counter's summary reads it on every lookup, in one
/// statement: a single statement is its own consistent snapshot on both
/// backends, so it needs no transaction around it either.
pub(crate) fn customer_figures(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
) -> Result<CustomerFigures, Error> {
    use super::constant_sql::constant_sql;
    use super::schema::{customers, gestures};
    use super::sql_types::Uuid;
    use crate::domain::gesture::{GestureKind, OpenItem};
    use crate::domain::money::Currency;
    use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text};
    // Constant columns as types, not `sql(...)`: the statement stays cacheable,
    // prepared once per connection (see constant_sql).
    constant_sql! { FromCustomer: Integer = "3"; }
    constant_sql! { FromBalances: Integer = "0"; }
    constant_sql! { FromTotals: Integer = "1"; }
    constant_sql! { FromMemos: Integer = "2"; }
    constant_sql! { FromOpen: Integer = "4"; }
    constant_sql! { NoText: Text = "''"; }
    constant_sql! { NoAmount: BigInt = "0"; }
    constant_sql! { NoDay: Nullable<Date> = "CAST(NULL AS DATE)"; }
    constant_sql! { NoId: Nullable<Uuid> = "CAST(NULL AS uuid)"; }
    // The time of the customer's last gesture as text (both backends print a
    // timestamp as `YYYY-MM-DD HH:MM:SS[.ffffff]`), or empty.
    constant_sql! {
        LastActivity: Text = "COALESCE((SELECT CAST(g.created_at AS TEXT) FROM gestures g \
             WHERE g.tenant_id = customers.tenant_id AND g.customer_id = customers.id \
             ORDER BY g.id DESC LIMIT 1), '')";
    }
    // Open items as `gestures::open_items` reads them, narrowed to what a
    // summary shows: what is left of a promise and of a credit (a gesture is
    // one or the other; the kind says which), and its due or expiry day.
    use super::gestures::OpenKinds;
    constant_sql! {
        Owed: BigInt = "COALESCE(gestures.amount_minor, 0) - gestures.paid_minor - gestures.waived_minor";
    }
    constant_sql! {
        ToSpend: BigInt = "COALESCE(gestures.amount_minor, 0) - gestures.redeemed_minor - gestures.expired_minor";
    }
    constant_sql! {
        DueOrExpires: Nullable<Date> = "COALESCE(gestures.due_on, gestures.expires_on)";
    }
    let who = customers::table
        .filter(
            customers::tenant_id
                .eq(tenant)
                .and(customers::id.eq(customer)),
        )
        .select((
            FromCustomer,
            LastActivity,
            NoText,
            NoAmount,
            NoAmount,
            NoDay,
            NoId,
            NoId,
        ));
    let own = balances::table
        .filter(
            balances::tenant_id
                .eq(tenant)
                .and(balances::customer_id.eq(customer)),
        )
        .select((
            FromBalances,
            balances::account,
            balances::currency,
            balances::debit_minor,
            balances::credit_minor,
            NoDay,
            NoId,
            NoId,
        ));
    let totals = customer_ledger_totals::table
        .filter(
            customer_ledger_totals::tenant_id
                .eq(tenant)
                .and(customer_ledger_totals::customer_id.eq(customer)),
        )
        .select((
            FromTotals,
            customer_ledger_totals::account,
            customer_ledger_totals::currency,
            customer_ledger_totals::debit_minor,
            customer_ledger_totals::credit_minor,
            NoDay,
            NoId,
            NoId,
        ));
    let memos = memo_totals::table
        .filter(
            memo_totals::tenant_id
                .eq(tenant)
                .and(memo_totals::customer_id.eq(customer)),
        )
        .select((
            FromMemos,
            memo_totals::memo,
            memo_totals::currency,
            memo_totals::total_minor,
            memo_totals::count,
            NoDay,
            NoId,
            NoId,
        ));
    let open = gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::customer_id.eq(customer))
                .and(OpenKinds),
        )
        .select((
            FromOpen,
            gestures::kind,
            gestures::currency,
            Owed,
            ToSpend,
            DueOrExpires,
            gestures::id.nullable(),
            gestures::store_id.nullable(),
        ));
    let rows: Vec<FigureRow> = each_backend!(conn, |c| who
        .union_all(own)
        .union_all(totals)
        .union_all(memos)
        .union_all(open)
        .load(c))?;
    let mut out = CustomerFigures::default();
    let mut found = false;
    for (source, a, c, x, y, day, id, store) in rows {
        match source {
            0 => out.balances.push((a, c, x, y)),
            1 => out.totals.push((a, c, x, y)),
            2 => out.memos.extend(Memo::parse(&a).map(|m| (m, c, x, y))),
            4 => {
                let (Some(kind), Some(currency), Some(id), Some(store_id)) =
                    (GestureKind::parse(&a), Currency::from_code(&c), id, store)
                else {
                    return Err(Error::internal(format!("open item {id:?}: {a:?} in {c:?}")));
                };
                let left_minor = if kind == GestureKind::DeferredPayment {
                    x
                } else {
                    y
                };
                if left_minor > 0 {
                    out.open.push(OpenItem {
                        id,
                        store_id,
                        kind,
                        currency,
                        left_minor,
                        day,
                    });
                }
            }
            _ => {
                found = true;
                out.last_activity = (!a.is_empty())
                    .then(|| chrono::NaiveDateTime::parse_from_str(&a, "%Y-%m-%d %H:%M:%S%.f"))
                    .transpose()
                    .map_err(|e| Error::internal(format!("last activity {a:?}: {e}")))?;
            }
        }
    }
    if !found {
        return Err(Error::NotFound(format!("no customer {customer}")));
    }
    out.balances.sort();
    out.totals.sort();
    out.memos.sort();
    out.open.sort_by_key(|o| o.id);
    Ok(out)
}

/// (owner, debits, credits, entries) of one account and currency.
type Moved = (Option<CustomerId>, i64, i64, i64);

/// Balance movements summed over one or many transactions (see [`post`] and
/// [`post_batch`]).
#[derive(Default)]
pub struct Sums {
    /// (account, currency, shard) → what moved.
    balances: std::collections::BTreeMap<BalanceKey, Moved>,
    /// (customer, account, currency) → (debits, credits).
    customers: std::collections::BTreeMap<(CustomerId, String, String), (i64, i64)>,
}

impl Sums {
    /// Adds one entry's movement.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        account: &str,
        currency: &str,
        owner: Option<CustomerId>,
        shard: i16,
        customer: Option<CustomerId>,
        debit: i64,
        credit: i64,
    ) {
        let b = self
            .balances
            .entry((account.to_owned(), currency.to_owned(), shard))
            .or_insert((owner, 0, 0, 0));
        // Saturating: a total past 64 bits is refused by the ledger limit
        // when written, never wrapped round.
        b.1 = b.1.saturating_add(debit);
        b.2 = b.2.saturating_add(credit);
        b.3 += 1;
        if let Some(c) = customer {
            let t = self
                .customers
                .entry((c, account.to_owned(), currency.to_owned()))
                .or_default();
            t.0 = t.0.saturating_add(debit);
            t.1 = t.1.saturating_add(credit);
        }
    }
}

/// Posts many transactions at once (bulk history, e.g. `dev seed`): the
/// transactions and entries in multi-row inserts; what they move on balances is
/// added to `sums`, written by [`apply_sums`]. The same rows `post` would write;
/// not for commands (no period check, no per-posting locking).
pub fn post_batch(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    txs: &[NewLedgerTx],
    sums: &mut Sums,
    now: NaiveDateTime,
) -> Result<(), Error> {
    let tenant = ctx.tenant;
    let mut tx_rows = Vec::with_capacity(txs.len());
    let mut entry_rows = Vec::with_capacity(txs.len() * 2);
    for tx in txs.iter().filter(|t| !t.postings.is_empty()) {
        // Bulk history lands on shard 0: it is written once, by one writer.
        let from = entry_rows.len();
        let row = stage(tenant, tx, now, |_, _| 0, sums, &mut entry_rows);
        ctx.ledger
            .record(attestation(row.id, tx.kind, &entry_rows[from..]));
        tx_rows.push(row);
    }
    for chunk in tx_rows.chunks(500) {
        each_backend!(conn, |c| diesel::insert_into(ledger_transactions::table)
            .values(chunk)
            .execute(c))?;
    }
    for chunk in entry_rows.chunks(500) {
        each_backend!(conn, |c| diesel::insert_into(entries::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Writes what [`post_batch`] summed: each balance and customer total moved
/// once.
pub fn apply_sums(conn: &mut DbConnection, tenant: TenantId, sums: Sums) -> Result<(), Error> {
    add_to_balances(conn, tenant, &sums.balances)?;
    add_to_customer_totals(conn, tenant, &sums.customers)?;
    Ok(())
}
