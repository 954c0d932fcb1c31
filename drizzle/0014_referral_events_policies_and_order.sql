-- The referral_events policies asked "is this the referrer's own referral?" with an EXISTS on
-- referrals, which the planner expands, with the referrals policy inside it, for EVERY query of
-- referral_events, staff's included, although only a referrer's rows ever evaluate it. Planning
-- that expansion cost ~0.2 ms a statement (issue 8: RLS overhead, the referral page's history).
-- The same question behind a PL/pgSQL function (never inlined) plans as one function call and
-- runs only for referrers. SECURITY INVOKER: the EXISTS still goes through the referrals policy,
-- so a referrer sees exactly their own referrals, as before.
CREATE FUNCTION referral_is_visible(p_referral uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM referrals r WHERE r.id = p_referral);
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION referral_is_visible(uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION referral_is_visible(uuid) TO intakepilot_app;
--> statement-breakpoint
DROP POLICY referral_events_read ON referral_events;
--> statement-breakpoint
CREATE POLICY referral_events_read ON referral_events FOR SELECT TO intakepilot_app USING (
  clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
  AND (
    current_setting('app.role', true) IN ('staff', 'admin', 'superadmin')
    OR (current_setting('app.role', true) = 'referrer' AND visible_to_referrer
        AND referral_is_visible(referral_id))
  )
);
--> statement-breakpoint
DROP POLICY referral_events_add ON referral_events;
--> statement-breakpoint
CREATE POLICY referral_events_add ON referral_events FOR INSERT TO intakepilot_app WITH CHECK (
  clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
  AND actor_id IS NOT DISTINCT FROM nullif(current_setting('app.user_id', true), '')::uuid
  AND (
    current_setting('app.role', true) IN ('staff', 'admin', 'superadmin')
    OR (current_setting('app.role', true) = 'referrer' AND visible_to_referrer
        AND type IN ('reply', 'created')
        AND referral_is_visible(referral_id))
  )
);
--> statement-breakpoint
-- A referral's history is ordered by created_at; now() is the transaction's start, so events
-- written in one transaction tied. clock_timestamp() keeps the order they were written in.
ALTER TABLE referral_events ALTER COLUMN created_at SET DEFAULT clock_timestamp();
--> statement-breakpoint
-- referrals: the same rule as drizzle/0001, written as a CASE on the role. The planner cannot
-- see through `role IN (…) OR (role = 'referrer' AND submitted_by = …)` and guessed that it keeps
-- about 2% of a clinic's rows, so deep queue pages were planned for one row (a bitmap scan and
-- a sort instead of walking the ordered index). A CASE is estimated at half: closer, for staff.
DROP POLICY referrals_read ON referrals;
--> statement-breakpoint
CREATE POLICY referrals_read ON referrals FOR SELECT TO intakepilot_app USING (
  clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
  AND CASE current_setting('app.role', true)
    WHEN 'staff' THEN true
    WHEN 'admin' THEN true
    WHEN 'superadmin' THEN true
    WHEN 'referrer' THEN submitted_by = nullif(current_setting('app.user_id', true), '')::uuid
    ELSE false
  END
);
--> statement-breakpoint
DROP POLICY referrals_submit ON referrals;
--> statement-breakpoint
CREATE POLICY referrals_submit ON referrals FOR INSERT TO intakepilot_app WITH CHECK (
  clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
  AND CASE current_setting('app.role', true)
    WHEN 'staff' THEN true
    WHEN 'admin' THEN true
    WHEN 'superadmin' THEN true
    WHEN 'referrer' THEN submitted_by = nullif(current_setting('app.user_id', true), '')::uuid
    ELSE false
  END
);
