/**
 * Which outbox event is which email, and who may get it. Referrers: their referral accepted,
 * declined, booked or completed, and a question from the clinic (the question's own event: the
 * status move to info_requested that goes with it sends nothing more). Staff: a new urgent or
 * emergent referral, and a referral assigned to them by someone else. Admins: a webhook endpoint
 * the courier disabled for failing (drizzle/0032).
 */
import type { EmailKind, OutboxEvent } from '~/db/schema'

export type Audience = 'referrer' | 'staff' | 'assignee' | 'admins'
export type EmailPlan = { kind: EmailKind; audience: Audience }

const STATUS_KINDS: Partial<Record<string, EmailKind>> = {
  accepted: 'accepted',
  declined: 'declined',
  scheduled: 'scheduled',
  closed: 'completed',
}

export function planFor(event: OutboxEvent): EmailPlan | null {
  if (event.topic === 'webhook.endpoint_disabled') return typeof event.data.endpointId === 'string' ? { kind: 'endpoint_disabled', audience: 'admins' } : null
  if (!event.referralId) return null
  switch (event.topic) {
    case 'referral.status_changed': {
      const kind = typeof event.data.to === 'string' ? STATUS_KINDS[event.data.to] : undefined
      return kind ? { kind, audience: 'referrer' } : null
    }
    case 'referral.question_asked':
      return { kind: 'question', audience: 'referrer' }
    case 'referral.created':
      return event.data.priority === 'urgent' || event.data.priority === 'emergent' ? { kind: 'new_urgent', audience: 'staff' } : null
    case 'referral.assigned':
      return typeof event.data.to === 'string' && event.data.to !== event.data.actorId ? { kind: 'assigned', audience: 'assignee' } : null
    default:
      return null
  }
}
