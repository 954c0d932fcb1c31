-- Forwarding a referral to another clinic (docs/decisions/032-forwarding-between-clinics.md).
-- No clinic reads another's rows: the sending clinic's request re-encrypts the PHI under the
-- receiving clinic's key, then one SECURITY DEFINER function, forward_referral(), checks every
-- argument and writes both sides in one statement. Two narrower functions answer what the form
-- needs: which clinics accept forwards (name and id), and the form a chosen one takes.

-- The sender's closed record says where it went (a snapshot of the name: the sender cannot read
-- the other clinic's row); the receiver's says where it came from. A forwarded referral has no
-- submitter of its clinic: its referrer is carried as text, as for a typed-in referrer (028).
ALTER TABLE "referrals" ADD COLUMN "forwarded_to_clinic_id" uuid REFERENCES "clinics"("id");--> statement-breakpoint
ALTER TABLE "referrals" ADD COLUMN "forwarded_to_name" text;--> statement-breakpoint
ALTER TABLE "referrals" ADD COLUMN "forwarded_to_reference" text;--> statement-breakpoint
ALTER TABLE "referrals" ADD COLUMN "forwarded_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "referrals" ADD COLUMN "forwarded_from_clinic_id" uuid REFERENCES "clinics"("id");--> statement-breakpoint
ALTER TABLE "referrals" ADD COLUMN "forwarded_from_name" text;--> statement-breakpoint
ALTER TABLE "referrals" ALTER COLUMN "submitted_by" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_submitted_or_forwarded" CHECK ("submitted_by" is not null or "forwarded_from_clinic_id" is not null);--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_forwarded_status" CHECK (("status" = 'forwarded') = ("forwarded_to_clinic_id" is not null));--> statement-breakpoint
ALTER TABLE "referrals" DROP CONSTRAINT "referrals_typed_referrer_entered";--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_typed_referrer_entered" CHECK ("referrer_name" is null or "entered_by" is not null or "forwarded_from_clinic_id" is not null);--> statement-breakpoint

-- Only forward_referral() forwards. The runtime role may not create a forwarded referral, move
-- one to `forwarded`, move one out of it (terminal), or touch what the hand-off recorded.
-- Inside forward_referral() current_user is the owner (SECURITY DEFINER), and the guard stands aside.
CREATE FUNCTION referrals_forwarding_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  IF current_user = (SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = TG_RELID) THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.status = 'forwarded' OR NEW.forwarded_to_clinic_id IS NOT NULL OR NEW.forwarded_from_clinic_id IS NOT NULL
       OR NEW.forwarded_to_name IS NOT NULL OR NEW.forwarded_to_reference IS NOT NULL OR NEW.forwarded_at IS NOT NULL
       OR NEW.forwarded_from_name IS NOT NULL THEN
      RAISE EXCEPTION 'only forward_referral() forwards a referral' USING ERRCODE = '42501';
    END IF;
  ELSIF (OLD.status = 'forwarded') <> (NEW.status = 'forwarded')
     OR (NEW.forwarded_to_clinic_id, NEW.forwarded_to_name, NEW.forwarded_to_reference, NEW.forwarded_at, NEW.forwarded_from_clinic_id, NEW.forwarded_from_name)
        IS DISTINCT FROM (OLD.forwarded_to_clinic_id, OLD.forwarded_to_name, OLD.forwarded_to_reference, OLD.forwarded_at, OLD.forwarded_from_clinic_id, OLD.forwarded_from_name) THEN
    RAISE EXCEPTION 'only forward_referral() forwards a referral' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER referrals_forwarding_guard BEFORE INSERT OR UPDATE ON referrals
  FOR EACH ROW EXECUTE FUNCTION referrals_forwarding_guard();
--> statement-breakpoint

-- The caller's tenant context, when it is clinic staff who may forward: the clinic, or null.
-- Not a definer itself: it runs inside the definers below, with their rights, and the runtime
-- role may not call it.
CREATE FUNCTION forwarding_clinic() RETURNS uuid
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT u.clinic_id FROM users u
  WHERE u.id = nullif(current_setting('app.user_id', true), '')::uuid
    AND u.status = 'active'
    AND u.role = current_setting('app.role', true)
    AND u.role IN ('staff', 'admin')
    AND u.clinic_id = nullif(current_setting('app.clinic_id', true), '')::uuid
  UNION ALL
  -- A superadmin works in the clinic they switched to (they belong to none).
  SELECT nullif(current_setting('app.clinic_id', true), '')::uuid FROM users u
  WHERE u.id = nullif(current_setting('app.user_id', true), '')::uuid
    AND u.status = 'active'
    AND u.role = 'superadmin'
    AND current_setting('app.role', true) = 'superadmin'
  LIMIT 1
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION forwarding_clinic() FROM PUBLIC;
--> statement-breakpoint

