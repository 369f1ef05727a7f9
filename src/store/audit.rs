//! Audit events: appending to a chain, listing, and walking every chain to verify.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{audit_chains, audit_events};
use super::{DbConnection, PageOf, PageRequest};
use crate::audit::{AuditCtx, BrokenLink, ChainWalker, Checkpoint, Event, GENESIS, Head, NewEvent};
use crate::domain::ids::{AuditEventId, TenantId};
use crate::error::Error;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
struct Row {
    tenant_id: TenantId,
    id: AuditEventId,
    chain: String,
    seq: i64,
    prev_hash: String,
    hash: String,
    occurred_at: NaiveDateTime,
    actor_sub: String,
    actor_role: String,
    actor_stores: Option<String>,
    action: String,
    entity_type: String,
    entity_id: String,
    reason: Option<String>,
    request_id: String,
    before_state: Option<String>,
    after_state: Option<String>,
    store_ids: Option<String>,
    ledger: Option<String>,
}

impl From<Row> for Event {
    fn from(r: Row) -> Self {
        Event {
            tenant_id: r.tenant_id,
            id: r.id,
            chain: r.chain,
            seq: r.seq,
            prev_hash: r.prev_hash,
            hash: r.hash,
            occurred_at: r.occurred_at,
            actor_sub: r.actor_sub,
            actor_role: r.actor_role,
            actor_stores: r.actor_stores,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            reason: r.reason,
            request_id: r.request_id,
            before_state: r.before_state,
            after_state: r.after_state,
            store_ids: r.store_ids,
            ledger: r.ledger,
        }
    }
}

impl From<&Event> for Row {
    fn from(e: &Event) -> Self {
        Row {
            tenant_id: e.tenant_id,
            id: e.id,
            chain: e.chain.clone(),
            seq: e.seq,
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
            occurred_at: e.occurred_at,
            actor_sub: e.actor_sub.clone(),
            actor_role: e.actor_role.clone(),
            actor_stores: e.actor_stores.clone(),
            action: e.action.clone(),
            entity_type: e.entity_type.clone(),
            entity_id: e.entity_id.clone(),
            reason: e.reason.clone(),
            request_id: e.request_id.clone(),
            before_state: e.before_state.clone(),
            after_state: e.after_state.clone(),
            store_ids: e.store_ids.clone(),
            ledger: e.ledger.clone(),
        }
    }
}

/// Locks the chain's head (creating it when new) and returns its length and
/// hash. On PostgreSQL the row lock serialises appends to this chain only; SQLite
/// already runs one writer at a time.
fn lock_head(conn: &mut DbConnection, tenant: TenantId, chain: &str) -> QueryResult<(i64, String)> {
    let q = audit_chains::table
        .filter(
            audit_chains::tenant_id
                .eq(tenant)
                .and(audit_chains::chain.eq(chain)),
        )
        .select((audit_chains::length, audit_chains::head_hash));
    match conn {
        // One statement: creates the chain at its genesis if new, else locks
        // its head row (a no-op update takes the row lock, and RETURNING gives
        // the head as committed when the lock was granted).
        DbConnection::Pg(c) => diesel::insert_into(audit_chains::table)
            .values((
                audit_chains::tenant_id.eq(tenant),
                audit_chains::chain.eq(chain),
                audit_chains::length.eq(0_i64),
                audit_chains::head_hash.eq(GENESIS),
            ))
            .on_conflict((audit_chains::tenant_id, audit_chains::chain))
            .do_update()
            .set(audit_chains::length.eq(audit_chains::length))
            .returning((audit_chains::length, audit_chains::head_hash))
            .get_result(c),
        DbConnection::Sqlite(c) => match q.first(c).optional()? {
            Some(h) => Ok(h),
            None => {
                diesel::insert_into(audit_chains::table)
                    .values((
                        audit_chains::tenant_id.eq(tenant),
                        audit_chains::chain.eq(chain),
                        audit_chains::length.eq(0_i64),
                        audit_chains::head_hash.eq(GENESIS),
                    ))
                    .execute(c)?;
                Ok((0, GENESIS.to_owned()))
            }
        },
    }
}

