-- Server-side sessions, the staff member's own AI endpoint, and one account per email
-- (docs/decisions/020-server-side-sessions.md).

-- A staff member's own local model server: kept with their user row, so no cookie planted by a
-- sibling origin can widen the CSP or redirect a referral. Only they set it (user_ai_endpoint_set).
ALTER TABLE "users" ADD COLUMN "ai_endpoint" text;--> statement-breakpoint
ALTER TABLE users ADD CONSTRAINT users_ai_endpoint_shape
  CHECK (ai_endpoint IS NULL OR (length(ai_endpoint) <= 200 AND ai_endpoint ~ '^https?://[^[:space:]]+$'));
--> statement-breakpoint

-- One account per email across clinics. Two clinics' invitations for one email made the first
-- sign-in ambiguous, and sign_in_user then bound neither: the person was locked out of both.
-- The second invitation is refused instead (the users page says so, naming no clinic).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM users GROUP BY lower(email) HAVING count(*) > 1) THEN
    RAISE EXCEPTION 'users: % email(s) are used by more than one account; merge or rename them before this migration',
      (SELECT count(*) FROM (SELECT 1 FROM users GROUP BY lower(email) HAVING count(*) > 1) d);
  END IF;
END $$;
--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_key" ON "users" USING btree (lower("email"));
--> statement-breakpoint

-- A session is a row: the cookie carries its id, and request_start checks it in the request's
-- first statement. Signing out, a disable and a role change end it; a sealed cookie alone no
-- longer keeps anyone signed in. Owner-only (like session_refreshes): the runtime role has no
-- grant at all and goes through the functions below, so no policy has to cover superadmins,
-- who have no clinic. Rows hold ids and times only.
CREATE TABLE sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  ended_at timestamptz,
  ended_because text CHECK (ended_because IN ('sign-out', 'disabled', 'role')),
  CHECK ((ended_at IS NULL) = (ended_because IS NULL))
);
--> statement-breakpoint
CREATE INDEX sessions_user_live ON sessions (user_id) WHERE ended_at IS NULL;
--> statement-breakpoint
CREATE INDEX sessions_expires_at ON sessions (expires_at);
--> statement-breakpoint
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
--> statement-breakpoint

-- Sign-in (auth.callback, after sign_in_user): a new session for an active user. Its end is
-- the cookie's: p_max_age_seconds, at most 12 hours. Sessions a day past their end are removed.
CREATE FUNCTION session_start(p_user_id uuid, p_max_age_seconds integer)
RETURNS TABLE (session_id uuid, ends_at bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_id uuid;
  v_expires timestamptz;
BEGIN
  IF p_max_age_seconds IS NULL OR p_max_age_seconds NOT BETWEEN 60 AND 43200 THEN
    RAISE EXCEPTION 'session length out of range' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM users u WHERE u.id = p_user_id AND u.status = 'active') THEN
    RAISE EXCEPTION 'no active user' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  DELETE FROM sessions s WHERE s.expires_at < now() - interval '1 day';
  INSERT INTO sessions (user_id, expires_at) VALUES (p_user_id, now() + make_interval(secs => p_max_age_seconds))
    RETURNING sessions.id, sessions.expires_at INTO v_id, v_expires;
  RETURN QUERY SELECT v_id, floor(extract(epoch FROM v_expires))::bigint;
END $$;
--> statement-breakpoint

-- Sign-out: ends the caller's own session (app.user_id is the signed-in user's); anyone else's
-- id changes nothing. True when a live session was ended.
CREATE FUNCTION session_end(p_session_id uuid)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE sessions s SET ended_at = now(), ended_because = 'sign-out'
    WHERE s.id = p_session_id AND s.ended_at IS NULL
      AND s.user_id = nullif(current_setting('app.user_id', true), '')::uuid;
  RETURN FOUND;
END $$;
--> statement-breakpoint

