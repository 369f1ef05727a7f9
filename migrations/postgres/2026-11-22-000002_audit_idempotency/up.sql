-- The audit trail: one hash chain per entity (chain = '<entity_type>:<id>'), so
-- writes to different entities never queue behind one row. Each event's hash is
-- SHA-256 over a canonical encoding of every other column, including prev_hash.
CREATE TABLE audit_events (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    id            uuid NOT NULL,
    chain         text NOT NULL,
    seq           bigint NOT NULL CHECK (seq >= 1),
    prev_hash     text NOT NULL,
    hash          text NOT NULL,
    occurred_at   timestamp NOT NULL,
    actor_sub     text NOT NULL,
    actor_role    text NOT NULL,
    actor_stores  text NULL,
    action        text NOT NULL,
    entity_type   text NOT NULL,
    entity_id     text NOT NULL,
    reason        text NULL,
    request_id    text NOT NULL,
    before_state  text NULL,
    after_state   text NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, chain, seq)
);
CREATE INDEX audit_events_by_entity ON audit_events (tenant_id, entity_type, entity_id);
CREATE INDEX audit_events_by_time ON audit_events (tenant_id, occurred_at);

-- The head of each chain: its length and last hash. Appending locks only this
-- chain's row; verification checks it against the events.
CREATE TABLE audit_chains (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    chain      text NOT NULL,
    length     bigint NOT NULL,
    head_hash  text NOT NULL,
    PRIMARY KEY (tenant_id, chain)
);

-- Nothing recorded is edited or deleted: the database itself refuses.
CREATE FUNCTION goodwill_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'goodwill: % on % is not allowed: recorded history is never edited or deleted',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION goodwill_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION goodwill_refuse_change();

-- Idempotency: the response of every request that ran with a key, written in the
-- same transaction as its effect, scoped to (tenant, token sub, key).
CREATE TABLE idempotency_keys (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    subject       text NOT NULL,
    key           text NOT NULL,
    fingerprint   text NOT NULL,
    status        integer NOT NULL,
    content_type  text NOT NULL,
    body          text NOT NULL,
    created_at    timestamp NOT NULL,
    PRIMARY KEY (tenant_id, subject, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
