//! The authorization matrix walked from the contract: every operation of
//! `api-spec/openapi.json` is called with a token of every role, of another
//! store and of another tenant, and each answer is checked against the role
//! table (`roles::MATRIX`; an operation missing from it fails the test). Then
//! method switching (every method a path does not have → 405 with `Allow`), and
//! mass assignment (every request body posted with `id`, `tenant_id`, `status`,
//! `approved_by` added → 422 naming each, nothing changed).

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::Method;
use goodwill::domain::roles::Role;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Resp, TestApp};
use crate::roles::{MATRIX, ROLES};

/// The protected operations of the contract: (method, path template).
fn operations() -> Vec<(String, String)> {
    let doc: Value = serde_json::from_str(goodwill::http::ops::OPENAPI).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let public = op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty);
            if !public {
                out.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// What happened at store A, in words no other store's token may read: the
/// stories, the staff member, the requester's `sub`, the incident, the sale.
const MARK_STORY: &str = "Story told at store A";
const MARK_STAFF: &str = "Sam of store A";
const MARK_SUB: &str = "clerk-of-store-a";
const MARK_INCIDENT: &str = "Incident at store A";
const MARK_SALE: &str = "sale-of-store-a";

/// Reads a token of another store is refused outright (403 `store_scope`):
/// single objects of store A, and reads of the whole tenant at once.
const REFUSED_TO_ANOTHER_STORE: &[&str] = &[
    "/v1/staff/{id}",
    "/v1/gestures/{id}",
    "/v1/gestures/{id}/decision",
    "/v1/incidents/{id}",
    "/v1/sales/{id}",
    "/v1/ledger/check",
    "/v1/ledger/entries",
    "/v1/audit/verify",
    "/v1/audit/checkpoint",
    "/v1/finance/journal",
    "/v1/finance/accounts",
    "/v1/webhook-endpoints",
    "/v1/webhook-endpoints/{id}",
    "/v1/webhook-endpoints/{id}/deliveries",
    "/v1/webhook-deliveries/{id}",
    "/v1/policy/proposals",
    "/v1/policy/proposals/{id}",
];

/// Objects of the main tenant at store A, for the paths and bodies.
struct Fixtures {
    store: String,
    staff: String,
    customer: String,
    promise: String,
    pending: String,
    payment: String,
    redemption: String,
    incident: String,
    sale: String,
    write_off: String,
    webhook_endpoint: String,
    webhook_delivery: String,
    proposal: String,
}

async fn send(app: &TestApp, method: &str, url: &str, token: &str, body: Option<&Value>) -> Resp {
    app.send_to(
        &app.address,
        Method::from_bytes(method.as_bytes()).unwrap(),
        url,
        Some(token),
        Some(&uuid::Uuid::now_v7().to_string()),
        body.map(|b| ("application/json", b.to_string().into_bytes())),
    )
    .await
}

async fn fixtures(app: &TestApp) -> Fixtures {
    let admin = app.token(Role::Admin);
    let clerk = app.token_for(app.tenant, MARK_SUB, Role::Clerk, None);
    let store = app.store("AZ", "USD").await.to_string();
    let id = |r: Resp, status: u16| r.expect(status)["id"].as_str().unwrap().to_owned();
    let staff = id(
        send(
            app,
            "POST",
            "/v1/staff",
            &admin,
            Some(&json!({"name": MARK_STAFF, "store_ids": [store]})),
        )
        .await,
        201,
    );
    let customer = app.customer("AZ-C").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let due = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(3)).to_string();
    let promise_body = json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
        "story": MARK_STORY, "amount": {"amount": "10.00", "currency": "USD"}, "due_on": due});
    let gestures = format!("/v1/customers/{customer}/gestures");
    let promise = id(
        send(app, "POST", &gestures, &clerk, Some(&promise_body)).await,
        201,
    );
    let pending = id(
        send(app, "POST", &gestures, &clerk, Some(&json!({"kind": "service_recovery", "store_id": store,
            "reason_code": "service_failure", "story": MARK_STORY, "amount": {"amount": "90.00", "currency": "USD"}})))
        .await,
        201,
    );
    let payment = id(
        send(
            app,
            "POST",
            &format!("/v1/gestures/{promise}/payments"),
            &clerk,
            Some(&json!({"amount": {"amount": "1.00", "currency": "USD"}})),
        )
        .await,
        201,
    );
    send(app, "POST", &gestures, &clerk, Some(&json!({"kind": "store_credit", "store_id": store,
        "reason_code": "delay", "story": MARK_STORY, "amount": {"amount": "5.00", "currency": "USD"}})))
    .await
    .expect(201);
    let redemption = id(
        send(
            app,
            "POST",
            &format!("/v1/customers/{customer}/credit/redemptions"),
            &clerk,
            Some(&json!({"amount": {"amount": "1.00", "currency": "USD"}, "store_id": store})),
        )
        .await,
        201,
    );
    let incident = id(
        send(
            app,
            "POST",
            "/v1/incidents",
            &admin,
            Some(&json!({"store_id": store, "cause": "staff_error", "description": MARK_INCIDENT})),
        )
        .await,
        201,
    );
    let sale = id(
        send(app, "POST", "/v1/sales", &clerk, Some(&json!({"customer_id": customer, "store_id": store,
            "sale_ref": MARK_SALE, "occurred_at": "2026-03-01", "amount": {"amount": "50.00", "currency": "USD"}})))
        .await,
        201,
    );
    let other_promise = id(
        send(app, "POST", &gestures, &clerk, Some(&promise_body)).await,
        201,
    );
    send(
        app,
        "POST",
        &format!("/v1/gestures/{other_promise}/write-off"),
        &clerk,
        Some(&json!({"reason_code": "goodwill"})),
    )
    .await
    .expect(200);
    let list = app
        .get("/v1/finance/write-offs?limit=100", &admin)
        .await
        .expect(200);
    let write_off = list["data"][0]["id"].as_str().unwrap().to_owned();
    let (webhook_endpoint, webhook_delivery) = crate::webhooks::fixture(app).await;
    let proposal = app.propose_loosening("az-proposer").await;
    Fixtures {
        store,
        staff,
        customer,
        promise,
        pending,
        payment,
        redemption,
        incident,
        sale,
        write_off,
        webhook_endpoint,
        webhook_delivery,
        proposal,
    }
}

