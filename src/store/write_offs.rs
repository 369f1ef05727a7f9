//! Write-offs for finance's review: one item per waiver that takes effect,
//! created in that transaction; reviews appended to it.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{write_off_reviews, write_offs};
use crate::audit::AuditCtx;
use crate::domain::gesture::{Gesture, GestureStatus, Terms};
use crate::domain::ids::{CustomerId, GestureId, ReviewId, StoreId, TenantId};
use crate::error::{Error, ErrorCode};

/// A write-off item.
#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = write_offs)]
pub(crate) struct WriteOff {
    /// Its tenant.
    pub tenant_id: TenantId,
    /// The waiver's gesture id.
    pub id: GestureId,
    /// The customer.
    pub customer_id: CustomerId,
    /// The store.
    pub store_id: StoreId,
    /// Currency code.
    pub currency: String,
    /// Amount written off (minor units).
    pub amount_minor: i64,
    /// The waiver's reason code.
    pub reason_code: String,
    /// Its story.
    pub story: String,
    /// Who requested the waiver.
    pub requested_by: String,
    /// Who approved it (`None`: it was within the requester's own limit).
    pub approved_by: Option<String>,
    /// The rule that decided.
    pub decision_rule: String,
    /// The policy version that decided.
    pub policy_version: i32,
    /// The promise the write-off route gave up, if it came from there.
    pub write_off_of: Option<GestureId>,
    /// When it counts.
    pub effective_on: NaiveDate,
    /// `unreviewed`, `reviewed` or `flagged`.
    pub status: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last reviewed.
    pub updated_at: NaiveDateTime,
}

/// One review.
#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = write_off_reviews)]
pub(crate) struct Review {
    /// Its tenant.
    pub tenant_id: TenantId,
    /// Its id.
    pub id: ReviewId,
    /// The item.
    pub write_off_id: GestureId,
    /// `reviewed` or `flagged`.
    pub outcome: String,
    /// The reviewer's note.
    pub note: Option<String>,
    /// The reviewer's `sub`.
    pub reviewer: String,
    /// The reviewer's role.
    pub reviewer_role: String,
    /// When.
    pub created_at: NaiveDateTime,
}

/// Creates the review item of a waiver that just took effect (the caller's
/// transaction).
pub(crate) fn record(conn: &mut DbConnection, g: &Gesture, at: NaiveDateTime) -> Result<(), Error> {
    let Terms::BalanceWaiver { amount, .. } = &g.terms else {
        return Err(Error::internal(format!(
            "gesture {} is not a waiver and cannot be written off",
            g.id
        )));
    };
    let approved_by = g
        .approval
        .as_ref()
        .and_then(|a| a.decided.as_ref())
        .filter(|d| d.outcome == GestureStatus::Approved.as_str())
        .map(|d| d.by.clone());
    diesel::insert_into(write_offs::table)
        .values(WriteOff {
            tenant_id: g.tenant_id,
            id: g.id,
            customer_id: g.customer_id,
            store_id: g.store_id,
            currency: g.currency.code().to_owned(),
            amount_minor: amount.minor(),
            reason_code: g.reason_code.clone(),
            story: g.story.clone(),
            requested_by: g.requested_by.clone(),
            approved_by,
            decision_rule: g.decision_rule.clone(),
            policy_version: g.policy_version,
            write_off_of: g.write_off_of,
            effective_on: g.effective_on,
            status: "unreviewed".into(),
            created_at: at,
            updated_at: at,
        })
        .execute(conn)?;
    Ok(())
}

/// Filters of the review list.
#[derive(Clone, Debug, Default)]
pub(crate) struct Filter {
    /// One status.
    pub status: Option<String>,
    /// One store.
    pub store_id: Option<StoreId>,
    /// Stores the token may see (`None`: all).
    pub stores: Option<Vec<StoreId>>,
    /// effective_on from (inclusive).
    pub from: Option<NaiveDate>,
    /// effective_on to (inclusive).
    pub to: Option<NaiveDate>,
    /// One reason code.
    pub reason_code: Option<String>,
}

