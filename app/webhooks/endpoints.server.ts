/**
 * A clinic admin's webhook endpoints (docs/decisions/043-signed-webhooks.md): the list, a new
 * endpoint (its secret returned once, for the page to show once), a secret rotated, disabled or
 * enabled, a test event, a delivery sent again. Each is one transaction under the admin's scope,
 * recorded in the audit trail with ids only (never the URL: it may name a customer's system).
 */
import { and, desc, eq, gte, inArray, sql } from 'drizzle-orm'
import type { AuditEvent } from '~/audit/audit.server'
import { emailDeliveries, webhookDeliveries, webhookEndpoints, WEBHOOK_TEST_TOPIC, type EmailDeliveryStatus, type WebhookTopic } from '~/db/schema'
import type { TenantDatabase, TenantTx } from '~/tenancy/tenant.server'
import { LOG_LENGTH } from './delivery-words'
import { testPayload } from './payload'
import { newWebhookSecret, type WebhookSecretBox } from './secret.server'

export type WebhookDesk = {
  db: TenantDatabase
  audit: (tx: TenantTx, event: AuditEvent) => Promise<void>
}

/** A clinic has at most this many endpoints: each event is one delivery per endpoint. */
export const MAX_ENDPOINTS = 20
/** After a rotation the old secret still signs for this long, so receivers can switch. */
const PREVIOUS_SECRET_HOURS = 24

const own = (clinicId: string, endpointId: string) => and(eq(webhookEndpoints.clinicId, clinicId), eq(webhookEndpoints.id, endpointId))

/** How the emails telling the admins of an endpoint's disabling went (drizzle/0032): counts by state. */
export type AdminsTold = Record<EmailDeliveryStatus, number>

export function clinicEndpoints(desk: Pick<WebhookDesk, 'db'>, clinicId: string) {
  return desk.db.tenant(async (tx) => {
    const endpoints = await tx
      .select({
        id: webhookEndpoints.id,
        url: webhookEndpoints.url,
        topics: webhookEndpoints.topics,
        status: webhookEndpoints.status,
        disabledReason: webhookEndpoints.disabledReason,
        disabledAt: webhookEndpoints.disabledAt,
        failingSince: webhookEndpoints.failingSince,
        consecutiveFailures: webhookEndpoints.consecutiveFailures,
        previousSecretUntil: webhookEndpoints.previousSecretUntil,
        createdAt: webhookEndpoints.createdAt,
      })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.clinicId, clinicId))
      .orderBy(webhookEndpoints.createdAt)
    // The emails about each endpoint disabled for failing, since its latest disabling.
    const failing = endpoints.filter((e) => e.status === 'disabled' && e.disabledReason === 'failing' && e.disabledAt)
    const told = failing.length
      ? await tx
          .select({ endpointId: emailDeliveries.endpointId, status: emailDeliveries.status, n: sql<number>`count(*)::int` })
          .from(emailDeliveries)
          .innerJoin(webhookEndpoints, and(eq(webhookEndpoints.clinicId, emailDeliveries.clinicId), eq(webhookEndpoints.id, emailDeliveries.endpointId)))
          .where(
            and(
              eq(emailDeliveries.clinicId, clinicId),
              eq(emailDeliveries.kind, 'endpoint_disabled'),
              inArray(
                emailDeliveries.endpointId,
                failing.map((e) => e.id),
              ),
              gte(emailDeliveries.createdAt, webhookEndpoints.disabledAt),
            ),
          )
          .groupBy(emailDeliveries.endpointId, emailDeliveries.status)
      : []
    return endpoints.map((e) => {
      if (!failing.includes(e)) return { ...e, adminsTold: null }
      const adminsTold: AdminsTold = { pending: 0, sent: 0, failed: 0 }
      for (const row of told) if (row.endpointId === e.id) adminsTold[row.status] = row.n
      return { ...e, adminsTold }
    })
  })
}

/** An endpoint and its latest deliveries: status, response code and times, never a body. */
export function endpointLog(desk: Pick<WebhookDesk, 'db'>, clinicId: string, endpointId: string) {
  return desk.db.tenant(async (tx) => {
    const [endpoint] = await tx
      .select({ id: webhookEndpoints.id, url: webhookEndpoints.url, status: webhookEndpoints.status, disabledReason: webhookEndpoints.disabledReason })
      .from(webhookEndpoints)
      .where(own(clinicId, endpointId))
    if (!endpoint) return null
    const deliveries = await tx
      .select({
        id: webhookDeliveries.id,
        topic: webhookDeliveries.topic,
        status: webhookDeliveries.status,
        attempts: webhookDeliveries.attempts,
        responseStatus: webhookDeliveries.responseStatus,
        error: webhookDeliveries.error,
        createdAt: webhookDeliveries.createdAt,
        lastAttemptAt: webhookDeliveries.lastAttemptAt,
        nextAttemptAt: webhookDeliveries.nextAttemptAt,
        deliveredAt: webhookDeliveries.deliveredAt,
      })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.clinicId, clinicId), eq(webhookDeliveries.endpointId, endpointId)))
      .orderBy(desc(webhookDeliveries.createdAt))
      .limit(LOG_LENGTH)
    return { endpoint, deliveries }
  })
}

