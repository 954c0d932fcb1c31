-- Referrals sent by an EHR integration (docs/decisions/061-referrals-from-ehr-integrations.md):
-- the sender is the registration, not a person. `submitted_by` (a user) stays null on such a
-- referral and `submitted_by_integration` names the integration, of the same clinic (the foreign
-- key includes clinic_id); at most one of the two is set. `submitted_by_integration_name` is the
-- registration's name when it sent the referral, written by the database (the trigger below) so
-- that the queue, the referral page, turnaround and FHIR can name the sender for staff, who do
-- not read ehr_integrations (admins only, drizzle/0034), as forwarded_from_name does for a clinic.

ALTER TABLE referrals ADD COLUMN submitted_by_integration uuid;
--> statement-breakpoint
ALTER TABLE referrals ADD COLUMN submitted_by_integration_name text;
--> statement-breakpoint
ALTER TABLE referrals ADD CONSTRAINT referrals_submitted_by_integration_fk
  FOREIGN KEY (clinic_id, submitted_by_integration) REFERENCES ehr_integrations (clinic_id, id);
--> statement-breakpoint
ALTER TABLE referrals DROP CONSTRAINT referrals_submitted_or_forwarded;
--> statement-breakpoint
ALTER TABLE referrals ADD CONSTRAINT referrals_submitted_or_forwarded
  CHECK (submitted_by IS NOT NULL OR submitted_by_integration IS NOT NULL OR forwarded_from_clinic_id IS NOT NULL);
--> statement-breakpoint
-- One sender: a person or a system, never both; a system's referral is not one staff entered.
ALTER TABLE referrals ADD CONSTRAINT referrals_one_sender
  CHECK (submitted_by_integration IS NULL OR (submitted_by IS NULL AND entered_by IS NULL));
--> statement-breakpoint
ALTER TABLE referrals ADD CONSTRAINT referrals_integration_named
  CHECK ((submitted_by_integration IS NULL) = (submitted_by_integration_name IS NULL));
--> statement-breakpoint
-- Idempotency per integration, as (clinic_id, submitted_by, idempotency_key) is per person; it
-- also serves the integration's own-referral read below.
CREATE UNIQUE INDEX referrals_clinic_integration_idempotency_key ON referrals (clinic_id, submitted_by_integration, idempotency_key);
--> statement-breakpoint

-- The sender's name comes from the registration, whatever the insert said, and neither the
-- sender nor its name ever changes afterwards. SECURITY DEFINER: the inserting integration (or
-- anyone else) cannot read ehr_integrations.
CREATE FUNCTION referrals_integration_sender() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.submitted_by_integration_name := CASE WHEN NEW.submitted_by_integration IS NOT NULL THEN
      (SELECT e.name FROM ehr_integrations e WHERE e.clinic_id = NEW.clinic_id AND e.id = NEW.submitted_by_integration) END;
  ELSIF (NEW.submitted_by_integration, NEW.submitted_by_integration_name)
        IS DISTINCT FROM (OLD.submitted_by_integration, OLD.submitted_by_integration_name) THEN
    RAISE EXCEPTION 'the integration that sent a referral does not change' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION referrals_integration_sender() FROM PUBLIC;
--> statement-breakpoint
CREATE TRIGGER referrals_integration_sender BEFORE INSERT OR UPDATE ON referrals
  FOR EACH ROW EXECUTE FUNCTION referrals_integration_sender();
--> statement-breakpoint

-- referrals, read: an integration with Referral.Read sees its clinic's referrals (drizzle/0034);
-- one with Referral.Submit sees those it sent itself, as a referrer does (the insert's RETURNING
-- and the idempotent retry read the row back). The app's guards still decide what it may read.
DROP POLICY referrals_read ON referrals;
--> statement-breakpoint
CREATE POLICY referrals_read ON referrals FOR SELECT TO intakepilot_app USING (
  clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
  AND CASE (SELECT current_setting('app.role', true))
    WHEN 'staff' THEN true
    WHEN 'admin' THEN true
    WHEN 'superadmin' THEN true
    WHEN 'referrer' THEN submitted_by = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
    WHEN 'integration' THEN (SELECT integration_may('Referral.Read'))
      OR (submitted_by_integration = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
          AND (SELECT integration_may('Referral.Submit')))
    ELSE false
  END
);
--> statement-breakpoint
-- referrals, insert: an integration with Referral.Submit sends in its own name only; a person
-- never writes a referral as an integration's.
DROP POLICY referrals_submit ON referrals;
--> statement-breakpoint
CREATE POLICY referrals_submit ON referrals FOR INSERT TO intakepilot_app WITH CHECK (
  clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
  AND CASE (SELECT current_setting('app.role', true))
    WHEN 'staff' THEN submitted_by_integration IS NULL
    WHEN 'admin' THEN submitted_by_integration IS NULL
    WHEN 'superadmin' THEN submitted_by_integration IS NULL
    WHEN 'referrer' THEN submitted_by = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
      AND submitted_by_integration IS NULL
    WHEN 'integration' THEN submitted_by IS NULL AND entered_by IS NULL
      AND submitted_by_integration = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
      AND (SELECT integration_may('Referral.Submit'))
    ELSE false
  END
);
--> statement-breakpoint

-- Whether the referral was sent by the transaction's integration. SECURITY INVOKER, as
-- referral_is_visible (drizzle/0014): it reads through the referrals policy above.
CREATE FUNCTION referral_sent_by_integration(p_referral uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM referrals r
    WHERE r.id = p_referral AND r.submitted_by_integration = nullif(current_setting('app.user_id', true), '')::uuid);
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION referral_sent_by_integration(uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION referral_sent_by_integration(uuid) TO intakepilot_app;
--> statement-breakpoint
-- referral_events, insert: as drizzle/0014, plus the first event of a referral an integration
-- sent. actor_id refers to users, so that event names no actor: the referral row names its
-- sender, and the audit rows (the write trigger's and the app's) name the integration.
DROP POLICY referral_events_add ON referral_events;
--> statement-breakpoint
CREATE POLICY referral_events_add ON referral_events FOR INSERT TO intakepilot_app WITH CHECK (
  clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
  AND (
    (actor_id IS NOT DISTINCT FROM nullif((SELECT current_setting('app.user_id', true)), '')::uuid
     AND (
       (SELECT current_setting('app.role', true)) IN ('staff', 'admin', 'superadmin')
       OR ((SELECT current_setting('app.role', true)) = 'referrer' AND visible_to_referrer
           AND type IN ('reply', 'created')
           AND referral_is_visible(referral_id))
     ))
    OR ((SELECT current_setting('app.role', true)) = 'integration' AND actor_id IS NULL AND type = 'created'
        AND visible_to_referrer
        AND (SELECT integration_may('Referral.Submit'))
        AND referral_sent_by_integration(referral_id))
  )
);
--> statement-breakpoint

-- referral_documents, read: an integration with Referral.Read sees the clinic's documents as
-- staff do (DocumentReference and Binary over FHIR; every view is audited by the app).
DROP POLICY referral_documents_read ON referral_documents;
--> statement-breakpoint
CREATE POLICY referral_documents_read ON referral_documents FOR SELECT TO intakepilot_app USING (
  clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
  AND CASE (SELECT current_setting('app.role', true))
    WHEN 'staff' THEN true
    WHEN 'admin' THEN true
    WHEN 'superadmin' THEN true
    WHEN 'referrer' THEN referral_is_visible(referral_id)
    WHEN 'integration' THEN (SELECT integration_may('Referral.Read'))
    ELSE false
  END
);
