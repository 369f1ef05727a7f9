//! Back-pressure: the optional rate limit (429 with `Retry-After`, per caller,
//! per address when unauthenticated, one caller's flood leaving another's
//! requests alone), and a database that goes away and comes back (requests
//! fail fast with 503, `/readyz` says why, the service recovers by itself).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use actix_web::http::Method;
use goodwill::config::{JwtSettings, KeyConfig, Settings};
use goodwill::domain::roles::Role;
use goodwill::ratelimit::Limit;
use goodwill::startup::Application;
use goodwill::store::DatabaseUrl;
use serde_json::json;

use crate::helpers::{Backend, TestApp, random_secret};

async fn rate_limited(backend: Backend) {
    let app = TestApp::spawn_tuned(backend, |s| {
        s.rate_limit = Some(Limit {
            per_second: 2.0,
            burst: 5.0,
        });
    })
    .await;
    let flooder = app.token_for(app.tenant, "flooder", Role::Clerk, None);
    let other = app.token_for(app.tenant, "bystander", Role::Clerk, None);

    // A flood of 60 requests from one caller, with the other caller's
    // requests interleaved (4: within its own burst of 5).
    let (mut flood_ok, mut flood_limited, mut other_ok) = (0, 0, 0);
    for i in 0..60 {
        let r = app.get("/v1/stores", &flooder).await;
        match r.status {
            200 => flood_ok += 1,
            429 => {
                flood_limited += 1;
                let p = r.problem(429, "rate_limited");
                let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
                assert!((1..=2).contains(&retry), "{retry} {p}");
                assert!(r.header("x-request-id").is_some(), "a 429 has a request id");
            }
            s => panic!("unexpected {s}"),
        }
        if i % 15 == 0 {
            let r = app.get("/v1/stores", &other).await;
            if r.status == 200 {
                other_ok += 1;
            }
        }
    }
    // The burst, plus what refilled while the flood ran.
    assert!(
        (5..=12).contains(&flood_ok),
        "flooder got {flood_ok} through"
    );
    assert_eq!(flood_ok + flood_limited, 60);
    assert_eq!(other_ok, 4, "the bystander's requests all went through");
    eprintln!(
        "rate limit: flooder {flood_ok}/60 served ({:.0} %), bystander {other_ok}/4 (100 %)",
        f64::from(flood_ok) * 100.0 / 60.0
    );

    // A refused request changes nothing.
    let admin = app.token(Role::Admin);
    let mut created = 0;
    for i in 0..10 {
        let r = app
            .post(
                "/v1/customers",
                &flooder,
                &json!({"external_ref": format!("RL-{i}"), "name": "Ann"}),
            )
            .await;
        match r.status {
            201 => created += 1,
            429 => {}
            s => panic!("unexpected {s}"),
        }
    }
    let listed = app.get("/v1/customers?limit=100", &admin).await.expect(200);
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        created,
        "exactly the requests let through created customers"
    );

    // Unauthenticated requests count per address; the operations endpoints
    // are never limited.
    let mut anon_limited = false;
    for _ in 0..20 {
        let r = app.send(Method::GET, "/v1/openapi.json", None, None).await;
        if r.status == 429 {
            r.problem(429, "rate_limited");
            anon_limited = true;
            break;
        }
    }
    assert!(anon_limited, "an address is limited too");
    for path in ["/healthz", "/readyz", "/metrics"] {
        for _ in 0..20 {
            let r = app.send(Method::GET, path, None, None).await;
            assert_eq!(r.status, 200, "{path} is never limited");
        }
    }
    // Forged tokens count against the address, not a bucket of their own.
    let r = app.get("/v1/stores", "forged.token.here").await;
    assert!(r.status == 429 || r.status == 401, "{}", r.status);
}

#[actix_web::test]
async fn rate_limit_sqlite() {
    rate_limited(Backend::Sqlite).await;
}

#[actix_web::test]
async fn rate_limit_postgres() {
    rate_limited(Backend::Postgres).await;
}

/// More requests at once than the pool has connections: each waits its
/// turn for a connection (on the async side, first come first served) and
/// is answered; none is refused or lost.
async fn more_requests_than_connections(backend: Backend) {
    let app = TestApp::spawn_tuned(backend, |s| s.pool_size = 1).await;
    let t = app.token(Role::Clerk);
    let answers = futures_util::future::join_all((0..24).map(|_| app.get("/v1/stores", &t))).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
}

#[actix_web::test]
async fn more_requests_than_connections_sqlite() {
    more_requests_than_connections(Backend::Sqlite).await;
}

#[actix_web::test]
async fn more_requests_than_connections_postgres() {
    more_requests_than_connections(Backend::Postgres).await;
}

#[actix_web::test]
async fn no_rate_limit_by_default() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let t = app.token(Role::Clerk);
    for _ in 0..100 {
        app.get("/v1/stores", &t).await.expect(200);
    }
}

