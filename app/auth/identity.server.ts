/**
 * Who is asking: resolved once per request by the pipeline, before any loader runs
 * (parallel loaders must never refresh tokens: they would race and overwrite cookies).
 *
 * session cookie -> the session row and the user row, read fresh every request (request_start),
 * so a signed-out session or a disabled user is out on the next click -> (access token expired?
 * refresh once at the provider, rotate).
 */
import { OAuth2RequestError, type OAuth2Tokens } from 'arctic'
import { sql } from 'drizzle-orm'
import { sha256Hex } from '~/crypto/hash'
import type { ActorRole, IntegrationRole } from '~/db/schema'
import type { Env } from '~/utils/env.server'
import type { RateLimitVerdict } from '~/tenancy/rate-limit.server'
import type { RequestClinic, RequestStarter, StartedRequest } from '~/tenancy/request-start.server'
import type { TenantDatabase, TenantScope } from '~/tenancy/tenant.server'
import { NO_SCOPE } from '~/tenancy/tenant.server'
import { createEntraStrategy, SignInUnavailableError, withProviderTimeout } from './oidc.server'
import { openJson, openSession, readCookie, sealJson, sealSession, sessionCookieName, sessionSetCookie, type SessionData } from './session.server'

/**
 * Who a request acts as: a person, or an EHR integration calling with an app-only token
 * (role 'integration'; docs/decisions/058-ehr-integrations-app-only-tokens.md). An integration's
 * id is its registration's, its displayName the name the admin gave it, its email empty, and its
 * permissions come from `appRoles`, not from its role.
 */
export type SessionUser = {
  id: string
  email: string
  displayName: string
  role: ActorRole
  /** An integration's app roles (what its token's `roles` and its registration both grant); absent for a person. */
  appRoles?: IntegrationRole[]
  /** The clinic this request works in: the user's own, or the one a superadmin switched to. */
  clinicId: string | null
  /** Their own local AI server (the AI settings page), or null for the clinic's. */
  aiEndpoint: string | null
}

export type Identity = {
  user: SessionUser | null
  scope: TenantScope
  /** The clinic the request works in (name, slug, settings), read with the user. */
  clinic: RequestClinic | null
  /** This request's count against the rate limit; null when nobody is counted. */
  rateLimit: RateLimitVerdict | null
  /** A Set-Cookie the pipeline adds to the response (refreshed or ended session). */
  setCookie: string | null
  /** Why a session that came in was ended, for the sign-in page. */
  endedBecause: 'expired' | 'disabled' | null
  /** The session as it stands after any refresh (routes that rewrite the cookie start here). */
  session: SessionData | null
}

/** Nobody signed in (a sign-in route still counts against its client address's limit). */
export const anonymousIdentity = (started: Pick<StartedRequest, 'rateLimit'> & Partial<StartedRequest>, fields: Partial<Identity> = {}): Identity => ({
  user: null,
  scope: NO_SCOPE,
  clinic: null,
  rateLimit: started.rateLimit,
  setCookie: null,
  endedBecause: null,
  session: null,
  ...fields,
})

/** The identity of an active user the request started as (request_start). */
export function signedInIdentity(started: StartedRequest & { user: NonNullable<StartedRequest['user']> }, fields: Partial<Identity> = {}): Identity {
  const { user: row, clinic } = started
  const user: SessionUser = {
    id: row.id,
    email: row.email,
    displayName: row.displayName,
    role: row.role,
    clinicId: clinic?.id ?? null,
    aiEndpoint: row.aiEndpoint,
  }
  return {
    user,
    scope: { clinicId: user.clinicId, userId: row.id, role: row.role },
    clinic,
    rateLimit: started.rateLimit,
    setCookie: null,
    endedBecause: null,
    session: null,
    ...fields,
  }
}

/**
 * The identity of an EHR integration (an app-only token): an actor of its own, bound to the clinic
 * it is registered with. Row-level security sees app.role 'integration' and app.user_id its id,
 * so the audit trail names it; it may do only what both its token's roles and its registration grant.
 */
export function integrationIdentity(
  started: StartedRequest & { integration: NonNullable<StartedRequest['integration']>; clinic: RequestClinic },
  tokenRoles: readonly string[],
): Identity {
  const { integration, clinic } = started
  const user: SessionUser = {
    id: integration.id,
    email: '',
    displayName: integration.name,
    role: 'integration',
    appRoles: integration.roles.filter((r) => tokenRoles.includes(r)),
    clinicId: clinic.id,
    aiEndpoint: null,
  }
  return {
    user,
    scope: { clinicId: clinic.id, userId: integration.id, role: 'integration' },
    clinic,
    rateLimit: started.rateLimit,
    setCookie: null,
    endedBecause: null,
    session: null,
  }
}

/** Refresh a little early so a token never expires mid-request. */
const REFRESH_MARGIN_SECONDS = 5

export async function resolveIdentity(request: Request, env: Env, db: TenantDatabase, start: RequestStarter): Promise<Identity> {
  const raw = readCookie(request, sessionCookieName(env))
  if (!raw) return anonymousIdentity(await start(null))
  let session = await openSession(env, raw)
  if (!session) return anonymousIdentity(await start(null), { setCookie: sessionSetCookie(env, null), endedBecause: 'expired' })

  // The session row first: an ended session (signed out, disabled, role changed) is never
  // refreshed at the provider, however valid its cookie and refresh token still are.
  const started = await start({ userId: session.uid, sessionId: session.sid, switchedClinic: session.cid })
  if (!started.user || started.user.status !== 'active') {
    return anonymousIdentity(started, { setCookie: sessionSetCookie(env, null), endedBecause: 'disabled' })
  }
  if (!started.sessionLive) return anonymousIdentity(started, { setCookie: sessionSetCookie(env, null), endedBecause: 'expired' })

  let setCookie: string | null = null
  if (session.at - REFRESH_MARGIN_SECONDS <= Math.floor(Date.now() / 1000)) {
    const refreshed = await refreshSession(env, request, session, db)
    if (!refreshed) return anonymousIdentity(started, { setCookie: sessionSetCookie(env, null), endedBecause: 'expired' })
    session = refreshed
    setCookie = sessionSetCookie(env, await sealSession(env, session))
  }
  return signedInIdentity({ ...started, user: started.user }, { setCookie, session })
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
    let tokens: OAuth2Tokens
    try {
      const strategy = await createEntraStrategy(env, request, async () => null)
      tokens = await withProviderTimeout(strategy.refreshToken(session.rt))
    } catch (error) {
      // Revoked, rotated away, or the account is gone at the provider: the session ends.
      if (error instanceof OAuth2RequestError) return null
      // Unreachable, too slow or failing: the session stays (the claim rolls back with this
      // transaction) and the person is told that sign-in is unavailable.
      throw error instanceof SignInUnavailableError ? error : new SignInUnavailableError(error)
    }
    const result = {
      rt: tokens.hasRefreshToken() ? tokens.refreshToken() : session.rt,
      at: Math.floor(Date.now() / 1000) + tokens.accessTokenExpiresInSeconds(),
    }
    await tx.execute(sql`select session_refresh_store(${tokenHash}, ${await sealJson(env, 'refresh', result)})`)
    return { ...session, ...result }
  })
}
