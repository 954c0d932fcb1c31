/**
 * One zod schema per intake form version, derived from its definition. Browser-safe: the
 * same schema validates on the server and, when JavaScript is there, on the client (where the
 * form page imports this module lazily: see useLazyValidation).
 */
import { parseWithZod } from '@conform-to/zod/v4'
import { z } from 'zod'
import type { IntakeField, IntakeFormDefinition } from '~/db/schema'

const PHONE = /^[+()\d][\d\s().+-]{6,24}$/
const TEXT_MAX = 300
const TEXTAREA_MAX = 4000

export const intakeFields = (definition: IntakeFormDefinition) => definition.sections.flatMap((s) => s.fields)

function fieldSchema(field: IntakeField): z.ZodType {
  const required = `${field.label} is required`
  const text = (max: number) => z.string({ error: required }).trim().min(1, required).max(max, `${field.label} must be at most ${max} characters`)
  let schema: z.ZodType
  switch (field.type) {
    case 'text':
      schema = text(TEXT_MAX)
      break
    case 'textarea':
      schema = text(TEXTAREA_MAX)
      break
    case 'phone':
      schema = text(30).regex(PHONE, `${field.label}: enter a phone number, e.g. (416) 555-0123`)
      break
    case 'email':
      schema = z.email({ error: `${field.label}: enter a valid email address` }).trim().max(254)
      break
    case 'number':
      schema = z.coerce.number({ error: `${field.label} must be a number` }).finite()
      break
    case 'date':
      schema = z
        .string({ error: required })
        .regex(/^\d{4}-\d{2}-\d{2}$/, `${field.label}: enter a date as YYYY-MM-DD`)
        .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)), `${field.label}: enter a real date`)
        .refine((v) => !field.key.endsWith('dob') || v <= new Date().toISOString().slice(0, 10), `${field.label} cannot be in the future`)
      break
    case 'select':
      schema = z.enum((field.options?.length ? field.options : ['']) as [string, ...string[]], { error: `Choose a ${field.label.toLowerCase()}` })
      break
    case 'checkbox':
      schema = field.required
        ? z.literal('on', { error: `${field.label.split('.')[0]}: this must be confirmed` }).transform(() => true)
        : z.literal('on').optional().transform((v) => v === 'on')
      return schema
  }
  return field.required ? schema : schema.optional()
}

/** The schema for one version of a clinic's form: field key -> validator. */
export function intakeSchema(definition: IntakeFormDefinition) {
  const shape: Record<string, z.ZodType> = {}
  for (const field of intakeFields(definition)) shape[field.key] = fieldSchema(field)
  return z.object(shape)
}

/** A posted referral form, checked against the version it was filled in with. */
export function validateIntake(formData: FormData, definition: IntakeFormDefinition) {
  return parseWithZod(formData, { schema: intakeSchema(definition) })
}
