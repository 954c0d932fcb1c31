/** Browser-safe: the default endpoint and the rule for a valid one. */
export const DEFAULT_AI_ENDPOINT = 'http://localhost:1234/v1'

/** An http(s) URL without credentials, query or fragment; null if it is anything else. */
export function normalizeEndpoint(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 200) return null
  try {
    const url = new URL(value.trim())
    if (!['http:', 'https:'].includes(url.protocol) || url.username || url.password || url.search || url.hash) return null
    const endpoint = `${url.origin}${url.pathname.replace(/\/+$/, '')}`
    // Still at most 200 once normalised (an international host grows as punycode): the column's bound.
    return endpoint.length <= 200 ? endpoint : null
  } catch {
    return null
  }
}
