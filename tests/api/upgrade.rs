//! A database written by an older version, extended by this one: the audit
//! trail still verifies, old events as they are and new ones after them, and
//! the ledger stays clean. The fixture (`tests/fixtures/`) holds rows the old
//! code wrote; it is never regenerated.

use actix_web::http::Method;
use diesel::connection::SimpleConnection;
use goodwill::domain::roles::Role;
use serde_json::json;

use crate::both;
use crate::helpers::{Backend, TestApp};

const FIXTURE: &str = include_str!("../fixtures/audit_before_command_layer.sql");
const TENANT: &str = "01a23c2a-d0d7-77c1-8817-08f939fe306d";
const STORE: &str = "01a23c2a-d6fc-7486-978e-4422c3d6ca01";
const CUSTOMER: &str = "01a23c2a-d706-725a-9834-230254efbcd0";
const PROMISE: &str = "01a23c2a-d70a-74ab-b22c-c700a262e854";
const WRITE_OFF: &str = "01a23c2a-d719-7027-afd0-15f7d419f4ab";

async fn an_old_audit_trail_verifies_and_grows(app: TestApp) {
    {
        let mut conn = app.pool.get().unwrap();
        conn.batch_execute(FIXTURE).unwrap();
        if app.backend == Backend::Postgres {
            conn.batch_execute(
                "SELECT setval(pg_get_serial_sequence('events', 'seq'), (SELECT MAX(seq) FROM events))",
            )
            .unwrap();
        }
    }
    let tenant = TENANT.parse().unwrap();
    let token = |sub: &str, role| app.token_for(tenant, sub, role, None);
    let auditor = token("upgrade-auditor", Role::Auditor);
    let before = app.get("/v1/audit/verify", &auditor).await.expect(200);
    assert_eq!(before["intact"], true, "{before}");
    assert_eq!(before["events"], 12, "{before}");

    // The new code appends to the old chains.
    let send = |t: String, m: Method, path: String, body: serde_json::Value| {
        let app = &app;
        async move {
            app.send_to(
                &app.address,
                m,
                &path,
                Some(&t),
                Some(&uuid::Uuid::now_v7().to_string()),
                Some(("application/json", body.to_string().into_bytes())),
            )
            .await
        }
    };
    send(
        token("upgrade-clerk", Role::Clerk),
        Method::PATCH,
        format!("/v1/customers/{CUSTOMER}"),
        json!({"name": "Renamed again"}),
    )
    .await
    .expect(200);
    send(
        token("upgrade-finance", Role::Finance),
        Method::POST,
        format!("/v1/finance/write-offs/{WRITE_OFF}/review"),
        json!({"outcome": "reviewed", "note": "the store confirmed it"}),
    )
    .await
    .expect(200);
    let paid = send(
        token("upgrade-clerk", Role::Clerk),
        Method::POST,
        format!("/v1/gestures/{PROMISE}/payments"),
        json!({"amount": {"amount": "5.00", "currency": "USD"}}),
    )
    .await
    .expect(201);
    assert_eq!(paid["bad_debt_recovery"], true);
    send(
        token("upgrade-clerk", Role::Clerk),
        Method::POST,
        format!("/v1/customers/{CUSTOMER}/gestures"),
        json!({"kind": "service_recovery", "store_id": STORE, "reason_code": "service_failure",
            "story": "after the upgrade", "amount": {"amount": "5.00", "currency": "USD"}}),
    )
    .await
    .expect(201);

    let after = app.get("/v1/audit/verify", &auditor).await.expect(200);
    assert_eq!(after["intact"], true, "{after}");
    assert!(after["events"].as_i64().unwrap() > 12, "{after}");
    let check = app.get("/v1/ledger/check", &auditor).await.expect(200);
    assert_eq!(check, json!({"clean": true, "discrepancies": []}));
    // And by the operator's command, over every tenant.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_goodwill"))
        .args(["audit", "verify", "--database-url", &app.database_url])
        .env_remove("GOODWILL_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env("GOODWILL_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
both!(an_old_audit_trail_verifies_and_grows);
