-- What a referrer keeps for their own work (docs/decisions/031-referrer-profile-drafts-and-templates.md):
-- their profile (who they are on a referral), drafts of referrals they come back to, and
-- templates of a form's non-patient fields. Each row belongs to one user in one clinic, and only
-- that user sees or changes it: not their colleagues, not the clinic's staff.
CREATE TABLE referrer_profiles (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id uuid NOT NULL REFERENCES clinics(id),
  user_id uuid NOT NULL,
  clinician_name text NOT NULL DEFAULT '' CHECK (length(clinician_name) <= 300),
  practice text NOT NULL DEFAULT '' CHECK (length(practice) <= 300),
  phone text NOT NULL DEFAULT '' CHECK (length(phone) <= 30),
  fax text NOT NULL DEFAULT '' CHECK (length(fax) <= 30),
  billing_number text NOT NULL DEFAULT '' CHECK (length(billing_number) <= 300),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT referrer_profiles_user_key UNIQUE (clinic_id, user_id),
  CONSTRAINT referrer_profiles_user_fk FOREIGN KEY (clinic_id, user_id) REFERENCES users(clinic_id, id)
);
--> statement-breakpoint
-- A draft's values are PHI: one sealed value (the form's values as JSON) under the clinic's data
-- key, bound to clinic | draft | user, so it opens for no other row, clinic or person.
CREATE TABLE referral_drafts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id uuid NOT NULL REFERENCES clinics(id),
  user_id uuid NOT NULL,
  form_version integer NOT NULL CHECK (form_version > 0),
  content jsonb NOT NULL CHECK (jsonb_typeof(content) = 'object' AND content ? 'ct' AND content ? 'iv' AND content ? 'kid'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT referral_drafts_user_fk FOREIGN KEY (clinic_id, user_id) REFERENCES users(clinic_id, id)
);
--> statement-breakpoint
CREATE INDEX referral_drafts_clinic_user_idx ON referral_drafts (clinic_id, user_id, updated_at DESC);
--> statement-breakpoint
-- A template holds only fields the form does not mark as PHI (checked by the app against the form
-- version it was saved from); plain text, like the same fields on a referral.
CREATE TABLE referral_templates (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id uuid NOT NULL REFERENCES clinics(id),
  user_id uuid NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
  form_version integer NOT NULL CHECK (form_version > 0),
  "values" jsonb NOT NULL CHECK (jsonb_typeof("values") = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT referral_templates_user_fk FOREIGN KEY (clinic_id, user_id) REFERENCES users(clinic_id, id)
);
--> statement-breakpoint
CREATE UNIQUE INDEX referral_templates_clinic_user_name_key ON referral_templates (clinic_id, user_id, lower(name));
--> statement-breakpoint
GRANT SELECT, INSERT ON referrer_profiles, referral_drafts, referral_templates TO intakepilot_app;
--> statement-breakpoint
GRANT UPDATE (clinician_name, practice, phone, fax, billing_number, updated_at) ON referrer_profiles TO intakepilot_app;
--> statement-breakpoint
GRANT UPDATE (form_version, content, updated_at) ON referral_drafts TO intakepilot_app;
--> statement-breakpoint
GRANT UPDATE (form_version, "values", updated_at) ON referral_templates TO intakepilot_app;
--> statement-breakpoint
-- A draft goes when its referral is sent, or when its owner discards it; a template when its owner removes it.
GRANT DELETE ON referral_drafts, referral_templates TO intakepilot_app;
--> statement-breakpoint
ALTER TABLE referrer_profiles ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE referrer_profiles FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE referral_drafts ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE referral_drafts FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE referral_templates ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE referral_templates FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- One policy per table, for every command: the row is the current user's, in the current clinic.
-- The settings are read through a sub-select, once per statement (drizzle/0020).
CREATE POLICY referrer_profiles_own ON referrer_profiles FOR ALL TO intakepilot_app
  USING (
    clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND user_id = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
  )
  WITH CHECK (
    clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND user_id = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
  );
--> statement-breakpoint
CREATE POLICY referral_drafts_own ON referral_drafts FOR ALL TO intakepilot_app
  USING (
    clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND user_id = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
  )
  WITH CHECK (
    clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND user_id = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
  );
--> statement-breakpoint
CREATE POLICY referral_templates_own ON referral_templates FOR ALL TO intakepilot_app
  USING (
    clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND user_id = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
  )
  WITH CHECK (
    clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND user_id = nullif((SELECT current_setting('app.user_id', true)), '')::uuid
  );
--> statement-breakpoint
-- A draft holds PHI: its writes are in the trail whoever makes them (drizzle/0010).
CREATE TRIGGER referral_drafts_audit_write AFTER INSERT OR UPDATE ON referral_drafts
  FOR EACH ROW EXECUTE FUNCTION audit_phi_write();
