/**
 * One zod schema per intake form version, derived from its definition. Browser-safe: the
 * same schema validates on the server and, when JavaScript is there, on the client (where the
 * form page imports this module lazily: see useLazyValidation).
 */
import { parseWithZod } from '@conform-to/zod/v4'
import { z } from 'zod'
import type { IntakeField, IntakeFormDefinition } from '~/db/schema'
import { ANY_DAY, BIRTH_DAY, calendarDay, hasNul, NEAR_DAY, NUL_MESSAGE, type DayRange } from '~/utils/form-values'
import { FIELD_FORMATS, fitsFormat } from './field-formats'

export const PHONE = /^[+()\d][\d\s().+-]{6,24}$/
const TEXT_MAX = 300
const TEXTAREA_MAX = 4000

export const intakeFields = (definition: IntakeFormDefinition) => definition.sections.flatMap((s) => s.fields)

/**
 * The days a date field may hold, from what its key says it is: a birth date is not in the
 * future nor before 1900; an appointment or a requested date is within a few years of today;
 * any other date (an injury, an onset) is a real day between 1900 and 2100.
 */
function dayRange(key: string): DayRange {
  if (/(^|_)(dob|birth|birthdate)($|_)/.test(key) || key.endsWith('dob')) return BIRTH_DAY
  if (/(appointment|requested|scheduled|preferred)/.test(key)) return NEAR_DAY
  return ANY_DAY
}

/** "an urgency", "a service": by the first letter's sound as most labels go (an "h" is a consonant here). */
const withArticle = (noun: string) => `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`

/**
 * A required box left unticked. Its label is often a long sentence (a consent statement), and the
 * message is read in the error summary too: name what is missing in a few words.
 */
function confirmMessage(field: IntakeField) {
  if (/consent/i.test(field.key) || /consent/i.test(field.label)) return 'Confirm that the patient consents'
  return field.label.length <= 40 ? `Tick “${field.label}” to continue` : 'Tick this box to continue'
}

/**
 * The field's name in its messages. A label used in two sections ("Phone" for the patient and for
 * the clinician) would read the same twice in the error summary: it takes its section's name.
 */
function messageNames(definition: IntakeFormDefinition) {
  const uses = new Map<string, number>()
  for (const field of intakeFields(definition)) uses.set(field.label.toLowerCase(), (uses.get(field.label.toLowerCase()) ?? 0) + 1)
  const names = new Map<string, string>()
  for (const section of definition.sections)
    for (const field of section.fields)
      if ((uses.get(field.label.toLowerCase()) ?? 0) > 1 && section.title) names.set(field.key, `${section.title} ${field.label.toLowerCase()}`)
  return names
}

function fieldSchema(field: IntakeField, name: string = field.label): z.ZodType {
  const required = `${name} is required`
  const text = (max: number) =>
    z
      .string({ error: required })
      .trim()
      .min(1, required)
      .max(max, `${name} must be at most ${max} characters`)
      .refine((value) => !hasNul(value), `${name} ${NUL_MESSAGE}`)
  let schema: z.ZodType
  switch (field.type) {
    case 'text': {
      const format = field.format
      schema = format ? text(TEXT_MAX).refine((value) => fitsFormat(format, value), `${name}: ${FIELD_FORMATS[format].hint}`) : text(TEXT_MAX)
      break
    }
    case 'textarea':
      schema = text(TEXTAREA_MAX)
      break
    case 'phone':
      schema = text(30).regex(PHONE, `${name}: enter a phone number, e.g. (416) 555-0123`)
      break
    case 'email':
      schema = z
        .email({ error: `${name}: enter a valid email address` })
        .trim()
        .max(254)
      break
    case 'number':
      schema = z.coerce.number({ error: `${name} must be a number` }).finite()
      break
    case 'date':
      schema = calendarDay(field.label, dayRange(field.key))
      break
    case 'select':
      schema = z.enum((field.options?.length ? field.options : ['']) as [string, ...string[]], { error: `Choose ${withArticle(field.label.toLowerCase())}` })
      break
    case 'checkbox':
      schema = field.required
        ? z.literal('on', { error: confirmMessage(field) }).transform(() => true)
        : z
            .literal('on')
            .optional()
            .transform((v) => v === 'on')
      return schema
  }
  return field.required ? schema : schema.optional()
}

/** The schema for one version of a clinic's form: field key -> validator. */
export function intakeSchema(definition: IntakeFormDefinition) {
  const shape: Record<string, z.ZodType> = {}
  const names = messageNames(definition)
  for (const field of intakeFields(definition)) shape[field.key] = fieldSchema(field, names.get(field.key))
  return z.object(shape)
}

/** A posted referral form, checked against the version it was filled in with. */
export function validateIntake(formData: FormData, definition: IntakeFormDefinition) {
  return parseWithZod(formData, { schema: intakeSchema(definition) })
}
