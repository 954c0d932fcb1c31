CREATE TABLE "audit_logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"clinic_id" uuid,
	"actor_id" uuid,
	"actor_role" text,
	"action" text NOT NULL,
	"entity_type" text,
	"entity_id" text,
	"details" jsonb,
	"request_id" text,
	"ip" text,
	"user_agent" text,
	"outcome" text DEFAULT 'success' NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"prev_hash" text,
	"hash" text
);
--> statement-breakpoint
CREATE TABLE "clinics" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "clinics_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
CREATE TABLE "intake_forms" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"clinic_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"definition" jsonb NOT NULL,
	"published_at" timestamp with time zone,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "processing_results" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"clinic_id" uuid NOT NULL,
	"referral_id" uuid NOT NULL,
	"summaries" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "referral_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"clinic_id" uuid NOT NULL,
	"referral_id" uuid NOT NULL,
	"actor_id" uuid,
	"type" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"body" jsonb,
	"visible_to_referrer" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "referrals" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"clinic_id" uuid NOT NULL,
	"reference_number" text NOT NULL,
	"form_version" integer NOT NULL,
	"submitted_by" uuid NOT NULL,
	"status" text DEFAULT 'received' NOT NULL,
	"priority" text DEFAULT 'routine' NOT NULL,
	"assigned_to" uuid,
	"form_data" jsonb NOT NULL,
	"health_card_index" text,
	"name_dob_index" text,
	"possible_duplicate_of" uuid,
	"idempotency_key" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"first_opened_at" timestamp with time zone,
	"triaged_at" timestamp with time zone,
	"scheduled_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "referrals_clinic_id_key" UNIQUE("clinic_id","id")
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"clinic_id" uuid,
	"idp_tenant_id" text,
	"idp_object_id" text,
	"email" text NOT NULL,
	"display_name" text NOT NULL,
	"role" text NOT NULL,
	"status" text DEFAULT 'invited' NOT NULL,
	"organization" text,
	"last_sign_in_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_clinic_id_key" UNIQUE("clinic_id","id"),
	CONSTRAINT "users_superadmin_has_no_clinic" CHECK (("users"."role" = 'superadmin') = ("users"."clinic_id" is null))
);
--> statement-breakpoint
ALTER TABLE "intake_forms" ADD CONSTRAINT "intake_forms_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "intake_forms" ADD CONSTRAINT "intake_forms_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "processing_results" ADD CONSTRAINT "processing_results_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "processing_results" ADD CONSTRAINT "processing_results_referral_fk" FOREIGN KEY ("clinic_id","referral_id") REFERENCES "public"."referrals"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referral_events" ADD CONSTRAINT "referral_events_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referral_events" ADD CONSTRAINT "referral_events_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referral_events" ADD CONSTRAINT "referral_events_referral_fk" FOREIGN KEY ("clinic_id","referral_id") REFERENCES "public"."referrals"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_submitted_by_fk" FOREIGN KEY ("clinic_id","submitted_by") REFERENCES "public"."users"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_assigned_to_fk" FOREIGN KEY ("clinic_id","assigned_to") REFERENCES "public"."users"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_logs_clinic_occurred_idx" ON "audit_logs" USING btree ("clinic_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_logs_clinic_entity_idx" ON "audit_logs" USING btree ("clinic_id","entity_type","entity_id");--> statement-breakpoint
CREATE INDEX "audit_logs_clinic_actor_idx" ON "audit_logs" USING btree ("clinic_id","actor_id","occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "intake_forms_clinic_version_key" ON "intake_forms" USING btree ("clinic_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "processing_results_clinic_referral_key" ON "processing_results" USING btree ("clinic_id","referral_id");--> statement-breakpoint
CREATE INDEX "referral_events_clinic_referral_idx" ON "referral_events" USING btree ("clinic_id","referral_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "referrals_clinic_reference_key" ON "referrals" USING btree ("clinic_id","reference_number");--> statement-breakpoint
CREATE UNIQUE INDEX "referrals_clinic_idempotency_key" ON "referrals" USING btree ("clinic_id","submitted_by","idempotency_key");--> statement-breakpoint
CREATE INDEX "referrals_clinic_status_received_idx" ON "referrals" USING btree ("clinic_id","status","received_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "referrals_clinic_received_idx" ON "referrals" USING btree ("clinic_id","received_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "referrals_clinic_submitted_by_idx" ON "referrals" USING btree ("clinic_id","submitted_by","received_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "referrals_clinic_assigned_idx" ON "referrals" USING btree ("clinic_id","assigned_to");--> statement-breakpoint
CREATE INDEX "referrals_clinic_health_card_idx" ON "referrals" USING btree ("clinic_id","health_card_index");--> statement-breakpoint
CREATE INDEX "referrals_clinic_name_dob_idx" ON "referrals" USING btree ("clinic_id","name_dob_index");--> statement-breakpoint
CREATE UNIQUE INDEX "users_idp_identity_key" ON "users" USING btree ("idp_tenant_id","idp_object_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_clinic_email_key" ON "users" USING btree ("clinic_id",lower("email"));