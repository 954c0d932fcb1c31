-- Exact per-user (and per-IP) request counting (docs/decisions/011-rate-limits-in-postgres.md).
-- One row per key and fixed one-minute window; `insert ... on conflict do update ... returning`
-- takes the row lock, so concurrent hits are serialised and the count is exact.
-- The table holds no clinic data (keys are 'user:<uuid>' or 'ip:<addr>'): it is the owner's
-- alone, like the audit chain heads; the runtime role reaches it only through rate_limit_hit.
CREATE TABLE rate_limits (
  key text NOT NULL,
  window_start timestamptz NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (key, window_start)
);
--> statement-breakpoint
ALTER TABLE rate_limits ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE rate_limits FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE INDEX rate_limits_window_start_idx ON rate_limits (window_start);
--> statement-breakpoint
CREATE FUNCTION rate_limit_hit(p_key text, p_limit integer)
RETURNS TABLE (allowed boolean, remaining integer, reset_seconds integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  -- clock_timestamp, not now(): a long transaction must not count into a stale window.
  t timestamptz := clock_timestamp();
  w timestamptz := date_trunc('minute', t);
  n integer;
BEGIN
  IF coalesce(p_key, '') = '' OR p_limit IS NULL OR p_limit < 1 THEN
    RAISE EXCEPTION 'rate_limit_hit: key and a positive limit are required';
  END IF;
  INSERT INTO rate_limits AS r (key, window_start, count) VALUES (p_key, w, 1)
    ON CONFLICT (key, window_start) DO UPDATE SET count = r.count + 1
    RETURNING r.count INTO n;
  -- Old windows are cleaned up now and then (about one call in a hundred), not on a schedule.
  IF random() < 0.01 THEN
    DELETE FROM rate_limits WHERE window_start < w - interval '1 minute';
  END IF;
  RETURN QUERY SELECT n <= p_limit, greatest(p_limit - n, 0),
    greatest(1, ceil(extract(epoch FROM (w + interval '1 minute') - t))::integer);
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION rate_limit_hit(text, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION rate_limit_hit(text, integer) TO intakepilot_app;
