//! After a gesture takes effect: payments, recoveries, write-offs, reversals,
//! redemptions, expiry, and their races.

use actix_web::http::Method;
use goodwill::domain::roles::Role;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, Resp, TestApp};

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

fn usd(a: &str) -> Value {
    json!({"amount": a, "currency": "USD"})
}

async fn post_key(app: &TestApp, address: &str, token: &str, path: &str, body: &Value) -> Resp {
    let key = uuid::Uuid::now_v7().to_string();
    app.send_to(
        address,
        Method::POST,
        path,
        Some(token),
        Some(&key),
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

struct W {
    store: String,
    clerk: String,
    manager: String,
    admin: String,
    customer: String,
}

async fn w(app: &TestApp, ext: &str) -> W {
    let store = app.store("L", "USD").await;
    let c = app.customer(ext).await;
    W {
        store: store.to_string(),
        clerk: app.token_for(app.tenant, "clerk-1", Role::Clerk, Some(vec![store])),
        manager: app.token_for(app.tenant, "manager-1", Role::Manager, Some(vec![store])),
        admin: app.token_for(app.tenant, "admin-1", Role::Admin, None),
        customer: c["id"].as_str().unwrap().to_owned(),
    }
}

async fn promise(app: &TestApp, w: &W, token: &str, amount: &str, due: i64) -> Value {
    post_key(app, &app.address, token, &format!("/v1/customers/{}/gestures", w.customer), &json!({"kind": "deferred_payment",
        "store_id": w.store, "reason_code": "closing_time", "story": "pay tomorrow", "amount": usd(amount), "due_on": day(due)}))
    .await
    .expect(201)
}

async fn pay(app: &TestApp, token: &str, gesture: &Value, amount: &str) -> Resp {
    post_key(
        app,
        &app.address,
        token,
        &format!("/v1/gestures/{}/payments", gesture["id"].as_str().unwrap()),
        &json!({"amount": usd(amount)}),
    )
    .await
}

async fn get_g(app: &TestApp, g: &Value) -> Value {
    app.get(
        &format!("/v1/gestures/{}", g["id"].as_str().unwrap()),
        &app.token(Role::Auditor),
    )
    .await
    .expect(200)
}

async fn summary(app: &TestApp, w: &W) -> Value {
    app.get(
        &format!("/v1/customers/{}/summary", w.customer),
        &app.token(Role::Pos),
    )
    .await
    .expect(200)
}

async fn clean(app: &TestApp) {
    let r = app
        .get("/v1/ledger/check", &app.token(Role::Auditor))
        .await
        .expect(200);
    assert_eq!(r, json!({"clean": true, "discrepancies": []}));
}

/// S1, to the end: the parent comes back and pays.
async fn s1_promise_kept(app: TestApp) {
    let w = w(&app, "PARENT").await;
    let p = promise(&app, &w, &w.clerk, "10.95", 1).await;
    let paid = pay(&app, &w.clerk, &p, "10.95").await.expect(201);
    assert_eq!(
        (
            paid["amount"].clone(),
            paid["status"].clone(),
            paid["bad_debt_recovery"].clone()
        ),
        (usd("10.95"), json!("posted"), json!(false))
    );
    let g = get_g(&app, &p).await;
    assert_eq!(
        (
            g["status"].as_str(),
            g["outstanding"].clone(),
            g["paid"].clone()
        ),
        (Some("settled"), usd("0.00"), usd("10.95"))
    );
    let s = summary(&app, &w).await;
    assert_eq!(s["balances"][0]["owed"], usd("0.00"));
    assert_eq!(
        s["promises"],
        json!({"open": 0, "kept_on_time": 1, "kept_late": 0, "written_off": 0, "waived": 0, "broken": 0})
    );
    let ev = app
        .get(
            &format!("/v1/audit?entity_id={}", p["id"].as_str().unwrap()),
            &w.admin,
        )
        .await
        .expect(200);
    let actions: Vec<&str> = ev["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["gesture.requested", "gesture.paid"]);
    assert_eq!(ev["data"][1]["after"]["status"], "settled");
    let t = app
        .get(&format!("/v1/customers/{}/timeline", w.customer), &w.clerk)
        .await
        .expect(200);
    let kinds: Vec<&str> = t["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["payment", "gesture"]);
    assert_eq!(t["data"][0]["payment"], paid);
    let d = get_g(&app, &p).await;
    assert_eq!(d["payments"], json!([paid]));
    let kinds: Vec<&str> = d["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["transaction_kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["gesture", "gesture", "payment", "payment"]);
    clean(&app).await;
}
both!(s1_promise_kept);

async fn payment_rules(app: TestApp) {
    let w = w(&app, "PAYER").await;
    let p = promise(&app, &w, &w.clerk, "10.95", 1).await;
    pay(&app, &w.clerk, &p, "5.00").await.expect(201);
    let r = pay(&app, &w.clerk, &p, "6.00").await;
    let prob = r.problem(422, "overpayment");
    assert!(
        prob["detail"].as_str().unwrap().contains("5.95 USD"),
        "{prob}"
    );
    let before = app.counts();
    for (body, field) in [
        (
            json!({"amount": {"amount": "10.955", "currency": "USD"}}),
            "amount.amount",
        ),
        (
            json!({"amount": {"amount": 1, "currency": "USD"}}),
            "amount.amount",
        ),
        (
            json!({"amount": {"amount": "0.00", "currency": "USD"}}),
            "amount.amount",
        ),
        (
            json!({"amount": {"amount": "1.00", "currency": "EUR"}}),
            "amount.currency",
        ),
        (json!({"amount": usd("1.00"), "extra": true}), "extra"),
    ] {
        post_key(
            &app,
            &app.address,
            &w.clerk,
            &format!("/v1/gestures/{}/payments", p["id"].as_str().unwrap()),
            &body,
        )
        .await
        .names_field(field);
    }
    app.post(
        &format!("/v1/gestures/{}/payments", p["id"].as_str().unwrap()),
        &w.clerk,
        &json!({"amount": usd("1.00")}),
    )
    .await
    .problem(400, "idempotency_key_required");
    let pending = promise(&app, &w, &w.clerk, "30.00", 1).await;
    assert_eq!(pending["status"], "pending_approval");
    pay(&app, &w.clerk, &pending, "1.00")
        .await
        .problem(422, "not_payable");
    let recovery = post_key(
        &app,
        &app.address,
        &w.admin,
        &format!("/v1/customers/{}/gestures", w.customer),
        &json!({"kind": "service_recovery",
        "store_id": w.store, "reason_code": "delay", "story": "s", "amount": usd("3.00")}),
    )
    .await
    .expect(201);
    pay(&app, &w.clerk, &recovery, "1.00")
        .await
        .problem(422, "not_a_deferred_payment");
    pay(&app, &w.clerk, &json!({"id": uuid::Uuid::now_v7()}), "1.00")
        .await
        .problem(404, "not_found");
    let after = app.counts();
    let changed: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a != b && a.0 != "idempotency_keys")
        .collect();
    assert!(
        changed.iter().all(|((t, _), _)| [
            "gestures",
            "audit_events",
            "audit_chains",
            "ledger_transactions",
            "entries",
            "balances",
            "customer_ledger_totals",
            "events",
            "report_totals"
        ]
        .contains(&t.as_str())),
        "only the pending promise and the recovery were recorded: {changed:?}"
    );
    pay(&app, &w.clerk, &p, "5.95").await.expect(201);
    assert_eq!(get_g(&app, &p).await["status"], "settled");
    pay(&app, &w.clerk, &p, "0.01")
        .await
        .problem(422, "not_payable");
    // A settled promise cannot be written off, nor reversed.
    let id = p["id"].as_str().unwrap();
    post_key(
        &app,
        &app.address,
        &w.clerk,
        &format!("/v1/gestures/{id}/write-off"),
        &json!({"reason_code": "unpaid_promise"}),
    )
    .await
    .problem(422, "not_open");
    post_key(
        &app,
        &app.address,
        &w.manager,
        &format!("/v1/gestures/{id}/reversal"),
        &json!({"reason": "x"}),
    )
    .await
    .problem(422, "not_reversible");
    clean(&app).await;
}
both!(payment_rules);

/// A payment taken while the till was offline carries the day it was paid:
/// the promise is kept on time by that day, the payment posts on it, and it
/// shows both that day and when the server recorded it. Not in the future,
/// not before the promise, not beyond the back-dating window.
async fn an_offline_payment_keeps_its_day(app: TestApp) {
    let w = w(&app, "OFF-1").await;
    let t0 = app.clock.now().date();
    let on = |d: i64| (t0 + chrono::TimeDelta::days(d)).to_string();
    let g = promise(&app, &w, &w.manager, "30.00", 2).await;
    // The till comes back online four days later, two days past the due day.
    app.clock.advance(chrono::TimeDelta::days(4));
    let path = format!("/v1/gestures/{}/payments", g["id"].as_str().unwrap());
    // Refusals are remembered under their idempotency keys, nothing else.
    let counts = || {
        let mut c = app.counts();
        c.retain(|(t, _)| t != "idempotency_keys");
        c
    };
    let before = counts();
    for (paid_on, why) in [
        (on(5), "future"),
        (on(-1), "before the deferred payment was made"),
        ("2026-13-01".to_owned(), "a date"),
    ] {
        let p = post_key(
            &app,
            &app.address,
            &w.clerk,
            &path,
            &json!({"amount": usd("30.00"), "paid_on": paid_on}),
        )
        .await
        .names_field("paid_on");
        assert!(p.to_string().contains(why) || why == "a date", "{why}: {p}");
    }
    assert_eq!(counts(), before, "refused payments change nothing");
    let p = post_key(
        &app,
        &app.address,
        &w.clerk,
        &path,
        &json!({"amount": usd("30.00"), "paid_on": on(1)}),
    )
    .await
    .expect(201);
    assert_eq!(p["paid_on"], on(1));
    assert!(p["created_at"].as_str().unwrap().starts_with(&on(4)), "{p}");
    assert_eq!(get_g(&app, &g).await["status"], "settled");
    let s = summary(&app, &w).await;
    assert_eq!(s["promises"]["kept_on_time"], 1, "paid by its due day: {s}");
    assert_eq!(s["promises"]["kept_late"], 0);
    // Posted on the day it was paid.
    let period = (t0 + chrono::TimeDelta::days(1))
        .format("%Y-%m")
        .to_string();
    let csv = app
        .get(
            &format!("/v1/finance/journal?period={period}&format=csv"),
            &app.token(Role::Finance),
        )
        .await;
    let tx = p["transaction_id"].as_str().unwrap();
    let body = String::from_utf8(csv.body).unwrap();
    let lines: Vec<&str> = body.lines().filter(|l| l.contains(tx)).collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert!(
        lines
            .iter()
            .all(|l| l.trim_start_matches('"').starts_with(&on(1))),
        "{lines:?}"
    );
    // Beyond the policy's back-dating window (7 days): refused.
    let g2 = promise(&app, &w, &w.manager, "10.00", 20).await;
    app.clock.advance(chrono::TimeDelta::days(9));
    let path2 = format!("/v1/gestures/{}/payments", g2["id"].as_str().unwrap());
    post_key(
        &app,
        &app.address,
        &w.clerk,
        &path2,
        &json!({"amount": usd("10.00"), "paid_on": on(4)}),
    )
    .await
    .names_field("paid_on");
    app.ledger_clean().await;
}
both!(an_offline_payment_keeps_its_day);

async fn write_off_and_recovery(app: TestApp) {
    let w = w(&app, "WO").await;
    let p = promise(&app, &w, &w.clerk, "20.00", 1).await;
    pay(&app, &w.clerk, &p, "4.00").await.expect(201);
    let path = format!("/v1/gestures/{}/write-off", p["id"].as_str().unwrap());
    let r = post_key(
        &app,
        &app.address,
        &w.clerk,
        &path,
        &json!({"reason_code": "unpaid_promise", "note": "Moved away"}),
    )
    .await
    .expect(200);
    assert_eq!(
        (r["status"].as_str(), r["outstanding"].clone()),
        (Some("written_off"), usd("0.00"))
    );
    let s = summary(&app, &w).await;
    assert_eq!(
        (
            s["balances"][0]["owed"].clone(),
            s["balances"][0]["written_off"].clone()
        ),
        (usd("0.00"), usd("16.00"))
    );
    let waivers = app
        .get(
            &format!(
                "/v1/gestures?customer_id={}&kind=balance_waiver",
                w.customer
            ),
            &w.admin,
        )
        .await
        .expect(200);
    assert_eq!(waivers["data"][0]["write_off_of"], p["id"]);
    assert_eq!(waivers["data"][0]["amount"], usd("16.00"));
    post_key(
        &app,
        &app.address,
        &w.clerk,
        &path,
        &json!({"reason_code": "unpaid_promise"}),
    )
    .await
    .problem(422, "not_open");
    // They pay after all: a bad-debt recovery, at most what was written off.
    pay(&app, &w.clerk, &p, "16.01")
        .await
        .problem(422, "overpayment");
    let rec = pay(&app, &w.clerk, &p, "10.00").await.expect(201);
    assert_eq!(rec["bad_debt_recovery"], true);
    assert_eq!(get_g(&app, &p).await["status"], "written_off");
    // A write-off above the requester's limit waits; the promise stays open.
    let big = promise(&app, &w, &w.admin, "100.00", 1).await;
    let r = post_key(
        &app,
        &app.address,
        &w.clerk,
        &format!("/v1/gestures/{}/write-off", big["id"].as_str().unwrap()),
        &json!({"reason_code": "unpaid_promise"}),
    )
    .await
    .expect(200);
    assert_eq!(r["status"], "approved");
    let pending = app
        .get(
            &format!(
                "/v1/gestures?customer_id={}&kind=balance_waiver&status=pending_approval",
                w.customer
            ),
            &w.admin,
        )
        .await
        .expect(200);
    assert_eq!(pending["data"][0]["write_off_of"], big["id"]);
    clean(&app).await;
}
both!(write_off_and_recovery);

async fn reversals(app: TestApp) {
    let w = w(&app, "REV").await;
    let rec = post_key(
        &app,
        &app.address,
        &w.manager,
        &format!("/v1/customers/{}/gestures", w.customer),
        &json!({"kind": "service_recovery",
        "store_id": w.store, "reason_code": "delay", "story": "s", "amount": usd("40.00")}),
    )
    .await
    .expect(201);
    let path = format!("/v1/gestures/{}/reversal", rec["id"].as_str().unwrap());
    let r = post_key(
        &app,
        &app.address,
        &w.manager,
        &path,
        &json!({"reason": "duplicate entry"}),
    )
    .await
    .expect(200);
    assert_eq!(r["status"], "reversed");
    assert_eq!(
        summary(&app, &w).await["goodwill_received"],
        json!([{"kind": "service_recovery", "amount": usd("0.00")}])
    );
    post_key(
        &app,
        &app.address,
        &w.manager,
        &path,
        &json!({"reason": "again"}),
    )
    .await
    .problem(409, "already_reversed");
    post_key(&app, &app.address, &w.clerk, &path, &json!({"reason": "x"}))
        .await
        .problem(403, "role_forbidden");
    // A waiver reversed restores what was owed, and reopens the promise.
    let p = promise(&app, &w, &w.manager, "50.00", 1).await;
    let waiver = post_key(
        &app,
        &app.address,
        &w.manager,
        &format!("/v1/customers/{}/gestures", w.customer),
        &json!({"kind": "balance_waiver",
        "store_id": w.store, "reason_code": "goodwill", "story": "s", "amount": usd("50.00")}),
    )
    .await
    .expect(201);
    assert_eq!(get_g(&app, &p).await["status"], "written_off");
    post_key(
        &app,
        &app.address,
        &w.manager,
        &format!("/v1/gestures/{}/reversal", waiver["id"].as_str().unwrap()),
        &json!({"reason": "wrong customer"}),
    )
    .await
    .expect(200);
    let g = get_g(&app, &p).await;
    assert_eq!(
        (g["status"].as_str(), g["outstanding"].clone()),
        (Some("approved"), usd("50.00"))
    );
    let s = summary(&app, &w).await;
    assert_eq!(
        (
            s["balances"][0]["owed"].clone(),
            s["balances"][0]["written_off"].clone()
        ),
        (usd("50.00"), usd("0.00"))
    );
    assert_eq!(s["promises"]["written_off"], 0);
    // A bounced cheque: the payment reversed, the promise owes again.
    let payment = pay(&app, &w.clerk, &p, "50.00").await.expect(201);
    assert_eq!(get_g(&app, &p).await["status"], "settled");
    let ppath = format!("/v1/payments/{}/reversal", payment["id"].as_str().unwrap());
    let r = post_key(
        &app,
        &app.address,
        &w.manager,
        &ppath,
        &json!({"reason": "cheque bounced"}),
    )
    .await
    .expect(200);
    assert_eq!(
        (r["status"].as_str(), r["reversal_reason"].as_str()),
        (Some("reversed"), Some("cheque bounced"))
    );
    assert_eq!(get_g(&app, &p).await["status"], "approved");
    assert_eq!(summary(&app, &w).await["balances"][0]["owed"], usd("50.00"));
    post_key(
        &app,
        &app.address,
        &w.manager,
        &ppath,
        &json!({"reason": "again"}),
    )
    .await
    .problem(409, "already_reversed");
    // The promise itself reversed: nothing is owed, and it takes no payment.
    post_key(
        &app,
        &app.address,
        &w.manager,
        &format!("/v1/gestures/{}/reversal", p["id"].as_str().unwrap()),
        &json!({"reason": "goods returned"}),
    )
    .await
    .expect(200);
    assert_eq!(summary(&app, &w).await["balances"][0]["owed"], usd("0.00"));
    pay(&app, &w.clerk, &p, "1.00")
        .await
        .problem(422, "not_payable");
    // A pending gesture cannot be reversed.
    let pending = promise(&app, &w, &w.clerk, "99.00", 1).await;
    post_key(
        &app,
        &app.address,
        &w.manager,
        &format!("/v1/gestures/{}/reversal", pending["id"].as_str().unwrap()),
        &json!({"reason": "x"}),
    )
    .await
    .problem(422, "not_reversible");
    // A recognition reversed takes its count back.
    let staff = app
        .post(
            "/v1/staff",
            &w.admin,
            &json!({"name": "Ann", "store_ids": [w.store]}),
        )
        .await
        .expect(201);
    let rg = app
        .post(
            &format!("/v1/customers/{}/gestures", w.customer),
            &w.clerk,
            &json!({"kind": "recognition", "store_id": w.store,
        "reason_code": "praise", "story": "s", "staff_ids": [staff["id"]]}),
        )
        .await
        .expect(201);
    assert_eq!(summary(&app, &w).await["recognitions"], 1);
    post_key(
        &app,
        &app.address,
        &w.manager,
        &format!("/v1/gestures/{}/reversal", rg["id"].as_str().unwrap()),
        &json!({"reason": "wrong clerk"}),
    )
    .await
    .expect(200);
    assert_eq!(summary(&app, &w).await["recognitions"], 0);
    clean(&app).await;
}
both!(reversals);

async fn credit(app: &TestApp, w: &W, amount: &str, expires: Option<i64>) -> Value {
    let mut body = json!({"kind": "store_credit", "store_id": w.store, "reason_code": "delay", "story": "s", "amount": usd(amount)});
    if let Some(e) = expires {
        body["expires_on"] = json!(day(e));
    }
    post_key(
        app,
        &app.address,
        &w.admin,
        &format!("/v1/customers/{}/gestures", w.customer),
        &body,
    )
    .await
    .expect(201)
}

async fn redeem(app: &TestApp, address: &str, w: &W, amount: &str) -> Resp {
    post_key(
        app,
        address,
        &w.clerk,
        &format!("/v1/customers/{}/credit/redemptions", w.customer),
        &json!({"amount": usd(amount), "store_id": w.store}),
    )
    .await
}

async fn redemptions_and_expiry(app: TestApp) {
    let w = w(&app, "CREDIT").await;
    let never = credit(&app, &w, "3.00", None).await;
    let late = credit(&app, &w, "10.00", Some(30)).await;
    let soon = credit(&app, &w, "5.00", Some(10)).await;
    let r = redeem(&app, &app.address, &w, "7.00").await.expect(201);
    assert_eq!(
        r["lots"],
        json!([{"gesture_id": soon["id"], "amount": usd("5.00")}, {"gesture_id": late["id"], "amount": usd("2.00")}])
    );
    let p = redeem(&app, &app.address, &w, "11.01")
        .await
        .problem(422, "insufficient_credit");
    assert!(p["detail"].as_str().unwrap().contains("11.00"), "{p}");
    assert_eq!(
        summary(&app, &w).await["balances"][0]["store_credit_available"],
        usd("11.00")
    );
    // The lots behind it, the first to expire first: the till tells the
    // customer what to use soon.
    let lots = &summary(&app, &w).await["balances"][0]["store_credit_lots"];
    assert_eq!(
        lots,
        &json!([
            {"gesture_id": late["id"], "store_id": w.store, "remaining": usd("8.00"), "expires_on": day(30)},
            {"gesture_id": never["id"], "store_id": w.store, "remaining": usd("3.00"), "expires_on": null},
        ]),
        "{lots}"
    );
    // Credit past its date is not spendable, and `credit expire` books it.
    {
        let mut conn = app.pool.get().unwrap();
        let sql = format!(
            "UPDATE gestures SET expires_on = '{}' WHERE id = '{}'",
            day(-1),
            late["id"].as_str().unwrap()
        );
        diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut *conn).unwrap();
    }
    assert_eq!(
        summary(&app, &w).await["balances"][0]["store_credit_available"],
        usd("3.00")
    );
    redeem(&app, &app.address, &w, "3.01")
        .await
        .problem(422, "insufficient_credit");
    assert_eq!(app.cli(&["credit", "expire"]), "1");
    assert_eq!(app.cli(&["credit", "expire"]), "0", "idempotent");
    let g = get_g(&app, &late).await;
    assert_eq!(g["credit_remaining"], usd("0.00"));
    let ev = app
        .get(
            &format!(
                "/v1/audit?entity_id={}&action=credit.expired",
                late["id"].as_str().unwrap()
            ),
            &w.admin,
        )
        .await
        .expect(200);
    assert_eq!(ev["data"].as_array().unwrap().len(), 1);
    redeem(&app, &app.address, &w, "3.00").await.expect(201);
    assert_eq!(get_g(&app, &never).await["credit_remaining"], usd("0.00"));
    clean(&app).await;
}
both!(redemptions_and_expiry);

async fn races_never_overpay_or_overdraw(app: TestApp, second: String) {
    let w = w(&app, "RACE").await;
    let p = promise(&app, &w, &w.clerk, "10.95", 1).await;
    let path = format!("/v1/gestures/{}/payments", p["id"].as_str().unwrap());
    let addresses = [app.address.clone(), second.clone()];
    let results = futures_util::future::join_all((0..50).map(|i| {
        let address = addresses[i % 2].clone();
        let path = path.clone();
        let app = &app;
        let token = w.clerk.clone();
        async move {
            post_key(
                app,
                &address,
                &token,
                &path,
                &json!({"amount": usd("1.00")}),
            )
            .await
        }
    }))
    .await;
    let ok = results.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        ok,
        10,
        "statuses: {:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in results.iter().filter(|r| r.status != 201) {
        r.problem(422, "overpayment");
    }
    assert_eq!(get_g(&app, &p).await["outstanding"], usd("0.95"));

    credit(&app, &w, "10.00", Some(30)).await;
    let results = futures_util::future::join_all((0..50).map(|i| {
        let address = addresses[i % 2].clone();
        let app = &app;
        let w = &w;
        async move { redeem(app, &address, w, "1.00").await }
    }))
    .await;
    assert_eq!(results.iter().filter(|r| r.status == 201).count(), 10);
    for r in results.iter().filter(|r| r.status != 201) {
        r.problem(422, "insufficient_credit");
    }
    assert_eq!(
        summary(&app, &w).await["balances"][0]["store_credit_available"],
        usd("0.00")
    );
    clean(&app).await;
}

#[actix_web::test]
async fn races_on_postgres_through_two_instances() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let second = app.second_instance().await;
    races_never_overpay_or_overdraw(app, second).await;
}

