-- Policy versions that loosen the policy (raise a limit or the ceiling, remove
-- a tier, disable split detection...) wait here for a second admin; approved,
-- they become the next policy version.

CREATE TABLE policy_proposals (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    id            uuid NOT NULL,
    base_version  integer NOT NULL,
    document      text NOT NULL,
    loosens       text NOT NULL,
    state         text NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    proposed_by   text NOT NULL,
    proposed_at   timestamp NOT NULL,
    decided_by    text NULL,
    decided_at    timestamp NULL,
    note          text NULL CHECK (length(note) <= 2000),
    version       integer NULL,
    PRIMARY KEY (tenant_id, id)
);
