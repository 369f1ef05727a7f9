-- The stores an audit or feed event concerns (comma-separated ids; NULL: the
-- tenant as a whole — its stores, customers, policy, periods, value model).
-- What happened at a store is visible only to tokens that hold it, so the
-- audit list and the event feed filter on this. It is taken from the state the
-- event records (its `store_id`, or a staff member's `store_ids`) and is not
-- part of the event's hash: it indexes what the hashed state already says.
-- Existing rows are filled in once, here; recorded history is otherwise never
-- updated (the refusing triggers are lifted for this statement only).
ALTER TABLE audit_events ADD COLUMN store_ids text NULL;
ALTER TABLE events ADD COLUMN store_ids text NULL;

ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update;
UPDATE audit_events a
SET store_ids = COALESCE(
        s.j ->> 'store_id',
        (SELECT string_agg(v, ',' ORDER BY v)
         FROM jsonb_array_elements_text(
             CASE WHEN jsonb_typeof(s.j -> 'store_ids') = 'array' THEN s.j -> 'store_ids' ELSE '[]'::jsonb END) v))
FROM (SELECT tenant_id, id, COALESCE(after_state, before_state)::jsonb AS j FROM audit_events) s
WHERE a.tenant_id = s.tenant_id AND a.id = s.id
  AND jsonb_typeof(s.j) = 'object'
  AND ((s.j -> 'store_id') IS NOT NULL OR (s.j -> 'store_ids') IS NOT NULL);
ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update;

ALTER TABLE events DISABLE TRIGGER events_no_update;
UPDATE events e
SET store_ids = COALESCE(
        s.j ->> 'store_id',
        (SELECT string_agg(v, ',' ORDER BY v)
         FROM jsonb_array_elements_text(
             CASE WHEN jsonb_typeof(s.j -> 'store_ids') = 'array' THEN s.j -> 'store_ids' ELSE '[]'::jsonb END) v))
FROM (SELECT seq, data::jsonb AS j FROM events) s
WHERE e.seq = s.seq
  AND jsonb_typeof(s.j) = 'object'
  AND ((s.j -> 'store_id') IS NOT NULL OR (s.j -> 'store_ids') IS NOT NULL);
ALTER TABLE events ENABLE TRIGGER events_no_update;
