//! Sales and refunds: the purchase history the customer value model is fitted
//! on. Nothing here posts to the ledger.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{customers, sale_refunds, sales, stores};
use super::{DbConnection, PageOf, PageRequest};
use crate::audit::AuditCtx;
use crate::domain::FieldError;
use crate::domain::ids::{CustomerId, RefundId, SaleId, StoreId, TenantId};
use crate::domain::money::{Currency, Money};
use crate::error::{Error, ErrorCode, is_unique_violation};

/// How far ahead of the service's clock a till's clock may run.
pub(crate) const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// A recorded sale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sale {
    /// Its id.
    pub id: SaleId,
    /// The buyer.
    pub customer_id: CustomerId,
    /// Where.
    pub store_id: StoreId,
    /// The till's reference, unique per store.
    pub sale_ref: String,
    /// When (UTC).
    pub occurred_at: NaiveDateTime,
    /// The purchase day.
    pub sale_date: NaiveDate,
    /// What it came to.
    pub amount: Money,
    /// What has been refunded of it.
    pub refunded: Money,
    /// Who recorded it (token `sub`).
    pub recorded_by: String,
    /// When it was recorded.
    pub created_at: NaiveDateTime,
}

/// A refund of (part of) a sale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refund {
    /// Its id.
    pub id: RefundId,
    /// The sale.
    pub sale_id: SaleId,
    /// How much.
    pub amount: Money,
    /// The day of the refund.
    pub refunded_on: NaiveDate,
    /// Why, when given.
    pub reason: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub created_at: NaiveDateTime,
}

/// Who bought: by id or by the tenant's external reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Buyer {
    /// A customer id.
    Id(CustomerId),
    /// A customer's `external_ref`.
    ExternalRef(String),
}

/// A sale to record (checked for shape; the store checks references).
#[derive(Clone, Debug)]
pub(crate) struct NewSale {
    /// The buyer.
    pub buyer: Buyer,
    /// Where.
    pub store_id: StoreId,
    /// The till's reference.
    pub sale_ref: String,
    /// When.
    pub occurred_at: NaiveDateTime,
    /// The purchase day (the date given, or the UTC date of the timestamp).
    pub sale_date: NaiveDate,
    /// What it came to (zero allowed).
    pub amount: Money,
}

/// What became of one line of a batch.
#[derive(Clone, Debug)]
pub(crate) enum LineOutcome {
    /// Recorded.
    Created(Sale),
    /// Its `sale_ref` was already recorded at its store (or earlier in the
    /// batch): the existing sale.
    Duplicate(SaleId),
    /// Invalid: nothing recorded.
    Error(Vec<FieldError>),
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sales)]
struct Row {
    tenant_id: TenantId,
    id: SaleId,
    customer_id: CustomerId,
    store_id: StoreId,
    sale_ref: String,
    occurred_at: NaiveDateTime,
    sale_date: NaiveDate,
    currency: String,
    amount_minor: i64,
    refunded_minor: i64,
    recorded_by: String,
    created_at: NaiveDateTime,
}

impl TryFrom<Row> for Sale {
    type Error = Error;
    fn try_from(r: Row) -> Result<Self, Error> {
        let c = currency(&r.currency)?;
        Ok(Sale {
            id: r.id,
            customer_id: r.customer_id,
            store_id: r.store_id,
            sale_ref: r.sale_ref,
            occurred_at: r.occurred_at,
            sale_date: r.sale_date,
            amount: Money::from_minor(r.amount_minor, c),
            refunded: Money::from_minor(r.refunded_minor, c),
            recorded_by: r.recorded_by,
            created_at: r.created_at,
        })
    }
}

fn currency(code: &str) -> Result<Currency, Error> {
    Currency::from_code(code)
        .ok_or_else(|| Error::internal(format!("unknown currency {code} in the database")))
}

fn duplicate(store: StoreId, sale_ref: &str, existing: SaleId) -> Error {
    Error::Conflict {
        code: ErrorCode::DuplicateSale,
        detail: format!("sale {existing} already has sale_ref {sale_ref:?} at store {store}"),
        existing_id: Some(existing.to_string()),
    }
}

