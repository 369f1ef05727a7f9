//! The command layer called directly, without HTTP: what a second front end (the
//! console, a delivery worker) gets. Each command checks its own permission and
//! store scope, writes its own audit events, and leaves the ledger balanced.

use goodwill::app;
use goodwill::audit::AuditCtx;
use goodwill::domain::gesture::{GestureInput, GestureStatus, NewGesture};
use goodwill::domain::ids::StoreId;
use goodwill::domain::money::{Currency, Money};
use goodwill::domain::roles::Role;
use goodwill::error::{Error, ErrorCode};
use goodwill::store::{self, DbConnection};

use crate::both;
use crate::helpers::TestApp;

/// What the commands need of the test app (the app itself stays on its thread).
struct Env {
    tenant: goodwill::domain::ids::TenantId,
    clock: goodwill::clock::Clock,
}

fn ctx(app: &Env, sub: &str, role: Role, stores: Option<Vec<StoreId>>) -> AuditCtx {
    AuditCtx {
        tenant: app.tenant,
        actor_sub: sub.into(),
        actor_role: role,
        actor_stores: stores,
        request_id: format!("direct-{sub}"),
        now: app.clock.now(),
        clock: app.clock.clone(),
        ledger: Default::default(),
    }
}

fn usd(amount: &str) -> Money {
    Money::parse_amount(amount, Currency::from_code("USD").unwrap()).unwrap()
}

fn events(conn: &mut DbConnection, app: &Env) -> Vec<(String, String, String)> {
    let filter = store::audit::Filter {
        entity_type: None,
        entity_id: None,
        actor: None,
        action: None,
        from: None,
        to: None,
        stores: None,
    };
    let page = store::PageRequest {
        limit: 100,
        starting_after: None,
    };
    store::audit::list(conn, app.tenant, &filter, page)
        .unwrap()
        .items
        .into_iter()
        .map(|e| (e.action, e.entity_id, e.actor_sub))
        .collect()
}

fn gesture(v: serde_json::Value, today: chrono::NaiveDate) -> NewGesture {
    let input: GestureInput = serde_json::from_value(v).unwrap();
    NewGesture::parse(&input, today).unwrap()
}

