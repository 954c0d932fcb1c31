-- The API's bearer tokens arrive before anyone's clinic is known, so the runtime role cannot
-- find the user under RLS. This narrow, read-only function maps a verified (tid, oid) to the
-- user already bound to it, and nothing more: unlike sign_in_user it never binds an invited
-- user by email (binding happens only through the interactive sign-in) and never updates a row.
CREATE FUNCTION api_user(p_tid text, p_oid text)
RETURNS TABLE (id uuid, clinic_id uuid, role text, status text, email text, display_name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT u.id, u.clinic_id, u.role::text, u.status::text, u.email::text, u.display_name::text FROM users u
    WHERE u.idp_tenant_id = p_tid AND u.idp_object_id = p_oid
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION api_user(text, text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION api_user(text, text) TO intakepilot_app;
