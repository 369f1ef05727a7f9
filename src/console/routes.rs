//! The console's route table: every page and form, with who may reach it.
//!
//! As for the API, the app is built from this table alone ([`configure`]) and
//! the [`Viewer`](super::auth::Viewer) extractor looks the rule up here at
//! request time: a console handler mounted any other way is never served.
//! Permissions are the role table's ([`crate::domain::roles`]); on top of them,
//! each command checks the store scope and the segregation rules itself.

use std::sync::LazyLock;

use actix_web::http::Method;
use actix_web::web;

use super::{
    admin, analysis, approvals, assets, audit, auth, customers, finance, incidents, oidc, record,
    reports, users, value, webhooks,
};
use crate::domain::roles::Permission;

/// Who may reach a console route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageAccess {
    /// Anyone: the sign-in pages and the static files.
    Public,
    /// Anyone signed in, whatever their role.
    SignedIn,
    /// A signed-in user whose role holds this permission.
    Requires(Permission),
    /// As `Requires`, for a user of every store (no stores of their own):
    /// the page shows or changes the whole tenant at once, as the API's
    /// tenant-wide routes do.
    TenantWide(Permission),
}

/// One console route.
pub struct Page {
    /// The method.
    pub method: Method,
    /// The path pattern, as actix matches it.
    pub path: &'static str,
    /// Who may reach it.
    pub access: PageAccess,
    /// Builds the actix route.
    pub route: fn() -> actix_web::Route,
}

fn page(
    method: Method,
    path: &'static str,
    access: PageAccess,
    route: fn() -> actix_web::Route,
) -> Page {
    Page {
        method,
        path,
        access,
        route,
    }
}

use PageAccess::{Public, Requires, SignedIn, TenantWide};
use Permission as P;

