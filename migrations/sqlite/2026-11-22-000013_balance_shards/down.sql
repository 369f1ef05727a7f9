CREATE TABLE balances_merged (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    account       TEXT NOT NULL,
    currency      TEXT NOT NULL,
    customer_id   TEXT NULL,
    debit_minor   BIGINT NOT NULL CHECK (debit_minor >= 0),
    credit_minor  BIGINT NOT NULL CHECK (credit_minor >= 0),
    entry_count   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, account, currency)
);
INSERT INTO balances_merged
SELECT tenant_id, account, currency, MIN(customer_id), SUM(debit_minor), SUM(credit_minor), SUM(entry_count)
FROM balances GROUP BY tenant_id, account, currency;
DROP TABLE balances;
ALTER TABLE balances_merged RENAME TO balances;
CREATE INDEX balances_by_customer ON balances (tenant_id, customer_id);
