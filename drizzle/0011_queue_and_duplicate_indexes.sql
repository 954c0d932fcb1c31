-- Indexes the queue and the referral page need at scale (found by `npm run bench`, issue 8;
-- plans measured on a clinic of 100,000 referrals among 300,000).
--
-- 1. The queue orders by received_at DESC, id DESC (newest first: NULLS FIRST, PostgreSQL's
--    default for DESC) or received_at, id (oldest first). The existing referrals_clinic_received_idx
--    and referrals_clinic_status_received_idx are declared DESC NULLS LAST, which matches neither
--    order in either scan direction, so every queue page (first or 500 deep, pages and API) read
--    all the clinic's open referrals and sorted them: a parallel seq scan of the whole table,
--    ~300 ms. A plain (clinic_id, received_at, id) index serves newest-first scanned backward and
--    oldest-first forward, and the keyset cursor (received_at, id) < (...) becomes an index
--    condition: ~0.5 ms for the first page and for the page 500 deep.
CREATE INDEX "referrals_clinic_received_at_id_idx" ON "referrals" USING btree ("clinic_id", "received_at", "id");
--> statement-breakpoint
-- 2. "Most urgent first" orders by the priority rank expression of app/referrals/queue.server.ts,
--    then received_at, id: the same seq scan and sort (~480 ms) without an index on the expression.
CREATE INDEX "referrals_clinic_priority_received_idx" ON "referrals" USING btree (
  "clinic_id", (CASE "priority" WHEN 'emergent' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END), "received_at", "id"
);
--> statement-breakpoint
-- 3. Opening a referral lists the referrals marked as its possible duplicates
--    (possible_duplicate_of = $id): no index led there, so every referral page scanned the whole
--    table (~290 ms). Few rows carry a value, hence a partial index.
CREATE INDEX "referrals_clinic_possible_duplicate_idx" ON "referrals" USING btree ("clinic_id", "possible_duplicate_of")
  WHERE "possible_duplicate_of" IS NOT NULL;
