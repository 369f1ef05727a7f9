//! What a point-of-sale needs at the counter: naming the customer by its own
//! reference, so a till needs no lookup first.

use actix_web::http::Method;
use goodwill::domain::roles::Role;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Resp, TestApp};

fn usd(a: &str) -> Value {
    json!({"amount": a, "currency": "USD"})
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(offset)).to_string()
}

/// `s` percent-encoded as one path segment (every byte but unreserved ones).
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Rows per table, but the stored idempotency answers (a refusal is kept
/// with its key, as any answer is).
fn written(app: &TestApp) -> Vec<(String, i64)> {
    app.counts()
        .into_iter()
        .filter(|(t, _)| t != "idempotency_keys")
        .collect()
}

/// The customer's store credit available (in their one currency).
async fn available(app: &TestApp, token: &str, customer: &str) -> Value {
    let s = app
        .get(&format!("/v1/customers/{customer}/summary"), token)
        .await
        .expect(200);
    s["balances"][0]["store_credit_available"].clone()
}

async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> Resp {
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

/// A till names the customer by its loyalty card: a gesture, the summary, a
/// payment of the one open promise (or of the one it names), a redemption —
/// and a reference that is also a route word, or holds a slash, a space and
/// an accent in either Unicode form, is still only a reference.
async fn a_till_names_the_customer_by_its_reference(app: TestApp) {
    let store = app.store("POS", "USD").await;
    let till = app.token_for(app.tenant, "till-1", Role::Pos, Some(vec![store]));
    let card = "CARD 12/34 é";
    let c = app
        .post(
            "/v1/customers",
            &till,
            &json!({"external_ref": card, "name": "Ann Lee"}),
        )
        .await
        .expect(201);
    let by_ref = format!("/v1/customers/by-ref/{}", segment(card));
    // The decomposed "é" (e + combining acute) names the same customer.
    let decomposed = format!("/v1/customers/by-ref/{}", segment("CARD 12/34 e\u{301}"));
    assert_eq!(app.get(&by_ref, &till).await.expect(200), c);
    assert_eq!(app.get(&decomposed, &till).await.expect(200)["id"], c["id"]);

    let promise = post(
        &app,
        &till,
        &format!("{by_ref}/gestures"),
        &json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
            "story": "Tills sealed", "amount": usd("10.00"), "due_on": day(1)}),
    )
    .await
    .expect(201);
    assert_eq!(promise["customer_id"], c["id"]);
    let summary = app
        .get(&format!("{by_ref}/summary"), &till)
        .await
        .expect(200);
    assert_eq!(
        summary,
        app.get(
            &format!("/v1/customers/{}/summary", c["id"].as_str().unwrap()),
            &till
        )
        .await
        .expect(200)
    );
    assert_eq!(summary["balances"][0]["owed"], usd("10.00"), "{summary}");

    // One open promise: the payment needs no gesture id.
    let paid = post(
        &app,
        &till,
        &format!("{by_ref}/payments"),
        &json!({"amount": usd("4.00")}),
    )
    .await
    .expect(201);
    assert_eq!(paid["gesture_id"], promise["id"]);

    // Two open promises: it must be named, and nothing changes until it is.
    let second = post(
        &app,
        &till,
        &format!("{by_ref}/gestures"),
        &json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
            "story": "Again", "amount": usd("3.00"), "due_on": day(2)}),
    )
    .await
    .expect(201);
    let before = written(&app);
    let p = post(
        &app,
        &till,
        &format!("{by_ref}/payments"),
        &json!({"amount": usd("1.00")}),
    )
    .await
    .problem(422, "promise_ambiguous");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains(promise["id"].as_str().unwrap())
            && detail.contains(second["id"].as_str().unwrap()),
        "{p}"
    );
    assert_eq!(written(&app), before, "a refused payment writes nothing");
    let named = post(
        &app,
        &till,
        &format!("{by_ref}/payments"),
        &json!({"amount": usd("3.00"), "gesture_id": second["id"]}),
    )
    .await
    .expect(201);
    assert_eq!(named["gesture_id"], second["id"]);
    // Another customer's promise is not this customer's to pay.
    let other = app.customer("POS-OTHER").await;
    let theirs = post(
        &app,
        &till,
        &format!("/v1/customers/{}/gestures", other["id"].as_str().unwrap()),
        &json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
            "story": "Theirs", "amount": usd("2.00"), "due_on": day(1)}),
    )
    .await
    .expect(201);
    post(
        &app,
        &till,
        &format!("{by_ref}/payments"),
        &json!({"amount": usd("1.00"), "gesture_id": theirs["id"]}),
    )
    .await
    .names_field("gesture_id");
    // Nothing open in a currency: not payable.
    post(
        &app,
        &till,
        &format!("{by_ref}/payments"),
        &json!({"amount": {"amount": "1.00", "currency": "EUR"}}),
    )
    .await
    .problem(422, "not_payable");

    // Store credit, spent by reference.
    post(
        &app,
        &till,
        &format!("{by_ref}/gestures"),
        &json!({"kind": "store_credit", "store_id": store, "reason_code": "delay",
            "story": "Late order", "amount": usd("5.00")}),
    )
    .await
    .expect(201);
    let spent = post(
        &app,
        &till,
        &format!("{by_ref}/credit/redemptions"),
        &json!({"amount": usd("2.00"), "store_id": store}),
    )
    .await
    .expect(201);
    assert_eq!(spent["customer_id"], c["id"]);

    // A reference that is a route word is a reference.
    let word = app
        .post(
            "/v1/customers",
            &till,
            &json!({"external_ref": "summary", "name": "Sam Mary"}),
        )
        .await
        .expect(201);
    assert_eq!(
        app.get("/v1/customers/by-ref/summary", &till)
            .await
            .expect(200)["id"],
        word["id"]
    );
    // An unknown reference is 404 on every route, and writes nothing.
    let before = written(&app);
    for (method, path, body) in [
        ("GET", "/v1/customers/by-ref/NOBODY".to_owned(), None),
        (
            "GET",
            "/v1/customers/by-ref/NOBODY/summary".to_owned(),
            None,
        ),
        (
            "POST",
            "/v1/customers/by-ref/NOBODY/gestures".to_owned(),
            Some(json!({"kind": "service_recovery", "store_id": store,
                "reason_code": "service_failure", "story": "s", "amount": usd("1.00")})),
        ),
        (
            "POST",
            "/v1/customers/by-ref/NOBODY/payments".to_owned(),
            Some(json!({"amount": usd("1.00")})),
        ),
        (
            "POST",
            "/v1/customers/by-ref/NOBODY/credit/redemptions".to_owned(),
            Some(json!({"amount": usd("1.00"), "store_id": store})),
        ),
    ] {
        let r = match body {
            None => app.get(&path, &till).await,
            Some(b) => post(&app, &till, &path, &b).await,
        };
        let p = r.problem(404, "not_found");
        assert!(
            p["detail"].as_str().unwrap().contains("NOBODY"),
            "{method} {path}: {p}"
        );
    }
    assert_eq!(written(&app), before);
    app.ledger_clean().await;
}
both!(a_till_names_the_customer_by_its_reference);

