//! `goodwill dev seed`: fills a tenant with realistic history for benchmarks and
//! demonstrations — stores, staff, customers, and gestures of every kind spread
//! over past months, in effect, with their postings and memo totals written in
//! bulk. The result passes the ledger check.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use super::DbConnection;
use super::ledger::{self, NewLedgerTx, Sums};
use crate::domain::gesture::{DEFAULT_REASON_CODES, Gesture, GestureKind, GestureStatus, Terms};
use crate::domain::ids::{CustomerId, GestureId, StaffId, StoreId, TenantId};
use crate::domain::ledger::Memo;
use crate::domain::money::{Currency, Money};
use crate::domain::policy::{Decided, DecisionRecord};
use crate::domain::roles::Role;
use crate::error::Error;

/// What to seed.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// Gestures in all.
    pub gestures: usize,
    /// Months of history, back from today.
    pub months: u32,
    /// Stores.
    pub stores: usize,
    /// Customers.
    pub customers: usize,
    /// The random seed (the same seed gives the same history).
    pub seed: u64,
    /// Only gestures that leave nothing open (no deferred payments, no store
    /// credit): history without open items, for the summary's scaling curve.
    pub closed_only: bool,
}

/// What was seeded.
#[derive(Clone, Debug, Default)]
pub(crate) struct Report {
    /// Stores created.
    pub stores: usize,
    /// Customers created.
    pub customers: usize,
    /// Gestures written.
    pub gestures: usize,
}

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Gestures per transaction.
const BATCH: usize = 5_000;

