/**
 * What we email, and to whom (browser-safe: the settings page lists these). Referrers hear of
 * their referral's outcome and of a question; staff of new urgent or emergent referrals and of
 * one assigned to them; admins of a webhook endpoint disabled for failing. Each user can turn each of their kinds off.
 */
import type { UserRole } from './enums'

export const referrerEmailKinds = ['accepted', 'declined', 'scheduled', 'completed', 'question'] as const
export const staffEmailKinds = ['new_urgent', 'assigned'] as const
/** Admins also hear of a webhook endpoint the courier disabled for failing (drizzle/0032). */
export const adminEmailKinds = [...staffEmailKinds, 'endpoint_disabled'] as const
export const emailKinds = [...referrerEmailKinds, ...adminEmailKinds] as const
export type EmailKind = (typeof emailKinds)[number]

export const EMAIL_KIND_LABELS: Record<EmailKind, string> = {
  accepted: 'A referral of mine is accepted',
  declined: 'A referral of mine is declined',
  scheduled: 'An appointment is booked for a referral of mine',
  completed: 'A referral of mine is completed',
  question: 'The clinic asks me a question about a referral',
  new_urgent: 'A new urgent or emergent referral arrives',
  assigned: 'A referral is assigned to me',
  endpoint_disabled: 'A webhook endpoint is disabled after failing for a day',
}

/** The kinds a role can receive (and so can turn off). */
export function emailKindsFor(role: UserRole): readonly EmailKind[] {
  if (role === 'referrer') return referrerEmailKinds
  if (role === 'staff') return staffEmailKinds
  if (role === 'admin') return adminEmailKinds
  return []
}
