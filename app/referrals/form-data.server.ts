/**
 * A referral's form data at rest: PHI fields (per the form definition) are sealed one by
 * one, bound to clinic | referral | field; the rest stays plain for filtering and display.
 */
import type { IntakeFormDefinition } from '~/db/schema'
import { normalizeHealthCard, normalizeNameDob, type PhiCipher } from '~/crypto/phi.server'

export type FormValues = Record<string, string | boolean | number | null>

const fieldsOf = (definition: IntakeFormDefinition) => definition.sections.flatMap((s) => s.fields)

export async function sealFormData(cipher: PhiCipher, definition: IntakeFormDefinition, ref: { clinicId: string; referralId: string }, values: FormValues) {
  const sealed: Record<string, unknown> = {}
  for (const field of fieldsOf(definition)) {
    const value = values[field.key]
    if (value === undefined || value === null || value === '') continue
    sealed[field.key] = field.phi ? await cipher.encrypt(String(value), { clinicId: ref.clinicId, recordId: ref.referralId, field: field.key }) : value
  }
  return sealed
}

export async function openFormData(
  cipher: PhiCipher,
  definition: IntakeFormDefinition,
  ref: { clinicId: string; referralId: string },
  stored: Record<string, unknown>,
): Promise<FormValues> {
  const open: FormValues = {}
  for (const field of fieldsOf(definition)) {
    const value = stored[field.key]
    if (value === undefined || value === null) continue
    open[field.key] = field.phi
      ? await cipher.decrypt(value, { clinicId: ref.clinicId, recordId: ref.referralId, field: field.key })
      : (value as string | boolean | number)
  }
  return open
}

/** Blind indexes for duplicate detection and search (never the values themselves). */
export async function patientIndexes(cipher: Pick<PhiCipher, 'blindIndex'>, clinicId: string, values: FormValues) {
  const card = typeof values.health_card_number === 'string' ? normalizeHealthCard(values.health_card_number) : ''
  const last = typeof values.patient_last_name === 'string' ? values.patient_last_name : ''
  const dob = typeof values.patient_dob === 'string' ? values.patient_dob : ''
  return {
    healthCardIndex: card ? await cipher.blindIndex('health_card', clinicId, card) : null,
    nameDobIndex: last && dob ? await cipher.blindIndex('name_dob', clinicId, normalizeNameDob(last, dob)) : null,
  }
}
