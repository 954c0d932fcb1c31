-- "Who accessed this" includes the lists that showed a referral (issue 5 §3): a referral.list
-- row (a queue page, a patient search, an API list, a referrer's own list) names the referrals it
-- showed in details.ids, and a referral's access history finds those rows with
-- `details -> 'ids' @> '["<id>"]'` (app/audit/audit-log.server.ts). Without an index that is a
-- scan of the clinic's whole trail, millions of rows, on every look at the tab.
--
-- The index is kept as cheap to write as it can be, because every list view appends to it while
-- the user waits and an audit row may add at most 2 ms at 10 million rows:
-- - Partial (action = 'referral.list'): reads, prints, writes, sign-ins and the trigger-made
--   record.write rows are not indexed at all; their inserts only test the predicate.
-- - On the ids array alone, with jsonb_path_ops: one small hashed entry per referral shown (at most
--   a page, 25), the smallest GIN that answers @>. jsonb_ops over all of details would also index
--   every key and flag.
-- - fastupdate off: with the pending list on, most inserts are cheaper, but the insert that fills
--   the list (4 MB) merges all of it into the index while its user waits, tens to hundreds of ms.
--   Off, each list row pays for its own 25 entries, every time, a fraction of a millisecond.
-- The existing (clinic_id, entity_type, entity_id) index still serves the direct reads and writes.
CREATE INDEX "audit_logs_list_ids_idx" ON "audit_logs" USING gin (("details" -> 'ids') jsonb_path_ops)
  WITH (fastupdate = off) WHERE "action" = 'referral.list';
