//! Finance: every write-off reaches review; who may review it; flagged items
//! keep both reviews; batches are all or nothing.

use actix_web::http::Method;
use goodwill::domain::roles::Role;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::python_csv;
use crate::helpers::{Resp, TestApp};

fn usd(a: &str) -> Value {
    json!({"amount": a, "currency": "USD"})
}

async fn send(app: &TestApp, path: &str, token: &str, body: &Value) -> Resp {
    app.send_to(
        &app.address,
        Method::POST,
        path,
        Some(token),
        Some(&uuid::Uuid::now_v7().to_string()),
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn unreviewed(app: &TestApp) -> Vec<Value> {
    app.get(
        "/v1/finance/write-offs?status=unreviewed&limit=100",
        &app.token(Role::Auditor),
    )
    .await
    .expect(200)["data"]
        .as_array()
        .unwrap()
        .clone()
}

/// S2: the 250.00 balance and the 500.00 evening, both for one incident. The
/// waiver is the one write-off; neither its requester nor its approver may
/// review it, another finance user does.
async fn s2_write_off_reaches_review(app: TestApp) {
    let store = app.store("S2", "USD").await;
    let admin = app.token(Role::Admin);
    let clerk = app.token_for(app.tenant, "pat", Role::Clerk, None);
    let manager = app.token_for(app.tenant, "mia", Role::Manager, Some(vec![store]));
    let c = app.customer("S2-C").await;
    let cid = id(&c);
    let due = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(30)).to_string();
    let balance = send(
        &app,
        &format!("/v1/customers/{cid}/gestures"),
        &manager,
        &json!({"kind": "deferred_payment", "store_id": store, "reason_code": "loyalty",
            "story": "Deposit paid on the TV; 250 remains", "amount": usd("250.00"), "due_on": due}),
    )
    .await
    .expect(201);
    let at_fault = app
        .post(
            "/v1/staff",
            &admin,
            &json!({"name": "Eve", "store_ids": [store]}),
        )
        .await
        .expect(201);
    let incident = app
        .post(
            "/v1/incidents",
            &manager,
            &json!({"store_id": store, "cause": "staff_error", "staff_ids": [id(&at_fault)],
                "description": "The birthday display was forgotten"}),
        )
        .await
        .expect(201);
    let waiver = send(
        &app,
        &format!("/v1/customers/{cid}/gestures"),
        &clerk,
        &json!({"kind": "balance_waiver", "store_id": store, "reason_code": "staff_error",
            "story": "We forgot her display", "amount": usd("250.00"),
            "applies_to": [id(&balance)], "incident_id": id(&incident)}),
    )
    .await
    .expect(201);
    assert_eq!(waiver["status"], "pending_approval");
    assert!(
        unreviewed(&app).await.is_empty(),
        "nothing until it takes effect"
    );
    send(
        &app,
        &format!("/v1/gestures/{}/approve", id(&waiver)),
        &manager,
        &json!({"note": "Of course"}),
    )
    .await
    .expect(200);
    let recovery = send(
        &app,
        &format!("/v1/customers/{cid}/gestures"),
        &manager,
        &json!({"kind": "service_recovery", "store_id": store, "reason_code": "staff_error",
            "story": "Recreated the evening", "amount": usd("500.00"), "incident_id": id(&incident)}),
    )
    .await
    .expect(201);
    let fin1 = app.token_for(app.tenant, "fin-1", Role::Finance, None);
    send(
        &app,
        &format!("/v1/gestures/{}/approve", id(&recovery)),
        &fin1,
        &json!({}),
    )
    .await
    .expect(200);

    let items = unreviewed(&app).await;
    assert_eq!(items.len(), 1, "the waiver is the one write-off: {items:?}");
    let item = &items[0];
    assert_eq!(item["id"], waiver["id"]);
    assert_eq!(item["amount"], usd("250.00"));
    assert_eq!(item["reason_code"], "staff_error");
    assert_eq!(item["story"], "We forgot her display");
    assert_eq!(item["requested_by"], "pat");
    assert_eq!(item["approved_by"], "mia");
    assert_eq!(item["decision_rule"], "above_self_grant_limit");
    assert_eq!(item["customer"]["promises_written_off"], 1);
    assert_eq!(item["customer"]["value"], Value::Null);
    // Named as finance knows them, not only by id.
    assert_eq!(item["customer"]["name"], "Customer S2-C");
    assert_eq!(item["customer"]["external_ref"], "S2-C");
    assert_eq!(
        item["store"],
        json!({"id": store, "code": "S2", "name": "Store S2"})
    );
    assert_eq!(item["customer"]["promises_waived"], 1);
    assert_eq!(item["customer"]["promises_broken"], 0);
    assert_eq!(item["reviews"], json!([]));

    let wid = id(item);
    let app = &app;
    let review = |who: &str| {
        let token = app.token_for(app.tenant, who, Role::Finance, None);
        let path = format!("/v1/finance/write-offs/{wid}/review");
        async move { send(app, &path, &token, &json!({"outcome": "reviewed"})).await }
    };
    review("pat").await.problem(403, "reviewer_is_requester");
    review("mia").await.problem(403, "reviewer_is_approver");
    let done = review("fin-2").await.expect(200);
    assert_eq!(done["status"], "reviewed");
    assert_eq!(done["reviews"][0]["reviewer"], "fin-2");
    review("fin-3").await.problem(409, "already_reviewed");
    assert!(unreviewed(app).await.is_empty());
    let audit = app
        .get(
            &format!("/v1/audit?entity_type=write_off&entity_id={wid}"),
            &app.token(Role::Auditor),
        )
        .await
        .expect(200);
    assert_eq!(audit["data"][0]["action"], "writeoff.reviewed");

    // The month's report: 250.00 written off and 500.00 of service recovery
    // under staff_error; the journal balances per currency.
    let fin = app.token(Role::Finance);
    let report = app
        .get(
            "/v1/finance/reports/goodwill?group_by=reason_code,kind",
            &fin,
        )
        .await
        .expect(200);
    let row = |kind: &str| {
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["group"]["reason_code"] == "staff_error" && r["group"]["kind"] == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no staff_error {kind}: {report}"))
    };
    assert_eq!(row("balance_waiver")["written_off"], usd("250.00"));
    assert_eq!(row("service_recovery")["value"], usd("500.00"));
    assert_eq!(row("service_recovery")["net_cost"]["amount"], "500.00");
    let period = chrono::Utc::now().date_naive().format("%Y-%m").to_string();
    let csv = app
        .get(
            &format!("/v1/finance/journal?period={period}&format=csv"),
            &fin,
        )
        .await;
    let (_, lines) = python_csv(&csv.body);
    let (d, c) = lines
        .iter()
        .filter(|l| l[6] == "USD")
        .fold((0, 0), |(d, c), l| (d + cents(&l[4]), c + cents(&l[5])));
    assert_eq!(d, c, "the journal balances");
    assert!(
        d >= 100_000,
        "the 250 promise, its waiver and the 500 recovery"
    );
}
both!(s2_write_off_reaches_review);

/// A write-off by the route, self-granted: `n` of them for one customer.
async fn write_offs(app: &TestApp, requester: &str, n: usize) -> Vec<String> {
    let store = app
        .store(&requester.replace('-', "").to_uppercase(), "USD")
        .await;
    let clerk = app.token_for(app.tenant, requester, Role::Clerk, None);
    let c = app.customer(&format!("W-{requester}")).await;
    let due = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(1)).to_string();
    let mut out = Vec::new();
    for i in 0..n {
        let p = send(
            app,
            &format!("/v1/customers/{}/gestures", id(&c)),
            &clerk,
            &json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
                "story": format!("Promise {i}, with a \"quote\", a comma, and\na newline"),
                "amount": usd("3.00"), "due_on": due}),
        )
        .await
        .expect(201);
        let promise = send(
            app,
            &format!("/v1/gestures/{}/write-off", id(&p)),
            &clerk,
            &json!({"reason_code": "goodwill"}),
        )
        .await
        .expect(200);
        assert_eq!(promise["status"], "written_off");
        out.push(id(&p));
    }
    let items = app
        .get(
            "/v1/finance/write-offs?limit=100",
            &app.token(Role::Auditor),
        )
        .await
        .expect(200);
    out.iter()
        .map(|p| {
            id(items["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|w| w["write_off_of"] == p.as_str())
                .unwrap())
        })
        .collect()
}