/// Seeds `tenant` (one transaction per batch of gestures, so a large seed
/// commits as it goes), calling `progress` after each batch.
pub(crate) fn seed(
    conn: &mut DbConnection,
    tenant: TenantId,
    opts: &Options,
    now: chrono::NaiveDateTime,
    mut progress: impl FnMut(usize),
) -> Result<Report, Error> {
    let usd =
        Currency::from_code("USD").ok_or_else(|| Error::internal("USD is not a known currency"))?;
    let mut rng = Rng(opts.seed | 1);
    let tag = crate::domain::ids::GestureId::new().0.simple().to_string()[24..].to_uppercase();
    let (stores, staff, customers) = super::write_tx(conn, |c| {
        let mut stores = Vec::new();
        let mut staff = Vec::new();
        for i in 0..opts.stores {
            let s = super::stores::create(
                c,
                tenant,
                crate::domain::store::NewStore::parse(
                    &format!("Seed store {i}"),
                    &format!("S{tag}{i}"),
                    "USD",
                    None,
                )
                .map_err(Error::Validation)?,
                now,
            )?;
            let st = super::staff::create(
                c,
                tenant,
                crate::domain::staff::NewStaff::parse(&format!("Clerk {i}"), &[s.id], None, None)
                    .map_err(Error::Validation)?,
                now,
            )?;
            stores.push(s.id);
            staff.push(st.id);
        }
        let mut customers = Vec::new();
        for i in 0..opts.customers {
            let cu = super::customers::create(
                c,
                tenant,
                crate::domain::customer::NewCustomer::parse(
                    &format!("SEED-{tag}-{i}"),
                    &format!("Seed customer {i}"),
                    None,
                    None,
                    None,
                )
                .map_err(Error::Validation)?,
                now,
            )?;
            customers.push(cu.id);
        }
        Ok::<_, Error>((stores, staff, customers))
    })?;
    let today = now.date();
    let days = i64::from(opts.months.max(1)) * 30;
    let mut sums = Sums::default();
    let mut memos: BTreeMap<(CustomerId, Memo, &'static str), (i64, i64)> = BTreeMap::new();
    let mut written = 0;
    while written < opts.gestures {
        let n = BATCH.min(opts.gestures - written);
        let mut gs = Vec::with_capacity(n);
        let mut txs = Vec::with_capacity(n);
        for _ in 0..n {
            let si = usize::try_from(rng.below(stores.len() as u64)).unwrap_or(0);
            let customer =
                customers[usize::try_from(rng.below(customers.len() as u64)).unwrap_or(0)];
            let effective_on = today
                - TimeDelta::days(
                    i64::try_from(rng.below(u64::try_from(days).unwrap_or(1))).unwrap_or(0) + 1,
                );
            // With `closed_only`, draw again until the gesture leaves nothing
            // open (every fourth or so does not).
            let g = loop {
                let g = gesture(
                    &mut rng,
                    tenant,
                    customer,
                    stores[si],
                    staff[si],
                    effective_on,
                    usd,
                );
                let leaves_open = matches!(
                    g.kind,
                    GestureKind::DeferredPayment | GestureKind::StoreCredit
                );
                if !(opts.closed_only && leaves_open) {
                    break g;
                }
            };
            let postings =
                crate::domain::ledger::gesture_postings(g.kind, customer, g.store_id, &g.terms);
            if let Some((memo, value)) = g.terms.memo() {
                let m = memos
                    .entry((customer, memo, value.map_or("", |v| v.currency().code())))
                    .or_default();
                m.0 += value.map_or(0, |v| v.minor());
                m.1 += 1;
            }
            txs.push(NewLedgerTx {
                kind: "gesture",
                gesture_id: Some(g.id),
                payment_id: None,
                redemption_id: None,
                reverses: None,
                customer_id: Some(customer),
                effective_on,
                postings,
            });
            gs.push(g);
        }
        super::write_tx(conn, |c| {
            super::gestures::insert_batch(c, &gs)?;
            // The batch's transactions are attested like any command's, by
            // one event of the seed.
            let ctx =
                crate::audit::AuditCtx::system(tenant, "dev-seed", crate::clock::Clock::system());
            ledger::post_batch(c, &ctx, &txs, &mut sums, now)?;
            super::audit::append(
                c,
                &ctx,
                crate::audit::NewEvent::created(
                    "dev.seeded",
                    "seed_batch",
                    crate::domain::ids::AuditEventId::new(),
                    &serde_json::json!({"gestures": gs.len()}),
                ),
            )
            .map(|_| ())
        })?;
        written += n;
        progress(written);
    }
    super::write_tx(conn, |c| {
        ledger::apply_sums(c, tenant, std::mem::take(&mut sums))?;
        for ((customer, memo, currency), (total, count)) in &memos {
            ledger::add_memo(c, tenant, *customer, *memo, currency, *total, *count)?;
        }
        Ok::<_, Error>(())
    })?;
    Ok(Report {
        stores: stores.len(),
        customers: customers.len(),
        gestures: written,
    })
}

/// One gesture in effect: a kind by realistic weights, amounts mostly within a
/// clerk's limit, the larger ones approved by a manager.
fn gesture(
    rng: &mut Rng,
    tenant: TenantId,
    customer: CustomerId,
    store: StoreId,
    clerk: StaffId,
    effective_on: NaiveDate,
    usd: Currency,
) -> Gesture {
    let roll = rng.below(100);
    let kind = match roll {
        0..35 => GestureKind::ServiceRecovery,
        35..55 => GestureKind::FreeService,
        55..75 => GestureKind::StoreCredit,
        75..85 => GestureKind::Recognition,
        85..90 => GestureKind::CustomerFavour,
        _ => GestureKind::DeferredPayment,
    };

    let big = rng.below(10) == 0;
    let cents = if big {
        2_501 + i64::try_from(rng.below(22_500)).unwrap_or(0)
    } else {
        100 + i64::try_from(rng.below(2_400)).unwrap_or(0)
    };
    let m = |c: i64| Money::from_minor(c, usd);
    let terms = match kind {
        GestureKind::ServiceRecovery => Terms::ServiceRecovery { amount: m(cents) },
        GestureKind::FreeService => Terms::FreeService {
            retail_value: m(cents),
            cost: m(cents * i64::try_from(rng.below(60) + 10).unwrap_or(30) / 100),
        },
        GestureKind::StoreCredit => Terms::StoreCredit {
            amount: m(cents),
            expires_on: None,
        },
        GestureKind::Recognition => Terms::Recognition,
        GestureKind::CustomerFavour => Terms::CustomerFavour {
            estimated_value: None,
        },
        _ => Terms::DeferredPayment {
            amount: m(cents),
            due_on: effective_on + TimeDelta::days(1),
        },
    };
    let monetary = kind.is_monetary();
    let requester = format!("seed-clerk-{}", rng.below(50));
    let at: NaiveDateTime = effective_on.and_hms_opt(12, 0, 0).unwrap_or_default();
    let (rule, decided) = if !monetary {
        ("non_monetary", None)
    } else if big {
        (
            "above_self_grant_limit",
            Some(Decided {
                outcome: "approved".into(),
                by: format!("seed-manager-{}", rng.below(10)),
                role: Some(Role::Manager),
                at,
                note: None,
            }),
        )
    } else {
        ("within_self_grant_limit", None)
    };
    let reason = DEFAULT_REASON_CODES
        [usize::try_from(rng.below(DEFAULT_REASON_CODES.len() as u64)).unwrap_or(0)]
    .0;
    Gesture {
        id: GestureId::new(),
        tenant_id: tenant,
        customer_id: customer,
        store_id: store,
        kind,
        status: GestureStatus::Approved,
        reason_code: reason.to_owned(),
        story: "Seeded history".into(),
        staff_ids: if kind == GestureKind::Recognition {
            vec![clerk]
        } else {
            Vec::new()
        },
        incident_id: None,
        effective_on,
        currency: usd,
        terms,
        paid_minor: 0,
        waived_minor: 0,
        redeemed_minor: 0,
        expired_minor: 0,
        requested_by: requester,
        requested_role: "clerk".into(),
        decision_rule: rule.to_owned(),
        write_off_of: None,
        reversal_reason: None,
        created_at: at,
        updated_at: at,
        policy_version: 1,
        approval: Some(DecisionRecord {
            rule: rule.to_owned(),
            self_grant_limit_minor: monetary.then_some(2_500),
            trust_bonus_minor: None,
            split_window_minor: None,
            tier: None,
            approvers: Vec::new(),
            budgets: Vec::new(),
            expires_at: None,
            decided,
            requester_stores: None,
        }),
    }
}
