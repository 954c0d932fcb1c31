/**
 * The live channel (docs/decisions/045-live-queue.md): each outbox event about a referral goes to
 * its clinic's object, which tells that clinic's open pages. Only the event's ids and statuses
 * go; the object is the event's own clinic's (`idFromName(clinicId)`), so no other clinic hears it.
 * Nothing to retry later on its own: a page that was not open when it happened loads fresh.
 */
import type { Channel } from '../channel'
import { isReferralTopic } from '~/db/outbox-schema'
import type { LiveChange } from '~/live/messages'

export const liveChannel: Channel = {
  name: 'live',
  async accept(event, { env }) {
    const topic = event.topic
    if (!event.referralId || !isReferralTopic(topic)) return
    const change: LiveChange = {
      type: 'change',
      id: event.id,
      topic,
      referralId: event.referralId,
      status: (event.data.status ?? null) as LiveChange['status'],
      priority: (event.data.priority ?? null) as LiveChange['priority'],
    }
    const clinic = env.CLINIC_LIVE.get(env.CLINIC_LIVE.idFromName(event.clinicId))
    const response = await clinic.fetch('https://clinic-live/change', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(change),
    })
    await response.body?.cancel()
    // Not taken: the event is tried again (the object tells a change once, however often it comes).
    if (!response.ok) throw new Error(`live: the clinic's object answered ${response.status}`)
  },
  async sendDue() {},
}
