DROP INDEX entries_by_date;
DROP TABLE periods;
