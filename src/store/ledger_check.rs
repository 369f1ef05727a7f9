//! `ledger check`: every transaction balances per currency; every balance (and
//! every customer total) equals the sum of its entries; nothing is negative that
//! must not be; every memo total, and every total finance's pages read, equals
//! its sources; and every entry and feed event is what the audit trail attests
//! ([`super::reconcile`]).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde::Serialize;

use super::DbConnection;
use crate::domain::ids::TenantId;
use crate::domain::ledger::Memo;
use crate::error::Error;

/// One discrepancy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Discrepancy {
    /// Which check found it: `unbalanced_transaction`, `balance_mismatch`,
    /// `customer_total_mismatch`, `negative_balance`, `gesture_mismatch`,
    /// `owed_mismatch`, `memo_mismatch`, `promise_overcollected`,
    /// `kept_total_mismatch` (finance's kept totals, [`super::kept_totals`]); and from
    /// the reconciliation with the audit trail `attestation_mismatch`,
    /// `unattested_transaction`, `attested_transaction_missing`,
    /// `feed_mismatch`.
    pub check: &'static str,
    /// The tenant.
    pub tenant_id: String,
    /// What is wrong: a transaction id, an account, a memo.
    pub subject: String,
    /// The figures.
    pub detail: String,
}

#[derive(QueryableByName)]
struct Row5 {
    #[diesel(sql_type = Text)]
    tenant_id: String,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Text)]
    currency: String,
    #[diesel(sql_type = BigInt)]
    a: i64,
    #[diesel(sql_type = BigInt)]
    b: i64,
}

#[derive(QueryableByName)]
struct MemoRow {
    #[diesel(sql_type = Text)]
    tenant_id: String,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Text)]
    currency: String,
    #[diesel(sql_type = BigInt)]
    rt: i64,
    #[diesel(sql_type = BigInt)]
    rc: i64,
    #[diesel(sql_type = BigInt)]
    et: i64,
    #[diesel(sql_type = BigInt)]
    ec: i64,
}

fn tenant_filter(column: &str, tenant: Option<TenantId>) -> String {
    // A TenantId is a parsed UUID: safe to inline, and it spares two placeholder
    // dialects.
    match tenant {
        Some(t) => format!("{column} = '{t}'"),
        None => "1 = 1".into(),
    }
}

fn rows(conn: &mut DbConnection, sql: &str) -> Result<Vec<Row5>, Error> {
    Ok(diesel::sql_query(sql).load(conn)?)
}

