//! The delivery worker: one thread per `serve` instance, with its own event
//! loop, so deliveries never take an HTTP worker's time.
//!
//! Each round it (1) fans the feed out: for every enabled endpoint with new
//! events after its cursor, one delivery row per wanted event, the cursor
//! moved in the same transaction; (2) takes due deliveries (leasing them for
//! the attempt's timeout and 20 s) up to the free delivery slots, and POSTs each in its own task,
//! which records the attempt and what follows from it when the answer (or
//! the timeout) comes, in batches: one transaction records every send that
//! finished meanwhile. A round starts when a command commits (the API wakes
//! the worker), or after the poll interval. Stopping between any two steps
//! loses nothing: a delivery not yet recorded is taken again when its lease
//! runs out, and carries the same `webhook-id`. While the service is busy
//! serving commands (a quarter of its database connections in use), the worker
//! yields: a few deliveries every quarter second, the fan-out once a second;
//! it catches up when the rush is over.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::audit::AuditCtx;
use crate::config::WebhookSettings;
use crate::domain::ids::{
    AuditEventId, TenantId, WebhookAttemptId, WebhookDeliveryId, WebhookEndpointId,
};
use crate::domain::webhook::{
    Attempt, Delivery, DeliveryState, Endpoint, FAILING_LIMIT, Verdict, lease, next_attempt,
    parse_url, verdict,
};
use crate::error::Error;
use crate::http::AppState;
use crate::store::{DbConnection, Pool};

/// Feed events fanned out per endpoint per round.
const FAN_OUT_PAGE: i64 = 500;
/// The same while the service is busy ([`Rush`]): about what the deliveries
/// that go on meanwhile can send.
const BUSY_FAN_OUT_PAGE: i64 = 50;

/// While the service is busy serving commands ([`Rush`]), the worker yields:
/// it takes at most this many deliveries at a time...
const BUSY_BATCH: usize = 8;
/// ...and waits this long between takes, so deliveries go on (at least 32 a
/// second) without taking the CPU and database time the commands need; they
/// catch up at full speed once the rush is over. The fan-out then runs at
/// most once a second, [`BUSY_FAN_OUT_PAGE`] events per endpoint at a time
/// (the rest waits in the feed, where nothing is lost).
const BUSY_PAUSE: Duration = Duration::from_millis(250);
/// The least time between two fan-out rounds while the service is busy.
const BUSY_ROUND_GAP: Duration = Duration::from_secs(1);

/// Whether the service is busy serving commands: a quarter of its database
/// connections or more are in use now, or were in the last second (a rush
/// has gaps between samples). Deliveries happen after the commands that
/// caused them, and never at their expense.
struct Rush {
    last: Cell<Option<Instant>>,
}

/// How long the worker keeps yielding after it last saw the service busy.
const RUSH_LINGER: Duration = Duration::from_secs(1);

impl Rush {
    fn on(&self, pool: &Pool) -> bool {
        let s = pool.state();
        let in_use = usize::try_from(s.connections.saturating_sub(s.idle_connections)).unwrap_or(0);
        let size = usize::try_from(pool.max_size()).unwrap_or(usize::MAX);
        if in_use * 4 >= size.max(4) {
            self.last.set(Some(Instant::now()));
            return true;
        }
        self.last.get().is_some_and(|t| t.elapsed() < RUSH_LINGER)
    }
}
/// The most of an answer's body kept with an attempt.
const RESPONSE_KEPT: usize = 1024;
/// The least time between two fan-out rounds: a busy service wakes the
/// worker on every command, and each round reads every endpoint's place in
/// the feed; at most five rounds a second batch the events of many commands
/// into one transaction per endpoint (deliveries then leave at once).
const MIN_ROUND_GAP: Duration = Duration::from_millis(200);

/// Starts the worker for `state`; it ends by itself once the state is gone
/// (the server stopped) or draining began.
pub(crate) fn start(state: &Arc<AppState>, settings: WebhookSettings) -> std::io::Result<()> {
    let weak = Arc::downgrade(state);
    std::thread::Builder::new()
        .name("webhooks".into())
        .spawn(move || {
            actix_web::rt::System::new().block_on(run(weak, settings));
        })
        .map(|_| ())
}

