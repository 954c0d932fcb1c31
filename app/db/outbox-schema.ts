/**
 * The outbox (docs/decisions/038-outbox-and-courier-worker.md): filled by triggers in the
 * transaction of the change, read and settled only by the companion Worker through
 * claim_outbox_events() and settle_outbox_event() (drizzle/0024_outbox.sql).
 */
import { sql } from 'drizzle-orm'
import { bigint, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'

/** What happens to a referral: what webhooks can ask for and the live queue hears. */
export const referralTopics = [
  'referral.created',
  'referral.status_changed',
  'referral.assigned',
  'referral.question_asked',
  'referral.replied',
  'document.added',
] as const
export type ReferralTopic = (typeof referralTopics)[number]
/** The courier disabled a failing webhook endpoint: its clinic's admins are emailed (drizzle/0032). */
export const ENDPOINT_DISABLED_TOPIC = 'webhook.endpoint_disabled'
export const outboxTopics = [...referralTopics, ENDPOINT_DISABLED_TOPIC] as const
export type OutboxTopic = (typeof outboxTopics)[number]
export const isReferralTopic = (topic: OutboxTopic): topic is ReferralTopic => topic !== ENDPOINT_DISABLED_TOPIC

/** What an event says: ids, statuses, codes. Never PHI. */
export type OutboxEventData = {
  eventId?: string
  documentId?: string
  /** webhook.endpoint_disabled: which endpoint. */
  endpointId?: string
  actorId?: string
  /** Status or assignee before and after (status and assignment events). */
  from?: string | null
  to?: string | null
  reasonCode?: string
  attachedWith?: 'referral' | 'reply' | 'staff'
  /** The referral's priority and status when the event was written. */
  priority?: string
  status?: string
}

export const outboxEvents = pgTable('outbox_events', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  /** References clinics(id) (in the migration: this file is imported by schema.ts). */
  clinicId: uuid('clinic_id').notNull(),
  referralId: uuid('referral_id'),
  topic: text('topic', { enum: outboxTopics }).notNull(),
  data: jsonb('data').$type<OutboxEventData>().notNull().default({}),
  occurredAt: timestamp('occurred_at', { withTimezone: true })
    .notNull()
    .default(sql`clock_timestamp()`),
  claimedUntil: timestamp('claimed_until', { withTimezone: true }),
  attempts: integer('attempts').notNull().default(0),
  doneAt: timestamp('done_at', { withTimezone: true }),
  gaveUpAt: timestamp('gave_up_at', { withTimezone: true }),
})

/** One claimed event, as claim_outbox_events() returns it. */
export type OutboxEvent = {
  id: number
  clinicId: string
  referralId: string | null
  topic: OutboxTopic
  data: OutboxEventData
  occurredAt: Date
  /** This claim included. */
  attempts: number
}
