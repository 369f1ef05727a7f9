//! Building the HTTP server: the app from the route table, the middleware every
//! request passes through, and the listener (port 0 in tests).

use std::net::TcpListener;
use std::time::Instant;

use actix_web::dev::{Server, Service};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{App, HttpMessage, HttpServer, web};

use crate::auth::Verifier;
use crate::config::Settings;
use crate::error::AppError;
use crate::http::{AppState, RequestId, routes};
use crate::store::Pool;

/// The request-id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `settings.bind` and builds the server over `pool`.
    pub fn build(settings: &Settings, pool: Pool, verifier: Verifier) -> std::io::Result<Self> {
        let listener = TcpListener::bind(&settings.bind)?;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState::new(pool, verifier));
        let mut server = HttpServer::new(move || app(state.clone()));
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        let server = server.listen(listener)?.run();
        Ok(Self { port, server })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until the server stops (SIGINT/SIGTERM: graceful shutdown).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// The server, to spawn in tests.
    pub fn into_server(self) -> Server {
        self.server
    }
}

/// The actix app: middleware, extractor configuration, and every route of the
/// route table.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        // A path id that is not an id names nothing: 404, like an unknown id.
        .app_data(
            web::PathConfig::default()
                .error_handler(|_, _| AppError::NotFound("no such object".into()).into()),
        )
        .configure(routes::configure)
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(AppError::NotFound("no such route".into()))
        }))
        .wrap_fn(|req, srv| {
            let rid =
                RequestId::from_header(req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()));
            req.extensions_mut().insert(rid.clone());
            let state = req.app_data::<web::Data<AppState>>().cloned();
            let method = req.method().clone();
            let path = req.path().to_owned();
            let started = Instant::now();
            let fut = srv.call(req);
            async move {
                let mut res = fut.await?;
                if let Ok(v) = HeaderValue::from_str(&rid.0) {
                    res.headers_mut().insert(REQUEST_ID, v);
                }
                let status = res.status().as_u16();
                if let Some(state) = state {
                    state.metrics.count(status);
                }
                tracing::info!(
                    request_id = %rid.0,
                    %method,
                    %path,
                    status,
                    micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                    "request"
                );
                Ok(res)
            }
        })
}
