//! Readiness with the database down or behind on migrations; graceful shutdown;
//! structured logs.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use goodwill::config::{JwtSettings, KeyConfig, Settings};
use goodwill::startup::Application;
use goodwill::store::DatabaseUrl;

use crate::helpers::{Backend, fresh_database, random_secret};

fn settings(url: &str) -> Settings {
    let jwt = JwtSettings {
        key: KeyConfig::Secret(random_secret().into_bytes()),
        issuer: None,
        audience: None,
        max_lifetime: goodwill::auth::DEFAULT_MAX_LIFETIME_SECS,
    };
    let mut s = Settings::new(DatabaseUrl::parse(url).unwrap(), jwt.clone());
    s.bind = "127.0.0.1:0".into();
    s.workers = 1;
    s
}

async fn get(port: u16, path: &str) -> (u16, String) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let mut r = client
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .unwrap();
    let body = r.body().await.unwrap();
    (
        r.status().as_u16(),
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn spawn_with_lazy_pool(url: &str) -> u16 {
    let s = settings(url);
    let pool = goodwill::store::connection::build_pool_lazy(&s.database_url, 2);
    let verifier = goodwill::auth::Verifier::new(&s.jwt, None).unwrap();
    let app = Application::build(&s, pool, verifier).unwrap();
    let port = app.port();
    actix_web::rt::spawn(app.into_server());
    port
}

#[actix_web::test]
async fn readiness_is_503_while_the_database_is_unreachable() {
    // Nothing listens on port 1.
    let port = spawn_with_lazy_pool("postgres://postgres@127.0.0.1:1/nothing");
    assert_eq!(get(port, "/healthz").await.0, 200, "alive even so");
    let started = Instant::now();
    let (status, body) = get(port, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("service_unavailable") && body.contains("not reachable"),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "readiness answers promptly"
    );

    // The same server shape against a reachable, migrated database: 200.
    let (url, _guard) = fresh_database(Backend::Postgres);
    let port = spawn_with_lazy_pool(&url);
    let (status, body) = get(port, "/readyz").await;
    assert_eq!(status, 200, "{body}");
}

#[actix_web::test]
async fn readiness_is_503_while_migrations_are_pending() {
    let dir = std::env::temp_dir().join(format!("gw-unmigrated-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("empty.db").display());
    let port = spawn_with_lazy_pool(&url);
    let (status, body) = get(port, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("migrations are pending"), "{body}");
    let _ = std::fs::remove_dir_all(dir);
}

/// Starts the binary; returns it, its port, and its stderr lines.
fn start(
    url: &str,
    extra_env: &[(&str, &str)],
) -> (std::process::Child, u16, std::sync::mpsc::Receiver<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_goodwill"));
    cmd.env("GOODWILL_JWT_SECRET", random_secret())
        .env_remove("GOODWILL_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .args([
            "--database-url",
            url,
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--drain-seconds",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut port = None;
    while port.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server started");
        // Plain text, or with JSON logs the message of an info line.
        let json = serde_json::from_str::<serde_json::Value>(&line).ok();
        let message = json
            .as_ref()
            .and_then(|j| j["fields"]["message"].as_str())
            .map(|m| format!("goodwill: {m}"))
            .unwrap_or(line);
        if let Some(p) = message.strip_prefix("goodwill: listening on http://127.0.0.1:") {
            port = Some(p.trim().parse().unwrap());
        }
    }
    (child, port.unwrap(), rx)
}

fn raw_get(port: u16, path: &str) -> u16 {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp[9..12].parse().unwrap()
}

#[test]
fn sigterm_turns_readiness_off_and_lets_requests_in_flight_finish() {
    let (url, _guard) = fresh_database(Backend::Sqlite);
    let (mut child, port, _lines) = start(&url, &[]);
    assert_eq!(raw_get(port, "/readyz"), 200);

    // A request in flight: headers and half of the body sent.
    let body = br#"{"name": "x", "code": "y", "currency": "USD"}"#;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST /v1/stores HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body[..10]).unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        raw_get(port, "/readyz"),
        503,
        "draining instances are not ready"
    );

    // The request completes (401: no token — what matters is that it is answered).
    s.write_all(&body[10..]).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 401"), "{resp}");

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "clean exit after SIGTERM: {status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn json_logs_carry_the_request_id_on_every_line_of_a_request() {
    let (url, _guard) = fresh_database(Backend::Sqlite);
    let (mut child, port, lines) = start(
        &url,
        &[("GOODWILL_LOG_FORMAT", "json"), ("GOODWILL_LOG", "info")],
    );
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET /v1/stores HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-me-42\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let _ = child.wait();
    std::thread::sleep(Duration::from_millis(100));
    let raw: Vec<String> = lines.try_iter().collect();
    // Every line is JSON — the server's own "stopped" included — and none
    // carries a colour code into a pipe.
    for l in &raw {
        assert!(!l.contains('\u{1b}'), "a colour code in a pipe: {l:?}");
        assert!(
            serde_json::from_str::<serde_json::Value>(l).is_ok(),
            "not JSON: {l:?}"
        );
    }
    let logged: Vec<serde_json::Value> = raw
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .collect();
    assert!(
        logged.iter().any(|l| l["fields"]["message"] == "stopped"),
        "{logged:?}"
    );
    let of_request: Vec<&serde_json::Value> = logged
        .iter()
        .filter(|l| l.to_string().contains("/v1/stores"))
        .collect();
    assert!(!of_request.is_empty(), "an access log line: {logged:?}");
    for l in of_request {
        assert_eq!(l["span"]["request_id"], "trace-me-42", "{l}");
        assert_eq!(l["fields"]["status"], 401, "{l}");
        assert_eq!(l["fields"]["route"], "/v1/stores", "{l}");
    }
}

/// An operator who runs PostgreSQL with autovacuum off is told at start (its
/// tables are never analysed and plans degrade as they grow); the warning
/// follows the server's real setting, and SQLite gets none.
#[test]
fn database_settings_that_degrade_over_time_are_warned_about() {
    use diesel::prelude::*;
    #[derive(diesel::QueryableByName)]
    struct Shown {
        #[diesel(sql_type = diesel::sql_types::Text)]
        autovacuum: String,
    }
    let (url, _guard) = fresh_database(Backend::Postgres);
    let mut conn = DatabaseUrl::parse(&url).unwrap().connect().unwrap();
    let warnings = goodwill::store::settings_warnings(&mut conn).unwrap();
    let goodwill::store::DbConnection::Pg(pg) = &mut conn else {
        panic!("a PostgreSQL connection")
    };
    let shown: Shown = diesel::sql_query("SHOW autovacuum").get_result(pg).unwrap();
    let warned = warnings.iter().any(|w| w.contains("autovacuum is off"));
    assert_eq!(warned, shown.autovacuum == "off", "{warnings:?}");

    let (url, _guard) = fresh_database(Backend::Sqlite);
    let mut conn = DatabaseUrl::parse(&url).unwrap().connect().unwrap();
    assert!(
        goodwill::store::settings_warnings(&mut conn)
            .unwrap()
            .is_empty()
    );
}