/// Appends one event to its entity's chain, in the caller's transaction.
pub fn append(conn: &mut DbConnection, ctx: &AuditCtx, ev: NewEvent) -> Result<Event, Error> {
    let chain = ev.chain();
    let new_chain = ev.new_chain;
    let (length, head) = if new_chain {
        (0, crate::audit::GENESIS.to_owned())
    } else {
        lock_head(conn, ctx.tenant, &chain)?
    };
    let event = Event::next(ctx, ev, length + 1, head, ctx.now);
    match conn {
        DbConnection::Pg(c) => {
            append_in_one_statement(c, &event, new_chain)?;
        }
        DbConnection::Sqlite(_) => {
            diesel::insert_into(audit_events::table)
                .values(Row::from(&event))
                .execute(conn)?;
            super::events::emit(conn, &event)?;
            if new_chain {
                diesel::insert_into(audit_chains::table)
                    .values((
                        audit_chains::tenant_id.eq(ctx.tenant),
                        audit_chains::chain.eq(&chain),
                        audit_chains::length.eq(event.seq),
                        audit_chains::head_hash.eq(&event.hash),
                    ))
                    .execute(conn)?;
            } else {
                diesel::update(
                    audit_chains::table.filter(
                        audit_chains::tenant_id
                            .eq(ctx.tenant)
                            .and(audit_chains::chain.eq(&chain)),
                    ),
                )
                .set((
                    audit_chains::length.eq(event.seq),
                    audit_chains::head_hash.eq(&event.hash),
                ))
                .execute(conn)?;
            }
        }
    }
    Ok(event)
}

/// The event and its feed event; then the chain's head is moved (its row is
/// locked since `lock_head`) or, for a new entity's first event, written new.
const APPEND_EVENT: &str = "INSERT INTO audit_events (tenant_id, id, chain, seq, prev_hash, hash, \
    occurred_at, actor_sub, actor_role, actor_stores, action, entity_type, entity_id, reason, \
    request_id, before_state, after_state, store_ids, ledger) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
/// The feed event leaves `data` NULL: its audit event's state is read in its
/// place (`store::events`), so the gesture's JSON is not written twice.
const APPEND_FEED: &str = "INSERT INTO events (tenant_id, id, type, entity_type, entity_id, \
    created_at, store_ids) VALUES (?, ?, ?, ?, ?, ?, ?)";
const MOVE_HEAD: &str =
    "UPDATE audit_chains SET length = ?, head_hash = ? WHERE tenant_id = ? AND chain = ?";
const NEW_HEAD: &str =
    "INSERT INTO audit_chains (tenant_id, chain, length, head_hash) VALUES (?, ?, ?, ?)";

/// [`append`]'s writes on PostgreSQL: one round trip instead of three (or
/// none of its own, held back with the command's other writes, see
/// `store::pg_text`).
fn append_in_one_statement(
    conn: &mut diesel::pg::PgConnection,
    e: &Event,
    new_chain: bool,
) -> QueryResult<()> {
    use super::pg_text::{Bind, Write};
    let text = |s: &str| Bind::Text(s.to_owned());
    let maybe = |s: &Option<String>| Bind::NullText(s.clone());
    let mut binds = vec![
        Bind::id(e.tenant_id.0),
        Bind::id(e.id.0),
        text(&e.chain),
        Bind::BigInt(e.seq),
        text(&e.prev_hash),
        text(&e.hash),
        Bind::Timestamp(e.occurred_at),
        text(&e.actor_sub),
        text(&e.actor_role),
        maybe(&e.actor_stores),
        text(&e.action),
        text(&e.entity_type),
        text(&e.entity_id),
        maybe(&e.reason),
        text(&e.request_id),
        maybe(&e.before_state),
        maybe(&e.after_state),
        maybe(&e.store_ids),
        maybe(&e.ledger),
        // the feed event
        Bind::id(e.tenant_id.0),
        Bind::id(e.id.0),
        text(&e.action),
        text(&e.entity_type),
        text(&e.entity_id),
        Bind::Timestamp(e.occurred_at),
        maybe(&e.store_ids),
    ];
    let head = if new_chain {
        binds.extend([
            Bind::id(e.tenant_id.0),
            text(&e.chain),
            Bind::BigInt(e.seq),
            text(&e.hash),
        ]);
        NEW_HEAD
    } else {
        binds.extend([
            Bind::BigInt(e.seq),
            text(&e.hash),
            Bind::id(e.tenant_id.0),
            text(&e.chain),
        ]);
        MOVE_HEAD
    };
    super::pg_text::write(conn, Write::new(&[APPEND_EVENT, APPEND_FEED], head, binds))
}

