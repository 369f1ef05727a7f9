DROP INDEX gestures_by_kind_status;
