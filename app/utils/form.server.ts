/**
 * The one way a page action reads a form with conform. conform builds its value from the
 * field names, so `name[100000000]=x` (23 bytes) becomes a list of 100 million slots, echoed
 * back by submission.reply() and rendered by the page. Before conform sees anything, every
 * name is checked against what the form's schema can hold (form-shape.ts): unknown names,
 * indexes beyond a list's `.max()`, a name sent twice, files, forged list intents and more
 * list items than the form holds are refused with a form error (400). Text with U+0000,
 * which PostgreSQL cannot store, is a field error. The reply never echoes more than the form
 * can hold.
 */
import { parse, type Submission, type SubmissionResult } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import type { z } from 'zod'
import { fieldPath, formShape, type FormShape } from './form-shape'
import { hasNul, NUL_MESSAGE } from './form-values'

export type FormGuardOptions = {
  /** Names the form posts besides its schema's fields (a submit button's `intent`, a hidden version). */
  also?: readonly string[]
  /** The form's buttons send conform list intents (insert, remove, reorder) so it works without JavaScript. */
  listIntents?: boolean
  /** At most this many items in all of the form's lists together (each list's own `.max()` always applies). */
  maxItems?: number
}

export type FormSubmission<S extends z.ZodType> = Submission<z.input<S>, string[], z.output<S>>

/** Refusals a person can act on; they never repeat what was sent. */
export const FORM_REFUSED = {
  unknown: 'This form was sent with fields it does not have. Reload the page and try again.',
  tooMany: 'This form was sent with more entries than it can hold. Reload the page and try again.',
  twice: 'A field of this form was sent more than once. Reload the page and try again.',
  file: 'This form does not take files.',
  intent: 'This form was sent with a button it does not have. Reload the page and try again.',
} as const

const INTENT = '__intent__'
const ALSO_MAX_LENGTH = 200
const LIST_INTENTS = ['insert', 'remove', 'reorder'] as const

const shapes = new WeakMap<z.ZodType, FormShape>()
function shapeOf(schema: z.ZodType) {
  let shape = shapes.get(schema)
  if (!shape) shapes.set(schema, (shape = formShape(schema)))
  return shape
}

class Refusal extends Error {}
const refuse = (reason: keyof typeof FORM_REFUSED): never => {
  throw new Refusal(FORM_REFUSED[reason])
}

/** Items per list, keyed by the list's own path: `sections`, `sections[3].fields`. */
type ListLengths = Map<string, number>

/** Follows a name's path through the shape; the shape it names, or a refusal. */
function follow(shape: FormShape, path: (string | number)[], lengths: ListLengths) {
  let node = shape
  let at = ''
  for (const segment of path) {
    if (typeof segment === 'string') {
      if (node.kind !== 'object' || !node.keys.has(segment)) return refuse('unknown')
      node = node.keys.get(segment)!
      at = at ? `${at}.${segment}` : segment
    } else {
      if (node.kind !== 'list') return refuse('unknown')
      if (segment >= node.max) return refuse('tooMany')
      lengths.set(at, Math.max(lengths.get(at) ?? 0, segment + 1))
      node = node.item
      at = `${at}[${segment}]`
    }
  }
  return { node, at }
}

/** A value carried inside a list intent (an inserted item): it must fit the item's shape. */
function fits(value: unknown, shape: FormShape): number {
  if (value === undefined || value === null) return 0
  if (shape.kind === 'value') {
    if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return 0
    if (typeof value === 'string' && value.length <= shape.maxLength && !hasNul(value)) return 0
    return refuse('intent')
  }
  if (shape.kind === 'list') {
    if (!Array.isArray(value) || value.length > shape.max) return refuse('intent')
    return value.reduce((items: number, item) => items + fits(item, shape.item), value.length)
  }
  if (typeof value !== 'object' || Array.isArray(value)) return refuse('intent')
  let items = 0
  for (const [key, inner] of Object.entries(value)) {
    if (!shape.keys.has(key)) return refuse('intent')
    items += fits(inner, shape.keys.get(key)!)
  }
  return items
}

const isIndex = (value: unknown, max: number) => value === undefined || (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= max)

