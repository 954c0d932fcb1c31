import type { ReferralStatus } from '~/db/schema'

/** Where a referral may go next. Declined and closed referrals can be reopened for review. */
export const NEXT_STATUSES: Record<ReferralStatus, ReferralStatus[]> = {
  received: ['in_review', 'info_requested', 'accepted', 'declined', 'cancelled'],
  in_review: ['info_requested', 'accepted', 'declined', 'cancelled'],
  info_requested: ['in_review', 'accepted', 'declined', 'cancelled'],
  accepted: ['scheduled', 'declined', 'cancelled'],
  scheduled: ['closed', 'accepted', 'cancelled'],
  declined: ['in_review'],
  closed: ['in_review'],
  cancelled: ['in_review'],
  // Reached only by forwarding it to another clinic (app/referrals/forward.server.ts), and terminal:
  // the referral lives on at the other clinic.
  forwarded: [],
}

/** A decline needs a reason (the referrer sees it); a booking needs its date. */
export const NEEDS_REASON: ReferralStatus[] = ['declined', 'cancelled']
export const NEEDS_DATE: ReferralStatus[] = ['scheduled']

export const canMove = (from: ReferralStatus, to: ReferralStatus) => NEXT_STATUSES[from].includes(to)

/** The turnaround timestamps a move sets: triaged, scheduled, closed. */
export function timestampsFor(from: ReferralStatus, to: ReferralStatus, now: Date, current: { triagedAt: Date | null }) {
  const set: { triagedAt?: Date; scheduledAt?: Date; closedAt?: Date | null } = {}
  if (from === 'received' && !current.triagedAt) set.triagedAt = now
  if (to === 'scheduled') set.scheduledAt = now
  if (to === 'closed' || to === 'declined' || to === 'cancelled') set.closedAt = now
  if (to === 'in_review' && (from === 'closed' || from === 'declined' || from === 'cancelled')) set.closedAt = null
  return set
}