/// Records one sale. Unknown store or customer, a currency other than the
/// store's, or a time ahead of the clock → 422 naming the field; a `sale_ref`
/// already recorded at the store → 409 `duplicate_sale` naming that sale.
pub(crate) fn record(conn: &mut DbConnection, ctx: &AuditCtx, new: NewSale) -> Result<Sale, Error> {
    let store_id = new.store_id;
    let sale_ref = new.sale_ref.clone();
    match record_many(conn, ctx, vec![Ok(new)], false)?.0.pop() {
        Some(LineOutcome::Created(s)) => Ok(s),
        Some(LineOutcome::Duplicate(existing)) => Err(duplicate(store_id, &sale_ref, existing)),
        Some(LineOutcome::Error(errs)) => Err(Error::Validation(errs)),
        None => Err(Error::internal("a one-line batch gave no outcome")),
    }
}

/// Records a batch: each line is checked against the tenant (store, buyer,
/// currency, time) and against sales already recorded; valid lines are
/// written, invalid ones change nothing. Field names in errors are relative to
/// the line (`amount.currency`). With `create_customers`, an unknown
/// `external_ref` of a sale that is recorded creates the customer (named by
/// the reference); the customers created are answered beside the outcomes.
pub(crate) fn record_many(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    lines: Vec<Result<NewSale, Vec<FieldError>>>,
    create_customers: bool,
) -> Result<(Vec<LineOutcome>, Vec<CustomerId>), Error> {
    // A concurrent writer may record one of our sale_refs between the check and
    // the insert: the savepoint is rolled back and the batch checked again.
    for _ in 0..5 {
        match conn.transaction(|c| attempt(c, ctx, &lines, create_customers)) {
            Err(Attempt::Race) => continue,
            Err(Attempt::Failed(e)) => return Err(e),
            Ok(out) => return Ok(out),
        }
    }
    Err(Error::Conflict {
        code: ErrorCode::InFlight,
        detail: "other requests kept recording the same sale references; retry".into(),
        existing_id: None,
    })
}

enum Attempt {
    Race,
    Failed(Error),
}

impl From<diesel::result::Error> for Attempt {
    fn from(e: diesel::result::Error) -> Self {
        if is_unique_violation(&e) {
            Self::Race
        } else {
            Self::Failed(e.into())
        }
    }
}

impl From<Error> for Attempt {
    fn from(e: Error) -> Self {
        Self::Failed(e)
    }
}

