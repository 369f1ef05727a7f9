-- Gestures and the double-entry ledger. Money is BIGINT minor units plus an ISO
-- 4217 currency code (converted in one place: src/domain/money.rs).

CREATE TABLE reason_codes (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    code         text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,63}$'),
    description  text NOT NULL,
    created_at   timestamp NOT NULL,
    PRIMARY KEY (tenant_id, code)
);

CREATE TABLE incidents (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    store_id     uuid NOT NULL,
    cause        text NOT NULL,
    description  text NOT NULL,
    staff_ids    text NOT NULL,  -- JSON array of staff ids
    reported_by  text NOT NULL,
    created_at   timestamp NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, store_id) REFERENCES stores (tenant_id, id)
);

CREATE TABLE gestures (
    tenant_id              uuid NOT NULL REFERENCES tenants (id),
    id                     uuid NOT NULL,
    customer_id            uuid NOT NULL,
    store_id               uuid NOT NULL,
    kind                   text NOT NULL CHECK (kind IN ('deferred_payment', 'balance_waiver', 'free_service',
                               'service_recovery', 'store_credit', 'recognition', 'customer_favour')),
    status                 text NOT NULL CHECK (status IN ('pending_approval', 'approved', 'rejected', 'cancelled',
                               'expired', 'settled', 'written_off', 'reversed')),
    reason_code            text NOT NULL,
    story                  text NOT NULL,
    staff_ids              text NOT NULL,  -- JSON array of staff ids
    incident_id            uuid NULL,
    effective_on           date NOT NULL,
    currency               text NOT NULL,
    amount_minor           bigint NULL CHECK (amount_minor > 0),
    due_on                 date NULL,
    applies_to             text NULL,      -- JSON array of deferred payment ids (waivers)
    retail_value_minor     bigint NULL CHECK (retail_value_minor >= 0),
    cost_minor             bigint NULL CHECK (cost_minor >= 0),
    expires_on             date NULL,
    estimated_value_minor  bigint NULL CHECK (estimated_value_minor > 0),
    -- Running figures, moved only in the transaction that posts the matching entries.
    paid_minor             bigint NOT NULL DEFAULT 0 CHECK (paid_minor >= 0),
    waived_minor           bigint NOT NULL DEFAULT 0 CHECK (waived_minor >= 0),
    redeemed_minor         bigint NOT NULL DEFAULT 0 CHECK (redeemed_minor >= 0),
    expired_minor          bigint NOT NULL DEFAULT 0 CHECK (expired_minor >= 0),
    requested_by           text NOT NULL,
    requested_role         text NOT NULL,
    decision_rule          text NOT NULL,
    write_off_of           uuid NULL,      -- a waiver made by the write-off route: the promise it gives up
    reversal_reason        text NULL,
    created_at             timestamp NOT NULL,
    updated_at             timestamp NOT NULL,
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
    tenant_id     uuid NOT NULL,
    waiver_id     uuid NOT NULL,
    gesture_id    uuid NOT NULL,
    amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
    PRIMARY KEY (tenant_id, waiver_id, gesture_id),
    FOREIGN KEY (tenant_id, waiver_id) REFERENCES gestures (tenant_id, id),
    FOREIGN KEY (tenant_id, gesture_id) REFERENCES gestures (tenant_id, id)
);

-- One posting: its entries sum to zero per currency (debits = credits).
CREATE TABLE ledger_transactions (
    tenant_id      uuid NOT NULL REFERENCES tenants (id),
    id             uuid NOT NULL,
    kind           text NOT NULL,
    gesture_id     uuid NULL,
    payment_id     uuid NULL,
    redemption_id  uuid NULL,
    reverses       uuid NULL,   -- the transaction this one mirrors
    effective_on   date NOT NULL,
    created_at     timestamp NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX ledger_transactions_by_gesture ON ledger_transactions (tenant_id, gesture_id);

CREATE TABLE entries (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    transaction_id  uuid NOT NULL,
    account         text NOT NULL,
    customer_id     uuid NULL,   -- set on a customer's own accounts
    currency        text NOT NULL,
    debit_minor     bigint NOT NULL CHECK (debit_minor >= 0),
    credit_minor    bigint NOT NULL CHECK (credit_minor >= 0),
    effective_on    date NOT NULL,
    created_at      timestamp NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, transaction_id) REFERENCES ledger_transactions (tenant_id, id),
    CHECK ((debit_minor > 0 AND credit_minor = 0) OR (credit_minor > 0 AND debit_minor = 0))
);
CREATE INDEX entries_by_account ON entries (tenant_id, account, id);
CREATE INDEX entries_by_customer ON entries (tenant_id, customer_id, id);
CREATE INDEX entries_by_transaction ON entries (tenant_id, transaction_id);

