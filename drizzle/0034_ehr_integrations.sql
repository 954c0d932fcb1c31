-- EHR integrations (docs/decisions/058-ehr-integrations-app-only-tokens.md): an EHR system's app
-- registration (Entra tenant + application (client) id), registered by a clinic admin and bound
-- to that clinic, with the app roles IntakePilot lets it use there. Its app-only tokens make an
-- actor of its own: app.role 'integration', app.user_id the integration's id (so audit rows,
-- whose actor_id must equal app.user_id, name it), app.clinic_id its clinic.

CREATE TABLE ehr_integrations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id uuid NOT NULL REFERENCES clinics(id),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  idp_tenant_id text NOT NULL CHECK (idp_tenant_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'),
  client_id text NOT NULL CHECK (client_id ~ '^[A-Za-z0-9._-]{1,100}$'),
  roles text[] NOT NULL CHECK (cardinality(roles) BETWEEN 1 AND 2 AND roles <@ ARRAY['Referral.Read', 'Referral.Submit']::text[]),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  revoked_at timestamptz,
  revoked_by uuid,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL)),
  CONSTRAINT ehr_integrations_clinic_id_key UNIQUE (clinic_id, id),
  CONSTRAINT ehr_integrations_creator_fk FOREIGN KEY (clinic_id, created_by) REFERENCES users (clinic_id, id),
  CONSTRAINT ehr_integrations_revoker_fk FOREIGN KEY (clinic_id, revoked_by) REFERENCES users (clinic_id, id)
);
--> statement-breakpoint
CREATE INDEX ehr_integrations_clinic_idx ON ehr_integrations (clinic_id, created_at);
--> statement-breakpoint
-- One app is one clinic's while it is active: its tokens name no clinic, so the app decides it.
CREATE UNIQUE INDEX ehr_integrations_active_app_key ON ehr_integrations (idp_tenant_id, client_id) WHERE status = 'active';
--> statement-breakpoint
ALTER TABLE ehr_integrations ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE ehr_integrations FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- The clinic's admins register, see and revoke them; nobody else reads the table (an integration
-- is found by integration_start, and checked by integration_may, both below).
CREATE POLICY ehr_integrations_admins ON ehr_integrations FOR ALL TO intakepilot_app
  USING (clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND nullif((SELECT current_setting('app.role', true)), '') IN ('admin', 'superadmin'))
  WITH CHECK (clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND nullif((SELECT current_setting('app.role', true)), '') IN ('admin', 'superadmin'));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON ehr_integrations TO intakepilot_app;
--> statement-breakpoint

-- An app-only token's first round trip, as request_start is a person's (drizzle/0012, 0015): the
-- ACTIVE integration registered for the verified token's (tid, client id), its clinic's name,
-- slug and settings, and one hit against the rate limit under its own key. A revoked or unknown
-- app gets no row: its tokens are refused from the next request on. Ids, names and settings only.
CREATE FUNCTION integration_start(p_tid text, p_client_id text, p_limit integer)
RETURNS TABLE (
  integration_id uuid, integration_name text, roles text[],
  clinic_id uuid, clinic_name text, clinic_slug text, clinic_settings jsonb,
  allowed boolean, remaining integer, reset_seconds integer
)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  i ehr_integrations%ROWTYPE;
  c clinics%ROWTYPE;
  v_allowed boolean;
  v_remaining integer;
  v_reset integer;
BEGIN
  SELECT * INTO i FROM ehr_integrations e
    WHERE e.idp_tenant_id = p_tid AND e.client_id = p_client_id AND e.status = 'active';
  IF i.id IS NULL THEN
    RETURN;
  END IF;
  SELECT * INTO c FROM clinics WHERE clinics.id = i.clinic_id;
  SELECT r.allowed, r.remaining, r.reset_seconds INTO v_allowed, v_remaining, v_reset
    FROM rate_limit_hit('integration:' || i.id, p_limit) r;
  RETURN QUERY SELECT i.id, i.name, i.roles, c.id, c.name::text, c.slug::text, c.settings, v_allowed, v_remaining, v_reset;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION integration_start(text, text, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION integration_start(text, text, integer) TO intakepilot_app;
--> statement-breakpoint

-- The second wall for an integration: the transaction's actor is an integration (app.role), it
-- is active, of the transaction's clinic, and holds the app role. Policies call it through a
-- sub-select (once per statement); a revoke in another transaction counts from the next statement.
CREATE FUNCTION integration_may(p_role text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT nullif(current_setting('app.role', true), '') = 'integration' AND EXISTS (
    SELECT 1 FROM ehr_integrations e
     WHERE e.id = nullif(current_setting('app.user_id', true), '')::uuid
       AND e.clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
       AND e.status = 'active'
       AND p_role = ANY (e.roles))
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION integration_may(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION integration_may(text) TO intakepilot_app;
--> statement-breakpoint

-- referrals: an integration with Referral.Read sees its clinic's referrals, as staff do.
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
    ELSE false
  END
);
--> statement-breakpoint
-- referral_events: such an integration sees what the referrer sees of a referral's history
-- (status changes, questions, replies), never the clinic's internal notes.
DROP POLICY referral_events_read ON referral_events;
--> statement-breakpoint
CREATE POLICY referral_events_read ON referral_events FOR SELECT TO intakepilot_app USING (
  clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
  AND (
    (SELECT current_setting('app.role', true)) IN ('staff', 'admin', 'superadmin')
    OR ((SELECT current_setting('app.role', true)) = 'referrer' AND visible_to_referrer
        AND referral_is_visible(referral_id))
    OR ((SELECT current_setting('app.role', true)) = 'integration' AND visible_to_referrer
        AND (SELECT integration_may('Referral.Read')))
  )
);
