-- The goodwill report reads the gestures of a date range, never the history.
CREATE INDEX gestures_by_date ON gestures (tenant_id, effective_on);
