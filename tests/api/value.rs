//! Sales, refunds, imports, the customer value model and its use in
//! approvals (S2).

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeDelta};
use goodwill::domain::roles::Role;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::TestApp;

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

fn usd(a: &str) -> Value {
    json!({"amount": a, "currency": "USD"})
}

/// Runs `goodwill import sales` on `csv` against the app's database.
pub fn import(app: &TestApp, csv: &str, extra: &[&str]) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(format!("goodwill-import-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sales.csv");
    std::fs::write(&file, csv).unwrap();
    let tenant = app.tenant.to_string();
    let mut args = vec![
        "import",
        "sales",
        file.to_str().unwrap(),
        "--tenant",
        &tenant,
        "--database-url",
        &app.database_url,
    ];
    args.extend_from_slice(extra);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_goodwill"))
        .args(&args)
        .env("GOODWILL_LOG", "warn")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const HEADER: &str = "customer_external_ref,occurred_at,amount,currency,store_code,sale_ref\n";

/// A population of `n` customers (`P-0`, `P-1`, ...) with varied histories
/// over the last two years at store `code`, imported with
/// `--create-customers`, plus whatever `extra` rows.
pub fn population_csv(code: &str, n: usize, extra: &str) -> String {
    let mut csv = String::from(HEADER);
    let t = today();
    for i in 0..n {
        let first = t - TimeDelta::days(700 - (i as i64 * 13) % 400);
        let repeats = i % 6;
        let gap = 9 + (i as i64 * 7) % 40;
        for k in 0..=repeats {
            let day = first + TimeDelta::days(gap * k as i64);
            if day > t {
                break;
            }
            let amount = 12 + (i * 17 + k * 5) % 60;
            csv.push_str(&format!("P-{i},{day},{amount}.50,USD,{code},P{i}-{k}\n"));
        }
    }
    csv.push_str(extra);
    csv
}

/// Imports a population at `code` and fits the model; returns the version.
pub async fn fitted(app: &TestApp, code: &str, extra: &str) -> Value {
    app.store(code, "USD").await;
    let (status, _, err) = import(
        app,
        &population_csv(code, 60, extra),
        &["--create-customers"],
    );
    assert_eq!(status, 0, "{err}");
    app.post("/v1/value/model/fit", &app.token(Role::Finance), &json!({}))
        .await
        .expect(201)
}

async fn sales_refunds_and_duplicates(app: TestApp) {
    let store = app.store("S1", "USD").await;
    let customer = app.customer("C-1").await["id"].as_str().unwrap().to_owned();
    let clerk = app.token(Role::Clerk);
    let sale = json!({"customer_id": customer, "store_id": store, "sale_ref": "T-1",
        "occurred_at": "2026-11-01T10:30:00+01:00", "amount": usd("100.00")});
    let s = app.post("/v1/sales", &clerk, &sale).await.expect(201);
    assert_eq!(s["occurred_at"], "2026-11-01T09:30:00.000000Z");
    assert_eq!(s["sale_date"], "2026-11-01");
    assert_eq!(s["refunded"], usd("0.00"));
    let id = s["id"].as_str().unwrap().to_owned();
    // The same reference again, by external_ref: 409 naming the sale.
    let before = app.counts();
    let again = json!({"customer_external_ref": "C-1", "store_id": store, "sale_ref": "T-1",
        "occurred_at": "2026-11-02", "amount": usd("5.00")});
    let p = app
        .post("/v1/sales", &clerk, &again)
        .await
        .problem(409, "duplicate_sale");
    assert_eq!(p["existing_id"], id.as_str());
    // Bad input changes nothing.
    for (body, field) in [
        (
            json!({"customer_external_ref": "nobody", "store_id": store, "sale_ref": "T-2",
            "occurred_at": "2026-11-02", "amount": usd("5.00")}),
            "customer_external_ref",
        ),
        (
            json!({"customer_id": customer, "store_id": store, "sale_ref": "T-2",
            "occurred_at": "2026-11-02", "amount": {"amount": "5", "currency": "EUR"}}),
            "amount.currency",
        ),
        (
            json!({"customer_id": customer, "customer_external_ref": "C-1", "store_id": store,
            "sale_ref": "T-2", "occurred_at": "2026-11-02", "amount": usd("5.00")}),
            "customer_external_ref",
        ),
        (
            json!({"customer_id": customer, "store_id": store, "sale_ref": "T-2",
            "occurred_at": "2126-11-02", "amount": usd("5.00")}),
            "occurred_at",
        ),
        (
            json!({"customer_id": customer, "store_id": store, "sale_ref": "T-2",
            "occurred_at": "2026-11-02", "amount": usd("-5.00")}),
            "amount.amount",
        ),
    ] {
        app.post("/v1/sales", &clerk, &body)
            .await
            .names_field(field);
    }
    assert_eq!(app.counts(), before);
    // Another store's token: 403.
    let other = app.store("S2", "USD").await;
    let scoped = app.token_for(app.tenant, "till-2", Role::Pos, Some(vec![other]));
    app.post(
        "/v1/sales",
        &scoped,
        &json!({"customer_id": customer, "store_id": store,
        "sale_ref": "T-9", "occurred_at": "2026-11-02", "amount": usd("5.00")}),
    )
    .await
    .problem(403, "store_scope");

    // Refunds: at most what is left, together.
    let r = app
        .post(
            &format!("/v1/sales/{id}/refunds"),
            &clerk,
            &json!({"amount": usd("30.00"), "reason": "one cup broken"}),
        )
        .await
        .expect(201);
    assert_eq!(r["sale"]["refunded"], usd("30.00"));
    assert_eq!(r["amount"], usd("30.00"));
    let p = app
        .post(
            &format!("/v1/sales/{id}/refunds"),
            &clerk,
            &json!({"amount": usd("70.01")}),
        )
        .await
        .problem(422, "refund_exceeds_sale");
    assert!(p["detail"].as_str().unwrap().contains("70.00"), "{p}");
    app.post(
        &format!("/v1/sales/{id}/refunds"),
        &clerk,
        &json!({"amount": usd("70.00")}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/v1/sales/{id}/refunds"),
        &clerk,
        &json!({"amount": usd("0.01")}),
    )
    .await
    .problem(422, "refund_exceeds_sale");
    app.post(
        &format!("/v1/sales/{id}/refunds"),
        &scoped,
        &json!({"amount": usd("0.01")}),
    )
    .await
    .problem(403, "store_scope");
    let got = app
        .get(&format!("/v1/sales/{id}"), &app.token(Role::Auditor))
        .await
        .expect(200);
    assert_eq!(got["refunded"], usd("100.00"));
    assert_eq!(got["refunds"].as_array().unwrap().len(), 2);
    let list = app
        .get(
            &format!("/v1/sales?customer_id={customer}"),
            &app.token(Role::Finance),
        )
        .await
        .expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    // Finance reads sales but does not record them.
    app.post(
        "/v1/sales",
        &app.token(Role::Finance),
        &json!({"customer_id": customer,
        "store_id": store, "sale_ref": "T-3", "occurred_at": "2026-11-02", "amount": usd("5.00")}),
    )
    .await
    .problem(403, "role_forbidden");
    // Each sale and refund is in the audit trail.
    let audit = app
        .get(
            &format!("/v1/audit?entity_type=sale&entity_id={id}"),
            &app.token(Role::Auditor),
        )
        .await
        .expect(200);
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["sale.recorded", "sale.refunded", "sale.refunded"]);
}
both!(sales_refunds_and_duplicates);

async fn batch_lines_stand_alone(app: TestApp) {
    let store = app.store("B1", "USD").await;
    let customer = app.customer("B-C").await["id"].as_str().unwrap().to_owned();
    let pos = app.token(Role::Pos);
    app.post(
        "/v1/sales",
        &pos,
        &json!({"customer_id": customer, "store_id": store,
        "sale_ref": "OLD", "occurred_at": "2026-10-01", "amount": usd("9.00")}),
    )
    .await
    .expect(201);
    let line = |r: &str, amount: &str| {
        json!({"customer_external_ref": "B-C", "store_id": store,
        "sale_ref": r, "occurred_at": "2026-10-02T12:00:00Z", "amount": usd(amount)})
    };
    let body = json!({"sales": [
        line("N1", "10.00"),
        line("OLD", "10.00"),
        line("N2", "0.00"),
        line("N1", "11.00"),
        line("N3", "10.001"),
        {"customer_id": customer, "store_id": store, "sale_ref": "N4", "occurred_at": "2026-10-02", "amount": usd("1.00"), "status": "paid"},
        line("N5", "12.00"),
    ]});
    let r = app.post("/v1/sales/batch", &pos, &body).await.expect(200);
    let statuses: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "created",
            "duplicate",
            "created",
            "duplicate",
            "error",
            "error",
            "created"
        ]
    );
    assert_eq!(
        (
            r["created"].as_u64(),
            r["duplicates"].as_u64(),
            r["errors"].as_u64()
        ),
        (Some(3), Some(2), Some(2))
    );
    assert_eq!(
        r["results"][3]["existing_id"],
        r["results"][0]["sale"]["id"]
    );
    assert_eq!(r["results"][4]["errors"][0]["field"], "amount.amount");
    // The same batch again adds nothing.
    let before = app.counts();
    let again = app.post("/v1/sales/batch", &pos, &body).await.expect(200);
    assert_eq!(again["created"], 0);
    assert_eq!(again["duplicates"], 5);
    assert_eq!(app.counts(), before);
    let list = app
        .get(&format!("/v1/sales?customer_id={customer}&limit=100"), &pos)
        .await
        .expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 4);
    // Over 1,000 lines: 422, nothing written.
    let many: Vec<Value> = (0..1001).map(|i| line(&format!("M{i}"), "1.00")).collect();
    app.post("/v1/sales/batch", &pos, &json!({"sales": many}))
        .await
        .names_field("sales");
    assert_eq!(app.counts(), before);
}
both!(batch_lines_stand_alone);

