/**
 * One courier run: claim pending outbox events, hand each to every channel, settle it; then let
 * each channel retry what is due. A poke (POST /drain) and the cron both run this; two runs at
 * once never take the same event (claim_outbox_events skips locked rows).
 */
import { sql } from 'drizzle-orm'
import type { Database } from '~/db/client.server'
import type { OutboxEvent, OutboxTopic } from '~/db/schema'
import type { Channel, CourierContext } from './channel'

/** Events per claim, and the lease: a run that dies mid-batch frees its events after it. */
const BATCH = 25
const LEASE_SECONDS = 60
/** A run stops claiming after this long; the next poke or cron picks up the rest. */
const RUN_BUDGET_MS = 20_000

export type DrainResult = { events: number; settled: number; retried: number }

export async function drain(context: CourierContext, channels: readonly Channel[]): Promise<DrainResult> {
  const started = Date.now()
  const result: DrainResult = { events: 0, settled: 0, retried: 0 }
  while (Date.now() - started < RUN_BUDGET_MS) {
    const events = await claim(context.db)
    if (events.length === 0) break
    result.events += events.length
    for (const event of events) {
      const accepted = await Promise.allSettled(channels.map((channel) => channel.accept(event, context)))
      const failed = accepted.flatMap((outcome, i) => (outcome.status === 'rejected' ? [channels[i]!.name] : []))
      // Ids only in the log line: an event holds no PHI, and neither may the log.
      if (failed.length) console.warn(`[courier] event ${event.id} (${event.topic}) not accepted by ${failed.join(', ')}; attempt ${event.attempts}`)
      await settle(context.db, event, failed.length === 0)
      if (failed.length) result.retried++
      else result.settled++
    }
    if (events.length < BATCH) break
  }
  for (const channel of channels) {
    await channel.sendDue(context).catch((error: unknown) => console.warn(`[courier] ${channel.name} retries failed: ${errorName(error)}`))
  }
  return result
}

async function claim(db: Database): Promise<OutboxEvent[]> {
  const { rows } = await db.execute<{
    id: string | number
    clinic_id: string
    referral_id: string | null
    topic: OutboxTopic
    data: OutboxEvent['data']
    occurred_at: string | Date
    attempts: number
  }>(sql`select * from claim_outbox_events(${BATCH}, ${LEASE_SECONDS})`)
  return rows.map((r) => ({
    id: Number(r.id),
    clinicId: r.clinic_id,
    referralId: r.referral_id,
    topic: r.topic,
    data: r.data,
    occurredAt: new Date(r.occurred_at),
    attempts: r.attempts,
  }))
}

/** Backoff for an event no channel could take yet: 10 s, 20 s, 40 s … capped at an hour. */
export const retryDelaySeconds = (attempts: number) => Math.min(3600, 10 * 2 ** Math.max(0, attempts - 1))

async function settle(db: Database, event: OutboxEvent, done: boolean) {
  await db.execute(sql`select settle_outbox_event(${event.id}, ${done}, ${retryDelaySeconds(event.attempts)})`)
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : 'error')
