//! Hardening, part 1: the money and store-scope defects an outside attack on
//! two running instances found. Each test failed on the code before its fix.

use actix_web::http::Method;
use goodwill::domain::roles::Role;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Resp, TestApp};

fn usd(a: &str) -> Value {
    json!({"amount": a, "currency": "USD"})
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(offset)).to_string()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// POST with a fresh Idempotency-Key.
async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> Resp {
    app.send_to(
        &app.address,
        Method::POST,
        path,
        Some(token),
        Some(&uuid::Uuid::now_v7().to_string()),
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

async fn ledger_clean(app: &TestApp) {
    app.ledger_clean().await;
}

async fn gesture(app: &TestApp, g: &str) -> Value {
    app.get(&format!("/v1/gestures/{g}"), &app.token(Role::Auditor))
        .await
        .expect(200)
}

/// Finding 0: deferred payment 50.00, waived, then paid after all (a bad-debt
/// recovery). Reversing the waiver used to reopen the promise with 50.00 owed,
/// ignoring the recovery, so the customer paid 100.00 on a 50.00 promise. The
/// reversal is refused while the recovery stands, naming it; once the recovery
/// is reversed, the waiver can be, and the customer owes 50.00 once.
async fn reversing_a_waiver_after_a_recovery_never_charges_twice(app: TestApp) {
    let store = app.store("RV", "USD").await;
    let c = id(&app.customer("RV-C").await);
    let manager = app.token_for(app.tenant, "rv-manager", Role::Manager, Some(vec![store]));
    let gestures = format!("/v1/customers/{c}/gestures");
    let promise = post(&app, &manager, &gestures, &json!({"kind": "deferred_payment", "store_id": store,
        "reason_code": "closing_time", "story": "pay tomorrow", "amount": usd("50.00"), "due_on": day(1)}))
    .await
    .expect(201);
    let waiver = post(&app, &manager, &gestures, &json!({"kind": "balance_waiver", "store_id": store,
        "reason_code": "staff_error", "story": "we forgot", "amount": usd("50.00"), "applies_to": [id(&promise)]}))
    .await
    .expect(201);
    assert_eq!(gesture(&app, &id(&promise)).await["status"], "written_off");
    let pay = format!("/v1/gestures/{}/payments", id(&promise));
    let recovery = post(&app, &manager, &pay, &json!({"amount": usd("50.00")}))
        .await
        .expect(201);
    assert_eq!(recovery["bad_debt_recovery"], true);

    let before = app.counts();
    let reversal = format!("/v1/gestures/{}/reversal", id(&waiver));
    let p = post(
        &app,
        &manager,
        &reversal,
        &json!({"reason": "entered by mistake"}),
    )
    .await
    .problem(422, "not_reversible");
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains(&id(&recovery)), "{detail}");
    assert!(detail.contains("50.00"), "{detail}");
    let without_keys = |c: Vec<(String, i64)>| -> Vec<(String, i64)> {
        c.into_iter()
            .filter(|(t, _)| t != "idempotency_keys")
            .collect()
    };
    assert_eq!(without_keys(app.counts()), without_keys(before));
    let g = gesture(&app, &id(&promise)).await;
    assert_eq!(
        (g["status"].clone(), g["outstanding"].clone()),
        (json!("written_off"), usd("0.00"))
    );
    // A second payment is still refused: nothing is owed.
    post(&app, &manager, &pay, &json!({"amount": usd("50.00")}))
        .await
        .problem(422, "overpayment");
    ledger_clean(&app).await;

    // The documented way back: reverse the recovery, then the waiver; the
    // customer then owes the 50.00 once and pays it once.
    post(
        &app,
        &manager,
        &format!("/v1/payments/{}/reversal", id(&recovery)),
        &json!({"reason": "paid to the wrong promise"}),
    )
    .await
    .expect(200);
    post(
        &app,
        &manager,
        &reversal,
        &json!({"reason": "entered by mistake"}),
    )
    .await
    .expect(200);
    let g = gesture(&app, &id(&promise)).await;
    assert_eq!(
        (g["status"].clone(), g["outstanding"].clone()),
        (json!("approved"), usd("50.00"))
    );
    post(&app, &manager, &pay, &json!({"amount": usd("50.00")}))
        .await
        .expect(201);
    post(&app, &manager, &pay, &json!({"amount": usd("0.01")}))
        .await
        .problem(422, "not_payable");
    let s = app
        .get(&format!("/v1/customers/{c}/summary"), &manager)
        .await
        .expect(200);
    assert_eq!(s["balances"][0]["owed"], usd("0.00"));
    ledger_clean(&app).await;
}
both!(reversing_a_waiver_after_a_recovery_never_charges_twice);

/// Finding 0's invariant: the ledger check names a promise on which more was
/// recovered than stands written off, or more collected than it was for,
/// although every transaction balances.
async fn the_ledger_check_names_a_promise_collected_twice(app: TestApp) {
    let store = app.store("RW", "USD").await;
    let c = id(&app.customer("RW-C").await);
    let manager = app.token_for(app.tenant, "rw-manager", Role::Manager, Some(vec![store]));
    let promise = post(&app, &manager, &format!("/v1/customers/{c}/gestures"), &json!({"kind": "deferred_payment",
        "store_id": store, "reason_code": "closing_time", "story": "s", "amount": usd("50.00"), "due_on": day(1)}))
    .await
    .expect(201);
    let paid = post(
        &app,
        &manager,
        &format!("/v1/gestures/{}/payments", id(&promise)),
        &json!({"amount": usd("50.00")}),
    )
    .await
    .expect(201);
    ledger_clean(&app).await;
    // What the defect left behind, forged: a posted recovery on a promise
    // nothing was written off of (its own transaction balances).
    {
        let mut conn = app.pool.get().unwrap();
        let sql = format!(
            "INSERT INTO payments (tenant_id, id, gesture_id, customer_id, store_id, currency, amount_minor,
                 recovery_minor, status, transaction_id, requested_by, created_at, updated_at, paid_on)
             VALUES ('{t}', '{p}', '{g}', '{c}', '{store}', 'USD', 5000, 5000, 'posted', '{tx}', 'forger',
                 '2026-01-01 00:00:00', '2026-01-01 00:00:00', '2026-01-01')",
            t = app.tenant,
            p = uuid::Uuid::now_v7(),
            g = id(&promise),
            tx = paid["transaction_id"].as_str().unwrap(),
        );
        diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut *conn).unwrap();
    }
    let r = app
        .get("/v1/ledger/check", &app.token(Role::Auditor))
        .await
        .expect(200);
    assert_eq!(r["clean"], false, "{r}");
    let subjects: Vec<&str> = r["discrepancies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["subject"].as_str().unwrap())
        .collect();
    let g = id(&promise);
    assert!(
        subjects.contains(&format!("gesture {g} recovered").as_str()),
        "{subjects:?}"
    );
    assert!(
        subjects.contains(&format!("gesture {g} collected").as_str()),
        "{subjects:?}"
    );
}
both!(the_ledger_check_names_a_promise_collected_twice);

