/**
 * What a webhook says (docs/decisions/043-signed-webhooks.md): the Standard Webhooks envelope
 * `{ type, timestamp, data }`, and in data ids, statuses, codes and times only. Each key is
 * copied by name, so a key added to the outbox later cannot leak out by accident. The receiver
 * fetches anything else through the API, with its own token.
 */
import type { OutboxEvent } from '~/db/schema'

export type WebhookPayload = {
  type: string
  timestamp: string
  data: Record<string, string | null>
}

const COPIED = ['eventId', 'documentId', 'actorId', 'from', 'to', 'reasonCode', 'attachedWith', 'priority', 'status'] as const

export function payloadOf(event: OutboxEvent): WebhookPayload {
  const data: Record<string, string | null> = { clinicId: event.clinicId, referralId: event.referralId }
  for (const key of COPIED) {
    const value = event.data[key]
    if (typeof value === 'string' || value === null) data[key] = value
  }
  return { type: event.topic, timestamp: event.occurredAt.toISOString(), data }
}

export function testPayload(clinicId: string, endpointId: string, at: Date): WebhookPayload {
  return { type: 'webhook.test', timestamp: at.toISOString(), data: { clinicId, endpointId } }
}
