//! Test harness: each test spawns the app on 127.0.0.1:0 against its own database,
//! a fresh SQLite file or a fresh PostgreSQL database cloned from a migrated
//! template, and talks to it over real HTTP. PostgreSQL must be reachable: a
//! PostgreSQL test never skips itself.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::http::header::HeaderMap;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use goodwill::auth::Signer;
use goodwill::config::{JwtSettings, KeyConfig, Settings};
use goodwill::domain::ids::{StoreId, TenantId};
use goodwill::domain::roles::Role;
use goodwill::startup::Application;
use goodwill::store::{self, DatabaseUrl, Pool};
use serde_json::{Value, json};

/// Which database a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test scenario `async fn name(app: TestApp)` once per backend:
/// `both!(name);` makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            use $crate::helpers::{Backend, TestApp};
            #[actix_web::test]
            async fn sqlite() {
                super::$name(TestApp::spawn(Backend::Sqlite).await).await;
            }
            #[actix_web::test]
            async fn postgres() {
                super::$name(TestApp::spawn(Backend::Postgres).await).await;
            }
        }
    };
}

/// Base URL of the PostgreSQL server the tests use (no database name).
pub fn pg_base() -> String {
    std::env::var("GOODWILL_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// The URL of database `name` on the test server. TLS is off on loopback: libpq's
/// OpenSSL state does not survive a test process exiting while pooled
/// connections on other threads still hold TLS sessions.
pub fn pg_url(name: &str) -> String {
    format!("{}/{name}?sslmode=disable", pg_base())
}

fn pg_admin() -> PgConnection {
    let url = pg_url("postgres");
    PgConnection::establish(&url).unwrap_or_else(|e| {
        panic!("PostgreSQL is required for the tests and is not reachable at {url}: {e} (set GOODWILL_TEST_PG)")
    })
}

fn migrations_hash() -> u64 {
    fn walk(dir: &std::path::Path, h: &mut DefaultHasher) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            p.file_name().hash(h);
            if p.is_dir() {
                walk(&p, h);
            } else {
                std::fs::read(&p).unwrap().hash(h);
            }
        }
    }
    let mut h = DefaultHasher::new();
    walk(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres"),
        &mut h,
    );
    h.finish()
}

/// The migrated template database, made once (across processes: under an
/// advisory lock, and published by an atomic rename).
fn pg_template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("gw_tpl_{:016x}", migrations_hash());
        let mut admin = pg_admin();
        admin
            .batch_execute("SELECT pg_advisory_lock(4242)")
            .unwrap();
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let exists: N = diesel::sql_query(format!(
            "SELECT COUNT(*) AS n FROM pg_database WHERE datname = '{name}'"
        ))
        .get_result(&mut admin)
        .unwrap();
        if exists.n == 0 {
            let tmp = format!("{name}_building");
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {tmp} WITH (FORCE)"))
                .unwrap();
            admin
                .batch_execute(&format!("CREATE DATABASE {tmp}"))
                .unwrap();
            {
                let url = DatabaseUrl::parse(&pg_url(&tmp)).unwrap();
                let mut conn = url.connect().unwrap();
                store::run_migrations(&mut conn).unwrap();
            }
            admin
                .batch_execute(&format!("ALTER DATABASE {tmp} RENAME TO {name}"))
                .unwrap();
        }
        admin
            .batch_execute("SELECT pg_advisory_unlock(4242)")
            .unwrap();
        name
    })
}