/// Finding 1: a waiver requested at store A by a token of store A gave up store
/// B's receivable, by naming it or by leaving `applies_to` out, while the
/// write-off route refused the same promise (store_scope). A waiver gives up
/// only promises of stores the token holds; at approval, only of stores both
/// the requester and the approver hold.
async fn a_waiver_gives_up_only_promises_of_its_stores(app: TestApp) {
    let a = app.store("WA", "USD").await;
    let b = app.store("WB", "USD").await;
    let c = id(&app.customer("W-C").await);
    let gestures = format!("/v1/customers/{c}/gestures");
    let manager_b = app.token_for(app.tenant, "wb-manager", Role::Manager, Some(vec![b]));
    let manager_a = app.token_for(app.tenant, "wa-manager", Role::Manager, Some(vec![a]));
    let clerk_a = app.token_for(app.tenant, "wa-clerk", Role::Clerk, Some(vec![a]));
    let promise = |store, amount: &str| {
        json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
            "story": "s", "amount": usd(amount), "due_on": day(3)})
    };
    // Store B's promise is the older one.
    let at_b = post(&app, &manager_b, &gestures, &promise(b, "40.00"))
        .await
        .expect(201);
    let waiver = |amount: &str, applies_to: Option<Vec<String>>| {
        let mut w = json!({"kind": "balance_waiver", "store_id": a, "reason_code": "goodwill",
            "story": "s", "amount": usd(amount)});
        if let Some(t) = applies_to {
            w["applies_to"] = json!(t);
        }
        w
    };
    let before = app.counts();
    post(
        &app,
        &clerk_a,
        &gestures,
        &waiver("5.00", Some(vec![id(&at_b)])),
    )
    .await
    .problem(403, "store_scope");
    // Implicitly: nothing is owed at the token's stores.
    let p = post(&app, &clerk_a, &gestures, &waiver("5.00", None))
        .await
        .problem(422, "exceeds_owed");
    assert!(p["detail"].as_str().unwrap().contains("0.00"), "{p}");
    let keys = |c: Vec<(String, i64)>| -> Vec<(String, i64)> {
        c.into_iter()
            .filter(|(t, _)| t != "idempotency_keys")
            .collect()
    };
    assert_eq!(keys(app.counts()), keys(before), "a refused waiver wrote");
    assert_eq!(gesture(&app, &id(&at_b)).await["outstanding"], usd("40.00"));

    // With a promise at A too, the implicit waiver takes A's, not B's older one.
    let at_a = post(&app, &manager_a, &gestures, &promise(a, "60.00"))
        .await
        .expect(201);
    let w = post(&app, &clerk_a, &gestures, &waiver("5.00", None))
        .await
        .expect(201);
    assert_eq!(
        w["allocations"],
        json!([{"gesture_id": id(&at_a), "amount": usd("5.00")}])
    );
    // A pending one (above the clerk's 25.00), approved by finance of every
    // store, still gives up only what the requester could: A's promise.
    let pending = post(&app, &clerk_a, &gestures, &waiver("50.00", None))
        .await
        .expect(201);
    assert_eq!(pending["status"], "pending_approval");
    let fin = app.token_for(app.tenant, "w-finance", Role::Finance, None);
    post(
        &app,
        &fin,
        &format!("/v1/gestures/{}/approve", id(&pending)),
        &json!({}),
    )
    .await
    .expect(200);
    assert_eq!(gesture(&app, &id(&at_b)).await["outstanding"], usd("40.00"));
    let g = gesture(&app, &id(&at_a)).await;
    assert_eq!(
        (g["outstanding"].clone(), g["status"].clone()),
        (usd("5.00"), json!("approved"))
    );
    // The write-off route agrees (it always did).
    post(
        &app,
        &clerk_a,
        &format!("/v1/gestures/{}/write-off", id(&at_b)),
        &json!({"reason_code": "goodwill"}),
    )
    .await
    .problem(403, "store_scope");
    ledger_clean(&app).await;
}
both!(a_waiver_gives_up_only_promises_of_its_stores);

/// The first day of last month.
fn last_month() -> chrono::NaiveDate {
    use chrono::Datelike;
    let today = chrono::Utc::now().date_naive();
    let first = today.with_day(1).unwrap();
    (first - chrono::TimeDelta::days(1)).with_day(1).unwrap()
}

/// Finding 9: a close stamped `closed_at` before it held the month's lock, so a
/// back-dated write already in flight committed with a later `created_at` than
/// the close. A writer holds the month open from another connection; the close
/// waits for it and is stamped after it.
async fn a_period_close_is_stamped_after_the_writes_it_waited_for(app: TestApp) {
    let month = last_month();
    let url = app.database_url.clone();
    let (tenant, clock) = (app.tenant, app.clock.clone());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        let mut conn = goodwill::store::DatabaseUrl::parse(&url)
            .unwrap()
            .connect()
            .unwrap();
        goodwill::store::write_tx(&mut conn, |c| {
            goodwill::store::periods::check_open(c, tenant, month)?;
            ready_tx.send(()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(400));
            // Whatever this transaction writes is stamped no later than this.
            Ok::<_, goodwill::error::Error>(clock.now())
        })
        .unwrap()
    });
    ready_rx.recv().unwrap();
    let fin = app.token_for(app.tenant, "close-fin", Role::Finance, None);
    let closed = post(
        &app,
        &fin,
        &format!("/v1/finance/periods/{}/close", month.format("%Y-%m")),
        &json!({}),
    )
    .await
    .expect(200);
    let written_at = writer.join().unwrap();
    let closed_at = chrono::NaiveDateTime::parse_from_str(
        closed["closed_at"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.6fZ",
    )
    .unwrap();
    assert!(
        closed_at >= written_at,
        "closed at {closed_at}, but a write it waited for is stamped {written_at}"
    );
    // The audit event is dated as the close.
    let audit = app
        .get("/v1/audit?entity_type=period", &app.token(Role::Auditor))
        .await
        .expect(200);
    assert_eq!(
        audit["data"][0]["occurred_at"], closed["closed_at"],
        "{audit}"
    );
}
both!(a_period_close_is_stamped_after_the_writes_it_waited_for);

