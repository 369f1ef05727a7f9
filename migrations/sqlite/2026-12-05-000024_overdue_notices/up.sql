-- A promise falls overdue with no command: the day passes. The service notes
-- it once per promise (gesture.overdue, audited and in the feed, so webhooks
-- carry it); this row says it was noted.
CREATE TABLE overdue_notices (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    gesture_id  TEXT NOT NULL,
    due_on      DATE NOT NULL,
    noted_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, gesture_id)
);