/// The URL of an operation, its path parameters filled with the fixtures.
fn url(method: &str, template: &str, f: &Fixtures) -> String {
    let id = match template {
        t if t.starts_with("/v1/stores/") => &f.store,
        t if t.starts_with("/v1/staff/") => &f.staff,
        t if t.starts_with("/v1/customers/") => &f.customer,
        "/v1/gestures/{id}/approve" | "/v1/gestures/{id}/reject" | "/v1/gestures/{id}/cancel" => {
            &f.pending
        }
        t if t.starts_with("/v1/gestures/") => &f.promise,
        t if t.starts_with("/v1/payments/") => &f.payment,
        t if t.starts_with("/v1/redemptions/") => &f.redemption,
        t if t.starts_with("/v1/incidents/") => &f.incident,
        t if t.starts_with("/v1/sales/") => &f.sale,
        t if t.starts_with("/v1/finance/write-offs/") => &f.write_off,
        t if t.starts_with("/v1/webhook-endpoints/") => &f.webhook_endpoint,
        t if t.starts_with("/v1/webhook-deliveries/") => &f.webhook_delivery,
        t if t.starts_with("/v1/policy/proposals/") => &f.proposal,
        _ => "",
    };
    let mut u = template
        .replace("{id}", id)
        .replace("{external_ref}", "AZ-C")
        .replace("{n}", "1")
        .replace("{version}", "1")
        .replace("{month}", "2001-01");
    if method == "GET" && template == "/v1/finance/journal" {
        u.push_str("?period=2001-01");
    }
    u
}

