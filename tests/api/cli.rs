//! The binary as a new user meets it: first run with no configuration, the
//! commands that print one value, global options, and one-line errors.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::helpers::{Backend, fresh_database, random_secret};

const BIN: &str = env!("CARGO_BIN_EXE_goodwill");

/// The binary with none of the service's configuration inherited.
fn goodwill() -> Command {
    let mut c = Command::new(BIN);
    for var in [
        "GOODWILL_DATABASE_URL",
        "DATABASE_URL",
        "GOODWILL_JWT_SECRET",
        "GOODWILL_JWT_PUBLIC_KEY",
        "GOODWILL_JWT_ISSUER",
        "GOODWILL_JWT_AUDIENCE",
        "GOODWILL_BIND",
        "GOODWILL_SECRET_KEY_FILE",
    ] {
        c.env_remove(var);
    }
    c.env("GOODWILL_LOG", "warn");
    c
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn last_line(s: &str) -> &str {
    s.lines().last().unwrap_or("")
}

struct Server {
    child: Child,
    port: u16,
    stdout: String,
    /// What it said on stderr up to listening.
    stderr: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `goodwill serve --bind 127.0.0.1:0` and waits for it to listen.
fn serve(cmd: Command) -> Server {
    serve_with(cmd, &["serve", "--bind", "127.0.0.1:0"])
}

/// Starts `goodwill ARGS` and waits for it to listen.
fn serve_with(mut cmd: Command, args: &[&str]) -> Server {
    let mut child = cmd
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (otx, orx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = otx.send(line);
        }
    });
    let mut port = None;
    let mut seen = Vec::new();
    while port.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("server did not start; stderr: {seen:?}"));
        if let Some(rest) = line.strip_prefix("goodwill: listening on http://127.0.0.1:") {
            port = Some(rest.trim().parse().unwrap());
        }
        seen.push(line);
    }
    std::thread::sleep(Duration::from_millis(100));
    let stdout: Vec<String> = orx.try_iter().collect();
    Server {
        child,
        port: port.unwrap(),
        stdout: stdout.join("\n"),
        stderr: seen,
    }
}

fn http_get(port: u16, path: &str, token: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp[9..12].parse().unwrap();
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn first_run_needs_no_configuration(backend: Backend) {
    let (url, _guard) = fresh_database(backend);
    let mut cmd = goodwill();
    cmd.args(["--database-url", &url]);
    let server = serve(cmd);
    let token = last_line(&server.stdout).to_owned();
    assert_eq!(
        token.split('.').count(),
        3,
        "an admin token on stdout: {:?}",
        server.stdout
    );
    assert_eq!(http_get(server.port, "/healthz", None).0, 200);
    let (status, body) = http_get(server.port, "/v1/stores", Some(&token));
    assert_eq!(status, 200, "{body}");

    if let Some(path) = url.strip_prefix("sqlite://") {
        use std::os::unix::fs::PermissionsExt;
        for f in [path.to_owned(), format!("{path}.admin-token")] {
            let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f} must be private");
        }
        assert_eq!(
            std::fs::read_to_string(format!("{path}.admin-token"))
                .unwrap()
                .trim(),
            token
        );
    }
    drop(server);

    // A second start keeps the secret: no new token, the old one still works.
    let mut cmd = goodwill();
    cmd.args(["--database-url", &url]);
    let again = serve(cmd);
    assert!(
        again.stdout.trim().is_empty(),
        "no second admin token: {:?}",
        again.stdout
    );
    assert_eq!(http_get(again.port, "/v1/stores", Some(&token)).0, 200);
    drop(again);

    // `goodwill token` signs with the kept secret.
    let (_, tenants, _) = run(goodwill().args(["tenant", "list", "--database-url", &url]));
    let tenant = tenants.split('\t').next().unwrap().to_owned();
    let (code, out, err) = run(goodwill().args([
        "--database-url",
        &url,
        "token",
        "--tenant",
        &tenant,
        "--sub",
        "till-1",
        "--role",
        "pos",
    ]));
    assert_eq!(code, 0, "{err}");
    let pos_token = last_line(&out).to_owned();
    let mut cmd = goodwill();
    cmd.args(["--database-url", &url]);
    let third = serve(cmd);
    assert_eq!(
        http_get(third.port, "/v1/customers", Some(&pos_token)).0,
        200
    );
    // A pos token may not create stores (403), proving the role travelled.
    assert_eq!(http_get(third.port, "/v1/stores", Some(&pos_token)).0, 200);
}

