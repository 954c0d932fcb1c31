-- The audit trail against its own writers (docs/decisions/021-audit-checkpoints-outside-the-database.md).
--
-- 1. A row's time and id are the database's, whatever the client sends: the runtime role could
--    otherwise write a row dated 2020 or take an id ahead of the sequence (which later inserts
--    then collide with). occurred_at is the transaction's time (now()), the one the rest of the
--    transaction's work carries; id comes from the sequence, drawn by the chain trigger only:
--    the column loses its default, so each row draws one number, not two.
ALTER TABLE audit_logs ALTER COLUMN id DROP DEFAULT;
--> statement-breakpoint
REVOKE USAGE ON SEQUENCE audit_logs_id_seq FROM intakepilot_app;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION audit_logs_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  chain_key text := coalesce(NEW.clinic_id::text, '-');
  head audit_chain_heads%ROWTYPE;
BEGIN
  NEW.id := nextval('audit_logs_id_seq');
  NEW.occurred_at := now();
  INSERT INTO audit_chain_heads (chain, seq, hash) VALUES (chain_key, 0, '')
    ON CONFLICT (chain) DO NOTHING;
  SELECT * INTO head FROM audit_chain_heads WHERE chain = chain_key FOR UPDATE;
  NEW.seq := head.seq + 1;
  NEW.prev_hash := nullif(head.hash, '');
  NEW.hash := audit_hash(NEW);
  UPDATE audit_chain_heads SET seq = NEW.seq, hash = NEW.hash WHERE chain = chain_key;
  RETURN NEW;
END $$;
--> statement-breakpoint

-- 2. Retention removes only what is past the retention period (7 years, DESIGN §5), checked here
--    for every row rather than trusted to the job that asks: the switch alone no longer removes a
--    recent row. The job also leaves a signed checkpoint outside the database (scripts/lib/audit-jobs.ts).
CREATE OR REPLACE FUNCTION audit_logs_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('intakepilot.retention', true) = 'on'
     AND current_user <> 'intakepilot_app' THEN
    IF OLD.occurred_at < now() - interval '7 years' THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit row % (seq %) is within the 7-year retention period', OLD.id, OLD.seq
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RAISE EXCEPTION 'audit_logs is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