async fn import_reports_bad_rows_and_adds_nothing_twice(app: TestApp) {
    app.store("IM", "USD").await;
    app.customer("K-1").await;
    let csv = format!(
        "{HEADER}K-1,2026-09-01,10.00,USD,IM,I-1\n\
         K-1,2026-09-02T10:00:00Z,20.00,USD,IM,I-2\n\
         K-2,2026-09-03,5.00,USD,IM,I-3\n\
         K-1,not-a-date,5.00,USD,IM,I-4\n\
         K-1,2026-09-04,5.00,EUR,IM,I-5\n\
         K-1,2026-09-04,5.00,USD,NOPE,I-6\n\
         \"K-1\",2026-09-05,\"7.50\",USD,IM,\"I-7, with a comma\"\n\
         K-1,2026-09-06,5.00,USD,IM\n\
         K-3,2999-01-01,5.00,USD,IM,I-8\n\
         K-4,2026-09-07,5.00,USD,IM,I-1\n"
    );
    let (status, out, err) = import(&app, &csv, &[]);
    assert_ne!(status, 0, "bad rows make the run fail: {err}");
    for line in [
        "line 4:", "line 5:", "line 6:", "line 7:", "line 9:", "line 10:", "line 11:",
    ] {
        assert!(err.contains(line), "{line} reported: {err}");
    }
    assert!(
        err.contains("customer_external_ref"),
        "K-2 is unknown without --create-customers: {err}"
    );
    let summary: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(summary["created"], 3, "{summary}");
    assert_eq!(summary["bad"], 7, "{summary}");
    // Again, with --create-customers: only K-2's row is new.
    let (_, out, _) = import(&app, &csv, &["--create-customers"]);
    let summary: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (summary["created"].as_u64(), summary["duplicates"].as_u64()),
        (Some(1), Some(4)),
        "{summary}"
    );
    // K-2 is created, with its events like any customer; K-3's line is in
    // error and K-4's a duplicate of I-1: neither customer is created.
    assert_eq!(summary["customers_created"], 1);
    let customers = app
        .get("/v1/customers?limit=100", &app.token(Role::Auditor))
        .await
        .expect(200);
    let refs: Vec<&str> = customers["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["external_ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["K-1", "K-2"]);
    assert_eq!(app.unrecorded(), Vec::<String>::new());
    let created = app
        .get(
            "/v1/audit?action=customer.created",
            &app.token(Role::Auditor),
        )
        .await
        .expect(200);
    assert_eq!(created["data"].as_array().unwrap().len(), 2, "{created}");
    let feed = app
        .get("/v1/events?limit=100", &app.token(Role::Auditor))
        .await
        .expect(200);
    let k2 = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "customer.created")
        .count();
    assert_eq!(k2, 2, "{feed}");
    let before = app.counts();
    let (_, out, _) = import(&app, &csv, &["--create-customers"]);
    let summary: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (summary["created"].as_u64(), summary["duplicates"].as_u64()),
        (Some(0), Some(5))
    );
    assert_eq!(app.counts(), before, "a re-run adds nothing");
    let sales = app
        .get("/v1/sales?limit=100", &app.token(Role::Auditor))
        .await
        .expect(200);
    let refs: Vec<&str> = sales["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sale_ref"].as_str().unwrap())
        .collect();
    assert!(refs.contains(&"I-7, with a comma"), "{refs:?}");
}
both!(import_reports_bad_rows_and_adds_nothing_twice);

