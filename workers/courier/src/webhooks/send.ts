/**
 * One delivery attempt (docs/decisions/043-signed-webhooks.md): read the delivery and its
 * endpoint under the clinic's scope, check the address again, sign the fixed payload as Standard
 * Webhooks says, POST it with a timeout and without following redirects, and record the answer's
 * status code (never its body). Failures back off until the delivery's 24 hours are up; an
 * endpoint that has failed for 24 hours without one success is disabled.
 */
import { and, eq, sql } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import { webhookDeliveries, webhookEndpoints, type WebhookDeliveryError } from '~/db/schema'
import type { Database } from '~/db/client.server'
import { createTenantDatabase } from '~/tenancy/tenant.server'
import { checkWebhookUrl, resolvesPrivate } from '~/webhooks/address'
import { courierScope } from './record'
import type { WebhookSettings } from './settings'

/** After the nth failed attempt: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, then every 8 h. */
const BACKOFF_SECONDS = [5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800]
export const backoffSeconds = (attempts: number) => BACKOFF_SECONDS[Math.min(attempts, BACKOFF_SECONDS.length) - 1] ?? 5

export type Attempt = { outcome: 'delivered' | 'retry' | 'failed' | 'skipped'; status?: number; error?: WebhookDeliveryError }

export async function attemptDelivery(db: Database, settings: WebhookSettings, clinicId: string, deliveryId: string): Promise<Attempt> {
  const tenant = createTenantDatabase(db, courierScope(clinicId))
  const found = await tenant.tenant(async (tx) => {
    const [row] = await tx
      .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints })
      .from(webhookDeliveries)
      .innerJoin(webhookEndpoints, and(eq(webhookEndpoints.clinicId, webhookDeliveries.clinicId), eq(webhookEndpoints.id, webhookDeliveries.endpointId)))
      .where(and(eq(webhookDeliveries.clinicId, clinicId), eq(webhookDeliveries.id, deliveryId)))
    return row
  })
  if (!found || found.delivery.status !== 'pending' || found.endpoint.status !== 'active') return { outcome: 'skipped' }
  const { delivery, endpoint } = found
  const where = { clinicId, endpointId: endpoint.id }

  const started = new Date()
  const answer = await send(settings, endpoint.url, {
    id: `msg_${delivery.id}`,
    at: started,
    body: JSON.stringify(delivery.payload),
    secrets: [
      await settings.box.open(endpoint.secret, where),
      ...(endpoint.previousSecret && endpoint.previousSecretUntil && endpoint.previousSecretUntil > started
        ? [await settings.box.open(endpoint.previousSecret, where)]
        : []),
    ],
  })

  const attempts = delivery.attempts + 1
  const ok = answer.status !== undefined && answer.status >= 200 && answer.status < 300
  const outcome: Attempt['outcome'] = ok ? 'delivered' : delivery.retryUntil.getTime() <= Date.now() ? 'failed' : 'retry'
  await tenant.tenant(async (tx) => {
    await tx
      .update(webhookDeliveries)
      .set({
        status: outcome === 'retry' ? 'pending' : outcome,
        attempts,
        lastAttemptAt: started,
        responseStatus: answer.status ?? null,
        error: ok ? null : (answer.error ?? 'status'),
        deliveredAt: ok ? new Date() : null,
        nextAttemptAt:
          outcome === 'retry' ? sql`clock_timestamp() + make_interval(secs => ${backoffSeconds(attempts)})` : sql`${webhookDeliveries.nextAttemptAt}`,
        claimedUntil: null,
      })
      .where(and(eq(webhookDeliveries.clinicId, clinicId), eq(webhookDeliveries.id, delivery.id)))
    const endpointWhere = and(eq(webhookEndpoints.clinicId, clinicId), eq(webhookEndpoints.id, endpoint.id))
    if (ok) {
      await tx.update(webhookEndpoints).set({ failingSince: null, consecutiveFailures: 0 }).where(endpointWhere)
    } else {
      // 24 hours of failures and no success in between: disabled, and the page says why.
      const failingFor24h = sql`coalesce(${webhookEndpoints.failingSince}, now()) < now() - interval '24 hours'`
      await tx
        .update(webhookEndpoints)
        .set({
          failingSince: sql`coalesce(${webhookEndpoints.failingSince}, now())`,
          consecutiveFailures: sql`${webhookEndpoints.consecutiveFailures} + 1`,
          status: sql`case when ${failingFor24h} then 'disabled' else ${webhookEndpoints.status} end`,
          disabledReason: sql`case when ${failingFor24h} then 'failing' else ${webhookEndpoints.disabledReason} end`,
          disabledAt: sql`case when ${failingFor24h} then now() else ${webhookEndpoints.disabledAt} end`,
        })
        .where(and(endpointWhere, eq(webhookEndpoints.status, 'active')))
    }
  })
  return { outcome, status: answer.status, error: ok ? undefined : answer.error }
}

type Message = { id: string; at: Date; body: string; secrets: string[] }

async function send(settings: WebhookSettings, address: string, message: Message): Promise<{ status?: number; error?: WebhookDeliveryError }> {
  const checked = checkWebhookUrl(address, settings.policy)
  if ('refused' in checked) return { error: 'address' }
  if (!(settings.policy.allowLoopback && isLoopbackHost(checked.url.hostname)) && (await resolvesPrivate(checked.url.hostname, settings.resolver)) === true)
    return { error: 'address' }
  // Standard Webhooks: one signature per valid secret, space-separated; the receiver accepts any.
  const signature = message.secrets.map((secret) => new Webhook(secret).sign(message.id, message.at, message.body)).join(' ')
  try {
    const response = await fetch(checked.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'IntakePilot-Webhooks/1',
        'webhook-id': message.id,
        'webhook-timestamp': String(Math.floor(message.at.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body: message.body,
      // A redirect could point anywhere, a private address included: it is a failure, not followed.
      redirect: 'manual',
      signal: AbortSignal.timeout(settings.timeoutMs),
    })
    // The body is never read, let alone stored.
    await response.body?.cancel().catch(() => {})
    if (response.status >= 300 && response.status < 400) return { status: response.status, error: 'redirect' }
    return { status: response.status, error: response.ok ? undefined : 'status' }
  } catch (error) {
    const name = error instanceof Error ? error.name : ''
    return { error: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network' }
  }
}

const isLoopbackHost = (host: string) => host === 'localhost' || host.endsWith('.localhost') || host.startsWith('127.') || host === '[::1]'
