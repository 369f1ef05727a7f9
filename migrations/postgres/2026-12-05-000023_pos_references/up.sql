-- What a point-of-sale needs at the counter.
--
-- client_refs: a till's durable reference of a gesture, payment or redemption,
-- unique per store and kind, so an offline backlog older than the idempotency
-- keys' life is still entered once (a repeat names the first).
CREATE TABLE client_refs (
    tenant_id   uuid NOT NULL,
    store_id    uuid NOT NULL,
    kind        text NOT NULL,
    client_ref  text NOT NULL,
    entity_id   text NOT NULL,
    created_at  timestamp NOT NULL,
    PRIMARY KEY (tenant_id, store_id, kind, client_ref)
);
-- receipt_ref: the POS's own reference of a payment or redemption, unique per
-- store when given.
ALTER TABLE payments ADD COLUMN receipt_ref text NULL;
ALTER TABLE redemptions ADD COLUMN receipt_ref text NULL;
CREATE UNIQUE INDEX payments_receipt_ref ON payments (tenant_id, store_id, receipt_ref) WHERE receipt_ref IS NOT NULL;
CREATE UNIQUE INDEX redemptions_receipt_ref ON redemptions (tenant_id, store_id, receipt_ref) WHERE receipt_ref IS NOT NULL;
-- A redemption happened on a day (a till that was offline enters it later),
-- and can be reversed once (a voided sale). Redemptions recorded before
-- happened the day they were recorded and stand.
ALTER TABLE redemptions ADD COLUMN occurred_on date NULL;
UPDATE redemptions SET occurred_on = CAST(created_at AS date);
ALTER TABLE redemptions ALTER COLUMN occurred_on SET NOT NULL;
ALTER TABLE redemptions ADD COLUMN status text NOT NULL DEFAULT 'posted';
ALTER TABLE redemptions ADD COLUMN reversal_reason text NULL;
ALTER TABLE redemptions ADD COLUMN updated_at timestamp NULL;
UPDATE redemptions SET updated_at = created_at;
ALTER TABLE redemptions ALTER COLUMN updated_at SET NOT NULL;
