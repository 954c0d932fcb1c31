-- An endpoint the courier disabled for failing (docs/decisions/043, 052) is told to the clinic's
-- admins by email: the database writes an outbox event in the transaction that disables it, as
-- it does for referral changes (drizzle/0024), and the email channel records one delivery per
-- admin (once per event and admin: email_deliveries_once). Such a delivery names the endpoint,
-- not a referral.

ALTER TABLE outbox_events DROP CONSTRAINT outbox_events_topic_check;
--> statement-breakpoint
ALTER TABLE outbox_events ADD CONSTRAINT outbox_events_topic_check CHECK (topic IN (
  'referral.created', 'referral.status_changed', 'referral.assigned',
  'referral.question_asked', 'referral.replied', 'document.added', 'webhook.endpoint_disabled'));
--> statement-breakpoint

ALTER TABLE email_deliveries ALTER COLUMN referral_id DROP NOT NULL;
--> statement-breakpoint
ALTER TABLE email_deliveries ADD COLUMN endpoint_id uuid;
--> statement-breakpoint
ALTER TABLE email_deliveries ADD CONSTRAINT email_deliveries_endpoint_fk FOREIGN KEY (clinic_id, endpoint_id) REFERENCES webhook_endpoints (clinic_id, id);
--> statement-breakpoint
ALTER TABLE email_deliveries DROP CONSTRAINT email_deliveries_kind_check;
--> statement-breakpoint
ALTER TABLE email_deliveries ADD CONSTRAINT email_deliveries_kind_check CHECK (kind IN (
  'accepted', 'declined', 'scheduled', 'completed', 'question', 'new_urgent', 'assigned', 'endpoint_disabled'));
--> statement-breakpoint
-- A delivery is about a referral or (endpoint_disabled) about an endpoint, never both.
ALTER TABLE email_deliveries ADD CONSTRAINT email_deliveries_subject CHECK (
  CASE WHEN kind = 'endpoint_disabled' THEN endpoint_id IS NOT NULL AND referral_id IS NULL
       ELSE referral_id IS NOT NULL AND endpoint_id IS NULL END);
--> statement-breakpoint
ALTER TABLE email_preferences DROP CONSTRAINT email_preferences_off_check;
--> statement-breakpoint
ALTER TABLE email_preferences ADD CONSTRAINT email_preferences_off_check CHECK (off <@ ARRAY[
  'accepted', 'declined', 'scheduled', 'completed', 'question', 'new_urgent', 'assigned', 'endpoint_disabled']::text[]);
--> statement-breakpoint

-- Active to disabled with the reason 'failing' (the courier's doing; an admin's own disabling
-- tells nobody). Ids only: the endpoint's address stays in its table.
CREATE FUNCTION outbox_from_endpoint_disabled() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO outbox_events (clinic_id, referral_id, topic, data)
    VALUES (NEW.clinic_id, NULL, 'webhook.endpoint_disabled', jsonb_build_object('endpointId', NEW.id));
  RETURN NULL;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION outbox_from_endpoint_disabled() FROM PUBLIC;
--> statement-breakpoint
CREATE TRIGGER webhook_endpoints_disabled_outbox AFTER UPDATE OF status ON webhook_endpoints
  FOR EACH ROW WHEN (OLD.status = 'active' AND NEW.status = 'disabled' AND NEW.disabled_reason = 'failing')
  EXECUTE FUNCTION outbox_from_endpoint_disabled();