/// Finding 8: a finance token scoped to one store closed the whole tenant's
/// month. Every tenant-wide route refuses a store-scoped token of a role that
/// holds its permission (403 store_scope, nothing written), and serves the
/// same role without a stores claim.
async fn tenant_wide_acts_need_a_token_of_every_store(app: TestApp) {
    use goodwill::http::routes::{Access, ENDPOINTS};
    let store = app.store("TW", "USD").await;
    let month = last_month().format("%Y-%m").to_string();
    let mut checked = 0;
    for e in ENDPOINTS.iter() {
        let Access::TenantWide(permission) = e.access else {
            continue;
        };
        let role = *goodwill::domain::roles::Role::ALL
            .iter()
            .find(|r| r.may(permission))
            .unwrap();
        let path = e
            .path
            .replace("{month}", &month)
            .replace("/v1/finance/journal", "/v1/finance/journal?period=2001-01");
        let body = match (e.method.as_str(), e.path) {
            ("GET", _) => None,
            ("POST", "/v1/stores") => Some(json!({"name": "S", "code": "TW2", "currency": "USD"})),
            ("PUT", "/v1/policy") => Some(json!({})),
            ("PUT", "/v1/finance/account-map") => Some(json!({"mappings": []})),
            ("POST", p) if p.ends_with("/reopen") => Some(json!({"reason": "late invoice"})),
            ("POST", "/v1/webhook-endpoints") => {
                Some(json!({"url": "https://hooks.example.com/tw"}))
            }
            ("PATCH", "/v1/webhook-endpoints/{id}") => Some(json!({"description": "tw"})),
            ("POST", _) => Some(json!({})),
            other => panic!("no body for {other:?}"),
        };
        let scoped = app.token_for(app.tenant, "tw", role, Some(vec![store]));
        let before = app.counts();
        let send = |token: String| {
            let (path, body) = (path.clone(), body.clone());
            let app = &app;
            let method = e.method.clone();
            async move {
                app.send_to(
                    &app.address,
                    method,
                    &path,
                    Some(&token),
                    Some(&uuid::Uuid::now_v7().to_string()),
                    body.map(|b| ("application/json", b.to_string().into_bytes())),
                )
                .await
            }
        };
        let r = send(scoped).await;
        let p = r.problem(403, "store_scope");
        assert!(
            p["detail"].as_str().unwrap().contains("whole tenant"),
            "{} {}: {p}",
            e.method,
            e.path
        );
        assert_eq!(app.counts(), before, "{} {} wrote", e.method, e.path);
        let r = send(app.token_for(app.tenant, "tw", role, None)).await;
        assert!(
            r.status != 403 && r.status < 500,
            "{role} of every store {} {}: {} {}",
            e.method,
            e.path,
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        checked += 1;
    }
    assert_eq!(checked, 23);
}
both!(tenant_wide_acts_need_a_token_of_every_store);

/// Finding 7: a finance token scoped to store A reviewed store B's write-offs
/// (one, or in a batch) although it could not list them; and a payment's
/// reversal checked the promise's store, not the store whose cash it moves.
async fn reviews_and_reversals_check_the_store_of_what_they_move(app: TestApp) {
    let a = app.store("SA", "USD").await;
    let b = app.store("SB", "USD").await;
    let c = id(&app.customer("S-C").await);
    let gestures = format!("/v1/customers/{c}/gestures");
    let manager_a = app.token_for(app.tenant, "sa-manager", Role::Manager, Some(vec![a]));
    let manager_b = app.token_for(app.tenant, "sb-manager", Role::Manager, Some(vec![b]));
    let finance_a = app.token_for(app.tenant, "sa-finance", Role::Finance, Some(vec![a]));
    let promise = |store| {
        json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
            "story": "s", "amount": usd("30.00"), "due_on": day(3)})
    };
    let at_b = post(&app, &manager_b, &gestures, &promise(b))
        .await
        .expect(201);
    let at_a = post(&app, &manager_a, &gestures, &promise(a))
        .await
        .expect(201);
    for p in [&at_a, &at_b] {
        let token = if p == &at_a { &manager_a } else { &manager_b };
        post(
            &app,
            token,
            &format!("/v1/gestures/{}/write-off", id(p)),
            &json!({"reason_code": "unpaid_promise"}),
        )
        .await
        .expect(200);
    }
    let all = app
        .get("/v1/finance/write-offs", &app.token(Role::Finance))
        .await
        .expect(200);
    let item_at = |store: &str| {
        all["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["store_id"] == store)
            .map(id)
            .unwrap()
    };
    let (item_a, item_b) = (item_at(&a.to_string()), item_at(&b.to_string()));
    let before = app.counts();
    post(
        &app,
        &finance_a,
        &format!("/v1/finance/write-offs/{item_b}/review"),
        &json!({"outcome": "flagged", "note": "looks odd"}),
    )
    .await
    .problem(403, "store_scope");
    post(
        &app,
        &finance_a,
        "/v1/finance/write-offs/review",
        &json!({"ids": [item_a, item_b], "outcome": "reviewed"}),
    )
    .await
    .problem(403, "store_scope");
    let keys = |c: Vec<(String, i64)>| -> Vec<(String, i64)> {
        c.into_iter()
            .filter(|(t, _)| t != "idempotency_keys")
            .collect()
    };
    assert_eq!(keys(app.counts()), keys(before), "a refused review wrote");
    post(
        &app,
        &finance_a,
        &format!("/v1/finance/write-offs/{item_a}/review"),
        &json!({"outcome": "reviewed"}),
    )
    .await
    .expect(200);

    // A payment taken at store A on store B's promise moves A's cash.
    let open_b = post(&app, &manager_b, &gestures, &promise(b))
        .await
        .expect(201);
    let paid = post(
        &app,
        &manager_a,
        &format!("/v1/gestures/{}/payments", id(&open_b)),
        &json!({"amount": usd("10.00"), "store_id": a}),
    )
    .await
    .expect(201);
    let reversal = format!("/v1/payments/{}/reversal", id(&paid));
    let before = app.counts();
    post(&app, &manager_b, &reversal, &json!({"reason": "bounced"}))
        .await
        .problem(403, "store_scope");
    assert_eq!(keys(app.counts()), keys(before), "a refused reversal wrote");
    post(&app, &manager_a, &reversal, &json!({"reason": "bounced"}))
        .await
        .expect(200);
    assert_eq!(
        gesture(&app, &id(&open_b)).await["outstanding"],
        usd("30.00")
    );
    ledger_clean(&app).await;
}
both!(reviews_and_reversals_check_the_store_of_what_they_move);

