/**
 * Who is asking: resolved once per request by the pipeline, before any loader runs
 * (parallel loaders must never refresh tokens: they would race and overwrite cookies).
 *
 * session cookie -> (access token expired? refresh once at the provider, rotate) ->
 * the user row, read fresh every request, so a disabled user is out on their next click.
 */
import { eq, sql } from 'drizzle-orm'
import { sha256Hex } from '~/crypto/hash'
import { users, type UserRole } from '~/db/schema'
import type { Env } from '~/server/env.server'
import type { TenantDatabase, TenantScope } from '~/tenancy/tenant.server'
import { NO_SCOPE } from '~/tenancy/tenant.server'
import { createEntraStrategy } from './oidc.server'
import { openJson, openSession, readCookie, sealJson, sealSession, sessionCookieName, sessionSetCookie, type SessionData } from './session.server'

export type SessionUser = {
  id: string
  email: string
  displayName: string
  role: UserRole
  /** The clinic this request works in: the user's own, or the one a superadmin switched to. */
  clinicId: string | null
}

export type Identity = {
  user: SessionUser | null
  scope: TenantScope
  /** A Set-Cookie the pipeline adds to the response (refreshed or ended session). */
  setCookie: string | null
  /** Why a session that came in was ended, for the sign-in page. */
  endedBecause: 'expired' | 'disabled' | null
  /** The session as it stands after any refresh (routes that rewrite the cookie start here). */
  session: SessionData | null
}

const ANONYMOUS: Identity = { user: null, scope: NO_SCOPE, setCookie: null, endedBecause: null, session: null }
/** Refresh a little early so a token never expires mid-request. */
const REFRESH_MARGIN_SECONDS = 5

export async function resolveIdentity(request: Request, env: Env, db: TenantDatabase): Promise<Identity> {
  const raw = readCookie(request, sessionCookieName(env))
  if (!raw) return ANONYMOUS
  let session = await openSession(env, raw)
  if (!session) return { ...ANONYMOUS, setCookie: sessionSetCookie(env, null), endedBecause: 'expired' }

  let setCookie: string | null = null
  if (session.at - REFRESH_MARGIN_SECONDS <= Math.floor(Date.now() / 1000)) {
    const refreshed = await refreshSession(env, request, session, db)
    if (!refreshed) return { ...ANONYMOUS, setCookie: sessionSetCookie(env, null), endedBecause: 'expired' }
    session = refreshed
    setCookie = sessionSetCookie(env, await sealSession(env, session))
  }

  const row = await db
    .withScope({ clinicId: null, userId: session.uid, role: null })
    .tenant((tx) =>
      tx
        .select({ id: users.id, email: users.email, displayName: users.displayName, role: users.role, status: users.status, clinicId: users.clinicId })
        .from(users)
        .where(eq(users.id, session.uid))
        .limit(1),
    )
    .then((rows) => rows[0])
  if (!row || row.status !== 'active') {
    return { ...ANONYMOUS, setCookie: sessionSetCookie(env, null), endedBecause: 'disabled' }
  }
  const clinicId = row.role === 'superadmin' ? session.cid : row.clinicId
  const user: SessionUser = { id: row.id, email: row.email, displayName: row.displayName, role: row.role, clinicId }
  return { user, scope: { clinicId, userId: row.id, role: row.role }, setCookie, endedBecause: null, session }
}

/**
 * One refresh-token grant at the provider; the rotated refresh token replaces the old one.
 * Each refresh token is used once, whatever the number of requests that carry it: the first
 * refreshes under a database lock and leaves the (sealed) result for the others, so parallel
 * requests, or a request whose new cookie was lost, do not look like token theft to the provider.
 */
async function refreshSession(env: Env, request: Request, session: SessionData, db: TenantDatabase): Promise<SessionData | null> {
  const tokenHash = await sha256Hex(session.rt)
  return db.tenant(async (tx) => {
    const claimed = await tx.execute<{ sealed: string | null }>(sql`select session_refresh_claim(${tokenHash}) as sealed`)
    const earlier = claimed.rows[0]?.sealed
    if (earlier) {
      const result = await openJson<{ rt: string; at: number }>(env, 'refresh', earlier)
      return result ? { ...session, ...result } : null
    }
    try {
      const strategy = await createEntraStrategy(env, request, async () => null)
      const tokens = await strategy.refreshToken(session.rt)
      const result = {
        rt: tokens.hasRefreshToken() ? tokens.refreshToken() : session.rt,
        at: Math.floor(Date.now() / 1000) + tokens.accessTokenExpiresInSeconds(),
      }
      await tx.execute(sql`select session_refresh_store(${tokenHash}, ${await sealJson(env, 'refresh', result)})`)
      return { ...session, ...result }
    } catch {
      // Revoked, rotated away, or the account is gone at the provider: the session ends.
      return null
    }
  })
}

