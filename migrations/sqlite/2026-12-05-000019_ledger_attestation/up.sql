-- See the PostgreSQL migration: each audit event attests the ledger
-- transactions its command posted before it. Reverting keeps the column's
-- values in audit_ledger_kept; running it again puts them back (the refusing
-- trigger is dropped for it and recreated as it was).

ALTER TABLE audit_events ADD COLUMN ledger TEXT NULL;

CREATE TABLE IF NOT EXISTS audit_ledger_kept (
    tenant_id TEXT NOT NULL,
    id        TEXT NOT NULL,
    ledger    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
DROP TRIGGER audit_events_no_update;
UPDATE audit_events
SET ledger = (SELECT k.ledger FROM audit_ledger_kept k
              WHERE k.tenant_id = audit_events.tenant_id AND k.id = audit_events.id)
WHERE EXISTS (SELECT 1 FROM audit_ledger_kept k
              WHERE k.tenant_id = audit_events.tenant_id AND k.id = audit_events.id);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'goodwill: UPDATE on audit_events is not allowed');
END;
DROP TABLE audit_ledger_kept;
