-- Sign-in happens before anyone's clinic is known, so the runtime role cannot find the user
-- under RLS. This one narrow function, owned by the migration owner (who bypasses RLS, as
-- Neon's owner role does), maps a verified identity to a provisioned user and nothing more:
--   1. a user bound to (tid, oid);
--   2. else exactly one invited, unbound user with that email (first sign-in binds them).
-- It never creates a user. Email is used only for that first bind (issue 3 §6).
CREATE FUNCTION sign_in_user(p_tid text, p_oid text, p_email text)
RETURNS TABLE (id uuid, clinic_id uuid, role text, status text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  found_id uuid;
BEGIN
  SELECT u.id INTO found_id FROM users u WHERE u.idp_tenant_id = p_tid AND u.idp_object_id = p_oid;
  IF found_id IS NULL AND coalesce(p_email, '') <> '' THEN
    -- Only when exactly one invitation matches: an ambiguous email binds nothing.
    SELECT min(u.id::text)::uuid INTO found_id FROM users u
      WHERE u.idp_object_id IS NULL AND u.status = 'invited' AND lower(u.email) = lower(p_email)
      HAVING count(*) = 1;
    IF found_id IS NOT NULL THEN
      UPDATE users u SET idp_tenant_id = p_tid, idp_object_id = p_oid, status = 'active', updated_at = now()
        WHERE u.id = found_id;
    END IF;
  END IF;
  IF found_id IS NULL THEN
    RETURN;
  END IF;
  UPDATE users u SET last_sign_in_at = now() WHERE u.id = found_id AND u.status = 'active';
  RETURN QUERY SELECT u.id, u.clinic_id, u.role, u.status FROM users u WHERE u.id = found_id;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION sign_in_user(text, text, text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION sign_in_user(text, text, text) TO intakepilot_app;
