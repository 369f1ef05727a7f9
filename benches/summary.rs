//! The customer summary costs the same whatever the customer's history.
//!
//! `cargo bench --bench summary` builds, on SQLite and on PostgreSQL (set
//! `GOODWILL_BENCH_PG`, default `postgres://postgres@127.0.0.1:5432`, or `none` to
//! skip it; `GOODWILL_BENCH_SQLITE=none` skips SQLite), one customer with a dozen
//! entries and one with 100,000 (25,000 promises, each paid in full), then reads
//! each summary many times through the same function the API calls, and prints
//! the latency distribution. Figures: docs/BENCHMARKS.md.

// A benchmark panics on the unexpected, like a test.
#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::SimpleConnection;
use goodwill::audit::AuditCtx;
use goodwill::domain::gesture::{NewGesture, Terms};
use goodwill::domain::ids::{CustomerId, TenantId};
use goodwill::domain::money::{Currency, Money};
use goodwill::store::{self, DatabaseUrl, DbConnection};

const READS: usize = 2_000;

fn promise_and_pay(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    customer: CustomerId,
    store: goodwill::domain::ids::StoreId,
    today: chrono::NaiveDate,
) {
    let usd = Currency::from_code("USD").unwrap();
    let amount = Money::parse_amount("10.95", usd).unwrap();
    // A requester per promise: one requester's 24-hour total would soon trip
    // split detection, which is not what this measures.
    let ctx = &AuditCtx {
        actor_sub: format!("till-{}", uuid::Uuid::now_v7().simple()),
        now: goodwill::clock::Clock::system().now(),
        ..ctx.clone()
    };
    let g = store::gestures::request(
        conn,
        ctx,
        customer,
        NewGesture {
            kind: goodwill::domain::gesture::GestureKind::DeferredPayment,
            store_id: store,
            reason_code: "closing_time".into(),
            story: "bench".into(),
            staff_ids: vec![],
            incident_id: None,
            effective_on: today,
            terms: Terms::DeferredPayment {
                amount,
                due_on: today,
            },
            client_ref: None,
        },
        today,
    )
    .unwrap();
    store::lifecycle::pay(
        conn,
        ctx,
        g.id,
        None,
        amount,
        today,
        None,
        &Default::default(),
    )
    .unwrap();
}

fn entries_of(conn: &mut DbConnection, tenant: TenantId, customer: CustomerId) -> i64 {
    let mut n = 0;
    let mut cursor = None;
    loop {
        let page = store::reading::entries(
            conn,
            tenant,
            &store::reading::EntryFilter {
                customer_id: Some(customer),
                ..Default::default()
            },
            store::PageRequest {
                limit: 100,
                starting_after: cursor,
            },
        )
        .unwrap();
        n += page.items.len() as i64;
        cursor = page.items.last().map(|e| e.id);
        if !page.has_more {
            return n;
        }
    }
}

fn measure(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
    today: chrono::NaiveDate,
) -> Vec<Duration> {
    for _ in 0..100 {
        store::read_tx(conn, |c| {
            goodwill::app::customers::load_summary(c, tenant, customer, today)
        })
        .unwrap();
    }
    (0..READS)
        .map(|_| {
            let t = Instant::now();
            let s = store::read_tx(conn, |c| {
                goodwill::app::customers::load_summary(c, tenant, customer, today)
            })
            .unwrap();
            std::hint::black_box(s);
            t.elapsed()
        })
        .collect()
}

fn report(label: &str, mut d: Vec<Duration>) -> f64 {
    d.sort();
    let us = |x: Duration| x.as_secs_f64() * 1e6;
    let mean = d.iter().map(|x| us(*x)).sum::<f64>() / d.len() as f64;
    let p50 = us(d[d.len() / 2]);
    let p99 = us(d[d.len() * 99 / 100]);
    println!(
        "{label:<40} mean {mean:>8.1} µs   p50 {p50:>8.1} µs   p99 {p99:>8.1} µs   ({} reads)",
        d.len()
    );
    p50
}

