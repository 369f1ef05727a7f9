-- Finance's pages read totals kept as gestures change instead of summing the
-- gestures each time (see the PostgreSQL migration of the same name for what
-- each table holds). SQLite has one writer, so there are no shards (always 0),
-- and row triggers keep the totals: a changed row is subtracted as it was and
-- added as it is, for each table only when what it counts changed.

CREATE TABLE report_totals (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    dim          TEXT NOT NULL,
    month        DATE NOT NULL,
    store_id     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    currency     TEXT NOT NULL,
    val          TEXT NOT NULL,
    shard        SMALLINT NOT NULL,
    n            BIGINT NOT NULL,
    value_minor  BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    retail_minor BIGINT NOT NULL,
    cost_minor   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, dim, month, store_id, kind, currency, val, shard)
);

CREATE TABLE open_promise_totals (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    store_id    TEXT NOT NULL,
    currency    TEXT NOT NULL,
    due_on      DATE NOT NULL,
    shard       SMALLINT NOT NULL,
    n           BIGINT NOT NULL,
    owed_minor  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, store_id, currency, due_on, shard)
);

CREATE TABLE promise_outcome_totals (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    store_id   TEXT NOT NULL,
    month      TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    shard      SMALLINT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, month, store_id, outcome, shard)
);

CREATE TRIGGER gestures_kept_insert AFTER INSERT ON gestures
BEGIN
    INSERT INTO report_totals (tenant_id, dim, month, store_id, kind, currency, val, shard,
                               n, value_minor, amount_minor, retail_minor, cost_minor)
    SELECT NEW.tenant_id, d.dim, substr(NEW.effective_on, 1, 7) || '-01', NEW.store_id, NEW.kind,
           NEW.currency, d.val, 0, 1,
           1 * COALESCE(NEW.amount_minor, NEW.retail_value_minor, 0),
           1 * COALESCE(NEW.amount_minor, 0),
           1 * COALESCE(NEW.retail_value_minor, 0),
           1 * COALESCE(NEW.cost_minor, 0)
    FROM (SELECT '' AS dim, '' AS val
          UNION ALL SELECT 'reason_code', NEW.reason_code
          UNION ALL SELECT 'incident', COALESCE(NEW.incident_id, '')
          UNION ALL SELECT 'requester', NEW.requested_by
          UNION ALL SELECT 'approver',
              CASE WHEN json_extract(NEW.approval, '$.decided.outcome') = 'approved'
                   THEN COALESCE(json_extract(NEW.approval, '$.decided.by'), '') ELSE '' END) AS d
    WHERE NEW.status IN ('approved', 'settled', 'written_off') AND (d.dim = '' OR d.val <> '')
    ON CONFLICT (tenant_id, dim, month, store_id, kind, currency, val, shard) DO UPDATE
    SET n = n + excluded.n,
        value_minor = value_minor + excluded.value_minor,
        amount_minor = amount_minor + excluded.amount_minor,
        retail_minor = retail_minor + excluded.retail_minor,
        cost_minor = cost_minor + excluded.cost_minor;
    INSERT INTO open_promise_totals (tenant_id, store_id, currency, due_on, shard, n, owed_minor)
    SELECT NEW.tenant_id, NEW.store_id, NEW.currency, NEW.due_on, 0, 1, 1 * (COALESCE(NEW.amount_minor, 0) - NEW.paid_minor - NEW.waived_minor)
    WHERE NEW.kind = 'deferred_payment' AND NEW.status = 'approved' AND NEW.due_on IS NOT NULL
      AND (COALESCE(NEW.amount_minor, 0) - NEW.paid_minor - NEW.waived_minor) > 0
    ON CONFLICT (tenant_id, store_id, currency, due_on, shard) DO UPDATE
    SET n = n + excluded.n, owed_minor = owed_minor + excluded.owed_minor;
    INSERT INTO promise_outcome_totals (tenant_id, month, store_id, outcome, shard, n)
    SELECT NEW.tenant_id, substr(NEW.updated_at, 1, 7), NEW.store_id, NEW.status, 0, 1
    WHERE NEW.kind = 'deferred_payment' AND NEW.status IN ('settled', 'written_off')
    ON CONFLICT (tenant_id, month, store_id, outcome, shard) DO UPDATE
    SET n = n + excluded.n;
END;

