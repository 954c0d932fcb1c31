/**
 * The turnaround dashboard's vocabulary, browser-safe: the periods it offers, the clinic's
 * targets with their defaults, the age bands of the aging chart and the reasons a decline can
 * give. The numbers themselves are computed in SQL (turnaround.server.ts).
 */
import type { ReferralPriority } from '~/db/enums'
import type { ClinicSettings } from '~/db/schema'
import { DECLINE_REASONS, type DeclineReason } from '~/referrals/reason-codes'

/** Weeks a page can look back over: a few choices, so every period's plan is one the bench measured. */
export const PERIOD_WEEKS = [4, 12, 26, 52] as const
export type PeriodWeeks = (typeof PERIOD_WEEKS)[number]
export const DEFAULT_PERIOD_WEEKS: PeriodWeeks = 12

export type Targets = Record<'triage' | 'booking', Record<ReferralPriority, number>>

/** Hours from received, when a clinic has not set its own. Triage matches the queue's overdue marker. */
export const DEFAULT_TARGET_HOURS: Targets = {
  triage: { emergent: 24, urgent: 72, routine: 336 },
  booking: { emergent: 72, urgent: 336, routine: 2160 },
}

/** The clinic's targets, each priority falling back to the default on its own. */
export function clinicTargets(settings: ClinicSettings | null | undefined): Targets {
  return {
    triage: { ...DEFAULT_TARGET_HOURS.triage, ...settings?.turnaroundHours },
    booking: { ...DEFAULT_TARGET_HOURS.booking, ...settings?.bookingHours },
  }
}

export const PRIORITY_LABELS: Record<ReferralPriority, string> = { emergent: 'Emergent', urgent: 'Urgent', routine: 'Routine' }

/** Days waiting, lower bounds; the last band has none above. */
export const AGE_BANDS = [
  { from: 0, label: 'Under 3 days' },
  { from: 3, label: '3 to 7 days' },
  { from: 8, label: '8 to 14 days' },
  { from: 15, label: '15 to 30 days' },
  { from: 31, label: '31 to 60 days' },
  { from: 61, label: 'Over 60 days' },
] as const

// Why a referral was declined: the categories the decline form asks (app/referrals/reason-codes.ts).
export { DECLINE_REASONS, type DeclineReason } from '~/referrals/reason-codes'
export const declineReasonLabel = (code: string | null) => (code && Object.hasOwn(DECLINE_REASONS, code) ? DECLINE_REASONS[code as DeclineReason] : 'Not given')

/** "36 h" under two days, "4.5 days" above: how a clinic speaks of waiting. */
export function formatHours(hours: number | null): string {
  if (hours === null || !Number.isFinite(hours)) return '—'
  if (hours < 48) return `${Math.round(hours)} h`
  const days = hours / 24
  return `${days < 10 ? days.toFixed(1).replace(/\.0$/, '') : Math.round(days)} days`
}

export const percent = (part: number, whole: number) => (whole > 0 ? `${Math.round((100 * part) / whole)}%` : '—')
