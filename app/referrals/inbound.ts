/**
 * A referral entered by staff on the referrer's behalf (a fax, a call, an email, a walk-in):
 * the clinic's intake form, plus how it came, when it first reached the clinic, and who
 * referred. Browser-safe: the page validates with the same schema when JavaScript is there.
 * The extra fields are camelCase, which an intake form's keys cannot be (lowercase with
 * underscores), so they never collide with the clinic's own fields.
 */
import { parseWithZod } from '@conform-to/zod/v4'
import { z } from 'zod'
import { intakeChannels } from '~/db/enums'
import type { IntakeFormDefinition } from '~/db/schema'
import { intakeSchema } from '~/intake/form-schema'
import { clinicDay, clinicInstant } from '~/utils/clinic-time'
import { calendarDay, dayYearsFrom, hasNul, NUL_MESSAGE, type DayRange } from '~/utils/form-values'

/** The referrer list's last choice: someone without an account here, typed in below it. */
export const SOMEONE_ELSE = 'someone-else'

/**
 * A referral reaches the clinic before it is entered, but not by more than a year: counted from
 * the clinic's today (its time zone), not UTC's, which is already tomorrow on a Toronto evening.
 */
export const receivedDay = (zone: string): DayRange => ({
  earliest: () => dayYearsFrom(clinicDay(Date.now(), zone), -1),
  latest: () => clinicDay(Date.now(), zone),
  latestIsToday: true,
})

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/
const NAME_MAX = 120
/** Clocks differ by a little: a time a minute or two ahead is not "in the future". */
const CLOCK_SKEW_MS = 5 * 60_000

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v)

const text = (label: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .max(NAME_MAX, `${label} must be at most ${NAME_MAX} characters`)
      .refine((v) => !hasNul(v), `${label} ${NUL_MESSAGE}`)
      .optional(),
  )

/** The fields this page adds to the clinic's form. */
export const inboundFields = {
  arrivedVia: z.enum(intakeChannels, { error: 'Choose how the referral arrived' }),
  // Its bounds are the clinic's days: inboundSchema sets them for the clinic's zone.
  receivedOn: calendarDay('Date received'),
  receivedTime: z.preprocess(blankToUndefined, z.string().trim().regex(TIME, 'Time received: enter a time as HH:MM (24-hour)').optional()),
  referrerId: z.union([z.uuid(), z.literal(SOMEONE_ELSE)], { error: 'Choose the referrer, or “Someone else” to type them in' }),
  referrerName: text('Referrer’s name'),
  referrerPractice: text('Practice'),
} as const

/** When it first reached the clinic: the day, at the time given or else at its start, on the clinic's clock (its time zone). */
export const receivedAtOf = (day: string, time: string | undefined, zone: string) =>
  clinicInstant(day, time ?? '00:00', zone) ?? new Date(`${day}T${time ?? '00:00'}:00Z`)

/** The clinic's form for this version, with the inbound fields and the rules between them. */
export function inboundSchema(definition: IntakeFormDefinition, zone: string) {
  return intakeSchema(definition)
    .extend({ ...inboundFields, receivedOn: calendarDay('Date received', receivedDay(zone)) })
    .superRefine(
      (value, ctx) => {
        const v = value as { receivedOn?: unknown; receivedTime?: unknown; referrerId?: unknown; referrerName?: unknown }
        if (v.referrerId === SOMEONE_ELSE && !v.referrerName) {
          ctx.addIssue({ code: 'custom', path: ['referrerName'], message: 'Type the referrer’s name, or choose them from the list' })
        }
        if (typeof v.receivedOn === 'string' && typeof v.receivedTime === 'string' && TIME.test(v.receivedTime)) {
          const at = receivedAtOf(v.receivedOn, v.receivedTime, zone)
          if (at.getTime() > Date.now() + CLOCK_SKEW_MS)
            ctx.addIssue({ code: 'custom', path: ['receivedTime'], message: 'Time received cannot be in the future' })
        }
        // Also when other fields are wrong (a missing one stops zod's refinements otherwise): every error shows at once.
      },
      { when: () => true },
    )
}

/** What the page adds, as parsed; the clinic's own fields are beside them. */
export type InboundValues = z.output<z.ZodObject<typeof inboundFields>> & Record<string, unknown>
export const INBOUND_KEYS = Object.keys(inboundFields) as (keyof typeof inboundFields)[]

/** A posted inbound referral, checked against the form version it was filled in with. */
export function validateInbound(formData: FormData, definition: IntakeFormDefinition, zone: string) {
  return parseWithZod(formData, { schema: inboundSchema(definition, zone) })
}
