CREATE TEMPORARY TABLE balances_merged AS
SELECT tenant_id, account, currency, MIN(customer_id::text)::uuid AS customer_id,
       SUM(debit_minor)::bigint AS debit_minor, SUM(credit_minor)::bigint AS credit_minor,
       SUM(entry_count)::bigint AS entry_count
FROM balances GROUP BY tenant_id, account, currency;
DELETE FROM balances;
ALTER TABLE balances DROP CONSTRAINT balances_pkey;
ALTER TABLE balances DROP COLUMN shard;
INSERT INTO balances (tenant_id, account, currency, customer_id, debit_minor, credit_minor, entry_count)
SELECT tenant_id, account, currency, customer_id, debit_minor, credit_minor, entry_count FROM balances_merged;
ALTER TABLE balances ADD PRIMARY KEY (tenant_id, account, currency);
DROP TABLE balances_merged;