fn attempt(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    lines: &[Result<NewSale, Vec<FieldError>>],
    create_customers: bool,
) -> Result<(Vec<LineOutcome>, Vec<CustomerId>), Attempt> {
    let tenant = ctx.tenant;
    let valid: Vec<&NewSale> = lines.iter().filter_map(|l| l.as_ref().ok()).collect();
    // The stores named, with their currencies.
    let store_ids: Vec<StoreId> = unique(valid.iter().map(|s| s.store_id));
    let mut store_currency: HashMap<StoreId, String> = HashMap::new();
    for chunk in store_ids.chunks(500) {
        let rows: Vec<(StoreId, String)> = stores::table
            .filter(stores::tenant_id.eq(tenant).and(stores::id.eq_any(chunk)))
            .select((stores::id, stores::currency))
            .load(conn)?;
        store_currency.extend(rows);
    }
    // The buyers named.
    let ids: Vec<CustomerId> = unique(valid.iter().filter_map(|s| match &s.buyer {
        Buyer::Id(id) => Some(*id),
        Buyer::ExternalRef(_) => None,
    }));
    let mut known_ids: HashSet<CustomerId> = HashSet::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<CustomerId> = customers::table
            .filter(
                customers::tenant_id
                    .eq(tenant)
                    .and(customers::id.eq_any(chunk)),
            )
            .select(customers::id)
            .load(conn)?;
        known_ids.extend(rows);
    }
    let refs: Vec<String> = unique(valid.iter().filter_map(|s| match &s.buyer {
        Buyer::ExternalRef(r) => Some(r.clone()),
        Buyer::Id(_) => None,
    }));
    let mut by_ref: HashMap<String, CustomerId> = HashMap::new();
    for chunk in refs.chunks(500) {
        let rows: Vec<(String, CustomerId)> = customers::table
            .filter(
                customers::tenant_id
                    .eq(tenant)
                    .and(customers::external_ref.eq_any(chunk)),
            )
            .select((customers::external_ref, customers::id))
            .load(conn)?;
        by_ref.extend(rows);
    }
    // Sales already recorded under the references named.
    let sale_refs: Vec<&str> = unique(valid.iter().map(|s| s.sale_ref.as_str()));
    let mut existing: HashMap<(StoreId, String), SaleId> = HashMap::new();
    for chunk in sale_refs.chunks(500) {
        let rows: Vec<(StoreId, String, SaleId)> = sales::table
            .filter(
                sales::tenant_id
                    .eq(tenant)
                    .and(sales::store_id.eq_any(&store_ids))
                    .and(sales::sale_ref.eq_any(chunk)),
            )
            .select((sales::store_id, sales::sale_ref, sales::id))
            .load(conn)?;
        existing.extend(rows.into_iter().map(|(s, r, id)| ((s, r), id)));
    }

    let latest = ctx.now + CLOCK_SKEW;
    let mut new_customers: Vec<(CustomerId, String)> = Vec::new();
    let mut out = Vec::with_capacity(lines.len());
    let mut rows: Vec<Row> = Vec::new();
    for line in lines {
        let s = match line {
            Err(errs) => {
                out.push(LineOutcome::Error(errs.clone()));
                continue;
            }
            Ok(s) => s,
        };
        let mut errs = Vec::new();
        match store_currency.get(&s.store_id) {
            None => errs.push(FieldError::new(
                "store_id",
                format!("no store {}", s.store_id),
            )),
            Some(c) if c != s.amount.currency().code() => errs.push(FieldError::new(
                "amount.currency",
                format!("the store's currency is {c}"),
            )),
            Some(_) => {}
        }
        let customer = match &s.buyer {
            Buyer::Id(id) if known_ids.contains(id) => Some(*id),
            Buyer::Id(id) => {
                errs.push(FieldError::new("customer_id", format!("no customer {id}")));
                None
            }
            Buyer::ExternalRef(r) => match by_ref.get(r) {
                Some(id) => Some(*id),
                None if create_customers => {
                    let id = CustomerId::new();
                    by_ref.insert(r.clone(), id);
                    new_customers.push((id, r.clone()));
                    Some(id)
                }
                None => {
                    errs.push(FieldError::new(
                        "customer_external_ref",
                        format!("no customer with external_ref {r:?}"),
                    ));
                    None
                }
            },
        };
        if s.occurred_at > latest {
            errs.push(FieldError::new("occurred_at", "is in the future"));
        }
        let (Some(customer), true) = (customer, errs.is_empty()) else {
            out.push(LineOutcome::Error(errs));
            continue;
        };
        let key = (s.store_id, s.sale_ref.clone());
        if let Some(id) = existing.get(&key) {
            out.push(LineOutcome::Duplicate(*id));
            continue;
        }
        let row = Row {
            tenant_id: tenant,
            id: SaleId::new(),
            customer_id: customer,
            store_id: s.store_id,
            sale_ref: s.sale_ref.clone(),
            occurred_at: s.occurred_at,
            sale_date: s.sale_date,
            currency: s.amount.currency().code().to_owned(),
            amount_minor: s.amount.minor(),
            refunded_minor: 0,
            recorded_by: ctx.actor_sub.clone(),
            created_at: ctx.now,
        };
        existing.insert(key, row.id);
        out.push(LineOutcome::Created(Sale {
            id: row.id,
            customer_id: customer,
            store_id: s.store_id,
            sale_ref: s.sale_ref.clone(),
            occurred_at: s.occurred_at,
            sale_date: s.sale_date,
            amount: s.amount,
            refunded: s.amount.with_minor(0),
            recorded_by: ctx.actor_sub.clone(),
            created_at: ctx.now,
        }));
        rows.push(row);
    }
    // Only a customer with a sale recorded is created: a line in error (or a
    // duplicate) changes nothing, its buyer included.
    let buying: HashSet<CustomerId> = rows.iter().map(|r| r.customer_id).collect();
    new_customers.retain(|(id, _)| buying.contains(id));
    if !new_customers.is_empty() {
        super::customers::insert_named(conn, tenant, &new_customers, ctx.now)?;
    }
    for chunk in rows.chunks(500) {
        crate::each_backend!(&mut *conn, |c| diesel::insert_into(sales::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok((out, new_customers.into_iter().map(|(id, _)| id).collect()))
}

fn unique<T: Clone + Eq + std::hash::Hash>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items.filter(|x| seen.insert(x.clone())).collect()
}

/// One sale of the tenant.
pub(crate) fn get(conn: &mut DbConnection, tenant: TenantId, id: SaleId) -> Result<Sale, Error> {
    sales::table
        .filter(sales::tenant_id.eq(tenant).and(sales::id.eq(id)))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no sale {id}")))?
        .try_into()
}

/// A sale's refunds, oldest first.
pub(crate) fn refunds(
    conn: &mut DbConnection,
    tenant: TenantId,
    sale: &Sale,
) -> Result<Vec<Refund>, Error> {
    type R = (
        RefundId,
        i64,
        NaiveDate,
        Option<String>,
        String,
        NaiveDateTime,
    );
    let rows: Vec<R> = sale_refunds::table
        .filter(
            sale_refunds::tenant_id
                .eq(tenant)
                .and(sale_refunds::sale_id.eq(sale.id)),
        )
        .select((
            sale_refunds::id,
            sale_refunds::amount_minor,
            sale_refunds::refunded_on,
            sale_refunds::reason,
            sale_refunds::recorded_by,
            sale_refunds::created_at,
        ))
        .order(sale_refunds::id)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, minor, on, reason, by, at)| Refund {
            id,
            sale_id: sale.id,
            amount: sale.amount.with_minor(minor),
            refunded_on: on,
            reason,
            recorded_by: by,
            created_at: at,
        })
        .collect())
}

