/**
 * The intake form editor's schema: what an admin may publish as a new version of the form.
 * Browser-safe: the same schema validates on the server and, when JavaScript is there, on
 * the client. Options are typed as text (one per line, or comma-separated) and become a list.
 */
import { z } from 'zod'
import type { FieldType, IntakeField, IntakeFormDefinition } from '~/db/schema'
import { INT32_MAX } from '~/utils/form-values'
import { FIELD_FORMAT_KEYS } from './field-formats'
import { withKeysFromLabels } from './form-keys'

export const FIELD_TYPES = ['text', 'textarea', 'date', 'select', 'checkbox', 'phone', 'email', 'number'] as const satisfies readonly FieldType[]

export const FIELD_TYPE_LABELS: Record<FieldType, string> = {
  text: 'Short text',
  textarea: 'Long text',
  date: 'Date',
  select: 'Choice (select)',
  checkbox: 'Checkbox',
  phone: 'Phone',
  email: 'Email',
  number: 'Number',
}

/**
 * Keys behind the duplicate-patient check and search (blind indexes, see
 * app/referrals/form-data.server.ts): relabel them freely, but they stay, keep their key,
 * stay PHI and keep a type that yields the text the index is computed from.
 */
export const PROTECTED_FIELDS: Record<string, FieldType> = {
  patient_last_name: 'text',
  patient_dob: 'date',
  health_card_number: 'text',
}
export const isProtectedKey = (key: unknown): key is string => typeof key === 'string' && Object.hasOwn(PROTECTED_FIELDS, key)

export const KEY_PATTERN = /^[a-z][a-z0-9_]{1,49}$/
export const MAX_FIELDS = 100
const MAX_OPTIONS = 50
const OPTION_MAX = 100

/** "A\nB" or "A, B": newlines win, so an option may contain a comma when typed one per line. */
export function splitOptions(text: string) {
  const parts = text.includes('\n') ? text.split(/\r?\n/) : text.split(',')
  return parts.map((o) => o.trim()).filter(Boolean)
}

const options = z
  .string()
  .max(MAX_OPTIONS * (OPTION_MAX + 2), 'Too many options')
  .optional()
  .transform((text, ctx) => {
    const list = splitOptions(text ?? '')
    const long = list.find((o) => o.length > OPTION_MAX)
    const twice = list.find((o, i) => list.indexOf(o) !== i)
    if (list.length > MAX_OPTIONS) ctx.addIssue({ code: 'custom', message: `At most ${MAX_OPTIONS} options` })
    if (long) ctx.addIssue({ code: 'custom', message: `Each option must be at most ${OPTION_MAX} characters (“${long.slice(0, 30)}…”)` })
    if (twice) ctx.addIssue({ code: 'custom', message: `“${twice}” is listed twice` })
    return list
  })

/**
 * Zod skips a refinement once anything inside has failed; these run regardless (on the
 * partly parsed value, hence the defensive reads), so an empty label does not hide a
 * duplicate key until it is fixed.
 */
