//! Webhooks: endpoints as a resource, deliveries to a receiver the test runs
//! on 127.0.0.1 (signed, retried on the injected clock, timed out, never to a
//! disabled endpoint, two signatures after a rotation), and the addresses a
//! delivery may never go to.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use goodwill::domain::roles::Role;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{Backend, TestApp};

/// What the receiver got.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: i64,
    signature: String,
    body: Vec<u8>,
}

/// How the receiver answers: statuses in turn (200 when none is left),
/// optionally after a delay, with optional extra headers.
#[derive(Default)]
struct Script {
    statuses: VecDeque<u16>,
    delay: Option<Duration>,
    headers: Vec<(String, String)>,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
    url: String,
}

impl Receiver {
    async fn start() -> Self {
        let mut r = Receiver::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        r.url = format!(
            "http://127.0.0.1:{}/hook",
            listener.local_addr().unwrap().port()
        );
        let data = web::Data::new(r.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/hook", web::post().to(receive))
                .route("/elsewhere", web::post().to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        r
    }

    fn answer_with(&self, statuses: &[u16]) {
        self.script.lock().unwrap().statuses = statuses.iter().copied().collect();
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits (real time, bounded) until `n` deliveries arrived.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..1500 {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("expected {n} deliveries, got {:?}", self.got().len());
    }
}

async fn receive(r: web::Data<Receiver>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let h = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    r.got.lock().unwrap().push(Received {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp").parse().unwrap_or(0),
        signature: h("webhook-signature"),
        body: body.to_vec(),
    });
    let (status, delay, headers) = {
        let mut s = r.script.lock().unwrap();
        (
            s.statuses.pop_front().unwrap_or(200),
            s.delay,
            s.headers.clone(),
        )
    };
    if let Some(d) = delay {
        actix_web::rt::time::sleep(d).await;
    }
    let mut resp = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    for (k, v) in headers {
        resp.insert_header((k, v));
    }
    resp.body(format!("answered {status}"))
}

/// The signature as the Standard Webhooks scheme defines it, computed here
/// independently of the service's code.
fn sign(secret: &str, id: &str, ts: i64, body: &[u8]) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

fn signed_by(r: &Received, secret: &str) -> bool {
    let want = sign(secret, &r.id, r.timestamp, &r.body);
    r.signature.split(' ').any(|s| s == want)
}

/// An app whose deliveries may go to loopback, polling fast, timing out
/// after 1 s.
async fn app_for(backend: Backend) -> TestApp {
    TestApp::spawn_tuned(backend, |s| {
        s.webhooks.worker = true;
        s.webhooks.allow_loopback = true;
        s.webhooks.poll_interval = Duration::from_millis(20);
        s.webhooks.timeout = Duration::from_secs(1);
    })
    .await
}

async fn endpoint(app: &TestApp, url: &str, types: Value) -> (String, String) {
    let e = app
        .post(
            "/v1/webhook-endpoints",
            &app.token(Role::Admin),
            &json!({"url": url, "description": "till", "event_types": types}),
        )
        .await
        .expect(201);
    (
        e["id"].as_str().unwrap().to_owned(),
        e["secret"].as_str().unwrap().to_owned(),
    )
}

async fn deliveries(app: &TestApp, endpoint: &str) -> Vec<Value> {
    app.get(
        &format!("/v1/webhook-endpoints/{endpoint}/deliveries?limit=100"),
        &app.token(Role::Finance),
    )
    .await
    .expect(200)["data"]
        .as_array()
        .unwrap()
        .clone()
}

/// Waits (real time, bounded) until the endpoint's only delivery has made
/// `n` attempts, and answers it.
async fn attempts_made(app: &TestApp, endpoint: &str, n: i64) -> Value {
    for _ in 0..1500 {
        if let Some(d) = deliveries(app, endpoint).await.first()
            && d["attempts"].as_i64() >= Some(n)
        {
            return app
                .get(
                    &format!("/v1/webhook-deliveries/{}", d["id"].as_str().unwrap()),
                    &app.token(Role::Auditor),
                )
                .await
                .expect(200);
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "the delivery never reached {n} attempts: {:?}",
        deliveries(app, endpoint).await
    );
}

fn at(d: &Value, field: &str) -> chrono::NaiveDateTime {
    chrono::NaiveDateTime::parse_from_str(d[field].as_str().unwrap(), "%Y-%m-%dT%H:%M:%S%.fZ")
        .unwrap()
}

async fn endpoints_are_a_resource_with_rules(app: TestApp) {
    let admin = app.token(Role::Admin);
    let created = app
        .post(
            "/v1/webhook-endpoints",
            &admin,
            &json!({"url": "https://hooks.example.com/goodwill", "description": "POS", "event_types": ["gesture.*", "period.closed"]}),
        )
        .await
        .expect(201);
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&secret[6..])
        .unwrap();
    assert!(raw.len() >= 24);
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["enabled"], true);
    let got = app
        .get(
            &format!("/v1/webhook-endpoints/{id}"),
            &app.token(Role::Finance),
        )
        .await
        .expect(200);
    assert!(got.get("secret").is_none(), "the secret is shown once");
    assert_eq!(got["event_types"], json!(["gesture.*", "period.closed"]));

    let changed = app
        .patch(
            &format!("/v1/webhook-endpoints/{id}"),
            &admin,
            &json!({"event_types": null, "description": "every event"}),
        )
        .await
        .expect(200);
    assert!(changed["event_types"].is_null());
    let rotated = app
        .post(
            &format!("/v1/webhook-endpoints/{id}/rotate-secret"),
            &admin,
            &json!({}),
        )
        .await
        .expect(200);
    assert_ne!(rotated["secret"], created["secret"]);
    assert!(rotated["previous_secret_until"].is_string());

    // Refusals: each names its field and changes nothing.
    for (body, field) in [
        (json!({"url": "http://10.0.0.1/"}), "url"),
        (json!({"url": "https://10.0.0.1/"}), "url"),
        (
            json!({"url": "https://169.254.169.254/latest/meta-data"}),
            "url",
        ),
        (json!({"url": "https://[::1]/"}), "url"),
        (json!({"url": "https://[::ffff:192.168.0.1]/"}), "url"),
        (json!({"url": "http://127.0.0.1:9/"}), "url"),
        (json!({"url": "https://localhost/"}), "url"),
        (json!({"url": "ftp://example.com/"}), "url"),
        (
            json!({"url": "https://example.com/", "event_types": ["gesture.aproved"]}),
            "event_types[0]",
        ),
        (
            json!({"url": "https://example.com/", "event_types": []}),
            "event_types",
        ),
        (
            json!({"url": "https://example.com/", "secret": "mine"}),
            "secret",
        ),
    ] {
        app.post("/v1/webhook-endpoints", &admin, &body)
            .await
            .names_field(field);
    }
    let list = app.get("/v1/webhook-endpoints", &admin).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    // A change may leave a field out, never set it to null (event_types
    // alone may be null: every event).
    for (body, field) in [
        (json!({"url": null, "event_types": null}), "url"),
        (json!({"description": null}), "description"),
        (json!({"enabled": null}), "enabled"),
    ] {
        app.patch(&format!("/v1/webhook-endpoints/{id}"), &admin, &body)
            .await
            .names_field(field);
    }
    let after = app
        .get(&format!("/v1/webhook-endpoints/{id}"), &admin)
        .await
        .expect(200);
    assert_eq!(after["url"], got["url"]);
    assert_eq!(after["description"], "every event");
    assert_eq!(after["enabled"], true);

    // Who may: admins change; finance and auditors read; the rest nothing.
    for role in [Role::Finance, Role::Auditor, Role::Manager] {
        app.post(
            "/v1/webhook-endpoints",
            &app.token(role),
            &json!({"url": "https://example.com/"}),
        )
        .await
        .problem(403, "role_forbidden");
    }
    for role in [Role::Pos, Role::Clerk, Role::Manager] {
        app.get("/v1/webhook-endpoints", &app.token(role))
            .await
            .problem(403, "role_forbidden");
    }
    let store = app.store("W1", "USD").await;
    let scoped = app.token_for(app.tenant, "scoped", Role::Admin, Some(vec![store]));
    app.get("/v1/webhook-endpoints", &scoped)
        .await
        .problem(403, "store_scope");
    app.get(
        &format!("/v1/webhook-endpoints/{id}"),
        &app.token_for(app.other_tenant, "other", Role::Admin, None),
    )
    .await
    .problem(404, "not_found");

    // Every change is audited, and no event carries a secret.
    let feed = app.get("/v1/events?limit=100", &admin).await.expect(200);
    let types: Vec<&str> = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for t in [
        "webhook_endpoint.created",
        "webhook_endpoint.updated",
        "webhook_endpoint.secret_rotated",
    ] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
    let text = feed.to_string();
    assert!(
        !text.contains(&secret[6..]) && !text.contains(&rotated["secret"].as_str().unwrap()[6..])
    );
}
crate::both!(endpoints_are_a_resource_with_rules);

async fn a_failing_receiver_gets_the_event_again_with_growing_gaps(backend: Backend) {
    let app = app_for(backend).await;
    let rx = Receiver::start().await;
    rx.answer_with(&[500, 500, 500]);
    let (ep, secret) = endpoint(&app, &rx.url, json!(["customer.created"])).await;
    let customer = app.customer("C-1").await;

    let first = attempts_made(&app, &ep, 1).await;
    assert_eq!(first["state"], "pending");
    let wait = at(&first, "next_attempt_at") - at(&first["attempt_log"][0], "at");
    assert!(
        wait >= chrono::Duration::milliseconds(4500)
            && wait <= chrono::Duration::milliseconds(5500),
        "first retry after 5 s ± 10 %: {wait}"
    );
    // The clock is the service's: move it, never sleep it.
    app.clock.advance(chrono::Duration::seconds(6));
    attempts_made(&app, &ep, 2).await;
    app.clock.advance(chrono::Duration::minutes(6));
    attempts_made(&app, &ep, 3).await;
    app.clock.advance(chrono::Duration::minutes(35));
    let done = attempts_made(&app, &ep, 4).await;
    assert_eq!(done["state"], "delivered");
    let statuses: Vec<i64> = done["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 500, 500, 200]);
    assert_eq!(done["attempt_log"][0]["response"], "answered 500");

    let got = rx.wait_for(4).await;
    assert_eq!(got.len(), 4);
    let ids: std::collections::BTreeSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 1, "one webhook-id across retries");
    let gaps: Vec<i64> = got
        .windows(2)
        .map(|w| w[1].timestamp - w[0].timestamp)
        .collect();
    assert!(
        gaps[0] >= 4 && gaps[1] >= 270 && gaps[2] >= 1620,
        "{gaps:?}"
    );
    assert!(
        gaps[0] < gaps[1] && gaps[1] < gaps[2],
        "growing gaps: {gaps:?}"
    );
    for r in &got {
        assert!(signed_by(r, &secret), "signature of {r:?}");
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["id"], r.id.as_str());
        assert_eq!(body["type"], "customer.created");
        assert_eq!(body["entity_id"], customer["id"]);
        assert!(body["data"].get("name").is_none(), "thin: no names");
    }
    // The id is the feed's event id.
    let feed = app
        .get("/v1/events?limit=100", &app.token(Role::Admin))
        .await
        .expect(200);
    assert!(
        feed["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == got[0].id.as_str())
    );
}

async fn a_receiver_that_hangs_is_timed_out(backend: Backend) {
    let app = app_for(backend).await;
    let rx = Receiver::start().await;
    rx.script.lock().unwrap().delay = Some(Duration::from_secs(5));
    let (ep, _) = endpoint(&app, &rx.url, Value::Null).await;
    app.customer("C-1").await;
    let d = attempts_made(&app, &ep, 1).await;
    let a = &d["attempt_log"][0];
    assert!(a["status"].is_null());
    assert!(a["error"].as_str().unwrap().contains("timed out"), "{a}");
    assert!(
        a["latency_ms"].as_i64().unwrap() < 3000,
        "cut at the 1 s timeout: {a}"
    );
    assert_eq!(d["state"], "pending");
}

async fn disabled_endpoints_get_nothing_and_410_disables(backend: Backend) {
    let app = app_for(backend).await;
    let admin = app.token(Role::Admin);
    let (off, on) = (Receiver::start().await, Receiver::start().await);
    let (off_id, _) = endpoint(&app, &off.url, Value::Null).await;
    app.patch(
        &format!("/v1/webhook-endpoints/{off_id}"),
        &admin,
        &json!({"enabled": false}),
    )
    .await
    .expect(200);
    let (on_id, _) = endpoint(&app, &on.url, json!(["customer.created"])).await;
    app.customer("C-1").await;
    app.customer("C-2").await;
    on.wait_for(2).await;
    assert!(off.got().is_empty(), "a disabled endpoint gets nothing");
    assert!(deliveries(&app, &off_id).await.is_empty());

    // 410: the receiver asks never to be called again.
    on.answer_with(&[410]);
    app.customer("C-3").await;
    on.wait_for(3).await;
    for _ in 0..1500 {
        let e = app
            .get(&format!("/v1/webhook-endpoints/{on_id}"), &admin)
            .await
            .expect(200);
        if e["enabled"] == false {
            assert!(e["disabled_reason"].as_str().unwrap().contains("410"));
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let feed = app.get("/v1/events?limit=100", &admin).await.expect(200);
    let disabled = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "webhook_endpoint.disabled")
        .expect("an event says so");
    assert_eq!(disabled["entity_id"], on_id.as_str());
    app.customer("C-4").await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(on.got().len(), 3, "nothing after 410");

    // A retry waits for the endpoint to be enabled again.
    let failed = deliveries(&app, &on_id).await;
    let last = failed.last().unwrap();
    assert_eq!(last["state"], "failed");
    app.post(
        &format!(
            "/v1/webhook-deliveries/{}/retry",
            last["id"].as_str().unwrap()
        ),
        &admin,
        &json!({}),
    )
    .await
    .problem(409, "endpoint_disabled");
    app.patch(
        &format!("/v1/webhook-endpoints/{on_id}"),
        &admin,
        &json!({"enabled": true}),
    )
    .await
    .expect(200);
    app.post(
        &format!(
            "/v1/webhook-deliveries/{}/retry",
            last["id"].as_str().unwrap()
        ),
        &admin,
        &json!({}),
    )
    .await
    .expect(200);
    let again = on.wait_for(4).await;
    assert_eq!(
        again[3].id, again[2].id,
        "the retried event, same webhook-id"
    );
}

async fn rotation_signs_with_both_secrets_for_a_day(backend: Backend) {
    let app = app_for(backend).await;
    let rx = Receiver::start().await;
    let (ep, old) = endpoint(&app, &rx.url, json!(["customer.*"])).await;
    app.customer("C-1").await;
    let first = rx.wait_for(1).await;
    assert_eq!(first[0].signature.split(' ').count(), 1);
    assert!(signed_by(&first[0], &old));
    let new = app
        .post(
            &format!("/v1/webhook-endpoints/{ep}/rotate-secret"),
            &app.token(Role::Admin),
            &json!({}),
        )
        .await
        .expect(200)["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    app.customer("C-2").await;
    let second = rx.wait_for(2).await;
    assert_eq!(second[1].signature.split(' ').count(), 2);
    assert!(signed_by(&second[1], &old) && signed_by(&second[1], &new));
    app.clock.advance(chrono::Duration::hours(25));
    app.customer("C-3").await;
    let third = rx.wait_for(3).await;
    assert_eq!(third[2].signature.split(' ').count(), 1);
    assert!(signed_by(&third[2], &new) && !signed_by(&third[2], &old));
}

/// With `GOODWILL_SECRET_KEY_FILE` the endpoints' secrets are sealed in the
/// database (bound to their endpoint) and still sign every delivery, both of
/// them during a rotation.
async fn sealed_secrets_sign_as_clear_ones(backend: Backend) {
    let dir =
        std::env::temp_dir().join(format!("goodwill-whkey-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("secret.key");
    std::fs::write(&file, [9u8; 32]).unwrap();
    let key = goodwill::sealed::SecretKey::from_file(file.to_str().unwrap()).unwrap();
    let app = TestApp::spawn_tuned(backend, |s| {
        s.webhooks.worker = true;
        s.webhooks.allow_loopback = true;
        s.webhooks.poll_interval = Duration::from_millis(20);
        s.webhooks.timeout = Duration::from_secs(1);
        s.secret_key = Some(key);
    })
    .await;
    let stored = |ep: &str| -> (String, Option<String>) {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            secret: String,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            previous_secret: Option<String>,
        }
        let mut conn = app.pool.get().unwrap();
        let r: Row = diesel::RunQueryDsl::get_result(
            diesel::sql_query(format!(
                "SELECT secret, previous_secret FROM webhook_endpoints WHERE id = '{ep}'"
            )),
            &mut *conn,
        )
        .unwrap();
        (r.secret, r.previous_secret)
    };
    let rx = Receiver::start().await;
    let (ep, old) = endpoint(&app, &rx.url, json!(["customer.*"])).await;
    let (kept, _) = stored(&ep);
    assert!(
        kept.starts_with("sealed:v1:") && !kept.contains(&old[6..]),
        "{kept}"
    );
    app.customer("S-1").await;
    assert!(signed_by(&rx.wait_for(1).await[0], &old));
    let new = app
        .post(
            &format!("/v1/webhook-endpoints/{ep}/rotate-secret"),
            &app.token(Role::Admin),
            &json!({}),
        )
        .await
        .expect(200)["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(new.starts_with("whsec_"));
    let (now_kept, before_kept) = stored(&ep);
    assert!(now_kept.starts_with("sealed:v1:") && before_kept == Some(kept));
    app.customer("S-2").await;
    let second = rx.wait_for(2).await;
    assert!(signed_by(&second[1], &old) && signed_by(&second[1], &new));
    let _ = std::fs::remove_dir_all(dir);
}

async fn five_days_of_failures_disable_the_endpoint(backend: Backend) {
    let app = app_for(backend).await;
    let rx = Receiver::start().await;
    rx.answer_with(&[500; 100]);
    let (ep, _) = endpoint(&app, &rx.url, json!(["customer.created"])).await;
    app.customer("C-1").await;
    attempts_made(&app, &ep, 1).await;
    app.clock
        .advance(chrono::Duration::days(5) + chrono::Duration::hours(1));
    for _ in 0..1500 {
        let e = app
            .get(
                &format!("/v1/webhook-endpoints/{ep}"),
                &app.token(Role::Admin),
            )
            .await
            .expect(200);
        if e["enabled"] == false {
            assert!(
                e["disabled_reason"].as_str().unwrap().contains("5 days"),
                "{e}"
            );
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the endpoint was not disabled");
}

async fn redirects_are_failures_never_followed(backend: Backend) {
    let app = app_for(backend).await;
    let rx = Receiver::start().await;
    rx.answer_with(&[302]);
    let elsewhere = rx.url.replace("/hook", "/elsewhere");
    rx.script.lock().unwrap().headers = vec![("location".into(), elsewhere)];
    let (ep, _) = endpoint(&app, &rx.url, json!(["customer.created"])).await;
    app.customer("C-1").await;
    let d = attempts_made(&app, &ep, 1).await;
    assert_eq!(d["attempt_log"][0]["status"], 302);
    assert_eq!(
        d["state"], "pending",
        "a 3xx is a failure, tried again later"
    );
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.got().len(), 1, "the redirect was not followed");
}

async fn retry_after_is_honoured(backend: Backend) {
    let app = app_for(backend).await;
    let rx = Receiver::start().await;
    rx.answer_with(&[429]);
    rx.script.lock().unwrap().headers = vec![("retry-after".into(), "3600".into())];
    let (ep, _) = endpoint(&app, &rx.url, json!(["customer.created"])).await;
    app.customer("C-1").await;
    let d = attempts_made(&app, &ep, 1).await;
    let wait = at(&d, "next_attempt_at") - at(&d["attempt_log"][0], "at");
    assert!(wait >= chrono::Duration::hours(1), "{wait}");
}

/// A URL that passed when it was registered but points where deliveries
/// may never go now (a row from before the rules, a hand-edited database) is
/// refused when the delivery would be made: nothing leaves.
async fn a_forbidden_address_is_refused_at_delivery_time(backend: Backend) {
    let app = app_for(backend).await;
    let rx = Receiver::start().await;
    let (ep, _) = endpoint(&app, &rx.url, json!(["customer.created"])).await;
    {
        let mut conn = app.pool.get().unwrap();
        diesel::RunQueryDsl::execute(
            diesel::sql_query(format!(
                "UPDATE webhook_endpoints SET url = 'https://169.254.169.254/latest' WHERE id = '{ep}'"
            )),
            &mut *conn,
        )
        .unwrap();
    }
    app.customer("C-1").await;
    let d = attempts_made(&app, &ep, 1).await;
    let error = d["attempt_log"][0]["error"].as_str().unwrap();
    assert!(error.contains("link-local"), "{error}");
    assert!(rx.got().is_empty(), "no traffic left");
}

/// A promise falls overdue with no command: the day passes. The worker notes
/// it once (`gesture.overdue`, audited and in the feed) and a subscribed
/// endpoint is told, once, however many times the worker looks again.
async fn a_promise_falling_overdue_is_told_once(backend: Backend) {
    let app = app_for(backend).await;
    let rx = Receiver::start().await;
    endpoint(&app, &rx.url, json!(["gesture.overdue"])).await;
    let store = app.store("OD", "USD").await;
    let c = app.customer("OD-C").await;
    let due = (app.clock.now().date() + chrono::TimeDelta::days(1)).to_string();
    let promise = app
        .send_to(
            &app.address,
            actix_web::http::Method::POST,
            &format!("/v1/customers/{}/gestures", c["id"].as_str().unwrap()),
            Some(&app.token(Role::Admin)),
            Some(&uuid::Uuid::now_v7().to_string()),
            Some((
                "application/json",
                json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
                    "story": "Pay tomorrow", "amount": {"amount": "12.00", "currency": "USD"}, "due_on": due})
                .to_string()
                .into_bytes(),
            )),
        )
        .await
        .expect(201);
    // Not yet due: nothing is told.
    app.customer("OD-WAKE-1").await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.got().is_empty());
    // Two days on, the worker's next round notes it.
    app.clock.advance(chrono::TimeDelta::days(2));
    app.customer("OD-WAKE-2").await;
    let got = rx.wait_for(1).await;
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["type"], "gesture.overdue", "{body}");
    assert_eq!(body["data"]["id"], promise["id"], "{body}");
    let feed = app
        .get("/v1/events?limit=100", &app.token(Role::Auditor))
        .await
        .expect(200);
    let overdue: Vec<&Value> = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "gesture.overdue")
        .collect();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0]["data"]["overdue"], true);
    assert_eq!(overdue[0]["customer"]["external_ref"], "OD-C");
    // Later rounds (another day, more commands) do not tell it again.
    app.clock.advance(chrono::TimeDelta::days(1));
    app.customer("OD-WAKE-3").await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.got().len(), 1);
}

