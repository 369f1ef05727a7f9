-- Every write-off that takes effect (an approved balance waiver, the write-off
-- route's included) is one item for finance's review, created in the same
-- transaction. Reviews are appended, never edited: a flagged item resolved later
-- keeps both.
CREATE TABLE write_offs (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    customer_id     uuid NOT NULL,
    store_id        uuid NOT NULL,
    currency        text NOT NULL,
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    reason_code     text NOT NULL,
    story           text NOT NULL,
    requested_by    text NOT NULL,
    approved_by     text NULL,
    decision_rule   text NOT NULL,
    policy_version  integer NOT NULL,
    write_off_of    uuid NULL,
    effective_on    date NOT NULL,
    status          text NOT NULL CHECK (status IN ('unreviewed', 'reviewed', 'flagged')),
    created_at      timestamp NOT NULL,
    updated_at      timestamp NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX write_offs_by_status ON write_offs (tenant_id, status, id);
CREATE INDEX write_offs_by_date ON write_offs (tenant_id, effective_on);

CREATE TABLE write_off_reviews (
    tenant_id      uuid NOT NULL REFERENCES tenants (id),
    id             uuid NOT NULL,
    write_off_id   uuid NOT NULL,
    outcome        text NOT NULL CHECK (outcome IN ('reviewed', 'flagged')),
    note           text NULL,
    reviewer       text NOT NULL,
    reviewer_role  text NOT NULL,
    created_at     timestamp NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX write_off_reviews_by_item ON write_off_reviews (tenant_id, write_off_id);
CREATE TRIGGER write_off_reviews_no_update BEFORE UPDATE OR DELETE ON write_off_reviews
    FOR EACH ROW EXECUTE FUNCTION goodwill_refuse_change();
CREATE TRIGGER write_off_reviews_no_truncate BEFORE TRUNCATE ON write_off_reviews
    FOR EACH STATEMENT EXECUTE FUNCTION goodwill_refuse_change();

-- Waivers that took effect before this migration are write-offs too.
INSERT INTO write_offs (tenant_id, id, customer_id, store_id, currency, amount_minor,
        reason_code, story, requested_by, approved_by, decision_rule, policy_version,
        write_off_of, effective_on, status, created_at, updated_at)
SELECT tenant_id, id, customer_id, store_id, currency, amount_minor, reason_code, story,
       requested_by, NULL, decision_rule, policy_version, write_off_of, effective_on,
       'unreviewed', created_at, created_at
FROM gestures
WHERE kind = 'balance_waiver' AND status IN ('approved', 'reversed') AND amount_minor > 0;