-- An update changes a table's totals only when what that table counts changed.
CREATE TRIGGER gestures_kept_update_report AFTER UPDATE ON gestures
WHEN (OLD.status, OLD.effective_on, OLD.store_id, OLD.kind, OLD.currency, OLD.reason_code, OLD.incident_id, OLD.requested_by, OLD.approval, OLD.amount_minor, OLD.retail_value_minor, OLD.cost_minor)
     IS NOT (NEW.status, NEW.effective_on, NEW.store_id, NEW.kind, NEW.currency, NEW.reason_code, NEW.incident_id, NEW.requested_by, NEW.approval, NEW.amount_minor, NEW.retail_value_minor, NEW.cost_minor)
BEGIN
    INSERT INTO report_totals (tenant_id, dim, month, store_id, kind, currency, val, shard,
                               n, value_minor, amount_minor, retail_minor, cost_minor)
    SELECT OLD.tenant_id, d.dim, substr(OLD.effective_on, 1, 7) || '-01', OLD.store_id, OLD.kind,
           OLD.currency, d.val, 0, -1,
           -1 * COALESCE(OLD.amount_minor, OLD.retail_value_minor, 0),
           -1 * COALESCE(OLD.amount_minor, 0),
           -1 * COALESCE(OLD.retail_value_minor, 0),
           -1 * COALESCE(OLD.cost_minor, 0)
    FROM (SELECT '' AS dim, '' AS val
          UNION ALL SELECT 'reason_code', OLD.reason_code
          UNION ALL SELECT 'incident', COALESCE(OLD.incident_id, '')
          UNION ALL SELECT 'requester', OLD.requested_by
          UNION ALL SELECT 'approver',
              CASE WHEN json_extract(OLD.approval, '$.decided.outcome') = 'approved'
                   THEN COALESCE(json_extract(OLD.approval, '$.decided.by'), '') ELSE '' END) AS d
    WHERE OLD.status IN ('approved', 'settled', 'written_off') AND (d.dim = '' OR d.val <> '')
    ON CONFLICT (tenant_id, dim, month, store_id, kind, currency, val, shard) DO UPDATE
    SET n = n + excluded.n,
        value_minor = value_minor + excluded.value_minor,
        amount_minor = amount_minor + excluded.amount_minor,
        retail_minor = retail_minor + excluded.retail_minor,
        cost_minor = cost_minor + excluded.cost_minor;
    INSERT INTO report_totals (tenant_id, dim, month, store_id, kind, currency, val, shard,
                               n, value_minor, amount_minor, retail_minor, cost_minor)
    SELECT NEW.tenant_id, d.dim, substr(NEW.effective_on, 1, 7) || '-01', NEW.store_id, NEW.kind,
           NEW.currency, d.val, 0, 1,
           1 * COALESCE(NEW.amount_minor, NEW.retail_value_minor, 0),
           1 * COALESCE(NEW.amount_minor, 0),
           1 * COALESCE(NEW.retail_value_minor, 0),
           1 * COALESCE(NEW.cost_minor, 0)
    FROM (SELECT '' AS dim, '' AS val
          UNION ALL SELECT 'reason_code', NEW.reason_code
          UNION ALL SELECT 'incident', COALESCE(NEW.incident_id, '')
          UNION ALL SELECT 'requester', NEW.requested_by
          UNION ALL SELECT 'approver',
              CASE WHEN json_extract(NEW.approval, '$.decided.outcome') = 'approved'
                   THEN COALESCE(json_extract(NEW.approval, '$.decided.by'), '') ELSE '' END) AS d
    WHERE NEW.status IN ('approved', 'settled', 'written_off') AND (d.dim = '' OR d.val <> '')
    ON CONFLICT (tenant_id, dim, month, store_id, kind, currency, val, shard) DO UPDATE
    SET n = n + excluded.n,
        value_minor = value_minor + excluded.value_minor,
        amount_minor = amount_minor + excluded.amount_minor,
        retail_minor = retail_minor + excluded.retail_minor,
        cost_minor = cost_minor + excluded.cost_minor;
END;

CREATE TRIGGER gestures_kept_update_open AFTER UPDATE ON gestures
WHEN (OLD.kind, OLD.status, OLD.store_id, OLD.currency, OLD.due_on, OLD.amount_minor, OLD.paid_minor, OLD.waived_minor)
     IS NOT (NEW.kind, NEW.status, NEW.store_id, NEW.currency, NEW.due_on, NEW.amount_minor, NEW.paid_minor, NEW.waived_minor)
