/** Throws a Response when the condition fails: `invariantResponse(found, 'Not found', { status: 404 })`. */
export function invariantResponse(condition: unknown, message: string, init?: ResponseInit): asserts condition {
  if (!condition) throw new Response(message, { status: 400, ...init, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...init?.headers } })
}

/** Any origin does: only whether a target stays on it matters. `.invalid` can never resolve. */
const HERE = 'https://intakepilot.invalid'
/** A redirect target longer than this is not a page of ours (and would make a huge Location header). */
const MAX_REDIRECT_LENGTH = 2048

/**
 * A redirect target from user input, kept on this site. The value is parsed the way a browser
 * parses a Location header (tabs and newlines dropped, `\` read as `/`), and only a path that
 * still lands on this origin is kept: `/\t/evil.example` is `//evil.example` to a browser, so it
 * falls back. What comes back is the parsed path, never the raw value, so no control character
 * reaches a header. docs/decisions/019-body-limits-and-deadlines.md
 */
export function safeRedirect(to: FormDataEntryValue | string | null | undefined, fallback = '/') {
  if (typeof to !== 'string' || !to.startsWith('/') || to.length > MAX_REDIRECT_LENGTH) return fallback
  let path: string
  try {
    const url = new URL(to, HERE)
    if (url.origin !== HERE) return fallback
    path = url.pathname + url.search + url.hash
  } catch {
    return fallback
  }
  // The parsed path must read as a path once more: `/.//evil` parses to the path `//evil`.
  if (path.startsWith('//') || new URL(path, HERE).origin !== HERE) return fallback
  return path
}
