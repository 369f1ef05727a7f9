//! Approvals: the policy as versioned data, the decision matrix, budgets over
//! rolling windows (moved with the app's clock, never by sleeping), segregation
//! of duties, split detection, exactly-once decisions, expiry, and the event
//! feed.

use std::collections::{BTreeSet, HashSet};

use actix_web::http::Method;
use goodwill::domain::ids::StoreId;
use goodwill::domain::roles::Role;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, Resp, TestApp};

fn usd(a: &str) -> Value {
    json!({"amount": a, "currency": "USD"})
}

fn recovery(store: &StoreId, amount: &str) -> Value {
    json!({"kind": "service_recovery", "store_id": store, "reason_code": "service_failure",
        "story": "We got it wrong", "amount": usd(amount)})
}

fn key() -> String {
    uuid::Uuid::now_v7().to_string()
}

async fn send(app: &TestApp, method: Method, path: &str, token: &str, body: &Value) -> Resp {
    app.send_to(
        &app.address,
        method,
        path,
        Some(token),
        Some(&key()),
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

async fn request(app: &TestApp, token: &str, customer: &str, body: &Value) -> Resp {
    send(
        app,
        Method::POST,
        &format!("/v1/customers/{customer}/gestures"),
        token,
        body,
    )
    .await
}

async fn act(app: &TestApp, token: &str, id: &str, verb: &str, body: Value) -> Resp {
    send(
        app,
        Method::POST,
        &format!("/v1/gestures/{id}/{verb}"),
        token,
        &body,
    )
    .await
}

async fn customer(app: &TestApp, r: &str) -> String {
    app.customer(r).await["id"].as_str().unwrap().to_owned()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn ledger_clean(app: &TestApp) {
    app.ledger_clean().await;
}

/// Writes off a promise by the write-off command, as a manager.
async fn write_off(app: &TestApp, promise: &Value) {
    send(
        app,
        Method::POST,
        &format!("/v1/gestures/{}/write-off", id(promise)),
        &app.token(Role::Manager),
        &json!({"reason_code": "goodwill"}),
    )
    .await
    .expect(200);
}

/// A customer's promises written off: (all, waived, broken).
async fn written_off(app: &TestApp, token: &str, c: &str) -> (Value, Value, Value) {
    let s = app
        .get(&format!("/v1/customers/{c}/summary"), token)
        .await
        .expect(200);
    let p = &s["promises"];
    (
        p["written_off"].clone(),
        p["waived"].clone(),
        p["broken"].clone(),
    )
}

async fn put_policy(app: &TestApp, change: impl FnOnce(&mut Value)) -> Value {
    let admin = app.token(Role::Admin);
    let mut p = app.get("/v1/policy", &admin).await.expect(200)["policy"].clone();
    change(&mut p);
    app.put_policy_in_force(&p).await
}

/// role, kind, amount (free service: retail value), token scope, outcome:
/// `approved`, `pending:<tier>` or `refused:<code>`.
const DECISIONS: &[(&str, &str, &str, &str, &str)] = &[
    ("pos", "deferred_payment", "10.95", "own", "approved"),
    ("pos", "deferred_payment", "25.01", "own", "pending:1"),
    ("clerk", "service_recovery", "25.00", "all", "approved"),
    ("clerk", "service_recovery", "25.01", "all", "pending:1"),
    ("clerk", "store_credit", "250.00", "own", "pending:1"),
    ("clerk", "store_credit", "250.01", "own", "pending:2"),
    ("clerk", "free_service", "30.00", "all", "pending:1"),
    ("clerk", "recognition", "-", "all", "approved"),
    ("clerk", "customer_favour", "-", "all", "approved"),
    (
        "clerk",
        "service_recovery",
        "5.00",
        "other",
        "refused:store_scope",
    ),
    ("manager", "service_recovery", "250.00", "own", "approved"),
    ("manager", "free_service", "250.01", "own", "pending:2"),
    ("manager", "deferred_payment", "900.00", "own", "pending:2"),
    (
        "manager",
        "store_credit",
        "5.00",
        "other",
        "refused:store_scope",
    ),
    ("finance", "service_recovery", "1000.00", "all", "approved"),
    ("finance", "service_recovery", "1500.00", "all", "pending:2"),
    ("admin", "store_credit", "1000.00", "all", "approved"),
    ("admin", "store_credit", "1000.01", "all", "pending:2"),
    (
        "auditor",
        "service_recovery",
        "5.00",
        "all",
        "refused:role_forbidden",
    ),
];

async fn policy_matrix(app: TestApp) {
    let store = app.store("PM", "USD").await;
    let elsewhere = app.store("PX", "USD").await;
    let due = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(7)).to_string();
    let staff = id(&app
        .post(
            "/v1/staff",
            &app.token(Role::Admin),
            &json!({"name": "Rae", "store_ids": [store]}),
        )
        .await
        .expect(201));
    for (i, (role, kind, amount, scope, outcome)) in DECISIONS.iter().enumerate() {
        let role: Role = role.parse().unwrap();
        let stores = match *scope {
            "own" => Some(vec![store]),
            "other" => Some(vec![elsewhere]),
            _ => None,
        };
        // One requester and one customer per row: no split, no budget between rows.
        let token = app.token_for(app.tenant, &format!("matrix-{i}"), role, stores);
        let c = customer(&app, &format!("PM-{i}")).await;
        let mut body =
            json!({"kind": kind, "store_id": store, "reason_code": "goodwill", "story": "row"});
        match *kind {
            "deferred_payment" => {
                body["amount"] = usd(amount);
                body["due_on"] = json!(due);
            }
            "free_service" => {
                body["retail_value"] = usd(amount);
                body["cost"] = usd("5.00");
            }
            "recognition" => body["staff_ids"] = json!([staff]),
            "customer_favour" => {}
            _ => body["amount"] = usd(amount),
        }
        let r = request(&app, &token, &c, &body).await;
        let row = format!("row {i}: {role} {kind} {amount} {scope}");
        match outcome.split_once(':') {
            None => {
                let g = r.expect(201);
                assert_eq!(g["status"], "approved", "{row}: {g}");
                assert_eq!(g["decision"]["tier"], Value::Null, "{row}");
                assert_eq!(g["decision"]["policy_version"], 1, "{row}");
            }
            Some(("pending", tier)) => {
                let g = r.expect(201);
                assert_eq!(g["status"], "pending_approval", "{row}: {g}");
                assert_eq!(g["decision"]["tier"], tier.parse::<i64>().unwrap(), "{row}");
                assert_eq!(g["decision"]["rule"], "above_self_grant_limit", "{row}");
                let approvers = if tier == "1" {
                    json!(["manager", "finance", "admin"])
                } else {
                    json!(["finance", "admin"])
                };
                assert_eq!(g["decision"]["approvers"], approvers, "{row}");
                assert!(g["decision"]["expires_at"].is_string(), "{row}");
            }
            Some(("refused", code)) => {
                r.problem(403, code);
            }
            _ => unreachable!(),
        }
    }
    ledger_clean(&app).await;
}
both!(policy_matrix);

/// Tier × approver role × approver scope → 200 or the 403 rule. The requester is
/// always someone else.
const APPROVERS: &[(&str, &str, &str, &str)] = &[
    ("30.00", "manager", "own", "ok"),
    ("30.00", "manager", "other", "store_scope"),
    ("30.00", "finance", "all", "ok"),
    ("30.00", "admin", "all", "ok"),
    ("300.00", "manager", "own", "approval_tier"),
    ("300.00", "manager", "all", "approval_tier"),
    ("300.00", "finance", "own", "ok"),
    ("300.00", "admin", "all", "ok"),
    ("30.00", "clerk", "all", "role_forbidden"),
    ("30.00", "auditor", "all", "role_forbidden"),
];

async fn segregation(app: TestApp) {
    let store = app.store("SG", "USD").await;
    let other = app.store("SO", "USD").await;
    let admin = app.token(Role::Admin);
    let c = customer(&app, "SG-1").await;
    let clerk = app.token_for(app.tenant, "sg-clerk", Role::Clerk, Some(vec![store]));
    for (i, (amount, role, scope, outcome)) in APPROVERS.iter().enumerate() {
        let requester = app.token_for(app.tenant, &format!("sg-req-{i}"), Role::Clerk, None);
        let c = customer(&app, &format!("SG-A{i}")).await;
        let g = request(&app, &requester, &c, &recovery(&store, amount))
            .await
            .expect(201);
        assert_eq!(g["status"], "pending_approval");
        let stores = match *scope {
            "own" => Some(vec![store]),
            "other" => Some(vec![other]),
            _ => None,
        };
        let who = app.token_for(
            app.tenant,
            &format!("sg-approver-{i}"),
            role.parse().unwrap(),
            stores,
        );
        let r = act(&app, &who, &id(&g), "approve", json!({})).await;
        match *outcome {
            "ok" => {
                let a = r.expect(200);
                assert_eq!(a["status"], "approved");
                assert_eq!(a["decision"]["decided"]["by"], format!("sg-approver-{i}"));
            }
            code => {
                r.problem(403, code);
            }
        }
    }

    // Self-approval, even under another role.
    let g = request(&app, &clerk, &c, &recovery(&store, "40.00"))
        .await
        .expect(201);
    let same_sub = app.token_for(app.tenant, "sg-clerk", Role::Manager, None);
    act(&app, &same_sub, &id(&g), "approve", json!({}))
        .await
        .problem(403, "self_approval");
    act(&app, &same_sub, &id(&g), "reject", json!({"note": "no"}))
        .await
        .problem(403, "self_approval");

    // A staff member the gesture names.
    let named = app
        .post(
            "/v1/staff",
            &admin,
            &json!({"name": "Nia", "store_ids": [store], "subject": "sg-nia"}),
        )
        .await
        .expect(201);
    let mut body = recovery(&store, "40.00");
    body["staff_ids"] = json!([id(&named)]);
    let g = request(&app, &clerk, &c, &body).await.expect(201);
    let nia = app.token_for(app.tenant, "sg-nia", Role::Manager, Some(vec![store]));
    act(&app, &nia, &id(&g), "approve", json!({}))
        .await
        .problem(403, "named_staff");

    // The staff member at fault in the incident.
    let fault = app
        .post(
            "/v1/staff",
            &admin,
            &json!({"name": "Fay", "store_ids": [store], "subject": "sg-fay"}),
        )
        .await
        .expect(201);
    let incident = app
        .post(
            "/v1/incidents",
            &admin,
            &json!({"store_id": store, "cause": "staff_error", "staff_ids": [id(&fault)],
                "description": "The display was forgotten"}),
        )
        .await
        .expect(201);
    let mut body = recovery(&store, "40.00");
    body["incident_id"] = json!(id(&incident));
    let g = request(&app, &clerk, &c, &body).await.expect(201);
    let fay = app.token_for(app.tenant, "sg-fay", Role::Manager, Some(vec![store]));
    act(&app, &fay, &id(&g), "approve", json!({}))
        .await
        .problem(403, "staff_at_fault");
    // The queue hides what the caller may not decide.
    let queue = app.get("/v1/approvals", &fay).await.expect(200);
    assert!(
        !queue["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["gesture"]["id"] == g["id"])
    );
    // ... and lists it, read only, among what waits for someone else.
    let others = app
        .get("/v1/approvals?waiting_for=others", &fay)
        .await
        .expect(200);
    let mine = others["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["gesture"]["id"] == g["id"])
        .expect("the read-only list shows what waits at her store");
    assert_eq!(mine["read_only"], true);
    assert_eq!(mine["waiting_for"]["reason"], "staff_at_fault");
    assert_eq!(mine["store"]["id"], json!(store));
    assert!(
        mine["store"]["code"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    let mgr = app.token_for(app.tenant, "sg-mgr", Role::Manager, Some(vec![store]));
    let queue = app.get("/v1/approvals", &mgr).await.expect(200);
    let item = queue["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["gesture"]["id"] == g["id"])
        .expect("the manager may decide it");
    assert_eq!(item["read_only"], false);
    assert_eq!(item["waiting_for"], Value::Null);
    assert_eq!(item["store"]["id"], json!(store));
    // Nothing the manager may decide is in her read-only list.
    let others = app
        .get("/v1/approvals?waiting_for=others", &mgr)
        .await
        .expect(200);
    assert!(
        !others["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["gesture"]["id"] == g["id"])
    );
    act(&app, &mgr, &id(&g), "approve", json!({"note": "fine"}))
        .await
        .expect(200);

    // Finance: 1,500 by one finance user, approved by another, never by themself.
    let fin_a = app.token_for(app.tenant, "fin-a", Role::Finance, None);
    let fin_b = app.token_for(app.tenant, "fin-b", Role::Finance, None);
    let big = request(&app, &fin_a, &c, &recovery(&store, "1500.00"))
        .await
        .expect(201);
    assert_eq!(big["status"], "pending_approval");
    assert_eq!(big["decision"]["tier"], 2);
    act(&app, &fin_a, &id(&big), "approve", json!({}))
        .await
        .problem(403, "self_approval");
    let queue_a = app.get("/v1/approvals", &fin_a).await.expect(200);
    assert!(
        !queue_a["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["gesture"]["id"] == big["id"])
    );
    // The store's manager cannot decide tier 2, but sees it wait for finance.
    let waiting = app
        .get("/v1/approvals?waiting_for=others", &mgr)
        .await
        .expect(200);
    let big_item = waiting["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["gesture"]["id"] == big["id"])
        .expect("a manager sees what waits for finance at her store");
    assert_eq!(big_item["waiting_for"]["reason"], "approval_tier");
    assert_eq!(
        big_item["waiting_for"]["approvers"],
        json!(["finance", "admin"])
    );
    // A manager of another store does not.
    let other_store = app.store("SG-OTHER", "USD").await;
    let elsewhere = app.token_for(
        app.tenant,
        "sg-other",
        Role::Manager,
        Some(vec![other_store]),
    );
    let theirs = app
        .get("/v1/approvals?waiting_for=others", &elsewhere)
        .await
        .expect(200);
    assert_eq!(theirs["data"], json!([]));
    app.get("/v1/approvals?waiting_for=everyone", &mgr)
        .await
        .names_field("waiting_for");
    let done = act(
        &app,
        &fin_b,
        &id(&big),
        "approve",
        json!({"note": "worth it"}),
    )
    .await
    .expect(200);
    assert_eq!(done["status"], "approved");
    assert_eq!(done["decision"]["decided"]["note"], "worth it");

    // Reject needs a note; cancel is the requester's alone; nothing decides twice.
    let g = request(&app, &clerk, &c, &recovery(&store, "60.00"))
        .await
        .expect(201);
    act(&app, &mgr, &id(&g), "reject", json!({}))
        .await
        .names_field("note");
    act(&app, &mgr, &id(&g), "cancel", json!({}))
        .await
        .problem(403, "not_requester");
    let cancelled = act(&app, &clerk, &id(&g), "cancel", json!({}))
        .await
        .expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    let p = act(&app, &mgr, &id(&g), "approve", json!({}))
        .await
        .problem(409, "already_decided");
    assert_eq!(p["decision"], "cancelled");
    // Approving moves money: the key is required.
    let g = request(&app, &clerk, &c, &recovery(&store, "61.00"))
        .await
        .expect(201);
    app.post(
        &format!("/v1/gestures/{}/approve", id(&g)),
        &mgr,
        &json!({}),
    )
    .await
    .problem(400, "idempotency_key_required");
    let rejected = act(&app, &mgr, &id(&g), "reject", json!({"note": "too much"}))
        .await
        .expect(200);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["decision"]["decided"]["outcome"], "rejected");
    ledger_clean(&app).await;
}
both!(segregation);

async fn budgets_escalate_over_rolling_windows(app: TestApp) {
    let store = app.store("BU", "USD").await;
    let admin = app.token(Role::Admin);
    put_policy(&app, |p| {
        p["budgets"] = json!([
            {"name": "customer_yearly", "scope": "customer", "window_days": 365, "limit": {"any": "300"}},
        ]);
    })
    .await;
    // Customer budget: 290 of 300 granted; a clerk's 25 (within the clerk's own
    // limit) escalates, with 10 left.
    let c = customer(&app, "BU-1").await;
    let granted = request(&app, &admin, &c, &recovery(&store, "290.00"))
        .await
        .expect(201);
    assert_eq!(granted["status"], "approved");
    let clerk = app.token_for(app.tenant, "bu-clerk", Role::Clerk, None);
    let g = request(&app, &clerk, &c, &recovery(&store, "25.00"))
        .await
        .expect(201);
    assert_eq!(g["status"], "pending_approval");
    let d = &g["decision"];
    assert_eq!(d["rule"], "budget_exceeded");
    assert_eq!(d["tier"], 1);
    assert_eq!(d["approvers"], json!(["manager", "finance", "admin"]));
    assert_eq!(
        d["budgets"],
        json!([{"name": "customer_yearly", "scope": "customer", "window_days": 365,
            "limit": usd("300.00"), "used": usd("290.00"), "left": usd("10.00"), "exceeded": true}])
    );
    let detail = app
        .get(
            &format!("/v1/gestures/{}/decision", id(&g)),
            &app.token(Role::Pos),
        )
        .await
        .expect(200);
    assert_eq!(detail["budgets"][0]["left"], usd("10.00"));
    assert_eq!(detail["policy_version"], 2);
    act(&app, &clerk, &id(&g), "cancel", json!({}))
        .await
        .expect(200);
    // A year and a day later the window has rolled past the 290.
    app.clock.advance(chrono::TimeDelta::days(366));
    let g = request(&app, &clerk, &c, &recovery(&store, "25.00"))
        .await
        .expect(201);
    assert_eq!(g["status"], "approved", "{g}");
    assert_eq!(g["decision"]["budgets"][0]["used"], usd("0.00"));

    // Per requester per day.
    put_policy(&app, |p| {
        p["budgets"] = json!([
            {"name": "clerk_daily", "scope": "requester", "window_days": 1, "limit": {"any": "50"}},
        ]);
    })
    .await;
    let daily = app.token_for(app.tenant, "bu-daily", Role::Clerk, None);
    for n in 0..2 {
        let c = customer(&app, &format!("BU-D{n}")).await;
        let g = request(&app, &daily, &c, &recovery(&store, "20.00"))
            .await
            .expect(201);
        assert_eq!(g["status"], "approved");
    }
    let c3 = customer(&app, "BU-D3").await;
    let g = request(&app, &daily, &c3, &recovery(&store, "20.00"))
        .await
        .expect(201);
    assert_eq!(
        (g["status"].as_str(), g["decision"]["rule"].as_str()),
        (Some("pending_approval"), Some("budget_exceeded"))
    );
    assert_eq!(g["decision"]["budgets"][0]["left"], usd("10.00"));
    app.clock.advance(chrono::TimeDelta::hours(25));
    let c4 = customer(&app, "BU-D4").await;
    let g = request(&app, &daily, &c4, &recovery(&store, "20.00"))
        .await
        .expect(201);
    assert_eq!(g["status"], "approved");

    // Per store per month; an escalation of a request that already waits goes
    // one tier up.
    put_policy(&app, |p| {
        p["budgets"] = json!([
            {"name": "store_monthly", "scope": "store", "window_days": 30, "limit": {"any": "400"}},
        ]);
    })
    .await;
    let shop = app.store("BS", "USD").await;
    let c5 = customer(&app, "BU-S1").await;
    request(&app, &admin, &c5, &recovery(&shop, "390.00"))
        .await
        .expect(201);
    let c6 = customer(&app, "BU-S2").await;
    let g = request(&app, &clerk, &c6, &recovery(&shop, "20.00"))
        .await
        .expect(201);
    assert_eq!(g["decision"]["rule"], "budget_exceeded");
    assert_eq!(g["decision"]["tier"], 1);
    assert_eq!(g["decision"]["budgets"][0]["left"], usd("10.00"));
    let g = request(&app, &clerk, &c6, &recovery(&shop, "30.00"))
        .await
        .expect(201);
    assert_eq!(
        g["decision"]["tier"], 2,
        "above the limit and the budget: {g}"
    );
    // A manager may not approve what the budget sent up to finance.
    let mgr = app.token_for(app.tenant, "bu-mgr", Role::Manager, None);
    act(&app, &mgr, &id(&g), "approve", json!({}))
        .await
        .problem(403, "approval_tier");
    app.clock.advance(chrono::TimeDelta::days(31));
    let c7 = customer(&app, "BU-S3").await;
    let g = request(&app, &clerk, &c7, &recovery(&shop, "20.00"))
        .await
        .expect(201);
    assert_eq!(g["status"], "approved");
    ledger_clean(&app).await;
}
both!(budgets_escalate_over_rolling_windows);

async fn split_detection(app: TestApp) {
    let store = app.store("SP", "USD").await;
    let c = customer(&app, "SP-1").await;
    let clerk = app.token_for(app.tenant, "sp-clerk", Role::Clerk, None);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let g = request(&app, &clerk, &c, &recovery(&store, "10.00"))
            .await
            .expect(201);
        statuses.push((
            g["status"].as_str().unwrap().to_owned(),
            g["decision"]["rule"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(
        statuses,
        [
            ("approved".into(), "within_self_grant_limit".into()),
            ("approved".into(), "within_self_grant_limit".into()),
            ("pending_approval".into(), "split_threshold".into()),
        ]
    );
    // A day later the window has passed.
    app.clock.advance(chrono::TimeDelta::hours(25));
    let g = request(&app, &clerk, &c, &recovery(&store, "10.00"))
        .await
        .expect(201);
    assert_eq!(g["status"], "approved");
    // Off when the policy says so.
    put_policy(&app, |p| p["split_detection"]["enabled"] = json!(false)).await;
    for _ in 0..3 {
        let g = request(&app, &clerk, &c, &recovery(&store, "10.00"))
            .await
            .expect(201);
        assert_eq!(g["status"], "approved");
    }
}
both!(split_detection);

async fn trust_in_customers(app: TestApp) {
    let store = app.store("TR", "USD").await;
    put_policy(&app, |p| {
        p["trust"] = json!({"enabled": true, "per_kept_promise": {"any": "10"},
            "max_increase": {"any": "20"}, "write_off_window_days": 90,
            "min_promise_amount": {"any": "5"}, "min_days_held": 1});
    })
    .await;
    let c = customer(&app, "TR-1").await;
    let clerk = app.token_for(app.tenant, "tr-clerk", Role::Clerk, None);
    let till = app.token_for(app.tenant, "tr-till", Role::Pos, None);
    // Due a week after the service's today (the test moves its clock).
    let promise = |a: &str| {
        let due = (app.clock.now().date() + chrono::TimeDelta::days(7)).to_string();
        json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
            "story": "Pay tomorrow", "amount": usd(a), "due_on": due})
    };
    // Kept promises: made, held a day, paid at the till.
    for _ in 0..3 {
        let p = request(&app, &clerk, &c, &promise("5.00"))
            .await
            .expect(201);
        app.clock.advance(chrono::TimeDelta::hours(25));
        send(
            &app,
            Method::POST,
            &format!("/v1/gestures/{}/payments", id(&p)),
            &till,
            &json!({"amount": usd("5.00")}),
        )
        .await
        .expect(201);
    }
    // Three kept: +20 (capped), so 45 goes through, 46 waits.
    let g = request(&app, &clerk, &c, &promise("45.00"))
        .await
        .expect(201);
    assert_eq!(g["status"], "approved", "{g}");
    assert_eq!(g["decision"]["trust"]["bonus"], usd("20.00"));
    app.clock.advance(chrono::TimeDelta::hours(25));
    let g = request(&app, &clerk, &c, &promise("46.00"))
        .await
        .expect(201);
    assert_eq!(g["status"], "pending_approval");
    act(&app, &clerk, &id(&g), "cancel", json!({}))
        .await
        .expect(200);
    // The store's own mistake waived (a waiver, not a broken promise): trust
    // stays.
    let waived = request(&app, &clerk, &c, &promise("1.00"))
        .await
        .expect(201);
    let waiver = request(
        &app,
        &app.token(Role::Manager),
        &c,
        &json!({"kind": "balance_waiver", "store_id": store, "reason_code": "staff_error",
            "story": "We rang it up twice", "amount": usd("1.00"), "applies_to": [id(&waived)]}),
    )
    .await
    .expect(201);
    assert_eq!(waiver["status"], "approved", "{waiver}");
    app.clock.advance(chrono::TimeDelta::hours(25));
    let g = request(&app, &clerk, &c, &promise("45.00"))
        .await
        .expect(201);
    assert_eq!(
        g["status"], "approved",
        "a waiver is not the customer's failure: {g}"
    );
    assert_eq!(g["decision"]["trust"]["withdrawn_after_write_off"], false);
    // The summary keeps it apart from a broken promise.
    assert_eq!(
        written_off(&app, &clerk, &c).await,
        (json!(1), json!(1), json!(0))
    );
    // Nor is a write-off before the promise fell due.
    app.clock.advance(chrono::TimeDelta::hours(25));
    let early = request(&app, &clerk, &c, &promise("1.00"))
        .await
        .expect(201);
    write_off(&app, &early).await;
    app.clock.advance(chrono::TimeDelta::hours(25));
    let g = request(&app, &clerk, &c, &promise("45.00"))
        .await
        .expect(201);
    assert_eq!(g["status"], "approved", "{g}");
    // A promise written off after it fell due, unpaid: no self-granted promise
    // at all for the window.
    app.clock.advance(chrono::TimeDelta::hours(25));
    let open = request(&app, &clerk, &c, &promise("1.00"))
        .await
        .expect(201);
    app.clock.advance(chrono::TimeDelta::days(8));
    write_off(&app, &open).await;
    app.clock.advance(chrono::TimeDelta::hours(25));
    let g = request(&app, &clerk, &c, &promise("1.00"))
        .await
        .expect(201);
    assert_eq!(g["status"], "pending_approval", "{g}");
    assert_eq!(g["decision"]["trust"]["withdrawn_after_write_off"], true);
    act(&app, &clerk, &id(&g), "cancel", json!({}))
        .await
        .expect(200);
    assert_eq!(
        written_off(&app, &clerk, &c).await,
        (json!(3), json!(2), json!(1))
    );
    // Finance reviewing the write-off sees the same in the customer's standing.
    let queue = app
        .get(
            "/v1/finance/write-offs?status=unreviewed",
            &app.token(Role::Finance),
        )
        .await
        .expect(200);
    let item = &queue["data"].as_array().unwrap()[0];
    assert_eq!(item["customer"]["promises_written_off"], 3, "{item}");
    assert_eq!(item["customer"]["promises_waived"], 2, "{item}");
    assert_eq!(item["customer"]["promises_broken"], 1, "{item}");
    // Reversing the write-off reopens the promise: no longer broken; a
    // second write-off, late again, breaks it again.
    let waivers = app
        .get(
            &format!("/v1/gestures?customer_id={c}&kind=balance_waiver&status=approved"),
            &app.token(Role::Manager),
        )
        .await
        .expect(200);
    let late = waivers["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["write_off_of"] == json!(id(&open)))
        .expect("the late write-off's waiver")
        .clone();
    send(
        &app,
        Method::POST,
        &format!("/v1/gestures/{}/reversal", id(&late)),
        &app.token(Role::Manager),
        &json!({"reason": "the customer paid after all"}),
    )
    .await
    .expect(200);
    assert_eq!(
        written_off(&app, &clerk, &c).await,
        (json!(2), json!(2), json!(0))
    );
    ledger_clean(&app).await;
    write_off(&app, &open).await;
    assert_eq!(
        written_off(&app, &clerk, &c).await,
        (json!(3), json!(2), json!(1))
    );
    app.clock.advance(chrono::TimeDelta::days(91));
    let g = request(&app, &clerk, &c, &promise("45.00"))
        .await
        .expect(201);
    assert_eq!(g["status"], "approved", "{g}");
    ledger_clean(&app).await;
}
both!(trust_in_customers);

/// Trust cannot be farmed: promises below the minimum amount, paid off the
/// moment they are made, or paid by the clerk who requested them earn nothing.
async fn trust_cannot_be_farmed(app: TestApp) {
    let store = app.store("TF", "USD").await;
    put_policy(&app, |p| {
        p["trust"] = json!({"enabled": true, "per_kept_promise": {"any": "5"},
            "max_increase": {"any": "50"}, "write_off_window_days": 90});
        // Thirty promises in a day would trip split detection: not this test's point.
        p["split_detection"]["enabled"] = json!(false);
    })
    .await;
    let c = customer(&app, "TF-1").await;
    let clerk = app.token_for(app.tenant, "tf-clerk", Role::Clerk, None);
    let till = app.token_for(app.tenant, "tf-till", Role::Pos, None);
    let promise = |a: &str| {
        let due = (app.clock.now().date() + chrono::TimeDelta::days(7)).to_string();
        json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
            "story": "Pay tomorrow", "amount": usd(a), "due_on": due})
    };
    let keep = |amount: &'static str, wait: bool, payer: String| {
        let app = &app;
        let clerk = clerk.clone();
        let c = c.clone();
        let body = promise(amount);
        async move {
            let p = request(app, &clerk, &c, &body).await.expect(201);
            assert_eq!(p["status"], "approved", "{p}");
            if wait {
                app.clock.advance(chrono::TimeDelta::hours(25));
            }
            send(
                app,
                Method::POST,
                &format!("/v1/gestures/{}/payments", id(&p)),
                &payer,
                &json!({"amount": usd(amount)}),
            )
            .await
            .expect(201);
        }
    };
    // Ten tiny promises paid at once by the clerk, then ten of 10.00 paid at
    // once at the till, then ten of 10.00 held a day but paid by the clerk.
    for _ in 0..10 {
        keep("0.01", false, clerk.clone()).await;
    }
    for _ in 0..10 {
        keep("10.00", false, till.clone()).await;
    }
    for _ in 0..10 {
        keep("10.00", true, clerk.clone()).await;
    }
    let summary = app
        .get(&format!("/v1/customers/{c}/summary"), &clerk)
        .await
        .expect(200);
    assert_eq!(summary["promises"]["kept_on_time"], 30, "{summary}");
    // None of it earned trust: the clerk's limit is still 25.00.
    let g = request(&app, &clerk, &c, &promise("25.01"))
        .await
        .expect(201);
    assert_eq!(g["status"], "pending_approval", "{g}");
    assert_eq!(g["decision"]["trust"]["bonus"], usd("0.00"), "{g}");
    act(&app, &clerk, &id(&g), "cancel", json!({}))
        .await
        .expect(200);
    // One promise that shows trust (10.00, held a day, paid at the till) earns 5.00.
    keep("10.00", true, till.clone()).await;
    let g = request(&app, &clerk, &c, &promise("30.00"))
        .await
        .expect(201);
    assert_eq!(g["status"], "approved", "{g}");
    assert_eq!(g["decision"]["trust"]["bonus"], usd("5.00"));
    ledger_clean(&app).await;
}
both!(trust_cannot_be_farmed);

async fn policy_versions(app: TestApp) {
    let store = app.store("PV", "USD").await;
    let admin = app.token(Role::Admin);
    let v1 = app
        .get("/v1/policy", &app.token(Role::Clerk))
        .await
        .expect(200);
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["created_by"], "system");
    assert_eq!(v1["policy"]["pending_expiry_hours"], 72);
    assert_eq!(
        v1["policy"]["self_grant_limits"][0],
        json!({"roles": ["pos", "clerk"], "limit": {"any": "25"}})
    );
    put_policy(&app, |p| p["pending_expiry_hours"] = json!(48)).await;
    let v3 = put_policy(&app, |p| {
        p["self_grant_limits"][0]["limit"] = json!({"any": "40"});
    })
    .await;
    assert_eq!(v3["version"], 3);
    assert_eq!(v3["created_by"], "tester");
    let c = customer(&app, "PV-1").await;
    let clerk = app.token_for(app.tenant, "pv-clerk", Role::Clerk, None);
    let under3 = request(&app, &clerk, &c, &recovery(&store, "35.00"))
        .await
        .expect(201);
    assert_eq!(under3["status"], "approved");
    assert_eq!(under3["decision"]["policy_version"], 3);
    let c2 = customer(&app, "PV-2").await;
    let pending3 = request(&app, &clerk, &c2, &recovery(&store, "45.00"))
        .await
        .expect(201);
    assert_eq!(pending3["decision"]["policy_version"], 3);
    // Version 4 puts the tier-1 band's approvers to finance only: the pending
    // request keeps version 3's tier.
    put_policy(&app, |p| {
        p["self_grant_limits"][0]["limit"] = json!({"any": "10"});
        p["approval_tiers"][0]["approvers"] = json!(["finance", "admin"]);
    })
    .await;
    for g in [&under3, &pending3] {
        let d = app
            .get(
                &format!("/v1/gestures/{}/decision", id(g)),
                &app.token(Role::Auditor),
            )
            .await
            .expect(200);
        assert_eq!(d["policy_version"], 3);
        let again = app
            .get(&format!("/v1/gestures/{}", id(g)), &admin)
            .await
            .expect(200);
        assert_eq!(again["decision"]["policy_version"], 3);
    }
    let d = app
        .get(&format!("/v1/gestures/{}/decision", id(&pending3)), &admin)
        .await
        .expect(200);
    assert_eq!(d["approvers"], json!(["manager", "finance", "admin"]));
    let c3 = customer(&app, "PV-3").await;
    let under4 = request(&app, &clerk, &c3, &recovery(&store, "15.00"))
        .await
        .expect(201);
    assert_eq!(under4["status"], "pending_approval");
    assert_eq!(under4["decision"]["policy_version"], 4);
    assert_eq!(under4["decision"]["approvers"], json!(["finance", "admin"]));

    // An invalid policy: 422 naming every problem; version 4 stays.
    let before = app.counts();
    let mut bad = app.get("/v1/policy", &admin).await.expect(200)["policy"].clone();
    bad["approval_tiers"][1]["from"] = json!({"any": "300"});
    bad["approval_tiers"][0]["approvers"] = json!(["clerk"]);
    bad["self_grant_limits"][1]["roles"] = json!(["wizard"]);
    bad["self_grant_limits"][2]["limit"] = json!({"any": "1000", "XYZ": "1"});
    bad["budgets"] =
        json!([{"name": "b", "scope": "planet", "window_days": 0, "limit": {"any": "1"}}]);
    bad["split_detection"]["window_hours"] = json!(0);
    bad["store_overrides"] =
        json!([{"store_id": uuid::Uuid::now_v7(), "roles": ["clerk"], "limit": {"any": "1"}}]);
    let r = app.put("/v1/policy", &admin, &bad).await;
    let p = r.problem(422, "validation_failed");
    let fields: BTreeSet<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "approval_tiers[1].from",
        "approval_tiers[0].approvers[0]",
        "self_grant_limits[1].roles[0]",
        "self_grant_limits[2].limit.XYZ",
        "budgets[0].scope",
        "budgets[0].window_days",
        "split_detection.window_hours",
        "store_overrides[0].store_id",
    ] {
        assert!(fields.contains(f), "{f} missing from {fields:?}");
    }
    // Unknown fields and wrong types are refused too.
    app.put(
        "/v1/policy",
        &admin,
        &json!({"self_grant_limits": [], "surprise": 1}),
    )
    .await
    .problem(422, "validation_failed");
    app.put("/v1/policy", &app.token(Role::Manager), &bad)
        .await
        .problem(403, "role_forbidden");
    assert_eq!(app.counts(), before, "nothing was written");
    assert_eq!(
        app.get("/v1/policy", &admin).await.expect(200)["version"],
        4
    );
    let list = app
        .get("/v1/policy/versions?limit=3", &app.token(Role::Pos))
        .await
        .expect(200);
    let versions: Vec<i64> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [4, 3, 2]);
    assert_eq!(list["next_cursor"], "2");
    let rest = app
        .get("/v1/policy/versions?starting_after=2", &admin)
        .await
        .expect(200);
    assert_eq!(rest["data"][0]["version"], 1);
    assert_eq!(rest["has_more"], false);
    let v2 = app.get("/v1/policy/versions/2", &admin).await.expect(200);
    assert_eq!(v2["policy"]["pending_expiry_hours"], 48);
    app.get("/v1/policy/versions/9", &admin)
        .await
        .problem(404, "not_found");
    // Another tenant has its own version 1.
    let other = app.token_for(app.other_tenant, "o", Role::Admin, None);
    assert_eq!(
        app.get("/v1/policy", &other).await.expect(200)["version"],
        1
    );
}
both!(policy_versions);

async fn expiry_needs_no_job(app: TestApp) {
    let store = app.store("EX", "USD").await;
    let c = customer(&app, "EX-1").await;
    let clerk = app.token_for(app.tenant, "ex-clerk", Role::Clerk, None);
    let mgr = app.token_for(app.tenant, "ex-mgr", Role::Manager, None);
    let g = request(&app, &clerk, &c, &recovery(&store, "30.00"))
        .await
        .expect(201);
    app.clock.advance(chrono::TimeDelta::hours(73));
    let p = act(&app, &mgr, &id(&g), "approve", json!({}))
        .await
        .problem(409, "already_decided");
    assert_eq!(p["decision"], "expired");
    act(&app, &clerk, &id(&g), "cancel", json!({}))
        .await
        .problem(409, "already_decided");
    let d = app
        .get(&format!("/v1/gestures/{}/decision", id(&g)), &mgr)
        .await
        .expect(200);
    assert_eq!(
        (d["status"].as_str(), d["expired"].as_bool()),
        (Some("pending_approval"), Some(true))
    );
    let queue = app.get("/v1/approvals", &mgr).await.expect(200);
    assert_eq!(queue["data"], json!([]));

    // `approvals expire` (real time) marks what is due and writes its events; a
    // request made 80 hours "ago" is due.
    app.clock.advance(chrono::TimeDelta::hours(-73 - 80));
    let old = request(&app, &clerk, &c, &recovery(&store, "31.00"))
        .await
        .expect(201);
    app.clock.advance(chrono::TimeDelta::hours(80));
    let fresh = request(&app, &clerk, &c, &recovery(&store, "32.00"))
        .await
        .expect(201);
    let tenant = app.tenant.to_string();
    let run = || app.cli(&["approvals", "expire", "--tenant", &tenant]);
    assert_eq!(run(), "1");
    assert_eq!(run(), "0", "idempotent");
    let old_now = app
        .get(&format!("/v1/gestures/{}", id(&old)), &mgr)
        .await
        .expect(200);
    assert_eq!(old_now["status"], "expired");
    assert_eq!(old_now["decision"]["decided"]["outcome"], "expired");
    let fresh_now = app
        .get(&format!("/v1/gestures/{}", id(&fresh)), &mgr)
        .await
        .expect(200);
    assert_eq!(fresh_now["status"], "pending_approval");
    let feed = app.get("/v1/events?limit=100", &clerk).await.expect(200);
    let expired = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "gesture.expired" && e["entity_id"] == old["id"])
        .expect("the expiry is in the feed");
    // The feed names the customer and the store as people know them.
    assert_eq!(expired["customer"]["id"], json!(c));
    assert_eq!(expired["customer"]["external_ref"], "EX-1");
    assert_eq!(expired["store"]["code"], "EX");
    let created = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "customer.created" && e["entity_id"] == json!(c))
        .expect("the customer's creation is in the feed");
    assert_eq!(created["customer"]["external_ref"], "EX-1");
    assert_eq!(created["store"], Value::Null);
    let store_created = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "store.created")
        .expect("the store's creation is in the feed");
    assert_eq!(store_created["store"]["code"], "EX");
    assert_eq!(store_created["customer"], Value::Null);
    ledger_clean(&app).await;
}
both!(expiry_needs_no_job);

/// `n` concurrent approve / reject calls on one pending gesture, spread over
/// `addresses`: exactly one wins.
async fn race_decisions(app: &TestApp, addresses: &[String], n: usize) {
    let store = app.store("RC", "USD").await;
    let c = customer(app, "RC-1").await;
    let clerk = app.token_for(app.tenant, "rc-clerk", Role::Clerk, None);
    let g = request(app, &clerk, &c, &recovery(&store, "100.00"))
        .await
        .expect(201);
    let gid = id(&g);
    let calls = (0..n).map(|i| {
        let token = app.token_for(app.tenant, &format!("rc-fin-{i}"), Role::Finance, None);
        let (verb, body) = if i % 2 == 0 {
            ("approve", json!({}))
        } else {
            ("reject", json!({"note": "no"}))
        };
        let address = addresses[i % addresses.len()].clone();
        let path = format!("/v1/gestures/{gid}/{verb}");
        async move {
            app.send_to(
                &address,
                Method::POST,
                &path,
                Some(&token),
                Some(&key()),
                Some(("application/json", body.to_string().into_bytes())),
            )
            .await
        }
    });
    let results = futures_util::future::join_all(calls).await;
    let wins: Vec<&Resp> = results.iter().filter(|r| r.status == 200).collect();
    assert_eq!(wins.len(), 1, "exactly one decision");
    let winner = wins[0].json();
    let decision = winner["status"].as_str().unwrap().to_owned();
    for r in results.iter().filter(|r| r.status != 200) {
        let p = r.problem(409, "already_decided");
        assert_eq!(p["decision"], decision.as_str());
    }
    // One set of entries (or none, if the rejection won) and one audit event.
    let entries = app
        .get(
            &format!("/v1/customers/{c}/entries?limit=100"),
            &app.token(Role::Auditor),
        )
        .await
        .expect(200);
    let expected = if decision == "approved" { 2 } else { 0 };
    assert_eq!(entries["data"].as_array().unwrap().len(), expected);
    let audit = app
        .get(
            &format!("/v1/audit?entity_type=gesture&entity_id={gid}&limit=100"),
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
    assert_eq!(
        actions,
        ["gesture.requested", &format!("gesture.{decision}")]
    );
    ledger_clean(app).await;
}

#[actix_web::test]
async fn exactly_once_on_postgres_through_two_instances() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let second = app.second_instance().await;
    race_decisions(&app, &[app.address.clone(), second], 200).await;
}

#[actix_web::test]
async fn exactly_once_on_sqlite() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    race_decisions(&app, std::slice::from_ref(&app.address), 60).await;
}

/// Polls the feed until told to stop and it is drained; returns every id seen,
/// in order.
async fn consume(
    app: &TestApp,
    address: String,
    stop: &std::sync::atomic::AtomicBool,
) -> Vec<Value> {
    let token = app.token(Role::Pos);
    let mut seen = Vec::new();
    let mut last: Option<String> = None;
    loop {
        let stopping = stop.load(std::sync::atomic::Ordering::SeqCst);
        let path = match &last {
            Some(l) => format!("/v1/events?limit=7&starting_after={l}"),
            None => "/v1/events?limit=7".to_owned(),
        };
        let page = app
            .send_to(&address, Method::GET, &path, Some(&token), None, None)
            .await
            .expect(200);
        let data = page["data"].as_array().unwrap().clone();
        if let Some(e) = data.last() {
            last = Some(id(e));
        }
        let empty = data.is_empty();
        seen.extend(data);
        if stopping && empty {
            return seen;
        }
        if empty {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

async fn feed_under_concurrent_decisions(app: TestApp) {
    let app = &app;
    let store = app.store("FD", "USD").await;
    let second = if app.backend == Backend::Postgres {
        app.second_instance().await
    } else {
        app.address.clone()
    };
    let stop = &std::sync::atomic::AtomicBool::new(false);
    let consumer = consume(app, second.clone(), stop);
    let work = async {
        // A deliberately slow transaction (PostgreSQL): it writes an event, then
        // stays open while others commit after it.
        let mut slow = None;
        if app.backend == Backend::Postgres {
            use diesel::connection::SimpleConnection;
            let mut conn = goodwill::store::DatabaseUrl::parse(&app.database_url)
                .unwrap()
                .connect()
                .unwrap();
            // Begun as every write transaction of the service begins.
            conn.batch_execute(goodwill::store::events::PG_BEGIN_WRITER)
                .unwrap();
            let ctx = goodwill::audit::AuditCtx {
                tenant: app.tenant,
                actor_sub: "slow".into(),
                actor_role: Role::Admin,
                actor_stores: None,
                request_id: "slow".into(),
                now: goodwill::clock::Clock::system().now(),
                clock: goodwill::clock::Clock::system(),
                ledger: Default::default(),
            };
            let ev = goodwill::store::audit::append(
                &mut conn,
                &ctx,
                goodwill::audit::NewEvent::created(
                    "test.slow",
                    "test",
                    "slow-1",
                    &json!({"slow": true}),
                ),
            )
            .unwrap();
            slow = Some((conn, ev.id.to_string()));
        }
        let clerk = app.token_for(app.tenant, "fd-clerk", Role::Clerk, None);
        let mut pending = Vec::new();
        for i in 0..12 {
            let c = customer(app, &format!("FD-{i}")).await;
            let g = request(app, &clerk, &c, &recovery(&store, "30.00"))
                .await
                .expect(201);
            pending.push(id(&g));
        }
        let decisions = pending.iter().enumerate().map(|(i, g)| {
            let token = app.token_for(app.tenant, &format!("fd-mgr-{i}"), Role::Manager, None);
            let verb = ["approve", "reject", "approve"][i % 3];
            let address = if i % 2 == 0 {
                app.address.clone()
            } else {
                second.clone()
            };
            let path = format!("/v1/gestures/{g}/{verb}");
            async move {
                app.send_to(
                    &address,
                    Method::POST,
                    &path,
                    Some(&token),
                    Some(&key()),
                    Some((
                        "application/json",
                        json!({"note": "seen"}).to_string().into_bytes(),
                    )),
                )
                .await
                .expect(200);
            }
        });
        futures_util::future::join_all(decisions).await;
        let slow_id = match slow {
            Some((mut conn, slow_id)) => {
                use diesel::connection::SimpleConnection;
                // Everything after the slow transaction is held back while it is
                // open: a page now shows nothing committed after it began.
                let token = app.token(Role::Pos);
                let page = app.get("/v1/events?limit=100", &token).await.expect(200);
                assert!(
                    !page["data"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|e| e["type"] == "gesture.approved"),
                    "events committed after an open transaction must wait for it"
                );
                conn.batch_execute("COMMIT").unwrap();
                Some(slow_id)
            }
            None => None,
        };
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        slow_id
    };
    let (seen, slow_id) = futures_util::future::join(consumer, work).await;
    let ids: Vec<String> = seen.iter().map(id).collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no event twice");
    // Every event of the tenant, read after everything committed.
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/v1/events?limit=100&starting_after={a}"),
            None => "/v1/events?limit=100".to_owned(),
        };
        let page = app.get(&path, &app.token(Role::Auditor)).await.expect(200);
        let data = page["data"].as_array().unwrap().clone();
        after = data.last().map(id);
        all.extend(data);
        if page["has_more"] == false {
            break;
        }
    }
    let all_ids: Vec<String> = all.iter().map(id).collect();
    assert_eq!(ids, all_ids, "the consumer saw every event, in feed order");
    if let Some(s) = slow_id {
        assert!(
            ids.contains(&s),
            "the slow transaction's event was not missed"
        );
    }
    let types: BTreeSet<&str> = seen.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for t in ["gesture.requested", "gesture.approved", "gesture.rejected"] {
        assert!(types.contains(t), "{t} in {types:?}");
    }
    // Each audit event is one feed event, with the same id.
    let audit = app
        .get("/v1/audit?limit=100", &app.token(Role::Auditor))
        .await
        .expect(200);
    let audit_ids: BTreeSet<String> = audit["data"].as_array().unwrap().iter().map(id).collect();
    let feed_ids: BTreeSet<String> = all_ids.iter().cloned().collect();
    assert!(audit_ids.is_subset(&feed_ids));
    // Another tenant's feed is its own.
    let other = app.token_for(app.other_tenant, "o", Role::Pos, None);
    assert_eq!(
        app.get("/v1/events", &other).await.expect(200)["data"],
        json!([])
    );
    app.get(
        "/v1/events?starting_after=0190b2a4-7d1c-7000-8000-000000000000",
        &other,
    )
    .await
    .names_field("starting_after");
}
both!(feed_under_concurrent_decisions);

async fn a_write_off_approved_later_reaches_finance(app: TestApp) {
    let store = app.store("WO", "USD").await;
    let c = customer(&app, "WO-1").await;
    let clerk = app.token_for(app.tenant, "wo-clerk", Role::Clerk, None);
    let due = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(1)).to_string();
    let promise = request(
        &app,
        &clerk,
        &c,
        &json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
            "story": "Pay tomorrow", "amount": usd("20.00"), "due_on": due}),
    )
    .await
    .expect(201);
    let admin = app.token(Role::Admin);
    let big = request(
        &app,
        &admin,
        &c,
        &json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
            "story": "A big one", "amount": usd("200.00"), "due_on": due}),
    )
    .await
    .expect(201);
    // The clerk's write-off of 200 waits for a manager.
    let after = send(
        &app,
        Method::POST,
        &format!("/v1/gestures/{}/write-off", id(&big)),
        &clerk,
        &json!({"reason_code": "goodwill"}),
    )
    .await
    .expect(200);
    assert_eq!(
        after["status"], "approved",
        "still open while the waiver waits"
    );
    let queue = app
        .get(
            &format!("/v1/approvals?store_id={store}&kind=balance_waiver"),
            &app.token(Role::Manager),
        )
        .await
        .expect(200);
    let item = &queue["data"][0];
    assert_eq!(item["customer"]["owed"], json!([usd("220.00")]));
    assert_eq!(item["customer"]["promises_kept_on_time"], 0);
    let waiver = id(&item["gesture"]);
    let mgr = app.token_for(app.tenant, "wo-mgr", Role::Manager, None);
    act(&app, &mgr, &waiver, "approve", json!({"note": "fair"}))
        .await
        .expect(200);
    let big_now = app
        .get(&format!("/v1/gestures/{}", id(&big)), &mgr)
        .await
        .expect(200);
    assert_eq!(big_now["status"], "written_off");
    let small = app
        .get(&format!("/v1/gestures/{}", id(&promise)), &mgr)
        .await
        .expect(200);
    assert_eq!(
        small["status"], "approved",
        "the write-off named only the big one"
    );
    let feed = app.get("/v1/events?limit=100", &mgr).await.expect(200);
    let types: Vec<(&str, &str)> = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["entity_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        types.contains(&("writeoff.created", waiver.as_str())),
        "{types:?}"
    );
    assert!(types.contains(&("gesture.written_off", big["id"].as_str().unwrap())));
    let queue = app.get("/v1/approvals", &mgr).await.expect(200);
    assert_eq!(queue["data"], json!([]));
    // Bad queries are named.
    app.get("/v1/approvals?status=approved", &mgr)
        .await
        .names_field("status");
    app.get("/v1/approvals?kind=gift", &mgr)
        .await
        .names_field("kind");
    ledger_clean(&app).await;
}
both!(a_write_off_approved_later_reaches_finance);

