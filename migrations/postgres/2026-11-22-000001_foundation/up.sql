-- Foundation: tenants, the service's signing key, stores, staff, customers.
-- Every tenant table carries tenant_id, and every primary key, unique constraint
-- and foreign key between tenant tables includes it, so the schema can later be
-- distributed by tenant (Citus) without changing a constraint.
-- Timestamps are UTC, stored without a zone (the MultiConnection backend shares
-- TIMESTAMP with SQLite, not TIMESTAMPTZ).

CREATE TABLE tenants (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamp NOT NULL
);

-- Keys the service generated itself (first run without GOODWILL_JWT_SECRET).
CREATE TABLE service_keys (
    name        text PRIMARY KEY,
    secret      text NOT NULL,
    created_at  timestamp NOT NULL
);

CREATE TABLE stores (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    code        text NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at  timestamp NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, code)
);

CREATE TABLE staff (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    id            uuid NOT NULL,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    external_ref  text NULL CHECK (length(external_ref) BETWEEN 1 AND 200),
    subject       text NULL CHECK (length(subject) BETWEEN 1 AND 255),
    created_at    timestamp NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, external_ref),
    UNIQUE (tenant_id, subject)
);

CREATE TABLE staff_stores (
    tenant_id  uuid NOT NULL,
    staff_id   uuid NOT NULL,
    store_id   uuid NOT NULL,
    PRIMARY KEY (tenant_id, staff_id, store_id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id),
    FOREIGN KEY (tenant_id, store_id) REFERENCES stores (tenant_id, id)
);
CREATE INDEX staff_stores_by_store ON staff_stores (tenant_id, store_id);

CREATE TABLE customers (
    tenant_id      uuid NOT NULL REFERENCES tenants (id),
    id             uuid NOT NULL,
    external_ref   text NOT NULL CHECK (length(external_ref) BETWEEN 1 AND 200),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email          text NULL CHECK (length(email) BETWEEN 3 AND 254),
    phone          text NULL CHECK (length(phone) BETWEEN 1 AND 40),
    home_store_id  uuid NULL,
    created_at     timestamp NOT NULL,
    updated_at     timestamp NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, external_ref),
    FOREIGN KEY (tenant_id, home_store_id) REFERENCES stores (tenant_id, id)
);
