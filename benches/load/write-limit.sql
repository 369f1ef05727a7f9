-- The write limit: the least a database must do, durably, for one
-- auto-approved deferred payment, as pgbench runs it (run.sh passes :tenant
-- and :picks). Against the service's own tables, so the same indexes, checks,
-- foreign keys and triggers apply, among them the kept report totals that a
-- gesture row maintains (issue 19): they are part of a gesture's durable work.
--
-- It writes the gesture row, its ledger transaction and two entries, moves the
-- two balances (the customer's receivable, one shard of the store's sales
-- clearing), appends one audit event and stores one idempotency answer, with
-- the service's row widths (the gesture view as the audit's after-state and
-- as the stored answer). It does not do what the service does besides: decide
-- (customer lock, store, reason codes, policy, period, the self-grant limit),
-- the customer's ledger totals, the audit chain's head, the webhook feed event.
-- Ids come from pgbench's random numbers and the (customer, store) pair from
-- load_pick, inside each statement, so no extra round trip is spent on them:
-- BEGIN, 6 statements, COMMIT. pgbench reads `:name` as a variable, so the JSON
-- texts spell their colons as `~` and replace() puts them back.
\set n random(1, :picks)
\set hi random(0, 9223372036854775806)
\set shard random(0, 15)
\set amount random(100, 2500)
BEGIN;
INSERT INTO gestures (tenant_id, id, customer_id, store_id, kind, status, reason_code, story,
    staff_ids, effective_on, currency, amount_minor, due_on, paid_minor, waived_minor,
    redeemed_minor, expired_minor, requested_by, requested_role, decision_rule, created_at,
    updated_at, policy_version, approval)
SELECT :tenant::uuid, (lpad(to_hex(:hi::bigint), 16, '0') || '0000000000000001')::uuid, p.customer_id, p.store_id,
    'deferred_payment', 'approved', 'closing_time', 'load test: pay tomorrow', '[]', CURRENT_DATE,
    'USD', :amount::bigint, CURRENT_DATE + 7, 0, 0, 0, 0, 'load-limit', 'pos', 'within_self_grant_limit',
    LOCALTIMESTAMP, LOCALTIMESTAMP, 1,
    replace('{"rule"~"within_self_grant_limit","self_grant_limit_minor"~2500,"trust_bonus_minor"~null,"split_window_minor"~300,"tier"~null,"approvers"~[],"budgets"~[],"expires_at"~null,"decided"~null}', '~', chr(58))
FROM load_pick p WHERE p.n = :n::int;
INSERT INTO ledger_transactions (tenant_id, id, kind, gesture_id, effective_on, created_at)
VALUES (:tenant::uuid, (lpad(to_hex(:hi::bigint), 16, '0') || '0000000000000002')::uuid, 'gesture',
    (lpad(to_hex(:hi::bigint), 16, '0') || '0000000000000001')::uuid, CURRENT_DATE, LOCALTIMESTAMP);
INSERT INTO entries (tenant_id, id, transaction_id, account, customer_id, currency, debit_minor,
    credit_minor, effective_on, created_at)
SELECT :tenant::uuid, (lpad(to_hex(:hi::bigint), 16, '0') || lpad(to_hex(3 + e.k), 16, '0'))::uuid,
    (lpad(to_hex(:hi::bigint), 16, '0') || '0000000000000002')::uuid,
    CASE e.k WHEN 0 THEN 'receivable:' || p.customer_id ELSE 'sales_clearing:' || p.store_id END,
    p.customer_id, 'USD', CASE e.k WHEN 0 THEN :amount::bigint ELSE 0 END,
    CASE e.k WHEN 0 THEN 0 ELSE :amount::bigint END, CURRENT_DATE, LOCALTIMESTAMP
FROM load_pick p, (VALUES (0), (1)) e (k) WHERE p.n = :n::int;
INSERT INTO balances AS b (tenant_id, account, currency, customer_id, debit_minor, credit_minor,
    entry_count, shard)
SELECT :tenant::uuid, CASE e.k WHEN 0 THEN 'receivable:' || p.customer_id ELSE 'sales_clearing:' || p.store_id END,
    'USD', CASE e.k WHEN 0 THEN p.customer_id END, CASE e.k WHEN 0 THEN :amount::bigint ELSE 0 END,
    CASE e.k WHEN 0 THEN 0 ELSE :amount::bigint END, 1, CASE e.k WHEN 0 THEN 0 ELSE :shard::smallint END
FROM load_pick p, (VALUES (0), (1)) e (k) WHERE p.n = :n
ON CONFLICT (tenant_id, account, currency, shard) DO UPDATE SET
    debit_minor = b.debit_minor + excluded.debit_minor,
    credit_minor = b.credit_minor + excluded.credit_minor,
    entry_count = b.entry_count + excluded.entry_count;
