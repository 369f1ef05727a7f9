-- What a point-of-sale needs at the counter.
--
-- client_refs: a till's durable reference of a gesture, payment or redemption,
-- unique per store and kind, so an offline backlog older than the idempotency
-- keys' life is still entered once (a repeat names the first).
CREATE TABLE client_refs (
    tenant_id   TEXT NOT NULL,
    store_id    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    client_ref  TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, store_id, kind, client_ref)
);
-- receipt_ref: the POS's own reference of a payment or redemption, unique per
-- store when given.
ALTER TABLE payments ADD COLUMN receipt_ref TEXT NULL;
ALTER TABLE redemptions ADD COLUMN receipt_ref TEXT NULL;
CREATE UNIQUE INDEX payments_receipt_ref ON payments (tenant_id, store_id, receipt_ref) WHERE receipt_ref IS NOT NULL;
CREATE UNIQUE INDEX redemptions_receipt_ref ON redemptions (tenant_id, store_id, receipt_ref) WHERE receipt_ref IS NOT NULL;
-- A redemption happened on a day (a till that was offline enters it later),
-- and can be reversed once (a voided sale). Redemptions recorded before
-- happened the day they were recorded and stand.
ALTER TABLE redemptions ADD COLUMN occurred_on DATE NOT NULL DEFAULT '1970-01-01';
UPDATE redemptions SET occurred_on = date(created_at);
ALTER TABLE redemptions ADD COLUMN status TEXT NOT NULL DEFAULT 'posted';
ALTER TABLE redemptions ADD COLUMN reversal_reason TEXT NULL;
ALTER TABLE redemptions ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE redemptions SET updated_at = created_at;