async fn flagged_items_keep_both_reviews(app: TestApp) {
    let ids = write_offs(&app, "fl-clerk", 1).await;
    let path = format!("/v1/finance/write-offs/{}/review", ids[0]);
    let fin = app.token_for(app.tenant, "fl-fin", Role::Finance, None);
    send(&app, &path, &fin, &json!({"outcome": "flagged"}))
        .await
        .names_field("note");
    send(&app, &path, &fin, &json!({"outcome": "maybe"}))
        .await
        .names_field("outcome");
    let flagged = send(
        &app,
        &path,
        &fin,
        &json!({"outcome": "flagged", "note": "Third write-off this month?"}),
    )
    .await
    .expect(200);
    assert_eq!(flagged["status"], "flagged");
    send(
        &app,
        &path,
        &fin,
        &json!({"outcome": "flagged", "note": "again"}),
    )
    .await
    .problem(409, "already_flagged");
    send(&app, &path, &fin, &json!({"outcome": "reviewed"}))
        .await
        .names_field("note");
    let admin = app.token_for(app.tenant, "fl-admin", Role::Admin, None);
    let resolved = send(
        &app,
        &path,
        &admin,
        &json!({"outcome": "reviewed", "note": "Checked with the store: fine"}),
    )
    .await
    .expect(200);
    assert_eq!(resolved["status"], "reviewed");
    let outcomes: Vec<(&str, &str)> = resolved["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["outcome"].as_str().unwrap(),
                r["reviewer"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(outcomes, [("flagged", "fl-fin"), ("reviewed", "fl-admin")]);
    let flagged_list = app
        .get("/v1/finance/write-offs?status=flagged", &fin)
        .await
        .expect(200);
    assert_eq!(flagged_list["data"], json!([]));
}
both!(flagged_items_keep_both_reviews);

async fn batch_review_is_all_or_nothing(app: TestApp) {
    let mine = write_offs(&app, "bt-fin", 1).await;
    let others = write_offs(&app, "bt-clerk", 2).await;
    // bt-fin requested one of them: the whole batch is refused, nothing written.
    let fin = app.token_for(app.tenant, "bt-fin", Role::Finance, None);
    let before = app.counts();
    let all = json!({"ids": [others[0], mine[0], others[1]], "outcome": "reviewed"});
    let p = send(&app, "/v1/finance/write-offs/review", &fin, &all)
        .await
        .problem(403, "reviewer_is_requester");
    assert!(p["detail"].as_str().unwrap().contains(&mine[0]));
    let unknown = json!({"ids": [others[0], uuid::Uuid::now_v7()], "outcome": "reviewed"});
    send(&app, "/v1/finance/write-offs/review", &fin, &unknown)
        .await
        .names_field("ids[1]");
    let twice = json!({"ids": [others[0], others[0]], "outcome": "reviewed"});
    send(&app, "/v1/finance/write-offs/review", &fin, &twice)
        .await
        .names_field("ids[1]");
    send(
        &app,
        "/v1/finance/write-offs/review",
        &fin,
        &json!({"ids": [], "outcome": "reviewed"}),
    )
    .await
    .names_field("ids");
    let changed: Vec<_> = before
        .iter()
        .zip(app.counts())
        .filter(|(a, b)| **a != *b && a.0 != "idempotency_keys")
        .collect();
    assert!(changed.is_empty(), "nothing written: {changed:?}");
    let other_fin = app.token_for(app.tenant, "bt-other", Role::Finance, None);
    let done = send(&app, "/v1/finance/write-offs/review", &other_fin, &all)
        .await
        .expect(200);
    let statuses: Vec<&str> = done["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["reviewed", "reviewed", "reviewed"]);
    // A second pass: the first item is already reviewed, so nothing changes.
    send(&app, "/v1/finance/write-offs/review", &other_fin, &all)
        .await
        .problem(409, "already_reviewed");
    // Filters are checked.
    app.get("/v1/finance/write-offs?status=done", &fin)
        .await
        .names_field("status");
    app.get("/v1/finance/write-offs?from=yesterday", &fin)
        .await
        .names_field("from");
}
both!(batch_review_is_all_or_nothing);

/// The first day of last month.
fn last_month() -> chrono::NaiveDate {
    let today = chrono::Utc::now().date_naive();
    let first = today - chrono::TimeDelta::days(i64::from(chrono::Datelike::day(&today)) - 1);
    let prev = first - chrono::TimeDelta::days(1);
    prev - chrono::TimeDelta::days(i64::from(chrono::Datelike::day(&prev)) - 1)
}

async fn periods_close_and_reopen(app: TestApp) {
    let store = app.store("PE", "USD").await;
    let c = id(&app.customer("PE-C").await);
    // Gestures are dated into last month: a tenant that existed then, and
    // a back-dating window that reaches it.
    app.allow_back_dating(70).await;
    let month_start = last_month();
    let month = month_start.format("%Y-%m").to_string();
    let clerk = app.token_for(app.tenant, "pe-clerk", Role::Clerk, None);
    let fin = app.token_for(app.tenant, "pe-fin", Role::Finance, None);
    let admin = app.token_for(app.tenant, "pe-admin", Role::Admin, None);
    let in_month = |kind: &str, amount: &str| {
        json!({"kind": kind, "store_id": store, "reason_code": "service_failure",
            "story": "Back-dated", "amount": usd(amount), "effective_on": month_start.to_string()})
    };
    let recovery = send(
        &app,
        &format!("/v1/customers/{c}/gestures"),
        &clerk,
        &in_month("service_recovery", "20.00"),
    )
    .await
    .expect(201);
    let due = chrono::Utc::now().date_naive().to_string();
    let promise = send(
        &app,
        &format!("/v1/customers/{c}/gestures"),
        &clerk,
        &json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
            "story": "s", "amount": usd("5.00"), "due_on": due, "effective_on": month_start.to_string()}),
    )
    .await
    .expect(201);
    let mut waiver = in_month("balance_waiver", "5.00");
    waiver["applies_to"] = json!([id(&promise)]);
    send(
        &app,
        &format!("/v1/customers/{c}/gestures"),
        &clerk,
        &waiver,
    )
    .await
    .expect(201);

    let close = |body: Value, token: String| {
        let path = format!("/v1/finance/periods/{month}/close");
        let app = &app;
        async move { send(app, &path, &token, &body).await }
    };
    close(json!({}), fin.clone())
        .await
        .problem(422, "unreviewed_write_offs");
    close(json!({"force": true}), fin.clone())
        .await
        .names_field("reason");
    let this_month = chrono::Utc::now().date_naive().format("%Y-%m").to_string();
    send(
        &app,
        &format!("/v1/finance/periods/{this_month}/close"),
        &fin,
        &json!({}),
    )
    .await
    .problem(422, "period_not_ended");
    let items = unreviewed(&app).await;
    send(
        &app,
        &format!("/v1/finance/write-offs/{}/review", id(&items[0])),
        &fin,
        &json!({"outcome": "reviewed"}),
    )
    .await
    .expect(200);
    let closed = close(json!({}), fin.clone()).await.expect(200);
    assert_eq!(closed["state"], "closed");
    assert_eq!(closed["closed_by"], "pe-fin");
    assert_eq!(closed["forced"], false);
    let totals = closed["totals"].as_array().unwrap();
    let of = |account: &str| {
        totals
            .iter()
            .find(|t| t["account"] == account)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        of("goodwill_expense:service_recovery"),
        json!({"account": "goodwill_expense:service_recovery", "debit": usd("20.00"), "credit": usd("0.00")})
    );
    assert_eq!(of("writeoff_expense")["debit"], usd("5.00"));
    close(json!({}), fin.clone())
        .await
        .problem(409, "period_already_closed");
    let got = app
        .get(
            &format!("/v1/finance/periods/{month}"),
            &app.token(Role::Auditor),
        )
        .await
        .expect(200);
    assert_eq!(
        (got["state"].as_str(), got["verified"].as_bool()),
        (Some("closed"), Some(true))
    );
    let audit = app
        .get(
            &format!("/v1/audit?entity_type=period&entity_id={month}"),
            &app.token(Role::Auditor),
        )
        .await
        .expect(200);
    assert_eq!(audit["data"][0]["action"], "period.closed");
    assert_eq!(audit["data"][0]["after"]["digest"], closed["digest"]);

    // Nothing takes an effective date in the closed month; nothing is written.
    let before = app.counts();
    send(
        &app,
        &format!("/v1/customers/{c}/gestures"),
        &clerk,
        &in_month("service_recovery", "1.00"),
    )
    .await
    .problem(422, "period_closed");
    let p = send(
        &app,
        &format!("/v1/customers/{c}/gestures"),
        &clerk,
        &json!({"kind": "customer_favour", "store_id": store, "reason_code": "loyalty",
            "story": "Brought us tyres", "effective_on": month_start.to_string()}),
    )
    .await
    .problem(422, "period_closed");
    assert_eq!(p["errors"][0]["field"], "effective_on");
    let changed: Vec<_> = before
        .iter()
        .zip(app.counts())
        .filter(|(a, b)| **a != *b && a.0 != "idempotency_keys")
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
    // A correction lands in the open month and points back.
    let mgr = app.token_for(app.tenant, "pe-mgr", Role::Manager, None);
    send(
        &app,
        &format!("/v1/gestures/{}/reversal", id(&recovery)),
        &mgr,
        &json!({"reason": "entered twice"}),
    )
    .await
    .expect(200);
    let entries = app
        .get(
            &format!("/v1/customers/{c}/entries?limit=100"),
            &app.token(Role::Auditor),
        )
        .await
        .expect(200);
    let reversal: Vec<&Value> = entries["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["transaction_kind"] == "reversal")
        .collect();
    let original = entries["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["gesture_id"] == recovery["id"] && e["transaction_kind"] == "gesture")
        .unwrap()["transaction_id"]
        .clone();
    assert!(reversal.iter().all(|e| e["reverses"] == original));
    assert_eq!(reversal.len(), 2, "{entries}");
    assert_eq!(
        reversal[0]["effective_on"],
        chrono::Utc::now().date_naive().to_string()
    );
    let got = app
        .get(&format!("/v1/finance/periods/{month}"), &fin)
        .await
        .expect(200);
    assert_eq!(got["verified"], true, "the closed month did not move");

    // Reopening: admin only, with a reason, audited.
    let reopen = format!("/v1/finance/periods/{month}/reopen");
    send(&app, &reopen, &fin, &json!({"reason": "late invoice"}))
        .await
        .problem(403, "role_forbidden");
    send(&app, &reopen, &admin, &json!({}))
        .await
        .names_field("reason");
    let open = send(&app, &reopen, &admin, &json!({"reason": "late invoice"}))
        .await
        .expect(200);
    assert_eq!(open["state"], "open");
    assert_eq!(open["reopened_by"], "pe-admin");
    send(&app, &reopen, &admin, &json!({"reason": "again"}))
        .await
        .problem(409, "period_not_closed");
    send(
        &app,
        &format!("/v1/customers/{c}/gestures"),
        &clerk,
        &in_month("service_recovery", "1.00"),
    )
    .await
    .expect(201);
    let list = app.get("/v1/finance/periods", &fin).await.expect(200);
    assert_eq!(list["data"][0]["month"], month.as_str());
    assert_eq!(list["data"][0]["state"], "open");
    app.get("/v1/finance/periods/2026-13", &fin)
        .await
        .problem(404, "not_found");
}
both!(periods_close_and_reopen);

async fn a_changed_closed_month_is_detected(app: TestApp) {
    use diesel::{ExpressionMethods, RunQueryDsl};
    use goodwill::store::schema::{entries, ledger_transactions};
    let store = app.store("TM", "USD").await;
    let c = id(&app.customer("TM-C").await);
    // Gestures are dated into last month: a tenant that existed then, and
    // a back-dating window that reaches it.
    app.allow_back_dating(70).await;
    let month_start = last_month();
    let month = month_start.format("%Y-%m").to_string();
    let clerk = app.token_for(app.tenant, "tm-clerk", Role::Clerk, None);
    send(
        &app,
        &format!("/v1/customers/{c}/gestures"),
        &clerk,
        &json!({"kind": "service_recovery", "store_id": store, "reason_code": "service_failure",
            "story": "s", "amount": usd("9.00"), "effective_on": month_start.to_string()}),
    )
    .await
    .expect(201);
    let fin = app.token(Role::Finance);
    send(
        &app,
        &format!("/v1/finance/periods/{month}/close"),
        &fin,
        &json!({}),
    )
    .await
    .expect(200);
    // Someone with database access slips a transaction into the closed month.
    let mut conn = app.pool.get().unwrap();
    let tx = goodwill::domain::ids::LedgerTxId::new();
    let now = goodwill::clock::Clock::system().now();
    diesel::insert_into(ledger_transactions::table)
        .values((
            ledger_transactions::tenant_id.eq(app.tenant),
            ledger_transactions::id.eq(tx),
            ledger_transactions::kind.eq("gesture"),
            ledger_transactions::effective_on.eq(month_start),
            ledger_transactions::created_at.eq(now),
        ))
        .execute(&mut conn)
        .unwrap();
    for (account, d, cr) in [
        ("writeoff_expense", 100_i64, 0_i64),
        ("cash_clearing:x", 0, 100),
    ] {
        diesel::insert_into(entries::table)
            .values((
                entries::tenant_id.eq(app.tenant),
                entries::id.eq(goodwill::domain::ids::EntryId::new()),
                entries::transaction_id.eq(tx),
                entries::account.eq(account),
                entries::currency.eq("USD"),
                entries::debit_minor.eq(d),
                entries::credit_minor.eq(cr),
                entries::effective_on.eq(month_start),
                entries::created_at.eq(now),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    let got = app
        .get(&format!("/v1/finance/periods/{month}"), &fin)
        .await
        .expect(200);
    assert_eq!(got["verified"], false);
}
both!(a_changed_closed_month_is_detected);

/// Days until due (from today), amount, paid, and the bucket expected on an
/// `as_of` 100 days from today.
const AGING: &[(i64, &str, &str, &str)] = &[
    (0, "10.00", "0.00", "over_90"),
    (9, "20.00", "5.00", "over_90"),
    (10, "30.00", "0.00", "61_90"),
    (39, "40.00", "0.00", "61_90"),
    (40, "50.00", "0.00", "31_60"),
    (70, "60.00", "0.00", "1_30"),
    (99, "70.00", "0.00", "1_30"),
    (100, "80.00", "0.00", "not_yet_due"),
    (130, "90.00", "0.00", "not_yet_due"),
    (5, "15.00", "15.00", "settled"),
];

async fn aging_by_days_past_due(app: TestApp) {
    let store = app.store("AG", "USD").await;
    let other = app.store("AH", "USD").await;
    let admin = app.token_for(app.tenant, "ag-admin", Role::Admin, None);
    let today = chrono::Utc::now().date_naive();
    let as_of = today + chrono::TimeDelta::days(100);
    let mut expected: std::collections::BTreeMap<&str, (i64, i64)> = Default::default();
    for (i, (due_in, amount, paid, want)) in AGING.iter().enumerate() {
        let c = id(&app.customer(&format!("AG-{i}")).await);
        let p = send(
            &app,
            &format!("/v1/customers/{c}/gestures"),
            &admin,
            &json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
                "story": "s", "amount": usd(amount),
                "due_on": (today + chrono::TimeDelta::days(*due_in)).to_string()}),
        )
        .await
        .expect(201);
        if *paid != "0.00" {
            send(
                &app,
                &format!("/v1/gestures/{}/payments", id(&p)),
                &admin,
                &json!({"amount": usd(paid)}),
            )
            .await
            .expect(201);
        }
        let cents = |s: &str| (s.parse::<f64>().unwrap() * 100.0).round() as i64;
        if *want != "settled" {
            let e = expected.entry(want).or_default();
            e.0 += 1;
            e.1 += cents(amount) - cents(paid);
        }
    }
    // One at another store, written off: not open, counted as written off.
    let c = id(&app.customer("AG-W").await);
    let w = send(
        &app,
        &format!("/v1/customers/{c}/gestures"),
        &admin,
        &json!({"kind": "deferred_payment", "store_id": other, "reason_code": "closing_time",
            "story": "s", "amount": usd("9.00"), "due_on": today.to_string()}),
    )
    .await
    .expect(201);
    send(
        &app,
        &format!("/v1/gestures/{}/write-off", id(&w)),
        &admin,
        &json!({"reason_code": "goodwill"}),
    )
    .await
    .expect(200);

    let fin = app.token(Role::Finance);
    let r = app
        .get(&format!("/v1/finance/aging?as_of={as_of}"), &fin)
        .await
        .expect(200);
    assert_eq!(r["as_of"], as_of.to_string());
    assert_eq!(r["stores"].as_array().unwrap().len(), 1, "{r}");
    let row = &r["stores"][0];
    assert_eq!(row["store_id"], store.to_string());
    for name in ["not_yet_due", "1_30", "31_60", "61_90", "over_90"] {
        let (n, minor) = expected.get(name).copied().unwrap_or((0, 0));
        assert_eq!(row["buckets"][name]["count"], n, "{name}");
        assert_eq!(
            row["buckets"][name]["amount"],
            usd(&format!("{}.{:02}", minor / 100, minor % 100)),
            "{name}"
        );
    }
    assert_eq!(row["total"]["count"], 9);
    assert_eq!(row["total"]["amount"], usd("445.00"));
    let k = &r["promise_keeping"];
    assert_eq!(
        (
            k["kept_on_time"].as_i64(),
            k["kept_late"].as_i64(),
            k["written_off"].as_i64()
        ),
        (Some(1), Some(0), Some(1))
    );
    assert_eq!(k["on_time_rate"], 0.5);
    assert_eq!(k["written_off_rate"], 0.5);
    // Today nothing is past due; a store filter narrows.
    let now = app.get("/v1/finance/aging", &fin).await.expect(200);
    assert_eq!(now["stores"][0]["buckets"]["not_yet_due"]["count"], 9);
    let elsewhere = app
        .get(&format!("/v1/finance/aging?store_id={other}"), &fin)
        .await
        .expect(200);
    assert_eq!(elsewhere["stores"], json!([]));
    app.get("/v1/finance/aging?as_of=soon", &fin)
        .await
        .names_field("as_of");
    // A store filter narrows the promise-keeping record too: the other
    // store's one promise was written off, none kept.
    let k = &elsewhere["promise_keeping"];
    assert_eq!(
        (k["kept_on_time"].as_i64(), k["written_off"].as_i64()),
        (Some(0), Some(1)),
        "{elsewhere}"
    );

    // The promises behind a bucket, named: customer and store as people know them.
    let detail = app
        .get(
            &format!("/v1/finance/aging/promises?bucket=31_60&as_of={as_of}"),
            &fin,
        )
        .await
        .expect(200);
    let lines = detail["data"].as_array().unwrap();
    let (n, minor) = expected.get("31_60").copied().unwrap_or((0, 0));
    assert_eq!(lines.len() as i64, n, "{detail}");
    let listed: i64 = lines
        .iter()
        .map(|l| {
            (l["outstanding"]["amount"]
                .as_str()
                .unwrap()
                .parse::<f64>()
                .unwrap()
                * 100.0)
                .round() as i64
        })
        .sum();
    assert_eq!(listed, minor);
    for l in lines {
        assert_eq!(l["bucket"], "31_60");
        assert_eq!(l["store"]["code"], "AG");
        assert_eq!(l["store"]["name"], "Store AG");
        assert!(
            l["customer"]["external_ref"]
                .as_str()
                .unwrap()
                .starts_with("AG-"),
            "{l}"
        );
        assert!(
            l["customer"]["name"]
                .as_str()
                .unwrap()
                .starts_with("Customer AG-"),
            "{l}"
        );
        let d = l["days_overdue"].as_i64().unwrap();
        assert!((31..=60).contains(&d), "{l}");
    }
    let all = app
        .get(
            &format!("/v1/finance/aging/promises?as_of={as_of}&limit=2"),
            &fin,
        )
        .await
        .expect(200);
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    assert_eq!(all["has_more"], true);
    let dues: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["due_on"].as_str().unwrap())
        .collect();
    assert!(dues[0] <= dues[1], "oldest due first: {dues:?}");
    app.get("/v1/finance/aging/promises?bucket=soon", &fin)
        .await
        .names_field("bucket");

    // A manager answers for her store: she sees its aging, its promises and
    // its goodwill report, and nothing of the other store.
    let manager = app.token_for(app.tenant, "ag-manager", Role::Manager, Some(vec![other]));
    let mine = app
        .get(&format!("/v1/finance/aging?as_of={as_of}"), &manager)
        .await
        .expect(200);
    assert_eq!(
        mine["stores"],
        json!([]),
        "her store has nothing open: {mine}"
    );
    assert_eq!(mine["promise_keeping"]["written_off"], 1, "{mine}");
    let p = app
        .get(
            &format!("/v1/finance/aging/promises?as_of={as_of}"),
            &manager,
        )
        .await
        .expect(200);
    assert_eq!(p["data"], json!([]));
    app.get(&format!("/v1/finance/aging?store_id={store}"), &manager)
        .await
        .problem(403, "store_scope");
    app.get(
        &format!("/v1/finance/aging/promises?store_id={store}"),
        &manager,
    )
    .await
    .problem(403, "store_scope");
    let report = app
        .get("/v1/finance/reports/goodwill?group_by=store", &manager)
        .await
        .expect(200);
    let groups: Vec<&str> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["group"]["store"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["AH"], "{report}");
}
both!(aging_by_days_past_due);

/// S4: a customer praises a clerk by name; it reaches management.
async fn s4_recognition_report(app: TestApp) {
    let a = app.store("RA", "USD").await;
    let b = app.store("RB", "USD").await;
    let admin = app.token(Role::Admin);
    let staff = |name: &str, store| {
        let body = json!({"name": name, "store_ids": [store]});
        let app = &app;
        let admin = admin.clone();
        async move { id(&app.post("/v1/staff", &admin, &body).await.expect(201)) }
    };
    let sam = staff("Sam", a).await;
    let ann = staff("Ann", b).await;
    let clerk = app.token(Role::Clerk);
    let praise = |store, who: &str, words: &str, n: usize| {
        let body = json!({"kind": "recognition", "store_id": store, "reason_code": "loyalty",
            "story": words, "staff_ids": [who]});
        let app = &app;
        let clerk = clerk.clone();
        async move {
            let c = id(&app.customer(&format!("S4-{n}")).await);
            send(app, &format!("/v1/customers/{c}/gestures"), &clerk, &body)
                .await
                .expect(201);
        }
    };
    praise(a, &sam, "She greeted me by name, \"every time\"", 1).await;
    praise(a, &sam, "Remembered my order", 2).await;
    praise(b, &ann, "Kind, patient, helpful", 3).await;

    let finance = app
        .get("/v1/reports/recognition", &app.token(Role::Finance))
        .await
        .expect(200);
    let rows = finance["staff"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0]["name"].as_str(), rows[0]["count"].as_i64()),
        (Some("Sam"), Some(2))
    );
    assert_eq!(
        rows[0]["recognitions"][0]["words"],
        "She greeted me by name, \"every time\""
    );
    // Who wrote the praise down is on the record beside it.
    assert_eq!(rows[0]["recognitions"][0]["recorded_by"], "tester");
    assert_eq!(rows[1]["name"], "Ann");
    // Names where people read: the store and the customer.
    assert_eq!(rows[0]["store"]["code"], "RA");
    assert_eq!(rows[0]["store"]["name"], "Store RA");
    assert_eq!(
        rows[0]["recognitions"][0]["customer"]["external_ref"],
        "S4-1"
    );
    assert_eq!(
        rows[0]["recognitions"][0]["customer"]["id"],
        rows[0]["recognitions"][0]["customer_id"]
    );
    // The same report as CSV, one line per praise, read by Python's csv module.
    let csv = app
        .get(
            "/v1/reports/recognition?format=csv",
            &app.token(Role::Finance),
        )
        .await;
    assert_eq!(csv.status, 200);
    let to = app.clock.now().date();
    let from = to - chrono::TimeDelta::days(89);
    assert_eq!(
        csv.header("content-disposition"),
        Some(format!(
            "attachment; filename=\"recognition-{from}-to-{to}.csv\""
        )),
    );
    let (header, lines) = python_csv(&csv.body);
    assert_eq!(
        header[..4],
        ["staff_id", "staff_name", "store_code", "store_name"]
    );
    assert_eq!(lines.len(), 3, "{lines:?}");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(lines[0][col("staff_name")], "Sam");
    assert_eq!(lines[0][col("store_code")], "RA");
    assert_eq!(lines[0][col("customer_external_ref")], "S4-1");
    assert_eq!(
        lines[0][col("words")],
        "She greeted me by name, \"every time\""
    );
    assert_eq!(lines[2][col("staff_name")], "Ann");
    assert_eq!(lines[2][col("count")], "1");
    let manager_a = app.token_for(app.tenant, "mgr-a", Role::Manager, Some(vec![a]));
    let mine = app
        .get("/v1/reports/recognition", &manager_a)
        .await
        .expect(200);
    assert_eq!(mine["staff"].as_array().unwrap().len(), 1);
    assert_eq!(mine["staff"][0]["staff_id"], sam.as_str());
    app.get(&format!("/v1/reports/recognition?store_id={b}"), &manager_a)
        .await
        .problem(403, "store_scope");
    app.get(
        "/v1/reports/recognition?from=2026-02-01&to=2026-01-01",
        &manager_a,
    )
    .await
    .names_field("from");
    let old = app
        .get(
            "/v1/reports/recognition?from=2020-01-01&to=2020-12-31",
            &manager_a,
        )
        .await
        .expect(200);
    assert_eq!(old["staff"], json!([]));
}
both!(s4_recognition_report);

fn cents(s: &str) -> i64 {
    if s.is_empty() {
        return 0;
    }
    let (i, f) = s.split_once('.').unwrap_or((s, "0"));
    i.parse::<i64>().unwrap() * 100 + format!("{f:0<2}")[..2].parse::<i64>().unwrap()
}

async fn journal_export(app: TestApp) {
    let store = app.store("JR", "USD").await;
    let euro = app.store("JE", "EUR").await;
    let admin = app.token(Role::Admin);
    let fin = app.token(Role::Finance);
    let c = id(&app.customer("JR-C").await);
    let story = "Recreated \"the\" evening, with cake,\nballoons and a band";
    for (st, cur, amount) in [(store, "USD", "500.00"), (euro, "EUR", "12.50")] {
        send(
            &app,
            &format!("/v1/customers/{c}/gestures"),
            &admin,
            &json!({"kind": "service_recovery", "store_id": st, "reason_code": "staff_error",
                "story": story, "amount": {"amount": amount, "currency": cur}}),
        )
        .await
        .expect(201);
    }
    let due = chrono::Utc::now().date_naive().to_string();
    let p = send(
        &app,
        &format!("/v1/customers/{c}/gestures"),
        &admin,
        &json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
            "story": "Pay tomorrow", "amount": usd("10.95"), "due_on": due}),
    )
    .await
    .expect(201);
    send(
        &app,
        &format!("/v1/gestures/{}/payments", id(&p)),
        &admin,
        &json!({"amount": usd("10.95")}),
    )
    .await
    .expect(201);
    let map = json!({"mappings": [
        {"account": "receivable:*", "code": "1200", "name": "Customer receivables"},
        {"account": "goodwill_expense:service_recovery", "code": "6420", "name": "Service recovery, \"apologies\""},
        {"account": "cash_clearing:*", "code": "1010", "name": "Cash clearing"}
    ]});
    app.put("/v1/finance/account-map", &fin, &map)
        .await
        .expect(200);
    app.put(
        "/v1/finance/account-map",
        &fin,
        &json!({"mappings": [{"account": "petty_cash", "code": "1", "name": "x"}]}),
    )
    .await
    .names_field("mappings[0].account");
    assert_eq!(
        app.get("/v1/finance/account-map", &app.token(Role::Auditor))
            .await
            .expect(200)["mappings"],
        map["mappings"]
    );

    let period = chrono::Utc::now().date_naive().format("%Y-%m").to_string();
    let r = app
        .get(
            &format!("/v1/finance/journal?period={period}&format=csv"),
            &fin,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let (header, rows) = python_csv(&r.body);
    assert_eq!(
        header,
        [
            "date",
            "transaction_id",
            "account_code",
            "account_name",
            "debit",
            "credit",
            "currency",
            "store",
            "memo",
            "gesture_id",
            "ledger_account",
            "account_label",
            "customer_external_ref"
        ]
    );
    assert_eq!(rows.len(), 8, "{rows:?}");
    // Beside the tenant's codes, the ledger's own account, readable.
    assert!(
        rows.iter().any(|r| r[2] == "1200"
            && r[10] == format!("receivable:{c}")
            && r[11] == "Customer receivable · JR-C"
            && r[12] == "JR-C"),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r[2] == "1010" && r[7] == "JE" && r[11] == "Cash clearing · JE"),
        "{rows:?}"
    );
    assert!(
        rows.iter().all(|r| r[12] == "JR-C"),
        "every line is the customer's"
    );
    assert!(rows.iter().any(|r| r[8] == format!("gesture: {story}")));
    assert!(
        rows.iter()
            .any(|r| r[2] == "6420" && r[3] == "Service recovery, \"apologies\"")
    );
    assert!(rows.iter().any(|r| r[2] == "1200" && r[7] == "JR"));
    assert!(rows.iter().any(|r| r[2] == "1010" && r[7] == "JE"));
    // Balanced per currency, and the same totals as the JSON summary.
    let summary = app
        .get(&format!("/v1/finance/journal?period={period}"), &fin)
        .await
        .expect(200);
    assert_eq!(summary["lines"], 8);
    for cur in summary["currencies"].as_array().unwrap() {
        let code = cur["currency"].as_str().unwrap();
        let (d, c): (i64, i64) = rows
            .iter()
            .filter(|r| r[6] == code)
            .fold((0, 0), |(d, c), r| (d + cents(&r[4]), c + cents(&r[5])));
        assert_eq!(d, c, "{code} balances");
        assert_eq!(d, cents(cur["debit"]["amount"].as_str().unwrap()));
        assert_eq!(cur["balanced"], true);
    }
    // The accounts there are to map, with whose they are and how they export.
    let accounts = app.get("/v1/finance/accounts", &fin).await.expect(200);
    let list = accounts["data"].as_array().unwrap();
    let receivable = list
        .iter()
        .find(|a| a["account"] == format!("receivable:{c}"))
        .expect("the customer's receivable");
    assert_eq!(receivable["kind"], "receivable");
    assert_eq!(receivable["customer"]["external_ref"], "JR-C");
    assert_eq!(receivable["store"], Value::Null);
    assert_eq!(
        (
            receivable["export_code"].as_str(),
            receivable["mapped"].as_str()
        ),
        (Some("1200"), Some("pattern"))
    );
    assert_eq!(
        receivable["sums"],
        json!([{"currency": "USD", "debit": usd("10.95"), "credit": usd("10.95")}])
    );
    let expense = list
        .iter()
        .find(|a| a["account"] == "goodwill_expense:service_recovery")
        .expect("the recovery expense");
    assert_eq!(expense["mapped"], "exact");
    assert_eq!(expense["sums"].as_array().unwrap().len(), 2, "{expense}");
    let cash_je = list
        .iter()
        .find(|a| a["store"]["code"] == "JE")
        .expect("a clearing account of JE");
    assert_eq!(
        cash_je["label"],
        format!(
            "{} · JE",
            cash_je["label"]
                .as_str()
                .unwrap()
                .split(" · ")
                .next()
                .unwrap()
        )
    );
    // One kind, and pages that join up.
    let only = app
        .get("/v1/finance/accounts?kind=receivable", &fin)
        .await
        .expect(200);
    assert!(
        only["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["kind"] == "receivable")
    );
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/v1/finance/accounts?limit=2&starting_after={a}"),
            None => "/v1/finance/accounts?limit=2".to_owned(),
        };
        let page = app.get(&path, &fin).await.expect(200);
        paged.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(&paged, list);
    app.get("/v1/finance/accounts?kind=petty_cash", &fin)
        .await
        .names_field("kind");
    let scoped = app.token_for(app.tenant, "fin-jr", Role::Finance, Some(vec![store]));
    app.get("/v1/finance/accounts", &scoped)
        .await
        .problem(403, "store_scope");

    // Without format=csv (or Accept: text/csv): the JSON summary. Bad queries
    // are named.
    let plain = app
        .get(&format!("/v1/finance/journal?period={period}"), &fin)
        .await;
    assert_eq!(
        plain.header("content-type").as_deref(),
        Some("application/json")
    );
    app.get("/v1/finance/journal", &fin)
        .await
        .names_field("period");
    app.get("/v1/finance/journal?period=2026-1&format=xml", &fin)
        .await
        .names_field("format");

    // Chunks join up: read three lines at a time, the same lines in order.
    let month = goodwill::domain::period::Month::parse(&period).unwrap();
    let mut conn = app.pool.get().unwrap();
    let (all, end) =
        goodwill::store::journal::chunk(&mut conn, app.tenant, month, None, 1000).unwrap();
    assert!(end.is_none());
    let mut joined = Vec::new();
    let mut after = None;
    loop {
        let (part, next) =
            goodwill::store::journal::chunk(&mut conn, app.tenant, month, after, 3).unwrap();
        joined.extend(part);
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let key =
        |l: &goodwill::store::journal::Line| (l.transaction_id, l.account.clone(), l.debit_minor);
    assert_eq!(
        joined.iter().map(key).collect::<Vec<_>>(),
        all.iter().map(key).collect::<Vec<_>>()
    );
}
both!(journal_export);

