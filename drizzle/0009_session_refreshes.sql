-- Refresh tokens rotate: each is good for one refresh. Two requests of one session that cross
-- the access-token expiry together (or a request whose new cookie never reached the browser,
-- because the user clicked on) would present the same refresh token twice, and a provider
-- that detects reuse revokes the whole grant. So each refresh is done once per token: the
-- first request takes a lock on the token's hash, refreshes, and leaves the result (sealed
-- with the session key, so never readable here) for two minutes; the others wait, then use it.
CREATE TABLE session_refreshes (
  token_hash text PRIMARY KEY,
  sealed_result text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
ALTER TABLE session_refreshes ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE session_refreshes FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- Owner-only table; the runtime role goes through these two functions.
CREATE FUNCTION session_refresh_claim(p_token_hash text) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  found_result text;
BEGIN
  IF p_token_hash !~ '^[0-9a-f]{64}$' THEN
    RAISE EXCEPTION 'bad token hash' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- Held to the end of the caller's transaction, which spans the refresh at the provider.
  PERFORM pg_advisory_xact_lock(hashtextextended(p_token_hash, 0));
  SELECT sealed_result INTO found_result FROM session_refreshes
    WHERE token_hash = p_token_hash AND created_at > now() - interval '2 minutes';
  RETURN found_result;
END $$;
--> statement-breakpoint
CREATE FUNCTION session_refresh_store(p_token_hash text, p_sealed_result text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p_token_hash !~ '^[0-9a-f]{64}$' OR length(p_sealed_result) > 8192 THEN
    RAISE EXCEPTION 'bad refresh record' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO session_refreshes (token_hash, sealed_result) VALUES (p_token_hash, p_sealed_result)
    ON CONFLICT (token_hash) DO UPDATE SET sealed_result = excluded.sealed_result, created_at = now();
  DELETE FROM session_refreshes WHERE created_at < now() - interval '10 minutes';
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION session_refresh_claim(text) FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON FUNCTION session_refresh_store(text, text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION session_refresh_claim(text) TO intakepilot_app;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION session_refresh_store(text, text) TO intakepilot_app;
