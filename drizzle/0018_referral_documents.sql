-- Referral documents (docs/decisions/027-referral-documents.md): the bytes live in R2, sealed in
-- chunks under the clinic's data key; this table holds what is needed to find, check and list
-- them. The file name is PHI and is encrypted like a form field; type, size and the SHA-256 of
-- the plaintext are not. A removal is a soft delete with an (encrypted) reason: the bytes stay
-- until retention removes them.
CREATE TABLE referral_documents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id uuid NOT NULL REFERENCES clinics(id),
  referral_id uuid NOT NULL,
  uploaded_by uuid NOT NULL REFERENCES users(id),
  attached_with text NOT NULL CHECK (attached_with IN ('referral', 'reply', 'staff')),
  content_type text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png', 'image/tiff', 'text/plain')),
  size_bytes bigint NOT NULL CHECK (size_bytes > 0 AND size_bytes <= 10485760),
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  chunk_bytes integer NOT NULL CHECK (chunk_bytes > 0),
  chunk_count integer NOT NULL CHECK (chunk_count > 0),
  name jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  removed_at timestamptz,
  removed_by uuid REFERENCES users(id),
  removal_reason jsonb,
  CHECK ((removed_at IS NULL) = (removed_by IS NULL) AND (removed_at IS NULL) = (removal_reason IS NULL)),
  -- Checked without RLS, so it includes clinic_id: a document cannot hang on another clinic's referral.
  CONSTRAINT referral_documents_referral_fk FOREIGN KEY (clinic_id, referral_id) REFERENCES referrals(clinic_id, id)
);
--> statement-breakpoint
CREATE INDEX referral_documents_clinic_referral_idx ON referral_documents (clinic_id, referral_id, created_at);
--> statement-breakpoint
GRANT SELECT, INSERT ON referral_documents TO intakepilot_app;
--> statement-breakpoint
-- Removing is the only change: the columns of a removal, nothing else.
GRANT UPDATE (removed_at, removed_by, removal_reason) ON referral_documents TO intakepilot_app;
--> statement-breakpoint
ALTER TABLE referral_documents ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE referral_documents FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- Staff see the clinic's documents; a referrer those on the referrals they submitted
-- (referral_is_visible goes through the referrals policy: drizzle/0014).
CREATE POLICY referral_documents_read ON referral_documents FOR SELECT TO intakepilot_app USING (
  clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
  AND CASE current_setting('app.role', true)
    WHEN 'staff' THEN true
    WHEN 'admin' THEN true
    WHEN 'superadmin' THEN true
    WHEN 'referrer' THEN referral_is_visible(referral_id)
    ELSE false
  END
);
--> statement-breakpoint
-- Anyone who may see the referral attaches, as themselves; a referrer never as staff.
CREATE POLICY referral_documents_add ON referral_documents FOR INSERT TO intakepilot_app WITH CHECK (
  clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
  AND uploaded_by = nullif(current_setting('app.user_id', true), '')::uuid
  AND removed_at IS NULL
  AND CASE current_setting('app.role', true)
    WHEN 'staff' THEN true
    WHEN 'admin' THEN true
    WHEN 'superadmin' THEN true
    WHEN 'referrer' THEN attached_with IN ('referral', 'reply') AND referral_is_visible(referral_id)
    ELSE false
  END
);
--> statement-breakpoint
-- Only staff remove, in their own clinic, as themselves.
CREATE POLICY referral_documents_remove ON referral_documents FOR UPDATE TO intakepilot_app
  USING (
    clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
    AND current_setting('app.role', true) IN ('staff', 'admin', 'superadmin')
  )
  WITH CHECK (
    clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
    AND current_setting('app.role', true) IN ('staff', 'admin', 'superadmin')
    AND removed_by = nullif(current_setting('app.user_id', true), '')::uuid
  );
--> statement-breakpoint
CREATE TRIGGER referral_documents_audit_write AFTER INSERT OR UPDATE ON referral_documents
  FOR EACH ROW EXECUTE FUNCTION audit_phi_write();
