-- The same tables as migrations/postgres, in SQLite's dialect.
-- Gestures and the double-entry ledger. Money is BIGINT minor units plus an ISO
-- 4217 currency code (converted in one place: src/domain/money.rs).

CREATE TABLE reason_codes (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    code         TEXT NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    description  TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, code)
);

CREATE TABLE incidents (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    id           TEXT NOT NULL,
    store_id     TEXT NOT NULL,
    cause        TEXT NOT NULL,
    description  TEXT NOT NULL,
    staff_ids    TEXT NOT NULL,  -- JSON array of staff ids
    reported_by  TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, store_id) REFERENCES stores (tenant_id, id)
);

CREATE TABLE gestures (
    tenant_id              TEXT NOT NULL REFERENCES tenants (id),
    id                     TEXT NOT NULL,
    customer_id            TEXT NOT NULL,
    store_id               TEXT NOT NULL,
    kind                   TEXT NOT NULL CHECK (kind IN ('deferred_payment', 'balance_waiver', 'free_service',
                               'service_recovery', 'store_credit', 'recognition', 'customer_favour')),
    status                 TEXT NOT NULL CHECK (status IN ('pending_approval', 'approved', 'rejected', 'cancelled',
                               'expired', 'settled', 'written_off', 'reversed')),
    reason_code            TEXT NOT NULL,
    story                  TEXT NOT NULL,
    staff_ids              TEXT NOT NULL,  -- JSON array of staff ids
    incident_id            TEXT NULL,
    effective_on           DATE NOT NULL,
    currency               TEXT NOT NULL,
    amount_minor           BIGINT NULL CHECK (amount_minor > 0),
    due_on                 DATE NULL,
    applies_to             TEXT NULL,      -- JSON array of deferred payment ids (waivers)
    retail_value_minor     BIGINT NULL CHECK (retail_value_minor >= 0),
    cost_minor             BIGINT NULL CHECK (cost_minor >= 0),
    expires_on             DATE NULL,
    estimated_value_minor  BIGINT NULL CHECK (estimated_value_minor > 0),
    -- Running figures, moved only in the transaction that posts the matching entries.
    paid_minor             BIGINT NOT NULL DEFAULT 0 CHECK (paid_minor >= 0),
    waived_minor           BIGINT NOT NULL DEFAULT 0 CHECK (waived_minor >= 0),
    redeemed_minor         BIGINT NOT NULL DEFAULT 0 CHECK (redeemed_minor >= 0),
    expired_minor          BIGINT NOT NULL DEFAULT 0 CHECK (expired_minor >= 0),
    requested_by           TEXT NOT NULL,
    requested_role         TEXT NOT NULL,
    decision_rule          TEXT NOT NULL,
    write_off_of           TEXT NULL,      -- a waiver made by the write-off route: the promise it gives up
    reversal_reason        TEXT NULL,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
    FOREIGN KEY (tenant_id, store_id) REFERENCES stores (tenant_id, id),
    FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id),
    FOREIGN KEY (tenant_id, reason_code) REFERENCES reason_codes (tenant_id, code)
);
CREATE INDEX gestures_by_customer ON gestures (tenant_id, customer_id, id);
CREATE INDEX gestures_by_customer_status ON gestures (tenant_id, customer_id, status, kind);
CREATE INDEX gestures_by_store ON gestures (tenant_id, store_id, id);
CREATE INDEX gestures_by_incident ON gestures (tenant_id, incident_id);

-- Which promises a waiver gave up, and how much of each (a reversal restores them).
CREATE TABLE waiver_allocations (
    tenant_id     TEXT NOT NULL,
    waiver_id     TEXT NOT NULL,
    gesture_id    TEXT NOT NULL,
    amount_minor  BIGINT NOT NULL CHECK (amount_minor > 0),
    PRIMARY KEY (tenant_id, waiver_id, gesture_id),
    FOREIGN KEY (tenant_id, waiver_id) REFERENCES gestures (tenant_id, id),
    FOREIGN KEY (tenant_id, gesture_id) REFERENCES gestures (tenant_id, id)
);

