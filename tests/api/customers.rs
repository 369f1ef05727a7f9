//! Customers: create, read, search, update, duplicates (also under concurrency).

use goodwill::domain::roles::Role;
use serde_json::json;

use crate::both;
use crate::helpers::TestApp;

async fn create_read_update_customers(app: TestApp) {
    let store = app.store("C1", "USD").await;
    let clerk = app.token(Role::Clerk);
    let c = app
        .post(
            "/v1/customers",
            &clerk,
            &json!({"external_ref": "POS-1", "name": "Ann Lee", "email": "ann@example.com", "phone": "+1 555 0100", "home_store_id": store}),
        )
        .await
        .expect(201);
    assert_eq!(c["external_ref"], "POS-1");
    assert_eq!(c["home_store_id"], store.to_string());
    let id = c["id"].as_str().unwrap();
    let path = format!("/v1/customers/{id}");
    assert_eq!(
        app.get(&path, &app.token(Role::Auditor)).await.expect(200),
        c
    );

    // PATCH: set one field, clear another, leave the rest.
    let u = app
        .patch(
            &path,
            &clerk,
            &json!({"name": "Ann Lee-Smith", "email": null}),
        )
        .await
        .expect(200);
    assert_eq!(u["name"], "Ann Lee-Smith");
    assert!(u["email"].is_null());
    assert_eq!(u["phone"], "+1 555 0100");
    assert_eq!(u["created_at"], c["created_at"]);
    assert_ne!(u["updated_at"], c["updated_at"]);
    assert_eq!(app.get(&path, &clerk).await.expect(200), u);

    // An empty patch changes nothing.
    let same = app.patch(&path, &clerk, &json!({})).await.expect(200);
    assert_eq!(same, u);

    // Renaming onto another customer's external_ref is a 409 naming them.
    let other = app.customer("POS-2").await;
    let p = app
        .patch(&path, &clerk, &json!({"external_ref": "POS-2"}))
        .await
        .problem(409, "duplicate_external_ref");
    assert_eq!(p["existing_id"], other["id"]);
    app.patch(
        &path,
        &clerk,
        &json!({"home_store_id": uuid::Uuid::now_v7()}),
    )
    .await
    .names_field("home_store_id");
    app.patch(
        &format!("/v1/customers/{}", uuid::Uuid::now_v7()),
        &clerk,
        &json!({"name": "Ghost"}),
    )
    .await
    .problem(404, "not_found");
}
both!(create_read_update_customers);

async fn duplicate_external_ref_names_the_existing_customer(app: TestApp) {
    let first = app.customer("DUP-1").await;
    let before = app.counts();
    let p = app
        .post(
            "/v1/customers",
            &app.token(Role::Pos),
            &json!({"external_ref": "DUP-1", "name": "Someone else"}),
        )
        .await
        .problem(409, "duplicate_external_ref");
    assert_eq!(p["existing_id"], first["id"]);
    assert_eq!(app.counts(), before);
}
both!(duplicate_external_ref_names_the_existing_customer);

