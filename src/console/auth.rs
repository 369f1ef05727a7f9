//! Who is at the browser: the session cookie, the [`Viewer`] extractor that
//! turns it into the same [`Caller`] a bearer token gives the API, the CSRF
//! token and origin check every form passes, and signing in and out.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::Console;
use super::page::{self, ConsoleError, Layout};
use super::routes::{self, PageAccess};
use crate::domain::ids::SessionId;
use crate::domain::roles::Permission;
use crate::domain::session::{LinkRefusal, SessionState};
use crate::http::{AppState, Caller, RequestId};

/// The session cookie's name: `__Secure-` prefixed where cookies are Secure,
/// so a page served over plain HTTP can never set it.
pub(crate) fn cookie_name(console: &Console) -> &'static str {
    if console.secure_cookies {
        "__Secure-goodwill_session"
    } else {
        "goodwill_session"
    }
}

/// The CSRF token of a session: derived from the cookie's secret, so only a
/// page that was given it (by this service, to this browser) can send it.
pub(crate) fn csrf_token(session_secret: &str) -> String {
    use base64::Engine;
    let mut h = Sha256::new();
    h.update(b"goodwill console csrf\0");
    h.update(session_secret.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h.finalize())
}

/// Compares two secrets in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A signed-in user, authorised for this console route.
#[derive(Clone, Debug)]
pub(crate) struct Viewer {
    /// Who, as the API's commands know a caller.
    pub caller: Caller,
    /// The session.
    pub session: SessionId,
    /// The CSRF token its forms carry.
    pub csrf: String,
}

impl Viewer {
    /// Whether the viewer's role holds `p`.
    pub(crate) fn may(&self, p: Permission) -> bool {
        self.caller.role.may(p)
    }
}

fn shared(req: &HttpRequest) -> Result<(web::Data<AppState>, web::Data<Console>), ConsoleError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ConsoleError::refused(500, "internal", "application state missing"))?;
    let console = req
        .app_data::<web::Data<Console>>()
        .cloned()
        .ok_or_else(|| ConsoleError::refused(500, "internal", "console state missing"))?;
    Ok((state, console))
}

fn next_of(req: &HttpRequest) -> String {
    // After signing in, back to the page asked for (a GET), else home.
    if req.method() == actix_web::http::Method::GET {
        match req.uri().query() {
            Some(q) => format!("{}?{q}", req.path()),
            None => req.path().to_owned(),
        }
    } else {
        "/console".to_owned()
    }
}

/// Finds and checks the session of a request for a console route.
async fn viewer_of(req: &HttpRequest) -> Result<Viewer, ConsoleError> {
    let pattern = req.match_pattern().unwrap_or_default();
    let access = routes::access(req.method(), &pattern).ok_or_else(|| {
        ConsoleError::refused(
            500,
            "internal",
            format!(
                "route {} {pattern} is not in the console's table",
                req.method()
            ),
        )
    })?;
    let (state, console) = shared(req)?;
    let sign_in = |why: Option<&'static str>| ConsoleError::SignIn {
        next: next_of(req),
        why,
    };
    let Some(secret) = req
        .cookie(cookie_name(&console))
        .map(|c| c.value().to_owned())
    else {
        return Err(sign_in(None));
    };
    let (now, lifetimes) = (state.clock.now(), console.lifetimes);
    let token = secret.clone();
    let found = state
        .with_conn(move |conn| crate::app::console::authenticate(conn, &token, now, lifetimes))
        .await?;
    let session = match found {
        Ok(s) => s,
        Err(why) => {
            return Err(sign_in(why.map(|s| match s {
                SessionState::Idle => "idle",
                SessionState::Expired => "expired",
                SessionState::Ended | SessionState::Live => "ended",
            })));
        }
    };
    if !state.tenant_exists(session.grant.tenant).await? {
        return Err(sign_in(Some("ended")));
    }
    let needed = match access {
        PageAccess::Requires(p) | PageAccess::TenantWide(p) => Some(p),
        PageAccess::Public | PageAccess::SignedIn => None,
    };
    if let Some(p) = needed
        && !session.grant.role.may(p)
    {
        return Err(ConsoleError::refused(
            403,
            "role_forbidden",
            format!(
                "Your role ({}) does not open this page (it needs {}).",
                session.grant.role,
                p.as_str()
            ),
        ));
    }
    if matches!(access, PageAccess::TenantWide(_)) && session.grant.stores.is_some() {
        return Err(ConsoleError::refused(
            403,
            "store_scope",
            "This page shows the whole tenant at once: it needs a user of every store.",
        ));
    }
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map_or_else(|| RequestId::from_header(None).0, |r| r.0.clone());
    Ok(Viewer {
        caller: Caller {
            subject: session.grant.subject.clone(),
            tenant: session.grant.tenant,
            role: session.grant.role,
            stores: session.grant.stores.clone(),
            request_id,
        },
        session: session.id,
        csrf: csrf_token(&secret),
    })
}

