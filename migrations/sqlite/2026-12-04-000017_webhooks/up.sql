-- Webhooks: endpoints a tenant registers, one delivery per (endpoint, feed
-- event) fanned out after the event committed, and every attempt made.

CREATE TABLE webhook_endpoints (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    id               TEXT NOT NULL,
    url              TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    description      TEXT NOT NULL CHECK (length(description) <= 500),
    event_types      TEXT NULL,
    enabled          BOOLEAN NOT NULL,
    secret           TEXT NOT NULL,
    previous_secret  TEXT NULL,
    previous_until   TIMESTAMP NULL,
    feed_cursor      TEXT NULL,
    failing_since    TIMESTAMP NULL,
    disabled_reason  TEXT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
    tenant_id        TEXT NOT NULL,
    id               TEXT NOT NULL,
    endpoint_id      TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL CHECK (attempts >= 0),
    next_attempt_at  TIMESTAMP NOT NULL,
    last_status      INTEGER NULL,
    created_at       TIMESTAMP NOT NULL,
    delivered_at     TIMESTAMP NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, endpoint_id, event_id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (tenant_id, endpoint_id, id);

CREATE TABLE webhook_attempts (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    delivery_id  TEXT NOT NULL,
    at           TIMESTAMP NOT NULL,
    status       INTEGER NULL,
    latency_ms   INTEGER NOT NULL,
    response     TEXT NULL,
    error        TEXT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id)
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (tenant_id, delivery_id, id);
