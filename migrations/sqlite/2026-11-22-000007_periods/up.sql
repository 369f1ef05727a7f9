-- See the PostgreSQL migration of the same name.
CREATE TABLE periods (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    month          TEXT NOT NULL CHECK (length(month) = 7),
    state          TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    closed_by      TEXT NULL,
    closed_at      TIMESTAMP NULL,
    close_reason   TEXT NULL,
    forced         BOOLEAN NOT NULL DEFAULT 0,
    totals         TEXT NULL,
    digest         TEXT NULL,
    reopened_by    TEXT NULL,
    reopened_at    TIMESTAMP NULL,
    reopen_reason  TEXT NULL,
    PRIMARY KEY (tenant_id, month)
);
CREATE INDEX entries_by_date ON entries (tenant_id, effective_on);
