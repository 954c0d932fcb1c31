/**
 * Why a referral was declined or cancelled, as closed lists beside the free-text reason: the
 * reason is the patient's business (encrypted), the category is not, so the dashboard can count
 * it. The code rides in the status event's `data.reasonCode`; a move without one (older ones,
 * or an API client that sends none) counts as "Not given".
 */
import type { ReferralStatus } from '~/db/enums'

export const DECLINE_REASONS = {
  outside_scope: 'Outside the clinic’s scope',
  not_enough_information: 'Not enough information',
  criteria_not_met: 'Referral criteria not met',
  duplicate: 'Duplicate referral',
  referred_elsewhere: 'Better served elsewhere',
  patient_declined: 'Patient declined',
  other: 'Other',
} as const

export const CANCEL_REASONS = {
  patient_declined: 'Patient declined',
  referrer_withdrew: 'Referrer withdrew it',
  patient_unreachable: 'Patient could not be reached',
  duplicate: 'Duplicate referral',
  referred_elsewhere: 'Better served elsewhere',
  other: 'Other',
} as const

export type DeclineReason = keyof typeof DECLINE_REASONS
export type ReasonCode = DeclineReason | keyof typeof CANCEL_REASONS

/** The categories a move asks for, or null for a move that asks none. */
export function reasonCodesFor(to: ReferralStatus): Readonly<Partial<Record<ReasonCode, string>>> | null {
  return to === 'declined' ? DECLINE_REASONS : to === 'cancelled' ? CANCEL_REASONS : null
}

export const isReasonCodeFor = (to: ReferralStatus, code: unknown): code is ReasonCode => {
  const codes = reasonCodesFor(to)
  return typeof code === 'string' && codes !== null && Object.hasOwn(codes, code)
}

/** Every category of either list, once: the queue's one bulk form serves both moves. */
export const ALL_REASON_CODES: Readonly<Record<ReasonCode, string>> = { ...DECLINE_REASONS, ...CANCEL_REASONS }

export const reasonCodeLabel = (code: unknown) =>
  typeof code === 'string' && Object.hasOwn(ALL_REASON_CODES, code) ? ALL_REASON_CODES[code as ReasonCode] : null
