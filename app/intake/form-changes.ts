/**
 * What an edit of the intake form changes, in the admin's words, and whether it changes
 * anything at all (docs/decisions/036-intake-form-editor.md). Browser-safe: the editor lists
 * the changes as they are typed, the server refuses a publish that changes nothing.
 */
import type { FieldFormat, FieldType, IntakeField, IntakeFormDefinition } from '~/db/schema'
import { FIELD_TYPE_LABELS, splitOptions } from './definition-schema'
import { FIELD_FORMAT_KEYS } from './field-formats'
import { keysOf } from './form-keys'
import { sha256Hex } from '~/crypto/hash'

type Loose = Record<string, unknown>
const isRecord = (value: unknown): value is Loose => typeof value === 'object' && value !== null && !Array.isArray(value)
const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '')
const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])
const checked = (value: unknown) => value === true || value === 'on'

/**
 * The form an editor value describes, however half-typed: what the preview shows and the
 * summary compares. The same steps as toDefinition, without refusing anything; publishing
 * still goes through the schema.
 */
export function draftDefinition(value: unknown): IntakeFormDefinition {
  const keys = keysOf(value)
  const sections = isRecord(value) ? listOf(value.sections) : []
  return {
    sections: sections.map((section, s) => ({
      title: isRecord(section) ? text(section.title) : '',
      fields: (isRecord(section) ? listOf(section.fields) : []).map((raw, f) => {
        const field = isRecord(raw) ? raw : {}
        const type = (Object.hasOwn(FIELD_TYPE_LABELS, text(field.type)) ? text(field.type) : 'text') as FieldType
        const draft: IntakeField = { key: keys[s]![f]!, label: text(field.label), type, required: checked(field.required), phi: checked(field.phi) }
        if (text(field.help)) draft.help = text(field.help)
        const format = text(field.format)
        if (type === 'text' && (FIELD_FORMAT_KEYS as readonly string[]).includes(format)) draft.format = format as FieldFormat
        if (type === 'select') draft.options = splitOptions(typeof field.options === 'string' ? field.options : '')
        return draft
      }),
    })),
  }
}

/** JSON with object keys sorted: two definitions that say the same thing read the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (isRecord(value)) {
    const entries = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value)
}

/** True when publishing `next` over `published` would change nothing a referrer or a referral sees. */
export const sameDefinition = (published: IntakeFormDefinition, next: IntakeFormDefinition) => canonical(published) === canonical(next)

/**
 * What an admin confirmed, without JavaScript, before publishing (decision 054): a digest the
 * confirmation carries back, so that an edit made after the review is reviewed too.
 */
export const definitionDigest = (definition: IntakeFormDefinition) => sha256Hex(canonical(definition))

type Placed = { field: IntakeField; section: number }
const quoted = (s: string) => `“${s || 'Untitled'}”`

/** Sections matched by title, else by position when both ends lost their title: before index -> after index. */
function matchSections(before: IntakeFormDefinition, after: IntakeFormDefinition) {
  const matched = new Map<number, number>()
  const used = new Set<number>()
  before.sections.forEach((section, b) => {
    const a = after.sections.findIndex((other, i) => !used.has(i) && other.title === section.title)
    if (a >= 0) {
      matched.set(b, a)
      used.add(a)
    }
  })
  before.sections.forEach((_, b) => {
    if (!matched.has(b) && b < after.sections.length && !used.has(b)) {
      matched.set(b, b)
      used.add(b)
    }
  })
  return { matched, used }
}

function placed(definition: IntakeFormDefinition) {
  const fields = new Map<string, Placed>()
  definition.sections.forEach((section, s) => section.fields.forEach((field) => fields.has(field.key) || fields.set(field.key, { field, section: s })))
  return fields
}