async fn run(weak: Weak<AppState>, settings: WebhookSettings) {
    // Two loops: fanning the feed out never holds deliveries back, and
    // deliveries never wait for a fan-out round.
    let fanned = Rc::new(tokio::sync::Notify::new());
    let rush = Rc::new(Rush {
        last: Cell::new(None),
    });
    let deliveries = actix_web::rt::spawn(deliver_loop(
        weak.clone(),
        settings,
        fanned.clone(),
        rush.clone(),
    ));
    fan_out_loop(weak, settings, fanned, rush).await;
    let _ = deliveries.await;
}

/// The parts of the state a loop needs for one round, or `None` when the
/// server is gone or draining.
fn round_state(
    weak: &Weak<AppState>,
) -> Option<(Pool, crate::clock::Clock, Arc<tokio::sync::Notify>)> {
    let state = weak.upgrade()?;
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        return None;
    }
    Some((
        state.pool.clone(),
        state.clock.clone(),
        state.webhooks_wake.clone(),
    ))
}

/// The most time between two looks for promises that fell overdue (besides
/// one whenever the day changes).
const OVERDUE_SWEEP_GAP: Duration = Duration::from_secs(60);

/// Fans new feed events out into deliveries, woken when a command commits;
/// first, when the day changed or a minute passed, notes the promises that
/// fell overdue (their `gesture.overdue` events are then fanned out too).
async fn fan_out_loop(
    weak: Weak<AppState>,
    settings: WebhookSettings,
    fanned: Rc<tokio::sync::Notify>,
    rush: Rc<Rush>,
) {
    let mut swept: Option<(chrono::NaiveDate, Instant)> = None;
    while let Some((pool, clock, wake)) = round_state(&weak) {
        let round = Instant::now();
        let today = clock.now().date();
        if swept.is_none_or(|(day, at)| day != today || at.elapsed() >= OVERDUE_SWEEP_GAP) {
            swept = Some((today, Instant::now()));
            let (p, c) = (pool.clone(), clock.clone());
            match actix_web::rt::task::spawn_blocking(move || {
                let mut conn = p.checkout()?;
                crate::app::lifecycle::note_overdue_promises(&mut conn, &c, None)
            })
            .await
            {
                Ok(Ok((noted, _))) if noted > 0 => {
                    tracing::info!(noted, "promises fell overdue");
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "webhooks: looking for overdue promises failed")
                }
                Err(e) => tracing::error!(error = %e, "webhooks: the overdue sweep panicked"),
            }
        }
        let watched = pool.clone();
        let page = if rush.on(&pool) {
            BUSY_FAN_OUT_PAGE
        } else {
            FAN_OUT_PAGE
        };
        let more =
            match actix_web::rt::task::spawn_blocking(move || fan_out(&pool, &clock, page)).await {
                Ok(Ok((made, more))) => {
                    if made {
                        fanned.notify_one();
                    }
                    more
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "webhooks: fan-out failed; trying again next round");
                    false
                }
                Err(e) => {
                    tracing::error!(error = %e, "webhooks: fan-out panicked");
                    false
                }
            };
        let gap = if rush.on(&watched) {
            BUSY_ROUND_GAP
        } else {
            MIN_ROUND_GAP
        };
        actix_web::rt::time::sleep(gap.saturating_sub(round.elapsed())).await;
        if !more {
            let _ = actix_web::rt::time::timeout(settings.poll_interval, wake.notified()).await;
        }
    }
}

