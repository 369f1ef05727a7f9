-- The approval policy as versioned data: each tenant's versions, never edited.
-- Version 1 is the default of INTERFACE.md (written when the tenant is created;
-- a tenant older than this table reads the default as version 1 until its first
-- PUT writes it down).
CREATE TABLE policy_versions (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    version     integer NOT NULL CHECK (version >= 1),
    document    text NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamp NOT NULL,
    PRIMARY KEY (tenant_id, version)
);
CREATE TRIGGER policy_versions_no_update BEFORE UPDATE OR DELETE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION goodwill_refuse_change();
CREATE TRIGGER policy_versions_no_truncate BEFORE TRUNCATE ON policy_versions
    FOR EACH STATEMENT EXECUTE FUNCTION goodwill_refuse_change();

-- Every gesture records the policy version that decided it, and (JSON) the
-- decision: rule, tier, approver roles, budgets consulted, expiry, and once an
-- approver decides, who, when and why. Gestures older than this were decided by
-- the default policy.
ALTER TABLE gestures ADD COLUMN policy_version integer NOT NULL DEFAULT 1;
ALTER TABLE gestures ADD COLUMN approval text NULL;

-- The approval queue, and the rolling budget windows.
CREATE INDEX gestures_by_status ON gestures (tenant_id, status, id);
CREATE INDEX gestures_by_customer_time ON gestures (tenant_id, customer_id, created_at);
CREATE INDEX gestures_by_requester_time ON gestures (tenant_id, requested_by, created_at);
CREATE INDEX gestures_by_store_time ON gestures (tenant_id, store_id, created_at);

-- The event feed (an outbox): written in the same transaction as the change it
-- reports. `txid` is the writing transaction's id; the feed serves only events
-- of transactions older than every transaction still in flight, in (txid, seq)
-- order, so an event that commits late is never skipped by a consumer's cursor.
CREATE TABLE events (
    seq          bigserial PRIMARY KEY,
    txid         bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL UNIQUE,
    type         text NOT NULL,
    entity_type  text NOT NULL,
    entity_id    text NOT NULL,
    data         text NOT NULL,
    created_at   timestamp NOT NULL
);
CREATE INDEX events_feed ON events (tenant_id, txid, seq);
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION goodwill_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION goodwill_refuse_change();
