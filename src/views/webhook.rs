//! Webhook endpoints, deliveries and attempts as the API answers them and
//! the audit trail records them. No view ever carries a signing secret: the
//! one answer that does (creation, rotation) adds it beside the view.

use serde::Serialize;

use super::timestamp;
use crate::domain::ids::*;
use crate::domain::webhook::{Attempt, Delivery, Endpoint};

/// An endpoint as the API shows it (and the audit trail records it).
#[derive(Serialize)]
pub(crate) struct EndpointView {
    pub(crate) id: WebhookEndpointId,
    pub(crate) url: String,
    pub(crate) description: String,
    /// `null`: every event.
    pub(crate) event_types: Option<Vec<String>>,
    pub(crate) enabled: bool,
    /// Why the service disabled it (410, or failing for 5 days).
    pub(crate) disabled_reason: Option<String>,
    /// Since when every attempt has failed.
    pub(crate) failing_since: Option<String>,
    /// Until when the secret before the last rotation still signs.
    pub(crate) previous_secret_until: Option<String>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

impl From<&Endpoint> for EndpointView {
    fn from(e: &Endpoint) -> Self {
        Self {
            id: e.id,
            url: e.url.clone(),
            description: e.description.clone(),
            event_types: e.event_types.clone(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone(),
            failing_since: e.failing_since.as_ref().map(timestamp),
            previous_secret_until: e
                .previous_secret
                .as_ref()
                .and(e.previous_until.as_ref())
                .map(timestamp),
            created_at: timestamp(&e.created_at),
            updated_at: timestamp(&e.updated_at),
        }
    }
}

/// An endpoint with its signing secret: the answer of its creation and of a
/// rotation, the only times the secret is shown.
#[derive(Serialize)]
pub(crate) struct EndpointWithSecret {
    #[serde(flatten)]
    pub(crate) endpoint: EndpointView,
    pub(crate) secret: String,
}

/// A delivery as the API shows it.
#[derive(Serialize)]
pub(crate) struct DeliveryView {
    pub(crate) id: WebhookDeliveryId,
    pub(crate) endpoint_id: WebhookEndpointId,
    /// The feed event delivered; also the `webhook-id` header.
    pub(crate) event_id: AuditEventId,
    pub(crate) event_type: String,
    pub(crate) state: &'static str,
    pub(crate) attempts: i32,
    /// When it is next tried (pending only).
    pub(crate) next_attempt_at: Option<String>,
    pub(crate) last_status: Option<i32>,
    pub(crate) created_at: String,
    pub(crate) delivered_at: Option<String>,
    /// The body sent, exactly (only on a single delivery's read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) payload: Option<serde_json::Value>,
    /// Every attempt (only on a single delivery's read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) attempt_log: Option<Vec<AttemptView>>,
}

impl From<&Delivery> for DeliveryView {
    fn from(d: &Delivery) -> Self {
        Self {
            id: d.id,
            endpoint_id: d.endpoint_id,
            event_id: d.event_id,
            event_type: d.event_type.clone(),
            state: d.state.as_str(),
            attempts: d.attempts,
            next_attempt_at: (d.state == crate::domain::webhook::DeliveryState::Pending)
                .then(|| timestamp(&d.next_attempt_at)),
            last_status: d.last_status,
            created_at: timestamp(&d.created_at),
            delivered_at: d.delivered_at.as_ref().map(timestamp),
            payload: None,
            attempt_log: None,
        }
    }
}

impl DeliveryView {
    /// The view with its body and every attempt.
    pub(crate) fn full(d: &Delivery, attempts: &[Attempt]) -> Self {
        Self {
            payload: serde_json::from_str(&d.payload).ok(),
            attempt_log: Some(attempts.iter().map(AttemptView::from).collect()),
            ..Self::from(d)
        }
    }
}

/// An attempt as the API shows it.
#[derive(Serialize)]
pub(crate) struct AttemptView {
    pub(crate) id: WebhookAttemptId,
    pub(crate) at: String,
    pub(crate) status: Option<i32>,
    pub(crate) latency_ms: i32,
    pub(crate) response: Option<String>,
    pub(crate) error: Option<String>,
}

impl From<&Attempt> for AttemptView {
    fn from(a: &Attempt) -> Self {
        Self {
            id: a.id,
            at: timestamp(&a.at),
            status: a.status,
            latency_ms: a.latency_ms,
            response: a.response.clone(),
            error: a.error.clone(),
        }
    }
}
