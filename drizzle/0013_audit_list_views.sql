-- "Who accessed this" includes the lists that showed a referral (issue 5 §3): a referral.list
-- row (a queue page, a patient search, an API list, a referrer's own list) names the referrals it
-- showed in details.ids, and a referral's access history finds those rows with
-- `details -> 'ids' @> '["<id>"]'` (audit_list_views() below, called by
-- app/audit/audit-log.server.ts). Without an index that is a scan of the whole trail, millions
-- of rows, on every look at the tab.
--
-- The index is kept as cheap to write as it can be, because every list view appends to it while
-- the user waits and an audit row may add at most 2 ms at 10 million rows:
-- - Partial (action = 'referral.list'): reads, prints, writes, sign-ins and the trigger-made
--   record.write rows are not indexed at all; their inserts only test the predicate.
-- - On the ids array alone, with jsonb_path_ops: one small hashed entry per referral shown (at most
--   a page, 25), the smallest GIN that answers @>. jsonb_ops over all of details would also index
--   every key and flag.
-- - fastupdate off: with the pending list on, most inserts are cheaper, but the insert that fills
--   the list (4 MB) merges all of it into the index while its user waits (tens of ms).
--   Off, each list row pays for its own 25 entries, every time, a fraction of a millisecond.
-- The existing (clinic_id, entity_type, entity_id) index still serves the direct reads and writes.
-- Measured on this project's 2-core machine under load, 2 million audit rows (800,000 lists of
-- 25), through the chain trigger: a list row takes 0.30-0.35 ms (median; p99 1.5-2.3 ms) with
-- this index against 0.12-0.15 ms (p99 0.7-1.0 ms) for the same row unindexed; with fastupdate
-- on, ~0.15 ms median but single inserts of 9-23 ms when the pending list was merged.
CREATE INDEX "audit_logs_list_ids_idx" ON "audit_logs" USING gin (("details" -> 'ids') jsonb_path_ops)
  WITH (fastupdate = off) WHERE "action" = 'referral.list';
--> statement-breakpoint
-- Under row-level security the planner may not use an index for a condition whose operator is
-- not leakproof (jsonb's -> and @> are not): as the runtime role, the search above is a scan of
-- the whole table. So the search runs here, with the owner's rights, and returns audit row ids
-- only, newest first, for the CALLER's clinic and only for the roles that may read the trail
-- (the same rule as the audit_logs_read policy); the app then reads those rows through RLS.
-- MATERIALIZED keeps the plan on the GIN index: otherwise the planner may walk the clinic's
-- chain backwards by seq looking for 51 matches, which for a referral seen in few lists reads
-- the whole trail (measured 630 ms at 2M rows, against 1-5 ms this way). The cost this way grows
-- with the number of lists that showed the referral (~0.8 s for one shown 56,000 times).
CREATE FUNCTION audit_list_views(p_referral uuid, p_before bigint, p_limit integer)
RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH shown AS MATERIALIZED (
    SELECT a.id, a.seq, a.clinic_id FROM audit_logs a
    WHERE a.action = 'referral.list' AND a.details -> 'ids' @> jsonb_build_array(p_referral::text)
  )
  SELECT id FROM shown
  WHERE clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
    AND current_setting('app.role', true) IN ('staff', 'admin', 'superadmin')
    AND (p_before IS NULL OR seq < p_before)
  ORDER BY seq DESC
  LIMIT least(p_limit, 100)
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION audit_list_views(uuid, bigint, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION audit_list_views(uuid, bigint, integer) TO intakepilot_app;
