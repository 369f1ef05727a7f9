//! The bad-input matrix: each case gets its documented status and a problem naming
//! the field, and a census of every table shows nothing was written.

use actix_web::http::Method;
use goodwill::domain::roles::Role;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::TestApp;

const JSON: &str = "application/json";

/// (method, path, token, content type, body, status, code, field)
type Case<'a> = (
    Method,
    String,
    &'a str,
    &'a str,
    Vec<u8>,
    u16,
    &'a str,
    Option<&'a str>,
);

async fn bad_input_matrix(app: TestApp) {
    let store = app.store("BI", "USD").await;
    let customer = app.customer("BI-1").await;
    let cust_path = format!("/v1/customers/{}", customer["id"].as_str().unwrap());
    let clerk = app.token(Role::Clerk);
    let admin = app.token(Role::Admin);
    let before = app.counts();

    let long = "x".repeat(201);
    // (method, path, token, content type, body, status, code, field)
    let cases: Vec<Case> = vec![
        (Method::POST, "/v1/customers".into(), &clerk, JSON, b"{\"name\": ".to_vec(), 400, "malformed_json", None),
        (Method::POST, "/v1/customers".into(), &clerk, JSON, b"".to_vec(), 400, "malformed_json", None),
        (Method::POST, "/v1/customers".into(), &clerk, JSON, b"{\"external_ref\":\"a\",\"name\":\"b\"} trailing".to_vec(), 400, "malformed_json", None),
        (Method::POST, "/v1/customers".into(), &clerk, JSON,
            json!({"external_ref": "N1", "name": "A", "nickname": "x"}).to_string().into_bytes(), 422, "validation_failed", Some("nickname")),
        (Method::POST, "/v1/customers".into(), &clerk, JSON,
            json!({"external_ref": "N1", "name": "A", "id": uuid::Uuid::now_v7()}).to_string().into_bytes(), 422, "validation_failed", Some("id")),
        (Method::POST, "/v1/customers".into(), &clerk, JSON,
            json!({"external_ref": "N1", "name": "A", "tenant_id": app.other_tenant}).to_string().into_bytes(), 422, "validation_failed", Some("tenant_id")),
        (Method::POST, "/v1/customers".into(), &clerk, JSON,
            json!({"external_ref": "N1", "name": 5}).to_string().into_bytes(), 422, "validation_failed", Some("name")),
        (Method::POST, "/v1/customers".into(), &clerk, JSON,
            json!({"external_ref": true, "name": "A"}).to_string().into_bytes(), 422, "validation_failed", Some("external_ref")),
        (Method::POST, "/v1/customers".into(), &clerk, JSON,
            json!({"external_ref": "N1", "name": "A", "email": ["a@b.c"]}).to_string().into_bytes(), 422, "validation_failed", Some("email")),
        (Method::POST, "/v1/customers".into(), &clerk, JSON,
            json!({"external_ref": "N1", "name": "A", "home_store_id": "not-an-id"}).to_string().into_bytes(), 422, "validation_failed", Some("home_store_id")),
        (Method::POST, "/v1/customers".into(), &clerk, JSON,
            json!({"external_ref": "N1", "name": "A", "home_store_id": 7}).to_string().into_bytes(), 422, "validation_failed", Some("home_store_id")),
        (Method::POST, "/v1/customers".into(), &clerk, JSON,
            json!({"external_ref": "N1", "name": null}).to_string().into_bytes(), 422, "validation_failed", Some("name")),
        (Method::POST, "/v1/customers".into(), &clerk, JSON,
            json!({"external_ref": "N1"}).to_string().into_bytes(), 422, "validation_failed", Some("name")),
        (Method::POST, "/v1/customers".into(), &clerk, JSON,
            json!({"external_ref": "N1", "name": long}).to_string().into_bytes(), 422, "validation_failed", Some("name")),
        (Method::POST, "/v1/customers".into(), &clerk, JSON,
            json!({"external_ref": long, "name": "A"}).to_string().into_bytes(), 422, "validation_failed", Some("external_ref")),
        (Method::POST, "/v1/customers".into(), &clerk, JSON,
            json!({"external_ref": "N1", "name": "A", "email": format!("{}@example.com", "e".repeat(250))}).to_string().into_bytes(), 422, "validation_failed", Some("email")),
        (Method::POST, "/v1/customers".into(), &clerk, JSON,
            json!({"external_ref": "N1", "name": "A", "phone": "call me maybe"}).to_string().into_bytes(), 422, "validation_failed", Some("phone")),
        (Method::POST, "/v1/customers".into(), &clerk, JSON,
            json!({"external_ref": "N1", "name": "A", "note": "x".repeat(70 * 1024)}).to_string().into_bytes(), 413, "payload_too_large", None),
        (Method::POST, "/v1/customers".into(), &clerk, "text/plain",
            json!({"external_ref": "N1", "name": "A"}).to_string().into_bytes(), 415, "unsupported_media_type", None),
        (Method::POST, "/v1/customers".into(), &clerk, "",
            json!({"external_ref": "N1", "name": "A"}).to_string().into_bytes(), 415, "unsupported_media_type", None),
        (Method::POST, "/v1/customers".into(), &clerk, "application/x-www-form-urlencoded",
            b"external_ref=N1&name=A".to_vec(), 415, "unsupported_media_type", None),
        (Method::PATCH, cust_path.clone(), &clerk, JSON,
            json!({"id": uuid::Uuid::now_v7()}).to_string().into_bytes(), 422, "validation_failed", Some("id")),
        (Method::PATCH, cust_path.clone(), &clerk, JSON,
            json!({"name": null}).to_string().into_bytes(), 422, "validation_failed", Some("name")),
        // An array of the fields in order is not an object (serde would take it).
        (Method::PATCH, cust_path.clone(), &clerk, JSON, b"[]".to_vec(), 422, "validation_failed", Some("body")),
        (Method::PATCH, cust_path.clone(), &clerk, JSON, b" [\"A\"]".to_vec(), 422, "validation_failed", Some("body")),
        (Method::PATCH, cust_path.clone(), &clerk, JSON, b"[1,".to_vec(), 400, "malformed_json", None),
        (Method::PATCH, cust_path.clone(), &clerk, JSON,
            json!({"created_at": "2020-01-01T00:00:00Z"}).to_string().into_bytes(), 422, "validation_failed", Some("created_at")),
        (Method::PATCH, cust_path.clone(), &clerk, JSON,
            json!({"email": 12}).to_string().into_bytes(), 422, "validation_failed", Some("email")),
        (Method::POST, "/v1/stores".into(), &admin, JSON,
            json!({"name": "S", "code": "S1", "currency": "usd"}).to_string().into_bytes(), 422, "validation_failed", Some("currency")),
        (Method::POST, "/v1/stores".into(), &admin, JSON,
            json!({"name": "S", "code": "S1", "currency": "XYZ"}).to_string().into_bytes(), 422, "validation_failed", Some("currency")),
        (Method::POST, "/v1/stores".into(), &admin, JSON,
            json!({"name": "S", "code": "has space", "currency": "USD"}).to_string().into_bytes(), 422, "validation_failed", Some("code")),
        (Method::POST, "/v1/stores".into(), &admin, JSON,
            json!({"name": "S", "code": "x".repeat(65), "currency": "USD"}).to_string().into_bytes(), 422, "validation_failed", Some("code")),
        (Method::POST, "/v1/staff".into(), &admin, JSON,
            json!({"name": "T", "store_ids": store}).to_string().into_bytes(), 422, "validation_failed", Some("store_ids")),
        (Method::POST, "/v1/staff".into(), &admin, JSON,
            json!({"name": "T", "store_ids": [store, "nope"]}).to_string().into_bytes(), 422, "validation_failed", Some("store_ids[1]")),
        (Method::POST, "/v1/staff".into(), &admin, JSON,
            json!({"name": "T", "store_ids": []}).to_string().into_bytes(), 422, "validation_failed", Some("store_ids")),
        (Method::POST, "/v1/staff".into(), &admin, JSON,
            json!({"name": "T", "store_ids": [uuid::Uuid::now_v7()]}).to_string().into_bytes(), 422, "validation_failed", Some("store_ids[0]")),
        (Method::POST, "/v1/staff".into(), &admin, JSON,
            json!({"name": "T", "store_ids": [store], "subject": "x".repeat(256)}).to_string().into_bytes(), 422, "validation_failed", Some("subject")),
        (Method::GET, "/v1/customers?limit=0".into(), &clerk, "", vec![], 422, "validation_failed", Some("limit")),
        (Method::GET, "/v1/customers?limit=101".into(), &clerk, "", vec![], 422, "validation_failed", Some("limit")),
        (Method::GET, "/v1/customers?limit=ten".into(), &clerk, "", vec![], 422, "validation_failed", Some("limit")),
        (Method::GET, "/v1/customers?starting_after=zzz".into(), &clerk, "", vec![], 422, "validation_failed", Some("starting_after")),
        (Method::GET, "/v1/customers?sort=name".into(), &clerk, "", vec![], 422, "validation_failed", Some("sort")),
        (Method::GET, "/v1/staff?store_id=nope".into(), &clerk, "", vec![], 422, "validation_failed", Some("store_id")),
        (Method::GET, "/v1/customers/not-an-id".into(), &clerk, "", vec![], 404, "not_found", None),
        (Method::GET, "/v1/no-such-route".into(), &clerk, "", vec![], 404, "not_found", None),
        (Method::DELETE, cust_path.clone(), &clerk, "", vec![], 405, "method_not_allowed", None),
        (Method::PUT, "/v1/stores".into(), &admin, JSON, b"{}".to_vec(), 405, "method_not_allowed", None),
    ];

    for (method, path, token, ct, body, status, code, field) in cases {
        let label = format!(
            "{method} {path} [{ct}] {}",
            String::from_utf8_lossy(&body[..body.len().min(80)])
        );
        let body = if method == Method::GET || method == Method::DELETE {
            None
        } else {
            Some((ct, body))
        };
        let r = app.send(method, &path, Some(token), body).await;
        assert_eq!(
            r.status,
            status,
            "{label}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let p = r.problem(status, code);
        if let Some(f) = field {
            r.names_field(f);
        }
        if status == 405 {
            assert!(r.header("allow").is_some(), "{label}: 405 without Allow");
        }
        let _ = p;
    }
    assert_eq!(app.counts(), before, "a refused request wrote something");
}
both!(bad_input_matrix);

async fn validation_reports_every_field_at_once(app: TestApp) {
    let r = app
        .post(
            "/v1/customers",
            &app.token(Role::Clerk),
            &json!({"external_ref": "", "name": " ", "email": "nope", "phone": "?"}),
        )
        .await;
    let p = r.problem(422, "validation_failed");
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["external_ref", "name", "email", "phone"]);
}
both!(validation_reports_every_field_at_once);

