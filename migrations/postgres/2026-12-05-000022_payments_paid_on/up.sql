-- The day a payment was paid, apart from when the server recorded it: a till
-- that was offline enters yesterday's payment today. Payments recorded before
-- were paid the day they were recorded.
ALTER TABLE payments ADD COLUMN paid_on date NULL;
UPDATE payments SET paid_on = CAST(created_at AS date);
ALTER TABLE payments ALTER COLUMN paid_on SET NOT NULL;
