-- The audit trail's hash chain (DESIGN §5): each clinic's rows are numbered 1, 2, 3, ... and
-- each row's hash covers its canonical form and the previous row's hash. A changed field, a
-- removed row or two swapped rows all break the chain, and audit_verify() finds the first break.

-- The chain bookkeeping is the owner's alone: the runtime role never reads or writes it.
ALTER TABLE audit_chain_heads ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE audit_chain_heads FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE audit_checkpoints FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- A clinic's admin verifies from their own checkpoint, so they may read it.
GRANT SELECT ON audit_checkpoints TO intakepilot_app;
--> statement-breakpoint
CREATE POLICY audit_checkpoints_read ON audit_checkpoints FOR SELECT TO intakepilot_app USING (
  chain = nullif(current_setting('app.clinic_id', true), '')
  AND current_setting('app.role', true) IN ('staff', 'admin', 'superadmin')
);
--> statement-breakpoint

-- One definition of a row's canonical text, used to write and to verify. jsonb::text is
-- already canonical (keys sorted, whitespace fixed); times are printed in UTC with microseconds.
CREATE FUNCTION audit_canonical(r audit_logs) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp AS $$
  SELECT concat_ws('|',
    r.id::text, coalesce(r.clinic_id::text, '-'), r.seq::text,
    coalesce(r.actor_id::text, ''), coalesce(r.actor_role, ''), r.action,
    coalesce(r.entity_type, ''), coalesce(r.entity_id, ''), coalesce(r.details::text, ''),
    coalesce(r.request_id, ''), coalesce(r.ip, ''), coalesce(r.user_agent, ''), r.outcome,
    to_char(r.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    coalesce(r.prev_hash, ''))
$$;
--> statement-breakpoint
CREATE FUNCTION audit_hash(r audit_logs) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp AS $$
  SELECT encode(sha256(convert_to(audit_canonical(r), 'UTF8')), 'hex')
$$;
--> statement-breakpoint

-- Appending: take the clinic's chain head FOR UPDATE (held to commit, so concurrent writers
-- of one clinic append one after another, in commit order), then number and hash the row.
-- SECURITY DEFINER: the runtime role may append, but only the owner touches the heads.
CREATE FUNCTION audit_logs_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  chain_key text := coalesce(NEW.clinic_id::text, '-');
  head audit_chain_heads%ROWTYPE;
BEGIN
  INSERT INTO audit_chain_heads (chain, seq, hash) VALUES (chain_key, 0, '')
    ON CONFLICT (chain) DO NOTHING;
  SELECT * INTO head FROM audit_chain_heads WHERE chain = chain_key FOR UPDATE;
  NEW.seq := head.seq + 1;
  NEW.prev_hash := nullif(head.hash, '');
  NEW.occurred_at := coalesce(NEW.occurred_at, now());
  NEW.hash := audit_hash(NEW);
  UPDATE audit_chain_heads SET seq = NEW.seq, hash = NEW.hash WHERE chain = chain_key;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_logs_chain BEFORE INSERT ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION audit_logs_chain();
--> statement-breakpoint
REVOKE ALL ON FUNCTION audit_logs_chain() FROM PUBLIC;
--> statement-breakpoint

-- Append-only for every role, the owner included. The one exception is the retention job,
-- which runs as the owner and says so for its own transaction (SET LOCAL).
CREATE OR REPLACE FUNCTION audit_logs_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('intakepilot.retention', true) = 'on'
     AND current_user <> 'intakepilot_app' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_logs is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
--> statement-breakpoint

-- Verification: walks one chain in seq order from the retention checkpoint (if any) and
-- reports the first row that does not fit. Runs with the caller's rights, so an admin can
-- verify their own clinic (RLS) and the owner every chain.
CREATE FUNCTION audit_verify(p_clinic uuid)
RETURNS TABLE (ok boolean, checked bigint, broken_seq bigint, broken_id bigint, reason text)
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
  r audit_logs%ROWTYPE;
  expected_seq bigint := 1;
  expected_prev text := NULL;
  n bigint := 0;
  cp audit_checkpoints%ROWTYPE;
BEGIN
  SELECT * INTO cp FROM audit_checkpoints WHERE chain = coalesce(p_clinic::text, '-');
  IF FOUND THEN expected_seq := cp.seq + 1; expected_prev := cp.hash; END IF;
  FOR r IN SELECT * FROM audit_logs a WHERE a.clinic_id IS NOT DISTINCT FROM p_clinic ORDER BY a.seq LOOP
    n := n + 1;
    IF r.seq <> expected_seq THEN
      RETURN QUERY SELECT false, n, r.seq, r.id, format('row %s is missing (found %s next)', expected_seq, r.seq);
      RETURN;
    END IF;
    IF r.prev_hash IS DISTINCT FROM expected_prev THEN
      RETURN QUERY SELECT false, n, r.seq, r.id, 'does not follow the previous row (reordered or a row replaced)';
      RETURN;
    END IF;
    IF r.hash IS DISTINCT FROM audit_hash(r) THEN
      RETURN QUERY SELECT false, n, r.seq, r.id, 'content changed after it was written';
      RETURN;
    END IF;
    expected_seq := r.seq + 1;
    expected_prev := r.hash;
  END LOOP;
  RETURN QUERY SELECT true, n, NULL::bigint, NULL::bigint, NULL::text;
END $$;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION audit_verify(uuid) TO intakepilot_app;
