//! Gestures on the ledger: the stories S1–S5 (as far as the operations built so
//! far reach), the approval decision, the ledger check, and the error paths.

use actix_web::http::Method;
use goodwill::domain::roles::Role;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Resp, TestApp};

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

fn day(offset: i64) -> String {
    (today() + chrono::TimeDelta::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

fn usd(a: &str) -> Value {
    json!({"amount": a, "currency": "USD"})
}

async fn gesture(app: &TestApp, token: &str, customer: &str, body: &Value) -> Resp {
    let key = uuid::Uuid::now_v7().to_string();
    app.send_to(
        &app.address,
        Method::POST,
        &format!("/v1/customers/{customer}/gestures"),
        Some(token),
        Some(&key),
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

async fn summary(app: &TestApp, customer: &str) -> Value {
    app.get(
        &format!("/v1/customers/{customer}/summary"),
        &app.token(Role::Pos),
    )
    .await
    .expect(200)
}

async fn ledger_clean(app: &TestApp) {
    app.ledger_clean().await;
}

struct World {
    store: String,
    clerk: String,
    manager: String,
    admin: String,
    staff: String,
}

async fn world(app: &TestApp) -> World {
    let store = app.store("S", "USD").await;
    let admin = app.token_for(app.tenant, "owner", Role::Admin, None);
    let staff = app
        .post(
            "/v1/staff",
            &admin,
            &json!({"name": "Maya", "store_ids": [store]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    World {
        store: store.to_string(),
        clerk: app.token_for(app.tenant, "night-manager", Role::Clerk, Some(vec![store])),
        manager: app.token_for(
            app.tenant,
            "store-manager",
            Role::Manager,
            Some(vec![store]),
        ),
        admin,
        staff,
    }
}

/// S1: the tills are sealed; a $10.95 remedy on a promise to pay tomorrow.
async fn s1_pay_tomorrow(app: TestApp) {
    let w = world(&app).await;
    let c = app.customer("PARENT-1").await;
    let cid = c["id"].as_str().unwrap();
    let body = json!({"kind": "deferred_payment", "store_id": w.store, "reason_code": "closing_time",
        "story": "Tills sealed; a worried parent needed the remedy tonight", "amount": usd("10.95"), "due_on": day(1)});
    let g = gesture(&app, &w.clerk, cid, &body).await.expect(201);
    assert_eq!(g["status"], "approved");
    assert_eq!(g["decision"]["rule"], "within_self_grant_limit");
    assert_eq!(g["amount"], usd("10.95"));
    assert_eq!(g["outstanding"], usd("10.95"));
    assert_eq!(g["paid"], usd("0.00"));
    assert_eq!(g["overdue"], false);
    let s = summary(&app, cid).await;
    assert_eq!(
        s["balances"],
        json!([{"currency": "USD", "owed": usd("10.95"), "overdue": usd("0.00"),
        "store_credit_available": usd("0.00"), "store_credit_lots": [], "written_off": usd("0.00")}])
    );
    assert_eq!(
        s["promises"],
        json!({"open": 1, "kept_on_time": 0, "kept_late": 0, "written_off": 0, "waived": 0, "broken": 0})
    );
    assert_eq!(
        s["last_activity_at"], g["created_at"],
        "the last activity is the newest gesture, to the microsecond"
    );
    let ev = app
        .get(
            &format!("/v1/audit?entity_id={}", g["id"].as_str().unwrap()),
            &w.admin,
        )
        .await
        .expect(200);
    assert_eq!(ev["data"].as_array().unwrap().len(), 1);
    assert_eq!(ev["data"][0]["action"], "gesture.requested");
    assert_eq!(ev["data"][0]["reason"], "closing_time");
    assert_eq!(ev["data"][0]["after"], g);
    let got = app
        .get(
            &format!("/v1/gestures/{}", g["id"].as_str().unwrap()),
            &w.clerk,
        )
        .await
        .expect(200);
    let mut got = got;
    for k in ["entries", "payments", "links"] {
        got.as_object_mut().unwrap().remove(k);
    }
    assert_eq!(got, g);
    let open = app
        .get(
            &format!("/v1/gestures?customer_id={cid}&kind=deferred_payment&status=approved"),
            &w.clerk,
        )
        .await;
    let open = open.expect(200);
    assert_eq!(open["data"].as_array().unwrap().len(), 1);
    // A list names the customer and the store as people know them.
    assert_eq!(open["data"][0]["customer"]["id"], c["id"]);
    assert_eq!(open["data"][0]["customer"]["name"], c["name"]);
    assert_eq!(
        open["data"][0]["customer"]["external_ref"],
        c["external_ref"]
    );
    assert_eq!(open["data"][0]["store"]["id"], g["store_id"]);
    assert!(
        open["data"][0]["store"]["code"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    let overdue = app
        .get("/v1/gestures?overdue=true", &w.clerk)
        .await
        .expect(200);
    assert!(
        overdue["data"].as_array().unwrap().is_empty(),
        "due tomorrow is not overdue"
    );
    ledger_clean(&app).await;
}
both!(s1_pay_tomorrow);

/// S2: a forgotten birthday display: $250 waived and $500 spent recreating the
/// evening, both linked to one incident.
async fn s2_waiver_and_recovery_for_one_incident(app: TestApp) {
    let w = world(&app).await;
    let c = app.customer("TV-COUPLE").await;
    let cid = c["id"].as_str().unwrap();
    let promise = gesture(
        &app,
        &w.manager,
        cid,
        &json!({"kind": "deferred_payment", "store_id": w.store,
        "reason_code": "loyalty", "story": "Deposit paid on the TV; 250 due on delivery",
        "amount": usd("250.00"), "due_on": day(7)}),
    )
    .await
    .expect(201);
    assert_eq!(promise["status"], "approved");
    assert_eq!(
        summary(&app, cid).await["balances"][0]["owed"],
        usd("250.00")
    );

    let incident = app
        .post("/v1/incidents", &w.manager, &json!({"store_id": w.store, "cause": "staff_error",
            "staff_ids": [w.staff], "description": "The birthday display she arranged was forgotten"}))
        .await
        .expect(201);
    let iid = incident["id"].as_str().unwrap();

    let waiver = gesture(&app, &w.manager, cid, &json!({"kind": "balance_waiver", "store_id": w.store,
        "reason_code": "staff_error", "story": "We waive the balance", "incident_id": iid, "amount": usd("250.00")}))
    .await
    .expect(201);
    assert_eq!(waiver["status"], "approved");
    assert_eq!(
        waiver["allocations"],
        json!([{"gesture_id": promise["id"], "amount": usd("250.00")}])
    );
    let p = app
        .get(
            &format!("/v1/gestures/{}", promise["id"].as_str().unwrap()),
            &w.manager,
        )
        .await
        .expect(200);
    assert_eq!(p["status"], "written_off");
    assert_eq!(p["outstanding"], usd("0.00"));

    // 500 is above a manager's limit: it waits, and posts nothing.
    let pending = gesture(&app, &w.manager, cid, &json!({"kind": "service_recovery", "store_id": w.store,
        "reason_code": "staff_error", "story": "Recreate the evening", "incident_id": iid, "amount": usd("500.00")}))
    .await
    .expect(201);
    assert_eq!(
        (
            pending["status"].as_str(),
            pending["decision"]["rule"].as_str()
        ),
        (Some("pending_approval"), Some("above_self_grant_limit"))
    );
    let s = summary(&app, cid).await;
    assert!(
        s["goodwill_received"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["kind"] != "service_recovery")
    );
    // The owner (admin, limit 1,000) spends it.
    let recovery = gesture(&app, &w.admin, cid, &json!({"kind": "service_recovery", "store_id": w.store,
        "reason_code": "staff_error", "story": "Recreated the evening", "incident_id": iid, "amount": usd("500.00")}))
    .await
    .expect(201);
    assert_eq!(recovery["status"], "approved");

    let s = summary(&app, cid).await;
    assert_eq!(s["balances"][0]["owed"], usd("0.00"));
    assert_eq!(s["balances"][0]["written_off"], usd("250.00"));
    assert_eq!(
        s["goodwill_received"],
        json!([{"kind": "service_recovery", "amount": usd("500.00")}, {"kind": "balance_waiver", "amount": usd("250.00")}])
    );
    // S2: the store's own mistake waived: written off, but waived, never
    // held against the customer as a broken promise.
    assert_eq!(s["promises"]["written_off"], 1);
    assert_eq!(s["promises"]["waived"], 1);
    assert_eq!(s["promises"]["broken"], 0);
    let i = app
        .get(&format!("/v1/incidents/{iid}"), &w.clerk)
        .await
        .expect(200);
    let linked: Vec<&str> = i["gestures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        linked,
        [
            waiver["id"].as_str().unwrap(),
            pending["id"].as_str().unwrap(),
            recovery["id"].as_str().unwrap()
        ]
    );
    assert_eq!(i["staff_ids"], json!([w.staff]));
    // Every entry the story produced, in order.
    let entries = app
        .get(&format!("/v1/customers/{cid}/entries"), &w.clerk)
        .await
        .expect(200);
    let got: Vec<(String, String, String, String)> = entries["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["transaction_kind"].as_str().unwrap().to_owned(),
                e["account"]
                    .as_str()
                    .unwrap()
                    .split(':')
                    .next()
                    .unwrap()
                    .to_owned(),
                e["side"].as_str().unwrap().to_owned(),
                e["amount"]["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String, String, String)> = [
        ("gesture", "receivable", "debit", "250.00"),
        ("gesture", "sales_clearing", "credit", "250.00"),
        ("waiver", "writeoff_expense", "debit", "250.00"),
        ("waiver", "receivable", "credit", "250.00"),
        ("gesture", "goodwill_expense", "debit", "500.00"),
        ("gesture", "cash_clearing", "credit", "500.00"),
    ]
    .iter()
    .map(|(a, b, c, d)| {
        (
            (*a).to_owned(),
            (*b).to_owned(),
            (*c).to_owned(),
            (*d).to_owned(),
        )
    })
    .collect();
    assert_eq!(got, want);
    let detail = app
        .get(
            &format!("/v1/gestures/{}", promise["id"].as_str().unwrap()),
            &w.clerk,
        )
        .await
        .expect(200);
    assert_eq!(detail["links"]["written_off_by"], json!([waiver["id"]]));
    assert_eq!(detail["entries"].as_array().unwrap().len(), 2);
    let wd = app
        .get(
            &format!("/v1/gestures/{}", waiver["id"].as_str().unwrap()),
            &w.clerk,
        )
        .await
        .expect(200);
    assert_eq!(wd["links"]["incident_id"], json!(iid));
    assert_eq!(wd["entries"][0]["account"], "writeoff_expense");
    let wo = app
        .get(
            "/v1/ledger/entries?account=writeoff_expense",
            &app.token(Role::Finance),
        )
        .await
        .expect(200);
    assert_eq!(wo["data"].as_array().unwrap().len(), 1);
    // The timeline, newest first, in pages.
    let t = app
        .get(&format!("/v1/customers/{cid}/timeline?limit=2"), &w.clerk)
        .await
        .expect(200);
    let first: Vec<&str> = t["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        first,
        [
            recovery["id"].as_str().unwrap(),
            pending["id"].as_str().unwrap()
        ]
    );
    let t2 = app
        .get(
            &format!(
                "/v1/customers/{cid}/timeline?limit=2&starting_after={}",
                t["next_cursor"].as_str().unwrap()
            ),
            &w.clerk,
        )
        .await
        .expect(200);
    let second: Vec<&str> = t2["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        second,
        [
            waiver["id"].as_str().unwrap(),
            promise["id"].as_str().unwrap()
        ]
    );
    assert_eq!(t2["has_more"], false);
    ledger_clean(&app).await;
}
both!(s2_waiver_and_recovery_for_one_incident);

/// S3: a windshield replaced free, the footprints preserved: retail value as a
/// memo, the cost on the ledger.
async fn s3_free_service(app: TestApp) {
    let w = world(&app).await;
    let c = app.customer("WINDSHIELD").await;
    let cid = c["id"].as_str().unwrap();
    let body = json!({"kind": "free_service", "store_id": w.store, "reason_code": "customer_hardship",
        "story": "Cut out and kept the glass with her daughter's footprints; fitted a new windshield",
        "retail_value": usd("800.00"), "cost": usd("310.00")});
    // Above a clerk's 25: pending.
    let pending = gesture(&app, &w.clerk, cid, &body).await.expect(201);
    assert_eq!(pending["status"], "pending_approval");
    let g = gesture(&app, &w.admin, cid, &body).await.expect(201);
    assert_eq!(g["status"], "approved");
    assert_eq!(
        (g["retail_value"].clone(), g["cost"].clone()),
        (usd("800.00"), usd("310.00"))
    );
    let s = summary(&app, cid).await;
    assert_eq!(
        s["goodwill_received"],
        json!([{"kind": "free_service", "amount": usd("310.00")}])
    );
    assert_eq!(
        s["memo"]["free_service_retail_value"],
        json!([usd("800.00")])
    );
    // Zero cost posts nothing but still counts the retail value.
    let zero = json!({"kind": "free_service", "store_id": w.store, "reason_code": "goodwill", "story": "Quick fix",
        "retail_value": usd("20.00"), "cost": usd("0.00")});
    // (Another clerk: the first one's pending 800 counts against their own
    // 24-hour total, so theirs would wait as a split.)
    let day_clerk = app.token_for(app.tenant, "day-clerk", Role::Clerk, None);
    assert_eq!(
        gesture(&app, &day_clerk, cid, &zero).await.expect(201)["status"],
        "approved"
    );
    assert_eq!(
        gesture(&app, &w.clerk, cid, &zero).await.expect(201)["decision"]["rule"],
        "split_threshold"
    );
    let s = summary(&app, cid).await;
    assert_eq!(
        s["memo"]["free_service_retail_value"],
        json!([usd("820.00")])
    );
    assert_eq!(
        s["goodwill_received"],
        json!([{"kind": "free_service", "amount": usd("310.00")}])
    );
    ledger_clean(&app).await;
}
both!(s3_free_service);

/// S4: praise of a clerk reaches management; no money moves.
async fn s4_recognition(app: TestApp) {
    let w = world(&app).await;
    let c = app.customer("DRY-CLEAN").await;
    let cid = c["id"].as_str().unwrap();
    let before = app.counts();
    let r = app
        .post(&format!("/v1/customers/{cid}/gestures"), &app.token(Role::Pos), &json!({"kind": "recognition",
            "store_id": w.store, "reason_code": "praise", "story": "She greets me by name every time", "staff_ids": [w.staff]}))
        .await
        .expect(201);
    assert_eq!(
        (r["status"].as_str(), r["decision"]["rule"].as_str()),
        (Some("approved"), Some("non_monetary"))
    );
    assert!(r["amount"].is_null());
    let after = app.counts();
    let moved = |t: &str| {
        after.iter().find(|(n, _)| n == t).unwrap().1
            - before.iter().find(|(n, _)| n == t).unwrap().1
    };
    assert_eq!(
        (
            moved("entries"),
            moved("ledger_transactions"),
            moved("balances")
        ),
        (0, 0, 0),
        "no money moved"
    );
    let s = summary(&app, cid).await;
    assert_eq!(s["recognitions"], 1);
    assert_eq!(s["balances"], json!([]));
    // No staff named: refused.
    app.post(
        &format!("/v1/customers/{cid}/gestures"),
        &app.token(Role::Pos),
        &json!({"kind": "recognition",
        "store_id": w.store, "reason_code": "praise", "story": "Nice"}),
    )
    .await
    .names_field("staff_ids");
    ledger_clean(&app).await;
}
both!(s4_recognition);

/// S5: an apology visit, then the customer's favour the other way.
async fn s5_recovery_and_favour(app: TestApp) {
    let w = world(&app).await;
    let c = app.customer("FLEET").await;
    let cid = c["id"].as_str().unwrap();
    let visit = gesture(&app, &w.manager, cid, &json!({"kind": "service_recovery", "store_id": w.store,
        "reason_code": "service_failure", "story": "Drove 150 km to apologise", "amount": usd("180.00")}))
    .await
    .expect(201);
    assert_eq!(visit["status"], "approved");
    let favour = app
        .post(&format!("/v1/customers/{cid}/gestures"), &w.manager, &json!({"kind": "customer_favour", "store_id": w.store,
            "reason_code": "customer_kindness", "story": "Rescued our team from a breakdown and bought new tyres",
            "estimated_value": usd("1200.00")}))
        .await
        .expect(201);
    assert_eq!(
        favour["status"], "approved",
        "a favour needs no approval whatever it is worth"
    );
    let s = summary(&app, cid).await;
    assert_eq!(
        s["goodwill_received"],
        json!([{"kind": "service_recovery", "amount": usd("180.00")}])
    );
    assert_eq!(s["memo"]["favour_estimated_value"], json!([usd("1200.00")]));
    assert_eq!(s["memo"]["favours"], 1);
    ledger_clean(&app).await;
}
both!(s5_recovery_and_favour);

async fn split_requests_are_caught(app: TestApp) {
    let w = world(&app).await;
    let c = app.customer("SPLIT").await;
    let cid = c["id"].as_str().unwrap();
    let credit = |a: &str| {
        json!({"kind": "store_credit", "store_id": w.store, "reason_code": "delay",
        "story": "Sorry for the wait", "amount": usd(a), "expires_on": day(30)})
    };
    assert_eq!(
        gesture(&app, &w.clerk, cid, &credit("20.00"))
            .await
            .expect(201)["status"],
        "approved"
    );
    let second = gesture(&app, &w.clerk, cid, &credit("20.00"))
        .await
        .expect(201);
    assert_eq!(
        (
            second["status"].as_str(),
            second["decision"]["rule"].as_str()
        ),
        (Some("pending_approval"), Some("split_threshold"))
    );
    // Another requester is not affected.
    let other = app.token_for(app.tenant, "day-clerk", Role::Clerk, None);
    assert_eq!(
        gesture(&app, &other, cid, &credit("5.00"))
            .await
            .expect(201)["status"],
        "approved"
    );
    assert_eq!(
        summary(&app, cid).await["balances"][0]["store_credit_available"],
        usd("25.00")
    );
    ledger_clean(&app).await;
}
both!(split_requests_are_caught);

/// The reason codes a till may use are one call away, and an unknown one is
/// answered with the list, for a gesture's reason_code and an incident's
/// cause alike.
async fn reason_codes_are_listed_and_named_in_errors(app: TestApp) {
    let w = world(&app).await;
    let listed = app
        .get("/v1/reason-codes", &app.token(Role::Pos))
        .await
        .expect(200);
    let codes: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 11, "{listed}");
    assert!(codes.windows(2).all(|p| p[0] < p[1]), "by code: {codes:?}");
    assert!(
        listed["data"][0]["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    let c = app.customer("RC").await;
    let p = app
        .post(
            &format!("/v1/customers/{}/gestures", c["id"].as_str().unwrap()),
            &w.clerk,
            &json!({"kind": "customer_favour", "store_id": w.store, "reason_code": "gratitude",
                "story": "She held the door"}),
        )
        .await
        .names_field("reason_code");
    for code in &codes {
        assert!(p.to_string().contains(code), "{code} listed: {p}");
    }
    let p = app
        .post(
            "/v1/incidents",
            &app.token(Role::Manager),
            &json!({"store_id": w.store, "cause": "gremlins", "description": "x"}),
        )
        .await
        .names_field("cause");
    assert!(p.to_string().contains("staff_error"), "{p}");
}
both!(reason_codes_are_listed_and_named_in_errors);

/// Incidents are listed, filtered by store, cause and date, each naming its
/// store; a store-scoped token sees its stores' alone.
async fn incidents_are_listed(app: TestApp) {
    let w = world(&app).await;
    let other = app.store("IN2", "USD").await;
    let admin = app.token(Role::Admin);
    let report = |store: String, cause: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.post(
                "/v1/incidents",
                &admin,
                &json!({"store_id": store, "cause": cause, "description": "It went wrong"}),
            )
            .await
            .expect(201)
        }
    };
    let a = report(w.store.clone(), "staff_error").await;
    let b = report(w.store.clone(), "delay").await;
    let c = report(other.to_string(), "staff_error").await;
    let ids = |v: &Value| -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = app
        .get("/v1/incidents", &app.token(Role::Auditor))
        .await
        .expect(200);
    assert_eq!(
        ids(&all),
        [
            a["id"].as_str().unwrap(),
            b["id"].as_str().unwrap(),
            c["id"].as_str().unwrap()
        ]
    );
    assert_eq!(all["data"][2]["store"]["code"], "IN2", "{all}");
    assert!(all["data"][0].get("gestures").is_none());
    let errors = app
        .get("/v1/incidents?cause=staff_error", &app.token(Role::Auditor))
        .await
        .expect(200);
    assert_eq!(ids(&errors).len(), 2);
    let today = app.clock.now().date();
    let none = app
        .get(
            &format!("/v1/incidents?to={}", today.pred_opt().unwrap()),
            &app.token(Role::Auditor),
        )
        .await
        .expect(200);
    assert!(ids(&none).is_empty());
    let paged = app
        .get("/v1/incidents?limit=2", &app.token(Role::Auditor))
        .await
        .expect(200);
    assert_eq!(
        (ids(&paged).len(), paged["has_more"].clone()),
        (2, json!(true))
    );
    let mine = app
        .get(
            "/v1/incidents",
            &app.token_for(app.tenant, "in-clerk", Role::Clerk, Some(vec![other])),
        )
        .await
        .expect(200);
    assert_eq!(ids(&mine), [c["id"].as_str().unwrap()]);
    app.get("/v1/incidents?from=yesterday", &app.token(Role::Auditor))
        .await
        .names_field("from");
    let long = "0".repeat(65);
    app.get(
        &format!("/v1/incidents?cause={long}"),
        &app.token(Role::Auditor),
    )
    .await
    .names_field("cause");
}
both!(incidents_are_listed);

async fn gesture_errors_change_nothing(app: TestApp) {
    let w = world(&app).await;
    let c = app.customer("ERR").await;
    let cid = c["id"].as_str().unwrap();
    let other_store = app.store("EU", "EUR").await;
    let promise = gesture(
        &app,
        &w.clerk,
        cid,
        &json!({"kind": "deferred_payment", "store_id": w.store,
        "reason_code": "closing_time", "story": "s", "amount": usd("10.00"), "due_on": day(1)}),
    )
    .await
    .expect(201);
    let before = app.counts();
    let base = |extra: Value| {
        let mut b = json!({"kind": "deferred_payment", "store_id": w.store, "reason_code": "closing_time",
            "story": "s", "amount": usd("5.00"), "due_on": day(1)});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let path = format!("/v1/customers/{cid}/gestures");
    // No Idempotency-Key on a monetary gesture.
    app.post(&path, &w.clerk, &base(json!({})))
        .await
        .problem(400, "idempotency_key_required");
    for (body, field) in [
        (
            base(json!({"amount": {"amount": "10.955", "currency": "USD"}})),
            "amount.amount",
        ),
        (
            base(json!({"amount": {"amount": 10.95, "currency": "USD"}})),
            "amount.amount",
        ),
        (
            base(json!({"amount": {"amount": "-1.00", "currency": "USD"}})),
            "amount.amount",
        ),
        (
            base(json!({"amount": {"amount": "1e2", "currency": "USD"}})),
            "amount.amount",
        ),
        (
            base(json!({"amount": {"amount": "5.00", "currency": "usd"}})),
            "amount.currency",
        ),
        (
            base(json!({"amount": {"amount": "5.00", "currency": "EUR"}})),
            "amount.currency",
        ),
        (
            base(json!({"amount": {"amount": "5.00"}})),
            "amount.currency",
        ),
        (base(json!({"amount": null})), "amount"),
        (base(json!({"due_on": day(-1)})), "due_on"),
        (base(json!({"due_on": "tomorrow"})), "due_on"),
        (base(json!({"effective_on": day(1)})), "effective_on"),
        (
            base(json!({"reason_code": "no_such_reason"})),
            "reason_code",
        ),
        (base(json!({"reason_code": "Bad Code"})), "reason_code"),
        (base(json!({"story": ""})), "story"),
        (base(json!({"story": "x".repeat(4001)})), "story"),
        (
            base(json!({"staff_ids": [uuid::Uuid::now_v7()]})),
            "staff_ids[0]",
        ),
        (
            base(json!({"incident_id": uuid::Uuid::now_v7()})),
            "incident_id",
        ),
        (base(json!({"cost": usd("1.00")})), "cost"),
        (base(json!({"kind": "mystery"})), "kind"),
        (base(json!({"id": uuid::Uuid::now_v7()})), "id"),
        (base(json!({"status": "approved"})), "status"),
        (base(json!({"store_id": uuid::Uuid::now_v7()})), "store_id"),
        (
            json!({"kind": "balance_waiver", "store_id": w.store, "reason_code": "goodwill", "story": "s",
            "amount": usd("5.00"), "applies_to": [uuid::Uuid::now_v7()]}),
            "applies_to[0]",
        ),
        (
            json!({"kind": "free_service", "store_id": w.store, "reason_code": "goodwill", "story": "s",
            "retail_value": usd("5.00")}),
            "cost",
        ),
    ] {
        let r = gesture(&app, &w.admin, cid, &body).await;
        assert_eq!(
            r.status,
            422,
            "{body}: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.names_field(field);
    }
    // A waiver above what is owed names what is owed.
    let r = gesture(
        &app,
        &w.admin,
        cid,
        &json!({"kind": "balance_waiver", "store_id": w.store,
        "reason_code": "goodwill", "story": "s", "amount": usd("10.01")}),
    )
    .await;
    let p = r.problem(422, "exceeds_owed");
    assert!(p["detail"].as_str().unwrap().contains("10.00"), "{p}");
    // Another store's currency, another store's token, an unknown customer, a
    // role that may not ask.
    let r = gesture(
        &app,
        &w.admin,
        cid,
        &json!({"kind": "service_recovery", "store_id": other_store,
        "reason_code": "goodwill", "story": "s", "amount": usd("5.00")}),
    )
    .await;
    r.names_field("amount.currency");
    gesture(
        &app,
        &w.clerk,
        cid,
        &json!({"kind": "service_recovery", "store_id": other_store,
        "reason_code": "goodwill", "story": "s", "amount": {"amount": "5.00", "currency": "EUR"}}),
    )
    .await
    .problem(403, "store_scope");
    gesture(
        &app,
        &w.clerk,
        &uuid::Uuid::now_v7().to_string(),
        &base(json!({})),
    )
    .await
    .problem(404, "not_found");
    gesture(&app, &app.token(Role::Auditor), cid, &base(json!({})))
        .await
        .problem(403, "role_forbidden");
    assert_eq!(
        app.counts()
            .iter()
            .filter(|(t, _)| t != "idempotency_keys")
            .collect::<Vec<_>>(),
        before
            .iter()
            .filter(|(t, _)| t != "idempotency_keys")
            .collect::<Vec<_>>(),
        "nothing changed"
    );
    ledger_clean(&app).await;
    let _ = promise;
}
both!(gesture_errors_change_nothing);

async fn ledger_check_names_what_is_wrong(app: TestApp) {
    let w = world(&app).await;
    let c = app.customer("CHK").await;
    let cid = c["id"].as_str().unwrap().to_owned();
    gesture(
        &app,
        &w.clerk,
        &cid,
        &json!({"kind": "deferred_payment", "store_id": w.store,
        "reason_code": "closing_time", "story": "s", "amount": usd("10.95"), "due_on": day(1)}),
    )
    .await
    .expect(201);
    ledger_clean(&app).await;
    {
        let mut conn = app.pool.get().unwrap();
        let tenant = app.tenant;
        let tx = uuid::Uuid::now_v7();
        let sql = [
            format!(
                "UPDATE balances SET debit_minor = debit_minor + 1 WHERE account = 'receivable:{cid}'"
            ),
            format!(
                "INSERT INTO ledger_transactions (tenant_id, id, kind, effective_on, created_at) VALUES ('{tenant}', '{tx}', 'forged', '2026-01-01', '2026-01-01 00:00:00')"
            ),
            format!(
                "INSERT INTO entries (tenant_id, id, transaction_id, account, currency, debit_minor, credit_minor, effective_on, created_at) VALUES ('{tenant}', '{}', '{tx}', 'writeoff_expense', 'USD', 500, 0, '2026-01-01', '2026-01-01 00:00:00')",
                uuid::Uuid::now_v7()
            ),
        ];
        for s in &sql {
            diesel::RunQueryDsl::execute(diesel::sql_query(s), &mut *conn).unwrap();
        }
    }
    let r = app
        .get("/v1/ledger/check", &app.token(Role::Finance))
        .await
        .expect(200);
    assert_eq!(r["clean"], false);
    let found: Vec<(String, String)> = r["discrepancies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["check"].as_str().unwrap().to_owned(),
                d["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        found
            .iter()
            .any(|(c, s)| c == "unbalanced_transaction" && s.contains("transaction")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(c, s)| c == "balance_mismatch" && s.contains(&format!("receivable:{cid}"))),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(c, s)| c == "balance_mismatch" && s.contains("writeoff_expense")),
        "{found:?}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_goodwill"))
        .env("GOODWILL_LOG", "warn")
        .args(["--database-url", &app.database_url, "ledger", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("unbalanced_transaction") && stdout.contains(&format!("receivable:{cid}")),
        "{stdout}"
    );
}
both!(ledger_check_names_what_is_wrong);

async fn entries_cannot_be_edited(app: TestApp) {
    let w = world(&app).await;
    let c = app.customer("IMM").await;
    gesture(
        &app,
        &w.clerk,
        c["id"].as_str().unwrap(),
        &json!({"kind": "deferred_payment", "store_id": w.store,
        "reason_code": "closing_time", "story": "s", "amount": usd("1.00"), "due_on": day(1)}),
    )
    .await
    .expect(201);
    let mut conn = app.pool.get().unwrap();
    for sql in [
        "UPDATE entries SET debit_minor = 5",
        "DELETE FROM entries",
        "UPDATE ledger_transactions SET kind = 'x'",
        "DELETE FROM ledger_transactions",
    ] {
        let err = diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut *conn).unwrap_err();
        assert!(err.to_string().contains("not allowed"), "{sql}: {err}");
    }
}
both!(entries_cannot_be_edited);

/// The summary is the till's hottest read: its statements are prepared once per
/// connection and reused, never parsed and planned per request (the load
/// harness found both parsed on every request, at three times PostgreSQL's CPU
/// of the same statements prepared).
#[actix_web::test]
async fn the_summary_statements_are_prepared_once_per_connection() {
    use diesel::prelude::*;
    #[derive(diesel::QueryableByName)]
    struct Prepared {
        #[diesel(sql_type = diesel::sql_types::Text)]
        statement: String,
    }
    let app = TestApp::spawn_tuned(crate::helpers::Backend::Postgres, |s| s.pool_size = 1).await;
    let customer = app.customer("prepared-1").await;
    let cid = customer["id"].as_str().unwrap();
    for _ in 0..7 {
        let s = summary(&app, cid).await;
        assert_eq!(s["customer_id"], cid);
    }
    let mut conn = app.pool.get().unwrap();
    let goodwill::store::DbConnection::Pg(pg) = &mut *conn else {
        panic!("a PostgreSQL connection")
    };
    let prepared: Vec<String> = diesel::sql_query("SELECT statement FROM pg_prepared_statements")
        .load::<Prepared>(pg)
        .unwrap()
        .into_iter()
        .map(|p| p.statement)
        .collect();
    let count = |needle: &str| prepared.iter().filter(|s| s.contains(needle)).count();
    assert_eq!(count("FROM \"memo_totals\""), 1, "{prepared:#?}");
    assert_eq!(count("gestures.status = 'approved'"), 1, "{prepared:#?}");
}

/// Round trips, as the database sees them (issue: a write and a read close to
/// what PostgreSQL itself can do): a customer's summary is one statement, with
/// no transaction around it, and an auto-approved deferred payment is the
/// statements that decide it, its gesture row and one statement for every
/// write that follows, ten in all (docs/ARCHITECTURE.md lists them and why
/// each remains). Counted with
/// diesel's instrumentation on the instance's one pooled connection.
#[actix_web::test]
async fn a_summary_is_one_statement_and_a_write_ten() {
    use std::sync::{Arc, Mutex};
    let app = TestApp::spawn_tuned(crate::helpers::Backend::Postgres, |s| s.pool_size = 1).await;
    let w = world(&app).await;
    let customer = app.customer("trips-1").await;
    let cid = customer["id"].as_str().unwrap();
    let pay = json!({"kind": "deferred_payment", "store_id": w.store, "reason_code": "closing_time",
        "story": "Pay tomorrow", "amount": usd("1.00"), "due_on": day(7)});
    // Warm: the statements are prepared, the policy parsed.
    gesture(&app, &w.clerk, cid, &pay).await.expect(201);
    summary(&app, cid).await;
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    {
        let mut conn = app.pool.get().unwrap();
        let log = Arc::clone(&seen);
        diesel::Connection::set_instrumentation(
            &mut *conn,
            move |e: diesel::connection::InstrumentationEvent<'_>| {
                if let diesel::connection::InstrumentationEvent::StartQuery { query, .. } = e {
                    log.lock().unwrap().push(query.to_string());
                }
            },
        );
    }
    // Without the pool's own `SELECT 1`, which probes a connection coming
    // back while a lost connection was seen lately (another test's).
    let take = || {
        let mut all = std::mem::take(&mut *seen.lock().unwrap());
        all.retain(|q| q != "SELECT 1");
        all
    };
    let s = summary(&app, cid).await;
    assert_eq!(s["promises"]["open"], 1, "{s}");
    let trips = take();
    assert_eq!(trips.len(), 1, "{trips:#?}");
    assert!(!trips[0].contains("BEGIN"), "{trips:#?}");
    let g = gesture(&app, &w.clerk, cid, &pay).await.expect(201);
    assert_eq!(g["status"], "approved");
    let trips = take();
    assert_eq!(trips.len(), 10, "{trips:#?}");
    assert!(trips[0].starts_with("BEGIN"), "{trips:#?}");
    assert!(
        trips[8].contains("INSERT INTO idempotency_keys"),
        "{trips:#?}"
    );
    assert!(trips[8].contains("INSERT INTO audit_events"), "{trips:#?}");
    assert!(trips[8].contains("INSERT INTO entries"), "{trips:#?}");
    assert_eq!(trips[9], "COMMIT", "{trips:#?}");
    app.ledger_check_clean().await;
}

/// A paper IOU from last week: entered with its real `effective_on`, it may
/// already be due — and is then overdue at once — but it cannot fall due
/// before it was made.
async fn a_late_entered_iou_may_already_be_due(app: TestApp) {
    app.allow_back_dating(10).await;
    let w = world(&app).await;
    let c = app.customer("IOU-1").await;
    let cid = c["id"].as_str().unwrap();
    let iou = |made: i64, due: i64| {
        json!({"kind": "deferred_payment", "store_id": w.store, "reason_code": "closing_time",
            "story": "Written on the back of a receipt", "amount": usd("8.00"),
            "effective_on": day(made), "due_on": day(due)})
    };
    let before = app.counts();
    let p = gesture(&app, &w.clerk, cid, &iou(-7, -8))
        .await
        .problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "due_on", "{p}");
    assert_eq!(app.counts(), before);
    let g = gesture(&app, &w.clerk, cid, &iou(-7, -2)).await.expect(201);
    assert_eq!(g["status"], "approved", "{g}");
    assert_eq!(g["overdue"], true, "{g}");
    let s = summary(&app, cid).await;
    assert_eq!(s["balances"][0]["overdue"], usd("8.00"), "{s}");
    ledger_clean(&app).await;
}
both!(a_late_entered_iou_may_already_be_due);

/// Praise is recorded by someone else: the staff member a recognition names
/// may not record it (403 `named_staff`), and nothing is written.
async fn nobody_records_praise_of_themselves(app: TestApp) {
    let w = world(&app).await;
    let admin = app.token(Role::Admin);
    let maya = app
        .post(
            "/v1/staff",
            &admin,
            &json!({"name": "Maya Self", "store_ids": [w.store], "subject": "maya-self"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = app.customer("PRAISE-1").await;
    let cid = c["id"].as_str().unwrap();
    let body = json!({"kind": "recognition", "store_id": w.store, "reason_code": "praise",
        "story": "Maya found the right size in the stock room", "staff_ids": [maya]});
    let own = app.token_for(app.tenant, "maya-self", Role::Clerk, None);
    let before = app.counts();
    gesture(&app, &own, cid, &body)
        .await
        .problem(403, "named_staff");
    assert_eq!(app.counts(), before);
    let g = gesture(&app, &w.clerk, cid, &body).await.expect(201);
    assert_eq!(g["kind"], "recognition");
}
both!(nobody_records_praise_of_themselves);