INSERT INTO audit_events (tenant_id, id, chain, seq, prev_hash, hash, occurred_at, actor_sub,
    actor_role, action, entity_type, entity_id, reason, request_id, after_state, store_ids, ledger)
SELECT :tenant::uuid, (lpad(to_hex(:hi::bigint), 16, '0') || '0000000000000005')::uuid,
    'gesture:' || (lpad(to_hex(:hi::bigint), 16, '0') || '0000000000000001')::uuid, 1,
    '0000000000000000000000000000000000000000000000000000000000000000',
    md5(:hi::bigint::text) || md5(:n::int::text), LOCALTIMESTAMP, 'load-limit', 'pos', 'gesture.requested',
    'gesture', (lpad(to_hex(:hi::bigint), 16, '0') || '0000000000000001')::uuid::text, 'closing_time',
    '01a24636-636c-7688-9f9c-418ce7d08298',
    replace('{"allocations"~null,"amount"~{"amount"~"1.00","currency"~"USD"},"applies_to"~null,"cost"~null,"created_at"~"2026-12-05T12~38~19.244334Z","credit_remaining"~null,"customer_id"~"', '~', chr(58)) || p.customer_id || replace('","decision"~{"approvers"~[],"budgets"~[],"decided"~null,"expires_at"~null,"policy_version"~1,"rule"~"within_self_grant_limit","self_grant_limit"~{"amount"~"25.00","currency"~"USD"},"tier"~null,"trust"~null},"due_on"~"2026-12-12","effective_on"~"2026-12-05","estimated_value"~null,"expires_on"~null,"id"~"01a24636-636e-7175-b908-2aaab9eee05a","incident_id"~null,"kind"~"deferred_payment","outstanding"~{"amount"~"1.00","currency"~"USD"},"overdue"~false,"paid"~{"amount"~"0.00","currency"~"USD"},"reason_code"~"closing_time","requested_by"~"load-limit","retail_value"~null,"staff_ids"~[],"status"~"approved","store_id"~"', '~', chr(58)) || p.store_id || replace('","story"~"load test~ pay tomorrow","updated_at"~"2026-12-05T12~38~19.244334Z","write_off_of"~null}', '~', chr(58)),
    p.store_id::text,
    replace('[{"entries"~[{"account"~"receivable~', '~', chr(58)) || p.customer_id || replace('","credit_minor"~0,"currency"~"USD","customer_id"~"', '~', chr(58)) || p.customer_id || replace('","debit_minor"~100},{"account"~"sales_clearing~', '~', chr(58)) || p.store_id || replace('","credit_minor"~100,"currency"~"USD","customer_id"~"', '~', chr(58)) || p.customer_id || replace('","debit_minor"~0}],"kind"~"gesture","transaction_id"~"01a24636-636e-7175-b908-2aab166e357a"}]', '~', chr(58))
FROM load_pick p WHERE p.n = :n::int;
INSERT INTO idempotency_keys (tenant_id, subject, key, fingerprint, status, content_type, body,
    created_at)
VALUES (:tenant::uuid, 'load-limit', 'limit-' || :hi::bigint, md5(:hi::bigint::text) || md5(:amount::bigint::text), 201,
    'application/json',
    replace('{"allocations"~null,"amount"~{"amount"~"1.00","currency"~"USD"},"applies_to"~null,"cost"~null,"created_at"~"2026-12-05T12~38~19.244334Z","credit_remaining"~null,"customer_id"~"01a24636-4a4e-776c-8353-bb3b7ab35207","decision"~{"approvers"~[],"budgets"~[],"decided"~null,"expires_at"~null,"policy_version"~1,"rule"~"within_self_grant_limit","self_grant_limit"~{"amount"~"25.00","currency"~"USD"},"tier"~null,"trust"~null},"due_on"~"2026-12-12","effective_on"~"2026-12-05","estimated_value"~null,"expires_on"~null,"id"~"01a24636-636e-7175-b908-2aaab9eee05a","incident_id"~null,"kind"~"deferred_payment","outstanding"~{"amount"~"1.00","currency"~"USD"},"overdue"~false,"paid"~{"amount"~"0.00","currency"~"USD"},"reason_code"~"closing_time","requested_by"~"load-limit","retail_value"~null,"staff_ids"~[],"status"~"approved","store_id"~"01a24636-4a4b-74df-9204-3cdc129346a7","story"~"load test~ pay tomorrow","updated_at"~"2026-12-05T12~38~19.244334Z","write_off_of"~null}', '~', chr(58)),
    LOCALTIMESTAMP);
COMMIT;
