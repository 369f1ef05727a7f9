//! The route table: every route the service serves, with the permission it needs.
//!
//! The app is built from this table alone ([`configure`]), and the [`Caller`]
//! extractor looks the permission up here at request time, so a handler mounted
//! any other way cannot authenticate and is never served.
//!
//! [`Caller`]: super::Caller

use std::sync::LazyLock;

use actix_web::http::Method;
use actix_web::web;

use super::{
    approvals, audit, customers, events, finance, gestures, incidents, ledger, lifecycle, ops,
    policy, reading, reports, sales, staff, stores, value, webhooks,
};
use crate::domain::roles::Permission;
use crate::http::AppError;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No token: health, readiness, metrics, the OpenAPI document.
    Public,
    /// A token whose role holds this permission.
    Requires(Permission),
    /// A token whose role holds this permission and that holds every store
    /// (no `stores` claim): the route acts on, or reads, the whole tenant at
    /// once (its policy, its months, its chart of accounts, every chain of its
    /// audit trail), which a token confined to some stores may not.
    TenantWide(Permission),
}

impl Access {
    /// The permission the route requires (`None`: public).
    pub(crate) fn permission(self) -> Option<Permission> {
        match self {
            Access::Public => None,
            Access::Requires(p) | Access::TenantWide(p) => Some(p),
        }
    }
}

/// One route.
pub struct Endpoint {
    /// The method.
    pub method: Method,
    /// The path pattern, as actix matches it (`/v1/stores/{id}`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Builds the actix route (method guard and handler).
    pub route: fn() -> actix_web::Route,
}

fn ep(
    method: Method,
    path: &'static str,
    access: Access,
    route: fn() -> actix_web::Route,
) -> Endpoint {
    Endpoint {
        method,
        path,
        access,
        route,
    }
}

use Access::{Public, Requires, TenantWide};
use Permission as P;

