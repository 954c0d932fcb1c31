-- Documents an EHR integration sends with its referral (docs/decisions/063-documents-from-ehr-integrations.md):
-- kept as a referrer's are, named by the integration. `uploaded_by` refers to users, so such a
-- document names its sender in `uploaded_by_integration`, of the same clinic (the foreign key
-- includes clinic_id). Exactly one of: a person uploaded it, an integration sent it, or it came
-- with a forward (drizzle/0025). Staff, who do not read ehr_integrations, see the integration's
-- name through the referral's submitted_by_integration_name (drizzle/0035): an integration only
-- attaches to a referral it sent itself.

ALTER TABLE referral_documents ADD COLUMN uploaded_by_integration uuid;
--> statement-breakpoint
ALTER TABLE referral_documents ADD CONSTRAINT referral_documents_uploaded_by_integration_fk
  FOREIGN KEY (clinic_id, uploaded_by_integration) REFERENCES ehr_integrations (clinic_id, id);
--> statement-breakpoint
ALTER TABLE referral_documents DROP CONSTRAINT referral_documents_forward_uploader;
--> statement-breakpoint
ALTER TABLE referral_documents ADD CONSTRAINT referral_documents_one_uploader
  CHECK ((uploaded_by IS NOT NULL)::int + (uploaded_by_integration IS NOT NULL)::int + (attached_with = 'forward')::int = 1);
--> statement-breakpoint
-- An integration sends documents only with the referral itself (no replies, no staff uploads).
ALTER TABLE referral_documents ADD CONSTRAINT referral_documents_integration_with_referral
  CHECK (uploaded_by_integration IS NULL OR attached_with = 'referral');
--> statement-breakpoint

-- referral_documents, insert: as drizzle/0018, plus an integration with Referral.Submit attaching,
-- in its own name, to a referral it sent, with that referral. No branch names another's sender:
-- a person's row has uploaded_by their own id, so (by the CHECK above) no integration.
DROP POLICY referral_documents_add ON referral_documents;
--> statement-breakpoint
CREATE POLICY referral_documents_add ON referral_documents FOR INSERT TO intakepilot_app WITH CHECK (
  clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
  AND removed_at IS NULL
  AND CASE (SELECT current_setting('app.role', true))
    WHEN 'staff' THEN uploaded_by = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
    WHEN 'admin' THEN uploaded_by = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
    WHEN 'superadmin' THEN uploaded_by = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
    WHEN 'referrer' THEN uploaded_by = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
      AND attached_with IN ('referral', 'reply') AND referral_is_visible(referral_id)
    WHEN 'integration' THEN uploaded_by IS NULL
      AND uploaded_by_integration = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
      AND attached_with = 'referral'
      AND (SELECT integration_may('Referral.Submit'))
      AND referral_sent_by_integration(referral_id)
    ELSE false
  END
);
--> statement-breakpoint

-- referral_documents, read: as drizzle/0035, plus, for an integration with Referral.Submit, the
-- documents of the referrals it sent, as a referrer sees theirs (a repeated Bundle is answered
-- with the first one's documents).
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
      OR ((SELECT integration_may('Referral.Submit')) AND referral_sent_by_integration(referral_id))
    ELSE false
  END
);
