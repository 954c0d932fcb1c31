-- The outbox: what must reach the outside world (email, webhooks, the live queue), written by
-- the database in the same transaction as the change that caused it, and delivered after
-- commit by the companion Worker (docs/decisions/038-outbox-and-courier-worker.md).

-- Ids, statuses, codes and times only: never PHI (no names, no free text). Each channel keeps
-- its own deliveries; an event is done when every channel has accepted it.
CREATE TABLE outbox_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  clinic_id uuid NOT NULL REFERENCES clinics(id),
  referral_id uuid,
  topic text NOT NULL CHECK (topic IN (
    'referral.created', 'referral.status_changed', 'referral.assigned',
    'referral.question_asked', 'referral.replied', 'document.added')),
  data jsonb NOT NULL DEFAULT '{}',
  occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- Claimed by a courier run until then (a run that dies releases it by the lease running out).
  claimed_until timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  done_at timestamptz,
  -- Not done after 24 hours of tries: given up, and said so on the admin pages.
  gave_up_at timestamptz
);
--> statement-breakpoint
-- An admin page reads its own clinic's recent events.
CREATE INDEX outbox_events_clinic_idx ON outbox_events (clinic_id, id DESC);
--> statement-breakpoint
CREATE INDEX outbox_events_pending_idx ON outbox_events (id) WHERE done_at IS NULL AND gave_up_at IS NULL;
--> statement-breakpoint
-- Nobody reads or writes it directly: the triggers below insert (as the owner), and the courier
-- goes through the functions below. RLS forced all the same, with no policy for the app.
ALTER TABLE outbox_events ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE outbox_events FORCE ROW LEVEL SECURITY;
--> statement-breakpoint

-- A referral event becomes an outbox event. Notes are internal and go nowhere. The event's data
-- holds ids and states only (schema.ts: referral_events.data); only the known keys are copied,
-- so a key added there later cannot leak out by accident.
CREATE FUNCTION outbox_from_referral_event() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_topic text;
  v_priority text;
  v_status text;
BEGIN
  v_topic := CASE NEW.type
    WHEN 'created' THEN 'referral.created'
    WHEN 'status' THEN 'referral.status_changed'
    WHEN 'assignment' THEN 'referral.assigned'
    WHEN 'message' THEN 'referral.question_asked'
    WHEN 'reply' THEN 'referral.replied'
  END;
  IF v_topic IS NULL THEN RETURN NULL; END IF;
  SELECT r.priority, r.status INTO v_priority, v_status
    FROM referrals r WHERE r.clinic_id = NEW.clinic_id AND r.id = NEW.referral_id;
  INSERT INTO outbox_events (clinic_id, referral_id, topic, data) VALUES (
    NEW.clinic_id, NEW.referral_id, v_topic,
    jsonb_strip_nulls(jsonb_build_object(
      'eventId', NEW.id,
      'actorId', NEW.actor_id,
      'from', NEW.data -> 'from',
      'to', NEW.data -> 'to',
      'reasonCode', NEW.data -> 'reasonCode',
      'priority', v_priority,
      'status', v_status)));
  RETURN NULL;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION outbox_from_referral_event() FROM PUBLIC;
--> statement-breakpoint
CREATE TRIGGER referral_events_outbox AFTER INSERT ON referral_events
  FOR EACH ROW WHEN (NEW.type <> 'note')
  EXECUTE FUNCTION outbox_from_referral_event();
--> statement-breakpoint

CREATE FUNCTION outbox_from_referral_document() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_priority text;
  v_status text;
BEGIN
  SELECT r.priority, r.status INTO v_priority, v_status
    FROM referrals r WHERE r.clinic_id = NEW.clinic_id AND r.id = NEW.referral_id;
  INSERT INTO outbox_events (clinic_id, referral_id, topic, data) VALUES (
    NEW.clinic_id, NEW.referral_id, 'document.added',
    jsonb_strip_nulls(jsonb_build_object(
      'documentId', NEW.id,
      'actorId', NEW.uploaded_by,
      'attachedWith', NEW.attached_with,
      'priority', v_priority,
      'status', v_status)));
  RETURN NULL;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION outbox_from_referral_document() FROM PUBLIC;
--> statement-breakpoint
CREATE TRIGGER referral_documents_outbox AFTER INSERT ON referral_documents
  FOR EACH ROW EXECUTE FUNCTION outbox_from_referral_document();
--> statement-breakpoint

-- The courier's claim: up to p_limit pending events whose lease has run out, oldest first, each
-- leased for p_lease_seconds. SKIP LOCKED: two runs at once (a poke and the cron) never take the
-- same event. Returns only the outbox's own columns, which hold no PHI.
CREATE FUNCTION claim_outbox_events(p_limit integer, p_lease_seconds integer)
RETURNS TABLE (id bigint, clinic_id uuid, referral_id uuid, topic text, data jsonb, occurred_at timestamptz, attempts integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 500 THEN RAISE EXCEPTION 'claim_outbox_events: limit out of range'; END IF;
  IF p_lease_seconds IS NULL OR p_lease_seconds < 1 OR p_lease_seconds > 3600 THEN RAISE EXCEPTION 'claim_outbox_events: lease out of range'; END IF;
  RETURN QUERY
    UPDATE outbox_events o SET
           claimed_until = clock_timestamp() + make_interval(secs => p_lease_seconds), attempts = o.attempts + 1
     WHERE o.id IN (
       SELECT p.id FROM outbox_events p
        WHERE p.done_at IS NULL AND p.gave_up_at IS NULL
          AND (p.claimed_until IS NULL OR p.claimed_until < clock_timestamp())
        ORDER BY p.id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED)
    RETURNING o.id, o.clinic_id, o.referral_id, o.topic, o.data, o.occurred_at, o.attempts;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION claim_outbox_events(integer, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION claim_outbox_events(integer, integer) TO intakepilot_app;
--> statement-breakpoint

-- Every channel accepted the event: done. Or one did not: try again after p_retry_seconds
-- (the courier's backoff), and give up once the event is 24 hours old.
CREATE FUNCTION settle_outbox_event(p_id bigint, p_done boolean, p_retry_seconds integer)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p_done THEN
    UPDATE outbox_events SET done_at = clock_timestamp(), claimed_until = NULL WHERE id = p_id AND done_at IS NULL;
  ELSE
    UPDATE outbox_events SET
           claimed_until = clock_timestamp() + make_interval(secs => greatest(1, least(coalesce(p_retry_seconds, 60), 3600))),
           gave_up_at = CASE WHEN occurred_at < clock_timestamp() - interval '24 hours' THEN clock_timestamp() END
     WHERE id = p_id AND done_at IS NULL;
  END IF;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION settle_outbox_event(bigint, boolean, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION settle_outbox_event(bigint, boolean, integer) TO intakepilot_app;
