/**
 * Taking an outbox event: one delivery row per active endpoint of the event's clinic that asked
 * for its topic, due at once. Idempotent: a second look at the same event adds nothing
 * (webhook_deliveries_event_key).
 */
import { and, arrayContains, eq } from 'drizzle-orm'
import { isReferralTopic, webhookDeliveries, webhookEndpoints, type OutboxEvent } from '~/db/schema'
import type { Database } from '~/db/client.server'
import { createTenantDatabase, type TenantScope } from '~/tenancy/tenant.server'
import { payloadOf } from '~/webhooks/payload'

/** The courier in a clinic: the clinic, no user, no role (drizzle/0027: the webhook tables' policies). */
export const courierScope = (clinicId: string): TenantScope => ({ clinicId, userId: null, role: null })

export async function recordDeliveries(db: Database, event: OutboxEvent): Promise<number> {
  // An endpoint disabled is the admins' news (by email), not a topic an endpoint can ask for.
  const topic = event.topic
  if (!isReferralTopic(topic)) return 0
  return createTenantDatabase(db, courierScope(event.clinicId)).tenant(async (tx) => {
    const endpoints = await tx
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.clinicId, event.clinicId), eq(webhookEndpoints.status, 'active'), arrayContains(webhookEndpoints.topics, [topic])))
    if (endpoints.length === 0) return 0
    const payload = payloadOf(event)
    const added = await tx
      .insert(webhookDeliveries)
      .values(endpoints.map((e) => ({ clinicId: event.clinicId, endpointId: e.id, outboxEventId: event.id, topic, payload })))
      .onConflictDoNothing()
      .returning({ id: webhookDeliveries.id })
    return added.length
  })
}