/// Every route, in the order the app registers them.
pub static ENDPOINTS: LazyLock<Vec<Endpoint>> = LazyLock::new(|| {
    vec![
        ep(Method::GET, "/healthz", Public, || {
            web::get().to(ops::healthz)
        }),
        ep(Method::GET, "/readyz", Public, || {
            web::get().to(ops::readyz)
        }),
        ep(Method::GET, "/metrics", Public, || {
            web::get().to(ops::metrics)
        }),
        ep(Method::GET, "/v1/openapi.json", Public, || {
            web::get().to(ops::openapi)
        }),
        ep(
            Method::POST,
            "/v1/stores",
            TenantWide(P::StoresWrite),
            || web::post().to(stores::create),
        ),
        ep(Method::GET, "/v1/stores", Requires(P::StoresRead), || {
            web::get().to(stores::list)
        }),
        ep(
            Method::GET,
            "/v1/stores/{id}",
            Requires(P::StoresRead),
            || web::get().to(stores::get),
        ),
        ep(Method::POST, "/v1/staff", Requires(P::StaffWrite), || {
            web::post().to(staff::create)
        }),
        ep(Method::GET, "/v1/staff", Requires(P::StaffRead), || {
            web::get().to(staff::list)
        }),
        ep(
            Method::GET,
            "/v1/staff/{id}",
            Requires(P::StaffRead),
            || web::get().to(staff::get),
        ),
        ep(
            Method::POST,
            "/v1/customers",
            Requires(P::CustomersWrite),
            || web::post().to(customers::create),
        ),
        // By the POS's reference: before the `{id}` routes, so a reference
        // such as `summary` is never taken for a customer id's sub-resource.
        ep(
            Method::GET,
            "/v1/customers/by-ref/{external_ref}",
            Requires(P::CustomersRead),
            || web::get().to(customers::get_by_ref),
        ),
        ep(
            Method::GET,
            "/v1/customers/by-ref/{external_ref}/summary",
            Requires(P::CustomersRead),
            || web::get().to(gestures::summary_by_ref),
        ),
        ep(
            Method::POST,
            "/v1/customers/by-ref/{external_ref}/gestures",
            Requires(P::GesturesRequest),
            || web::post().to(gestures::create_by_ref),
        ),
        ep(
            Method::POST,
            "/v1/customers/by-ref/{external_ref}/payments",
            Requires(P::PaymentsRecord),
            || web::post().to(lifecycle::pay_by_ref),
        ),
        ep(
            Method::POST,
            "/v1/customers/by-ref/{external_ref}/credit/redemptions",
            Requires(P::RedemptionsRecord),
            || web::post().to(lifecycle::redeem_by_ref),
        ),
        ep(
            Method::GET,
            "/v1/customers",
            Requires(P::CustomersRead),
            || web::get().to(customers::list),
        ),
        ep(
            Method::GET,
            "/v1/customers/{id}",
            Requires(P::CustomersRead),
            || web::get().to(customers::get),
        ),
        ep(
            Method::PATCH,
            "/v1/customers/{id}",
            Requires(P::CustomersWrite),
            || web::patch().to(customers::update),
        ),
        ep(
            Method::POST,
            "/v1/customers/{id}/gestures",
            Requires(P::GesturesRequest),
            || web::post().to(gestures::create),
        ),
        ep(
            Method::GET,
            "/v1/customers/{id}/summary",
            Requires(P::CustomersRead),
            || web::get().to(gestures::summary),
        ),
        ep(
            Method::GET,
            "/v1/gestures",
            Requires(P::GesturesRead),
            || web::get().to(gestures::list),
        ),
        ep(
            Method::GET,
            "/v1/gestures/{id}",
            Requires(P::GesturesRead),
            || web::get().to(reading::gesture_detail),
        ),
        ep(
            Method::GET,
            "/v1/ledger/check",
            TenantWide(P::LedgerRead),
            || web::get().to(ledger::check),
        ),
        ep(
            Method::POST,
            "/v1/incidents",
            Requires(P::IncidentsWrite),
            || web::post().to(incidents::create),
        ),
        ep(
            Method::GET,
            "/v1/incidents",
            Requires(P::IncidentsRead),
            || web::get().to(incidents::list),
        ),
        ep(
            Method::GET,
            "/v1/incidents/{id}",
            Requires(P::IncidentsRead),
            || web::get().to(incidents::get),
        ),
        ep(
            Method::POST,
            "/v1/gestures/{id}/payments",
            Requires(P::PaymentsRecord),
            || web::post().to(lifecycle::pay),
        ),
        ep(
            Method::POST,
            "/v1/gestures/{id}/write-off",
            Requires(P::GesturesRequest),
            || web::post().to(lifecycle::write_off),
        ),
        ep(
            Method::POST,
            "/v1/gestures/{id}/reversal",
            Requires(P::Reversals),
            || web::post().to(lifecycle::reverse_gesture),
        ),
        ep(
            Method::POST,
            "/v1/payments/{id}/reversal",
            Requires(P::Reversals),
            || web::post().to(lifecycle::reverse_payment),
        ),
        ep(
            Method::POST,
            "/v1/redemptions/{id}/reversal",
            Requires(P::Reversals),
            || web::post().to(lifecycle::reverse_redemption),
        ),
        ep(
            Method::POST,
            "/v1/customers/{id}/credit/redemptions",
            Requires(P::RedemptionsRecord),
            || web::post().to(lifecycle::redeem),
        ),
        ep(
            Method::GET,
            "/v1/customers/{id}/value",
            Requires(P::CustomersRead),
            || web::get().to(value::customer_value),
        ),
        ep(Method::POST, "/v1/sales", Requires(P::SalesRecord), || {
            web::post().to(sales::create)
        }),
        ep(Method::GET, "/v1/sales", Requires(P::SalesRead), || {
            web::get().to(sales::list)
        }),
        ep(
            Method::POST,
            "/v1/sales/batch",
            Requires(P::SalesRecord),
            || web::post().to(sales::batch),
        ),
        ep(
            Method::GET,
            "/v1/sales/{id}",
            Requires(P::SalesRead),
            || web::get().to(sales::get),
        ),
        ep(
            Method::POST,
            "/v1/sales/{id}/refunds",
            Requires(P::SalesRecord),
            || web::post().to(sales::refund),
        ),
        ep(
            Method::POST,
            "/v1/value/model/fit",
            TenantWide(P::ValueFit),
            || web::post().to(value::fit),
        ),
        ep(
            Method::GET,
            "/v1/value/model",
            Requires(P::ValueRead),
            || web::get().to(value::current),
        ),
        ep(
            Method::GET,
            "/v1/value/model/versions",
            Requires(P::ValueRead),
            || web::get().to(value::versions),
        ),
        ep(
            Method::GET,
            "/v1/value/model/versions/{version}",
            Requires(P::ValueRead),
            || web::get().to(value::version),
        ),
        ep(
            Method::GET,
            "/v1/customers/{id}/timeline",
            Requires(P::CustomersRead),
            || web::get().to(reading::timeline),
        ),
        ep(
            Method::GET,
            "/v1/customers/{id}/entries",
            Requires(P::CustomersRead),
            || web::get().to(reading::customer_entries),
        ),
        ep(
            Method::GET,
            "/v1/ledger/entries",
            Requires(P::LedgerRead),
            || web::get().to(reading::ledger_entries),
        ),
        ep(Method::GET, "/v1/audit", Requires(P::AuditRead), || {
            web::get().to(audit::list)
        }),
        ep(
            Method::GET,
            "/v1/audit/verify",
            TenantWide(P::AuditRead),
            || web::get().to(audit::verify),
        ),
        ep(
            Method::GET,
            "/v1/audit/checkpoint",
            TenantWide(P::AuditRead),
            || web::get().to(audit::checkpoint),
        ),
        ep(
            Method::GET,
            "/v1/approvals",
            Requires(P::GesturesApprove),
            || web::get().to(approvals::queue),
        ),
        ep(
            Method::POST,
            "/v1/gestures/{id}/approve",
            Requires(P::GesturesApprove),
            || web::post().to(approvals::approve),
        ),
        ep(
            Method::POST,
            "/v1/gestures/{id}/reject",
            Requires(P::GesturesApprove),
            || web::post().to(approvals::reject),
        ),
        ep(
            Method::POST,
            "/v1/gestures/{id}/cancel",
            Requires(P::GesturesCancel),
            || web::post().to(approvals::cancel),
        ),
        ep(
            Method::GET,
            "/v1/gestures/{id}/decision",
            Requires(P::GesturesRead),
            || web::get().to(approvals::decision),
        ),
        ep(Method::GET, "/v1/policy", Requires(P::PolicyRead), || {
            web::get().to(policy::current)
        }),
        ep(
            Method::GET,
            "/v1/reason-codes",
            Requires(P::PolicyRead),
            || web::get().to(policy::reason_codes),
        ),
        ep(
            Method::PUT,
            "/v1/policy",
            TenantWide(P::PolicyWrite),
            || web::put().to(policy::put),
        ),
        ep(
            Method::GET,
            "/v1/policy/versions",
            Requires(P::PolicyRead),
            || web::get().to(policy::versions),
        ),
        ep(
            Method::GET,
            "/v1/policy/versions/{n}",
            Requires(P::PolicyRead),
            || web::get().to(policy::version),
        ),
        ep(
            Method::GET,
            "/v1/policy/proposals",
            TenantWide(P::PolicyRead),
            || web::get().to(policy::proposals),
        ),
        ep(
            Method::GET,
            "/v1/policy/proposals/{id}",
            TenantWide(P::PolicyRead),
            || web::get().to(policy::proposal),
        ),
        ep(
            Method::POST,
            "/v1/policy/proposals/{id}/approve",
            TenantWide(P::PolicyWrite),
            || web::post().to(policy::approve),
        ),
        ep(
            Method::POST,
            "/v1/policy/proposals/{id}/reject",
            TenantWide(P::PolicyWrite),
            || web::post().to(policy::reject),
        ),
        ep(Method::GET, "/v1/events", Requires(P::EventsRead), || {
            web::get().to(events::list)
        }),
        ep(
            Method::POST,
            "/v1/webhook-endpoints",
            TenantWide(P::WebhooksWrite),
            || web::post().to(webhooks::create),
        ),
        ep(
            Method::GET,
            "/v1/webhook-endpoints",
            TenantWide(P::WebhooksRead),
            || web::get().to(webhooks::list),
        ),
        ep(
            Method::GET,
            "/v1/webhook-endpoints/{id}",
            TenantWide(P::WebhooksRead),
            || web::get().to(webhooks::get),
        ),
        ep(
            Method::PATCH,
            "/v1/webhook-endpoints/{id}",
            TenantWide(P::WebhooksWrite),
            || web::patch().to(webhooks::update),
        ),
        ep(
            Method::POST,
            "/v1/webhook-endpoints/{id}/rotate-secret",
            TenantWide(P::WebhooksWrite),
            || web::post().to(webhooks::rotate_secret),
        ),
        ep(
            Method::GET,
            "/v1/webhook-endpoints/{id}/deliveries",
            TenantWide(P::WebhooksRead),
            || web::get().to(webhooks::deliveries),
        ),
        ep(
            Method::GET,
            "/v1/webhook-deliveries/{id}",
            TenantWide(P::WebhooksRead),
            || web::get().to(webhooks::delivery),
        ),
        ep(
            Method::POST,
            "/v1/webhook-deliveries/{id}/retry",
            TenantWide(P::WebhooksWrite),
            || web::post().to(webhooks::retry),
        ),
        ep(
            Method::GET,
            "/v1/finance/write-offs",
            Requires(P::FinanceRead),
            || web::get().to(finance::list),
        ),
        ep(
            Method::POST,
            "/v1/finance/write-offs/{id}/review",
            Requires(P::WriteOffsReview),
            || web::post().to(finance::review),
        ),
        ep(
            Method::POST,
            "/v1/finance/write-offs/review",
            Requires(P::WriteOffsReview),
            || web::post().to(finance::review_batch),
        ),
        ep(
            Method::GET,
            "/v1/finance/journal",
            TenantWide(P::FinanceRead),
            || web::get().to(finance::journal),
        ),
        ep(
            Method::GET,
            "/v1/finance/accounts",
            TenantWide(P::FinanceRead),
            || web::get().to(finance::accounts),
        ),
        ep(
            Method::GET,
            "/v1/finance/account-map",
            Requires(P::FinanceRead),
            || web::get().to(finance::account_map),
        ),
        ep(
            Method::PUT,
            "/v1/finance/account-map",
            TenantWide(P::AccountMapWrite),
            || web::put().to(finance::put_account_map),
        ),
        ep(
            Method::GET,
            "/v1/finance/reports/goodwill",
            Requires(P::ReportsRead),
            || web::get().to(reports::goodwill),
        ),
        ep(
            Method::GET,
            "/v1/reports/recognition",
            Requires(P::RecognitionReport),
            || web::get().to(reports::recognition),
        ),
        ep(
            Method::GET,
            "/v1/finance/aging",
            Requires(P::ReportsRead),
            || web::get().to(finance::aging),
        ),
        ep(
            Method::GET,
            "/v1/finance/aging/promises",
            Requires(P::ReportsRead),
            || web::get().to(finance::aging_promises),
        ),
        ep(
            Method::GET,
            "/v1/finance/periods",
            Requires(P::FinanceRead),
            || web::get().to(finance::periods),
        ),
        ep(
            Method::GET,
            "/v1/finance/periods/{month}",
            Requires(P::FinanceRead),
            || web::get().to(finance::period),
        ),
        ep(
            Method::POST,
            "/v1/finance/periods/{month}/close",
            TenantWide(P::PeriodsClose),
            || web::post().to(finance::close),
        ),
        ep(
            Method::POST,
            "/v1/finance/periods/{month}/reopen",
            TenantWide(P::PeriodsReopen),
            || web::post().to(finance::reopen),
        ),
    ]
});

