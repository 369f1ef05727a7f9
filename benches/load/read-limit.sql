-- The read limit: one customer's maintained figures (their ledger totals per
-- account and currency) read by primary key in one statement, as pgbench runs
-- it (run.sh passes :tenant and :picks). The customer comes from load_pick,
-- the pairs the load generator picks from, inside the statement.
\set n random(1, :picks)
SELECT t.account, t.currency, t.debit_minor, t.credit_minor
FROM load_pick p
JOIN customer_ledger_totals t ON t.tenant_id = :tenant::uuid AND t.customer_id = p.customer_id
WHERE p.n = :n::int;
