-- Retention that purges PHI (docs/decisions/049-retention-purge.md). A purged referral keeps its
-- skeleton (ids, status, timestamps, reference number) and says when its PHI went; its form data
-- is emptied and its blind indexes cleared. Only the owner's purge job sets purged_at, and a
-- purged referral never has PHI written back into its row.
ALTER TABLE referrals ADD COLUMN purged_at timestamptz;
--> statement-breakpoint
ALTER TABLE referrals ADD CONSTRAINT referrals_purged_holds_no_phi
  CHECK (purged_at IS NULL OR (form_data = '{}'::jsonb AND health_card_index IS NULL AND name_dob_index IS NULL));
--> statement-breakpoint
CREATE FUNCTION referrals_purge_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  IF NEW.purged_at IS DISTINCT FROM OLD.purged_at AND current_user = 'intakepilot_app' THEN
    RAISE EXCEPTION 'only the retention job purges a referral' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER referrals_purge_guard BEFORE UPDATE OF purged_at ON referrals
  FOR EACH ROW EXECUTE FUNCTION referrals_purge_guard();
--> statement-breakpoint
CREATE FUNCTION referrals_purge_insert_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  IF NEW.purged_at IS NOT NULL AND current_user = 'intakepilot_app' THEN
    RAISE EXCEPTION 'only the retention job purges a referral' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER referrals_purge_insert_guard BEFORE INSERT ON referrals
  FOR EACH ROW EXECUTE FUNCTION referrals_purge_insert_guard();
--> statement-breakpoint
-- The purge job's scan: terminal referrals by clinic and closing time, not yet purged.
CREATE INDEX referrals_clinic_closed_idx ON referrals (clinic_id, closed_at) WHERE closed_at IS NOT NULL;
