//! JWT refusals: each is a 401 problem with `WWW-Authenticate: Bearer`.

use actix_web::http::Method;
use goodwill::config::{JwtSettings, KeyConfig};
use goodwill::domain::roles::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, TestApp, b64url};

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims(app: &TestApp) -> Value {
    json!({"sub": "ann", "tenant": app.tenant.to_string(), "role": "admin", "exp": now() + 600})
}

fn hs256(secret: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

async fn assert_401(app: &TestApp, token: Option<&str>, why: &str) {
    let r = app.send(Method::GET, "/v1/stores", token, None).await;
    assert_eq!(r.status, 401, "{why}: {}", String::from_utf8_lossy(&r.body));
    r.problem(401, "unauthorized");
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some("Bearer"),
        "{why}"
    );
}

async fn refusals_with_hs256(app: TestApp) {
    // A control: the same path with a good token works.
    app.get("/v1/stores", &app.token(Role::Admin))
        .await
        .expect(200);

    assert_401(&app, None, "no token").await;
    assert_401(&app, Some("garbage"), "garbage").await;
    assert_401(&app, Some("a.b.c"), "three garbage parts").await;

    let wrong = hs256(&[7u8; 40], &claims(&app));
    assert_401(&app, Some(&wrong), "wrong signature").await;

    let header = b64url(br#"{"alg":"none","typ":"JWT"}"#);
    let body = b64url(claims(&app).to_string().as_bytes());
    assert_401(&app, Some(&format!("{header}.{body}.")), "alg none").await;

    let secret = match &app.jwt.key {
        KeyConfig::Secret(s) => s.clone(),
        _ => unreachable!(),
    };
    let mut c = claims(&app);
    c["exp"] = json!(now() - 3600);
    assert_401(&app, Some(&hs256(&secret, &c)), "expired").await;

    let mut c = claims(&app);
    c["nbf"] = json!(now() + 3600);
    assert_401(&app, Some(&hs256(&secret, &c)), "nbf in the future").await;

    let mut c = claims(&app);
    c["exp"] = json!("tomorrow");
    assert_401(&app, Some(&hs256(&secret, &c)), "exp not a number").await;

    let mut c = claims(&app);
    c.as_object_mut().unwrap().remove("exp");
    assert_401(&app, Some(&hs256(&secret, &c)), "no exp").await;

    let mut c = claims(&app);
    c["role"] = json!("superuser");
    assert_401(&app, Some(&hs256(&secret, &c)), "unknown role").await;

    let mut c = claims(&app);
    c["tenant"] = json!(uuid::Uuid::now_v7().to_string());
    assert_401(&app, Some(&hs256(&secret, &c)), "unknown tenant").await;

    let mut c = claims(&app);
    c.as_object_mut().unwrap().remove("sub");
    assert_401(&app, Some(&hs256(&secret, &c)), "no sub").await;

    // The scheme must be Bearer.
    let good = app.token(Role::Admin);
    let r = app.client_raw_auth(&format!("Basic {good}")).await;
    assert_eq!(r, 401, "Basic scheme");

    // Nothing was written by any refusal... and public routes need no token.
    app.send(Method::GET, "/healthz", None, None)
        .await
        .expect(200);
}
both!(refusals_with_hs256);

async fn issuer_and_audience_when_configured(backend: Backend) {
    let secret = crate::helpers::random_secret();
    let jwt = JwtSettings {
        key: KeyConfig::Secret(secret.clone().into_bytes()),
        issuer: Some("https://idp.example".into()),
        audience: Some("goodwill-api".into()),
        max_lifetime: goodwill::auth::DEFAULT_MAX_LIFETIME_SECS,
    };
    let app = TestApp::spawn_with(backend, jwt, Some(secret.clone())).await;
    let base = || {
        let mut c = claims(&app);
        c["iss"] = json!("https://idp.example");
        c["aud"] = json!("goodwill-api");
        c
    };
    app.get("/v1/stores", &hs256(secret.as_bytes(), &base()))
        .await
        .expect(200);

    let mut c = base();
    c["iss"] = json!("https://evil.example");
    assert_401(&app, Some(&hs256(secret.as_bytes(), &c)), "wrong iss").await;
    let mut c = base();
    c.as_object_mut().unwrap().remove("iss");
    assert_401(&app, Some(&hs256(secret.as_bytes(), &c)), "missing iss").await;
    let mut c = base();
    c["aud"] = json!("another-api");
    assert_401(&app, Some(&hs256(secret.as_bytes(), &c)), "wrong aud").await;
    let mut c = base();
    c.as_object_mut().unwrap().remove("aud");
    assert_401(&app, Some(&hs256(secret.as_bytes(), &c)), "missing aud").await;
}

#[actix_web::test]
async fn issuer_and_audience_sqlite() {
    issuer_and_audience_when_configured(Backend::Sqlite).await;
}

#[actix_web::test]
async fn issuer_and_audience_postgres() {
    issuer_and_audience_when_configured(Backend::Postgres).await;
}

/// An RSA key pair made for this test run with openssl (nothing is kept).
fn rsa_pair() -> (String, String) {
    let dir = std::env::temp_dir().join(format!("goodwill-rsa-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let private = dir.join("private.pem");
    let public = dir.join("public.pem");
    let ok = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&private)
        .output()
        .expect("openssl is needed to make a test key")
        .status
        .success();
    assert!(ok);
    let ok = std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok);
    let pair = (
        std::fs::read_to_string(&private).unwrap(),
        std::fs::read_to_string(&public).unwrap(),
    );
    std::fs::remove_dir_all(&dir).unwrap();
    pair
}

async fn rs256_configured(backend: Backend) {
    let (private, public) = rsa_pair();
    let jwt = JwtSettings {
        key: KeyConfig::PublicKey(public.clone()),
        issuer: None,
        audience: None,
        max_lifetime: goodwill::auth::DEFAULT_MAX_LIFETIME_SECS,
    };
    let app = TestApp::spawn_with(backend, jwt, None).await;
    let c = claims(&app);
    let good = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &c,
        &EncodingKey::from_rsa_pem(private.as_bytes()).unwrap(),
    )
    .unwrap();
    app.get("/v1/stores", &good).await.expect(200);

    // The classic confusion attack: HS256 "signed" with the public key.
    let confused = hs256(public.as_bytes(), &c);
    assert_401(
        &app,
        Some(&confused),
        "HS256 signed with the RS256 public key",
    )
    .await;

    let (other_private, _) = rsa_pair();
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &c,
        &EncodingKey::from_rsa_pem(other_private.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_401(&app, Some(&forged), "RS256 signed by another key").await;
}

#[actix_web::test]
async fn rs256_sqlite() {
    rs256_configured(Backend::Sqlite).await;
}

#[actix_web::test]
async fn rs256_postgres() {
    rs256_configured(Backend::Postgres).await;
}
