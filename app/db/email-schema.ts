/**
 * Email notifications (drizzle/0026_email_notifications.sql; docs/decisions/041): each user's
 * choices, and one delivery row per (outbox event, recipient). Ids, a kind and a state only.
 */
import { sql } from 'drizzle-orm'
import { bigint, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { emailKinds } from './email-kinds'

export * from './email-kinds'

export const emailDeliveryStatuses = ['pending', 'sent', 'failed'] as const
export type EmailDeliveryStatus = (typeof emailDeliveryStatuses)[number]

/** References clinics and users (in the migration: this file is imported by schema.ts). */
export const emailPreferences = pgTable('email_preferences', {
  id: uuid('id')
    .primaryKey()
    .default(sql`gen_random_uuid()`),
  clinicId: uuid('clinic_id').notNull(),
  userId: uuid('user_id').notNull(),
  /** The kinds this user turned off. */
  off: text('off', { enum: emailKinds })
    .array()
    .notNull()
    .default(sql`'{}'`),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
})

export const emailDeliveries = pgTable('email_deliveries', {
  id: uuid('id')
    .primaryKey()
    .default(sql`gen_random_uuid()`),
  clinicId: uuid('clinic_id').notNull(),
  outboxEventId: bigint('outbox_event_id', { mode: 'number' }).notNull(),
  /** The referral it is about; none for endpoint_disabled, which names an endpoint (drizzle/0032). */
  referralId: uuid('referral_id'),
  endpointId: uuid('endpoint_id'),
  recipientId: uuid('recipient_id').notNull(),
  kind: text('kind', { enum: emailKinds }).notNull(),
  status: text('status', { enum: emailDeliveryStatuses }).notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
  claimedUntil: timestamp('claimed_until', { withTimezone: true }),
  lastError: text('last_error'),
  sentAt: timestamp('sent_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
})