-- A disable (or re-enable, or invitation bound) and a role change end every live session of that
-- user, whoever made the change: the admin page, the API, or the owner by hand. A session from
-- before a disable stays ended after the re-enable.
CREATE FUNCTION users_end_sessions() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE sessions s SET ended_at = now(),
      ended_because = CASE WHEN NEW.status IS DISTINCT FROM OLD.status THEN 'disabled' ELSE 'role' END
    WHERE s.user_id = NEW.id AND s.ended_at IS NULL;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER users_end_sessions AFTER UPDATE OF role, status, clinic_id ON users
  FOR EACH ROW
  WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.status IS DISTINCT FROM NEW.status OR OLD.clinic_id IS DISTINCT FROM NEW.clinic_id)
  EXECUTE FUNCTION users_end_sessions();
--> statement-breakpoint

-- The AI settings page: the signed-in user's own endpoint (NULL: the clinic's). Users cannot
-- update their own row under RLS (that would reach their role), so this one column has a setter.
CREATE FUNCTION user_ai_endpoint_set(p_endpoint text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE users u SET ai_endpoint = nullif(p_endpoint, ''), updated_at = now()
    WHERE u.id = nullif(current_setting('app.user_id', true), '')::uuid AND u.status = 'active';
  RETURN FOUND;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION session_start(uuid, integer) FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON FUNCTION session_end(uuid) FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON FUNCTION users_end_sessions() FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON FUNCTION user_ai_endpoint_set(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION session_start(uuid, integer) TO intakepilot_app;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION session_end(uuid) TO intakepilot_app;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION user_ai_endpoint_set(text) TO intakepilot_app;
--> statement-breakpoint

-- request_start (drizzle/0012) now takes the session id with the user id, and a page request
-- is signed in only while that session is live: not ended, not past its end, and the user's.
-- The user row still comes back when it is not (the sign-in page says "disabled" from it),
-- but nothing is counted and no clinic is read. Also returns the user's own AI endpoint.
DROP FUNCTION request_start(uuid, text, text, uuid, text, integer, integer);
--> statement-breakpoint
CREATE FUNCTION request_start(
  p_user_id uuid,
  p_session_id uuid,
  p_tid text,
  p_oid text,
  p_switched_clinic uuid,
  p_anonymous_key text,
  p_user_limit integer,
  p_anonymous_limit integer
)
RETURNS TABLE (
  user_id uuid, email text, display_name text, role text, status text, ai_endpoint text,
  session_live boolean,
  clinic_id uuid, clinic_name text, clinic_slug text, clinic_settings jsonb,
  counted boolean, allowed boolean, remaining integer, reset_seconds integer
)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  u users%ROWTYPE;
  c clinics%ROWTYPE;
  v_live boolean;
  v_clinic uuid;
  v_key text;
  v_limit integer;
  v_allowed boolean;
  v_remaining integer;
  v_reset integer;
BEGIN
  IF p_user_id IS NOT NULL THEN
    SELECT * INTO u FROM users WHERE users.id = p_user_id;
    v_live := p_session_id IS NOT NULL AND EXISTS (
      SELECT 1 FROM sessions s
        WHERE s.id = p_session_id AND s.user_id = p_user_id AND s.ended_at IS NULL AND s.expires_at > now());
  ELSIF p_tid IS NOT NULL AND p_oid IS NOT NULL THEN
    SELECT * INTO u FROM users WHERE users.idp_tenant_id = p_tid AND users.idp_object_id = p_oid;
    -- A verified bearer token is its own credential; it has no session.
    v_live := true;
  END IF;

  IF u.id IS NOT NULL AND u.status = 'active' AND v_live THEN
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

  RETURN QUERY SELECT u.id, u.email::text, u.display_name::text, u.role::text, u.status::text, u.ai_endpoint,
    coalesce(v_live, false),
    c.id, c.name::text, c.slug::text, c.settings,
    v_key IS NOT NULL, v_allowed, v_remaining, v_reset;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION request_start(uuid, uuid, text, text, uuid, text, integer, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION request_start(uuid, uuid, text, text, uuid, text, integer, integer) TO intakepilot_app;
