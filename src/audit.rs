//! The tamper-evident audit trail.
//!
//! Every command that changes state appends one event, in its own transaction,
//! to the hash chain of the entity it changed (`<entity_type>:<id>`): one chain per
//! entity, so writes to different entities never queue behind one row. An event's
//! `hash` is SHA-256 over a canonical encoding of every other column, `prev_hash`
//! included, so editing any column, deleting an event or reordering events breaks
//! a link that [`ChainWalker`] names. A checkpoint (every chain's length and head
//! hash, and a digest over them) kept outside the database also catches the
//! deletion of the newest events, which no chain can see by itself.

use chrono::NaiveDateTime;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::ids::{AuditEventId, StoreId, TenantId};
use crate::domain::roles::Role;

/// `prev_hash` of the first event of a chain.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who acted, and for which request: everything an event records besides what
/// happened.
#[derive(Clone, Debug)]
pub struct AuditCtx {
    /// The tenant.
    pub tenant: TenantId,
    /// The token's `sub`.
    pub actor_sub: String,
    /// The token's role.
    pub actor_role: Role,
    /// The token's stores (`None` = all).
    pub actor_stores: Option<Vec<StoreId>>,
    /// The request id.
    pub request_id: String,
    /// The command's time (the service clock): what "now" means for its rules.
    pub now: chrono::NaiveDateTime,
    /// The service clock `now` was read from: a command that waits for a lock
    /// reads it again when a timestamp must come after what it waited for.
    pub clock: crate::clock::Clock,
    /// The ledger transactions this command posted that no event has attested
    /// yet: the next event appended carries them (see [`LedgerWitness`]).
    pub ledger: LedgerWitness,
}

/// The ledger transactions a command posted, waiting to be written into the
/// next audit event it appends (its `ledger` field, which the event's hash
/// covers). So every posting is tied to the hash chain: whoever rewrites an
/// amount in the ledger's tables must also rewrite a hashed event, which
/// `audit verify` detects, or `audit reconcile` names the difference. Clones
/// of a context share one witness.
#[derive(Clone, Debug, Default)]
pub struct LedgerWitness(std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>);

impl LedgerWitness {
    /// Records one posted transaction.
    pub(crate) fn record(&self, tx: serde_json::Value) {
        if let Ok(mut v) = self.0.lock() {
            v.push(tx);
        }
    }

    /// The transactions recorded since the last take, as the JSON text an
    /// event stores; `None` when there are none.
    pub(crate) fn take(&self) -> Option<String> {
        let mut v = self.0.lock().ok()?;
        if v.is_empty() {
            return None;
        }
        Some(serde_json::Value::Array(std::mem::take(&mut *v)).to_string())
    }

    /// Whether transactions wait for an event.
    pub(crate) fn is_pending(&self) -> bool {
        self.0.lock().map(|v| !v.is_empty()).unwrap_or(false)
    }
}

impl AuditCtx {
    /// The context of a job the service runs by itself (`system:<job>`, an
    /// admin of every store), stamped by `clock`.
    pub fn system(tenant: TenantId, job: &str, clock: crate::clock::Clock) -> Self {
        Self {
            tenant,
            actor_sub: format!("system:{job}"),
            actor_role: Role::Admin,
            actor_stores: None,
            request_id: format!("{job}-{}", crate::domain::ids::AuditEventId::new()),
            now: clock.now(),
            clock,
            ledger: LedgerWitness::default(),
        }
    }

    /// Now, read again from the command's clock (never before [`AuditCtx::now`]).
    pub(crate) fn now_again(&self) -> chrono::NaiveDateTime {
        self.clock.now().max(self.now)
    }

    /// The command's day (UTC): what "today", "overdue" and "not in the
    /// future" mean for it.
    pub fn today(&self) -> chrono::NaiveDate {
        self.now.date()
    }

    /// Whether the actor's token may act at (and read what happened at) `store`.
    pub(crate) fn may_act_at(&self, store: StoreId) -> bool {
        crate::domain::roles::may_act_at(self.actor_stores.as_deref(), store)
    }