/// S2 in the month's goodwill report, a free service, and a bad-debt recovery:
/// JSON and CSV agree.
async fn goodwill_report(app: TestApp) {
    let store = app.store("GR", "USD").await;
    let admin = app.token(Role::Admin);
    let manager = app.token_for(app.tenant, "mia", Role::Manager, None);
    let odd = app.token_for(app.tenant, "pat, \"the clerk\"", Role::Clerk, None);
    let c = id(&app.customer("GR-C").await);
    let due = chrono::Utc::now().date_naive().to_string();
    let app = &app;
    let c = &c;
    let gesture = |token: String, body: Value| async move {
        send(app, &format!("/v1/customers/{c}/gestures"), &token, &body)
            .await
            .expect(201)
    };
    let incident = app
        .post(
            "/v1/incidents",
            &admin,
            &json!({"store_id": store, "cause": "staff_error", "description": "Display forgotten"}),
        )
        .await
        .expect(201);
    let balance = gesture(
        manager.clone(),
        json!({"kind": "deferred_payment", "store_id": store, "reason_code": "loyalty",
            "story": "250 remains", "amount": usd("250.00"), "due_on": due}),
    )
    .await;
    let waiver = gesture(
        odd.clone(),
        json!({"kind": "balance_waiver", "store_id": store, "reason_code": "staff_error",
            "story": "We forgot", "amount": usd("250.00"), "applies_to": [id(&balance)],
            "incident_id": id(&incident)}),
    )
    .await;
    send(
        app,
        &format!("/v1/gestures/{}/approve", id(&waiver)),
        &manager,
        &json!({}),
    )
    .await
    .expect(200);
    let recovery = gesture(
        manager.clone(),
        json!({"kind": "service_recovery", "store_id": store, "reason_code": "staff_error",
            "story": "The evening", "amount": usd("500.00"), "incident_id": id(&incident)}),
    )
    .await;
    send(
        app,
        &format!("/v1/gestures/{}/approve", id(&recovery)),
        &app.token_for(app.tenant, "fin-x", Role::Finance, None),
        &json!({}),
    )
    .await
    .expect(200);
    gesture(
        admin.clone(),
        json!({"kind": "free_service", "store_id": store, "reason_code": "goodwill",
            "story": "The windshield", "retail_value": usd("400.00"), "cost": usd("120.00")}),
    )
    .await;
    // 40.00 of the written-off balance is paid after all.
    send(
        app,
        &format!("/v1/gestures/{}/payments", id(&balance)),
        &admin,
        &json!({"amount": usd("40.00")}),
    )
    .await
    .expect(201);

    let fin = app.token(Role::Finance);
    let r = app
        .get(
            "/v1/finance/reports/goodwill?group_by=reason_code,requester",
            &fin,
        )
        .await
        .expect(200);
    let rows = r["rows"].as_array().unwrap();
    let find = |reason: &str, requester: &str| {
        rows.iter()
            .find(|x| x["group"]["reason_code"] == reason && x["group"]["requester"] == requester)
            .cloned()
            .unwrap_or_else(|| panic!("no row {reason} {requester}: {r}"))
    };
    let w = find("staff_error", "pat, \"the clerk\"");
    assert_eq!(w["written_off"], usd("250.00"));
    assert_eq!(w["count"], 1);
    let sr = find("staff_error", "mia");
    assert_eq!(sr["value"], usd("500.00"));
    assert_eq!(
        sr["net_cost"],
        json!({"amount": "500.00", "currency": "USD"})
    );
    let fs = find("goodwill", "tester");
    assert_eq!(
        (
            fs["free_service_retail_value"].clone(),
            fs["free_service_cost"].clone()
        ),
        (usd("400.00"), usd("120.00"))
    );
    let loyalty = find("loyalty", "mia");
    assert_eq!(loyalty["recovered"], usd("40.00"));
    assert_eq!(loyalty["net_cost"]["amount"], "-40.00");
    // "Pay us tomorrow" is credit extended, not goodwill given: the 250.00
    // promise is its own column, and goodwill is the waiver, the evening
    // and the windshield at retail value.
    assert_eq!(loyalty["credit_extended"], usd("250.00"));
    assert_eq!(loyalty["value"], usd("0.00"));
    let totals = &r["totals"][0];
    assert_eq!(totals["credit_extended"], usd("250.00"));
    assert_eq!(totals["value"], usd("1150.00"));
    assert_eq!(totals["written_off"], usd("250.00"));
    assert_eq!(totals["recovered"], usd("40.00"));
    assert_eq!(totals["net_cost"]["amount"], "830.00");
    let by_cause = app
        .get("/v1/finance/reports/goodwill?group_by=incident_cause", &fin)
        .await
        .expect(200);
    let staff_error = by_cause["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["group"]["incident_cause"] == "staff_error")
        .unwrap()
        .clone();
    assert_eq!(staff_error["written_off"], usd("250.00"));
    assert_eq!(staff_error["value"], usd("750.00"));

    // The CSV, read by Python's csv module, says the same.
    let csv = app
        .get(
            "/v1/finance/reports/goodwill?group_by=reason_code,requester&format=csv",
            &fin,
        )
        .await;
    assert_eq!(csv.status, 200);
    let today = app.clock.now().date();
    let first = today.format("%Y-%m-01");
    assert_eq!(
        csv.header("content-disposition"),
        Some(format!(
            "attachment; filename=\"goodwill-{first}-to-{today}.csv\""
        )),
    );
    let (header, lines) = python_csv(&csv.body);
    assert_eq!(
        header,
        [
            "reason_code",
            "requester",
            "currency",
            "count",
            "value",
            "credit_extended",
            "free_service_retail_value",
            "free_service_cost",
            "written_off",
            "recovered",
            "net_cost"
        ]
    );
    // The groups, then the total.
    assert_eq!(lines.len(), rows.len() + 1);
    for (line, row) in lines.iter().zip(rows) {
        assert_eq!(line[0], row["group"]["reason_code"].as_str().unwrap());
        assert_eq!(line[1], row["group"]["requester"].as_str().unwrap());
        assert_eq!(line[3], row["count"].to_string());
        assert_eq!(line[4], row["value"]["amount"].as_str().unwrap());
        assert_eq!(line[5], row["credit_extended"]["amount"].as_str().unwrap());
        assert_eq!(line[10], row["net_cost"]["amount"].as_str().unwrap());
    }
    let total = lines.last().unwrap();
    assert_eq!(
        (
            total[0].as_str(),
            total[1].as_str(),
            total[4].as_str(),
            total[5].as_str(),
            total[10].as_str()
        ),
        ("total", "", "1150.00", "250.00", "830.00")
    );
    app.get("/v1/finance/reports/goodwill?group_by=colour", &fin)
        .await
        .names_field("group_by");
    app.get(
        "/v1/finance/reports/goodwill?from=2020-01-01&to=2026-01-01",
        &fin,
    )
    .await
    .names_field("from");
}
both!(goodwill_report);

/// `goodwill dev seed` writes history the ledger check finds clean, and the
/// goodwill report counts all of it.
async fn seeded_history_is_consistent(app: TestApp) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_goodwill"))
        .args([
            "dev",
            "seed",
            "--tenant",
            &app.tenant.to_string(),
            "--gestures",
            "1200",
            "--months",
            "6",
            "--stores",
            "3",
            "--database-url",
            &app.database_url,
        ])
        .env("GOODWILL_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1200");
    let check = app
        .get("/v1/ledger/check", &app.token(Role::Auditor))
        .await
        .expect(200);
    assert_eq!(check["clean"], true, "{check}");
    let today = chrono::Utc::now().date_naive();
    let r = app
        .get(
            &format!(
                "/v1/finance/reports/goodwill?from={}&to={today}&group_by=kind",
                today - chrono::TimeDelta::days(200)
            ),
            &app.token(Role::Finance),
        )
        .await
        .expect(200);
    assert_eq!(r["totals"][0]["count"], 1200);
    let kinds = r["rows"].as_array().unwrap().len();
    assert!(kinds >= 5, "every common kind is seeded: {r}");
    let aging = app
        .get("/v1/finance/aging", &app.token(Role::Finance))
        .await
        .expect(200);
    assert!(aging["stores"].as_array().unwrap().len() <= 3);
}
both!(seeded_history_is_consistent);

