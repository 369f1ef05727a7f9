//! The console over HTTP, as a browser meets it but without one: sign-in
//! links, sessions and their cookie, the CSRF and origin checks, the route
//! table, the queue and the forms. (The stories a person clicks run in a real
//! Chromium: tests/console/.)

use std::collections::HashMap;

use goodwill::domain::ids::StoreId;
use goodwill::domain::roles::Role;
use regex::Regex;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::TestApp;

/// A page as received.
pub struct Page {
    pub status: u16,
    pub headers: HashMap<String, Vec<String>>,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    pub fn location(&self) -> &str {
        self.header("location").unwrap_or_default()
    }

    /// The value of the hidden input `name` (the first one).
    pub fn hidden(&self, name: &str) -> String {
        let re = Regex::new(&format!(r#"name="{name}" value="([^"]*)""#)).unwrap();
        re.captures(&self.body)
            .unwrap_or_else(|| panic!("no hidden {name} in:\n{}", self.body))[1]
            .to_owned()
    }

    /// The idempotency key of the form posting to `action`.
    pub fn key_of(&self, action: &str) -> String {
        let at = self
            .body
            .find(&format!(r#"action="{action}""#))
            .unwrap_or_else(|| panic!("no form to {action} in:\n{}", self.body));
        let rest = &self.body[at..];
        let re = Regex::new(r#"name="idempotency_key" value="([^"]*)""#).unwrap();
        re.captures(rest).unwrap()[1].to_owned()
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "{}", self.body);
        self
    }
}

/// A browser without a screen: a cookie jar and the console's origin.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookies: HashMap<String, String>,
    pub origin: Option<String>,
    pub fetch_site: Option<String>,
    client: awc::Client,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: HashMap::new(),
            origin: Some(app.address.clone()),
            fetch_site: Some("same-origin".into()),
            client: awc::Client::builder()
                .disable_redirects()
                .timeout(std::time::Duration::from_secs(60))
                .finish(),
        }
    }

    fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    async fn finish(
        &mut self,
        mut resp: awc::ClientResponse<
            impl futures_util::Stream<
                Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>,
            > + Unpin,
        >,
    ) -> Page {
        let mut headers: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in resp.headers() {
            headers
                .entry(k.as_str().to_owned())
                .or_default()
                .push(v.to_str().unwrap_or_default().to_owned());
        }
        for c in headers.get("set-cookie").cloned().unwrap_or_default() {
            let (pair, attrs) = c.split_once(';').unwrap_or((&c, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") || v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let body = resp.body().limit(8 * 1024 * 1024).await.unwrap();
        Page {
            status: resp.status().as_u16(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.app.address)
        };
        let mut req = self.client.get(url);
        if let Some(c) = self.cookie_header() {
            req = req.insert_header(("Cookie", c));
        }
        let resp = req.send().await.unwrap();
        self.finish(resp).await
    }

    /// Posts a form as the console's own page would.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.app.address)
        };
        let mut req = self
            .client
            .post(url)
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"));
        if let Some(c) = self.cookie_header() {
            req = req.insert_header(("Cookie", c));
        }
        if let Some(o) = &self.origin {
            req = req.insert_header(("Origin", o.clone()));
        }
        if let Some(s) = &self.fetch_site {
            req = req.insert_header(("Sec-Fetch-Site", s.clone()));
        }
        let body = serde_urlencoded::to_string(fields).unwrap();
        let resp = req.send_body(body).await.unwrap();
        self.finish(resp).await
    }

    /// Posts owned fields.
    pub async fn post_fields(&mut self, path: &str, fields: &[(String, String)]) -> Page {
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post(path, &refs).await
    }

    /// Signs in with a fresh one-time link for `sub`.
    pub async fn sign_in(
        app: &'a TestApp,
        sub: &str,
        role: Role,
        stores: Option<Vec<StoreId>>,
    ) -> Self {
        let mut b = Self::new(app);
        let link = make_link(app, sub, role, stores, 900);
        b.get(&link).await.expect(200);
        let p = b.post(&link, &[]).await;
        assert_eq!(p.status, 303, "{}", p.body);
        assert_eq!(p.location(), "/console");
        b
    }

    /// The CSRF token of the current session (from any page).
    pub async fn csrf(&mut self) -> String {
        let p = self.get("/console/customers").await;
        p.hidden("csrf")
    }
}

/// A one-time sign-in link, made as `goodwill console link` makes it.
pub fn make_link(
    app: &TestApp,
    sub: &str,
    role: Role,
    stores: Option<Vec<StoreId>>,
    ttl_secs: i64,
) -> String {
    let mut conn = app.pool.get().unwrap();
    let ctx = goodwill::audit::AuditCtx::system(app.tenant, "test", app.clock.clone());
    let made = goodwill::store::write_tx(&mut conn, |c| {
        goodwill::app::console::create_link(
            c,
            &ctx,
            goodwill::domain::session::Grant {
                tenant: app.tenant,
                subject: sub.into(),
                role,
                stores,
            },
            chrono::Duration::seconds(ttl_secs),
        )
    })
    .unwrap();
    format!("{}/console/sign-in/{}", app.address, made.code)
}

fn audit_actions(app: &TestApp, action: &str) -> Vec<(String, String)> {
    use diesel::prelude::*;
    let mut conn = app.pool.get().unwrap();
    let rows: Vec<(String, String, String)> = goodwill::store::schema::audit_events::table
        .select((
            goodwill::store::schema::audit_events::action,
            goodwill::store::schema::audit_events::actor_sub,
            goodwill::store::schema::audit_events::entity_id,
        ))
        .load(&mut conn)
        .unwrap();
    rows.into_iter()
        .filter(|(a, _, _)| a == action)
        .map(|(_, s, e)| (s, e))
        .collect()
}

async fn sign_in_links_work_once_expire_and_are_audited(app: TestApp) {
    let link = make_link(&app, "ann", Role::Manager, None, 900);
    let mut b = Browser::new(&app);
    // Opening the link changes nothing (a mail scanner may follow it).
    let p = b.get(&link).await;
    p.expect(200);
    assert!(p.body.contains("ann") && p.body.contains("manager"));
    assert!(b.cookies.is_empty());
    let p = b.post(&link, &[]).await;
    p.expect(303);
    let cookie = p.header("set-cookie").unwrap().to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/console"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "a loopback bind has no TLS: {cookie}"
    );
    b.get("/console/approvals").await.expect(200);
    // Only a hash of the code and of the cookie is kept.
    {
        use diesel::prelude::*;
        let mut conn = app.pool.get().unwrap();
        let hashes: Vec<String> = goodwill::store::schema::console_links::table
            .select(goodwill::store::schema::console_links::code_hash)
            .load(&mut conn)
            .unwrap();
        let code = link.rsplit('/').next().unwrap();
        assert!(hashes.iter().all(|h| h != code && h.len() == 64));
        let tokens: Vec<String> = goodwill::store::schema::console_sessions::table
            .select(goodwill::store::schema::console_sessions::token_hash)
            .load(&mut conn)
            .unwrap();
        let secret = b.cookies.get("goodwill_session").unwrap();
        assert!(tokens.iter().all(|t| t != secret));
    }
    let signed_in = audit_actions(&app, "console.signed_in");
    assert_eq!(signed_in.len(), 1);
    assert_eq!(signed_in[0].0, "ann", "audited under the user's sub");
    // Used: refused, and it opens nothing.
    let mut other = Browser::new(&app);
    let p = other.post(&link, &[]).await;
    assert_eq!(p.status, 410);
    assert!(p.body.contains("used already"), "{}", p.body);
    assert!(other.cookies.is_empty());
    assert_eq!(other.get(&link).await.status, 410);
    // Expired.
    let short = make_link(&app, "bo", Role::Clerk, None, 60);
    app.clock.advance(chrono::Duration::seconds(61));
    let p = other.post(&short, &[]).await;
    assert_eq!(p.status, 410);
    assert!(p.body.contains("expired"), "{}", p.body);
    // Unknown.
    let p = other
        .post(&format!("{}/console/sign-in/nope", app.address), &[])
        .await;
    assert_eq!(p.status, 404);
    assert_eq!(audit_actions(&app, "console.signed_in").len(), 1);
}
both!(sign_in_links_work_once_expire_and_are_audited);

async fn sessions_end_when_idle_old_or_signed_out_everywhere(app: TestApp) {
    let mut b = Browser::sign_in(&app, "ann", Role::Manager, None).await;
    // Busy for 11 hours: the idle timeout never strikes.
    for _ in 0..33 {
        app.clock.advance(chrono::Duration::minutes(20));
        b.get("/console/approvals").await.expect(200);
    }
    // ... but the session ends 12 hours after it began.
    app.clock.advance(chrono::Duration::minutes(61));
    let p = b.get("/console/approvals").await;
    assert_eq!(p.status, 303);
    assert!(
        p.location().starts_with("/console/sign-in?"),
        "{}",
        p.location()
    );
    assert!(p.location().contains("why=expired"), "{}", p.location());
    // Idle for 30 minutes.
    let mut b = Browser::sign_in(&app, "ann", Role::Manager, None).await;
    app.clock.advance(chrono::Duration::minutes(31));
    let p = b.get("/console/approvals").await;
    assert!(p.location().contains("why=idle"), "{}", p.location());
    // Signing out ends it on every instance (it is one row).
    let mut b = Browser::sign_in(&app, "ann", Role::Manager, None).await;
    let kept = b.cookies.clone();
    let second = app.second_instance().await;
    let mut there = Browser::new(&app);
    there.cookies = kept.clone();
    there
        .get(&format!("{second}/console/approvals"))
        .await
        .expect(200);
    let csrf = b.csrf().await;
    let p = b.post("/console/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 303);
    assert!(b.cookies.is_empty(), "the cookie is removed");
    let p = there.get(&format!("{second}/console/approvals")).await;
    assert_eq!(p.status, 303);
    assert!(p.location().contains("why=ended"), "{}", p.location());
    assert_eq!(audit_actions(&app, "console.signed_out").len(), 1);
}
both!(sessions_end_when_idle_old_or_signed_out_everywhere);

async fn a_form_needs_its_csrf_token_and_the_consoles_origin(app: TestApp) {
    let store = app.store("MS", "USD").await;
    let customer = app.customer("C-1").await;
    let cid = customer["id"].as_str().unwrap().to_owned();
    let mut b = Browser::sign_in(&app, "ann", Role::Clerk, Some(vec![store])).await;
    let form = b
        .get(&format!(
            "/console/customers/{cid}/record?kind=deferred_payment"
        ))
        .await;
    form.expect(200);
    let (csrf, key) = (form.hidden("csrf"), form.hidden("idempotency_key"));
    let store_s = store.to_string();
    let action = format!("/console/customers/{cid}/gestures");
    let body = |csrf: &str| {
        vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("idempotency_key".to_owned(), key.clone()),
            ("kind".to_owned(), "deferred_payment".to_owned()),
            ("store_id".to_owned(), store_s.clone()),
            ("amount".to_owned(), "10.95".to_owned()),
            (
                "due_on".to_owned(),
                (app.clock.now().date() + chrono::Duration::days(1)).to_string(),
            ),
            ("reason_code".to_owned(), "closing_time".to_owned()),
            ("story".to_owned(), "Pay tomorrow".to_owned()),
        ]
    };
    let mut other = Browser::sign_in(&app, "bo", Role::Clerk, Some(vec![store])).await;
    let theirs = other.csrf().await;
    let before = app.counts();
    // No token, a wrong one, another session's.
    let mut without = body(&csrf);
    without.retain(|(k, _)| k != "csrf");
    let p = b.post_fields(&action, &without).await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert!(p.body.contains("Nothing was changed"));
    assert_eq!(b.post_fields(&action, &body("forged")).await.status, 403);
    assert_eq!(b.post_fields(&action, &body(&theirs)).await.status, 403);
    // Another site's page, even with the right token.
    b.origin = Some("https://evil.example".into());
    assert_eq!(b.post_fields(&action, &body(&csrf)).await.status, 403);
    b.origin = None;
    b.fetch_site = Some("cross-site".into());
    assert_eq!(b.post_fields(&action, &body(&csrf)).await.status, 403);
    b.fetch_site = None;
    assert_eq!(
        b.post_fields(&action, &body(&csrf)).await.status,
        403,
        "neither header"
    );
    assert_eq!(app.counts(), before, "nothing changed");
    // From its own page: it acts.
    b.origin = Some(app.address.clone());
    b.fetch_site = Some("same-origin".into());
    let p = b.post_fields(&action, &body(&csrf)).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(p.location().contains("recorded="), "{}", p.location());
}
both!(a_form_needs_its_csrf_token_and_the_consoles_origin);

async fn the_cookie_opens_only_the_console_and_a_token_only_the_api(app: TestApp) {
    let mut b = Browser::sign_in(&app, "ann", Role::Admin, None).await;
    let cookie = b.cookie_header().unwrap();
    let r = app
        .client()
        .get(format!("{}/v1/stores", app.address))
        .insert_header(("Cookie", cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "the API takes bearer tokens only");
    b.cookies.clear();
    let r = awc::Client::builder()
        .disable_redirects()
        .finish()
        .get(format!("{}/console/approvals", app.address))
        .insert_header((
            "Authorization",
            format!("Bearer {}", app.token(Role::Admin)),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        303,
        "the console takes its session only"
    );
}
both!(the_cookie_opens_only_the_console_and_a_token_only_the_api);

/// Every GET page of the console with ids of a small world filled in.
async fn world(app: &TestApp) -> (StoreId, Value, Vec<String>) {
    let store = app.store("MS", "USD").await;
    let customer = app.customer("C-1").await;
    let cid = customer["id"].as_str().unwrap().to_owned();
    let incident = app
        .post(
            "/v1/incidents",
            &app.token(Role::Manager),
            &json!({"store_id": store, "cause": "staff_error", "description": "Forgot the display"}),
        )
        .await
        .expect(201);
    let g = app
        .send_to(
            &app.address,
            actix_web::http::Method::POST,
            &format!("/v1/customers/{cid}/gestures"),
            Some(&app.token_for(app.tenant, "clerk-1", Role::Clerk, Some(vec![store]))),
            Some("k1"),
            Some((
                "application/json",
                json!({"kind": "store_credit", "store_id": store, "reason_code": "loyalty",
                       "story": "thanks", "amount": {"amount": "100.00", "currency": "USD"}})
                .to_string()
                .into_bytes(),
            )),
        )
        .await
        .expect(201);
    let pages = vec![
        "/console".to_owned(),
        "/console/approvals".to_owned(),
        "/console/approvals?kind=balance_waiver".to_owned(),
        "/console/customers".to_owned(),
        "/console/customers?q=C-1".to_owned(),
        format!("/console/customers/{cid}"),
        format!("/console/customers/{cid}/record?kind=balance_waiver"),
        format!("/console/gestures/{}", g["id"].as_str().unwrap()),
        "/console/incidents".to_owned(),
        "/console/incidents/new".to_owned(),
        format!("/console/incidents/{}", incident["id"].as_str().unwrap()),
        "/console/recognitions".to_owned(),
        "/console/users".to_owned(),
        "/console/finance/write-offs".to_owned(),
        "/console/finance/write-offs?status=flagged&sort=largest&min=1&age=7".to_owned(),
        "/console/finance/aging".to_owned(),
        format!("/console/finance/aging/promises?bucket=1_30&store={store}"),
        "/console/finance/reports?group=incident_cause".to_owned(),
        "/console/finance/reports.csv?group=kind".to_owned(),
        "/console/finance/periods".to_owned(),
        "/console/finance/periods/2026-01".to_owned(),
        "/console/finance/periods/2026-01/journal.csv".to_owned(),
        "/console/value".to_owned(),
        "/console/audit?entity_type=customer".to_owned(),
        "/console/audit/verify".to_owned(),
        "/console/admin".to_owned(),
        "/console/admin/policy".to_owned(),
        "/console/admin/policy/diff".to_owned(),
        "/console/admin/events".to_owned(),
        "/console/admin/ledger".to_owned(),
    ];
    (store, customer, pages)
}

async fn console_pages_follow_the_role_table_and_gets_change_nothing(app: TestApp) {
    let (_, _, pages) = world(&app).await;
    let needs = |path: &str| -> Option<goodwill::domain::roles::Permission> {
        use goodwill::domain::roles::Permission as P;
        Some(match path.split('?').next().unwrap() {
            "/console" => return None,
            "/console/approvals" => P::GesturesApprove,
            p if p.ends_with("/record") => P::GesturesRequest,
            p if p.starts_with("/console/customers") => P::CustomersRead,
            p if p.starts_with("/console/gestures") => P::GesturesRead,
            "/console/incidents/new" => P::IncidentsWrite,
            p if p.starts_with("/console/incidents") => P::IncidentsRead,
            "/console/recognitions" => P::RecognitionReport,
            "/console/users" => P::ConsoleUsers,
            p if p.starts_with("/console/finance/aging")
                || p.starts_with("/console/finance/reports") =>
            {
                P::ReportsRead
            }
            p if p.starts_with("/console/finance") => P::FinanceRead,
            "/console/value" => P::ValueRead,
            p if p.starts_with("/console/audit") => P::AuditRead,
            "/console/admin" => P::StaffRead,
            p if p.starts_with("/console/admin/policy") => P::PolicyRead,
            "/console/admin/events" => P::EventsRead,
            "/console/admin/ledger" => P::LedgerRead,
            other => panic!("no rule for {other}"),
        })
    };
    for role in Role::ALL {
        let mut b = Browser::sign_in(&app, &format!("u-{role}"), role, None).await;
        let before = app.counts();
        for path in &pages {
            let p = b.get(path).await;
            match needs(path) {
                Some(perm) if !role.may(perm) => {
                    assert_eq!(p.status, 403, "{role} {path}: {}", p.body);
                }
                Some(_) => assert_eq!(p.status, 200, "{role} {path}: {}", p.body),
                None => assert_eq!(p.status, 303, "{role} {path}"),
            }
            // Every console answer carries its security headers.
            let csp = p.header("content-security-policy").unwrap_or_default();
            assert!(
                csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
                "{path}: {csp}"
            );
            assert_eq!(p.header("x-content-type-options"), Some("nosniff"));
            assert!(p.header("referrer-policy").is_some());
        }
        assert_eq!(app.counts(), before, "{role}: a GET changed something");
    }
    let mut b = Browser::sign_in(&app, "admin", Role::Admin, None).await;
    let p = b.get("/console/nowhere").await;
    assert_eq!(p.status, 404);
    assert!(
        p.body.contains("<html"),
        "an unknown console route is a page, refused"
    );
    // Nothing of a page weighs more than 200 KB (assets included).
    let page = b.get("/console/approvals").await;
    let mut weight = page.body.len();
    for asset in Regex::new(r#"/console/assets/[a-z0-9.]+"#)
        .unwrap()
        .find_iter(&page.body)
    {
        let a = b.get(asset.as_str()).await;
        assert_eq!(a.status, 200);
        assert!(a.header("cache-control").unwrap().contains("immutable"));
        weight += a.body.len();
    }
    assert!(weight < 200 * 1024, "{weight} bytes");
}
both!(console_pages_follow_the_role_table_and_gets_change_nothing);

async fn a_waiver_above_the_limit_waits_for_the_manager_who_decides_it_once(app: TestApp) {
    let a = app.store("A", "USD").await;
    let b_store = app.store("B", "USD").await;
    let customer = app.customer("C-S2").await;
    let cid = customer["id"].as_str().unwrap().to_owned();
    let clerk = app.token_for(app.tenant, "clerk-amy", Role::Clerk, Some(vec![a]));
    let manager = app.token_for(app.tenant, "mgr-x", Role::Manager, Some(vec![a]));
    let post = |tok: String, body: Value| {
        let cid = cid.clone();
        let app = &app;
        async move {
            app.send_to(
                &app.address,
                actix_web::http::Method::POST,
                &format!("/v1/customers/{cid}/gestures"),
                Some(&tok),
                Some(&uuid::Uuid::now_v7().to_string()),
                Some(("application/json", body.to_string().into_bytes())),
            )
            .await
        }
    };
    post(
        manager.clone(),
        json!({"kind": "deferred_payment", "store_id": a, "reason_code": "closing_time", "story": "TV balance",
               "amount": {"amount": "250.00", "currency": "USD"}, "due_on": (app.clock.now().date() + chrono::Duration::days(10)).to_string()}),
    )
    .await
    .expect(201);
    let waiver = post(
        clerk,
        json!({"kind": "balance_waiver", "store_id": a, "reason_code": "staff_error",
               "story": "We forgot the birthday display", "amount": {"amount": "250.00", "currency": "USD"}}),
    )
    .await
    .expect(201);
    assert_eq!(waiver["status"], "pending_approval");
    let wid = waiver["id"].as_str().unwrap().to_owned();
    // The manager of store B sees nothing of it; the two managers of A do.
    let mut other_store = Browser::sign_in(&app, "mgr-b", Role::Manager, Some(vec![b_store])).await;
    let q = other_store.get("/console/approvals").await;
    q.expect(200);
    assert!(!q.body.contains(&wid) && q.body.contains("Nothing is waiting"));
    assert_eq!(
        other_store
            .get(&format!("/console/gestures/{wid}"))
            .await
            .status,
        403
    );
    let mut first = Browser::sign_in(&app, "mgr-one", Role::Manager, Some(vec![a])).await;
    let mut second = Browser::sign_in(&app, "mgr-two", Role::Manager, Some(vec![a])).await;
    // A request above the managers' tier waits for finance: shown to them,
    // read only, never offered.
    let big = post(
        manager.clone(),
        json!({"kind": "service_recovery", "store_id": a, "reason_code": "service_failure",
               "story": "Recreated the whole evening", "amount": {"amount": "1500.00", "currency": "USD"}}),
    )
    .await
    .expect(201);
    assert_eq!(big["status"], "pending_approval");
    let big_id = big["id"].as_str().unwrap();
    let q1 = first.get("/console/approvals").await;
    q1.expect(200);
    assert!(q1.body.contains("Waiting for someone else"), "{}", q1.body);
    assert!(q1.body.contains("$1,500.00") && q1.body.contains("finance or admin"));
    assert!(
        !q1.body
            .contains(&format!("/console/approvals/{big_id}/approve"))
    );
    assert!(
        !other_store
            .get("/console/approvals")
            .await
            .body
            .contains(big_id)
    );
    assert!(q1.body.contains("We forgot the birthday display"));
    assert!(q1.body.contains("$250.00") && q1.body.contains("Customer C-S2"));
    assert!(
        q1.body.contains("Above the requester"),
        "the rule that sent it"
    );
    let q2 = second.get("/console/approvals").await;
    let approve = format!("/console/approvals/{wid}/approve");
    // The second manager approves first...
    let p = second
        .post(
            &approve,
            &[
                ("csrf", &q2.hidden("csrf")),
                ("idempotency_key", &q2.key_of(&approve)),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let done = second.get(p.location()).await;
    assert!(done.body.contains("You approved"), "{}", done.body);
    // ... and the first, a moment later, learns who did, without an error.
    let p = first
        .post(
            &approve,
            &[
                ("csrf", &q1.hidden("csrf")),
                ("idempotency_key", &q1.key_of(&approve)),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let told = first.get(p.location()).await;
    told.expect(200);
    assert!(
        told.body.contains("was approved by mgr-two"),
        "{}",
        told.body
    );
    assert!(told.body.contains("yours was not applied"));
    assert_eq!(
        audit_actions(&app, "gesture.approved").len(),
        1,
        "decided once"
    );
    let g = app
        .get(&format!("/v1/gestures/{wid}"), &app.token(Role::Admin))
        .await
        .expect(200);
    assert_eq!(g["status"], "approved");
    // A clerk has no queue, and a forged decision is refused.
    let mut clerk = Browser::sign_in(&app, "clerk-amy", Role::Clerk, Some(vec![a])).await;
    assert_eq!(clerk.get("/console/approvals").await.status, 403);
    let csrf = clerk.csrf().await;
    let before = app.counts();
    let p = clerk
        .post(
            &format!("/console/approvals/{wid}/reject"),
            &[("csrf", &csrf), ("idempotency_key", "x1"), ("note", "no")],
        )
        .await;
    assert_eq!(p.status, 403);
    assert_eq!(app.counts(), before);
}
both!(a_waiver_above_the_limit_waits_for_the_manager_who_decides_it_once);

async fn forms_show_errors_by_their_fields_and_act_once(app: TestApp) {
    let store = app.store("MS", "USD").await;
    let customer = app.customer("C-1").await;
    let cid = customer["id"].as_str().unwrap().to_owned();
    let mut b = Browser::sign_in(&app, "amy", Role::Clerk, Some(vec![store])).await;
    let form = b
        .get(&format!(
            "/console/customers/{cid}/record?kind=deferred_payment"
        ))
        .await;
    let (csrf, key) = (form.hidden("csrf"), form.hidden("idempotency_key"));
    let action = format!("/console/customers/{cid}/gestures");
    let due = (app.clock.now().date() + chrono::Duration::days(1)).to_string();
    let store_s = store.to_string();
    let with_amount = |amount: &str, key: &str| -> Vec<(String, String)> {
        [
            ("csrf", csrf.as_str()),
            ("idempotency_key", key),
            ("kind", "deferred_payment"),
            ("store_id", store_s.as_str()),
            ("amount", amount),
            ("due_on", due.as_str()),
            ("reason_code", "closing_time"),
            ("story", "Remedy for her child; pay tomorrow"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    };
    let before = app.counts();
    let bad = b.post_fields(&action, &with_amount("10.955", &key)).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let amount_err = Regex::new(r#"(?s)id="amount-err" role="alert">([^<]*)<"#).unwrap();
    let msg = amount_err
        .captures(&bad.body)
        .expect("an error next to the amount")[1]
        .to_owned();
    assert!(msg.contains("decimal") || msg.contains("2"), "{msg}");
    assert!(
        bad.body.contains("Remedy for her child; pay tomorrow"),
        "what was typed stays"
    );
    assert!(bad.body.contains(r#"value="10.955""#));
    assert_eq!(app.counts(), before, "nothing written");
    // The page comes back with a new key; a double submit of it acts once.
    let key2 = bad.hidden("idempotency_key");
    assert_ne!(key2, key);
    let one = b.post_fields(&action, &with_amount("10.95", &key2)).await;
    let two = b.post_fields(&action, &with_amount("10.95", &key2)).await;
    assert_eq!(
        (one.status, two.status),
        (303, 303),
        "{} {}",
        one.body,
        two.body
    );
    assert_eq!(one.location(), two.location(), "the same gesture");
    let list = app
        .get(
            &format!("/v1/gestures?customer_id={cid}"),
            &app.token(Role::Admin),
        )
        .await
        .expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let page = b.get(one.location()).await;
    assert!(
        page.body.contains("Deferred payment $10.95"),
        "{}",
        page.body
    );
    // Paid the next morning, at the counter (in a new session: last
    // night's ended while the store was closed).
    app.clock.advance(chrono::Duration::hours(14));
    let p = b.get(&format!("/console/customers/{cid}")).await;
    assert!(p.location().contains("why=expired"), "{}", p.location());
    let mut b = Browser::sign_in(&app, "amy", Role::Clerk, Some(vec![store])).await;
    let page = b.get(&format!("/console/customers/{cid}")).await;
    let gid = list["data"][0]["id"].as_str().unwrap();
    let pay = format!("/console/gestures/{gid}/payments");
    let p = b
        .post(
            &pay,
            &[
                ("csrf", &page.hidden("csrf")),
                ("idempotency_key", &page.key_of(&pay)),
                ("amount", "10.95"),
                ("store_id", &store.to_string()),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let after = b.get(p.location()).await;
    assert!(after.body.contains("Payment of $10.95 recorded"));
    assert!(after.body.contains("No open promises"));
    let g = app
        .get(&format!("/v1/gestures/{gid}"), &app.token(Role::Admin))
        .await
        .expect(200);
    assert_eq!(g["status"], "settled");
}
both!(forms_show_errors_by_their_fields_and_act_once);

async fn an_admin_makes_links_and_ends_sessions(app: TestApp) {
    let store = app.store("MS", "USD").await;
    let mut admin = Browser::sign_in(&app, "admin", Role::Admin, None).await;
    let page = admin.get("/console/users").await;
    page.expect(200);
    let action = "/console/users/links";
    let store_s = store.to_string();
    let p = admin
        .post(
            action,
            &[
                ("csrf", &page.hidden("csrf")),
                ("idempotency_key", &page.key_of(action)),
                ("subject", "amy"),
                ("role", "clerk"),
                ("stores", &store_s),
                ("ttl", "15m"),
            ],
        )
        .await;
    p.expect(200);
    let link = Regex::new(r"<code>(http://[^<]+/console/sign-in/[A-Za-z0-9_-]+)</code>")
        .unwrap()
        .captures(&p.body)
        .expect("the link is shown once")[1]
        .to_owned();
    let mut amy = Browser::new(&app);
    assert_eq!(amy.post(&link, &[]).await.status, 303);
    amy.get("/console/customers").await.expect(200);
    assert_eq!(
        amy.get("/console/users").await.status,
        403,
        "a clerk has no users page"
    );
    // A bad role is named; nothing is made.
    let p = admin
        .post(
            action,
            &[
                ("csrf", &page.hidden("csrf")),
                ("idempotency_key", "another"),
                ("subject", "x"),
                ("role", "owner"),
                ("ttl", "15m"),
            ],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("unknown role"), "{}", p.body);
    // The admin ends Amy's session: her next page is the sign-in page.
    let page = admin.get("/console/users").await;
    let revoke = Regex::new(r#"action="(/console/users/sessions/[0-9a-f-]+/revoke)""#)
        .unwrap()
        .captures(&page.body)
        .expect("Amy's session has an End button")[1]
        .to_owned();
    let p = admin
        .post(
            &revoke,
            &[
                ("csrf", &page.hidden("csrf")),
                ("idempotency_key", "end-amy"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let p = amy.get("/console/customers").await;
    assert!(p.location().contains("why=ended"), "{}", p.location());
    assert_eq!(audit_actions(&app, "console.session_revoked").len(), 1);
    assert_eq!(audit_actions(&app, "console.link_created").len(), 2);
}
both!(an_admin_makes_links_and_ends_sessions);
