//! The event feed: an outbox written in the same transaction as the change it
//! reports (every audit event is also a feed event, with the same id).
//!
//! A consumer polls with the last id it saw and must never miss an event that
//! commits late, nor see one twice. On SQLite writers run one at a time, so the
//! insertion order (`seq`) is the commit order. On PostgreSQL it is not: a
//! transaction may take a lower `seq` and commit after a higher one was read. So
//! each row carries its transaction id (`txid`), the feed is ordered by
//! (`txid`, `seq`), and it serves only events below a horizon no event still to
//! commit can be under:
//!
//! - every write transaction begins by taking `ROW EXCLUSIVE` on `events`
//!   ([`PG_BEGIN_WRITER`], in `store::write_tx`), before it has a transaction id
//!   (that lock conflicts with nothing the service does);
//! - the horizon is the smallest transaction id among the in-flight transactions
//!   holding that lock, or, when there are none, the next id to be assigned.
//!   A transaction not holding it when the horizon is taken either never writes
//!   events or gets its id later, above the horizon;
//! - the events are then read in a later statement, so every transaction below
//!   the horizon has finished and its events are visible.
//!
//! Unlike the cluster-wide `pg_snapshot_xmin`, this horizon is held back only by
//! this database's writers, never by unrelated transactions on the same server.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::constant_sql::constant_sql;
use super::schema::{audit_events, events};
use crate::audit::Event;
use crate::domain::ids::{AuditEventId, TenantId};
use crate::error::Error;

#[derive(Insertable)]
#[diesel(table_name = events)]
struct NewRow<'a> {
    tenant_id: TenantId,
    id: AuditEventId,
    event_type: &'a str,
    entity_type: &'a str,
    entity_id: &'a str,
    data: Option<&'a str>,
    created_at: NaiveDateTime,
    store_ids: Option<&'a str>,
}

constant_sql! {
    /// A feed event's data: its own copy (SQLite's rows, and PostgreSQL's
    /// written before the feed stopped copying), else its audit event's
    /// state, as [`feed_data`] picks it. Valid in a query that joins the
    /// audit event ([`with_audit`]).
    pub(crate) FeedData: diesel::sql_types::Text =
        "COALESCE(events.data, audit_events.after_state, audit_events.before_state, 'null')";
}

/// One event of the feed.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = events)]
pub(crate) struct FeedEvent {
    /// Its id (the audit event's).
    pub id: AuditEventId,
    /// Its type, e.g. `gesture.approved`.
    pub event_type: String,
    /// The entity it reports on.
    pub entity_type: String,
    /// That entity's id.
    pub entity_id: String,
    /// The entity as the change left it (JSON text).
    #[diesel(select_expression = FeedData, select_expression_type = FeedData)]
    pub data: String,
    /// When.
    pub created_at: NaiveDateTime,
}

impl FeedEvent {
    /// The body a webhook delivery of this event sends (the thin payload):
    /// the same bytes every time, as the event never changes.
    pub(crate) fn webhook_body(&self) -> String {
        let data = serde_json::from_str(&self.data).unwrap_or(serde_json::Value::Null);
        crate::domain::webhook::thin_payload(
            &self.id.to_string(),
            &self.event_type,
            &self.entity_type,
            &self.entity_id,
            &crate::views::timestamp(&self.created_at),
            &data,
        )
        .to_string()
    }
}

/// The feed events of these ids (any order).
pub(crate) fn by_ids(
    conn: &mut DbConnection,
    ids: &[AuditEventId],
) -> Result<Vec<FeedEvent>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(with_audit()
        .filter(events::id.eq_any(ids))
        .select(FeedEvent::as_select())
        .load(conn)?)
}

/// The feed joined to the audit events (each feed event has the id of its
/// audit event), where [`FeedData`] reads the state.
#[allow(clippy::type_complexity)]
fn with_audit() -> diesel::dsl::LeftJoinOn<
    events::table,
    audit_events::table,
    diesel::dsl::And<
        diesel::dsl::Eq<audit_events::tenant_id, events::tenant_id>,
        diesel::dsl::Eq<audit_events::id, events::id>,
    >,
> {
    events::table.left_join(
        audit_events::table.on(audit_events::tenant_id
            .eq(events::tenant_id)
            .and(audit_events::id.eq(events::id))),
    )
}

