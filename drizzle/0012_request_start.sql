-- One round trip to start a request (issue 8: database round trips per page).
-- Before, a page paid two transactions before any loader ran: one to read the signed-in user
-- (under RLS, scoped to their own id), one to count the request (rate_limit_hit). Each
-- transaction is begin, set_config, the statement and commit: eight round trips.
-- request_start does both in one statement, outside any transaction, and also returns the
-- clinic the request works in (name, slug, settings) so that layouts need no query of their own.
--
-- Who is asking is given one of three ways, all already verified by the app:
--   p_user_id            the user id sealed in the session cookie (pages);
--   p_tid, p_oid         the tenant and object ids of a verified bearer token (the API); like
--                        api_user(), it never binds an invitation (only sign_in_user does);
--   p_anonymous_key      nobody signed in: the client address key of a sign-in route.
-- p_switched_clinic is the clinic a superadmin switched to (from their session); it is ignored
-- for every other role, whose clinic is their own. The rate limit is counted for active users
-- and for anonymous keys, exactly as rate_limit_hit counts it.
-- Read-only apart from the rate limit counter; returns ids, names and settings only, no PHI.
CREATE FUNCTION request_start(
  p_user_id uuid,
  p_tid text,
  p_oid text,
  p_switched_clinic uuid,
  p_anonymous_key text,
  p_user_limit integer,
  p_anonymous_limit integer
)
RETURNS TABLE (
  user_id uuid, email text, display_name text, role text, status text,
  clinic_id uuid, clinic_name text, clinic_slug text, clinic_settings jsonb,
  counted boolean, allowed boolean, remaining integer, reset_seconds integer
)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  u users%ROWTYPE;
  c clinics%ROWTYPE;
  v_clinic uuid;
  v_key text;
  v_limit integer;
  v_allowed boolean;
  v_remaining integer;
  v_reset integer;
BEGIN
  IF p_user_id IS NOT NULL THEN
    SELECT * INTO u FROM users WHERE users.id = p_user_id;
  ELSIF p_tid IS NOT NULL AND p_oid IS NOT NULL THEN
    SELECT * INTO u FROM users WHERE users.idp_tenant_id = p_tid AND users.idp_object_id = p_oid;
  END IF;

  IF u.id IS NOT NULL AND u.status = 'active' THEN
    v_clinic := CASE WHEN u.role = 'superadmin' THEN p_switched_clinic ELSE u.clinic_id END;
    IF v_clinic IS NOT NULL THEN
      SELECT * INTO c FROM clinics WHERE clinics.id = v_clinic;
    END IF;
    v_key := 'user:' || u.id;
    v_limit := p_user_limit;
  ELSIF u.id IS NULL AND coalesce(p_anonymous_key, '') <> '' THEN
    v_key := p_anonymous_key;
    v_limit := p_anonymous_limit;
  END IF;

  IF v_key IS NOT NULL THEN
    SELECT r.allowed, r.remaining, r.reset_seconds INTO v_allowed, v_remaining, v_reset
      FROM rate_limit_hit(v_key, v_limit) r;
  END IF;

  RETURN QUERY SELECT u.id, u.email::text, u.display_name::text, u.role::text, u.status::text,
    c.id, c.name::text, c.slug::text, c.settings,
    v_key IS NOT NULL, v_allowed, v_remaining, v_reset;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION request_start(uuid, text, text, uuid, text, integer, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION request_start(uuid, text, text, uuid, text, integer, integer) TO intakepilot_app;
--> statement-breakpoint
-- request_start reads the bearer token's user now; the narrower function has no caller left.
DROP FUNCTION api_user(text, text);
