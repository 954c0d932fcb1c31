-- Duplicate-patient detection must look at every open referral of the clinic, including
-- other referrers' (which a referrer cannot see under RLS). This function answers only
-- "which open referral, if any, has the same blind index?" with an id, and only for the
-- caller's own clinic: it cannot be used to probe another clinic.
CREATE FUNCTION find_open_duplicate(p_health_card_index text, p_name_dob_index text, p_exclude uuid)
RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT r.id FROM referrals r
  WHERE r.clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
    AND r.id IS DISTINCT FROM p_exclude
    AND r.status IN ('received', 'in_review', 'info_requested', 'accepted', 'scheduled')
    AND ((p_health_card_index IS NOT NULL AND r.health_card_index = p_health_card_index)
      OR (p_name_dob_index IS NOT NULL AND r.name_dob_index = p_name_dob_index))
  ORDER BY r.received_at DESC
  LIMIT 1
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION find_open_duplicate(text, text, uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION find_open_duplicate(text, text, uuid) TO intakepilot_app;