/// A PostgreSQL cluster of the test's own (tests/support/pgcluster.sh),
/// stopped and removed when dropped. Never the machine's main cluster.
struct Cluster {
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    fn script() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/pgcluster.sh")
    }

    fn run(args: &[&str]) {
        let out = std::process::Command::new("bash")
            .arg(Self::script())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pgcluster.sh {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir =
            std::env::temp_dir().join(format!("gw-cluster-{}", uuid::Uuid::now_v7().simple()));
        let c = Self { dir, port };
        c.up();
        c
    }

    fn up(&self) {
        Self::run(&["start", self.dir.to_str().unwrap(), &self.port.to_string()]);
    }

    fn kill(&self) {
        Self::run(&["kill", self.dir.to_str().unwrap()]);
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(Self::script())
            .args(["stop", self.dir.to_str().unwrap_or("")])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[actix_web::test]
async fn the_database_goes_away_and_comes_back() {
    let cluster = Cluster::start();
    let secret = random_secret();
    let jwt = JwtSettings {
        key: KeyConfig::Secret(secret.clone().into_bytes()),
        issuer: None,
        audience: None,
        max_lifetime: goodwill::auth::DEFAULT_MAX_LIFETIME_SECS,
    };
    let mut settings = Settings::new(DatabaseUrl::parse(&cluster.url()).unwrap(), jwt.clone());
    settings.bind = "127.0.0.1:0".into();
    settings.workers = 1;
    settings.pool_size = 4;
    let pool = goodwill::bootstrap::open(&settings, true).unwrap();
    let (verifier, _) = goodwill::bootstrap::keys_and_first_run(&settings, &pool).unwrap();
    let tenant = {
        let mut conn = pool.get().unwrap();
        goodwill::store::tenants::create(
            &mut conn,
            "Outage chain",
            goodwill::clock::Clock::system().now(),
        )
        .unwrap()
    };
    let app = Application::build(&settings, pool, verifier).unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.into_server());
    let token = goodwill::auth::Signer::hs256(secret.as_bytes(), &jwt)
        .issue(tenant, "clerk", Role::Admin, None, 3600)
        .unwrap();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let call = |method: Method, path: &str, key: Option<&str>, body: Option<serde_json::Value>| {
        let mut req = client
            .request(method, format!("{base}{path}"))
            .insert_header(("Authorization", format!("Bearer {token}")));
        if let Some(k) = key {
            req = req.insert_header(("Idempotency-Key", k.to_owned()));
        }
        async move {
            let started = Instant::now();
            let mut res = match body {
                Some(b) => req.send_json(&b).await.unwrap(),
                None => req.send().await.unwrap(),
            };
            let bytes = res.body().await.unwrap();
            (
                res.status().as_u16(),
                String::from_utf8_lossy(&bytes).into_owned(),
                res.headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned()),
                started.elapsed(),
            )
        }
    };
    let (s, b, _, _) = call(
        Method::POST,
        "/v1/stores",
        None,
        Some(json!({"name": "Main", "code": "MAIN", "currency": "USD"})),
    )
    .await;
    assert_eq!(s, 201, "{b}");

    cluster.kill();

    // Every request fails, fast, with 503 and the reason; nothing hangs.
    let customer = json!({"external_ref": "OUT-1", "name": "Ann"});
    for i in 0..12 {
        let (s, b, retry, took) = if i % 3 == 0 {
            call(
                Method::POST,
                "/v1/customers",
                Some("outage-key"),
                Some(customer.clone()),
            )
            .await
        } else {
            call(Method::GET, "/v1/stores", None, None).await
        };
        assert_eq!(s, 503, "request {i}: {b}");
        assert!(b.contains("service_unavailable"), "{b}");
        assert_eq!(retry.as_deref(), Some("1"), "Retry-After on 503");
        assert!(
            took < Duration::from_millis(1500),
            "request {i} took {took:?}"
        );
    }
    // A burst of more requests than the pool has connections (4) fails as
    // fast: none queues behind the others for a permit while the database is
    // known to be unreachable.
    let burst = futures_util::future::join_all(
        (0..24).map(|_| call(Method::GET, "/v1/stores", None, None)),
    )
    .await;
    for (i, (s, b, _, took)) in burst.iter().enumerate() {
        assert_eq!(*s, 503, "burst request {i}: {b}");
        assert!(
            *took < Duration::from_millis(1500),
            "burst request {i} took {took:?}"
        );
    }
    let (s, b, _, took) = call(Method::GET, "/readyz", None, None).await;
    assert_eq!(s, 503, "{b}");
    assert!(
        b.contains("not reachable") || b.contains("does not answer") || b.contains("lost"),
        "/readyz says why: {b}"
    );
    assert!(
        took < Duration::from_millis(2500),
        "readiness answered in {took:?}"
    );
    let (s, _, _, _) = call(Method::GET, "/healthz", None, None).await;
    assert_eq!(s, 200, "the process is alive");

    cluster.up();

    // The service recovers by itself: no restart, no operator.
    let started = Instant::now();
    loop {
        let (s, _, _, _) = call(Method::GET, "/readyz", None, None).await;
        let (s2, _, _, _) = call(Method::GET, "/v1/stores", None, None).await;
        if s == 200 && s2 == 200 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "not recovered after 20 s ({s}, {s2})"
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "recovered {:?} after the database came back",
        started.elapsed()
    );
    // The write refused during the outage was not kept with its key: the
    // retry runs, once.
    let (s, b, _, _) = call(
        Method::POST,
        "/v1/customers",
        Some("outage-key"),
        Some(customer.clone()),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (s, b, _, _) = call(
        Method::POST,
        "/v1/customers",
        Some("outage-key"),
        Some(customer),
    )
    .await;
    assert_eq!(s, 201, "replayed: {b}");
    let (s, b, _, _) = call(Method::GET, "/v1/customers", None, None).await;
    assert_eq!(s, 200);
    assert_eq!(b.matches("OUT-1").count(), 1, "{b}");
}
