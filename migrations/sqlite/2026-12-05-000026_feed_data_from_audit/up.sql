-- On PostgreSQL a new feed event no longer copies its audit event's state
-- (`data` stays NULL and is read from the audit event). SQLite keeps writing
-- the copy: its column cannot drop NOT NULL without rebuilding the table, and
-- a write there is a function call, not WAL shipped to replicas. Readers on
-- both backends take COALESCE(events.data, the audit event's state).
SELECT 1;