/// Runs every check; an empty result means the ledger is clean.
pub fn check(conn: &mut DbConnection, tenant: Option<TenantId>) -> Result<Vec<Discrepancy>, Error> {
    let mut out = Vec::new();
    let te = tenant_filter("tenant_id", tenant);
    for r in rows(
        conn,
        &format!(
            "SELECT CAST(tenant_id AS TEXT) AS tenant_id, CAST(transaction_id AS TEXT) AS subject, currency,
                    CAST(SUM(debit_minor) AS BIGINT) AS a, CAST(SUM(credit_minor) AS BIGINT) AS b
             FROM entries WHERE {te}
             GROUP BY tenant_id, transaction_id, currency
             HAVING SUM(debit_minor) <> SUM(credit_minor)
             ORDER BY 1, 2, 3"
        ),
    )? {
        out.push(Discrepancy {
            check: "unbalanced_transaction",
            tenant_id: r.tenant_id,
            subject: format!("transaction {}", r.subject),
            detail: format!("{}: debits {} ≠ credits {} (minor units)", r.currency, r.a, r.b),
        });
    }
    let tb = tenant_filter("b.tenant_id", tenant);
    let tx = tenant_filter("x.tenant_id", tenant);
    for (table, key, label, check) in [
        ("balances", "account", "account", "balance_mismatch"),
        (
            "customer_ledger_totals",
            "customer_id",
            "customer",
            "customer_total_mismatch",
        ),
    ] {
        let (group, join, subject, filter_e) = if table == "balances" {
            (
                "tenant_id, account, currency",
                "e.tenant_id = b.tenant_id AND e.account = b.account AND e.currency = b.currency",
                "b.account",
                "1 = 1",
            )
        } else {
            (
                "tenant_id, customer_id, account, currency",
                "e.tenant_id = b.tenant_id AND e.customer_id = b.customer_id AND e.account = b.account AND e.currency = b.currency",
                "CAST(b.customer_id AS TEXT) || ' ' || b.account",
                "customer_id IS NOT NULL",
            )
        };
        let sums = format!(
            "SELECT {group}, CAST(SUM(debit_minor) AS BIGINT) AS d, CAST(SUM(credit_minor) AS BIGINT) AS c
             FROM entries WHERE {filter_e} GROUP BY {group}"
        );
        // A balance is the sum of its shards.
        let table = if table == "balances" {
            "(SELECT tenant_id, account, currency, CAST(SUM(debit_minor) AS BIGINT) AS debit_minor,
                     CAST(SUM(credit_minor) AS BIGINT) AS credit_minor
              FROM balances GROUP BY tenant_id, account, currency)"
        } else {
            table
        };
        let sql = format!(
            "SELECT CAST(b.tenant_id AS TEXT) AS tenant_id, {subject} AS subject, b.currency AS currency,
                    b.debit_minor - b.credit_minor AS a,
                    CAST(COALESCE(e.d, 0) - COALESCE(e.c, 0) AS BIGINT) AS b
             FROM {table} b LEFT JOIN ({sums}) e ON {join}
             WHERE {tb} AND (b.debit_minor <> COALESCE(e.d, 0) OR b.credit_minor <> COALESCE(e.c, 0))
             UNION ALL
             SELECT CAST(x.tenant_id AS TEXT), {xsubject}, x.currency, 0, CAST(x.d - x.c AS BIGINT)
             FROM ({sums}) x LEFT JOIN {table} b ON {xjoin}
             WHERE {tx} AND b.tenant_id IS NULL
             ORDER BY 1, 2, 3",
            xsubject = subject.replace("b.", "x."),
            xjoin = join.replace("e.", "x."),
        );
        let _ = key;
        for r in rows(conn, &sql)? {
            out.push(Discrepancy {
                check,
                tenant_id: r.tenant_id,
                subject: format!("{label} {}", r.subject),
                detail: format!(
                    "{}: recorded net {} but its entries sum to {} (minor units)",
                    r.currency, r.a, r.b
                ),
            });
        }
    }
    for r in rows(
        conn,
        &format!(
            "SELECT CAST(b.tenant_id AS TEXT) AS tenant_id, b.account AS subject, b.currency AS currency,
                    b.debit_minor AS a, b.credit_minor AS b
             FROM balances b
             WHERE {tb} AND ((b.account LIKE 'receivable:%' AND b.credit_minor > b.debit_minor)
                          OR (b.account LIKE 'store_credit:%' AND b.debit_minor > b.credit_minor))
             ORDER BY 1, 2, 3"
        ),
    )? {
        out.push(Discrepancy {
            check: "negative_balance",
            tenant_id: r.tenant_id,
            subject: format!("account {}", r.subject),
            detail: format!("{}: debits {} credits {}: below zero", r.currency, r.a, r.b),
        });
    }
    // Every gesture's running figures against their sources.
    let tg0 = tenant_filter("g.tenant_id", tenant);
    for (what, sql) in [
        (
            "paid",
            format!(
                "SELECT CAST(g.tenant_id AS TEXT) AS tenant_id, CAST(g.id AS TEXT) AS subject, g.currency AS currency,
                        g.paid_minor AS a, CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) AS b
                 FROM gestures g LEFT JOIN payments p
                   ON p.tenant_id = g.tenant_id AND p.gesture_id = g.id AND p.status = 'posted' AND p.recovery_minor = 0
                 WHERE {tg0} AND g.kind = 'deferred_payment'
                 GROUP BY g.tenant_id, g.id, g.currency, g.paid_minor
                 HAVING g.paid_minor <> COALESCE(SUM(p.amount_minor), 0)"
            ),
        ),
        (
            "waived",
            format!(
                "SELECT CAST(g.tenant_id AS TEXT) AS tenant_id, CAST(g.id AS TEXT) AS subject, g.currency AS currency,
                        g.waived_minor AS a, CAST(COALESCE(SUM(wa.amount_minor), 0) AS BIGINT) AS b
                 FROM gestures g
                 LEFT JOIN waiver_allocations wa ON wa.tenant_id = g.tenant_id AND wa.gesture_id = g.id
                 LEFT JOIN gestures w ON w.tenant_id = wa.tenant_id AND w.id = wa.waiver_id AND w.status = 'approved'
                 WHERE {tg0} AND g.kind = 'deferred_payment' AND (wa.gesture_id IS NULL OR w.id IS NOT NULL)
                 GROUP BY g.tenant_id, g.id, g.currency, g.waived_minor
                 HAVING g.waived_minor <> COALESCE(SUM(wa.amount_minor), 0)"
            ),
        ),
        (
            "redeemed",
            format!(
                "SELECT CAST(g.tenant_id AS TEXT) AS tenant_id, CAST(g.id AS TEXT) AS subject, g.currency AS currency,
                        g.redeemed_minor AS a, CAST(COALESCE(SUM(l.amount_minor), 0) AS BIGINT) AS b
                 FROM gestures g
                 LEFT JOIN redemption_lots l ON l.tenant_id = g.tenant_id AND l.gesture_id = g.id
                     AND EXISTS (SELECT 1 FROM redemptions r WHERE r.tenant_id = l.tenant_id
                                 AND r.id = l.redemption_id AND r.status = 'posted')
                 WHERE {tg0} AND g.kind = 'store_credit'
                 GROUP BY g.tenant_id, g.id, g.currency, g.redeemed_minor
                 HAVING g.redeemed_minor <> COALESCE(SUM(l.amount_minor), 0)"
            ),
        ),
        (
            "overpaid",
            format!(
                "SELECT CAST(g.tenant_id AS TEXT) AS tenant_id, CAST(g.id AS TEXT) AS subject, g.currency AS currency,
                        g.amount_minor AS a, g.paid_minor + g.waived_minor AS b
                 FROM gestures g
                 WHERE {tg0} AND g.kind = 'deferred_payment' AND g.paid_minor + g.waived_minor > g.amount_minor"
            ),
        ),
    ] {
        for r in rows(conn, &sql)? {
            out.push(Discrepancy {
                check: "gesture_mismatch",
                tenant_id: r.tenant_id,
                subject: format!("gesture {} {what}", r.subject),
                detail: format!("{}: recorded {} but its sources say {} (minor units)", r.currency, r.a, r.b),
            });
        }
    }
    // Per promise, what was collected against what it could be: recoveries
    // never exceed what stands written off, and payments plus recoveries never
    // exceed the amount promised. Every transaction can balance while a
    // customer pays twice; these see it.
    for (what, sql, says) in [
        (
            "recovered",
            format!(
                "SELECT CAST(g.tenant_id AS TEXT) AS tenant_id, CAST(g.id AS TEXT) AS subject, g.currency AS currency,
                        g.waived_minor AS a, CAST(SUM(p.recovery_minor) AS BIGINT) AS b
                 FROM gestures g JOIN payments p
                   ON p.tenant_id = g.tenant_id AND p.gesture_id = g.id AND p.status = 'posted' AND p.recovery_minor > 0
                 WHERE {tg0} AND g.kind = 'deferred_payment'
                 GROUP BY g.tenant_id, g.id, g.currency, g.waived_minor
                 HAVING SUM(p.recovery_minor) > g.waived_minor"
            ),
            "written off, but recoveries of",
        ),
        (
            "collected",
            format!(
                "SELECT CAST(g.tenant_id AS TEXT) AS tenant_id, CAST(g.id AS TEXT) AS subject, g.currency AS currency,
                        g.amount_minor AS a, CAST(SUM(p.amount_minor) AS BIGINT) AS b
                 FROM gestures g JOIN payments p
                   ON p.tenant_id = g.tenant_id AND p.gesture_id = g.id AND p.status = 'posted'
                 WHERE {tg0} AND g.kind = 'deferred_payment'
                 GROUP BY g.tenant_id, g.id, g.currency, g.amount_minor
                 HAVING SUM(p.amount_minor) > g.amount_minor"
            ),
            "promised, but payments and recoveries of",
        ),
    ] {
        for r in rows(conn, &sql)? {
            out.push(Discrepancy {
                check: "promise_overcollected",
                tenant_id: r.tenant_id,
                subject: format!("gesture {} {what}", r.subject),
                detail: format!("{}: {} {says} {} stand (minor units)", r.currency, r.a, r.b),
            });
        }
    }
    // What customers owe equals what their open promises still owe.
    let tb2 = tenant_filter("b.tenant_id", tenant);
    for r in rows(
        conn,
        &format!(
            "SELECT CAST(b.tenant_id AS TEXT) AS tenant_id, b.account AS subject, b.currency AS currency,
                    b.debit_minor - b.credit_minor AS a,
                    CAST(COALESCE((SELECT SUM(g.amount_minor - g.paid_minor - g.waived_minor) FROM gestures g
                       WHERE g.tenant_id = b.tenant_id AND g.customer_id = b.customer_id AND g.currency = b.currency
                         AND g.kind = 'deferred_payment' AND g.status = 'approved'), 0) AS BIGINT) AS b
             FROM balances b
             WHERE {tb2} AND b.account LIKE 'receivable:%'
               AND b.debit_minor - b.credit_minor <> COALESCE((SELECT SUM(g.amount_minor - g.paid_minor - g.waived_minor) FROM gestures g
                       WHERE g.tenant_id = b.tenant_id AND g.customer_id = b.customer_id AND g.currency = b.currency
                         AND g.kind = 'deferred_payment' AND g.status = 'approved'), 0)"
        ),
    )? {
        out.push(Discrepancy {
            check: "owed_mismatch",
            tenant_id: r.tenant_id,
            subject: format!("account {}", r.subject),
            detail: format!("{}: the account says {} is owed, the open promises {} (minor units)", r.currency, r.a, r.b),
        });
    }
    // Memo totals against their sources (gestures in effect).
    let tg = tenant_filter("g.tenant_id", tenant);
    let tm = tenant_filter("m.tenant_id", tenant);
    let (frv, fev, fav, rec, pwo, pbr) = (
        Memo::FreeServiceRetailValue.as_str(),
        Memo::FavourEstimatedValue.as_str(),
        Memo::Favours.as_str(),
        Memo::Recognitions.as_str(),
        Memo::PromisesWrittenOff.as_str(),
        Memo::PromisesBroken.as_str(),
    );
    let expected = format!(
        "SELECT g.tenant_id, g.customer_id, '{frv}' AS memo, g.currency AS currency,
                CAST(SUM(g.retail_value_minor) AS BIGINT) AS total, CAST(COUNT(*) AS BIGINT) AS n
         FROM gestures g WHERE {tg} AND g.kind = 'free_service' AND g.status = 'approved' GROUP BY g.tenant_id, g.customer_id, g.currency
         UNION ALL
         SELECT g.tenant_id, g.customer_id, '{fev}', g.currency,
                CAST(SUM(g.estimated_value_minor) AS BIGINT), CAST(COUNT(*) AS BIGINT)
         FROM gestures g WHERE {tg} AND g.kind = 'customer_favour' AND g.status = 'approved' AND g.estimated_value_minor IS NOT NULL
         GROUP BY g.tenant_id, g.customer_id, g.currency
         UNION ALL
         SELECT g.tenant_id, g.customer_id, '{fav}', '', 0, CAST(COUNT(*) AS BIGINT)
         FROM gestures g WHERE {tg} AND g.kind = 'customer_favour' AND g.status = 'approved' AND g.estimated_value_minor IS NULL
         GROUP BY g.tenant_id, g.customer_id
         UNION ALL
         SELECT g.tenant_id, g.customer_id, '{rec}', '', 0, CAST(COUNT(*) AS BIGINT)
         FROM gestures g WHERE {tg} AND g.kind = 'recognition' AND g.status = 'approved' GROUP BY g.tenant_id, g.customer_id
         UNION ALL
         SELECT g.tenant_id, g.customer_id, '{pwo}', '', 0, CAST(COUNT(*) AS BIGINT)
         FROM gestures g WHERE {tg} AND g.kind = 'deferred_payment' AND g.status = 'written_off' GROUP BY g.tenant_id, g.customer_id
         UNION ALL
         SELECT g.tenant_id, g.customer_id, '{pbr}', '', 0, CAST(COUNT(*) AS BIGINT)
         FROM gestures g WHERE {tg} AND g.kind = 'deferred_payment' AND g.status = 'written_off'
           AND EXISTS (SELECT 1 FROM gestures w WHERE w.tenant_id = g.tenant_id AND w.write_off_of = g.id
                         AND w.status = 'approved' AND w.effective_on > g.due_on)
         GROUP BY g.tenant_id, g.customer_id"
    );
    let sql = format!(
        "SELECT CAST(m.tenant_id AS TEXT) AS tenant_id, CAST(m.customer_id AS TEXT) || ' ' || m.memo AS subject,
                m.currency AS currency, m.total_minor AS rt, m.count AS rc,
                CAST(COALESCE(x.total, 0) AS BIGINT) AS et, CAST(COALESCE(x.n, 0) AS BIGINT) AS ec
         FROM memo_totals m LEFT JOIN ({expected}) x
           ON x.tenant_id = m.tenant_id AND x.customer_id = m.customer_id AND x.memo = m.memo AND x.currency = m.currency
         WHERE {tm} AND m.memo IN ('free_service_retail_value', 'favour_estimated_value', 'favours', 'recognitions', 'promises_written_off', 'promises_broken')
           AND (m.total_minor <> COALESCE(x.total, 0) OR m.count <> COALESCE(x.n, 0))
         UNION ALL
         SELECT CAST(x.tenant_id AS TEXT), CAST(x.customer_id AS TEXT) || ' ' || x.memo, x.currency,
                CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(x.total AS BIGINT), CAST(x.n AS BIGINT)
         FROM ({expected}) x LEFT JOIN memo_totals m
           ON x.tenant_id = m.tenant_id AND x.customer_id = m.customer_id AND x.memo = m.memo AND x.currency = m.currency
         WHERE m.tenant_id IS NULL
         ORDER BY 1, 2, 3"
    );
    let memo_rows: Vec<MemoRow> = diesel::sql_query(&sql).load(conn)?;
    let reconciled = super::reconcile::reconcile(conn, tenant)?;
    for r in memo_rows {
        out.push(Discrepancy {
            check: "memo_mismatch",
            tenant_id: r.tenant_id,
            subject: format!("memo {}", r.subject),
            detail: format!(
                "{}: recorded total {} count {}, sources say total {} count {}",
                if r.currency.is_empty() {
                    "-"
                } else {
                    &r.currency
                },
                r.rt,
                r.rc,
                r.et,
                r.ec
            ),
        });
    }
    // Finance's kept totals against the gestures.
    out.extend(super::kept_totals::check(conn, tenant)?);
    // The entries, in turn, against the hash-chained audit trail.
    out.extend(reconciled.discrepancies);
    Ok(out)
}
