-- The queue's "Reply received" state and each user's saved queue views
-- (docs/decisions/030-queue-replies-bulk-work-and-saved-views.md).

-- When the referrer answered a clinic question that nobody has acknowledged yet: the first such
-- reply's time (later replies before the acknowledgement keep it), cleared by staff when they
-- acknowledge. Set by the database in the reply's own transaction, whatever wrote the reply
-- (the page, the API, a reply with documents): nothing can add a reply and forget the marker.
ALTER TABLE referrals ADD COLUMN reply_received_at timestamptz;
--> statement-breakpoint
-- The "Reply received" filter: few rows at any time, so a partial index that leads with clinic_id.
CREATE INDEX referrals_clinic_reply_received_idx ON referrals (clinic_id, reply_received_at DESC, id DESC)
  WHERE reply_received_at IS NOT NULL;
--> statement-breakpoint
-- A referrer may not update referrals (referrals_work is staff-only), so the marker is set by the
-- owner, on the reply's own referral and that column only: the reply row was already admitted
-- by referral_events_add (the referrer's own referral, in their clinic), and its clinic and
-- referral are the only values used.
CREATE FUNCTION referral_reply_received() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE referrals r SET reply_received_at = coalesce(r.reply_received_at, NEW.created_at)
    WHERE r.clinic_id = NEW.clinic_id AND r.id = NEW.referral_id;
  RETURN NULL;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION referral_reply_received() FROM PUBLIC;
--> statement-breakpoint
CREATE TRIGGER referral_events_reply_received AFTER INSERT ON referral_events
  FOR EACH ROW WHEN (NEW.type = 'reply')
  EXECUTE FUNCTION referral_reply_received();
--> statement-breakpoint

-- A user's saved queue views: a name and the view's query string (filters and sort only; the
-- queue never puts PHI in its URLs). Only their owner sees, adds or removes them.
CREATE TABLE saved_queue_views (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id uuid NOT NULL REFERENCES clinics(id),
  user_id uuid NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
  query text NOT NULL CHECK (length(query) <= 500),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT saved_queue_views_user_fk FOREIGN KEY (clinic_id, user_id) REFERENCES users (clinic_id, id)
);
--> statement-breakpoint
CREATE UNIQUE INDEX saved_queue_views_clinic_user_name_key ON saved_queue_views (clinic_id, user_id, lower(name));
--> statement-breakpoint
ALTER TABLE saved_queue_views ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE saved_queue_views FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY saved_queue_views_own ON saved_queue_views FOR ALL TO intakepilot_app
  USING (
    clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND user_id = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
  )
  WITH CHECK (
    clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND user_id = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
  );
--> statement-breakpoint
GRANT SELECT, INSERT, DELETE ON saved_queue_views TO intakepilot_app;