/// Four eyes on the policy: an admin who raises their own limit (and the
/// ceiling) and turns split detection off only proposes it; it decides
/// nothing until another admin approves it. The ceiling caps every limit.
async fn loosening_the_policy_takes_a_second_admin(app: TestApp) {
    let store = app.store("FE", "USD").await;
    let c = customer(&app, "FE-1").await;
    let amy = app.token_for(app.tenant, "admin-amy", Role::Admin, None);
    let ben = app.token_for(app.tenant, "admin-ben", Role::Admin, None);
    let credit = |a: &str| {
        json!({"kind": "store_credit", "store_id": store, "reason_code": "loyalty",
            "story": "A big thank-you", "amount": usd(a)})
    };
    let in_force = app.get("/v1/policy", &amy).await.expect(200);
    assert_eq!(
        in_force["policy"]["self_grant_ceiling"],
        json!({"any": "1000"})
    );

    // A limit above the ceiling changes nothing in effect: it applies at once,
    // and the ceiling still sends 5,000.00 to approval.
    let mut p = in_force["policy"].clone();
    p["self_grant_limits"][2]["limit"] = json!({"any": "10000000000000"});
    let v = app.put("/v1/policy", &amy, &p).await.expect(200);
    let g = request(&app, &amy, &c, &credit("5000.00"))
        .await
        .expect(201);
    assert_eq!(g["status"], "pending_approval", "{g}");
    assert_eq!(g["decision"]["self_grant_limit"], usd("1000.00"));
    act(&app, &amy, &id(&g), "cancel", json!({}))
        .await
        .expect(200);

    // Raising the ceiling and disabling split detection: a proposal (202).
    let mut loose = v["policy"].clone();
    loose["self_grant_ceiling"] = json!({"any": "10000000000000"});
    loose["split_detection"]["enabled"] = json!(false);
    let before = app.counts();
    let prop = app.put("/v1/policy", &amy, &loose).await.expect(202);
    assert_eq!(prop["state"], "pending");
    assert_eq!(prop["proposed_by"], "admin-amy");
    let reasons = prop["loosens"].to_string();
    assert!(reasons.contains("ceiling"), "{reasons}");
    assert!(reasons.contains("disables split detection"), "{reasons}");
    assert!(reasons.contains("admin may grant alone"), "{reasons}");
    assert_eq!(
        app.get("/v1/policy", &amy).await.expect(200)["version"],
        v["version"],
        "a proposal decides nothing"
    );
    let g = request(&app, &amy, &c, &credit("5000000.00"))
        .await
        .expect(201);
    assert_eq!(g["status"], "pending_approval", "{g}");
    act(&app, &ben, &id(&g), "reject", json!({"note": "no"}))
        .await
        .expect(200);
    let pid = prop["id"].as_str().unwrap().to_owned();
    let listed = app
        .get("/v1/policy/proposals?state=pending", &ben)
        .await
        .expect(200);
    assert_eq!(listed["data"][0]["id"], pid.as_str());
    assert!(app.counts() != before);

    // Its proposer cannot approve it; a manager cannot either.
    let approve = format!("/v1/policy/proposals/{pid}/approve");
    let counts = app.counts();
    app.post(&approve, &amy, &json!({}))
        .await
        .problem(403, "self_approval");
    app.post(&approve, &app.token(Role::Manager), &json!({}))
        .await
        .problem(403, "role_forbidden");
    assert_eq!(app.counts(), counts);

    // Another admin approves: it becomes the next version, by its proposer.
    let done = app
        .post(&approve, &ben, &json!({"note": "agreed with Amy"}))
        .await
        .expect(200);
    assert_eq!(done["state"], "approved");
    assert_eq!(done["decided_by"], "admin-ben");
    let next = app.get("/v1/policy", &amy).await.expect(200);
    assert_eq!(next["version"], done["version"]);
    assert_eq!(next["created_by"], "admin-amy");
    assert_eq!(next["policy"]["split_detection"]["enabled"], false);
    let g = request(&app, &amy, &c, &credit("5000.00"))
        .await
        .expect(201);
    assert_eq!(g["status"], "approved", "{g}");
    app.post(&approve, &ben, &json!({}))
        .await
        .problem(409, "already_decided");

    // Both steps are in the audit trail.
    let trail = app
        .get(
            &format!("/v1/audit?entity_type=policy_proposal&entity_id={pid}"),
            &ben,
        )
        .await
        .expect(200);
    let actions: Vec<&str> = trail["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["policy.proposed", "policy.proposal_approved"]);

    // A proposal overtaken by another version is stale; a rejected one is final.
    let stale = app.propose_loosening("admin-amy").await;
    let mut tighter = next["policy"].clone();
    tighter["split_detection"]["enabled"] = json!(true);
    app.put("/v1/policy", &amy, &tighter).await.expect(200);
    app.post(
        &format!("/v1/policy/proposals/{stale}/approve"),
        &ben,
        &json!({}),
    )
    .await
    .problem(409, "proposal_stale");
    let rejected = app.propose_loosening("admin-amy").await;
    let r = app
        .post(
            &format!("/v1/policy/proposals/{rejected}/reject"),
            &ben,
            &json!({"note": "not now"}),
        )
        .await
        .expect(200);
    assert_eq!(r["state"], "rejected");
    assert_eq!(r["note"], "not now");
    app.post(
        &format!("/v1/policy/proposals/{rejected}/approve"),
        &ben,
        &json!({}),
    )
    .await
    .problem(409, "already_decided");
    ledger_clean(&app).await;
}
both!(loosening_the_policy_takes_a_second_admin);
