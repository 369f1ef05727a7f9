-- A promise falls overdue with no command: the day passes. The service notes
-- it once per promise (gesture.overdue, audited and in the feed, so webhooks
-- carry it); this row says it was noted.
CREATE TABLE overdue_notices (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    gesture_id  uuid NOT NULL,
    due_on      date NOT NULL,
    noted_at    timestamp NOT NULL,
    PRIMARY KEY (tenant_id, gesture_id)
);
