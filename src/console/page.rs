//! What every console page shares: the layout (navigation, who is signed in,
//! the sign-out form), rendering a template into a response, the security
//! headers, and the pages that say no.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::assets;
use super::auth::Viewer;
use crate::domain::roles::{Permission, Role};
use crate::http::AppError;

/// One entry of the navigation.
pub(crate) struct NavItem {
    /// Where it goes.
    pub href: &'static str,
    /// What it says.
    pub label: &'static str,
    /// Whether it is the page shown.
    pub current: bool,
}

/// The signed-in user, as the top bar shows them.
pub(crate) struct UserBar {
    /// Their `sub`.
    pub subject: String,
    /// Their role.
    pub role: Role,
    /// The CSRF token the sign-out form carries.
    pub csrf: String,
}

/// What the layout template needs.
pub(crate) struct Layout {
    /// The page's title.
    pub title: String,
    /// The stylesheet's hashed name.
    pub css: &'static str,
    /// The script's hashed name.
    pub js: &'static str,
    /// The icon's hashed name.
    pub icon: &'static str,
    /// Who is signed in (none on the sign-in pages).
    pub user: Option<UserBar>,
    /// The navigation the user's role opens.
    pub nav: Vec<NavItem>,
}

/// The sections of the console and the permission each needs.
const SECTIONS: &[(&str, &str, Option<Permission>)] = &[
    (
        "/console/approvals",
        "Approvals",
        Some(Permission::GesturesApprove),
    ),
    (
        "/console/customers",
        "Customers",
        Some(Permission::CustomersRead),
    ),
    (
        "/console/incidents",
        "Incidents",
        Some(Permission::IncidentsRead),
    ),
    (
        "/console/recognitions",
        "Recognitions",
        Some(Permission::RecognitionReport),
    ),
    (
        "/console/finance/write-offs",
        "Write-offs",
        Some(Permission::FinanceRead),
    ),
    (
        "/console/finance/aging",
        "Aging",
        Some(Permission::ReportsRead),
    ),
    (
        "/console/finance/reports",
        "Reports",
        Some(Permission::ReportsRead),
    ),
    (
        "/console/finance/periods",
        "Periods",
        Some(Permission::FinanceRead),
    ),
    ("/console/value", "Value", Some(Permission::ValueRead)),
    ("/console/audit", "Audit", Some(Permission::AuditRead)),
    ("/console/admin", "Admin", Some(Permission::PolicyWrite)),
    ("/console/users", "Users", Some(Permission::ConsoleUsers)),
];

impl Layout {
    /// The layout of a page for a signed-in user; `section` is the path of
    /// the navigation entry to mark current.
    pub(crate) fn signed_in(title: impl Into<String>, viewer: &Viewer, section: &str) -> Self {
        let role = viewer.caller.role;
        Self {
            title: title.into(),
            css: &assets::CSS.name,
            js: &assets::JS.name,
            icon: &assets::ICON.name,
            user: Some(UserBar {
                subject: viewer.caller.subject.clone(),
                role,
                csrf: viewer.csrf.clone(),
            }),
            nav: SECTIONS
                .iter()
                .filter(|(_, _, p)| p.is_none_or(|p| role.may(p)))
                .map(|(href, label, _)| NavItem {
                    href,
                    label,
                    current: *href == section,
                })
                .collect(),
        }
    }

    /// The layout of a page nobody needs to be signed in for.
    pub(crate) fn public(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            css: &assets::CSS.name,
            js: &assets::JS.name,
            icon: &assets::ICON.name,
            user: None,
            nav: Vec::new(),
        }
    }
}

/// A rendered page with `status`: HTML, never cached (it shows a customer's
/// affairs).
pub(crate) fn html(status: StatusCode, t: &impl Template) -> HttpResponse {
    match t.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "a console template failed to render");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("the page could not be rendered; the error has been logged")
        }
    }
}

/// 200 with the page.
pub(crate) fn ok(t: &impl Template) -> HttpResponse {
    html(StatusCode::OK, t)
}

