//! Stores, and the HTTP conventions every resource shares (request ids, lists).

use actix_web::http::Method;
use goodwill::domain::roles::Role;
use serde_json::json;

use crate::both;
use crate::helpers::TestApp;

async fn create_read_and_list_stores(app: TestApp) {
    let admin = app.token(Role::Admin);
    let r = app
        .post(
            "/v1/stores",
            &admin,
            &json!({"name": " Main Street ", "code": "MS-1", "currency": "JPY"}),
        )
        .await;
    let s = r.expect(201);
    assert_eq!(s["name"], "Main Street");
    assert_eq!(s["code"], "MS-1");
    assert_eq!(s["currency"], "JPY");
    assert!(s["created_at"].as_str().unwrap().ends_with('Z'));
    let id = s["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);

    let got = app
        .get(&format!("/v1/stores/{id}"), &app.token(Role::Pos))
        .await
        .expect(200);
    assert_eq!(got, s);

    let dup = app
        .post(
            "/v1/stores",
            &admin,
            &json!({"name": "Again", "code": "MS-1", "currency": "USD"}),
        )
        .await;
    let p = dup.problem(409, "duplicate_store_code");
    assert_eq!(p["existing_id"], id);

    app.get(&format!("/v1/stores/{}", uuid::Uuid::now_v7()), &admin)
        .await
        .problem(404, "not_found");
}
both!(create_read_and_list_stores);

async fn lists_page_with_cursors(app: TestApp) {
    let admin = app.token(Role::Admin);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.store(&format!("P{i}"), "EUR").await.to_string());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/stores?limit=2&starting_after={c}"),
            None => "/v1/stores?limit=2".to_owned(),
        };
        let page = app.get(&path, &admin).await.expect(200);
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(data.iter().map(|s| s["id"].as_str().unwrap().to_owned()));
        if page["has_more"] == json!(true) {
            cursor = Some(page["next_cursor"].as_str().unwrap().to_owned());
        } else {
            assert!(page["next_cursor"].is_null());
            break;
        }
    }
    assert_eq!(seen, ids, "pages cover every store once, in creation order");
    let all = app.get("/v1/stores", &admin).await.expect(200);
    assert_eq!(all["data"].as_array().unwrap().len(), 5);
    assert_eq!(all["has_more"], false);
}
both!(lists_page_with_cursors);

async fn request_ids_are_echoed(app: TestApp) {
    let mine = app.send(Method::GET, "/healthz", None, None).await;
    let generated = mine.header("x-request-id").unwrap();
    assert!(!generated.is_empty());

    let resp = app
        .client_with_request_id("/healthz", "till-7/req-42")
        .await;
    assert_eq!(resp.as_deref(), Some("till-7/req-42"));
    let long = "x".repeat(201);
    let resp = app.client_with_request_id("/healthz", &long).await.unwrap();
    assert_ne!(resp, long, "an over-long request id is replaced");
}
both!(request_ids_are_echoed);

async fn operations_endpoints(app: TestApp) {
    app.send(Method::GET, "/healthz", None, None)
        .await
        .expect(200);
    let ready = app
        .send(Method::GET, "/readyz", None, None)
        .await
        .expect(200);
    assert_eq!(ready["status"], "ready");
    let expected = match app.backend {
        crate::helpers::Backend::Sqlite => "sqlite",
        crate::helpers::Backend::Postgres => "postgres",
    };
    assert_eq!(ready["database"], expected);
    // A request just made is counted under its route template.
    let store = app.store("MET", "USD").await;
    app.get(&format!("/v1/stores/{store}"), &app.token(Role::Clerk))
        .await
        .expect(200);
    app.get(
        &format!("/v1/stores/{}", uuid::Uuid::now_v7()),
        &app.token(Role::Clerk),
    )
    .await
    .expect(404);
    let m = app.send(Method::GET, "/metrics", None, None).await;
    assert_eq!(m.status, 200);
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
    let text = String::from_utf8(m.body).unwrap();
    for line in [
        r#"goodwill_http_requests_total{route="/v1/stores/{id}",method="GET",status="200"} 1"#,
        r#"goodwill_http_requests_total{route="/v1/stores/{id}",method="GET",status="404"} 1"#,
        r#"goodwill_http_requests_total{route="/v1/stores",method="POST",status="201"} 1"#,
        r#"goodwill_http_request_duration_seconds_count{route="/v1/stores/{id}",method="GET"} 2"#,
        r#"goodwill_http_request_duration_seconds_bucket{route="/v1/stores/{id}",method="GET",le="+Inf"} 2"#,
        r#"goodwill_db_pool_connections{state="idle"}"#,
        "goodwill_draining 0",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
}
both!(operations_endpoints);
