//! Signing in with the company's identity provider: OpenID Connect's
//! authorization-code flow with PKCE.
//!
//! 1. `POST /console/oidc/start` (a button on the sign-in page) records a
//!    login — the hash of a random `state`, a `nonce`, the PKCE verifier and
//!    the hash of a cookie that binds the login to this browser — and sends
//!    the browser to the provider's authorization endpoint.
//! 2. The provider sends the browser back to `GET /console/oidc/callback`
//!    with a code and the `state`. The login is taken (a `state` is answered
//!    once), the browser's cookie must match, the code is redeemed at the
//!    token endpoint with the verifier, and the ID token is verified as API
//!    tokens are (signature from the provider's JWKS, algorithm pinned to the
//!    key, `iss`, `aud` = our client id, `exp`, `nbf`) plus the `nonce`.
//! 3. The tenant, role and stores come from the token's claims (names
//!    configurable); then a session opens as with a sign-in link.
//!
//! The callback is the one GET that changes anything, as the protocol
//! requires: it opens the session the POST of step 1 began, and nothing of
//! the business. Every refusal is a page that says why.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::Console;
use super::auth::{PublicForm, request_id, session_cookie};
use super::page::{self, ConsoleError, Layout};
use crate::config::OidcSettings;
use crate::domain::ids::{LoginId, StoreId, TenantId};
use crate::domain::roles::Role;
use crate::domain::session::Grant;
use crate::http::AppState;
use crate::store::console::Login;

/// How long a login may take between the redirect and the answer.
const LOGIN_TTL_SECS: i64 = 600;
/// Clock skew tolerated on the ID token's times.
const LEEWAY_SECS: u64 = 30;
/// The cookie that binds a login to the browser that began it.
const LOGIN_COOKIE: &str = "goodwill_login";

/// What the provider's discovery document says.
#[derive(Clone, Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

struct Keys {
    set: JwkSet,
    fetched: Instant,
}

/// The configured identity provider, with what was learnt of it.
pub(crate) struct Provider {
    settings: OidcSettings,
    tls: Arc<rustls::ClientConfig>,
    discovery: RwLock<Option<Discovery>>,
    keys: RwLock<Option<Keys>>,
}

/// Why a sign-in with the provider did not happen.
#[derive(Debug)]
pub(crate) struct Refusal(String);

impl Provider {
    /// The provider of these settings; nothing is fetched until someone
    /// signs in (the service starts whether the provider answers or not).
    pub(crate) fn new(settings: OidcSettings) -> Self {
        Self {
            settings,
            tls: Arc::new(tls_config()),
            discovery: RwLock::new(None),
            keys: RwLock::new(None),
        }
    }

    /// The issuer, as configured.
    pub(crate) fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    /// The origin of the authorization endpoint, once known (the console's
    /// Content-Security-Policy lets forms lead there).
    pub(crate) fn authorization_origin(&self) -> Option<String> {
        let d = self.discovery.read().ok()?;
        let url = &d.as_ref()?.authorization_endpoint;
        let (scheme, rest) = url.split_once("://")?;
        let host = rest.split('/').next()?;
        Some(format!("{scheme}://{host}"))
    }

