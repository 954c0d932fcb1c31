/**
 * The queue's patient search. Browser-safe: the action validates with it, and the queue page
 * imports it lazily for the same checks in the browser (useLazyValidation).
 */
import { parseWithZod } from '@conform-to/zod/v4'
import { z } from 'zod'

/** Patient searches carry PHI, so they are posted (never in the URL) and matched by blind index. */
export const PatientSearchSchema = z
  .object({
    healthCard: z.string().trim().max(40).optional(),
    lastName: z.string().trim().max(100).optional(),
    dob: z.iso.date({ error: 'Enter the date of birth as YYYY-MM-DD' }).optional(),
  })
  .refine((v) => v.healthCard || (v.lastName && v.dob), {
    message: 'Enter a health card number, or a last name and a date of birth',
    path: ['healthCard'],
  })

export function validatePatientSearch(formData: FormData) {
  return parseWithZod(formData, { schema: PatientSearchSchema })
}
