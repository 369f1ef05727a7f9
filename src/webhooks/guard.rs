//! The connector deliveries go through: it resolves the endpoint's host
//! itself and connects only to addresses a delivery may go to, so a name
//! that resolves to a private address (or changes to one after the endpoint
//! was registered) is refused at the moment of the connection, not only when
//! the URL was checked.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use actix_service::Service;
use actix_tls::connect::{ConnectError, ConnectInfo, Connection, Connector};
use actix_web::rt::net::TcpStream;
use awc::http::Uri;

use crate::domain::webhook::address_refusal;

/// Resolves, filters out every refused address, then connects.
#[derive(Clone, Copy)]
pub(crate) struct GuardedConnector {
    /// Whether loopback addresses are allowed (tests and development only).
    pub allow_loopback: bool,
}

/// Why a connection was not made.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

impl Service<ConnectInfo<Uri>> for GuardedConnector {
    type Response = Connection<Uri, TcpStream>;
    type Error = ConnectError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    actix_service::always_ready!();

    fn call(&self, req: ConnectInfo<Uri>) -> Self::Future {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let host = req
                .hostname()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            let port = req.port();
            let resolved: Vec<SocketAddr> = match host.parse::<IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, port)],
                Err(_) => {
                    let name = host.clone();
                    actix_web::rt::task::spawn_blocking(move || {
                        (name.as_str(), port)
                            .to_socket_addrs()
                            .map(Iterator::collect)
                    })
                    .await
                    .map_err(|e| ConnectError::Resolver(Box::new(Refused(e.to_string()))))?
                    .map_err(|e| ConnectError::Resolver(Box::new(e)))?
                }
            };
            let mut why = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|a| match address_refusal(a.ip(), allow_loopback) {
                    None => true,
                    Some(w) => {
                        why = Some(format!("{host} resolves to {} ({w})", a.ip()));
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                return Err(ConnectError::Resolver(Box::new(Refused(
                    why.unwrap_or_else(|| format!("{host} resolves to no address")),
                ))));
            }
            // Resolved addresses skip the connector's own resolver.
            Connector::default()
                .service()
                .call(req.set_addrs(allowed))
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn refusal(url: &str, allow_loopback: bool) -> String {
        let uri: Uri = url.parse().unwrap();
        match (GuardedConnector { allow_loopback })
            .call(ConnectInfo::new(uri))
            .await
        {
            Err(ConnectError::Resolver(why)) => why.to_string(),
            Err(other) => panic!("{url}: refused for another reason: {other}"),
            Ok(_) => panic!("{url}: connected"),
        }
    }

    /// The check runs on the addresses a name resolves to, when connecting:
    /// `localhost` is a name like any other here.
    #[actix_web::test]
    async fn names_are_judged_by_the_addresses_they_resolve_to() {
        let why = refusal("https://localhost:9/", false).await;
        assert!(
            why.contains("localhost resolves to") && why.contains("loopback"),
            "{why}"
        );
    }

    #[actix_web::test]
    async fn literal_private_addresses_are_never_connected_to() {
        for url in [
            "http://10.0.0.1/",
            "http://169.254.169.254/",
            "http://[::1]:9/",
            "http://[fd00::1]/",
            "http://100.64.1.1/",
        ] {
            let why = refusal(url, false).await;
            assert!(why.contains("resolves to"), "{url}: {why}");
        }
        let why = refusal("http://10.0.0.1/", true).await;
        assert!(
            why.contains("private"),
            "the switch opens loopback only: {why}"
        );
    }
}
