-- The broken count is derived from the gestures (see up.sql): nothing is lost.
DELETE FROM memo_totals WHERE memo = 'promises_broken';
DROP INDEX gestures_write_off_of;
