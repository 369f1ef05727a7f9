DROP TRIGGER gestures_kept_delete;
DROP TRIGGER gestures_kept_update_outcome;
DROP TRIGGER gestures_kept_update_open;
DROP TRIGGER gestures_kept_update_report;
DROP TRIGGER gestures_kept_insert;
DROP TABLE promise_outcome_totals;
DROP TABLE open_promise_totals;
DROP TABLE report_totals;