/// A composed and a decomposed "é" look the same to everyone: they are one
/// reference (NFC), for customers and staff alike; case stays significant.
async fn look_alike_references_are_one(app: TestApp) {
    let pos = app.token(Role::Pos);
    let composed = "Caf\u{e9}-7";
    let decomposed = "Cafe\u{301}-7";
    let first = app
        .post(
            "/v1/customers",
            &pos,
            &json!({"external_ref": decomposed, "name": "Ren\u{e9}"}),
        )
        .await
        .expect(201);
    assert_eq!(first["external_ref"], composed, "stored in NFC");
    let before = app.counts();
    let p = app
        .post(
            "/v1/customers",
            &pos,
            &json!({"external_ref": composed, "name": "Other"}),
        )
        .await
        .problem(409, "duplicate_external_ref");
    assert_eq!(p["existing_id"], first["id"]);
    assert_eq!(app.counts(), before);
    // Found by either spelling.
    for spelling in [composed, decomposed] {
        let q = serde_urlencoded::to_string([("external_ref", spelling)]).unwrap();
        let page = app
            .get(&format!("/v1/customers?{q}"), &pos)
            .await
            .expect(200);
        assert_eq!(page["data"][0]["id"], first["id"], "{spelling:?}");
    }
    // Case is part of the reference.
    app.post(
        "/v1/customers",
        &pos,
        &json!({"external_ref": "caf\u{e9}-7", "name": "Lower"}),
    )
    .await
    .expect(201);

    let admin = app.token(Role::Admin);
    let store = app.store("NF", "USD").await;
    app.post(
        "/v1/staff",
        &admin,
        &json!({"name": "Zo\u{eb}", "store_ids": [store], "external_ref": "HR-Zo\u{eb}"}),
    )
    .await
    .expect(201);
    app.post(
        "/v1/staff",
        &admin,
        &json!({"name": "Zoe", "store_ids": [store], "external_ref": "HR-Zoe\u{308}"}),
    )
    .await
    .problem(409, "duplicate_staff_external_ref");
}
both!(look_alike_references_are_one);

async fn search_and_filter_customers(app: TestApp) {
    let clerk = app.token(Role::Clerk);
    for (r, name, email) in [
        ("A-1", "Maria Gomez", "maria@example.com"),
        ("A-2", "Mario Rossi", "rossi@example.com"),
        ("B-3", "Li Wei", "wei@example.com"),
        ("B_4", "100% Organic Ltd", "shop@example.com"),
    ] {
        app.post(
            "/v1/customers",
            &clerk,
            &json!({"external_ref": r, "name": name, "email": email}),
        )
        .await
        .expect(201);
    }
    let names = |v: serde_json::Value| -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(app.get("/v1/customers?q=mari", &clerk).await.expect(200)),
        ["Maria Gomez", "Mario Rossi"]
    );
    assert_eq!(
        names(app.get("/v1/customers?q=MARIA", &clerk).await.expect(200)),
        ["Maria Gomez"]
    );
    assert_eq!(
        names(
            app.get("/v1/customers?q=rossi%40", &clerk)
                .await
                .expect(200)
        ),
        ["Mario Rossi"]
    );
    assert_eq!(
        names(
            app.get("/v1/customers?external_ref=B-3", &clerk)
                .await
                .expect(200)
        ),
        ["Li Wei"]
    );
    // LIKE wildcards in the query are literal.
    assert_eq!(
        names(app.get("/v1/customers?q=100%25", &clerk).await.expect(200)),
        ["100% Organic Ltd"]
    );
    assert_eq!(
        names(app.get("/v1/customers?q=_", &clerk).await.expect(200)),
        ["100% Organic Ltd"]
    );
    assert!(
        names(
            app.get("/v1/customers?external_ref=nobody", &clerk)
                .await
                .expect(200)
        )
        .is_empty()
    );
}
both!(search_and_filter_customers);

/// 20 concurrent creates of one external_ref: exactly one 201, the rest 409 naming
/// the winner, one row.
async fn concurrent_duplicate_creates(app: TestApp) {
    let token = app.token(Role::Pos);
    let body = json!({"external_ref": "RACE-1", "name": "Racer"});
    let results =
        futures_util::future::join_all((0..20).map(|_| app.post("/v1/customers", &token, &body)))
            .await;
    let created: Vec<_> = results.iter().filter(|r| r.status == 201).collect();
    assert_eq!(
        created.len(),
        1,
        "statuses: {:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let winner = created[0].json()["id"].clone();
    for r in results.iter().filter(|r| r.status != 201) {
        let p = r.problem(409, "duplicate_external_ref");
        assert_eq!(p["existing_id"], winner);
    }
    let listed = app
        .get("/v1/customers?external_ref=RACE-1", &token)
        .await
        .expect(200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
}
both!(concurrent_duplicate_creates);
