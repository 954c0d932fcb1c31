/**
 * Values every form and query shares the rules of: calendar days in a range that makes sense,
 * whole numbers that fit PostgreSQL's `integer`, and text PostgreSQL can store. Browser-safe,
 * so a form's schema says the same thing on both sides.
 */
import { z } from 'zod'

/** PostgreSQL's `integer` (versions, form versions): anything larger fails in the database, not here. */
export const INT32_MAX = 2_147_483_647

/** A whole number from a form field or a query parameter, within `integer`. */
export const formInteger = (min = 0, message = 'Enter a whole number') =>
  z.coerce.number({ error: message }).int(message).min(min, message).max(INT32_MAX, message)

/** PostgreSQL refuses U+0000 in text and jsonb: refused here, with the field named. */
export const hasNul = (value: string) => value.includes('\u0000')
export const NUL_MESSAGE = 'contains a character that cannot be stored (U+0000)'

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/

/** The earliest and latest day anything in IntakePilot can be about. */
export const EARLIEST_DAY = '1900-01-01'
export const LATEST_DAY = '2100-12-31'

/** `2026-02-29`, `1961-02-31` and `2026-99-99` are not days: a day must come back the same from the calendar. */
export function isCalendarDay(value: unknown): value is string {
  if (typeof value !== 'string') return false
  const match = ISO_DAY.exec(value)
  if (!match) return false
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const date = new Date(Date.UTC(2000, month - 1, day))
  date.setUTCFullYear(year)
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
}

/** Today (UTC) as YYYY-MM-DD, moved by whole years. */
export function dayFromToday(years = 0, now = new Date()) {
  const date = new Date(now)
  date.setUTCFullYear(date.getUTCFullYear() + years)
  return date.toISOString().slice(0, 10)
}

/**
 * A day as YYYY-MM-DD moved by whole years (Feb 29 to Feb 28 where the year has none): for
 * ranges counted from a clinic's own today (app/utils/clinic-time.ts `clinicDay`).
 */
export function dayYearsFrom(day: string, years: number) {
  const year = String(Number(day.slice(0, 4)) + years).padStart(4, '0')
  const moved = `${year}${day.slice(4)}`
  return isCalendarDay(moved) ? moved : `${year}${day.slice(4, 8)}28`
}

const READABLE = new Intl.DateTimeFormat('en-CA', { dateStyle: 'long', timeZone: 'UTC' })
const readable = (day: string) => READABLE.format(new Date(`${day}T00:00:00Z`))

/** `latestIsToday`: the latest day is today where the range is counted (a clinic's today), so a later one is "in the future". */
export type DayRange = { earliest: () => string; latest: () => string; latestIsToday?: boolean }

/** Any day a record or a filter can name. */
export const ANY_DAY: DayRange = { earliest: () => EARLIEST_DAY, latest: () => LATEST_DAY }
/** A date of birth: not in the future, not before 1900. */
export const BIRTH_DAY: DayRange = { earliest: () => EARLIEST_DAY, latest: () => dayFromToday() }
/** An appointment or a requested date: within a few years of today, either side. */
export const NEAR_DAY: DayRange = { earliest: () => dayFromToday(-2), latest: () => dayFromToday(3) }

/**
 * A calendar day as YYYY-MM-DD within a range (checked when the value is, so "today" moves).
 * `label` starts each message, as field errors do elsewhere ("Date of birth: ...").
 */
export function calendarDay(label: string, range: DayRange = ANY_DAY) {
  return z
    .string({ error: `${label}: enter a date as YYYY-MM-DD` })
    .trim()
    .superRefine((day, ctx) => {
      const fail = (message: string) => ctx.addIssue({ code: 'custom', message })
      if (!ISO_DAY.test(day)) return fail(`${label}: enter a date as YYYY-MM-DD`)
      if (!isCalendarDay(day)) return fail(`${label}: enter a real date (that day does not exist)`)
      const [earliest, latest] = [range.earliest(), range.latest()]
      if (day < earliest) return fail(`${label}: enter a date on or after ${readable(earliest)}`)
      if (day > latest)
        return fail(
          range.latestIsToday || latest === dayFromToday() ? `${label} cannot be in the future` : `${label}: enter a date on or before ${readable(latest)}`,
        )
    })
}

const CLOCK_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/

/** A time of day as HH:MM on a 24-hour clock, what `<input type="time">` sends (seconds are not asked for). */
export function clockTime(label: string) {
  return z
    .string({ error: `${label}: enter a time as HH:MM` })
    .trim()
    .regex(CLOCK_TIME, `${label}: enter a time as HH:MM (24-hour clock)`)
}
export const isClockTime = (value: unknown): value is string => typeof value === 'string' && CLOCK_TIME.test(value)
