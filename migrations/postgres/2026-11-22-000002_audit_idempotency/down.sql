DROP TABLE idempotency_keys;
DROP TABLE audit_chains;
DROP TABLE audit_events;
DROP FUNCTION goodwill_refuse_change();
