//! Staff.

use goodwill::domain::roles::Role;
use serde_json::json;

use crate::both;
use crate::helpers::TestApp;

async fn create_and_read_staff(app: TestApp) {
    let a = app.store("SA", "USD").await;
    let b = app.store("SB", "USD").await;
    let admin = app.token(Role::Admin);
    let s = app
        .post(
            "/v1/staff",
            &admin,
            &json!({"name": "Dana", "store_ids": [b, a], "external_ref": "HR-9", "subject": "auth0|dana"}),
        )
        .await
        .expect(201);
    assert_eq!(s["name"], "Dana");
    let mut expected = vec![a.to_string(), b.to_string()];
    expected.sort();
    let got: Vec<String> = s["store_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, expected);
    assert_eq!(s["subject"], "auth0|dana");
    let id = s["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/v1/staff/{id}"), &admin)
            .await
            .expect(200),
        s
    );

    // A subject signs in as one staff member only; external refs are unique too.
    let p = app
        .post(
            "/v1/staff",
            &admin,
            &json!({"name": "Dup", "store_ids": [a], "subject": "auth0|dana"}),
        )
        .await
        .problem(409, "duplicate_staff_subject");
    assert_eq!(p["existing_id"], id);
    app.post(
        "/v1/staff",
        &admin,
        &json!({"name": "Dup", "store_ids": [a], "external_ref": "HR-9"}),
    )
    .await
    .problem(409, "duplicate_staff_external_ref");

    // Filter by store.
    app.post(
        "/v1/staff",
        &admin,
        &json!({"name": "Only A", "store_ids": [a]}),
    )
    .await
    .expect(201);
    let at_b = app
        .get(&format!("/v1/staff?store_id={b}"), &admin)
        .await
        .expect(200);
    let names: Vec<&str> = at_b["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Dana"]);
}
both!(create_and_read_staff);
