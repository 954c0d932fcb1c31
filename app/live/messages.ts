/**
 * What goes over a clinic's live-queue socket (docs/decisions/045-live-queue.md): ids, statuses
 * and the names of the clinic's own staff who have a referral open. Never PHI: the page fetches
 * what it shows through its loaders, which are audited. Browser-safe: the courier's Durable
 * Object writes these and the queue and referral pages read them.
 */
import { referralPriorities, referralStatuses, type ReferralPriority, type ReferralStatus } from '~/db/enums'
import type { ReferralTopic } from '~/db/outbox-schema'
import { isUuid } from '~/utils/keyset'

// Every referral topic of the outbox, as a record so that a new one fails to compile until it is
// here (the outbox's own list lives beside its table, which the browser bundle must not pull in).
// The outbox's other topic (an endpoint disabled) is about no referral and never goes live.
const TOPICS: Record<ReferralTopic, true> = {
  'referral.created': true,
  'referral.status_changed': true,
  'referral.assigned': true,
  'referral.question_asked': true,
  'referral.replied': true,
  'document.added': true,
}
const outboxTopics = Object.keys(TOPICS) as ReferralTopic[]

/** A referral of the clinic changed (one outbox event): which, how, and where it stands now. */
export type LiveChange = {
  type: 'change'
  /** The outbox event's id: a page that hears it twice acts once. */
  id: number
  topic: ReferralTopic
  referralId: string
  status: ReferralStatus | null
  priority: ReferralPriority | null
}

/** Who else, of this clinic's staff, has this referral open now (the one told excluded). */
export type LivePresence = { type: 'presence'; referralId: string; people: { id: string; name: string }[] }

export type LiveMessage = LiveChange | LivePresence

/** The socket's address on the app (app/routes/live.ts), with the referral the page has open. */
export const LIVE_PATH = '/live'

/** A client's keep-alive; the object answers it without waking (setWebSocketAutoResponse). */
export const PING = 'ping'
export const PONG = 'pong'
/** The close code of a socket past its age (the object's): the page opens another at once. */
export const RENEW = 4001

const oneOf = <T extends string>(values: readonly T[], v: unknown): T | null => (values.includes(v as T) ? (v as T) : null)

/** A change as the object announces it: only these keys, each of its shape; anything else is null. */
export function liveChange(input: unknown): LiveChange | null {
  if (typeof input !== 'object' || input === null) return null
  const c = input as Record<string, unknown>
  const topic = oneOf(outboxTopics, c.topic)
  if (!Number.isSafeInteger(c.id) || (c.id as number) <= 0 || !topic || !isUuid(c.referralId)) return null
  return {
    type: 'change',
    id: c.id as number,
    topic,
    referralId: c.referralId,
    status: oneOf(referralStatuses, c.status),
    priority: oneOf(referralPriorities, c.priority),
  }
}

/** A message from the socket, or null for anything that is not one (the page ignores it). */
export function readLiveMessage(text: unknown): LiveMessage | null {
  if (typeof text !== 'string' || text.length > 64 * 1024) return null
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const m = value as Record<string, unknown>
  if (m.type === 'change') return liveChange(m)
  if (m.type === 'presence' && isUuid(m.referralId) && Array.isArray(m.people)) {
    const people = m.people.flatMap((p: unknown) => {
      const { id, name } = (p ?? {}) as Record<string, unknown>
      return isUuid(id) && typeof name === 'string' ? [{ id, name: name.slice(0, 200) }] : []
    })
    return { type: 'presence', referralId: m.referralId, people }
  }
  return null
}