    /// 403 `store_scope` unless the actor may act at `store`.
    pub(crate) fn require_store(&self, store: StoreId) -> Result<(), crate::error::Error> {
        crate::error::Error::require_store(self.actor_stores.as_deref(), store)
    }

    /// The stores a read covers: the one asked for (403 `store_scope`
    /// unless the actor holds it), else every store the actor holds (`None`:
    /// the whole tenant).
    pub(crate) fn scope(
        &self,
        store: Option<StoreId>,
    ) -> Result<Option<Vec<StoreId>>, crate::error::Error> {
        crate::error::Error::scope(self.actor_stores.as_deref(), store)
    }

    /// 403 `store_scope` unless the actor's token holds every store: the
    /// command acts on, or reads, the whole tenant at once.
    pub(crate) fn require_tenant_wide(&self) -> Result<(), crate::error::Error> {
        match self.actor_stores {
            None => Ok(()),
            Some(_) => Err(crate::error::Error::tenant_wide()),
        }
    }

    /// 403 `role_forbidden` unless the actor's role holds `permission`: every
    /// command checks its own, whichever front end called it.
    pub(crate) fn require(
        &self,
        permission: crate::domain::roles::Permission,
    ) -> Result<(), crate::error::Error> {
        if self.actor_role.may(permission) {
            Ok(())
        } else {
            Err(crate::error::Error::Forbidden {
                code: crate::error::ErrorCode::RoleForbidden,
                detail: format!(
                    "the role {} may not do this (requires {})",
                    self.actor_role,
                    permission.as_str()
                ),
            })
        }
    }
}

/// What happened, as a command reports it.
#[derive(Clone, Debug)]
pub struct NewEvent {
    /// `customer.created`, `store.created`, ...
    pub action: &'static str,
    /// `customer`, `store`, `staff`, ...
    pub entity_type: &'static str,
    /// The entity's id.
    pub entity_id: String,
    /// Why, when the command carries a reason.
    pub reason: Option<String>,
    /// The entity's state before (absent for a creation).
    pub before: Option<serde_json::Value>,
    /// The entity's state after.
    pub after: Option<serde_json::Value>,
    /// The first event of an entity this command just made (its id new):
    /// its chain cannot exist yet, so there is no head to read and lock.
    pub new_chain: bool,
}

impl NewEvent {
    /// An entity came into being: no state before.
    pub fn created(
        action: &'static str,
        entity_type: &'static str,
        entity_id: impl ToString,
        after: &impl Serialize,
    ) -> Self {
        Self {
            action,
            entity_type,
            entity_id: entity_id.to_string(),
            reason: None,
            before: None,
            after: serde_json::to_value(after).ok(),
            new_chain: false,
        }
    }

    /// An entity changed from `before` to `after`.
    pub(crate) fn changed(
        action: &'static str,
        entity_type: &'static str,
        entity_id: impl ToString,
        before: &impl Serialize,
        after: &impl Serialize,
    ) -> Self {
        Self {
            action,
            entity_type,
            entity_id: entity_id.to_string(),
            reason: None,
            before: serde_json::to_value(before).ok(),
            after: serde_json::to_value(after).ok(),
            new_chain: false,
        }
    }

    /// The first event of an entity whose id this command just made: its
    /// chain is written new, without reading a head that cannot exist. Said
    /// wrongly, the append fails on the chain's key and nothing is written.
    pub(crate) fn of_new_entity(mut self) -> Self {
        self.new_chain = true;
        self
    }

