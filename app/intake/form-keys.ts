/**
 * Field keys made from labels (docs/decisions/036-intake-form-editor.md). A key is where a
 * referral stores a field's answer, so an admin names fields in words and the key follows:
 * a field whose key is left blank gets one made from its label, unique in the form. Once a
 * version is published its keys are fixed: the editor sends them as they are. Browser-safe:
 * the editor shows the key it will get, and the schema fills the same keys on the server.
 */

const KEY_MAX = 50
const FALLBACK = 'field'

/** "Date of first visit" -> "date_of_first_visit"; accents dropped, never an invalid key. */
export function keyFromLabel(label: string) {
  const words = label
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  // A key starts with a letter and has at least two characters.
  const key = /^[a-z][a-z0-9_]/.test(words) ? words : words ? `${FALLBACK}_${words}` : FALLBACK
  return trimKey(key, KEY_MAX)
}

const trimKey = (key: string, max: number) => key.slice(0, max).replace(/_+$/, '')

/** The first of `base`, `base_2`, `base_3`… that nothing has taken. */
function uniqueKey(base: string, taken: Set<string>) {
  if (!taken.has(base)) return base
  for (let n = 2; ; n++) {
    const suffix = `_${n}`
    const key = `${trimKey(base, KEY_MAX - suffix.length)}${suffix}`
    if (!taken.has(key)) return key
  }
}

type Loose = Record<string, unknown>
const isRecord = (value: unknown): value is Loose => typeof value === 'object' && value !== null && !Array.isArray(value)
const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '')
const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])

/**
 * The key every field of an editor value ends up with, in form order: the one typed, or one
 * made from the label that no typed key and no earlier field uses. Reads anything (a posted
 * form, a half-typed one): what is not a field gets no key.
 */
export function keysOf(value: unknown): string[][] {
  const sections = isRecord(value) ? listOf(value.sections) : []
  const fieldsOf = (section: unknown) => (isRecord(section) ? listOf(section.fields) : [])
  const taken = new Set<string>()
  for (const section of sections) for (const field of fieldsOf(section)) if (isRecord(field) && text(field.key)) taken.add(text(field.key))
  return sections.map((section) =>
    fieldsOf(section).map((field) => {
      if (!isRecord(field)) return ''
      if (text(field.key)) return text(field.key)
      const key = uniqueKey(keyFromLabel(text(field.label)), taken)
      taken.add(key)
      return key
    }),
  )
}

/** The editor value with every blank key filled (the schema's first step); anything else as it came. */
export function withKeysFromLabels(value: unknown): unknown {
  if (!isRecord(value) || !Array.isArray(value.sections)) return value
  const keys = keysOf(value)
  return {
    ...value,
    sections: value.sections.map((section: unknown, s) =>
      isRecord(section) && Array.isArray(section.fields)
        ? { ...section, fields: section.fields.map((field: unknown, f) => (isRecord(field) && !text(field.key) ? { ...field, key: keys[s]![f] } : field)) }
        : section,
    ),
  }
}