/// Every missing field is named in one answer, not only the first serde
/// meets: a gesture without its story and amount, a store with only a name,
/// an amount without its currency.
async fn every_missing_field_is_named_at_once(app: TestApp) {
    let store = app.store("MF", "USD").await;
    let customer = app.customer("MF-1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fields = |p: &Value| -> Vec<String> {
        let mut f: Vec<String> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_owned())
            .collect();
        f.sort();
        f
    };
    let send = |path: String, body: Value| {
        let app = &app;
        async move {
            app.send_to(
                &app.address,
                actix_web::http::Method::POST,
                &path,
                Some(&app.token(Role::Admin)),
                Some(&uuid::Uuid::now_v7().to_string()),
                Some(("application/json", body.to_string().into_bytes())),
            )
            .await
        }
    };
    let p = send(
        format!("/v1/customers/{customer}/gestures"),
        json!({"kind": "service_recovery", "store_id": store, "reason_code": "service_failure"}),
    )
    .await
    .problem(422, "validation_failed");
    assert_eq!(fields(&p), ["amount", "story"], "{p}");
    let p = send("/v1/stores".into(), json!({"name": "Only a name"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(fields(&p), ["code", "currency"], "{p}");
    let p = send(
        format!("/v1/customers/{customer}/gestures"),
        json!({"kind": "service_recovery", "store_id": store, "reason_code": "service_failure",
            "story": "s", "amount": {}}),
    )
    .await
    .problem(422, "validation_failed");
    assert_eq!(fields(&p), ["amount.amount", "amount.currency"], "{p}");
}
both!(every_missing_field_is_named_at_once);

/// Errors speak the API's words: an amount sent as a string is told the
/// object it should be (never a Rust type's name), and a lower-case currency
/// is told to use upper case.
async fn errors_name_no_rust_type(app: TestApp) {
    let store = app.store("RT", "USD").await;
    let customer = app.customer("RT-1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let clerk = app.token(Role::Clerk);
    let post = |amount: serde_json::Value| {
        let app = &app;
        let clerk = clerk.clone();
        let path = format!("/v1/customers/{customer}/gestures");
        let body = json!({"kind": "service_recovery", "store_id": store, "reason_code": "service_failure",
            "story": "s", "amount": amount});
        async move {
            app.send_to(
                &app.address,
                actix_web::http::Method::POST,
                &path,
                Some(&clerk),
                Some(&uuid::Uuid::now_v7().to_string()),
                Some(("application/json", body.to_string().into_bytes())),
            )
            .await
        }
    };
    let p = post(json!("10.00")).await.problem(422, "validation_failed");
    let e = &p["errors"][0];
    assert_eq!(e["field"], "amount", "{p}");
    let m = e["message"].as_str().unwrap();
    assert!(
        m.contains(r#"{"amount": "10.00", "currency": "USD"}"#) && !m.contains("struct"),
        "{m}"
    );
    assert!(!p.to_string().contains("MoneyInput"), "{p}");
    let p = post(json!({"amount": "10.00", "currency": "usd"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "amount.currency", "{p}");
    assert_eq!(p["errors"][0]["message"], "use upper case (USD)", "{p}");
}
both!(errors_name_no_rust_type);
