//! The audit trail: one event per command with before/after; every kind of
//! tampering detected and named; the database refuses UPDATE and DELETE.

use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl};
use goodwill::audit::Checkpoint;
use goodwill::domain::roles::Role;
use goodwill::store::{self, DbConnection};
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, TestApp};

async fn events_of(app: &TestApp, entity_id: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/v1/audit?entity_id={entity_id}"),
            &app.token(Role::Auditor),
        )
        .await;
    r.expect(200)["data"].as_array().unwrap().clone()
}

async fn each_command_writes_one_event(app: TestApp) {
    let admin = app.token_for(app.tenant, "boss", Role::Admin, None);
    let store = app
        .post(
            "/v1/stores",
            &admin,
            &json!({"name": "Main", "code": "M", "currency": "USD"}),
        )
        .await
        .expect(201);
    let sid = store["id"].as_str().unwrap();
    let ev = events_of(&app, sid).await;
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["action"], "store.created");
    assert_eq!(ev[0]["entity_type"], "store");
    assert_eq!(ev[0]["chain"], format!("store:{sid}"));
    assert_eq!(ev[0]["position"], 1);
    assert!(ev[0]["before"].is_null());
    assert_eq!(ev[0]["after"], store);
    assert_eq!(
        ev[0]["actor"],
        json!({"sub": "boss", "role": "admin", "stores": null})
    );

    let staff = app
        .post(
            "/v1/staff",
            &admin,
            &json!({"name": "Kim", "store_ids": [sid]}),
        )
        .await
        .expect(201);
    let ev = events_of(&app, staff["id"].as_str().unwrap()).await;
    assert_eq!(
        (ev.len(), ev[0]["action"].as_str()),
        (1, Some("staff.created"))
    );
    assert_eq!(ev[0]["after"], staff);

    let clerk = app.token_for(
        app.tenant,
        "till-3",
        Role::Clerk,
        Some(vec![sid.parse().unwrap()]),
    );
    let c = app
        .send(
            actix_web::http::Method::POST,
            "/v1/customers",
            Some(&clerk),
            Some((
                "application/json",
                json!({"external_ref": "A1", "name": "Ann"})
                    .to_string()
                    .into_bytes(),
            )),
        )
        .await;
    let customer = c.expect(201);
    let cid = customer["id"].as_str().unwrap();
    let path = format!("/v1/customers/{cid}");
    let updated = app
        .patch(&path, &clerk, &json!({"phone": "+44 20 7946 0000"}))
        .await
        .expect(200);
    // A patch that changes nothing and a refused one record nothing.
    app.patch(&path, &clerk, &json!({"phone": "+44 20 7946 0000"}))
        .await
        .expect(200);
    app.patch(&path, &clerk, &json!({"email": "bad"}))
        .await
        .names_field("email");

    let ev = events_of(&app, cid).await;
    assert_eq!(ev.len(), 2, "{ev:#?}");
    assert_eq!(ev[0]["action"], "customer.created");
    assert_eq!(ev[1]["action"], "customer.updated");
    assert_eq!(ev[1]["position"], 2);
    assert_eq!(ev[1]["before"], customer);
    assert_eq!(ev[1]["after"], updated);
    assert_eq!(ev[1]["prev_hash"], ev[0]["hash"]);
    assert_eq!(ev[1]["actor"]["stores"], json!([sid]));
    assert_eq!(ev[1]["actor"]["sub"], "till-3");

    // Filters.
    let auditor = app.token(Role::Auditor);
    let by_action = app
        .get("/v1/audit?action=customer.updated", &auditor)
        .await
        .expect(200);
    assert_eq!(by_action["data"].as_array().unwrap().len(), 1);
    let by_actor = app.get("/v1/audit?actor=boss", &auditor).await.expect(200);
    assert_eq!(by_actor["data"].as_array().unwrap().len(), 2);
    let by_type = app
        .get("/v1/audit?entity_type=customer&limit=1", &auditor)
        .await
        .expect(200);
    assert_eq!(by_type["has_more"], true);
    let future = app
        .get("/v1/audit?from=2999-01-01T00:00:00Z", &auditor)
        .await
        .expect(200);
    assert!(future["data"].as_array().unwrap().is_empty());
    app.get("/v1/audit?from=yesterday", &auditor)
        .await
        .names_field("from");

    let ok = app.get("/v1/audit/verify", &auditor).await.expect(200);
    assert_eq!(ok, json!({"intact": true, "chains": 3, "events": 4}));
    // Another tenant's trail is separate.
    let other = app.token_for(app.other_tenant, "x", Role::Auditor, None);
    assert_eq!(
        app.get("/v1/audit", &other).await.expect(200)["data"],
        json!([])
    );
}
both!(each_command_writes_one_event);

