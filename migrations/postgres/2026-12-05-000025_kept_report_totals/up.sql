-- Finance's pages read totals kept as gestures change instead of summing the
-- gestures each time (over a million gestures a sum took seconds):
--
-- report_totals: the goodwill report's figures of the gestures in effect
--   (approved, settled, written off), per month of effective_on, store, kind
--   and currency, once in total (dim '') and once per value of each grouping
--   that is not already part of the key (reason_code, incident, requester,
--   approver).
-- open_promise_totals: open deferred payments still owed, per store,
--   currency and due day (the aging's buckets are ranges of due days).
-- promise_outcome_totals: deferred payments settled or written off, per
--   store and month of their last change (the keeping rate by month).
--
-- Triggers on gestures keep them: each statement's rows, as they were
-- (subtracted) and as they are (added), summed per key, so a change that
-- moves no figure writes nothing. Like busy balances, every key is spread
-- over 16 shards picked by the gesture's id, so concurrent commands rarely
-- wait on one another's row; a reader sums the shards.

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

-- Adds `added` and subtracts `removed` (gesture rows) from the kept totals.
CREATE FUNCTION gesture_totals_apply(added gestures[], removed gestures[]) RETURNS void
LANGUAGE sql AS $$
    WITH changed AS (
        SELECT 1::bigint AS sign, a.* FROM unnest(added) a
        UNION ALL
        SELECT -1::bigint, r.* FROM unnest(removed) r
    ), in_effect AS (
        SELECT c.*,
               CASE WHEN c.approval::jsonb #>> '{decided,outcome}' = 'approved'
                    THEN COALESCE(c.approval::jsonb #>> '{decided,by}', '') ELSE '' END
                   AS approver
        FROM changed c
        WHERE c.status IN ('approved', 'settled', 'written_off')
    )
    INSERT INTO report_totals AS t (tenant_id, dim, month, store_id, kind, currency, val, shard,
                                    n, value_minor, amount_minor, retail_minor, cost_minor)
    SELECT e.tenant_id, d.dim, date_trunc('month', e.effective_on)::date, e.store_id, e.kind,
           e.currency, d.val, get_byte(uuid_send(e.id), 15) % 16,
           sum(e.sign),
           sum(e.sign * COALESCE(e.amount_minor, e.retail_value_minor, 0)),
           sum(e.sign * COALESCE(e.amount_minor, 0)),
           sum(e.sign * COALESCE(e.retail_value_minor, 0)),
           sum(e.sign * COALESCE(e.cost_minor, 0))
    FROM in_effect e
    CROSS JOIN LATERAL (VALUES ('', ''),
                               ('reason_code', e.reason_code),
                               ('incident', COALESCE(e.incident_id::text, '')),
                               ('requester', e.requested_by),
                               ('approver', e.approver)) AS d (dim, val)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    HAVING sum(e.sign) <> 0
        OR sum(e.sign * COALESCE(e.amount_minor, e.retail_value_minor, 0)) <> 0
        OR sum(e.sign * COALESCE(e.amount_minor, 0)) <> 0
        OR sum(e.sign * COALESCE(e.retail_value_minor, 0)) <> 0
        OR sum(e.sign * COALESCE(e.cost_minor, 0)) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (tenant_id, dim, month, store_id, kind, currency, val, shard) DO UPDATE
    SET n = t.n + EXCLUDED.n,
        value_minor = t.value_minor + EXCLUDED.value_minor,
        amount_minor = t.amount_minor + EXCLUDED.amount_minor,
        retail_minor = t.retail_minor + EXCLUDED.retail_minor,
        cost_minor = t.cost_minor + EXCLUDED.cost_minor;

    WITH changed AS (
        SELECT 1::bigint AS sign, a.* FROM unnest(added) a
        UNION ALL
        SELECT -1::bigint, r.* FROM unnest(removed) r
    ), open AS (
        SELECT c.sign, c.tenant_id, c.store_id, c.currency, c.due_on, c.id,
               COALESCE(c.amount_minor, 0) - c.paid_minor - c.waived_minor AS owed
        FROM changed c
        WHERE c.kind = 'deferred_payment' AND c.status = 'approved' AND c.due_on IS NOT NULL
    )
    INSERT INTO open_promise_totals AS t (tenant_id, store_id, currency, due_on, shard, n, owed_minor)
    SELECT o.tenant_id, o.store_id, o.currency, o.due_on, get_byte(uuid_send(o.id), 15) % 16,
           sum(o.sign), sum(o.sign * o.owed)
    FROM open o
    WHERE o.owed > 0
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(o.sign) <> 0 OR sum(o.sign * o.owed) <> 0
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (tenant_id, store_id, currency, due_on, shard) DO UPDATE
    SET n = t.n + EXCLUDED.n, owed_minor = t.owed_minor + EXCLUDED.owed_minor;

    WITH changed AS (
        SELECT 1::bigint AS sign, a.* FROM unnest(added) a
        UNION ALL
        SELECT -1::bigint, r.* FROM unnest(removed) r
    )
    INSERT INTO promise_outcome_totals AS t (tenant_id, month, store_id, outcome, shard, n)
    SELECT c.tenant_id, to_char(c.updated_at, 'YYYY-MM'), c.store_id, c.status,
           get_byte(uuid_send(c.id), 15) % 16, sum(c.sign)
    FROM changed c
    WHERE c.kind = 'deferred_payment' AND c.status IN ('settled', 'written_off')
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(c.sign) <> 0
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (tenant_id, month, store_id, outcome, shard) DO UPDATE
    SET n = t.n + EXCLUDED.n;
$$;

CREATE FUNCTION gestures_kept_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM gesture_totals_apply(ARRAY(SELECT a::gestures FROM added a), '{}'::gestures[]);
    RETURN NULL;
END $$;

CREATE FUNCTION gestures_kept_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM gesture_totals_apply(ARRAY(SELECT a::gestures FROM added a), ARRAY(SELECT r::gestures FROM removed r));
    RETURN NULL;
END $$;

CREATE FUNCTION gestures_kept_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM gesture_totals_apply('{}'::gestures[], ARRAY(SELECT r::gestures FROM removed r));
    RETURN NULL;
END $$;

CREATE TRIGGER gestures_kept_insert AFTER INSERT ON gestures
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION gestures_kept_on_insert();
CREATE TRIGGER gestures_kept_update AFTER UPDATE ON gestures
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION gestures_kept_on_update();
CREATE TRIGGER gestures_kept_delete AFTER DELETE ON gestures
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION gestures_kept_on_delete();

-- What the gestures already recorded add up to, a tenant's month at a time.
DO $$
DECLARE
    b record;
BEGIN
    FOR b IN SELECT DISTINCT tenant_id, date_trunc('month', effective_on)::date AS m FROM gestures
    LOOP
        PERFORM gesture_totals_apply(
            ARRAY(SELECT g FROM gestures g
                  WHERE g.tenant_id = b.tenant_id
                    AND g.effective_on >= b.m AND g.effective_on < b.m + interval '1 month'),
            '{}');
    END LOOP;
END $$;
