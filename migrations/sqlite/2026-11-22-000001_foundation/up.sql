-- Foundation: the same tables as migrations/postgres, in SQLite's dialect.
-- UUIDs are TEXT (canonical hyphenated form), timestamps TEXT as diesel writes them (UTC).

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE service_keys (
    name        TEXT PRIMARY KEY NOT NULL,
    secret      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE stores (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    code        TEXT NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    currency    TEXT NOT NULL CHECK (length(currency) = 3 AND currency = upper(currency)),
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, code)
);

CREATE TABLE staff (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    external_ref  TEXT NULL CHECK (length(external_ref) BETWEEN 1 AND 200),
    subject       TEXT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, external_ref),
    UNIQUE (tenant_id, subject)
);

CREATE TABLE staff_stores (
    tenant_id  TEXT NOT NULL,
    staff_id   TEXT NOT NULL,
    store_id   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, staff_id, store_id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id),
    FOREIGN KEY (tenant_id, store_id) REFERENCES stores (tenant_id, id)
);
CREATE INDEX staff_stores_by_store ON staff_stores (tenant_id, store_id);

CREATE TABLE customers (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    id             TEXT NOT NULL,
    external_ref   TEXT NOT NULL CHECK (length(external_ref) BETWEEN 1 AND 200),
    name           TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email          TEXT NULL CHECK (length(email) BETWEEN 3 AND 254),
    phone          TEXT NULL CHECK (length(phone) BETWEEN 1 AND 40),
    home_store_id  TEXT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, external_ref),
    FOREIGN KEY (tenant_id, home_store_id) REFERENCES stores (tenant_id, id)
);