/// Runs `tamper` on a connection inside a transaction that is rolled back, with
/// the database's refusal switched off for the duration, and returns what
/// verification says meanwhile.
/// Inside a transaction: the refusing triggers off, as the tables' owner
/// could (PostgreSQL: every trigger; SQLite: `drop`, run as given).
fn without_triggers(c: &mut DbConnection, drop: &str) -> diesel::QueryResult<()> {
    match c {
        DbConnection::Pg(pg) => pg.batch_execute("SET LOCAL session_replication_role = replica"),
        DbConnection::Sqlite(s) => s.batch_execute(drop),
    }
}

fn tampered(
    app: &TestApp,
    tamper: &str,
    checkpoint: Option<&Checkpoint>,
) -> Option<goodwill::audit::BrokenLink> {
    let mut conn = app.pool.get().unwrap();
    let conn: &mut DbConnection = &mut conn;
    let mut found = None;
    let _ = conn.transaction::<(), diesel::result::Error, _>(|c| {
        without_triggers(
            c,
            "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;",
        )?;
        c.batch_execute(tamper)?;
        let report = store::audit::verify(c, Some(app.tenant)).unwrap();
        found = match (report.broken, checkpoint) {
            (Some(b), _) => Some(b),
            (None, Some(cp)) => store::audit::verify_checkpoint(c, cp).unwrap(),
            (None, None) => None,
        };
        Err(diesel::result::Error::RollbackTransaction)
    });
    found
}

async fn tampering_is_detected_and_named(app: TestApp) {
    let clerk = app.token(Role::Clerk);
    let c = app.customer("T-1").await;
    let cid = c["id"].as_str().unwrap().to_owned();
    for i in 0..3 {
        app.patch(
            &format!("/v1/customers/{cid}"),
            &clerk,
            &json!({"name": format!("Name {i}")}),
        )
        .await
        .expect(200);
    }
    let other = app.customer("T-2").await;
    let ev = events_of(&app, &cid).await;
    assert_eq!(ev.len(), 4);
    let chain = format!("customer:{cid}");
    let id2 = ev[1]["id"].as_str().unwrap().to_owned();
    assert!(
        tampered(&app, "SELECT 1", None).is_none(),
        "intact before tampering"
    );

    // Each column of an event changed in turn.
    let edits = [
        ("tenant_id", format!("'{}'", app.other_tenant)),
        ("id", format!("'{}'", uuid::Uuid::now_v7())),
        (
            "chain",
            format!("'customer:{}'", other["id"].as_str().unwrap()),
        ),
        ("seq", "77".to_owned()),
        ("prev_hash", format!("'{}'", "1".repeat(64))),
        ("hash", format!("'{}'", "2".repeat(64))),
        ("occurred_at", "'2001-02-03 04:05:06'".to_owned()),
        ("actor_sub", "'mallory'".to_owned()),
        ("actor_role", "'admin'".to_owned()),
        ("actor_stores", "'[]'".to_owned()),
        ("action", "'customer.deleted'".to_owned()),
        ("entity_type", "'store'".to_owned()),
        ("entity_id", format!("'{}'", uuid::Uuid::now_v7())),
        ("reason", "'because'".to_owned()),
        ("request_id", "'forged'".to_owned()),
        ("before_state", "'{\"name\":\"x\"}'".to_owned()),
        ("after_state", "NULL".to_owned()),
    ];
    for (column, value) in &edits {
        let b = tampered(
            &app,
            &format!("UPDATE audit_events SET {column} = {value} WHERE id = '{id2}'"),
            None,
        )
        .unwrap_or_else(|| panic!("changing {column} went unnoticed"));
        assert_eq!(b.tenant_id, app.tenant, "{column}");
        if *column != "chain" {
            assert_eq!(b.chain, chain, "{column}: {b}");
        }
        assert_eq!(b.position, 2, "{column}: {b}");
        if !["tenant_id", "id", "chain", "seq"].contains(column) {
            assert_eq!(
                b.event_id.map(|e| e.to_string()).as_deref(),
                Some(id2.as_str()),
                "{column}: {b}"
            );
        }
    }

    // An event deleted.
    let b = tampered(
        &app,
        &format!("DELETE FROM audit_events WHERE id = '{id2}'"),
        None,
    )
    .unwrap();
    assert_eq!((b.chain.as_str(), b.position), (chain.as_str(), 2), "{b}");
    // Two events swapped.
    let id3 = ev[2]["id"].as_str().unwrap();
    let b = tampered(
        &app,
        &format!(
            "UPDATE audit_events SET seq = 100 WHERE id = '{id2}';
             UPDATE audit_events SET seq = 2 WHERE id = '{id3}';
             UPDATE audit_events SET seq = 3 WHERE id = '{id2}';"
        ),
        None,
    )
    .unwrap();
    assert_eq!((b.chain.as_str(), b.position), (chain.as_str(), 2), "{b}");
    // The newest event deleted: the recorded head notices...
    let id4 = ev[3]["id"].as_str().unwrap();
    let b = tampered(
        &app,
        &format!("DELETE FROM audit_events WHERE id = '{id4}'"),
        None,
    )
    .unwrap();
    assert_eq!((b.chain.as_str(), b.position), (chain.as_str(), 4), "{b}");
    // ...and when the head is rewound too, only a kept checkpoint notices.
    let cp: Checkpoint = serde_json::from_value(
        app.get("/v1/audit/checkpoint", &app.token(Role::Auditor))
            .await
            .expect(200),
    )
    .unwrap();
    assert!(cp.is_self_consistent());
    assert_eq!(cp.events, 5);
    let h3 = ev[2]["hash"].as_str().unwrap();
    let rewind = format!(
        "DELETE FROM audit_events WHERE id = '{id4}';
         UPDATE audit_chains SET length = 3, head_hash = '{h3}' WHERE chain = '{chain}';"
    );
    assert!(
        tampered(&app, &rewind, None).is_none(),
        "without a checkpoint this is invisible"
    );
    let b = tampered(&app, &rewind, Some(&cp)).unwrap();
    assert_eq!((b.chain.as_str(), b.position), (chain.as_str(), 4), "{b}");

    // Nothing above was kept: the trail still verifies.
    app.get("/v1/audit/verify", &app.token(Role::Finance))
        .await
        .expect(200);
}
both!(tampering_is_detected_and_named);

