-- Every ledger transaction is attested by the audit event its command appends
-- next: the transactions (their entries) are written into that event, under
-- its hash. Events written before this column existed have none.
--
-- Reverting this migration keeps what the column held in
-- audit_ledger_kept (a hashed value must never be lost); running it again
-- puts it back.

ALTER TABLE audit_events ADD COLUMN ledger text NULL;

CREATE TABLE IF NOT EXISTS audit_ledger_kept (
    tenant_id uuid NOT NULL,
    id        uuid NOT NULL,
    ledger    text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update;
UPDATE audit_events a
SET ledger = k.ledger
FROM audit_ledger_kept k
WHERE k.tenant_id = a.tenant_id AND k.id = a.id;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update;
DROP TABLE audit_ledger_kept;
