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

/** A decline needs a reason (the referrer sees it); a booking needs its date and time. */
export const NEEDS_REASON: ReferralStatus[] = ['declined', 'cancelled']
export const NEEDS_DATE: ReferralStatus[] = ['scheduled']

/**
 * What a move asks for before it is made: nothing (one press of its button), a reason and a
 * confirmation (a decline or a cancel ends the referral and the referrer reads why), or the
 * appointment's date and time. The page opens a small form of its own for the last two.
 */
export type MoveStep = 'direct' | 'confirm-with-reason' | 'appointment'
export const moveStep = (to: ReferralStatus): MoveStep =>
  NEEDS_REASON.includes(to) ? 'confirm-with-reason' : NEEDS_DATE.includes(to) ? 'appointment' : 'direct'

/** Each move's button, in the clinic's words (the button names what happens, not the status it lands in). */
export const MOVE_LABELS: Record<ReferralStatus, string> = {
  received: 'Mark as new',
  in_review: 'Start review',
  info_requested: 'Mark as waiting on referrer',
  accepted: 'Accept',
  scheduled: 'Book appointment',
  declined: 'Decline',
  closed: 'Mark as completed',
  cancelled: 'Cancel referral',
  // Never a button here: forwarding has its own page (app/routes/_app.referrals.$id_.forward.tsx).
  forwarded: 'Forward to another clinic',
}

/** The same buttons where the move goes back (reopening a closed one, unbooking). */
export function moveLabel(from: ReferralStatus, to: ReferralStatus) {
  if (to === 'in_review' && (from === 'declined' || from === 'closed' || from === 'cancelled')) return 'Reopen for review'
  if (to === 'accepted' && from === 'scheduled') return 'Back to accepted (unbook)'
  if (to === 'in_review' && from === 'info_requested') return 'Back to review'
  return MOVE_LABELS[to]
}

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

/** Why a question cannot go to the sender of an EHR system's referral (decision 061), as every door says it. */
export const NO_REFERRER_TO_ASK =
  'This referral was sent by an EHR system: there is no referrer in IntakePilot to ask. Contact the referring practice directly, and add an internal note of what you asked'
