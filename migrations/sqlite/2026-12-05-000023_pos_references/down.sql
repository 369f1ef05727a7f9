DROP INDEX redemptions_receipt_ref;
DROP INDEX payments_receipt_ref;
ALTER TABLE redemptions DROP COLUMN updated_at;
ALTER TABLE redemptions DROP COLUMN reversal_reason;
ALTER TABLE redemptions DROP COLUMN status;
ALTER TABLE redemptions DROP COLUMN occurred_on;
ALTER TABLE redemptions DROP COLUMN receipt_ref;
ALTER TABLE payments DROP COLUMN receipt_ref;
DROP TABLE client_refs;
