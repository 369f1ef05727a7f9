-- Aging reads the open deferred payments only: approved is the last status of
-- most other kinds, so (status) alone would walk their whole history.
CREATE INDEX gestures_by_kind_status ON gestures (tenant_id, kind, status, store_id);
