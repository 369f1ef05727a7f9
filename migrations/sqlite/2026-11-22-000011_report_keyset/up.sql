-- The goodwill report and the journal export page through a date range by
-- (effective_on, id): with the id in the index each page is a plain index
-- range, not a sort of the rest of the range.
DROP INDEX gestures_by_date;
CREATE INDEX gestures_by_date ON gestures (tenant_id, effective_on, id);
DROP INDEX entries_by_date;
CREATE INDEX entries_by_date ON entries (tenant_id, effective_on, id);
