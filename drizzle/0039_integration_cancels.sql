-- The sender cancels, whoever sent it (docs/decisions/060-sender-cancels.md): an EHR system that
-- sent a referral (submitted_by_integration, drizzle/0035) cancels it as a referrer cancels theirs,
-- through the same one function. Its caller is then an integration (app.role 'integration',
-- app.user_id its id) that is active in this clinic and holds Referral.Submit (integration_may);
-- the referral must be one it sent. referral_events.actor_id refers to users, so the status event
-- names no actor, as the integration's created event does: the audit row the app writes in the
-- same transaction names it. Everything else is 0033's, unchanged.
CREATE OR REPLACE FUNCTION cancel_own_referral(
  p_referral uuid,
  p_version integer,
  p_event uuid,
  p_reason jsonb,
  p_reason_code text
) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_clinic uuid := nullif(current_setting('app.clinic_id', true), '')::uuid;
  v_user uuid := nullif(current_setting('app.user_id', true), '')::uuid;
  v_system boolean := current_setting('app.role', true) IS NOT DISTINCT FROM 'integration';
  v_from text;
  v_version integer;
BEGIN
  IF v_system THEN
    IF NOT integration_may('Referral.Submit') THEN
      RAISE EXCEPTION 'cancel_own_referral: not an EHR system that sends referrals here' USING ERRCODE = '42501';
    END IF;
  ELSIF current_setting('app.role', true) IS DISTINCT FROM 'referrer' OR NOT EXISTS (
    SELECT 1 FROM users u
    WHERE u.id = v_user AND u.clinic_id = v_clinic AND u.role = 'referrer' AND u.status = 'active'
  ) THEN
    RAISE EXCEPTION 'cancel_own_referral: not a referrer of this clinic' USING ERRCODE = '42501';
  END IF;
  -- The reason is required (the clinic reads it) and sealed: never clear text in the row.
  -- The category is one of the cancel's own (app/referrals/reason-codes.ts: CANCEL_REASONS), or none.
  IF p_referral IS NULL OR p_version IS NULL OR p_event IS NULL OR NOT forward_is_sealed(p_reason)
     OR (p_reason_code IS NOT NULL AND p_reason_code NOT IN
         ('patient_declined', 'referrer_withdrew', 'patient_unreachable', 'duplicate', 'referred_elsewhere', 'other')) THEN
    RAISE EXCEPTION 'cancel_own_referral: malformed arguments' USING ERRCODE = '22023';
  END IF;

  SELECT r.status, r.version INTO v_from, v_version FROM referrals r
    WHERE r.id = p_referral AND r.clinic_id = v_clinic
      AND CASE WHEN v_system THEN r.submitted_by_integration = v_user ELSE r.submitted_by = v_user END
    FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 'not-found';
  END IF;
  IF v_version <> p_version THEN
    RETURN 'conflict';
  END IF;
  IF v_from NOT IN ('received', 'in_review', 'info_requested', 'accepted', 'scheduled') THEN
    RETURN 'bad-move';
  END IF;

  -- Closed now; triaged_at is the clinic's own measure and a withdrawal is not a triage.
  UPDATE referrals SET status = 'cancelled', closed_at = now(), updated_at = now(), version = version + 1
    WHERE id = p_referral AND clinic_id = v_clinic;
  -- The status event as the page's move writes it; its outbox and write-audit triggers fire as for any.
  INSERT INTO referral_events (id, clinic_id, referral_id, actor_id, type, data, body, visible_to_referrer)
    VALUES (p_event, v_clinic, p_referral, CASE WHEN v_system THEN NULL ELSE v_user END, 'status',
            jsonb_strip_nulls(jsonb_build_object('from', v_from, 'to', 'cancelled', 'reasonCode', p_reason_code)),
            p_reason, true);
  RETURN 'done';
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cancel_own_referral(uuid, integer, uuid, jsonb, text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cancel_own_referral(uuid, integer, uuid, jsonb, text) TO intakepilot_app;
