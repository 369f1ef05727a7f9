DROP INDEX entries_by_date;
CREATE INDEX entries_by_date ON entries (tenant_id, effective_on);
DROP INDEX gestures_by_date;
CREATE INDEX gestures_by_date ON gestures (tenant_id, effective_on);
