/**
 * The email channel (docs/decisions/041): accepting an event records its deliveries (one per
 * recipient, idempotent); sending happens in `sendDue`, right after in the same courier run, and
 * again on every retry. The mailer being down never holds up the event: it is accepted once its
 * deliveries are recorded, and they wait for the mailer.
 */
import type { Channel } from '../channel'
import { planFor } from './plan'
import { recordDeliveries } from './record'
import { sendDueEmails } from './send'
import type { MailEnv } from './smtp'

export const emailChannel: Channel = {
  name: 'email',
  async accept(event, context) {
    const plan = planFor(event)
    if (plan) await recordDeliveries(context.db, event, plan)
  },
  async sendDue(context) {
    const { failed } = await sendDueEmails(context.db, context.env as MailEnv)
    // Counts only: no address, no reference, no server reply in the log.
    if (failed) console.warn(`[courier] email: ${failed} deliveries failed this run; retried with backoff`)
  },
}