/// Takes due deliveries into the free slots and sends each in its own task;
/// woken by a fan-out that made deliveries and by every finished one.
async fn deliver_loop(
    weak: Weak<AppState>,
    settings: WebhookSettings,
    fanned: Rc<tokio::sync::Notify>,
    rush: Rc<Rush>,
) {
    let client = client(&settings);
    // The key that opens sealed endpoint secrets; it does not change while
    // the service runs.
    let key = weak.upgrade().and_then(|s| s.secret_key.clone());
    let in_flight = Rc::new(Cell::new(0usize));
    let freed = Rc::new(tokio::sync::Notify::new());
    let (finished, to_record) = tokio::sync::mpsc::unbounded_channel();
    let recorder = round_state(&weak).map(|(pool, clock, _)| {
        actix_web::rt::spawn(record_loop(pool, clock, to_record, freed.clone()))
    });
    while let Some((pool, clock, _)) = round_state(&weak) {
        let yielding = rush.on(&pool);
        let mut room = settings.concurrency.saturating_sub(in_flight.get());
        if yielding {
            room = room.min(BUSY_BATCH);
        }
        let mut took = 0;
        if room > 0 {
            let p = pool.clone();
            let now = clock.now();
            let until = now + lease(settings.timeout);
            let taken = actix_web::rt::task::spawn_blocking(move || take(&p, now, until, room))
                .await
                .unwrap_or_else(|e| {
                    Err(Error::internal(format!("taking deliveries panicked: {e}")))
                });
            match taken {
                Ok(taken) => {
                    took = taken.len();
                    for (delivery, endpoint) in taken {
                        in_flight.set(in_flight.get() + 1);
                        let (client, clock, freed, in_flight, key, finished) = (
                            client.clone(),
                            clock.clone(),
                            freed.clone(),
                            in_flight.clone(),
                            key.clone(),
                            finished.clone(),
                        );
                        actix_web::rt::spawn(async move {
                            let attempt = send(
                                &client,
                                &settings,
                                &clock,
                                key.as_ref(),
                                &endpoint,
                                &delivery,
                            )
                            .await;
                            // Recorded by the recorder, in a batch; until
                            // then the delivery's lease keeps it from being
                            // taken again.
                            let _ = finished.send((delivery, attempt));
                            in_flight.set(in_flight.get() - 1);
                            freed.notify_one();
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "webhooks: taking due deliveries failed"),
            }
        }
        if yielding {
            actix_web::rt::time::sleep(BUSY_PAUSE).await;
            continue;
        }
        if took == room && room > 0 {
            // Full: more may be due. Go again once a quarter of the slots
            // is free, so one take fills several (a take per finished send
            // would cost a transaction each).
            while in_flight.get() > settings.concurrency - settings.concurrency.div_ceil(4) {
                freed.notified().await;
            }
            continue;
        }
        let wait = async {
            futures_util::future::select(Box::pin(fanned.notified()), Box::pin(freed.notified()))
                .await;
        };
        let _ = actix_web::rt::time::timeout(settings.poll_interval, wait).await;
    }
    // The sends still out finish and are recorded before the worker ends.
    drop(finished);
    if let Some(r) = recorder {
        let _ = r.await;
    }
}

/// The HTTP client: connections only to allowed addresses (see
/// [`super::guard`]), rustls with the web's roots, redirects never followed.
fn client(settings: &WebhookSettings) -> awc::Client {
    let connector = awc::Connector::new()
        .connector(super::guard::GuardedConnector {
            allow_loopback: settings.allow_loopback,
        })
        .rustls_0_23(Arc::new(crate::console::oidc::tls_config()))
        .timeout(settings.timeout)
        .handshake_timeout(settings.timeout);
    awc::Client::builder()
        .connector(connector)
        .timeout(settings.timeout)
        .disable_redirects()
        .add_default_header((
            "user-agent",
            concat!("goodwill-webhooks/", env!("CARGO_PKG_VERSION")),
        ))
        .finish()
}

/// Fans new feed events out to every enabled endpoint, one transaction per
/// tenant: endpoints at the same place in the feed (as a tenant's usually
/// are) share one read of it. Answers whether it made deliveries, and
/// whether an endpoint has more waiting than one round takes.
fn fan_out(pool: &Pool, clock: &crate::clock::Clock, page: i64) -> Result<(bool, bool), Error> {
    let mut conn = pool.checkout()?;
    let mut more = false;
    let mut made = false;
    let places = crate::store::webhooks::enabled_endpoints(&mut conn)?;
    for tenant_places in places.chunk_by(|a, b| a.tenant == b.tenant) {
        let tenant = tenant_places[0].tenant;
        // A look without a transaction first: most rounds find nothing new,
        // and then take no lock.
        let mut cursors: Vec<_> = tenant_places.iter().map(|p| p.cursor).collect();
        cursors.sort();
        cursors.dedup();
        let mut new = false;
        for c in cursors {
            let (events, _) = crate::store::events::page(&mut conn, tenant, None, c, 1)?;
            if !events.is_empty() {
                new = true;
                break;
            }
        }
        if !new {
            continue;
        }
        let ids: Vec<WebhookEndpointId> = tenant_places.iter().map(|p| p.id).collect();
        let (n, m) = crate::store::connection::quiet_tx(&mut conn, |conn| {
            fan_out_tenant(conn, tenant, &ids, clock.now(), page)
        })?;
        made |= n > 0;
        more |= m;
    }
    Ok((made, more))
}

/// One tenant's fan-out: the deliveries made, and whether more events wait.
fn fan_out_tenant(
    conn: &mut DbConnection,
    tenant: TenantId,
    ids: &[WebhookEndpointId],
    now: NaiveDateTime,
    page: i64,
) -> Result<(usize, bool), Error> {
    let mut endpoints = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(ep) = crate::store::webhooks::lock_for_fan_out(conn, tenant, *id)? {
            endpoints.push(ep);
        }
    }
    let mut pages: HashMap<Option<AuditEventId>, (Vec<crate::store::events::FeedEvent>, bool)> =
        HashMap::new();
    let mut deliveries = Vec::new();
    let mut cursors = Vec::new();
    let mut more = false;
    for ep in &endpoints {
        let (events, m) =
            match pages.entry(ep.feed_cursor) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => v.insert(
                    crate::store::events::page(conn, tenant, None, ep.feed_cursor, page)?,
                ),
            };
        more |= *m;
        let Some(last) = events.last().map(|e| e.id) else {
            continue;
        };
        // The body is not copied into each delivery: it is read from the
        // feed (which never changes) when the delivery is sent.
        for e in events.iter().filter(|e| ep.wants(&e.event_type)) {
            deliveries.push(Delivery {
                tenant,
                id: WebhookDeliveryId::new(),
                endpoint_id: ep.id,
                event_id: e.id,
                event_type: e.event_type.clone(),
                payload: String::new(),
                state: DeliveryState::Pending,
                attempts: 0,
                next_attempt_at: now,
                last_status: None,
                created_at: now,
                delivered_at: None,
            });
        }
        cursors.push((ep.id, last));
    }
    crate::store::webhooks::insert_deliveries(conn, &deliveries)?;
    for (id, last) in cursors {
        crate::store::webhooks::set_cursor(conn, tenant, id, last)?;
    }
    Ok((deliveries.len(), more))
}

/// Takes up to `room` due deliveries with their endpoints.
fn take(
    pool: &Pool,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    room: usize,
) -> Result<Vec<(Delivery, Endpoint)>, Error> {
    let mut conn = pool.checkout()?;
    crate::store::connection::quiet_tx(&mut conn, |conn| {
        let mut due = crate::store::webhooks::take_due(
            conn,
            now,
            lease_until,
            i64::try_from(room).unwrap_or(i64::MAX),
        )?;
        crate::store::events::fill_webhook_bodies(conn, &mut due)?;
        let mut endpoints: HashMap<WebhookEndpointId, Endpoint> = HashMap::new();
        let mut out = Vec::with_capacity(due.len());
        for d in due {
            let ep = match endpoints.get(&d.endpoint_id) {
                Some(ep) => ep.clone(),
                None => {
                    let ep =
                        crate::store::webhooks::endpoint(conn, d.tenant, d.endpoint_id, false)?;
                    endpoints.insert(d.endpoint_id, ep.clone());
                    ep
                }
            };
            out.push((d, ep));
        }
        Ok(out)
    })
}

/// What one attempt found.
struct Sent {
    attempt: Attempt,
    retry_after: Option<chrono::Duration>,
}

/// POSTs a delivery, signed with every live secret of its endpoint.
async fn send(
    client: &awc::Client,
    settings: &WebhookSettings,
    clock: &crate::clock::Clock,
    key: Option<&crate::sealed::SecretKey>,
    endpoint: &Endpoint,
    delivery: &Delivery,
) -> Sent {
    let at = clock.now();
    let started = Instant::now();
    let failed = |error: String, started: Instant| Sent {
        attempt: Attempt {
            id: WebhookAttemptId::new(),
            at,
            status: None,
            latency_ms: millis(started),
            response: None,
            error: Some(error),
        },
        retry_after: None,
    };
    // The URL was checked when it was set; the rules may have changed since
    // (the loopback switch turned off).
    if let Err(e) = parse_url("url", &endpoint.url, settings.allow_loopback) {
        return failed(format!("url {}", e.message), started);
    }
    let id = delivery.event_id.to_string();
    let timestamp = at.and_utc().timestamp();
    let body = delivery.payload.clone().into_bytes();
    // Sealed secrets are opened for this signature only.
    let name = crate::app::webhooks::secret_name(endpoint.id);
    let secrets = match endpoint
        .signing_secrets(at)
        .into_iter()
        .map(|s| crate::sealed::reveal(key, &name, s))
        .collect::<Result<Vec<String>, String>>()
    {
        Ok(s) => s,
        Err(e) => return failed(e, started),
    };
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let signature = super::signature(&secrets, &id, timestamp, &body);
    let request = client
        .post(endpoint.url.as_str())
        .insert_header(("content-type", "application/json"))
        .insert_header(("webhook-id", id.as_str()))
        .insert_header(("webhook-timestamp", timestamp.to_string()))
        .insert_header(("webhook-signature", signature));
    let answer = actix_web::rt::time::timeout(settings.timeout, async move {
        let mut response = request
            .send_body(body)
            .await
            .map_err(|e| describe_send(&e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, at));
        let mut kept = Vec::new();
        while kept.len() < RESPONSE_KEPT {
            match futures_util::StreamExt::next(&mut response).await {
                Some(Ok(chunk)) => kept.extend_from_slice(&chunk),
                Some(Err(_)) | None => break,
            }
        }
        kept.truncate(RESPONSE_KEPT);
        Ok::<_, String>((status, retry_after, kept))
    })
    .await;
    match answer {
        Err(_) => failed(
            format!(
                "no answer within {} s (timed out)",
                settings.timeout.as_secs_f64()
            ),
            started,
        ),
        Ok(Err(e)) => failed(e, started),
        Ok(Ok((status, retry_after, kept))) => Sent {
            attempt: Attempt {
                id: WebhookAttemptId::new(),
                at,
                status: Some(i32::from(status)),
                latency_ms: millis(started),
                response: Some(String::from_utf8_lossy(&kept).into_owned()),
                error: None,
            },
            retry_after: matches!(status, 429 | 503).then_some(retry_after).flatten(),
        },
    }
}

fn millis(since: Instant) -> i32 {
    i32::try_from(since.elapsed().as_millis()).unwrap_or(i32::MAX)
}

fn describe_send(e: &awc::error::SendRequestError) -> String {
    match e {
        awc::error::SendRequestError::Connect(awc::error::ConnectError::Resolver(inner)) => {
            format!("not connected: {inner}")
        }
        awc::error::SendRequestError::Connect(c) => format!("could not connect: {c}"),
        awc::error::SendRequestError::Timeout => "no answer in time (timed out)".into(),
        other => format!("request failed: {other}"),
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(v: &str, now: NaiveDateTime) -> Option<chrono::Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<i64>() {
        return (secs >= 0).then(|| chrono::Duration::seconds(secs.min(86_400)));
    }
    chrono::DateTime::parse_from_rfc2822(v)
        .ok()
        .map(|t| (t.naive_utc() - now).max(chrono::Duration::zero()))
}

/// A number in [-1, 1] from the system's randomness.
fn jitter() -> f64 {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        return 0.0;
    }
    f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX) * 2.0 - 1.0
}

