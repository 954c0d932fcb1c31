-- A referral an EHR system sent (drizzle/0035) and the clinic forwards arrives at the other clinic
-- named by that EHR system, as a person's is by its referrer: forward_referral (0025) took the
-- referrer's name from users only, so it arrived as "Unknown referrer". The function is 0025's,
-- with the sender's name read from the referral's submitted_by_integration_name too.
CREATE OR REPLACE FUNCTION forward_referral(
  p_referral uuid,
  p_version integer,
  p_to_clinic uuid,
  p_form_version integer,
  p_new_referral uuid,
  p_new_event uuid,
  p_sender_event uuid,
  p_form_data jsonb,
  p_health_card_index text,
  p_name_dob_index text,
  p_reason_for_sender jsonb,
  p_reason_for_receiver jsonb,
  p_request_id text,
  p_documents jsonb
) RETURNS TABLE (outcome text, reference_number text, clinic_name text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_clinic uuid := forwarding_clinic();
  v_user uuid := nullif(current_setting('app.user_id', true), '')::uuid;
  v_role text := current_setting('app.role', true);
  v_from record;
  v_to record;
  v_definition jsonb;
  v_field jsonb;
  v_key text;
  v_value jsonb;
  v_reference text;
  v_alphabet constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  v_bytes bytea := uuid_send(gen_random_uuid());
  v_document jsonb;
  v_held integer;
BEGIN
  IF v_clinic IS NULL THEN
    RAISE EXCEPTION 'forward_referral: not clinic staff' USING ERRCODE = '42501';
  END IF;
  IF p_referral IS NULL OR p_version IS NULL OR p_to_clinic IS NULL OR p_form_version IS NULL OR p_new_referral IS NULL
     OR p_new_event IS NULL OR p_sender_event IS NULL OR p_form_data IS NULL
     OR p_new_referral = p_referral OR p_new_event = p_sender_event
     OR jsonb_typeof(p_form_data) <> 'object' OR length(p_form_data::text) > 262144
     OR NOT forward_is_sealed(p_reason_for_sender) OR NOT forward_is_sealed(p_reason_for_receiver)
     OR (p_health_card_index IS NOT NULL AND p_health_card_index !~ '^[A-Za-z0-9+/]{43}=$')
     OR (p_name_dob_index IS NOT NULL AND p_name_dob_index !~ '^[A-Za-z0-9+/]{43}=$')
     OR (p_request_id IS NOT NULL AND length(p_request_id) > 100)
     OR p_documents IS NULL OR jsonb_typeof(p_documents) <> 'array' OR jsonb_array_length(p_documents) > 20 THEN
    RAISE EXCEPTION 'forward_referral: malformed arguments' USING ERRCODE = '22023';
  END IF;

  SELECT r.id, r.status, r.version, r.priority, r.submitted_by, r.submitted_by_integration_name, r.referrer_name, r.referrer_organization, c.name AS clinic_name
    INTO v_from
    FROM referrals r JOIN clinics c ON c.id = r.clinic_id
    WHERE r.id = p_referral AND r.clinic_id = v_clinic
    FOR UPDATE OF r;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not-found'::text, NULL::text, NULL::text;
    RETURN;
  END IF;
  IF v_from.version <> p_version THEN
    RETURN QUERY SELECT 'conflict'::text, NULL::text, NULL::text;
    RETURN;
  END IF;
  -- Before a booking: once the patient has an appointment, or the referral is done, it stays.
  IF v_from.status NOT IN ('received', 'in_review', 'info_requested', 'accepted') THEN
    RETURN QUERY SELECT 'bad-move'::text, NULL::text, NULL::text;
    RETURN;
  END IF;

  SELECT c.id, c.name, c.slug INTO v_to FROM clinics c
    WHERE c.id = p_to_clinic AND c.id <> v_clinic AND c.settings->'acceptsForwards' = 'true'::jsonb;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not-accepting'::text, NULL::text, NULL::text;
    RETURN;
  END IF;

  SELECT f.definition INTO v_definition FROM intake_forms f
    WHERE f.clinic_id = v_to.id AND f.version = p_form_version AND f.published_at IS NOT NULL;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'stale-form'::text, NULL::text, NULL::text;
    RETURN;
  END IF;

  -- Every key a field of the receiving form; PHI sealed, the rest plain scalars.
  FOR v_key, v_value IN SELECT * FROM jsonb_each(p_form_data) LOOP
    SELECT fld INTO v_field FROM jsonb_array_elements(v_definition->'sections') s, jsonb_array_elements(s->'fields') fld
      WHERE fld->>'key' = v_key LIMIT 1;
    IF v_field IS NULL
       OR (coalesce((v_field->>'phi')::boolean, false) AND NOT forward_is_sealed(v_value))
       OR (NOT coalesce((v_field->>'phi')::boolean, false) AND jsonb_typeof(v_value) NOT IN ('string', 'number', 'boolean'))
       OR (jsonb_typeof(v_value) = 'string' AND length(v_value #>> '{}') > 10000) THEN
      RAISE EXCEPTION 'forward_referral: form data does not fit the receiving form' USING ERRCODE = '22023';
    END IF;
  END LOOP;

  -- One entry per document the referral holds: which one it is a copy of, the copy's id (its
  -- chunks are already in R2 under the receiver's prefix, sealed for it), its name sealed for it.
  FOR v_document IN SELECT * FROM jsonb_array_elements(p_documents) LOOP
    IF jsonb_typeof(v_document) <> 'object'
       OR (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(v_document) k) IS DISTINCT FROM ARRAY['from', 'id', 'name']
       OR jsonb_typeof(v_document->'from') <> 'string' OR jsonb_typeof(v_document->'id') <> 'string'
       OR v_document->>'from' !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       OR v_document->>'id' !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       OR NOT forward_is_sealed(v_document->'name') THEN
      RAISE EXCEPTION 'forward_referral: malformed documents' USING ERRCODE = '22023';
    END IF;
  END LOOP;
  -- Every document the referral holds, each once, none of another referral; held (FOR SHARE)
  -- so a removal waits for the hand-off. A document added or removed since the page read them
  -- is a conflict, as a changed version is.
  PERFORM 1 FROM referral_documents d
    WHERE d.clinic_id = v_clinic AND d.referral_id = p_referral AND d.removed_at IS NULL FOR SHARE;
  SELECT count(*) INTO v_held FROM referral_documents d
    WHERE d.clinic_id = v_clinic AND d.referral_id = p_referral AND d.removed_at IS NULL;
  IF v_held <> jsonb_array_length(p_documents)
     OR v_held <> (SELECT count(DISTINCT e->>'from') FROM jsonb_array_elements(p_documents) e
                    JOIN referral_documents d ON d.id = (e->>'from')::uuid
                    WHERE d.clinic_id = v_clinic AND d.referral_id = p_referral AND d.removed_at IS NULL)
     OR v_held <> (SELECT count(DISTINCT e->>'id') FROM jsonb_array_elements(p_documents) e) THEN
    RETURN QUERY SELECT 'conflict'::text, NULL::text, NULL::text;
    RETURN;
  END IF;

  v_reference := upper(left(v_to.slug, 3)) || '-';
  FOR i IN 0..6 LOOP
    v_reference := v_reference || substr(v_alphabet, 1 + get_byte(v_bytes, i) % 32, 1);
  END LOOP;

  -- What is written in the receiving clinic names no user of the sending one: its trail (the
  -- rows below and those the write triggers add) shows the hand-off as the other clinic's.
  PERFORM set_config('app.user_id', '', true), set_config('app.role', 'other-clinic', true);

  INSERT INTO referrals (id, clinic_id, reference_number, form_version, submitted_by, status, priority, form_data,
                         health_card_index, name_dob_index, possible_duplicate_of, referrer_name, referrer_organization,
                         forwarded_from_clinic_id, forwarded_from_name)
  SELECT p_new_referral, v_to.id, v_reference, p_form_version, NULL, 'received', v_from.priority, p_form_data,
         p_health_card_index, p_name_dob_index,
         (SELECT d.id FROM referrals d
           WHERE d.clinic_id = v_to.id
             AND d.status IN ('received', 'in_review', 'info_requested', 'accepted', 'scheduled')
             AND ((p_health_card_index IS NOT NULL AND d.health_card_index = p_health_card_index)
               OR (p_name_dob_index IS NOT NULL AND d.name_dob_index = p_name_dob_index))
           ORDER BY d.received_at DESC LIMIT 1),
         coalesce(v_from.referrer_name, u.display_name, v_from.submitted_by_integration_name, 'Unknown referrer'), coalesce(v_from.referrer_organization, u.organization),
         v_clinic, v_from.clinic_name
    FROM (SELECT 1) one LEFT JOIN users u ON u.id = v_from.submitted_by AND u.clinic_id = v_clinic;

  -- Its first history event; the actor is of another clinic, so it names none.
  INSERT INTO referral_events (id, clinic_id, referral_id, actor_id, type, data, body, visible_to_referrer, created_at)
    VALUES (p_new_event, v_to.id, p_new_referral, NULL, 'created', jsonb_build_object('forwardedFrom', v_clinic), p_reason_for_receiver, false, now());

  INSERT INTO audit_logs (clinic_id, actor_id, actor_role, action, entity_type, entity_id, details, request_id)
    VALUES (v_to.id, NULL, 'other-clinic', 'referral.receive', 'referral', p_new_referral::text,
            jsonb_build_object('fromClinic', v_clinic, 'fromReferral', p_referral,
                               'documentIds', (SELECT coalesce(jsonb_agg(e->'id'), '[]'::jsonb) FROM jsonb_array_elements(p_documents) e)),
            p_request_id);

  -- The copies' rows: everything but the name and the new id is the original's. Uploaded by no
  -- one of this clinic: attached with the forward.
  INSERT INTO referral_documents (id, clinic_id, referral_id, uploaded_by, attached_with, content_type, size_bytes, sha256,
                                  chunk_bytes, chunk_count, name)
  SELECT (x.e->>'id')::uuid, v_to.id, p_new_referral, NULL, 'forward', d.content_type, d.size_bytes, d.sha256,
         d.chunk_bytes, d.chunk_count, x.e->'name'
    FROM jsonb_array_elements(p_documents) AS x(e)
    JOIN referral_documents d ON d.id = (x.e->>'from')::uuid AND d.clinic_id = v_clinic AND d.referral_id = p_referral
    ORDER BY d.created_at, d.id;

  PERFORM set_config('app.user_id', coalesce(v_user::text, ''), true), set_config('app.role', coalesce(v_role, ''), true);

  UPDATE referrals SET status = 'forwarded', closed_at = now(), updated_at = now(), version = version + 1,
         forwarded_to_clinic_id = v_to.id, forwarded_to_name = v_to.name, forwarded_to_reference = v_reference, forwarded_at = now()
    WHERE id = p_referral AND clinic_id = v_clinic;

  INSERT INTO referral_events (id, clinic_id, referral_id, actor_id, type, data, body, visible_to_referrer)
    VALUES (p_sender_event, v_clinic, p_referral, v_user, 'status',
            jsonb_build_object('from', v_from.status, 'to', 'forwarded', 'toClinic', v_to.id, 'referenceNumber', v_reference),
            p_reason_for_sender, true);

  RETURN QUERY SELECT 'forwarded'::text, v_reference, v_to.name;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION forward_referral(uuid, integer, uuid, integer, uuid, uuid, uuid, jsonb, text, text, jsonb, jsonb, text, jsonb) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION forward_referral(uuid, integer, uuid, integer, uuid, uuid, uuid, jsonb, text, text, jsonb, jsonb, text, jsonb) TO intakepilot_app;
