-- See the PostgreSQL migration: the stores an audit or feed event concerns,
-- for the store-scoped reads; filled in once for existing rows (the refusing
-- triggers are dropped for it and recreated as they were).
ALTER TABLE audit_events ADD COLUMN store_ids TEXT NULL;
ALTER TABLE events ADD COLUMN store_ids TEXT NULL;

DROP TRIGGER audit_events_no_update;
UPDATE audit_events
SET store_ids = COALESCE(
        json_extract(COALESCE(after_state, before_state), '$.store_id'),
        (SELECT group_concat(value, ',') FROM (
            SELECT value FROM json_each(COALESCE(after_state, before_state), '$.store_ids') ORDER BY value)))
WHERE json_valid(COALESCE(after_state, before_state))
  AND json_type(COALESCE(after_state, before_state)) = 'object';
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'goodwill: UPDATE on audit_events is not allowed');
END;

DROP TRIGGER events_no_update;
UPDATE events
SET store_ids = COALESCE(
        json_extract(data, '$.store_id'),
        (SELECT group_concat(value, ',') FROM (
            SELECT value FROM json_each(data, '$.store_ids') ORDER BY value)))
WHERE json_valid(data) AND json_type(data) = 'object';
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'goodwill: UPDATE on events is not allowed');
END;
