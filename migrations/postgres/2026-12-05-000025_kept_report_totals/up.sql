-- Finance's pages read totals kept as gestures change instead of summing the
-- gestures each time (over a million gestures a sum took seconds):
--
-- report_totals: the goodwill report's figures of the gestures in effect
--   (approved, settled, written off), per month of effective_on, store, kind
--   and currency, once in total (dim '') and once per value of each grouping
--   that is not already part of the key (reason_code, incident, requester,
--   approver). An empty value (no incident, no approver: most gestures) has
--   no row: a reader takes it as what the other values leave of the total.
-- open_promise_totals: open deferred payments still owed, per store,
--   currency and due day (the aging's buckets are ranges of due days).
-- promise_outcome_totals: deferred payments settled or written off, per
--   store and month of their last change (the keeping rate by month).
--
-- Triggers on gestures keep them: a changed row is subtracted as it was and
-- added as it is, for each table only when what it counts changed. The
-- triggers are deferred to the commit, so a command holds a totals row only
-- while it commits; and like busy balances, every key is spread over 16
-- shards picked by the gesture's id, so concurrent commands rarely wait on
-- one another. A reader sums the shards.

CREATE TABLE report_totals (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    dim          text NOT NULL,
    month        date NOT NULL,
    store_id     uuid NOT NULL,
    kind         text NOT NULL,
    currency     text NOT NULL,
    val          text NOT NULL,
    shard        smallint NOT NULL,
    n            bigint NOT NULL,
    value_minor  bigint NOT NULL,
    amount_minor bigint NOT NULL,
    retail_minor bigint NOT NULL,
    cost_minor   bigint NOT NULL,
    PRIMARY KEY (tenant_id, dim, month, store_id, kind, currency, val, shard)
);

CREATE TABLE open_promise_totals (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    store_id    uuid NOT NULL,
    currency    text NOT NULL,
    due_on      date NOT NULL,
    shard       smallint NOT NULL,
    n           bigint NOT NULL,
    owed_minor  bigint NOT NULL,
    PRIMARY KEY (tenant_id, store_id, currency, due_on, shard)
);

CREATE TABLE promise_outcome_totals (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    store_id   uuid NOT NULL,
    month      text NOT NULL,
    outcome    text NOT NULL,
    shard      smallint NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (tenant_id, month, store_id, outcome, shard)
);

-- The goodwill report's figures of `g` (a gesture row), times `sign`.
CREATE FUNCTION kept_report_add(g gestures, sign bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    approver text := '';
BEGIN
    IF g.status NOT IN ('approved', 'settled', 'written_off') THEN
        RETURN;
    END IF;
    IF g.approval::jsonb #>> '{decided,outcome}' = 'approved' THEN
        approver := COALESCE(g.approval::jsonb #>> '{decided,by}', '');
    END IF;
    INSERT INTO report_totals AS t (tenant_id, dim, month, store_id, kind, currency, val, shard,
                                    n, value_minor, amount_minor, retail_minor, cost_minor)
    SELECT g.tenant_id, d.dim, date_trunc('month', g.effective_on)::date, g.store_id, g.kind,
           g.currency, d.val, get_byte(uuid_send(g.id), 15) % 16, sign,
           sign * COALESCE(g.amount_minor, g.retail_value_minor, 0),
           sign * COALESCE(g.amount_minor, 0),
           sign * COALESCE(g.retail_value_minor, 0),
           sign * COALESCE(g.cost_minor, 0)
    FROM (VALUES ('', ''),
                 ('approver', approver),
                 ('incident', COALESCE(g.incident_id::text, '')),
                 ('reason_code', g.reason_code),
                 ('requester', g.requested_by)) AS d (dim, val)
    WHERE d.dim = '' OR d.val <> ''
    ORDER BY d.dim
    ON CONFLICT (tenant_id, dim, month, store_id, kind, currency, val, shard) DO UPDATE
    SET n = t.n + EXCLUDED.n,
        value_minor = t.value_minor + EXCLUDED.value_minor,
        amount_minor = t.amount_minor + EXCLUDED.amount_minor,
        retail_minor = t.retail_minor + EXCLUDED.retail_minor,
        cost_minor = t.cost_minor + EXCLUDED.cost_minor;
END $$;

-- What `g` still owes, when it is an open promise, times `sign`.
CREATE FUNCTION kept_open_add(g gestures, sign bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    owed bigint := COALESCE(g.amount_minor, 0) - g.paid_minor - g.waived_minor;
BEGIN
    IF g.kind <> 'deferred_payment' OR g.status <> 'approved' OR g.due_on IS NULL OR owed <= 0 THEN
        RETURN;
    END IF;
    INSERT INTO open_promise_totals AS t (tenant_id, store_id, currency, due_on, shard, n, owed_minor)
    VALUES (g.tenant_id, g.store_id, g.currency, g.due_on, get_byte(uuid_send(g.id), 15) % 16,
            sign, sign * owed)
    ON CONFLICT (tenant_id, store_id, currency, due_on, shard) DO UPDATE
    SET n = t.n + EXCLUDED.n, owed_minor = t.owed_minor + EXCLUDED.owed_minor;
END $$;

-- `g`, when it is a promise settled or written off, times `sign`.
CREATE FUNCTION kept_outcome_add(g gestures, sign bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF g.kind <> 'deferred_payment' OR g.status NOT IN ('settled', 'written_off') THEN
        RETURN;
    END IF;
    INSERT INTO promise_outcome_totals AS t (tenant_id, month, store_id, outcome, shard, n)
    VALUES (g.tenant_id, to_char(g.updated_at, 'YYYY-MM'), g.store_id, g.status,
            get_byte(uuid_send(g.id), 15) % 16, sign)
    ON CONFLICT (tenant_id, month, store_id, outcome, shard) DO UPDATE
    SET n = t.n + EXCLUDED.n;
END $$;

-- One changed gesture row: each table's part of it taken out as it was and
-- put in as it is, when what that table counts changed.
CREATE FUNCTION gestures_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM kept_report_add(NEW, 1);
        PERFORM kept_open_add(NEW, 1);
        PERFORM kept_outcome_add(NEW, 1);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM kept_report_add(OLD, -1);
        PERFORM kept_open_add(OLD, -1);
        PERFORM kept_outcome_add(OLD, -1);
    ELSE
        IF (OLD.status, OLD.effective_on, OLD.store_id, OLD.kind, OLD.currency, OLD.reason_code,
            OLD.incident_id, OLD.requested_by, OLD.approval, OLD.amount_minor,
            OLD.retail_value_minor, OLD.cost_minor)
           IS DISTINCT FROM
           (NEW.status, NEW.effective_on, NEW.store_id, NEW.kind, NEW.currency, NEW.reason_code,
            NEW.incident_id, NEW.requested_by, NEW.approval, NEW.amount_minor,
            NEW.retail_value_minor, NEW.cost_minor) THEN
            PERFORM kept_report_add(OLD, -1);
            PERFORM kept_report_add(NEW, 1);
        END IF;
        IF (OLD.kind, OLD.status, OLD.store_id, OLD.currency, OLD.due_on, OLD.amount_minor,
            OLD.paid_minor, OLD.waived_minor)
           IS DISTINCT FROM
           (NEW.kind, NEW.status, NEW.store_id, NEW.currency, NEW.due_on, NEW.amount_minor,
            NEW.paid_minor, NEW.waived_minor) THEN
            PERFORM kept_open_add(OLD, -1);
            PERFORM kept_open_add(NEW, 1);
        END IF;
        IF (OLD.kind, OLD.status, OLD.store_id, to_char(OLD.updated_at, 'YYYY-MM'))
           IS DISTINCT FROM
           (NEW.kind, NEW.status, NEW.store_id, to_char(NEW.updated_at, 'YYYY-MM')) THEN
            PERFORM kept_outcome_add(OLD, -1);
            PERFORM kept_outcome_add(NEW, 1);
        END IF;
    END IF;
    RETURN NULL;
END $$;

-- Inserts that count nowhere (a pending gesture, say) skip the function.
CREATE CONSTRAINT TRIGGER gestures_kept_insert AFTER INSERT ON gestures
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.status IN ('approved', 'settled', 'written_off') OR NEW.kind = 'deferred_payment')
    EXECUTE FUNCTION gestures_kept();
CREATE CONSTRAINT TRIGGER gestures_kept_update AFTER UPDATE ON gestures
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gestures_kept();
CREATE CONSTRAINT TRIGGER gestures_kept_delete AFTER DELETE ON gestures
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gestures_kept();

-- What the gestures already recorded add up to.
INSERT INTO report_totals (tenant_id, dim, month, store_id, kind, currency, val, shard,
                           n, value_minor, amount_minor, retail_minor, cost_minor)
SELECT g.tenant_id, d.dim, date_trunc('month', g.effective_on)::date, g.store_id, g.kind,
       g.currency, d.val, get_byte(uuid_send(g.id), 15) % 16, count(*),
       sum(COALESCE(g.amount_minor, g.retail_value_minor, 0)), sum(COALESCE(g.amount_minor, 0)),
       sum(COALESCE(g.retail_value_minor, 0)), sum(COALESCE(g.cost_minor, 0))
FROM gestures g
CROSS JOIN LATERAL (
    VALUES ('', ''),
           ('approver', CASE WHEN g.approval::jsonb #>> '{decided,outcome}' = 'approved'
                             THEN COALESCE(g.approval::jsonb #>> '{decided,by}', '') ELSE '' END),
           ('incident', COALESCE(g.incident_id::text, '')),
           ('reason_code', g.reason_code),
           ('requester', g.requested_by)) AS d (dim, val)
WHERE g.status IN ('approved', 'settled', 'written_off') AND (d.dim = '' OR d.val <> '')
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

INSERT INTO open_promise_totals (tenant_id, store_id, currency, due_on, shard, n, owed_minor)
SELECT tenant_id, store_id, currency, due_on, get_byte(uuid_send(id), 15) % 16, count(*),
       sum(COALESCE(amount_minor, 0) - paid_minor - waived_minor)
FROM gestures
WHERE kind = 'deferred_payment' AND status = 'approved' AND due_on IS NOT NULL
  AND COALESCE(amount_minor, 0) - paid_minor - waived_minor > 0
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO promise_outcome_totals (tenant_id, month, store_id, outcome, shard, n)
SELECT tenant_id, to_char(updated_at, 'YYYY-MM'), store_id, status,
       get_byte(uuid_send(id), 15) % 16, count(*)
FROM gestures
WHERE kind = 'deferred_payment' AND status IN ('settled', 'written_off')
GROUP BY 1, 2, 3, 4, 5;
