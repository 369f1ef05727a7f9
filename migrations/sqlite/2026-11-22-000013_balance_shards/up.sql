-- See the PostgreSQL migration: a busy shared account's balance is spread over
-- up to 16 rows (shards), read as their sum; a customer's accounts stay one
-- row (shard 0). SQLite cannot change a primary key in place: the table is
-- rebuilt.
CREATE TABLE balances_sharded (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    account       TEXT NOT NULL,
    currency      TEXT NOT NULL,
    customer_id   TEXT NULL,
    debit_minor   BIGINT NOT NULL CHECK (debit_minor >= 0),
    credit_minor  BIGINT NOT NULL CHECK (credit_minor >= 0),
    entry_count   BIGINT NOT NULL,
    shard         SMALLINT NOT NULL DEFAULT 0 CHECK (shard >= 0 AND shard < 16),
    PRIMARY KEY (tenant_id, account, currency, shard)
);
INSERT INTO balances_sharded (tenant_id, account, currency, customer_id, debit_minor, credit_minor, entry_count, shard)
SELECT tenant_id, account, currency, customer_id, debit_minor, credit_minor, entry_count, 0 FROM balances;
DROP TABLE balances;
ALTER TABLE balances_sharded RENAME TO balances;
CREATE INDEX balances_by_customer ON balances (tenant_id, customer_id);
