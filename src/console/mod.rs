//! The console: the product in a browser, for store managers, clerks at a
//! service desk, finance and administrators, served by the same binary under
//! `/console`.
//!
//! It is a second front end beside the JSON API, and nothing more: its pages
//! read through the same queries and its forms call the same commands of
//! [`crate::app`], under the same role table, store scope, segregation rules,
//! audit trail and idempotency. Pages are rendered on the server from askama
//! templates (`src/console/templates/`); every form is a plain HTML form that
//! works without JavaScript; the one script only spares double clicks.
//!
//! Who is signed in is a database row ([`crate::domain::session`]), found by
//! the hash of an HttpOnly, SameSite=Strict cookie that is sent only under
//! `/console`. Every state-changing request is a POST carrying the session's
//! CSRF token, and it must come from the console's own origin.

pub(crate) mod admin;
pub(crate) mod analysis;
pub(crate) mod approvals;
pub(crate) mod assets;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod charts;
pub(crate) mod customers;
pub(crate) mod finance;
pub(crate) mod form;
pub(crate) mod format;
pub(crate) mod incidents;
pub(crate) mod oidc;
pub(crate) mod page;
pub(crate) mod record;
pub(crate) mod reports;
pub(crate) mod routes;
pub(crate) mod users;
pub(crate) mod value;
pub(crate) mod webhooks;

use crate::config::ConsoleSettings;
use crate::domain::session::Lifetimes;

/// What every console page shares: fixed at start, no request state.
pub(crate) struct Console {
    /// Where browsers reach the service, without a trailing slash
    /// (`http://127.0.0.1:8080`).
    pub public_url: String,
    /// Whether cookies carry `Secure` (everywhere but a loopback bind).
    pub secure_cookies: bool,
    /// How long sessions last.
    pub lifetimes: Lifetimes,
    /// The identity provider, when one is configured.
    pub oidc: Option<oidc::Provider>,
}

impl Console {
    /// The console of a server bound to `bind` (its actual `port`).
    pub(crate) fn new(settings: &ConsoleSettings, bind: &str, port: u16) -> Self {
        let host = bind.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let loopback_bind = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => ip.is_loopback(),
            Err(_) => host == "localhost",
        };
        let shown_host = match host {
            "" | "0.0.0.0" | "::" => "127.0.0.1".to_owned(),
            h if h.contains(':') => format!("[{h}]"),
            h => h.to_owned(),
        };
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{shown_host}:{port}"));
        Self {
            secure_cookies: public_url.starts_with("https://") || !loopback_bind,
            public_url,
            lifetimes: settings.lifetimes,
            oidc: settings.oidc.clone().map(oidc::Provider::new),
        }
    }

    /// The Content-Security-Policy of the console's responses.
    pub(crate) fn content_security_policy(&self) -> actix_web::http::header::HeaderValue {
        let target = self.oidc.as_ref().map(|p| {
            p.authorization_origin()
                .unwrap_or_else(|| origin_of(p.issuer()))
        });
        actix_web::http::header::HeaderValue::from_str(&page::content_security_policy(
            target.as_deref(),
        ))
        .unwrap_or_else(|_| actix_web::http::header::HeaderValue::from_static("default-src 'none'"))
    }

    /// The sign-in link for a code.
    pub(crate) fn sign_in_url(&self, code: &str) -> String {
        format!("{}/console/sign-in/{code}", self.public_url)
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest)),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_binds_get_plain_cookies_and_a_loopback_address() {
        let s = ConsoleSettings::default();
        let c = Console::new(&s, "127.0.0.1:8080", 8080);
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert!(!c.secure_cookies);
        let c = Console::new(&s, "0.0.0.0:8080", 8080);
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert!(
            c.secure_cookies,
            "a public bind sends cookies over TLS only"
        );
        let c = Console::new(&s, "127.0.0.1:0", 41234);
        assert_eq!(
            c.sign_in_url("abc"),
            "http://127.0.0.1:41234/console/sign-in/abc"
        );
        let https = ConsoleSettings {
            public_url: Some("https://gw.example.com".into()),
            ..ConsoleSettings::default()
        };
        let c = Console::new(&https, "127.0.0.1:8080", 8080);
        assert!(c.secure_cookies);
        assert_eq!(c.public_url, "https://gw.example.com");
    }
}
