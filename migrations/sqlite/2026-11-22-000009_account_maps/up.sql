-- See the PostgreSQL migration of the same name.
CREATE TABLE account_maps (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) PRIMARY KEY,
    document    TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
