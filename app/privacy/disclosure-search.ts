/**
 * The accounting of disclosures' search form: who the patient is (a health card number, or a
 * last name with a date of birth) and the period, in the clinic's days. Browser-safe: the page's
 * action and its export validate with it, and the page imports it lazily for the same checks in
 * the browser (useLazyValidation).
 */
import { parseWithZod } from '@conform-to/zod/v4'
import { z } from 'zod'

/** HIPAA 164.528: an accounting covers up to the six years before the request. */
export const DISCLOSURE_YEARS = 6
/** More than any page should show or any file should hold in one go; the answer says when it stopped. */
export const MAX_DISCLOSURES = 5000

/** The day `years` years before `day` (both YYYY-MM-DD; 29 February falls back to the 28th). */
export function yearsBefore(day: string, years: number) {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number]
  const back = new Date(Date.UTC(y - years, m - 1, d))
  if (back.getUTCMonth() !== m - 1) back.setUTCDate(0)
  return back.toISOString().slice(0, 10)
}

const day = (what: string) => z.iso.date({ error: `Enter the ${what} as YYYY-MM-DD` })
const healthCardChars = (value: string) => value.replace(/[^A-Za-z0-9]/g, '').length

/** Patient searches carry PHI, so they are posted (never in the URL) and matched by blind index. */
export const DisclosureSearchSchema = z
  .object({
    healthCard: z.string().trim().max(40, 'A health card number is at most 40 characters').optional(),
    lastName: z.string().trim().max(100, 'A last name is at most 100 characters').optional(),
    dob: day('date of birth').optional(),
    from: day('first day'),
    to: day('last day'),
  })
  .superRefine((v, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message })
    if (v.healthCard !== undefined && healthCardChars(v.healthCard) < 4) issue('healthCard', 'A health card number has at least 4 letters or digits')
    if (!v.healthCard) {
      if (!v.lastName && !v.dob) issue('healthCard', 'Enter a health card number, or a last name and a date of birth')
      else if (!v.lastName) issue('lastName', 'Enter the last name with the date of birth')
      else if (!v.dob) issue('dob', 'Enter the date of birth with the last name')
    }
    if (v.dob && v.dob < '1900-01-01') issue('dob', 'Enter a date of birth after 1900')
    if (v.from > v.to) issue('to', 'The last day must be on or after the first day')
    else if (v.from < yearsBefore(v.to, DISCLOSURE_YEARS))
      issue('from', `The period is at most ${DISCLOSURE_YEARS} years: from ${yearsBefore(v.to, DISCLOSURE_YEARS)} at the earliest`)
  })
export type DisclosureSearch = z.infer<typeof DisclosureSearchSchema>

export function validateDisclosureSearch(formData: FormData) {
  return parseWithZod(formData, { schema: DisclosureSearchSchema })
}
