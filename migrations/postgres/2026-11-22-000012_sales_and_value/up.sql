-- Sales recorded by the point of sale, their refunds, and the customer value
-- models fitted on them. Sales post nothing to the ledger (the POS and the
-- general ledger book them); they are the purchase history the value model
-- needs.
CREATE TABLE sales (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    customer_id     uuid NOT NULL,
    store_id        uuid NOT NULL,
    sale_ref        text NOT NULL,
    occurred_at     timestamp NOT NULL,
    sale_date       date NOT NULL,
    currency        text NOT NULL,
    amount_minor    bigint NOT NULL CHECK (amount_minor >= 0),
    refunded_minor  bigint NOT NULL DEFAULT 0
                    CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor),
    recorded_by     text NOT NULL,
    created_at      timestamp NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
CREATE UNIQUE INDEX sales_by_ref ON sales (tenant_id, store_id, sale_ref);
CREATE INDEX sales_by_customer ON sales (tenant_id, customer_id, sale_date);

CREATE TABLE sale_refunds (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    id            uuid NOT NULL,
    sale_id       uuid NOT NULL,
    amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
    refunded_on   date NOT NULL,
    reason        text NULL,
    recorded_by   text NOT NULL,
    created_at    timestamp NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, sale_id) REFERENCES sales (tenant_id, id)
);
CREATE INDEX sale_refunds_by_sale ON sale_refunds (tenant_id, sale_id);

-- A fitted model is never edited: a refit is a new version.
CREATE TABLE value_models (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    id            uuid NOT NULL,
    version       integer NOT NULL,
    currency      text NOT NULL,
    as_of         date NOT NULL,
    time_unit     text NOT NULL CHECK (time_unit IN ('weeks', 'days')),
    penalizer     text NOT NULL,
    customers     bigint NOT NULL,
    bgnbd         text NOT NULL,
    gamma_gamma   text NOT NULL,
    fitted_by     text NOT NULL,
    fitted_at     timestamp NOT NULL,
    duration_ms   bigint NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX value_models_by_version ON value_models (tenant_id, version);
CREATE INDEX value_models_by_currency ON value_models (tenant_id, currency, version);
CREATE FUNCTION value_models_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'value model versions are never edited';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER value_models_no_update BEFORE UPDATE OR DELETE ON value_models
    FOR EACH ROW EXECUTE FUNCTION value_models_immutable();
