/**
 * The audit viewer's filters, parsed from the URL (a view can be bookmarked and shared), and
 * the export form. Ids, dates and codes only: nothing here is PHI. Browser-safe.
 */
import { z } from 'zod'
import { auditOutcomes } from '~/db/enums'
import { nextDay, startOfClinicDay } from '~/utils/clinic-time'
import { calendarDay } from '~/utils/form-values'
import { AUDIT_ACTION_CODES } from './actions'

/** A referral's reference number as people type it (`LAK-7K2M9QX`): letters, digits and dashes, any case. */
export const REFERENCE_NUMBER = /^[A-Za-z0-9]{2,8}-[A-Za-z0-9]{4,16}$/

const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' || v === null ? undefined : v), schema.optional())

export const AuditViewSchema = z.object({
  // Real days between 1900 and 2100: year 0 passes z.iso.date() and then fails in PostgreSQL.
  from: optional(calendarDay('From')),
  to: optional(calendarDay('To')),
  actor: optional(z.uuid()),
  action: optional(z.enum(AUDIT_ACTION_CODES)),
  outcome: optional(z.enum(auditOutcomes)),
  referral: optional(z.uuid()),
  reference: optional(
    z
      .string()
      .trim()
      .max(32)
      .regex(REFERENCE_NUMBER)
      .transform((v) => v.toUpperCase()),
  ),
  /** The last seq of the previous page: rows strictly older in the chain come next. */
  cursor: optional(z.coerce.number().int().positive()),
})
export type AuditView = z.infer<typeof AuditViewSchema>

/**
 * A hand-edited URL keeps the filters that make sense and says which it ignored, rather
 * than showing an error page or, worse, silently more than was asked for.
 */
export function parseAuditView(url: URL): { view: AuditView; ignored: string[] } {
  const raw: Record<string, string> = {}
  for (const key of Object.keys(AuditViewSchema.shape)) {
    const value = url.searchParams.get(key)
    if (value !== null) raw[key] = value
  }
  const parsed = AuditViewSchema.safeParse(raw)
  if (parsed.success) return { view: parsed.data, ignored: [] }
  const ignored = [...new Set(parsed.error.issues.map((i) => String(i.path[0])))]
  for (const key of ignored) delete raw[key]
  return { view: AuditViewSchema.parse(raw), ignored }
}

export function auditUrl(view: Partial<AuditView>, base = '/admin/audit') {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(view)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  const search = params.toString()
  return search ? `${base}?${search}` : base
}

/**
 * Days are the clinic's days, in its time zone (app/utils/clinic-time.ts): "1 December" in a
 * Toronto clinic is 05:00 UTC on the 1st to 05:00 UTC on the 2nd. The rows keep UTC; an export
 * names the zone its days are in.
 */
export const dayStart = (day: string, zone: string) => startOfClinicDay(day, zone) ?? new Date(`${day}T00:00:00Z`)
export const dayAfter = (day: string, zone: string) => dayStart(nextDay(day), zone)

export const EXPORT_FORMATS = { csv: 'CSV', fhir: 'FHIR (NDJSON)' } as const

/**
 * The days an export may name. A day outside them is refused before anything runs: year 0, for
 * one, is a valid ISO date that PostgreSQL has no such year for, and the export failed after it
 * had begun (a file with a header and no rows).
 */
export const EXPORT_DAYS = { first: '1970-01-01', last: '2999-12-31' } as const
const exportDay = (which: string) =>
  z.iso.date({ error: `Enter the ${which} day as YYYY-MM-DD` }).refine((day) => day >= EXPORT_DAYS.first && day <= EXPORT_DAYS.last, {
    message: `The ${which} day must be between ${EXPORT_DAYS.first} and ${EXPORT_DAYS.last}`,
  })

export const AuditExportSchema = z
  .object({
    format: z.enum(['csv', 'fhir'], { error: 'Choose CSV or FHIR AuditEvent (NDJSON)' }),
    from: exportDay('first'),
    to: exportDay('last'),
  })
  .refine((v) => v.from <= v.to, { message: 'The last day must be on or after the first day', path: ['to'] })
export type AuditExport = z.infer<typeof AuditExportSchema>
