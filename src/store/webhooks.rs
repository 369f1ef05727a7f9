//! Webhook endpoints, their deliveries and every attempt.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{events, webhook_attempts, webhook_deliveries, webhook_endpoints};
use super::{DbConnection, PageOf, PageRequest};
use crate::domain::ids::{
    AuditEventId, TenantId, WebhookAttemptId, WebhookDeliveryId, WebhookEndpointId,
};
use crate::domain::webhook::{Attempt, Delivery, DeliveryState, Endpoint};
use crate::error::Error;

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
struct EndpointRow {
    tenant_id: TenantId,
    id: WebhookEndpointId,
    url: String,
    description: String,
    event_types: Option<String>,
    enabled: bool,
    secret: String,
    previous_secret: Option<String>,
    previous_until: Option<NaiveDateTime>,
    feed_cursor: Option<AuditEventId>,
    failing_since: Option<NaiveDateTime>,
    disabled_reason: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<EndpointRow> for Endpoint {
    type Error = Error;
    fn try_from(r: EndpointRow) -> Result<Self, Error> {
        let event_types = r
            .event_types
            .map(|t| serde_json::from_str::<Vec<String>>(&t))
            .transpose()
            .map_err(|e| {
                Error::internal(format!(
                    "webhook endpoint {} has unreadable event types: {e}",
                    r.id
                ))
            })?;
        Ok(Endpoint {
            tenant: r.tenant_id,
            id: r.id,
            url: r.url,
            description: r.description,
            event_types,
            enabled: r.enabled,
            secret: r.secret,
            previous_secret: r.previous_secret,
            previous_until: r.previous_until,
            feed_cursor: r.feed_cursor,
            failing_since: r.failing_since,
            disabled_reason: r.disabled_reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn types_text(e: &Endpoint) -> Option<String> {
    e.event_types
        .as_ref()
        .map(|t| serde_json::Value::from(t.clone()).to_string())
}

/// Records a new endpoint.
pub(crate) fn insert_endpoint(conn: &mut DbConnection, e: &Endpoint) -> Result<(), Error> {
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::tenant_id.eq(e.tenant),
            webhook_endpoints::id.eq(e.id),
            webhook_endpoints::url.eq(&e.url),
            webhook_endpoints::description.eq(&e.description),
            webhook_endpoints::event_types.eq(types_text(e)),
            webhook_endpoints::enabled.eq(e.enabled),
            webhook_endpoints::secret.eq(&e.secret),
            webhook_endpoints::previous_secret.eq(&e.previous_secret),
            webhook_endpoints::previous_until.eq(e.previous_until),
            webhook_endpoints::feed_cursor.eq(e.feed_cursor),
            webhook_endpoints::failing_since.eq(e.failing_since),
            webhook_endpoints::disabled_reason.eq(&e.disabled_reason),
            webhook_endpoints::created_at.eq(e.created_at),
            webhook_endpoints::updated_at.eq(e.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes every changeable column of an endpoint.
pub(crate) fn save_endpoint(conn: &mut DbConnection, e: &Endpoint) -> Result<(), Error> {
    diesel::update(
        webhook_endpoints::table.filter(
            webhook_endpoints::tenant_id
                .eq(e.tenant)
                .and(webhook_endpoints::id.eq(e.id)),
        ),
    )
    .set((
        webhook_endpoints::url.eq(&e.url),
        webhook_endpoints::description.eq(&e.description),
        webhook_endpoints::event_types.eq(types_text(e)),
        webhook_endpoints::enabled.eq(e.enabled),
        webhook_endpoints::secret.eq(&e.secret),
        webhook_endpoints::previous_secret.eq(&e.previous_secret),
        webhook_endpoints::previous_until.eq(e.previous_until),
        webhook_endpoints::feed_cursor.eq(e.feed_cursor),
        webhook_endpoints::failing_since.eq(e.failing_since),
        webhook_endpoints::disabled_reason.eq(&e.disabled_reason),
        webhook_endpoints::updated_at.eq(e.updated_at),
    ))
    .execute(conn)?;
    Ok(())
}

/// One endpoint of the tenant; with `lock`, its row is locked for the
/// transaction on PostgreSQL (SQLite has one writer).
pub(crate) fn endpoint(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: WebhookEndpointId,
    lock: bool,
) -> Result<Endpoint, Error> {
    let q = webhook_endpoints::table.filter(
        webhook_endpoints::tenant_id
            .eq(tenant)
            .and(webhook_endpoints::id.eq(id)),
    );
    let row = match conn {
        DbConnection::Pg(c) if lock => q
            .select(EndpointRow::as_select())
            .for_update()
            .first(c)
            .optional()?,
        _ => q.select(EndpointRow::as_select()).first(conn).optional()?,
    };
    row.ok_or_else(|| Error::NotFound(format!("no webhook endpoint {id}")))?
        .try_into()
}

/// A page of the tenant's endpoints, in id order.
pub(crate) fn endpoints(
    conn: &mut DbConnection,
    tenant: TenantId,
    page: PageRequest<WebhookEndpointId>,
) -> Result<PageOf<Endpoint>, Error> {
    let mut q = webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(tenant))
        .select(EndpointRow::as_select())
        .order(webhook_endpoints::id)
        .limit(page.limit + 1)
        .into_boxed();
    super::after_cursor!(conn, q, webhook_endpoints, tenant, page.starting_after);
    let rows = PageOf::from_rows(q.load(conn)?, page.limit);
    Ok(PageOf {
        items: rows
            .items
            .into_iter()
            .map(Endpoint::try_from)
            .collect::<Result<_, _>>()?,
        has_more: rows.has_more,
    })
}

/// The tenant's last feed event (in feed order), if any: where a new or
/// re-enabled endpoint's deliveries begin.
pub(crate) fn last_feed_event(
    conn: &mut DbConnection,
    tenant: TenantId,
) -> Result<Option<AuditEventId>, Error> {
    Ok(events::table
        .filter(events::tenant_id.eq(tenant))
        .order((events::txid.desc(), events::seq.desc()))
        .select(events::id)
        .first(conn)
        .optional()?)
}

/// One enabled endpoint in the worker's fan-out list.
pub(crate) struct FanOutPlace {
    /// Its tenant.
    pub tenant: TenantId,
    /// The endpoint.
    pub id: WebhookEndpointId,
    /// The last feed event fanned out to it.
    pub cursor: Option<AuditEventId>,
}

/// Every enabled endpoint (of every tenant) and its place in the feed: the
/// worker's fan-out list, by tenant.
pub(crate) fn enabled_endpoints(conn: &mut DbConnection) -> Result<Vec<FanOutPlace>, Error> {
    let rows: Vec<(TenantId, WebhookEndpointId, Option<AuditEventId>)> = webhook_endpoints::table
        .filter(webhook_endpoints::enabled.eq(true))
        .select((
            webhook_endpoints::tenant_id,
            webhook_endpoints::id,
            webhook_endpoints::feed_cursor,
        ))
        .order((webhook_endpoints::tenant_id, webhook_endpoints::id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(tenant, id, cursor)| FanOutPlace { tenant, id, cursor })
        .collect())
}

/// An enabled endpoint, locked for its fan-out; `None` when another
/// instance holds it (PostgreSQL's `SKIP LOCKED`) or it was disabled.
pub(crate) fn lock_for_fan_out(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: WebhookEndpointId,
) -> Result<Option<Endpoint>, Error> {
    let q = webhook_endpoints::table.filter(
        webhook_endpoints::tenant_id
            .eq(tenant)
            .and(webhook_endpoints::id.eq(id))
            .and(webhook_endpoints::enabled.eq(true)),
    );
    let row = match conn {
        DbConnection::Pg(c) => q
            .select(EndpointRow::as_select())
            .for_update()
            .skip_locked()
            .first(c)
            .optional()?,
        DbConnection::Sqlite(_) => q.select(EndpointRow::as_select()).first(conn).optional()?,
    };
    row.map(Endpoint::try_from).transpose()
}

/// Moves an endpoint's feed cursor.
pub(crate) fn set_cursor(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: WebhookEndpointId,
    cursor: AuditEventId,
) -> Result<(), Error> {
    diesel::update(
        webhook_endpoints::table.filter(
            webhook_endpoints::tenant_id
                .eq(tenant)
                .and(webhook_endpoints::id.eq(id)),
        ),
    )
    .set(webhook_endpoints::feed_cursor.eq(Some(cursor)))
    .execute(conn)?;
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
struct DeliveryRow {
    tenant_id: TenantId,
    id: WebhookDeliveryId,
    endpoint_id: WebhookEndpointId,
    event_id: AuditEventId,
    event_type: String,
    payload: String,
    state: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    last_status: Option<i32>,
    created_at: NaiveDateTime,
    delivered_at: Option<NaiveDateTime>,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = Error;
    fn try_from(r: DeliveryRow) -> Result<Self, Error> {
        let state = DeliveryState::parse(&r.state).ok_or_else(|| {
            Error::internal(format!(
                "webhook delivery {} has unknown state {}",
                r.id, r.state
            ))
        })?;
        Ok(Delivery {
            tenant: r.tenant_id,
            id: r.id,
            endpoint_id: r.endpoint_id,
            event_id: r.event_id,
            event_type: r.event_type,
            payload: r.payload,
            state,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_status: r.last_status,
            created_at: r.created_at,
            delivered_at: r.delivered_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = webhook_deliveries)]
struct NewDelivery<'a> {
    tenant_id: TenantId,
    id: WebhookDeliveryId,
    endpoint_id: WebhookEndpointId,
    event_id: AuditEventId,
    event_type: &'a str,
    payload: &'a str,
    state: &'static str,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    last_status: Option<i32>,
    created_at: NaiveDateTime,
    delivered_at: Option<NaiveDateTime>,
}

/// Records new deliveries: one multi-row statement on PostgreSQL (a fan-out
/// writes hundreds at once), one statement each on SQLite (function calls
/// there).
pub(crate) fn insert_deliveries(conn: &mut DbConnection, ds: &[Delivery]) -> Result<(), Error> {
    let rows: Vec<NewDelivery<'_>> = ds
        .iter()
        .map(|d| NewDelivery {
            tenant_id: d.tenant,
            id: d.id,
            endpoint_id: d.endpoint_id,
            event_id: d.event_id,
            event_type: &d.event_type,
            payload: &d.payload,
            state: d.state.as_str(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status: d.last_status,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        })
        .collect();
    match conn {
        DbConnection::Pg(c) => {
            for chunk in rows.chunks(500) {
                diesel::insert_into(webhook_deliveries::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
        DbConnection::Sqlite(_) => {
            for r in &rows {
                diesel::insert_into(webhook_deliveries::table)
                    .values(r)
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Writes a delivery's changeable columns.
pub(crate) fn save_delivery(conn: &mut DbConnection, d: &Delivery) -> Result<(), Error> {
    diesel::update(
        webhook_deliveries::table.filter(
            webhook_deliveries::tenant_id
                .eq(d.tenant)
                .and(webhook_deliveries::id.eq(d.id)),
        ),
    )
    .set((
        webhook_deliveries::state.eq(d.state.as_str()),
        webhook_deliveries::attempts.eq(d.attempts),
        webhook_deliveries::next_attempt_at.eq(d.next_attempt_at),
        webhook_deliveries::last_status.eq(d.last_status),
        webhook_deliveries::delivered_at.eq(d.delivered_at),
    ))
    .execute(conn)?;
    Ok(())
}

/// Takes up to `limit` due deliveries of enabled endpoints (oldest due
/// first) and leases them until `lease_until`, so no other instance takes
/// them meanwhile (`FOR UPDATE SKIP LOCKED` on PostgreSQL: instances never
/// wait for each other's rows).
pub(crate) fn take_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Delivery>, Error> {
    let enabled = webhook_endpoints::table
        .filter(webhook_endpoints::enabled.eq(true))
        .select(webhook_endpoints::id);
    let q = webhook_deliveries::table
        .filter(webhook_deliveries::state.eq(DeliveryState::Pending.as_str()))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(webhook_deliveries::endpoint_id.eq_any(enabled))
        .order(webhook_deliveries::next_attempt_at)
        .limit(limit);
    let rows = match conn {
        DbConnection::Pg(c) => q
            .select(DeliveryRow::as_select())
            .for_update()
            .skip_locked()
            .load(c)?,
        DbConnection::Sqlite(_) => q.select(DeliveryRow::as_select()).load(conn)?,
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut d = Delivery::try_from(r)?;
        d.next_attempt_at = lease_until;
        out.push(d);
    }
    // One statement leases them all.
    let ids: Vec<WebhookDeliveryId> = out.iter().map(|d| d.id).collect();
    if !ids.is_empty() {
        diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
            .set(webhook_deliveries::next_attempt_at.eq(lease_until))
            .execute(conn)?;
    }
    Ok(out)
}

/// Records an attempt.
pub(crate) fn insert_attempt(
    conn: &mut DbConnection,
    d: &Delivery,
    a: &Attempt,
) -> Result<(), Error> {
    diesel::insert_into(webhook_attempts::table)
        .values((
            webhook_attempts::tenant_id.eq(d.tenant),
            webhook_attempts::id.eq(a.id),
            webhook_attempts::delivery_id.eq(d.id),
            webhook_attempts::at.eq(a.at),
            webhook_attempts::status.eq(a.status),
            webhook_attempts::latency_ms.eq(a.latency_ms),
            webhook_attempts::response.eq(&a.response),
            webhook_attempts::error.eq(&a.error),
        ))
        .execute(conn)?;
    Ok(())
}

/// One delivery of the tenant; with `lock`, locked for the transaction on
/// PostgreSQL.
pub(crate) fn delivery(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: WebhookDeliveryId,
    lock: bool,
) -> Result<Delivery, Error> {
    let q = webhook_deliveries::table.filter(
        webhook_deliveries::tenant_id
            .eq(tenant)
            .and(webhook_deliveries::id.eq(id)),
    );
    let row = match conn {
        DbConnection::Pg(c) if lock => q
            .select(DeliveryRow::as_select())
            .for_update()
            .first(c)
            .optional()?,
        _ => q.select(DeliveryRow::as_select()).first(conn).optional()?,
    };
    row.ok_or_else(|| Error::NotFound(format!("no webhook delivery {id}")))?
        .try_into()
}

/// A page of an endpoint's deliveries in id order (the order they were
/// fanned out), optionally of one state.
pub(crate) fn deliveries(
    conn: &mut DbConnection,
    tenant: TenantId,
    endpoint: WebhookEndpointId,
    state: Option<DeliveryState>,
    page: PageRequest<WebhookDeliveryId>,
) -> Result<PageOf<Delivery>, Error> {
    let mut q = webhook_deliveries::table
        .filter(
            webhook_deliveries::tenant_id
                .eq(tenant)
                .and(webhook_deliveries::endpoint_id.eq(endpoint)),
        )
        .select(DeliveryRow::as_select())
        .order(webhook_deliveries::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(s) = state {
        q = q.filter(webhook_deliveries::state.eq(s.as_str()));
    }
    super::after_cursor!(conn, q, webhook_deliveries, tenant, page.starting_after);
    let rows = PageOf::from_rows(q.load(conn)?, page.limit);
    Ok(PageOf {
        items: rows
            .items
            .into_iter()
            .map(Delivery::try_from)
            .collect::<Result<_, _>>()?,
        has_more: rows.has_more,
    })
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
struct AttemptRow {
    id: WebhookAttemptId,
    at: NaiveDateTime,
    status: Option<i32>,
    latency_ms: i32,
    response: Option<String>,
    error: Option<String>,
}

/// Every attempt at a delivery, oldest first.
pub(crate) fn attempts(
    conn: &mut DbConnection,
    tenant: TenantId,
    delivery: WebhookDeliveryId,
) -> Result<Vec<Attempt>, Error> {
    let rows: Vec<AttemptRow> = webhook_attempts::table
        .filter(
            webhook_attempts::tenant_id
                .eq(tenant)
                .and(webhook_attempts::delivery_id.eq(delivery)),
        )
        .order(webhook_attempts::id)
        .select(AttemptRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Attempt {
            id: r.id,
            at: r.at,
            status: r.status,
            latency_ms: r.latency_ms,
            response: r.response,
            error: r.error,
        })
        .collect())
}