#[actix_web::test]
async fn races_on_sqlite() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let same = app.address.clone();
    races_never_overpay_or_overdraw(app, same).await;
}

async fn overdue_is_derived_from_the_date(app: TestApp) {
    let w = w(&app, "LATE").await;
    let p = promise(&app, &w, &w.clerk, "12.00", 1).await;
    {
        let mut conn = app.pool.get().unwrap();
        let sql = format!(
            "UPDATE gestures SET due_on = '{}' WHERE id = '{}'",
            day(-3),
            p["id"].as_str().unwrap()
        );
        diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut *conn).unwrap();
    }
    // Nothing ran, yet it is overdue.
    assert_eq!(get_g(&app, &p).await["overdue"], true);
    assert_eq!(
        summary(&app, &w).await["balances"][0]["overdue"],
        usd("12.00")
    );
    let list = app
        .get("/v1/gestures?overdue=true", &w.clerk)
        .await
        .expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    pay(&app, &w.clerk, &p, "12.00").await.expect(201);
    let s = summary(&app, &w).await;
    assert_eq!(s["balances"][0]["overdue"], usd("0.00"));
    assert_eq!(s["promises"]["kept_late"], 1);
    clean(&app).await;
}
both!(overdue_is_derived_from_the_date);

async fn a_reversal_racing_payments_stays_consistent(app: TestApp) {
    let w = w(&app, "RR").await;
    let p = promise(&app, &w, &w.clerk, "10.00", 1).await;
    let id = p["id"].as_str().unwrap().to_owned();
    let pays = (0..10).map(|_| pay(&app, &w.clerk, &p, "1.00"));
    let (rpath, rbody) = (
        format!("/v1/gestures/{id}/reversal"),
        json!({"reason": "race"}),
    );
    let reversal = post_key(&app, &app.address, &w.manager, &rpath, &rbody);
    let (paid, reversed) =
        futures_util::future::join(futures_util::future::join_all(pays), reversal).await;
    let ok = paid.iter().filter(|r| r.status == 201).count();
    for r in paid.iter().filter(|r| r.status != 201) {
        r.problem(422, "not_payable");
    }
    let g = get_g(&app, &p).await;
    // Either order is consistent: the reversal came first (later payments are
    // refused) or every payment did (the settled promise cannot be reversed).
    if reversed.status == 200 {
        assert_eq!(g["status"], "reversed");
    } else {
        reversed.problem(422, "not_reversible");
        assert_eq!((g["status"].as_str(), ok), (Some("settled"), 10));
    }
    assert_eq!(g["paid"], usd(&format!("{ok}.00")));
    assert_eq!(summary(&app, &w).await["balances"][0]["owed"], usd("0.00"));
    clean(&app).await;
}
both!(a_reversal_racing_payments_stays_consistent);