/// Minor units of a money object's amount ("12.25" → 1225).
fn minor(m: &Value) -> i128 {
    m["amount"]
        .as_str()
        .unwrap()
        .replace('.', "")
        .parse()
        .unwrap()
}

/// The report's rows rolled up to the groupings in `keep`: per group and
/// currency, the count and every figure in minor units.
fn rolled(report: &Value, keep: &[&str]) -> std::collections::BTreeMap<String, Vec<i128>> {
    let mut out: std::collections::BTreeMap<String, Vec<i128>> = Default::default();
    for r in report["rows"].as_array().unwrap() {
        let key: Vec<String> = keep
            .iter()
            .map(|k| format!("{k}={}", r["group"][*k]))
            .collect();
        let e = out
            .entry(format!("{} {}", key.join(" "), r["currency"]))
            .or_insert_with(|| vec![0; 8]);
        let figures = [
            i128::from(r["count"].as_i64().unwrap()),
            minor(&r["value"]),
            minor(&r["credit_extended"]),
            minor(&r["free_service_retail_value"]),
            minor(&r["free_service_cost"]),
            minor(&r["written_off"]),
            minor(&r["recovered"]),
            minor(&r["net_cost"]),
        ];
        for (x, f) in e.iter_mut().zip(figures) {
            *x += f;
        }
    }
    out.retain(|_, v| v[0] != 0 || v.iter().any(|x| *x != 0));
    out
}