export type NewEndpoint = { url: string; topics: WebhookTopic[] }

/** The new endpoint's id and its secret, in the clear this one time; 'too-many' past MAX_ENDPOINTS. */
export async function createEndpoint(
  desk: WebhookDesk,
  box: WebhookSecretBox,
  clinicId: string,
  userId: string,
  endpoint: NewEndpoint,
): Promise<{ id: string; secret: string } | 'too-many'> {
  const id = crypto.randomUUID()
  const secret = newWebhookSecret()
  const sealed = await box.seal(secret, { clinicId, endpointId: id })
  return desk.db.tenant(async (tx) => {
    // Locks the clinic's endpoints, so two admins adding at once cannot pass the limit together.
    const existing = await tx.execute(sql`select id from ${webhookEndpoints} where clinic_id = ${clinicId} for update`)
    if (existing.rows.length >= MAX_ENDPOINTS) return 'too-many' as const
    await tx.insert(webhookEndpoints).values({ id, clinicId, url: endpoint.url, topics: endpoint.topics, secret: sealed, createdBy: userId })
    await desk.audit(tx, { action: 'webhook.create', entityType: 'webhook_endpoint', entityId: id, details: { topics: endpoint.topics } })
    return { id, secret }
  })
}

/** A new secret, in the clear this one time; the old one keeps signing for a day. null: no such endpoint. */
export async function rotateSecret(desk: WebhookDesk, box: WebhookSecretBox, clinicId: string, endpointId: string): Promise<string | null> {
  const secret = newWebhookSecret()
  const sealed = await box.seal(secret, { clinicId, endpointId })
  return desk.db.tenant(async (tx) => {
    const [rotated] = await tx
      .update(webhookEndpoints)
      .set({
        previousSecret: sql`${webhookEndpoints.secret}`,
        previousSecretUntil: sql`now() + make_interval(hours => ${PREVIOUS_SECRET_HOURS})`,
        secret: sealed,
        updatedAt: new Date(),
      })
      .where(own(clinicId, endpointId))
      .returning({ id: webhookEndpoints.id })
    if (!rotated) return null
    await desk.audit(tx, { action: 'webhook.change', entityType: 'webhook_endpoint', entityId: endpointId, details: { change: 'rotate' } })
    return secret
  })
}

/** Disabled by the admin, or enabled again (its failure count starts afresh). false: no such endpoint. */
export function setEndpointActive(desk: WebhookDesk, clinicId: string, endpointId: string, active: boolean): Promise<boolean> {
  return desk.db.tenant(async (tx) => {
    const [changed] = await tx
      .update(webhookEndpoints)
      .set(
        active
          ? { status: 'active', disabledReason: null, disabledAt: null, failingSince: null, consecutiveFailures: 0, updatedAt: new Date() }
          : { status: 'disabled', disabledReason: 'admin', disabledAt: new Date(), updatedAt: new Date() },
      )
      .where(own(clinicId, endpointId))
      .returning({ id: webhookEndpoints.id })
    if (!changed) return false
    await desk.audit(tx, { action: 'webhook.change', entityType: 'webhook_endpoint', entityId: endpointId, details: { change: active ? 'enable' : 'disable' } })
    return true
  })
}

/** A test event, due at once (the request's poke wakes the courier). false: no such endpoint. */
export function sendTestEvent(desk: WebhookDesk, clinicId: string, endpointId: string): Promise<boolean> {
  return desk.db.tenant(async (tx) => {
    const [endpoint] = await tx.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(own(clinicId, endpointId))
    if (!endpoint) return false
    await tx.insert(webhookDeliveries).values({ clinicId, endpointId, topic: WEBHOOK_TEST_TOPIC, payload: testPayload(clinicId, endpointId, new Date()) })
    await desk.audit(tx, { action: 'webhook.send', entityType: 'webhook_endpoint', entityId: endpointId, details: { kind: 'test' } })
    return true
  })
}

/**
 * The same message again, under the same webhook-id (so a receiver that has it can tell), due at
 * once and retried for another 24 hours. false: no such delivery of this endpoint.
 */
export function redeliver(desk: WebhookDesk, clinicId: string, endpointId: string, deliveryId: string): Promise<boolean> {
  return desk.db.tenant(async (tx) => {
    const [again] = await tx
      .update(webhookDeliveries)
      .set({ status: 'pending', nextAttemptAt: sql`now()`, retryUntil: sql`now() + interval '24 hours'`, claimedUntil: null })
      .where(and(eq(webhookDeliveries.clinicId, clinicId), eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.id, deliveryId)))
      .returning({ id: webhookDeliveries.id })
    if (!again) return false
    await desk.audit(tx, { action: 'webhook.send', entityType: 'webhook_delivery', entityId: deliveryId, details: { kind: 'redeliver', endpointId } })
    return true
  })
}