    fn client(&self) -> awc::Client {
        awc::Client::builder()
            .connector(
                awc::Connector::new()
                    .rustls_0_23(self.tls.clone())
                    .timeout(Duration::from_secs(10)),
            )
            .timeout(Duration::from_secs(10))
            .disable_redirects()
            .finish()
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, Refusal> {
        let mut resp = self
            .client()
            .get(url)
            .insert_header(("Accept", "application/json"))
            .send()
            .await
            .map_err(|e| Refusal(format!("the identity provider could not be reached ({e})")))?;
        if !resp.status().is_success() {
            return Err(Refusal(format!(
                "the identity provider answered {} for {url}",
                resp.status()
            )));
        }
        let body = resp.body().limit(1024 * 1024).await.map_err(|e| {
            Refusal(format!(
                "the identity provider's answer was unreadable ({e})"
            ))
        })?;
        serde_json::from_slice(&body).map_err(|e| {
            Refusal(format!(
                "the identity provider's answer was not understood ({e})"
            ))
        })
    }

    async fn discovery(&self) -> Result<Discovery, Refusal> {
        if let Some(d) = self.discovery.read().ok().and_then(|d| d.clone()) {
            return Ok(d);
        }
        let url = format!("{}/.well-known/openid-configuration", self.settings.issuer);
        let d: Discovery = self.get_json(&url).await?;
        if d.issuer.trim_end_matches('/') != self.settings.issuer {
            return Err(Refusal(format!(
                "the identity provider calls itself {:?}, not the configured {:?}",
                d.issuer, self.settings.issuer
            )));
        }
        if let Ok(mut slot) = self.discovery.write() {
            *slot = Some(d.clone());
        }
        Ok(d)
    }

    /// The key of `kid`: from the cached JWKS, fetched again (at most once
    /// a minute) when the provider may have rotated its keys.
    async fn key(&self, kid: Option<&str>) -> Result<Jwk, Refusal> {
        let find = |set: &JwkSet| -> Option<Jwk> {
            match kid {
                Some(k) => set.find(k).cloned(),
                None if set.keys.len() == 1 => set.keys.first().cloned(),
                None => None,
            }
        };
        let fresh_enough = {
            let keys = self.keys.read().ok();
            match keys.as_ref().and_then(|k| k.as_ref()) {
                Some(k) => {
                    if let Some(j) = find(&k.set) {
                        return Ok(j);
                    }
                    k.fetched.elapsed() < Duration::from_secs(60)
                }
                None => false,
            }
        };
        if fresh_enough {
            return Err(Refusal(
                "the ID token is signed with a key the identity provider does not publish".into(),
            ));
        }
        let d = self.discovery().await?;
        let set: JwkSet = self.get_json(&d.jwks_uri).await?;
        let found = find(&set);
        if let Ok(mut slot) = self.keys.write() {
            *slot = Some(Keys {
                set,
                fetched: Instant::now(),
            });
        }
        found.ok_or_else(|| {
            Refusal(
                "the ID token is signed with a key the identity provider does not publish".into(),
            )
        })
    }

    /// Verifies an ID token as API tokens are verified, and its nonce.
    async fn verify(&self, id_token: &str, nonce: &str) -> Result<serde_json::Value, Refusal> {
        let header = jsonwebtoken::decode_header(id_token)
            .map_err(|_| Refusal("the ID token is malformed".into()))?;
        let jwk = self.key(header.kid.as_deref()).await?;
        // The algorithm is pinned by the key, never taken from the token
        // alone: a symmetric key in a JWKS, or a header naming another
        // family than the key's, is refused.
        let allowed: &[Algorithm] = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => &[
                Algorithm::RS256,
                Algorithm::RS384,
                Algorithm::RS512,
                Algorithm::PS256,
                Algorithm::PS384,
                Algorithm::PS512,
            ],
            AlgorithmParameters::EllipticCurve(_) => &[Algorithm::ES256, Algorithm::ES384],
            AlgorithmParameters::OctetKeyPair(_) => &[Algorithm::EdDSA],
            _ => &[],
        };
        if !allowed.contains(&header.alg) {
            return Err(Refusal(format!(
                "the ID token's algorithm {:?} does not match the provider's key",
                header.alg
            )));
        }
        if let Some(key_alg) = jwk.common.key_algorithm
            && format!("{key_alg:?}") != format!("{:?}", header.alg)
        {
            return Err(Refusal("the ID token's algorithm is not its key's".into()));
        }
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|_| Refusal("the identity provider's key is not usable".into()))?;
        let mut v = Validation::new(header.alg);
        v.leeway = LEEWAY_SECS;
        v.validate_exp = true;
        v.validate_nbf = true;
        v.set_issuer(&[&self.settings.issuer]);
        v.set_audience(&[&self.settings.client_id]);
        v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<serde_json::Value>(id_token, &key, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            Refusal(
                match e.kind() {
                    K::ExpiredSignature => "the ID token has expired",
                    K::ImmatureSignature => "the ID token is not valid yet",
                    K::InvalidSignature => "the ID token's signature does not verify",
                    K::InvalidIssuer => "the ID token comes from another issuer",
                    K::InvalidAudience => {
                        "the ID token was issued for another application (audience)"
                    }
                    K::MissingRequiredClaim(_) => {
                        "the ID token lacks a required claim (exp, iat, iss, aud, sub)"
                    }
                    _ => "the ID token is not valid",
                }
                .to_owned(),
            )
        })?;
        if data.claims["nonce"].as_str() != Some(nonce) {
            return Err(Refusal(
                "the ID token's nonce is not this sign-in's: it was issued for another one".into(),
            ));
        }
        Ok(data.claims)
    }

    /// Who the verified claims name, by the configured claim names.
    fn grant(&self, claims: &serde_json::Value) -> Result<Grant, Refusal> {
        let s = &self.settings;
        let subject = claims["sub"].as_str().unwrap_or_default().to_owned();
        Grant::check_subject(&subject).map_err(|m| Refusal(format!("the ID token's sub: {m}")))?;
        let tenant: TenantId = match s.tenant {
            Some(t) => t,
            None => claims[&s.tenant_claim]
                .as_str()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| {
                    Refusal(format!(
                        "the ID token has no tenant id in its {:?} claim",
                        s.tenant_claim
                    ))
                })?,
        };
        let role: Role = claims[&s.role_claim]
            .as_str()
            .ok_or_else(|| {
                Refusal(format!(
                    "the ID token has no role in its {:?} claim",
                    s.role_claim
                ))
            })?
            .parse()
            .map_err(|e: String| Refusal(format!("the ID token's role: {e}")))?;
        // Absent means every store; anything present must be a list of
        // store ids (null or garbage is refused, never read as "all").
        let stores = match claims.get(&s.stores_claim) {
            None => None,
            Some(serde_json::Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|i| i.as_str().and_then(|x| x.parse::<StoreId>().ok()))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        Refusal(format!(
                            "the ID token's {:?} claim is not a list of store ids",
                            s.stores_claim
                        ))
                    })?,
            ),
            Some(_) => {
                return Err(Refusal(format!(
                    "the ID token's {:?} claim is not a list of store ids",
                    s.stores_claim
                )));
            }
        };
        Ok(Grant {
            tenant,
            subject,
            role,
            stores,
        })
    }

    /// Redeems the code at the token endpoint: the ID token.
    async fn redeem(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<String, Refusal> {
        let d = self.discovery().await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", &self.settings.client_id),
            ("code_verifier", verifier),
        ];
        if let Some(secret) = &self.settings.client_secret {
            form.push(("client_secret", secret));
        }
        let mut resp = self
            .client()
            .post(&d.token_endpoint)
            .insert_header(("Accept", "application/json"))
            .send_form(&form)
            .await
            .map_err(|e| Refusal(format!("the identity provider could not be reached ({e})")))?;
        let body = resp.body().limit(256 * 1024).await.map_err(|e| {
            Refusal(format!(
                "the identity provider's answer was unreadable ({e})"
            ))
        })?;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        if !resp.status().is_success() {
            return Err(Refusal(format!(
                "the identity provider would not redeem this sign-in: {}{}",
                v["error"].as_str().unwrap_or("refused"),
                v["error_description"]
                    .as_str()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )));
        }
        v["id_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Refusal("the identity provider's answer has no ID token".into()))
    }
}

