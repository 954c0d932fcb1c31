/**
 * A referrer's profile: who they are on every referral they send (name, practice, phones,
 * billing number). Browser-safe: the profile page validates with it on both sides, and the
 * referral form is filled from it by field key. Not PHI: it is about the referrer.
 */
import { z } from 'zod'
import type { IntakeFormDefinition } from '~/db/schema'
import { hasNul, NUL_MESSAGE } from '~/utils/form-values'
import { intakeFields, PHONE } from './form-schema'

export type ReferrerProfile = { clinicianName: string; practice: string; phone: string; fax: string; billingNumber: string }
export const EMPTY_PROFILE: ReferrerProfile = { clinicianName: '', practice: '', phone: '', fax: '', billingNumber: '' }

/** Which field of the clinic's form each part of the profile fills (the default form's keys). */
export const PROFILE_FIELD_KEYS: Record<keyof ReferrerProfile, string> = {
  clinicianName: 'clinician_name',
  practice: 'clinician_practice',
  phone: 'clinician_phone',
  fax: 'clinician_fax',
  billingNumber: 'clinician_billing_number',
}

const text = (label: string, max: number) =>
  z
    .string()
    .trim()
    .max(max, `${label} must be at most ${max} characters`)
    .refine((value) => !hasNul(value), `${label} ${NUL_MESSAGE}`)
    .optional()
    .transform((value) => value ?? '')
const phone = (label: string) => text(label, 30).refine((value) => !value || PHONE.test(value), `${label}: enter a phone number, e.g. (416) 555-0123`)

/** Every part is optional: what is filled in fills the form, the rest the referrer types. */
export const ReferrerProfileSchema = z.object({
  clinicianName: text('Name', 300),
  practice: text('Practice', 300),
  phone: phone('Phone'),
  fax: phone('Fax'),
  billingNumber: text('Billing number', 300),
})

/** The form's values the profile fills: only fields the form has, and never a PHI field. */
export function profileValues(profile: ReferrerProfile | null, definition: IntakeFormDefinition): Record<string, string> {
  if (!profile) return {}
  const fields = new Map(intakeFields(definition).map((f) => [f.key, f]))
  const values: Record<string, string> = {}
  for (const [part, key] of Object.entries(PROFILE_FIELD_KEYS) as [keyof ReferrerProfile, string][]) {
    const field = fields.get(key)
    if (field && !field.phi && profile[part]) values[key] = profile[part]
  }
  return values
}