/// Finding 2: `effective_on` had no lower bound: a clerk dated a service
/// recovery `-0001-06-15` (a month that can never be closed nor exported).
/// Back-dating is bounded by the policy's window (7 days by default), never
/// before the tenant existed, and always in an open period. Sales keep old
/// dates (years of history feed the value model) above a documented floor.
async fn back_dating_is_bounded(app: TestApp) {
    let store = app.store("BD", "USD").await;
    let c = id(&app.customer("BD-C").await);
    let clerk = app.token_for(app.tenant, "bd-clerk", Role::Clerk, Some(vec![store]));
    let gestures = format!("/v1/customers/{c}/gestures");
    let on = |date: &str| {
        json!({"kind": "service_recovery", "store_id": store, "reason_code": "service_failure",
            "story": "s", "amount": usd("25.00"), "effective_on": date})
    };
    let before = app.counts();
    for date in ["-0001-06-15", "0001-01-01", "1900-01-01", &day(-1)] {
        let p = post(&app, &clerk, &gestures, &on(date))
            .await
            .names_field("effective_on");
        let msg = p["errors"][0]["message"].as_str().unwrap();
        assert!(
            msg.contains("when this tenant's ledger began"),
            "{date}: {msg}"
        );
    }
    let keys = |c: Vec<(String, i64)>| -> Vec<(String, i64)> {
        c.into_iter()
            .filter(|(t, _)| t != "idempotency_keys")
            .collect()
    };
    assert_eq!(keys(app.counts()), keys(before), "a refused gesture wrote");
    // A tenant a month old: the default window is 7 days.
    app.age_tenant(40);
    post(&app, &clerk, &gestures, &on(&day(-7)))
        .await
        .expect(201);
    let p = post(&app, &clerk, &gestures, &on(&day(-8)))
        .await
        .names_field("effective_on");
    let msg = p["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("at most 7 days"), "{msg}");
    assert!(msg.contains(&day(-7)), "{msg}");
    // The window is the tenant's to set, within a year.
    let admin = app.token(Role::Admin);
    let mut policy = app.get("/v1/policy", &admin).await.expect(200)["policy"].clone();
    assert_eq!(policy["back_dating"], json!({"window_days": 7}));
    policy["back_dating"] = json!({"window_days": 367});
    app.put("/v1/policy", &admin, &policy)
        .await
        .names_field("back_dating.window_days");
    policy["back_dating"] = json!({"window_days": 30});
    app.put_policy_in_force(&policy).await;
    post(&app, &clerk, &gestures, &on(&day(-30)))
        .await
        .expect(201);
    post(&app, &clerk, &gestures, &on(&day(-31)))
        .await
        .names_field("effective_on");

    // Sales: years back are fine (CDNOW's 1997), not before 1970.
    let sale = |occurred_at: &str, sale_ref: &str| {
        json!({"customer_id": c, "store_id": store, "sale_ref": sale_ref,
            "occurred_at": occurred_at, "amount": usd("10.00")})
    };
    post(&app, &clerk, "/v1/sales", &sale("1997-01-01", "cd-1"))
        .await
        .expect(201);
    for (i, old) in ["1969-12-31", "0001-01-01", "1969-12-31T23:59:59Z"]
        .iter()
        .enumerate()
    {
        let p = post(&app, &clerk, "/v1/sales", &sale(old, &format!("old-{i}")))
            .await
            .names_field("occurred_at");
        assert!(p.to_string().contains("1970-01-01"), "{p}");
    }
    ledger_clean(&app).await;
}
both!(back_dating_is_bounded);

/// The largest amount a single gesture, payment or sale may carry (10^15
/// minor units).
const MAX_USD: &str = "10000000000000.00";

/// Finding 3, the write side: a maintained total (here the customer's
/// receivable) past 2^58 minor units is refused whole with 422 ledger_limit,
/// never overflowed; up to it, everything posts.
async fn a_ledger_total_past_its_limit_is_refused(app: TestApp) {
    let store = app.store("LL", "USD").await;
    let c = id(&app.customer("LL-C").await);
    let manager = app.token_for(app.tenant, "ll-manager", Role::Manager, Some(vec![store]));
    let gestures = format!("/v1/customers/{c}/gestures");
    let promise = |a: &str| {
        json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
            "story": "s", "amount": usd(a), "due_on": day(3)})
    };
    post(&app, &manager, &gestures, &promise("1.00"))
        .await
        .expect(201);
    // As if the customer's account had grown to 50 cents below the limit.
    let limit = goodwill::domain::money::LEDGER_ROW_LIMIT;
    {
        let mut conn = app.pool.get().unwrap();
        diesel::RunQueryDsl::execute(
            diesel::sql_query(format!(
                "UPDATE balances SET debit_minor = {} WHERE tenant_id = '{}' AND account = 'receivable:{c}'",
                limit - 50,
                app.tenant
            )),
            &mut *conn,
        )
        .unwrap();
    }
    let before = app.counts();
    let p = post(&app, &manager, &gestures, &promise("1.00"))
        .await
        .problem(422, "ledger_limit");
    assert!(
        p["detail"].as_str().unwrap().contains(&limit.to_string()),
        "{p}"
    );
    let keys = |c: Vec<(String, i64)>| -> Vec<(String, i64)> {
        c.into_iter()
            .filter(|(t, _)| t != "idempotency_keys")
            .collect()
    };
    assert_eq!(keys(app.counts()), keys(before), "a refused posting wrote");
    post(&app, &manager, &gestures, &promise("0.50"))
        .await
        .expect(201);
}
both!(a_ledger_total_past_its_limit_is_refused);

