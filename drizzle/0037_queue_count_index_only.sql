-- The queue's count of open referrals ("1,000+") without the heap, under RLS as without it.
--
-- The count reads at most 1,001 of the clinic's open referrals. Without RLS it is an index-only
-- scan of referrals_clinic_status_received_idx (0.21 ms on a clinic of 10,000). Under RLS the
-- policy referrals_read adds its CASE on app.role, whose sender branches read submitted_by (a
-- referrer's) and submitted_by_integration (an EHR system's, drizzle/0035): columns that index
-- does not hold, so PostgreSQL fetched every matching heap row instead (a bitmap
-- heap scan of all 12,631 open rows before the LIMIT, 2.1 ms, 10x). With both carried in
-- the index (INCLUDE: stored, not a key, so the order and the keyset cursor are unchanged), the
-- policy's filter is evaluated from the index entry and the scan stops at the LIMIT.
-- The index is rebuilt under the same name and keys; drizzle's schema builder cannot declare
-- INCLUDE, so app/db/schema.ts keeps the keys and says so.
DROP INDEX IF EXISTS "referrals_clinic_status_received_idx";
--> statement-breakpoint
CREATE INDEX "referrals_clinic_status_received_idx" ON "referrals" USING btree (
  "clinic_id", "status", "received_at" DESC NULLS LAST, "id" DESC NULLS LAST
) INCLUDE ("submitted_by", "submitted_by_integration");
