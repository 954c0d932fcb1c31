/**
 * The clinic's turnaround targets as its settings page edits them: time to triage in hours, time
 * to booking in days (how a clinic states each), one per priority. Stored as hours
 * (ClinicSettings.turnaroundHours and .bookingHours). Browser-safe: the page validates with it too.
 */
import { z } from 'zod'
import { referralPriorities, type ReferralPriority } from '~/db/enums'
import type { Targets } from './turnaround'

export const TARGETS_INTENT = 'turnaround-targets'

const whole = (what: string, max: number, unit: string) =>
  // Not z.coerce: conform turns the text into a number itself, and an empty box into "missing".
  z
    .number({ error: `Enter the ${what} as a number of ${unit}` })
    .int(`Enter the ${what} in whole ${unit}`)
    .min(1, `The ${what} is at least 1 ${unit.replace(/s$/, '')}`)
    .max(max, `The ${what} is at most ${max.toLocaleString('en-CA')} ${unit}`)

const priorityName: Record<ReferralPriority, string> = { emergent: 'emergent', urgent: 'urgent', routine: 'routine' }

/** 90 days to triage, two years to booking: beyond that a target means nothing. */
export const TargetsSchema = z.object(
  Object.fromEntries(
    referralPriorities.flatMap((p) => [
      [`triage_${p}`, whole(`${priorityName[p]} triage target`, 2160, 'hours')],
      [`booking_${p}`, whole(`${priorityName[p]} booking target`, 730, 'days')],
    ]),
  ) as Record<`triage_${ReferralPriority}` | `booking_${ReferralPriority}`, ReturnType<typeof whole>>,
)

/** The form's values from the targets in force. */
export function targetFields(t: Targets): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const p of referralPriorities) {
    fields[`triage_${p}`] = String(t.triage[p])
    fields[`booking_${p}`] = String(Math.max(1, Math.round(t.booking[p] / 24)))
  }
  return fields
}

/** What the settings store: hours, both. */
export function targetSettings(v: z.output<typeof TargetsSchema>) {
  const turnaroundHours = {} as Record<ReferralPriority, number>
  const bookingHours = {} as Record<ReferralPriority, number>
  for (const p of referralPriorities) {
    turnaroundHours[p] = v[`triage_${p}`]
    bookingHours[p] = v[`booking_${p}`] * 24
  }
  return { turnaroundHours, bookingHours }
}
