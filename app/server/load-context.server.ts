/**
 * The load context for one request: who is asking (session, refreshed once, here), the
 * database scoped to them, and the audit writer. Built by the request pipeline, in workerd
 * and under `npm run dev` alike (vite.config.ts).
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { auditRequest, recordAudit } from '~/audit/audit.server'
import { ApiRefusal, resolveApiIdentity } from '~/api/bearer.server'
import { isApiPath } from '~/api/cors.server'
import { resolveIdentity } from '~/auth/identity.server'
import { connectDatabase } from '~/db/client.server'
import { createTenantDatabase, NO_SCOPE, type TenantScope } from '~/tenancy/tenant.server'
import type { Env } from './env.server'
import { hitRateLimit, rateLimitKey, type RateLimitVerdict } from './rate-limit.server'
import { createNonce } from './security-headers.server'

/** The identity step could not reach the database or the identity provider. */
export class UnavailableError extends Error {
  constructor(readonly cause: unknown) {
    super('unavailable')
  }
}

export async function createLoadContext(options: {
  request: Request
  env: Env
  waitUntil: (promise: Promise<unknown>) => void
  requestId?: string
  nonce?: string
  /** Filled by loaders that need the page to reach another origin; read into the CSP. */
  connectOrigins?: string[]
}): Promise<{
  context: AppLoadContext
  scope: TenantScope
  sessionCookie: string | null
  rateLimit: RateLimitVerdict | null
  end: () => Promise<void>
}> {
  const { request, env } = options
  const requestId = options.requestId ?? crypto.randomUUID()
  const connection = connectDatabase({ url: env.DATABASE_URL, wsProxy: env.DATABASE_WS_PROXY })
  const end = () => connection.end().catch(() => {})
  const anonymous = createTenantDatabase(connection.db, NO_SCOPE)
  // /api/* takes a bearer token and never reads cookies (no CSRF surface); pages take the session.
  const resolve = isApiPath(new URL(request.url).pathname) ? resolveApiIdentity : resolveIdentity
  const identity = await resolve(request, env, anonymous).catch(async (error) => {
    await end()
    throw error instanceof ApiRefusal ? error : new UnavailableError(error)
  })
  // Counted after identity (the key is the user), before any loader runs.
  const counted = rateLimitKey(request, identity.user?.id ?? null)
  const rateLimit = counted
    ? await hitRateLimit(anonymous, counted.key, counted.limit).catch(async (error) => {
        await end()
        throw new UnavailableError(error)
      })
    : null
  const scope = identity.scope
  const audited = auditRequest(request, requestId)
  const context: AppLoadContext = {
    env,
    requestId,
    nonce: options.nonce ?? createNonce(),
    db: anonymous.withScope(scope),
    user: identity.user,
    session: identity.session,
    sessionEnded: identity.endedBecause,
    sessionCookie: identity.setCookie,
    auditRequest: audited,
    audit: (tx, event) => recordAudit(tx, scope, audited, event),
    waitUntil: options.waitUntil,
    allowConnectTo: (origin) => void options.connectOrigins?.push(origin),
  }
  return { context, scope, sessionCookie: identity.setCookie, rateLimit, end }
}