/// A valid body for an operation (None: it takes none).
fn body(method: &str, template: &str, f: &Fixtures, n: usize) -> Option<Value> {
    let usd = |a: &str| json!({"amount": a, "currency": "USD"});
    Some(match (method, template) {
        ("GET" | "DELETE", _) => return None,
        ("POST", "/v1/stores") => json!({"name": "S", "code": format!("AZ{n}"), "currency": "USD"}),
        ("POST", "/v1/staff") => json!({"name": "T", "store_ids": [f.store]}),
        ("POST", "/v1/customers") => json!({"external_ref": format!("AZ-{n}"), "name": "C"}),
        ("PATCH", "/v1/customers/{id}") => json!({"name": format!("Renamed {n}")}),
        (
            "POST",
            "/v1/customers/{id}/gestures" | "/v1/customers/by-ref/{external_ref}/gestures",
        ) => {
            json!({"kind": "service_recovery", "store_id": f.store,
            "reason_code": "service_failure", "story": "s", "amount": usd("1.00")})
        }
        ("POST", "/v1/incidents") => {
            json!({"store_id": f.store, "cause": "staff_error", "description": "d"})
        }
        ("POST", "/v1/gestures/{id}/payments") => json!({"amount": usd("0.01")}),
        ("POST", "/v1/customers/by-ref/{external_ref}/payments") => {
            json!({"amount": usd("0.01"), "gesture_id": f.promise})
        }
        ("POST", "/v1/gestures/{id}/write-off") => json!({"reason_code": "unpaid_promise"}),
        (
            "POST",
            "/v1/gestures/{id}/reversal"
            | "/v1/payments/{id}/reversal"
            | "/v1/redemptions/{id}/reversal",
        ) => {
            json!({"reason": "entered by mistake"})
        }
        (
            "POST",
            "/v1/customers/{id}/credit/redemptions"
            | "/v1/customers/by-ref/{external_ref}/credit/redemptions",
        ) => {
            json!({"amount": usd("0.01"), "store_id": f.store})
        }
        ("POST", "/v1/gestures/{id}/approve" | "/v1/gestures/{id}/reject") => {
            json!({"note": "looked at it"})
        }
        ("POST", "/v1/gestures/{id}/cancel") => json!({}),
        ("POST", "/v1/finance/write-offs/{id}/review") => json!({"outcome": "reviewed"}),
        ("POST", "/v1/finance/write-offs/review") => {
            json!({"ids": [f.write_off], "outcome": "reviewed"})
        }
        ("POST", "/v1/finance/periods/{month}/close") => json!({}),
        ("POST", "/v1/finance/periods/{month}/reopen") => json!({"reason": "a late invoice"}),
        ("PUT", "/v1/finance/account-map") => json!({"mappings":
            [{"account": "receivable:*", "code": "1200", "name": "Receivables"}]}),
        ("PUT", "/v1/policy") => json!({}),
        ("POST", "/v1/policy/proposals/{id}/approve" | "/v1/policy/proposals/{id}/reject") => {
            json!({})
        }
        ("POST", "/v1/sales") => json!({"customer_id": f.customer, "store_id": f.store,
            "sale_ref": format!("az-s{n}"), "occurred_at": "2026-03-01", "amount": usd("5.00")}),
        ("POST", "/v1/sales/batch") => json!({"sales": [{"customer_id": f.customer,
            "store_id": f.store, "sale_ref": format!("az-b{n}"), "occurred_at": "2026-03-01",
            "amount": usd("5.00")}]}),
        ("POST", "/v1/sales/{id}/refunds") => json!({"amount": usd("0.01")}),
        ("POST", "/v1/value/model/fit") => json!({}),
        ("POST", "/v1/webhook-endpoints") => {
            json!({"url": format!("https://hooks.example.com/az{n}"), "event_types": ["gesture.*"]})
        }
        ("PATCH", "/v1/webhook-endpoints/{id}") => json!({"description": format!("az {n}")}),
        (
            "POST",
            "/v1/webhook-endpoints/{id}/rotate-secret" | "/v1/webhook-deliveries/{id}/retry",
        ) => {
            return None;
        }
        other => panic!("no body for {other:?}: add one"),
    })
}

