DROP INDEX gestures_by_date;