/// Deletes the test's database when the test ends (also when it panics).
pub enum DbGuard {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        match self {
            DbGuard::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            DbGuard::Postgres(name) => {
                if let Ok(mut admin) = PgConnection::establish(&pg_url("postgres")) {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

/// A fresh, migrated, empty database of `backend`: its URL and its guard.
pub fn fresh_database(backend: Backend) -> (String, DbGuard) {
    let id = uuid::Uuid::now_v7().simple().to_string();
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("goodwill-test-{id}"));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("test.db");
            (format!("sqlite://{}", path.display()), DbGuard::Sqlite(dir))
        }
        Backend::Postgres => {
            let tpl = pg_template();
            let name = format!("gw_test_{id}");
            let mut admin = pg_admin();
            // Two CREATE DATABASE from one template at once can collide on the
            // template's lock; retry briefly.
            let mut tries = 0;
            loop {
                match admin.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {tpl}")) {
                    Ok(()) => break,
                    Err(e) if tries < 50 => {
                        tries += 1;
                        let _ = e;
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    Err(e) => panic!("cannot create test database: {e}"),
                }
            }
            (pg_url(&name), DbGuard::Postgres(name))
        }
    }
}

/// A random HS256 secret for one test app.
pub fn random_secret() -> String {
    goodwill::auth::generate_secret().unwrap()
}

/// A response, fully read.
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// Asserts a problem+json of `status` with `code`; returns the problem.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status,
            status,
            "expected {status} {code}, got {}: {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "problem content type"
        );
        let p = self.json();
        assert_eq!(p["code"], code, "{p}");
        assert_eq!(p["status"], status, "{p}");
        assert_eq!(
            p["type"],
            format!("https://goodwill.dev/problems/{code}"),
            "{p}"
        );
        assert!(p["title"].is_string() && p["detail"].is_string(), "{p}");
        p
    }

    /// Asserts a 422 naming `field` among its errors.
    #[track_caller]
    pub fn names_field(&self, field: &str) -> Value {
        let p = self.problem(422, "validation_failed");
        let fields: Vec<&str> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.contains(&field),
            "expected field {field}, got {fields:?}"
        );
        p
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }
}

/// A running app and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub backend: Backend,
    #[allow(dead_code)]
    pub database_url: String,
    pub pool: Pool,
    /// The tenant most tests act in.
    pub tenant: TenantId,
    /// A second tenant, to prove isolation.
    pub other_tenant: TenantId,
    pub jwt: JwtSettings,
    /// The app's clock: move it forward to test windows and expiry.
    pub clock: goodwill::clock::Clock,
    secret: Option<String>,
    client: awc::Client,
    _guard: DbGuard,
}

impl TestApp {
    /// The app with an HS256 secret, two tenants.
    pub async fn spawn(backend: Backend) -> Self {
        let secret = random_secret();
        let jwt = JwtSettings {
            key: KeyConfig::Secret(secret.clone().into_bytes()),
            issuer: None,
            audience: None,
            max_lifetime: goodwill::auth::DEFAULT_MAX_LIFETIME_SECS,
        };
        Self::spawn_with(backend, jwt, Some(secret)).await
    }

    /// The app with the given token settings.
    pub async fn spawn_with(backend: Backend, jwt: JwtSettings, secret: Option<String>) -> Self {
        Self::spawn_configured(backend, jwt, secret, |_| {}).await
    }

    /// The app with an HS256 secret and settings adjusted by `tune`.
    pub async fn spawn_tuned(backend: Backend, tune: impl FnOnce(&mut Settings)) -> Self {
        let secret = random_secret();
        let jwt = JwtSettings {
            key: KeyConfig::Secret(secret.clone().into_bytes()),
            issuer: None,
            audience: None,
            max_lifetime: goodwill::auth::DEFAULT_MAX_LIFETIME_SECS,
        };
        Self::spawn_configured(backend, jwt, Some(secret), tune).await
    }