/// Finding 3, the read side: 9,320 maximum-size promises (more than 64 bits of
/// minor units in all, spread so that no ledger row passes its limit) made the
/// goodwill report print `value 0.00` and a negative net cost, and the journal
/// negative totals marked balanced. Every figure is now summed in 128 bits and
/// printed exactly.
async fn figures_past_64_bits_are_exact(app: TestApp) {
    use goodwill::domain::gesture::{Gesture, GestureKind, GestureStatus, Terms};
    use goodwill::domain::ids::GestureId;
    use goodwill::domain::ledger::{Account, Posting};
    use goodwill::domain::money::{Currency, Money};
    let usd_c = Currency::from_code("USD").unwrap();
    let today = chrono::Utc::now().date_naive();
    let (stores_n, each) = (40, 233);
    let mut pairs = Vec::new();
    for i in 0..stores_n {
        let s = app.store(&format!("BIG{i}"), "USD").await;
        let c: goodwill::domain::ids::CustomerId = id(&app.customer(&format!("BIG-{i}")).await)
            .parse()
            .unwrap();
        pairs.push((s, c));
    }
    let max = Money::parse_amount(MAX_USD, usd_c).unwrap();
    // Off the test's thread: the client's connection pool runs on it.
    let (pool, tenant, now) = (app.pool.clone(), app.tenant, app.clock.now());
    actix_web::rt::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        goodwill::store::write_tx(&mut conn, |conn| {
            let mut gs = Vec::new();
            let mut txs = Vec::new();
            for (s, c) in &pairs {
                for _ in 0..each {
                    let g = Gesture {
                        id: GestureId::new(),
                        tenant_id: tenant,
                        customer_id: *c,
                        store_id: *s,
                        kind: GestureKind::DeferredPayment,
                        status: GestureStatus::Approved,
                        reason_code: "closing_time".into(),
                        story: "big".into(),
                        staff_ids: vec![],
                        incident_id: None,
                        effective_on: today,
                        currency: usd_c,
                        terms: Terms::DeferredPayment {
                            amount: max,
                            due_on: today,
                        },
                        paid_minor: 0,
                        waived_minor: 0,
                        redeemed_minor: 0,
                        expired_minor: 0,
                        requested_by: "bulk".into(),
                        requested_role: "admin".into(),
                        decision_rule: "within_self_grant_limit".into(),
                        write_off_of: None,
                        reversal_reason: None,
                        created_at: now,
                        updated_at: now,
                        policy_version: 1,
                        approval: None,
                    };
                    txs.push(goodwill::store::ledger::NewLedgerTx {
                        kind: "gesture",
                        gesture_id: Some(g.id),
                        payment_id: None,
                        redemption_id: None,
                        reverses: None,
                        customer_id: Some(*c),
                        effective_on: today,
                        postings: vec![
                            Posting::new(Account::Receivable(*c), Account::SalesClearing(*s), max)
                                .unwrap(),
                        ],
                    });
                    gs.push(g);
                }
            }
            goodwill::store::gestures::insert_batch(conn, &gs)?;
            let mut sums = goodwill::store::ledger::Sums::default();
            let ctx =
                goodwill::audit::AuditCtx::system(tenant, "test", goodwill::clock::Clock::system());
            goodwill::store::ledger::post_batch(conn, &ctx, &txs, &mut sums, now)?;
            goodwill::store::ledger::apply_sums(conn, tenant, sums)
        })
        .unwrap();
    })
    .await
    .unwrap();
    let n: i128 = stores_n * each;
    let total = i128::from(max.minor()) * n;
    assert!(total > i128::from(i64::MAX));
    let exact = Money::from_wide(total, usd_c).unwrap().amount_string();
    assert_eq!(exact, "93200000000000000.00");
    let fin = app.token(Role::Finance);
    let report = app
        .get("/v1/finance/reports/goodwill?group_by=store", &fin)
        .await
        .expect(200);
    assert_eq!(
        report["totals"][0]["credit_extended"],
        usd(&exact),
        "{}",
        report["totals"]
    );
    assert_eq!(report["totals"][0]["count"], n as i64);
    let csv = app
        .get("/v1/finance/reports/goodwill?format=csv", &fin)
        .await;
    assert_eq!(csv.status, 200);
    assert!(String::from_utf8_lossy(&csv.body).contains(&exact));
    let journal = app
        .get(
            &format!("/v1/finance/journal?period={}", today.format("%Y-%m")),
            &fin,
        )
        .await
        .expect(200);
    assert_eq!(
        journal["currencies"][0],
        json!({"currency": "USD", "debit": usd(&exact), "credit": usd(&exact), "balanced": true})
    );
    let aging = app.get("/v1/finance/aging", &fin).await.expect(200);
    let aged: i128 = aging["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let a = r["total"]["amount"]["amount"]
                .as_str()
                .unwrap()
                .replace('.', "");
            a.parse::<i128>().unwrap()
        })
        .sum();
    assert_eq!(aged, total);
    app.ledger_check_clean().await;
}
both!(figures_past_64_bits_are_exact);

