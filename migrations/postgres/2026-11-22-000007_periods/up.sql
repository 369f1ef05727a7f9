-- Accounting periods: calendar months per tenant. A month without a row is open.
-- Closing one keeps the totals of its entries per account and currency, and
-- their digest (also in the audit trail), so a later change is detectable.
CREATE TABLE periods (
    tenant_id      uuid NOT NULL REFERENCES tenants (id),
    month          text NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    state          text NOT NULL CHECK (state IN ('open', 'closed')),
    closed_by      text NULL,
    closed_at      timestamp NULL,
    close_reason   text NULL,
    forced         boolean NOT NULL DEFAULT false,
    totals         text NULL,
    digest         text NULL,
    reopened_by    text NULL,
    reopened_at    timestamp NULL,
    reopen_reason  text NULL,
    PRIMARY KEY (tenant_id, month)
);
-- What a month's totals are recomputed from.
CREATE INDEX entries_by_date ON entries (tenant_id, effective_on);
