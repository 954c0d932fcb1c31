/**
 * What the courier hands each outbox event to. Each channel (email/, webhooks/, live/) owns its
 * folder, its tables and its retries; the courier only claims events and settles them.
 */
import type { OutboxEvent } from '~/db/schema'
import type { Database } from '~/db/client.server'
import type { CourierEnv } from './env'

export type CourierContext = {
  env: CourierEnv
  db: Database
  waitUntil: (promise: Promise<unknown>) => void
}

export type Channel = {
  name: string
  /**
   * Take one event: record this channel's deliveries for it, and may try them at once. It may
   * see the same event twice (a lease that ran out): it must be idempotent. Throwing means "not
   * accepted": the event is tried again later with backoff.
   */
  accept(event: OutboxEvent, context: CourierContext): Promise<void>
  /** Try this channel's deliveries whose retry is due. */
  sendDue(context: CourierContext): Promise<void>
}
