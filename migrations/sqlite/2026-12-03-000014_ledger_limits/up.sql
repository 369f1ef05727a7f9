-- See the PostgreSQL migration: every maintained total row holds at most 2^58
-- minor units. SQLite cannot add a CHECK to a table in place, so triggers
-- refuse the row instead; they also catch what SQLite would otherwise do with
-- an integer sum that overflows (turn it into a floating-point value).
CREATE TRIGGER balances_ledger_limit_insert BEFORE INSERT ON balances
WHEN typeof(NEW.debit_minor) <> 'integer' OR NEW.debit_minor < 0 OR NEW.debit_minor > 288230376151711744 OR typeof(NEW.credit_minor) <> 'integer' OR NEW.credit_minor < 0 OR NEW.credit_minor > 288230376151711744
BEGIN
    SELECT RAISE(ABORT, 'goodwill_ledger_limit: a total of balances would exceed 2^58 minor units');
END;
CREATE TRIGGER balances_ledger_limit_update BEFORE UPDATE ON balances
WHEN typeof(NEW.debit_minor) <> 'integer' OR NEW.debit_minor < 0 OR NEW.debit_minor > 288230376151711744 OR typeof(NEW.credit_minor) <> 'integer' OR NEW.credit_minor < 0 OR NEW.credit_minor > 288230376151711744
BEGIN
    SELECT RAISE(ABORT, 'goodwill_ledger_limit: a total of balances would exceed 2^58 minor units');
END;
CREATE TRIGGER customer_ledger_totals_ledger_limit_insert BEFORE INSERT ON customer_ledger_totals
WHEN typeof(NEW.debit_minor) <> 'integer' OR NEW.debit_minor < 0 OR NEW.debit_minor > 288230376151711744 OR typeof(NEW.credit_minor) <> 'integer' OR NEW.credit_minor < 0 OR NEW.credit_minor > 288230376151711744
BEGIN
    SELECT RAISE(ABORT, 'goodwill_ledger_limit: a total of customer_ledger_totals would exceed 2^58 minor units');
END;
CREATE TRIGGER customer_ledger_totals_ledger_limit_update BEFORE UPDATE ON customer_ledger_totals
WHEN typeof(NEW.debit_minor) <> 'integer' OR NEW.debit_minor < 0 OR NEW.debit_minor > 288230376151711744 OR typeof(NEW.credit_minor) <> 'integer' OR NEW.credit_minor < 0 OR NEW.credit_minor > 288230376151711744
BEGIN
    SELECT RAISE(ABORT, 'goodwill_ledger_limit: a total of customer_ledger_totals would exceed 2^58 minor units');
END;
CREATE TRIGGER memo_totals_ledger_limit_insert BEFORE INSERT ON memo_totals
WHEN typeof(NEW.total_minor) <> 'integer' OR NEW.total_minor < -288230376151711744 OR NEW.total_minor > 288230376151711744 OR typeof(NEW.count) <> 'integer' OR NEW.count < -288230376151711744 OR NEW.count > 288230376151711744
BEGIN
    SELECT RAISE(ABORT, 'goodwill_ledger_limit: a total of memo_totals would exceed 2^58 minor units');
END;
CREATE TRIGGER memo_totals_ledger_limit_update BEFORE UPDATE ON memo_totals
WHEN typeof(NEW.total_minor) <> 'integer' OR NEW.total_minor < -288230376151711744 OR NEW.total_minor > 288230376151711744 OR typeof(NEW.count) <> 'integer' OR NEW.count < -288230376151711744 OR NEW.count > 288230376151711744
BEGIN
    SELECT RAISE(ABORT, 'goodwill_ledger_limit: a total of memo_totals would exceed 2^58 minor units');
END;