impl FromRequest for Viewer {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { viewer_of(&req).await })
    }
}

/// Whether a state-changing request comes from the console's own pages:
/// `Sec-Fetch-Site: same-origin` when the browser sends it, and an `Origin`
/// of the console's public address (or of the host the request was sent to)
/// when it sends that. A request with neither is refused: every browser the
/// console supports sends at least one on a POST.
pub(crate) fn same_origin(req: &HttpRequest, console: &Console) -> bool {
    let h = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let site = h("sec-fetch-site");
    let origin = h("origin");
    if site.is_none() && origin.is_none() {
        return false;
    }
    if let Some(s) = &site
        && s != "same-origin"
    {
        return false;
    }
    if let Some(o) = &origin {
        let host = h("host").unwrap_or_default();
        let authority = o
            .strip_prefix("https://")
            .or_else(|| o.strip_prefix("http://"))
            .unwrap_or("\u{0}");
        if *o != console.public_url && (host.is_empty() || authority != host) {
            return false;
        }
    }
    true
}

/// A submitted console form: a plain `application/x-www-form-urlencoded`
/// body, its fields in order (a field may repeat).
#[derive(Clone, Debug, Default)]
pub(crate) struct Form {
    /// The fields.
    pub fields: Vec<(String, String)>,
    /// The body as sent (for the idempotency fingerprint).
    pub raw: web::Bytes,
    /// The request's path (for the idempotency fingerprint).
    pub path: String,
}

