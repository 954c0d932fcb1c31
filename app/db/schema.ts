/**
 * The consolidated IntakePilot schema. Every clinic-owned table carries
 * `clinic_id` and an index that leads with it; row-level security for these tables is
 * written in drizzle/0001_tenancy.sql (FORCE RLS and grants are beyond the schema builder).
 */
import { sql } from 'drizzle-orm'
import { bigint, bigserial, boolean, check, foreignKey, index, unique, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'

import { auditOutcomes, intakeChannels, referralEventTypes, referralPriorities, referralStatuses, userRoles, userStatuses } from './enums'

export * from './enums'

const id = () =>
  uuid('id')
    .primaryKey()
    .default(sql`gen_random_uuid()`)
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()

export type ClinicSettings = {
  /** Hours from received to triaged, by priority. */
  turnaroundHours?: Partial<Record<'routine' | 'urgent' | 'emergent', number>>
  /** Hours from received to booked (scheduled), by priority: the turnaround dashboard's second target. */
  bookingHours?: Partial<Record<'routine' | 'urgent' | 'emergent', number>>
  /** OpenAI-compatible endpoint on staff machines (LM Studio). */
  localAiEndpoint?: string
  /** Lower limits for attachments than the defaults (app/documents/limits.ts); never higher. */
  documentLimits?: { fileBytes?: number; referralBytes?: number }
  /** IANA time zone every page and export shows times in (app/utils/clinic-time.ts); America/Toronto when unset. */
  timeZone?: string
  /** Other clinics may forward referrals here (docs/decisions/032-forwarding-between-clinics.md). */
  acceptsForwards?: boolean
  /** Days after a referral ends (closed, declined, cancelled, forwarded) before its PHI is purged; never when unset (docs/decisions/049-retention-purge.md). */
  phiRetentionDays?: number | null
}

export const clinics = pgTable('clinics', {
  id: id(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  settings: jsonb('settings').$type<ClinicSettings>().notNull().default({}),
  createdAt: createdAt(),
})

export const users = pgTable(
  'users',
  {
    id: id(),
    /** Null only for superadmins, who belong to no single clinic. */
    clinicId: uuid('clinic_id').references(() => clinics.id),
    /** Entra `tid` + `oid`; null until an invited user first signs in. */
    idpTenantId: text('idp_tenant_id'),
    idpObjectId: text('idp_object_id'),
    email: text('email').notNull(),
    displayName: text('display_name').notNull(),
    role: text('role', { enum: userRoles }).notNull(),
    status: text('status', { enum: userStatuses }).notNull().default('invited'),
    /** Free-text practice name of a referrer, shown to staff. */
    organization: text('organization'),
    /** A staff member's own local model server (OpenAI-compatible), set on the AI settings page. */
    aiEndpoint: text('ai_endpoint'),
    lastSignInAt: timestamp('last_sign_in_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('users_idp_identity_key').on(t.idpTenantId, t.idpObjectId),
    uniqueIndex('users_clinic_email_key').on(t.clinicId, sql`lower(${t.email})`),
    // One account per person across clinics: a second clinic's invitation would leave sign-in
    // unable to choose between them (docs/decisions/020-server-side-sessions.md).
    uniqueIndex('users_email_key').on(sql`lower(${t.email})`),
    // Targets for composite foreign keys: a reference can never cross clinics.
    unique('users_clinic_id_key').on(t.clinicId, t.id),
    // Superadmins, and only they, belong to no clinic.
    check('users_superadmin_has_no_clinic', sql`(${t.role} = 'superadmin') = (${t.clinicId} is null)`),
  ],
)

export type FieldType = 'text' | 'textarea' | 'date' | 'select' | 'checkbox' | 'phone' | 'email' | 'number'
/** A shape a text field's value must have (app/intake/field-formats.ts). */
export type FieldFormat = 'ontario-health-card' | 'bc-phn' | 'quebec-ramq'
export type IntakeField = {
  key: string
  label: string
  type: FieldType
  required: boolean
  phi: boolean
  help?: string
  options?: string[]
  /** Text fields only. */
  format?: FieldFormat
}
export type IntakeFormDefinition = { sections: { title: string; fields: IntakeField[] }[] }

export const intakeForms = pgTable(
  'intake_forms',
  {
    id: id(),
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    version: integer('version').notNull(),
    definition: jsonb('definition').$type<IntakeFormDefinition>().notNull(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('intake_forms_clinic_version_key').on(t.clinicId, t.version)],
)

/** An encrypted PHI value as stored inside jsonb (decision 007). */
export type EncryptedValue = { v: 1; kid: string; iv: string; ct: string }

export const referrals = pgTable(
  'referrals',
  {
    id: id(),
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    /** Human reference number given to the referrer, unique within the clinic. */
    referenceNumber: text('reference_number').notNull(),
    formVersion: integer('form_version').notNull(),
    /** Null only on a referral forwarded from another clinic: its referrer has no account here (referrer_name says who). */
    submittedBy: uuid('submitted_by'),
    /**
     * Sent by an EHR system instead (submitted_by null): its registration, of this clinic, and
     * its name when it sent, written by the database (drizzle/0035; docs/decisions/061-referrals-from-ehr-integrations.md).
     */
    submittedByIntegration: uuid('submitted_by_integration'),
    submittedByIntegrationName: text('submitted_by_integration_name'),
    status: text('status', { enum: referralStatuses }).notNull().default('received'),
    priority: text('priority', { enum: referralPriorities }).notNull().default('routine'),
    assignedTo: uuid('assigned_to'),
    /** Field key -> value; PHI fields hold an EncryptedValue. */
    formData: jsonb('form_data').$type<Record<string, unknown>>().notNull(),
    /** Blind indexes (HMAC) for patient matching; never the values themselves. */
    healthCardIndex: text('health_card_index'),
    nameDobIndex: text('name_dob_index'),
    possibleDuplicateOf: uuid('possible_duplicate_of'),
    idempotencyKey: text('idempotency_key'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    firstOpenedAt: timestamp('first_opened_at', { withTimezone: true }),
    triagedAt: timestamp('triaged_at', { withTimezone: true }),
    scheduledAt: timestamp('scheduled_at', { withTimezone: true }),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    /**
     * The first reply from the referrer that staff have not acknowledged yet; null when there is
     * none. Set by the database with the reply (drizzle/0021), cleared by an acknowledgement.
     */
    replyReceivedAt: timestamp('reply_received_at', { withTimezone: true }),
    version: integer('version').notNull().default(1),
    /**
     * Entered by staff on the referrer's behalf (a fax, a call): who entered it and how it came.
     * Null for a referral the referrer sent themselves. received_at is then when it first
     * reached the clinic, and created_at when it was entered (docs/decisions/028-referrals-entered-by-staff.md).
     */
    enteredBy: uuid('entered_by'),
    channel: text('channel', { enum: intakeChannels }),
    /** A referrer without an account here, as staff typed them in (submitted_by is then the staff member). */
    referrerName: text('referrer_name'),
    referrerOrganization: text('referrer_organization'),
    /**
     * Forwarded to another clinic (status `forwarded`, closed): where, and the reference it has
     * there, as the hand-off wrote them; or forwarded here from one. Written only by
     * forward_referral() (docs/decisions/032-forwarding-between-clinics.md).
     */
    forwardedToClinicId: uuid('forwarded_to_clinic_id').references(() => clinics.id),
    forwardedToName: text('forwarded_to_name'),
    forwardedToReference: text('forwarded_to_reference'),
    forwardedAt: timestamp('forwarded_at', { withTimezone: true }),
    forwardedFromClinicId: uuid('forwarded_from_clinic_id').references(() => clinics.id),
    forwardedFromName: text('forwarded_from_name'),
    /** When the retention job removed its PHI (drizzle/0030); the skeleton stays. */
    purgedAt: timestamp('purged_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('referrals_clinic_reference_key').on(t.clinicId, t.referenceNumber),
    unique('referrals_clinic_id_key').on(t.clinicId, t.id),
    // Foreign keys are checked without RLS, so they include clinic_id: a referral cannot
    // name another clinic's user, and a guessed id from elsewhere is simply not found.
    foreignKey({ name: 'referrals_submitted_by_fk', columns: [t.clinicId, t.submittedBy], foreignColumns: [users.clinicId, users.id] }),
    foreignKey({ name: 'referrals_assigned_to_fk', columns: [t.clinicId, t.assignedTo], foreignColumns: [users.clinicId, users.id] }),
    foreignKey({ name: 'referrals_entered_by_fk', columns: [t.clinicId, t.enteredBy], foreignColumns: [users.clinicId, users.id] }),
    // Entered by staff: always with its channel; a typed-in referrer only on such a referral.
    check('referrals_entered_with_channel', sql`(${t.enteredBy} is null) = (${t.channel} is null)`),
    check('referrals_typed_referrer_entered', sql`${t.referrerName} is null or ${t.enteredBy} is not null or ${t.forwardedFromClinicId} is not null`),
    check(
      'referrals_submitted_or_forwarded',
      sql`${t.submittedBy} is not null or ${t.submittedByIntegration} is not null or ${t.forwardedFromClinicId} is not null`,
    ),
    check('referrals_one_sender', sql`${t.submittedByIntegration} is null or (${t.submittedBy} is null and ${t.enteredBy} is null)`),
    check('referrals_integration_named', sql`(${t.submittedByIntegration} is null) = (${t.submittedByIntegrationName} is null)`),
    check('referrals_forwarded_status', sql`(${t.status} = 'forwarded') = (${t.forwardedToClinicId} is not null)`),
    uniqueIndex('referrals_clinic_idempotency_key').on(t.clinicId, t.submittedBy, t.idempotencyKey),
    // The foreign key to ehr_integrations (clinic_id, id) is in drizzle/0035 (integrations-schema.ts imports this file).
    uniqueIndex('referrals_clinic_integration_idempotency_key').on(t.clinicId, t.submittedByIntegration, t.idempotencyKey),
    // The queue: newest first within a status, keyset-paginated on (received_at, id). Built by
    // drizzle/0037 with INCLUDE (submitted_by, submitted_by_integration), the columns the read
    // policy reads, which this builder cannot declare: the queue's count under RLS is then an
    // index-only scan.
    index('referrals_clinic_status_received_idx').on(t.clinicId, t.status, t.receivedAt.desc(), t.id.desc()),
    index('referrals_clinic_received_idx').on(t.clinicId, t.receivedAt.desc(), t.id.desc()),
    index('referrals_clinic_submitted_by_idx').on(t.clinicId, t.submittedBy, t.receivedAt.desc()),
    index('referrals_clinic_assigned_idx').on(t.clinicId, t.assignedTo),
    index('referrals_clinic_health_card_idx').on(t.clinicId, t.healthCardIndex),
    index('referrals_clinic_name_dob_idx').on(t.clinicId, t.nameDobIndex),
    index('referrals_clinic_reply_received_idx')
      .on(t.clinicId, t.replyReceivedAt.desc(), t.id.desc())
      .where(sql`${t.replyReceivedAt} is not null`),
  ],
)

/** A user's own saved queue view: a name and the view's query string (never PHI). Only its owner sees it (RLS). */
export const savedQueueViews = pgTable(
  'saved_queue_views',
  {
    id: id(),
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    userId: uuid('user_id').notNull(),
    name: text('name').notNull(),
    query: text('query').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('saved_queue_views_clinic_user_name_key').on(t.clinicId, t.userId, sql`lower(${t.name})`),
    foreignKey({ name: 'saved_queue_views_user_fk', columns: [t.clinicId, t.userId], foreignColumns: [users.clinicId, users.id] }),
  ],
)

export const referralEvents = pgTable(
  'referral_events',
  {
    id: id(),
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    referralId: uuid('referral_id').notNull(),
    actorId: uuid('actor_id').references(() => users.id),
    type: text('type', { enum: referralEventTypes }).notNull(),
    /** Ids and states only (status from/to, assignee); never PHI. */
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    /** Note or message text, encrypted. */
    body: jsonb('body').$type<EncryptedValue>(),
    /** Messages and replies are shown to the referrer; notes never are. */
    visibleToReferrer: boolean('visible_to_referrer').notNull().default(false),
    /** clock_timestamp(), not now(): events written in one transaction (created, then assigned) keep their order. */
    createdAt: timestamp('created_at', { withTimezone: true })
      .notNull()
      .default(sql`clock_timestamp()`),
  },
  (t) => [
    index('referral_events_clinic_referral_idx').on(t.clinicId, t.referralId, t.createdAt),
    foreignKey({ name: 'referral_events_referral_fk', columns: [t.clinicId, t.referralId], foreignColumns: [referrals.clinicId, referrals.id] }),
  ],
)

export const processingResults = pgTable(
  'processing_results',
  {
    id: id(),
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    referralId: uuid('referral_id').notNull(),
    summaries: jsonb('summaries').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('processing_results_clinic_referral_key').on(t.clinicId, t.referralId),
    foreignKey({ name: 'processing_results_referral_fk', columns: [t.clinicId, t.referralId], foreignColumns: [referrals.clinicId, referrals.id] }),
  ],
)

/**
 * A document attached to a referral (docs/decisions/027-referral-documents.md). The bytes are in
 * R2, sealed in `chunk_count` chunks of `chunk_bytes`; the name is PHI, encrypted. Removal is a
 * soft delete: the removal columns are the only ones the runtime role may update.
 */
export const referralDocuments = pgTable(
  'referral_documents',
  {
    id: id(),
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    referralId: uuid('referral_id').notNull(),
    /** Null for a copy that came with a forward (no one of this clinic uploaded it) or one an EHR integration sent. */
    uploadedBy: uuid('uploaded_by').references(() => users.id),
    /** The EHR integration that sent it with its referral (drizzle/0038); FK (clinic_id, uploaded_by_integration). */
    uploadedByIntegration: uuid('uploaded_by_integration'),
    /** With the new referral, with a reply to the clinic, by staff, or with a referral forwarded from another clinic. */
    attachedWith: text('attached_with', { enum: ['referral', 'reply', 'staff', 'forward'] }).notNull(),
    /** Recognised from the bytes, never from the name or the browser's claim. */
    contentType: text('content_type').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    /** SHA-256 of the plaintext, hex. */
    sha256: text('sha256').notNull(),
    chunkBytes: integer('chunk_bytes').notNull(),
    chunkCount: integer('chunk_count').notNull(),
    name: jsonb('name').$type<EncryptedValue>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true })
      .notNull()
      .default(sql`clock_timestamp()`),
    removedAt: timestamp('removed_at', { withTimezone: true }),
    removedBy: uuid('removed_by').references(() => users.id),
    removalReason: jsonb('removal_reason').$type<EncryptedValue>(),
  },
  (t) => [
    index('referral_documents_clinic_referral_idx').on(t.clinicId, t.referralId, t.createdAt),
    foreignKey({ name: 'referral_documents_referral_fk', columns: [t.clinicId, t.referralId], foreignColumns: [referrals.clinicId, referrals.id] }),
  ],
)

/** Append-only and hash-chained per clinic (decisions 013, 016). Ids only, never PHI. */
export const auditLogs = pgTable(
  'audit_logs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Null for events outside any clinic (a denied sign-in of an unknown identity). */
    clinicId: uuid('clinic_id'),
    /** Position in the clinic's hash chain (1, 2, 3, ...), set by the database. */
    seq: bigint('seq', { mode: 'number' }),
    actorId: uuid('actor_id'),
    actorRole: text('actor_role'),
    action: text('action').notNull(),
    entityType: text('entity_type'),
    entityId: text('entity_id'),
    /** Ids only (e.g. the referral ids a list showed, a switch reason). */
    details: jsonb('details').$type<Record<string, unknown>>(),
    requestId: text('request_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    outcome: text('outcome', { enum: auditOutcomes }).notNull().default('success'),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    prevHash: text('prev_hash'),
    hash: text('hash'),
  },
  (t) => [
    index('audit_logs_clinic_occurred_idx').on(t.clinicId, t.occurredAt, t.id),
    index('audit_logs_clinic_entity_idx').on(t.clinicId, t.entityType, t.entityId),
    index('audit_logs_clinic_actor_idx').on(t.clinicId, t.actorId, t.occurredAt),
    uniqueIndex('audit_logs_clinic_seq_key').on(t.clinicId, t.seq),
  ],
)

/**
 * The head of each clinic's audit hash chain (the null clinic is keyed '-'): the last seq
 * and hash. Updating it serialises appends per clinic, so the chain order is the commit order.
 * Owner-only: written by the audit trigger, never by the runtime role.
 */
export const auditChainHeads = pgTable('audit_chain_heads', {
  chain: text('chain').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
})

/** Where retention removed the start of a chain: verification resumes from this hash. */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  chain: text('chain').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
  removedRows: bigint('removed_rows', { mode: 'number' }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
})

export * from './referrer-schema'
export * from './outbox-schema'
export * from './email-schema'
export * from './webhooks-schema'
export * from './integrations-schema'
