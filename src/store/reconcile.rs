//! `audit reconcile`: the ledger's tables against the hash-chained audit trail.
//!
//! Every ledger transaction a command posts is attested by the next audit event
//! the command appends (its `ledger` field, covered by the event's hash; see
//! [`crate::audit::LedgerWitness`]). Reconciling recomputes each transaction's
//! entries from those attestations and compares them with the `entries` table;
//! [`super::ledger_check`] ties balances, customer totals and memo totals to the
//! entries, so together they tie every figure to the chain. The feed is checked
//! too: each feed event is the audit event of the same id, word for word.
//!
//! What it cannot see: a transaction dated before the tenant's first
//! attestation (posted before attestation existed) is counted, not checked;
//! and the chain's own truncation — whole chains removed with their
//! attestations — is visible only against a checkpoint kept outside the
//! database (`audit checkpoint`, `audit verify --checkpoint`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::ledger_check::Discrepancy;
use super::schema::{audit_events, entries, ledger_transactions};
use crate::domain::ids::{LedgerTxId, TenantId};
use crate::error::Error;

/// One entry as attested and as stored: account, customer, currency, debit,
/// credit (minor units).
type Entry = (String, Option<String>, String, i64, i64);

/// An entry as loaded: tenant, transaction, account, customer, currency,
/// debit, credit.
type StoredEntry = (
    TenantId,
    LedgerTxId,
    String,
    Option<crate::domain::ids::CustomerId>,
    String,
    i64,
    i64,
);

/// What reconciling found.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Reconciliation {
    /// Transactions whose entries an audit event attests (and that were
    /// compared).
    pub attested_transactions: u64,
    /// Transactions posted before the tenant's first attestation: not checked.
    pub unattested_before_attestation: u64,
    /// Every difference, named.
    pub discrepancies: Vec<Discrepancy>,
}

/// The attestations of the tenant (or of every tenant): per transaction, the
/// event that attests it and its entries; and each tenant's first attestation.
struct Attested {
    by_tx: BTreeMap<(TenantId, LedgerTxId), (String, Vec<Entry>)>,
    first: BTreeMap<TenantId, NaiveDateTime>,
}

