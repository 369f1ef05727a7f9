-- See the PostgreSQL migration of the same name.
CREATE TABLE policy_versions (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    version     INTEGER NOT NULL CHECK (version >= 1),
    document    TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, version)
);
CREATE TRIGGER policy_versions_no_update BEFORE UPDATE ON policy_versions
BEGIN
    SELECT RAISE(ABORT, 'goodwill: UPDATE on policy_versions is not allowed');
END;
CREATE TRIGGER policy_versions_no_delete BEFORE DELETE ON policy_versions
BEGIN
    SELECT RAISE(ABORT, 'goodwill: DELETE on policy_versions is not allowed');
END;

ALTER TABLE gestures ADD COLUMN policy_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE gestures ADD COLUMN approval TEXT NULL;

CREATE INDEX gestures_by_status ON gestures (tenant_id, status, id);
CREATE INDEX gestures_by_customer_time ON gestures (tenant_id, customer_id, created_at);
CREATE INDEX gestures_by_requester_time ON gestures (tenant_id, requested_by, created_at);
CREATE INDEX gestures_by_store_time ON gestures (tenant_id, store_id, created_at);

-- SQLite runs one write transaction at a time, so the order of insertion is the
-- order of commit: `seq` alone is a safe feed position (`txid` stays 0).
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    txid         BIGINT NOT NULL DEFAULT 0,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    id           TEXT NOT NULL UNIQUE,
    type         TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX events_feed ON events (tenant_id, txid, seq);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'goodwill: UPDATE on events is not allowed');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'goodwill: DELETE on events is not allowed');
END;