/// The body limit of a route: 4 MiB for the routes that take many items at
/// once (a batch of sales or reviews, the whole account map), 64 KiB for every
/// other. Each handler's body type states its limit; a test holds this table
/// to them, and every request schema in `api-spec/` to its route's limit.
pub fn body_limit(method: &Method, path: &str) -> usize {
    use super::extract::{BATCH_BODY_LIMIT, BODY_LIMIT};
    match (method.as_str(), path) {
        ("POST", "/v1/sales/batch" | "/v1/finance/write-offs/review")
        | ("PUT", "/v1/finance/account-map") => BATCH_BODY_LIMIT,
        _ => BODY_LIMIT,
    }
}

/// The access rule of a matched route, if the table has one.
pub(crate) fn access(method: &Method, pattern: &str) -> Option<Access> {
    ENDPOINTS
        .iter()
        .find(|e| e.method == method && e.path == pattern)
        .map(|e| e.access)
}

/// The tenant-wide routes as the list printed in `docs/roles.md`.
#[cfg(test)]
pub(crate) fn tenant_wide_markdown() -> String {
    ENDPOINTS
        .iter()
        .filter_map(|e| match e.access {
            Access::TenantWide(p) => {
                Some(format!("- `{} {}` (`{}`)\n", e.method, e.path, p.as_str()))
            }
            _ => None,
        })
        .collect()
}

