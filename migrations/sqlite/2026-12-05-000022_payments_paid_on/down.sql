ALTER TABLE payments DROP COLUMN paid_on;
