DROP TABLE events;
DROP INDEX gestures_by_store_time;
DROP INDEX gestures_by_requester_time;
DROP INDEX gestures_by_customer_time;
DROP INDEX gestures_by_status;
ALTER TABLE gestures DROP COLUMN approval;
ALTER TABLE gestures DROP COLUMN policy_version;
DROP TABLE policy_versions;
