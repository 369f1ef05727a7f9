-- Every maintained total row holds at most 2^58 minor units (a customer's
-- account is one row; a shared account at most 16 shards), so any sum over one
-- account's rows or entries stays below 2^62 and fits the 64-bit integers the
-- ledger computes in. A posting that would take a row past it is refused
-- whole (the service answers 422 ledger_limit) instead of overflowing.
-- Money statistics are bounded the same way in both directions (a reversal
-- takes a memo back).
ALTER TABLE balances ADD CONSTRAINT balances_within_ledger_limit
    CHECK (debit_minor <= 288230376151711744 AND credit_minor <= 288230376151711744);
ALTER TABLE customer_ledger_totals ADD CONSTRAINT customer_totals_within_ledger_limit
    CHECK (debit_minor BETWEEN 0 AND 288230376151711744
           AND credit_minor BETWEEN 0 AND 288230376151711744);
ALTER TABLE memo_totals ADD CONSTRAINT memo_totals_within_ledger_limit
    CHECK (total_minor BETWEEN -288230376151711744 AND 288230376151711744
           AND count BETWEEN -288230376151711744 AND 288230376151711744);