fn allowed(method: &str, template: &str) -> [bool; 6] {
    MATRIX
        .iter()
        .find(|(m, p, _)| *m == method && *p == template)
        .map(|(_, _, a)| *a)
        .unwrap_or_else(|| {
            panic!("{method} {template} is in the contract but not in the role table")
        })
}

async fn spec_authorization_walk(app: TestApp) {
    let ops = operations();
    // The contract and the role table name the same operations.
    let in_spec: BTreeSet<(String, String)> = ops.iter().cloned().collect();
    let in_table: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(in_spec, in_table, "contract and role table differ");

    let f = fixtures(&app).await;
    let store_b = app.store("AZB", "USD").await;
    let other_tenant_admin = app.token_for(app.other_tenant, "intruder", Role::Admin, None);
    let mut n = 0;
    let mut calls = 0;
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for (method, template) in &ops {
        let may = allowed(method, template);
        let u = url(method, template, &f);
        // Every role: a refusal is 403 role_forbidden before anything is read
        // or written; an allowed role is never refused for its role.
        for (role, may) in ROLES.iter().zip(may) {
            n += 1;
            let before = app.counts();
            let token = app.token_for(app.tenant, "walker", *role, None);
            let r = send(
                &app,
                method,
                &u,
                &token,
                body(method, template, &f, n).as_ref(),
            )
            .await;
            calls += 1;
            *by_status.entry(r.status).or_default() += 1;
            assert!(
                r.status < 500,
                "{role} {method} {u}: {}",
                String::from_utf8_lossy(&r.body)
            );
            if may {
                assert!(
                    !(r.status == 401 || (r.status == 403 && r.json()["code"] == "role_forbidden")),
                    "{role} may {method} {template} but got {}: {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                );
            } else {
                r.problem(403, "role_forbidden");
                assert_eq!(
                    app.counts(),
                    before,
                    "{role} {method} {u}: refused but wrote"
                );
            }
        }

        // Another tenant's admin: the main tenant's objects do not exist for
        // it, and nothing of the main tenant changes.
        let names = format!("{u} {}", body(method, template, &f, 0).unwrap_or_default());
        if [
            &f.customer,
            &f.store,
            &f.promise,
            &f.pending,
            &f.payment,
            &f.incident,
            &f.sale,
            &f.staff,
            &f.write_off,
        ]
        .iter()
        .any(|id| names.contains(id.as_str()))
        {
            n += 1;
            let before = app.counts();
            let r = send(
                &app,
                method,
                &u,
                &other_tenant_admin,
                body(method, template, &f, n).as_ref(),
            )
            .await;
            calls += 1;
            // 404 for what the path names; 422 naming the field for what the
            // body names (a batch answers 200 with the line in error).
            let batch_line_refused = template == "/v1/sales/batch"
                && r.status == 200
                && r.json()["results"][0]["status"] == "error";
            assert!(
                r.status == 404 || r.status == 422 || batch_line_refused,
                "another tenant {method} {u}: {} {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
            // Its answer may be kept under its own idempotency key; nothing else.
            let without_keys = |c: Vec<(String, i64)>| -> Vec<(String, i64)> {
                c.into_iter()
                    .filter(|(t, _)| t != "idempotency_keys")
                    .collect()
            };
            assert_eq!(
                without_keys(app.counts()),
                without_keys(before),
                "another tenant {method} {u} wrote"
            );
        }

        // Tokens of another store, in every role that holds the route's
        // permission (and a manager's, which mostly does not): what happened at
        // store A is never answered — single objects of A and tenant-wide
        // reads are refused (store_scope), lists and standing leave A's stories,
        // staff, requesters, incidents and sales out; acting on A's objects
        // is refused (store_scope), as is anything the role may not do.
        for (i, role) in ROLES.iter().enumerate() {
            if !(may[i] || *role == Role::Manager) || *role == Role::Pos || *role == Role::Clerk {
                continue;
            }
            n += 1;
            let token_b = app.token_for(app.tenant, "walker-b", *role, Some(vec![store_b]));
            let before = app.counts();
            let r = send(
                &app,
                method,
                &u,
                &token_b,
                body(method, template, &f, n).as_ref(),
            )
            .await;
            calls += 1;
            let who = format!("{role} of another store {method} {u}");
            let tenant_wide_write = matches!(
                (method.as_str(), template.as_str()),
                ("POST", "/v1/customers") | ("PATCH", "/v1/customers/{id}")
            );
            if !may[i] {
                r.problem(403, "role_forbidden");
            } else if method == "GET" && REFUSED_TO_ANOTHER_STORE.contains(&template.as_str()) {
                r.problem(403, "store_scope");
            } else if method == "GET" {
                assert!(
                    r.status < 500 && r.status != 401 && r.status != 403,
                    "{who}: {} {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                );
                let text = String::from_utf8_lossy(&r.body);
                for mark in [MARK_STORY, MARK_STAFF, MARK_SUB, MARK_INCIDENT, MARK_SALE] {
                    assert!(!text.contains(mark), "{who} answered {mark:?}: {text}");
                }
            } else if tenant_wide_write {
                assert!(
                    r.status < 500 && r.status != 401 && r.status != 403,
                    "{who}: {} {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                );
            } else if template == "/v1/sales/batch" {
                // A batch answers per line: the line at a store the token may not
                // act at is an error line naming store_id.
                let b = r.expect(200);
                assert_eq!(b["results"][0]["status"], "error", "{b}");
                assert_eq!(b["results"][0]["errors"][0]["field"], "store_id", "{b}");
                // The answer is kept with its idempotency key; nothing else.
                let keys = |c: &[(String, i64)]| {
                    c.iter()
                        .filter(|(t, _)| t != "idempotency_keys")
                        .cloned()
                        .collect::<Vec<_>>()
                };
                assert_eq!(keys(&app.counts()), keys(&before), "{who} wrote");
            } else {
                r.problem(403, "store_scope");
                assert_eq!(app.counts(), before, "{who} wrote");
            }
        }
    }
    // The markers are there to be found: store A's own tokens read them.
    let auditor_a = app.token_for(
        app.tenant,
        "auditor-a",
        Role::Auditor,
        Some(vec![f.store.parse().unwrap()]),
    );
    for (path, mark) in [
        ("/v1/events?limit=100".to_owned(), MARK_STORY),
        ("/v1/audit?limit=100".to_owned(), MARK_SUB),
        (
            format!("/v1/customers/{}/timeline?limit=100", f.customer),
            MARK_STORY,
        ),
        (format!("/v1/gestures/{}", f.promise), MARK_STORY),
        (format!("/v1/incidents/{}", f.incident), MARK_INCIDENT),
        (format!("/v1/sales/{}", f.sale), MARK_SALE),
        ("/v1/staff".to_owned(), MARK_STAFF),
    ] {
        let text = String::from_utf8_lossy(&app.get(&path, &auditor_a).await.body).into_owned();
        assert!(
            text.contains(mark),
            "{path} for store A lacks {mark:?}: {text}"
        );
    }
    eprintln!(
        "authorization walk: {} operations, {calls} calls, statuses {by_status:?}",
        ops.len()
    );
}
both!(spec_authorization_walk);

async fn methods_a_path_lacks_are_405(app: TestApp) {
    let doc: Value = serde_json::from_str(goodwill::http::ops::OPENAPI).unwrap();
    let f = fixtures(&app).await;
    let admin = app.token(Role::Admin);
    let mut checked = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        let has: BTreeSet<String> = item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
            .map(|k| k.to_uppercase())
            .collect();
        let u = url("POST", template, &f);
        for m in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if has.contains(m) {
                continue;
            }
            let before = app.counts();
            let r = send(
                &app,
                m,
                &u,
                &admin,
                (m != "GET" && m != "DELETE").then(|| json!({})).as_ref(),
            )
            .await;
            r.problem(405, "method_not_allowed");
            let allow: BTreeSet<String> = r
                .header("allow")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty() && s != "HEAD")
                .collect();
            assert_eq!(allow, has, "{m} {template}: Allow");
            assert_eq!(app.counts(), before);
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}
both!(methods_a_path_lacks_are_405);

/// HEAD is GET without the body (RFC 9110 §9.3.2) on every GET path of the
/// API and the console: same status and content type, no body; on the wire
/// the length of the GET's body is announced and nothing follows the headers.
async fn head_answers_as_get_without_a_body(app: TestApp) {
    use std::io::{Read, Write};
    let doc: Value = serde_json::from_str(goodwill::http::ops::OPENAPI).unwrap();
    let f = fixtures(&app).await;
    let admin = app.token(Role::Admin);
    let mut checked = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        if item.get("get").is_none() {
            continue;
        }
        let u = url("GET", template, &f);
        let get = send(&app, "GET", &u, &admin, None).await;
        let head = send(&app, "HEAD", &u, &admin, None).await;
        assert_eq!(head.status, get.status, "HEAD {u}");
        assert!(head.body.is_empty(), "HEAD {u} sent a body");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "HEAD {u}"
        );
        checked += 1;
    }
    assert!(checked > 30, "{checked}");
    for path in ["/v1/stores", "/console/sign-in"] {
        let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
        let raw = |method: &str| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(
                s,
                "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut resp = Vec::new();
            s.read_to_end(&mut resp).unwrap();
            let text = String::from_utf8_lossy(&resp).into_owned();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            (head.to_ascii_lowercase(), body.to_owned())
        };
        let (get_head, get_body) = raw("GET");
        let (head_head, head_body) = raw("HEAD");
        assert!(
            head_head.starts_with("http/1.1 200"),
            "HEAD {path}: {head_head}"
        );
        assert!(head_body.is_empty(), "HEAD {path} sent {head_body:?}");
        assert!(
            head_head.contains(&format!("content-length: {}", get_body.len())),
            "HEAD {path} announces the GET's length: {head_head} / {get_head}"
        );
    }
    // A path without GET does not gain HEAD.
    let r = send(&app, "HEAD", "/v1/sales/batch", &admin, None).await;
    assert_eq!(r.status, 405);
}
both!(head_answers_as_get_without_a_body);

async fn mass_assignment_is_refused(app: TestApp) {
    let doc: Value = serde_json::from_str(goodwill::http::ops::OPENAPI).unwrap();
    let f = fixtures(&app).await;
    let admin = app.token(Role::Admin);
    let mut checked = 0;
    for (method, template) in operations() {
        let op = &doc["paths"][&template][method.to_lowercase()];
        if op.get("requestBody").is_none() {
            continue;
        }
        let Some(mut b) = body(&method, &template, &f, 9_000 + checked) else {
            continue;
        };
        let extra = json!({"id": uuid::Uuid::now_v7().to_string(), "tenant_id": app.other_tenant.to_string(),
            "status": "approved", "approved_by": "someone"});
        // The policy document is the body itself; everything else gets the
        // fields at its top level.
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        let before = app.counts();
        let r = send(
            &app,
            &method,
            &url(&method, &template, &f),
            &admin,
            Some(&b),
        )
        .await;
        let p = r.problem(422, "validation_failed");
        let fields: BTreeSet<&str> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        for k in ["id", "tenant_id", "status", "approved_by"] {
            assert!(
                fields.contains(k),
                "{method} {template}: {k} not named in {fields:?}"
            );
        }
        assert_eq!(app.counts(), before, "{method} {template} wrote");
        checked += 1;
    }
    assert!(checked >= 20, "{checked} writable bodies");
}
both!(mass_assignment_is_refused);