async fn commands_called_directly(app: TestApp) {
    let pool = app.pool.clone();
    let env = Env {
        tenant: app.tenant,
        clock: app.clock.clone(),
    };
    actix_web::rt::task::spawn_blocking(move || {
        let app = env;
        let conn = &mut pool.get().unwrap();
        let admin = ctx(&app, "ada", Role::Admin, None);
        let today = admin.today();

        let shop = app::stores::open_store(
            conn,
            &admin,
            goodwill::domain::store::NewStore::parse("Direct", "DIR", "USD", None).unwrap(),
        )
        .unwrap();
        let other = app::stores::open_store(
            conn,
            &admin,
            goodwill::domain::store::NewStore::parse("Elsewhere", "ELS", "USD", None).unwrap(),
        )
        .unwrap();
        let customer = app::customers::create_customer(
            conn,
            &admin,
            goodwill::domain::customer::NewCustomer::parse("DIRECT-1", "Dee", None, None, None)
                .unwrap(),
        )
        .unwrap();
        let clerk = ctx(&app, "cleo", Role::Clerk, Some(vec![shop.id]));

        // A promise above the clerk's own limit waits for a manager; the clerk
        // may not approve it.
        let promise = app::gestures::request_gesture(
            conn,
            &clerk,
            customer.id,
            gesture(
                serde_json::json!({
                    "kind": "deferred_payment", "store_id": shop.id, "reason_code": "goodwill",
                    "story": "pays tomorrow",
                    "amount": {"amount": "40.00", "currency": "USD"},
                    "due_on": (today + chrono::TimeDelta::days(1)).to_string(),
                }),
                today,
            ),
        )
        .unwrap()
        .gesture;
        assert_eq!(promise.status, GestureStatus::PendingApproval);
        let forbidden = app::approvals::approve(conn, &clerk, promise.id, None).unwrap_err();
        assert!(matches!(
            forbidden,
            Error::Forbidden {
                code: ErrorCode::RoleForbidden,
                ..
            }
        ));
        let manager = ctx(&app, "max", Role::Manager, Some(vec![shop.id]));
        let approved = app::approvals::approve(conn, &manager, promise.id, Some("ok".into()))
            .unwrap()
            .gesture;
        assert_eq!(approved.status, GestureStatus::Approved);

        // Paid in part, then more than is left: refused, and nothing is written.
        app::lifecycle::record_payment(
            conn,
            &clerk,
            promise.id,
            None,
            usd("15.00"),
            None,
            &Default::default(),
        )
        .unwrap();
        let before = events(conn, &app).len();
        let refused = app::lifecycle::record_payment(
            conn,
            &clerk,
            promise.id,
            None,
            usd("30.00"),
            None,
            &Default::default(),
        )
        .unwrap_err();
        assert_eq!(refused.error_code(), ErrorCode::Overpayment, "{refused}");
        assert_eq!(events(conn, &app).len(), before);

        // The command checks its own store scope and permission.
        let elsewhere = app::gestures::request_gesture(
            conn,
            &clerk,
            customer.id,
            gesture(
                serde_json::json!({
                    "kind": "deferred_payment", "store_id": other.id, "reason_code": "goodwill",
                    "story": "not my store",
                    "amount": {"amount": "5.00", "currency": "USD"},
                    "due_on": today.to_string(),
                }),
                today,
            ),
        )
        .unwrap_err();
        assert_eq!(elsewhere.error_code(), ErrorCode::StoreScope);

        // The rest paid: the promise is kept.
        app::lifecycle::record_payment(
            conn,
            &clerk,
            promise.id,
            None,
            usd("25.00"),
            None,
            &Default::default(),
        )
        .unwrap();
        let kept = store::gestures::get(conn, app.tenant, promise.id).unwrap();
        assert_eq!(kept.status, GestureStatus::Settled);

        // Every command wrote its own audit trail, under its actor.
        let trail = events(conn, &app);
        let of = |id: String| -> Vec<(String, String)> {
            trail
                .iter()
                .filter(|(_, e, _)| *e == id)
                .map(|(a, _, s)| (a.clone(), s.clone()))
                .collect()
        };
        assert_eq!(
            of(shop.id.to_string()),
            [("store.created".into(), "ada".into())]
        );
        assert_eq!(
            of(customer.id.to_string()),
            [("customer.created".into(), "ada".into())]
        );
        let promise_trail = of(promise.id.to_string());
        assert_eq!(
            promise_trail[..2],
            [
                ("gesture.requested".into(), "cleo".into()),
                ("gesture.approved".into(), "max".into())
            ],
            "{promise_trail:?}"
        );
        assert_eq!(
            promise_trail
                .iter()
                .filter(|(a, s)| a == "gesture.paid" && s == "cleo")
                .count(),
            2,
            "{promise_trail:?}"
        );
        assert_eq!(
            trail
                .iter()
                .filter(|(a, _, s)| a == "payment.recorded" && s == "cleo")
                .count(),
            2
        );

        let report = store::audit::verify(conn, Some(app.tenant)).unwrap();
        assert!(report.broken.is_none());
        assert!(
            store::ledger_check::check(conn, Some(app.tenant))
                .unwrap()
                .is_empty()
        );
    })
    .await
    .unwrap();
    // What the commands wrote is what the API reads.
    let summary = app
        .get(
            &format!("/v1/customers/{}/summary", {
                let conn = &mut app.pool.get().unwrap();
                store::customers::find_by_external_ref(conn, app.tenant, "DIRECT-1")
                    .unwrap()
                    .unwrap()
            }),
            &app.token(Role::Admin),
        )
        .await
        .expect(200);
    assert_eq!(summary["promises"]["kept_on_time"], 1, "{summary}");
    assert_eq!(
        summary["balances"][0]["owed"]["amount"], "0.00",
        "{summary}"
    );
}
both!(commands_called_directly);