    async fn spawn_configured(
        backend: Backend,
        jwt: JwtSettings,
        secret: Option<String>,
        tune: impl FnOnce(&mut Settings),
    ) -> Self {
        let (url, guard) = fresh_database(backend);
        let mut settings = Settings::new(DatabaseUrl::parse(&url).unwrap(), jwt.clone());
        settings.bind = "127.0.0.1:0".into();
        settings.workers = 1;
        settings.pool_size = 6;
        settings.clock = goodwill::clock::Clock::adjustable();
        // Deliveries write rows while a test counts them: only the tests of
        // webhooks run the worker.
        settings.webhooks.worker = false;
        tune(&mut settings);
        let clock = settings.clock.clone();
        let pool = goodwill::bootstrap::open(&settings, true).unwrap();
        let (verifier, first) = goodwill::bootstrap::keys_and_first_run(&settings, &pool).unwrap();
        assert!(first.is_none());
        let (tenant, other_tenant) = {
            let mut conn = pool.get().unwrap();
            (
                store::tenants::create(
                    &mut conn,
                    "Test chain",
                    goodwill::clock::Clock::system().now(),
                )
                .unwrap(),
                store::tenants::create(
                    &mut conn,
                    "Other chain",
                    goodwill::clock::Clock::system().now(),
                )
                .unwrap(),
            )
        };
        let app = Application::build(&settings, pool.clone(), verifier).unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        actix_web::rt::spawn(app.into_server());
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish();
        Self {
            address,
            backend,
            database_url: url,
            pool,
            tenant,
            other_tenant,
            jwt,
            clock,
            secret,
            client,
            _guard: guard,
        }
    }

    fn signer(&self) -> Signer {
        Signer::hs256(
            self.secret.as_ref().expect("HS256 app").as_bytes(),
            &self.jwt,
        )
    }

    /// A token of `role` in the main tenant, for all stores.
    pub fn token(&self, role: Role) -> String {
        self.token_for(self.tenant, "tester", role, None)
    }

    /// A token with every claim chosen.
    pub fn token_for(
        &self,
        tenant: TenantId,
        sub: &str,
        role: Role,
        stores: Option<Vec<StoreId>>,
    ) -> String {
        self.signer()
            .issue(tenant, sub, role, stores, 3600)
            .unwrap()
    }