async fn the_database_refuses_update_and_delete(app: TestApp) {
    let c = app.customer("R-1").await;
    let id = events_of(&app, c["id"].as_str().unwrap()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut conn = app.pool.get().unwrap();
    for sql in [
        format!("UPDATE audit_events SET actor_sub = 'mallory' WHERE id = '{id}'"),
        format!("DELETE FROM audit_events WHERE id = '{id}'"),
    ] {
        let err = diesel::sql_query(&sql).execute(&mut *conn).unwrap_err();
        assert!(err.to_string().contains("not allowed"), "{sql}: {err}");
    }
    if app.backend == Backend::Postgres {
        let err = conn
            .batch_execute("TRUNCATE audit_events CASCADE")
            .unwrap_err();
        assert!(err.to_string().contains("not allowed"), "{err}");
    }
    drop(conn);
    app.get("/v1/audit/verify", &app.token(Role::Admin))
        .await
        .expect(200);
}
both!(the_database_refuses_update_and_delete);

async fn verify_names_the_break_over_http_and_cli(app: TestApp) {
    let c = app.customer("V-1").await;
    let cid = c["id"].as_str().unwrap().to_owned();
    app.patch(
        &format!("/v1/customers/{cid}"),
        &app.token(Role::Clerk),
        &json!({"name": "V"}),
    )
    .await
    .expect(200);
    let ev = events_of(&app, &cid).await;
    let id1 = ev[0]["id"].as_str().unwrap().to_owned();
    let bin = env!("CARGO_BIN_EXE_goodwill");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .env_remove("GOODWILL_JWT_SECRET")
            .env("GOODWILL_LOG", "warn")
            .args(["--database-url", &app.database_url])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["audit", "checkpoint"]);
    assert!(
        out.status.success(),
        "{:?} {} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let dir = std::env::temp_dir().join(format!("gw-cp-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let cp_file = dir.join("checkpoint.json");
    std::fs::write(&cp_file, &out.stdout).unwrap();
    let cp_path = cp_file.to_str().unwrap();
    assert!(run(&["audit", "verify"]).status.success());
    let out = run(&["audit", "verify", "--checkpoint", cp_path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Tamper for real (committed), with the refusal switched off.
    {
        let mut conn = app.pool.get().unwrap();
        let sql = format!("UPDATE audit_events SET reason = 'edited' WHERE id = '{id1}'");
        match &mut *conn {
            DbConnection::Pg(pg) => pg
                .batch_execute(&format!(
                    "BEGIN; SET LOCAL session_replication_role = replica; {sql}; COMMIT;"
                ))
                .unwrap(),
            DbConnection::Sqlite(s) => s
                .batch_execute(&format!("DROP TRIGGER audit_events_no_update; {sql};"))
                .unwrap(),
        }
    }
    let r = app.get("/v1/audit/verify", &app.token(Role::Auditor)).await;
    let p = r.problem(409, "audit_chain_broken");
    assert_eq!(p["broken_link"]["chain"], format!("customer:{cid}"));
    assert_eq!(p["broken_link"]["position"], 1);
    assert_eq!(p["broken_link"]["event_id"], id1);
    app.get("/v1/audit/checkpoint", &app.token(Role::Auditor))
        .await
        .problem(409, "audit_chain_broken");

    let out = run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("customer:{cid}"))
            && err.contains("position 1")
            && err.contains(&id1),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
both!(verify_names_the_break_over_http_and_cli);

/// The outside review's rewrite: as the tables' owner with the triggers off, a
/// deferred payment's 100.00 becomes 9,100.00 in the gesture, its entries, the
/// balances and the customer's totals, and its feed event is given forged
/// data (a feed event written since the feed stopped copying has none of its
/// own: it reads its audit event's, which the chain protects). Every
/// sum still agrees with every other and the chains still verify; the
/// reconciliation with the audit trail names the transaction and the feed
/// event, and `ledger check` is no longer clean.
async fn a_consistent_rewrite_of_the_ledger_is_named(app: TestApp) {
    let store = app.store("RC", "USD").await;
    let customer = app.customer("RC-1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = app.token(Role::Admin);
    let due = (app.clock.now().date() + chrono::TimeDelta::days(7)).to_string();
    let body = json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
        "story": "Pay on Friday", "amount": {"amount": "100.00", "currency": "USD"}, "due_on": due});
    let g = app
        .send_to(
            &app.address,
            actix_web::http::Method::POST,
            &format!("/v1/customers/{customer}/gestures"),
            Some(&admin),
            Some("rc-1"),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
        .expect(201);
    assert_eq!(g["status"], "approved");
    let gid = g["id"].as_str().unwrap().to_owned();
    // The event that recorded it attests its ledger transaction.
    let evs = events_of(&app, &gid).await;
    let attested = &evs[0]["ledger"][0];
    assert_eq!(attested["kind"], "gesture", "{}", evs[0]);
    let entries = attested["entries"].as_array().unwrap();
    assert!(entries.iter().all(|e| e["debit_minor"].as_i64().unwrap()
        + e["credit_minor"].as_i64().unwrap()
        == 10_000));
    let check = app.get("/v1/ledger/check", &admin).await.expect(200);
    assert_eq!(check["clean"], true, "{check}");

    let tx = attested["transaction_id"].as_str().unwrap().to_owned();
    let t = app.tenant;
    let tamper = format!(
        "UPDATE gestures SET amount_minor = 910000 WHERE id = '{gid}';
         UPDATE entries SET debit_minor = 910000 WHERE transaction_id = '{tx}' AND debit_minor = 10000;
         UPDATE entries SET credit_minor = 910000 WHERE transaction_id = '{tx}' AND credit_minor = 10000;
         UPDATE balances SET debit_minor = debit_minor + 900000
          WHERE tenant_id = '{t}' AND account IN (SELECT account FROM entries WHERE transaction_id = '{tx}' AND debit_minor > 0);
         UPDATE balances SET credit_minor = credit_minor + 900000
          WHERE tenant_id = '{t}' AND account IN (SELECT account FROM entries WHERE transaction_id = '{tx}' AND credit_minor > 0);
         UPDATE customer_ledger_totals SET debit_minor = debit_minor + 900000
          WHERE tenant_id = '{t}' AND customer_id = '{customer}'
            AND account IN (SELECT account FROM entries WHERE transaction_id = '{tx}' AND debit_minor > 0);
         UPDATE customer_ledger_totals SET credit_minor = credit_minor + 900000
          WHERE tenant_id = '{t}' AND customer_id = '{customer}'
            AND account IN (SELECT account FROM entries WHERE transaction_id = '{tx}' AND credit_minor > 0);
         UPDATE events SET data = REPLACE(COALESCE(data, (SELECT a.after_state FROM audit_events a
                  WHERE a.tenant_id = events.tenant_id AND a.id = events.id)),
                  '\"100.00\"', '\"9100.00\"')
          WHERE entity_id = '{gid}';"
    );
    let mut conn = app.pool.get().unwrap();
    let conn: &mut DbConnection = &mut conn;
    let mut found = Vec::new();
    let _ = conn.transaction::<(), diesel::result::Error, _>(|c| {
        // Only the guards come off: the triggers that keep finance's totals
        // follow the rewrite, as a careful forger would make them (at once,
        // not at a commit this transaction never reaches).
        match c {
            DbConnection::Pg(pg) => pg.batch_execute(
                "ALTER TABLE entries DISABLE TRIGGER entries_no_update;
                 ALTER TABLE events DISABLE TRIGGER events_no_update;
                 SET CONSTRAINTS ALL IMMEDIATE;",
            ),
            DbConnection::Sqlite(s) => {
                s.batch_execute("DROP TRIGGER entries_no_update; DROP TRIGGER events_no_update;")
            }
        }?;
        c.batch_execute(&tamper)?;
        assert!(
            store::audit::verify(c, Some(t)).unwrap().broken.is_none(),
            "the chains still verify"
        );
        found = store::ledger_check::check(c, Some(t)).unwrap();
        Err(diesel::result::Error::RollbackTransaction)
    });
    let checks: Vec<(&str, &str)> = found
        .iter()
        .map(|d| (d.check, d.subject.as_str()))
        .collect();
    assert_eq!(
        checks.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        ["attestation_mismatch", "feed_mismatch"],
        "only the reconciliation sees it: {found:#?}"
    );
    assert!(checks[0].1.contains(&tx), "{found:#?}");
    assert!(
        found[0].detail.contains("910000") && found[0].detail.contains("10000"),
        "{found:#?}"
    );
    // Rolled back: clean again, on the command line too.
    let check = app.get("/v1/ledger/check", &admin).await.expect(200);
    assert_eq!(check["clean"], true, "{check}");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_goodwill"))
            .env_remove("GOODWILL_JWT_SECRET")
            .env("GOODWILL_LOG", "warn")
            .args(["--database-url", &app.database_url])
            .args(args)
            .output()
            .unwrap()
    };
    let ok = run(&["audit", "reconcile", "--tenant", &t.to_string()]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stderr).contains("transactions attested"));
    // Done for good, both commands name it and fail.
    let _ = conn.transaction::<(), diesel::result::Error, _>(|c| {
        without_triggers(
            c,
            "DROP TRIGGER entries_no_update; DROP TRIGGER events_no_update;",
        )?;
        c.batch_execute(&tamper)
    });
    for args in [vec!["audit", "reconcile"], vec!["ledger", "check"]] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("attestation_mismatch")
                && text.contains(&tx)
                && text.contains("feed_mismatch"),
            "{args:?}: {text}"
        );
    }
}
both!(a_consistent_rewrite_of_the_ledger_is_named);

