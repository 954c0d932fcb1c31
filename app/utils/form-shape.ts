/**
 * What a form can hold, read from its zod schema: the field names it knows, how many items
 * each list takes, and how long each value may be. The form guard (form.server.ts) checks a
 * posted form against it before conform builds anything from the field names, because conform
 * takes `name[N]` at its word and makes a list of N slots.
 */
import type { z } from 'zod'

export type FormShape = { kind: 'value'; maxLength: number } | { kind: 'object'; keys: Map<string, FormShape> } | { kind: 'list'; item: FormShape; max: number }

/** A value whose schema names no maximum: echoed back at most this long. */
const DEFAULT_VALUE_LENGTH = 10_000
/** Numbers, enums, booleans, dates: nothing a form holds is longer. */
const SHORT_VALUE_LENGTH = 320

type Def = { type: string; [key: string]: unknown }
const defOf = (schema: unknown) => (schema as { _zod: { def: Def } })._zod.def

function maximumOf(def: Def): number | undefined {
  let max: number | undefined
  for (const check of (def.checks as { _zod: { def: { check: string; maximum?: number; length?: number } } }[] | undefined) ?? []) {
    const c = check._zod.def
    const bound = c.check === 'max_length' ? c.maximum : c.check === 'length_equals' ? c.length : undefined
    if (bound !== undefined) max = Math.min(max ?? bound, bound)
  }
  return max
}

function merge(a: FormShape, b: FormShape): FormShape {
  if (a.kind === 'object' && b.kind === 'object') {
    const keys = new Map(a.keys)
    for (const [key, shape] of b.keys) keys.set(key, keys.has(key) ? merge(keys.get(key)!, shape) : shape)
    return { kind: 'object', keys }
  }
  if (a.kind === 'list' && b.kind === 'list') return { kind: 'list', item: merge(a.item, b.item), max: Math.max(a.max, b.max) }
  if (a.kind === 'value' && b.kind === 'value') return { kind: 'value', maxLength: Math.max(a.maxLength, b.maxLength) }
  // A union of an object and a plain value: only the object's fields can be named in a form.
  return a.kind === 'value' ? b : a
}

/**
 * The shape of a schema made of objects, lists and values (with the usual wrappers:
 * optional, default, preprocess, transform, unions). A list must state its `.max()`: a form
 * with an unbounded list is a mistake this refuses to paper over.
 */
export function formShape(schema: z.ZodType, path = 'form'): FormShape {
  const def = defOf(schema)
  switch (def.type) {
    case 'object': {
      const keys = new Map<string, FormShape>()
      for (const [key, value] of Object.entries(def.shape as Record<string, z.ZodType>)) keys.set(key, formShape(value, `${path}.${key}`))
      return { kind: 'object', keys }
    }
    case 'array': {
      const max = maximumOf(def)
      if (max === undefined) throw new Error(`${path}: a list in a form needs a .max()`)
      return { kind: 'list', item: formShape(def.element as z.ZodType, `${path}[]`), max }
    }
    case 'tuple':
      return { kind: 'list', item: (def.items as z.ZodType[]).map((item) => formShape(item, `${path}[]`)).reduce(merge), max: (def.items as unknown[]).length }
    case 'optional':
    case 'nullable':
    case 'nonoptional':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'success':
      return formShape(def.innerType as z.ZodType, path)
    case 'lazy':
      return formShape((def.getter as () => z.ZodType)(), path)
    case 'pipe': {
      // preprocess(fn, schema) is a pipe from a transform: the schema after it names the fields.
      const from = def.in as z.ZodType
      return formShape(defOf(from).type === 'transform' ? (def.out as z.ZodType) : from, path)
    }
    case 'union':
      return (def.options as z.ZodType[]).map((option) => formShape(option, path)).reduce(merge)
    case 'intersection':
      return merge(formShape(def.left as z.ZodType, path), formShape(def.right as z.ZodType, path))
    case 'string':
      return { kind: 'value', maxLength: Math.min(maximumOf(def) ?? DEFAULT_VALUE_LENGTH, DEFAULT_VALUE_LENGTH) }
    case 'record':
    case 'map':
    case 'set':
      throw new Error(`${path}: a form cannot hold a ${def.type} (its field names would be anyone's)`)
    default:
      return { kind: 'value', maxLength: SHORT_VALUE_LENGTH }
  }
}

/** `a.b[0].c` as segments, as conform reads it; null for anything conform would refuse or misread. */
export function fieldPath(name: string): (string | number)[] | null {
  const segments: (string | number)[] = []
  const token = /\.?([^.[\]]+)|\[(\d{1,9})\]/y
  let at = 0
  while (at < name.length) {
    token.lastIndex = at
    const match = token.exec(name)
    if (!match || (match[0].startsWith('.') && at === 0)) return null
    if (match[1] !== undefined) {
      if (match[1] === '__proto__' || match[1] === 'constructor' || match[1] === 'prototype') return null
      segments.push(match[1])
    } else segments.push(Number(match[2]))
    at = token.lastIndex
  }
  return segments.length ? segments : null
}