/// Measures an already seeded database (`GOODWILL_BENCH_MEASURE=<url>`): the
/// customers `SMALL` and `LARGE` of its first tenant.
fn measure_existing(url: &str) {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Ids {
        #[diesel(sql_type = diesel::sql_types::Text)]
        tenant: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        small: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        large: String,
    }
    let mut conn = DatabaseUrl::parse(url).unwrap().connect().unwrap();
    let ids: Ids = diesel::sql_query(
        "SELECT CAST(s.tenant_id AS TEXT) AS tenant, CAST(s.id AS TEXT) AS small, CAST(l.id AS TEXT) AS large
         FROM customers s JOIN customers l ON l.tenant_id = s.tenant_id
         WHERE s.external_ref = 'SMALL' AND l.external_ref = 'LARGE' LIMIT 1",
    )
    .get_result(&mut conn)
    .unwrap();
    let (tenant, small, large): (TenantId, CustomerId, CustomerId) = (
        ids.tenant.parse().unwrap(),
        ids.small.parse().unwrap(),
        ids.large.parse().unwrap(),
    );
    let today = chrono::Utc::now().date_naive();
    let (n_small, n_large) = (
        entries_of(&mut conn, tenant, small),
        entries_of(&mut conn, tenant, large),
    );
    let a = report(
        &format!("summary, {n_small} entries"),
        measure(&mut conn, tenant, small, today),
    );
    let b = report(
        &format!("summary, {n_large} entries"),
        measure(&mut conn, tenant, large, today),
    );
    println!("p50 ratio large/small = {:.2}", b / a);
}

fn run(backend: &str, url: &str) {
    let mut conn = DatabaseUrl::parse(url).unwrap().connect().unwrap();
    store::run_migrations(&mut conn).unwrap();
    let today = chrono::Utc::now().date_naive();
    let tenant =
        store::tenants::create(&mut conn, "bench", goodwill::clock::Clock::system().now()).unwrap();
    let ctx = AuditCtx {
        actor_sub: "bench".into(),
        ..AuditCtx::system(tenant, "bench", goodwill::clock::Clock::system())
    };
    let st = goodwill::app::stores::open_store(
        &mut conn,
        &ctx,
        goodwill::domain::store::NewStore::parse("Bench", "B", "USD", None).unwrap(),
    )
    .unwrap();
    let mut customer = |r: &str| {
        goodwill::app::customers::create_customer(
            &mut conn,
            &ctx,
            goodwill::domain::customer::NewCustomer::parse(r, "Bench customer", None, None, None)
                .unwrap(),
        )
        .unwrap()
        .id
    };
    let small = customer("SMALL");
    let large = customer("LARGE");
    let started = Instant::now();
    store::write_tx(&mut conn, |c| {
        for _ in 0..(10 / 4 + 1) {
            promise_and_pay(c, &ctx, small, st.id, today);
        }
        Ok::<_, diesel::result::Error>(())
    })
    .unwrap();
    for _ in 0..25 {
        store::write_tx(&mut conn, |c| {
            for _ in 0..1_000 {
                promise_and_pay(c, &ctx, large, st.id, today);
            }
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
    }
    if let DbConnection::Pg(pg) = &mut conn {
        pg.batch_execute("ANALYZE").unwrap();
    }
    let (n_small, n_large) = (
        entries_of(&mut conn, tenant, small),
        entries_of(&mut conn, tenant, large),
    );
    println!(
        "{backend}: seeded {n_small} and {n_large} entries in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let a = report(
        &format!("{backend} summary, {n_small} entries"),
        measure(&mut conn, tenant, small, today),
    );
    let b = report(
        &format!("{backend} summary, {n_large} entries"),
        measure(&mut conn, tenant, large, today),
    );
    println!("{backend}: p50 ratio large/small = {:.2}", b / a);
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs nothing here.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    if let Ok(url) = std::env::var("GOODWILL_BENCH_MEASURE") {
        measure_existing(&url);
        return;
    }
    if std::env::var("GOODWILL_BENCH_SQLITE").as_deref() != Ok("none") {
        let dir =
            std::env::temp_dir().join(format!("goodwill-bench-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        run(
            "sqlite",
            &format!("sqlite://{}", dir.join("bench.db").display()),
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    let base = std::env::var("GOODWILL_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    if base != "none" {
        let name = format!("gw_bench_{}", uuid::Uuid::now_v7().simple());
        let mut admin =
            diesel::PgConnection::establish(&format!("{base}/postgres?sslmode=disable")).unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        run("postgres", &format!("{base}/{name}?sslmode=disable"));
        admin
            .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .unwrap();
    }
}
