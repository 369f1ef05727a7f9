-- How the ledger's accounts map to a tenant's own chart of accounts, for the
-- journal export. No row: every account exports under its own code.
CREATE TABLE account_maps (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) PRIMARY KEY,
    document    text NOT NULL,
    updated_by  text NOT NULL,
    updated_at  timestamp NOT NULL
);
