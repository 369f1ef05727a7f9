ALTER TABLE stores DROP COLUMN time_zone;
DROP TABLE console_logins;
DROP TABLE console_sessions;
DROP TABLE console_links;
