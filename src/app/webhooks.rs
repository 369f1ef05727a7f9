//! Webhooks: registering endpoints, changing and disabling them, rotating
//! their secrets, asking for a delivery again; and what the delivery worker
//! records when an endpoint is given up on.

use crate::app::Ctx;
use crate::audit::NewEvent;
use crate::domain::ids::{WebhookDeliveryId, WebhookEndpointId};
use crate::domain::roles::Permission;
use crate::domain::webhook::{Delivery, DeliveryState, Endpoint, ROTATION_OVERLAP};
use crate::error::{Error, ErrorCode};
use crate::sealed::SecretKey;
use crate::store::DbConnection;
use crate::views::webhook::{DeliveryView, EndpointView};

/// A new endpoint, parsed.
pub(crate) struct NewEndpoint {
    /// Where deliveries go (checked by `domain::webhook::parse_url`).
    pub url: String,
    /// What it is for.
    pub description: String,
    /// The event types it wants (`None`: every one).
    pub event_types: Option<Vec<String>>,
    /// Whether it receives deliveries from now on.
    pub enabled: bool,
}

/// A change to an endpoint, parsed: each field, when present, replaces.
#[derive(Default)]
pub(crate) struct EndpointChange {
    /// A new URL.
    pub url: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// New event types (`Some(None)`: every event).
    pub event_types: Option<Option<Vec<String>>>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// Registers an endpoint (`webhook_endpoint.created`). Its deliveries begin
/// with the next event of the feed; the secret is made here and shown once.
///
/// With a sealing key the database keeps the secret sealed; the endpoint
/// returned holds it in the clear, to be shown this once.
pub(crate) fn register_endpoint(
    conn: &mut DbConnection,
    ctx: &Ctx,
    new: NewEndpoint,
    key: Option<&SecretKey>,
) -> Result<Endpoint, Error> {
    ctx.require(Permission::WebhooksWrite)?;
    ctx.require_tenant_wide()?;
    let secret = crate::webhooks::new_secret().map_err(Error::internal)?;
    let endpoint = Endpoint {
        tenant: ctx.tenant,
        id: WebhookEndpointId::new(),
        url: new.url,
        description: new.description,
        event_types: new.event_types,
        enabled: new.enabled,
        secret,
        previous_secret: None,
        previous_until: None,
        feed_cursor: None,
        failing_since: None,
        disabled_reason: None,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    let stored = Endpoint {
        secret: sealed(key, endpoint.id, &endpoint.secret)?,
        ..endpoint.clone()
    };
    crate::store::webhooks::insert_endpoint(conn, &stored)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created(
            "webhook_endpoint.created",
            "webhook_endpoint",
            endpoint.id,
            &EndpointView::from(&endpoint),
        ),
    )?;
    start_after_now(conn, ctx, endpoint)
}

/// Changes an endpoint (`webhook_endpoint.updated`). Enabling a disabled
/// endpoint starts it afresh at the feed's end: what happened while it was
/// off is in `GET /v1/events`, not sent after the fact.
pub(crate) fn change_endpoint(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: WebhookEndpointId,
    change: EndpointChange,
) -> Result<Endpoint, Error> {
    ctx.require(Permission::WebhooksWrite)?;
    ctx.require_tenant_wide()?;
    let (before, after) = alter(conn, ctx, id, "webhook_endpoint.updated", None, |e| {
        if let Some(url) = change.url {
            e.url = url;
        }
        if let Some(d) = change.description {
            e.description = d;
        }
        if let Some(t) = change.event_types {
            e.event_types = t;
        }
        if let Some(enabled) = change.enabled {
            if enabled && !e.enabled {
                e.failing_since = None;
                e.disabled_reason = None;
            }
            e.enabled = enabled;
        }
        Ok(true)
    })?;
    if after.enabled && !before.enabled {
        return start_after_now(conn, ctx, after);
    }
    Ok(after)
}

/// Changes an endpoint under its row lock and records the change as
/// `action` (with `reason`): `f` changes the endpoint, or answers `false`
/// when there is nothing to do (then nothing is written). Answers the
/// endpoint before and after.
fn alter(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: WebhookEndpointId,
    action: &'static str,
    reason: Option<&str>,
    f: impl FnOnce(&mut Endpoint) -> Result<bool, Error>,
) -> Result<(Endpoint, Endpoint), Error> {
    let before = crate::store::webhooks::endpoint(conn, ctx.tenant, id, true)?;
    let mut after = before.clone();
    if !f(&mut after)? {
        return Ok((before, after));
    }
    after.updated_at = ctx.now;
    crate::store::webhooks::save_endpoint(conn, &after)?;
    let mut event = NewEvent::changed(
        action,
        "webhook_endpoint",
        id,
        &EndpointView::from(&before),
        &EndpointView::from(&after),
    );
    if let Some(r) = reason {
        event = event.because(r);
    }
    crate::store::audit::append(conn, ctx, event)?;
    Ok((before, after))
}

/// Places an endpoint's feed cursor at the feed's end, after the event that
/// just recorded its creation or enabling: its deliveries begin with what
/// happens next, never with its own registration.
fn start_after_now(
    conn: &mut DbConnection,
    ctx: &Ctx,
    mut endpoint: Endpoint,
) -> Result<Endpoint, Error> {
    endpoint.feed_cursor = crate::store::webhooks::last_feed_event(conn, ctx.tenant)?;
    if let Some(cursor) = endpoint.feed_cursor {
        crate::store::webhooks::set_cursor(conn, ctx.tenant, endpoint.id, cursor)?;
    }
    Ok(endpoint)
}

/// Makes the endpoint a new signing secret (`webhook_endpoint.secret_rotated`);
/// the one it replaces keeps signing beside it for 24 hours, so receivers
/// can switch without missing a delivery.
pub(crate) fn rotate_secret(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: WebhookEndpointId,
    key: Option<&SecretKey>,
) -> Result<Endpoint, Error> {
    ctx.require(Permission::WebhooksWrite)?;
    ctx.require_tenant_wide()?;
    let plain = crate::webhooks::new_secret().map_err(Error::internal)?;
    let secret = sealed(key, id, &plain)?;
    let (_, mut after) = alter(
        conn,
        ctx,
        id,
        "webhook_endpoint.secret_rotated",
        None,
        |e| {
            e.previous_secret = Some(std::mem::replace(&mut e.secret, secret));
            e.previous_until = Some(ctx.now + ROTATION_OVERLAP);
            Ok(true)
        },
    )?;
    // Shown this once, in the clear.
    after.secret = plain;
    Ok(after)
}

/// An endpoint's secret as the database keeps it: sealed under `key` (bound
/// to the endpoint) when there is one.
fn sealed(key: Option<&SecretKey>, id: WebhookEndpointId, secret: &str) -> Result<String, Error> {
    match key {
        Some(k) => k.seal(&secret_name(id), secret).map_err(Error::internal),
        None => Ok(secret.to_owned()),
    }
}

/// What an endpoint's sealed secrets are bound to.
pub(crate) fn secret_name(id: WebhookEndpointId) -> String {
    format!("webhook_endpoint:{id}")
}

/// Asks for a delivery again, now (`webhook_delivery.retry_requested`): a
/// delivered one is sent once more, a failed one gets one more attempt. Not
/// while its endpoint is disabled.
pub(crate) fn retry_delivery(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: WebhookDeliveryId,
) -> Result<Delivery, Error> {
    ctx.require(Permission::WebhooksWrite)?;
    ctx.require_tenant_wide()?;
    let before = crate::store::webhooks::delivery(conn, ctx.tenant, id, true)?;
    let endpoint = crate::store::webhooks::endpoint(conn, ctx.tenant, before.endpoint_id, false)?;
    if !endpoint.enabled {
        return Err(Error::Conflict {
            code: ErrorCode::EndpointDisabled,
            detail: format!(
                "webhook endpoint {} is disabled; enable it first (PATCH enabled: true)",
                endpoint.id
            ),
            existing_id: None,
        });
    }
    let mut after = before.clone();
    after.state = DeliveryState::Pending;
    after.next_attempt_at = ctx.now;
    crate::store::webhooks::save_delivery(conn, &after)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::changed(
            "webhook_delivery.retry_requested",
            "webhook_delivery",
            id,
            &DeliveryView::from(&before),
            &DeliveryView::from(&after),
        ),
    )?;
    Ok(after)
}

/// The delivery worker gives up on an endpoint (`webhook_endpoint.disabled`,
/// by `system:webhooks`): it answered 410 Gone, or has failed for 5 days.
pub(crate) fn disable_endpoint(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: WebhookEndpointId,
    reason: &str,
) -> Result<(), Error> {
    alter(
        conn,
        ctx,
        id,
        "webhook_endpoint.disabled",
        Some(reason),
        |e| {
            if !e.enabled {
                return Ok(false);
            }
            e.enabled = false;
            e.disabled_reason = Some(reason.to_owned());
            Ok(true)
        },
    )?;
    Ok(())
}
