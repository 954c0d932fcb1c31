/**
 * Webhooks (drizzle/0027_webhooks.sql; docs/decisions/043-signed-webhooks.md): a clinic's
 * endpoints and one delivery per (outbox event, endpoint). Only the clinic's admins see them,
 * and the courier working in that clinic.
 */
import { bigint, foreignKey, index, integer, jsonb, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core'
import { sql } from 'drizzle-orm'
import { referralTopics } from './outbox-schema'

export const webhookTopics = referralTopics
export type WebhookTopic = (typeof webhookTopics)[number]
/** What "Send test event" sends: not an outbox event, never about a referral. */
export const WEBHOOK_TEST_TOPIC = 'webhook.test'
export type WebhookDeliveryTopic = WebhookTopic | typeof WEBHOOK_TEST_TOPIC

/** A signing secret sealed under WEBHOOK_SECRETS_KEY (app/webhooks/secret.ts). */
export type SealedWebhookSecret = { v: 1; iv: string; ct: string }

export const webhookEndpointStatuses = ['active', 'disabled'] as const
export const webhookDeliveryStatuses = ['pending', 'delivered', 'failed'] as const
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatuses)[number]
/** Why an attempt failed, in a word: never the receiver's body. */
export const webhookDeliveryErrors = ['timeout', 'network', 'address', 'redirect', 'status', 'disabled'] as const
export type WebhookDeliveryError = (typeof webhookDeliveryErrors)[number]

export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid('id')
      .primaryKey()
      .default(sql`gen_random_uuid()`),
    /** References clinics(id) and users (clinic_id, id) in the migration. */
    clinicId: uuid('clinic_id').notNull(),
    url: text('url').notNull(),
    topics: text('topics', { enum: webhookTopics }).array().notNull(),
    secret: jsonb('secret').$type<SealedWebhookSecret>().notNull(),
    previousSecret: jsonb('previous_secret').$type<SealedWebhookSecret>(),
    previousSecretUntil: timestamp('previous_secret_until', { withTimezone: true }),
    status: text('status', { enum: webhookEndpointStatuses }).notNull().default('active'),
    disabledReason: text('disabled_reason', { enum: ['failing', 'admin'] }),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
    failingSince: timestamp('failing_since', { withTimezone: true }),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    createdBy: uuid('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('webhook_endpoints_clinic_idx').on(t.clinicId, t.createdAt), unique('webhook_endpoints_clinic_id_key').on(t.clinicId, t.id)],
)

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id')
      .primaryKey()
      .default(sql`gen_random_uuid()`),
    clinicId: uuid('clinic_id').notNull(),
    endpointId: uuid('endpoint_id').notNull(),
    outboxEventId: bigint('outbox_event_id', { mode: 'number' }),
    topic: text('topic').$type<WebhookDeliveryTopic>().notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: webhookDeliveryStatuses }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    retryUntil: timestamp('retry_until', { withTimezone: true })
      .notNull()
      .default(sql`now() + interval '24 hours'`),
    claimedUntil: timestamp('claimed_until', { withTimezone: true }),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    responseStatus: integer('response_status'),
    error: text('error', { enum: webhookDeliveryErrors }),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('webhook_deliveries_clinic_endpoint_idx').on(t.clinicId, t.endpointId, t.createdAt.desc()),
    unique('webhook_deliveries_event_key').on(t.endpointId, t.outboxEventId),
    foreignKey({
      name: 'webhook_deliveries_endpoint_fk',
      columns: [t.clinicId, t.endpointId],
      foreignColumns: [webhookEndpoints.clinicId, webhookEndpoints.id],
    }),
  ],
)