/// The most finished sends recorded in one transaction.
const RECORD_BATCH: usize = 200;

/// What follows from a finished send that must be done apart: an endpoint to
/// disable, and why.
type Disable = (TenantId, WebhookEndpointId, String);

/// Records finished sends in one transaction (a commit per send would cost
/// the database as much as the writes it serves): each attempt and what
/// follows from it — delivered, tried again later, or given up; the
/// endpoint's failing streak — then disables, each in its own command, the
/// endpoints that answered 410 or failed for 5 days. Rows are locked in
/// delivery order, so two instances' batches never wait on each other in a
/// circle.
fn record_batch(
    pool: &Pool,
    clock: &crate::clock::Clock,
    mut done: Vec<(Delivery, Sent)>,
) -> Result<(), Error> {
    let mut conn = pool.checkout()?;
    let now = clock.now();
    done.sort_by_key(|(d, _)| d.id);
    let disable = crate::store::connection::quiet_tx(&mut conn, |conn| {
        let mut out: Vec<Disable> = Vec::new();
        for (taken, sent) in &done {
            if let Some(d) = record_one(conn, now, taken, sent)?
                && !out.iter().any(|o| o.1 == d.1)
            {
                out.push(d);
            }
        }
        Ok::<_, Error>(out)
    })?;
    for (tenant, id, reason) in disable {
        let ctx = AuditCtx::system(tenant, "webhooks", clock.clone());
        crate::store::write_tx(&mut conn, |conn| {
            crate::app::webhooks::disable_endpoint(conn, &ctx, id, &reason)
        })?;
        tracing::warn!(endpoint = %id, %reason, "webhooks: endpoint disabled");
    }
    Ok(())
}