/// An offline till's backlog: each record carries the till's own durable
/// reference, so a record entered again — days later, long after any
/// idempotency key — is refused naming the first; a receipt names one
/// payment or redemption per store; a redemption carries the day it happened,
/// within the tenant's back-dating window, and the server's `created_at`
/// beside it.
async fn an_offline_backlog_is_entered_once(app: TestApp) {
    let store = app.store("OFF", "USD").await;
    let other_store = app.store("OFF2", "USD").await;
    let till = app.token_for(
        app.tenant,
        "till-off",
        Role::Pos,
        Some(vec![store, other_store]),
    );
    let c = app.customer("OFF-C").await;
    let cid = c["id"].as_str().unwrap();
    let gestures = format!("/v1/customers/{cid}/gestures");
    let credit = json!({"kind": "store_credit", "store_id": store, "reason_code": "delay",
        "story": "Late order", "amount": usd("20.00"), "client_ref": "T1-0001"});
    let first = post(&app, &till, &gestures, &credit).await.expect(201);
    // Entered again with a fresh key (the old one long purged): refused, named.
    let before = written(&app);
    let again = post(&app, &till, &gestures, &credit)
        .await
        .problem(409, "duplicate_client_ref");
    assert_eq!(again["existing_id"], first["id"]);
    assert_eq!(written(&app), before);
    // The same reference at another store, or of another kind, is another record.
    let mut elsewhere = credit.clone();
    elsewhere["store_id"] = json!(other_store);
    post(&app, &till, &gestures, &elsewhere).await.expect(201);

    // Redemptions: the day it happened, a receipt, a client ref. Two days on,
    // the till enters yesterday's redemption.
    app.clock.advance(chrono::TimeDelta::days(2));
    let on = |offset: i64| (app.clock.now().date() + chrono::TimeDelta::days(offset)).to_string();
    let spent = post(
        &app,
        &till,
        &format!("/v1/customers/{cid}/credit/redemptions"),
        &json!({"amount": usd("5.00"), "store_id": store, "occurred_on": on(-1),
            "receipt_ref": "R-100", "client_ref": "T1-0001"}),
    )
    .await
    .expect(201);
    assert_eq!(spent["occurred_on"], on(-1));
    assert_eq!(&spent["created_at"].as_str().unwrap()[..10], on(0));
    assert_eq!(spent["receipt_ref"], "R-100");
    assert_eq!(spent["status"], "posted");
    assert!(spent["created_at"].as_str().is_some());
    let p = post(
        &app,
        &till,
        &format!("/v1/customers/{cid}/credit/redemptions"),
        &json!({"amount": usd("1.00"), "store_id": store, "receipt_ref": "R-100"}),
    )
    .await
    .problem(409, "duplicate_receipt_ref");
    assert_eq!(p["existing_id"], spent["id"]);
    let p = post(
        &app,
        &till,
        &format!("/v1/customers/{cid}/credit/redemptions"),
        &json!({"amount": usd("1.00"), "store_id": store, "client_ref": "T1-0001"}),
    )
    .await
    .problem(409, "duplicate_client_ref");
    assert_eq!(p["existing_id"], spent["id"]);
    for (field, body) in [
        (
            "occurred_on",
            json!({"amount": usd("1.00"), "store_id": store, "occurred_on": on(1)}),
        ),
        (
            "occurred_on",
            json!({"amount": usd("1.00"), "store_id": store, "occurred_on": on(-30)}),
        ),
        (
            "receipt_ref",
            json!({"amount": usd("1.00"), "store_id": store, "receipt_ref": " "}),
        ),
    ] {
        post(
            &app,
            &till,
            &format!("/v1/customers/{cid}/credit/redemptions"),
            &body,
        )
        .await
        .names_field(field);
    }

    // A voided sale: the redemption is reversed once, and the credit is back.
    assert_eq!(available(&app, &till, cid).await, usd("15.00"));
    let manager = app.token_for(app.tenant, "mgr-off", Role::Manager, Some(vec![store]));
    let reversal = format!("/v1/redemptions/{}/reversal", spent["id"].as_str().unwrap());
    let voided = post(&app, &manager, &reversal, &json!({"reason": "Sale voided"}))
        .await
        .expect(200);
    assert_eq!(voided["status"], "reversed");
    assert_eq!(voided["reversal_reason"], "Sale voided");
    post(&app, &manager, &reversal, &json!({"reason": "Again"}))
        .await
        .problem(409, "already_reversed");
    assert_eq!(available(&app, &till, cid).await, usd("20.00"));
    // A till may not reverse: reversals are for managers and finance.
    post(&app, &till, &reversal, &json!({"reason": "x"}))
        .await
        .problem(403, "role_forbidden");

    // Payments: a receipt and a client ref, each once per store.
    let promise = post(
        &app,
        &till,
        &gestures,
        &json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
            "story": "Pay tomorrow", "amount": usd("9.00"), "due_on": on(1)}),
    )
    .await
    .expect(201);
    let pay = format!("/v1/gestures/{}/payments", promise["id"].as_str().unwrap());
    let paid = post(
        &app,
        &till,
        &pay,
        &json!({"amount": usd("2.00"), "receipt_ref": "P-1", "client_ref": "T1-P1"}),
    )
    .await
    .expect(201);
    assert_eq!(paid["receipt_ref"], "P-1");
    let p = post(
        &app,
        &till,
        &pay,
        &json!({"amount": usd("2.00"), "receipt_ref": "P-1"}),
    )
    .await
    .problem(409, "duplicate_receipt_ref");
    assert_eq!(p["existing_id"], paid["id"]);
    let p = post(
        &app,
        &till,
        &pay,
        &json!({"amount": usd("2.00"), "client_ref": "T1-P1"}),
    )
    .await
    .problem(409, "duplicate_client_ref");
    assert_eq!(p["existing_id"], paid["id"]);
    app.ledger_clean().await;
}
both!(an_offline_backlog_is_entered_once);
