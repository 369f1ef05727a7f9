-- The day a payment was paid, apart from when the server recorded it: a till
-- that was offline enters yesterday's payment today. Payments recorded before
-- were paid the day they were recorded.
ALTER TABLE payments ADD COLUMN paid_on DATE NOT NULL DEFAULT '1970-01-01';
UPDATE payments SET paid_on = date(created_at);