/// Filters of the audit list.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Entity type.
    pub entity_type: Option<String>,
    /// Entity id.
    pub entity_id: Option<String>,
    /// Actor `sub`.
    pub actor: Option<String>,
    /// Action.
    pub action: Option<String>,
    /// From (inclusive).
    pub from: Option<NaiveDateTime>,
    /// To (exclusive).
    pub to: Option<NaiveDateTime>,
    /// Only events of the tenant as a whole and of these stores (a
    /// store-scoped token's); `None`: every event.
    pub stores: Option<Vec<crate::domain::ids::StoreId>>,
}

/// A page of the tenant's events, oldest first.
pub fn list(
    conn: &mut DbConnection,
    tenant: TenantId,
    f: &Filter,
    page: PageRequest<AuditEventId>,
) -> Result<PageOf<Event>, Error> {
    let mut q = audit_events::table
        .filter(audit_events::tenant_id.eq(tenant))
        .select(Row::as_select())
        .order(audit_events::id)
        .limit(page.limit + 1)
        .into_boxed();
    super::after_cursor!(conn, q, audit_events, tenant, page.starting_after);
    if let Some(v) = &f.entity_type {
        q = q.filter(audit_events::entity_type.eq(v.clone()));
    }
    if let Some(v) = &f.entity_id {
        q = q.filter(audit_events::entity_id.eq(v.clone()));
    }
    if let Some(v) = &f.actor {
        q = q.filter(audit_events::actor_sub.eq(v.clone()));
    }
    if let Some(v) = &f.action {
        q = q.filter(audit_events::action.eq(v.clone()));
    }
    if let Some(v) = f.from {
        q = q.filter(audit_events::occurred_at.ge(v));
    }
    if let Some(v) = f.to {
        q = q.filter(audit_events::occurred_at.lt(v));
    }
    if let Some(s) = &f.stores {
        q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            &super::visible_at_stores("audit_events.store_ids", s),
        ));
    }
    let p = PageOf::from_rows(q.load(conn)?, page.limit);
    Ok(PageOf {
        items: p.items.into_iter().map(Event::from).collect(),
        has_more: p.has_more,
    })
}

/// Events read per round trip while verifying.
const CHUNK: i64 = 2000;

/// What a verification found.
#[derive(Clone, Debug)]
pub struct Report {
    /// Every chain's head, in (tenant, chain) order.
    pub heads: Vec<Head>,
    /// Events checked.
    pub events: u64,
    /// The first broken link, if any.
    pub broken: Option<BrokenLink>,
}

fn earliest(a: Option<BrokenLink>, b: Option<BrokenLink>) -> Option<BrokenLink> {
    match (a, b) {
        (Some(x), Some(y)) => {
            if (x.tenant_id, &x.chain, x.position) <= (y.tenant_id, &y.chain, y.position) {
                Some(x)
            } else {
                Some(y)
            }
        }
        (x, y) => x.or(y),
    }
}

