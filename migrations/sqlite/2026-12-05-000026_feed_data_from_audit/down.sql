-- Nothing to undo: SQLite kept the copy (see up.sql).
SELECT 1;