CREATE TRIGGER entries_no_update BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION goodwill_refuse_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION goodwill_refuse_change();
CREATE TRIGGER ledger_transactions_no_update BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION goodwill_refuse_change();

-- Balances per account and currency, maintained in the transaction that posts.
CREATE TABLE balances (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    account       text NOT NULL,
    currency      text NOT NULL,
    customer_id   uuid NULL,
    debit_minor   bigint NOT NULL CHECK (debit_minor >= 0),
    credit_minor  bigint NOT NULL CHECK (credit_minor >= 0),
    entry_count   bigint NOT NULL,
    PRIMARY KEY (tenant_id, account, currency)
);
CREATE INDEX balances_by_customer ON balances (tenant_id, customer_id);

-- The same entries summed per customer (entries whose transaction concerns a
-- customer): what goodwill a customer received, by account, at the cost of one
-- row per account whatever their history.
CREATE TABLE customer_ledger_totals (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    customer_id   uuid NOT NULL,
    account       text NOT NULL,
    currency      text NOT NULL,
    debit_minor   bigint NOT NULL CHECK (debit_minor >= 0),
    credit_minor  bigint NOT NULL CHECK (credit_minor >= 0),
    PRIMARY KEY (tenant_id, customer_id, account, currency)
);

-- Statistics that are not postings: retail value given free, favours' estimated
-- value, recognitions. Never mixed into balances.
CREATE TABLE memo_totals (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    customer_id  uuid NOT NULL,
    memo         text NOT NULL,
    currency     text NOT NULL,   -- '' for counts
    total_minor  bigint NOT NULL,
    count        bigint NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, memo, currency)
);

CREATE TABLE payments (
    tenant_id              uuid NOT NULL REFERENCES tenants (id),
    id                     uuid NOT NULL,
    gesture_id             uuid NOT NULL,
    customer_id            uuid NOT NULL,
    store_id               uuid NOT NULL,
    currency               text NOT NULL,
    amount_minor           bigint NOT NULL CHECK (amount_minor > 0),
    recovery_minor         bigint NOT NULL CHECK (recovery_minor >= 0),
    status                 text NOT NULL CHECK (status IN ('posted', 'reversed')),
    transaction_id         uuid NOT NULL,
    reversal_reason        text NULL,
    requested_by           text NOT NULL,
    created_at             timestamp NOT NULL,
    updated_at             timestamp NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, gesture_id) REFERENCES gestures (tenant_id, id)
);
CREATE INDEX payments_by_gesture ON payments (tenant_id, gesture_id);

CREATE TABLE redemptions (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    customer_id     uuid NOT NULL,
    store_id        uuid NOT NULL,
    currency        text NOT NULL,
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    transaction_id  uuid NOT NULL,
    requested_by    text NOT NULL,
    created_at      timestamp NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);

CREATE TABLE redemption_lots (
    tenant_id      uuid NOT NULL,
    redemption_id  uuid NOT NULL,
    gesture_id     uuid NOT NULL,
    amount_minor   bigint NOT NULL CHECK (amount_minor > 0),
    PRIMARY KEY (tenant_id, redemption_id, gesture_id),
    FOREIGN KEY (tenant_id, redemption_id) REFERENCES redemptions (tenant_id, id),
    FOREIGN KEY (tenant_id, gesture_id) REFERENCES gestures (tenant_id, id)
);