-- One posting: its entries sum to zero per currency (debits = credits).
CREATE TABLE ledger_transactions (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    id             TEXT NOT NULL,
    kind           TEXT NOT NULL,
    gesture_id     TEXT NULL,
    payment_id     TEXT NULL,
    redemption_id  TEXT NULL,
    reverses       TEXT NULL,   -- the transaction this one mirrors
    effective_on   DATE NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX ledger_transactions_by_gesture ON ledger_transactions (tenant_id, gesture_id);

CREATE TABLE entries (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    id              TEXT NOT NULL,
    transaction_id  TEXT NOT NULL,
    account         TEXT NOT NULL,
    customer_id     TEXT NULL,   -- set on a customer's own accounts
    currency        TEXT NOT NULL,
    debit_minor     BIGINT NOT NULL CHECK (debit_minor >= 0),
    credit_minor    BIGINT NOT NULL CHECK (credit_minor >= 0),
    effective_on    DATE NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, transaction_id) REFERENCES ledger_transactions (tenant_id, id),
    CHECK ((debit_minor > 0 AND credit_minor = 0) OR (credit_minor > 0 AND debit_minor = 0))
);
CREATE INDEX entries_by_account ON entries (tenant_id, account, id);
CREATE INDEX entries_by_customer ON entries (tenant_id, customer_id, id);
CREATE INDEX entries_by_transaction ON entries (tenant_id, transaction_id);

CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN
    SELECT RAISE(ABORT, 'goodwill: UPDATE on entries is not allowed');
END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN
    SELECT RAISE(ABORT, 'goodwill: DELETE on entries is not allowed');
END;
CREATE TRIGGER ledger_transactions_no_update BEFORE UPDATE ON ledger_transactions
BEGIN
    SELECT RAISE(ABORT, 'goodwill: UPDATE on ledger_transactions is not allowed');
END;
CREATE TRIGGER ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions
BEGIN
    SELECT RAISE(ABORT, 'goodwill: DELETE on ledger_transactions is not allowed');
END;

-- Balances per account and currency, maintained in the transaction that posts.
CREATE TABLE balances (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    account       TEXT NOT NULL,
    currency      TEXT NOT NULL,
    customer_id   TEXT NULL,
    debit_minor   BIGINT NOT NULL CHECK (debit_minor >= 0),
    credit_minor  BIGINT NOT NULL CHECK (credit_minor >= 0),
    entry_count   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, account, currency)
);
CREATE INDEX balances_by_customer ON balances (tenant_id, customer_id);

-- The same entries summed per customer (entries whose transaction concerns a
-- customer): what goodwill a customer received, by account, at the cost of one
-- row per account whatever their history.
CREATE TABLE customer_ledger_totals (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    customer_id   TEXT NOT NULL,
    account       TEXT NOT NULL,
    currency      TEXT NOT NULL,
    debit_minor   BIGINT NOT NULL CHECK (debit_minor >= 0),
    credit_minor  BIGINT NOT NULL CHECK (credit_minor >= 0),
    PRIMARY KEY (tenant_id, customer_id, account, currency)
);

-- Statistics that are not postings: retail value given free, favours' estimated
-- value, recognitions. Never mixed into balances.
CREATE TABLE memo_totals (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    customer_id  TEXT NOT NULL,
    memo         TEXT NOT NULL,
    currency     TEXT NOT NULL,   -- '' for counts
    total_minor  BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, memo, currency)
);

CREATE TABLE payments (
    tenant_id              TEXT NOT NULL REFERENCES tenants (id),
    id                     TEXT NOT NULL,
    gesture_id             TEXT NOT NULL,
    customer_id            TEXT NOT NULL,
    store_id               TEXT NOT NULL,
    currency               TEXT NOT NULL,
    amount_minor           BIGINT NOT NULL CHECK (amount_minor > 0),
    recovery_minor         BIGINT NOT NULL CHECK (recovery_minor >= 0),
    status                 TEXT NOT NULL CHECK (status IN ('posted', 'reversed')),
    transaction_id         TEXT NOT NULL,
    reversal_reason        TEXT NULL,
    requested_by           TEXT NOT NULL,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, gesture_id) REFERENCES gestures (tenant_id, id)
);
CREATE INDEX payments_by_gesture ON payments (tenant_id, gesture_id);

CREATE TABLE redemptions (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    id              TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    store_id        TEXT NOT NULL,
    currency        TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL CHECK (amount_minor > 0),
    transaction_id  TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);

CREATE TABLE redemption_lots (
    tenant_id      TEXT NOT NULL,
    redemption_id  TEXT NOT NULL,
    gesture_id     TEXT NOT NULL,
    amount_minor   BIGINT NOT NULL CHECK (amount_minor > 0),
    PRIMARY KEY (tenant_id, redemption_id, gesture_id),
    FOREIGN KEY (tenant_id, redemption_id) REFERENCES redemptions (tenant_id, id),
    FOREIGN KEY (tenant_id, gesture_id) REFERENCES gestures (tenant_id, id)
);
