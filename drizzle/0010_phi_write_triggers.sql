-- Writes to PHI tables are recorded by the database itself (DESIGN §5), so a write that
-- bypasses the application (a console session, a script, a bug) still leaves a trail:
-- who (the tenant context, or the database role), which table and row, which operation.
-- Ids only; the row's content is never copied into the trail.
CREATE FUNCTION audit_phi_write() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO audit_logs (clinic_id, actor_id, actor_role, action, entity_type, entity_id, details)
  VALUES (
    NEW.clinic_id,
    nullif(current_setting('app.user_id', true), '')::uuid,
    coalesce(nullif(current_setting('app.role', true), ''), 'db:' || current_user),
    'record.write',
    TG_TABLE_NAME,
    NEW.id::text,
    jsonb_build_object('op', lower(TG_OP))
  );
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER referrals_audit_write AFTER INSERT OR UPDATE ON referrals
  FOR EACH ROW EXECUTE FUNCTION audit_phi_write();
--> statement-breakpoint
CREATE TRIGGER referral_events_audit_write AFTER INSERT OR UPDATE ON referral_events
  FOR EACH ROW EXECUTE FUNCTION audit_phi_write();
--> statement-breakpoint
CREATE TRIGGER processing_results_audit_write AFTER INSERT OR UPDATE ON processing_results
  FOR EACH ROW EXECUTE FUNCTION audit_phi_write();
