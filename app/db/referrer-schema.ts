/**
 * What a referrer keeps for their own work (drizzle/0022; docs/decisions/031-referrer-profile-drafts-and-templates.md).
 * Each row is one user's in one clinic, and RLS shows it to that user only. Foreign keys,
 * checks and policies are in the migration. app/db/schema.ts re-exports these tables.
 */
import { sql } from 'drizzle-orm'
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'

const id = () =>
  uuid('id')
    .primaryKey()
    .default(sql`gen_random_uuid()`)
/** schema.ts's EncryptedValue (decision 007), spelled out: this file is imported by schema.ts. */
type Sealed = { v: 1; kid: string; iv: string; ct: string }
const at = (name: string) => timestamp(name, { withTimezone: true }).notNull().defaultNow()

/** Who the referrer is on a referral: fills the form's referring-clinician fields. Not PHI. */
export const referrerProfiles = pgTable(
  'referrer_profiles',
  {
    id: id(),
    clinicId: uuid('clinic_id').notNull(),
    userId: uuid('user_id').notNull(),
    clinicianName: text('clinician_name').notNull().default(''),
    practice: text('practice').notNull().default(''),
    phone: text('phone').notNull().default(''),
    fax: text('fax').notNull().default(''),
    billingNumber: text('billing_number').notNull().default(''),
    updatedAt: at('updated_at'),
  },
  (t) => [uniqueIndex('referrer_profiles_user_key').on(t.clinicId, t.userId)],
)

/** A referral not sent yet: the form's values, sealed as one value bound to clinic | draft | user. */
export const referralDrafts = pgTable(
  'referral_drafts',
  {
    id: id(),
    clinicId: uuid('clinic_id').notNull(),
    userId: uuid('user_id').notNull(),
    formVersion: integer('form_version').notNull(),
    content: jsonb('content').$type<Sealed>().notNull(),
    createdAt: at('created_at'),
    updatedAt: at('updated_at'),
  },
  (t) => [index('referral_drafts_clinic_user_idx').on(t.clinicId, t.userId, t.updatedAt.desc())],
)

/** A named set of a form's non-PHI values (service, urgency, clinician details), plain. */
export const referralTemplates = pgTable(
  'referral_templates',
  {
    id: id(),
    clinicId: uuid('clinic_id').notNull(),
    userId: uuid('user_id').notNull(),
    name: text('name').notNull(),
    formVersion: integer('form_version').notNull(),
    values: jsonb('values').$type<Record<string, string>>().notNull(),
    createdAt: at('created_at'),
    updatedAt: at('updated_at'),
  },
  (t) => [uniqueIndex('referral_templates_clinic_user_name_key').on(t.clinicId, t.userId, sql`lower(${t.name})`)],
)