impl Form {
    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The value of `name` as typed (empty when absent), to show again.
    pub(crate) fn value(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Every non-blank value of `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }
}

/// Forms are small: 64 KiB, as the API's bodies.
const FORM_LIMIT: usize = 64 * 1024;

async fn read_form(req: &HttpRequest, payload: &mut Payload) -> Result<Form, ConsoleError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ct.split(';').next().is_some_and(|m| {
        m.trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    }) {
        return Err(ConsoleError::refused(
            415,
            "unsupported_media_type",
            "This address takes a form from the console's own pages.",
        ));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ConsoleError::refused(400, "bad_request", "The form did not arrive whole.")
        })?;
        if body.len() + chunk.len() > FORM_LIMIT {
            return Err(ConsoleError::refused(
                413,
                "payload_too_large",
                "The form is larger than 64 KiB.",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let raw = body.freeze();
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&raw)
        .map_err(|_| ConsoleError::refused(400, "bad_request", "The form is not readable."))?;
    Ok(Form {
        fields,
        raw,
        path: req.path().to_owned(),
    })
}

/// A form sent by a signed-in user from the console's own page: the session
/// checked as for any page, then the origin and the CSRF token. Anything
/// else is refused (403) before any command runs, so it changes nothing.
pub(crate) struct Submitted {
    /// Who sent it.
    pub viewer: Viewer,
    /// What they sent.
    pub form: Form,
}

fn forged() -> ConsoleError {
    ConsoleError::refused(
        403,
        "csrf",
        "This form did not come from a page of this console, or the page is older than your \
         session. Nothing was changed. Go back, reload the page and try again.",
    )
}

impl FromRequest for Submitted {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let viewer = viewer_of(&req).await?;
            let (_, console) = shared(&req)?;
            if !same_origin(&req, &console) {
                return Err(forged());
            }
            let form = read_form(&req, &mut payload).await?;
            match form.get("csrf") {
                Some(t) if same_secret(t, &viewer.csrf) => Ok(Submitted { viewer, form }),
                _ => Err(forged()),
            }
        })
    }
}

/// A form sent by someone not (yet) signed in, from the console's own page
/// (its fields are not needed: the URL says what it does).
pub(crate) struct PublicForm;

impl FromRequest for PublicForm {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let (_, console) = shared(&req)?;
            if !same_origin(&req, &console) {
                return Err(forged());
            }
            read_form(&req, &mut payload).await?;
            Ok(PublicForm)
        })
    }
}

/// The session cookie, set.
pub(crate) fn session_cookie(console: &Console, secret: &str) -> Cookie<'static> {
    Cookie::build(cookie_name(console), secret.to_owned())
        .path("/console")
        .http_only(true)
        .secure(console.secure_cookies)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds(
            console.lifetimes.absolute.num_seconds(),
        ))
        .finish()
}

/// The session cookie, removed.
fn removed_cookie(console: &Console) -> Cookie<'static> {
    let mut c = session_cookie(console, "");
    c.make_removal();
    c
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    layout: Layout,
    message: Option<&'static str>,
    oidc: bool,
    oidc_issuer: String,
}

/// Query of the sign-in page.
#[derive(serde::Deserialize)]
pub(crate) struct SignInQuery {
    why: Option<String>,
    #[allow(dead_code)]
    next: Option<String>,
}

/// `GET /console/sign-in`: how to sign in (with a link, or the identity
/// provider's button), and why the last session ended.
pub(crate) async fn sign_in_page(
    console: web::Data<Console>,
    q: web::Query<SignInQuery>,
) -> HttpResponse {
    let message = match q.why.as_deref() {
        Some("idle") => Some(SessionState::Idle.message()),
        Some("expired") => Some(SessionState::Expired.message()),
        Some("ended") => Some(SessionState::Ended.message()),
        Some("signed_out") => Some("You are signed out."),
        _ => None,
    };
    page::ok(&SignInPage {
        layout: Layout::public("Sign in"),
        message,
        oidc: console.oidc.is_some(),
        oidc_issuer: console
            .oidc
            .as_ref()
            .map(|o| o.issuer().to_owned())
            .unwrap_or_default(),
    })
}

#[derive(Template)]
#[template(path = "link.html")]
struct LinkPage {
    layout: Layout,
    refusal: Option<&'static str>,
    subject: String,
    role: String,
}

fn link_refused(status: u16, r: LinkRefusal) -> HttpResponse {
    page::html(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
        &LinkPage {
            layout: Layout::public("Sign-in link"),
            refusal: Some(r.message()),
            subject: String::new(),
            role: String::new(),
        },
    )
}

fn refusal_status(r: LinkRefusal) -> u16 {
    match r {
        LinkRefusal::Unknown => 404,
        LinkRefusal::Used | LinkRefusal::Expired => 410,
    }
}

/// `GET /console/sign-in/{code}`: who the link signs in, and a button that
/// uses it. Opening the link changes nothing (a mail scanner that follows it
/// does not spend it): signing in is the button's POST.
pub(crate) async fn link_page(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let hash = crate::auth::secret_hash(&code.into_inner());
    let now = state.clock.now();
    let link = state
        .read(move |conn| crate::store::console::link_by_code(conn, &hash, false))
        .await?;
    Ok(match link {
        None => link_refused(404, LinkRefusal::Unknown),
        Some(l) => match l.refusal(now) {
            Some(r) => link_refused(refusal_status(r), r),
            None => page::ok(&LinkPage {
                layout: Layout::public("Sign in"),
                refusal: None,
                subject: l.grant.subject.clone(),
                role: l.grant.role.to_string(),
            }),
        },
    })
}

/// `POST /console/sign-in/{code}`: uses the link (once), opens a session and
/// sets its cookie.
pub(crate) async fn use_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: web::Data<Console>,
    code: web::Path<String>,
    _form: PublicForm,
) -> Result<HttpResponse, ConsoleError> {
    let code = code.into_inner();
    let (clock, lifetimes) = (state.clock.clone(), console.lifetimes);
    let request_id = request_id(&req);
    let outcome = state
        .with_conn(move |conn| {
            crate::store::write_tx(conn, |conn| {
                crate::app::console::sign_in_with_link(conn, &code, &request_id, &clock, lifetimes)
            })
        })
        .await?;
    Ok(match outcome {
        Err(r) => link_refused(refusal_status(r), r),
        Ok(signed_in) => {
            let mut resp = page::see_other("/console");
            resp.add_cookie(&session_cookie(&console, &signed_in.token))
                .map_err(|e| ConsoleError::refused(500, "internal", e.to_string()))?;
            resp
        }
    })
}

/// The request's id, as the middleware set it.
pub(crate) fn request_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<RequestId>()
        .map_or_else(|| RequestId::from_header(None).0, |r| r.0.clone())
}

/// `POST /console/sign-out`: ends the session everywhere (it is one row) and
/// removes the cookie.
pub(crate) async fn sign_out(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, .. } = sent;
    let ctx = viewer.caller.audit_ctx(&state.clock);
    let id = viewer.session;
    state
        .with_conn(move |conn| {
            crate::store::write_tx(conn, |conn| crate::app::console::sign_out(conn, &ctx, id))
        })
        .await?;
    let mut resp = page::see_other("/console/sign-in?why=signed_out");
    resp.add_cookie(&removed_cookie(&console))
        .map_err(|e| ConsoleError::refused(500, "internal", e.to_string()))?;
    Ok(resp)
}

/// `GET /console`: the first section the user's role opens.
pub(crate) async fn home(viewer: Viewer) -> HttpResponse {
    let to = if viewer.may(Permission::GesturesApprove) {
        "/console/approvals"
    } else if viewer.may(Permission::CustomersRead) {
        "/console/customers"
    } else {
        "/console/sign-in"
    };
    page::see_other(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let a = csrf_token("secret-a");
        assert_eq!(a, csrf_token("secret-a"));
        assert_ne!(a, csrf_token("secret-b"));
        assert!(same_secret(&a, &csrf_token("secret-a")));
        assert!(!same_secret(&a, &csrf_token("secret-b")));
        assert!(!same_secret("", "x"));
    }
}