/// Walks every chain of `tenant` (or of every tenant) and checks each against the
/// recorded chain heads.
pub fn verify(conn: &mut DbConnection, tenant: Option<TenantId>) -> Result<Report, Error> {
    let mut walker = ChainWalker::default();
    let mut broken = None;
    let mut last: Option<(TenantId, String, i64)> = None;
    'walk: loop {
        let mut q = audit_events::table
            .select(Row::as_select())
            .order((
                audit_events::tenant_id,
                audit_events::chain,
                audit_events::seq,
            ))
            .limit(CHUNK)
            .into_boxed();
        if let Some(t) = tenant {
            q = q.filter(audit_events::tenant_id.eq(t));
        }
        if let Some((t, c, s)) = last.clone() {
            q = q.filter(
                audit_events::tenant_id
                    .gt(t)
                    .or(audit_events::tenant_id.eq(t).and(
                        audit_events::chain
                            .gt(c.clone())
                            .or(audit_events::chain.eq(c).and(audit_events::seq.gt(s))),
                    )),
            );
        }
        let rows: Vec<Row> = q.load(conn)?;
        let n = rows.len();
        for r in rows {
            let e = Event::from(r);
            last = Some((e.tenant_id, e.chain.clone(), e.seq));
            if let Err(b) = walker.feed(&e) {
                broken = Some(b);
                break 'walk;
            }
        }
        if i64::try_from(n).unwrap_or(0) < CHUNK {
            break;
        }
    }
    let stop_at = broken.as_ref().map(|b| (b.tenant_id, b.chain.clone()));
    let (heads, events) = walker.finish();

    // Compare the walked heads with the recorded ones (both in (tenant, chain) order).
    let mut q = audit_chains::table
        .select((
            audit_chains::tenant_id,
            audit_chains::chain,
            audit_chains::length,
            audit_chains::head_hash,
        ))
        .order((audit_chains::tenant_id, audit_chains::chain))
        .into_boxed();
    if let Some(t) = tenant {
        q = q.filter(audit_chains::tenant_id.eq(t));
    }
    let recorded: Vec<(TenantId, String, i64, String)> = q.load(conn)?;
    let mut head_problem = None;
    let mut walked = heads.iter().peekable();
    for (t, chain, length, head) in recorded {
        if length == 0 {
            continue;
        }
        // Chains past the first break were not walked; they are not judged.
        if stop_at
            .as_ref()
            .is_some_and(|(st, sc)| (t, &chain) > (*st, sc))
        {
            break;
        }
        // A walked chain that sorts before this recorded one has no record.
        if walked
            .peek()
            .is_some_and(|h| (h.tenant_id, &h.chain) < (t, &chain))
        {
            let h = walked.next().expect("peeked");
            head_problem = Some(BrokenLink {
                tenant_id: h.tenant_id,
                chain: h.chain.clone(),
                position: h.length,
                event_id: None,
                problem: "the chain has no recorded head".into(),
            });
            break;
        }
        if head_problem.is_some() {
            break;
        }
        let w = walked
            .peek()
            .filter(|h| h.tenant_id == t && h.chain == chain)
            .cloned();
        let problem = match &w {
            None => Some((1, "every event of the chain is missing".to_owned())),
            Some(h) if h.length < length => Some((
                h.length + 1,
                format!(
                    "the newest events are missing: the head records {length} events, {} remain",
                    h.length
                ),
            )),
            Some(h) if h.length > length => Some((
                length + 1,
                "events exist beyond the recorded head".to_owned(),
            )),
            Some(h) if h.head != head => Some((
                length,
                "the recorded head hash does not match the last event".to_owned(),
            )),
            Some(_) => None,
        };
        if w.is_some() {
            walked.next();
        }
        if let Some((position, problem)) = problem {
            head_problem = Some(BrokenLink {
                tenant_id: t,
                chain,
                position,
                event_id: None,
                problem,
            });
            break;
        }
    }
    if head_problem.is_none()
        && stop_at.is_none()
        && let Some(h) = walked.next()
    {
        head_problem = Some(BrokenLink {
            tenant_id: h.tenant_id,
            chain: h.chain.clone(),
            position: h.length,
            event_id: None,
            problem: "the chain has no recorded head".into(),
        });
    }
    Ok(Report {
        heads,
        events,
        broken: earliest(broken, head_problem),
    })
}

/// Checks the chains against a kept checkpoint: each chain it names must still
/// hold the event it recorded as head, at the position it recorded.
pub fn verify_checkpoint(
    conn: &mut DbConnection,
    cp: &Checkpoint,
) -> Result<Option<BrokenLink>, Error> {
    for h in &cp.heads {
        let found: Option<(AuditEventId, String)> = audit_events::table
            .filter(
                audit_events::tenant_id
                    .eq(h.tenant_id)
                    .and(audit_events::chain.eq(&h.chain))
                    .and(audit_events::seq.eq(h.length)),
            )
            .select((audit_events::id, audit_events::hash))
            .first(conn)
            .optional()?;
        let problem = match &found {
            None => Some("the event the checkpoint recorded as head is missing".to_owned()),
            Some((_, hash)) if *hash != h.head => {
                Some("the event at the checkpoint's head position has another hash".to_owned())
            }
            Some(_) => None,
        };
        if let Some(problem) = problem {
            return Ok(Some(BrokenLink {
                tenant_id: h.tenant_id,
                chain: h.chain.clone(),
                position: h.length,
                event_id: found.map(|(id, _)| id),
                problem,
            }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL's one-statement append names every column of the audit
    /// event as the schema has them, in its order (the order it binds).
    #[test]
    fn the_text_insert_names_every_column_of_the_schema() {
        super::super::pg_text::columns::assert_insert_names_every_column(
            APPEND_EVENT,
            &audit_events::table.select(audit_events::all_columns),
        );
    }
}