/// TLS for talking to the provider: rustls over ring, Mozilla's roots.
pub(crate) fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_or_else(
            |_| {
                rustls::ClientConfig::builder()
                    .with_root_certificates(roots.clone())
                    .with_no_client_auth()
            },
            |b| {
                b.with_root_certificates(roots.clone())
                    .with_no_client_auth()
            },
        )
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn redirect_uri(console: &Console) -> String {
    format!("{}/console/oidc/callback", console.public_url)
}

#[derive(Template)]
#[template(path = "oidc_refused.html")]
struct RefusedPage {
    layout: Layout,
    why: String,
}

fn refused(why: impl Into<String>) -> HttpResponse {
    page::html(
        actix_web::http::StatusCode::BAD_REQUEST,
        &RefusedPage {
            layout: Layout::public("Sign-in refused"),
            why: why.into(),
        },
    )
}

/// `POST /console/oidc/start`: to the identity provider.
pub(crate) async fn start(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    _form: PublicForm,
) -> Result<HttpResponse, ConsoleError> {
    let Some(provider) = console.oidc.as_ref() else {
        return Err(ConsoleError::refused(
            404,
            "not_found",
            "No identity provider is configured: sign in with a link.",
        ));
    };
    let d = match provider.discovery().await {
        Ok(d) => d,
        Err(Refusal(why)) => return Ok(refused(why)),
    };
    let secret =
        |n| crate::auth::random_token(n).map_err(|e| ConsoleError::refused(500, "internal", e));
    let (state_v, nonce, verifier, browser) = (secret(32)?, secret(32)?, secret(32)?, secret(32)?);
    let now = state.clock.now();
    let login = Login {
        id: LoginId::new(),
        browser_hash: crate::auth::secret_hash(&browser),
        nonce: nonce.clone(),
        verifier: verifier.clone(),
        created_at: now,
        expires_at: now + chrono::Duration::seconds(LOGIN_TTL_SECS),
        used_at: None,
    };
    let state_hash = crate::auth::secret_hash(&state_v);
    state
        .with_conn(move |conn| {
            crate::store::write_tx(conn, |conn| {
                crate::store::console::insert_login(conn, &login, &state_hash)
            })
        })
        .await?;
    let challenge = b64(&Sha256::digest(verifier.as_bytes()));
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", provider.settings.client_id.as_str()),
        ("redirect_uri", redirect_uri(&console).as_str()),
        ("scope", provider.settings.scopes.as_str()),
        ("state", state_v.as_str()),
        ("nonce", nonce.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ])
    .unwrap_or_default();
    let sep = if d.authorization_endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    let mut resp = page::see_other(&format!("{}{sep}{query}", d.authorization_endpoint));
    // SameSite=Lax: the provider sends the browser back with a top-level GET
    // from its own site, which a Strict cookie would not accompany.
    let cookie = Cookie::build(LOGIN_COOKIE, browser)
        .path("/console/oidc")
        .http_only(true)
        .secure(console.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(LOGIN_TTL_SECS))
        .finish();
    resp.add_cookie(&cookie)
        .map_err(|e| ConsoleError::refused(500, "internal", e.to_string()))?;
    Ok(resp)
}