BEGIN
    INSERT INTO open_promise_totals (tenant_id, store_id, currency, due_on, shard, n, owed_minor)
    SELECT OLD.tenant_id, OLD.store_id, OLD.currency, OLD.due_on, 0, -1, -1 * (COALESCE(OLD.amount_minor, 0) - OLD.paid_minor - OLD.waived_minor)
    WHERE OLD.kind = 'deferred_payment' AND OLD.status = 'approved' AND OLD.due_on IS NOT NULL
      AND (COALESCE(OLD.amount_minor, 0) - OLD.paid_minor - OLD.waived_minor) > 0
    ON CONFLICT (tenant_id, store_id, currency, due_on, shard) DO UPDATE
    SET n = n + excluded.n, owed_minor = owed_minor + excluded.owed_minor;
    INSERT INTO open_promise_totals (tenant_id, store_id, currency, due_on, shard, n, owed_minor)
    SELECT NEW.tenant_id, NEW.store_id, NEW.currency, NEW.due_on, 0, 1, 1 * (COALESCE(NEW.amount_minor, 0) - NEW.paid_minor - NEW.waived_minor)
    WHERE NEW.kind = 'deferred_payment' AND NEW.status = 'approved' AND NEW.due_on IS NOT NULL
      AND (COALESCE(NEW.amount_minor, 0) - NEW.paid_minor - NEW.waived_minor) > 0
    ON CONFLICT (tenant_id, store_id, currency, due_on, shard) DO UPDATE
    SET n = n + excluded.n, owed_minor = owed_minor + excluded.owed_minor;
END;

CREATE TRIGGER gestures_kept_update_outcome AFTER UPDATE ON gestures
WHEN (OLD.kind, OLD.status, OLD.store_id, substr(OLD.updated_at, 1, 7))
     IS NOT (NEW.kind, NEW.status, NEW.store_id, substr(NEW.updated_at, 1, 7))
BEGIN
    INSERT INTO promise_outcome_totals (tenant_id, month, store_id, outcome, shard, n)
    SELECT OLD.tenant_id, substr(OLD.updated_at, 1, 7), OLD.store_id, OLD.status, 0, -1
    WHERE OLD.kind = 'deferred_payment' AND OLD.status IN ('settled', 'written_off')
    ON CONFLICT (tenant_id, month, store_id, outcome, shard) DO UPDATE
    SET n = n + excluded.n;
    INSERT INTO promise_outcome_totals (tenant_id, month, store_id, outcome, shard, n)
    SELECT NEW.tenant_id, substr(NEW.updated_at, 1, 7), NEW.store_id, NEW.status, 0, 1
    WHERE NEW.kind = 'deferred_payment' AND NEW.status IN ('settled', 'written_off')
    ON CONFLICT (tenant_id, month, store_id, outcome, shard) DO UPDATE
    SET n = n + excluded.n;
END;