/// Records one attempt and what follows from it, in the caller's
/// transaction; the endpoint to disable, if it must be.
fn record_one(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    taken: &Delivery,
    sent: &Sent,
) -> Result<Option<Disable>, Error> {
    let status = sent.attempt.status.and_then(|s| u16::try_from(s).ok());
    let v = verdict(status);
    let mut d = crate::store::webhooks::delivery(conn, taken.tenant, taken.id, true)?;
    crate::store::webhooks::insert_attempt(conn, &d, &sent.attempt)?;
    // A retry asked for meanwhile (or another instance, after the lease ran
    // out) owns the delivery now: the attempt is kept, the state is theirs to
    // set.
    if d.state != DeliveryState::Pending || d.next_attempt_at != taken.next_attempt_at {
        return Ok(None);
    }
    d.attempts += 1;
    d.last_status = sent.attempt.status;
    match v {
        Verdict::Delivered => {
            d.state = DeliveryState::Delivered;
            d.delivered_at = Some(now);
        }
        Verdict::Gone => d.state = DeliveryState::Failed,
        Verdict::Retry => {
            match next_attempt(
                usize::try_from(d.attempts).unwrap_or(usize::MAX),
                now,
                jitter(),
                sent.retry_after,
            ) {
                Some(t) => d.next_attempt_at = t,
                None => d.state = DeliveryState::Failed,
            }
        }
    }
    crate::store::webhooks::save_delivery(conn, &d)?;
    // The endpoint's row is locked (and written) only when its failing
    // streak starts or ends: deliveries of one endpoint do not queue on it
    // while all goes well.
    let mut ep = crate::store::webhooks::endpoint(conn, d.tenant, d.endpoint_id, false)?;
    let streak_changes = match v {
        Verdict::Delivered => ep.failing_since.is_some(),
        Verdict::Retry | Verdict::Gone => ep.failing_since.is_none(),
    };
    if streak_changes {
        ep = crate::store::webhooks::endpoint(conn, d.tenant, d.endpoint_id, true)?;
        let before = ep.failing_since;
        match v {
            Verdict::Delivered => ep.failing_since = None,
            Verdict::Retry | Verdict::Gone => {
                ep.failing_since.get_or_insert(sent.attempt.at);
            }
        }
        if ep.failing_since != before {
            crate::store::webhooks::save_endpoint(conn, &ep)?;
        }
    }
    let reason = match (v, ep.failing_since) {
        (Verdict::Gone, _) => Some("the endpoint answered 410 Gone".to_owned()),
        (_, Some(since)) if ep.enabled && now - since >= FAILING_LIMIT => Some(format!(
            "every delivery failed for 5 days (since {})",
            crate::views::timestamp(&since)
        )),
        _ => None,
    };
    Ok(reason.filter(|_| ep.enabled).map(|r| (ep.tenant, ep.id, r)))
}

/// Records what the sends report, a batch per transaction, as they come;
/// ends when every sender is gone.
async fn record_loop(
    pool: Pool,
    clock: crate::clock::Clock,
    mut finished: tokio::sync::mpsc::UnboundedReceiver<(Delivery, Sent)>,
    recorded: Rc<tokio::sync::Notify>,
) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while finished.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        let items = std::mem::take(&mut batch);
        let (p, c) = (pool.clone(), clock.clone());
        match actix_web::rt::task::spawn_blocking(move || record_batch(&p, &c, items)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(
                error = %e,
                "webhooks: recording attempts failed; their deliveries are taken again after their lease"
            ),
            Err(e) => tracing::error!(error = %e, "webhooks: recording panicked"),
        }
        recorded.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(chrono::Duration::seconds(120))
        );
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 00:10:00 GMT", now),
            Some(chrono::Duration::minutes(10))
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn jitter_stays_in_range() {
        for _ in 0..1000 {
            let j = jitter();
            assert!((-1.0..=1.0).contains(&j));
        }
    }
}