    /// Sends a request with an optional token and an optional body with its
    /// content type.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Resp {
        let address = self.address.clone();
        self.send_to(&address, method, path, token, None, body)
            .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.send(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.send(
            Method::POST,
            path,
            Some(token),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.send(
            Method::PUT,
            path,
            Some(token),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.send(
            Method::PATCH,
            path,
            Some(token),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    /// Rows in every table.
    pub fn counts(&self) -> Vec<(String, i64)> {
        let mut conn = self.pool.get().unwrap();
        store::count_rows(&mut conn).unwrap()
    }

    /// Every state change left its events (guarantee 4): each entity row
    /// has at least one audit event naming it, and each audit event its
    /// feed event of the same id. Returns what is missing, named; empty when
    /// nothing is. Sales are left out: an import records its sales under
    /// one `sales.imported` event with their digest.
    pub fn unrecorded(&self) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Missing {
            #[diesel(sql_type = diesel::sql_types::Text)]
            what: String,
        }
        const ENTITIES: [(&str, &str); 12] = [
            ("customers", "customer"),
            ("stores", "store"),
            ("staff", "staff"),
            ("gestures", "gesture"),
            ("payments", "payment"),
            ("incidents", "incident"),
            ("redemptions", "redemption"),
            ("value_models", "value_model"),
            ("webhook_endpoints", "webhook_endpoint"),
            ("policy_proposals", "policy_proposal"),
            ("console_links", "console_link"),
            ("console_sessions", "console_session"),
        ];
        let mut sql: Vec<String> = ENTITIES
            .iter()
            .map(|(table, entity)| {
                format!(
                    "SELECT '{entity} ' || CAST(t.id AS TEXT) || ' has no audit event' AS what
                     FROM {table} t
                     WHERE NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.tenant_id = t.tenant_id
                                         AND a.entity_type = '{entity}' AND a.entity_id = CAST(t.id AS TEXT))"
                )
            })
            .collect();
        sql.push(
            "SELECT 'audit event ' || CAST(a.id AS TEXT) || ' (' || a.action || ') has no feed event' AS what
             FROM audit_events a
             WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = a.tenant_id AND e.id = a.id)"
                .to_owned(),
        );
        let mut conn = self.pool.get().unwrap();
        let rows: Vec<Missing> = diesel::sql_query(sql.join(" UNION ALL "))
            .load(&mut *conn)
            .unwrap();
        rows.into_iter().map(|m| m.what).collect()
    }

    /// The ledger check is clean and every change left its events.
    pub async fn ledger_clean(&self) {
        self.ledger_check_clean().await;
        let missing = self.unrecorded();
        assert!(
            missing.is_empty(),
            "{} changes without their events, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
    }

    /// The ledger check is clean (for a test that wrote rows itself, past
    /// the commands).
    pub async fn ledger_check_clean(&self) {
        let r = self
            .get("/v1/ledger/check", &self.token(Role::Auditor))
            .await
            .expect(200);
        assert_eq!(r, json!({"clean": true, "discrepancies": []}));
    }

    /// Creates a store as admin; returns its id.
    pub async fn store(&self, code: &str, currency: &str) -> StoreId {
        let r = self
            .post(
                "/v1/stores",
                &self.token(Role::Admin),
                &json!({"name": format!("Store {code}"), "code": code, "currency": currency}),
            )
            .await;
        r.expect(201)["id"].as_str().unwrap().parse().unwrap()
    }

    /// Creates a store in the other tenant; returns its id.
    pub async fn other_tenant_store(&self, code: &str) -> StoreId {
        let t = self.token_for(self.other_tenant, "other-admin", Role::Admin, None);
        let r = self
            .post(
                "/v1/stores",
                &t,
                &json!({"name": "Elsewhere", "code": code, "currency": "EUR"}),
            )
            .await;
        r.expect(201)["id"].as_str().unwrap().parse().unwrap()
    }

    /// Creates a customer as a clerk; returns the body.
    pub async fn customer(&self, external_ref: &str) -> Value {
        self.post(
            "/v1/customers",
            &self.token(Role::Clerk),
            &json!({"external_ref": external_ref, "name": format!("Customer {external_ref}")}),
        )
        .await
        .expect(201)
    }
}

/// base64url without padding (for hand-made tokens).
pub fn b64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

impl TestApp {
    /// The HTTP client (for requests outside the JSON API's contract).
    pub fn client(&self) -> &awc::Client {
        &self.client
    }

    /// GET /v1/stores with a raw Authorization header; returns the status.
    pub async fn client_raw_auth(&self, authorization: &str) -> u16 {
        let resp = self
            .client
            .get(format!("{}/v1/stores", self.address))
            .insert_header(("Authorization", authorization))
            .send()
            .await
            .unwrap();
        resp.status().as_u16()
    }
}

impl TestApp {
    /// GETs `path` with an X-Request-Id; returns the echoed id.
    pub async fn client_with_request_id(&self, path: &str, id: &str) -> Option<String> {
        let resp = self
            .client
            .get(format!("{}{path}", self.address))
            .insert_header(("X-Request-Id", id))
            .send()
            .await
            .unwrap();
        resp.headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

impl TestApp {
    /// Sends to any instance (`address`), with an optional Idempotency-Key.
    pub async fn send_to(
        &self,
        address: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        idempotency_key: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Resp {
        let method_for_check = method.clone();
        let mut req = self.client.request(method, format!("{address}{path}"));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        if let Some(k) = idempotency_key {
            req = req.insert_header(("Idempotency-Key", k));
        }
        let mut resp = match body {
            Some((ct, bytes)) => {
                if !ct.is_empty() {
                    req = req.insert_header(("Content-Type", ct));
                }
                req.send_body(bytes).await
            }
            None => req.send().await,
        }
        .unwrap_or_else(|e| panic!("request {path} failed: {e}"));
        let body = resp.body().limit(16 * 1024 * 1024).await.unwrap().to_vec();
        let resp = Resp {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body,
        };
        // Every response the suite receives must match the contract.
        crate::spec::check_response(&method_for_check, path, &resp);
        resp
    }

    /// A second instance of the service over the same database; its address.
    pub async fn second_instance(&self) -> String {
        let mut settings = Settings::new(
            DatabaseUrl::parse(&self.database_url).unwrap(),
            self.jwt.clone(),
        );
        settings.bind = "127.0.0.1:0".into();
        settings.workers = 1;
        settings.pool_size = 6;
        settings.clock = self.clock.clone();
        let pool = goodwill::bootstrap::open(&settings, true).unwrap();
        let (verifier, _) = goodwill::bootstrap::keys_and_first_run(&settings, &pool).unwrap();
        let app = Application::build(&settings, pool, verifier).unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        actix_web::rt::spawn(app.into_server());
        address
    }
}

impl TestApp {
    /// Runs the command line on this app's database (`args` then
    /// `--database-url`), asserts it succeeded, and answers its stdout trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_goodwill"))
            .args(args)
            .args(["--database-url", &self.database_url])
            .env("GOODWILL_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "goodwill {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Makes the main tenant `days` old (tests that date gestures into past
    /// months need a tenant that existed then).
    pub fn age_tenant(&self, days: i64) {
        let mut conn = self.pool.get().unwrap();
        let at = goodwill::clock::Clock::system().now() - chrono::TimeDelta::days(days);
        diesel::RunQueryDsl::execute(
            diesel::sql_query(format!(
                "UPDATE tenants SET created_at = '{}' WHERE id = '{}'",
                at.format("%Y-%m-%d %H:%M:%S%.6f"),
                self.tenant
            )),
            &mut *conn,
        )
        .unwrap();
    }

    /// Puts `policy` in force: PUT by an admin, and when it loosens the
    /// policy (202, a proposal), approved by a second admin. The version in
    /// force after.
    pub async fn put_policy_in_force(&self, policy: &Value) -> Value {
        let admin = self.token(Role::Admin);
        let r = self.put("/v1/policy", &admin, policy).await;
        match r.status {
            200 => r.json(),
            202 => {
                let id = r.json()["id"].as_str().unwrap().to_owned();
                let second = self.token_for(self.tenant, "second-admin", Role::Admin, None);
                self.post(
                    &format!("/v1/policy/proposals/{id}/approve"),
                    &second,
                    &json!({"note": "four eyes"}),
                )
                .await
                .expect(200);
                self.get("/v1/policy", &admin).await.expect(200)
            }
            s => panic!("PUT /v1/policy: {s} {}", String::from_utf8_lossy(&r.body)),
        }
    }

    /// Proposes raising the self-grant ceiling by one unit, as admin `by`: a
    /// pending policy proposal, its id.
    pub async fn propose_loosening(&self, by: &str) -> String {
        let token = self.token_for(self.tenant, by, Role::Admin, None);
        let mut p = self.get("/v1/policy", &token).await.expect(200)["policy"].clone();
        let ceiling: i64 = p["self_grant_ceiling"]["any"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        p["self_grant_ceiling"] = json!({"any": (ceiling + 1).to_string()});
        self.put("/v1/policy", &token, &p).await.expect(202)["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Ages the main tenant and sets its policy's back-dating window, both to
    /// `days`, so gestures may be dated that far back.
    pub async fn allow_back_dating(&self, days: i64) {
        self.age_tenant(days);
        let admin = self.token(Role::Admin);
        let mut policy = self.get("/v1/policy", &admin).await.expect(200)["policy"].clone();
        policy["back_dating"] = json!({"window_days": days});
        self.put_policy_in_force(&policy).await;
    }
}

/// Parses CSV with Python's csv module: (header, rows).
pub fn python_csv(text: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import csv, io, json, sys\n\
             rows = list(csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding='utf-8', newline='')))\n\
             json.dump({'header': rows[0], 'rows': rows[1:]}, sys.stdout)",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is needed to check the CSV files (.ci/run installs it)");
    child.stdin.take().unwrap().write_all(text).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    (
        strings(&v["header"]),
        v["rows"].as_array().unwrap().iter().map(strings).collect(),
    )
}
