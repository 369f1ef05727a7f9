-- The attestations are kept aside (see up.sql), never dropped.
CREATE TABLE audit_ledger_kept (
    tenant_id TEXT NOT NULL,
    id        TEXT NOT NULL,
    ledger    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
INSERT INTO audit_ledger_kept (tenant_id, id, ledger)
SELECT tenant_id, id, ledger FROM audit_events WHERE ledger IS NOT NULL;
ALTER TABLE audit_events DROP COLUMN ledger;