/// The statistics convention, from raw sales, literally: same-day purchases
/// are one, a single purchase has no repeats, refunds net out (a fully
/// refunded day is no purchase), a sale on as-of counts.
async fn statistics_follow_the_convention(app: TestApp) {
    let t = today();
    let d = |n: i64| (t - TimeDelta::days(n)).to_string();
    let rows = [
        // customer, days before today, amount, sale_ref
        ("single", 56, "50.00", "a1"),
        ("same_day", 56, "20.00", "b1"),
        ("same_day", 56, "30.00", "b2"),
        ("same_day", 42, "40.00", "b3"),
        ("refunds", 56, "100.00", "c1"),
        ("refunds", 49, "60.00", "c2"),
        ("refunds", 35, "80.00", "c3"),
        ("on_as_of", 56, "10.00", "d1"),
        ("on_as_of", 0, "70.00", "d2"),
    ];
    let mut extra = String::new();
    for (c, n, a, r) in rows {
        extra.push_str(&format!("{c},{},{a},USD,ST,{r}\n", d(n)));
    }
    fitted(&app, "ST", "").await;
    let (status, _, err) = import(&app, &format!("{HEADER}{extra}"), &["--create-customers"]);
    assert_eq!(status, 0, "{err}");
    let clerk = app.token(Role::Clerk);
    let customers = app.get("/v1/customers?limit=100", &clerk).await.expect(200);
    let customer_id = |name: &str| {
        customers["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["external_ref"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let refunds = customer_id("refunds");
    let theirs = app
        .get(&format!("/v1/sales?customer_id={refunds}"), &clerk)
        .await
        .expect(200);
    let sale_id = |r: &str| {
        theirs["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["sale_ref"] == r)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let c2 = sale_id("c2");
    app.post(
        &format!("/v1/sales/{c2}/refunds"),
        &clerk,
        &json!({"amount": usd("60.00")}),
    )
    .await
    .expect(201);
    let c3 = sale_id("c3");
    app.post(
        &format!("/v1/sales/{c3}/refunds"),
        &clerk,
        &json!({"amount": usd("30.00")}),
    )
    .await
    .expect(201);
    app.post("/v1/value/model/fit", &app.token(Role::Admin), &json!({}))
        .await
        .expect(201);

    // customer → (frequency, recency, T, monetary value), in weeks.
    let want: BTreeMap<&str, (u64, f64, f64, &str)> = [
        ("single", (0, 0.0, 8.0, "0.00")),
        ("same_day", (1, 2.0, 8.0, "40.00")),
        ("refunds", (1, 3.0, 8.0, "50.00")),
        ("on_as_of", (1, 8.0, 8.0, "70.00")),
    ]
    .into_iter()
    .collect();
    for (name, (f, r, big_t, m)) in &want {
        let id = customer_id(name);
        let v = app
            .get(&format!("/v1/customers/{id}/value"), &clerk)
            .await
            .expect(200);
        let s = &v["statistics"];
        assert_eq!(s["frequency"].as_u64(), Some(*f), "{name}: {v}");
        assert!(
            (s["recency"].as_f64().unwrap() - r).abs() < 1e-12,
            "{name}: {v}"
        );
        assert!(
            (s["T"].as_f64().unwrap() - big_t).abs() < 1e-12,
            "{name}: {v}"
        );
        assert_eq!(s["monetary_value"], usd(m), "{name}: {v}");
        assert_eq!(s["first_purchase_on"], d(56), "{name}");
        // Before the first purchase: no history, no number.
        let p = app
            .get(&format!("/v1/customers/{id}/value?as_of={}", d(57)), &clerk)
            .await
            .problem(422, "not_enough_history");
        assert!(p["detail"].as_str().unwrap().contains("no purchase"), "{p}");
    }
    // The database's aggregates (what a fit reads) agree with the per-customer
    // path on every customer.
    let mut conn = app.pool.get().unwrap();
    let usd_c = goodwill::domain::money::Currency::from_code("USD").unwrap();
    let mut sql: Vec<_> = goodwill::store::sales::summaries(&mut conn, app.tenant, usd_c, t)
        .unwrap()
        .into_iter()
        .map(|r| {
            // A float (it can exceed 64-bit integers); exact for these sums.
            assert_eq!(r.repeat_total.fract(), 0.0);
            (r.frequency, r.first_day, r.last_day, r.repeat_total as i64)
        })
        .collect();
    let ids: Vec<goodwill::domain::ids::CustomerId> = customers["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().parse().unwrap())
        .collect();
    let all = goodwill::store::sales::day_totals(&mut conn, app.tenant, &ids, t).unwrap();
    let mut rust: Vec<_> = all
        .into_values()
        .filter_map(|days| {
            let mut by_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
            for (d, n) in days {
                *by_day.entry(d).or_default() += n;
            }
            let kept: Vec<(NaiveDate, i64)> = by_day.into_iter().filter(|(_, n)| *n > 0).collect();
            let (first, last) = (kept.first()?.0, kept.last()?.0);
            Some((
                (kept.len() - 1) as i64,
                first,
                last,
                kept[1..].iter().map(|(_, n)| n).sum::<i64>(),
            ))
        })
        .collect();
    sql.sort();
    rust.sort();
    assert_eq!(sql, rust);
    assert!(sql.len() >= 64);
}
both!(statistics_follow_the_convention);

async fn value_model_errors_are_clear(app: TestApp) {
    let fin = app.token(Role::Finance);
    app.get("/v1/value/model", &fin)
        .await
        .problem(404, "not_found");
    app.post("/v1/value/model/fit", &fin, &json!({}))
        .await
        .problem(422, "not_enough_history");
    app.store("E1", "USD").await;
    let (status, _, err) = import(
        &app,
        &format!("{HEADER}x,2026-01-01,1.00,USD,E1,e1\ny,2026-01-01,1.00,USD,E1,e2\n"),
        &["--create-customers"],
    );
    assert_eq!(status, 0, "{err}");
    let p = app
        .post("/v1/value/model/fit", &fin, &json!({}))
        .await
        .problem(422, "not_enough_history");
    assert!(p["detail"].as_str().unwrap().contains("too few"), "{p}");
    app.post("/v1/value/model/fit", &fin, &json!({"as_of": "2999-01-01"}))
        .await
        .names_field("as_of");
    app.post(
        "/v1/value/model/fit",
        &fin,
        &json!({"time_unit": "fortnights"}),
    )
    .await
    .names_field("time_unit");
    app.post("/v1/value/model/fit", &app.token(Role::Manager), &json!({}))
        .await
        .problem(403, "role_forbidden");
    let x = app.customer("no-sales").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get(&format!("/v1/customers/{x}/value"), &fin)
        .await
        .problem(422, "not_enough_history");
    let y = app.get("/v1/customers?limit=100", &fin).await.expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["external_ref"] == "x")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get(&format!("/v1/customers/{y}/value"), &fin)
        .await
        .problem(409, "no_value_model");
    app.get(&format!("/v1/customers/{y}/value?horizon_months=0"), &fin)
        .await
        .names_field("horizon_months");
    app.get(
        &format!("/v1/customers/{y}/value?monthly_discount_rate=1e-2"),
        &fin,
    )
    .await
    .names_field("monthly_discount_rate");
}
both!(value_model_errors_are_clear);

/// CDNOW's first 60 customers as sales (T and recency in whole days), one
/// purchase of 10.00 to start and the customer's mean value on each repeat
/// day.
fn cdnow_first_60_csv(code: &str) -> String {
    let mut csv = String::from(HEADER);
    let t = today();
    for (i, line) in include_str!("../fixtures/cdnow_first_60.csv")
        .lines()
        .skip(1)
        .enumerate()
    {
        let f: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        let (x, recency, big_t, m) = (
            f[0] as i64,
            (f[1] * 7.0).round() as i64,
            (f[2] * 7.0).round() as i64,
            f[3],
        );
        let first = t - TimeDelta::days(big_t);
        csv.push_str(&format!("C-{i},{first},10.00,USD,{code},C{i}-0\n"));
        for k in 1..=x {
            let day = first + TimeDelta::days(recency * k / x);
            csv.push_str(&format!("C-{i},{day},{m:.2},USD,{code},C{i}-{k}\n"));
        }
    }
    csv
}

/// A fit whose parameters run off (CDNOW's first 60 customers drive BG/NBD's
/// a and b to zero) is kept as a version with `usable: false` and the
/// reason, never becomes the current model, and value reads say
/// `model_unusable` with it, until a usable version is fitted.
async fn a_runaway_fit_is_kept_but_never_used(app: TestApp) {
    let fin = app.token(Role::Finance);
    app.store("CD", "USD").await;
    let (status, _, err) = import(&app, &cdnow_first_60_csv("CD"), &["--create-customers"]);
    assert_eq!(status, 0, "{err}");
    let v = app
        .post("/v1/value/model/fit", &fin, &json!({}))
        .await
        .expect(201);
    assert_eq!(v["usable"], false, "{v}");
    let why = v["unusable_reason"].as_str().unwrap();
    assert!(why.contains("ran off towards zero"), "{why}");
    assert!(v["bgnbd"]["log_likelihood"].as_f64().unwrap() < 0.0, "{v}");
    assert_eq!(v["penalizer"], 0.001, "the default penalty: {v}");
    let p = app
        .get("/v1/value/model", &fin)
        .await
        .problem(409, "model_unusable");
    assert!(p["detail"].as_str().unwrap().contains("ran off"), "{p}");
    let customers = app.get("/v1/customers?limit=100", &fin).await.expect(200)["data"]
        .as_array()
        .unwrap()
        .clone();
    let c6 = customers
        .iter()
        .find(|c| c["external_ref"] == "C-5")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = app
        .get(&format!("/v1/customers/{c6}/value"), &fin)
        .await
        .problem(409, "model_unusable");
    assert!(p["detail"].as_str().unwrap().contains("version 1"), "{p}");
    let listed = app.get("/v1/value/model/versions", &fin).await.expect(200);
    assert_eq!(listed["data"][0]["usable"], false, "{listed}");
    // More customers with repeat purchases determine the model: the next fit
    // is usable and becomes current; the unusable one stays on record.
    let v2 = fitted(&app, "PP", "").await;
    assert_eq!(v2["usable"], true, "{v2}");
    assert_eq!(v2["unusable_reason"], Value::Null);
    let current = app.get("/v1/value/model", &fin).await.expect(200);
    assert_eq!(current["version"], 2, "{current}");
    app.get(&format!("/v1/customers/{c6}/value"), &fin)
        .await
        .expect(200);
    let listed = app.get("/v1/value/model/versions", &fin).await.expect(200);
    assert_eq!(listed["data"][0]["usable"], false, "{listed}");
}
both!(a_runaway_fit_is_kept_but_never_used);

/// S2: a couple with a rich purchase history has a lifetime value; a 500.00
/// recovery for them shows its share of that value and whether the policy's
/// ceiling (a quarter of it over a year) holds.
async fn s2_recovery_against_lifetime_value(app: TestApp) {
    let t = today();
    let mut couple = String::new();
    for k in 0..40 {
        let day = t - TimeDelta::days(720 - k * 18);
        couple.push_str(&format!(
            "couple,{day},{}.00,USD,TV,tv-{k}\n",
            180 + (k * 37) % 140
        ));
    }
    let model = fitted(&app, "TV", &couple).await;
    assert_eq!(model["version"], 1);
    assert_eq!(model["bgnbd"]["converged"], true, "{model}");
    assert_eq!(model["gamma_gamma"]["converged"], true, "{model}");
    let versions = app
        .get("/v1/value/model/versions", &app.token(Role::Clerk))
        .await
        .expect(200);
    assert_eq!(versions["data"][0]["id"], model["id"]);
    assert_eq!(
        app.get("/v1/value/model/versions/1", &app.token(Role::Clerk))
            .await
            .expect(200)["id"],
        model["id"]
    );

    let fin = app.token(Role::Finance);
    let customers = app.get("/v1/customers?limit=100", &fin).await.expect(200);
    let id = customers["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["external_ref"] == "couple")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = app
        .get(&format!("/v1/customers/{id}/value"), &fin)
        .await
        .expect(200);
    let ltv: f64 = v["lifetime_value"]["amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(ltv > 1000.0, "thousands: {v}");
    assert!(v["probability_alive"].as_f64().unwrap() > 0.5, "{v}");
    assert_eq!(v["goodwill_ceiling"], Value::Null);
    assert_eq!(v["model_version"], 1);

    // The owner's policy: goodwill over a year at most a quarter of value.
    let admin = app.token(Role::Admin);
    let mut policy = app.get("/v1/policy", &admin).await.expect(200)["policy"].clone();
    policy["budgets"] = json!([{"name": "quarter_of_value", "scope": "customer", "window_days": 365,
        "percent_of_lifetime_value": "25"}]);
    app.put_policy_in_force(&policy).await;

    let store = app.get("/v1/stores", &admin).await.expect(200)["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let manager = app.token_for(app.tenant, "mgr-tv", Role::Manager, None);
    let g = app
        .send_to(
            &app.address,
            actix_web::http::Method::POST,
            &format!("/v1/customers/{id}/gestures"),
            Some(&manager),
            Some("s2-recovery"),
            Some((
                "application/json",
                json!({"kind": "service_recovery", "store_id": store,
                "reason_code": "staff_error", "story": "Recreated the birthday evening",
                "amount": usd("500.00")})
                .to_string()
                .into_bytes(),
            )),
        )
        .await
        .expect(201);
    assert_eq!(g["status"], "pending_approval");
    let budget = &g["decision"]["budgets"][0];
    assert_eq!(budget["percent_of_lifetime_value"], "25");
    assert_eq!(budget["lifetime_value"], v["lifetime_value"]);
    let ceiling = (ltv * 0.25 * 100.0).floor() / 100.0;
    assert_eq!(budget["limit"]["amount"], format!("{ceiling:.2}"));
    assert_eq!(budget["exceeded"], 500.0 > ceiling);

    let queue = app.get("/v1/approvals", &fin).await.expect(200);
    let item = queue["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["gesture"]["id"] == g["id"])
        .unwrap();
    let value = &item["customer"]["value"];
    assert_eq!(value["lifetime_value"], v["lifetime_value"]);
    let share = value["share_of_lifetime_value"].as_f64().unwrap();
    assert!((share - 500.0 / ltv).abs() < 1e-9, "{value}");
    assert_eq!(value["within_ceiling"], 500.0 <= ceiling, "{value}");
    assert_eq!(value["goodwill_ceiling"]["used"], usd("500.00"));
    let v = app
        .get(&format!("/v1/customers/{id}/value"), &fin)
        .await
        .expect(200);
    assert_eq!(v["goodwill_ceiling"]["used"], usd("500.00"));
    assert_eq!(
        v["goodwill_ceiling"]["ceiling"]["amount"],
        format!("{ceiling:.2}")
    );
}
both!(s2_recovery_against_lifetime_value);
