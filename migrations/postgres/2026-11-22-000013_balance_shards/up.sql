-- Accounts every request at a store (or in the tenant) posts to —
-- sales_clearing:<store>, cash_clearing:<store>, goodwill_expense:<kind>,
-- writeoff_expense, ... — were one row each, locked by every posting until its
-- transaction committed: concurrent requests queued on them. Such an account's
-- balance is now spread over up to 16 rows (shards), one picked per posting,
-- and read as their sum. A customer's own accounts stay one row (shard 0):
-- the customer's lock orders their postings anyway.
ALTER TABLE balances ADD COLUMN shard smallint NOT NULL DEFAULT 0
    CHECK (shard >= 0 AND shard < 16);
ALTER TABLE balances DROP CONSTRAINT balances_pkey;
ALTER TABLE balances ADD PRIMARY KEY (tenant_id, account, currency, shard);
