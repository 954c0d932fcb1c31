/** Forwarding, browser-safe: which statuses a referral may be forwarded from (forward_referral() checks the same). */
import type { ReferralStatus } from '~/db/enums'

/** Before a booking: once the patient has an appointment, or the referral is done, it stays here. */
export const FORWARDABLE: readonly ReferralStatus[] = ['received', 'in_review', 'info_requested', 'accepted']

export const FORWARD_REASON_MAX = 2000

/** Where a referral went, or where it came from, as its page and the referrer's list say it. */
export type ForwardedFacts = {
  to: { name: string; referenceNumber: string; at: string } | null
  from: { name: string } | null
}
