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
  const literals: string[] = []
  for (const value of values) {
    const literal = literalOf(value, escapeLiteral)
    if (literal === null) return null
    literals.push(literal)
  }
  let out = ''
  let i = 0
  const n = text.length
  while (i < n) {
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
      out += text.slice(i, j + 1)
      i = j + 1
    } else if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i)
      const j = end < 0 ? n : end
      out += text.slice(i, j)
      i = j
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2)
      if (end < 0) return null
      out += text.slice(i, end + 2)
      i = end + 2
    } else if (c === '$') {
      const placeholder = /^\$(\d+)/.exec(text.slice(i, i + 12))
      const tag = placeholder ? null : /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 66))
      if (placeholder && !/[\w$]/.test(text[i - 1] ?? '')) {
        const index = Number(placeholder[1]) - 1
        if (!(index >= 0 && index < literals.length)) return null
        out += literals[index]
        i += placeholder[0].length
      } else if (tag && !/[\w$]/.test(text[i - 1] ?? '')) {
        const end = text.indexOf(tag[0], i + tag[0].length)
        if (end < 0) return null
        out += text.slice(i, end + tag[0].length)
        i = end + tag[0].length
      } else {
        out += c
        i++
      }
    } else {
      out += c
      i++
    }
  }
  return out
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
