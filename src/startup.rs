//! Building the HTTP server: the app from the route table, the middleware every
//! request passes through, and the listener (port 0 in tests).

use std::net::TcpListener;
use std::time::Instant;

use actix_web::dev::{Server, Service};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{App, HttpMessage, HttpServer, web};

use crate::auth::Verifier;
use crate::config::Settings;
use crate::error::Error;
use crate::http::AppError;
use crate::http::{AppState, RequestId, routes};
use crate::store::Pool;

/// The request-id header.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    console: web::Data<crate::console::Console>,
}

impl Application {
    /// Binds `settings.bind` and builds the server over `pool`.
    pub fn build(settings: &Settings, pool: Pool, verifier: Verifier) -> std::io::Result<Self> {
        let listener = TcpListener::bind(&settings.bind)?;
        let port = listener.local_addr()?.port();
        let mut state = AppState::new(pool, verifier, settings.clock.clone());
        state.rate_limiter = settings.rate_limit.map(crate::ratelimit::RateLimiter::new);
        state.webhook_settings = settings.webhooks;
        state.body_timeout = std::time::Duration::from_secs(settings.body_timeout_secs);
        state.secret_key = settings.secret_key.clone();
        let state = web::Data::new(state);
        if settings.webhooks.worker {
            crate::webhooks::worker::start(&state.clone().into_inner(), settings.webhooks)?;
        }
        let console = web::Data::new(crate::console::Console::new(
            &settings.console,
            &settings.bind,
            port,
        ));
        let factory_state = state.clone();
        let factory_console = console.clone();
        // Signals are ours to handle (see `run_until_stopped`): readiness must
        // turn 503 before the listener closes.
        let mut server =
            HttpServer::new(move || app(factory_state.clone(), factory_console.clone()))
                .disable_signals()
                .shutdown_timeout(settings.shutdown_timeout_secs);
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        let server = server.listen(listener)?.run();
        Ok(Self {
            port,
            server,
            state,
            console,
        })
    }

    /// The console's public address and settings.
    pub(crate) fn console(&self) -> &crate::console::Console {
        &self.console
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully: readiness turns
    /// 503 at once, new connections are still served for `drain` (so a load
    /// balancer sees the 503 and stops sending), then the listener closes and
    /// in-flight requests get up to the shutdown timeout to finish.
    pub(crate) async fn run_until_stopped(self, drain: std::time::Duration) -> std::io::Result<()> {
        let handle = self.server.handle();
        let state = self.state.clone();
        actix_web::rt::spawn(async move {
            wait_for_shutdown_signal().await;
            state
                .draining
                .store(true, std::sync::atomic::Ordering::SeqCst);
            tracing::info!(
                drain_secs = drain.as_secs_f64(),
                "shutdown signal: draining"
            );
            actix_web::rt::time::sleep(drain).await;
            handle.stop(true).await;
        });
        self.server.await
    }

    /// The server, to spawn in tests.
    pub fn into_server(self) -> Server {
        self.server
    }
}

/// 429 when the rate limit is on and the request's caller (a verified
/// token's tenant and subject, else the client's address) has no token left.
/// The operations endpoints are never limited.
fn rate_limit_refusal(req: &actix_web::dev::ServiceRequest) -> Option<AppError> {
    use crate::ratelimit::{Key, retry_after_secs};
    let state = req.app_data::<web::Data<AppState>>()?;
    let limiter = state.rate_limiter.as_ref()?;
    if matches!(req.path(), "/healthz" | "/readyz" | "/metrics") {
        return None;
    }
    let caller = crate::http::extract::verified_claims(
        &mut req.extensions_mut(),
        req.headers(),
        &state.verifier,
    )
    .ok()
    .map(|c| Key::Caller(c.tenant, c.sub));
    let key = caller.unwrap_or_else(|| {
        Key::Ip(
            req.peer_addr()
                .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip()),
        )
    });
    limiter
        .take(&key, Instant::now())
        .err()
        .map(|wait| AppError::TooManyRequests {
            retry_after: retry_after_secs(wait),
        })
}

async fn wait_for_shutdown_signal() {
    use actix_web::rt::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            futures_util::future::select(Box::pin(term.recv()), Box::pin(int.recv())).await;
        }
        _ => {
            tracing::error!("cannot listen for shutdown signals; stop with SIGKILL");
            futures_util::future::pending::<()>().await;
        }
    }
}