/// Query of the callback.
#[derive(Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Template)]
#[template(path = "oidc_done.html")]
struct DonePage {
    layout: Layout,
}

/// `GET /console/oidc/callback?code=&state=`: the provider's answer.
pub(crate) async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: web::Data<Console>,
    q: web::Query<CallbackQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let Some(provider) = console.oidc.as_ref() else {
        return Err(ConsoleError::refused(
            404,
            "not_found",
            "No identity provider is configured.",
        ));
    };
    if let Some(e) = &q.error {
        return Ok(refused(format!(
            "The identity provider did not sign you in: {e}{}",
            q.error_description
                .as_ref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        )));
    }
    let (Some(code), Some(state_v)) = (q.code.clone(), q.state.clone()) else {
        return Ok(refused(
            "The identity provider's answer lacks its code or state.",
        ));
    };
    let now = state.clock.now();
    let state_hash = crate::auth::secret_hash(&state_v);
    let login = state
        .with_conn(move |conn| {
            crate::store::write_tx(conn, |conn| {
                crate::store::console::take_login(conn, &state_hash, now)
            })
        })
        .await?;
    let Some(login) = login else {
        return Ok(refused(
            "This sign-in's state is not one this service began (a forged or mistyped answer). Start again from the sign-in page.",
        ));
    };
    if login.used_at.is_some() {
        return Ok(refused(
            "This sign-in was completed already: its answer cannot be used twice. Start again from the sign-in page.",
        ));
    }
    if now >= login.expires_at {
        return Ok(refused(
            "This sign-in took too long. Start again from the sign-in page.",
        ));
    }
    let browser = req
        .cookie(LOGIN_COOKIE)
        .map(|c| crate::auth::secret_hash(c.value()));
    if browser.as_deref() != Some(login.browser_hash.as_str()) {
        return Ok(refused(
            "This sign-in began in another browser (or its cookie is gone). Start again from the sign-in page.",
        ));
    }
    let id_token = match provider
        .redeem(&code, &login.verifier, &redirect_uri(&console))
        .await
    {
        Ok(t) => t,
        Err(Refusal(why)) => return Ok(refused(why)),
    };
    let claims = match provider.verify(&id_token, &login.nonce).await {
        Ok(c) => c,
        Err(Refusal(why)) => return Ok(refused(why)),
    };
    let grant = match provider.grant(&claims) {
        Ok(g) => g,
        Err(Refusal(why)) => return Ok(refused(why)),
    };
    if !state.tenant_exists(grant.tenant).await? {
        return Ok(refused(
            "The tenant your account names does not exist here.",
        ));
    }
    let (clock, lifetimes, rid) = (state.clock.clone(), console.lifetimes, request_id(&req));
    let issuer = provider.settings.issuer.clone();
    let signed_in = state
        .with_conn(move |conn| {
            crate::store::write_tx(conn, |conn| {
                crate::app::console::sign_in_with_provider(
                    conn, grant, &issuer, &rid, &clock, lifetimes,
                )
            })
        })
        .await?;
    // A page, not a redirect: the browser arrived from the provider's site,
    // and a SameSite=Strict cookie goes only with a navigation this site
    // starts itself (the page's refresh).
    let mut resp = page::ok(&DonePage {
        layout: Layout::public("Signed in"),
    });
    resp.add_cookie(&session_cookie(&console, &signed_in.token))
        .map_err(|e| ConsoleError::refused(500, "internal", e.to_string()))?;
    let mut gone = Cookie::build(LOGIN_COOKIE, "")
        .path("/console/oidc")
        .finish();
    gone.make_removal();
    resp.add_cookie(&gone)
        .map_err(|e| ConsoleError::refused(500, "internal", e.to_string()))?;
    Ok(resp)
}
