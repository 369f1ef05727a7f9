//! Signing in to the console with an identity provider (OpenID Connect,
//! authorization code with PKCE), against a small provider this test runs on
//! 127.0.0.1 with a key it makes itself; and every way such a sign-in must be
//! refused, each with a page that says why.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine;
use goodwill::config::OidcSettings;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::console::Browser;
use crate::helpers::{Backend, TestApp};

const CLIENT_ID: &str = "goodwill-console";

/// How the provider misbehaves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Twist {
    None,
    WrongNonce,
    WrongAudience,
    Expired,
}

struct Grant {
    challenge: String,
    nonce: String,
    used: bool,
}

struct IdpState {
    issuer: String,
    tenant: String,
    twist: Twist,
    codes: HashMap<String, Grant>,
    key: jsonwebtoken::EncodingKey,
    jwk: Value,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A provider on 127.0.0.1:0 with a fresh Ed25519 key.
async fn provider() -> (String, Arc<Mutex<IdpState>>) {
    let seed: [u8; 32] = Sha256::digest(uuid::Uuid::now_v7().as_bytes()).into();
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    let public = signing.verifying_key().to_bytes();
    // PKCS#8 of an Ed25519 private key: a fixed prefix and the seed.
    let mut der = hex_bytes("302e020100300506032b657004220420");
    der.extend_from_slice(&seed);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let state = Arc::new(Mutex::new(IdpState {
        issuer: issuer.clone(),
        tenant: String::new(),
        twist: Twist::None,
        codes: HashMap::new(),
        key: jsonwebtoken::EncodingKey::from_ed_der(&der),
        jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&public), "kid": "k1", "alg": "EdDSA", "use": "sig"}),
    }));
    let data = web::Data::new(state.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route(
                "/.well-known/openid-configuration",
                web::get().to(discovery),
            )
            .route("/jwks", web::get().to(jwks))
            .route("/authorize", web::get().to(authorize))
            .route("/token", web::post().to(token))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    (issuer, state)
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

type Idp = web::Data<Arc<Mutex<IdpState>>>;

async fn discovery(idp: Idp) -> HttpResponse {
    let i = idp.lock().unwrap().issuer.clone();
    HttpResponse::Ok().json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks(idp: Idp) -> HttpResponse {
    HttpResponse::Ok().json(json!({"keys": [idp.lock().unwrap().jwk.clone()]}))
}

async fn authorize(idp: Idp, q: web::Query<HashMap<String, String>>) -> HttpResponse {
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["code_challenge_method"], "S256");
    let code = uuid::Uuid::now_v7().simple().to_string();
    idp.lock().unwrap().codes.insert(
        code.clone(),
        Grant {
            challenge: q["code_challenge"].clone(),
            nonce: q["nonce"].clone(),
            used: false,
        },
    );
    let to = format!(
        "{}?{}",
        q["redirect_uri"],
        serde_urlencoded::to_string([("code", code.as_str()), ("state", q["state"].as_str())])
            .unwrap()
    );
    HttpResponse::Found()
        .insert_header(("Location", to))
        .finish()
}

async fn token(idp: Idp, form: web::Form<HashMap<String, String>>) -> HttpResponse {
    let mut s = idp.lock().unwrap();
    let refuse = |e: &str| HttpResponse::BadRequest().json(json!({"error": e}));
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some("s3cret")
    {
        return refuse("invalid_client");
    }
    let Some(grant) = form.get("code").and_then(|c| s.codes.get_mut(c)) else {
        return refuse("invalid_grant");
    };
    if grant.used {
        return refuse("invalid_grant");
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if b64(&Sha256::digest(verifier.as_bytes())) != grant.challenge {
        return refuse("invalid_grant");
    }
    grant.used = true;
    let nonce = grant.nonce.clone();
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = json!({
        "iss": s.issuer, "aud": CLIENT_ID, "sub": "ann", "iat": now, "exp": now + 300,
        "nonce": nonce, "tenant": s.tenant, "role": "manager", "name": "Ann Lee",
    });
    match s.twist {
        Twist::None => {}
        Twist::WrongNonce => claims["nonce"] = json!("another-sign-in"),
        Twist::WrongAudience => claims["aud"] = json!("someone-else"),
        Twist::Expired => {
            claims["iat"] = json!(now - 7200);
            claims["exp"] = json!(now - 3600);
        }
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some("k1".into());
    let id_token = jsonwebtoken::encode(&header, &claims, &s.key).unwrap();
    HttpResponse::Ok()
        .json(json!({"id_token": id_token, "access_token": "x", "token_type": "Bearer"}))
}

async fn spawn(backend: Backend) -> (TestApp, Arc<Mutex<IdpState>>) {
    let (issuer, idp) = provider().await;
    let app = TestApp::spawn_tuned(backend, |s| {
        s.console.oidc = Some(OidcSettings {
            issuer: issuer.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: Some("s3cret".into()),
            scopes: "openid profile".into(),
            tenant: None,
            tenant_claim: "tenant".into(),
            role_claim: "role".into(),
            stores_claim: "stores".into(),
        });
    })
    .await;
    idp.lock().unwrap().tenant = app.tenant.to_string();
    (app, idp)
}

/// Starts a sign-in and lets the provider answer: the callback URL it sends
/// the browser back to.
async fn to_the_provider_and_back(b: &mut Browser<'_>) -> String {
    let p = b.post("/console/oidc/start", &[]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(b.cookies.contains_key("goodwill_login"));
    let at_provider = p.location().to_owned();
    assert!(at_provider.contains("code_challenge=") && at_provider.contains("nonce="));
    // The provider's page (no cookies of ours go there).
    let r = awc::Client::builder()
        .disable_redirects()
        .finish()
        .get(&at_provider)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    r.headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

fn sessions(app: &TestApp) -> i64 {
    app.counts()
        .into_iter()
        .find(|(t, _)| t == "console_sessions")
        .unwrap()
        .1
}

#[track_caller]
fn refused(p: &crate::console::Page, why: &str) {
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("Sign-in refused"), "{}", p.body);
    assert!(
        p.body.to_lowercase().contains(why),
        "expected {why:?} in {}",
        p.body
    );
}

async fn the_provider_signs_in_and_every_forgery_is_refused(backend: Backend) {
    let (app, idp) = spawn(backend).await;
    let mut b = Browser::new(&app);
    let page = b.get("/console/sign-in").await;
    assert!(
        page.body.contains("/console/oidc/start"),
        "the button is offered"
    );
    // The sign-in.
    let back = to_the_provider_and_back(&mut b).await;
    let p = b.get(&back).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains(r#"http-equiv="refresh""#));
    assert!(b.cookies.contains_key("goodwill_session"));
    assert!(
        !b.cookies.contains_key("goodwill_login"),
        "the login cookie is spent"
    );
    let q = b.get("/console/approvals").await;
    assert_eq!(q.status, 200, "a manager, by the token's role claim");
    assert!(q.body.contains("ann"));
    assert_eq!(sessions(&app), 1);
    // The same answer again (a replayed code with its state).
    let mut again = Browser::new(&app);
    again.cookies = b.cookies.clone();
    refused(&again.get(&back).await, "completed already");
    // The old code with a new sign-in's state: the provider will not redeem it.
    let mut c = Browser::new(&app);
    let fresh = to_the_provider_and_back(&mut c).await;
    let (_, query) = fresh.split_once('?').unwrap();
    let q: HashMap<String, String> = serde_urlencoded::from_str(query).unwrap();
    let (_, old) = back.split_once('?').unwrap();
    let old: HashMap<String, String> = serde_urlencoded::from_str(old).unwrap();
    let forged = format!(
        "{}/console/oidc/callback?{}",
        app.address,
        serde_urlencoded::to_string([
            ("code", old["code"].as_str()),
            ("state", q["state"].as_str())
        ])
        .unwrap()
    );
    refused(&c.get(&forged).await, "invalid_grant");
    // A state this service never issued.
    let mut d = Browser::new(&app);
    refused(
        &d.get(&format!(
            "{}/console/oidc/callback?code=abc&state=forged",
            app.address
        ))
        .await,
        "not one this service began",
    );
    // The answer brought to another browser (no login cookie).
    let mut e = Browser::new(&app);
    let back_e = to_the_provider_and_back(&mut e).await;
    let mut thief = Browser::new(&app);
    refused(&thief.get(&back_e).await, "another browser");
    // Tokens the provider got wrong.
    for (twist, why) in [
        (Twist::WrongNonce, "nonce"),
        (Twist::WrongAudience, "audience"),
        (Twist::Expired, "expired"),
    ] {
        idp.lock().unwrap().twist = twist;
        let mut f = Browser::new(&app);
        let back_f = to_the_provider_and_back(&mut f).await;
        refused(&f.get(&back_f).await, why);
        assert!(!f.cookies.contains_key("goodwill_session"));
    }
    assert_eq!(sessions(&app), 1, "no refusal opened a session");
    // The provider's own refusal is shown too.
    let mut g = Browser::new(&app);
    refused(
        &g.get(&format!(
            "{}/console/oidc/callback?error=access_denied&error_description=no+thanks",
            app.address
        ))
        .await,
        "access_denied",
    );
}

#[actix_web::test]
async fn sqlite() {
    the_provider_signs_in_and_every_forgery_is_refused(Backend::Sqlite).await;
}

#[actix_web::test]
async fn postgres() {
    the_provider_signs_in_and_every_forgery_is_refused(Backend::Postgres).await;
}