/// 303 to `location` (after a POST: the browser GETs the result).
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The Content-Security-Policy of every console response: nothing inline,
/// nothing from elsewhere, no framing; forms post only to the console (and,
/// when one is configured, to the identity provider it redirects to).
pub(crate) fn content_security_policy(form_target: Option<&str>) -> String {
    let extra = form_target.map(|t| format!(" {t}")).unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'{extra}; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// Adds the console's security headers to a response.
pub(crate) fn secure(headers: &mut actix_web::http::header::HeaderMap, csp: &HeaderValue) {
    headers.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
}

/// A problem as a page shows it: the same status, code, words and fields
/// as the API's problem+json, whether the command just failed or its stored
/// answer was replayed.
#[derive(Clone, Debug, Default)]
pub(crate) struct Problem {
    /// The HTTP status.
    pub status: u16,
    /// The stable code (`store_scope`, `validation_failed`, ...).
    pub code: String,
    /// What went wrong.
    pub detail: String,
    /// The fields at fault, `(field, message)`.
    pub fields: Vec<(String, String)>,
}

impl Problem {
    /// From a problem+json body.
    pub(crate) fn from_json(status: u16, body: &str) -> Self {
        let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        Self {
            status,
            code: s("code"),
            detail: s("detail"),
            fields: v["errors"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|e| {
                            (
                                e["field"].as_str().unwrap_or_default().to_owned(),
                                sentence(e["message"].as_str().unwrap_or_default()),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// From an error, as the API would answer it.
    pub(crate) fn of(e: &AppError) -> Self {
        let (status, body) = crate::http::problem::render(e);
        Self::from_json(status, &body)
    }

    /// The message for `field` (a form field: `amount` also takes what the API
    /// names `amount.amount`, a list's items their list's name).
    pub(crate) fn field(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| form_field(f) == field)
            .map(|(_, m)| m.as_str())
    }

    /// What is not said next to a field, for the banner above the form.
    pub(crate) fn general(&self, form_fields: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        if self.code != "validation_failed" && !self.detail.is_empty() {
            out.push(self.detail.clone());
        }
        for (f, m) in &self.fields {
            if !form_fields.contains(&form_field(f)) {
                if f.is_empty() {
                    out.push(m.clone());
                } else {
                    out.push(format!("{}: {m}", super::format::words(form_field(f))));
                }
            }
        }
        if out.is_empty() && self.code == "validation_failed" {
            out.push("Some fields need another look: see below.".into());
        }
        out
    }
}

/// A message as a sentence: its first letter capitalised.
fn sentence(m: &str) -> String {
    let mut c = m.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The form field an API field path belongs to: `amount.amount` → `amount`,
/// `staff_ids[1]` → `staff_ids`.
pub(crate) fn form_field(api_field: &str) -> &str {
    let base = api_field.split('[').next().unwrap_or(api_field);
    base.split('.').next().unwrap_or(base)
}

/// The page of a refusal or an error.
#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub(crate) layout: Layout,
    pub(crate) heading: String,
    pub(crate) detail: String,
    pub(crate) back: Option<String>,
}

/// Why a console request is not answered with its page.
#[derive(Debug)]
pub(crate) enum ConsoleError {
    /// Not signed in (or no longer): to the sign-in page, then back to `next`.
    SignIn {
        /// Where to go after signing in.
        next: String,
        /// Why the session no longer counts, for the sign-in page.
        why: Option<&'static str>,
    },
    /// A refusal or failure, shown as a page with its status.
    Refused(Problem),
}

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SignIn { .. } => f.write_str("not signed in"),
            Self::Refused(p) => write!(f, "{} {}: {}", p.status, p.code, p.detail),
        }
    }
}

impl From<AppError> for ConsoleError {
    fn from(e: AppError) -> Self {
        Self::Refused(Problem::of(&e))
    }
}

impl From<crate::error::Error> for ConsoleError {
    fn from(e: crate::error::Error) -> Self {
        AppError::from(e).into()
    }
}

impl ConsoleError {
    /// A refusal with its own words.
    pub(crate) fn refused(status: u16, code: &str, detail: impl Into<String>) -> Self {
        Self::Refused(Problem {
            status,
            code: code.into(),
            detail: detail.into(),
            fields: Vec::new(),
        })
    }
}

fn heading(p: &Problem) -> &'static str {
    match (p.status, p.code.as_str()) {
        (403, "csrf") => "This form cannot be sent",
        (403, "store_scope") => "Not one of your stores",
        (403, _) => "Not allowed",
        (404, _) => "Not found",
        (409, _) => "Already done",
        (400 | 413 | 415 | 422, _) => "That did not work",
        (503, _) => "Busy for a moment",
        _ => "Something went wrong",
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignIn { .. } => StatusCode::SEE_OTHER,
            Self::Refused(p) => {
                StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::SignIn { next, why } => {
                let mut q = vec![("next", next.as_str())];
                if let Some(w) = why {
                    q.push(("why", w));
                }
                let query = serde_urlencoded::to_string(q).unwrap_or_default();
                see_other(&format!("/console/sign-in?{query}"))
            }
            Self::Refused(p) => html(
                self.status_code(),
                &ErrorPage {
                    layout: Layout::public(heading(p)),
                    heading: heading(p).into(),
                    detail: p.detail.clone(),
                    back: Some("/console".into()),
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_fields_belong_to_form_fields() {
        assert_eq!(form_field("amount.amount"), "amount");
        assert_eq!(form_field("staff_ids[2]"), "staff_ids");
        assert_eq!(form_field("story"), "story");
    }

    #[test]
    fn problems_read_back_from_their_json() {
        let p = Problem::from_json(
            422,
            r#"{"code":"validation_failed","detail":"x","errors":[{"field":"amount.amount","message":"must be a decimal"}]}"#,
        );
        assert_eq!(p.field("amount"), Some("Must be a decimal"));
        assert_eq!(
            p.general(&["amount"]),
            vec!["Some fields need another look: see below.".to_owned()]
        );
        assert_eq!(p.general(&[]), vec!["Amount: Must be a decimal".to_owned()]);
    }

    #[test]
    fn the_policy_allows_nothing_inline() {
        let csp = content_security_policy(None);
        assert!(csp.contains("script-src 'self';"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(
            content_security_policy(Some("https://idp.example"))
                .contains("form-action 'self' https://idp.example;")
        );
    }
}