/// Every console route, in the order the app registers them.
pub static PAGES: LazyLock<Vec<Page>> = LazyLock::new(|| {
    vec![
        page(Method::GET, "/console/assets/{name}", Public, || {
            web::get().to(assets::serve)
        }),
        page(Method::GET, "/console/sign-in", Public, || {
            web::get().to(auth::sign_in_page)
        }),
        page(Method::GET, "/console/sign-in/{code}", Public, || {
            web::get().to(auth::link_page)
        }),
        page(Method::POST, "/console/sign-in/{code}", Public, || {
            web::post().to(auth::use_link)
        }),
        page(Method::POST, "/console/oidc/start", Public, || {
            web::post().to(oidc::start)
        }),
        page(Method::GET, "/console/oidc/callback", Public, || {
            web::get().to(oidc::callback)
        }),
        page(Method::GET, "/console", SignedIn, || {
            web::get().to(auth::home)
        }),
        page(Method::POST, "/console/sign-out", SignedIn, || {
            web::post().to(auth::sign_out)
        }),
        page(
            Method::GET,
            "/console/approvals",
            Requires(P::GesturesApprove),
            || web::get().to(approvals::queue),
        ),
        page(
            Method::POST,
            "/console/approvals/{id}/approve",
            Requires(P::GesturesApprove),
            || web::post().to(approvals::approve),
        ),
        page(
            Method::POST,
            "/console/approvals/{id}/reject",
            Requires(P::GesturesApprove),
            || web::post().to(approvals::reject),
        ),
        page(
            Method::POST,
            "/console/approvals/decide",
            Requires(P::GesturesApprove),
            || web::post().to(approvals::decide_many),
        ),
        page(
            Method::GET,
            "/console/customers",
            Requires(P::CustomersRead),
            || web::get().to(customers::search),
        ),
        page(
            Method::GET,
            "/console/customers/{id}",
            Requires(P::CustomersRead),
            || web::get().to(customers::show),
        ),
        page(
            Method::GET,
            "/console/customers/{id}/record",
            Requires(P::GesturesRequest),
            || web::get().to(record::form),
        ),
        page(
            Method::POST,
            "/console/customers/{id}/gestures",
            Requires(P::GesturesRequest),
            || web::post().to(record::submit),
        ),
        page(
            Method::POST,
            "/console/customers/{id}/redemptions",
            Requires(P::RedemptionsRecord),
            || web::post().to(record::redeem),
        ),
        page(
            Method::POST,
            "/console/gestures/{id}/payments",
            Requires(P::PaymentsRecord),
            || web::post().to(record::pay),
        ),
        page(
            Method::GET,
            "/console/gestures/{id}",
            Requires(P::GesturesRead),
            || web::get().to(customers::gesture),
        ),
        page(
            Method::GET,
            "/console/incidents",
            Requires(P::IncidentsRead),
            || web::get().to(incidents::list),
        ),
        page(
            Method::GET,
            "/console/incidents/new",
            Requires(P::IncidentsWrite),
            || web::get().to(incidents::new_form),
        ),
        page(
            Method::POST,
            "/console/incidents",
            Requires(P::IncidentsWrite),
            || web::post().to(incidents::create),
        ),
        page(
            Method::GET,
            "/console/incidents/{id}",
            Requires(P::IncidentsRead),
            || web::get().to(incidents::show),
        ),
        page(
            Method::GET,
            "/console/recognitions",
            Requires(P::RecognitionReport),
            || web::get().to(reports::recognitions),
        ),
        page(
            Method::GET,
            "/console/finance/write-offs",
            Requires(P::FinanceRead),
            || web::get().to(finance::write_offs),
        ),
        page(
            Method::POST,
            "/console/finance/write-offs/{id}/review",
            Requires(P::WriteOffsReview),
            || web::post().to(finance::review),
        ),
        page(
            Method::POST,
            "/console/finance/write-offs/review",
            Requires(P::WriteOffsReview),
            || web::post().to(finance::review_batch),
        ),
        page(
            Method::GET,
            "/console/finance/aging",
            Requires(P::ReportsRead),
            || web::get().to(analysis::aging),
        ),
        page(
            Method::GET,
            "/console/finance/aging/promises",
            Requires(P::ReportsRead),
            || web::get().to(analysis::bucket),
        ),
        page(
            Method::GET,
            "/console/finance/reports",
            Requires(P::ReportsRead),
            || web::get().to(analysis::report),
        ),
        page(
            Method::GET,
            "/console/finance/reports.csv",
            Requires(P::ReportsRead),
            || web::get().to(analysis::report_csv),
        ),
        page(
            Method::GET,
            "/console/finance/periods",
            Requires(P::FinanceRead),
            || web::get().to(finance::periods),
        ),
        page(
            Method::GET,
            "/console/finance/periods/{month}",
            Requires(P::FinanceRead),
            || web::get().to(finance::period),
        ),
        page(
            Method::POST,
            "/console/finance/periods/{month}/close",
            TenantWide(P::PeriodsClose),
            || web::post().to(finance::close),
        ),
        page(
            Method::POST,
            "/console/finance/periods/{month}/reopen",
            TenantWide(P::PeriodsReopen),
            || web::post().to(finance::reopen),
        ),
        page(
            Method::GET,
            "/console/finance/periods/{month}/journal.csv",
            TenantWide(P::FinanceRead),
            || web::get().to(finance::journal),
        ),
        page(
            Method::GET,
            "/console/value",
            Requires(P::ValueRead),
            || web::get().to(value::page),
        ),
        page(
            Method::POST,
            "/console/value/fit",
            TenantWide(P::ValueFit),
            || web::post().to(value::fit),
        ),
        page(
            Method::GET,
            "/console/audit",
            Requires(P::AuditRead),
            || web::get().to(audit::history),
        ),
        page(
            Method::GET,
            "/console/audit/verify",
            TenantWide(P::AuditRead),
            || web::get().to(audit::verify),
        ),
        page(
            Method::GET,
            "/console/admin",
            Requires(P::StaffRead),
            || web::get().to(admin::page),
        ),
        page(
            Method::POST,
            "/console/admin/stores",
            TenantWide(P::StoresWrite),
            || web::post().to(admin::add_store),
        ),
        page(
            Method::POST,
            "/console/admin/staff",
            Requires(P::StaffWrite),
            || web::post().to(admin::add_staff),
        ),
        page(
            Method::GET,
            "/console/admin/policy",
            Requires(P::PolicyRead),
            || web::get().to(admin::policy),
        ),
        page(
            Method::POST,
            "/console/admin/policy",
            TenantWide(P::PolicyWrite),
            || web::post().to(admin::save_policy),
        ),
        page(
            Method::GET,
            "/console/admin/policy/diff",
            Requires(P::PolicyRead),
            || web::get().to(admin::policy_diff),
        ),
        page(
            Method::POST,
            "/console/admin/policy/proposals/{id}/{decision}",
            TenantWide(P::PolicyWrite),
            || web::post().to(admin::decide_proposal),
        ),
        page(
            Method::GET,
            "/console/admin/events",
            Requires(P::EventsRead),
            || web::get().to(admin::events),
        ),
        page(
            Method::GET,
            "/console/admin/ledger",
            TenantWide(P::LedgerRead),
            || web::get().to(admin::ledger),
        ),
        page(
            Method::GET,
            "/console/admin/webhooks",
            TenantWide(P::WebhooksRead),
            || web::get().to(webhooks::page),
        ),
        page(
            Method::POST,
            "/console/admin/webhooks",
            TenantWide(P::WebhooksWrite),
            || web::post().to(webhooks::register),
        ),
        page(
            Method::GET,
            "/console/admin/webhooks/{id}",
            TenantWide(P::WebhooksRead),
            || web::get().to(webhooks::endpoint),
        ),
        page(
            Method::POST,
            "/console/admin/webhooks/{id}/enabled",
            TenantWide(P::WebhooksWrite),
            || web::post().to(webhooks::set_enabled),
        ),
        page(
            Method::POST,
            "/console/admin/webhooks/{id}/rotate",
            TenantWide(P::WebhooksWrite),
            || web::post().to(webhooks::rotate),
        ),
        page(
            Method::POST,
            "/console/admin/webhooks/deliveries/{id}/retry",
            TenantWide(P::WebhooksWrite),
            || web::post().to(webhooks::retry),
        ),
        page(
            Method::GET,
            "/console/users",
            Requires(P::ConsoleUsers),
            || web::get().to(users::page),
        ),
        page(
            Method::POST,
            "/console/users/links",
            Requires(P::ConsoleUsers),
            || web::post().to(users::create_link),
        ),
        page(
            Method::POST,
            "/console/users/sessions/{id}/revoke",
            Requires(P::ConsoleUsers),
            || web::post().to(users::revoke),
        ),
    ]
});

