-- The sender cancels their own referral (the Ontario eReferral rule; docs/decisions/060-sender-cancels.md).
-- A referrer may not update referrals (referrals_work stays staff-only) nor add a status event
-- (referral_events_add: replies only). One SECURITY DEFINER function makes exactly this move and
-- nothing else: the caller's own referral (submitted_by = app.user_id) of the caller's clinic,
-- as an active referrer of that clinic, at the version read, from a status the workflow lets
-- move to cancelled (app/referrals/workflow.ts), with the reason sealed by the app under the
-- event's id. The app checks the same first and writes the audit row in the same transaction.
CREATE FUNCTION cancel_own_referral(
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
  v_from text;
  v_version integer;
BEGIN
  IF current_setting('app.role', true) IS DISTINCT FROM 'referrer' OR NOT EXISTS (
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
    WHERE r.id = p_referral AND r.clinic_id = v_clinic AND r.submitted_by = v_user
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
    VALUES (p_event, v_clinic, p_referral, v_user, 'status',
            jsonb_strip_nulls(jsonb_build_object('from', v_from, 'to', 'cancelled', 'reasonCode', p_reason_code)),
            p_reason, true);
  RETURN 'done';
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cancel_own_referral(uuid, integer, uuid, jsonb, text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cancel_own_referral(uuid, integer, uuid, jsonb, text) TO intakepilot_app;
