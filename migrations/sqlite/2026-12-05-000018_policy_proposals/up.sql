-- Policy versions that loosen the policy (raise a limit or the ceiling, remove
-- a tier, disable split detection...) wait here for a second admin; approved,
-- they become the next policy version.

CREATE TABLE policy_proposals (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    base_version  INTEGER NOT NULL,
    document      TEXT NOT NULL,
    loosens       TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    proposed_by   TEXT NOT NULL,
    proposed_at   TIMESTAMP NOT NULL,
    decided_by    TEXT NULL,
    decided_at    TIMESTAMP NULL,
    note          TEXT NULL CHECK (length(note) <= 2000),
    version       INTEGER NULL,
    PRIMARY KEY (tenant_id, id)
);