/// Fills in the bodies of deliveries that keep none (made since bodies are
/// read from the feed when sent rather than copied into every delivery).
pub(crate) fn fill_webhook_bodies(
    conn: &mut DbConnection,
    ds: &mut [crate::domain::webhook::Delivery],
) -> Result<(), Error> {
    let mut ids: Vec<AuditEventId> = ds
        .iter()
        .filter(|d| d.payload.is_empty())
        .map(|d| d.event_id)
        .collect();
    ids.sort();
    ids.dedup();
    let bodies: std::collections::HashMap<AuditEventId, String> = by_ids(conn, &ids)?
        .into_iter()
        .map(|e| (e.id, e.webhook_body()))
        .collect();
    for d in ds.iter_mut().filter(|d| d.payload.is_empty()) {
        d.payload = bodies.get(&d.event_id).cloned().ok_or_else(|| {
            Error::internal(format!(
                "webhook delivery {} names event {}, which is not in the feed",
                d.id, d.event_id
            ))
        })?;
    }
    Ok(())
}

/// Writes the feed event of an audit event, in the caller's transaction.
pub(crate) fn emit(conn: &mut DbConnection, e: &Event) -> Result<(), Error> {
    let data = feed_data(e);
    diesel::insert_into(events::table)
        .values(NewRow {
            tenant_id: e.tenant_id,
            id: e.id,
            event_type: &e.action,
            entity_type: &e.entity_type,
            entity_id: &e.entity_id,
            data: Some(data),
            created_at: e.occurred_at,
            store_ids: e.store_ids.as_deref(),
        })
        .execute(conn)?;
    Ok(())
}

/// What the feed event of `e` carries: the entity after, or before when it
/// is gone.
pub(crate) fn feed_data(e: &Event) -> &str {
    e.after_state
        .as_deref()
        .or(e.before_state.as_deref())
        .unwrap_or("null")
}

/// How a PostgreSQL write transaction begins: it claims its place in the feed
/// before it is assigned a transaction id.
pub const PG_BEGIN_WRITER: &str = "BEGIN; LOCK TABLE events IN ROW EXCLUSIVE MODE";

/// The feed's horizon on PostgreSQL (see the module documentation).
const PG_HORIZON: &str = "
SELECT COALESCE(
    (SELECT MIN(x::text::bigint)
     FROM pg_snapshot_xip(pg_current_snapshot()) AS x
     WHERE (x::text::bigint % 4294967296) IN (
         SELECT t.transactionid::text::bigint
         FROM pg_locks r
         JOIN pg_locks t ON t.virtualtransaction = r.virtualtransaction
                        AND t.locktype = 'transactionid'
         WHERE r.locktype = 'relation'
           AND r.relation = 'events'::regclass
           AND r.database = (SELECT oid FROM pg_database WHERE datname = current_database()))),
    pg_snapshot_xmax(pg_current_snapshot())::text::bigint) AS xmin";

#[derive(QueryableByName)]
struct Horizon {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    xmin: i64,
}

/// Events after `after` (an event id), oldest first, at most `limit`, and
/// whether more can be read now. With `stores` (a store-scoped token's), only
/// events of the tenant as a whole and of those stores, and `after` must be
/// one of them.
pub(crate) fn page(
    conn: &mut DbConnection,
    tenant: TenantId,
    stores: Option<&[crate::domain::ids::StoreId]>,
    after: Option<AuditEventId>,
    limit: i64,
) -> Result<(Vec<FeedEvent>, bool), Error> {
    let visible = stores.map(|s| super::visible_at_stores("events.store_ids", s));
    let horizon: Option<i64> = match conn {
        DbConnection::Pg(c) => Some(diesel::sql_query(PG_HORIZON).get_result::<Horizon>(c)?.xmin),
        DbConnection::Sqlite(_) => None,
    };
    let mut q = with_audit()
        .filter(events::tenant_id.eq(tenant))
        .order((events::txid, events::seq))
        .limit(limit + 1)
        .select(FeedEvent::as_select())
        .into_boxed();
    if let Some(v) = &visible {
        q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(v));
    }
    if let Some(after) = after {
        let mut cursor = events::table
            .filter(events::tenant_id.eq(tenant).and(events::id.eq(after)))
            .select((events::txid, events::seq))
            .into_boxed();
        if let Some(v) = &visible {
            cursor = cursor.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(v));
        }
        let (txid, seq): (i64, i64) = cursor.first(conn).optional()?.ok_or_else(|| {
            Error::field("starting_after", format!("no event {after} in this feed"))
        })?;
        q = q.filter(
            events::txid
                .gt(txid)
                .or(events::txid.eq(txid).and(events::seq.gt(seq))),
        );
    }
    if let Some(h) = horizon {
        q = q.filter(events::txid.lt(h));
    }
    let mut rows = q.load(conn)?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(0);
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok((rows, more))
}