async fn deliveries_go_on_while_the_service_is_busy(backend: Backend) {
    // Half the pool held (as by commands in flight): the worker yields to
    // the commands, but a trickle still leaves, so every event arrives.
    let app = app_for(backend).await;
    let rx = Receiver::start().await;
    endpoint(&app, &rx.url, json!(["customer.*"])).await;
    let held: Vec<_> = (0..3).map(|_| app.pool.get().unwrap()).collect();
    let started = std::time::Instant::now();
    for i in 0..20 {
        app.customer(&format!("BUSY-{i}")).await;
    }
    let got = rx.wait_for(20).await;
    assert_eq!(got.len(), 20);
    // At most 8 are taken every quarter second while busy: 20 take three
    // takes, two pauses apart.
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "20 deliveries in {:?} while the service was busy",
        started.elapsed()
    );
    drop(held);
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use crate::helpers::Backend;
                #[actix_web::test]
                async fn sqlite() {
                    super::$name(Backend::Sqlite).await;
                }
                #[actix_web::test]
                async fn postgres() {
                    super::$name(Backend::Postgres).await;
                }
            }
        )*
    };
}

both_backends!(
    a_promise_falling_overdue_is_told_once,
    deliveries_go_on_while_the_service_is_busy,
    a_failing_receiver_gets_the_event_again_with_growing_gaps,
    a_receiver_that_hangs_is_timed_out,
    disabled_endpoints_get_nothing_and_410_disables,
    rotation_signs_with_both_secrets_for_a_day,
    sealed_secrets_sign_as_clear_ones,
    five_days_of_failures_disable_the_endpoint,
    redirects_are_failures_never_followed,
    retry_after_is_honoured,
    a_forbidden_address_is_refused_at_delivery_time,
);

/// An endpoint (enabled, to a public name) and a delivery of it, written
/// directly: fixtures for the tests that walk every route. Their apps run no
/// worker, so nothing is ever sent.
pub(crate) async fn fixture(app: &TestApp) -> (String, String) {
    let (endpoint, _) = endpoint(app, "https://hooks.example.com/goodwill", Value::Null).await;
    let delivery = uuid::Uuid::now_v7().to_string();
    let event = uuid::Uuid::now_v7().to_string();
    let mut conn = app.pool.get().unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, event_type, payload, \
             state, attempts, next_attempt_at, last_status, created_at, delivered_at) VALUES \
             ('{}', '{delivery}', '{endpoint}', '{event}', 'customer.created', '{{}}', 'failed', 12, \
             '2026-01-01 00:00:00', 500, '2026-01-01 00:00:00', NULL)",
            app.tenant
        )),
        &mut *conn,
    )
    .unwrap();
    (endpoint, delivery)
}
