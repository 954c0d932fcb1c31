/**
 * A statement's bound values written into its text as literals, so that it can share one
 * simple-protocol message with `begin` (tenant.server.ts; decision 029).
 *
 * A literal means what the bound value meant: node-postgres sends every value as text with no
 * declared type, and PostgreSQL resolves an untyped parameter exactly as it resolves an untyped
 * quoted literal, from its context. Strings are escaped by the driver's own escapeLiteral. Only
 * values with one obvious text form are written out: strings, finite numbers, booleans, bigints,
 * valid dates and null; for anything else (arrays, objects, bytes, a string holding a NUL, which
 * the protocol cannot carry in a statement's text) this returns null, and the caller sends the
 * statement with bound parameters as before.
 *
 * `$n` is replaced only where it is a placeholder: not inside quoted strings, quoted
 * identifiers, dollar-quoted bodies or comments.
 */
export function inlineParameters(text: string, values: readonly unknown[], escapeLiteral: (value: string) => string): string | null {
  const template = templateOf(text)
  if (!template) return null
  const literals: string[] = []
  for (const value of values) {
    const literal = literalOf(value, escapeLiteral)
    if (literal === null) return null
    literals.push(literal)
  }
  let out = template.parts[0]!
  for (let k = 0; k < template.slots.length; k++) {
    const index = template.slots[k]!
    if (!(index >= 0 && index < literals.length)) return null
    out += literals[index]! + template.parts[k + 1]!
  }
  return out
}

/**
 * A statement's text cut at its placeholders: the text between them, and which value goes in each.
 * Kept per isolate by text: a page sends the same few statement shapes on every request, and
 * scanning a long text character by character cost more than the page's own row mapping.
 * Bounded, since a text is data the isolate did not choose; null for a text that cannot be cut
 * (an unterminated quote, comment or dollar-quoted body).
 */
type Template = { parts: string[]; slots: number[] }
const templates = new Map<string, Template | null>()
const TEMPLATES_KEPT = 512

function templateOf(text: string): Template | null {
  const kept = templates.get(text)
  if (kept !== undefined) return kept
  const template = cut(text)
  if (templates.size >= TEMPLATES_KEPT) templates.clear()
  templates.set(text, template)
  return template
}

/** The characters where a quoted string, a comment, a placeholder or a dollar-quoted body may begin. */
const SPECIAL = /['"$/-]/g

function cut(text: string): Template | null {
  const parts: string[] = []
  const slots: number[] = []
  let part = ''
  let i = 0
  const n = text.length
  while (i < n) {
    SPECIAL.lastIndex = i
    const found = SPECIAL.exec(text)
    if (!found) {
      part += text.slice(i)
      break
    }
    part += text.slice(i, found.index)
    i = found.index
    const c = text[i]!
    const next = text[i + 1]
    if (c === "'" || c === '"') {
      // A quoted string or identifier ('' and "" are the quote itself); E'…' strings also escape with a backslash.
      const escapes = c === "'" && /[eE]/.test(text[i - 1] ?? '') && !/[\w$]/.test(text[i - 2] ?? '')
      let j = i + 1
      for (; j < n; j++) {
        if (escapes && text[j] === '\\') j++
        else if (text[j] === c) {
          if (text[j + 1] === c) j++
          else break
        }
      }
      if (j >= n) return null
      part += text.slice(i, j + 1)
      i = j + 1
    } else if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i)
      const j = end < 0 ? n : end
      part += text.slice(i, j)
      i = j
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2)
      if (end < 0) return null
      part += text.slice(i, end + 2)
      i = end + 2
    } else if (c === '$') {
      const placeholder = /^\$(\d+)/.exec(text.slice(i, i + 12))
      const tag = placeholder ? null : /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 66))
      if (placeholder && !/[\w$]/.test(text[i - 1] ?? '')) {
        parts.push(part)
        part = ''
        slots.push(Number(placeholder[1]) - 1)
        i += placeholder[0].length
      } else if (tag && !/[\w$]/.test(text[i - 1] ?? '')) {
        const end = text.indexOf(tag[0], i + tag[0].length)
        if (end < 0) return null
        part += text.slice(i, end + tag[0].length)
        i = end + tag[0].length
      } else {
        part += c
        i++
      }
    } else {
      part += c
      i++
    }
  }
  parts.push(part)
  return { parts, slots }
}

function literalOf(value: unknown, escapeLiteral: (value: string) => string): string | null {
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'string') return value.includes('\0') ? null : escapeLiteral(value)
  if (typeof value === 'number') return Number.isFinite(value) ? `'${String(value)}'` : null
  if (typeof value === 'bigint') return `'${value.toString()}'`
  if (typeof value === 'boolean') return value ? "'true'" : "'false'"
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : `'${value.toISOString()}'`
  return null
}