/// Finding 3, the value model: a `pos` token sent 10 batches of 1,000
/// maximum-size sales of one customer (more than 64 bits of minor units), and
/// the fit answered 500 (`bigint out of range`); `goodwill value fit` without
/// `--tenant` then fitted no tenant at all. The fit now sums in floating point
/// (its statistic is one), and each tenant of the CLI job stands alone.
async fn a_value_fit_survives_sums_past_64_bits(app: TestApp) {
    let store = app.store("VF", "USD").await;
    let pos = app.token_for(app.tenant, "vf-pos", Role::Pos, Some(vec![store]));
    let whale = id(&app.customer("VF-WHALE").await);
    let start = chrono::NaiveDate::from_ymd_opt(1998, 1, 1).unwrap();
    for batch in 0..10 {
        let sales: Vec<Value> = (0..1000)
            .map(|i| {
                let n = batch * 1000 + i;
                json!({"customer_id": whale, "store_id": store, "sale_ref": format!("w-{n}"),
                    "occurred_at": (start + chrono::TimeDelta::days(n)).to_string(),
                    "amount": usd(MAX_USD)})
            })
            .collect();
        let r = post(&app, &pos, "/v1/sales/batch", &json!({"sales": sales}))
            .await
            .expect(200);
        assert_eq!(r["created"], 1000, "{}", r["results"][0]);
    }
    // Ordinary customers, so that there is something to fit.
    for c in 0..30 {
        let cid = id(&app.customer(&format!("VF-{c}")).await);
        let sales: Vec<Value> = (0..(c % 5 + 1))
            .map(|k| {
                json!({"customer_id": cid, "store_id": store, "sale_ref": format!("c{c}-{k}"),
                    "occurred_at": (start + chrono::TimeDelta::days(30 * k + c)).to_string(),
                    "amount": usd(&format!("{}.00", 10 + c + k))})
            })
            .collect();
        post(&app, &pos, "/v1/sales/batch", &json!({"sales": sales}))
            .await
            .expect(200);
    }
    let fin = app.token(Role::Finance);
    let r = post(&app, &fin, "/v1/value/model/fit", &json!({})).await;
    assert!(
        r.status == 201 || r.status == 422,
        "the fit must answer, not fail: {} {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );

    // The CLI job over every tenant: a tenant that cannot be fitted (here, a
    // row the service would never write: a sale in no known currency) is
    // reported, and the other tenant is still fitted.
    {
        let mut conn = app.pool.get().unwrap();
        diesel::RunQueryDsl::execute(
            diesel::sql_query(format!(
                "UPDATE sales SET currency = 'ZZZ' WHERE tenant_id = '{}' AND sale_ref = 'c0-0'",
                app.tenant
            )),
            &mut *conn,
        )
        .unwrap();
    }
    let other = app.token_for(app.other_tenant, "vf-other", Role::Admin, None);
    let other_store = app.other_tenant_store("VFO").await;
    for c in 0..30 {
        let cid = app
            .post(
                "/v1/customers",
                &other,
                &json!({"external_ref": format!("O-{c}"), "name": "O"}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let sales: Vec<Value> = (0..(c % 4 + 1))
            .map(|k| {
                json!({"customer_id": cid, "store_id": other_store, "sale_ref": format!("o{c}-{k}"),
                    "occurred_at": (start + chrono::TimeDelta::days(20 * k + c)).to_string(),
                    "amount": {"amount": format!("{}.00", 5 + k), "currency": "EUR"}})
            })
            .collect();
        post(&app, &other, "/v1/sales/batch", &json!({"sales": sales}))
            .await
            .expect(200);
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_goodwill"))
        .args(["value", "fit", "--database-url", &app.database_url])
        .env_remove("GOODWILL_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env("GOODWILL_LOG", "warn")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!out.status.success(), "a tenant failed: {stderr}");
    assert!(
        stderr.contains(&app.tenant.to_string()),
        "the failing tenant is named: {stderr}"
    );
    assert!(
        stdout.lines().any(|l| l.contains("\"EUR\"")),
        "the other tenant was still fitted: {stdout} / {stderr}"
    );
}
both!(a_value_fit_survives_sums_past_64_bits);

/// Finding 4: text that a user or an identity provider controls reached CSV
/// cells unchanged (a JWT `sub` of `=1+2` in the goodwill report by
/// requester; store codes and account-map codes in the journal), and a
/// spreadsheet runs such a cell as a formula. Every text cell that begins
/// with `=`, `+`, `-`, `@`, tab or CR is neutralised, in every CSV; codes that
/// finance's exports key on are refused at input too.
async fn csv_cells_are_never_formulas(app: TestApp) {
    let store = app.store("CSVA", "USD").await;
    let c = id(&app.customer("CSV-C").await);
    let gestures = format!("/v1/customers/{c}/gestures");
    let requester = app.token_for(app.tenant, "=1+2", Role::Clerk, None);
    let approver = app.token_for(app.tenant, "@SUM(1)", Role::Finance, None);
    let pending = post(&app, &requester, &gestures, &json!({"kind": "deferred_payment", "store_id": store,
        "reason_code": "closing_time", "story": "=HYPERLINK(\"http://evil\")", "amount": usd("30.00"), "due_on": day(3)}))
    .await
    .expect(201);
    post(
        &app,
        &approver,
        &format!("/v1/gestures/{}/approve", id(&pending)),
        &json!({}),
    )
    .await
    .expect(200);
    let sneaky = app.token_for(app.tenant, "+cmd|' /C calc'!A0", Role::Clerk, None);
    post(
        &app,
        &sneaky,
        &gestures,
        &json!({"kind": "service_recovery", "store_id": store,
        "reason_code": "service_failure", "story": "-2+3", "amount": usd("5.00")}),
    )
    .await
    .expect(201);
    // A waiver, so the write-off queue has a line to write.
    let waiver_by = app.token_for(app.tenant, "-waiver", Role::Manager, None);
    post(
        &app,
        &waiver_by,
        &gestures,
        &json!({"kind": "balance_waiver", "store_id": store, "reason_code": "staff_error",
            "story": "@we rang it up twice", "amount": usd("1.00"), "applies_to": [id(&pending)]}),
    )
    .await
    .expect(201);

    // At input: formula-looking store and account codes are refused.
    let admin = app.token(Role::Admin);
    app.post(
        "/v1/stores",
        &admin,
        &json!({"name": "Evil", "code": "=2+3", "currency": "USD"}),
    )
    .await
    .names_field("code");
    let p = app
        .put(
            "/v1/finance/account-map",
            &admin,
            &json!({"mappings": [{"account": "receivable:*", "code": "=1+2", "name": "@SUM(1)"}]}),
        )
        .await
        .names_field("mappings[0].code");
    assert!(p.to_string().contains("mappings[0].name"), "{p}");
    // What older versions let in, forged: neutralised on output all the same.
    {
        let mut conn = app.pool.get().unwrap();
        let doc = json!({"mappings": [
            {"account": "receivable:*", "code": "=1+2", "name": "@SUM(1)"},
            {"account": "sales_clearing:*", "code": "-3", "name": "\tTabbed"}]});
        for sql in [
            format!(
                "UPDATE stores SET code = '=2+3' WHERE tenant_id = '{}' AND id = '{store}'",
                app.tenant
            ),
            format!(
                "INSERT INTO account_maps (tenant_id, document, updated_by, updated_at) VALUES ('{}', '{}', 'forger', '2026-01-01 00:00:00')",
                app.tenant, doc
            ),
        ] {
            diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut *conn).unwrap();
        }
    }
    let fin = app.token(Role::Finance);
    let amount = regex::Regex::new(r"^(-?[0-9]+\.[0-9]+)?$").unwrap();
    let month = chrono::Utc::now().date_naive().format("%Y-%m").to_string();
    let numeric = [
        "count",
        "value",
        "free_service_retail_value",
        "free_service_cost",
        "written_off",
        "recovered",
        "net_cost",
        "debit",
        "credit",
        "amount",
        "outstanding",
        "days_overdue",
    ];
    let mut seen = std::collections::BTreeSet::new();
    for path in [
        "/v1/finance/reports/goodwill?group_by=store,kind,reason_code,incident_cause,requester,approver,month&format=csv".to_owned(),
        format!("/v1/finance/journal?period={month}&format=csv"),
        "/v1/finance/aging/promises?format=csv".to_owned(),
        "/v1/finance/write-offs?format=csv".to_owned(),
    ] {
        let r = app.get(&path, &fin).await;
        assert_eq!(r.status, 200, "{path}");
        let (header, rows) = crate::helpers::python_csv(&r.body);
        assert!(!rows.is_empty(), "{path}");
        for row in &rows {
            for (name, cell) in header.iter().zip(row) {
                if numeric.contains(&name.as_str()) {
                    assert!(
                        amount.is_match(cell) || cell.bytes().all(|b| b.is_ascii_digit()),
                        "{path} {name}: {cell:?}"
                    );
                } else {
                    assert!(
                        !goodwill::csv_export::formula_like(cell),
                        "{path} {name}: {cell:?} would run as a formula"
                    );
                    seen.insert(cell.clone());
                }
            }
        }
    }
    for hostile in [
        "'=1+2",
        "'@SUM(1)",
        "'=2+3",
        "'+cmd|' /C calc'!A0",
        "'-3",
        "'\tTabbed",
        "'-waiver",
        "'@we rang it up twice",
    ] {
        assert!(seen.contains(hostile), "{hostile:?} not among {seen:?}");
    }
}
both!(csv_cells_are_never_formulas);

/// Findings 5 and 6: a manager of store A read store B's pending gesture, its
/// decision with the policy's budgets, and B's `gesture.requested` and
/// `gesture.rejected` events with story and amount; a store-scoped auditor
/// read the whole audit trail; finance scoped to A read B's postings in the
/// journal and by account. One rule now: a customer's standing is
/// tenant-wide; what happened at a store is visible only to tokens that hold
/// it.
async fn what_happened_at_a_store_stays_with_its_tokens(app: TestApp) {
    let a = app.store("RA", "USD").await;
    let b = app.store("RB", "USD").await;
    let c = id(&app.customer("R-C").await);
    let gestures = format!("/v1/customers/{c}/gestures");
    let clerk_b = app.token_for(app.tenant, "clerk-of-b", Role::Clerk, Some(vec![b]));
    let manager_b = app.token_for(app.tenant, "manager-of-b", Role::Manager, Some(vec![b]));
    let secret = "We broke the window at B";
    let pending = post(
        &app,
        &clerk_b,
        &gestures,
        &json!({"kind": "service_recovery", "store_id": b,
        "reason_code": "service_failure", "story": secret, "amount": usd("80.00")}),
    )
    .await
    .expect(201);
    let rejected = post(
        &app,
        &clerk_b,
        &gestures,
        &json!({"kind": "service_recovery", "store_id": b,
        "reason_code": "service_failure", "story": secret, "amount": usd("70.00")}),
    )
    .await
    .expect(201);
    post(
        &app,
        &manager_b,
        &format!("/v1/gestures/{}/reject", id(&rejected)),
        &json!({"note": secret}),
    )
    .await
    .expect(200);
    let owed = post(
        &app,
        &clerk_b,
        &gestures,
        &json!({"kind": "deferred_payment", "store_id": b,
        "reason_code": "closing_time", "story": secret, "amount": usd("12.00"), "due_on": day(2)}),
    )
    .await
    .expect(201);

    let manager_a = app.token_for(app.tenant, "manager-of-a", Role::Manager, Some(vec![a]));
    for path in [
        format!("/v1/gestures/{}", id(&pending)),
        format!("/v1/gestures/{}/decision", id(&pending)),
    ] {
        app.get(&path, &manager_a).await.problem(403, "store_scope");
    }
    let events = app
        .get("/v1/events?limit=100", &manager_a)
        .await
        .expect(200);
    assert!(!events.to_string().contains(secret), "{events}");
    assert!(
        events["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "customer.created"),
        "the tenant's own events stay visible: {events}"
    );
    // The customer's standing is tenant-wide: what they owe at B, and B's
    // items as standing only.
    let summary = app
        .get(&format!("/v1/customers/{c}/summary"), &manager_a)
        .await
        .expect(200);
    assert_eq!(summary["balances"][0]["owed"], usd("12.00"));
    let timeline = app
        .get(&format!("/v1/customers/{c}/timeline"), &manager_a)
        .await
        .expect(200);
    assert!(!timeline.to_string().contains(secret), "{timeline}");
    let item = timeline["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == owed["id"])
        .unwrap();
    assert_eq!(item["gesture"], Value::Null);
    assert_eq!(item["standing"]["kind"], "deferred_payment");
    assert_eq!(item["standing"]["outstanding"], usd("12.00"));
    assert_eq!(item["standing"]["store_id"], b.to_string());
    let own = app
        .get(&format!("/v1/customers/{c}/timeline"), &manager_b)
        .await
        .expect(200);
    assert!(own.to_string().contains(secret));

    // Auditors and finance scoped to A.
    let auditor_a = app.token_for(app.tenant, "auditor-of-a", Role::Auditor, Some(vec![a]));
    let audit = app.get("/v1/audit?limit=100", &auditor_a).await.expect(200);
    assert!(!audit.to_string().contains(secret), "{audit}");
    let all = app
        .get("/v1/audit?limit=100", &app.token(Role::Auditor))
        .await
        .expect(200);
    assert!(all.to_string().contains(secret));
    let finance_a = app.token_for(app.tenant, "finance-of-a", Role::Finance, Some(vec![a]));
    let month = chrono::Utc::now().date_naive().format("%Y-%m").to_string();
    for path in [
        format!("/v1/finance/journal?period={month}"),
        format!("/v1/finance/journal?period={month}&format=csv"),
        format!("/v1/ledger/entries?account=cash_clearing:{b}"),
        "/v1/ledger/entries?account=writeoff_expense".to_owned(),
        "/v1/ledger/entries".to_owned(),
    ] {
        app.get(&path, &finance_a).await.problem(403, "store_scope");
    }
    app.get(
        &format!("/v1/ledger/entries?account=cash_clearing:{a}"),
        &finance_a,
    )
    .await
    .expect(200);
    let receivable = app
        .get(
            &format!("/v1/ledger/entries?account=receivable:{c}"),
            &finance_a,
        )
        .await
        .expect(200);
    assert_eq!(receivable["data"].as_array().unwrap().len(), 1);
    ledger_clean(&app).await;
}
both!(what_happened_at_a_store_stays_with_its_tokens);

/// The stores of events written before `000015_event_stores` are filled in by
/// the migration exactly as the code writes them now.
async fn the_event_stores_migration_fills_in_history_as_the_code_writes_it(app: TestApp) {
    let a = app.store("MA", "USD").await;
    let c = id(&app.customer("M-C").await);
    let admin = app.token(Role::Admin);
    post(
        &app,
        &admin,
        "/v1/staff",
        &json!({"name": "Two stores", "store_ids": [a, app.store("MB", "USD").await]}),
    )
    .await
    .expect(201);
    let p = post(&app, &admin, &format!("/v1/customers/{c}/gestures"), &json!({"kind": "deferred_payment",
        "store_id": a, "reason_code": "closing_time", "story": "s", "amount": usd("5.00"), "due_on": day(1)}))
    .await
    .expect(201);
    post(
        &app,
        &admin,
        &format!("/v1/gestures/{}/payments", id(&p)),
        &json!({"amount": usd("5.00")}),
    )
    .await
    .expect(201);
    #[derive(diesel::QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        store_ids: Option<String>,
    }
    let read = |conn: &mut goodwill::store::DbConnection| -> Vec<Row> {
        let mut rows: Vec<Row> = ["audit_events", "events"]
            .iter()
            .flat_map(|t| {
                diesel::RunQueryDsl::load::<Row>(
                    diesel::sql_query(format!("SELECT CAST(id AS TEXT) AS id, store_ids FROM {t}")),
                    conn,
                )
                .unwrap()
            })
            .collect();
        rows.sort();
        rows
    };
    let mut conn = goodwill::store::DatabaseUrl::parse(&app.database_url)
        .unwrap()
        .connect()
        .unwrap();
    let written = read(&mut conn);
    assert!(
        written
            .iter()
            .any(|r| r.store_ids.as_deref() == Some(&a.to_string()))
    );
    assert!(
        written
            .iter()
            .any(|r| r.store_ids.as_deref().is_some_and(|s| s.contains(',')))
    );
    assert!(written.iter().any(|r| r.store_ids.is_none()));
    // Back to before this migration (and any that came after it), then up.
    while goodwill::store::revert_last_migration(&mut conn).unwrap() != "20261203000015" {}
    goodwill::store::run_migrations(&mut conn).unwrap();
    assert_eq!(read(&mut conn), written);
    // The chains still verify.
    app.get("/v1/audit/verify", &app.token(Role::Auditor))
        .await
        .expect(200);
}
both!(the_event_stores_migration_fills_in_history_as_the_code_writes_it);

/// Every timestamp and date under `v` (keys ending in `_at`, but not
/// `expires_at`, and `effective_on`), with where it was found.
fn stamps(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let here = format!("{path}.{k}");
                match x {
                    Value::String(s)
                        if (k.ends_with("_at") && k != "expires_at") || k == "effective_on" =>
                    {
                        out.push((here, s.clone()))
                    }
                    _ => stamps(x, &here, out),
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                stamps(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// One clock: the command's context carries the only "now". With the service
/// clock 400 days ahead, a promise, its payment, and the ledger entries they
/// post carry the moved day in every timestamp and date, and "overdue" follows
/// the moved clock too.
async fn every_stamp_a_command_writes_follows_the_service_clock(app: TestApp) {
    app.clock.advance(chrono::TimeDelta::days(400));
    let moved = app.clock.now().date();
    let store = app.store("CK", "USD").await;
    let c = id(&app.customer("CK-C").await);
    let manager = app.token_for(app.tenant, "ck-manager", Role::Manager, Some(vec![store]));
    let due = (moved + chrono::TimeDelta::days(1)).to_string();
    let promise = post(&app, &manager, &format!("/v1/customers/{c}/gestures"), &json!({"kind": "deferred_payment",
        "store_id": store, "reason_code": "closing_time", "story": "pay tomorrow", "amount": usd("30.00"), "due_on": due}))
    .await
    .expect(201);
    assert_eq!(promise["overdue"], false, "{promise}");
    let paid = post(
        &app,
        &manager,
        &format!("/v1/gestures/{}/payments", id(&promise)),
        &json!({"amount": usd("10.00")}),
    )
    .await
    .expect(201);
    let detail = gesture(&app, &id(&promise)).await;
    let mut found = Vec::new();
    for (name, v) in [
        ("promise", &promise),
        ("payment", &paid),
        ("detail", &detail),
    ] {
        stamps(v, name, &mut found);
    }
    assert!(
        found.iter().any(|(p, _)| p.contains("entries")),
        "{found:?}"
    );
    for (path, s) in &found {
        assert!(
            s.starts_with(&moved.to_string()),
            "{path} = {s}, the clock says {moved}"
        );
    }
    // Two days on, the promise is overdue by the service clock.
    app.clock.advance(chrono::TimeDelta::days(2));
    assert_eq!(gesture(&app, &id(&promise)).await["overdue"], true);
    ledger_clean(&app).await;
}
both!(every_stamp_a_command_writes_follows_the_service_clock);
