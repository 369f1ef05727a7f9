//! The role × route matrix, written out literally (not derived from the code's
//! table), every cell checked; store scope; tenant isolation.

use std::collections::BTreeSet;

use actix_web::http::Method;
use goodwill::domain::roles::Role;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::TestApp;

const Y: bool = true;
const N: bool = false;

/// route → may [pos, clerk, manager, finance, auditor, admin]
pub(crate) const MATRIX: &[(&str, &str, [bool; 6])] = &[
    ("POST", "/v1/stores", [N, N, N, N, N, Y]),
    ("GET", "/v1/stores", [Y, Y, Y, Y, Y, Y]),
    ("GET", "/v1/stores/{id}", [Y, Y, Y, Y, Y, Y]),
    ("POST", "/v1/staff", [N, N, Y, N, N, Y]),
    ("GET", "/v1/staff", [Y, Y, Y, Y, Y, Y]),
    ("GET", "/v1/staff/{id}", [Y, Y, Y, Y, Y, Y]),
    ("POST", "/v1/customers", [Y, Y, Y, N, N, Y]),
    ("GET", "/v1/customers", [Y, Y, Y, Y, Y, Y]),
    ("GET", "/v1/customers/{id}", [Y, Y, Y, Y, Y, Y]),
    ("PATCH", "/v1/customers/{id}", [Y, Y, Y, N, N, Y]),
    ("POST", "/v1/customers/{id}/gestures", [Y, Y, Y, Y, N, Y]),
    ("GET", "/v1/customers/{id}/summary", [Y, Y, Y, Y, Y, Y]),
    (
        "GET",
        "/v1/customers/by-ref/{external_ref}",
        [Y, Y, Y, Y, Y, Y],
    ),
    (
        "GET",
        "/v1/customers/by-ref/{external_ref}/summary",
        [Y, Y, Y, Y, Y, Y],
    ),
    (
        "POST",
        "/v1/customers/by-ref/{external_ref}/gestures",
        [Y, Y, Y, Y, N, Y],
    ),
    (
        "POST",
        "/v1/customers/by-ref/{external_ref}/payments",
        [Y, Y, Y, Y, N, Y],
    ),
    (
        "POST",
        "/v1/customers/by-ref/{external_ref}/credit/redemptions",
        [Y, Y, Y, N, N, Y],
    ),
    ("GET", "/v1/gestures", [Y, Y, Y, Y, Y, Y]),
    ("GET", "/v1/gestures/{id}", [Y, Y, Y, Y, Y, Y]),
    ("GET", "/v1/ledger/check", [N, N, N, Y, Y, Y]),
    ("POST", "/v1/incidents", [N, N, Y, N, N, Y]),
    ("GET", "/v1/incidents", [Y, Y, Y, Y, Y, Y]),
    ("GET", "/v1/incidents/{id}", [Y, Y, Y, Y, Y, Y]),
    ("POST", "/v1/gestures/{id}/payments", [Y, Y, Y, Y, N, Y]),
    ("POST", "/v1/gestures/{id}/write-off", [Y, Y, Y, Y, N, Y]),
    ("POST", "/v1/gestures/{id}/reversal", [N, N, Y, Y, N, Y]),
    ("POST", "/v1/payments/{id}/reversal", [N, N, Y, Y, N, Y]),
    ("POST", "/v1/redemptions/{id}/reversal", [N, N, Y, Y, N, Y]),
    (
        "POST",
        "/v1/customers/{id}/credit/redemptions",
        [Y, Y, Y, N, N, Y],
    ),
    ("GET", "/v1/customers/{id}/timeline", [Y, Y, Y, Y, Y, Y]),
    ("GET", "/v1/customers/{id}/entries", [Y, Y, Y, Y, Y, Y]),
    ("GET", "/v1/ledger/entries", [N, N, N, Y, Y, Y]),
    ("GET", "/v1/audit", [N, N, N, Y, Y, Y]),
    ("GET", "/v1/audit/verify", [N, N, N, Y, Y, Y]),
    ("GET", "/v1/audit/checkpoint", [N, N, N, Y, Y, Y]),
    ("GET", "/v1/approvals", [N, N, Y, Y, N, Y]),
    ("POST", "/v1/gestures/{id}/approve", [N, N, Y, Y, N, Y]),
    ("POST", "/v1/gestures/{id}/reject", [N, N, Y, Y, N, Y]),
    ("POST", "/v1/gestures/{id}/cancel", [Y, Y, Y, Y, N, Y]),
    ("GET", "/v1/gestures/{id}/decision", [Y, Y, Y, Y, Y, Y]),
    ("GET", "/v1/policy", [Y, Y, Y, Y, Y, Y]),
    ("GET", "/v1/reason-codes", [Y, Y, Y, Y, Y, Y]),
    ("PUT", "/v1/policy", [N, N, N, N, N, Y]),
    ("GET", "/v1/policy/versions", [Y, Y, Y, Y, Y, Y]),
    ("GET", "/v1/policy/versions/{n}", [Y, Y, Y, Y, Y, Y]),
    ("GET", "/v1/policy/proposals", [Y, Y, Y, Y, Y, Y]),
    ("GET", "/v1/policy/proposals/{id}", [Y, Y, Y, Y, Y, Y]),
    (
        "POST",
        "/v1/policy/proposals/{id}/approve",
        [N, N, N, N, N, Y],
    ),
    (
        "POST",
        "/v1/policy/proposals/{id}/reject",
        [N, N, N, N, N, Y],
    ),
    ("GET", "/v1/events", [Y, Y, Y, Y, Y, Y]),
    ("GET", "/v1/finance/write-offs", [N, N, N, Y, Y, Y]),
    (
        "POST",
        "/v1/finance/write-offs/{id}/review",
        [N, N, N, Y, N, Y],
    ),
    ("POST", "/v1/finance/write-offs/review", [N, N, N, Y, N, Y]),
    ("GET", "/v1/finance/periods", [N, N, N, Y, Y, Y]),
    ("GET", "/v1/finance/aging", [N, N, Y, Y, Y, Y]),
    ("GET", "/v1/finance/aging/promises", [N, N, Y, Y, Y, Y]),
    ("GET", "/v1/reports/recognition", [N, N, Y, Y, Y, Y]),
    ("GET", "/v1/finance/journal", [N, N, N, Y, Y, Y]),
    ("GET", "/v1/finance/reports/goodwill", [N, N, Y, Y, Y, Y]),
    ("GET", "/v1/finance/accounts", [N, N, N, Y, Y, Y]),
    ("GET", "/v1/finance/account-map", [N, N, N, Y, Y, Y]),
    ("PUT", "/v1/finance/account-map", [N, N, N, Y, N, Y]),
    ("GET", "/v1/finance/periods/{month}", [N, N, N, Y, Y, Y]),
    (
        "POST",
        "/v1/finance/periods/{month}/close",
        [N, N, N, Y, N, Y],
    ),
    (
        "POST",
        "/v1/finance/periods/{month}/reopen",
        [N, N, N, N, N, Y],
    ),
    ("POST", "/v1/sales", [Y, Y, Y, N, N, Y]),
    ("GET", "/v1/sales", [Y, Y, Y, Y, Y, Y]),
    ("POST", "/v1/sales/batch", [Y, Y, Y, N, N, Y]),
    ("GET", "/v1/sales/{id}", [Y, Y, Y, Y, Y, Y]),
    ("POST", "/v1/sales/{id}/refunds", [Y, Y, Y, N, N, Y]),
    ("GET", "/v1/customers/{id}/value", [Y, Y, Y, Y, Y, Y]),
    ("POST", "/v1/value/model/fit", [N, N, N, Y, N, Y]),
    ("GET", "/v1/value/model", [Y, Y, Y, Y, Y, Y]),
    ("GET", "/v1/value/model/versions", [Y, Y, Y, Y, Y, Y]),
    (
        "GET",
        "/v1/value/model/versions/{version}",
        [Y, Y, Y, Y, Y, Y],
    ),
    ("POST", "/v1/webhook-endpoints", [N, N, N, N, N, Y]),
    ("GET", "/v1/webhook-endpoints", [N, N, N, Y, Y, Y]),
    ("GET", "/v1/webhook-endpoints/{id}", [N, N, N, Y, Y, Y]),
    ("PATCH", "/v1/webhook-endpoints/{id}", [N, N, N, N, N, Y]),
    (
        "POST",
        "/v1/webhook-endpoints/{id}/rotate-secret",
        [N, N, N, N, N, Y],
    ),
    (
        "GET",
        "/v1/webhook-endpoints/{id}/deliveries",
        [N, N, N, Y, Y, Y],
    ),
    ("GET", "/v1/webhook-deliveries/{id}", [N, N, N, Y, Y, Y]),
    (
        "POST",
        "/v1/webhook-deliveries/{id}/retry",
        [N, N, N, N, N, Y],
    ),
];

