-- Referrals entered by staff on the referrer's behalf (a fax, a phone call, an email, a walk-in):
-- who entered it, how it came, and a referrer typed in when they have no account here. Such a
-- referral's received_at is when it first reached the clinic, which turnaround counts from;
-- created_at stays when it was entered. docs/decisions/028-referrals-entered-by-staff.md
-- The foreign key includes clinic_id, as every reference between clinic rows does (decision 006).
ALTER TABLE "referrals" ADD COLUMN "entered_by" uuid;--> statement-breakpoint
ALTER TABLE "referrals" ADD COLUMN "channel" text;--> statement-breakpoint
ALTER TABLE "referrals" ADD COLUMN "referrer_name" text;--> statement-breakpoint
ALTER TABLE "referrals" ADD COLUMN "referrer_organization" text;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_entered_by_fk" FOREIGN KEY ("clinic_id","entered_by") REFERENCES "public"."users"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_entered_with_channel" CHECK (("referrals"."entered_by" is null) = ("referrals"."channel" is null));--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_typed_referrer_entered" CHECK ("referrals"."referrer_name" is null or "referrals"."entered_by" is not null);