/// Registers every route of the table, one resource per path; a known path with
/// an unknown method answers 405 with `Allow`.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = Vec::new();
    for e in ENDPOINTS.iter() {
        if !paths.contains(&e.path) {
            paths.push(e.path);
        }
    }
    for path in paths {
        let mut resource = web::resource(path);
        let mut allow: Vec<String> = Vec::new();
        for e in ENDPOINTS.iter().filter(|e| e.path == path) {
            resource = resource.route((e.route)());
            allow.push(e.method.to_string());
            if e.method == Method::GET {
                allow.push(Method::HEAD.to_string());
            }
        }
        resource = resource.default_service(web::to(move || {
            let allow = allow.clone();
            async move { Err::<actix_web::HttpResponse, _>(AppError::MethodNotAllowed { allow }) }
        }));
        cfg.service(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{App, HttpResponse, test as atest};

    async fn sneaky(_caller: super::super::Caller) -> HttpResponse {
        HttpResponse::Ok().body("served")
    }

    #[actix_web::test]
    async fn a_route_missing_from_the_table_is_never_served() {
        let app =
            atest::init_service(App::new().route("/v1/unlisted", web::get().to(sneaky))).await;
        let resp = atest::call_service(
            &app,
            atest::TestRequest::get().uri("/v1/unlisted").to_request(),
        )
        .await;
        assert_eq!(resp.status(), 500);
        let body = atest::read_body(resp).await;
        assert!(!body.starts_with(b"served"));
    }

    #[test]
    fn docs_list_the_tenant_wide_routes_of_the_table() {
        let doc = include_str!("../../docs/roles.md");
        assert!(
            doc.contains(&tenant_wide_markdown()),
            "docs/roles.md is out of date; paste in:\n{}",
            tenant_wide_markdown()
        );
    }

    #[test]
    fn every_endpoint_is_unique() {
        for (i, a) in ENDPOINTS.iter().enumerate() {
            for b in &ENDPOINTS[..i] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} {} twice",
                    a.method,
                    a.path
                );
            }
        }
    }
}
