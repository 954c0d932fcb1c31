/**
 * Keyset cursors come back from the browser, so they are checked as strictly as any input:
 * a hand-edited cursor is refused (the page says so), never reaches PostgreSQL malformed.
 */
import { EARLIEST_DAY, LATEST_DAY } from './form-values'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
// PostgreSQL's text form of a timestamptz: "2026-11-25 17:23:36.123456+00".
const PG_TIMESTAMPTZ = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d{1,6})?[+-](0\d|1[0-5])(:[0-5]\d)?$/

export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value)

/**
 * A real instant in PostgreSQL's text form, in the years anything here can date from (so no
 * February 30th, no year 275760, and no year 0, which JavaScript takes and PostgreSQL refuses).
 */
export function isPgTimestamp(value: unknown): value is string {
  if (typeof value !== 'string') return false
  const match = PG_TIMESTAMPTZ.exec(value)
  if (!match) return false
  const [, date, time] = match
  if (date! < EARLIEST_DAY || date! > LATEST_DAY) return false
  const parsed = new Date(`${date}T${time}Z`)
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(`${date}T${time}`)
}
