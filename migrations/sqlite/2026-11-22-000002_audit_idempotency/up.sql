-- The same tables as migrations/postgres. SQLite has no roles to refuse a change
-- with; triggers refuse UPDATE and DELETE of audit rows here too, which stops
-- accidents (an attacker with the file can drop triggers: the hash chains and a
-- kept checkpoint are what detect that).
CREATE TABLE audit_events (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    chain         TEXT NOT NULL,
    seq           BIGINT NOT NULL CHECK (seq >= 1),
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL,
    occurred_at   TIMESTAMP NOT NULL,
    actor_sub     TEXT NOT NULL,
    actor_role    TEXT NOT NULL,
    actor_stores  TEXT NULL,
    action        TEXT NOT NULL,
    entity_type   TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    reason        TEXT NULL,
    request_id    TEXT NOT NULL,
    before_state  TEXT NULL,
    after_state   TEXT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, chain, seq)
);
CREATE INDEX audit_events_by_entity ON audit_events (tenant_id, entity_type, entity_id);
CREATE INDEX audit_events_by_time ON audit_events (tenant_id, occurred_at);

CREATE TABLE audit_chains (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    chain      TEXT NOT NULL,
    length     BIGINT NOT NULL,
    head_hash  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, chain)
);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'goodwill: UPDATE on audit_events is not allowed');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'goodwill: DELETE on audit_events is not allowed');
END;

CREATE TABLE idempotency_keys (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    subject       TEXT NOT NULL,
    key           TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    status        INTEGER NOT NULL,
    content_type  TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, subject, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
