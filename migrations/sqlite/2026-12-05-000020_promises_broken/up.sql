-- Promises the customer broke, kept apart from those the business waived: a
-- promise written off by the write-off command (a waiver in effect whose
-- write_off_of names it) on a day after it fell due. The count is maintained
-- per customer in memo_totals like the other memos; this fills it for what
-- was written off before.
CREATE INDEX gestures_write_off_of ON gestures (tenant_id, write_off_of) WHERE write_off_of IS NOT NULL;

INSERT INTO memo_totals (tenant_id, customer_id, memo, currency, total_minor, count)
SELECT g.tenant_id, g.customer_id, 'promises_broken', '', 0, COUNT(*)
FROM gestures g
WHERE g.kind = 'deferred_payment' AND g.status = 'written_off'
  AND EXISTS (SELECT 1 FROM gestures w
              WHERE w.tenant_id = g.tenant_id AND w.write_off_of = g.id
                AND w.status = 'approved' AND w.effective_on > g.due_on)
GROUP BY g.tenant_id, g.customer_id;