-- Which clinics a referral can go to: the others that accept forwards, by name and id only.
CREATE FUNCTION forward_targets() RETURNS TABLE (id uuid, name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c.id, c.name FROM clinics c
  WHERE forwarding_clinic() IS NOT NULL
    AND c.id <> forwarding_clinic()
    AND c.settings->'acceptsForwards' = 'true'::jsonb
  ORDER BY c.name, c.id
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION forward_targets() FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION forward_targets() TO intakepilot_app;
--> statement-breakpoint

-- The form a referral forwarded to an accepting clinic is stored with: its current published
-- version (field keys, types and which are PHI: no patient data), so the sender can seal the
-- values for it. Nothing for a clinic that does not accept forwards, or for the caller's own.
CREATE FUNCTION forward_target_form(p_clinic uuid) RETURNS TABLE (version integer, definition jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT f.version, f.definition FROM intake_forms f
  JOIN clinics c ON c.id = f.clinic_id
  WHERE c.id = p_clinic
    AND forwarding_clinic() IS NOT NULL
    AND c.id <> forwarding_clinic()
    AND c.settings->'acceptsForwards' = 'true'::jsonb
    AND f.published_at IS NOT NULL
  ORDER BY f.version DESC
  LIMIT 1
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION forward_target_form(uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION forward_target_form(uuid) TO intakepilot_app;
--> statement-breakpoint

-- A value as app/crypto seals it: { v: 1, kid, iv, ct }, nothing else.
CREATE FUNCTION forward_is_sealed(p_value jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp AS $$
  SELECT p_value IS NOT NULL AND jsonb_typeof(p_value) = 'object'
    AND (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(p_value) k) = ARRAY['ct', 'iv', 'kid', 'v']
    AND p_value->'v' = '1'::jsonb
    AND jsonb_typeof(p_value->'kid') = 'string' AND length(p_value->>'kid') BETWEEN 1 AND 64
    AND jsonb_typeof(p_value->'iv') = 'string' AND p_value->>'iv' ~ '^[A-Za-z0-9+/]{16}$'
    AND jsonb_typeof(p_value->'ct') = 'string' AND p_value->>'ct' ~ '^[A-Za-z0-9+/]+={0,2}$' AND length(p_value->>'ct') <= 16384
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION forward_is_sealed(jsonb) FROM PUBLIC;
--> statement-breakpoint

-- The hand-off. Everything it writes is decided here from the rows, except what only the app can
-- make (ciphertexts under the receiver's key, blind indexes, the ids they are bound to), and each
-- of those is checked for its shape: the form data holds only the receiving form's fields, its
-- PHI fields only sealed values, its other fields only scalars. Outcomes the page explains are
-- returned; arguments no page sends raise. No dynamic SQL.
CREATE FUNCTION forward_referral(
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
  p_request_id text
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
     OR (p_request_id IS NOT NULL AND length(p_request_id) > 100) THEN
    RAISE EXCEPTION 'forward_referral: malformed arguments' USING ERRCODE = '22023';
  END IF;

  SELECT r.id, r.status, r.version, r.priority, r.submitted_by, r.referrer_name, r.referrer_organization, c.name AS clinic_name
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

  v_reference := upper(left(v_to.slug, 3)) || '-';
  FOR i IN 0..6 LOOP
    v_reference := v_reference || substr(v_alphabet, 1 + get_byte(v_bytes, i) % 32, 1);
  END LOOP;

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
         coalesce(v_from.referrer_name, u.display_name, 'Unknown referrer'), coalesce(v_from.referrer_organization, u.organization),
         v_clinic, v_from.clinic_name
    FROM (SELECT 1) one LEFT JOIN users u ON u.id = v_from.submitted_by AND u.clinic_id = v_clinic;

  -- Its first history event; the actor is of another clinic, so it names none.
  INSERT INTO referral_events (id, clinic_id, referral_id, actor_id, type, data, body, visible_to_referrer, created_at)
    VALUES (p_new_event, v_to.id, p_new_referral, NULL, 'created', jsonb_build_object('forwardedFrom', v_clinic), p_reason_for_receiver, false, now());

  INSERT INTO audit_logs (clinic_id, actor_id, actor_role, action, entity_type, entity_id, details, request_id)
    VALUES (v_to.id, v_user, v_role, 'referral.receive', 'referral', p_new_referral::text,
            jsonb_build_object('fromClinic', v_clinic, 'fromReferral', p_referral), p_request_id);

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
REVOKE ALL ON FUNCTION forward_referral(uuid, integer, uuid, integer, uuid, uuid, uuid, jsonb, text, text, jsonb, jsonb, text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION forward_referral(uuid, integer, uuid, integer, uuid, uuid, uuid, jsonb, text, text, jsonb, jsonb, text) TO intakepilot_app;
