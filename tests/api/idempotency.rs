//! Idempotency keys: never act twice, on any instance.

use actix_web::http::Method;
use goodwill::domain::roles::Role;
use serde_json::json;

use crate::both;
use crate::helpers::{Backend, Resp, TestApp};

async fn post_with_key(
    app: &TestApp,
    address: &str,
    token: &str,
    key: &str,
    body: &serde_json::Value,
) -> Resp {
    app.send_to(
        address,
        Method::POST,
        "/v1/customers",
        Some(token),
        Some(key),
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

async fn audit_count(app: &TestApp) -> usize {
    let r = app
        .get(
            "/v1/audit?entity_type=customer&limit=100",
            &app.token(Role::Auditor),
        )
        .await;
    r.expect(200)["data"].as_array().unwrap().len()
}

async fn a_repeated_post_acts_once(app: TestApp) {
    let token = app.token(Role::Pos);
    let body = json!({"external_ref": "IDEM-1", "name": "Once"});
    let first = post_with_key(&app, &app.address, &token, "key-1", &body).await;
    assert_eq!(first.status, 201);
    assert!(first.header("idempotent-replayed").is_none());
    for _ in 0..99 {
        let again = post_with_key(&app, &app.address, &token, "key-1", &body).await;
        assert_eq!(again.status, 201);
        assert_eq!(again.body, first.body, "identical bodies");
        assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    }
    let list = app
        .get("/v1/customers?external_ref=IDEM-1", &token)
        .await
        .expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(audit_count(&app).await, 1);

    // The same key with another body: 422, and nothing happens.
    let other = json!({"external_ref": "IDEM-2", "name": "Other"});
    post_with_key(&app, &app.address, &token, "key-1", &other)
        .await
        .problem(422, "idempotency_mismatch");
    // The same key (same sub) on another path is another request: 422 too.
    let r = app
        .send_to(
            &app.address,
            Method::POST,
            "/v1/stores",
            Some(&app.token_for(app.tenant, "tester", Role::Admin, None)),
            Some("key-1"),
            Some((
                "application/json",
                json!({"name": "S", "code": "S", "currency": "USD"})
                    .to_string()
                    .into_bytes(),
            )),
        )
        .await;
    r.problem(422, "idempotency_mismatch");
    assert_eq!(
        app.get("/v1/customers?external_ref=IDEM-2", &token)
            .await
            .expect(200)["data"],
        json!([])
    );

    // The same key from another sub is an independent request: it runs (and
    // meets the duplicate the first one created).
    let other_sub = app.token_for(app.tenant, "till-9", Role::Pos, None);
    let r = post_with_key(&app, &app.address, &other_sub, "key-1", &body).await;
    r.problem(409, "duplicate_external_ref");
    assert!(r.header("idempotent-replayed").is_none());
    // That 409 ran, so it is kept with its key and replayed.
    let again = post_with_key(&app, &app.address, &other_sub, "key-1", &body).await;
    assert_eq!((again.status, again.body.clone()), (409, r.body.clone()));
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
}
both!(a_repeated_post_acts_once);

async fn refusals_before_running_are_not_kept(app: TestApp) {
    let token = app.token(Role::Clerk);
    let bad = json!({"external_ref": "K-1", "name": ""});
    post_with_key(&app, &app.address, &token, "k-refused", &bad)
        .await
        .names_field("name");
    // A fixed request with the same key runs: the refusal was not stored.
    let good = json!({"external_ref": "K-1", "name": "Fixed"});
    post_with_key(&app, &app.address, &token, "k-refused", &good)
        .await
        .expect(201);
    // A malformed key is a 400, and changes nothing.
    let before = app.counts();
    let r = post_with_key(
        &app,
        &app.address,
        &token,
        "has space",
        &json!({"external_ref": "K-2", "name": "N"}),
    )
    .await;
    r.problem(400, "invalid_idempotency_key");
    assert_eq!(app.counts(), before);
}
both!(refusals_before_running_are_not_kept);

async fn concurrent_requests_with_one_key_act_once(app: TestApp) {
    let token = app.token(Role::Pos);
    let body = json!({"external_ref": "CONC-1", "name": "Concurrent"});
    let results = futures_util::future::join_all(
        (0..50).map(|_| post_with_key(&app, &app.address, &token, "conc", &body)),
    )
    .await;
    let fresh: Vec<_> = results
        .iter()
        .filter(|r| r.status == 201 && r.header("idempotent-replayed").is_none())
        .collect();
    assert_eq!(
        fresh.len(),
        1,
        "statuses: {:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in &results {
        match r.status {
            201 => assert_eq!(r.body, fresh[0].body),
            409 => {
                r.problem(409, "idempotency_in_flight");
            }
            s => panic!("unexpected {s}: {}", String::from_utf8_lossy(&r.body)),
        }
    }
    assert_eq!(
        app.get("/v1/customers?external_ref=CONC-1", &token)
            .await
            .expect(200)["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(audit_count(&app).await, 1);
}
both!(concurrent_requests_with_one_key_act_once);

#[actix_web::test]
async fn one_key_through_two_instances_acts_once() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let second = app.second_instance().await;
    let token = app.token(Role::Pos);
    let body = json!({"external_ref": "TWO-1", "name": "Two instances"});
    let (a, b) = futures_util::future::join(
        futures_util::future::join_all(
            (0..10).map(|_| post_with_key(&app, &app.address, &token, "two", &body)),
        ),
        futures_util::future::join_all(
            (0..10).map(|_| post_with_key(&app, &second, &token, "two", &body)),
        ),
    )
    .await;
    let all: Vec<&Resp> = a.iter().chain(b.iter()).collect();
    let fresh = all
        .iter()
        .filter(|r| r.status == 201 && r.header("idempotent-replayed").is_none())
        .count();
    assert_eq!(
        fresh,
        1,
        "statuses: {:?}",
        all.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    // Afterwards, both instances replay.
    for address in [&app.address, &second] {
        let r = post_with_key(&app, address, &token, "two", &body).await;
        assert_eq!(
            (r.status, r.header("idempotent-replayed").as_deref()),
            (201, Some("true"))
        );
    }
    assert_eq!(
        app.get("/v1/customers?external_ref=TWO-1", &token)
            .await
            .expect(200)["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn purge_removes_only_old_keys() {
    let (url, _guard) = crate::helpers::fresh_database(Backend::Sqlite);
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_goodwill"))
            .env("GOODWILL_LOG", "warn")
            .args(["--database-url", &url])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["tenant", "create", "--name", "P"]);
    let tenant = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let pool = goodwill::store::build_pool(&goodwill::store::DatabaseUrl::parse(&url).unwrap(), 1)
        .unwrap();
    {
        let mut conn = pool.get().unwrap();
        for (key, age) in [("old", "-100 hours"), ("new", "-1 hours")] {
            diesel::RunQueryDsl::execute(
                diesel::sql_query(format!(
                    "INSERT INTO idempotency_keys VALUES ('{tenant}', 'sub', '{key}', 'f', 201, 'application/json', '{{}}', datetime('now', '{age}'))"
                )),
                &mut *conn,
            )
            .unwrap();
        }
    }
    let out = run(&["idempotency", "purge", "--older-than", "1h"]);
    assert!(!out.status.success(), "younger than 24h is refused");
    let out = run(&["idempotency", "purge", "--older-than", "72h"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "1");
    let mut conn = pool.get().unwrap();
    let left = goodwill::store::count_rows(&mut conn).unwrap();
    assert!(
        left.contains(&("idempotency_keys".to_owned(), 1)),
        "{left:?}"
    );
}
