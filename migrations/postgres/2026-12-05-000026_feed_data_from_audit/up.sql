-- A feed event is its audit event's announcement: same id, type and entity,
-- and the entity's state as the audit event recorded it. That state is now
-- read from the audit event (which never changes) instead of being written
-- twice: a new feed row leaves `data` NULL, and readers take
-- COALESCE(events.data, audit_events.after_state, audit_events.before_state,
-- 'null'). Rows written before keep their copy, which is the same text.
ALTER TABLE events ALTER COLUMN data DROP NOT NULL;