pub(crate) const ROLES: [Role; 6] = [
    Role::Pos,
    Role::Clerk,
    Role::Manager,
    Role::Finance,
    Role::Auditor,
    Role::Admin,
];

#[test]
fn the_matrix_covers_every_protected_route() {
    let served: BTreeSet<(String, String)> = goodwill::http::routes::ENDPOINTS
        .iter()
        .filter(|e| e.access != goodwill::http::routes::Access::Public)
        .map(|e| (e.method.to_string(), e.path.to_owned()))
        .collect();
    let tested: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(
        served, tested,
        "every protected route needs a row in MATRIX"
    );
}

/// An approved 10.00 deferred payment of the customer at the store.
async fn fresh_promise(app: &TestApp, store: &impl std::fmt::Display, customer: &str) -> String {
    let due = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(3))
        .format("%Y-%m-%d")
        .to_string();
    let body = json!({"kind": "deferred_payment", "store_id": store.to_string(), "reason_code": "closing_time",
        "story": "s", "amount": {"amount": "10.00", "currency": "USD"}, "due_on": due});
    app.send_to(
        &app.address,
        Method::POST,
        &format!("/v1/customers/{customer}/gestures"),
        Some(&app.token(Role::Admin)),
        Some(&uuid::Uuid::now_v7().to_string()),
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
    .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A pending service recovery of `amount` requested with `token`.
async fn fresh_pending(
    app: &TestApp,
    store: &impl std::fmt::Display,
    customer: &str,
    token: &str,
    amount: &str,
) -> String {
    let body = json!({"kind": "service_recovery", "store_id": store.to_string(), "reason_code": "service_failure",
        "story": "s", "amount": {"amount": amount, "currency": "USD"}});
    let g = app
        .send_to(
            &app.address,
            Method::POST,
            &format!("/v1/customers/{customer}/gestures"),
            Some(token),
            Some(&uuid::Uuid::now_v7().to_string()),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
        .expect(201);
    assert_eq!(g["status"], "pending_approval", "{g}");
    g["id"].as_str().unwrap().to_owned()
}

/// A write-off in effect, requested (and self-granted) by someone else.
async fn fresh_write_off(app: &TestApp, store: &impl std::fmt::Display, customer: &str) -> String {
    let clerk = app.token_for(app.tenant, "wo-requester", Role::Clerk, None);
    let due = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(3)).to_string();
    let body = json!({"kind": "deferred_payment", "store_id": store.to_string(), "reason_code": "closing_time",
        "story": "s", "amount": {"amount": "1.00", "currency": "USD"}, "due_on": due});
    let send = |path: String, body: serde_json::Value| {
        let clerk = clerk.clone();
        async move {
            app.send_to(
                &app.address,
                Method::POST,
                &path,
                Some(&clerk),
                Some(&uuid::Uuid::now_v7().to_string()),
                Some(("application/json", body.to_string().into_bytes())),
            )
            .await
        }
    };
    let promise = send(format!("/v1/customers/{customer}/gestures"), body)
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(
        format!("/v1/gestures/{promise}/write-off"),
        json!({"reason_code": "goodwill"}),
    )
    .await
    .expect(200);
    let list = app
        .get(
            "/v1/finance/write-offs?status=unreviewed&limit=100",
            &app.token(Role::Auditor),
        )
        .await
        .expect(200);
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["write_off_of"] == promise.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn role_route_matrix(app: TestApp) {
    let store = app.store("MX", "USD").await;
    let staff = app
        .post(
            "/v1/staff",
            &app.token(Role::Admin),
            &json!({"name": "Sam", "store_ids": [store]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let customer = app.customer("MX-C").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let recognition = json!({"kind": "recognition", "store_id": store, "reason_code": "praise",
        "story": "Greeted me by name", "staff_ids": [staff]});
    let gesture = app
        .post(
            &format!("/v1/customers/{customer}/gestures"),
            &app.token(Role::Clerk),
            &recognition,
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let incident_body =
        json!({"store_id": store, "cause": "staff_error", "description": "Display forgotten"});
    let incident = app
        .post("/v1/incidents", &app.token(Role::Admin), &incident_body)
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A sales history with a fitted model, the matrix's customer among the
    // buyers.
    crate::value::fitted(
        &app,
        "MXV",
        "MX-C,2026-01-05,40.00,USD,MXV,mx-1\nMX-C,2026-02-05,60.00,USD,MXV,mx-2\n",
    )
    .await;
    let sale = app
        .get("/v1/sales?limit=1", &app.token(Role::Admin))
        .await
        .expect(200)["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (hook, delivery) = crate::webhooks::fixture(&app).await;
    let proposal = app.propose_loosening("matrix-proposer").await;
    let mut n = 0;
    for (method, path, allowed) in MATRIX {
        for (role, may) in ROLES.iter().zip(allowed) {
            n += 1;
            let token = app.token(*role);
            let (url, body, ok_status) = match (*method, *path) {
                ("POST", "/v1/stores") => (
                    path.to_string(),
                    Some(json!({"name": "S", "code": format!("C{n}"), "currency": "USD"})),
                    201,
                ),
                ("POST", "/v1/staff") => (
                    path.to_string(),
                    Some(json!({"name": "T", "store_ids": [store]})),
                    201,
                ),
                ("POST", "/v1/customers") => (
                    path.to_string(),
                    Some(json!({"external_ref": format!("R{n}"), "name": "C"})),
                    201,
                ),
                ("POST", "/v1/customers/{id}/gestures") => (
                    format!("/v1/customers/{customer}/gestures"),
                    Some(recognition.clone()),
                    201,
                ),
                ("POST", "/v1/customers/by-ref/{external_ref}/gestures") => (
                    "/v1/customers/by-ref/MX-C/gestures".to_owned(),
                    Some(recognition.clone()),
                    201,
                ),
                ("POST", "/v1/customers/by-ref/{external_ref}/payments") => (
                    "/v1/customers/by-ref/MX-C/payments".to_owned(),
                    Some(json!({"amount": {"amount": "1.00", "currency": "USD"},
                        "gesture_id": fresh_promise(&app, &store, &customer).await})),
                    201,
                ),
                ("POST", "/v1/incidents") => (path.to_string(), Some(incident_body.clone()), 201),
                ("POST", "/v1/sales") => (
                    path.to_string(),
                    Some(
                        json!({"customer_id": customer, "store_id": store, "sale_ref": format!("mx-s{n}"),
                        "occurred_at": "2026-03-01", "amount": {"amount": "5.00", "currency": "USD"}}),
                    ),
                    201,
                ),
                ("POST", "/v1/sales/batch") => (
                    path.to_string(),
                    Some(
                        json!({"sales": [{"customer_id": customer, "store_id": store, "sale_ref": format!("mx-b{n}"),
                        "occurred_at": "2026-03-01", "amount": {"amount": "5.00", "currency": "USD"}}]}),
                    ),
                    200,
                ),
                ("POST", "/v1/sales/{id}/refunds") => (
                    path.replace("{id}", &sale),
                    Some(json!({"amount": {"amount": "0.01", "currency": "USD"}})),
                    201,
                ),
                ("POST", "/v1/value/model/fit") => (path.to_string(), Some(json!({})), 201),
                ("POST", "/v1/webhook-endpoints") => (
                    path.to_string(),
                    Some(json!({"url": format!("https://hooks.example.com/m{n}")})),
                    201,
                ),
                ("PATCH", "/v1/webhook-endpoints/{id}") => (
                    path.replace("{id}", &hook),
                    Some(json!({"description": format!("matrix {n}")})),
                    200,
                ),
                ("POST", "/v1/webhook-endpoints/{id}/rotate-secret") => {
                    (path.replace("{id}", &hook), None, 200)
                }
                ("POST", "/v1/webhook-deliveries/{id}/retry") => {
                    (path.replace("{id}", &delivery), None, 200)
                }
                ("PATCH", "/v1/customers/{id}") => (
                    format!("/v1/customers/{customer}"),
                    Some(json!({"name": format!("Renamed {n}")})),
                    200,
                ),
                ("GET", p) => (
                    p.replace("{external_ref}", "MX-C")
                        .replace("/v1/stores/{id}", &format!("/v1/stores/{store}"))
                        .replace("/v1/staff/{id}", &format!("/v1/staff/{staff}"))
                        .replace("/v1/customers/{id}", &format!("/v1/customers/{customer}"))
                        .replace("/v1/gestures/{id}", &format!("/v1/gestures/{gesture}"))
                        .replace("/v1/incidents/{id}", &format!("/v1/incidents/{incident}"))
                        .replace("/v1/policy/versions/{n}", "/v1/policy/versions/1")
                        .replace(
                            "/v1/policy/proposals/{id}",
                            &format!("/v1/policy/proposals/{proposal}"),
                        )
                        .replace("/v1/sales/{id}", &format!("/v1/sales/{sale}"))
                        .replace(
                            "/v1/webhook-endpoints/{id}",
                            &format!("/v1/webhook-endpoints/{hook}"),
                        )
                        .replace(
                            "/v1/webhook-deliveries/{id}",
                            &format!("/v1/webhook-deliveries/{delivery}"),
                        )
                        .replace("{version}", "1")
                        .replace("{month}", "2001-01")
                        .replace("/v1/finance/journal", "/v1/finance/journal?period=2001-01"),
                    None,
                    200,
                ),
                ("POST", "/v1/gestures/{id}/approve" | "/v1/gestures/{id}/reject") => {
                    let requester =
                        app.token_for(app.tenant, "matrix-requester", Role::Clerk, None);
                    let g = fresh_pending(&app, &store, &customer, &requester, "30.00").await;
                    (
                        path.replace("{id}", &g),
                        Some(json!({"note": "looked at it"})),
                        200,
                    )
                }
                ("POST", "/v1/gestures/{id}/cancel") => {
                    let own = if *role == Role::Auditor {
                        app.token(Role::Admin)
                    } else {
                        token.clone()
                    };
                    let g = fresh_pending(&app, &store, &customer, &own, "1500.00").await;
                    (path.replace("{id}", &g), Some(json!({})), 200)
                }
                ("POST", "/v1/finance/write-offs/{id}/review") => (
                    path.replace("{id}", &fresh_write_off(&app, &store, &customer).await),
                    Some(json!({"outcome": "reviewed"})),
                    200,
                ),
                ("POST", "/v1/finance/write-offs/review") => (
                    path.to_string(),
                    Some(
                        json!({"ids": [fresh_write_off(&app, &store, &customer).await], "outcome": "reviewed"}),
                    ),
                    200,
                ),
                ("POST", "/v1/finance/periods/{month}/close") => (
                    path.replace("{month}", &format!("{}-01", 1000 + n)),
                    Some(json!({})),
                    200,
                ),
                ("POST", "/v1/finance/periods/{month}/reopen") => {
                    let month = format!("{}-02", 1000 + n);
                    app.send_to(
                        &app.address,
                        Method::POST,
                        &format!("/v1/finance/periods/{month}/close"),
                        Some(&app.token(Role::Admin)),
                        None,
                        Some(("application/json", b"{}".to_vec())),
                    )
                    .await
                    .expect(200);
                    (
                        path.replace("{month}", &month),
                        Some(json!({"reason": "a late invoice"})),
                        200,
                    )
                }
                ("PUT", "/v1/finance/account-map") => (
                    path.to_string(),
                    Some(
                        json!({"mappings": [{"account": "receivable:*", "code": "1200", "name": "Receivables"}]}),
                    ),
                    200,
                ),
                (
                    "POST",
                    "/v1/policy/proposals/{id}/approve" | "/v1/policy/proposals/{id}/reject",
                ) => (
                    path.replace("{id}", &app.propose_loosening("matrix-proposer").await),
                    Some(json!({})),
                    200,
                ),
                ("PUT", "/v1/policy") => {
                    let current = app
                        .get("/v1/policy", &app.token(Role::Admin))
                        .await
                        .expect(200);
                    (path.to_string(), Some(current["policy"].clone()), 200)
                }
                ("POST", "/v1/gestures/{id}/payments") => (
                    format!(
                        "/v1/gestures/{}/payments",
                        fresh_promise(&app, &store, &customer).await
                    ),
                    Some(json!({"amount": {"amount": "1.00", "currency": "USD"}})),
                    201,
                ),
                ("POST", "/v1/gestures/{id}/write-off") => (
                    format!(
                        "/v1/gestures/{}/write-off",
                        fresh_promise(&app, &store, &customer).await
                    ),
                    Some(json!({"reason_code": "unpaid_promise"})),
                    200,
                ),
                ("POST", "/v1/gestures/{id}/reversal") => (
                    format!(
                        "/v1/gestures/{}/reversal",
                        fresh_promise(&app, &store, &customer).await
                    ),
                    Some(json!({"reason": "entered by mistake"})),
                    200,
                ),
                ("POST", "/v1/payments/{id}/reversal") => {
                    let promise = fresh_promise(&app, &store, &customer).await;
                    let payment = app
                        .send_to(
                            &app.address,
                            Method::POST,
                            &format!("/v1/gestures/{promise}/payments"),
                            Some(&app.token(Role::Admin)),
                            Some(&uuid::Uuid::now_v7().to_string()),
                            Some((
                                "application/json",
                                json!({"amount": {"amount": "1.00", "currency": "USD"}})
                                    .to_string()
                                    .into_bytes(),
                            )),
                        )
                        .await
                        .expect(201);
                    (
                        format!("/v1/payments/{}/reversal", payment["id"].as_str().unwrap()),
                        Some(json!({"reason": "cheque bounced"})),
                        200,
                    )
                }
                (
                    "POST",
                    "/v1/customers/{id}/credit/redemptions"
                    | "/v1/customers/by-ref/{external_ref}/credit/redemptions",
                ) => {
                    app.send_to(
                        &app.address,
                        Method::POST,
                        &format!("/v1/customers/{customer}/gestures"),
                        Some(&app.token(Role::Admin)),
                        Some(&uuid::Uuid::now_v7().to_string()),
                        Some(("application/json", json!({"kind": "store_credit", "store_id": store, "reason_code": "delay",
                            "story": "s", "amount": {"amount": "1.00", "currency": "USD"}}).to_string().into_bytes())),
                    )
                    .await
                    .expect(201);
                    (
                        path.replace("{id}", &customer)
                            .replace("{external_ref}", "MX-C"),
                        Some(
                            json!({"amount": {"amount": "1.00", "currency": "USD"}, "store_id": store}),
                        ),
                        201,
                    )
                }
                ("POST", "/v1/redemptions/{id}/reversal") => {
                    let admin = app.token(Role::Admin);
                    let post = |path: String, body: Value| {
                        let (app, admin) = (&app, admin.clone());
                        async move {
                            app.send_to(
                                &app.address,
                                Method::POST,
                                &path,
                                Some(&admin),
                                Some(&uuid::Uuid::now_v7().to_string()),
                                Some(("application/json", body.to_string().into_bytes())),
                            )
                            .await
                            .expect(201)
                        }
                    };
                    post(
                        format!("/v1/customers/{customer}/gestures"),
                        json!({"kind": "store_credit", "store_id": store, "reason_code": "delay",
                            "story": "s", "amount": {"amount": "1.00", "currency": "USD"}}),
                    )
                    .await;
                    let r = post(
                        format!("/v1/customers/{customer}/credit/redemptions"),
                        json!({"amount": {"amount": "1.00", "currency": "USD"}, "store_id": store}),
                    )
                    .await;
                    (
                        format!("/v1/redemptions/{}/reversal", r["id"].as_str().unwrap()),
                        Some(json!({"reason": "voided sale"})),
                        200,
                    )
                }
                other => panic!("no request for {other:?}"),
            };
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let key = uuid::Uuid::now_v7().to_string();
            let r = app
                .send_to(
                    &app.address,
                    m,
                    &url,
                    Some(&token),
                    Some(&key),
                    body.map(|b| ("application/json", b.to_string().into_bytes())),
                )
                .await;
            if *may {
                assert_eq!(
                    r.status,
                    ok_status,
                    "{role} {method} {path}: {}",
                    String::from_utf8_lossy(&r.body)
                );
            } else {
                assert_eq!(r.status, 403, "{role} {method} {path} should be refused");
                r.problem(403, "role_forbidden");
            }
        }
    }
}
both!(role_route_matrix);

async fn store_scope(app: TestApp) {
    let a = app.store("A", "USD").await;
    let b = app.store("B", "USD").await;
    let admin = app.token(Role::Admin);
    let at_b = app
        .post(
            "/v1/staff",
            &admin,
            &json!({"name": "Bea", "store_ids": [b]}),
        )
        .await
        .expect(201);
    let at_a = app
        .post(
            "/v1/staff",
            &admin,
            &json!({"name": "Al", "store_ids": [a]}),
        )
        .await
        .expect(201);
    let manager_a = app.token_for(app.tenant, "mgr-a", Role::Manager, Some(vec![a]));

    // Acting at store B with a store-A token: 403 store_scope, nothing written.
    let before = app.counts();
    app.post(
        "/v1/staff",
        &manager_a,
        &json!({"name": "X", "store_ids": [b]}),
    )
    .await
    .problem(403, "store_scope");
    app.post(
        "/v1/staff",
        &manager_a,
        &json!({"name": "X", "store_ids": [a, b]}),
    )
    .await
    .problem(403, "store_scope");
    assert_eq!(app.counts(), before);
    app.get(
        &format!("/v1/staff/{}", at_b["id"].as_str().unwrap()),
        &manager_a,
    )
    .await
    .problem(403, "store_scope");
    app.get(&format!("/v1/staff?store_id={b}"), &manager_a)
        .await
        .problem(403, "store_scope");

    // At store A all is well, and the list shows only store A's staff.
    app.post(
        "/v1/staff",
        &manager_a,
        &json!({"name": "Ok", "store_ids": [a]}),
    )
    .await
    .expect(201);
    app.get(
        &format!("/v1/staff/{}", at_a["id"].as_str().unwrap()),
        &manager_a,
    )
    .await
    .expect(200);
    let list = app.get("/v1/staff", &manager_a).await.expect(200);
    let names: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Al", "Ok"]);
}
both!(store_scope);

async fn another_tenants_ids_are_unknown(app: TestApp) {
    let theirs = app.other_tenant_store("THEIRS").await;
    let other_admin = app.token_for(app.other_tenant, "o", Role::Admin, None);
    let their_staff = app
        .post(
            "/v1/staff",
            &other_admin,
            &json!({"name": "Zed", "store_ids": [theirs]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let their_customer = app
        .post(
            "/v1/customers",
            &other_admin,
            &json!({"external_ref": "SHARED", "name": "Their customer"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let admin = app.token(Role::Admin);
    app.get(&format!("/v1/stores/{theirs}"), &admin)
        .await
        .problem(404, "not_found");
    app.get(&format!("/v1/staff/{their_staff}"), &admin)
        .await
        .problem(404, "not_found");
    app.get(&format!("/v1/customers/{their_customer}"), &admin)
        .await
        .problem(404, "not_found");
    let before = app.counts();
    app.patch(
        &format!("/v1/customers/{their_customer}"),
        &admin,
        &json!({"name": "Mine now"}),
    )
    .await
    .problem(404, "not_found");
    // Their store cannot be named as ours either.
    app.post(
        "/v1/staff",
        &admin,
        &json!({"name": "Sly", "store_ids": [theirs]}),
    )
    .await
    .names_field("store_ids[0]");
    app.post(
        "/v1/customers",
        &admin,
        &json!({"external_ref": "X1", "name": "N", "home_store_id": theirs}),
    )
    .await
    .names_field("home_store_id");
    assert_eq!(app.counts(), before);

    // Lists never show another tenant's rows, and external_refs are per tenant.
    assert_eq!(
        app.get("/v1/stores", &admin).await.expect(200)["data"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        app.get("/v1/customers", &admin).await.expect(200)["data"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    app.customer("SHARED").await;
}
both!(another_tenants_ids_are_unknown);
