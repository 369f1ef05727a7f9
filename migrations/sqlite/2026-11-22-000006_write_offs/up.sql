-- Every write-off that takes effect (an approved balance waiver, the write-off
-- route's included) is one item for finance's review, created in the same
-- transaction. Reviews are appended, never edited: a flagged item resolved later
-- keeps both.
CREATE TABLE write_offs (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    id              TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    store_id        TEXT NOT NULL,
    currency        TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL CHECK (amount_minor > 0),
    reason_code     TEXT NOT NULL,
    story           TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    approved_by     TEXT NULL,
    decision_rule   TEXT NOT NULL,
    policy_version  INTEGER NOT NULL,
    write_off_of    TEXT NULL,
    effective_on    DATE NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('unreviewed', 'reviewed', 'flagged')),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX write_offs_by_status ON write_offs (tenant_id, status, id);
CREATE INDEX write_offs_by_date ON write_offs (tenant_id, effective_on);

CREATE TABLE write_off_reviews (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    id             TEXT NOT NULL,
    write_off_id   TEXT NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('reviewed', 'flagged')),
    note           TEXT NULL,
    reviewer       TEXT NOT NULL,
    reviewer_role  TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX write_off_reviews_by_item ON write_off_reviews (tenant_id, write_off_id);
CREATE TRIGGER write_off_reviews_no_update BEFORE UPDATE ON write_off_reviews
BEGIN
    SELECT RAISE(ABORT, 'goodwill: UPDATE on write_off_reviews is not allowed');
END;
CREATE TRIGGER write_off_reviews_no_delete BEFORE DELETE ON write_off_reviews
BEGIN
    SELECT RAISE(ABORT, 'goodwill: DELETE on write_off_reviews is not allowed');
END;

-- Waivers that took effect before this migration are write-offs too.
INSERT INTO write_offs (tenant_id, id, customer_id, store_id, currency, amount_minor,
        reason_code, story, requested_by, approved_by, decision_rule, policy_version,
        write_off_of, effective_on, status, created_at, updated_at)
SELECT tenant_id, id, customer_id, store_id, currency, amount_minor, reason_code, story,
       requested_by, NULL, decision_rule, policy_version, write_off_of, effective_on,
       'unreviewed', created_at, created_at
FROM gestures
WHERE kind = 'balance_waiver' AND status IN ('approved', 'reversed') AND amount_minor > 0;
