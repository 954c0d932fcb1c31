-- Tenancy: the runtime role, its grants, and row-level security (DESIGN §2).
-- Policies read nullif(current_setting('app.clinic_id', true), '')::uuid so that an unset
-- context (or the '' a finished transaction leaves on a pooled connection) sees nothing.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'intakepilot_app') THEN
    -- No password here: it is set out of band (scripts/lib/postgres.ts locally, README on Neon).
    CREATE ROLE intakepilot_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
END $$;
--> statement-breakpoint
REVOKE ALL ON SCHEMA public FROM PUBLIC;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO intakepilot_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON clinics TO intakepilot_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON users TO intakepilot_app;
--> statement-breakpoint
GRANT SELECT, INSERT ON intake_forms TO intakepilot_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON referrals TO intakepilot_app;
--> statement-breakpoint
GRANT SELECT, INSERT ON referral_events TO intakepilot_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON processing_results TO intakepilot_app;
--> statement-breakpoint
GRANT SELECT, INSERT ON audit_logs TO intakepilot_app;
--> statement-breakpoint
GRANT USAGE ON SEQUENCE audit_logs_id_seq TO intakepilot_app;
--> statement-breakpoint

-- Every table: ENABLE + FORCE, so even the owner is held to the policies unless it bypasses RLS.
ALTER TABLE clinics ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE clinics FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE users FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE intake_forms ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE intake_forms FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE referrals ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE referrals FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE referral_events ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE referral_events FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE processing_results ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE processing_results FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE audit_logs ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE audit_logs FORCE ROW LEVEL SECURITY;
--> statement-breakpoint

-- clinics: a member sees their own clinic; only a superadmin sees, creates or changes others.
CREATE POLICY clinics_read ON clinics FOR SELECT TO intakepilot_app USING (
  id = nullif(current_setting('app.clinic_id', true), '')::uuid
  OR current_setting('app.role', true) = 'superadmin'
);
--> statement-breakpoint
CREATE POLICY clinics_manage ON clinics FOR INSERT TO intakepilot_app
  WITH CHECK (current_setting('app.role', true) = 'superadmin');
--> statement-breakpoint
CREATE POLICY clinics_update ON clinics FOR UPDATE TO intakepilot_app
  USING (current_setting('app.role', true) = 'superadmin')
  WITH CHECK (current_setting('app.role', true) = 'superadmin');
--> statement-breakpoint

