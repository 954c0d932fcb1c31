/** Throws a Response when the condition fails: `invariantResponse(found, 'Not found', { status: 404 })`. */
export function invariantResponse(condition: unknown, message: string, init?: ResponseInit): asserts condition {
  if (!condition) throw new Response(message, { status: 400, ...init, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...init?.headers } })
}

/**
 * A redirect target from user input, kept on this site: a path, never "//host" or a URL.
 * Anything else falls back, so ?redirectTo= cannot send anyone elsewhere.
 */
export function safeRedirect(to: FormDataEntryValue | string | null | undefined, fallback = '/') {
  if (typeof to !== 'string' || !to.startsWith('/') || to.startsWith('//') || to.startsWith('/\\')) return fallback
  return to
}