/// A page of items, oldest first, and whether more follow.
pub(crate) fn list(
    conn: &mut DbConnection,
    tenant: TenantId,
    f: &Filter,
    after: Option<GestureId>,
    limit: i64,
) -> Result<(Vec<WriteOff>, bool), Error> {
    let mut q = write_offs::table
        .filter(write_offs::tenant_id.eq(tenant))
        .select(WriteOff::as_select())
        .order(write_offs::id)
        .limit(limit + 1)
        .into_boxed();
    if let Some(a) = after {
        super::known_cursor(
            diesel::select(diesel::dsl::exists(
                write_offs::table
                    .filter(write_offs::tenant_id.eq(tenant).and(write_offs::id.eq(a))),
            ))
            .get_result(conn)?,
        )?;
        q = q.filter(write_offs::id.gt(a));
    }
    if let Some(s) = &f.status {
        q = q.filter(write_offs::status.eq(s.clone()));
    }
    if let Some(s) = f.store_id {
        q = q.filter(write_offs::store_id.eq(s));
    }
    if let Some(s) = &f.stores {
        q = q.filter(write_offs::store_id.eq_any(s.clone()));
    }
    if let Some(d) = f.from {
        q = q.filter(write_offs::effective_on.ge(d));
    }
    if let Some(d) = f.to {
        q = q.filter(write_offs::effective_on.le(d));
    }
    if let Some(r) = &f.reason_code {
        q = q.filter(write_offs::reason_code.eq(r.clone()));
    }
    let mut rows = q.load(conn)?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(0);
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok((rows, more))
}

/// The reviews of these items, oldest first.
pub(crate) fn reviews_of(
    conn: &mut DbConnection,
    tenant: TenantId,
    ids: &[GestureId],
) -> Result<Vec<Review>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(write_off_reviews::table
        .filter(
            write_off_reviews::tenant_id
                .eq(tenant)
                .and(write_off_reviews::write_off_id.eq_any(ids)),
        )
        .select(Review::as_select())
        .order(write_off_reviews::id)
        .load(conn)?)
}

fn locked(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: GestureId,
) -> Result<Option<WriteOff>, Error> {
    let this = write_offs::tenant_id.eq(tenant).and(write_offs::id.eq(id));
    if let DbConnection::Pg(c) = conn {
        // Lock the row first: two reviews of one item queue here.
        write_offs::table
            .filter(this)
            .select(write_offs::id)
            .for_update()
            .first::<GestureId>(c)
            .optional()?;
    }
    Ok(write_offs::table
        .filter(this)
        .select(WriteOff::as_select())
        .first(conn)
        .optional()?)
}

/// Reviews one item: (before, after). The reviewer is neither the requester nor
/// the approver (403). A reviewed item is final (409 `already_reviewed`); a
/// flagged one can be resolved by a later review, with a note.
pub(crate) fn review(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    id: GestureId,
    outcome: &str,
    note: Option<String>,
    field: &str,
) -> Result<(WriteOff, WriteOff), Error> {
    let tenant = ctx.tenant;
    let Some(before) = locked(conn, tenant, id)? else {
        return Err(if field.is_empty() {
            Error::NotFound(format!("no write-off {id}"))
        } else {
            Error::field(field, format!("no write-off {id}"))
        });
    };
    // Outside the token's stores nothing about the item is answered but that.
    ctx.require_store(before.store_id)?;
    if before.requested_by == ctx.actor_sub {
        return Err(Error::Forbidden {
            code: ErrorCode::ReviewerIsRequester,
            detail: format!("write-off {id}: its requester may not review it"),
        });
    }
    if before.approved_by.as_deref() == Some(ctx.actor_sub.as_str()) {
        return Err(Error::Forbidden {
            code: ErrorCode::ReviewerIsApprover,
            detail: format!("write-off {id}: its approver may not review it"),
        });
    }
    if before.status == "reviewed" {
        return Err(Error::Conflict {
            code: ErrorCode::AlreadyReviewed,
            detail: format!("write-off {id} was already reviewed; a review is final"),
            existing_id: Some(id.to_string()),
        });
    }
    if before.status == "flagged" && outcome == "flagged" {
        return Err(Error::Conflict {
            code: ErrorCode::AlreadyFlagged,
            detail: format!("write-off {id} is already flagged; resolve it with outcome reviewed"),
            existing_id: Some(id.to_string()),
        });
    }
    if note.is_none() && (outcome == "flagged" || before.status == "flagged") {
        return Err(Error::field(
            "note",
            "is required to flag a write-off or to resolve a flagged one",
        ));
    }
    diesel::insert_into(write_off_reviews::table)
        .values(Review {
            tenant_id: tenant,
            id: ReviewId::new(),
            write_off_id: id,
            outcome: outcome.to_owned(),
            note,
            reviewer: ctx.actor_sub.clone(),
            reviewer_role: ctx.actor_role.as_str().to_owned(),
            created_at: ctx.now,
        })
        .execute(conn)?;
    diesel::update(
        write_offs::table.filter(write_offs::tenant_id.eq(tenant).and(write_offs::id.eq(id))),
    )
    .set((
        write_offs::status.eq(outcome),
        write_offs::updated_at.eq(ctx.now),
    ))
    .execute(conn)?;
    let mut after = before.clone();
    after.status = outcome.to_owned();
    after.updated_at = ctx.now;
    Ok((before, after))
}