/// The access rule of a matched console route, if the table has one.
pub(crate) fn access(method: &Method, pattern: &str) -> Option<PageAccess> {
    PAGES
        .iter()
        .find(|p| p.method == method && p.path == pattern)
        .map(|p| p.access)
}

/// Registers every console route, one resource per path; a known path with
/// another method answers 405 with `Allow`.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = Vec::new();
    for p in PAGES.iter() {
        if !paths.contains(&p.path) {
            paths.push(p.path);
        }
    }
    for path in paths {
        let mut resource = web::resource(path);
        let mut allow: Vec<String> = Vec::new();
        for p in PAGES.iter().filter(|p| p.path == path) {
            resource = resource.route((p.route)());
            allow.push(p.method.to_string());
            if p.method == actix_web::http::Method::GET {
                allow.push("HEAD".to_owned());
            }
        }
        resource = resource.default_service(web::to(move || {
            let allow = allow.join(", ");
            async move {
                actix_web::HttpResponse::MethodNotAllowed()
                    .insert_header(("Allow", allow))
                    .content_type("text/plain; charset=utf-8")
                    .body("method not allowed")
            }
        }));
        cfg.service(resource);
    }
}

/// The route table as the Markdown list printed in `docs/console.md`.
#[cfg(test)]
pub(crate) fn markdown() -> String {
    PAGES
        .iter()
        .map(|p| {
            let who = match p.access {
                Public => "anyone".to_owned(),
                SignedIn => "signed in".to_owned(),
                Requires(perm) => format!("`{}`", perm.as_str()),
                TenantWide(perm) => format!("`{}`, every store", perm.as_str()),
            };
            format!("| `{} {}` | {who} |\n", p.method, p.path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_is_unique_and_under_console() {
        for (i, a) in PAGES.iter().enumerate() {
            assert!(a.path.starts_with("/console"), "{}", a.path);
            for b in &PAGES[..i] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} twice",
                    a.path
                );
            }
        }
    }

    #[test]
    fn docs_list_every_console_route() {
        let doc = include_str!("../../docs/console.md");
        assert!(
            doc.contains(&markdown()),
            "docs/console.md is out of date; paste in:\n{}",
            markdown()
        );
    }
}