/** conform's list intent, as its buttons serialise it; the number of items it adds. */
function checkIntent(serialized: string, shape: FormShape, lengths: ListLengths) {
  let intent: { type?: unknown; payload?: Record<string, unknown> }
  try {
    intent = JSON.parse(serialized) as typeof intent
  } catch {
    return refuse('intent')
  }
  const payload = intent?.payload
  if (typeof payload !== 'object' || payload === null || !LIST_INTENTS.includes(intent.type as never)) return refuse('intent')
  const path = typeof payload.name === 'string' ? fieldPath(payload.name) : null
  if (!path) return refuse('intent')
  const { node } = follow(shape, path, lengths)
  if (node.kind !== 'list') return refuse('intent')
  const { index, from, to } = payload
  if (![index, from, to].every((n) => isIndex(n, node.max))) return refuse('intent')
  if (intent.type === 'remove' && index === undefined) return refuse('intent')
  if (intent.type === 'reorder' && (from === undefined || to === undefined)) return refuse('intent')
  return intent.type === 'insert' ? 1 + fits(payload.defaultValue, node.item) : 0
}

/** Checks every name before conform reads them; the fields whose text holds U+0000. */
function inspect(formData: FormData, shape: FormShape, options: FormGuardOptions) {
  const seen = new Set<string>()
  const lengths: ListLengths = new Map()
  const nul: string[] = []
  let added = 0
  for (const [name, value] of formData) {
    if (typeof value !== 'string') refuse('file')
    const text = value as string
    if (seen.has(name)) refuse('twice')
    seen.add(name)
    if (options.also?.includes(name)) {
      if (text.length > ALSO_MAX_LENGTH) refuse('unknown')
      continue
    }
    if (name === INTENT) {
      if (!options.listIntents) refuse('intent')
      added += checkIntent(text, shape, lengths)
      continue
    }
    const path = fieldPath(name)
    if (!path) refuse('unknown')
    const { node } = follow(shape, path!, lengths)
    if (node.kind !== 'value') refuse('unknown')
    if (hasNul(text)) nul.push(name)
  }
  const items = [...lengths.values()].reduce((sum, n) => sum + n, added)
  if (options.maxItems !== undefined && items > options.maxItems) refuse('tooMany')
  return nul
}

/** What goes back to the browser: only what the form can hold, at most as long as it allows. */
function bound(value: unknown, shape: FormShape): unknown {
  if (value === undefined || value === null) return undefined
  if (shape.kind === 'value') {
    if (typeof value === 'string') return value.replaceAll('\u0000', '').slice(0, shape.maxLength)
    return typeof value === 'boolean' || typeof value === 'number' ? value : undefined
  }
  if (shape.kind === 'list') return Array.isArray(value) ? value.slice(0, shape.max).map((item) => bound(item, shape.item) ?? null) : undefined
  if (typeof value !== 'object' || Array.isArray(value)) return undefined
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) {
    const kept = shape.keys.has(key) ? bound(inner, shape.keys.get(key)!) : undefined
    if (kept !== undefined) out[key] = kept
  }
  return out
}

function bounded<S extends z.ZodType>(submission: FormSubmission<S>, shape: FormShape): FormSubmission<S> {
  const boundedReply = (options?: Parameters<typeof submission.reply>[0]): SubmissionResult<string[]> => {
    const result = submission.reply(options)
    return result.initialValue ? { ...result, initialValue: bound(result.initialValue, shape) as typeof result.initialValue } : result
  }
  return { ...submission, reply: boundedReply }
}

/** A submission that is nothing but a form error: nothing of what was sent is kept or echoed. */
export function refusedSubmission<S extends z.ZodType>(message: string): FormSubmission<S> {
  return parse(new FormData(), { resolve: () => ({ error: { '': [message] } }) }) as unknown as FormSubmission<S>
}

/**
 * conform's parseWithZod, behind the guard. Use it for every form a page action reads:
 * `const submission = parseForm(await request.formData(), Schema)`, then as with conform.
 * A refused form has status 'error' and a form error (answer it 400).
 */
export function parseForm<S extends z.ZodType>(formData: FormData, schema: S, options: FormGuardOptions = {}): FormSubmission<S> {
  const shape = shapeOf(schema)
  let nul: string[]
  try {
    nul = inspect(formData, shape, options)
  } catch (error) {
    if (error instanceof Refusal) return refusedSubmission<S>(error.message)
    throw error
  }
  const submission = parseWithZod(formData, { schema }) as FormSubmission<S>
  if (!nul.length) return bounded(submission, shape)
  // Stored text cannot hold U+0000: the field says so, whatever else the schema found.
  const error: Record<string, string[] | null> = { ...(submission.status === 'success' ? {} : submission.error) }
  for (const name of nul) error[name] = [...(error[name] ?? []), `This field ${NUL_MESSAGE}`]
  const refused = parse(formData, { resolve: () => ({ error }) }) as unknown as FormSubmission<S>
  return bounded(refused, shape)
}