fn attestations(conn: &mut DbConnection, tenant: Option<TenantId>) -> Result<Attested, Error> {
    let mut q = audit_events::table
        .filter(audit_events::ledger.is_not_null())
        .select((
            audit_events::tenant_id,
            audit_events::id,
            audit_events::occurred_at,
            audit_events::ledger,
        ))
        .into_boxed();
    if let Some(t) = tenant {
        q = q.filter(audit_events::tenant_id.eq(t));
    }
    let rows: Vec<(
        TenantId,
        crate::domain::ids::AuditEventId,
        NaiveDateTime,
        Option<String>,
    )> = q.load(conn)?;
    let mut out = Attested {
        by_tx: BTreeMap::new(),
        first: BTreeMap::new(),
    };
    for (t, event, at, ledger) in rows {
        let first = out.first.entry(t).or_insert(at);
        *first = (*first).min(at);
        let txs: Vec<serde_json::Value> = ledger
            .as_deref()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or_default();
        for tx in txs {
            let Some(id) = tx["transaction_id"].as_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            let mut list: Vec<Entry> = tx["entries"]
                .as_array()
                .map(|es| {
                    es.iter()
                        .map(|e| {
                            (
                                e["account"].as_str().unwrap_or_default().to_owned(),
                                e["customer_id"].as_str().map(str::to_owned),
                                e["currency"].as_str().unwrap_or_default().to_owned(),
                                e["debit_minor"].as_i64().unwrap_or(-1),
                                e["credit_minor"].as_i64().unwrap_or(-1),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            list.sort();
            out.by_tx.insert((t, id), (event.to_string(), list));
        }
    }
    Ok(out)
}

fn show(e: &Entry) -> String {
    let (account, customer, currency, debit, credit) = e;
    let whose = customer
        .as_deref()
        .map_or_else(String::new, |c| format!(" (customer {c})"));
    format!("{account}{whose} {currency} debit {debit} credit {credit}")
}

/// Reconciles the ledger and the feed with the audit trail.
pub fn reconcile(
    conn: &mut DbConnection,
    tenant: Option<TenantId>,
) -> Result<Reconciliation, Error> {
    let attested = attestations(conn, tenant)?;
    let mut txq = ledger_transactions::table
        .select((
            ledger_transactions::tenant_id,
            ledger_transactions::id,
            ledger_transactions::kind,
            ledger_transactions::created_at,
        ))
        .into_boxed();
    let mut eq = entries::table
        .select((
            entries::tenant_id,
            entries::transaction_id,
            entries::account,
            entries::customer_id,
            entries::currency,
            entries::debit_minor,
            entries::credit_minor,
        ))
        .into_boxed();
    if let Some(t) = tenant {
        txq = txq.filter(ledger_transactions::tenant_id.eq(t));
        eq = eq.filter(entries::tenant_id.eq(t));
    }
    let txs: Vec<(TenantId, LedgerTxId, String, NaiveDateTime)> = txq.load(conn)?;
    let rows: Vec<StoredEntry> = eq.load(conn)?;
    let mut stored: BTreeMap<(TenantId, LedgerTxId), Vec<Entry>> = BTreeMap::new();
    for (t, tx, account, customer, currency, debit, credit) in rows {
        stored.entry((t, tx)).or_default().push((
            account,
            customer.map(|c| c.to_string()),
            currency,
            debit,
            credit,
        ));
    }
    let mut out = Reconciliation::default();
    let mut push = |t: TenantId, check: &'static str, subject: String, detail: String| {
        out.discrepancies.push(Discrepancy {
            check,
            tenant_id: t.to_string(),
            subject,
            detail,
        });
    };
    let mut seen: BTreeSet<(TenantId, LedgerTxId)> = BTreeSet::new();
    let mut attested_n = 0;
    let mut before_n = 0;
    for (t, id, kind, created_at) in &txs {
        let key = (*t, *id);
        seen.insert(key);
        let mut here = stored.remove(&key).unwrap_or_default();
        here.sort();
        match attested.by_tx.get(&key) {
            Some((event, expected)) => {
                attested_n += 1;
                if &here != expected {
                    let differs = expected
                        .iter()
                        .zip(here.iter())
                        .find(|(a, b)| a != b)
                        .map_or_else(
                            || {
                                format!(
                                    "{} entries stored, {} attested",
                                    here.len(),
                                    expected.len()
                                )
                            },
                            |(a, b)| format!("stored {}; attested {}", show(b), show(a)),
                        );
                    push(
                        *t,
                        "attestation_mismatch",
                        format!("transaction {id} ({kind})"),
                        format!("its entries differ from audit event {event}: {differs}"),
                    );
                }
            }
            None if attested.first.get(t).is_none_or(|first| created_at < first) => {
                before_n += 1;
            }
            None => push(
                *t,
                "unattested_transaction",
                format!("transaction {id} ({kind})"),
                "no audit event attests it".into(),
            ),
        }
    }
    for ((t, id), entries) in stored {
        push(
            t,
            "unattested_transaction",
            format!("transaction {id}"),
            format!(
                "{} entries belong to a transaction that does not exist",
                entries.len()
            ),
        );
    }
    for ((t, id), (event, _)) in &attested.by_tx {
        if !seen.contains(&(*t, *id)) {
            push(
                *t,
                "attested_transaction_missing",
                format!("transaction {id}"),
                format!("audit event {event} attests it, and it is not in the ledger"),
            );
        }
    }
    for r in feed_differences(conn, tenant)? {
        out.discrepancies.push(r);
    }
    out.attested_transactions = attested_n;
    out.unattested_before_attestation = before_n;
    Ok(out)
}

#[derive(QueryableByName)]
struct FeedRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    tenant_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    orphan: bool,
}

/// Feed events that are not the audit event of the same id, word for word
/// (type, entity and, where the feed row keeps a copy of it, data; a row
/// without one reads the audit event's).
fn feed_differences(
    conn: &mut DbConnection,
    tenant: Option<TenantId>,
) -> Result<Vec<Discrepancy>, Error> {
    let filter = match tenant {
        // A parsed UUID: safe to inline.
        Some(t) => format!("f.tenant_id = '{t}'"),
        None => "1 = 1".into(),
    };
    let sql = format!(
        "SELECT CAST(f.tenant_id AS TEXT) AS tenant_id, CAST(f.id AS TEXT) AS id,
                (a.id IS NULL) AS orphan
         FROM events f LEFT JOIN audit_events a ON a.tenant_id = f.tenant_id AND a.id = f.id
         WHERE {filter}
           AND (a.id IS NULL OR f.type <> a.action OR f.entity_type <> a.entity_type
                OR f.entity_id <> a.entity_id
                OR (f.data IS NOT NULL
                    AND f.data <> COALESCE(a.after_state, a.before_state, 'null')))
         ORDER BY 1, 2"
    );
    let rows: Vec<FeedRow> = diesel::sql_query(sql).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Discrepancy {
            check: "feed_mismatch",
            tenant_id: r.tenant_id,
            subject: format!("feed event {}", r.id),
            detail: if r.orphan {
                "no audit event has its id".into()
            } else {
                "differs from the audit event of the same id (type, entity or data)".into()
            },
        })
        .collect())
}