function fieldChanges(name: string, was: IntakeField, now: IntakeField) {
  const changes: string[] = []
  if (was.type !== now.type) changes.push(`${name}: type ${FIELD_TYPE_LABELS[was.type]} → ${FIELD_TYPE_LABELS[now.type]}`)
  if (was.required !== now.required) changes.push(`${name} is now ${now.required ? 'required' : 'optional'}`)
  if (was.phi !== now.phi) changes.push(now.phi ? `${name} is now PHI (encrypted)` : `${name} is no longer PHI (stored unencrypted)`)
  if ((was.format ?? '') !== (now.format ?? '')) changes.push(`${name}: format ${!was.format ? 'added' : !now.format ? 'removed' : 'changed'}`)
  if ((was.help ?? '') !== (now.help ?? '')) changes.push(`${name}: help text ${!was.help ? 'added' : !now.help ? 'removed' : 'changed'}`)
  const [old, fresh] = [was.options ?? [], now.options ?? []]
  if (now.type === 'select' && was.type === 'select' && old.join('\n') !== fresh.join('\n')) {
    const added = fresh.filter((o) => !old.includes(o))
    const removed = old.filter((o) => !fresh.includes(o))
    const parts = [added.length ? `added ${added.map(quoted).join(', ')}` : '', removed.length ? `removed ${removed.map(quoted).join(', ')}` : '']
    changes.push(`${name}: options ${parts.filter(Boolean).join('; ') || 'reordered'}`)
  }
  return changes
}

/** Each thing an edit changes, one sentence each, in form order; empty when nothing changed. */
export function formChanges(before: IntakeFormDefinition, after: IntakeFormDefinition): string[] {
  const changes: string[] = []
  const { matched, used } = matchSections(before, after)
  const sectionName = (s: number) => quoted(after.sections[s]!.title)

  before.sections.forEach((section, b) => {
    const a = matched.get(b)
    if (a === undefined) changes.push(`Section ${quoted(section.title)} removed`)
    else if (after.sections[a]!.title !== section.title) changes.push(`Section ${quoted(section.title)} renamed ${quoted(after.sections[a]!.title)}`)
  })
  after.sections.forEach((section, a) => used.has(a) || changes.push(`Section ${quoted(section.title)} added`))
  const kept = [...matched.entries()].sort(([x], [y]) => x - y).map(([, a]) => a)
  if (kept.some((a, i) => i > 0 && a < kept[i - 1]!)) changes.push('Sections reordered')

  const was = placed(before)
  const now = placed(after)
  for (const [key, { field, section }] of was) {
    if (!now.has(key)) changes.push(`${quoted(field.label)} removed from ${quoted(before.sections[section]!.title)}`)
  }
  for (const [key, { field, section }] of now) {
    const old = was.get(key)
    if (!old) {
      changes.push(`${quoted(field.label)} added to ${sectionName(section)}`)
      continue
    }
    const name = quoted(field.label)
    if (old.field.label !== field.label) changes.push(`${quoted(old.field.label)} relabelled ${name}`)
    if (matched.get(old.section) !== section) changes.push(`${name} moved to ${sectionName(section)}`)
    changes.push(...fieldChanges(name, old.field, field))
  }
  // Within a section, the fields it had before and still has: in the same order?
  after.sections.forEach((section, a) => {
    const b = [...matched.entries()].find(([, to]) => to === a)?.[0]
    if (b === undefined) return
    const order = (keys: string[], other: Set<string>) => keys.filter((k) => other.has(k))
    const beforeKeys = before.sections[b]!.fields.map((f) => f.key)
    const afterKeys = section.fields.map((f) => f.key)
    const common = order(beforeKeys, new Set(afterKeys))
    if (common.join('\n') !== order(afterKeys, new Set(common)).join('\n')) changes.push(`Fields reordered in ${sectionName(a)}`)
  })
  // Anything else a definition holds that the sentences above do not cover.
  if (!changes.length && !sameDefinition(before, after)) changes.push('Other changes to the form')
  return changes
}
