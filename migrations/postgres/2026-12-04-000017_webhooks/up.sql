-- Webhooks: endpoints a tenant registers, one delivery per (endpoint, feed
-- event) fanned out after the event committed, and every attempt made.

CREATE TABLE webhook_endpoints (
    tenant_id        uuid NOT NULL REFERENCES tenants (id),
    id               uuid NOT NULL,
    url              text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    description      text NOT NULL CHECK (length(description) <= 500),
    event_types      text NULL,
    enabled          boolean NOT NULL,
    secret           text NOT NULL,
    previous_secret  text NULL,
    previous_until   timestamp NULL,
    feed_cursor      uuid NULL,
    failing_since    timestamp NULL,
    disabled_reason  text NULL,
    created_at       timestamp NOT NULL,
    updated_at       timestamp NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
    tenant_id        uuid NOT NULL,
    id               uuid NOT NULL,
    endpoint_id      uuid NOT NULL,
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    payload          text NOT NULL,
    state            text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL CHECK (attempts >= 0),
    next_attempt_at  timestamp NOT NULL,
    last_status      integer NULL,
    created_at       timestamp NOT NULL,
    delivered_at     timestamp NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, endpoint_id, event_id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (tenant_id, endpoint_id, id);

CREATE TABLE webhook_attempts (
    tenant_id    uuid NOT NULL,
    id           uuid NOT NULL,
    delivery_id  uuid NOT NULL,
    at           timestamp NOT NULL,
    status       integer NULL,
    latency_ms   integer NOT NULL,
    response     text NULL,
    error        text NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id)
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (tenant_id, delivery_id, id);