    /// With a reason.
    pub(crate) fn because(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// The chain this event belongs to.
    pub(crate) fn chain(&self) -> String {
        format!("{}:{}", self.entity_type, self.entity_id)
    }
}

/// One recorded event, every column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Tenant.
    pub tenant_id: TenantId,
    /// Id (UUIDv7).
    pub id: AuditEventId,
    /// Chain name.
    pub chain: String,
    /// 1-based position in the chain.
    pub seq: i64,
    /// Hash of the previous event of the chain ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
    /// When (UTC).
    pub occurred_at: NaiveDateTime,
    /// Actor's `sub`.
    pub actor_sub: String,
    /// Actor's role.
    pub actor_role: String,
    /// Actor's stores as a JSON array, or null for all stores.
    pub actor_stores: Option<String>,
    /// Action.
    pub action: String,
    /// Entity type.
    pub entity_type: String,
    /// Entity id.
    pub entity_id: String,
    /// Reason.
    pub reason: Option<String>,
    /// Request id.
    pub request_id: String,
    /// State before, canonical JSON.
    pub before_state: Option<String>,
    /// State after, canonical JSON.
    pub after_state: Option<String>,
    /// The ledger transactions the command posted before this event, as a
    /// JSON array of `{transaction_id, kind, entries: [{account, currency,
    /// debit_minor, credit_minor}]}`; hashed when present.
    pub ledger: Option<String>,
    /// The stores the event concerns, comma-separated (`None`: the tenant as
    /// a whole): read from its state (see [`stores_of`]). Not hashed: it
    /// indexes what the hashed state says, for store-scoped reads.
    pub store_ids: Option<String>,
}

/// The stores a recorded state concerns: its `store_id`, or (a staff member)
/// its `store_ids`, sorted and comma-separated; `None` for state of the tenant
/// as a whole (stores, customers, policy, periods, value models).
pub(crate) fn stores_of(state: Option<&serde_json::Value>) -> Option<String> {
    let obj = state?.as_object()?;
    if let Some(s) = obj.get("store_id").and_then(serde_json::Value::as_str) {
        return Some(s.to_owned());
    }
    let mut ids: Vec<&str> = obj
        .get("store_ids")?
        .as_array()?
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    ids.sort_unstable();
    (!ids.is_empty()).then(|| ids.join(","))
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Event {
    /// Builds the next event of a chain whose head is (`seq - 1`, `prev_hash`).
    pub(crate) fn next(
        ctx: &AuditCtx,
        ev: NewEvent,
        seq: i64,
        prev_hash: String,
        at: NaiveDateTime,
    ) -> Self {
        let store_ids = stores_of(ev.after.as_ref().or(ev.before.as_ref()));
        let mut e = Event {
            store_ids,
            tenant_id: ctx.tenant,
            id: AuditEventId::new(),
            chain: ev.chain(),
            seq,
            prev_hash,
            hash: String::new(),
            occurred_at: at,
            actor_sub: ctx.actor_sub.clone(),
            actor_role: ctx.actor_role.as_str().to_owned(),
            actor_stores: ctx
                .actor_stores
                .as_ref()
                .map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into())),
            action: ev.action.to_owned(),
            entity_type: ev.entity_type.to_owned(),
            entity_id: ev.entity_id,
            reason: ev.reason,
            request_id: ctx.request_id.clone(),
            // serde_json's maps are ordered by key: the text is canonical.
            before_state: ev.before.map(|v| v.to_string()),
            after_state: ev.after.map(|v| v.to_string()),
            ledger: ctx.ledger.take(),
        };
        e.hash = e.compute_hash();
        e
    }

    /// The canonical encoding: every column but `hash`, in a fixed order, each as
    /// `name=<byte length>:<bytes>` (or `name=~` for null) on its own line. The
    /// length prefix makes the encoding unambiguous whatever the values hold.
    pub(crate) fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        let mut field = |name: &str, value: Option<&str>| {
            out.extend_from_slice(name.as_bytes());
            out.push(b'=');
            match value {
                None => out.push(b'~'),
                Some(v) => {
                    out.extend_from_slice(v.len().to_string().as_bytes());
                    out.push(b':');
                    out.extend_from_slice(v.as_bytes());
                }
            }
            out.push(b'\n');
        };
        field("encoding", Some("goodwill-audit-v1"));
        field("tenant_id", Some(&self.tenant_id.to_string()));
        field("id", Some(&self.id.to_string()));
        field("chain", Some(&self.chain));
        field("seq", Some(&self.seq.to_string()));
        field("prev_hash", Some(&self.prev_hash));
        field(
            "occurred_at",
            Some(
                &self
                    .occurred_at
                    .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                    .to_string(),
            ),
        );
        field("actor_sub", Some(&self.actor_sub));
        field("actor_role", Some(&self.actor_role));
        field("actor_stores", self.actor_stores.as_deref());
        field("action", Some(&self.action));
        field("entity_type", Some(&self.entity_type));
        field("entity_id", Some(&self.entity_id));
        field("reason", self.reason.as_deref());
        field("request_id", Some(&self.request_id));
        field("before_state", self.before_state.as_deref());
        field("after_state", self.after_state.as_deref());
        // Added with the ledger's attestation: events without one encode as
        // they always did, so every earlier hash still verifies.
        if let Some(l) = &self.ledger {
            field("ledger", Some(l));
        }
        out
    }

    /// SHA-256 of the canonical encoding, hex.
    pub(crate) fn compute_hash(&self) -> String {
        hex(&Sha256::digest(self.canonical()))
    }
}

