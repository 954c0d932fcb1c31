-- Email notifications (docs/decisions/041-email-over-smtp-from-the-courier.md): each user's
-- choices, and one delivery row per (outbox event, recipient), written and sent by the courier's
-- email channel (workers/courier/src/email/). A delivery holds ids, a kind and a state: never PHI,
-- never the message (it is composed again from ids when sent).

-- The kinds a user may turn off; none is off until they say so.
CREATE TABLE email_preferences (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id uuid NOT NULL REFERENCES clinics(id),
  user_id uuid NOT NULL,
  off text[] NOT NULL DEFAULT '{}' CHECK (off <@ ARRAY['accepted', 'declined', 'scheduled', 'completed', 'question', 'new_urgent', 'assigned']::text[]),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT email_preferences_user_key UNIQUE (clinic_id, user_id),
  CONSTRAINT email_preferences_user_fk FOREIGN KEY (clinic_id, user_id) REFERENCES users(clinic_id, id)
);
--> statement-breakpoint
CREATE TABLE email_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id uuid NOT NULL REFERENCES clinics(id),
  outbox_event_id bigint NOT NULL,
  referral_id uuid NOT NULL,
  recipient_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('accepted', 'declined', 'scheduled', 'completed', 'question', 'new_urgent', 'assigned')),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- Taken by a courier run until then: a run that dies frees it when the lease runs out.
  claimed_until timestamptz,
  -- What went wrong, as a short code of ours (never the server's reply, which may quote the message).
  last_error text CHECK (length(last_error) <= 60),
  sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Sent once: the courier may see an event twice, and records a recipient once.
  CONSTRAINT email_deliveries_once UNIQUE (clinic_id, outbox_event_id, recipient_id),
  CONSTRAINT email_deliveries_recipient_fk FOREIGN KEY (clinic_id, recipient_id) REFERENCES users(clinic_id, id),
  CONSTRAINT email_deliveries_referral_fk FOREIGN KEY (clinic_id, referral_id) REFERENCES referrals(clinic_id, id),
  CONSTRAINT email_deliveries_sent CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
--> statement-breakpoint
-- The admin page: a clinic's newest first.
CREATE INDEX email_deliveries_clinic_created_idx ON email_deliveries (clinic_id, created_at DESC, id DESC);
--> statement-breakpoint
CREATE INDEX email_deliveries_due_idx ON email_deliveries (next_attempt_at) WHERE status = 'pending';
--> statement-breakpoint
GRANT SELECT, INSERT ON email_preferences, email_deliveries TO intakepilot_app;
--> statement-breakpoint
GRANT UPDATE (off, updated_at) ON email_preferences TO intakepilot_app;
--> statement-breakpoint
GRANT UPDATE (status, attempts, next_attempt_at, claimed_until, last_error, sent_at) ON email_deliveries TO intakepilot_app;
--> statement-breakpoint
ALTER TABLE email_preferences ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE email_preferences FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE email_deliveries ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE email_deliveries FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- A user sets their own choices; the courier (a clinic's scope with no user: staff, user unset)
-- reads its clinic's to know whom not to email.
CREATE POLICY email_preferences_own ON email_preferences FOR ALL TO intakepilot_app
  USING (
    clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND user_id = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
  )
  WITH CHECK (
    clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND user_id = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
  );
--> statement-breakpoint
CREATE POLICY email_preferences_courier_read ON email_preferences FOR SELECT TO intakepilot_app
  USING (
    clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND (SELECT current_setting('app.role', true)) = 'staff'
    AND nullif((SELECT current_setting('app.user_id', true)), '') IS NULL
  );
--> statement-breakpoint
-- Deliveries: written by the courier only (no request has a clinic scope without a user), read
-- by the clinic's admins on their page.
CREATE POLICY email_deliveries_courier ON email_deliveries FOR ALL TO intakepilot_app
  USING (
    clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND (SELECT current_setting('app.role', true)) = 'staff'
    AND nullif((SELECT current_setting('app.user_id', true)), '') IS NULL
  )
  WITH CHECK (
    clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND (SELECT current_setting('app.role', true)) = 'staff'
    AND nullif((SELECT current_setting('app.user_id', true)), '') IS NULL
  );
--> statement-breakpoint
CREATE POLICY email_deliveries_admin_read ON email_deliveries FOR SELECT TO intakepilot_app
  USING (
    clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND (SELECT current_setting('app.role', true)) IN ('admin', 'superadmin')
  );
--> statement-breakpoint

-- Retries across clinics: the due deliveries' ids and clinics only, each leased to one run
-- (SKIP LOCKED); the courier then reads and sends each under its clinic's scope.
CREATE FUNCTION claim_email_deliveries(p_limit integer, p_lease_seconds integer)
RETURNS TABLE (id uuid, clinic_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 500 THEN RAISE EXCEPTION 'claim_email_deliveries: limit out of range'; END IF;
  IF p_lease_seconds IS NULL OR p_lease_seconds < 1 OR p_lease_seconds > 3600 THEN RAISE EXCEPTION 'claim_email_deliveries: lease out of range'; END IF;
  RETURN QUERY
    UPDATE email_deliveries d SET
        claimed_until = clock_timestamp() + make_interval(secs => p_lease_seconds)
     WHERE d.id IN (
       SELECT p.id FROM email_deliveries p
        WHERE p.status = 'pending' AND p.next_attempt_at <= clock_timestamp()
          AND (p.claimed_until IS NULL OR p.claimed_until < clock_timestamp())
        ORDER BY p.next_attempt_at
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED)
    RETURNING d.id, d.clinic_id;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION claim_email_deliveries(integer, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION claim_email_deliveries(integer, integer) TO intakepilot_app;
