//! Sales and refunds: what the value model learns from. A sale posts nothing
//! to the ledger.

use serde::Serialize;

use crate::app::Ctx;
use crate::audit::NewEvent;
use crate::domain::FieldError;
use crate::domain::ids::{SaleBatchId, SaleId};
use crate::domain::money::Money;
use crate::domain::roles::Permission;
use crate::error::Error;
use crate::store::DbConnection;
use crate::store::sales::{LineOutcome, NewSale, Refund, Sale};
use crate::views::sale::SaleView;

/// Records one sale at a store the token holds (`sale.recorded`).
pub(crate) fn record_sale(conn: &mut DbConnection, ctx: &Ctx, new: NewSale) -> Result<Sale, Error> {
    ctx.require(Permission::SalesRecord)?;
    ctx.require_store(new.store_id)?;
    let s = crate::store::sales::record(conn, ctx, new)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created("sale.recorded", "sale", s.id, &SaleView::of(&s, Some(&[]))),
    )?;
    Ok(s)
}

#[derive(Serialize)]
struct BatchAudit {
    created: Vec<SaleId>,
    duplicates: usize,
    errors: usize,
}

/// Records a batch of sales, each line on its own: created, a duplicate of a
/// sale already recorded, or an error (a line at a store the token may not act
/// at is one). One `sales.batch_recorded` event names what was created.
pub(crate) fn record_sales(
    conn: &mut DbConnection,
    ctx: &Ctx,
    lines: Vec<Result<NewSale, Vec<FieldError>>>,
) -> Result<Vec<LineOutcome>, Error> {
    ctx.require(Permission::SalesRecord)?;
    let lines = lines
        .into_iter()
        .map(|l| match l {
            Ok(new) if !ctx.may_act_at(new.store_id) => Err(vec![FieldError::new(
                "store_id",
                format!("this token may not act at store {}", new.store_id),
            )]),
            other => other,
        })
        .collect();
    let (outcomes, _) = crate::store::sales::record_many(conn, ctx, lines, false)?;
    let created: Vec<SaleId> = outcomes
        .iter()
        .filter_map(|o| match o {
            LineOutcome::Created(s) => Some(s.id),
            _ => None,
        })
        .collect();
    if !created.is_empty() {
        let count = |f: fn(&LineOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
        crate::store::audit::append(
            conn,
            ctx,
            NewEvent::created(
                "sales.batch_recorded",
                "sale_batch",
                SaleBatchId::new(),
                &BatchAudit {
                    created,
                    duplicates: count(|o| matches!(o, LineOutcome::Duplicate(_))),
                    errors: count(|o| matches!(o, LineOutcome::Error(_))),
                },
            ),
        )?;
    }
    Ok(outcomes)
}

/// Refunds (part of) a sale, at a store the token holds (`sale.refunded`):
/// the sale after it, its refunds, and the refund.
pub(crate) fn refund_sale(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: SaleId,
    amount: Money,
    reason: Option<String>,
) -> Result<(Sale, Vec<Refund>, Refund), Error> {
    ctx.require(Permission::SalesRecord)?;
    let (before, after, r) = crate::store::sales::refund(conn, ctx, id, amount, reason)?;
    let refunds = crate::store::sales::refunds(conn, ctx.tenant, &after)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::changed(
            "sale.refunded",
            "sale",
            id,
            &SaleView::of(&before, None),
            &SaleView::of(&after, Some(&refunds)),
        ),
    )?;
    Ok((after, refunds, r))
}

/// Imports one chunk of sales from a file (`line` numbers say where they came
/// from), creating unknown customers when asked: each sale created, skipped as
/// already recorded, or an error. One `sales.imported` event summarises the
/// chunk, with a digest of the sales it created. Answers the outcomes and how
/// many customers were created.
pub(crate) fn import_sales(
    conn: &mut DbConnection,
    ctx: &Ctx,
    lines: (u64, u64),
    sales: Vec<Result<NewSale, Vec<FieldError>>>,
    create_customers: bool,
) -> Result<(Vec<LineOutcome>, i64), Error> {
    ctx.require(Permission::SalesRecord)?;
    let (outcomes, new_customers) =
        crate::store::sales::record_many(conn, ctx, sales, create_customers)?;
    // Each customer the import created is a state change like any other:
    // its own `customer.created` event (audit trail and feed).
    for chunk in new_customers.chunks(500) {
        for customer in crate::store::customers::by_ids(conn, ctx.tenant, chunk)? {
            crate::app::customers::record_created(conn, ctx, &customer)?;
        }
    }
    let created: Vec<String> = outcomes
        .iter()
        .filter_map(|o| match o {
            LineOutcome::Created(s) => Some(s.id.to_string()),
            _ => None,
        })
        .collect();
    let customers_created = i64::try_from(new_customers.len()).unwrap_or(i64::MAX);
    if !created.is_empty() {
        use sha2::Digest;
        let digest = crate::audit::hex(&sha2::Sha256::digest(created.join("\n")));
        crate::store::audit::append(
            conn,
            ctx,
            NewEvent::created(
                "sales.imported",
                "sale_batch",
                SaleBatchId::new(),
                &serde_json::json!({
                    "lines": [lines.0, lines.1],
                    "created": created.len(),
                    "first_sale_id": created.first(),
                    "last_sale_id": created.last(),
                    "sale_ids_sha256": digest,
                    "customers_created": customers_created,
                }),
            ),
        )?;
    }
    Ok((outcomes, customers_created))
}
