-- Webhooks (docs/decisions/043-signed-webhooks.md): a clinic's endpoints, and one delivery per
-- (outbox event, endpoint), with its retries. Only the clinic's admins see them, and the courier
-- working in that clinic (a scope with the clinic and no user, no role).

CREATE TABLE webhook_endpoints (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id uuid NOT NULL REFERENCES clinics(id),
  url text NOT NULL CHECK (length(url) BETWEEN 9 AND 2000),
  topics text[] NOT NULL CHECK (cardinality(topics) BETWEEN 1 AND 6 AND topics <@ ARRAY[
    'referral.created', 'referral.status_changed', 'referral.assigned',
    'referral.question_asked', 'referral.replied', 'document.added']::text[]),
  -- The signing secret, sealed under WEBHOOK_SECRETS_KEY (AAD clinic|endpoint): shown once.
  secret jsonb NOT NULL,
  -- After a rotation the old secret signs too, until then: receivers switch without a gap.
  previous_secret jsonb,
  previous_secret_until timestamptz,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  -- 'failing': the courier disabled it; 'admin': an admin did.
  disabled_reason text CHECK (disabled_reason IN ('failing', 'admin')),
  disabled_at timestamptz,
  -- The current run of failures, reset by a success; 24 hours of it disables the endpoint.
  failing_since timestamptz,
  consecutive_failures integer NOT NULL DEFAULT 0,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT webhook_endpoints_clinic_id_key UNIQUE (clinic_id, id),
  CONSTRAINT webhook_endpoints_creator_fk FOREIGN KEY (clinic_id, created_by) REFERENCES users (clinic_id, id)
);
--> statement-breakpoint
CREATE INDEX webhook_endpoints_clinic_idx ON webhook_endpoints (clinic_id, created_at);
--> statement-breakpoint

CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id uuid NOT NULL REFERENCES clinics(id),
  endpoint_id uuid NOT NULL,
  -- The outbox event it carries; none for a test event.
  outbox_event_id bigint,
  topic text NOT NULL CHECK (topic IN (
    'referral.created', 'referral.status_changed', 'referral.assigned',
    'referral.question_asked', 'referral.replied', 'document.added', 'webhook.test')),
  -- Exactly what is sent, fixed once: ids, statuses and times (webhooks/payload.ts). A retry or
  -- a redelivery sends the same message under the same webhook-id.
  payload jsonb NOT NULL CHECK (octet_length(payload::text) <= 4000),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- Retried until then (24 hours from the first try, or from a redelivery), then 'failed'.
  retry_until timestamptz NOT NULL DEFAULT now() + interval '24 hours',
  claimed_until timestamptz,
  last_attempt_at timestamptz,
  -- What the receiver answered: its status code only, never its body.
  response_status integer,
  error text CHECK (error IN ('timeout', 'network', 'address', 'redirect', 'status', 'disabled')),
  delivered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT webhook_deliveries_endpoint_fk FOREIGN KEY (clinic_id, endpoint_id) REFERENCES webhook_endpoints (clinic_id, id),
  CONSTRAINT webhook_deliveries_event_key UNIQUE (endpoint_id, outbox_event_id)
);
--> statement-breakpoint
CREATE INDEX webhook_deliveries_clinic_endpoint_idx ON webhook_deliveries (clinic_id, endpoint_id, created_at DESC);
--> statement-breakpoint
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
--> statement-breakpoint

ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- The clinic's admins, or the courier in that clinic (clinic set, no user and no role: no
-- request ever has that scope, since every signed-in scope carries a role). The settings are
-- read through sub-selects: once per statement, not once per row (drizzle/0020).
CREATE POLICY webhook_endpoints_clinic ON webhook_endpoints FOR ALL TO intakepilot_app
  USING (clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND (nullif((SELECT current_setting('app.role', true)), '') IN ('admin', 'superadmin')
      OR (nullif((SELECT current_setting('app.role', true)), '') IS NULL AND nullif((SELECT current_setting('app.user_id', true)), '') IS NULL)))
  WITH CHECK (clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND (nullif((SELECT current_setting('app.role', true)), '') IN ('admin', 'superadmin')
      OR (nullif((SELECT current_setting('app.role', true)), '') IS NULL AND nullif((SELECT current_setting('app.user_id', true)), '') IS NULL)));
--> statement-breakpoint
CREATE POLICY webhook_deliveries_clinic ON webhook_deliveries FOR ALL TO intakepilot_app
  USING (clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND (nullif((SELECT current_setting('app.role', true)), '') IN ('admin', 'superadmin')
      OR (nullif((SELECT current_setting('app.role', true)), '') IS NULL AND nullif((SELECT current_setting('app.user_id', true)), '') IS NULL)))
  WITH CHECK (clinic_id = nullif((SELECT current_setting('app.clinic_id', true)), '')::uuid
    AND (nullif((SELECT current_setting('app.role', true)), '') IN ('admin', 'superadmin')
      OR (nullif((SELECT current_setting('app.role', true)), '') IS NULL AND nullif((SELECT current_setting('app.user_id', true)), '') IS NULL)));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON webhook_endpoints TO intakepilot_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON webhook_deliveries TO intakepilot_app;
--> statement-breakpoint

-- The courier's retries across clinics: up to p_limit due deliveries of active endpoints, each
-- leased for p_lease_seconds, SKIP LOCKED. Returns ids only; the courier then reads each under
-- its clinic's scope.
CREATE FUNCTION claim_webhook_deliveries(p_limit integer, p_lease_seconds integer)
RETURNS TABLE (id uuid, clinic_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 200 THEN RAISE EXCEPTION 'claim_webhook_deliveries: limit out of range'; END IF;
  IF p_lease_seconds IS NULL OR p_lease_seconds < 1 OR p_lease_seconds > 600 THEN RAISE EXCEPTION 'claim_webhook_deliveries: lease out of range'; END IF;
  RETURN QUERY
    UPDATE webhook_deliveries d SET
        claimed_until = clock_timestamp() + make_interval(secs => p_lease_seconds)
     WHERE d.id IN (
       SELECT p.id FROM webhook_deliveries p
         JOIN webhook_endpoints e ON e.clinic_id = p.clinic_id AND e.id = p.endpoint_id
        WHERE p.status = 'pending' AND p.next_attempt_at <= clock_timestamp()
          AND (p.claimed_until IS NULL OR p.claimed_until < clock_timestamp())
          AND e.status = 'active'
        ORDER BY p.next_attempt_at
        LIMIT p_limit
        FOR UPDATE OF p SKIP LOCKED)
    RETURNING d.id, d.clinic_id;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION claim_webhook_deliveries(integer, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION claim_webhook_deliveries(integer, integer) TO intakepilot_app;