/// Refunds `amount` of a sale, on the command's day. More than is left of the
/// sale → 422 `refund_exceeds_sale`; another currency → 422. The check and the
/// update are one conditional statement, so concurrent refunds can never
/// together exceed the sale.
pub(crate) fn refund(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    sale_id: SaleId,
    amount: Money,
    reason: Option<String>,
) -> Result<(Sale, Sale, Refund), Error> {
    let tenant = ctx.tenant;
    let before = get(conn, tenant, sale_id)?;
    ctx.require_store(before.store_id)?;
    if amount.currency() != before.amount.currency() {
        return Err(Error::field(
            "amount.currency",
            format!("the sale is in {}", before.amount.currency().code()),
        ));
    }
    let n = amount.minor();
    let updated = diesel::update(
        sales::table.filter(
            sales::tenant_id
                .eq(tenant)
                .and(sales::id.eq(sale_id))
                .and((sales::amount_minor - sales::refunded_minor).ge(n)),
        ),
    )
    .set(sales::refunded_minor.eq(sales::refunded_minor + n))
    .execute(conn)?;
    if updated == 0 {
        let now = get(conn, tenant, sale_id)?;
        let left = now.amount.minor() - now.refunded.minor();
        return Err(Error::Unprocessable {
            code: ErrorCode::RefundExceedsSale,
            detail: format!(
                "only {} {} of sale {sale_id} is left to refund",
                now.amount.with_minor(left).amount_string(),
                now.amount.currency().code()
            ),
            errors: vec![FieldError::new(
                "amount.amount",
                format!(
                    "must be at most {}",
                    now.amount.with_minor(left).amount_string()
                ),
            )],
        });
    }
    let r = Refund {
        id: RefundId::new(),
        sale_id,
        amount,
        refunded_on: ctx.now.date(),
        reason,
        recorded_by: ctx.actor_sub.clone(),
        created_at: ctx.now,
    };
    diesel::insert_into(sale_refunds::table)
        .values((
            sale_refunds::tenant_id.eq(tenant),
            sale_refunds::id.eq(r.id),
            sale_refunds::sale_id.eq(sale_id),
            sale_refunds::amount_minor.eq(n),
            sale_refunds::refunded_on.eq(r.refunded_on),
            sale_refunds::reason.eq(&r.reason),
            sale_refunds::recorded_by.eq(&r.recorded_by),
            sale_refunds::created_at.eq(r.created_at),
        ))
        .execute(conn)?;
    let after = get(conn, tenant, sale_id)?;
    Ok((before, after, r))
}

