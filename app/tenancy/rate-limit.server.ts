/**
 * The exact rate limit (docs/decisions/011-rate-limits-in-postgres.md):
 * 100 requests a minute per signed-in user, pages and API together, and per IP on the
 * sign-in routes. Counted in PostgreSQL by rate_limit_hit (drizzle/0007), atomically, inside
 * the request's first round trip (request_start, drizzle/0012; see request-start.server.ts).
 */

export const RATE_LIMITS = {
  user: 100,
  // Generous: a clinic behind one NAT address signs many people in at the start of a shift.
  signIn: 300,
} as const

/** Where a browser signs in: hit before anyone is known, so limited per client address. */
const SIGN_IN_PATHS = new Set(['/login', '/auth/microsoft', '/auth/callback'])

export type RateLimitVerdict = { allowed: boolean; limit: number; remaining: number; resetSeconds: number }

/** The key an anonymous request is counted under: its client address on a sign-in route, else none. */
export function anonymousRateLimitKey(request: Request): string | null {
  const pathname = new URL(request.url).pathname.replace(/\.data$/, '')
  if (!SIGN_IN_PATHS.has(pathname)) return null
  return `ip:${request.headers.get('CF-Connecting-IP') ?? 'unknown'}`
}

/** IETF draft RateLimit headers (and Retry-After on a refusal). */
export function rateLimitHeaders(verdict: RateLimitVerdict): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(verdict.limit),
    'RateLimit-Remaining': String(verdict.remaining),
    'RateLimit-Reset': String(verdict.resetSeconds),
  }
  if (!verdict.allowed) headers['Retry-After'] = String(verdict.resetSeconds)
  return headers
}