/// The actix app: middleware, extractor configuration, and every route of the
/// route table.
pub(crate) fn app(
    state: web::Data<AppState>,
    console: web::Data<crate::console::Console>,
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
        .app_data(console)
        // A path id that is not an id names nothing: 404, like an unknown id.
        .app_data(
            web::PathConfig::default().error_handler(|_, _| {
                AppError::from(Error::NotFound("no such object".into())).into()
            }),
        )
        .configure(routes::configure)
        .configure(crate::console::routes::configure)
        .default_service(web::to(|req: actix_web::HttpRequest| async move {
            if req.path() == "/console" || req.path().starts_with("/console/") {
                return Err::<actix_web::HttpResponse, actix_web::Error>(
                    crate::console::page::ConsoleError::refused(
                        404,
                        "not_found",
                        "There is no such page in the console.",
                    )
                    .into(),
                );
            }
            Err(AppError::from(Error::NotFound("no such route".into())).into())
        }))
        // The console's security headers on every response under /console.
        .wrap_fn(|req, srv| {
            let console = req
                .app_data::<web::Data<crate::console::Console>>()
                .cloned();
            let is_console = req.path() == "/console" || req.path().starts_with("/console/");
            let fut = srv.call(req);
            async move {
                let mut res = fut.await?;
                if is_console && let Some(c) = console {
                    crate::console::page::secure(res.headers_mut(), &c.content_security_policy());
                }
                Ok(res)
            }
        })
        // Inside the request-id and metrics layer below, so a 429 carries both.
        .wrap_fn(|req, srv| {
            use actix_web::ResponseError;
            use futures_util::future::{Either, FutureExt, ready};
            match rate_limit_refusal(&req) {
                Some(refusal) => {
                    let res = req
                        .into_response(refusal.error_response())
                        .map_into_right_body();
                    Either::Left(ready(Ok(res)))
                }
                None => Either::Right(srv.call(req).map(|r| r.map(|res| res.map_into_left_body()))),
            }
        })
        // The body must arrive within the body timeout of the request's head
        // (a slow-body client is cut off; header-only slowness is actix's
        // client request timeout).
        .wrap_fn(|mut req, srv| {
            if let Some(state) = req.app_data::<web::Data<AppState>>() {
                let limit = state.body_timeout;
                let payload = req.take_payload();
                req.set_payload(crate::http::deadline::within(payload, limit));
            }
            srv.call(req)
        })
        // The request's span (every log line of it, here and on the blocking
        // pool, carries its id) and its closing log line.
        .wrap(tracing_actix_web::TracingLogger::<RequestSpan>::new())
        .wrap_fn(|req, srv| {
            let rid =
                RequestId::from_header(req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()));
            req.extensions_mut().insert(rid.clone());
            req.extensions_mut().insert(Started(Instant::now()));
            let state = req.app_data::<web::Data<AppState>>().cloned();
            let method = req.method().clone();
            let fut = srv.call(req);
            async move {
                let mut res = fut.await?;
                if let Ok(v) = HeaderValue::from_str(&rid.0) {
                    res.headers_mut().insert(REQUEST_ID, v);
                }
                let status = res.status().as_u16();
                let route = res
                    .request()
                    .match_pattern()
                    .unwrap_or_else(|| "unmatched".to_owned());
                let elapsed = res
                    .request()
                    .extensions()
                    .get::<Started>()
                    .map_or_else(Default::default, |s| s.0.elapsed());
                if let Some(state) = state {
                    state
                        .metrics
                        .observe(&route, method.as_str(), status, elapsed.as_secs_f64());
                }
                Ok(res)
            }
        })
        // HEAD is GET without the body (RFC 9110 §9.3.2): routed and answered
        // as GET, headers and all; the HTTP layer knows the request was HEAD
        // and sends no body.
        .wrap_fn(|mut req, srv| {
            if req.method() == actix_web::http::Method::HEAD {
                req.head_mut().method = actix_web::http::Method::GET;
            }
            srv.call(req)
        })
}

/// When the request arrived (for its latency and its log line).
#[derive(Clone, Copy)]
struct Started(Instant);

/// The request's span, named `request` and carrying its `request_id`, method
/// and path; its end logs route, status and microseconds taken.
struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(req: &actix_web::dev::ServiceRequest) -> tracing::Span {
        let rid = req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            request_id = %rid,
            method = %req.method(),
            path = %req.path(),
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        let _entered = span.enter();
        match outcome {
            Ok(res) => {
                let req = res.request();
                let route = req
                    .match_pattern()
                    .unwrap_or_else(|| "unmatched".to_owned());
                let micros = req.extensions().get::<Started>().map_or(0, |s| {
                    u64::try_from(s.0.elapsed().as_micros()).unwrap_or(u64::MAX)
                });
                tracing::info!(%route, status = res.status().as_u16(), micros, "request");
            }
            Err(e) => tracing::error!(error = %e, "request failed"),
        }
    }
}
