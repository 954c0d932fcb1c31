/**
 * The exact rate limit (issue 6 §4, docs/decisions/011-rate-limits-in-postgres.md):
 * 100 requests a minute per signed-in user, pages and API together, and per IP on the
 * sign-in routes. Counted in PostgreSQL by rate_limit_hit (drizzle/0007), atomically.
 */
import { sql } from 'drizzle-orm'
import type { TenantDatabase } from '~/tenancy/tenant.server'

export const USER_LIMIT_PER_MINUTE = 100
// Generous: a clinic behind one NAT address signs many people in at the start of a shift.
export const SIGN_IN_LIMIT_PER_MINUTE = 300

/** Where a browser signs in: hit before anyone is known, so limited per client address. */
const SIGN_IN_PATHS = new Set(['/login', '/auth/microsoft', '/auth/callback'])

export type RateLimitVerdict = { allowed: boolean; limit: number; remaining: number; resetSeconds: number }

/** The key and limit for this request, or null for requests nobody is counted for. */
export function rateLimitKey(request: Request, userId: string | null): { key: string; limit: number } | null {
  if (userId) return { key: `user:${userId}`, limit: USER_LIMIT_PER_MINUTE }
  const pathname = new URL(request.url).pathname.replace(/\.data$/, '')
  if (!SIGN_IN_PATHS.has(pathname)) return null
  const ip = request.headers.get('CF-Connecting-IP') ?? 'unknown'
  return { key: `ip:${ip}`, limit: SIGN_IN_LIMIT_PER_MINUTE }
}

export async function hitRateLimit(db: TenantDatabase, key: string, limit: number): Promise<RateLimitVerdict> {
  const result = await db.tenant((tx) =>
    tx.execute<{ allowed: boolean; remaining: number; reset_seconds: number }>(sql`select * from rate_limit_hit(${key}, ${limit})`),
  )
  const row = result.rows[0]!
  return { allowed: row.allowed, limit, remaining: Number(row.remaining), resetSeconds: Number(row.reset_seconds) }
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