CREATE TRIGGER gestures_kept_delete AFTER DELETE ON gestures
BEGIN
    INSERT INTO report_totals (tenant_id, dim, month, store_id, kind, currency, val, shard,
                               n, value_minor, amount_minor, retail_minor, cost_minor)
    SELECT OLD.tenant_id, d.dim, substr(OLD.effective_on, 1, 7) || '-01', OLD.store_id, OLD.kind,
           OLD.currency, d.val, 0, -1,
           -1 * COALESCE(OLD.amount_minor, OLD.retail_value_minor, 0),
           -1 * COALESCE(OLD.amount_minor, 0),
           -1 * COALESCE(OLD.retail_value_minor, 0),
           -1 * COALESCE(OLD.cost_minor, 0)
    FROM (SELECT '' AS dim, '' AS val
          UNION ALL SELECT 'reason_code', OLD.reason_code
          UNION ALL SELECT 'incident', COALESCE(OLD.incident_id, '')
          UNION ALL SELECT 'requester', OLD.requested_by
          UNION ALL SELECT 'approver',
              CASE WHEN json_extract(OLD.approval, '$.decided.outcome') = 'approved'
                   THEN COALESCE(json_extract(OLD.approval, '$.decided.by'), '') ELSE '' END) AS d
    WHERE OLD.status IN ('approved', 'settled', 'written_off') AND (d.dim = '' OR d.val <> '')
    ON CONFLICT (tenant_id, dim, month, store_id, kind, currency, val, shard) DO UPDATE
    SET n = n + excluded.n,
        value_minor = value_minor + excluded.value_minor,
        amount_minor = amount_minor + excluded.amount_minor,
        retail_minor = retail_minor + excluded.retail_minor,
        cost_minor = cost_minor + excluded.cost_minor;
    INSERT INTO open_promise_totals (tenant_id, store_id, currency, due_on, shard, n, owed_minor)
    SELECT OLD.tenant_id, OLD.store_id, OLD.currency, OLD.due_on, 0, -1, -1 * (COALESCE(OLD.amount_minor, 0) - OLD.paid_minor - OLD.waived_minor)
    WHERE OLD.kind = 'deferred_payment' AND OLD.status = 'approved' AND OLD.due_on IS NOT NULL
      AND (COALESCE(OLD.amount_minor, 0) - OLD.paid_minor - OLD.waived_minor) > 0
    ON CONFLICT (tenant_id, store_id, currency, due_on, shard) DO UPDATE
    SET n = n + excluded.n, owed_minor = owed_minor + excluded.owed_minor;
    INSERT INTO promise_outcome_totals (tenant_id, month, store_id, outcome, shard, n)
    SELECT OLD.tenant_id, substr(OLD.updated_at, 1, 7), OLD.store_id, OLD.status, 0, -1
    WHERE OLD.kind = 'deferred_payment' AND OLD.status IN ('settled', 'written_off')
    ON CONFLICT (tenant_id, month, store_id, outcome, shard) DO UPDATE
    SET n = n + excluded.n;
END;

-- What the gestures already recorded add up to.
INSERT INTO report_totals (tenant_id, dim, month, store_id, kind, currency, val, shard,
                           n, value_minor, amount_minor, retail_minor, cost_minor)
SELECT tenant_id, dim, month, store_id, kind, currency, val, 0, count(*), sum(value_minor),
       sum(amount_minor), sum(retail_minor), sum(cost_minor)
FROM (
    SELECT g.tenant_id, d.dim, substr(g.effective_on, 1, 7) || '-01' AS month, g.store_id, g.kind,
           g.currency,
           CASE d.dim WHEN '' THEN ''
                      WHEN 'reason_code' THEN g.reason_code
                      WHEN 'incident' THEN COALESCE(g.incident_id, '')
                      WHEN 'requester' THEN g.requested_by
                      ELSE CASE WHEN json_extract(g.approval, '$.decided.outcome') = 'approved'
                                THEN COALESCE(json_extract(g.approval, '$.decided.by'), '') ELSE '' END
           END AS val,
           COALESCE(g.amount_minor, g.retail_value_minor, 0) AS value_minor,
           COALESCE(g.amount_minor, 0) AS amount_minor,
           COALESCE(g.retail_value_minor, 0) AS retail_minor,
           COALESCE(g.cost_minor, 0) AS cost_minor
    FROM gestures g
    CROSS JOIN (SELECT '' AS dim UNION ALL SELECT 'reason_code' UNION ALL SELECT 'incident'
                UNION ALL SELECT 'requester' UNION ALL SELECT 'approver') AS d
    WHERE g.status IN ('approved', 'settled', 'written_off')
) AS x
WHERE dim = '' OR val <> ''
GROUP BY tenant_id, dim, month, store_id, kind, currency, val;

INSERT INTO open_promise_totals (tenant_id, store_id, currency, due_on, shard, n, owed_minor)
SELECT tenant_id, store_id, currency, due_on, 0, count(*),
       sum(COALESCE(amount_minor, 0) - paid_minor - waived_minor)
FROM gestures
WHERE kind = 'deferred_payment' AND status = 'approved' AND due_on IS NOT NULL
  AND COALESCE(amount_minor, 0) - paid_minor - waived_minor > 0
GROUP BY 1, 2, 3, 4;

INSERT INTO promise_outcome_totals (tenant_id, month, store_id, outcome, shard, n)
SELECT tenant_id, substr(updated_at, 1, 7), store_id, status, 0, count(*)
FROM gestures
WHERE kind = 'deferred_payment' AND status IN ('settled', 'written_off')
GROUP BY 1, 2, 3, 4;
