/**
 * The webhooks channel (docs/decisions/043-signed-webhooks.md): accept() records one delivery per
 * (event, endpoint); sendDue() claims due deliveries across clinics (claim_webhook_deliveries,
 * drizzle/0027) and tries each under its clinic's scope, a few at a time.
 */
import { sql } from 'drizzle-orm'
import type { Channel, CourierContext } from '../channel'
import { recordDeliveries } from './record'
import { attemptDelivery } from './send'
import { webhookSettings } from './settings'

const BATCH = 25
/** Longer than a delivery can take (its timeout, at most 30 s, plus the two transactions). */
const LEASE_SECONDS = 60
const AT_ONCE = 5
const RUN_BUDGET_MS = 20_000

export const webhooksChannel: Channel = {
  name: 'webhooks',
  async accept(event, context) {
    await recordDeliveries(context.db, event)
  },
  async sendDue(context) {
    await sendDueWebhooks(context)
  },
}

export async function sendDueWebhooks(context: CourierContext): Promise<number> {
  const settings = webhookSettings(context.env)
  if (!settings) return 0
  const started = Date.now()
  let tried = 0
  while (Date.now() - started < RUN_BUDGET_MS) {
    const { rows } = await context.db.execute<{ id: string; clinic_id: string }>(sql`select * from claim_webhook_deliveries(${BATCH}, ${LEASE_SECONDS})`)
    if (rows.length === 0) break
    const queue = [...rows]
    await Promise.all(
      Array.from({ length: Math.min(AT_ONCE, queue.length) }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const claimed = next
          await attemptDelivery(context.db, settings, claimed.clinic_id, claimed.id).catch((error: unknown) =>
            // Ids only: a delivery holds none of the receiver's answer, and the log holds no URL.
            console.warn(`[courier] webhook delivery ${claimed.id} failed: ${error instanceof Error ? error.name : 'error'}`),
          )
          tried++
        }
      }),
    )
    if (rows.length < BATCH) break
  }
  return tried
}
