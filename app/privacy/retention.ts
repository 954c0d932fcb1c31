/** The clinic settings section "purge PHI after": what it posts and how that is checked (docs/decisions/049-retention-purge.md). */
import { z } from 'zod'

export const RETENTION_INTENT = 'retention'
/** A floor against a slip of the keyboard (a purge cannot be undone), and a ceiling of a century. */
export const MIN_RETENTION_DAYS = 90
export const MAX_RETENTION_DAYS = 36_500

/** Empty means never: a clinic's PHI is kept until its admins choose a period. */
export const RetentionSchema = z.object({
  // Not z.coerce: conform turns the text into a number itself, and an empty box into "missing".
  retentionDays: z
    .number({ error: 'Enter a number of days, or leave it empty to keep PHI' })
    .int('Enter a whole number of days')
    .min(MIN_RETENTION_DAYS, `At least ${MIN_RETENTION_DAYS} days: a purge cannot be undone`)
    .max(MAX_RETENTION_DAYS, `At most ${MAX_RETENTION_DAYS} days`)
    .optional(),
})
