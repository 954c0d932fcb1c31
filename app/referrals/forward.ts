/** Forwarding, browser-safe: which statuses a referral may be forwarded from (forward_referral() checks the same). */
import type { ReferralStatus } from '~/db/enums'

/** Before a booking: once the patient has an appointment, or the referral is done, it stays here. */
export const FORWARDABLE: readonly ReferralStatus[] = ['received', 'in_review', 'info_requested', 'accepted']

export const FORWARD_REASON_MAX = 2000
