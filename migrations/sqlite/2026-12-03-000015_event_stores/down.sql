ALTER TABLE events DROP COLUMN store_ids;
ALTER TABLE audit_events DROP COLUMN store_ids;