/// `goodwill promises overdue` (real time) notes a paper IOU entered late and
/// already past its due day, once: `gesture.overdue` in the audit trail and
/// the feed; a second run notes nothing.
async fn the_command_line_notes_overdue_promises_once(app: TestApp) {
    app.age_tenant(10);
    let w = w(&app, "OVERDUE-CLI").await;
    let iou = post_key(
        &app,
        &app.address,
        &w.manager,
        &format!("/v1/customers/{}/gestures", w.customer),
        &json!({"kind": "deferred_payment", "store_id": w.store, "reason_code": "closing_time",
            "story": "Paper IOU from last week", "amount": usd("20.00"),
            "effective_on": day(-5), "due_on": day(-2)}),
    )
    .await
    .expect(201);
    assert_eq!(iou["overdue"], true);
    let tenant = app.tenant.to_string();
    let run = || app.cli(&["promises", "overdue", "--tenant", &tenant]);
    assert_eq!(run(), "1");
    assert_eq!(run(), "0", "once per promise");
    let trail = app
        .get(
            "/v1/audit?action=gesture.overdue",
            &app.token(Role::Auditor),
        )
        .await
        .expect(200);
    let events = trail["data"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{trail}");
    assert_eq!(events[0]["entity_id"], iou["id"]);
    app.ledger_clean().await;
}
both!(the_command_line_notes_overdue_promises_once);
