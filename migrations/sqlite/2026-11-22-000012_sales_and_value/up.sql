-- Sales recorded by the point of sale, their refunds, and the customer value
-- models fitted on them. Sales post nothing to the ledger (the POS and the
-- general ledger book them); they are the purchase history the value model
-- needs.
CREATE TABLE sales (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    id              TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    store_id        TEXT NOT NULL,
    sale_ref        TEXT NOT NULL,
    occurred_at     TIMESTAMP NOT NULL,
    sale_date       DATE NOT NULL,
    currency        TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL CHECK (amount_minor >= 0),
    refunded_minor  BIGINT NOT NULL DEFAULT 0
                    CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor),
    recorded_by     TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
CREATE UNIQUE INDEX sales_by_ref ON sales (tenant_id, store_id, sale_ref);
CREATE INDEX sales_by_customer ON sales (tenant_id, customer_id, sale_date);

CREATE TABLE sale_refunds (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    sale_id       TEXT NOT NULL,
    amount_minor  BIGINT NOT NULL CHECK (amount_minor > 0),
    refunded_on   DATE NOT NULL,
    reason        TEXT NULL,
    recorded_by   TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, sale_id) REFERENCES sales (tenant_id, id)
);
CREATE INDEX sale_refunds_by_sale ON sale_refunds (tenant_id, sale_id);

-- A fitted model is never edited: a refit is a new version.
CREATE TABLE value_models (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    version       INTEGER NOT NULL,
    currency      TEXT NOT NULL,
    as_of         DATE NOT NULL,
    time_unit     TEXT NOT NULL CHECK (time_unit IN ('weeks', 'days')),
    penalizer     TEXT NOT NULL,
    customers     BIGINT NOT NULL,
    bgnbd         TEXT NOT NULL,
    gamma_gamma   TEXT NOT NULL,
    fitted_by     TEXT NOT NULL,
    fitted_at     TIMESTAMP NOT NULL,
    duration_ms   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX value_models_by_version ON value_models (tenant_id, version);
CREATE INDEX value_models_by_currency ON value_models (tenant_id, currency, version);
CREATE TRIGGER value_models_no_update BEFORE UPDATE ON value_models
BEGIN
    SELECT RAISE(ABORT, 'value model versions are never edited');
END;
CREATE TRIGGER value_models_no_delete BEFORE DELETE ON value_models
BEGIN
    SELECT RAISE(ABORT, 'value model versions are never edited');
END;