const isObject = (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null

const FieldSchema = z
  .object({
    label: z.string({ error: 'Enter a label' }).trim().min(1, 'Enter a label').max(200, 'At most 200 characters'),
    key: z.string({ error: 'Enter a key' }).trim().regex(KEY_PATTERN, 'Use 2–50 lowercase letters, digits and underscores, starting with a letter'),
    type: z.enum(FIELD_TYPES, { error: 'Choose a type' }),
    required: z.boolean().default(false),
    phi: z.boolean().default(false),
    help: z.string().trim().max(300, 'At most 300 characters').optional(),
    options,
    /** Empty: any text (conform sends an empty choice as nothing; the editor's values start as ''). */
    format: z.union([z.enum(FIELD_FORMAT_KEYS), z.literal('')], { error: 'Choose a format from the list' }).optional(),
  })
  .superRefine(
    (field, ctx) => {
      const key = typeof field.key === 'string' ? field.key.trim() : ''
      if (field.type === 'select' && !(Array.isArray(field.options) && field.options.length)) {
        ctx.addIssue({ code: 'custom', path: ['options'], message: 'A choice field needs at least one option' })
      }
      if (field.format && field.type !== 'text') ctx.addIssue({ code: 'custom', path: ['format'], message: 'Only a short text field can have a format' })
      if (!isProtectedKey(key)) return
      if (field.phi !== true) ctx.addIssue({ code: 'custom', path: ['phi'], message: 'Used for duplicate detection: this field must stay PHI' })
      const type = PROTECTED_FIELDS[key]!
      if (field.type !== type) {
        ctx.addIssue({ code: 'custom', path: ['type'], message: `Used for duplicate detection: this field must stay ${FIELD_TYPE_LABELS[type].toLowerCase()}` })
      }
    },
    { when: isObject },
  )

const SectionSchema = z.object({
  title: z.string({ error: 'Enter a section title' }).trim().min(1, 'Enter a section title').max(100, 'At most 100 characters'),
  fields: z.array(FieldSchema).min(1, 'Add a field to this section, or remove the section').max(MAX_FIELDS, `A form can have at most ${MAX_FIELDS} fields`),
})

/** The editor's form once every blank key is filled. `baseVersion`: the version the edit started from. */
const EditedFormSchema = z
  .object({
    baseVersion: z.number().int().min(0).max(INT32_MAX),
    sections: z.array(SectionSchema, { error: 'Add a section' }).min(1, 'Add a section').max(MAX_FIELDS),
  })
  .superRefine(
    ({ sections }, ctx) => {
      const seen = new Set<string>()
      let count = 0
      ;(Array.isArray(sections) ? sections : []).forEach((section, s) =>
        (Array.isArray(section?.fields) ? section.fields : []).forEach((field, f) => {
          count++
          const key = typeof field?.key === 'string' ? field.key.trim() : ''
          if (!key) return
          if (seen.has(key)) {
            ctx.addIssue({ code: 'custom', path: ['sections', s, 'fields', f, 'key'], message: `Another field already uses the key “${key}”` })
          }
          seen.add(key)
        }),
      )
      if (count > MAX_FIELDS) ctx.addIssue({ code: 'custom', path: [], message: `A form can have at most ${MAX_FIELDS} fields (this one has ${count})` })
      for (const key of Object.keys(PROTECTED_FIELDS)) {
        if (!seen.has(key)) {
          ctx.addIssue({ code: 'custom', path: [], message: `The field “${key}” is used for duplicate detection: it cannot be removed or given another key` })
        }
      }
    },
    { when: isObject },
  )

/** The one schema of the editor's form: a field left without a key gets one made from its label (form-keys.ts). */
export const IntakeFormEditorSchema = z.preprocess<unknown, typeof EditedFormSchema, z.input<typeof EditedFormSchema>>(withKeysFromLabels, EditedFormSchema)

export type IntakeFormEditorInput = z.input<typeof EditedFormSchema>
export type IntakeFormEditorValue = z.output<typeof EditedFormSchema>

/** A validated edit, as the definition stored with a new version. */
export function toDefinition(value: IntakeFormEditorValue): IntakeFormDefinition {
  return {
    sections: value.sections.map((section) => ({
      title: section.title,
      fields: section.fields.map((f) => {
        const field: IntakeField = { key: f.key, label: f.label, type: f.type, required: f.required, phi: f.phi }
        if (f.help) field.help = f.help
        if (f.type === 'select') field.options = f.options
        if (f.type === 'text' && f.format) field.format = f.format
        return field
      }),
    })),
  }
}

/** A stored definition as the editor's starting values (options as one per line). */
export function toEditorValue(definition: IntakeFormDefinition, baseVersion: number) {
  return {
    baseVersion,
    sections: definition.sections.map((section) => ({
      title: section.title,
      fields: section.fields.map((f) => ({
        label: f.label,
        key: f.key,
        type: f.type,
        required: f.required,
        phi: f.phi,
        help: f.help ?? '',
        options: (f.options ?? []).join('\n'),
        format: f.format ?? ('' as const),
      })),
    })),
  }
}

/** A field as added in the editor: PHI by default, since most of what a referral asks is about the patient. */
export const NEW_FIELD = { label: '', key: '', type: 'text', required: false, phi: true, help: '', options: '', format: '' } as const
export const NEW_SECTION = { title: '', fields: [NEW_FIELD] }