/// The generated signing secret as the database holds it.
fn stored_signing_secret(url: &str) -> String {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        secret: String,
    }
    let mut conn = goodwill::store::DatabaseUrl::parse(url)
        .unwrap()
        .connect()
        .unwrap();
    diesel::sql_query("SELECT secret FROM service_keys")
        .get_result::<Row>(&mut conn)
        .unwrap()
        .secret
}

/// With `GOODWILL_SECRET_KEY_FILE` the generated signing secret is sealed in
/// the database: a secret kept in the clear before is sealed at the next
/// start, tokens keep working, and without the key (or with another) neither
/// `serve` nor `token` can use it.
fn generated_secret_is_sealed_with_a_key_file(backend: Backend) {
    let (url, _guard) = fresh_database(backend);
    let dir = std::env::temp_dir().join(format!("goodwill-key-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("secret.key");
    std::fs::write(&key, format!("{}\n", "5a".repeat(32))).unwrap();
    let other = dir.join("other.key");
    std::fs::write(&other, [7u8; 32]).unwrap();

    // `goodwill` on `db`, with the key file `key` when given.
    let with_key = |c: &mut Command, k: &std::path::Path| {
        c.env("GOODWILL_SECRET_KEY_FILE", k);
    };
    let start = |db: &str, key: Option<&std::path::Path>| {
        let mut c = goodwill();
        c.args(["--database-url", db]);
        if let Some(k) = key {
            with_key(&mut c, k);
        }
        serve(c)
    };
    // A first run without a key keeps the secret in the clear (and says so).
    let server = start(&url, None);
    let token = last_line(&server.stdout).to_owned();
    drop(server);
    let clear = stored_signing_secret(&url);
    assert_eq!(clear.len(), 64, "a hex secret: {clear}");

    // With the key, the next start seals it; the old token still verifies.
    let server = start(&url, Some(&key));
    assert_eq!(http_get(server.port, "/v1/stores", Some(&token)).0, 200);
    drop(server);
    let sealed = stored_signing_secret(&url);
    assert!(sealed.starts_with("sealed:v1:"), "{sealed}");
    assert!(
        !sealed.contains(&clear),
        "the secret is not readable in the database"
    );

    // `goodwill token` opens it with the key; without it, it says what to set.
    let (_, tenants, _) = run(goodwill().args(["tenant", "list", "--database-url", &url]));
    let tenant = tenants.split('\t').next().unwrap().to_owned();
    let token_args = [
        "--database-url",
        &url,
        "token",
        "--tenant",
        &tenant,
        "--sub",
        "till-1",
        "--role",
        "pos",
    ];
    let mut cmd = goodwill();
    with_key(&mut cmd, &key);
    let (code, out, err) = run(cmd.args(token_args));
    assert_eq!(code, 0, "{err}");
    let pos_token = last_line(&out).to_owned();
    let (code, _, err) = run(goodwill().args(token_args));
    assert_ne!(code, 0);
    assert!(err.contains("GOODWILL_SECRET_KEY_FILE"), "{err}");
    let mut cmd = goodwill();
    with_key(&mut cmd, &other);
    let (code, _, err) = run(cmd.args(token_args));
    assert_ne!(code, 0);
    assert!(err.contains("does not open"), "{err}");

    // `serve` refuses to start without the key or with another one.
    for k in [None, Some(&other)] {
        let mut cmd = goodwill();
        if let Some(k) = k {
            with_key(&mut cmd, k);
        }
        let (code, _, err) =
            run(cmd.args(["--database-url", &url, "serve", "--bind", "127.0.0.1:0"]));
        assert_ne!(code, 0, "started with {k:?}");
        assert!(err.contains("GOODWILL_SECRET_KEY_FILE"), "{err}");
    }
    let server = serve({
        let mut c = goodwill();
        c.args(["--database-url", &url]);
        with_key(&mut c, &key);
        c
    });
    assert_eq!(
        http_get(server.port, "/v1/customers", Some(&pos_token)).0,
        200
    );
    assert_eq!(stored_signing_secret(&url), sealed, "sealed once");
    drop(server);

    // A first run with the key never stores the secret in the clear.
    let (fresh, _guard2) = fresh_database(backend);
    let server = start(&fresh, Some(&key));
    let token = last_line(&server.stdout).to_owned();
    assert_eq!(http_get(server.port, "/v1/stores", Some(&token)).0, 200);
    assert!(stored_signing_secret(&fresh).starts_with("sealed:v1:"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sealed_secret_sqlite() {
    generated_secret_is_sealed_with_a_key_file(Backend::Sqlite);
}

#[test]
fn sealed_secret_postgres() {
    generated_secret_is_sealed_with_a_key_file(Backend::Postgres);
}

/// `serve` is the default command, flags and all: `goodwill --bind ADDR`.
#[test]
fn serve_is_the_default_command_with_its_flags() {
    let (url, _guard) = fresh_database(Backend::Sqlite);
    let mut cmd = goodwill();
    cmd.args(["--database-url", &url]);
    let server = serve_with(cmd, &["--bind", "127.0.0.1:0", "--body-timeout", "5"]);
    assert_eq!(http_get(server.port, "/healthz", None).0, 200);
    drop(server);
    // Other commands still parse as they did; serve's flags go with serve.
    let (code, out, err) = run(goodwill().args(["--database-url", &url, "tenant", "list"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("default"), "{out}");
    let (code, _, err) = run(goodwill().args([
        "--database-url",
        &url,
        "--bind",
        "127.0.0.1:0",
        "tenant",
        "list",
    ]));
    assert_ne!(code, 0);
    assert!(!err.is_empty());
}

/// With a configured secret nothing makes a tenant by itself: `serve` on an
/// empty database says how to get in, and the way it names works.
#[test]
fn an_empty_database_with_a_configured_secret_says_how_to_get_in() {
    let (url, _guard) = fresh_database(Backend::Postgres);
    let secret = random_secret();
    let mut cmd = goodwill();
    cmd.env("GOODWILL_JWT_SECRET", &secret)
        .args(["--database-url", &url]);
    let server = serve(cmd);
    assert!(
        server.stdout.trim().is_empty(),
        "no token printed: {}",
        server.stdout
    );
    let said = server.stderr.join("\n");
    assert!(
        said.contains("no tenant yet") && said.contains("goodwill tenant create"),
        "{said}"
    );
    let (code, tenant, err) =
        run(goodwill().args(["--database-url", &url, "tenant", "create", "--name", "Acme"]));
    assert_eq!(code, 0, "{err}");
    let tenant = last_line(&tenant).to_owned();
    let (code, token, err) = run(goodwill().env("GOODWILL_JWT_SECRET", &secret).args([
        "--database-url",
        &url,
        "token",
        "--tenant",
        &tenant,
        "--sub",
        "admin",
        "--role",
        "admin",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        http_get(server.port, "/v1/stores", Some(last_line(&token))).0,
        200
    );
}

#[test]
fn first_run_sqlite() {
    first_run_needs_no_configuration(Backend::Sqlite);
}

#[test]
fn first_run_postgres() {
    first_run_needs_no_configuration(Backend::Postgres);
}

#[test]
fn commands_print_one_value_and_fail_in_one_line() {
    let (url, _guard) = fresh_database(Backend::Sqlite);
    let secret = random_secret();

    // The global option goes before or after the subcommand.
    let (code, out, err) =
        run(goodwill().args(["--database-url", &url, "tenant", "create", "--name", "Acme"]));
    assert_eq!(code, 0, "{err}");
    let tenant = last_line(&out).to_owned();
    uuid::Uuid::parse_str(&tenant).unwrap();
    let (code, out, _) =
        run(goodwill().args(["tenant", "create", "--name", "Beta", "--database-url", &url]));
    assert_eq!(code, 0);
    assert_ne!(last_line(&out), tenant);
    // The environment names the database too.
    let (code, out, _) = run(goodwill()
        .env("GOODWILL_DATABASE_URL", &url)
        .args(["tenant", "list"]));
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 2);

    // No secret anywhere yet: `token` says so in one line.
    let (code, out, err) = run(goodwill().args([
        "--database-url",
        &url,
        "token",
        "--tenant",
        &tenant,
        "--sub",
        "a",
        "--role",
        "admin",
    ]));
    assert_ne!(code, 0);
    assert!(out.is_empty());
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let (code, out, err) = run(goodwill().env("GOODWILL_JWT_SECRET", &secret).args([
        "--database-url",
        &url,
        "token",
        "--tenant",
        &tenant,
        "--sub",
        "ann",
        "--role",
        "manager",
        "--ttl",
        "30m",
    ]));
    assert_eq!(code, 0, "{err}");
    let token = last_line(&out);
    let settings = goodwill::config::JwtSettings {
        key: goodwill::config::KeyConfig::Secret(secret.clone().into_bytes()),
        issuer: None,
        audience: None,
        max_lifetime: goodwill::auth::DEFAULT_MAX_LIFETIME_SECS,
    };
    let claims = goodwill::auth::Verifier::new(&settings, None)
        .unwrap()
        .verify(token)
        .unwrap();
    assert_eq!(claims.sub, "ann");
    assert_eq!(claims.role, goodwill::domain::roles::Role::Manager);
    let ttl = claims.exp - claims.iat.unwrap();
    assert_eq!(ttl, 1800);

    for bad in [
        vec!["token", "--tenant", &tenant, "--sub", "a", "--role", "root"],
        vec!["token", "--tenant", "nope", "--sub", "a", "--role", "admin"],
        vec![
            "token", "--tenant", &tenant, "--sub", "a", "--role", "admin", "--ttl", "forever",
        ],
        vec![
            "token", "--tenant", &tenant, "--sub", "a", "--role", "admin", "--store", "x",
        ],
    ] {
        let (code, out, err) = run(goodwill()
            .env("GOODWILL_JWT_SECRET", &secret)
            .arg("--database-url")
            .arg(&url)
            .args(&bad));
        assert_ne!(code, 0, "{bad:?}");
        assert!(out.is_empty(), "{bad:?}");
        assert_eq!(err.trim().lines().count(), 1, "{bad:?}: {err}");
    }

    // Usage errors are one line too.
    let (code, out, err) = run(goodwill().args(["token", "--tenant", &tenant]));
    assert_ne!(code, 0);
    assert!(out.is_empty());
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let (code, _, err) = run(goodwill().args(["no-such-command"]));
    assert_ne!(code, 0);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let (code, out, _) = run(goodwill().args(["--help"]));
    assert_eq!(code, 0);
    assert!(out.contains("serve") && out.contains("token"), "{out}");

    // A short secret is refused before anything starts.
    let (code, _, err) = run(goodwill().env("GOODWILL_JWT_SECRET", "too-short").args([
        "--database-url",
        &url,
        "migrate",
    ]));
    assert_ne!(code, 0);
    assert!(err.contains("at least 32 bytes"), "{err}");

    // migrate is idempotent.
    let (code, _, err) = run(goodwill().args(["--database-url", &url, "migrate"]));
    assert_eq!(code, 0, "{err}");
}