async fn kept_totals_answer_as_the_gestures_do(app: TestApp) {
    // Whole months of the report and the aging come from totals kept as
    // gestures change; groupings the totals do not hold (two of reason,
    // incident, requester, approver) read the gestures themselves. Rolled up,
    // both must say the same, over ranges with and without partial months.
    let out = app.cli(&[
        "dev",
        "seed",
        "--tenant",
        &app.tenant.to_string(),
        "--gestures",
        "1500",
        "--months",
        "8",
        "--stores",
        "3",
    ]);
    assert_eq!(out.trim(), "1500");
    let fin = app.token(Role::Finance);
    let today = chrono::Utc::now().date_naive();
    let month_start = |back: u32| {
        use chrono::Datelike;
        today
            .with_day(1)
            .unwrap()
            .checked_sub_months(chrono::Months::new(back))
            .unwrap()
    };
    let ranges = [
        (today - chrono::TimeDelta::days(200), today),
        (month_start(6), month_start(0) - chrono::TimeDelta::days(1)),
        (month_start(5) + chrono::TimeDelta::days(9), month_start(2)),
        (today - chrono::TimeDelta::days(20), today),
    ];
    let pairs: [(&str, &str); 5] = [
        ("store,kind,month", "store,kind,month,reason_code,requester"),
        ("reason_code", "reason_code,requester"),
        ("incident_cause", "incident_cause,approver"),
        ("requester,store", "requester,store,reason_code"),
        ("approver,month", "approver,month,incident_cause"),
    ];
    let mut compared = 0;
    for (from, to) in ranges {
        for (kept, scanned) in pairs {
            let get = |by: &str| {
                format!("/v1/finance/reports/goodwill?from={from}&to={to}&group_by={by}")
            };
            let k = app.get(&get(kept), &fin).await.expect(200);
            let s = app.get(&get(scanned), &fin).await.expect(200);
            let keys: Vec<&str> = kept.split(',').collect();
            let (k, s) = (rolled(&k, &keys), rolled(&s, &keys));
            assert!(
                !k.is_empty() || from > to,
                "{from}..{to} by {kept} is empty"
            );
            assert_eq!(k, s, "{from}..{to}: by {kept} against by {scanned}");
            compared += k.len();
        }
    }
    assert!(compared > 100, "only {compared} groups compared");

    // The aging's buckets against its own open promises, listed one by one
    // from the gestures; today and on a day in the past (promises given since
    // are taken out).
    for as_of in [today, today - chrono::TimeDelta::days(40)] {
        let aging = app
            .get(&format!("/v1/finance/aging?as_of={as_of}"), &fin)
            .await
            .expect(200);
        let lines = app
            .get(
                &format!("/v1/finance/aging/promises?as_of={as_of}&limit=1000"),
                &fin,
            )
            .await
            .expect(200);
        assert_eq!(lines["has_more"], false, "{as_of}: more than 1000 open");
        let mut want: std::collections::BTreeMap<String, (i64, i128)> = Default::default();
        for l in lines["data"].as_array().unwrap() {
            let e = want
                .entry(format!(
                    "{} {} {}",
                    l["store"]["id"].as_str().unwrap(),
                    l["outstanding"]["currency"].as_str().unwrap(),
                    l["bucket"].as_str().unwrap()
                ))
                .or_default();
            e.0 += 1;
            e.1 += minor(&l["outstanding"]);
        }
        let mut have: std::collections::BTreeMap<String, (i64, i128)> = Default::default();
        for s in aging["stores"].as_array().unwrap() {
            for (b, x) in s["buckets"].as_object().unwrap() {
                if x["count"].as_i64().unwrap() > 0 {
                    have.insert(
                        format!(
                            "{} {} {b}",
                            s["store_id"].as_str().unwrap(),
                            s["currency"].as_str().unwrap()
                        ),
                        (x["count"].as_i64().unwrap(), minor(&x["amount"])),
                    );
                }
            }
        }
        assert!(!want.is_empty(), "{as_of}: no open promises seeded");
        assert_eq!(have, want, "aging on {as_of}");
    }
}
both!(kept_totals_answer_as_the_gestures_do);