-- users: the clinic's users, and always oneself (a superadmin has no clinic). Only admins
-- invite or change users, only within their clinic, and never to superadmin. (Sign-in
-- updates one's own row through sign_in_user(), not through these policies.)
CREATE POLICY users_read ON users FOR SELECT TO intakepilot_app USING (
  clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
  OR id = nullif(current_setting('app.user_id', true), '')::uuid
);
--> statement-breakpoint
CREATE POLICY users_invite ON users FOR INSERT TO intakepilot_app WITH CHECK (
  clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
  AND current_setting('app.role', true) IN ('admin', 'superadmin')
  AND role <> 'superadmin'
);
--> statement-breakpoint
CREATE POLICY users_update ON users FOR UPDATE TO intakepilot_app
  USING (
    clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
    AND current_setting('app.role', true) IN ('admin', 'superadmin')
  )
  WITH CHECK (
    clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
    AND current_setting('app.role', true) IN ('admin', 'superadmin')
    AND role <> 'superadmin'
  );
--> statement-breakpoint

-- intake_forms: every member reads the clinic's form; admins publish versions.
CREATE POLICY intake_forms_read ON intake_forms FOR SELECT TO intakepilot_app USING (
  clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
);
--> statement-breakpoint
CREATE POLICY intake_forms_publish ON intake_forms FOR INSERT TO intakepilot_app WITH CHECK (
  clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
  AND current_setting('app.role', true) IN ('admin', 'superadmin')
);
--> statement-breakpoint

-- referrals: clinic staff see and work the clinic's referrals; a referrer sees and submits
-- only their own, and never changes one after submitting (staff do that).
CREATE POLICY referrals_read ON referrals FOR SELECT TO intakepilot_app USING (
  clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
  AND (
    current_setting('app.role', true) IN ('staff', 'admin', 'superadmin')
    OR (current_setting('app.role', true) = 'referrer'
        AND submitted_by = nullif(current_setting('app.user_id', true), '')::uuid)
  )
);
--> statement-breakpoint
CREATE POLICY referrals_submit ON referrals FOR INSERT TO intakepilot_app WITH CHECK (
  clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
  AND (
    current_setting('app.role', true) IN ('staff', 'admin', 'superadmin')
    OR (current_setting('app.role', true) = 'referrer'
        AND submitted_by = nullif(current_setting('app.user_id', true), '')::uuid)
  )
);
--> statement-breakpoint
CREATE POLICY referrals_work ON referrals FOR UPDATE TO intakepilot_app
  USING (
    clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
    AND current_setting('app.role', true) IN ('staff', 'admin', 'superadmin')
  )
  WITH CHECK (
    clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
    AND current_setting('app.role', true) IN ('staff', 'admin', 'superadmin')
  );
--> statement-breakpoint

-- referral_events: staff see and add to the whole history; a referrer sees the messages on
-- their own referrals (the EXISTS goes through the referrals policy above) and adds only
-- replies, in their own name.
CREATE POLICY referral_events_read ON referral_events FOR SELECT TO intakepilot_app USING (
  clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
  AND (
    current_setting('app.role', true) IN ('staff', 'admin', 'superadmin')
    OR (current_setting('app.role', true) = 'referrer' AND visible_to_referrer
        AND EXISTS (SELECT 1 FROM referrals r WHERE r.id = referral_events.referral_id))
  )
);
--> statement-breakpoint
CREATE POLICY referral_events_add ON referral_events FOR INSERT TO intakepilot_app WITH CHECK (
  clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
  AND actor_id IS NOT DISTINCT FROM nullif(current_setting('app.user_id', true), '')::uuid
  AND (
    current_setting('app.role', true) IN ('staff', 'admin', 'superadmin')
    OR (current_setting('app.role', true) = 'referrer' AND visible_to_referrer
        AND type IN ('reply', 'created')
        AND EXISTS (SELECT 1 FROM referrals r WHERE r.id = referral_events.referral_id))
  )
);
--> statement-breakpoint

-- processing_results (AI summaries): clinic staff only.
CREATE POLICY processing_results_tenant ON processing_results FOR ALL TO intakepilot_app
  USING (
    clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
    AND current_setting('app.role', true) IN ('staff', 'admin', 'superadmin')
  )
  WITH CHECK (
    clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
    AND current_setting('app.role', true) IN ('staff', 'admin', 'superadmin')
  );
--> statement-breakpoint

-- audit_logs: anyone may append within their own context and in their own name (a row outside any clinic only
-- when there is no clinic context); staff and admins read their clinic's trail.
CREATE POLICY audit_logs_append ON audit_logs FOR INSERT TO intakepilot_app WITH CHECK (
  clinic_id IS NOT DISTINCT FROM nullif(current_setting('app.clinic_id', true), '')::uuid
  AND actor_id IS NOT DISTINCT FROM nullif(current_setting('app.user_id', true), '')::uuid
);
--> statement-breakpoint
CREATE POLICY audit_logs_read ON audit_logs FOR SELECT TO intakepilot_app USING (
  clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
  AND current_setting('app.role', true) IN ('staff', 'admin', 'superadmin')
);
--> statement-breakpoint

-- Append-only, for every role (the owner included): UPDATE, DELETE and TRUNCATE raise.
CREATE FUNCTION audit_logs_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_logs is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_logs_no_update BEFORE UPDATE OR DELETE ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION audit_logs_reject_change();
--> statement-breakpoint
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_reject_change();