/// Filters of the sales list.
#[derive(Clone, Debug, Default)]
pub(crate) struct Filter {
    /// One customer's.
    pub customer_id: Option<CustomerId>,
    /// One store's.
    pub store_id: Option<StoreId>,
    /// Only these stores' (a store-scoped token's).
    pub stores: Option<Vec<StoreId>>,
}

/// A page of sales, in id order.
pub(crate) fn list(
    conn: &mut DbConnection,
    tenant: TenantId,
    filter: &Filter,
    page: PageRequest<SaleId>,
) -> Result<PageOf<Sale>, Error> {
    let mut q = sales::table
        .filter(sales::tenant_id.eq(tenant))
        .select(Row::as_select())
        .order(sales::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(c) = filter.customer_id {
        q = q.filter(sales::customer_id.eq(c));
    }
    if let Some(s) = filter.store_id {
        q = q.filter(sales::store_id.eq(s));
    }
    if let Some(s) = &filter.stores {
        q = q.filter(sales::store_id.eq_any(s.clone()));
    }
    super::after_cursor!(conn, q, sales, tenant, page.starting_after);
    let page_of = PageOf::from_rows(q.load(conn)?, page.limit);
    Ok(PageOf {
        items: page_of
            .items
            .into_iter()
            .map(Sale::try_from)
            .collect::<Result<_, _>>()?,
        has_more: page_of.has_more,
    })
}

/// A customer's newest sales (of `stores` only, when given).
pub(crate) fn recent_of_customer(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
    stores: Option<&[StoreId]>,
    limit: i64,
) -> Result<Vec<Sale>, Error> {
    let mut q = sales::table
        .filter(
            sales::tenant_id
                .eq(tenant)
                .and(sales::customer_id.eq(customer)),
        )
        .select(Row::as_select())
        .order(sales::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(s) = stores {
        q = q.filter(sales::store_id.eq_any(s.to_vec()));
    }
    q.load(conn)?.into_iter().map(Sale::try_from).collect()
}

/// Net purchase totals per day, by customer and currency.
pub(crate) type DayTotals = HashMap<(CustomerId, Currency), Vec<(NaiveDate, i64)>>;

/// Net purchase totals per customer, currency and day, as of `as_of`: sales
/// dated on or before it, less the refunds made on or before it.
pub fn day_totals(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer_ids: &[CustomerId],
    as_of: NaiveDate,
) -> Result<DayTotals, Error> {
    let mut out = DayTotals::new();
    for chunk in customer_ids.chunks(200) {
        let rows: Vec<(SaleId, CustomerId, String, NaiveDate, i64, i64)> = sales::table
            .filter(
                sales::tenant_id
                    .eq(tenant)
                    .and(sales::customer_id.eq_any(chunk))
                    .and(sales::sale_date.le(as_of)),
            )
            .select((
                sales::id,
                sales::customer_id,
                sales::currency,
                sales::sale_date,
                sales::amount_minor,
                sales::refunded_minor,
            ))
            .load(conn)?;
        let refunded: Vec<SaleId> = rows.iter().filter(|r| r.5 > 0).map(|r| r.0).collect();
        let mut refunds: HashMap<SaleId, i64> = HashMap::new();
        for ids in refunded.chunks(500) {
            let rs: Vec<(SaleId, i64)> = sale_refunds::table
                .filter(
                    sale_refunds::tenant_id
                        .eq(tenant)
                        .and(sale_refunds::sale_id.eq_any(ids))
                        .and(sale_refunds::refunded_on.le(as_of)),
                )
                .select((sale_refunds::sale_id, sale_refunds::amount_minor))
                .load(conn)?;
            for (id, n) in rs {
                *refunds.entry(id).or_default() += n;
            }
        }
        for (id, customer, cur, day, amount, _) in rows {
            let net = amount - refunds.get(&id).copied().unwrap_or(0);
            out.entry((customer, currency(&cur)?))
                .or_default()
                .push((day, net));
        }
    }
    Ok(out)
}

/// The currencies the tenant's sales are in.
pub(crate) fn currencies(
    conn: &mut DbConnection,
    tenant: TenantId,
) -> Result<Vec<Currency>, Error> {
    let codes: Vec<String> = sales::table
        .filter(sales::tenant_id.eq(tenant))
        .select(sales::currency)
        .distinct()
        .order(sales::currency)
        .load(conn)?;
    codes.iter().map(|c| currency(c)).collect()
}

/// One customer's summary as SQL aggregates it (see
/// [`crate::value::Statistics::from_summary`]).
#[derive(QueryableByName, Debug, Clone, Copy, PartialEq)]
pub struct SummaryRow {
    /// Repeat purchase days.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub frequency: i64,
    /// First purchase day.
    #[diesel(sql_type = diesel::sql_types::Date)]
    pub first_day: NaiveDate,
    /// Last purchase day.
    #[diesel(sql_type = diesel::sql_types::Date)]
    pub last_day: NaiveDate,
    /// Net total of the repeat purchase days (minor units), as a float: the
    /// model's statistic is one, and a customer's purchases can sum past 64-bit
    /// integers (which SQLite's SUM refuses and PostgreSQL's cast back fails).
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub repeat_total: f64,
}

/// Every customer's summary in `currency` as of `as_of`, computed by the
/// database: purchases per day net of refunds made by then, days with a net
/// above zero, then per customer the repeat days, first and last day and the
/// repeat days' total.
pub fn summaries(
    conn: &mut DbConnection,
    tenant: TenantId,
    currency: Currency,
    as_of: NaiveDate,
) -> Result<Vec<SummaryRow>, Error> {
    // The tenant id is a parsed UUID, the currency a known ISO code and the
    // date a formatted date: safe to inline, and it spares two placeholder
    // dialects.
    let (t, c, d) = (tenant, currency.code(), as_of.format("%Y-%m-%d"));
    let sql = format!(
        "WITH r AS (
            SELECT sale_id, SUM(amount_minor) AS amt FROM sale_refunds
            WHERE tenant_id = '{t}' AND refunded_on <= '{d}' GROUP BY sale_id
         ), days AS (
            SELECT s.customer_id, s.sale_date AS d,
                   SUM(CAST(s.amount_minor - COALESCE(r.amt, 0) AS DOUBLE PRECISION)) AS net
            FROM sales s LEFT JOIN r ON r.sale_id = s.id
            WHERE s.tenant_id = '{t}' AND s.currency = '{c}' AND s.sale_date <= '{d}'
            GROUP BY s.customer_id, s.sale_date
            HAVING SUM(CAST(s.amount_minor - COALESCE(r.amt, 0) AS DOUBLE PRECISION)) > 0
         ), ranked AS (
            SELECT customer_id, d, net,
                   ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY d) AS rn
            FROM days
         )
         SELECT CAST(COUNT(*) - 1 AS BIGINT) AS frequency,
                MIN(d) AS first_day, MAX(d) AS last_day,
                CAST(COALESCE(SUM(CASE WHEN rn > 1 THEN net ELSE 0.0 END), 0.0) AS DOUBLE PRECISION)
                    AS repeat_total
         FROM ranked GROUP BY customer_id"
    );
    Ok(diesel::sql_query(sql).load(conn)?)
}