async fn the_ledger_check_names_a_kept_total_that_drifted(app: TestApp) {
    // The totals finance reads are kept by the database as gestures change;
    // the ledger check adds the gestures up again and names any that differ.
    let store = app.store("KT", "USD").await;
    let c = app.customer("C-KEPT").await;
    let mgr = app.token_for(app.tenant, "mgr-kt", Role::Manager, Some(vec![store]));
    let due = (app.clock.now().date() + chrono::Duration::days(3)).to_string();
    let body = json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
        "story": "pay tomorrow", "amount": {"amount": "20.00", "currency": "USD"}, "due_on": due});
    let r = app
        .send_to(
            &app.address,
            Method::POST,
            &format!("/v1/customers/{}/gestures", c["id"].as_str().unwrap()),
            Some(&mgr),
            Some("kept-1"),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await;
    r.expect(201);
    let audit = app.token(Role::Auditor);
    let check = app.get("/v1/ledger/check", &audit).await.expect(200);
    assert_eq!(check["clean"], true, "{check}");
    for (sql, names) in [
        (
            "UPDATE report_totals SET value_minor = value_minor + 1 WHERE dim = 'requester'",
            "report_totals",
        ),
        (
            "UPDATE open_promise_totals SET owed_minor = owed_minor - 500",
            "open_promise_totals",
        ),
    ] {
        let mut conn = app.pool.get().unwrap();
        diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut *conn).unwrap();
        drop(conn);
        let check = app.get("/v1/ledger/check", &audit).await.expect(200);
        assert_eq!(check["clean"], false, "{sql}: {check}");
        let found: Vec<&Value> = check["discrepancies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["check"] == "kept_total_mismatch")
            .collect();
        assert_eq!(found.len(), 1, "{sql}: {check}");
        assert!(
            found[0]["subject"].as_str().unwrap().starts_with(names),
            "{check}"
        );
        let mut conn = app.pool.get().unwrap();
        let undo = sql.replace("+ 1", "- 1").replace("- 500", "+ 500");
        diesel::RunQueryDsl::execute(diesel::sql_query(undo), &mut *conn).unwrap();
    }
    let check = app.get("/v1/ledger/check", &audit).await.expect(200);
    assert_eq!(check["clean"], true, "{check}");
}
both!(the_ledger_check_names_a_kept_total_that_drifted);