/// The first broken link found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    /// The tenant of the chain.
    pub tenant_id: TenantId,
    /// The chain.
    pub chain: String,
    /// The position (1-based) where the chain stops being what it should be.
    pub position: i64,
    /// The event found at that position, if any (none when it was deleted).
    pub event_id: Option<AuditEventId>,
    /// What is wrong.
    pub problem: String,
}

impl std::fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "tenant {} chain {} position {}",
            self.tenant_id, self.chain, self.position
        )?;
        if let Some(id) = self.event_id {
            write!(f, " event {id}")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// One chain's head: its length and last hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Head {
    /// Tenant.
    pub tenant_id: TenantId,
    /// Chain.
    pub chain: String,
    /// Number of events.
    pub length: i64,
    /// Hash of the last event.
    pub head: String,
}

/// Walks events in (tenant, chain, seq) order and stops at the first broken link.
#[derive(Default)]
pub(crate) struct ChainWalker {
    current: Option<(TenantId, String, i64, String)>,
    /// Heads of the chains walked so far, in order.
    pub heads: Vec<Head>,
    /// Events seen.
    pub events: u64,
}

impl ChainWalker {
    fn close_current(&mut self) {
        if let Some((tenant_id, chain, length, head)) = self.current.take() {
            self.heads.push(Head {
                tenant_id,
                chain,
                length,
                head,
            });
        }
    }

    /// Feeds the next event.
    pub(crate) fn feed(&mut self, e: &Event) -> Result<(), BrokenLink> {
        self.events += 1;
        let same_chain =
            matches!(&self.current, Some((t, c, _, _)) if *t == e.tenant_id && *c == e.chain);
        if !same_chain {
            self.close_current();
        }
        let (expected_seq, expected_prev) = match &self.current {
            Some((_, _, n, h)) => (n + 1, h.clone()),
            None => (1, GENESIS.to_owned()),
        };
        let broken = |problem: String| BrokenLink {
            tenant_id: e.tenant_id,
            chain: e.chain.clone(),
            position: expected_seq,
            event_id: Some(e.id),
            problem,
        };
        if e.seq != expected_seq {
            return Err(BrokenLink {
                event_id: None,
                ..broken(format!(
                    "event at position {expected_seq} is missing (found position {})",
                    e.seq
                ))
            });
        }
        if e.prev_hash != expected_prev {
            return Err(broken("prev_hash does not match the previous event's hash (deleted, inserted or reordered events)".into()));
        }
        if e.compute_hash() != e.hash {
            return Err(broken(
                "the event's content does not match its hash (a column was changed)".into(),
            ));
        }
        self.current = Some((e.tenant_id, e.chain.clone(), e.seq, e.hash.clone()));
        Ok(())
    }

    /// Ends the walk; returns every chain's head.
    pub(crate) fn finish(mut self) -> (Vec<Head>, u64) {
        self.close_current();
        (self.heads, self.events)
    }
}