/// A feed event carries its audit event's state, word for word, and on
/// PostgreSQL does not keep a copy of it: the entity's JSON is written once,
/// in the hash-chained audit event, and the feed and its webhooks read it
/// from there.
async fn the_feed_reads_the_state_its_audit_event_recorded(app: TestApp) {
    #[derive(diesel::QueryableByName)]
    struct Copy {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        kept: bool,
    }
    let customer = app.customer("FD-1").await;
    let cid = customer["id"].as_str().unwrap().to_owned();
    let audited = events_of(&app, &cid).await;
    let created = audited
        .iter()
        .find(|e| e["action"] == "customer.created")
        .expect("the creation is audited");
    let feed = app
        .get("/v1/events?limit=100", &app.token(Role::Admin))
        .await
        .expect(200);
    let event = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity_id"] == json!(cid))
        .expect("the creation is in the feed")
        .clone();
    assert_eq!(event["id"], created["id"]);
    assert_eq!(event["data"], created["after"], "{event} {created}");
    assert_eq!(event["data"]["external_ref"], "FD-1");
    let mut conn = app.pool.get().unwrap();
    let kept: Vec<Copy> = diesel::sql_query(format!(
        "SELECT data IS NOT NULL AS kept FROM events WHERE entity_id = '{cid}'"
    ))
    .load(&mut *conn)
    .unwrap();
    let copies: Vec<bool> = kept.iter().map(|k| k.kept).collect();
    match app.backend {
        Backend::Postgres => assert_eq!(copies, [false], "no copy on PostgreSQL"),
        Backend::Sqlite => assert_eq!(copies, [true], "SQLite keeps its copy"),
    }
}
both!(the_feed_reads_the_state_its_audit_event_recorded);