/// A checkpoint: every chain's head and a digest over them, for an operator to
/// keep outside the database.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// When it was taken (RFC 3339 UTC).
    pub taken_at: String,
    /// Number of chains.
    pub chains: usize,
    /// Number of events.
    pub events: u64,
    /// SHA-256 over the heads (see [`digest`]).
    pub digest: String,
    /// The heads.
    pub heads: Vec<Head>,
}

/// SHA-256 over `tenant\tchain\tlength\thead\n` for each head in order.
pub(crate) fn digest(heads: &[Head]) -> String {
    let mut h = Sha256::new();
    for head in heads {
        h.update(format!(
            "{}\t{}\t{}\t{}\n",
            head.tenant_id, head.chain, head.length, head.head
        ));
    }
    hex(&h.finalize())
}

impl Checkpoint {
    /// A checkpoint over `heads`, taken at `now`.
    pub(crate) fn take(heads: Vec<Head>, events: u64, now: chrono::NaiveDateTime) -> Self {
        Self {
            taken_at: crate::views::timestamp(&now),
            chains: heads.len(),
            events,
            digest: digest(&heads),
            heads,
        }
    }

    /// Whether the digest matches the heads (the file was not edited).
    pub fn is_self_consistent(&self) -> bool {
        digest(&self.heads) == self.digest && self.heads.len() == self.chains
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> AuditCtx {
        let clock = crate::clock::Clock::system();
        AuditCtx {
            tenant: TenantId::new(),
            actor_sub: "ann".into(),
            actor_role: Role::Clerk,
            actor_stores: None,
            request_id: "r1".into(),
            now: clock.now(),
            clock,
            ledger: LedgerWitness::default(),
        }
    }

    fn chain_of(n: usize) -> Vec<Event> {
        let c = ctx();
        let mut out: Vec<Event> = Vec::new();
        for i in 0..n {
            let prev = out.last().map_or(GENESIS.to_owned(), |e| e.hash.clone());
            let ev = NewEvent {
                action: "customer.updated",
                entity_type: "customer",
                entity_id: "c1".into(),
                reason: None,
                before: Some(serde_json::json!({"n": i})),
                after: Some(serde_json::json!({"n": i + 1})),
                new_chain: i == 0,
            };
            out.push(Event::next(
                &c,
                ev,
                i64::try_from(i).unwrap() + 1,
                prev,
                c.now,
            ));
        }
        out
    }

    fn walk(events: &[Event]) -> Result<(), BrokenLink> {
        let mut w = ChainWalker::default();
        events.iter().try_for_each(|e| w.feed(e))
    }

    #[test]
    fn an_intact_chain_verifies() {
        let events = chain_of(4);
        assert!(walk(&events).is_ok());
        let mut w = ChainWalker::default();
        for e in &events {
            w.feed(e).unwrap();
        }
        let (heads, n) = w.finish();
        assert_eq!(n, 4);
        assert_eq!(heads[0].length, 4);
        assert_eq!(heads[0].head, events[3].hash);
    }

    #[test]
    fn edits_deletions_and_swaps_are_named() {
        let events = chain_of(4);
        let mut edited = events.clone();
        edited[2].reason = Some("sneaky".into());
        let b = walk(&edited).unwrap_err();
        assert_eq!((b.position, b.event_id), (3, Some(events[2].id)));

        let mut deleted = events.clone();
        deleted.remove(1);
        assert_eq!(walk(&deleted).unwrap_err().position, 2);

        let mut swapped = events.clone();
        swapped.swap(1, 2);
        assert_eq!(walk(&swapped).unwrap_err().position, 2);
    }

    #[test]
    fn the_encoding_is_unambiguous() {
        let mut a = chain_of(1).remove(0);
        let mut b = a.clone();
        a.actor_sub = "ab".into();
        a.action = "c".into();
        b.actor_sub = "a".into();
        b.action = "bc".into();
        assert_ne!(a.canonical(), b.canonical());
        b.reason = Some(String::new());
        a.reason = None;
        assert_ne!(a.compute_hash(), b.compute_hash());
    }
}
